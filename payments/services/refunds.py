"""Refunds. The sum of non-failed refunds of a charge never exceeds what was captured, even
under concurrent requests: a refund reserves its amount in charge.amount_refunded under the
charge's row lock before the processor is called (and a database constraint backs it), and
gives it back if the processor refuses."""

from django.db import transaction
from django.db.models import F

from core import writes
from core.api.serializers import metadata_initial, metadata_merge
from core.errors import InvalidRequestError
from core.money import validate_amount
from payments.connectors import get_connector
from payments.connectors.base import ConnectorResult, Outcome
from payments.models import (
    Charge,
    PaymentIntent,
    PaymentIntentStatus,
    Refund,
    RefundReason,
    RefundStatus,
    Transaction,
    TransactionKind,
    TransactionStatus,
)
from payments.render import render_charge, render_refund
from settlement.services.ledger import ledger_post_refund
from webhooks.services import EventSpec, events_create


def _refund_event(refund: Refund, type_: str, previous: dict | None = None) -> EventSpec:
    return EventSpec(
        type=f"refund.{type_}",
        object_id=refund.public_id,
        object_version=refund.version,
        obj=render_refund(refund),
        previous_attributes=previous,
    )


def _emit_refund(refund: Refund, type_: str, previous: dict | None = None) -> None:
    events_create(
        merchant=refund.merchant,
        livemode=refund.livemode,
        specs=[_refund_event(refund, type_, previous)],
    )


def _charge_refunded_event(charge: Charge) -> EventSpec:
    return EventSpec(
        type="charge.refunded",
        object_id=charge.public_id,
        object_version=charge.version,
        obj=render_charge(charge),
    )


def refund_create(
    *,
    charge: Charge | None = None,
    payment_intent: PaymentIntent | None = None,
    amount: object = None,
    reason: str | None = None,
    metadata: dict | None = None,
    destination: dict | None = None,
) -> Refund:
    """Refund all or part of a captured charge (or of a payment intent's charge).
    `destination`: the customer's bank account for virtual account and QRIS payments,
    which are refunded by a bank payout (payments.services.local_refunds)."""
    from payments.services import local_refunds

    if reason and reason not in RefundReason.values:
        raise InvalidRequestError(
            "Invalid reason: must be one of duplicate, fraudulent, or requested_by_customer",
            code="parameter_invalid_string",
            param="reason",
        )
    with transaction.atomic():
        if charge is None:
            intent = PaymentIntent.objects.select_for_update().get(pk=payment_intent.pk)
            if intent.status != PaymentIntentStatus.SUCCEEDED or not intent.latest_charge_id:
                raise InvalidRequestError(
                    f"This PaymentIntent ({intent.public_id}) does not have a successful charge "
                    "to refund.",
                    code="charge_not_refundable" if intent.latest_charge_id else "resource_missing",
                    param="payment_intent",
                )
            charge_pk = intent.latest_charge_id
        else:
            # The intent first here too (as in the payment_intent path and in capture and
            # cancel): a refund's insert waits for a locked intent, so two refunds naming one
            # payment in the two ways would deadlock if they took the locks in other orders.
            PaymentIntent.objects.select_for_update().get(pk=charge.payment_intent_id)
            charge_pk = charge.pk
        charge = (
            Charge.objects.select_for_update(of=("self",))
            .select_related("payment_intent", "merchant", "payment_method")
            .get(pk=charge_pk)
        )
        if not charge.captured:
            raise InvalidRequestError(
                f"Charge {charge.public_id} has not been captured and cannot be refunded; "
                "cancel its PaymentIntent instead.",
                code="charge_not_refundable",
                param="charge",
            )
        remaining = charge.amount_captured - charge.amount_refunded
        if amount in (None, ""):
            value = remaining
            if value <= 0:
                raise InvalidRequestError(
                    f"Charge {charge.public_id} has already been refunded.",
                    code="charge_already_refunded",
                    param="charge",
                )
        else:
            value = validate_amount(amount, currency=charge.currency)
            if value > remaining:
                raise InvalidRequestError(
                    f"Refund amount ({value}) is greater than unrefunded amount on charge "
                    f"({remaining})",
                    code="amount_too_large",
                    param="amount",
                )
        local_refunds.refund_check(charge=charge, amount=value, destination=destination)
        # Under the charge's row lock, so a plain read-modify-write is safe; the database's
        # amount_refunded <= amount_captured constraint stands behind it.
        charge.amount_refunded += value
        charge.version += 1
        charge.save(update_fields=["amount_refunded", "version", "updated_at"])
        refund = Refund.objects.create(
            merchant=charge.merchant,
            livemode=charge.livemode,
            charge=charge,
            payment_intent=charge.payment_intent,
            amount=value,
            currency=charge.currency,
            reason=reason or "",
            metadata=metadata_initial(metadata),
        )
        capture = (
            charge.transactions.filter(
                kind__in=[TransactionKind.CAPTURE, TransactionKind.AUTHORIZE],
                status=TransactionStatus.SUCCEEDED,
            )
            .order_by("-id")
            .first()
        )
        txn = Transaction.objects.create(
            merchant=charge.merchant,
            livemode=charge.livemode,
            kind=TransactionKind.REFUND,
            connector=capture.connector,
            payment_intent=charge.payment_intent,
            charge=charge,
            refund=refund,
            amount=value,
            currency=charge.currency,
            parent=capture,
        )
        by_payout = local_refunds.refund_prepare(refund=refund, destination=destination)
        _emit_refund(refund, "created")
        if by_payout:
            local_refunds.refund_payout_enqueue(transaction_=txn)
    if by_payout:  # pending until the bank has paid the customer's account
        return refund
    result = get_connector(txn.connector).refund(
        reference=txn.public_id,
        capture_reference=capture.processor_reference,
        amount=value,
        currency=charge.currency,
    )
    return apply_refund_result(transaction_pk=txn.pk, result=result)


