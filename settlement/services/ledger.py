"""Posting to the double-entry ledger (DESIGN.md §3).

Every function here runs inside the caller's transaction (the capture, refund or payout
that moved the money), so the money movement and its record commit or roll back together.

Signs: entries are debit positive, credit negative. The merchant's accounts are what the
gateway owes it, so its balances are credits: `balance = -SUM(amount)`.

capture G, fee F:   processor_receivable +G | pending -(G-F) | fee_revenue -F
refund R, fee r back: pending +(R-r) | fee_revenue +r | processor_receivable -R
settlement (net N): pending +N | available -N; and the processor's funding of what it
                    captured less refunds: bank +(G-R) | processor_receivable -(G-R)
payout A:           available +A | in_transit -A     (reversed on failure or cancel)
payout paid A:      in_transit +A | paid_out -A
"""

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass

from django.db import IntegrityError, transaction
from django.db.models import Q, Sum
from django.utils import timezone

from core import writes
from core.prepared import Prepared
from merchants.models import Merchant
from merchants.pricing import pricing_fee, pricing_plan_of
from settlement.calendar import settlement_date_for
from settlement.models import (
    AccountKind,
    BalanceTransaction,
    BalanceTransactionType,
    Journal,
    JournalEntry,
    LedgerAccount,
    UnsettledItem,
)


class UnbalancedJournalError(ValueError):
    """A journal whose entries do not sum to zero in some currency (a programming error)."""


@dataclass(frozen=True)
class Line:
    kind: str  # AccountKind
    amount: int  # debit positive, credit negative
    merchant_id: int | None = None  # None: a platform account


def ledger_accounts(
    *, merchant_id: int | None, livemode: bool, currency: str, kinds: list[str]
) -> dict[str, int]:
    """{kind: account id}, creating the accounts that do not exist yet."""
    found = dict(
        LedgerAccount.objects.filter(
            merchant_id=merchant_id, livemode=livemode, currency=currency, kind__in=kinds
        ).values_list("kind", "id")
    )
    for kind in kinds:
        if kind in found:
            continue
        try:
            with transaction.atomic():  # a savepoint: a racing creator may win
                found[kind] = LedgerAccount.objects.create(
                    merchant_id=merchant_id, livemode=livemode, currency=currency, kind=kind
                ).id
        except IntegrityError:
            found[kind] = LedgerAccount.objects.get(
                merchant_id=merchant_id, livemode=livemode, currency=currency, kind=kind
            ).id
    return found


def _accounts_query(*, livemode: bool, currency: str, shape: tuple, **owners: int):
    """The accounts of several owners: `shape` is ((is the platform, kinds), ...) and the
    merchant owners' ids are o0, o1, ... in its order."""
    wanted = Q()
    for index, (platform, kinds) in enumerate(shape):
        owned = Q(merchant_id__isnull=True) if platform else Q(merchant_id=owners[f"o{index}"])
        wanted |= owned & Q(kind__in=kinds)
    return LedgerAccount.objects.filter(wanted, livemode=livemode, currency=currency).values_list(
        "merchant_id", "kind", "id"
    )


_ACCOUNTS = Prepared(_accounts_query)


def _accounts_of(
    lines: list[Line], *, livemode: bool, currency: str
) -> dict[tuple[int | None, str], int]:
    """{(owner, kind): account id} for the lines: one query for the accounts of every owner
    (the merchant's and the platform's), then `ledger_accounts` for any still missing."""
    by_owner: dict[int | None, set[str]] = defaultdict(set)
    for line in lines:
        by_owner[line.merchant_id].add(line.kind)
    shape = tuple((owner is None, tuple(sorted(kinds))) for owner, kinds in by_owner.items())
    owners = {f"o{i}": owner for i, owner in enumerate(by_owner) if owner is not None}
    accounts = {
        (owner, kind): pk
        for owner, kind, pk in _ACCOUNTS.fetch(
            livemode=livemode, currency=currency, shape=shape, **owners
        )
    }
    for owner, kinds in by_owner.items():
        missing = sorted(kind for kind in kinds if (owner, kind) not in accounts)
        if missing:
            ids = ledger_accounts(
                merchant_id=owner, livemode=livemode, currency=currency, kinds=missing
            )
            accounts.update({(owner, kind): pk for kind, pk in ids.items()})
    return accounts


