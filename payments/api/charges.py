"""/v1/charges: retrieve and list (charges are created by confirming payment intents)."""

from drf_spectacular.utils import extend_schema
from rest_framework.response import Response

from core.api.pagination import paginate
from core.api.schema import error_responses, path_id, query_parameters
from core.api.serializers import ExpandField, StripeSerializer, validate
from core.api.views import StripeAPIView
from payments.api.serializers.payments import CHARGE_EXPAND, ChargeListSerializer
from payments.api.serializers.schema import ChargeListResponseSerializer, ChargeSerializer
from payments.render import render_charge
from payments.selectors.customers import customer_get
from payments.selectors.payments import charge_get, charge_list, payment_intent_get


class ChargeRetrieveSerializer(StripeSerializer):
    expand = ExpandField(allowed=CHARGE_EXPAND)


class ChargeListView(StripeAPIView):
    @extend_schema(
        operation_id="GetCharges",
        summary="List charges",
        description="Charges of this mode, newest first, optionally of one payment intent "
        "or customer. expand[] takes data.payment_intent.",
        parameters=query_parameters(ChargeListSerializer),
        responses={200: ChargeListResponseSerializer, **error_responses(403, 404)},
    )
    def get(self, request):
        data = validate(ChargeListSerializer, request.params)
        merchant, livemode = request.merchant, request.livemode
        intent_pk = customer_pk = None
        if data.get("payment_intent"):
            intent_pk = payment_intent_get(
                merchant=merchant, livemode=livemode, public_id=data["payment_intent"]
            ).pk
        if data.get("customer"):
            customer_pk = customer_get(
                merchant=merchant, livemode=livemode, public_id=data["customer"]
            ).pk
        expand = {e.removeprefix("data.") for e in data.get("expand", ())}
        qs = charge_list(
            merchant=merchant,
            livemode=livemode,
            payment_intent_pk=intent_pk,
            customer_pk=customer_pk,
        )
        return Response(
            paginate(request, qs, lambda c: render_charge(c, expand), url="/v1/charges")
        )


class ChargeDetailView(StripeAPIView):
    @extend_schema(
        operation_id="GetChargesCharge",
        summary="Retrieve a charge",
        description="Charges are made by confirming payment intents. expand[] takes "
        "payment_intent.",
        parameters=[path_id("charge_id", "ch_"), *query_parameters(ChargeRetrieveSerializer)],
        responses={200: ChargeSerializer, **error_responses(403, 404)},
    )
    def get(self, request, charge_id: str):
        data = validate(ChargeRetrieveSerializer, request.params)
        charge = charge_get(
            merchant=request.merchant,
            livemode=request.livemode,
            public_id=charge_id,
            param="charge",
        )
        return Response(render_charge(charge, data.get("expand", frozenset())))
