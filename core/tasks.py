import socket

from celery import shared_task
from django.utils import timezone

from core.api.idempotency import idempotency_purge
from core.models import Heartbeat


@shared_task(name="core.heartbeat")
def heartbeat(name: str = "worker") -> None:
    """Record that a worker picked a task off the broker and reached the database."""
    Heartbeat.objects.update_or_create(
        name=name, defaults={"seen_at": timezone.now(), "hostname": socket.gethostname()}
    )


@shared_task(name="core.purge_idempotency_keys")
def purge_idempotency_keys() -> int:
    """Delete idempotency keys past their 24 hours. Safe to run twice or at once."""
    return idempotency_purge()
