"""Payouts (DESIGN.md §4, §9): pending -> in_transit -> paid | failed, or canceled while
pending. Creating one moves its amount from available to in transit; paid moves it to paid
out; failed or canceled moves it back to available.

Sending follows STYLE.md's three phases: (1) one transaction locks the payout, records a
payments.Transaction (kind payout) whose public id is our reference at the bank and marks the
payout in_transit; (2) the bank is called with no transaction open; (3) one transaction
records the answer. The bank is idempotent on our reference, so a lost answer is resolved by
inquiry (or by resending under the same reference), never by a second payout.

payments is imported lazily, inside the functions that send: the processor trail
(Transaction) and the connectors live in payments, which itself imports settlement for the
ledger postings, so a module-level import would be circular and against the layering.
"""

import datetime as dt
import logging

from django.db import transaction
from django.utils import timezone

from core.api.serializers import metadata_initial
from core.errors import InvalidRequestError, StateConflictError
from merchants.models import BankAccount, Merchant
from settlement.calendar import add_business_days
from settlement.models import (
    PAYOUT_TRANSITIONS,
    AccountKind,
    BalanceTransaction,
    BalanceTransactionStatus,
    BalanceTransactionType,
    LedgerAccount,
    Payout,
    PayoutStatus,
    SettlementBatch,
    new_po_id,
)
from settlement.render import render_payout
from settlement.services.ledger import Line, account_balance, journal_post, ledger_accounts
from webhooks.services import event_create

logger = logging.getLogger(__name__)
CONNECTOR = "sandbox"


def _emit(payout: Payout, type_: str, previous: dict | None = None) -> None:
    event_create(
        merchant=payout.merchant,
        livemode=payout.livemode,
        type=f"payout.{type_}",
        object_id=payout.public_id,
        object_version=payout.version,
        obj=render_payout(payout),
        previous_attributes=previous,
    )


def _move(payout: Payout, status: str) -> dict:
    if status not in PAYOUT_TRANSITIONS[payout.status]:
        raise StateConflictError(
            f"This payout's status is {payout.status}; it cannot become {status}.",
            code="payout_unexpected_state",
        )
    previous = {"status": payout.status}
    payout.status = status
    payout.version += 1
    return previous


def _locked(payout_pk: int) -> Payout:
    list(Payout.objects.select_for_update().filter(pk=payout_pk).values_list("pk"))
    return Payout.objects.select_related(
        "merchant",
        "destination",
        "balance_transaction",
        "failure_balance_transaction",
        "settlement_batch",
    ).get(pk=payout_pk)


def _balance_transaction(
    payout: Payout, *, type_: str, amount: int, journal, description: str
) -> BalanceTransaction:
    today = timezone.localdate()
    return BalanceTransaction.objects.create(
        merchant=payout.merchant,
        livemode=payout.livemode,
        type=type_,
        status=BalanceTransactionStatus.AVAILABLE,
        currency=payout.currency,
        amount=amount,
        fee=0,
        net=amount,
        source=payout.public_id,
        reference=payout.public_id,
        description=description,
        journal=journal,
        settlement_date=today,
        available_on=today,
    )


