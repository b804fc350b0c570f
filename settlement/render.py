"""The API's shape of settlement objects (Stripe's balance, balance_transaction, payout;
our settlement_batch and its lines)."""

import calendar
import datetime as dt

from settlement.models import BalanceTransaction, Payout, SettlementBatch, SettlementLine

_REPORTING_CATEGORY = {
    "charge": "charge",
    "refund": "refund",
    "payout": "payout",
    "payout_failure": "payout_reversal",
    "payout_cancel": "payout_reversal",
    "adjustment": "other_adjustment",
}


def _unix(moment: dt.datetime) -> int:
    return int(moment.timestamp())


def _unix_date(day: dt.date) -> int:
    """A date as Stripe renders it: midnight UTC of that day, in unix seconds."""
    return calendar.timegm(day.timetuple())


def render_balance(*, balances: dict[str, dict[str, int]], livemode: bool, default: str) -> dict:
    currencies = sorted(balances) or [default]

    def entries(kind: str) -> list[dict]:
        return [
            {
                "amount": balances.get(c, {}).get(kind, 0),
                "currency": c,
                "source_types": {"card": balances.get(c, {}).get(kind, 0)},
            }
            for c in currencies
        ]

    return {
        "object": "balance",
        "available": entries("available"),
        "pending": entries("pending"),
        "in_transit": [
            {"amount": balances.get(c, {}).get("in_transit", 0), "currency": c} for c in currencies
        ],
        "livemode": livemode,
    }


def render_balance_transaction(bt: BalanceTransaction) -> dict:
    return {
        "id": bt.public_id,
        "object": "balance_transaction",
        "amount": bt.amount,
        "available_on": _unix_date(bt.available_on),
        "created": _unix(bt.created_at),
        "currency": bt.currency,
        "description": bt.description or None,
        "exchange_rate": None,
        "fee": bt.fee,
        "fee_details": bt.fee_details,
        "net": bt.net,
        "reporting_category": _REPORTING_CATEGORY.get(bt.type, "other_adjustment"),
        "source": bt.source or None,
        "status": bt.status,
        "type": bt.type,
        "livemode": bt.livemode,
    }


def render_payout(payout: Payout) -> dict:
    return {
        "id": payout.public_id,
        "object": "payout",
        "amount": payout.amount,
        "arrival_date": _unix_date(payout.arrival_date),
        "automatic": payout.automatic,
        "balance_transaction": payout.balance_transaction.public_id
        if payout.balance_transaction_id
        else None,
        "created": _unix(payout.created_at),
        "currency": payout.currency,
        "description": payout.description or None,
        "destination": payout.destination.public_id,
        "failure_balance_transaction": payout.failure_balance_transaction.public_id
        if payout.failure_balance_transaction_id
        else None,
        "failure_code": payout.failure_code or None,
        "failure_message": payout.failure_message or None,
        "livemode": payout.livemode,
        "metadata": payout.metadata,
        "method": "standard",
        "settlement_batch": payout.settlement_batch.public_id
        if payout.settlement_batch_id
        else None,
        "source_type": "card",
        "statement_descriptor": None,
        "status": payout.status,
        "type": "bank_account",
    }


def _batch_status(batch: SettlementBatch) -> str:
    """settled: in the available balance (no payout, or its payout failed or was
    canceled); in_transit: its payout is pending or on its way; paid: it reached the bank."""
    payout = getattr(batch, "payout", None)
    if payout is None or payout.status in ("failed", "canceled"):
        return "settled"
    return "paid" if payout.status == "paid" else "in_transit"


def render_settlement_batch(batch: SettlementBatch) -> dict:
    payout = getattr(batch, "payout", None)
    return {
        "id": batch.public_id,
        "object": "settlement_batch",
        "count": batch.count,
        "created": _unix(batch.created_at),
        "currency": batch.currency,
        "date": batch.day.isoformat(),
        "fees": batch.fee_amount,
        "gross": batch.gross_amount,
        "livemode": batch.livemode,
        "net": batch.net_amount,
        "payout": payout.public_id if payout is not None else None,
        "refunds": batch.refund_amount,
        "status": _batch_status(batch),
    }


def render_settlement_line(line: SettlementLine, *, batch: SettlementBatch) -> dict:
    return {
        "object": "settlement_batch_line",
        "amount": line.amount,
        "balance_transaction": line.balance_transaction.public_id,
        "currency": batch.currency,
        "fee": line.fee,
        "net": line.net,
        "reference": line.reference or None,
        "settlement_batch": batch.public_id,
        "source": line.source or None,
        "type": line.type,
    }
