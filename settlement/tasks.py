"""Periodic settlement jobs (beat: config/settings/base.py CELERY_BEAT_SCHEDULE). All are
idempotent: running one twice, or two at once, does the work once."""

import datetime as dt

from celery import shared_task
from django.utils import timezone


@shared_task(name="settlement.settle_due")
def settle_due() -> int:
    """Settle every merchant whose cutoff has passed; returns the number of new batches."""
    from settlement.services.batches import settlement_run

    return len(settlement_run().batches)


@shared_task(name="settlement.send_due_payouts")
def send_due_payouts() -> int:
    from settlement.services.payouts import payouts_send_due

    return payouts_send_due()


@shared_task(name="settlement.resolve_payouts")
def resolve_payouts() -> int:
    """Ask the bank about payouts left in transit without a final answer."""
    from settlement.services.payouts import payouts_resolve_stale

    return payouts_resolve_stale()


@shared_task(name="settlement.reconcile_previous_day")
def reconcile_previous_day() -> int:
    """Reconcile yesterday's (UTC) processor report once; returns its difference count."""
    from settlement.services.reconciliation import reconciliation_run_for_day

    day = timezone.now().date() - dt.timedelta(days=1)
    run = reconciliation_run_for_day(day=day, rerun=False)
    return run.difference_count
