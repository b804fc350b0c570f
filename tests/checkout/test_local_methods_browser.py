"""Local methods on the hosted checkout in real Chromium: the customer pays outside the page
(the sandbox wallet, bank and QRIS pages) and the checkout moves on to success by itself."""

import re

import pytest
from playwright.sync_api import expect

from payments.models import PaymentIntent

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

LOCAL = ["card", "gopay", "ovo", "dana", "shopeepay", "qris", "bank_transfer"]


@pytest.fixture(autouse=True)
def _gateway_on_live_server(live_server, settings, fresh_cache):
    settings.GATEWAY_BASE_URL = live_server.url


@pytest.fixture
def session(make_session, live_server):
    return make_session(
        payment_method_types=LOCAL,
        success_url=live_server.url + "/healthz?session_id={CHECKOUT_SESSION_ID}",
        cancel_url=live_server.url + "/healthz?canceled=1",
    )


def open_tab(page, live_server, session, name):
    page.goto(f"{live_server.url}/checkout/{session.public_id}")
    expect(page.locator("#total")).to_contain_text("Rp65.000")
    page.click(f"text={name}")
    expect(page.locator("#pay-title")).to_have_text(f"Pay with {name}")


def expect_paid_by_itself(page, session):
    expect(page.locator("#outcome")).to_contain_text("Payment successful", timeout=20_000)
    session.refresh_from_db()
    assert (session.status, session.payment_status) == ("complete", "paid")


def test_gopay_shows_the_qr_and_the_app_link_and_moves_on_when_approved(page, live_server, session):
    requests = []
    page.on("request", lambda r: requests.append(r.url))
    csp_violations = []
    page.on(
        "console", lambda m: csp_violations.append(m.text) if "Content Security" in m.text else None
    )
    open_tab(page, live_server, session, "GoPay")
    page.click("#local-pay-button")
    qr = page.locator("#qr-code")
    expect(qr).to_be_visible()
    assert qr.get_attribute("src").startswith(f"{live_server.url}/payments/qr/")
    page.wait_for_function("() => document.getElementById('qr-code').naturalWidth > 0")
    link = page.locator("#open-app").get_attribute("href")
    assert re.fullmatch(rf"{live_server.url}/sandbox/wallet/gopay/sbx_\w+", link)
    expect(page.locator("#countdown")).to_have_text(re.compile(r"^1[45]:\d\d$"))

    assert all(url.startswith(live_server.url + "/") for url in requests), requests
    assert csp_violations == []

    wallet = page.context.new_page()
    wallet.goto(link)
    wallet.click("text=Approve payment")
    expect_paid_by_itself(page, session)
    assert session.payment_intent.status == "succeeded"


def test_a_bca_virtual_account_paid_at_the_bank_completes_the_checkout(page, live_server, session):
    open_tab(page, live_server, session, "Bank transfer")
    page.click("#local-pay-button")
    expect(page.locator("#bank-error")).to_have_text("Choose your bank.")
    page.check("#bank-bca")
    page.click("#local-pay-button")
    expect(page.locator("#pay-title")).to_have_text("Transfer to the BCA virtual account")
    va_number = page.locator("#va-number").inner_text()
    assert va_number.isdigit()
    expect(page.locator("#va-amount")).to_have_text("Rp65.000")
    expect(page.locator("#copy-va")).to_be_visible()
    expect(page.locator("#va-steps li")).to_have_count(5)
    expect(page.locator("#va-steps")).to_contain_text(va_number)
    expect(page.locator("#countdown")).to_have_text(re.compile(r"^2[34]:\d\d:\d\d$"))

    bank = page.context.new_page()
    bank.goto(f"{live_server.url}/sandbox/bank/va")
    bank.select_option("select[name=bank]", "bca")
    bank.fill("input[name=va_number]", va_number)
    bank.fill("input[name=amount]", "65.000")
    bank.click("button[type=submit]")
    expect(bank.locator("#va-result")).to_contain_text(va_number)
    expect_paid_by_itself(page, session)


