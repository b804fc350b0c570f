from dataclasses import dataclass
from datetime import datetime

from django.utils import timezone

from core import writes
from core.logging import idempotency_key_var, request_id_var
from core.prepared import Prepared
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
    request_id = request_id_var.get()
    return Event.objects.create(
        merchant=merchant,
        livemode=livemode,
        type=type,
        object_id=object_id,
        object_version=object_version,
        data=_data(obj, previous_attributes),
        request_id="" if request_id == "-" else request_id,
        idempotency_key=idempotency_key or idempotency_key_var.get(),
        created_at=now or timezone.now(),
    )


def _data(obj: dict, previous_attributes: dict | None) -> dict:
    data: dict = {"object": obj}
    if previous_attributes:
        data["previous_attributes"] = previous_attributes
    return data


@dataclass(frozen=True)
class EventSpec:
    """One event to record: what `event_create` takes, for `events_create` to batch."""

    type: str
    object_id: str
    object_version: int
    obj: dict
    previous_attributes: dict | None = None


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
    spec = EventSpec(type, object_id, object_version, obj, previous_attributes)
    return events_create(
        merchant=merchant, livemode=livemode, specs=[spec], idempotency_key=idempotency_key
    )[0]


_SUBSCRIBERS = Prepared(
    lambda merchant_id, livemode: WebhookEndpoint.objects.filter(
        merchant_id=merchant_id,
        livemode=livemode,
        status=WebhookEndpointStatus.ENABLED,
        deleted_at__isnull=True,
    ).only("pk", "enabled_events")
)


def events_create(
    *,
    merchant: Merchant,
    livemode: bool,
    specs: list[EventSpec],
    idempotency_key: str = "",
) -> list[Event]:
    """`event_create` for several events of one change (a charge and its intent), in one
    INSERT and one read of the endpoints: the same guarantees, two statements instead of
    two per event. The events keep the order of `specs`."""
    now = timezone.now()
    request_id = request_id_var.get()
    events = writes.insert_many(
        [
            Event(
                merchant=merchant,
                livemode=livemode,
                type=spec.type,
                object_id=spec.object_id,
                object_version=spec.object_version,
                data=_data(spec.obj, spec.previous_attributes),
                request_id="" if request_id == "-" else request_id,
                idempotency_key=idempotency_key or idempotency_key_var.get(),
                created_at=now,
            )
            for spec in specs
        ]
    )
    endpoints = _SUBSCRIBERS.fetch(merchant_id=merchant.pk, livemode=livemode)
    for event in events:
        subscribed = [endpoint for endpoint in endpoints if endpoint.subscribes_to(event.type)]
        if subscribed:
            deliveries_create(
                event=event, endpoints=subscribed, reason=DeliveryReason.EVENT, now=now
            )
    return events
