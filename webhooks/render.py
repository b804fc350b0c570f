"""Events and webhook endpoints as the API renders them (Stripe's wire format)."""

from webhooks.models import DeliveryAttempt, Event, WebhookDelivery, WebhookEndpoint


def ts(value) -> int | None:
    return int(value.timestamp()) if value else None


def render_event(event: Event, *, pending_webhooks: int = 0) -> dict:
    """The event object; webhook bodies are exactly this. `data.object_version` is the
    version of `data.object`, so a receiver can drop an event older than one it has seen."""
    data = dict(event.data)
    data["object_version"] = event.object_version
    return {
        "id": event.public_id,
        "object": "event",
        "api_version": event.api_version,
        "created": ts(event.created_at),
        "data": data,
        "livemode": event.livemode,
        "pending_webhooks": pending_webhooks,
        "request": {
            "id": event.request_id or None,
            "idempotency_key": event.idempotency_key or None,
        },
        "type": event.type,
    }


def render_webhook_endpoint(endpoint: WebhookEndpoint, *, secret: str | None = None) -> dict:
    """The endpoint; `secret` only in the answers to create and roll_secret."""
    if endpoint.deleted_at is not None:
        return {"id": endpoint.public_id, "object": "webhook_endpoint", "deleted": True}
    body = {
        "id": endpoint.public_id,
        "object": "webhook_endpoint",
        "api_version": endpoint.api_version,
        "application": None,
        "created": ts(endpoint.created_at),
        "description": endpoint.description or None,
        "disabled_reason": endpoint.disabled_reason or None,
        "enabled_events": list(endpoint.enabled_events),
        "livemode": endpoint.livemode,
        "metadata": dict(endpoint.metadata),
        "status": endpoint.status,
        "url": endpoint.url,
    }
    if secret is not None:
        body["secret"] = secret
    return body


def render_attempt(attempt: DeliveryAttempt) -> dict:
    return {
        "attempted_at": ts(attempt.attempted_at),
        "duration_ms": attempt.duration_ms,
        "error": attempt.error or None,
        "number": attempt.number,
        "response_excerpt": attempt.response_excerpt,
        "status_code": attempt.status_code,
        "succeeded": attempt.succeeded,
    }


def render_delivery(delivery: WebhookDelivery, *, attempts: bool = False) -> dict:
    body = {
        "id": delivery.public_id,
        "object": "webhook_delivery",
        "attempt_count": delivery.attempt_count,
        "created": ts(delivery.created_at),
        "endpoint": delivery.endpoint.public_id,
        "event": delivery.event.public_id,
        "event_type": delivery.event.type,
        "livemode": delivery.event.livemode,
        "next_attempt_at": ts(delivery.next_attempt_at),
        "reason": delivery.reason,
        "status": delivery.status,
        "succeeded_at": ts(delivery.succeeded_at),
    }
    if attempts:
        ordered = sorted(delivery.attempts.all(), key=lambda attempt: attempt.number)
        body["attempts"] = [render_attempt(attempt) for attempt in ordered]
    return body