def test_qris_shows_the_code_with_a_countdown_and_completes_when_scanned(
    page, live_server, session
):
    open_tab(page, live_server, session, "QRIS")
    page.click("#local-pay-button")
    expect(page.locator("#qr-code")).to_be_visible()
    expect(page.locator("#countdown")).to_have_text(re.compile(r"^1[45]:\d\d$"))
    payload = page.locator("#qr-data").inner_text()
    assert payload.startswith("000201")

    scanner = page.context.new_page()
    scanner.goto(f"{live_server.url}/sandbox/qris/scan")
    scanner.fill("textarea[name=payload]", payload)
    scanner.click("button[type=submit]")
    expect(scanner.locator("#qris-result")).to_contain_text("Paid Rp65,000")
    expect_paid_by_itself(page, session)


def test_a_wallet_payment_left_to_expire_lets_the_customer_pay_another_way(
    page, live_server, session
):
    open_tab(page, live_server, session, "DANA")
    page.click("#local-pay-button")
    link = page.locator("#open-app").get_attribute("href")
    wallet = page.context.new_page()
    wallet.goto(link)
    wallet.click("text=Let it expire")
    expect(page.locator("#attempt-expired")).to_have_text(
        "The time to pay with DANA ran out and nothing was charged. "
        "Choose a payment method to try again.",
        timeout=20_000,
    )
    session.refresh_from_db()
    assert session.status == "open" and session.payment_status == "unpaid"
    expired = session.payment_intent
    assert (expired.status, expired.cancellation_reason) == ("canceled", "expired")
    # Another attempt is another PaymentIntent of the same session.
    page.click("#tab-gopay")
    page.click("#local-pay-button")
    expect(page.locator("#qr-code")).to_be_visible()
    wallet.goto(page.locator("#open-app").get_attribute("href"))
    wallet.click("text=Approve payment")
    expect_paid_by_itself(page, session)
    assert session.payment_intent_id != expired.pk
    assert session.payment_intent.status == "succeeded"
    expired.refresh_from_db()
    assert expired.status == "canceled"
    assert PaymentIntent.objects.filter(metadata__checkout_session=session.public_id).count() == 2


def test_ovo_asks_for_the_phone_then_waits_for_the_approval(page, live_server, session):
    open_tab(page, live_server, session, "OVO")
    page.fill("#phone", "12345")
    page.click("#local-pay-button")
    expect(page.locator("#phone-error")).to_have_text("Enter your OVO phone number (08…).")
    page.fill("#phone", "0812 3456 7890")
    page.click("#local-pay-button")
    expect(page.locator("#pay-title")).to_have_text("Approve in your OVO app")
    expect(page.locator("#local-payment")).to_contain_text("+62812****7890")
    expect(page.locator("#payment-status")).to_contain_text("Waiting for your payment")
    # The push must be approved within a minute: the page counts it down.
    expect(page.locator("#expiry")).to_contain_text("Approve before")
    expect(page.locator("#countdown")).to_have_text(re.compile(r"^(1:00|0:[0-5]\d)$"))
    first = page.locator("#countdown").inner_text()
    page.wait_for_timeout(1500)
    assert page.locator("#countdown").inner_text() != first


def test_the_local_methods_speak_indonesian(client, session):
    page_url = f"/checkout/{session.public_id}"
    tabs = client.get(page_url, HTTP_ACCEPT_LANGUAGE="id").content.decode()
    assert "Metode pembayaran" in tabs
    assert "Transfer bank" in tabs
    bank = client.get(f"{page_url}?method=bank_transfer", HTTP_ACCEPT_LANGUAGE="id")
    assert "Bayar dengan Transfer bank" in bank.content.decode()
    assert "Pilih bank Anda" in bank.content.decode()
    client.post(page_url, {"method": "bank_transfer", "bank": "bni"}, HTTP_ACCEPT_LANGUAGE="id")
    waiting = client.get(page_url, HTTP_ACCEPT_LANGUAGE="id").content.decode()
    assert "Transfer ke virtual account BNI" in waiting
    assert "Nomor virtual account" in waiting
    assert "Menunggu pembayaran Anda." in waiting
    assert "Buka mobile banking atau internet banking BNI, atau datangi ATM." in waiting
    assert "Pilih Transfer &gt; Virtual Account Billing." in waiting
    assert "Pastikan jumlahnya tepat Rp65.000 dan namanya Toko Kopi, lalu konfirmasi." in waiting
    assert "Bayar sebelum batas waktu" in waiting
    assert "Open BNI" not in waiting


