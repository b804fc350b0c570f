from datetime import datetime

from django.utils import timezone

from core.logging import idempotency_key_var, request_id_var
from merchants.models import Merchant
from webhooks.models import DeliveryReason, Event, WebhookEndpoint, WebhookEndpointStatus
from webhooks.services.deliveries import deliveries_create


def event_write(
    *,
    merchant: Merchant,
    livemode: bool,
    type: str,
    object_id: str,
    object_version: int,
    obj: dict,
    previous_attributes: dict | None = None,
    idempotency_key: str = "",
    now: datetime | None = None,
) -> Event:
    """The Event row alone, without deliveries (test pings use it)."""
    data: dict = {"object": obj}
    if previous_attributes:
        data["previous_attributes"] = previous_attributes
    request_id = request_id_var.get()
    return Event.objects.create(
        merchant=merchant,
        livemode=livemode,
        type=type,
        object_id=object_id,
        object_version=object_version,
        data=data,
        request_id="" if request_id == "-" else request_id,
        idempotency_key=idempotency_key or idempotency_key_var.get(),
        created_at=now or timezone.now(),
    )


def event_create(
    *,
    merchant: Merchant,
    livemode: bool,
    type: str,
    object_id: str,
    object_version: int,
    obj: dict,
    previous_attributes: dict | None = None,
    idempotency_key: str = "",
) -> Event:
    """Record an event and its deliveries. Call it inside the transaction that made the
    change (outbox): the event and one WebhookDelivery per enabled endpoint of the merchant
    and mode that subscribes to `type` commit or roll back with the change. Sending is
    enqueued for after the commit; if that message is lost, the sweeper sends it."""
    now = timezone.now()
    event = event_write(
        merchant=merchant,
        livemode=livemode,
        type=type,
        object_id=object_id,
        object_version=object_version,
        obj=obj,
        previous_attributes=previous_attributes,
        idempotency_key=idempotency_key,
        now=now,
    )
    endpoints = [
        endpoint
        for endpoint in WebhookEndpoint.objects.filter(
            merchant=merchant,
            livemode=livemode,
            status=WebhookEndpointStatus.ENABLED,
            deleted_at__isnull=True,
        ).only("pk", "enabled_events")
        if endpoint.subscribes_to(type)
    ]
    if endpoints:
        deliveries_create(event=event, endpoints=endpoints, reason=DeliveryReason.EVENT, now=now)
    return event
