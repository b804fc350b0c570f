"""manage.py reconcile --date YYYY-MM-DD [--report processor-report.csv]: compare a
processor's settlement report (fetched from the sandbox, or read from the given CSV) with
the ledger and list the differences."""

import datetime as dt
import json
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from settlement.services.reconciliation import (
    ReportFormatError,
    reconcile,
    reconciliation_run_for_day,
)


class Command(BaseCommand):
    help = "Reconcile a day's processor settlement report (the sandbox's, or a CSV file)."

    def add_arguments(self, parser):
        parser.add_argument("--date", type=dt.date.fromisoformat, required=True)
        parser.add_argument(
            "--report",
            type=Path,
            metavar="PROCESSOR_REPORT.csv",
            help="read the processor's report from this CSV (columns reference, type, amount, "
            "currency) instead of fetching the sandbox's",
        )

    def handle(self, *args, **options):
        if options["report"]:
            try:
                text = options["report"].read_text()
            except OSError as exc:
                raise CommandError(f"cannot read the report {options['report']}: {exc}") from exc
            try:
                run = reconcile(day=options["date"], report_csv=text)
            except ReportFormatError as exc:
                raise CommandError(f"the report {options['report']} is not valid: {exc}") from exc
        else:
            run = reconciliation_run_for_day(day=options["date"])
        self.stdout.write(
            json.dumps(
                {
                    "date": run.date.isoformat(),
                    "report_lines": run.report_lines,
                    "ledger_lines": run.ledger_lines,
                    "matched": run.matched,
                    "differences": [
                        {
                            "kind": d.kind,
                            "reference": d.reference,
                            "ledger_amount": d.ledger_amount,
                            "report_amount": d.report_amount,
                            "detail": d.detail,
                        }
                        for d in run.differences.order_by("id")
                    ],
                },
                indent=2,
            )
        )
