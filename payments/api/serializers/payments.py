"""Input serializers for payment intents, payment methods, charges and refunds."""

from rest_framework import serializers

from core.api.pagination import ListParams
from core.api.serializers import (
    BooleanField,
    ExpandField,
    IntegerField,
    MetadataField,
    NumberOrDigitsField,
    StripeSerializer,
)

PI_EXPAND = ("latest_charge", "payment_method", "customer")
CHARGE_EXPAND = ("payment_intent",)
REFUND_EXPAND = ("charge",)
# Cards and the local methods of issue #6 (IDR only; see docs/api.md "Local payment methods").
PAYMENT_METHOD_TYPES = ["card", "gopay", "ovo", "dana", "shopeepay", "qris", "bank_transfer"]
BANKS = ["bca", "bni", "bri", "mandiri", "permata"]


class AddressSerializer(StripeSerializer):
    city = serializers.CharField(required=False, allow_blank=True, max_length=200)
    country = serializers.CharField(required=False, allow_blank=True, max_length=2)
    line1 = serializers.CharField(required=False, allow_blank=True, max_length=200)
    line2 = serializers.CharField(required=False, allow_blank=True, max_length=200)
    postal_code = serializers.CharField(required=False, allow_blank=True, max_length=20)
    state = serializers.CharField(required=False, allow_blank=True, max_length=200)


class BillingDetailsSerializer(StripeSerializer):
    address = AddressSerializer(required=False)
    email = serializers.EmailField(required=False, allow_blank=True)
    name = serializers.CharField(required=False, allow_blank=True, max_length=200)
    phone = serializers.CharField(required=False, allow_blank=True, max_length=40)


class CardInputSerializer(StripeSerializer):
    # Shape only; the card checks (Luhn, expiry, CVC) give Stripe's card_error codes.
    number = serializers.CharField(max_length=30)
    exp_month = NumberOrDigitsField()
    exp_year = NumberOrDigitsField()
    cvc = serializers.CharField(required=False, allow_blank=True, max_length=8)


class OvoInputSerializer(StripeSerializer):
    phone = serializers.CharField(max_length=20, help_text="The customer's OVO phone number.")


class BankTransferInputSerializer(StripeSerializer):
    bank = serializers.ChoiceField(choices=BANKS, help_text="The bank of the virtual account.")


class EmptyInputSerializer(StripeSerializer):
    pass


class PaymentMethodDataSerializer(StripeSerializer):
    type = serializers.ChoiceField(choices=PAYMENT_METHOD_TYPES)
    card = CardInputSerializer(required=False)
    ovo = OvoInputSerializer(required=False)
    bank_transfer = BankTransferInputSerializer(required=False)
    gopay = EmptyInputSerializer(required=False)
    dana = EmptyInputSerializer(required=False)
    shopeepay = EmptyInputSerializer(required=False)
    qris = EmptyInputSerializer(required=False)
    billing_details = BillingDetailsSerializer(required=False)
    metadata = MetadataField(required=False)


class AutomaticPaymentMethodsSerializer(StripeSerializer):
    enabled = BooleanField()
    allow_redirects = serializers.ChoiceField(choices=["always", "never"], required=False)


class PaymentIntentCreateSerializer(StripeSerializer):
    amount = IntegerField()
    currency = serializers.CharField(max_length=3)
    automatic_payment_methods = AutomaticPaymentMethodsSerializer(required=False)
    capture_method = serializers.ChoiceField(
        choices=["automatic", "automatic_async", "manual"], required=False
    )
    confirm = BooleanField(required=False)
    confirmation_method = serializers.ChoiceField(choices=["automatic", "manual"], required=False)
    customer = serializers.CharField(required=False, max_length=40)
    description = serializers.CharField(required=False, allow_blank=True, max_length=1000)
    metadata = MetadataField(required=False)
    payment_method = serializers.CharField(required=False, max_length=64)
    payment_method_data = PaymentMethodDataSerializer(required=False)
    payment_method_types = serializers.ListField(
        child=serializers.ChoiceField(choices=PAYMENT_METHOD_TYPES), required=False, min_length=1
    )
    receipt_email = serializers.EmailField(required=False, allow_blank=True)
    return_url = serializers.URLField(required=False, max_length=2048)
    statement_descriptor = serializers.CharField(required=False, allow_blank=True, max_length=22)
    statement_descriptor_suffix = serializers.CharField(
        required=False, allow_blank=True, max_length=22
    )
    setup_future_usage = serializers.ChoiceField(
        choices=["off_session", "on_session"], required=False
    )
    off_session = BooleanField(required=False)
    use_stripe_sdk = BooleanField(required=False)
    expand = ExpandField(allowed=PI_EXPAND)


