"""A suspended merchant: its API keys get 401 account_invalid, and its members see the
suspension page in the dashboard, with no data, and every action is refused."""

import pytest
from django.urls import reverse

from merchants.models import APIKey, Membership, Merchant
from merchants.services import merchant_status_set
from payments.models import Refund
from tests.dashboard.conftest import PASSWORD, make_user, pay

pytestmark = pytest.mark.django_db


@pytest.fixture
def suspended(merchant):
    """The merchant with one captured payment, then suspended by an operator."""
    intent = pay(merchant, 50_000)
    operator = make_user("ops@platform.example")
    assert merchant_status_set(merchant=merchant, status="suspended", operator=operator)
    merchant.refresh_from_db()
    return intent


def test_a_member_who_logs_in_sees_that_the_account_is_suspended_and_no_data(
    client, merchant, suspended
):
    user = make_user("budi@toko.example")
    Membership.objects.create(user=user, merchant=merchant, role="developer")
    response = client.post(
        reverse("account_login"), {"login": "budi@toko.example", "password": PASSWORD}, follow=True
    )
    assert response.status_code == 403
    page = response.content.decode()
    assert "This account is suspended" in page
    assert merchant.name in page
    assert suspended.public_id not in page
    assert "500.00" not in page  # no amounts or balances either


@pytest.mark.parametrize(
    "name, args",
    [
        ("dashboard:home", []),
        ("dashboard:payment-list", []),
        ("dashboard:payment-export", []),
        ("dashboard:balance", []),
        ("dashboard:customer-list", []),
        ("dashboard:webhookendpoint-list", []),
        ("dashboard:apikey-list", []),
        ("dashboard:team", []),
        ("dashboard:auditevent-list", []),
    ],
)
def test_every_page_of_a_suspended_merchant_shows_the_suspension_page(
    dashboard_client, suspended, name, args
):
    response = dashboard_client.get(reverse(name, args=args))
    assert response.status_code == 403
    assert b"This account is suspended" in response.content
    assert suspended.public_id.encode() not in response.content


def test_a_payment_page_of_a_suspended_merchant_is_not_shown(dashboard_client, suspended):
    url = reverse("dashboard:payment-detail", args=[suspended.public_id])
    response = dashboard_client.get(url)
    assert response.status_code == 403
    assert b"This account is suspended" in response.content
    assert suspended.public_id.encode() not in response.content


def test_state_changing_posts_of_a_suspended_merchant_are_refused(
    dashboard_client, merchant, suspended
):
    refund = dashboard_client.post(
        reverse("dashboard:payment-refund", args=[suspended.public_id]), {"amount": "100"}
    )
    assert refund.status_code == 403
    assert not Refund.objects.filter(payment_intent=suspended).exists()
    keys_before = APIKey.objects.filter(merchant=merchant).count()
    key = dashboard_client.post(reverse("dashboard:apikey-create"), {"kind": "secret"})
    assert key.status_code == 403
    assert APIKey.objects.filter(merchant=merchant).count() == keys_before
    invite = dashboard_client.post(
        reverse("dashboard:team-invite"), {"email": "new@toko.example", "role": "viewer"}
    )
    assert invite.status_code == 403
    assert not merchant.invitations.exists()
    mode = dashboard_client.post(reverse("dashboard:mode-switch"), {"mode": "live"})
    assert mode.status_code == 403


def test_the_dashboard_opens_again_once_the_merchant_is_reactivated(
    dashboard_client, merchant, suspended
):
    assert dashboard_client.get(reverse("dashboard:home")).status_code == 403
    Merchant.objects.filter(pk=merchant.pk).update(status="active")
    response = dashboard_client.get(reverse("dashboard:payment-list"))
    assert response.status_code == 200
    assert suspended.public_id.encode() in response.content


def test_the_api_refuses_a_suspended_merchants_key(client, merchant, suspended, api_key_for):
    Merchant.objects.filter(pk=merchant.pk).update(status="active")
    key = api_key_for(merchant)
    Merchant.objects.filter(pk=merchant.pk).update(status="suspended")
    response = client.get("/v1/payment_intents", HTTP_AUTHORIZATION=f"Bearer {key}")
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "account_invalid"
