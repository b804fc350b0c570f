import socket

from celery import shared_task
from django.utils import timezone

from core.api.idempotency import idempotency_purge
from core.api.requestlog import api_request_log_flush, api_request_log_purge
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


@shared_task(name="core.flush_api_request_log")
def flush_api_request_log() -> int:
    """Move the API request log queued in Redis into its table (a few seconds behind).
    Safe to run twice or at once: nothing is lost or written twice."""
    return api_request_log_flush()


@shared_task(name="core.purge_api_request_log")
def purge_api_request_log() -> int:
    """Delete API request log rows older than 30 days."""
    return api_request_log_purge()
