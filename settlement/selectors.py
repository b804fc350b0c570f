"""Settlement reads, always scoped to one merchant and mode."""

from django.db.models import QuerySet

from core.errors import ResourceMissingError
from merchants.models import Merchant
from settlement.models import BalanceTransaction, Payout, SettlementBatch


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
        # What an automatic payout paid out: the lines of its settlement batch.
        rows = rows.filter(settlement_batch__payout__public_id=payout)
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


def settlement_batch_list(*, merchant: Merchant, livemode: bool) -> QuerySet:
    return SettlementBatch.objects.filter(merchant=merchant, livemode=livemode)


def settlement_batch_get(*, merchant: Merchant, livemode: bool, public_id: str):
    batch = settlement_batch_list(merchant=merchant, livemode=livemode).filter(public_id=public_id)
    found = batch.first()
    if found is None:
        raise ResourceMissingError(f"No such settlement batch: '{public_id}'", param="id")
    return found
