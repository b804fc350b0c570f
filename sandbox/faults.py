"""Fault injection for the sandbox card network (DESIGN.md §7), for tests and benchmarks.

    from sandbox import faults
    faults.inject("timeout")                                  # the next authorize times out
    faults.inject("approve_then_timeout", operation="capture")
    faults.inject("server_error", count=3, operation="*")     # the next 3 calls of any kind
    faults.inject("timeout", count=None, rate=0.2, seed=7)    # 20% of authorizes, reproducibly
    faults.inject("latency", count=None, latency_ms=800)      # every authorize 0.8 s late
    faults.inject("callback_missing", operation="callback")   # the next provider callback
    faults.clear()

Kinds: "timeout" (no answer, nothing happened), "approve_then_timeout" (the operation is
processed and committed, then no answer: the caller sees a timeout), "server_error" (a 503,
nothing happened), "latency" (a normal answer after latency_ms). latency_ms also delays the
other kinds. For the e-wallet, VA and QRIS providers' callbacks (operation "callback"):
"callback_late" (sent minutes later), "callback_duplicate" (sent twice, one event id),
"callback_missing" (never sent: only an inquiry tells). Faults are rows, so a test process,
a live server and a worker share them.
With a rate, call number n of a fault fires when Random(f"{seed}:{n}") < rate: the same
seed gives the same sequence of faults.
"""

import random
from dataclasses import dataclass

from django.db import transaction

from core.prepared import Prepared
from sandbox.models import Fault, FaultKind

_ANY_FAULT = Prepared(
    lambda operations: Fault.objects.filter(operation__in=operations).values_list("id")[:1]
)

OPERATIONS = {"authorize", "capture", "void", "refund", "inquire", "callback", "*"}
# The local-method providers' callbacks (sandbox.callbacks) take only these, and only on
# operation "callback" ("*" is the card network's calls).
CALLBACK_KINDS = {FaultKind.CALLBACK_LATE, FaultKind.CALLBACK_DUPLICATE, FaultKind.CALLBACK_MISSING}


@dataclass(frozen=True)
class FiredFault:
    kind: str
    latency_ms: int


def inject(
    kind: str,
    count: int | None = 1,
    operation: str = "authorize",
    *,
    rate: float | None = None,
    seed: int = 0,
    latency_ms: int = 0,
) -> Fault:
    """Make the next `count` matching calls (or, with `rate`, that fraction of them, chosen
    by `seed`) fail with `kind`. count=None: no limit."""
    if kind not in FaultKind.values:
        raise ValueError(f"unknown fault kind {kind!r}; one of {', '.join(FaultKind.values)}")
    if operation not in OPERATIONS:
        raise ValueError(f"unknown operation {operation!r}; one of {', '.join(sorted(OPERATIONS))}")
    if (kind in CALLBACK_KINDS) != (operation == "callback"):
        raise ValueError('callback_* kinds go with operation "callback", and only they do')
    if count is not None and count < 1:
        raise ValueError("count must be at least 1, or None for no limit")
    if rate is not None and not 0 <= rate <= 1:
        raise ValueError("rate must be between 0 and 1")
    if count is None and rate is None and kind != FaultKind.LATENCY:
        raise ValueError("a fault without a count needs a rate (or it would fire forever)")
    return Fault.objects.create(
        kind=kind,
        operation=operation,
        remaining=count,
        rate=rate,
        seed=seed,
        latency_ms=latency_ms,
    )


def clear() -> None:
    """Remove every injected fault."""
    Fault.objects.all().delete()


def take(operation: str) -> FiredFault | None:
    """The fault the next `operation` call suffers, if any; consumes one of its count.

    Runs in its own transaction with the fault rows locked, so concurrent calls never
    consume the same count twice. Without faults (the usual case) it is one read."""
    operations = (operation,) if operation == "callback" else (operation, "*")
    if not _ANY_FAULT.fetch(operations=operations):
        return None
    with transaction.atomic():
        candidates = (
            Fault.objects.select_for_update().filter(operation__in=operations).order_by("id")
        )
        for fault in candidates:
            if fault.remaining is not None and fault.remaining <= 0:
                fault.delete()
                continue
            if fault.rate is not None:
                call_number = fault.calls_seen
                fault.calls_seen += 1
                fires = random.Random(f"{fault.seed}:{call_number}").random() < fault.rate
            else:
                fires = True
            if not fires:
                fault.save(update_fields=["calls_seen"])
                continue
            if fault.remaining is not None:
                fault.remaining -= 1
            if fault.remaining == 0:
                fault.delete()
            else:
                fault.save(update_fields=["calls_seen", "remaining"])
            return FiredFault(kind=fault.kind, latency_ms=fault.latency_ms)
    return None
