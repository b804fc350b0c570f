"""Settings: business profile, checkout branding, payout schedule (owners and admins;
two-factor for the schedule), the pricing plan read-only; audit log, CSRF and a fixed
query count."""

import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from PIL import Image

from merchants.models import AuditEvent, Merchant, MerchantLogo, PricingPlan, PricingRate

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


# --- checkout branding (issue #7) ---------------------------------------------------------


def _png(size=(400, 100), color=(15, 118, 110, 255)) -> SimpleUploadedFile:
    out = io.BytesIO()
    Image.new("RGBA", size, color).save(out, format="PNG")
    return SimpleUploadedFile("logo.png", out.getvalue(), content_type="image/png")


BRANDING = {
    "brand_color": "#0F766E",
    "checkout_allowed_origins": "https://shop.example\nhttps://www.shop.example/ http://localhost:3000",
}


def test_the_owner_brands_the_checkout_and_registers_embedding_origins(dashboard_client, merchant):
    response = dashboard_client.post(
        reverse("dashboard:settings-branding"),
        {**BRANDING, "logo": _png()},
        HTTP_HX_REQUEST="true",
    )
    assert response.status_code == 200
    body = response.content.decode()
    assert body.lstrip().startswith('<form class="panel" id="branding"')
    assert 'id="branding-notice">Saved.' in body
    merchant.refresh_from_db()
    assert merchant.brand_color == "#0f766e"
    assert merchant.checkout_allowed_origins == [
        "https://shop.example",
        "https://www.shop.example",
        "http://localhost:3000",
    ]
    assert f'src="/checkout/logo/{merchant.logo_digest}.png"' in body
    logo = dashboard_client.get(f"/checkout/logo/{merchant.logo_digest}.png")
    assert Image.open(io.BytesIO(logo.content)).size == (384, 96)
    event = AuditEvent.objects.get(action="settings.checkout_branding")
    assert event.data["brand_color"] == ["", "#0f766e"]
    assert event.data["logo"] == [None, merchant.logo_digest]
    assert event.data["checkout_allowed_origins"][1][0] == "https://shop.example"
    # The page shows what is saved.
    page = dashboard_client.get(reverse("dashboard:settings")).content.decode()
    assert 'value="#0f766e"' in page and "https://www.shop.example\nhttp://localhost:3000" in page


def test_the_logo_can_be_removed(dashboard_client, merchant):
    dashboard_client.post(reverse("dashboard:settings-branding"), {"logo": _png()})
    merchant.refresh_from_db()
    assert merchant.logo_digest
    response = dashboard_client.post(
        reverse("dashboard:settings-branding"), {"remove_logo": "on", "brand_color": ""}
    )
    assert response.status_code == 302
    merchant.refresh_from_db()
    assert merchant.logo_digest == "" and not MerchantLogo.objects.exists()
    assert AuditEvent.objects.filter(action="settings.checkout_branding").count() == 2


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("brand_color", "teal", "Enter the colour as #rrggbb"),
        ("checkout_allowed_origins", "http://shop.example", "must use https"),
        ("checkout_allowed_origins", "https://shop.example/cart", "is not an origin"),
        (
            "logo",
            SimpleUploadedFile("logo.svg", b"<svg xmlns='http://www.w3.org/2000/svg'/>"),
            "Upload the logo as a PNG, JPEG or WebP image.",
        ),
        (
            "logo",
            SimpleUploadedFile("big.png", b"\x89PNG" + b"\x00" * 300_000),
            "upload one of at most 256 KB",
        ),
    ],
)
def test_bad_branding_is_refused_with_the_reason_and_changes_nothing(
    dashboard_client, merchant, field, value, message
):
    response = dashboard_client.post(
        reverse("dashboard:settings-branding"),
        {**BRANDING, field: value},
        HTTP_HX_REQUEST="true",
    )
    # htmx swaps only 2xx: the form comes back in place with the reason beside the field.
    assert response.status_code == 200
    body = response.content.decode()
    assert body.lstrip().startswith('<form class="panel" id="branding"')
    assert message in body and "Check the form." in body
    # Without JavaScript: the whole page, refused.
    if hasattr(value, "seek"):
        value.seek(0)
    page = dashboard_client.post(reverse("dashboard:settings-branding"), {**BRANDING, field: value})
    assert page.status_code == 400
    assert message in page.content.decode() and "<h1>Settings</h1>" in page.content.decode()
    merchant.refresh_from_db()
    assert (merchant.brand_color, merchant.checkout_allowed_origins, merchant.logo_digest) == (
        "",
        [],
        "",
    )
    assert not AuditEvent.objects.filter(action="settings.checkout_branding").exists()


