"""A confirm's two writing phases are guarded single statements on PostgreSQL (core.writes):
when the intent changed after it was read, the confirm is done again under the row lock.
Either way the customer is charged once, the payment is booked once, and the change made
meanwhile is kept. (On SQLite the locking path is the only one; the same holds.)"""

import pytest

from payments.connectors.sandbox import SandboxConnector
from payments.models import PaymentIntent
from payments.services.payment_intents import (
    payment_intent_confirm,
    payment_intent_create,
    payment_intent_update,
)
from sandbox.models import Authorization
from settlement.models import BalanceTransaction, Journal
from webhooks.models import Event

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def pricing(merchant):
    """A card rate, so that the capture books a fee (2.9 %)."""
    from merchants.models import PricingPlan, PricingRate

    plan = PricingPlan.objects.create(name="Optimistic test plan")
    PricingRate.objects.create(
        plan=plan, payment_method_type="card", currency="idr", percent_bps=290
    )
    merchant.pricing_plan = plan
    merchant.save(update_fields=["pricing_plan"])


def _read(intent: PaymentIntent) -> PaymentIntent:
    """The intent as the API view reads it before confirming."""
    return PaymentIntent.objects.select_related(
        "merchant", "payment_method", "customer", "latest_charge"
    ).get(pk=intent.pk)


def _paid_once(intent: PaymentIntent) -> None:
    intent.refresh_from_db()
    assert intent.status == "succeeded"
    assert intent.amount_received == 150_000
    charge = intent.latest_charge
    assert (charge.status, charge.amount_captured) == ("succeeded", 150_000)
    assert Authorization.objects.count() == 1
    [journal] = Journal.objects.filter(kind="capture")
    [booked] = BalanceTransaction.objects.filter(journal=journal)
    assert (booked.amount, booked.fee) == (150_000, 4_350)
    succeeded = Event.objects.filter(type="payment_intent.succeeded", object_id=intent.public_id)
    assert succeeded.count() == 1
    assert succeeded.get().object_version == intent.version


def test_an_intent_changed_after_it_was_read_is_confirmed_under_the_lock(merchant, pricing):
    intent = payment_intent_create(
        merchant=merchant, livemode=False, amount=150_000, currency="idr"
    )
    read_by_the_view = _read(intent)
    # Another request changes the intent between this one's read and its confirm.
    payment_intent_update(intent=_read(intent), changes={"metadata": {"order": "42"}})

    confirmed = payment_intent_confirm(intent=read_by_the_view, payment_method="pm_card_visa")

    assert confirmed.status == "succeeded"
    assert confirmed.metadata == {"order": "42"}
    _paid_once(intent)
    assert intent.metadata == {"order": "42"}


def test_an_intent_changed_while_the_network_answered_is_booked_under_the_lock(
    merchant, pricing, monkeypatch
):
    intent = payment_intent_create(
        merchant=merchant, livemode=False, amount=150_000, currency="idr"
    )
    authorize = SandboxConnector.authorize

    def answer_while_the_merchant_updates(self, request):
        result = authorize(self, request)
        # The merchant's server sets metadata while the network answers this confirm.
        payment_intent_update(intent=_read(intent), changes={"metadata": {"note": "gift"}})
        return result

    monkeypatch.setattr(SandboxConnector, "authorize", answer_while_the_merchant_updates)
    confirmed = payment_intent_confirm(intent=_read(intent), payment_method="pm_card_visa")

    assert confirmed.status == "succeeded"
    assert confirmed.metadata == {"note": "gift"}
    _paid_once(intent)
    assert intent.metadata == {"note": "gift"}
    versions = list(
        Event.objects.filter(object_id=intent.public_id)
        .order_by("id")
        .values_list("object_version", flat=True)
    )
    assert versions == sorted(versions) and len(set(versions)) == len(versions)


def test_a_confirm_refused_for_the_intent_as_read_gets_the_answer_for_it_as_it_is(
    merchant, pricing
):
    intent = payment_intent_create(
        merchant=merchant, livemode=False, amount=150_000, currency="idr"
    )
    read_by_the_view = _read(intent)
    payment_intent_confirm(intent=_read(intent), payment_method="pm_card_visa")

    from core.errors import StateConflictError

    with pytest.raises(StateConflictError, match="status of succeeded"):
        payment_intent_confirm(intent=read_by_the_view, payment_method="pm_card_mastercard")
    _paid_once(intent)
