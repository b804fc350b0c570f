from django.contrib import admin

from webhooks.models import (
    DeliveryAttempt,
    Event,
    InboundCallback,
    WebhookDelivery,
    WebhookEndpoint,
)


@admin.register(Event)
class EventAdmin(admin.ModelAdmin):
    list_display = ("public_id", "type", "merchant", "livemode", "object_id", "created_at")
    list_filter = ("livemode", "type")
    search_fields = ("public_id", "object_id")
    readonly_fields = [f.name for f in Event._meta.fields]


@admin.register(WebhookEndpoint)
class WebhookEndpointAdmin(admin.ModelAdmin):
    list_display = ("public_id", "url", "merchant", "livemode", "status", "disabled_reason")
    list_filter = ("livemode", "status")
    search_fields = ("public_id", "url")
    exclude = ("secret", "previous_secrets")  # never shown, even to operators


class DeliveryAttemptInline(admin.TabularInline):
    model = DeliveryAttempt
    extra = 0
    can_delete = False
    readonly_fields = [f.name for f in DeliveryAttempt._meta.fields]


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(admin.ModelAdmin):
    list_display = ("public_id", "event", "endpoint", "status", "attempt_count", "next_attempt_at")
    list_filter = ("status", "reason")
    search_fields = ("public_id", "event__public_id", "endpoint__public_id")
    readonly_fields = [f.name for f in WebhookDelivery._meta.fields]
    inlines = [DeliveryAttemptInline]


@admin.register(InboundCallback)
class InboundCallbackAdmin(admin.ModelAdmin):
    list_display = ("connector", "provider_event_id", "signature_valid", "is_duplicate",
                    "received_at", "processed_at")  # fmt: skip
    list_filter = ("connector", "signature_valid", "is_duplicate")
    search_fields = ("provider_event_id",)
    readonly_fields = [f.name for f in InboundCallback._meta.fields]
