from django.db import models

from core.ids import new_id
from core.models import TimeStampedModel
from merchants.models import Merchant


def new_evt_id() -> str:
    return new_id("evt")


class Event(TimeStampedModel):
    """The transactional outbox: written in the same transaction as the change it describes.

    `data` is {"object": <the object as the API renders it>, "previous_attributes": {...}}.
    """

    public_id = models.CharField(max_length=40, unique=True, default=new_evt_id, editable=False)
    merchant = models.ForeignKey(Merchant, on_delete=models.PROTECT, related_name="+")
    livemode = models.BooleanField(default=False)
    type = models.CharField(max_length=64)
    api_version = models.CharField(max_length=16, default="2026-11-01")
    object_id = models.CharField(max_length=40)
    object_version = models.PositiveIntegerField(default=1)
    data = models.JSONField()
    request_id = models.CharField(max_length=64, blank=True)
    idempotency_key = models.CharField(max_length=255, blank=True)

    class Meta:
        indexes = [
            models.Index(
                fields=["merchant", "livemode", "-created_at", "-id"], name="webhooks_event_list"
            ),
            models.Index(fields=["object_id", "object_version"], name="webhooks_event_object"),
        ]

    def __str__(self) -> str:
        return f"{self.public_id} {self.type}"
