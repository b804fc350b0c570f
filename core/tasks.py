import socket

from celery import shared_task
from django.utils import timezone

from core.models import Heartbeat


@shared_task(name="core.heartbeat")
def heartbeat(name: str = "worker") -> None:
    """Record that a worker picked a task off the broker and reached the database."""
    Heartbeat.objects.update_or_create(
        name=name, defaults={"seen_at": timezone.now(), "hostname": socket.gethostname()}
    )
