"""Sending webhook deliveries, without ever holding a transaction across the HTTP call.

Phase 1 claims the row with a conditional update of its lease (`lease_token`,
`locked_until`); phase 2 POSTs with no transaction open; phase 3 records the attempt and
the next state in one short transaction. A task message, or the sweeper, hands a worker a
lease token; claiming swaps it for a fresh one, so two copies of a message (a broker
redelivery, a sweep that overlaps) cannot both send. Anything whose lease ran out (a lost
message, a killed worker) is due again for the sweeper.
"""

import json
import logging
import random
import secrets
from collections.abc import Iterable
from datetime import datetime, timedelta

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.db.models import Count, F, OuterRef, Q, Subquery
from django.utils import timezone

from core import writes
from merchants.models import Membership, Role
from webhooks.models import (
    ACTIVE_DELIVERY_STATUSES,
    DELIVERY_TRANSITIONS,
    DeliveryAttempt,
    DeliveryStatus,
    DisabledReason,
    Event,
    WebhookDelivery,
    WebhookEndpoint,
    WebhookEndpointStatus,
)
from webhooks.render import render_event
from webhooks.signing import signature_headers
from webhooks.ssrf import RESPONSE_EXCERPT_BYTES, PostResult, safe_post

logger = logging.getLogger("webhooks")

# Seconds to wait after the 1st, 2nd, ... failed attempt; every 10 h after the 6th. The
# first attempt goes at once.
RETRY_DELAYS = (60, 300, 1800, 7200, 18000, 36000)
RETRY_JITTER = 0.1  # +-10 %, so endpoints that failed together do not retry together
GIVE_UP_AFTER = timedelta(days=3)  # a delivery still failing this long after it began fails
DISABLE_AFTER = timedelta(days=3)  # an endpoint with no success for this long is disabled
# How long a dispatched message may sit in the broker before the sweeper sends it again.
DISPATCH_LEASE = timedelta(minutes=2)
# How long a worker owns a batch of deliveries while it POSTs them (20 x 10 s at most).
SEND_LEASE = timedelta(minutes=5)
DISPATCH_BATCH = 20  # deliveries per task message


def retry_delay(attempts_made: int) -> timedelta:
    base = RETRY_DELAYS[min(attempts_made, len(RETRY_DELAYS)) - 1]
    return timedelta(seconds=base * random.uniform(1 - RETRY_JITTER, 1 + RETRY_JITTER))


def _token() -> str:
    return secrets.token_hex(16)


class _Dispatch:
    """Deliveries created in one transaction, sent in batches once it commits."""

    def __init__(self, now: datetime | None):
        self.now = now
        # (delivery or its id, lease token)
        self.claims: list[tuple[WebhookDelivery | int, str]] = []

    def send(self) -> None:
        from webhooks.tasks import deliver  # tasks import this module

        when = self.now.isoformat() if self.now is not None else None
        for start in range(0, len(self.claims), DISPATCH_BATCH):
            batch = [
                [getattr(delivery, "pk", delivery), token]
                for delivery, token in self.claims[start : start + DISPATCH_BATCH]
            ]
            deliver.delay(*((batch, when) if when else (batch,)))


def _enqueue(
    claims: Iterable[tuple[WebhookDelivery | int, str]], *, now: datetime | None = None
) -> None:
    """Send the deliveries once the current transaction commits. Deliveries created in one
    transaction (an API call, a bulk job) share their task messages, DISPATCH_BATCH each."""
    if writes.deferring():  # a guarded write batch: its statement is the commit
        claims = list(claims)
        writes.on_commit(lambda: _enqueue(claims, now=now))
        return
    connection = transaction.get_connection()
    if not connection.in_atomic_block:
        dispatch = _Dispatch(now)
        dispatch.claims.extend(claims)
        dispatch.send()
        return
    dispatch = getattr(connection, "_webhooks_dispatch", None)
    # Still waiting for this transaction's commit? (Rolled back or sent: start another.)
    live = dispatch is not None and any(
        entry[1] == dispatch.send for entry in connection.run_on_commit
    )
    if not live or dispatch.now != now:
        dispatch = _Dispatch(now)
        connection._webhooks_dispatch = dispatch
        transaction.on_commit(dispatch.send)
    dispatch.claims.extend(claims)