def apply_refund_result(*, transaction_pk: int, result: ConnectorResult) -> Refund:
    """Phase 3 of a refund, also used by inquiry: idempotent (a final transaction changes
    nothing). Its writes go as one batch (core.writes)."""
    with transaction.atomic(), writes.write_batch():
        txn = Transaction.objects.select_for_update().get(pk=transaction_pk)
        refund = (
            Refund.objects.select_for_update(of=("self",))
            .select_related("merchant", "charge", "payment_intent")
            .get(pk=txn.refund_id)
        )
        if txn.status in (TransactionStatus.SUCCEEDED, TransactionStatus.FAILED):
            return refund
        from payments.services.payment_intents import _record, _schedule_inquiry

        _record(txn, result)
        charge = (
            Charge.objects.select_for_update(of=("self",))
            .select_related("payment_intent", "payment_method", "merchant")
            .get(pk=txn.charge_id)
        )
        previous = {"status": refund.status}
        if result.outcome == Outcome.SUCCEEDED:
            refund.status = RefundStatus.SUCCEEDED
            refund.version += 1
            writes.save(refund, update_fields=["status", "version", "updated_at"])
            ledger_post_refund(
                merchant=charge.merchant,
                livemode=refund.livemode,
                currency=refund.currency,
                amount=refund.amount,
                source=refund.public_id,
                charge_source=charge.public_id,
                reference=txn.public_id,
            )
            events_create(
                merchant=refund.merchant,
                livemode=refund.livemode,
                specs=[_charge_refunded_event(charge), _refund_event(refund, "updated", previous)],
            )
        elif result.outcome in (Outcome.DECLINED, Outcome.TRANSIENT):
            refund.status = RefundStatus.FAILED
            refund.failure_reason = result.decline_code or result.code or "unknown"
            refund.version += 1
            writes.save(refund, update_fields=["status", "failure_reason", "version", "updated_at"])
            Charge.objects.filter(pk=charge.pk).update(
                amount_refunded=F("amount_refunded") - refund.amount, version=F("version") + 1
            )
            _emit_refund(refund, "failed", previous)
        else:
            _schedule_inquiry(txn)
    refund.charge = charge
    return refund


def refund_update(*, refund: Refund, metadata: dict) -> Refund:
    with transaction.atomic():
        refund = (
            Refund.objects.select_for_update(of=("self",))
            .select_related("merchant", "charge", "payment_intent")
            .get(pk=refund.pk)
        )
        merged = metadata_merge(refund.metadata, metadata)
        if merged != refund.metadata:
            previous = {"metadata": refund.metadata}
            refund.metadata = merged
            refund.version += 1
            refund.save(update_fields=["metadata", "version", "updated_at"])
            _emit_refund(refund, "updated", previous)
    return refund
