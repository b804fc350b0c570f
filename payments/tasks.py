import datetime as dt

from celery import shared_task
from django.db.models import Q
from django.utils import timezone

from payments.models import PaymentIntentStatus, Transaction, TransactionKind, TransactionStatus
from payments.services.payment_intents import (
    payment_intent_cancel_expired_authorizations,
    transaction_resolve,
)

# How long a customer may take over a 3-D Secure challenge before the sweeper asks the
# issuer how it went.
CUSTOMER_ACTION_GRACE = dt.timedelta(minutes=5)


@shared_task(name="payments.resolve_transaction", bind=True, max_retries=12)
def resolve_transaction(self, transaction_id: int, retry: bool = True) -> None:
    """Inquire an unknown or pending transaction until the processor says how it ended
    (`retry=False`: ask once; the sweeper asks again on its next round)."""
    status = transaction_resolve(transaction_pk=transaction_id)
    if retry and status in (TransactionStatus.UNKNOWN, TransactionStatus.PENDING):
        # Backoff with jitter: 4 s, 8 s, ... capped at 10 min; the sweeper catches stragglers.
        delay = min(600, 2 ** (self.request.retries + 2))
        raise self.retry(countdown=delay)


@shared_task(name="payments.sweep_unknown_transactions")
def sweep_unknown_transactions(now_iso: str | None = None) -> int:
    """Enqueue an inquiry for every transaction whose end we have not seen: unknown ones
    older than a minute (the per-transaction task may have been lost with a worker or the
    broker), and pending ones older than two minutes, which is what a web worker killed
    between the processor's answer and our commit leaves behind (past the connector's
    timeout nothing can still be in flight).

    Intents waiting for the customer (3-D Secure) are asked about once a round after five
    minutes, without retries: a customer who finished the challenge but never came back to
    the return page (closed the tab) would otherwise leave the intent requires_action while
    the issuer holds the money, and a challenge left open ends as the issuer ends it
    (failed authentication, back to requires_payment_method)."""
    now = dt.datetime.fromisoformat(now_iso) if now_iso else timezone.now()
    stale = Q(status=TransactionStatus.UNKNOWN, updated_at__lt=now - dt.timedelta(minutes=1)) | Q(
        status=TransactionStatus.PENDING, updated_at__lt=now - dt.timedelta(minutes=2)
    )
    transactions = Transaction.objects.exclude(
        kind__in=[TransactionKind.INQUIRY, TransactionKind.PAYOUT]  # payouts: settlement
    )
    ids = list(
        transactions.filter(stale)
        .exclude(payment_intent__status=PaymentIntentStatus.REQUIRES_ACTION)
        .values_list("pk", flat=True)[:1000]
    )
    waiting = list(
        transactions.filter(
            kind=TransactionKind.AUTHORIZE,
            status=TransactionStatus.PENDING,
            payment_intent__status=PaymentIntentStatus.REQUIRES_ACTION,
            updated_at__lt=now - CUSTOMER_ACTION_GRACE,
        ).values_list("pk", flat=True)[:1000]
    )
    for pk in ids:
        resolve_transaction.delay(pk)
    for pk in waiting:
        resolve_transaction.delay(pk, retry=False)
    return len(ids) + len(waiting)


@shared_task(name="payments.cancel_expired_authorizations")
def cancel_expired_authorizations() -> int:
    return payment_intent_cancel_expired_authorizations()


@shared_task(name="payments.sweep_checkout_sessions")
def sweep_checkout_sessions() -> dict:
    """Complete open checkout sessions whose payment went through unseen; expire the ones
    past expires_at (each with its event)."""
    from payments.services.checkout import checkout_sessions_sweep

    return checkout_sessions_sweep()


@shared_task(name="payments.sweep_local_payments")
def sweep_local_payments() -> dict:
    """Beat: inquire about local-method payments whose callback has not come, and close
    the expired ones (their intents are canceled with cancellation_reason expired)."""
    from payments.services.local_methods import local_payments_sweep
    from payments.services.local_refunds import refunds_resend_stranded

    counts = local_payments_sweep()
    counts["refund_payouts_resent"] = refunds_resend_stranded()
    return counts


@shared_task(name="payments.send_refund_payout", ignore_result=True)
def send_refund_payout(transaction_id: int) -> str:
    """The bank payout of a virtual account or QRIS refund (idempotent on its reference)."""
    from payments.services.local_refunds import refund_payout_send

    return refund_payout_send(transaction_pk=transaction_id)
