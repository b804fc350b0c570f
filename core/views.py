import logging

from django.db import connection
from django.http import JsonResponse
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from config.celery import app as celery_app
from core.models import Heartbeat

logger = logging.getLogger(__name__)


@never_cache
@require_GET
def healthz(request):
    """The process is up and answering. Touches nothing else."""
    return JsonResponse({"status": "ok"})


def _check_database() -> str | None:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception as exc:
        return f"database: {exc.__class__.__name__}: {exc}"
    return None


def _check_broker() -> str | None:
    try:
        with celery_app.connection_for_write() as conn:
            conn.ensure_connection(max_retries=1, timeout=2)
    except Exception as exc:
        return f"broker: {exc.__class__.__name__}: {exc}"
    return None


@never_cache
@require_GET
def readyz(request):
    """Ready to take traffic: the database and the broker both answer."""
    failures = [f for f in (_check_database(), _check_broker()) if f]
    body: dict = {"status": "ok" if not failures else "unavailable"}
    if failures:
        body["failures"] = failures
        logger.warning("readiness check failed", extra={"failures": failures})
    else:
        beat = Heartbeat.objects.filter(name="worker").first()
        body["worker_last_seen_seconds"] = (
            round((timezone.now() - beat.seen_at).total_seconds()) if beat else None
        )
    return JsonResponse(body, status=200 if not failures else 503)
