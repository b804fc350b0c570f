"""The sandbox card network's daily settlement report: what it captured and refunded on a
day (UTC), as a processor would send it to the gateway for reconciliation.

CSV columns: reference (the gateway's reference), processor_reference, type (capture or
refund), amount (minor units, positive), currency, date (YYYY-MM-DD).
"""

import csv
import datetime as dt
import io

from django.db.models import Q

from sandbox.models import Authorization, AuthorizationStatus, Operation, OperationKind

COLUMNS = ["reference", "processor_reference", "type", "amount", "currency", "date"]


def _bounds(day: dt.date) -> tuple[dt.datetime, dt.datetime]:
    start = dt.datetime.combine(day, dt.time.min, tzinfo=dt.UTC)
    return start, start + dt.timedelta(days=1)


def settlement_report_rows(day: dt.date) -> list[dict]:
    start, end = _bounds(day)
    rows = []
    # Captured at once with the authorization (automatic capture); a 3-D Secure one is
    # captured when the challenge passed.
    auto = Authorization.objects.filter(
        capture=True,
        status=AuthorizationStatus.CAPTURED,
    ).filter(
        Q(authenticated_at__isnull=True, created_at__gte=start, created_at__lt=end)
        | Q(authenticated_at__gte=start, authenticated_at__lt=end)
    )
    for auth in auto.order_by("id"):
        rows.append(
            {
                "reference": auth.reference,
                "processor_reference": auth.processor_reference,
                "type": "capture",
                "amount": auth.captured_amount,
                "currency": auth.currency,
                "date": day.isoformat(),
            }
        )
    ops = Operation.objects.filter(
        kind__in=[OperationKind.CAPTURE, OperationKind.REFUND],
        status="succeeded",
        created_at__gte=start,
        created_at__lt=end,
    )
    for op in ops.order_by("id"):
        rows.append(
            {
                "reference": op.reference,
                "processor_reference": op.processor_reference,
                "type": op.kind,
                "amount": op.amount,
                "currency": op.currency,
                "date": day.isoformat(),
            }
        )
    return rows


def settlement_report_csv(day: dt.date) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=COLUMNS, lineterminator="\n")
    writer.writeheader()
    writer.writerows(settlement_report_rows(day))
    return out.getvalue()
