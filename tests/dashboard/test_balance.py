"""Balance and payouts: balance transactions, settlement batches and their CSV, payouts,
a manual payout, bank accounts; roles, two-factor, isolation, fixed query counts."""

import csv
import datetime as dt
import io
import re

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from merchants.models import AuditEvent, BankAccount
from settlement.models import Payout, SettlementBatch
from tests.dashboard.conftest import pay, refund


def _ids(response, prefix: str) -> list[str]:
    return re.findall(rf'<tr data-id="({prefix}_[A-Za-z0-9]+)"', response.content.decode())


def _account(merchant, number: str = "1234567890"):
    return BankAccount.objects.create(
        merchant=merchant,
        currency="idr",
        bank_code="bca",
        account_number=number,
        account_holder_name="Toko Kopi",
    )


def _settle(merchant) -> SettlementBatch:
    from settlement.services.batches import settlement_run

    result = settlement_run(now=timezone.now() + dt.timedelta(days=1))
    [batch] = result.batches
    return batch


@pytest.fixture
def flat_plan(db):
    """2 % on idr cards (merchants without a plan and no default plan pay nothing and are
    not settled into an automatic payout here)."""
    from merchants.models import PricingPlan, PricingRate

    plan = PricingPlan.objects.create(name="Flat dashboard plan")
    PricingRate.objects.create(
        plan=plan, payment_method_type="card", currency="idr", percent_bps=200
    )
    return plan


@pytest.fixture
def priced_merchant(merchant, flat_plan):
    merchant.pricing_plan = flat_plan
    merchant.save(update_fields=["pricing_plan"])
    return merchant


@pytest.fixture
def settled(priced_merchant):
    """Two payments and a refund, settled into one batch with its automatic payout."""
    merchant = priced_merchant
    _account(merchant)
    one = pay(merchant, 100_000)
    pay(merchant, 50_000)
    refund(one, 20_000)
    batch = _settle(merchant)
    return batch, Payout.objects.get(settlement_batch=batch)


def test_balance_page_shows_balances_and_balance_transactions(dashboard_client, merchant):
    intent = pay(merchant, 100_000)
    refund(intent, 10_000)
    response = dashboard_client.get(reverse("dashboard:balance"))
    assert response.status_code == 200
    body = response.content.decode()
    assert len(_ids(response, "btxn")) == 2
    assert intent.latest_charge.public_id in body
    assert "Pending · IDR" in body
    only_refunds = dashboard_client.get(reverse("dashboard:balance"), {"type": "refund"})
    assert len(_ids(only_refunds, "btxn")) == 1


def test_settlement_batch_page_lists_its_lines_and_its_payout(dashboard_client, settled):
    batch, payout = settled
    listing = dashboard_client.get(reverse("dashboard:settlementbatch-list"))
    assert _ids(listing, "stl") == [batch.public_id]
    response = dashboard_client.get(
        reverse("dashboard:settlementbatch-detail", args=[batch.public_id])
    )
    assert response.status_code == 200
    assert len(_ids(response, "btxn")) == 3
    body = response.content.decode()
    assert payout.public_id in body
    assert "IDR\xa01,300.00" in body or "IDR\xa0" in body


def test_settlement_batch_csv_has_its_lines_and_a_total(dashboard_client, merchant, settled):
    batch, _ = settled
    response = dashboard_client.get(
        reverse("dashboard:settlementbatch-export", args=[batch.public_id])
    )
    assert response["Content-Type"] == "text/csv"
    assert response["Content-Disposition"].startswith("attachment;")
    rows = list(csv.reader(io.StringIO(response.content.decode())))
    assert len(rows) == 1 + 3 + 1
    assert rows[-1][2] == "total" and int(rows[-1][-2]) == batch.net_amount
    assert AuditEvent.objects.filter(action="settlement_batch.export").count() == 1


def test_payouts_list_shows_status_and_arrival_date(dashboard_client, settled):
    _, payout = settled
    response = dashboard_client.get(reverse("dashboard:payout-list"))
    assert _ids(response, "po") == [payout.public_id]
    body = response.content.decode()
    assert payout.arrival_date.strftime("%d %b %Y") in body
    assert "bca …7890" in body and "1234567890" not in body
    detail = dashboard_client.get(reverse("dashboard:payout-detail", args=[payout.public_id]))
    assert detail.status_code == 200
    assert len(_ids(detail, "btxn")) == 3


