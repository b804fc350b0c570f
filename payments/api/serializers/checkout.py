"""Input serializers for /v1/checkout/sessions, and the output shapes for the schema."""

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from core.api.pagination import ListParams
from core.api.serializers import (
    EmailField,
    ExpandField,
    IntegerField,
    MetadataField,
    StripeSerializer,
)

SESSION_EXPAND = ("line_items", "payment_intent")


class HttpURLField(serializers.URLField):
    """An http(s) URL. success_url may hold the literal {CHECKOUT_SESSION_ID}."""

    def to_internal_value(self, data):
        value = super().to_internal_value(data)
        if not value.lower().startswith(("http://", "https://")):
            raise serializers.ValidationError("Not a valid URL: use http or https.")
        return value


class ProductDataSerializer(StripeSerializer):
    name = serializers.CharField(max_length=250)
    description = serializers.CharField(required=False, allow_blank=True, max_length=500)


class PriceDataSerializer(StripeSerializer):
    currency = serializers.CharField(max_length=3)
    unit_amount = IntegerField(min_value=1)
    product_data = ProductDataSerializer()


class LineItemInputSerializer(StripeSerializer):
    price_data = PriceDataSerializer()
    quantity = IntegerField(min_value=1, max_value=10_000, required=False, default=1)


class PaymentIntentDataSerializer(StripeSerializer):
    capture_method = serializers.ChoiceField(
        choices=["automatic", "automatic_async", "manual"], required=False
    )


class CheckoutSessionCreateSerializer(StripeSerializer):
    mode = serializers.ChoiceField(choices=["payment"], required=False)
    amount = IntegerField(required=False, help_text="Our extension: the total, without items.")
    currency = serializers.CharField(required=False, max_length=3)
    line_items = LineItemInputSerializer(many=True, required=False, max_length=100)
    success_url = HttpURLField(max_length=2048)
    cancel_url = HttpURLField(required=False, max_length=2048)
    payment_method_types = serializers.ListField(
        child=serializers.ChoiceField(
            choices=["card", "gopay", "ovo", "dana", "shopeepay", "qris", "bank_transfer"]
        ),
        required=False,
        min_length=1,
    )
    customer_email = EmailField(required=False, max_length=512)
    client_reference_id = serializers.CharField(required=False, max_length=200)
    metadata = MetadataField(required=False)
    expires_at = IntegerField(required=False, help_text="Unix seconds, 30 min to 24 h ahead.")
    payment_intent_data = PaymentIntentDataSerializer(required=False)
    expand = ExpandField(allowed=SESSION_EXPAND)


class CheckoutSessionRetrieveSerializer(StripeSerializer):
    expand = ExpandField(allowed=SESSION_EXPAND)


class CheckoutSessionListSerializer(ListParams):
    status = serializers.ChoiceField(choices=["open", "complete", "expired"], required=False)
    payment_intent = serializers.CharField(required=False, max_length=64)
    expand = ExpandField(allowed=tuple(f"data.{e}" for e in SESSION_EXPAND))


class LineItemListSerializer(ListParams):
    pass


# --- output (schema only: payments/render_checkout.py builds the dicts) ------------------


class LineItemPriceProductSerializer(serializers.Serializer):
    name = serializers.CharField()


class LineItemPriceSerializer(serializers.Serializer):
    object = serializers.CharField(help_text='Always "price".')
    currency = serializers.CharField()
    type = serializers.CharField(help_text='Always "one_time".')
    unit_amount = serializers.IntegerField()
    product_data = LineItemPriceProductSerializer()


class LineItemSerializer(serializers.Serializer):
    """One line of a checkout session's order."""

    id = serializers.CharField(help_text="li_...")
    object = serializers.CharField(help_text='Always "item".')
    amount_discount = serializers.IntegerField()
    amount_subtotal = serializers.IntegerField()
    amount_tax = serializers.IntegerField()
    amount_total = serializers.IntegerField()
    currency = serializers.CharField()
    description = serializers.CharField()
    price = LineItemPriceSerializer()
    quantity = serializers.IntegerField()


class LineItemListResponseSerializer(serializers.Serializer):
    """A page of a session's line items."""

    object = serializers.CharField(help_text='Always "list".')
    data = LineItemSerializer(many=True)
    has_more = serializers.BooleanField()
    url = serializers.CharField(help_text="/v1/checkout/sessions/{session}/line_items")


@extend_schema_field(
    {
        "oneOf": [
            {"type": "string"},
            {"$ref": "#/components/schemas/PaymentIntent"},
        ],
        "nullable": True,
        "description": "The PaymentIntent id (created on the first attempt to pay), or the "
        "object when expanded.",
    }
)
class ExpandablePaymentIntent(serializers.Field):
    pass


class CheckoutSessionSerializer(serializers.Serializer):
    """The checkout.session object: a hosted payment page."""

    id = serializers.CharField(help_text="cs_...")
    object = serializers.CharField(help_text='Always "checkout.session".')
    amount_subtotal = serializers.IntegerField()
    amount_total = serializers.IntegerField(help_text="In the currency's minor unit.")
    cancel_url = serializers.CharField(allow_null=True)
    client_reference_id = serializers.CharField(allow_null=True)
    created = serializers.IntegerField(help_text="Unix seconds.")
    currency = serializers.CharField()
    customer_email = serializers.CharField(allow_null=True)
    expires_at = serializers.IntegerField(help_text="Unix seconds.")
    line_items = LineItemListResponseSerializer(
        required=False, help_text="Only when expanded (expand[]=line_items)."
    )
    livemode = serializers.BooleanField()
    metadata = MetadataField()
    mode = serializers.ChoiceField(choices=["payment"])
    payment_intent = ExpandablePaymentIntent(allow_null=True)
    payment_method_types = serializers.ListField(child=serializers.CharField())
    payment_status = serializers.ChoiceField(choices=["unpaid", "paid"])
    status = serializers.ChoiceField(choices=["open", "complete", "expired"])
    success_url = serializers.CharField()
    url = serializers.CharField(
        allow_null=True, help_text="The hosted page while the session is open; null after."
    )


class CheckoutSessionListResponseSerializer(serializers.Serializer):
    """A page of checkout sessions, newest first."""

    object = serializers.CharField(help_text='Always "list".')
    data = CheckoutSessionSerializer(many=True)
    has_more = serializers.BooleanField()
    url = serializers.CharField(help_text="/v1/checkout/sessions")
