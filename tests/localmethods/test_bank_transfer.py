"""Bank transfer to a virtual account, end to end: the stripe SDK confirms, the customer
pays the exact amount on the sandbox bank page, the bank's signed callback succeeds the
intent and the merchant's receiver gets payment_intent.succeeded."""

import pytest

from payments.models import LocalPayment
from webhooks.models import InboundCallback

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.mark.parametrize("bank", ["bca", "bni", "bri", "mandiri", "permata"])
def test_a_virtual_account_paid_with_the_exact_amount_succeeds(gateway, bank):
    intent = gateway.create("bank_transfer", 15_000_000, bank_transfer={"bank": bank})
    assert intent.status == "requires_action"
    action = intent.next_action
    assert action.type == "display_bank_transfer_instructions"
    instructions = action.display_bank_transfer_instructions
    assert instructions.type == "id_bank_transfer"
    assert (instructions.amount_remaining, instructions.currency) == (15_000_000, "idr")
    address = instructions.financial_addresses[0]
    assert address.type == "id_virtual_account"
    va = address.id_virtual_account
    assert va.bank == bank and va.account_number.isdigit() and len(va.account_number) == 16
    assert va.account_holder_name == "Toko Kopi"
    assert any(va.account_number in step for step in instructions.instructions)
    local = LocalPayment.objects.get(charge__public_id=intent.latest_charge)
    assert instructions.expires_at == int(local.expires_at.timestamp())
    assert 23.9 * 3600 < local.expires_at.timestamp() - intent.created < 24.1 * 3600
    assert [e["data"]["object"]["status"] for e in gateway.events(object_id=intent.id)] == [
        "requires_action"
    ]

    # A closed VA: any other amount is refused and changes nothing.
    wrong = gateway.customer_post(
        "/sandbox/bank/va", {"bank": bank, "va_number": va.account_number, "amount": "149999"}
    )
    assert wrong.status_code == 400 and "exactly" in wrong.text
    assert gateway.client.v1.payment_intents.retrieve(intent.id).status == "requires_action"

    paid = gateway.customer_post(
        "/sandbox/bank/va", {"bank": bank, "va_number": va.account_number, "amount": "150.000"}
    )
    assert paid.status_code == 200, paid.text[:500]
    intent = gateway.client.v1.payment_intents.retrieve(intent.id)
    assert intent.status == "succeeded"
    assert intent.amount_received == 15_000_000
    assert intent.next_action is None
    charge = gateway.client.v1.charges.retrieve(intent.latest_charge)
    assert charge.paid and charge.captured
    assert charge.payment_method_details.type == "bank_transfer"
    assert charge.payment_method_details.bank_transfer["va_number"] == va.account_number
    succeeded = gateway.events("payment_intent.succeeded", intent.id)
    assert len(succeeded) == 1
    callback = InboundCallback.objects.get(connector="sandbox_local")
    assert callback.signature_valid and callback.note == "succeeded"

    # Paying the closed account again is refused.
    again = gateway.customer_post(
        "/sandbox/bank/va", {"bank": bank, "va_number": va.account_number, "amount": "150000"}
    )
    assert again.status_code == 400 and "closed" in again.text


def test_local_methods_take_whole_rupiah_within_their_limits(gateway):
    import stripe

    for amount, code in [(15_000_050, "amount_invalid"), (999_900, "amount_too_small"),
                         (5_000_000_100, "amount_too_large")]:  # fmt: skip
        with pytest.raises(stripe.InvalidRequestError) as raised:
            gateway.create("bank_transfer", amount, bank_transfer={"bank": "bca"})
        assert raised.value.code == code
    with pytest.raises(stripe.InvalidRequestError) as raised:
        gateway.client.v1.payment_intents.create(
            params={"amount": 15_000_000, "currency": "usd", "payment_method_types": ["qris"],
                    "payment_method_data": {"type": "qris"}, "confirm": True}
        )  # fmt: skip
    assert raised.value.code == "payment_intent_invalid_currency"
