"""A local payment whose time ran out leaves the session open: the customer picks another
method, which is a new PaymentIntent of the same session, and the session is still paid
at most once."""

from datetime import timedelta

import pytest
from django.utils import timezone

from payments.models import LocalPayment, PaymentIntent
from payments.services.checkout import checkout_session_pay_local
from payments.services.local_methods import local_payments_sweep
from sandbox.models import ProviderPayment

CARD = {"number": "4242 4242 4242 4242", "exp": "12 / 34", "cvc": "123"}


@pytest.fixture(autouse=True)
def _in_process(in_process_callbacks):
    """Providers call back into this process; the cache starts empty."""


def _let_it_expire(intent: PaymentIntent) -> None:
    local = LocalPayment.objects.get(charge__public_id=intent.latest_charge.public_id)
    ProviderPayment.objects.filter(reference=local.transaction.public_id).update(
        expires_at=timezone.now() - timedelta(seconds=1)
    )
    LocalPayment.objects.filter(pk=local.pk).update(expires_at=timezone.now())
    assert local_payments_sweep(now=timezone.now() + timedelta(seconds=1))["expired"] == 1


def test_after_a_qris_code_expires_the_customer_pays_by_card(client, make_session):
    session = make_session(payment_method_types=["card", "qris"])
    url = f"/checkout/{session.public_id}"
    assert client.post(url, {"method": "qris"}).status_code == 303
    session.refresh_from_db()
    first = session.payment_intent
    _let_it_expire(first)

    html = client.get(url).content.decode()
    assert "The time to pay with QRIS ran out and nothing was charged." in html
    assert 'id="card-form"' in html and 'id="tab-qris"' in html
    assert "This checkout page has expired" not in html

    assert client.post(url, CARD).status_code == 303
    session.refresh_from_db()
    assert (session.status, session.payment_status) == ("complete", "paid")
    assert session.payment_intent_id != first.pk
    assert session.payment_intent.status == "succeeded"
    first.refresh_from_db()
    assert (first.status, first.cancellation_reason) == ("canceled", "expired")
    intents = PaymentIntent.objects.filter(metadata__checkout_session=session.public_id)
    assert intents.count() == 2
    assert intents.filter(status="succeeded").count() == 1
    # Paid: no further attempt of any kind.
    assert client.post(url, CARD).status_code == 409
    assert client.post(url, {"method": "qris"}).status_code == 409
    assert intents.count() == 2


def test_an_attempt_still_running_is_not_replaced(make_session):
    session = make_session(payment_method_types=["qris", "gopay"])
    session = checkout_session_pay_local(session=session, method="qris")
    running = session.payment_intent
    assert running.status == "requires_action"
    with pytest.raises(Exception, match="already in progress"):
        checkout_session_pay_local(session=session, method="gopay")
    session.refresh_from_db()
    assert session.payment_intent_id == running.pk
    assert PaymentIntent.objects.filter(metadata__checkout_session=session.public_id).count() == 1
