"""Parameters of /v1/events and /v1/webhook_endpoints, and the objects they answer."""

import re

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from core.api.exceptions import ParameterError
from core.api.pagination import ListParams
from core.api.serializers import (
    BooleanField,
    ExpandField,
    IntegerField,
    MetadataField,
    StripeSerializer,
)

_EVENT_TYPE = re.compile(r"^[a-z_]+(\.[a-z_]+)+$")
_EVENT_TYPE_OR_ALL = r"^(\*|[a-z_]+(\.[a-z_]+)+)$"
MAX_ROLL_OVERLAP_SECONDS = 7 * 24 * 3600


@extend_schema_field(
    {
        # Event types, or "*" alone; a single string is a list of one.
        "anyOf": [
            {
                "type": "array",
                "items": {"type": "string", "maxLength": 100, "pattern": _EVENT_TYPE.pattern},
                "minItems": 1,
                "maxItems": 100,
            },
            {
                "type": "array",
                "items": {"type": "string", "enum": ["*"]},
                "maxItems": 1,
                "minItems": 1,
            },
            {"type": "string", "maxLength": 100, "pattern": _EVENT_TYPE_OR_ALL},
        ]
    }
)
class EnabledEventsField(serializers.ListField):
    """["*"] (every event) or a list of event types; a single string is a list of one."""

    def __init__(self, **kwargs):
        super().__init__(
            child=serializers.CharField(max_length=100),
            max_length=100,
            allow_empty=False,  # and the schema says minItems: 1
            error_messages={"empty": "enabled_events must not be empty."},
            **kwargs,
        )

    def to_internal_value(self, data):
        if isinstance(data, str):
            data = [data]
        values = super().to_internal_value(data)
        if not values:
            raise serializers.ValidationError("enabled_events must not be empty.")
        if "*" in values and len(values) > 1:
            raise serializers.ValidationError('"*" cannot be combined with other event types.')
        for value in values:
            if value != "*" and not _EVENT_TYPE.match(value):
                raise serializers.ValidationError(f"Invalid event type: {value}.")
        return list(dict.fromkeys(values))


class EventRetrieveSerializer(StripeSerializer):
    expand = ExpandField(allowed=())


class EventListSerializer(ListParams):
    type = serializers.CharField(
        required=False,
        max_length=100,
        help_text='One event type, or a wildcard such as "payment_intent.*".',
    )
    types = serializers.ListField(
        child=serializers.CharField(max_length=100),
        required=False,
        max_length=20,
        help_text="Up to 20 event types (types[]=...); not together with type.",
    )

    def validate(self, attrs):
        if "type" in attrs and "types" in attrs:
            raise ParameterError(
                "You may only specify one of these parameters: type, types.",
                code="parameters_exclusive",
                param="types",
            )
        return attrs


class WebhookEndpointCreateSerializer(StripeSerializer):
    url = serializers.CharField(max_length=2048, help_text="https:// (http:// in test mode).")
    enabled_events = EnabledEventsField(help_text='["*"] for every event, or event types.')
    description = serializers.CharField(required=False, allow_blank=True, max_length=5000)
    metadata = MetadataField(required=False)
    expand = ExpandField(allowed=())


class WebhookEndpointUpdateSerializer(StripeSerializer):
    url = serializers.CharField(required=False, max_length=2048)
    enabled_events = EnabledEventsField(required=False)
    description = serializers.CharField(required=False, allow_blank=True, max_length=5000)
    metadata = MetadataField(required=False)
    disabled = BooleanField(required=False, help_text="true disables, false enables again.")
    expand = ExpandField(allowed=())


class WebhookEndpointRetrieveSerializer(StripeSerializer):
    expand = ExpandField(allowed=())


class WebhookEndpointListSerializer(ListParams):
    pass


class WebhookEndpointRollSecretSerializer(StripeSerializer):
    expires_in = IntegerField(
        required=False,
        min_value=0,
        max_value=MAX_ROLL_OVERLAP_SECONDS,
        help_text="Seconds the old secret keeps signing beside the new one (default 86400; "
        "0 stops it at once; at most 7 days).",
    )


class WebhookEndpointResendSerializer(StripeSerializer):
    event = serializers.CharField(max_length=40, help_text="The event to send again (evt_...).")