def deliveries_create(
    *, event: Event, endpoints: list[WebhookEndpoint], reason: str, now: datetime | None = None
) -> list[WebhookDelivery]:
    """One delivery of `event` per endpoint, due now; sent after the caller's commit."""
    now = now or timezone.now()
    token = _token()
    deliveries = writes.insert_many(
        [
            WebhookDelivery(
                event=event,
                endpoint=endpoint,
                reason=reason,
                next_attempt_at=now,
                locked_until=now + DISPATCH_LEASE,
                lease_token=token,
                created_at=now,
            )
            for endpoint in endpoints
        ]
    )
    # The rows themselves, not their ids: in a write batch the ids come when it is sent.
    _enqueue([(d, token) for d in deliveries])
    return deliveries


def delivery_sweep(*, now: datetime | None = None, batch: int = 1000, batches: int = 10) -> int:
    """Dispatch every delivery that is due and not leased (new ones whose message was lost,
    retries whose time came, ones a dead worker held). Safe to run concurrently: rows are
    claimed with SELECT ... FOR UPDATE SKIP LOCKED (PostgreSQL) and a new lease.

    `now` (tests) stands in for the clock, and is passed on to the sends it enqueues.
    """
    explicit = now
    now = now or timezone.now()
    total = 0
    for _ in range(batches):
        token = _token()
        with transaction.atomic():
            pks = list(
                WebhookDelivery.objects.select_for_update(skip_locked=True)
                .filter(status__in=ACTIVE_DELIVERY_STATUSES, next_attempt_at__lte=now)
                .filter(Q(locked_until__isnull=True) | Q(locked_until__lt=now))
                .order_by("next_attempt_at")
                .values_list("pk", flat=True)[:batch]
            )
            if pks:
                WebhookDelivery.objects.filter(pk__in=pks).update(
                    lease_token=token, locked_until=now + DISPATCH_LEASE
                )
                _enqueue([(pk, token) for pk in pks], now=explicit)
        total += len(pks)
        if len(pks) < batch:
            break
    return total


def signing_secrets(endpoint: WebhookEndpoint, now: datetime) -> list[str]:
    """The current secret, then those replaced by a roll that have not expired yet."""
    moment = now.timestamp()
    return [endpoint.secret] + [
        item["secret"] for item in endpoint.previous_secrets if item["expires_at"] > moment
    ]


# Deliveries of the same event not finished yet (the event's pending_webhooks).
_PENDING = Subquery(
    WebhookDelivery.objects.filter(
        event_id=OuterRef("event_id"), status__in=ACTIVE_DELIVERY_STATUSES
    )
    .order_by()
    .values("event_id")
    .annotate(count=Count("pk"))
    .values("count")[:1]
)


def delivery_body(delivery: WebhookDelivery) -> bytes:
    """The event as the Events API renders it (`delivery` annotated with _PENDING)."""
    event = render_event(delivery.event, pending_webhooks=delivery.pending_webhooks or 0)
    return json.dumps(event, separators=(",", ":"), ensure_ascii=False).encode()


def delivery_send(*, delivery_id: int, lease_token: str, now: datetime | None = None) -> str:
    """One delivery: see deliveries_send."""
    return deliveries_send(claims=[(delivery_id, lease_token)], now=now)[0]


