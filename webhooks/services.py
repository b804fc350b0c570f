from core.logging import request_id_var
from merchants.models import Merchant
from webhooks.models import Event


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
    """Record an event. Call it inside the transaction that made the change (outbox)."""
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
        idempotency_key=idempotency_key,
    )
