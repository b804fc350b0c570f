"""Settings: business profile, payout schedule (owners and admins; two-factor for the
schedule), the pricing plan read-only; audit log, CSRF and a fixed query count."""

import pytest
from django.test import Client
from django.urls import reverse

from merchants.models import AuditEvent, Merchant, PricingPlan, PricingRate

PROFILE = {
    "name": "Toko Kopi Baru",
    "country": "sg",
    "default_currency": "SGD",
    "timezone": "Asia/Singapore",
}
SCHEDULE = {"payout_delay_days": "3", "settlement_cutoff_hour": "17"}


def test_settings_page_shows_profile_schedule_and_pricing_plan(dashboard_client, merchant):
    plan = PricingPlan.objects.create(name="Warung plan", refund_returns_fee=True)
    PricingRate.objects.create(
        plan=plan, payment_method_type="card", currency="idr", percent_bps=290, fixed_amount=200_000
    )
    merchant.pricing_plan = plan
    merchant.save(update_fields=["pricing_plan"])
    body = dashboard_client.get(reverse("dashboard:settings")).content.decode()
    assert 'value="Toko Kopi"' in body and "Asia/Jakarta" in body
    assert "Warung plan" in body and "2.9 %" in body and "IDR\xa02,000.00" in body
    assert 'id="profile-save"' in body and 'id="schedule-save"' in body


def test_update_the_business_profile(dashboard_client, merchant):
    response = dashboard_client.post(
        reverse("dashboard:settings-profile"), PROFILE, HTTP_HX_REQUEST="true"
    )
    assert response.status_code == 200
    assert response.content.decode().lstrip().startswith('<form class="panel" id="profile"')
    merchant.refresh_from_db()
    assert (merchant.name, merchant.country, merchant.default_currency, merchant.timezone) == (
        "Toko Kopi Baru",
        "SG",
        "sgd",
        "Asia/Singapore",
    )
    event = AuditEvent.objects.get(action="settings.profile")
    assert event.data["name"] == ["Toko Kopi", "Toko Kopi Baru"]


def test_an_invalid_profile_is_refused_with_the_reasons(dashboard_client, merchant):
    bad = {**PROFILE, "default_currency": "xyz", "timezone": "Mars/Olympus"}
    response = dashboard_client.post(reverse("dashboard:settings-profile"), bad)
    assert response.status_code == 400
    assert "Unknown currency." in response.content.decode()
    merchant.refresh_from_db()
    assert merchant.name == "Toko Kopi"


def test_update_the_payout_schedule(dashboard_client, merchant):
    response = dashboard_client.post(reverse("dashboard:settings-payout-schedule"), SCHEDULE)
    assert response.status_code == 302
    merchant.refresh_from_db()
    assert (merchant.payout_delay_days, merchant.settlement_cutoff_hour) == (3, 17)
    assert merchant.payouts_automatic is False  # unchecked box
    event = AuditEvent.objects.get(action="settings.payout_schedule")
    assert event.data["payouts_automatic"] == [True, False]
    too_late = {**SCHEDULE, "settlement_cutoff_hour": "24", "payouts_automatic": "on"}
    assert (
        dashboard_client.post(reverse("dashboard:settings-payout-schedule"), too_late).status_code
        == 400
    )
    merchant.refresh_from_db()
    assert merchant.settlement_cutoff_hour == 17


@pytest.mark.parametrize("role", ["developer", "analyst", "viewer"])
def test_other_roles_read_settings_but_cannot_change_them(client_as, role, merchant):
    c = client_as(role)
    body = c.get(reverse("dashboard:settings")).content.decode()
    assert "Pricing plan" in body and 'id="profile-save"' not in body
    assert c.post(reverse("dashboard:settings-profile"), PROFILE).status_code == 403
    assert c.post(reverse("dashboard:settings-payout-schedule"), SCHEDULE).status_code == 403
    assert Merchant.objects.get(pk=merchant.pk).name == "Toko Kopi"


def test_an_admin_without_two_factor_cannot_change_the_payout_schedule(client_as, merchant):
    response = client_as("admin", mfa=False).post(
        reverse("dashboard:settings-payout-schedule"), SCHEDULE
    )
    assert response.status_code == 302 and "/accounts/2fa/totp/activate" in response["Location"]
    assert Merchant.objects.get(pk=merchant.pk).payout_delay_days == 2


def test_settings_posts_without_the_csrf_token_get_403(owner, merchant):
    strict = Client(enforce_csrf_checks=True)
    strict.force_login(owner)
    assert strict.post(reverse("dashboard:settings-profile"), PROFILE).status_code == 403
    assert strict.post(reverse("dashboard:settings-payout-schedule"), SCHEDULE).status_code == 403
    assert Merchant.objects.get(pk=merchant.pk).name == "Toko Kopi"


def test_the_settings_page_makes_a_fixed_number_of_queries(
    dashboard_client, merchant, django_assert_num_queries
):
    url = reverse("dashboard:settings")
    dashboard_client.get(url)
    with django_assert_num_queries(8):  # no plan of its own: the default plan is looked up
        dashboard_client.get(url)
    plan = PricingPlan.objects.create(name="Busy plan")
    for method in ("card", "gopay", "qris"):
        PricingRate.objects.create(plan=plan, payment_method_type=method, currency="idr")
    merchant.pricing_plan = plan
    merchant.save(update_fields=["pricing_plan"])
    with django_assert_num_queries(8):  # its own plan instead of the default one
        dashboard_client.get(url)
