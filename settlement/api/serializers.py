"""Parameters of the settlement endpoints and the objects they render (for the schema)."""

from rest_framework import serializers

from core.api.pagination import ListParams
from core.api.serializers import ExpandField, IntegerField, MetadataField, StripeSerializer
from settlement.models import BalanceTransactionType, PayoutStatus


class RetrieveParams(StripeSerializer):
    expand = ExpandField(required=False, allowed=())


class BalanceTransactionListParams(ListParams):
    type = serializers.ChoiceField(choices=BalanceTransactionType.values, required=False)
    source = serializers.CharField(required=False, max_length=40)
    currency = serializers.CharField(required=False, max_length=3)
    payout = serializers.CharField(required=False, max_length=40)


class PayoutListParams(ListParams):
    status = serializers.ChoiceField(choices=PayoutStatus.values, required=False)


class PayoutCreateParams(StripeSerializer):
    amount = IntegerField(min_value=1)
    currency = serializers.CharField(max_length=3)
    description = serializers.CharField(required=False, allow_blank=True, max_length=255)
    metadata = MetadataField(required=False)
    expand = ExpandField(required=False, allowed=())


class AmountSerializer(serializers.Serializer):
    amount = serializers.IntegerField()
    currency = serializers.CharField()


class BalanceSerializer(serializers.Serializer):
    object = serializers.CharField(help_text='Always "balance".')
    available = AmountSerializer(many=True)
    pending = AmountSerializer(many=True)
    in_transit = AmountSerializer(many=True, help_text="Paid out, not yet arrived.")
    livemode = serializers.BooleanField()


class FeeDetailSerializer(serializers.Serializer):
    amount = serializers.IntegerField()
    currency = serializers.CharField()
    type = serializers.CharField(help_text='"gateway_fee" (Stripe: "stripe_fee").')
    description = serializers.CharField()


class BalanceTransactionSerializer(serializers.Serializer):
    id = serializers.CharField(help_text="btxn_...")
    object = serializers.CharField(help_text='Always "balance_transaction".')
    amount = serializers.IntegerField(help_text="Gross, signed, in minor units.")
    available_on = serializers.IntegerField(help_text="Unix seconds (midnight UTC).")
    created = serializers.IntegerField()
    currency = serializers.CharField()
    description = serializers.CharField(allow_null=True)
    exchange_rate = serializers.FloatField(allow_null=True)
    fee = serializers.IntegerField()
    fee_details = FeeDetailSerializer(many=True)
    net = serializers.IntegerField()
    reporting_category = serializers.CharField()
    source = serializers.CharField(allow_null=True, help_text="ch_, re_ or po_ id.")
    status = serializers.ChoiceField(choices=["pending", "available"])
    type = serializers.ChoiceField(choices=BalanceTransactionType.values)
    livemode = serializers.BooleanField()


class BalanceTransactionListSerializer(serializers.Serializer):
    object = serializers.CharField(help_text='Always "list".')
    data = BalanceTransactionSerializer(many=True)
    has_more = serializers.BooleanField()
    url = serializers.CharField()


class PayoutSerializer(serializers.Serializer):
    id = serializers.CharField(help_text="po_...")
    object = serializers.CharField(help_text='Always "payout".')
    amount = serializers.IntegerField()
    arrival_date = serializers.IntegerField(help_text="Unix seconds (midnight UTC).")
    automatic = serializers.BooleanField()
    balance_transaction = serializers.CharField(allow_null=True)
    created = serializers.IntegerField()
    currency = serializers.CharField()
    description = serializers.CharField(allow_null=True)
    destination = serializers.CharField(help_text="ba_...")
    failure_balance_transaction = serializers.CharField(allow_null=True)
    failure_code = serializers.CharField(allow_null=True)
    failure_message = serializers.CharField(allow_null=True)
    livemode = serializers.BooleanField()
    metadata = serializers.DictField(child=serializers.CharField())
    method = serializers.CharField()
    settlement_batch = serializers.CharField(allow_null=True, help_text="stl_...")
    source_type = serializers.CharField()
    statement_descriptor = serializers.CharField(allow_null=True)
    status = serializers.ChoiceField(choices=PayoutStatus.values)
    type = serializers.CharField()


class PayoutListSerializer(serializers.Serializer):
    object = serializers.CharField(help_text='Always "list".')
    data = PayoutSerializer(many=True)
    has_more = serializers.BooleanField()
    url = serializers.CharField()


class SettlementBatchListParams(ListParams):
    currency = serializers.CharField(required=False, max_length=3)
    date = serializers.DateField(
        required=False, input_formats=["%Y-%m-%d"], help_text="The settlement day, YYYY-MM-DD."
    )


class SettlementBatchSerializer(serializers.Serializer):
    id = serializers.CharField(help_text="stl_...")
    object = serializers.CharField(help_text='Always "settlement_batch".')
    count = serializers.IntegerField(help_text="Balance transactions settled (its lines).")
    created = serializers.IntegerField()
    currency = serializers.CharField()
    date = serializers.DateField(help_text="The merchant's local settlement day.")
    fees = serializers.IntegerField(help_text="Fees less fees returned on refunds.")
    gross = serializers.IntegerField(help_text="Charges, in minor units.")
    livemode = serializers.BooleanField()
    net = serializers.IntegerField(help_text="gross - refunds - fees.")
    payout = serializers.CharField(allow_null=True, help_text="po_...: its automatic payout.")
    refunds = serializers.IntegerField(help_text="Refunds, positive.")
    status = serializers.ChoiceField(
        choices=["settled", "in_transit", "paid"],
        help_text="settled: in the available balance; in_transit: its payout is pending or "
        "on its way; paid: it reached the bank.",
    )


class SettlementBatchListSerializer(serializers.Serializer):
    object = serializers.CharField(help_text='Always "list".')
    data = SettlementBatchSerializer(many=True)
    has_more = serializers.BooleanField()
    url = serializers.CharField()


class SettlementLineSerializer(serializers.Serializer):
    object = serializers.CharField(help_text='Always "settlement_batch_line".')
    amount = serializers.IntegerField(help_text="Gross, signed.")
    balance_transaction = serializers.CharField(help_text="btxn_... (the list's cursor).")
    currency = serializers.CharField()
    fee = serializers.IntegerField()
    net = serializers.IntegerField()
    reference = serializers.CharField(allow_null=True, help_text="Our processor reference.")
    settlement_batch = serializers.CharField(help_text="stl_...")
    source = serializers.CharField(allow_null=True, help_text="ch_ or re_ id.")
    type = serializers.ChoiceField(choices=["charge", "refund"])


class SettlementLineListSerializer(serializers.Serializer):
    object = serializers.CharField(help_text='Always "list".')
    data = SettlementLineSerializer(many=True)
    has_more = serializers.BooleanField()
    url = serializers.CharField()