def payout_create(
    *,
    merchant: Merchant,
    livemode: bool,
    amount: int,
    currency: str,
    description: str = "",
    metadata: dict | None = None,
    automatic: bool = False,
    settlement_batch: SettlementBatch | None = None,
    arrival_date: dt.date | None = None,
) -> Payout:
    """Pay `amount` of the available balance out to the merchant's bank account for the
    currency: available -> in transit at once, sent to the bank on the arrival date.

    Concurrent payouts of one merchant and currency are serialized by a lock on its
    available account, so together they never take more than is available."""
    currency = currency.lower()
    with transaction.atomic():
        destination = BankAccount.objects.filter(merchant=merchant, currency=currency).first()
        if destination is None:
            raise InvalidRequestError(
                f"You have no bank account for {currency}; add one before creating payouts.",
                code="no_external_account",
                param="currency",
            )
        accounts = ledger_accounts(
            merchant_id=merchant.pk,
            livemode=livemode,
            currency=currency,
            kinds=[AccountKind.AVAILABLE, AccountKind.IN_TRANSIT],
        )
        list(
            LedgerAccount.objects.select_for_update()
            .filter(pk=accounts[AccountKind.AVAILABLE])
            .values_list("pk")
        )
        available = account_balance(account_id=accounts[AccountKind.AVAILABLE])
        if amount > available:
            raise InvalidRequestError(
                f"You have insufficient funds in your available balance: {available} "
                f"{currency} available, {amount} requested.",
                code="balance_insufficient",
                param="amount",
            )
        if arrival_date is None:
            local_today = timezone.localdate(timezone=_zone(merchant.timezone))
            arrival_date = add_business_days(
                local_today, merchant.payout_delay_days, country=merchant.country
            )
        public_id = new_po_id()
        journal, _ = journal_post(
            kind="payout",
            reference=public_id,
            merchant_id=merchant.pk,
            livemode=livemode,
            currency=currency,
            lines=[
                Line(AccountKind.AVAILABLE, amount, merchant.pk),
                Line(AccountKind.IN_TRANSIT, -amount, merchant.pk),
            ],
            description=f"payout {public_id}",
        )
        payout = Payout(
            public_id=public_id,
            merchant=merchant,
            livemode=livemode,
            amount=amount,
            currency=currency,
            automatic=automatic,
            arrival_date=arrival_date,
            destination=destination,
            description=description,
            metadata=metadata_initial(metadata),
            settlement_batch=settlement_batch,
        )
        payout.balance_transaction = _balance_transaction(
            payout,
            type_=BalanceTransactionType.PAYOUT,
            amount=-amount,
            journal=journal,
            description=description or "GATEWAY PAYOUT",
        )
        payout.save()
        _emit(payout, "created")
    return payout


def _zone(name: str):
    from zoneinfo import ZoneInfo

    return ZoneInfo(name)


def _return_to_available(payout: Payout, *, kind: str, bt_type: str, description: str) -> None:
    journal, _ = journal_post(
        kind=kind,
        reference=payout.public_id,
        merchant_id=payout.merchant_id,
        livemode=payout.livemode,
        currency=payout.currency,
        lines=[
            Line(AccountKind.IN_TRANSIT, payout.amount, payout.merchant_id),
            Line(AccountKind.AVAILABLE, -payout.amount, payout.merchant_id),
        ],
        description=f"{kind} {payout.public_id}",
    )
    payout.failure_balance_transaction = _balance_transaction(
        payout, type_=bt_type, amount=payout.amount, journal=journal, description=description
    )


def payout_cancel(*, payout: Payout) -> Payout:
    """Cancel a payout not yet sent (pending): its money goes back to available."""
    with transaction.atomic():
        payout = _locked(payout.pk)
        if payout.status != PayoutStatus.PENDING:
            raise StateConflictError(
                f"Payouts can only be canceled while pending; this one is {payout.status}.",
                code="payout_not_cancelable",
            )
        previous = _move(payout, PayoutStatus.CANCELED)
        _return_to_available(
            payout,
            kind="payout_cancel",
            bt_type=BalanceTransactionType.PAYOUT_CANCEL,
            description=f"Cancel of payout {payout.public_id}",
        )
        payout.save()
        _emit(payout, "canceled", previous)
    return payout


# --- sending ---------------------------------------------------------------------------


def payout_send(*, payout_pk: int):
    """Send a pending payout to the bank (phases 1-3). Returns the payout. A payout no
    longer pending is left alone (idempotent)."""
    from payments.connectors import get_connector
    from payments.models import Transaction, TransactionKind

    with transaction.atomic():
        payout = _locked(payout_pk)
        if payout.status != PayoutStatus.PENDING:
            return payout
        txn = Transaction.objects.create(
            merchant=payout.merchant,
            livemode=payout.livemode,
            kind=TransactionKind.PAYOUT,
            connector=CONNECTOR,
            amount=payout.amount,
            currency=payout.currency,
            raw={"payout": payout.public_id},
        )
        previous = _move(payout, PayoutStatus.IN_TRANSIT)
        payout.transaction_reference = txn.public_id
        payout.save()
        _emit(payout, "updated", previous)
    result = _call_bank(get_connector(CONNECTOR), payout)
    return payout_apply_result(payout_pk=payout.pk, result=result)


