"""The dashboard in real Chromium (pytest-playwright with the system browser)."""

import re
from pathlib import Path

import pytest
from django.core import mail
from playwright.sync_api import expect

from merchants.models import APIKey, Membership
from payments.models import Refund
from tests.dashboard.conftest import PASSWORD, enable_totp, make_user, pay, totp_code
from tests.webhooks.conftest import Receiver
from webhooks.models import WebhookEndpoint

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SHOTS = Path("/tmp/gw-i/screens")


def shot(page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


@pytest.fixture
def csp_violations(page):
    found = []
    page.on(
        "console",
        lambda msg: (
            found.append(f"{msg.location} {msg.text}")
            if "Content Security Policy" in msg.text
            else None
        ),
    )
    return found


def log_in(page, live_server, email: str, secret: str | None = None) -> None:
    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("input[name=login]", email)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    if secret:
        page.wait_for_url(re.compile(r"/accounts/2fa/authenticate/"))
        page.fill("input[name=code]", totp_code(secret))
        page.click("button[type=submit]")
    page.wait_for_url(f"{live_server.url}/dashboard/")


def test_sign_up_set_up_two_factor_create_a_key_and_a_webhook_endpoint(
    page, live_server, csp_violations
):
    page.goto(f"{live_server.url}/accounts/signup/")
    shot(page, "signup")
    page.fill("input[name=email]", "rina@kopi.example")
    page.fill("input[name=password1]", PASSWORD)
    page.fill("input[name=password2]", PASSWORD)
    page.fill("input[name=business_name]", "Kopi Rina")
    page.click("button[type=submit]")
    page.wait_for_url(re.compile(r"/accounts/confirm-email/"))
    [email] = mail.outbox
    link = re.search(r"(/accounts/confirm-email/[^\s]+)", email.body).group(1)
    page.goto(live_server.url + link)
    page.click("button[type=submit]")
    page.wait_for_url(f"{live_server.url}/dashboard/")
    expect(page.locator(".brand")).to_have_text("Kopi Rina")
    expect(page.locator("#test-banner")).to_be_visible()
    shot(page, "home")

    # Keys need two-factor first: the owner is sent to set it up.
    page.click("text=API keys")
    # Logged in by the email link, not by password: allauth asks for it before 2FA setup.
    page.wait_for_url(re.compile(r"/accounts/reauthenticate/"))
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(re.compile(r"/accounts/2fa/totp/activate"))
    secret = page.locator("#authenticator_secret").input_value()
    shot(page, "totp")
    page.fill("input[name=code]", totp_code(secret))
    page.click("button[type=submit]")
    page.wait_for_url(re.compile(r"/accounts/2fa/recovery-codes/"))
    expect(page.locator("#recovery_codes")).to_be_visible()

    page.goto(f"{live_server.url}/dashboard/developers/keys/")
    page.fill("#key-name", "server")
    page.click("#key-create-button")
    raw = page.locator("#new-key-value").inner_text()
    assert raw.startswith("sk_test_")
    membership = Membership.objects.get(user__email="rina@kopi.example")
    assert APIKey.objects.filter(merchant=membership.merchant, name="server").count() == 1
    shot(page, "keys")

    page.click("text=Webhooks")
    page.fill("#endpoint-url", "http://127.0.0.1:9/hooks")
    page.check("#endpoint-all-events")
    page.click("#endpoint-create-button")
    expect(page.locator("#endpoint-secret")).to_contain_text("whsec_")
    endpoint = WebhookEndpoint.objects.get(merchant=membership.merchant)
    assert endpoint.enabled_events == ["*"]
    shot(page, "webhooks")
    assert csp_violations == []


@pytest.fixture
def owner_with_2fa(merchant):
    user = make_user("owner@toko.example")
    Membership.objects.create(user=user, merchant=merchant, role="owner")
    return user, enable_totp(user)


def test_find_a_payment_by_last_4_and_refund_part_of_it_in_place(
    page, live_server, merchant, owner_with_2fa, csp_violations
):
    from webhooks.services.endpoints import webhook_endpoint_create

    receiver = Receiver()
    try:
        webhook_endpoint_create(
            merchant=merchant, livemode=False, url=receiver.url, enabled_events=["charge.refunded"]
        )
        pay(merchant, 30_000)
        target = pay(merchant, 150_000)
        last4 = target.payment_method.details["last4"]
        user, secret = owner_with_2fa
        log_in(page, live_server, user.email, secret)

        page.click("nav >> text=Payments")
        page.fill("#id_q", last4)
        page.click("#payment-filters button[type=submit]")
        expect(page.locator("#payments-table tbody tr")).to_have_count(1)
        shot(page, "payments")
        page.click(f"tr[data-id={target.public_id}] a >> nth=0")
        page.wait_for_url(re.compile(target.public_id))
        shot(page, "payment")

        page.once("dialog", lambda dialog: dialog.accept())
        page.fill("#refund-amount", "400")
        page.select_option("#refund-reason", "requested_by_customer")
        url_before = page.url
        page.click("#refund-button")
        expect(page.locator("#payment-status")).to_contain_text("Partially refunded")
        expect(page.locator("#amount-refunded")).to_contain_text("IDR\xa0400.00")
        assert page.url == url_before  # updated in place, no navigation
        refund = Refund.objects.get(payment_intent=target)
        assert refund.amount == 40_000
        expect(page.locator("#refunds")).to_contain_text(refund.public_id)
        shot(page, "refunded")

        delivered = [e for e in receiver.events() if e["type"] == "charge.refunded"]
        assert len(delivered) == 1
        assert delivered[0]["data"]["object"]["amount_refunded"] == 40_000
    finally:
        receiver.close()
    assert csp_violations == []


def test_capture_an_uncaptured_payment(page, live_server, merchant, owner_with_2fa):
    intent = pay(merchant, 80_000, manual=True)
    user, secret = owner_with_2fa
    log_in(page, live_server, user.email, secret)
    page.goto(f"{live_server.url}/dashboard/payments/{intent.public_id}/")
    expect(page.locator("#payment-status")).to_contain_text("Uncaptured")
    page.once("dialog", lambda dialog: dialog.accept())
    page.fill("#capture-amount", "500")
    page.click("#capture-button")
    expect(page.locator("#payment-status")).to_contain_text("Succeeded")
    expect(page.locator("#amount-received")).to_contain_text("IDR\xa0500.00")
    intent.refresh_from_db()
    assert intent.amount_received == 50_000


def test_a_viewer_sees_no_refund_button(page, live_server, merchant):
    intent = pay(merchant, 10_000)
    user = make_user("viewer@toko.example")
    Membership.objects.create(user=user, merchant=merchant, role="viewer")
    log_in(page, live_server, user.email)
    page.goto(f"{live_server.url}/dashboard/payments/{intent.public_id}/")
    expect(page.locator("#payment-amount")).to_be_visible()
    expect(page.locator("#refund-button")).to_have_count(0)
    # The mode switch is always there.
    expect(page.locator("#mode-switch")).to_be_visible()
    response = page.request.post(
        f"{live_server.url}/dashboard/payments/{intent.public_id}/refund",
        headers={"X-CSRFToken": page.context.cookies()[0]["value"]},
    )
    assert response.status in (403,)
    assert not Refund.objects.exists()


def test_export_csv_downloads_the_filtered_rows(page, live_server, merchant, owner_with_2fa):
    pay(merchant, 10_000)
    big = pay(merchant, 900_000)
    user, secret = owner_with_2fa
    log_in(page, live_server, user.email, secret)
    page.goto(f"{live_server.url}/dashboard/payments/?amount_min=5000")
    with page.expect_download() as info:
        page.click("#export-csv")
    text = Path(info.value.path()).read_text()
    lines = text.strip().splitlines()
    assert len(lines) == 2 and lines[1].startswith(big.public_id)


def test_open_a_settlement_batch_and_its_payout(
    page, live_server, merchant, owner_with_2fa, csp_violations
):
    import datetime as dt

    from django.utils import timezone

    from merchants.models import BankAccount, PricingPlan, PricingRate
    from settlement.services.batches import settlement_run
    from tests.dashboard.conftest import refund

    plan = PricingPlan.objects.create(name="Flat browser plan")
    PricingRate.objects.create(
        plan=plan, payment_method_type="card", currency="idr", percent_bps=200
    )
    merchant.pricing_plan = plan
    merchant.save(update_fields=["pricing_plan"])
    BankAccount.objects.create(
        merchant=merchant,
        currency="idr",
        bank_code="bca",
        account_number="1234567890",
        account_holder_name="Toko Kopi",
    )
    first = pay(merchant, 200_000)
    pay(merchant, 100_000)
    refund(first, 50_000)
    [batch] = settlement_run(now=timezone.now() + dt.timedelta(days=1)).batches
    payout = batch.payout

    user, secret = owner_with_2fa
    log_in(page, live_server, user.email, secret)
    page.click("nav >> text=Settlements")
    page.click(f"tr[data-id={batch.public_id}] a >> nth=0")
    page.wait_for_url(re.compile(batch.public_id))
    expect(page.locator("#batch-lines tbody tr")).to_have_count(3)
    expect(page.locator("#batch-net")).to_contain_text("IDR\xa0")
    shot(page, "settlement-batch")
    with page.expect_download() as info:
        page.click("#batch-csv")
    lines = Path(info.value.path()).read_text().strip().splitlines()
    assert len(lines) == 1 + 3 + 1 and lines[-1].split(",")[2] == "total"

    page.click("#batch-payout a")
    page.wait_for_url(re.compile(payout.public_id))
    expect(page.locator("#payout-status")).to_contain_text("Pending")
    expect(page.locator("#payout-arrival")).to_contain_text(
        payout.arrival_date.strftime("%d %b %Y")
    )
    expect(page.locator("#payout-lines tbody tr")).to_have_count(3)
    shot(page, "payout")
    page.click("nav >> text=Payouts")
    expect(page.locator(f"#payouts-table tr[data-id={payout.public_id}]")).to_be_visible()
    shot(page, "payouts")
    page.click("nav a[href$='/dashboard/balance/']")
    expect(page.locator("#balance-transactions tbody tr")).to_have_count(4)
    shot(page, "balance")
    assert csp_violations == []


def test_invite_a_developer_who_accepts_and_joins(
    page, live_server, merchant, owner_with_2fa, csp_violations, browser
):
    user, secret = owner_with_2fa
    log_in(page, live_server, user.email, secret)
    page.click("nav >> text=Team")
    page.fill("#invite-email", "dewi@kopi.example")
    page.select_option("#invite-role", "developer")
    page.click("#invite-button")
    expect(page.locator("#team-notice")).to_contain_text("dewi@kopi.example")
    expect(page.locator("tr[data-invitation='dewi@kopi.example']")).to_be_visible()
    shot(page, "team")
    link = re.search(r"https?://\S+/dashboard/invitations/\S+/", mail.outbox[-1].body)[0]

    newcomer = browser.new_page()
    newcomer.goto(link)
    expect(newcomer.locator("#invited-role")).to_contain_text("Developer")
    shot(newcomer, "invitation")
    newcomer.fill("#id_password1", PASSWORD)
    newcomer.fill("#id_password2", PASSWORD)
    newcomer.click("#accept-button")
    newcomer.wait_for_url(f"{live_server.url}/dashboard/")
    expect(newcomer.locator(".who")).to_contain_text("dewi@kopi.example · developer")
    assert Membership.objects.get(user__email="dewi@kopi.example").role == "developer"
    newcomer.close()
    assert csp_violations == []


def test_the_recovery_codes_page_runs_its_script_without_a_csp_violation(
    page, live_server, owner_with_2fa, csp_violations
):
    user, secret = owner_with_2fa
    log_in(page, live_server, user.email, secret)
    page.goto(f"{live_server.url}/accounts/2fa/recovery-codes/")
    page.wait_for_url(re.compile(r"/accounts/reauthenticate/"))
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(re.compile(r"/accounts/2fa/recovery-codes/"))
    codes = page.locator("#recovery_codes")
    expect(codes).to_be_visible()
    # allauth's script selects every code on a click (for copying): it ran.
    codes.click()
    selected = page.evaluate(
        "() => { const t = document.getElementById('recovery_codes');"
        " return t.value.substring(t.selectionStart, t.selectionEnd); }"
    )
    assert len(selected.split()) == 10
    assert csp_violations == []
    # ...under the strict policy: scripts only with this response's nonce.
    policy = page.reload().headers["content-security-policy"]
    assert re.search(r"script-src 'nonce-[^']+'(;|$)", policy)
    expect(page.locator("#recovery_codes")).to_be_visible()
    assert csp_violations == []


def test_a_developer_resends_an_event_in_place_and_reads_the_api_log(
    page, live_server, merchant, api_key_for, csp_violations
):
    from core.api.requestlog import api_request_log_flush
    from webhooks.models import Event, WebhookDelivery
    from webhooks.services.endpoints import webhook_endpoint_create

    receiver = Receiver()
    try:
        endpoint, _ = webhook_endpoint_create(
            merchant=merchant, livemode=False, url=receiver.url, enabled_events=["refund.created"]
        )
        intent = pay(merchant, 30_000)
        event = Event.objects.get(merchant=merchant, type="payment_intent.succeeded")
        user = make_user("dev@toko.example")
        Membership.objects.create(user=user, merchant=merchant, role="developer")
        log_in(page, live_server, user.email)

        page.click("nav >> text=Events")
        page.click(f"tr[data-id={event.public_id}] a >> nth=0")
        page.wait_for_url(re.compile(event.public_id))
        expect(page.locator("#event-payload")).to_contain_text(intent.public_id)
        section = page.locator(f"[data-endpoint={endpoint.public_id}]")
        expect(section).to_contain_text("Not sent to this endpoint")
        url_before = page.url
        page.click(f"#resend-{endpoint.public_id}")
        expect(page.locator("#event-notice")).to_contain_text("was sent again")
        assert page.url == url_before  # updated in place
        [delivery] = WebhookDelivery.objects.filter(event=event, endpoint=endpoint)
        expect(section).to_contain_text(delivery.public_id)
        assert any(e["id"] == event.public_id for e in receiver.events())
        shot(page, "event")

        key = api_key_for(merchant)
        page.request.get(
            f"{live_server.url}/v1/payment_intents/{intent.public_id}",
            headers={"Authorization": f"Bearer {key}"},
        )
        api_request_log_flush()
        page.click("nav >> text=Logs")
        page.select_option("#id_method", "GET")
        page.click("#log-filters button[type=submit]")
        row = page.locator("#request-log tbody tr").first
        expect(row).to_contain_text(f"/v1/payment_intents/{intent.public_id}")
        expect(row).to_contain_text(f"sk_test_…{key[-4:]}")
        shot(page, "logs")
    finally:
        receiver.close()
    assert csp_violations == []