def test_a_manual_payout_takes_from_the_available_balance(dashboard_client, merchant, settled):
    from settlement.services.payouts import payout_cancel

    _, automatic = settled
    payout_cancel(payout=automatic)  # its money is available again
    response = dashboard_client.post(
        reverse("dashboard:payout-create"),
        {"amount": "100", "currency": "idr", "description": "rent"},
        HTTP_HX_REQUEST="true",
    )
    body = response.content.decode()
    assert body.lstrip().startswith('<div id="payouts">')
    manual = Payout.objects.get(automatic=False)
    assert manual.amount == 10_000 and manual.description == "rent"
    assert manual.public_id in body and 'id="payout-notice"' in body
    event = AuditEvent.objects.get(action="payout.create")
    assert event.object_id == manual.public_id and event.data["amount"] == 10_000


def test_a_payout_above_the_available_balance_is_refused_with_the_reason(
    dashboard_client, merchant
):
    _account(merchant)
    response = dashboard_client.post(
        reverse("dashboard:payout-create"),
        {"amount": "100", "currency": "idr"},
        HTTP_HX_REQUEST="true",
    )
    assert "insufficient funds" in response.content.decode()
    assert not Payout.objects.exists()


def test_the_insufficient_funds_error_speaks_the_forms_units_as_money(dashboard_client, merchant):
    _account(merchant)
    response = dashboard_client.post(
        reverse("dashboard:payout-create"),
        {"amount": "10000", "currency": "idr"},
        HTTP_HX_REQUEST="true",
    )
    assert (
        "You have insufficient funds in your available balance: IDR\xa00.00 available, "
        "IDR\xa010,000.00 requested."
    ) in response.content.decode()


def test_the_insufficient_funds_error_shows_what_is_available(dashboard_client, settled):
    from settlement.services.payouts import payout_cancel

    _, automatic = settled
    payout_cancel(payout=automatic)  # its money is available again
    response = dashboard_client.post(
        reverse("dashboard:payout-create"), {"amount": "5000.50", "currency": "idr"}, follow=True
    )
    available = f"IDR\xa0{automatic.amount / 100:,.2f} available"
    body = response.content.decode()
    assert f"{available}, IDR\xa05,000.50 requested." in body
    assert not Payout.objects.filter(automatic=False).exists()


def test_a_manual_payout_without_javascript_redirects_back(dashboard_client, merchant):
    response = dashboard_client.post(
        reverse("dashboard:payout-create"), {"amount": "1", "currency": "idr"}
    )
    assert response.status_code == 302
    page = dashboard_client.get(response["Location"])
    assert "no bank account" in page.content.decode()


@pytest.mark.parametrize("role", ["developer", "analyst", "viewer"])
def test_only_owners_and_admins_make_payouts_and_set_bank_accounts(client_as, role, merchant):
    c = client_as(role)
    payouts = c.get(reverse("dashboard:payout-list"))
    assert payouts.status_code == 200 and 'id="payout-form"' not in payouts.content.decode()
    assert c.post(reverse("dashboard:payout-create"), {"amount": "1"}).status_code == 403
    assert c.get(reverse("dashboard:bankaccount-list")).status_code == 403
    form = {"currency": "idr", "bank_code": "bca", "account_number": "99887766"}
    assert c.post(reverse("dashboard:bankaccount-list"), form).status_code == 403
    assert not BankAccount.objects.exists()


@pytest.mark.parametrize("role", ["owner", "admin"])
def test_owners_and_admins_need_two_factor_for_payouts(client_as, role):
    c = client_as(role, mfa=False)
    for url in (reverse("dashboard:payout-list"), reverse("dashboard:bankaccount-list")):
        response = c.get(url)
        assert response.status_code == 302
        assert "/accounts/2fa/totp/activate" in response["Location"]


