"""The hosted checkout in real Chromium (pytest-playwright, the system browser)."""

import re

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from payments.models import CheckoutSession

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def _gateway_on_live_server(live_server, settings, fresh_cache):
    settings.GATEWAY_BASE_URL = live_server.url


@pytest.fixture
def session(make_session, live_server):
    return make_session(
        success_url=live_server.url + "/healthz?session_id={CHECKOUT_SESSION_ID}",
        cancel_url=live_server.url + "/healthz?canceled=1",
    )


def open_checkout(page, live_server, session):
    page.goto(f"{live_server.url}/checkout/{session.public_id}")
    expect(page.locator("#total")).to_contain_text("Rp65.000")


def fill_card(page, number, exp="12 / 34", cvc="123"):
    page.fill("#number", number)
    page.fill("#exp", exp)
    page.fill("#cvc", cvc)
    page.fill("#name", "Budi Santoso")


def expect_paid(page, live_server, session):
    expect(page.locator("#outcome")).to_contain_text("Payment successful")
    page.click("#return-link")
    page.wait_for_url(f"{live_server.url}/healthz?session_id={session.public_id}")
    session.refresh_from_db()
    assert (session.status, session.payment_status) == ("complete", "paid")


def test_paying_by_card_lands_on_the_success_url(page, live_server, session):
    open_checkout(page, live_server, session)
    fill_card(page, "4242424242424242")
    expect(page.locator("#number")).to_have_value("4242 4242 4242 4242")
    expect(page.locator("#card-brand use")).to_have_attribute("href", re.compile("#visa$"))
    page.click("#pay-button")
    expect(page.locator("#outcome")).to_contain_text("Payment successful")
    # The success page sends the customer on by itself.
    page.wait_for_url(f"{live_server.url}/healthz?session_id={session.public_id}", timeout=15_000)
    session.refresh_from_db()
    assert (session.status, session.payment_status) == ("complete", "paid")
    assert session.payment_intent.status == "succeeded"


def test_a_decline_shows_the_reason_inline_and_another_card_succeeds(page, live_server, session):
    open_checkout(page, live_server, session)
    fill_card(page, "4000 0000 0000 0002")
    page.click("#pay-button")
    error = page.locator("#form-error")
    expect(error).to_have_text("Your card was declined. Use another card or contact your bank.")
    expect(error).to_have_attribute("role", "alert")
    assert page.url == f"{live_server.url}/checkout/{session.public_id}"
    fill_card(page, "4242 4242 4242 4242")
    page.click("#pay-button")
    expect_paid(page, live_server, session)
    assert session.payment_intent.charges.count() == 2


def test_a_3d_secure_card_goes_through_its_challenge(page, live_server, session):
    open_checkout(page, live_server, session)
    fill_card(page, "4000 0027 6000 3184")
    page.click("#pay-button")
    page.wait_for_url(re.compile(r"/sandbox/3ds/"))
    expect(page.locator("#challenge-amount")).to_contain_text("65,000")
    page.click("text=Complete authentication")
    expect_paid(page, live_server, session)


def test_a_failed_3d_secure_challenge_shows_the_reason_and_lets_the_customer_retry(
    page, live_server, session
):
    open_checkout(page, live_server, session)
    fill_card(page, "4000 0027 6000 3184")
    page.click("#pay-button")
    page.wait_for_url(re.compile(r"/sandbox/3ds/"))
    page.click("text=Fail authentication")
    expect(page.locator("#form-error")).to_contain_text("Your bank could not confirm")
    fill_card(page, "4242 4242 4242 4242")
    page.click("#pay-button")
    expect_paid(page, live_server, session)


def test_the_browser_checks_the_card_before_sending_it(page, live_server, session):
    open_checkout(page, live_server, session)
    requests = []
    page.on("request", lambda r: requests.append(r) if r.method == "POST" else None)
    fill_card(page, "4242 4242 4242 4241", exp="01 / 20")
    page.click("#pay-button")
    expect(page.locator("#number")).to_have_attribute("aria-invalid", "true")
    expect(page.locator("#number-error")).to_have_text("Enter a valid card number.")
    expect(page.locator("#exp")).to_have_attribute("aria-invalid", "true")
    expect(page.locator("#number")).to_be_focused()
    assert requests == []
    assert CheckoutSession.objects.get(pk=session.pk).payment_intent is None


def test_cancel_goes_to_the_cancel_url(page, live_server, session):
    open_checkout(page, live_server, session)
    page.click("#cancel-link-footer")
    page.wait_for_url(f"{live_server.url}/healthz?canceled=1")