def deliveries_send(*, claims: list[tuple[int, str]], now: datetime | None = None) -> list[str]:
    """Make one attempt of each delivery whose lease token in `claims` still holds it.
    Idempotent: a stale or duplicate message finds its token changed and does nothing.
    Returns an outcome per claim ("succeeded", "retrying", "failed", "not_claimed", ...)."""
    now = now or timezone.now()
    send_token = _token()
    # Phase 1: claim (conditional UPDATEs in autocommit, no transaction left open).
    by_token: dict[str, list[int]] = {}
    for pk, token in claims:
        by_token.setdefault(token, []).append(pk)
    for token, pks in by_token.items():
        WebhookDelivery.objects.filter(
            pk__in=pks, lease_token=token, status__in=ACTIVE_DELIVERY_STATUSES
        ).update(lease_token=send_token, locked_until=now + SEND_LEASE)
    deliveries = list(
        WebhookDelivery.objects.select_related("event", "endpoint")
        .annotate(pending_webhooks=_PENDING)
        .filter(pk__in=[pk for pk, _ in claims], lease_token=send_token)
        .order_by("pk")
    )
    outcomes: dict[int, str] = {}
    disabled = [d.pk for d in deliveries if not d.endpoint.is_enabled]
    if disabled:
        WebhookDelivery.objects.filter(pk__in=disabled, lease_token=send_token).update(
            status=DeliveryStatus.FAILED, next_attempt_at=None, locked_until=None,
            lease_token="", updated_at=now,
        )  # fmt: skip
        outcomes.update(dict.fromkeys(disabled, "endpoint_disabled"))
    # Phase 2: the POSTs, with no transaction open.
    results = [(d, _post(d, now)) for d in deliveries if d.pk not in outcomes]
    # Phase 3: record every attempt and the next states in one short transaction.
    if results:
        outcomes.update(_record(results=results, send_token=send_token, now=now))
    return [outcomes.get(pk, "not_claimed") for pk, _ in claims]


def _post(delivery: WebhookDelivery, now: datetime) -> PostResult:
    endpoint = delivery.endpoint
    body = delivery_body(delivery)
    headers = {
        "Content-Type": "application/json; charset=utf-8",
        "User-Agent": "Gateway-Webhooks/1.0",
        **signature_headers(
            secrets_=signing_secrets(endpoint, now),
            msg_id=delivery.event.public_id,  # stable across retries: receivers dedupe on it
            timestamp=int(now.timestamp()),
            body=body,
        ),
    }
    return safe_post(
        endpoint.url,
        body=body,
        headers=headers,
        livemode=endpoint.livemode,
        timeout=settings.GATEWAY_WEBHOOKS_TIMEOUT_SECONDS,
    )


def _outcome(row: WebhookDelivery, *, ok: bool, gone: bool, number: int, now) -> tuple:
    """(status, next_attempt_at, outcome) after attempt `number` of `row`."""
    if ok:
        return DeliveryStatus.SUCCEEDED, None, "succeeded"
    if gone:
        return DeliveryStatus.FAILED, None, "gone"
    next_at = now + retry_delay(number)
    if next_at - row.created_at > GIVE_UP_AFTER:
        return DeliveryStatus.FAILED, None, "failed"
    return DeliveryStatus.RETRYING, next_at, "retrying"


