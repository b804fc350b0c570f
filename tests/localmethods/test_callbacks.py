"""Providers' callbacks: a duplicate or late callback changes nothing after the first, a
missing one is recovered by the gateway's inquiry, an unpaid intent expires, and a callback
with a bad signature is refused, recorded and changes nothing."""

import json
import time
from datetime import timedelta

import pytest
from django.utils import timezone

from payments.models import LocalPayment, Transaction
from payments.services.local_methods import local_payments_sweep
from sandbox import faults
from sandbox.callbacks import callbacks_send_due
from sandbox.models import ProviderCallback, ProviderPayment
from webhooks.models import InboundCallback
from webhooks.services.inbound import callback_secret
from webhooks.signing import stripe_signature

pytestmark = pytest.mark.django_db(transaction=True)


def _pay_va(gateway, intent):
    va = intent.next_action.display_bank_transfer_instructions.financial_addresses[0]
    number = va.id_virtual_account.account_number
    amount = str(intent.amount // 100)
    answer = gateway.customer_post(
        "/sandbox/bank/va", {"bank": "bca", "va_number": number, "amount": amount}
    )
    assert answer.status_code == 200, answer.text[:300]


def _va_intent(gateway):
    return gateway.create("bank_transfer", 20_000_000, bank_transfer={"bank": "bca"})


def test_a_duplicate_callback_is_recorded_once_and_changes_nothing(gateway):
    faults.inject("callback_duplicate", operation="callback")
    intent = _va_intent(gateway)
    _pay_va(gateway, intent)
    rows = list(InboundCallback.objects.filter(connector="sandbox_local").order_by("pk"))
    assert [r.is_duplicate for r in rows] == [False, True]
    assert rows[0].provider_event_id == rows[1].provider_event_id
    assert rows[0].note == "succeeded" and rows[1].processed_at is not None
    assert gateway.client.v1.payment_intents.retrieve(intent.id).status == "succeeded"
    assert len(gateway.events("payment_intent.succeeded", intent.id)) == 1


def test_a_missing_callback_is_recovered_by_inquiry(gateway):
    faults.inject("callback_missing", operation="callback")
    intent = _va_intent(gateway)
    _pay_va(gateway, intent)
    assert ProviderCallback.objects.get().status == "dropped"
    assert not InboundCallback.objects.exists()
    assert gateway.client.v1.payment_intents.retrieve(intent.id).status == "requires_action"

    # Before its expiry, the poller asks the provider about a payment no callback ended.
    local_payments_sweep(now=timezone.now() + timedelta(seconds=45))
    intent = gateway.client.v1.payment_intents.retrieve(intent.id)
    assert intent.status == "succeeded"
    assert len(gateway.events("payment_intent.succeeded", intent.id)) == 1
    assert Transaction.objects.filter(kind="inquiry", status="succeeded").count() == 1


def test_a_late_callback_after_the_inquiry_changes_nothing(gateway):
    faults.inject("callback_late", operation="callback")
    intent = _va_intent(gateway)
    _pay_va(gateway, intent)
    late = ProviderCallback.objects.get()
    assert late.status == "scheduled" and late.send_after > timezone.now()
    local_payments_sweep(now=timezone.now() + timedelta(seconds=45))
    assert gateway.client.v1.payment_intents.retrieve(intent.id).status == "succeeded"

    assert callbacks_send_due(now=timezone.now() + timedelta(minutes=4)) == 1
    callback = InboundCallback.objects.get(connector="sandbox_local")
    assert callback.signature_valid and callback.note.startswith("already succeeded")
    events = gateway.events(object_id=intent.id)
    assert [e["type"] for e in events] == [
        "payment_intent.requires_action",
        "payment_intent.succeeded",
    ]


def test_an_unpaid_intent_expires_and_is_canceled(gateway):
    intent = gateway.create("qris", 3_000_000)
    local = LocalPayment.objects.get(charge__public_id=intent.latest_charge)
    # Still open a minute before its expiry: nothing happens.
    local_payments_sweep(now=local.expires_at - timedelta(seconds=60))
    assert gateway.client.v1.payment_intents.retrieve(intent.id).status == "requires_action"

    ProviderPayment.objects.filter(reference=local.transaction.public_id).update(
        expires_at=timezone.now() - timedelta(seconds=1)
    )
    LocalPayment.objects.filter(pk=local.pk).update(expires_at=timezone.now())
    counts = local_payments_sweep(now=timezone.now() + timedelta(seconds=1))
    assert counts["expired"] == 1
    intent = gateway.client.v1.payment_intents.retrieve(intent.id)
    assert intent.status == "canceled"
    assert intent.cancellation_reason == "expired"
    assert intent.next_action is None
    assert len(gateway.events("payment_intent.canceled", intent.id)) == 1
    # The code can no longer be paid.
    payload = LocalPayment.objects.get(pk=local.pk).details["qr_data"]
    paid = gateway.customer_post("/sandbox/qris/scan", {"payload": payload})
    assert paid.status_code == 400 and "expired" in paid.text


def test_letting_the_wallet_expire_cancels_the_intent(gateway):
    intent = gateway.create("shopeepay", 4_000_000)
    gateway.customer_post(intent.next_action.display_qr_code.data, {"action": "expire"})
    intent = gateway.client.v1.payment_intents.retrieve(intent.id)
    assert (intent.status, intent.cancellation_reason) == ("canceled", "expired")
    assert len(gateway.events("payment_intent.canceled", intent.id)) == 1


def test_the_merchant_cancels_an_unpaid_intent_and_the_code_closes(gateway):
    intent = gateway.create("gopay", 4_000_000)
    canceled = gateway.client.v1.payment_intents.cancel(
        intent.id, params={"cancellation_reason": "requested_by_customer"}
    )
    assert (canceled.status, canceled.cancellation_reason) == ("canceled", "requested_by_customer")
    page = gateway.browser.get(intent.next_action.display_qr_code.data)
    assert "This payment is canceled" in page.text and "Approve payment" not in page.text
    assert gateway.client.v1.payment_intents.retrieve(intent.id).status == "canceled"


@pytest.mark.parametrize("how", ["wrong secret", "old timestamp", "no signature"])
def test_a_callback_with_a_bad_signature_is_refused_recorded_and_changes_nothing(
    gateway, client, how
):
    intent = _va_intent(gateway)
    local = LocalPayment.objects.get(charge__public_id=intent.latest_charge)
    body = json.dumps(
        {
            "id": "evt_forged",
            "type": "payment.paid",
            "data": {"reference": local.transaction.public_id, "status": "paid",
                     "amount": intent.amount},
        }
    ).encode()  # fmt: skip
    ts = int(time.time()) - (600 if how == "old timestamp" else 0)
    secret = "not-the-secret" if how == "wrong secret" else callback_secret("sandbox_local")
    headers = {}
    if how != "no signature":
        headers["HTTP_GATEWAY_SIGNATURE"] = (
            f"t={ts},v1={stripe_signature(secret, timestamp=ts, body=body)}"
        )
    answer = client.post(
        "/hooks/sandbox_local/", data=body, content_type="application/json", **headers
    )
    assert answer.status_code == 400
    callback = InboundCallback.objects.get()
    assert not callback.signature_valid and callback.processed_at is None
    assert callback.error == "invalid or missing signature"
    assert gateway.client.v1.payment_intents.retrieve(intent.id).status == "requires_action"
    assert gateway.events("payment_intent.succeeded") == []
    # The genuine payment still goes through afterwards.
    _pay_va(gateway, intent)
    assert gateway.client.v1.payment_intents.retrieve(intent.id).status == "succeeded"


def test_with_nothing_listening_the_callback_goes_in_process_through_the_same_view(
    api_client, settings
):
    from sandbox.virtual_accounts import transfer

    settings.GATEWAY_BASE_URL = "http://127.0.0.1:9"  # refused: no gateway listens there
    settings.GATEWAY_SANDBOX_CALLBACK_TRANSPORT = "auto"
    created = api_client.post(
        "/v1/payment_intents",
        {"amount": 20_000_000, "currency": "idr", "payment_method_types": ["bank_transfer"],
         "payment_method_data": {"type": "bank_transfer", "bank_transfer": {"bank": "bri"}},
         "confirm": True},
    ).json()  # fmt: skip
    va = created["next_action"]["display_bank_transfer_instructions"]["financial_addresses"][0]
    number = va["id_virtual_account"]["account_number"]
    payment, problem = transfer(bank="bri", va_number=number, amount=20_000_000)
    assert problem == ""
    callback = InboundCallback.objects.get()
    assert callback.signature_valid and callback.note == "succeeded"
    assert api_client.get(f"/v1/payment_intents/{created['id']}").json()["status"] == "succeeded"