class PaymentIntentUpdateSerializer(StripeSerializer):
    amount = IntegerField(required=False)
    currency = serializers.CharField(max_length=3, required=False)
    capture_method = serializers.ChoiceField(
        choices=["automatic", "automatic_async", "manual"], required=False
    )
    customer = serializers.CharField(required=False, max_length=40)
    description = serializers.CharField(required=False, allow_blank=True, max_length=1000)
    metadata = MetadataField(required=False)
    payment_method = serializers.CharField(required=False, max_length=64)
    payment_method_types = serializers.ListField(
        child=serializers.ChoiceField(choices=PAYMENT_METHOD_TYPES), required=False, min_length=1
    )
    receipt_email = serializers.EmailField(required=False, allow_blank=True)
    statement_descriptor = serializers.CharField(required=False, allow_blank=True, max_length=22)
    setup_future_usage = serializers.ChoiceField(
        choices=["off_session", "on_session"], required=False
    )
    expand = ExpandField(allowed=PI_EXPAND)


class PaymentIntentConfirmSerializer(StripeSerializer):
    capture_method = serializers.ChoiceField(
        choices=["automatic", "automatic_async", "manual"], required=False
    )
    client_secret = serializers.CharField(required=False, max_length=200)
    payment_method = serializers.CharField(required=False, max_length=64)
    payment_method_data = PaymentMethodDataSerializer(required=False)
    receipt_email = serializers.EmailField(required=False, allow_blank=True)
    return_url = serializers.URLField(required=False, max_length=2048)
    setup_future_usage = serializers.ChoiceField(
        choices=["off_session", "on_session"], required=False
    )
    off_session = BooleanField(required=False)
    use_stripe_sdk = BooleanField(required=False)
    expand = ExpandField(allowed=PI_EXPAND)


class PaymentIntentCaptureSerializer(StripeSerializer):
    amount_to_capture = IntegerField(required=False)
    metadata = MetadataField(required=False)
    expand = ExpandField(allowed=PI_EXPAND)


class PaymentIntentCancelSerializer(StripeSerializer):
    cancellation_reason = serializers.ChoiceField(
        choices=["duplicate", "fraudulent", "requested_by_customer", "abandoned"], required=False
    )
    expand = ExpandField(allowed=PI_EXPAND)


class PaymentIntentRetrieveSerializer(StripeSerializer):
    client_secret = serializers.CharField(required=False, max_length=200)
    expand = ExpandField(allowed=PI_EXPAND)


class PaymentIntentListSerializer(ListParams):
    customer = serializers.CharField(required=False, max_length=40)
    expand = ExpandField(allowed=tuple(f"data.{e}" for e in PI_EXPAND))


class PaymentMethodCreateSerializer(StripeSerializer):
    type = serializers.ChoiceField(choices=["card"])
    card = CardInputSerializer(required=False)
    billing_details = BillingDetailsSerializer(required=False)
    metadata = MetadataField(required=False)
    expand = ExpandField(allowed=())


class PaymentMethodUpdateSerializer(StripeSerializer):
    billing_details = BillingDetailsSerializer(required=False)
    metadata = MetadataField(required=False)
    expand = ExpandField(allowed=())


class PaymentMethodAttachSerializer(StripeSerializer):
    customer = serializers.CharField(max_length=40)
    expand = ExpandField(allowed=())


class PaymentMethodListSerializer(ListParams):
    customer = serializers.CharField(required=False, max_length=40)
    type = serializers.ChoiceField(choices=["card"], required=False)
    expand = ExpandField(allowed=())


class ChargeListSerializer(ListParams):
    customer = serializers.CharField(required=False, max_length=40)
    payment_intent = serializers.CharField(required=False, max_length=40)
    expand = ExpandField(allowed=tuple(f"data.{e}" for e in CHARGE_EXPAND))


class RefundDestinationSerializer(StripeSerializer):
    bank = serializers.ChoiceField(choices=BANKS)
    account_number = serializers.CharField(max_length=20)
    account_holder_name = serializers.CharField(max_length=100)


class RefundCreateSerializer(StripeSerializer):
    amount = IntegerField(required=False)
    charge = serializers.CharField(required=False, max_length=40)
    payment_intent = serializers.CharField(required=False, max_length=40)
    reason = serializers.ChoiceField(
        choices=["duplicate", "fraudulent", "requested_by_customer"], required=False
    )
    metadata = MetadataField(required=False)
    destination = RefundDestinationSerializer(
        required=False,
        help_text="bank_transfer and qris payments only: the customer's bank account the "
        "refund is paid to (an extension; Stripe has none).",
    )
    expand = ExpandField(allowed=REFUND_EXPAND)


class RefundUpdateSerializer(StripeSerializer):
    metadata = MetadataField(required=False)
    expand = ExpandField(allowed=REFUND_EXPAND)


class RefundListSerializer(ListParams):
    charge = serializers.CharField(required=False, max_length=40)
    payment_intent = serializers.CharField(required=False, max_length=40)
    expand = ExpandField(allowed=tuple(f"data.{e}" for e in REFUND_EXPAND))


class ExpandOnlySerializer(StripeSerializer):
    expand = ExpandField(allowed=())
