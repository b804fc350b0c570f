"""manage.py export_settlement_batch stl_... [--output file.csv]: a batch's lines as CSV."""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from settlement.models import SettlementBatch
from settlement.services.reconciliation import settlement_batch_csv


class Command(BaseCommand):
    help = "Export a settlement batch's lines as CSV (stdout, or --output)."

    def add_arguments(self, parser):
        parser.add_argument("batch", help="stl_...")
        parser.add_argument("--output", type=Path)

    def handle(self, *args, **options):
        batch = SettlementBatch.objects.filter(public_id=options["batch"]).first()
        if batch is None:
            raise CommandError(f"no settlement batch {options['batch']}")
        text = settlement_batch_csv(batch=batch)
        if options["output"]:
            options["output"].write_text(text)
        else:
            self.stdout.write(text, ending="")
