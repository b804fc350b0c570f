"""The objects as payments/render.py renders them, for the OpenAPI schema only (output).

Nothing serializes through these: render_* build the dicts. tests/test_openapi.py checks
that every key a real object renders is documented here, and nothing more.
"""

from drf_spectacular.utils import PolymorphicProxySerializer, extend_schema_field
from rest_framework import serializers

from core.api.serializers import MetadataField
from payments.api.serializers.customers import CustomerSerializer, DeletedCustomerSerializer

# Retrieving a deleted customer answers its stub, as Stripe does.
CustomerOrDeletedSerializer = PolymorphicProxySerializer(
    component_name="CustomerOrDeleted",
    serializers=[CustomerSerializer, DeletedCustomerSerializer],
    resource_type_field_name=None,
)


def _expandable(component: str, *, nullable: bool = False):
    """An id, or the whole object when the request asked for it with expand[]."""
    schema = {
        "oneOf": [{"type": "string"}, {"$ref": f"#/components/schemas/{component}"}],
        "description": f"The {component} id, or the {component} object when expanded.",
    }
    if nullable:
        schema["nullable"] = True

    @extend_schema_field(schema)
    class ExpandableField(serializers.Field):
        pass

    return ExpandableField(allow_null=nullable)


def _timestamp(**kwargs):
    return serializers.IntegerField(help_text="Unix seconds.", **kwargs)


def _text(**kwargs):
    return serializers.CharField(allow_null=True, **kwargs)


# --- payment_method ----------------------------------------------------------------------


class AddressSerializer(serializers.Serializer):
    city = _text()
    country = _text(help_text="Two-letter country code.")
    line1 = _text()
    line2 = _text()
    postal_code = _text()
    state = _text()


class BillingDetailsSerializer(serializers.Serializer):
    address = AddressSerializer(allow_null=True)
    email = _text()
    name = _text()
    phone = _text()


class CardChecksSerializer(serializers.Serializer):
    address_line1_check = _text()
    address_postal_code_check = _text()
    cvc_check = _text(help_text='"unchecked" when a CVC was given, else null.')


class CardNetworksSerializer(serializers.Serializer):
    available = serializers.ListField(child=serializers.CharField())
    preferred = _text()


_BRANDS = ["amex", "diners", "discover", "jcb", "mastercard", "unionpay", "visa", "unknown"]
_FUNDING = ["credit", "debit", "prepaid", "unknown"]


class PaymentMethodCardSerializer(serializers.Serializer):
    brand = serializers.ChoiceField(choices=_BRANDS)
    checks = CardChecksSerializer()
    country = _text(help_text="Issuer country, known once the card network has seen it.")
    display_brand = serializers.CharField()
    exp_month = serializers.IntegerField()
    exp_year = serializers.IntegerField()
    fingerprint = serializers.CharField(help_text="The same card number has the same one.")
    funding = serializers.ChoiceField(choices=_FUNDING)
    last4 = serializers.CharField()
    networks = CardNetworksSerializer()
    wallet = serializers.JSONField(allow_null=True, help_text="Always null.")


_TYPES = ["card", "gopay", "ovo", "dana", "shopeepay", "qris", "bank_transfer"]


def _local(help_text: str) -> serializers.JSONField:
    return serializers.JSONField(required=False, help_text=help_text)


class PaymentMethodSerializer(serializers.Serializer):
    """The payment_method object. The full card number and the CVC are never returned."""

    id = serializers.CharField(help_text="pm_...")
    object = serializers.CharField(help_text='Always "payment_method".')
    type = serializers.ChoiceField(choices=_TYPES)
    billing_details = BillingDetailsSerializer()
    card = PaymentMethodCardSerializer(required=False, help_text="Present when type is card.")
    gopay = _local("{} when type is gopay.")
    ovo = _local('{"phone": masked} when type is ovo.')
    dana = _local("{} when type is dana.")
    shopeepay = _local("{} when type is shopeepay.")
    qris = _local("{} when type is qris.")
    bank_transfer = _local('{"bank"} when type is bank_transfer.')
    created = _timestamp()
    customer = _text(help_text="The cus_... it is attached to, or null.")
    livemode = serializers.BooleanField()
    metadata = MetadataField()


# --- charge ------------------------------------------------------------------------------


class ChargeOutcomeSerializer(serializers.Serializer):
    network_status = serializers.ChoiceField(
        choices=["approved_by_network", "declined_by_network", "not_sent_to_network"]
    )
    reason = _text(help_text="The decline code when declined, else null.")
    risk_level = serializers.ChoiceField(choices=["normal", "elevated", "highest", "not_assessed"])
    risk_score = serializers.IntegerField(allow_null=True, help_text="0 to 100.")
    seller_message = serializers.CharField()
    type = serializers.ChoiceField(choices=["authorized", "blocked", "invalid", "issuer_declined"])


class ThreeDSecureSerializer(serializers.Serializer):
    result = serializers.CharField()
    version = serializers.CharField()


