"""/v1/payouts: create (a manual payout from the available balance), retrieve, list,
cancel (while pending)."""

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.response import Response

from core.api.pagination import paginate
from core.api.schema import IDEMPOTENCY_KEY, error_responses
from core.api.serializers import validate
from core.api.views import StripeAPIView
from core.money import validate_amount, validate_currency
from settlement.api.balance import LIST_QUERY
from settlement.api.serializers import (
    PayoutCreateParams,
    PayoutListParams,
    PayoutListSerializer,
    PayoutSerializer,
    RetrieveParams,
)
from settlement.models import PayoutStatus
from settlement.render import render_payout
from settlement.selectors import payout_get, payout_list
from settlement.services.payouts import payout_cancel, payout_create

_ID = OpenApiParameter("payout_id", str, OpenApiParameter.PATH, description="po_...")


class PayoutListCreateView(StripeAPIView):
    @extend_schema(
        operation_id="PostPayouts",
        summary="Create a payout",
        description="Pays amount of your available balance in currency out to your bank "
        "account for that currency. The amount leaves the available balance at once; the "
        "payout is sent on its arrival date (T+N business days).",
        parameters=[IDEMPOTENCY_KEY],
        request=PayoutCreateParams,
        responses={200: PayoutSerializer, **error_responses(409)},
    )
    def post(self, request):
        data = validate(PayoutCreateParams, request.params)
        currency = validate_currency(data["currency"])
        amount = validate_amount(data["amount"], currency=currency)
        payout = payout_create(
            merchant=request.merchant,
            livemode=request.livemode,
            amount=amount,
            currency=currency,
            description=data.get("description", ""),
            metadata=data.get("metadata"),
        )
        return Response(render_payout(payout))

    @extend_schema(
        operation_id="GetPayouts",
        summary="List payouts",
        parameters=[*LIST_QUERY, OpenApiParameter("status", str, enum=PayoutStatus.values)],
        responses={200: PayoutListSerializer, **error_responses()},
    )
    def get(self, request):
        data = validate(PayoutListParams, request.params)
        rows = payout_list(
            merchant=request.merchant, livemode=request.livemode, status=data.get("status")
        )
        return Response(paginate(request, rows, render_payout, url="/v1/payouts"))


class PayoutDetailView(StripeAPIView):
    @extend_schema(
        operation_id="GetPayoutsPayout",
        summary="Retrieve a payout",
        parameters=[_ID],
        responses={200: PayoutSerializer, **error_responses(404)},
    )
    def get(self, request, payout_id: str):
        validate(RetrieveParams, request.params)
        payout = payout_get(
            merchant=request.merchant, livemode=request.livemode, public_id=payout_id
        )
        return Response(render_payout(payout))


class PayoutCancelView(StripeAPIView):
    @extend_schema(
        operation_id="PostPayoutsPayoutCancel",
        summary="Cancel a payout",
        description="Cancels a payout that has not been sent yet (status pending); its "
        "amount returns to the available balance.",
        parameters=[_ID, IDEMPOTENCY_KEY],
        request=None,
        responses={200: PayoutSerializer, **error_responses(404, 409)},
    )
    def post(self, request, payout_id: str):
        validate(RetrieveParams, request.params)
        payout = payout_get(
            merchant=request.merchant, livemode=request.livemode, public_id=payout_id
        )
        return Response(render_payout(payout_cancel(payout=payout)))
