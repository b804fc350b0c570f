"""Refunds of local-method payments (issue #6).

E-wallets refund through the provider's API like cards (payments.services.refunds): GoPay
and ShopeePay any part of what is left, OVO and DANA only the whole payment. Virtual
accounts and QRIS have no refund API: the money goes back by a bank payout to an account
the merchant gives with the refund (`destination[bank]`, `destination[account_number]`,
`destination[account_holder_name]`); the refund stays pending until the bank has paid it.
"""

import datetime as dt
import re

from django.db import transaction
from django.utils import timezone

from core.errors import InvalidRequestError
from payments.connectors import get_connector
from payments.models import Charge, Refund, Transaction, TransactionStatus
from payments.services.local_methods import BANKS

FULL_REFUNDS_ONLY = {"ovo", "dana"}
BY_PAYOUT = {"bank_transfer", "qris"}
_ACCOUNT = re.compile(r"^\d{6,20}$")


def _method(charge: Charge) -> str:
    return charge.payment_method_details.get("type", "card")


def refund_check(*, charge: Charge, amount: int, destination: dict | None) -> None:
    """Refuse, before anything is written, what the method cannot refund."""
    method = _method(charge)
    if destination and method not in BY_PAYOUT:
        raise InvalidRequestError(
            "destination is only for refunds of bank_transfer and qris payments; "
            f"this {method} payment is refunded to where it came from.",
            code="parameter_unknown",
            param="destination",
        )
    if method in FULL_REFUNDS_ONLY and (charge.amount_refunded or amount != charge.amount_captured):
        raise InvalidRequestError(
            f"{method} refunds only the whole payment ({charge.amount_captured}), once.",
            code="refund_partial_not_supported",
            param="amount",
        )
    if method not in BY_PAYOUT:
        return
    destination = destination or {}
    for field in ("bank", "account_number", "account_holder_name"):
        if not destination.get(field):
            raise InvalidRequestError(
                f"A {method} payment is refunded by a bank transfer: give destination[{field}].",
                code="parameter_missing",
                param=f"destination[{field}]",
            )
    if destination["bank"] not in BANKS:
        raise InvalidRequestError(
            f"destination[bank] must be one of {', '.join(BANKS)}.",
            code="parameter_invalid_string",
            param="destination[bank]",
        )
    if not _ACCOUNT.match(destination["account_number"]):
        raise InvalidRequestError(
            "destination[account_number] must be 6 to 20 digits.",
            code="parameter_invalid_string",
            param="destination[account_number]",
        )


def refund_prepare(*, refund: Refund, destination: dict | None) -> bool:
    """In the refund's creating transaction: keep a payout refund's destination. True when
    the refund goes by payout (then enqueue it with refund_payout_enqueue)."""
    if _method(refund.charge) not in BY_PAYOUT:
        return False
    refund.destination = {
        "bank": destination["bank"],
        "account_number": destination["account_number"],
        "account_holder_name": destination["account_holder_name"],
    }
    refund.save(update_fields=["destination", "updated_at"])
    return True


def refund_payout_enqueue(*, transaction_: Transaction) -> None:
    """Send the payout once the refund (and its refund.created event) has committed."""
    from payments.tasks import send_refund_payout

    send_refund_payout.delay_on_commit(transaction_.pk)


def refund_payout_send(*, transaction_pk: int) -> str:
    """Phase 2 and 3 of a payout refund: the bank is asked to pay the customer's account
    under the refund Transaction's reference (the bank answers a repeat with the first
    payout), then the refund succeeds or fails through apply_refund_result."""
    from payments.services.refunds import apply_refund_result

    txn = Transaction.objects.select_related("refund").get(pk=transaction_pk)
    if txn.status != TransactionStatus.PENDING or txn.refund is None:
        return txn.status
    account = txn.refund.destination
    result = get_connector(txn.connector).create_payout(
        reference=txn.public_id,
        amount=txn.amount,
        currency=txn.currency,
        bank_code=account["bank"],
        account_number=account["account_number"],
        account_holder_name=account["account_holder_name"],
    )
    apply_refund_result(transaction_pk=txn.pk, result=result)
    txn.refresh_from_db(fields=["status"])
    return txn.status


def render_destination_details(refund: Refund) -> dict | None:
    """Stripe-like destination_details of a payout refund; the account number is masked."""
    if not refund.destination:
        return None
    account = refund.destination
    return {
        "type": "bank_transfer",
        "bank_transfer": {
            "bank": account["bank"],
            "account_number_last4": account["account_number"][-4:],
            "account_holder_name": account["account_holder_name"],
            "reference_status": {"pending": "pending", "succeeded": "available"}.get(
                refund.status, "unavailable"
            ),
        },
    }


def refunds_resend_stranded(*, limit: int = 200) -> int:
    """Payout refunds whose task was lost (still pending, never answered): send again."""
    from payments.tasks import send_refund_payout

    cutoff = timezone.now() - dt.timedelta(minutes=1)
    ids = list(
        Transaction.objects.filter(
            kind="refund",
            created_at__lt=cutoff,
            connector__in=["sandbox_local"],
            status=TransactionStatus.PENDING,
            processor_reference="",
            refund__destination__isnull=False,
        ).values_list("pk", flat=True)[:limit]
    )
    with transaction.atomic():
        for pk in ids:
            send_refund_payout.delay_on_commit(pk)
    return len(ids)