class ChargeCardDetailsSerializer(serializers.Serializer):
    brand = serializers.ChoiceField(choices=_BRANDS)
    checks = CardChecksSerializer()
    country = _text()
    exp_month = serializers.IntegerField()
    exp_year = serializers.IntegerField()
    fingerprint = serializers.CharField()
    funding = serializers.ChoiceField(choices=_FUNDING)
    last4 = serializers.CharField()
    network = serializers.CharField()
    authorization_code = _text(help_text="The issuer's, once authorized.")
    three_d_secure = ThreeDSecureSerializer(
        allow_null=True, help_text="Set when the payment was authenticated with 3-D Secure."
    )


class ChargePaymentMethodDetailsSerializer(serializers.Serializer):
    type = serializers.ChoiceField(choices=_TYPES)
    card = ChargeCardDetailsSerializer(required=False)
    gopay = _local("Present when type is gopay.")
    ovo = _local('{"phone": masked} when type is ovo.')
    dana = _local("Present when type is dana.")
    shopeepay = _local("Present when type is shopeepay.")
    qris = _local("Present when type is qris.")
    bank_transfer = _local('{"bank", "va_number"} when type is bank_transfer.')


class ChargeSerializer(serializers.Serializer):
    """The charge object: one attempt to move money for a payment intent."""

    id = serializers.CharField(help_text="ch_...")
    object = serializers.CharField(help_text='Always "charge".')
    amount = serializers.IntegerField(help_text="In the currency's minor unit.")
    amount_captured = serializers.IntegerField()
    amount_refunded = serializers.IntegerField()
    balance_transaction = _text(help_text="Always null.")
    billing_details = BillingDetailsSerializer()
    calculated_statement_descriptor = _text()
    captured = serializers.BooleanField()
    created = _timestamp()
    currency = serializers.CharField(help_text="Three-letter ISO code, lowercase.")
    customer = _text()
    description = _text()
    disputed = serializers.BooleanField()
    failure_code = _text()
    failure_message = _text()
    livemode = serializers.BooleanField()
    metadata = MetadataField()
    outcome = ChargeOutcomeSerializer(allow_null=True, help_text="Null until decided.")
    paid = serializers.BooleanField()
    payment_intent = _expandable("PaymentIntent")
    payment_method = serializers.CharField()
    payment_method_details = ChargePaymentMethodDetailsSerializer()
    receipt_email = _text()
    refunded = serializers.BooleanField(help_text="True once fully refunded.")
    status = serializers.ChoiceField(choices=["pending", "succeeded", "failed"])


# --- payment_intent ----------------------------------------------------------------------


class AutomaticPaymentMethodsSerializer(serializers.Serializer):
    enabled = serializers.BooleanField()
    allow_redirects = serializers.CharField()


class LastPaymentErrorSerializer(serializers.Serializer):
    type = serializers.CharField(help_text='"card_error".')
    code = serializers.CharField()
    decline_code = serializers.CharField(required=False)
    message = serializers.CharField()
    charge = serializers.CharField()
    payment_method = PaymentMethodSerializer()


class RedirectToUrlSerializer(serializers.Serializer):
    url = serializers.CharField(help_text="Send the customer here (3-D Secure).")
    return_url = _text(help_text="Where the customer comes back to afterwards.")


class DisplayQrCodeSerializer(serializers.Serializer):
    data = serializers.CharField(
        help_text="What the QR code holds: a QRIS payload, or the e-wallet's payment link."
    )
    image_url_svg = serializers.CharField(help_text="The QR code as an SVG image.")
    expires_at = serializers.IntegerField(
        help_text="Unix seconds. Unpaid by then, the intent is canceled (expired)."
    )


class VirtualAccountSerializer(serializers.Serializer):
    bank = serializers.ChoiceField(choices=["bca", "bni", "bri", "mandiri", "permata"])
    bank_name = serializers.CharField()
    account_number = serializers.CharField(help_text="The virtual account number to pay.")
    account_holder_name = serializers.CharField(help_text="The merchant's name.")


class FinancialAddressSerializer(serializers.Serializer):
    type = serializers.CharField(help_text='"id_virtual_account".')
    id_virtual_account = VirtualAccountSerializer()


class BankTransferInstructionsSerializer(serializers.Serializer):
    type = serializers.CharField(help_text='"id_bank_transfer".')
    amount_remaining = serializers.IntegerField(help_text="Pay exactly this (closed VA).")
    currency = serializers.CharField()
    expires_at = serializers.IntegerField(
        help_text="Unix seconds. The virtual account closes then."
    )
    reference = serializers.CharField()
    financial_addresses = FinancialAddressSerializer(many=True)
    instructions = serializers.ListField(child=serializers.CharField())
    hosted_instructions_url = _text(help_text="Always null.")


