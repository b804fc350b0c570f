from django.db import models
from django.db.models import Q

from core.ids import new_id
from core.models import TimeStampedModel
from merchants.models import Merchant


def new_evt_id() -> str:
    return new_id("evt")


def new_we_id() -> str:
    return new_id("we")


def new_whdel_id() -> str:
    return new_id("whdel")


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


class WebhookEndpointStatus(models.TextChoices):
    ENABLED = "enabled"
    DISABLED = "disabled"


class DisabledReason(models.TextChoices):
    NONE = "", "not disabled"
    MERCHANT = "merchant", "disabled by the merchant"
    GONE = "gone", "the endpoint answered 410 Gone"
    FAILING = "failing", "every delivery failed for 3 days"


class WebhookEndpoint(TimeStampedModel):
    """A merchant's URL that receives the events it subscribed to, signed with `secret`.

    The secret has to stay readable (we sign with it), so it is stored as is, like the
    processors' API credentials; it is shown to the merchant only when created or rolled.
    """

    public_id = models.CharField(max_length=40, unique=True, default=new_we_id, editable=False)
    merchant = models.ForeignKey(Merchant, on_delete=models.PROTECT, related_name="+")
    livemode = models.BooleanField(default=False)
    url = models.URLField(max_length=2048)
    description = models.CharField(max_length=5000, blank=True)
    enabled_events = models.JSONField(default=list)  # ["*"] or a list of event types
    metadata = models.JSONField(default=dict)
    api_version = models.CharField(max_length=16, default="2026-11-01")
    status = models.CharField(
        max_length=16, choices=WebhookEndpointStatus.choices, default=WebhookEndpointStatus.ENABLED
    )
    disabled_reason = models.CharField(
        max_length=16, choices=DisabledReason.choices, default="", blank=True
    )
    secret = models.CharField(max_length=64)
    # Secrets replaced by a roll that still sign until their expiry:
    # [{"secret": "whsec_...", "expires_at": <unix seconds>}].
    previous_secrets = models.JSONField(default=list)
    # The first failed attempt since the last success; 3 days of failures disable it.
    failing_since = models.DateTimeField(null=True, blank=True)
    deleted_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(status__in=WebhookEndpointStatus.values),
                name="webhooks_webhookendpoint_status",
            ),
            models.CheckConstraint(
                condition=Q(disabled_reason__in=DisabledReason.values),
                name="webhooks_webhookendpoint_disabled_reason",
            ),
        ]
        indexes = [
            # event_create looks up the live endpoints of a merchant and mode in every
            # state-changing transaction.
            models.Index(
                fields=["merchant", "livemode", "status"],
                condition=Q(deleted_at__isnull=True),
                name="webhooks_endpoint_active",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.public_id} {self.url}"

    @property
    def is_enabled(self) -> bool:
        return self.status == WebhookEndpointStatus.ENABLED and self.deleted_at is None

    def subscribes_to(self, event_type: str) -> bool:
        return "*" in self.enabled_events or event_type in self.enabled_events


class DeliveryStatus(models.TextChoices):
    PENDING = "pending"
    RETRYING = "retrying"
    SUCCEEDED = "succeeded"
    FAILED = "failed"


ACTIVE_DELIVERY_STATUSES = (DeliveryStatus.PENDING, DeliveryStatus.RETRYING)

DELIVERY_TRANSITIONS: dict[str, set[str]] = {
    DeliveryStatus.PENDING: {DeliveryStatus.SUCCEEDED, DeliveryStatus.RETRYING,
                             DeliveryStatus.FAILED},
    DeliveryStatus.RETRYING: {DeliveryStatus.SUCCEEDED, DeliveryStatus.RETRYING,
                              DeliveryStatus.FAILED},
    DeliveryStatus.SUCCEEDED: set(),
    DeliveryStatus.FAILED: set(),
}  # fmt: skip


class DeliveryReason(models.TextChoices):
    EVENT = "event"  # fanned out when the event was written
    RESEND = "resend"  # asked for through the API
    TEST = "test"  # a ping sent through the API


class WebhookDelivery(TimeStampedModel):
    """One event on its way to one endpoint. The retry schedule is `next_attempt_at`; a
    worker owns the row while `locked_until` is in the future and it holds `lease_token`."""

    public_id = models.CharField(max_length=40, unique=True, default=new_whdel_id, editable=False)
    event = models.ForeignKey(Event, on_delete=models.CASCADE, related_name="deliveries")
    endpoint = models.ForeignKey(
        WebhookEndpoint, on_delete=models.CASCADE, related_name="deliveries"
    )
    reason = models.CharField(
        max_length=16, choices=DeliveryReason.choices, default=DeliveryReason.EVENT
    )
    status = models.CharField(
        max_length=16, choices=DeliveryStatus.choices, default=DeliveryStatus.PENDING
    )
    attempt_count = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    locked_until = models.DateTimeField(null=True, blank=True)
    lease_token = models.CharField(max_length=32, blank=True)
    last_attempt_at = models.DateTimeField(null=True, blank=True)
    succeeded_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(status__in=DeliveryStatus.values),
                name="webhooks_webhookdelivery_status",
            ),
            models.CheckConstraint(
                condition=Q(reason__in=DeliveryReason.values),
                name="webhooks_webhookdelivery_reason",
            ),
            # A delivery still to be made always knows when; a finished one never does.
            models.CheckConstraint(
                condition=(
                    Q(status__in=ACTIVE_DELIVERY_STATUSES, next_attempt_at__isnull=False)
                    | Q(
                        status__in=(DeliveryStatus.SUCCEEDED, DeliveryStatus.FAILED),
                        next_attempt_at__isnull=True,
                    )
                ),
                name="webhooks_webhookdelivery_schedule",
            ),
            # The fan-out of an event makes one delivery per endpoint, even if it ran twice;
            # resends and tests are extra deliveries of the same pair.
            models.UniqueConstraint(
                fields=["event", "endpoint"],
                condition=Q(reason="event"),
                name="webhooks_webhookdelivery_once_per_endpoint",
            ),
        ]
        indexes = [
            # The sweeper's scan: only unfinished deliveries, by due time.
            models.Index(
                fields=["next_attempt_at"],
                condition=Q(status__in=("pending", "retrying")),
                name="webhooks_delivery_due",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.public_id} {self.status}"


class DeliveryAttempt(models.Model):
    """One HTTP POST of a delivery, whatever came of it. Append-only."""

    delivery = models.ForeignKey(WebhookDelivery, on_delete=models.CASCADE, related_name="attempts")
    number = models.PositiveIntegerField()
    attempted_at = models.DateTimeField()
    url = models.CharField(max_length=2048)
    status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    duration_ms = models.PositiveIntegerField(default=0)
    response_excerpt = models.CharField(max_length=1024, blank=True)
    error = models.CharField(max_length=1000, blank=True)
    succeeded = models.BooleanField(default=False)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["delivery", "number"], name="webhooks_deliveryattempt_number_once"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.delivery_id} #{self.number} {self.status_code or self.error}"


