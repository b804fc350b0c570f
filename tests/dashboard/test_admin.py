"""The operators' Django admin: behind allauth's login with two-factor; merchants can be
suspended and activated (audit-logged); money models are read-only."""

import pytest
from django.test import Client
from django.urls import reverse

from merchants.models import AuditEvent
from tests.dashboard.conftest import make_user


@pytest.fixture
def operator(db):
    user = make_user("ops@gateway.example", mfa=True)
    user.is_staff = user.is_superuser = True
    user.save(update_fields=["is_staff", "is_superuser"])
    c = Client()
    c.force_login(user)
    return c


def test_the_admin_login_goes_through_allauth(client, db):
    response = client.get(reverse("admin:login"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("account_login"))
    index = client.get(reverse("admin:index"))
    assert index.status_code == 302 and reverse("admin:login") in index["Location"]


def test_staff_without_two_factor_are_sent_to_set_it_up(db):
    user = make_user("newops@gateway.example")
    user.is_staff = user.is_superuser = True
    user.save(update_fields=["is_staff", "is_superuser"])
    c = Client()
    c.force_login(user)
    assert c.get(reverse("admin:index")).status_code == 302
    response = c.get(reverse("admin:login"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("mfa_activate_totp"))
    assert c.get(reverse("admin:merchants_merchant_changelist")).status_code == 302


def test_a_merchant_member_is_refused(client, owner):
    client.force_login(owner)
    assert client.get(reverse("admin:login")).status_code == 403


def test_operators_suspend_and_activate_merchants_with_an_audit_event(operator, merchant):
    url = reverse("admin:merchants_merchant_changelist")
    page = operator.get(url, {"q": "Toko"})
    assert page.status_code == 200 and merchant.public_id in page.content.decode()
    operator.post(url, {"action": "suspend", "_selected_action": [merchant.pk]})
    merchant.refresh_from_db()
    assert merchant.status == "suspended"
    operator.post(url, {"action": "activate", "_selected_action": [merchant.pk]})
    merchant.refresh_from_db()
    assert merchant.status == "active"
    events = AuditEvent.objects.filter(merchant=merchant).order_by("id")
    actions = list(events.values_list("action", "actor_role"))
    assert actions == [("merchant.suspend", "operator"), ("merchant.activate", "operator")]


@pytest.mark.parametrize(
    "name",
    [
        "merchants_pricingplan",
        "settlement_payout",
        "settlement_reconciliationdifference",
        "settlement_journal",
        "settlement_journalentry",
        "merchants_auditevent",
        "payments_paymentintent",
        "payments_refund",
        "payments_customer",
    ],
)
def test_operator_pages_open_and_money_models_cannot_be_added(operator, name):
    assert operator.get(reverse(f"admin:{name}_changelist")).status_code == 200
    add = operator.get(reverse(f"admin:{name}_add"))
    assert add.status_code == (200 if name == "merchants_pricingplan" else 403)


def test_a_pricing_plan_is_edited_with_its_rates_inline(operator):
    from merchants.models import PricingPlan

    response = operator.post(
        reverse("admin:merchants_pricingplan_add"),
        {
            "name": "Kopi plan",
            "rates-TOTAL_FORMS": "1",
            "rates-INITIAL_FORMS": "0",
            "rates-0-payment_method_type": "card",
            "rates-0-currency": "idr",
            "rates-0-percent_bps": "250",
            "rates-0-fixed_amount": "0",
        },
    )
    assert response.status_code == 302
    plan = PricingPlan.objects.get(name="Kopi plan")
    assert [(r.payment_method_type, r.percent_bps) for r in plan.rates.all()] == [("card", 250)]


def test_a_payment_in_the_admin_is_read_only_without_its_client_secret(operator, merchant):
    from tests.dashboard.conftest import pay

    intent = pay(merchant, 10_000)
    url = reverse("admin:payments_paymentintent_change", args=[intent.pk])
    response = operator.get(url)
    body = response.content.decode()
    assert response.status_code == 200 and intent.public_id in body
    assert intent.client_secret not in body and 'name="_save"' not in body