def test_set_and_replace_the_bank_account_shows_only_its_last_4(dashboard_client, merchant):
    url = reverse("dashboard:bankaccount-list")
    form = {
        "currency": "idr",
        "bank_code": "bni",
        "account_number": "0011223344",
        "account_holder_name": "Toko Kopi",
    }
    response = dashboard_client.post(url, form, HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    assert "•••• 3344" in response.content.decode()
    dashboard_client.post(url, {**form, "bank_code": "bri", "account_number": "5566778899"})
    [account] = BankAccount.objects.filter(merchant=merchant)
    assert (account.bank_code, account.account_number) == ("bri", "5566778899")
    page = dashboard_client.get(url).content.decode()
    assert "•••• 8899" in page and "5566778899" not in page
    assert AuditEvent.objects.filter(action="bank_account.set").count() == 2
    bad = dashboard_client.post(url, {**form, "account_number": "12ab"}, HTTP_HX_REQUEST="true")
    assert bad.status_code == 400 and "Digits only" in bad.content.decode()


def test_another_merchants_batch_and_payout_are_404(dashboard_client, other_merchant, flat_plan):
    other_merchant.pricing_plan = flat_plan
    other_merchant.save(update_fields=["pricing_plan"])
    _account(other_merchant)
    pay(other_merchant, 100_000)
    batch = _settle(other_merchant)
    payout = Payout.objects.get(settlement_batch=batch)
    for url in (
        reverse("dashboard:settlementbatch-detail", args=[batch.public_id]),
        reverse("dashboard:settlementbatch-export", args=[batch.public_id]),
        reverse("dashboard:payout-detail", args=[payout.public_id]),
    ):
        assert dashboard_client.get(url).status_code == 404
    assert _ids(dashboard_client.get(reverse("dashboard:payout-list")), "po") == []


@pytest.mark.parametrize("name", ["payout-create", "bankaccount-list"])
def test_balance_posts_without_the_csrf_token_get_403(owner, merchant, name):
    _account(merchant)
    strict = Client(enforce_csrf_checks=True)
    strict.force_login(owner)
    form = {"amount": "1", "currency": "idr", "bank_code": "bca", "account_number": "12345678"}
    assert strict.post(reverse(f"dashboard:{name}"), form).status_code == 403
    assert BankAccount.objects.get().account_number == "1234567890"


def test_balance_pages_make_a_fixed_number_of_queries(
    dashboard_client, merchant, settled, django_assert_num_queries
):
    batch, payout = settled
    pages = {
        reverse("dashboard:balance"): 8,
        reverse("dashboard:settlementbatch-list"): 7,
        reverse("dashboard:settlementbatch-detail", args=[batch.public_id]): 10,
        reverse("dashboard:payout-list"): 9,
        reverse("dashboard:payout-detail", args=[payout.public_id]): 9,
        reverse("dashboard:bankaccount-list"): 8,
    }
    for url, count in pages.items():
        dashboard_client.get(url)  # warm: session, content types
        with django_assert_num_queries(count):
            dashboard_client.get(url)
    more = pay(merchant, 70_000)
    refund(more, 1_000)
    pay(merchant, 30_000)
    from settlement.services.batches import settlement_run

    settlement_run(now=timezone.now() + dt.timedelta(days=2))
    for url, count in pages.items():
        with django_assert_num_queries(count):
            dashboard_client.get(url)


def test_cancel_a_pending_payout_returns_its_money_to_available(
    dashboard_client, merchant, settled
):
    from settlement.services.ledger import merchant_balances

    _, payout = settled
    url = reverse("dashboard:payout-detail", args=[payout.public_id])
    assert 'id="payout-cancel"' in dashboard_client.get(url).content.decode()
    response = dashboard_client.post(reverse("dashboard:payout-cancel", args=[payout.public_id]))
    assert response.status_code == 302 and response["Location"] == url
    payout.refresh_from_db()
    assert payout.status == "canceled"
    assert merchant_balances(merchant=merchant, livemode=False)["idr"]["available"] == payout.amount
    assert AuditEvent.objects.get(action="payout.cancel").object_id == payout.public_id
    page = dashboard_client.get(url).content.decode()
    assert "canceled" in page and 'id="payout-cancel"' not in page
    again = dashboard_client.post(reverse("dashboard:payout-cancel", args=[payout.public_id]))
    assert (
        "only be canceled while pending" in dashboard_client.get(again["Location"]).content.decode()
    )


@pytest.mark.parametrize("role", ["developer", "viewer"])
def test_only_owners_and_admins_cancel_payouts(client_as, role, settled):
    _, payout = settled
    c = client_as(role)
    url = reverse("dashboard:payout-detail", args=[payout.public_id])
    assert 'id="payout-cancel"' not in c.get(url).content.decode()
    assert c.post(reverse("dashboard:payout-cancel", args=[payout.public_id])).status_code == 403
    payout.refresh_from_db()
    assert payout.status == "pending"


def test_cancelling_a_payout_without_the_csrf_token_gets_403(owner, settled):
    _, payout = settled
    strict = Client(enforce_csrf_checks=True)
    strict.force_login(owner)
    assert (
        strict.post(reverse("dashboard:payout-cancel", args=[payout.public_id])).status_code == 403
    )
    payout.refresh_from_db()
    assert payout.status == "pending"
