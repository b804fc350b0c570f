"""The providers' signed callbacks to the gateway (POST /hooks/sandbox_local/).

A payment that ends (paid, failed, expired) owes the gateway one callback: a row, sent by
a task after the commit, over HTTP to GATEWAY_BASE_URL with a short timeout, signed
`Gateway-Signature: t=..,v1=..` with the connector's callback secret. When nothing listens
there (tests without a live server) it goes in-process through the same view function.

Faults (sandbox.faults, operation "callback") make it late (sent CALLBACK_LATE later, by
the sweeper), double (the same event id twice) or missing (never sent).
"""

import datetime as dt
import json
import logging
import time
import urllib.error
import urllib.request

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from sandbox import faults
from sandbox.models import (
    FaultKind,
    ProviderCallback,
    ProviderCallbackStatus,
    ProviderPayment,
)
from sandbox.providers import _random, base_url, payment_answer

logger = logging.getLogger("sandbox.callbacks")

CONNECTOR = "sandbox_local"
CALLBACK_LATE = dt.timedelta(minutes=3)
TIMEOUT_SECONDS = 5.0


def callback_schedule(payment: ProviderPayment) -> ProviderCallback:
    """Owe the gateway a callback for the payment's new status. Call in the transaction that
    changed it: the send is enqueued on commit."""
    from sandbox.tasks import send_callback

    answer = payment_answer(payment)
    answer.pop("http_status")
    event_id = _random("evt_sbx_")
    body = {
        "id": event_id,
        "type": f"payment.{payment.status}",
        "created": int(time.time()),
        "data": answer,
    }
    fault = faults.take("callback")
    row = ProviderCallback(
        event_id=event_id, payment=payment, type=body["type"], body=json.dumps(body)
    )
    if fault and fault.kind == FaultKind.CALLBACK_MISSING:
        row.status = ProviderCallbackStatus.DROPPED
    elif fault and fault.kind == FaultKind.CALLBACK_LATE:
        row.send_after = timezone.now() + CALLBACK_LATE
    elif fault and fault.kind == FaultKind.CALLBACK_DUPLICATE:
        row.copies = 2
    row.save()
    if row.status == ProviderCallbackStatus.SCHEDULED and row.send_after <= timezone.now():
        send_callback.delay_on_commit(row.pk)
    return row


def callback_send(*, callback_id: int, now: dt.datetime | None = None) -> str:
    """Send a scheduled callback that is due (each of its copies). Idempotent: one already
    sent, dropped or not yet due is left alone."""
    now = now or timezone.now()
    with transaction.atomic():
        row = (
            ProviderCallback.objects.select_for_update(skip_locked=True)
            .filter(pk=callback_id, status=ProviderCallbackStatus.SCHEDULED, send_after__lte=now)
            .first()
        )
        if row is None:
            return "nothing_to_do"
        row.attempts += 1
        # A lease: the sweeper leaves it alone while this send runs.
        row.send_after = now + dt.timedelta(minutes=1)
        row.save(update_fields=["attempts", "send_after"])
    statuses = [_post(row.body.encode()) for _ in range(row.copies)]
    ok = any(200 <= s < 300 for s in statuses)
    ProviderCallback.objects.filter(pk=row.pk).update(
        status=ProviderCallbackStatus.SENT if ok else ProviderCallbackStatus.SCHEDULED,
        last_http_status=statuses[-1],
        # Not answered: try again in a minute (the sweeper), as providers retry.
        send_after=now if ok else now + dt.timedelta(minutes=1),
    )
    return "sent" if ok else "failed"


def callbacks_send_due(*, now: dt.datetime | None = None, limit: int = 200) -> int:
    """The sweeper: every scheduled callback whose time has come (late ones, retries)."""
    now = now or timezone.now()
    ids = list(
        ProviderCallback.objects.filter(
            status=ProviderCallbackStatus.SCHEDULED, send_after__lte=now
        ).values_list("pk", flat=True)[:limit]
    )
    return sum(callback_send(callback_id=pk, now=now) == "sent" for pk in ids)


def _signed_headers(body: bytes) -> dict[str, str]:
    from webhooks.services.inbound import SIGNATURE_HEADER, callback_secret
    from webhooks.signing import stripe_signature

    timestamp = int(time.time())
    signature = stripe_signature(callback_secret(CONNECTOR), timestamp=timestamp, body=body)
    return {
        "Content-Type": "application/json",
        SIGNATURE_HEADER: f"t={timestamp},v1={signature}",
    }


def _post(body: bytes) -> int:
    """POST the body to the gateway; the HTTP status (0: no answer)."""
    transport = getattr(settings, "GATEWAY_SANDBOX_CALLBACK_TRANSPORT", "auto")
    headers = _signed_headers(body)
    if transport != "inprocess":
        url = f"{base_url()}/hooks/{CONNECTOR}/"
        request = urllib.request.Request(url, data=body, headers=headers, method="POST")  # noqa: S310
        try:
            with urllib.request.urlopen(request, timeout=TIMEOUT_SECONDS) as response:  # noqa: S310
                return response.status
        except urllib.error.HTTPError as exc:
            return exc.code
        except (urllib.error.URLError, OSError) as exc:
            refused = isinstance(getattr(exc, "reason", exc), ConnectionRefusedError)
            if transport == "http" or not refused:
                logger.warning("callback to %s failed: %s", url, exc)
                return 0
    return _post_in_process(body, headers)


def _post_in_process(body: bytes, headers: dict[str, str]) -> int:
    """The same view function the HTTP request would reach, called in this process."""
    from django.test import RequestFactory

    from webhooks.views import inbound_callback

    extra = {"HTTP_" + k.upper().replace("-", "_"): v for k, v in headers.items()}
    extra.pop("HTTP_CONTENT_TYPE")
    request = RequestFactory().post(
        f"/hooks/{CONNECTOR}/", data=body, content_type="application/json", **extra
    )
    return inbound_callback(request, connector=CONNECTOR).status_code
