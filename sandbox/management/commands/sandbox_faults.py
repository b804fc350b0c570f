from django.core.management.base import BaseCommand, CommandError

from sandbox import faults
from sandbox.models import Fault, FaultKind


class Command(BaseCommand):
    help = (
        "Inject, list or clear sandbox card network faults (they apply to every process). "
        "Examples: sandbox_faults inject timeout --count 3; "
        "sandbox_faults inject server_error --rate 0.1 --seed 7 --operation '*'; "
        "sandbox_faults list; sandbox_faults clear"
    )

    def add_arguments(self, parser):
        parser.add_argument("action", choices=["inject", "list", "clear"])
        parser.add_argument("kind", nargs="?", choices=FaultKind.values)
        parser.add_argument("--count", type=int, default=None)
        parser.add_argument("--operation", default="authorize")
        parser.add_argument("--rate", type=float, default=None)
        parser.add_argument("--seed", type=int, default=0)
        parser.add_argument("--latency-ms", type=int, default=0)

    def handle(self, *args, action, kind, count, operation, rate, seed, latency_ms, **options):
        if action == "clear":
            faults.clear()
            self.stdout.write("cleared every sandbox fault")
        elif action == "inject":
            if kind is None:
                raise CommandError("inject needs a kind: " + ", ".join(FaultKind.values))
            if count is None and rate is None and kind != FaultKind.LATENCY:
                count = 1
            try:
                fault = faults.inject(
                    kind, count, operation, rate=rate, seed=seed, latency_ms=latency_ms
                )
            except ValueError as exc:
                raise CommandError(str(exc)) from exc
            self.stdout.write(f"injected fault {fault.pk}: {fault}")
        for fault in Fault.objects.order_by("id"):
            self.stdout.write(
                f"{fault.pk}: {fault.kind} on {fault.operation} remaining={fault.remaining} "
                f"rate={fault.rate} seed={fault.seed} latency_ms={fault.latency_ms}"
            )