def _record(
    *, results: list[tuple[WebhookDelivery, PostResult]], send_token: str, now: datetime
) -> dict[int, str]:
    outcomes: dict[int, str] = {}
    attempts = []
    succeeded: list[int] = []
    healthy_again: dict[int, WebhookEndpoint] = {}
    with transaction.atomic():
        # Lock the batch's rows for these few statements: the attempt numbers are exact,
        # and a row whose lease ran out during the POSTs (a stalled worker) is not moved.
        current = {
            pk: (token, count)
            for pk, token, count in WebhookDelivery.objects.select_for_update()
            .filter(pk__in=[d.pk for d, _ in results])
            .order_by("pk")
            .values_list("pk", "lease_token", "attempt_count")
        }
        for delivery, result in results:
            token, count = current[delivery.pk]
            code = result.status_code
            ok = code is not None and 200 <= code < 300
            gone = code == 410
            error = result.error
            if code is not None and 300 <= code < 400 and not error:
                error = "redirects are not followed"
            number = count + 1
            attempts.append(
                DeliveryAttempt(
                    delivery_id=delivery.pk,
                    number=number,
                    attempted_at=now,
                    url=delivery.endpoint.url[:2048],
                    status_code=code,
                    duration_ms=result.duration_ms,
                    response_excerpt=result.excerpt[:RESPONSE_EXCERPT_BYTES],
                    error=error,
                    succeeded=ok,
                )
            )
            if token != send_token:
                WebhookDelivery.objects.filter(pk=delivery.pk).update(
                    attempt_count=number, last_attempt_at=now, updated_at=now
                )
                outcomes[delivery.pk] = "lease_lost"
                continue
            status, next_at, outcome = _outcome(delivery, ok=ok, gone=gone, number=number, now=now)
            assert status in DELIVERY_TRANSITIONS[delivery.status], (delivery.status, status)
            outcomes[delivery.pk] = outcome
            if ok:
                succeeded.append(delivery.pk)
                if delivery.endpoint.failing_since is not None:
                    healthy_again[delivery.endpoint_id] = delivery.endpoint
                continue
            WebhookDelivery.objects.filter(pk=delivery.pk).update(
                status=status, next_attempt_at=next_at, attempt_count=number,
                last_attempt_at=now, locked_until=None, lease_token="", updated_at=now,
            )  # fmt: skip
            _endpoint_health(delivery.endpoint, ok=False, gone=gone, now=now)
        if succeeded:  # the usual case: one statement for the whole batch
            WebhookDelivery.objects.filter(pk__in=succeeded).update(
                status=DeliveryStatus.SUCCEEDED, next_attempt_at=None,
                attempt_count=F("attempt_count") + 1, last_attempt_at=now, succeeded_at=now,
                locked_until=None, lease_token="", updated_at=now,
            )  # fmt: skip
        for endpoint in healthy_again.values():
            _endpoint_health(endpoint, ok=True, gone=False, now=now)
        DeliveryAttempt.objects.bulk_create(attempts)
    return outcomes


def _endpoint_health(endpoint: WebhookEndpoint, *, ok: bool, gone: bool, now: datetime) -> None:
    endpoints = WebhookEndpoint.objects.filter(pk=endpoint.pk)
    if ok:
        endpoints.filter(failing_since__isnull=False).update(failing_since=None)
        return
    if gone:
        webhook_endpoint_disable(endpoint_pk=endpoint.pk, reason=DisabledReason.GONE)
        return
    endpoints.filter(failing_since__isnull=True).update(failing_since=now)
    since = endpoints.values_list("failing_since", flat=True).first()
    if since is not None and now - since >= DISABLE_AFTER:
        webhook_endpoint_disable(endpoint_pk=endpoint.pk, reason=DisabledReason.FAILING)


def webhook_endpoint_disable(*, endpoint_pk: int, reason: str) -> bool:
    """Disable an endpoint that keeps failing (or answered 410); its owners get an email
    after the commit. Idempotent: only the first call disables and notifies."""
    changed = WebhookEndpoint.objects.filter(
        pk=endpoint_pk, status=WebhookEndpointStatus.ENABLED
    ).update(status=WebhookEndpointStatus.DISABLED, disabled_reason=reason)
    if changed:
        transaction.on_commit(lambda: _notify_owners(endpoint_pk, reason))
    return bool(changed)


def _notify_owners(endpoint_pk: int, reason: str) -> None:
    endpoint = WebhookEndpoint.objects.select_related("merchant").get(pk=endpoint_pk)
    emails = [
        email
        for email in Membership.objects.filter(
            merchant_id=endpoint.merchant_id, role=Role.OWNER
        ).values_list("user__email", flat=True)
        if email
    ]
    if not emails:
        return
    why = DisabledReason(reason).label
    mode = "live" if endpoint.livemode else "test"
    try:
        send_mail(
            subject=f"Webhook endpoint disabled: {endpoint.url}",
            message=(
                f"The {mode} mode webhook endpoint {endpoint.public_id} ({endpoint.url}) of "
                f"{endpoint.merchant.name} was disabled: {why}.\n\n"
                "No more events are sent to it. Fix the endpoint, enable it again "
                "(POST /v1/webhook_endpoints/{id} with disabled=false) and fetch what it "
                "missed from GET /v1/events, or resend events to it."
            ),
            from_email=None,
            recipient_list=emails,
        )
    except Exception:
        logger.exception("could not email the owners about %s", endpoint.public_id)
