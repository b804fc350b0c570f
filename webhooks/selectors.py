"""Reads of the webhooks app, always scoped to a merchant and mode."""

from django.db.models import Count, Q, QuerySet

from core.errors import ResourceMissingError
from merchants.models import Merchant
from webhooks.models import ACTIVE_DELIVERY_STATUSES, Event, WebhookDelivery, WebhookEndpoint


def _with_pending(events: QuerySet) -> QuerySet:
    return events.annotate(
        pending_webhooks=Count(
            "deliveries", filter=Q(deliveries__status__in=ACTIVE_DELIVERY_STATUSES)
        )
    )


def event_list(
    *, merchant: Merchant, livemode: bool, types: list[str] | None = None
) -> QuerySet[Event]:
    """Events newest first; `types` may hold "payment_intent.*" wildcards."""
    events = Event.objects.filter(merchant=merchant, livemode=livemode)
    if types:
        condition = Q()
        for name in types:
            if name.endswith(".*"):
                condition |= Q(type__startswith=name[:-1])
            else:
                condition |= Q(type=name)
        events = events.filter(condition)
    return _with_pending(events)


def event_get(*, merchant: Merchant, livemode: bool, public_id: str) -> Event:
    event = _with_pending(
        Event.objects.filter(merchant=merchant, livemode=livemode, public_id=public_id)
    ).first()
    if event is None:
        raise ResourceMissingError(f"No such event: '{public_id}'", param="id")
    return event


def webhook_endpoint_list(*, merchant: Merchant, livemode: bool) -> QuerySet[WebhookEndpoint]:
    return WebhookEndpoint.objects.filter(
        merchant=merchant, livemode=livemode, deleted_at__isnull=True
    )


def webhook_endpoint_get(*, merchant: Merchant, livemode: bool, public_id: str) -> WebhookEndpoint:
    endpoint = (
        webhook_endpoint_list(merchant=merchant, livemode=livemode)
        .filter(public_id=public_id)
        .first()
    )
    if endpoint is None:
        raise ResourceMissingError(f"No such webhook endpoint: '{public_id}'", param="id")
    return endpoint


def webhook_delivery_list(*, endpoint: WebhookEndpoint) -> QuerySet[WebhookDelivery]:
    return (
        WebhookDelivery.objects.filter(endpoint=endpoint)
        .select_related("event", "endpoint")
        .prefetch_related("attempts")
    )
