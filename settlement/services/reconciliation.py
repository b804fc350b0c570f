"""Reconciliation (DESIGN.md §9): the processor's daily settlement report against the ledger.

Matched by our reference (the processor transaction id we sent with each capture and
refund). Every difference is recorded for the dashboard:

- duplicate: the report names a reference more than once (counted once, not matched);
- missing_in_ledger: the report has it, the ledger does not;
- missing_in_report: the ledger booked it on that day (UTC), the report does not have it;
- amount_mismatch: both have it with another amount, currency or type.
"""

import csv
import datetime as dt
import io
from collections import Counter

from django.db import transaction
from django.db.models import Q

from settlement.models import (
    BalanceTransaction,
    BalanceTransactionType,
    DifferenceKind,
    ReconciliationDifference,
    ReconciliationRun,
    SettlementBatch,
    SettlementLine,
)

_TYPES = {"capture": BalanceTransactionType.CHARGE, "refund": BalanceTransactionType.REFUND}


class ReportFormatError(ValueError):
    pass


def parse_report(text: str) -> list[dict]:
    reader = csv.DictReader(io.StringIO(text))
    required = {"reference", "type", "amount", "currency"}
    if not required <= set(reader.fieldnames or ()):
        raise ReportFormatError(f"the report needs the columns {sorted(required)}")
    rows = []
    for number, row in enumerate(reader, start=2):
        try:
            rows.append(
                {
                    "reference": row["reference"].strip(),
                    "processor_reference": (row.get("processor_reference") or "").strip(),
                    "type": row["type"].strip(),
                    "amount": int(row["amount"]),
                    "currency": row["currency"].strip().lower(),
                }
            )
        except (TypeError, ValueError) as exc:
            raise ReportFormatError(f"line {number}: {exc}") from exc
    return rows


def reconcile(
    *, day: dt.date, report_csv: str, connector: str = "sandbox", livemode: bool = False
) -> ReconciliationRun:
    """Compare one day's report with the ledger and record the run and its differences."""
    # payments owns the processor transactions (and imports settlement): a lazy read. The
    # ledger's side of the day is what went through this connector: a card network's
    # report knows nothing of e-wallet or virtual account payments.
    from payments.models import Transaction

    rows = parse_report(report_csv)
    counts = Counter(row["reference"] for row in rows)
    start = dt.datetime.combine(day, dt.time.min, tzinfo=dt.UTC)
    through_connector = Transaction.objects.filter(connector=connector).values("public_id")
    ledger = {
        bt.reference: bt
        for bt in BalanceTransaction.objects.filter(
            Q(reference__in=list(counts))
            | Q(
                created_at__gte=start,
                created_at__lt=start + dt.timedelta(days=1),
                reference__in=through_connector,
            ),
            livemode=livemode,
            type__in=list(_TYPES.values()),
        )
    }
    differences: list[ReconciliationDifference] = []
    matched = 0
    seen: set[str] = set()
    for row in rows:
        reference = row["reference"]
        if reference in seen:
            continue
        seen.add(reference)
        bt = ledger.get(reference)
        if counts[reference] > 1:
            differences.append(
                ReconciliationDifference(
                    kind=DifferenceKind.DUPLICATE,
                    reference=reference,
                    currency=row["currency"],
                    ledger_amount=abs(bt.amount) if bt else None,
                    report_amount=row["amount"],
                    detail=f"{counts[reference]} lines in the report",
                )
            )
            continue
        if bt is None:
            differences.append(
                ReconciliationDifference(
                    kind=DifferenceKind.MISSING_IN_LEDGER,
                    reference=reference,
                    currency=row["currency"],
                    report_amount=row["amount"],
                    detail=f"{row['type']} {row['processor_reference']}".strip(),
                )
            )
            continue
        same = (
            abs(bt.amount) == row["amount"]
            and bt.currency == row["currency"]
            and _TYPES.get(row["type"]) == bt.type
        )
        if not same:
            differences.append(
                ReconciliationDifference(
                    kind=DifferenceKind.AMOUNT_MISMATCH,
                    reference=reference,
                    currency=row["currency"],
                    ledger_amount=abs(bt.amount),
                    report_amount=row["amount"],
                    detail=f"ledger {bt.type} {bt.currency}, report {row['type']} "
                    f"{row['currency']}",
                )
            )
            continue
        matched += 1
    for reference, bt in ledger.items():
        if reference not in counts and start <= bt.created_at < start + dt.timedelta(days=1):
            differences.append(
                ReconciliationDifference(
                    kind=DifferenceKind.MISSING_IN_REPORT,
                    reference=reference,
                    currency=bt.currency,
                    ledger_amount=abs(bt.amount),
                    detail=f"{bt.type} {bt.source}",
                )
            )
    with transaction.atomic():
        run = ReconciliationRun.objects.create(
            connector=connector,
            date=day,
            report_lines=len(rows),
            ledger_lines=sum(
                1 for bt in ledger.values() if start <= bt.created_at < start + dt.timedelta(days=1)
            ),
            matched=matched,
            difference_count=len(differences),
        )
        for difference in differences:
            difference.run = run
        ReconciliationDifference.objects.bulk_create(differences)
    return run


def reconciliation_run_for_day(
    *, day: dt.date, connector: str = "sandbox", rerun: bool = True
) -> ReconciliationRun:
    """Fetch the processor's report for `day` through its connector and reconcile it. With
    rerun=False an existing run of that day is returned instead (the periodic job)."""
    if not rerun:
        existing = ReconciliationRun.objects.filter(connector=connector, date=day).last()
        if existing is not None:
            return existing
    # payments owns the connectors (and imports settlement): imported here, not at the top.
    from payments.connectors import get_connector

    report = get_connector(connector).settlement_report(date=day)
    return reconcile(day=day, report_csv=report, connector=connector)


EXPORT_COLUMNS = [
    "batch",
    "day",
    "balance_transaction",
    "type",
    "source",
    "reference",
    "amount",
    "fee",
    "net",
    "currency",
]


def settlement_batch_csv(*, batch: SettlementBatch) -> str:
    """A batch's lines as CSV (one per balance transaction), with a total line."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(EXPORT_COLUMNS)
    lines = (
        SettlementLine.objects.filter(batch=batch)
        .select_related("balance_transaction")
        .order_by("id")
    )
    for line in lines.iterator(chunk_size=2000):
        writer.writerow(
            [
                batch.public_id,
                batch.day.isoformat(),
                line.balance_transaction.public_id,
                line.type,
                line.source,
                line.reference,
                line.amount,
                line.fee,
                line.net,
                batch.currency,
            ]
        )
    writer.writerow(
        [
            batch.public_id,
            batch.day.isoformat(),
            "total",
            "",
            "",
            "",
            batch.gross_amount - batch.refund_amount,
            batch.fee_amount,
            batch.net_amount,
            batch.currency,
        ]
    )
    return out.getvalue()
