"""manage.py settle [--date YYYY-MM-DD] [--merchant acct_...]: settle closed days now."""

import datetime as dt
import json

from django.core.management.base import BaseCommand, CommandError

from merchants.models import Merchant
from settlement.services.batches import settlement_run


class Command(BaseCommand):
    help = (
        "Settle every closed settlement day (up to --date), for every merchant or one: "
        "pending balance transactions into batches, pending to available, automatic payouts."
    )

    def add_arguments(self, parser):
        parser.add_argument("--date", type=dt.date.fromisoformat, help="the last day to settle")
        parser.add_argument("--merchant", help="acct_... (default: every merchant)")

    def handle(self, *args, **options):
        merchant = None
        if options["merchant"]:
            merchant = Merchant.objects.filter(public_id=options["merchant"]).first()
            if merchant is None:
                raise CommandError(f"no merchant {options['merchant']}")
        result = settlement_run(day=options["date"], merchant=merchant)
        self.stdout.write(
            json.dumps(
                {
                    "run": result.run_id,
                    "batches": [
                        {
                            "id": b.public_id,
                            "merchant": b.merchant.public_id,
                            "currency": b.currency,
                            "day": b.day.isoformat(),
                            "gross": b.gross_amount,
                            "refunds": b.refund_amount,
                            "fees": b.fee_amount,
                            "net": b.net_amount,
                            "count": b.count,
                        }
                        for b in result.batches
                    ],
                    "payouts": [
                        {
                            "id": p.public_id,
                            "amount": p.amount,
                            "arrival_date": p.arrival_date.isoformat(),
                        }
                        for p in result.payouts
                    ],
                },
                indent=2,
            )
        )