class WebhookEndpointTestSerializer(StripeSerializer):
    pass


class EventRequestSerializer(serializers.Serializer):
    id = serializers.CharField(allow_null=True, help_text="The API request that caused it.")
    idempotency_key = serializers.CharField(allow_null=True)


class EventDataSerializer(serializers.Serializer):
    object = serializers.DictField(help_text="The object as the API renders it.")
    previous_attributes = serializers.DictField(
        required=False, help_text="On updates: the changed fields' values before."
    )
    object_version = serializers.IntegerField(
        help_text="The object's version: a higher one is newer. Drop an event whose version "
        "is below one you have already processed."
    )


class EventSerializer(serializers.Serializer):
    """The event object; webhook deliveries POST exactly this."""

    id = serializers.CharField()
    object = serializers.CharField(help_text='Always "event".')
    api_version = serializers.CharField()
    created = serializers.IntegerField(help_text="Unix seconds.")
    data = EventDataSerializer()
    livemode = serializers.BooleanField()
    pending_webhooks = serializers.IntegerField(help_text="Deliveries not yet succeeded.")
    request = EventRequestSerializer()
    type = serializers.CharField()


class EventListResponseSerializer(serializers.Serializer):
    object = serializers.CharField(help_text='Always "list".')
    data = EventSerializer(many=True)
    has_more = serializers.BooleanField()
    url = serializers.CharField()


class WebhookEndpointSerializer(serializers.Serializer):
    id = serializers.CharField()
    object = serializers.CharField(help_text='Always "webhook_endpoint".')
    api_version = serializers.CharField()
    application = serializers.CharField(allow_null=True)
    created = serializers.IntegerField()
    description = serializers.CharField(allow_null=True)
    disabled_reason = serializers.CharField(
        allow_null=True,
        help_text="merchant: disabled through the API; gone: it answered 410; failing: no "
        "delivery succeeded for 3 days.",
    )
    enabled_events = serializers.ListField(child=serializers.CharField())
    livemode = serializers.BooleanField()
    metadata = serializers.DictField(child=serializers.CharField())
    secret = serializers.CharField(
        required=False,
        help_text="whsec_...: only in the answers to create and roll_secret.",
    )
    status = serializers.CharField(help_text="enabled or disabled.")
    url = serializers.CharField()


class DeletedWebhookEndpointSerializer(serializers.Serializer):
    id = serializers.CharField()
    object = serializers.CharField(help_text='Always "webhook_endpoint".')
    deleted = serializers.BooleanField()


class WebhookEndpointListResponseSerializer(serializers.Serializer):
    object = serializers.CharField(help_text='Always "list".')
    data = WebhookEndpointSerializer(many=True)
    has_more = serializers.BooleanField()
    url = serializers.CharField()


class DeliveryAttemptSerializer(serializers.Serializer):
    number = serializers.IntegerField()
    attempted_at = serializers.IntegerField()
    status_code = serializers.IntegerField(allow_null=True)
    duration_ms = serializers.IntegerField()
    response_excerpt = serializers.CharField(help_text="The first 1 KB of the response.")
    error = serializers.CharField(allow_null=True)
    succeeded = serializers.BooleanField()


class WebhookDeliverySerializer(serializers.Serializer):
    id = serializers.CharField()
    object = serializers.CharField(help_text='Always "webhook_delivery".')
    attempt_count = serializers.IntegerField()
    attempts = DeliveryAttemptSerializer(many=True, required=False)
    created = serializers.IntegerField()
    endpoint = serializers.CharField()
    event = serializers.CharField()
    event_type = serializers.CharField()
    livemode = serializers.BooleanField()
    next_attempt_at = serializers.IntegerField(allow_null=True)
    reason = serializers.CharField(help_text="event (fan-out), resend or test (a ping).")
    status = serializers.CharField(help_text="pending, retrying, succeeded or failed.")
    succeeded_at = serializers.IntegerField(allow_null=True)


class WebhookDeliveryListResponseSerializer(serializers.Serializer):
    object = serializers.CharField(help_text='Always "list".')
    data = WebhookDeliverySerializer(many=True)
    has_more = serializers.BooleanField()
    url = serializers.CharField()