def _call_bank(connector, payout: Payout):
    account = payout.destination
    return connector.create_payout(
        reference=payout.transaction_reference,
        amount=payout.amount,
        currency=payout.currency,
        bank_code=account.bank_code,
        account_number=account.account_number,
        account_holder_name=account.account_holder_name,
    )


def payout_apply_result(*, payout_pk: int, result) -> Payout:
    """Phase 3: record the bank's answer. paid -> payout.paid; declined -> failed, the
    money back to available, payout.failed; anything else stays in transit (a sweeper
    inquires). Idempotent: a payout already paid or failed is not changed."""
    from payments.connectors.base import Outcome
    from payments.models import Transaction, TransactionStatus

    status = {
        Outcome.SUCCEEDED: TransactionStatus.SUCCEEDED,
        Outcome.DECLINED: TransactionStatus.FAILED,
        Outcome.TRANSIENT: TransactionStatus.FAILED,
        Outcome.UNKNOWN: TransactionStatus.UNKNOWN,
    }.get(result.outcome, TransactionStatus.PENDING)
    with transaction.atomic():
        payout = _locked(payout_pk)
        Transaction.objects.filter(public_id=payout.transaction_reference).update(
            status=status,
            processor_reference=result.processor_reference or "",
            response_code=(result.code or str(result.outcome))[:64],
            response_message=(result.message or "")[:500],
            latency_ms=result.latency_ms,
            raw=result.raw,
            updated_at=timezone.now(),
        )
        if payout.status != PayoutStatus.IN_TRANSIT:
            return payout
        if result.processor_reference:
            payout.processor_reference = result.processor_reference
        if result.outcome == Outcome.SUCCEEDED:
            previous = _move(payout, PayoutStatus.PAID)
            journal_post(
                kind="payout_paid",
                reference=payout.public_id,
                merchant_id=payout.merchant_id,
                livemode=payout.livemode,
                currency=payout.currency,
                lines=[
                    Line(AccountKind.IN_TRANSIT, payout.amount, payout.merchant_id),
                    Line(AccountKind.PAID_OUT, -payout.amount, payout.merchant_id),
                ],
                description=f"payout paid {payout.public_id}",
            )
            payout.save()
            _emit(payout, "paid", previous)
        elif result.outcome == Outcome.DECLINED:
            previous = _move(payout, PayoutStatus.FAILED)
            payout.failure_code = result.code or "could_not_process"
            payout.failure_message = (result.message or "The bank refused the payout.")[:255]
            _return_to_available(
                payout,
                kind="payout_failure",
                bt_type=BalanceTransactionType.PAYOUT_FAILURE,
                description=f"Failure of payout {payout.public_id}",
            )
            payout.save()
            _emit(payout, "failed", previous)
        else:
            payout.save(update_fields=["processor_reference", "updated_at"])
    return payout


def payout_resolve(*, payout_pk: int) -> Payout:
    """A payout left in transit (no final answer): ask the bank under the same reference;
    if the bank never received it, send it again under that same reference."""
    from payments.connectors import get_connector
    from payments.connectors.base import Outcome

    payout = Payout.objects.select_related("destination").get(pk=payout_pk)
    if payout.status != PayoutStatus.IN_TRANSIT or not payout.transaction_reference:
        return payout
    connector = get_connector(CONNECTOR)
    result = connector.inquire_payout(reference=payout.transaction_reference)
    if result.outcome == Outcome.TRANSIENT and result.code == "resource_missing":
        result = _call_bank(connector, payout)
    return payout_apply_result(payout_pk=payout.pk, result=result)


def payouts_send_due(*, now: dt.datetime | None = None, limit: int = 500) -> int:
    """Send every pending payout whose arrival date has come in its merchant's time zone.
    Returns how many were sent."""
    now = now or timezone.now()
    horizon = now.date() + dt.timedelta(days=1)  # no time zone is more than a day ahead
    due = Payout.objects.filter(status=PayoutStatus.PENDING, arrival_date__lte=horizon)
    sent = 0
    for payout in due.select_related("merchant").order_by("arrival_date", "id")[:limit]:
        if payout.arrival_date > timezone.localdate(now, timezone=_zone(payout.merchant.timezone)):
            continue
        try:
            payout_send(payout_pk=payout.pk)
            sent += 1
        except Exception:  # one bad payout must not stop the others; the next run retries
            logger.exception("payout %s could not be sent", payout.public_id)
    return sent


