"""Customer parameters and the customer object as the API renders it."""

from rest_framework import serializers

from core.api.pagination import ListParams
from core.api.serializers import EmailField, ExpandField, MetadataField, StripeSerializer


class CustomerRetrieveSerializer(StripeSerializer):
    expand = ExpandField(allowed=())


class CustomerCreateSerializer(StripeSerializer):
    email = EmailField(required=False, allow_blank=True, max_length=512)
    name = serializers.CharField(
        required=False, allow_blank=True, max_length=256, trim_whitespace=False
    )
    phone = serializers.CharField(required=False, allow_blank=True, max_length=32)
    description = serializers.CharField(required=False, allow_blank=True, max_length=1000)
    metadata = MetadataField(required=False)
    expand = ExpandField(allowed=())


class CustomerUpdateSerializer(CustomerCreateSerializer):
    """Same fields; an empty string unsets a field, metadata merges (see metadata_merge)."""


class CustomerListSerializer(ListParams):
    email = serializers.CharField(required=False, max_length=512)


class CustomerSerializer(serializers.Serializer):
    """The customer object (documentation; render_customer builds it)."""

    id = serializers.CharField()
    object = serializers.CharField(help_text='Always "customer".')
    created = serializers.IntegerField(help_text="Unix seconds.")
    livemode = serializers.BooleanField()
    email = serializers.CharField(allow_null=True)
    name = serializers.CharField(allow_null=True)
    phone = serializers.CharField(allow_null=True)
    description = serializers.CharField(allow_null=True)
    metadata = serializers.DictField(child=serializers.CharField())


class DeletedCustomerSerializer(serializers.Serializer):
    id = serializers.CharField()
    object = serializers.CharField(help_text='Always "customer".')
    deleted = serializers.BooleanField()


class CustomerListResponseSerializer(serializers.Serializer):
    object = serializers.CharField(help_text='Always "list".')
    data = CustomerSerializer(many=True)
    has_more = serializers.BooleanField()
    url = serializers.CharField()
