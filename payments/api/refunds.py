"""/v1/refunds: create, retrieve, update (metadata), list."""

from drf_spectacular.utils import extend_schema
from rest_framework.response import Response

from core.api.pagination import paginate
from core.api.schema import IDEMPOTENCY_KEY, error_responses, path_id, query_parameters
from core.api.serializers import ExpandField, StripeSerializer, validate
from core.api.views import StripeAPIView
from core.errors import InvalidRequestError
from payments.api.serializers.payments import (
    REFUND_EXPAND,
    RefundCreateSerializer,
    RefundListSerializer,
    RefundUpdateSerializer,
)
from payments.api.serializers.schema import RefundListResponseSerializer, RefundSerializer
from payments.render import render_refund
from payments.selectors.payments import (
    charge_get,
    payment_intent_get,
    refund_get,
    refund_list,
)
from payments.services.refunds import refund_create, refund_update


class RefundRetrieveSerializer(StripeSerializer):
    expand = ExpandField(allowed=REFUND_EXPAND)


_ID = path_id("refund_id", "re_")


class RefundListCreateView(StripeAPIView):
    @extend_schema(
        operation_id="PostRefunds",
        summary="Create a refund",
        description="Refunds a captured charge, named by charge or by payment_intent (its "
        "latest charge), in full or for amount. E-wallets refund through the provider (OVO "
        "and DANA in full only); bank_transfer and qris payments need destination[...], the "
        "customer's bank account, and stay pending until the bank has paid it. "
        "expand[] takes charge.",
        parameters=[IDEMPOTENCY_KEY],
        request=RefundCreateSerializer,
        responses={200: RefundSerializer, **error_responses(403, 404, 409)},
    )
    def post(self, request):
        data = validate(RefundCreateSerializer, request.params)
        merchant, livemode = request.merchant, request.livemode
        if not data.get("charge") and not data.get("payment_intent"):
            raise InvalidRequestError(
                "One of the following params should be provided for this request: "
                "payment_intent or charge.",
                code="parameter_missing",
                param="charge",
            )
        charge = intent = None
        if data.get("charge"):
            charge = charge_get(
                merchant=merchant, livemode=livemode, public_id=data["charge"], param="charge"
            )
            if (
                data.get("payment_intent")
                and charge.payment_intent.public_id != data["payment_intent"]
            ):
                raise InvalidRequestError(
                    "The charge does not belong to the given payment_intent.",
                    param="payment_intent",
                )
        else:
            intent = payment_intent_get(
                merchant=merchant, livemode=livemode, public_id=data["payment_intent"]
            )
        refund = refund_create(
            charge=charge,
            payment_intent=intent,
            amount=data.get("amount"),
            reason=data.get("reason"),
            metadata=data.get("metadata"),
            destination=data.get("destination"),
        )
        return Response(render_refund(refund, data.get("expand", frozenset())))

    @extend_schema(
        operation_id="GetRefunds",
        summary="List refunds",
        description="Refunds of this mode, newest first, optionally of one charge or payment "
        "intent. expand[] takes data.charge.",
        parameters=query_parameters(RefundListSerializer),
        responses={200: RefundListResponseSerializer, **error_responses(403, 404)},
    )
    def get(self, request):
        data = validate(RefundListSerializer, request.params)
        merchant, livemode = request.merchant, request.livemode
        charge_pk = intent_pk = None
        if data.get("charge"):
            charge_pk = charge_get(
                merchant=merchant, livemode=livemode, public_id=data["charge"], param="charge"
            ).pk
        if data.get("payment_intent"):
            intent_pk = payment_intent_get(
                merchant=merchant, livemode=livemode, public_id=data["payment_intent"]
            ).pk
        expand = {e.removeprefix("data.") for e in data.get("expand", ())}
        qs = refund_list(
            merchant=merchant, livemode=livemode, charge_pk=charge_pk, payment_intent_pk=intent_pk
        )
        return Response(
            paginate(request, qs, lambda r: render_refund(r, expand), url="/v1/refunds")
        )


class RefundDetailView(StripeAPIView):
    @extend_schema(
        operation_id="GetRefundsRefund",
        summary="Retrieve a refund",
        parameters=[_ID, *query_parameters(RefundRetrieveSerializer)],
        responses={200: RefundSerializer, **error_responses(403, 404)},
    )
    def get(self, request, refund_id: str):
        data = validate(RefundRetrieveSerializer, request.params)
        refund = refund_get(
            merchant=request.merchant, livemode=request.livemode, public_id=refund_id
        )
        return Response(render_refund(refund, data.get("expand", frozenset())))

    @extend_schema(
        operation_id="PostRefundsRefund",
        summary="Update a refund",
        description="Changes metadata only (keys merge; an empty value unsets a key).",
        parameters=[_ID, IDEMPOTENCY_KEY],
        request=RefundUpdateSerializer,
        responses={200: RefundSerializer, **error_responses(403, 404, 409)},
    )
    def post(self, request, refund_id: str):
        data = validate(RefundUpdateSerializer, request.params)
        refund = refund_get(
            merchant=request.merchant, livemode=request.livemode, public_id=refund_id
        )
        if "metadata" in data:
            refund = refund_update(refund=refund, metadata=data["metadata"])
        return Response(render_refund(refund, data.get("expand", frozenset())))
