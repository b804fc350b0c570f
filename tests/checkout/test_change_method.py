"""While a wallet, QRIS, OVO or virtual account payment waits for the customer, the page
lets them choose another method: the provider closes the pending payment, its intent is
canceled, and the session takes a new attempt (a new PaymentIntent). The session is still
paid at most once: a late callback for the closed payment changes nothing."""

import json
import time

import pytest

from payments.models import LocalPayment, PaymentIntent
from sandbox.models import ProviderPayment
from webhooks.models import Event, InboundCallback
from webhooks.services.inbound import callback_secret
from webhooks.signing import stripe_signature

pytestmark = pytest.mark.django_db(transaction=True)

CARD = {"number": "4242 4242 4242 4242", "exp": "12 / 34", "cvc": "123"}


@pytest.fixture(autouse=True)
def _in_process(in_process_callbacks):
    """Providers call back into this process; the cache starts empty."""


@pytest.fixture
def session(make_session):
    return make_session(payment_method_types=["card", "gopay", "qris", "bank_transfer"])


def _pending_va(client, session):
    url = f"/checkout/{session.public_id}"
    assert client.post(url, {"method": "bank_transfer", "bank": "bca"}).status_code == 303
    session.refresh_from_db()
    intent = session.payment_intent
    assert intent.status == "requires_action"
    return intent, LocalPayment.objects.get(payment_intent=intent)


def _signed_paid_callback(client, reference: str, amount: int):
    body = json.dumps(
        {
            "id": "evt_late_paid",
            "type": "payment.paid",
            "data": {"reference": reference, "status": "paid", "amount": amount},
        }
    ).encode()
    ts = int(time.time())
    signature = stripe_signature(callback_secret("sandbox_local"), timestamp=ts, body=body)
    return client.post(
        "/hooks/sandbox_local/",
        data=body,
        content_type="application/json",
        HTTP_GATEWAY_SIGNATURE=f"t={ts},v1={signature}",
    )


def test_a_pending_va_offers_another_method_and_the_cancel_link(client, session):
    _pending_va(client, session)
    html = client.get(f"/checkout/{session.public_id}?method=card").content.decode()
    assert "Transfer to the BCA virtual account" in html
    assert 'id="change-method"' in html and "Choose another method" in html
    assert f'action="/checkout/{session.public_id}/change"' in html
    assert 'id="cancel-link-footer" href="https://shop.example/cart"' in html
    assert "Cancel and return to Toko Kopi" in html


def test_choosing_another_method_closes_the_va_and_a_card_pays_with_a_new_intent(client, session):
    url = f"/checkout/{session.public_id}"
    first, local = _pending_va(client, session)

    answer = client.post(f"{url}/change")
    assert answer.status_code == 303 and answer["Location"] == url

    first.refresh_from_db()
    assert (first.status, first.cancellation_reason) == ("canceled", "requested_by_customer")
    local.refresh_from_db()
    assert local.status == "canceled"
    provider = ProviderPayment.objects.get(reference=local.transaction.public_id)
    assert provider.status == "canceled"  # the VA is closed at the bank

    html = client.get(url).content.decode()
    assert 'id="tab-card"' in html and 'id="tab-bank_transfer"' in html
    assert 'id="card-form"' in html
    assert "va-number" not in html and 'id="change-method"' not in html
    assert "ran out" not in html  # no expiry notice: the customer chose this

    assert client.post(url, CARD).status_code == 303
    session.refresh_from_db()
    assert (session.status, session.payment_status) == ("complete", "paid")
    assert session.payment_intent_id != first.pk
    assert session.payment_intent.status == "succeeded"
    assert PaymentIntent.objects.filter(metadata__checkout_session=session.public_id).count() == 2


def test_a_late_paid_callback_for_the_canceled_attempt_does_not_complete_the_session(
    client, session
):
    url = f"/checkout/{session.public_id}"
    first, local = _pending_va(client, session)
    assert client.post(f"{url}/change").status_code == 303

    answer = _signed_paid_callback(client, local.transaction.public_id, session.amount_total)
    assert answer.status_code == 200
    callback = InboundCallback.objects.get(provider_event_id="evt_late_paid")
    assert callback.signature_valid
    assert callback.note == "already canceled; nothing changed"
    first.refresh_from_db()
    assert first.status == "canceled"
    session.refresh_from_db()
    assert (session.status, session.payment_status) == ("open", "unpaid")
    assert not Event.objects.filter(type="checkout.session.completed").exists()
    assert 'id="card-form"' in client.get(url).content.decode()

    # Paid once, by the new attempt.
    assert client.post(url, {"method": "gopay"}).status_code == 303
    assert client.post(url, CARD).status_code == 409  # the GoPay attempt is pending now
    assert client.post(f"{url}/change").status_code == 303
    assert client.post(url, CARD).status_code == 303
    session.refresh_from_db()
    assert session.status == "complete"
    intents = PaymentIntent.objects.filter(metadata__checkout_session=session.public_id)
    assert intents.count() == 3 and intents.filter(status="succeeded").count() == 1
    assert Event.objects.filter(type="checkout.session.completed").count() == 1


def test_if_the_customer_paid_before_the_va_closed_the_payment_stands(client, session):
    from sandbox.virtual_accounts import transfer

    url = f"/checkout/{session.public_id}"
    first, local = _pending_va(client, session)
    number = first.next_action["display_bank_transfer_instructions"]["financial_addresses"][0][
        "id_virtual_account"
    ]["account_number"]
    _, problem = transfer(bank="bca", va_number=number, amount=session.amount_total)
    assert problem == ""

    answer = client.post(f"{url}/change")
    assert answer.status_code == 303
    html = client.get(url).content.decode()
    assert "Payment successful" in html
    session.refresh_from_db()
    assert session.status == "complete" and session.payment_intent_id == first.pk


def test_another_site_cannot_cancel_the_customers_payment(client, session):
    url = f"/checkout/{session.public_id}"
    first, _ = _pending_va(client, session)
    answer = client.post(f"{url}/change", HTTP_SEC_FETCH_SITE="cross-site")
    assert answer.status_code == 403
    first.refresh_from_db()
    assert first.status == "requires_action"


def test_the_choice_speaks_indonesian(client, session):
    _pending_va(client, session)
    html = client.get(f"/checkout/{session.public_id}", HTTP_ACCEPT_LANGUAGE="id").content.decode()
    assert "Pilih metode lain" in html
    assert "Pembayaran di atas ditutup lebih dulu, sehingga tidak dapat dibayar lagi." in html
