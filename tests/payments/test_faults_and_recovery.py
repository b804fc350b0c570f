"""Faults injected in the sandbox card network, and how the gateway recovers from them.

Tasks run eagerly in tests (config.settings.test), so an inquiry scheduled with
transaction.on_commit runs as soon as the confirm's last transaction commits: by the time
the API answers, recovery has already run. The tests that want to see the intermediate
`processing` state run a real Celery worker instead (tests/conftest.py: celery_worker).
"""

import datetime as dt

import pytest
import stripe
from django.utils import timezone

from payments.models import PaymentIntent, Transaction, TransactionKind
from payments.services.payment_intents import payment_intent_cancel_expired_authorizations
from sandbox import faults
from sandbox.models import Authorization, Operation
from sandbox.network import account_state, authorization_count
from tests.conftest import wait_for
from webhooks.models import Event

pytestmark = pytest.mark.django_db(transaction=True)

VISA = "4242424242424242"


@pytest.fixture
def client(live_server, api_key_for, merchant, settings):
    settings.GATEWAY_BASE_URL = live_server.url
    return stripe.StripeClient(
        api_key_for(merchant), base_addresses={"api": live_server.url}, max_network_retries=0
    )


@pytest.fixture(autouse=True)
def no_faults_left_over():
    yield
    faults.clear()


def _intent(client, **params):
    return client.v1.payment_intents.create(params={"amount": 150000, "currency": "idr", **params})


def _events(intent_id: str, type_: str) -> int:
    return Event.objects.filter(object_id=intent_id, type=type_).count()


def _authorizations_of(intent_id: str) -> list[Authorization]:
    references = Transaction.objects.filter(
        payment_intent__public_id=intent_id, kind=TransactionKind.AUTHORIZE
    ).values_list("public_id", flat=True)
    return list(Authorization.objects.filter(reference__in=list(references)))


def test_an_authorize_timeout_leaves_the_intent_processing_until_the_inquiry_resolves_it(
    client, celery_worker
):
    # With a real worker, the confirm answers before the inquiry runs: the client sees the
    # honest "we do not know yet" state.
    intent = _intent(client)
    faults.inject("timeout")
    confirmed = client.v1.payment_intents.confirm(
        intent.id, params={"payment_method": "pm_card_visa"}
    )
    assert confirmed.status == "processing"
    assert authorization_count() == 0  # the network never saw it

    def settled():
        status = PaymentIntent.objects.get(public_id=intent.id).status
        return status if status != "processing" else None

    final = wait_for(settled, timeout=30)
    assert final is not None, "the inquiry never resolved the timed-out authorization"
    intent = client.v1.payment_intents.retrieve(intent.id)
    # Nothing happened at the network, so the attempt ends as failed and the customer may
    # try again; the gateway never authorizes a second time on its own.
    assert intent.status == "requires_payment_method"
    assert authorization_count() == 0
    retried = client.v1.payment_intents.confirm(
        intent.id, params={"payment_method": "pm_card_visa"}
    )
    assert retried.status == "succeeded"
    assert authorization_count() == 1


def test_an_authorize_timeout_in_eager_mode_is_resolved_before_the_confirm_answers(client):
    intent = _intent(client)
    faults.inject("timeout")
    try:
        confirmed = client.v1.payment_intents.confirm(
            intent.id, params={"payment_method": "pm_card_visa"}
        )
        status = confirmed.status
    except stripe.CardError as error:
        status = error.error.payment_intent["status"]
    assert status in ("processing", "requires_payment_method")
    assert authorization_count() == 0
    intent = client.v1.payment_intents.retrieve(intent.id)
    assert intent.status == "requires_payment_method"
    assert (
        client.v1.payment_intents.confirm(
            intent.id, params={"payment_method": "pm_card_visa"}
        ).status
        == "succeeded"
    )
    assert authorization_count() == 1


def test_approve_then_timeout_ends_succeeded_with_one_authorization_and_one_event(client):
    intent = _intent(client)
    faults.inject("approve_then_timeout")
    confirmed = client.v1.payment_intents.confirm(
        intent.id, params={"payment_method": "pm_card_visa"}
    )
    # Eager mode: the inquiry ran as the confirm's transaction committed.
    assert confirmed.status in ("processing", "succeeded")
    intent = client.v1.payment_intents.retrieve(intent.id)
    assert intent.status == "succeeded"
    assert intent.amount_received == 150000
    assert authorization_count() == 1
    assert len(_authorizations_of(intent.id)) == 1
    assert _events(intent.id, "payment_intent.succeeded") == 1
    charge = client.v1.charges.retrieve(intent.latest_charge)
    assert (charge.status, charge.captured, charge.amount_captured) == ("succeeded", True, 150000)
    assert account_state(VISA)["spent"] == 150000


