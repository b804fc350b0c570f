from datetime import datetime

from celery import shared_task

from webhooks.services.deliveries import deliveries_send, delivery_sweep
from webhooks.services.inbound import inbound_callback_process


@shared_task(name="webhooks.deliver", ignore_result=True)
def deliver(claims: list[list], now: str | None = None) -> list[str]:
    """One attempt of each delivery in `claims` ([[delivery id, lease token], ...]).
    Idempotent: a duplicate or stale message does nothing. `now` (ISO 8601) replaces the
    clock; only tests that advance time pass it."""
    return deliveries_send(
        claims=[(int(pk), str(token)) for pk, token in claims],
        now=datetime.fromisoformat(now) if now else None,
    )


@shared_task(name="webhooks.sweep_deliveries", ignore_result=True)
def sweep_deliveries() -> int:
    """Beat, every 30 s: dispatch deliveries that are due (retries) or stranded (a lost
    message, a killed worker)."""
    return delivery_sweep()


@shared_task(name="webhooks.process_inbound_callback", ignore_result=True)
def process_inbound_callback(callback_id: int) -> str:
    return inbound_callback_process(callback_id=callback_id)


@shared_task(name="webhooks.sweep_inbound_callbacks", ignore_result=True)
def sweep_inbound_callbacks() -> int:
    """Beat, every minute: process authentic callbacks whose task was lost."""
    from webhooks.services.inbound import inbound_callback_sweep

    return inbound_callback_sweep()
