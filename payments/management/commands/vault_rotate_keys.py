from django.core.management.base import BaseCommand, CommandError

from payments.vault import VaultKeyError, vault_rotate


class Command(BaseCommand):
    help = (
        "Re-wrap every vault row under the active vault key (the first in GATEWAY_VAULT_KEYS). "
        "Idempotent; keep the old key configured until this reports 0 rows left."
    )

    def add_arguments(self, parser):
        parser.add_argument("--batch-size", type=int, default=500)

    def handle(self, *args, batch_size: int, **options):
        if batch_size < 1:
            raise CommandError("--batch-size must be at least 1")
        try:
            count = vault_rotate(batch_size=batch_size)
        except VaultKeyError as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(f"re-wrapped {count} vault card(s)")
