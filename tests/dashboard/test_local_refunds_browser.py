"""In Chromium: the owner refunds a QRIS payment from its page, typing the customer's bank
account into the refund form; the page updates in place and the bank pays the customer."""

import re

import pytest
from playwright.sync_api import expect

from payments.models import Refund
from sandbox import providers
from sandbox.models import BankPayout, ProviderPayment
from tests.dashboard.conftest import enable_totp, make_user
from tests.dashboard.test_browser import log_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def csp_violations(page):
    found = []
    page.on("console", lambda m: found.append(m.text) if "Content Security" in m.text else None)
    return found


def test_the_owner_refunds_a_qris_payment_to_the_customers_bank_account_in_place(
    page, live_server, merchant, settings, csp_violations
):
    from merchants.models import Membership
    from payments.services.payment_intents import payment_intent_confirm, payment_intent_create

    settings.GATEWAY_SANDBOX_CALLBACK_TRANSPORT = "inprocess"
    intent = payment_intent_create(
        merchant=merchant, livemode=False, amount=15_000_000, currency="idr",
        payment_method_types=["qris"],
    )  # fmt: skip
    payment_intent_confirm(intent=intent, payment_method_data={"type": "qris"})
    payment = ProviderPayment.objects.get()
    providers.finish(payment.provider_reference, "paid", amount=payment.amount)
    intent.refresh_from_db()
    assert intent.status == "succeeded"
    user = make_user("owner@toko.example")
    Membership.objects.create(user=user, merchant=merchant, role="owner")
    log_in(page, live_server, user.email, enable_totp(user))

    page.goto(f"{live_server.url}/dashboard/payments/{intent.public_id}/")
    expect(page.locator("#refund-by-transfer")).to_contain_text("A QRIS payment")
    page.fill("#refund-amount", "25000")
    page.get_by_label("Customer's bank").select_option(label="BNI")
    page.get_by_label("Account number").fill("0123456789")
    page.get_by_label("Account holder name").fill("Ani Wijaya")
    url_before = page.url
    page.once("dialog", lambda dialog: dialog.accept())
    page.click("#refund-button")

    expect(page.locator("#action-notice")).to_contain_text(
        re.compile(r"Refund re_\w+: pending until the bank transfer to BNI ••••6789 completes")
    )
    assert page.url == url_before  # updated in place, no navigation
    refund = Refund.objects.get(payment_intent=intent)
    assert refund.amount == 2_500_000
    assert refund.destination["account_holder_name"] == "Ani Wijaya"
    expect(page.locator("#refunds")).to_contain_text(refund.public_id)
    expect(page.locator("#amount-refunded")).to_contain_text("IDR\xa025,000.00")
    # Tasks run inline in tests, so the bank has paid by now (a worker would take a moment).
    assert BankPayout.objects.get().account_number == "0123456789"
    page.reload()
    expect(page.locator("#refunds .badge")).to_have_text("succeeded")
    assert csp_violations == []
