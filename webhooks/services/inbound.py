"""Processor callbacks (POST /hooks/<connector>/): keep the raw request, verify, dedupe,
answer fast, process in a task.

Signature: header `Gateway-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256 of "t.body">`
keyed with the connector's secret (GATEWAY_CALLBACK_SECRETS, or for the sandbox a key
derived from DJANGO_SECRET_KEY), at most 5 minutes old. The provider's event id is the
body's "id" (JSON), or the `Gateway-Event-Id` header.
"""

import hashlib
import hmac
import json
import logging
from datetime import datetime, timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.module_loading import import_string

from webhooks.models import InboundCallback
from webhooks.signing import hmac_header_verify

logger = logging.getLogger("webhooks.inbound")

SIGNATURE_HEADER = "Gateway-Signature"
EVENT_ID_HEADER = "Gateway-Event-Id"
_DROPPED_HEADERS = {"cookie", "authorization", "proxy-authorization"}


def callback_secret(connector: str) -> str | None:
    """The key a connector's callbacks are signed with (the sandbox signs with this too)."""
    configured = settings.GATEWAY_CALLBACK_SECRETS.get(connector)
    if configured:
        return configured
    if connector == "sandbox" or connector.startswith("sandbox_"):
        return hmac.new(
            settings.SECRET_KEY.encode(), f"gateway-callback:{connector}".encode(), hashlib.sha256
        ).hexdigest()
    return None


def _peek(body: bytes, headers: dict) -> tuple[str, str]:
    event_id = headers.get(EVENT_ID_HEADER, "")
    event_type = ""
    try:
        payload = json.loads(body)
    except ValueError:
        payload = None
    if isinstance(payload, dict):
        event_id = str(payload.get("id") or event_id)
        event_type = str(payload.get("type") or payload.get("event") or "")
    return event_id[:255], event_type[:255]


def inbound_callback_receive(
    *, connector: str, headers: dict[str, str], body: bytes, now: datetime | None = None
) -> InboundCallback:
    """Persist the callback, verified and deduplicated; enqueue its processing on commit.

    Every request is kept, badly signed ones and duplicates included (those are never
    processed). The unique index on (connector, provider event id) decides duplicates,
    so two copies arriving at once still make one processed row.
    """
    from webhooks.tasks import process_inbound_callback

    now = now or timezone.now()
    secret = callback_secret(connector)
    valid = secret is not None and hmac_header_verify(
        secret=secret, header=headers.get(SIGNATURE_HEADER, ""), body=body,
        now=int(now.timestamp()),
    )  # fmt: skip
    event_id, event_type = _peek(body, headers)
    kept_headers = {k: v for k, v in headers.items() if k.lower() not in _DROPPED_HEADERS}
    row = {
        "connector": connector,
        "headers": kept_headers,
        "body": body,
        "received_at": now,
        "signature_valid": valid,
        "provider_event_id": event_id,
        "provider_event_type": event_type,
    }
    with transaction.atomic():
        if not valid:
            return InboundCallback.objects.create(**row, error="invalid or missing signature")
        try:
            with transaction.atomic():
                callback = InboundCallback.objects.create(**row)
        except IntegrityError:
            return InboundCallback.objects.create(
                **row, is_duplicate=True, processed_at=now,
                note=f"duplicate of provider event {event_id}; not processed again",
            )  # fmt: skip
        process_inbound_callback.delay_on_commit(callback.pk)
    return callback


def inbound_callback_process(*, callback_id: int) -> str:
    """Run the connector's handler (GATEWAY_CALLBACK_HANDLERS: connector -> dotted path of
    `handler(callback, payload) -> note`) once. The row is locked while the handler runs, so
    handlers must only touch the database (they run a state change, never a network call).
    A callback no handler takes is marked processed with a note."""
    with transaction.atomic():
        callback = (
            InboundCallback.objects.select_for_update()
            .filter(pk=callback_id, signature_valid=True, processed_at__isnull=True)
            .first()
        )
        if callback is None:
            return "nothing_to_do"
        path = settings.GATEWAY_CALLBACK_HANDLERS.get(callback.connector)
        if not path:
            of_type = callback.provider_event_type
            callback.note = (
                f"no handler for {callback.connector} callbacks"
                f"{f' of type {of_type}' if of_type else ''}; recorded only"
            )
            callback.processed_at = timezone.now()
            callback.save(update_fields=["note", "processed_at"])
            return "recorded"
        try:
            payload = json.loads(bytes(callback.body))
            with transaction.atomic():
                note = import_string(path)(callback, payload)
        except Exception as exc:
            logger.exception("callback %s failed", callback.pk)
            callback.error = f"{type(exc).__name__}: {exc}"[:2000]
            callback.save(update_fields=["error"])
            return "error"
        callback.note = str(note or "")
        callback.error = ""
        callback.processed_at = timezone.now()
        callback.save(update_fields=["note", "error", "processed_at"])
        return "processed"


def inbound_callback_sweep(*, now: datetime | None = None) -> int:
    """Re-enqueue authentic, unprocessed callbacks older than a minute (lost task, or a
    handler that failed), for up to a day."""
    from webhooks.tasks import process_inbound_callback

    now = now or timezone.now()
    pks = list(
        InboundCallback.objects.filter(
            signature_valid=True,
            processed_at__isnull=True,
            received_at__lt=now - timedelta(minutes=1),
            received_at__gt=now - timedelta(days=1),
        ).values_list("pk", flat=True)[:1000]
    )
    for pk in pks:
        process_inbound_callback.delay(pk)
    return len(pks)