def journal_post(
    *,
    kind: str,
    reference: str,
    merchant_id: int | None,
    livemode: bool,
    currency: str,
    lines: list[Line],
    description: str = "",
    created_at: dt.datetime | None = None,
    first_posting: bool = False,
) -> tuple[Journal, bool]:
    """Write one balanced journal; (journal, created). Posting the same (kind, reference)
    again returns the first journal and writes nothing. `first_posting`: the caller knows
    nothing was posted under this reference (the look for it is skipped; the unique
    (kind, reference) still refuses a second journal).

    Raises UnbalancedJournalError before writing if the lines do not sum to zero (the only
    check on SQLite; on PostgreSQL the deferred trigger checks again at commit)."""
    existing = (
        None if first_posting else Journal.objects.filter(kind=kind, reference=reference).first()
    )
    if existing is not None:
        return existing, False
    lines = [line for line in lines if line.amount != 0]
    if sum(line.amount for line in lines) != 0:
        raise UnbalancedJournalError(f"{kind} {reference}: {lines}")
    journal = writes.insert(
        Journal(
            kind=kind,
            reference=reference,
            merchant_id=merchant_id,
            livemode=livemode,
            description=description[:255],
            created_at=created_at or timezone.now(),
        )
    )
    accounts = _accounts_of(lines, livemode=livemode, currency=currency)
    writes.insert_many(
        [
            JournalEntry(
                journal=journal,
                account_id=accounts[(line.merchant_id, line.kind)],
                currency=currency,
                amount=line.amount,
            )
            for line in lines
        ]
    )
    return journal, True


def _settlement_date(merchant: Merchant, moment: dt.datetime) -> dt.date:
    return settlement_date_for(
        moment, tz=merchant.timezone, cutoff_hour=merchant.settlement_cutoff_hour
    )


def _fee_details(fee: int, currency: str, description: str) -> list[dict]:
    if fee == 0:
        return []
    return [
        {"amount": fee, "currency": currency, "type": "gateway_fee", "description": description}
    ]


def ledger_post_capture(
    *,
    merchant: Merchant,
    livemode: bool,
    currency: str,
    amount: int,
    payment_method_type: str,
    source: str,
    reference: str,
    description: str = "",
    at: dt.datetime | None = None,
    first_posting: bool = False,
) -> BalanceTransaction:
    """Book a capture: the gross to the merchant's pending balance less the gateway's fee
    (merchant's pricing plan), the fee to fee revenue. Idempotent on `reference` (our
    processor reference of the capture). Call it in the capturing transaction. `at`: when
    it happened (now by default; set for backfills)."""
    fee, _ = pricing_fee(
        merchant=merchant,
        payment_method_type=payment_method_type,
        currency=currency,
        amount=amount,
    )
    now = at or timezone.now()
    m = merchant.pk
    journal, created = journal_post(
        kind="capture",
        reference=reference,
        merchant_id=m,
        livemode=livemode,
        currency=currency,
        lines=[
            Line(AccountKind.PROCESSOR_RECEIVABLE, amount),
            Line(AccountKind.PENDING, -(amount - fee), m),
            Line(AccountKind.FEE_REVENUE, -fee),
        ],
        description=f"capture {source}",
        created_at=now,
        first_posting=first_posting,
    )
    if not created:  # posted before (journal_post is idempotent on kind and reference)
        return BalanceTransaction.objects.get(journal=journal)
    day = _settlement_date(merchant, now)
    bt = BalanceTransaction(
        merchant=merchant,
        livemode=livemode,
        type=BalanceTransactionType.CHARGE,
        currency=currency,
        amount=amount,
        fee=fee,
        net=amount - fee,
        fee_details=_fee_details(fee, currency, "Gateway processing fees"),
        payment_method_type=payment_method_type,
        source=source,
        reference=reference,
        description=description[:255],
        journal=journal,
        settlement_date=day,
        available_on=day + dt.timedelta(days=1),
        created_at=now,
    )
    writes.insert(bt)
    _enqueue_for_settlement(bt)
    return bt


