"""Refunds of QRIS and virtual account payments from the dashboard: they cannot go back the
way they came, so the payment's refund form asks for the customer's bank account and the
refund is paid by a bank transfer, pending until the bank has paid it."""

import re

import pytest
from django.urls import reverse

from merchants.models import AuditEvent
from payments.models import Refund
from sandbox import providers
from sandbox.models import BankPayout, ProviderPayment

ACCOUNT = {"bank": "bni", "account_number": "0123456789", "account_holder_name": "Ani Wijaya"}
METHODS = {"qris": {}, "bank_transfer": {"bank_transfer": {"bank": "mandiri"}}}


@pytest.fixture
def paid_locally(merchant, settings, django_capture_on_commit_callbacks):
    """paid_locally(method) -> a PaymentIntent the customer paid in the sandbox (scanned
    the QRIS code, or transferred to the virtual account), through the real services."""
    from payments.services.payment_intents import payment_intent_confirm, payment_intent_create

    settings.GATEWAY_SANDBOX_CALLBACK_TRANSPORT = "inprocess"

    def make(method: str, amount: int = 20_000_000):
        intent = payment_intent_create(
            merchant=merchant,
            livemode=False,
            amount=amount,
            currency="idr",
            payment_method_types=[method],
        )
        with django_capture_on_commit_callbacks(execute=True):
            payment_intent_confirm(
                intent=intent, payment_method_data={"type": method, **METHODS[method]}
            )
        payment = ProviderPayment.objects.get(amount=amount, status="pending")
        with django_capture_on_commit_callbacks(execute=True):
            _, problem = providers.finish(payment.provider_reference, "paid", amount=amount)
        assert problem == ""
        intent.refresh_from_db()
        assert intent.status == "succeeded"
        return intent

    return make


def _refund_rows(body: str) -> list[tuple[str, str]]:
    """(amount, status) of each row of the payment's refunds table."""
    section = body.split('id="refunds"', 1)[1].split("</section>", 1)[0]
    return re.findall(
        r'<td class="num">([^<]+)</td><td><span class="badge [a-z_]+">([a-z_]+)</span>', section
    )


@pytest.mark.parametrize("method", ["qris", "bank_transfer"])
def test_the_refund_form_of_a_qris_or_va_payment_asks_for_the_customers_bank_account(
    dashboard_client, paid_locally, method
):
    intent = paid_locally(method)
    body = dashboard_client.get(
        reverse("dashboard:payment-detail", args=[intent.public_id])
    ).content.decode()
    form = body.split('id="refund-form"', 1)[1].split("</form>", 1)[0]
    for field_id, label in [
        ("refund-bank", "Customer's bank"),
        ("refund-account-number", "Account number"),
        ("refund-account-holder", "Account holder name"),
    ]:
        assert f'<label for="{field_id}">{label}</label>' in form
    assert '<option value="bni">BNI</option>' in form
    assert "refunded by a bank transfer to the customer" in form
    assert "Refund by bank transfer" in form


@pytest.mark.parametrize("method", ["qris", "bank_transfer"])
def test_a_qris_or_va_payment_is_refunded_to_the_customers_bank_account_pending_until_paid(
    dashboard_client, merchant, paid_locally, django_capture_on_commit_callbacks, method
):
    intent = paid_locally(method)
    url = reverse("dashboard:payment-refund", args=[intent.public_id])
    # The bank pays once the refund has committed (the payout task runs on commit).
    with django_capture_on_commit_callbacks(execute=True):
        response = dashboard_client.post(
            url, {"amount": "50000", "reason": "requested_by_customer", **ACCOUNT},
            HTTP_HX_REQUEST="true",
        )  # fmt: skip
        body = response.content.decode()
        assert response.status_code == 200
        refund = Refund.objects.get(payment_intent=intent)
        assert f"Refund {refund.public_id}: pending until the bank transfer to BNI ••••6789" in body
        assert _refund_rows(body) == [("IDR\xa050,000.00", "pending")]
        assert not BankPayout.objects.exists()

    refund.refresh_from_db()
    assert (refund.amount, refund.status) == (5_000_000, "succeeded")
    assert refund.destination == ACCOUNT
    payout = BankPayout.objects.get()
    assert (payout.account_number, payout.amount, payout.status) == (
        "0123456789",
        5_000_000,
        "paid",
    )
    page = dashboard_client.get(reverse("dashboard:payment-detail", args=[intent.public_id]))
    assert _refund_rows(page.content.decode()) == [("IDR\xa050,000.00", "succeeded")]
    event = AuditEvent.objects.get(merchant=merchant, action="payment_intent.refund")
    assert event.data["bank"] == "bni" and event.data["account_last4"] == "6789"
    assert "0123456789" not in str(event.data)


def test_a_qris_refund_without_the_bank_account_is_refused_and_says_what_is_missing(
    dashboard_client, paid_locally
):
    intent = paid_locally("qris")
    response = dashboard_client.post(
        reverse("dashboard:payment-refund", args=[intent.public_id]),
        {"amount": "", "bank": "bni", "account_number": "12ab", "account_holder_name": ""},
        HTTP_HX_REQUEST="true",
    )
    body = response.content.decode()
    assert 'id="action-error"' in body
    assert "Digits only, 6 to 20 of them." in body
    assert "This field is required." in body
    assert 'value="12ab"' in body  # what was typed stays in the form
    assert not Refund.objects.exists()


def test_a_qris_refund_without_javascript_goes_back_to_the_payment_with_its_outcome(
    dashboard_client, paid_locally
):
    intent = paid_locally("qris")
    response = dashboard_client.post(
        reverse("dashboard:payment-refund", args=[intent.public_id]), ACCOUNT
    )
    assert response.status_code == 302
    page = dashboard_client.get(response["Location"]).content.decode()
    refund = Refund.objects.get(payment_intent=intent)
    assert refund.amount == 20_000_000 and refund.status == "pending"
    assert f"Refund {refund.public_id}: pending until the bank transfer" in page


@pytest.mark.parametrize("role", ["viewer", "analyst"])
def test_viewers_and_analysts_cannot_refund_a_qris_payment(client_as, paid_locally, role):
    intent = paid_locally("qris")
    c = client_as(role)
    page = c.get(reverse("dashboard:payment-detail", args=[intent.public_id]))
    assert page.status_code == 200 and 'id="refund-form"' not in page.content.decode()
    response = c.post(reverse("dashboard:payment-refund", args=[intent.public_id]), ACCOUNT)
    assert response.status_code == 403
    assert not Refund.objects.exists()