class InboundCallback(models.Model):
    """A processor's callback, kept exactly as it arrived, before anything else happens."""

    connector = models.CharField(max_length=64)
    headers = models.JSONField(default=dict)
    body = models.BinaryField()
    received_at = models.DateTimeField()
    signature_valid = models.BooleanField(default=False)
    provider_event_id = models.CharField(max_length=255, blank=True)
    provider_event_type = models.CharField(max_length=255, blank=True)
    is_duplicate = models.BooleanField(default=False)
    processed_at = models.DateTimeField(null=True, blank=True)
    error = models.TextField(blank=True)
    note = models.TextField(blank=True)

    class Meta:
        constraints = [
            # Providers send a callback twice (or more): one authentic row per provider event
            # is processed. Forged (badly signed) or duplicate copies are kept beside it.
            models.UniqueConstraint(
                fields=["connector", "provider_event_id"],
                condition=Q(signature_valid=True, is_duplicate=False) & ~Q(provider_event_id=""),
                name="webhooks_inboundcallback_event_once",
            ),
        ]
        indexes = [
            models.Index(
                fields=["received_at"],
                condition=Q(processed_at__isnull=True, signature_valid=True),
                name="webhooks_inbound_unprocessed",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.connector} {self.provider_event_id or self.pk}"
