from datetime import datetime

from celery import shared_task

from webhooks.services.deliveries import delivery_send, delivery_sweep
from webhooks.services.inbound import inbound_callback_process


@shared_task(name="webhooks.deliver", ignore_result=True)
def deliver(delivery_id: int, lease_token: str, now: str | None = None) -> str:
    """One attempt of a delivery. Idempotent: a duplicate or stale message does nothing.
    `now` (ISO 8601) replaces the clock; only tests that advance time pass it."""
    return delivery_send(
        delivery_id=delivery_id,
        lease_token=lease_token,
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
