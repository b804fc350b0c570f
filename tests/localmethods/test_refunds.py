"""Refunds of local methods: e-wallets through the provider (GoPay and ShopeePay in part,
OVO and DANA in full only); virtual accounts and QRIS by a bank payout to the account given
with the refund, pending until the bank has paid it."""

import pytest
import stripe

from payments.models import Charge
from sandbox.models import BankPayout, ProviderRefund

pytestmark = pytest.mark.django_db(transaction=True)

ACCOUNT = {"bank": "bni", "account_number": "0123456789", "account_holder_name": "Ani"}


def _paid(gateway, method, amount, **data):
    intent = gateway.create(method, amount, **data)
    if method == "bank_transfer":
        va = intent.next_action.display_bank_transfer_instructions.financial_addresses[0]
        gateway.customer_post(
            "/sandbox/bank/va",
            {"bank": va.id_virtual_account.bank, "va_number": va.id_virtual_account.account_number,
             "amount": str(amount // 100)},
        )  # fmt: skip
    elif method == "qris":
        gateway.customer_post(
            "/sandbox/qris/scan", {"payload": intent.next_action.display_qr_code.data}
        )
    else:
        gateway.customer_post(intent.next_action.display_qr_code.data, {"action": "approve"})
    intent = gateway.client.v1.payment_intents.retrieve(intent.id)
    assert intent.status == "succeeded"
    return intent


@pytest.mark.parametrize("wallet", ["gopay", "shopeepay"])
def test_gopay_and_shopeepay_refund_in_parts_through_the_provider(gateway, wallet):
    intent = _paid(gateway, wallet, 5_000_000)
    first = gateway.client.v1.refunds.create(
        params={"payment_intent": intent.id, "amount": 1_000_000}
    )
    second = gateway.client.v1.refunds.create(params={"payment_intent": intent.id})
    assert (first.status, second.status) == ("succeeded", "succeeded")
    assert second.amount == 4_000_000
    assert sorted(r.amount for r in ProviderRefund.objects.filter(status="succeeded")) == [
        1_000_000, 4_000_000
    ]  # fmt: skip
    assert gateway.client.v1.charges.retrieve(intent.latest_charge).refunded is True
    assert len(gateway.events("charge.refunded")) == 2


def test_ovo_refunds_only_the_whole_payment(gateway):
    intent = _paid_ovo(gateway)
    with pytest.raises(stripe.InvalidRequestError) as raised:
        gateway.client.v1.refunds.create(params={"payment_intent": intent.id, "amount": 100_000})
    assert raised.value.code == "refund_partial_not_supported"
    assert Charge.objects.get(public_id=intent.latest_charge).amount_refunded == 0
    refund = gateway.client.v1.refunds.create(params={"payment_intent": intent.id})
    assert (refund.status, refund.amount) == ("succeeded", 2_500_000)


def _paid_ovo(gateway):
    import re

    intent = gateway.create("ovo", 2_500_000, ovo={"phone": "+6281299990000"})
    phone = gateway.browser.get(f"{gateway.url}/sandbox/wallet/ovo/phone/+6281299990000")
    link = re.findall(r'href="(/sandbox/wallet/ovo/[^"]+)"', phone.text)[0]
    gateway.customer_post(link, {"action": "approve"})
    return gateway.client.v1.payment_intents.retrieve(intent.id)


def test_dana_refunds_only_the_whole_payment(gateway):
    intent = _paid(gateway, "dana", 3_000_000)
    with pytest.raises(stripe.InvalidRequestError):
        gateway.client.v1.refunds.create(params={"payment_intent": intent.id, "amount": 1_000_000})
    assert gateway.client.v1.refunds.create(params={"payment_intent": intent.id}).status == (
        "succeeded"
    )


@pytest.mark.parametrize("method", ["bank_transfer", "qris"])
def test_va_and_qris_refunds_are_bank_payouts_pending_until_paid(gateway, method):
    data = {"bank_transfer": {"bank": "mandiri"}} if method == "bank_transfer" else {}
    intent = _paid(gateway, method, 20_000_000, **data)
    with pytest.raises(stripe.InvalidRequestError) as raised:
        gateway.client.v1.refunds.create(params={"payment_intent": intent.id, "amount": 500_000})
    assert raised.value.param == "destination[bank]"

    refund = gateway.client.v1.refunds.create(
        params={"payment_intent": intent.id, "amount": 500_000, "destination": ACCOUNT}
    )
    assert refund.status == "pending"  # answered before the bank has paid
    assert refund.destination_details["bank_transfer"]["account_number_last4"] == "6789"
    refund = gateway.client.v1.refunds.retrieve(refund.id)
    assert refund.status == "succeeded"
    assert refund.destination_details["bank_transfer"]["reference_status"] == "available"
    payout = BankPayout.objects.get()
    assert (payout.account_number, payout.amount, payout.status) == ("0123456789", 500_000, "paid")
    statuses = [e["data"]["object"]["status"] for e in gateway.events(object_id=refund.id)]
    assert statuses == ["pending", "succeeded"]
    assert [e["type"] for e in gateway.events(object_id=refund.id)] == [
        "refund.created",
        "refund.updated",
    ]


def test_a_payout_refund_to_a_closed_account_fails_and_gives_the_amount_back(gateway):
    intent = _paid(gateway, "qris", 20_000_000)
    refund = gateway.client.v1.refunds.create(
        params={"payment_intent": intent.id,
                "destination": {**ACCOUNT, "account_number": "000123456789"}}
    )  # fmt: skip
    refund = gateway.client.v1.refunds.retrieve(refund.id)
    assert (refund.status, refund.failure_reason) == ("failed", "account_closed")
    assert Charge.objects.get(public_id=intent.latest_charge).amount_refunded == 0
    assert len(gateway.events("refund.failed", refund.id)) == 1


def test_a_card_refund_takes_no_destination(gateway):
    intent = gateway.client.v1.payment_intents.create(
        params={"amount": 150000, "currency": "idr", "payment_method": "pm_card_visa",
                "confirm": True}
    )  # fmt: skip
    with pytest.raises(stripe.InvalidRequestError) as raised:
        gateway.client.v1.refunds.create(
            params={"payment_intent": intent.id, "destination": ACCOUNT}
        )
    assert raised.value.param == "destination"