def test_approve_then_timeout_with_a_real_worker_answers_processing_then_succeeds_once(
    client, celery_worker
):
    intent = _intent(client)
    faults.inject("approve_then_timeout")
    confirmed = client.v1.payment_intents.confirm(
        intent.id, params={"payment_method": "pm_card_visa"}
    )
    assert confirmed.status == "processing"
    assert wait_for(
        lambda: PaymentIntent.objects.get(public_id=intent.id).status == "succeeded", timeout=30
    )
    assert authorization_count() == 1
    assert _events(intent.id, "payment_intent.succeeded") == 1


def test_a_server_error_on_authorize_is_a_processing_error_and_a_new_confirm_succeeds(client):
    intent = _intent(client)
    faults.inject("server_error")
    with pytest.raises(stripe.CardError) as raised:
        client.v1.payment_intents.confirm(intent.id, params={"payment_method": "pm_card_visa"})
    assert raised.value.http_status == 402
    assert raised.value.code == "processing_error"
    assert authorization_count() == 0
    intent = client.v1.payment_intents.retrieve(intent.id)
    assert intent.status == "requires_payment_method"
    assert intent.last_payment_error.code == "processing_error"
    retried = client.v1.payment_intents.confirm(
        intent.id, params={"payment_method": "pm_card_visa"}
    )
    assert retried.status == "succeeded"
    assert authorization_count() == 1
    assert _events(intent.id, "payment_intent.succeeded") == 1


def test_a_capture_timeout_is_resolved_to_succeeded_by_the_inquiry(client):
    intent = _intent(client, payment_method="pm_card_visa", confirm=True, capture_method="manual")
    assert intent.status == "requires_capture"
    faults.inject("approve_then_timeout", operation="capture")
    captured = client.v1.payment_intents.capture(intent.id)
    assert captured.status in ("processing", "succeeded")
    intent = client.v1.payment_intents.retrieve(intent.id)
    assert intent.status == "succeeded"
    assert intent.amount_received == 150000
    assert Operation.objects.filter(kind="capture").count() == 1
    assert account_state(VISA) == {**account_state(VISA), "held": 0, "spent": 150000}
    assert _events(intent.id, "payment_intent.succeeded") == 1


def test_a_capture_that_never_reached_the_network_returns_to_requires_capture(client):
    intent = _intent(client, payment_method="pm_card_visa", confirm=True, capture_method="manual")
    faults.inject("timeout", operation="capture")
    answer = client.v1.payment_intents.capture(intent.id)
    # Eager mode: the inquiry already learnt that the network never saw the capture.
    assert answer.status in ("processing", "requires_capture")
    intent = client.v1.payment_intents.retrieve(intent.id)
    assert intent.status == "requires_capture"
    assert intent.amount_capturable == 150000
    assert account_state(VISA)["held"] == 150000
    assert Operation.objects.filter(kind="capture").count() == 0
    captured = client.v1.payment_intents.capture(intent.id)
    assert captured.status == "succeeded"
    assert account_state(VISA)["spent"] == 150000
    assert Operation.objects.filter(kind="capture", status="succeeded").count() == 1


def test_a_refund_approved_then_timed_out_ends_succeeded_once(client):
    intent = _intent(client, payment_method="pm_card_visa", confirm=True)
    faults.inject("approve_then_timeout", operation="refund")
    refund = client.v1.refunds.create(params={"payment_intent": intent.id, "amount": 40000})
    assert refund.status in ("pending", "succeeded")
    refund = client.v1.refunds.retrieve(refund.id)
    assert refund.status == "succeeded"
    assert Operation.objects.filter(kind="refund").count() == 1
    charge = client.v1.charges.retrieve(intent.latest_charge)
    assert charge.amount_refunded == 40000
    assert account_state(VISA)["spent"] == 110000
    assert Event.objects.filter(object_id=refund.id, type="refund.updated").count() == 1


def test_uncaptured_authorizations_are_voided_and_canceled_automatically_after_seven_days(
    client,
):
    intent = _intent(client, payment_method="pm_card_visa", confirm=True, capture_method="manual")
    recent = _intent(client, payment_method="pm_card_visa", confirm=True, capture_method="manual")
    PaymentIntent.objects.filter(public_id=intent.id).update(
        created_at=timezone.now() - dt.timedelta(days=1)
    )
    assert account_state(VISA)["held"] == 300000
    assert payment_intent_cancel_expired_authorizations(now=timezone.now()) == 0
    done = payment_intent_cancel_expired_authorizations(now=timezone.now() + dt.timedelta(days=8))
    assert done == 2
    for intent_id in (intent.id, recent.id):
        canceled = client.v1.payment_intents.retrieve(intent_id)
        assert canceled.status == "canceled"
        assert canceled.cancellation_reason == "automatic"
        assert canceled.amount_capturable == 0
        assert _events(intent_id, "payment_intent.canceled") == 1
    assert account_state(VISA)["held"] == 0
    assert Operation.objects.filter(kind="void", status="succeeded").count() == 2
    # Running it again changes nothing.
    assert (
        payment_intent_cancel_expired_authorizations(now=timezone.now() + dt.timedelta(days=8)) == 0
    )