def payouts_resolve_stale(*, older_than: dt.timedelta = dt.timedelta(minutes=5)) -> int:
    cutoff = timezone.now() - older_than
    ids = list(
        Payout.objects.filter(status=PayoutStatus.IN_TRANSIT, updated_at__lt=cutoff).values_list(
            "pk", flat=True
        )[:500]
    )
    for pk in ids:
        payout_resolve(payout_pk=pk)
    return len(ids)


def payouts_create_automatic(*, items: list[dict]) -> list[Payout]:
    """The settlement run's automatic payouts, in bulk: one statement per table whatever
    the number of merchants. Each item: merchant, livemode, currency, destination,
    settlement_batch, arrival_date. The amount of each is the whole available balance,
    read under a lock on the available accounts (so a concurrent manual payout cannot
    take the same money); items with nothing available are skipped.

    Call inside the settlement run's transaction."""
    from settlement.models import Journal, JournalEntry

    keys = [(i["merchant"].pk, i["livemode"], i["currency"]) for i in items]
    LedgerAccount.objects.bulk_create(
        [
            LedgerAccount(merchant_id=m, livemode=live, currency=cur, kind=kind)
            for m, live, cur in keys
            for kind in (AccountKind.AVAILABLE, AccountKind.IN_TRANSIT)
        ],
        ignore_conflicts=True,
    )
    accounts = {
        (a.merchant_id, a.livemode, a.currency, a.kind): a.pk
        for a in LedgerAccount.objects.select_for_update()
        .filter(
            merchant_id__in={k[0] for k in keys},
            kind__in=[AccountKind.AVAILABLE, AccountKind.IN_TRANSIT],
        )
        .order_by("pk")
    }
    from settlement.services.ledger import available_balances

    balances = available_balances(keys=keys)
    now = timezone.now()
    today = timezone.localdate(now)
    payouts, journals, bts = [], [], []
    for item, key in zip(items, keys, strict=True):
        amount = balances.get(key, 0)
        if amount <= 0:
            continue
        payout = Payout(
            public_id=new_po_id(),
            merchant=item["merchant"],
            livemode=item["livemode"],
            amount=amount,
            currency=item["currency"],
            automatic=True,
            arrival_date=item["arrival_date"],
            destination=item["destination"],
            description=item.get("description", ""),
            settlement_batch=item["settlement_batch"],
            created_at=now,
        )
        payouts.append(payout)
        journals.append(
            Journal(
                kind="payout",
                reference=payout.public_id,
                merchant_id=key[0],
                livemode=key[1],
                description=f"payout {payout.public_id}",
                created_at=now,
            )
        )
    Journal.objects.bulk_create(journals)
    entries = []
    for payout, journal in zip(payouts, journals, strict=True):
        m, live, cur = payout.merchant_id, payout.livemode, payout.currency
        entries += [
            JournalEntry(
                journal=journal,
                account_id=accounts[(m, live, cur, AccountKind.AVAILABLE)],
                currency=cur,
                amount=payout.amount,
            ),
            JournalEntry(
                journal=journal,
                account_id=accounts[(m, live, cur, AccountKind.IN_TRANSIT)],
                currency=cur,
                amount=-payout.amount,
            ),
        ]
        bts.append(
            BalanceTransaction(
                merchant_id=m,
                livemode=live,
                type=BalanceTransactionType.PAYOUT,
                status=BalanceTransactionStatus.AVAILABLE,
                currency=cur,
                amount=-payout.amount,
                fee=0,
                net=-payout.amount,
                source=payout.public_id,
                reference=payout.public_id,
                description=payout.description or "GATEWAY PAYOUT",
                journal=journal,
                settlement_date=today,
                available_on=today,
                created_at=now,
            )
        )
    JournalEntry.objects.bulk_create(entries)
    BalanceTransaction.objects.bulk_create(bts)
    for payout, bt in zip(payouts, bts, strict=True):
        payout.balance_transaction = bt
    Payout.objects.bulk_create(payouts)
    for payout in payouts:
        _emit(payout, "created")
    return payouts
