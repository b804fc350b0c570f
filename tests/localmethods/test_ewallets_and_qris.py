"""E-wallets and QRIS end to end with the stripe SDK: the customer approves in the sandbox
wallet app (or scans the QRIS code and pays), the provider's signed callback succeeds the
intent and the merchant's receiver gets payment_intent.succeeded once."""

import re

import pytest
import requests
import stripe

from payments.qris import qr_svg
from sandbox.qris import decode
from tests.localmethods.test_qris import _scan

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.mark.parametrize("wallet", ["gopay", "dana", "shopeepay"])
def test_a_wallet_payment_approved_in_the_app_succeeds(gateway, wallet):
    intent = gateway.create(wallet, 5_000_000)
    assert intent.status == "requires_action"
    action = intent.next_action
    assert action.type == "display_qr_code"
    qr = action.display_qr_code
    link = qr.data
    assert re.fullmatch(rf"{gateway.url}/sandbox/wallet/{wallet}/sbx_\w+", link)
    assert action.redirect_to_url.url == link
    assert 14 * 60 < qr.expires_at - intent.created <= 15 * 60 + 1
    # The QR image the gateway serves scans back to the link.
    svg = requests.get(qr.image_url_svg, timeout=10)
    assert svg.status_code == 200 and svg.headers["Content-Type"] == "image/svg+xml"
    assert _scan(svg.text) == link
    assert requests.get(qr.image_url_svg.replace(".svg", "x.svg"), timeout=10).status_code == 404

    page = gateway.customer_post(link, {"action": "approve"})
    assert page.status_code == 200 and "This payment is paid" in page.text
    intent = gateway.client.v1.payment_intents.retrieve(intent.id)
    assert intent.status == "succeeded" and intent.amount_received == 5_000_000
    assert len(gateway.events("payment_intent.succeeded", intent.id)) == 1
    charge = gateway.client.v1.charges.retrieve(intent.latest_charge)
    assert charge.payment_method_details.type == wallet


def test_a_declined_wallet_payment_returns_the_intent_for_another_try(gateway):
    intent = gateway.create("gopay", 5_000_000)
    gateway.customer_post(intent.next_action.display_qr_code.data, {"action": "decline"})
    intent = gateway.client.v1.payment_intents.retrieve(intent.id)
    assert intent.status == "requires_payment_method"
    assert intent.last_payment_error.code == "payment_method_provider_decline"
    assert len(gateway.events("payment_intent.payment_failed", intent.id)) == 1
    again = gateway.client.v1.payment_intents.confirm(
        intent.id, params={"payment_method_data": {"type": "gopay"}}
    )
    assert again.status == "requires_action"
    gateway.customer_post(again.next_action.display_qr_code.data, {"action": "approve"})
    assert gateway.client.v1.payment_intents.retrieve(intent.id).status == "succeeded"


def test_ovo_pushes_to_the_phone_and_the_customer_approves_there(gateway):
    intent = gateway.create("ovo", 2_500_000, ovo={"phone": "0812-3456-7890"})
    assert intent.status == "requires_action"
    action = intent.next_action
    assert action.type == "await_push_approval"
    assert action.await_push_approval.provider == "ovo"
    assert action.await_push_approval.phone == "+62812****7890"
    assert action.await_push_approval.expires_at - intent.created <= 61

    phone = gateway.browser.get(f"{gateway.url}/sandbox/wallet/ovo/phone/+6281234567890")
    links = re.findall(r'href="(/sandbox/wallet/ovo/[^"]+)"', phone.text)
    assert len(links) == 1
    gateway.customer_post(links[0], {"action": "approve"})
    intent = gateway.client.v1.payment_intents.retrieve(intent.id)
    assert intent.status == "succeeded"
    assert len(gateway.events("payment_intent.succeeded", intent.id)) == 1


def test_ovo_needs_a_phone_number(gateway):
    with pytest.raises(stripe.InvalidRequestError) as raised:
        gateway.create("ovo", 2_500_000, ovo={"phone": "12345"})
    assert raised.value.param == "payment_method_data[ovo][phone]"


def test_a_qris_code_scanned_and_paid_succeeds(gateway, merchant):
    intent = gateway.create("qris", 7_500_000)
    action = intent.next_action
    assert action.type == "display_qr_code"
    payload = action.display_qr_code.data
    fields = decode(payload)
    assert fields["54"] == "75000"
    assert fields["59"] == merchant.name and fields["60"] == "Jakarta"
    charge_txn = fields["62"]["05"]
    assert charge_txn.startswith("txn_") and len(charge_txn) <= 25
    svg = requests.get(action.display_qr_code.image_url_svg, timeout=10).text
    assert svg == qr_svg(payload) and _scan(svg) == payload

    # A tampered code (another amount, CRC not fixed) is refused by the acquirer.
    forged = payload.replace("540575000", "540570000")
    refused = gateway.customer_post("/sandbox/qris/scan", {"payload": forged})
    assert refused.status_code == 400 and "CRC" in refused.text
    paid = gateway.customer_post("/sandbox/qris/scan", {"payload": payload})
    assert paid.status_code == 200, paid.text[:300]
    intent = gateway.client.v1.payment_intents.retrieve(intent.id)
    assert intent.status == "succeeded"
    assert len(gateway.events("payment_intent.succeeded", intent.id)) == 1