def test_the_sessions_api_takes_local_methods_in_rupiah_only(api_client):
    body = {"amount": 6500000, "success_url": "https://s.example", "currency": "idr"}
    types = ["gopay", "ovo", "dana", "shopeepay", "qris", "bank_transfer"]
    created = api_client.post(
        "/v1/checkout/sessions", {**body, "payment_method_types": types}, format="json"
    )
    assert created.status_code == 200, created.json()
    assert created.json()["payment_method_types"] == types
    usd = api_client.post(
        "/v1/checkout/sessions",
        {**body, "currency": "usd", "payment_method_types": ["gopay"]},
        format="json",
    )
    assert usd.status_code == 400
    assert usd.json()["error"]["param"] == "payment_method_types"


def test_a_session_without_cards_opens_on_its_first_local_method(client, make_session):
    session = make_session(payment_method_types=["qris"])
    html = client.get(f"/checkout/{session.public_id}").content.decode()
    assert "Pay with QRIS" in html
    assert 'id="card-form"' not in html
    client.post(f"/checkout/{session.public_id}", {"method": "qris"})
    assert 'id="qr-code"' in client.get(f"/checkout/{session.public_id}").content.decode()


def test_a_customer_waiting_on_a_va_can_choose_another_method_and_pay_by_card(
    page, live_server, session
):
    open_tab(page, live_server, session, "Bank transfer")
    page.check("#bank-bca")
    page.click("#local-pay-button")
    expect(page.locator("#pay-title")).to_have_text("Transfer to the BCA virtual account")
    first = PaymentIntent.objects.get()
    # Asking for the card tab does not hide the pending transfer, but the way out is there.
    page.goto(f"{live_server.url}/checkout/{session.public_id}?method=card")
    expect(page.locator("#pay-title")).to_have_text("Transfer to the BCA virtual account")
    expect(page.locator("#cancel-link-footer")).to_have_text("Cancel and return to Toko Kopi")
    expect(page.locator("#cancel-link-footer")).to_have_attribute(
        "href", live_server.url + "/healthz?canceled=1"
    )
    page.click("#change-method")
    expect(page.locator("#tab-card")).to_be_visible()
    expect(page.locator("#va-number")).to_have_count(0)
    first.refresh_from_db()
    assert (first.status, first.cancellation_reason) == ("canceled", "requested_by_customer")

    page.click("#tab-card")
    page.fill("#number", "4242 4242 4242 4242")
    page.fill("#exp", "12 / 34")
    page.fill("#cvc", "123")
    page.click("#pay-button")
    expect_paid_by_itself(page, session)
    assert session.payment_intent_id != first.pk


def test_without_javascript_the_waiting_page_moves_on_by_itself(browser, live_server, session):
    context = browser.new_context(java_script_enabled=False)
    try:
        page = context.new_page()
        page.goto(f"{live_server.url}/checkout/{session.public_id}")
        page.click("#tab-gopay")
        page.click("#local-pay-button")
        expect(page.locator("#qr-code")).to_be_visible()
        link = page.locator("#open-app").get_attribute("href")
        wallet = context.new_page()
        wallet.goto(link)
        wallet.click("text=Approve payment")
        expect(wallet.locator("#wallet-result")).to_contain_text("paid")
        expect(page.locator("#outcome")).to_contain_text("Payment successful", timeout=15_000)
    finally:
        context.close()


def test_a_wallet_payment_completes_the_session_without_the_page_or_the_sweeper(
    page, live_server, session
):
    from payments.services.checkout import checkout_session_pay_local
    from webhooks.models import Event

    session = checkout_session_pay_local(session=session, method="gopay")
    link = session.payment_intent.next_action["redirect_to_url"]["url"]
    page.goto(link)  # the customer's GoPay app; the checkout page is never opened
    page.click("text=Approve payment")
    expect(page.locator("#wallet-result")).to_contain_text("paid")
    session.refresh_from_db()
    assert (session.status, session.payment_status) == ("complete", "paid")
    completed = Event.objects.get(type="checkout.session.completed")
    assert completed.object_id == session.public_id
