"""Settlement reads, always scoped to one merchant and mode."""

from django.db.models import QuerySet

from core.errors import ResourceMissingError
from merchants.models import Merchant
from settlement.models import BalanceTransaction, Payout, SettlementBatch, SettlementLine


def balance_transaction_list(
    *,
    merchant: Merchant,
    livemode: bool,
    type: str | None = None,
    source: str | None = None,
    currency: str | None = None,
    payout: str | None = None,
) -> QuerySet:
    rows = BalanceTransaction.objects.filter(merchant=merchant, livemode=livemode)
    if type is not None:
        rows = rows.filter(type=type)
    if source is not None:
        rows = rows.filter(source=source)
    if currency is not None:
        rows = rows.filter(currency=currency)
    if payout is not None:
        # What an automatic payout paid out: the lines of its settlement batch (indexed by
        # batch; balance_transaction.settlement_batch is not).
        lines = SettlementLine.objects.filter(batch__payout__public_id=payout)
        rows = rows.filter(pk__in=lines.values("balance_transaction_id"))
    return rows


def balance_transaction_get(*, merchant: Merchant, livemode: bool, public_id: str):
    bt = BalanceTransaction.objects.filter(
        merchant=merchant, livemode=livemode, public_id=public_id
    ).first()
    if bt is None:
        raise ResourceMissingError(f"No such balance transaction: '{public_id}'", param="id")
    return bt


def payout_list(
    *, merchant: Merchant, livemode: bool, status: str | None = None, arrival_date=None
) -> QuerySet:
    rows = Payout.objects.filter(merchant=merchant, livemode=livemode).select_related(
        "destination", "balance_transaction", "failure_balance_transaction", "settlement_batch"
    )
    if status is not None:
        rows = rows.filter(status=status)
    return rows


def payout_get(*, merchant: Merchant, livemode: bool, public_id: str) -> Payout:
    payout = payout_list(merchant=merchant, livemode=livemode).filter(public_id=public_id).first()
    if payout is None:
        raise ResourceMissingError(f"No such payout: '{public_id}'", param="id")
    return payout


def settlement_batch_list(
    *, merchant: Merchant, livemode: bool, currency: str | None = None, day=None
) -> QuerySet:
    rows = SettlementBatch.objects.filter(merchant=merchant, livemode=livemode)
    if currency is not None:
        rows = rows.filter(currency=currency)
    if day is not None:
        rows = rows.filter(day=day)
    return rows.select_related("payout")


def settlement_batch_get(*, merchant: Merchant, livemode: bool, public_id: str):
    batch = settlement_batch_list(merchant=merchant, livemode=livemode).filter(public_id=public_id)
    found = batch.first()
    if found is None:
        raise ResourceMissingError(f"No such settlement batch: '{public_id}'", param="id")
    return found


def settlement_line_list(*, batch: SettlementBatch) -> QuerySet:
    """A batch's lines (the caller scoped the batch to its merchant and mode)."""
    return SettlementLine.objects.filter(batch=batch).select_related("balance_transaction")
