"""A web worker dies after the processor answered and before our commit (kill -9 at the
worst moment, simulated by a BaseException out of the phase that records the answer).
The transaction is left pending; the sweeper inquires it under the same reference and the
state ends as the processor's truth, with nothing done twice."""

import datetime as dt
from unittest import mock

import pytest
from django.utils import timezone

from payments.models import PaymentIntent, Refund, Transaction
from payments.services.payment_intents import (
    payment_intent_capture,
    payment_intent_confirm,
    payment_intent_create,
)
from payments.services.refunds import refund_create
from payments.tasks import sweep_unknown_transactions
from sandbox.network import authorization_count
from settlement.models import Journal
from webhooks.models import Event

pytestmark = pytest.mark.django_db(transaction=True)


class WorkerKilled(BaseException):
    """Not an Exception: nothing in the request may catch it, as with SIGKILL."""


def _sweep_later() -> int:
    later = timezone.now() + dt.timedelta(minutes=3)
    return sweep_unknown_transactions(now_iso=later.isoformat())


def _intent(merchant, **kwargs) -> PaymentIntent:
    return payment_intent_create(
        merchant=merchant, livemode=False, amount=250_000, currency="idr", **kwargs
    )


def test_a_confirm_killed_after_the_approval_is_completed_by_the_sweeper(merchant):
    intent = _intent(merchant)
    with (
        mock.patch(
            "payments.services.payment_intents.apply_authorization_result",
            side_effect=WorkerKilled,
        ),
        pytest.raises(WorkerKilled),
    ):
        payment_intent_confirm(intent=intent, payment_method="pm_card_visa")
    intent.refresh_from_db()
    assert intent.status == "processing"
    assert Transaction.objects.get(payment_intent=intent, kind="authorize").status == "pending"
    assert authorization_count() == 1

    assert _sweep_later() == 1
    intent.refresh_from_db()
    assert intent.status == "succeeded"
    assert intent.amount_received == 250_000
    assert authorization_count() == 1  # inquired, never authorized again
    assert (
        Event.objects.filter(object_id=intent.public_id, type="payment_intent.succeeded").count()
        == 1
    )
    assert Journal.objects.filter(kind="capture").count() == 1
    assert _sweep_later() == 0  # nothing left to resolve


def test_a_capture_killed_after_the_network_captured_is_completed_by_the_sweeper(merchant):
    intent = _intent(merchant, capture_method="manual")
    intent = payment_intent_confirm(intent=intent, payment_method="pm_card_visa")
    with (
        mock.patch(
            "payments.services.payment_intents.apply_capture_result", side_effect=WorkerKilled
        ),
        pytest.raises(WorkerKilled),
    ):
        payment_intent_capture(intent=intent, amount_to_capture=200_000)
    intent.refresh_from_db()
    assert intent.status == "processing"

    assert _sweep_later() == 1
    intent.refresh_from_db()
    assert (intent.status, intent.amount_received) == ("succeeded", 200_000)
    assert Journal.objects.filter(kind="capture").count() == 1


def test_a_refund_killed_after_the_network_refunded_is_completed_by_the_sweeper(merchant):
    intent = payment_intent_confirm(intent=_intent(merchant), payment_method="pm_card_visa")
    with (
        mock.patch("payments.services.refunds.apply_refund_result", side_effect=WorkerKilled),
        pytest.raises(WorkerKilled),
    ):
        refund_create(payment_intent=intent, amount=50_000)
    refund = Refund.objects.get()
    assert refund.status == "pending"

    assert _sweep_later() == 1
    refund.refresh_from_db()
    assert refund.status == "succeeded"
    assert refund.charge.amount_refunded == 50_000
    assert Journal.objects.filter(kind="refund").count() == 1
    assert Event.objects.filter(object_id=refund.public_id, type="refund.updated").count() == 1


def test_a_3d_secure_payment_waiting_for_the_customer_is_not_swept(merchant, settings):
    intent = payment_intent_confirm(
        intent=_intent(merchant), payment_method="pm_card_threeDSecure2Required"
    )
    assert intent.status == "requires_action"
    assert _sweep_later() == 0