class PushApprovalSerializer(serializers.Serializer):
    provider = serializers.CharField(help_text='"ovo".')
    phone = serializers.CharField(help_text="The phone the push went to, masked.")
    expires_at = serializers.IntegerField(
        help_text="Unix seconds. The customer approves in the app before then."
    )


class NextActionSerializer(serializers.Serializer):
    type = serializers.ChoiceField(
        choices=[
            "redirect_to_url",
            "display_qr_code",
            "display_bank_transfer_instructions",
            "await_push_approval",
        ]
    )
    redirect_to_url = RedirectToUrlSerializer(
        required=False, help_text="3-D Secure; e-wallets: the provider's app or page."
    )
    display_qr_code = DisplayQrCodeSerializer(required=False, help_text="QRIS and e-wallets.")
    display_bank_transfer_instructions = BankTransferInstructionsSerializer(
        required=False, help_text="bank_transfer: the virtual account to pay."
    )
    await_push_approval = PushApprovalSerializer(required=False, help_text="OVO.")


class PaymentIntentSerializer(serializers.Serializer):
    """The payment_intent object: one payment, from creation through any attempts."""

    id = serializers.CharField(help_text="pi_...")
    object = serializers.CharField(help_text='Always "payment_intent".')
    amount = serializers.IntegerField(help_text="In the currency's minor unit.")
    amount_capturable = serializers.IntegerField()
    amount_received = serializers.IntegerField()
    automatic_payment_methods = AutomaticPaymentMethodsSerializer(
        allow_null=True, help_text="Always null."
    )
    canceled_at = _timestamp(allow_null=True)
    cancellation_reason = serializers.ChoiceField(
        choices=[
            "abandoned",
            "automatic",
            "duplicate",
            "expired",
            "fraudulent",
            "requested_by_customer",
        ],
        allow_null=True,
    )
    capture_method = serializers.ChoiceField(choices=["automatic", "automatic_async", "manual"])
    client_secret = serializers.CharField(
        help_text="For the browser: confirm and retrieve with a publishable key."
    )
    confirmation_method = serializers.ChoiceField(choices=["automatic", "manual"])
    created = _timestamp()
    currency = serializers.CharField(help_text="Three-letter ISO code, lowercase.")
    customer = _expandable("Customer", nullable=True)
    description = _text()
    last_payment_error = LastPaymentErrorSerializer(allow_null=True)
    latest_charge = _expandable("Charge", nullable=True)
    livemode = serializers.BooleanField()
    metadata = MetadataField()
    next_action = NextActionSerializer(allow_null=True)
    payment_method = _expandable("PaymentMethod", nullable=True)
    payment_method_types = serializers.ListField(child=serializers.CharField())
    receipt_email = _text()
    return_url = _text()
    statement_descriptor = _text()
    status = serializers.ChoiceField(
        choices=[
            "requires_payment_method",
            "requires_confirmation",
            "requires_action",
            "processing",
            "requires_capture",
            "succeeded",
            "canceled",
        ]
    )


# --- refund ------------------------------------------------------------------------------


class RefundSerializer(serializers.Serializer):
    """The refund object."""

    id = serializers.CharField(help_text="re_...")
    object = serializers.CharField(help_text='Always "refund".')
    amount = serializers.IntegerField()
    charge = _expandable("Charge")
    created = _timestamp()
    currency = serializers.CharField()
    failure_reason = _text()
    livemode = serializers.BooleanField()
    metadata = MetadataField()
    payment_intent = serializers.CharField()
    reason = serializers.ChoiceField(
        choices=["duplicate", "fraudulent", "requested_by_customer"], allow_null=True
    )
    status = serializers.ChoiceField(
        choices=["pending", "requires_action", "succeeded", "failed", "canceled"]
    )
    destination_details = serializers.JSONField(
        required=False,
        help_text="bank_transfer and qris refunds: {type: bank_transfer, bank_transfer: "
        "{bank, account_number_last4, account_holder_name, reference_status}}.",
    )


# --- lists -------------------------------------------------------------------------------


def _list_of(item: type[serializers.Serializer], url: str) -> type[serializers.Serializer]:
    name = item.__name__.removesuffix("Serializer")
    return type(
        f"{name}ListResponseSerializer",
        (serializers.Serializer,),
        {
            "__doc__": f"A page of {name} objects, newest first.",
            "object": serializers.CharField(help_text='Always "list".'),
            "data": item(many=True),
            "has_more": serializers.BooleanField(
                help_text="Whether another page follows (pass starting_after=the last id)."
            ),
            "url": serializers.CharField(help_text=url),
        },
    )


PaymentIntentListResponseSerializer = _list_of(PaymentIntentSerializer, "/v1/payment_intents")
PaymentMethodListResponseSerializer = _list_of(PaymentMethodSerializer, "/v1/payment_methods")
ChargeListResponseSerializer = _list_of(ChargeSerializer, "/v1/charges")
RefundListResponseSerializer = _list_of(RefundSerializer, "/v1/refunds")
