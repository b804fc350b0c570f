"""/v1/settlement_batches: list, retrieve, a batch's lines (paginated) and the same lines as
CSV. Batches are made by the daily settlement run, never through the API."""

from django.http import HttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework.response import Response

from core.api.pagination import ListParams, paginate
from core.api.schema import error_responses, query_parameters
from core.api.serializers import validate
from core.api.views import StripeAPIView
from core.money import validate_currency
from settlement.api.serializers import (
    RetrieveParams,
    SettlementBatchListParams,
    SettlementBatchListSerializer,
    SettlementBatchSerializer,
    SettlementLineListSerializer,
)
from settlement.render import render_settlement_batch, render_settlement_line
from settlement.selectors import settlement_batch_get, settlement_batch_list, settlement_line_list
from settlement.services.reconciliation import settlement_batch_csv

_ID = OpenApiParameter("batch_id", str, OpenApiParameter.PATH, description="stl_...")


class SettlementBatchListView(StripeAPIView):
    @extend_schema(
        operation_id="GetSettlementBatches",
        summary="List settlement batches",
        description="What each daily settlement moved from pending to available, one batch "
        "per currency and settlement day, newest first.",
        parameters=query_parameters(SettlementBatchListParams),
        responses={200: SettlementBatchListSerializer, **error_responses()},
    )
    def get(self, request):
        data = validate(SettlementBatchListParams, request.params)
        currency = data.get("currency")
        rows = settlement_batch_list(
            merchant=request.merchant,
            livemode=request.livemode,
            currency=validate_currency(currency) if currency is not None else None,
            day=data.get("date"),
        )
        return Response(
            paginate(
                request,
                rows,
                render_settlement_batch,
                url="/v1/settlement_batches",
                object_name="settlement batch",
            )
        )


class SettlementBatchDetailView(StripeAPIView):
    @extend_schema(
        operation_id="GetSettlementBatchesBatch",
        summary="Retrieve a settlement batch",
        parameters=[_ID],
        responses={200: SettlementBatchSerializer, **error_responses(404)},
    )
    def get(self, request, batch_id: str):
        validate(RetrieveParams, request.params)
        batch = settlement_batch_get(
            merchant=request.merchant, livemode=request.livemode, public_id=batch_id
        )
        return Response(render_settlement_batch(batch))


class SettlementBatchLineListView(StripeAPIView):
    @extend_schema(
        operation_id="GetSettlementBatchesBatchLines",
        summary="List a settlement batch's lines",
        description="One line per balance transaction the batch settled. starting_after "
        "and ending_before take a line's balance_transaction (btxn_...).",
        parameters=[_ID, *query_parameters(ListParams)],
        responses={200: SettlementLineListSerializer, **error_responses(404)},
    )
    def get(self, request, batch_id: str):
        validate(ListParams, request.params)
        batch = settlement_batch_get(
            merchant=request.merchant, livemode=request.livemode, public_id=batch_id
        )
        return Response(
            paginate(
                request,
                settlement_line_list(batch=batch),
                lambda line: render_settlement_line(line, batch=batch),
                url=f"/v1/settlement_batches/{batch.public_id}/lines",
                id_field="balance_transaction__public_id",
                object_name="balance transaction",
            )
        )


class SettlementBatchLinesCSVView(StripeAPIView):
    def perform_content_negotiation(self, request, force=False):
        # The body is CSV whatever Accept asks for; errors stay JSON.
        return super().perform_content_negotiation(request, force=True)

    @extend_schema(
        operation_id="GetSettlementBatchesBatchLinesCsv",
        summary="Download a settlement batch's lines as CSV",
        description="Columns: batch, day, balance_transaction, type, source, reference, "
        "amount, fee, net, currency; a last line holds the totals.",
        parameters=[_ID],
        responses={
            (200, "text/csv"): OpenApiResponse(OpenApiTypes.STR, description="The lines."),
            **error_responses(404),
        },
    )
    def get(self, request, batch_id: str):
        validate(RetrieveParams, request.params)
        batch = settlement_batch_get(
            merchant=request.merchant, livemode=request.livemode, public_id=batch_id
        )
        response = HttpResponse(settlement_batch_csv(batch=batch), content_type="text/csv")
        filename = f"settlement-{batch.day.isoformat()}-{batch.currency}-{batch.public_id}.csv"
        response["Content-Disposition"] = f'attachment; filename="{filename}"'
        return response