def ledger_post_refund(
    *,
    merchant: Merchant,
    livemode: bool,
    currency: str,
    amount: int,
    source: str,
    charge_source: str,
    reference: str,
    description: str = "",
    at: dt.datetime | None = None,
) -> BalanceTransaction:
    """Book a refund: taken from the merchant's pending balance (which may go negative;
    the next batch nets it). If the pricing plan returns fees on refunds, the charge's fee
    is returned pro rata, never more than it in total. Idempotent on `reference`."""
    existing = BalanceTransaction.objects.filter(
        journal__kind="refund", journal__reference=reference
    ).first()
    if existing is not None:
        return existing
    charge = (
        BalanceTransaction.objects.select_for_update()
        .filter(merchant=merchant, source=charge_source, type=BalanceTransactionType.CHARGE)
        .first()
    )
    returned = 0
    plan = pricing_plan_of(merchant) if charge is not None and charge.fee else None
    if charge is not None and plan is not None and plan.refund_returns_fee and charge.fee:
        before = charge.children.aggregate(refunded=Sum("amount"), fees=Sum("fee"))
        refunded_after = -(before["refunded"] or 0) + amount
        returned_before = -(before["fees"] or 0)
        returned = min(charge.fee, charge.fee * refunded_after // charge.amount) - returned_before
        returned = max(0, returned)
    now = at or timezone.now()
    m = merchant.pk
    journal, _ = journal_post(
        kind="refund",
        reference=reference,
        merchant_id=m,
        livemode=livemode,
        currency=currency,
        lines=[
            Line(AccountKind.PENDING, amount - returned, m),
            Line(AccountKind.FEE_REVENUE, returned),
            Line(AccountKind.PROCESSOR_RECEIVABLE, -amount),
        ],
        description=f"refund {source}",
        created_at=now,
    )
    day = _settlement_date(merchant, now)
    bt = BalanceTransaction(
        merchant=merchant,
        livemode=livemode,
        type=BalanceTransactionType.REFUND,
        currency=currency,
        amount=-amount,
        fee=-returned,
        net=-(amount - returned),
        fee_details=_fee_details(-returned, currency, "Gateway fees returned on refund"),
        source=source,
        reference=reference,
        description=(description or f"REFUND FOR CHARGE ({charge_source})")[:255],
        journal=journal,
        settlement_date=day,
        available_on=day + dt.timedelta(days=1),
        parent=charge,
        created_at=now,
    )
    writes.insert(bt)
    _enqueue_for_settlement(bt)
    return bt


def _enqueue_for_settlement(bt: BalanceTransaction) -> None:
    """Queue a pending charge or refund for its settlement batch (the caller's
    transaction: it is queued if and only if it was posted)."""
    item = UnsettledItem(
        balance_transaction=bt,
        merchant_id=bt.merchant_id,
        livemode=bt.livemode,
        currency=bt.currency,
        settlement_date=bt.settlement_date,
        type=bt.type,
        amount=bt.amount,
        fee=bt.fee,
        net=bt.net,
        source=bt.source,
        reference=bt.reference,
        payment_method_type=bt.payment_method_type,
    )
    writes.insert(item)


def merchant_balances(*, merchant: Merchant, livemode: bool) -> dict[str, dict[str, int]]:
    """{currency: {account kind: balance}} of the merchant's accounts, from their entries
    (credits positive: what the gateway owes the merchant)."""
    rows = (
        JournalEntry.objects.filter(account__merchant=merchant, account__livemode=livemode)
        .values("account__currency", "account__kind")
        .annotate(total=Sum("amount"))
    )
    result: dict[str, dict[str, int]] = defaultdict(dict)
    for row in rows:
        result[row["account__currency"]][row["account__kind"]] = -row["total"]
    return dict(result)


def merchant_fee_totals(*, merchant: Merchant, livemode: bool) -> dict[str, int]:
    """{currency: fees the merchant paid, net of fees returned} from the fee revenue entries
    of the merchant's journals."""
    rows = (
        JournalEntry.objects.filter(
            journal__merchant=merchant,
            account__livemode=livemode,
            account__kind=AccountKind.FEE_REVENUE,
        )
        .values("currency")
        .annotate(total=Sum("amount"))
    )
    return {row["currency"]: -row["total"] for row in rows}


def available_balances(*, keys: list[tuple[int, bool, str]]) -> dict[tuple[int, bool, str], int]:
    """{(merchant_id, livemode, currency): available balance} for the given keys, in one
    query."""
    merchant_ids = {k[0] for k in keys}
    rows = (
        JournalEntry.objects.filter(
            account__merchant_id__in=merchant_ids, account__kind=AccountKind.AVAILABLE
        )
        .values("account__merchant_id", "account__livemode", "account__currency")
        .annotate(total=Sum("amount"))
    )
    wanted = set(keys)
    result = {}
    for row in rows:
        key = (row["account__merchant_id"], row["account__livemode"], row["account__currency"])
        if key in wanted:
            result[key] = -row["total"]
    return result


def account_balance(*, account_id: int) -> int:
    """One account's balance, credits positive."""
    total = JournalEntry.objects.filter(account_id=account_id).aggregate(t=Sum("amount"))["t"]
    return -(total or 0)
