"""Webhook endpoints: create, update, delete, roll the secret, resend an event, ping."""

from datetime import datetime, timedelta

from django.db import transaction
from django.utils import timezone

from core.api.serializers import metadata_initial, metadata_merge
from core.errors import InvalidRequestError, ResourceMissingError
from merchants.models import Merchant
from webhooks.models import (
    DeliveryReason,
    DisabledReason,
    Event,
    WebhookDelivery,
    WebhookEndpoint,
    WebhookEndpointStatus,
)
from webhooks.render import render_webhook_endpoint
from webhooks.services.deliveries import deliveries_create
from webhooks.services.events import event_write
from webhooks.signing import secret_generate
from webhooks.ssrf import UnsafeURLError, validate_url

MAX_ENDPOINTS = 16  # per merchant and mode, as Stripe
DEFAULT_ROLL_OVERLAP = timedelta(hours=24)


def _check_url(url: str, *, livemode: bool) -> None:
    try:
        validate_url(url, livemode=livemode)
    except UnsafeURLError as exc:
        raise InvalidRequestError(str(exc), code="url_invalid", param="url") from None


def webhook_endpoint_create(
    *,
    merchant: Merchant,
    livemode: bool,
    url: str,
    enabled_events: list[str],
    description: str = "",
    metadata: dict | None = None,
) -> tuple[WebhookEndpoint, str]:
    """A new enabled endpoint and its secret (the only time the secret is shown)."""
    _check_url(url, livemode=livemode)
    with transaction.atomic():
        count = WebhookEndpoint.objects.filter(
            merchant=merchant, livemode=livemode, deleted_at__isnull=True
        ).count()
        if count >= MAX_ENDPOINTS:
            raise InvalidRequestError(
                f"You have reached the maximum of {MAX_ENDPOINTS} webhook endpoints.",
                code="webhook_endpoint_limit",
            )
        secret = secret_generate()
        endpoint = WebhookEndpoint.objects.create(
            merchant=merchant,
            livemode=livemode,
            url=url,
            enabled_events=enabled_events,
            description=description,
            metadata=metadata_initial(metadata),
            secret=secret,
        )
    return endpoint, secret


def _locked(*, merchant: Merchant, livemode: bool, public_id: str) -> WebhookEndpoint:
    endpoint = (
        WebhookEndpoint.objects.select_for_update()
        .filter(merchant=merchant, livemode=livemode, public_id=public_id, deleted_at__isnull=True)
        .first()
    )
    if endpoint is None:
        raise ResourceMissingError(
            f"No such webhook endpoint: '{public_id}'", param="webhook_endpoint"
        )
    return endpoint


def webhook_endpoint_update(
    *, merchant: Merchant, livemode: bool, public_id: str, changes: dict
) -> WebhookEndpoint:
    """Change url, enabled_events, description, metadata or disabled. Enabling again
    forgets past failures."""
    if "url" in changes:
        _check_url(changes["url"], livemode=livemode)
    with transaction.atomic():
        endpoint = _locked(merchant=merchant, livemode=livemode, public_id=public_id)
        for field in ("url", "enabled_events", "description"):
            if field in changes:
                setattr(endpoint, field, changes[field])
        if "metadata" in changes:
            endpoint.metadata = metadata_merge(endpoint.metadata, changes["metadata"])
        if "disabled" in changes:
            if changes["disabled"]:
                if endpoint.status == WebhookEndpointStatus.ENABLED:
                    endpoint.disabled_reason = DisabledReason.MERCHANT
                endpoint.status = WebhookEndpointStatus.DISABLED
            else:
                endpoint.status = WebhookEndpointStatus.ENABLED
                endpoint.disabled_reason = DisabledReason.NONE
                endpoint.failing_since = None
        endpoint.save()
    return endpoint


def webhook_endpoint_delete(
    *, merchant: Merchant, livemode: bool, public_id: str
) -> WebhookEndpoint:
    """Delete an endpoint: nothing more is sent to it (its history stays)."""
    with transaction.atomic():
        endpoint = _locked(merchant=merchant, livemode=livemode, public_id=public_id)
        endpoint.deleted_at = timezone.now()
        endpoint.status = WebhookEndpointStatus.DISABLED
        endpoint.save(update_fields=["deleted_at", "status", "updated_at"])
    return endpoint


def webhook_endpoint_roll_secret(
    *,
    merchant: Merchant,
    livemode: bool,
    public_id: str,
    expires_in: timedelta = DEFAULT_ROLL_OVERLAP,
    now: datetime | None = None,
) -> tuple[WebhookEndpoint, str]:
    """A new secret; the old one keeps signing deliveries beside it for `expires_in`
    (0 stops it at once), so receivers can switch without losing a delivery."""
    now = now or timezone.now()
    with transaction.atomic():
        endpoint = _locked(merchant=merchant, livemode=livemode, public_id=public_id)
        moment = now.timestamp()
        kept = [item for item in endpoint.previous_secrets if item["expires_at"] > moment]
        if expires_in.total_seconds() > 0:
            kept.append(
                {"secret": endpoint.secret, "expires_at": int(moment + expires_in.total_seconds())}
            )
        endpoint.previous_secrets = kept
        endpoint.secret = secret_generate()
        endpoint.save(update_fields=["previous_secrets", "secret", "updated_at"])
    return endpoint, endpoint.secret


def webhook_endpoint_resend(
    *, merchant: Merchant, livemode: bool, public_id: str, event_id: str
) -> WebhookDelivery:
    """Send an event to the endpoint again, as a new delivery with its own retries."""
    with transaction.atomic():
        endpoint = _locked(merchant=merchant, livemode=livemode, public_id=public_id)
        _require_enabled(endpoint)
        event = Event.objects.filter(
            merchant=merchant, livemode=livemode, public_id=event_id
        ).first()
        if event is None:
            raise ResourceMissingError(f"No such event: '{event_id}'", param="event")
        [delivery] = deliveries_create(
            event=event, endpoints=[endpoint], reason=DeliveryReason.RESEND
        )
    return delivery


def webhook_endpoint_ping(*, merchant: Merchant, livemode: bool, public_id: str) -> WebhookDelivery:
    """Send the endpoint a `ping` event (its data.object is the endpoint, without secret)."""
    with transaction.atomic():
        endpoint = _locked(merchant=merchant, livemode=livemode, public_id=public_id)
        _require_enabled(endpoint)
        event = event_write(
            merchant=merchant,
            livemode=livemode,
            type="ping",
            object_id=endpoint.public_id,
            object_version=1,
            obj=render_webhook_endpoint(endpoint),
        )
        [delivery] = deliveries_create(
            event=event, endpoints=[endpoint], reason=DeliveryReason.TEST
        )
    return delivery


def _require_enabled(endpoint: WebhookEndpoint) -> None:
    if endpoint.status != WebhookEndpointStatus.ENABLED:
        raise InvalidRequestError(
            "This webhook endpoint is disabled; enable it first (disabled=false).",
            code="webhook_endpoint_disabled",
        )