@pytest.mark.parametrize("role", ["developer", "analyst", "viewer"])
def test_only_owners_and_admins_change_the_checkout_branding(client_as, role, merchant):
    c = client_as(role)
    body = c.get(reverse("dashboard:settings")).content.decode()
    assert "Checkout branding" in body and 'id="branding-save"' not in body
    response = c.post(reverse("dashboard:settings-branding"), {**BRANDING, "logo": _png()})
    assert response.status_code == 403
    merchant.refresh_from_db()
    assert (merchant.brand_color, merchant.checkout_allowed_origins, merchant.logo_digest) == (
        "",
        [],
        "",
    )


def test_an_admin_changes_the_checkout_branding(client_as, merchant):
    response = client_as("admin").post(reverse("dashboard:settings-branding"), BRANDING)
    assert response.status_code == 302
    merchant.refresh_from_db()
    assert merchant.brand_color == "#0f766e"
    assert AuditEvent.objects.get(action="settings.checkout_branding").actor_role == "admin"


def test_the_branding_form_needs_the_csrf_token(owner, merchant):
    strict = Client(enforce_csrf_checks=True)
    strict.force_login(owner)
    assert strict.post(reverse("dashboard:settings-branding"), BRANDING).status_code == 403
    assert Merchant.objects.get(pk=merchant.pk).brand_color == ""


def _sign_in_as_owner(page, live_server, member) -> None:
    from tests.dashboard.conftest import PASSWORD, enable_totp, totp_code

    owner = member("owner")
    secret = enable_totp(owner)
    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("input[name=login]", owner.email)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.fill("input[name=code]", totp_code(secret))
    page.click("button[type=submit]")
    page.wait_for_url(f"{live_server.url}/dashboard/")


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_in_chromium_a_refused_origin_is_shown_beside_the_field_in_the_page(
    page, live_server, merchant, member
):
    from playwright.sync_api import expect

    _sign_in_as_owner(page, live_server, member)
    page.goto(f"{live_server.url}/dashboard/settings/")
    page.fill("#id_checkout_allowed_origins", "http://evil.example")
    page.click("#branding-save")
    expect(page.locator("#origins-errors")).to_contain_text(
        "http://evil.example must use https (http is accepted for localhost and 127.0.0.1 "
        "only, in test mode)."
    )
    expect(page.locator("#branding [role=alert]")).to_have_text("Check the form.")
    # In place: the rest of the page is still there, styled, and the value is kept.
    expect(page.locator("h1")).to_have_text("Settings")
    expect(page.locator("#profile")).to_be_visible()
    expect(page.locator("#schedule")).to_be_visible()
    expect(page.locator("#branding")).to_have_count(1)
    expect(page.locator("#id_checkout_allowed_origins")).to_have_value("http://evil.example")
    expect(page.locator("#branding")).to_have_css("background-color", "rgb(255, 255, 255)")
    assert page.url == f"{live_server.url}/dashboard/settings/"
    merchant.refresh_from_db()
    assert merchant.checkout_allowed_origins == []


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_in_chromium_the_owner_brands_the_checkout_and_customers_see_it(
    page, live_server, merchant, member, tmp_path, settings
):
    from playwright.sync_api import expect

    from payments.services.checkout import checkout_session_create

    settings.GATEWAY_BASE_URL = live_server.url
    violations = []
    page.on(
        "console",
        lambda m: violations.append(m.text) if "Content Security Policy" in m.text else None,
    )
    _sign_in_as_owner(page, live_server, member)

    logo = tmp_path / "logo.png"
    Image.new("RGBA", (600, 150), (15, 118, 110, 255)).save(logo)
    page.goto(f"{live_server.url}/dashboard/settings/")
    page.set_input_files("#id_logo", str(logo))
    page.fill("#id_brand_color", "#0f766e")
    page.fill("#id_checkout_allowed_origins", "https://shop.example")
    page.click("#branding-save")
    expect(page.locator("#branding-notice")).to_have_text("Saved.")
    page.wait_for_function("() => document.querySelector('img#logo-preview')?.naturalWidth > 0")
    assert violations == []

    session = checkout_session_create(
        merchant=merchant,
        livemode=False,
        amount=6_500_000,
        currency="idr",
        success_url="https://shop.example/ok",
    )
    page.goto(f"{live_server.url}/checkout/{session.public_id}")
    page.wait_for_function("() => document.getElementById('merchant-logo').naturalWidth === 384")
    expect(page.locator("#merchant-name")).to_have_text("Toko Kopi")
    expect(page.locator("#pay-button")).to_have_css("background-color", "rgb(15, 118, 110)")
    expect(page.locator("#pay-button")).to_have_css("color", "rgb(255, 255, 255)")
    assert violations == []