def test_an_expired_session_shows_the_expired_page(page, live_server, session):
    CheckoutSession.objects.filter(pk=session.pk).update(
        expires_at=timezone.now() - timezone.timedelta(seconds=1)
    )
    page.goto(f"{live_server.url}/checkout/{session.public_id}")
    expect(page.locator("#outcome")).to_contain_text("This checkout page has expired")
    expect(page.locator("#card-form")).to_have_count(0)
    session.refresh_from_db()
    assert session.status == "expired"


def test_a_session_cannot_be_paid_twice(page, live_server, session):
    open_checkout(page, live_server, session)
    fill_card(page, "4242 4242 4242 4242")
    page.click("#pay-button")
    expect(page.locator("#outcome")).to_contain_text("Payment successful")
    # Back to the page (another tab, the back button): it shows the success, no form.
    page.goto(f"{live_server.url}/checkout/{session.public_id}")
    expect(page.locator("#outcome")).to_contain_text("Payment successful")
    expect(page.locator("#card-form")).to_have_count(0)
    # A replayed form post (with a valid CSRF token) is refused.
    token = next(c["value"] for c in page.context.cookies() if c["name"] == "csrftoken")
    response = page.request.post(
        f"{live_server.url}/checkout/{session.public_id}",
        form={
            "csrfmiddlewaretoken": token,
            "number": "4242424242424242",
            "exp": "12/34",
            "cvc": "123",
        },
        headers={"Referer": f"{live_server.url}/checkout/{session.public_id}"},
    )
    assert response.status == 409
    assert "already been paid" in response.text()
    session.refresh_from_db()
    assert session.payment_intent.charges.count() == 1


def test_the_page_fits_a_360_pixel_screen(page, live_server, session):
    page.set_viewport_size({"width": 360, "height": 740})
    open_checkout(page, live_server, session)
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    fill_card(page, "4000 0000 0000 0002")
    page.click("#pay-button")
    expect(page.locator("#form-error")).to_contain_text("declined")
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    fill_card(page, "4242 4242 4242 4242")
    page.click("#pay-button")
    expect(page.locator("#outcome")).to_contain_text("Payment successful")
    assert page.evaluate("document.documentElement.scrollWidth") <= 360


def test_a_keyboard_alone_completes_the_payment(page, live_server, session):
    open_checkout(page, live_server, session)
    order = []
    for _ in range(12):
        page.keyboard.press("Tab")
        order.append(page.evaluate("document.activeElement.id || document.activeElement.name"))
        if order[-1] == "number":
            break
    assert order[-1] == "number"
    page.keyboard.type("4242424242424242")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.id") == "exp"
    page.keyboard.type("1234")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.id") == "cvc"
    page.keyboard.type("123")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.id") == "name"
    page.keyboard.type("Budi")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.id") == "pay-button"
    page.keyboard.press("Enter")
    expect(page.locator("#outcome")).to_contain_text("Payment successful")
    for _ in range(8):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.id") == "return-link":
            break
    assert page.evaluate("document.activeElement.id") == "return-link"
    session.refresh_from_db()
    assert session.status == "complete"


def test_the_processing_state_polls_and_moves_on_by_itself(
    page, live_server, session, celery_worker
):
    from sandbox import faults

    # The network approves but the answer is lost: the intent stays processing until the
    # worker's inquiry learns the truth.
    faults.inject("approve_then_timeout")
    polls = []
    page.on("request", lambda r: polls.append(r.url) if r.url.endswith("/status") else None)
    try:
        open_checkout(page, live_server, session)
        fill_card(page, "4242 4242 4242 4242")
        page.click("#pay-button")
        expect(page.locator("#payment-status")).to_contain_text("Your bank is confirming")
        expect(page.locator("#payment-status")).to_have_attribute("hx-trigger", "every 2s")
        expect(page.locator("#outcome")).to_contain_text("Payment successful", timeout=40_000)
    finally:
        faults.clear()
    assert polls, "the status fragment was never polled"
    session.refresh_from_db()
    assert session.status == "complete"
    assert session.payment_intent.charges.count() == 1


def _declined(page, live_server, session):
    open_checkout(page, live_server, session)
    fill_card(page, "4000 0000 0000 0002")
    page.click("#pay-button")
    expect(page.locator("#form-error")).to_have_text(
        "Your card was declined. Use another card or contact your bank."
    )


def test_a_new_problem_found_in_the_browser_replaces_the_old_decline(page, live_server, session):
    _declined(page, live_server, session)
    page.click("#pay-button")  # the card number is not kept: the browser refuses the form
    expect(page.locator("#number-error")).to_have_text("Enter a valid card number.")
    expect(page.locator("#form-error")).to_have_text("")
    expect(page.locator("#form-error")).to_be_hidden()


def test_editing_the_card_clears_the_old_decline(page, live_server, session):
    _declined(page, live_server, session)
    page.locator("#number").press_sequentially("4242")
    expect(page.locator("#form-error")).to_have_text("")
    expect(page.locator("#form-error")).to_be_hidden()
