"""/v1/balance and /v1/balance_transactions (Stripe's shapes)."""

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.response import Response

from core.api.pagination import paginate
from core.api.schema import UNIX_SECONDS, error_responses
from core.api.serializers import validate
from core.api.views import StripeAPIView
from settlement.api.serializers import (
    BalanceSerializer,
    BalanceTransactionListParams,
    BalanceTransactionListSerializer,
    BalanceTransactionSerializer,
    RetrieveParams,
)
from settlement.render import render_balance, render_balance_transaction
from settlement.selectors import balance_transaction_get, balance_transaction_list
from settlement.services.ledger import merchant_balances

LIST_QUERY = [
    OpenApiParameter(
        "limit",
        {"type": "integer", "minimum": 1, "maximum": 100},
        description="1 to 100 (default 10).",
    ),
    OpenApiParameter(
        "starting_after",
        {"type": "string", "minLength": 1},
        description="An object id: the next, older page.",
    ),
    OpenApiParameter(
        "ending_before",
        {"type": "string", "minLength": 1},
        description="An object id: the newer page.",
    ),
    OpenApiParameter(
        "created",
        {
            "type": "object",
            "properties": {op: UNIX_SECONDS for op in ("gt", "gte", "lt", "lte")},
            "additionalProperties": False,
        },
        style="deepObject",
        explode=True,
        description="Creation time filters in unix seconds (created[gte]=...).",
    ),
]


class BalanceView(StripeAPIView):
    @extend_schema(
        operation_id="GetBalance",
        summary="Retrieve balance",
        description="What the gateway holds for you, per currency: available (settled, can "
        "be paid out), pending (captured, not yet settled) and in_transit (paid out, not yet "
        "arrived). Computed from the ledger's entries.",
        responses={200: BalanceSerializer, **error_responses()},
    )
    def get(self, request):
        validate(RetrieveParams, request.params)
        balances = merchant_balances(merchant=request.merchant, livemode=request.livemode)
        return Response(
            render_balance(
                balances=balances,
                livemode=request.livemode,
                default=request.merchant.default_currency,
            )
        )


class BalanceTransactionListView(StripeAPIView):
    @extend_schema(
        operation_id="GetBalanceTransactions",
        summary="List balance transactions",
        description="Every movement of your balance, newest first: charges, refunds, "
        "payouts and payout failures. Ids are btxn_... (txn_ names processor transactions "
        "here).",
        parameters=[
            *LIST_QUERY,
            OpenApiParameter(
                "type",
                str,
                enum=["charge", "refund", "payout", "payout_failure", "payout_cancel"],
            ),
            OpenApiParameter(
                "source",
                {"type": "string", "minLength": 1, "maxLength": 40},
                description="A ch_, re_ or po_ id.",
            ),
            OpenApiParameter("currency", {"type": "string", "minLength": 1, "maxLength": 3}),
            OpenApiParameter(
                "payout",
                {"type": "string", "minLength": 1, "maxLength": 40},
                description="po_...: what it paid out.",
            ),
        ],
        responses={200: BalanceTransactionListSerializer, **error_responses()},
    )
    def get(self, request):
        data = validate(BalanceTransactionListParams, request.params)
        rows = balance_transaction_list(
            merchant=request.merchant,
            livemode=request.livemode,
            type=data.get("type"),
            source=data.get("source"),
            currency=data.get("currency"),
            payout=data.get("payout"),
        )
        return Response(
            paginate(
                request,
                rows,
                render_balance_transaction,
                url="/v1/balance_transactions",
                object_name="balance transaction",
            )
        )


class BalanceTransactionDetailView(StripeAPIView):
    @extend_schema(
        operation_id="GetBalanceTransactionsId",
        summary="Retrieve a balance transaction",
        parameters=[OpenApiParameter("btxn_id", str, OpenApiParameter.PATH)],
        responses={200: BalanceTransactionSerializer, **error_responses(404)},
    )
    def get(self, request, btxn_id: str):
        validate(RetrieveParams, request.params)
        bt = balance_transaction_get(
            merchant=request.merchant, livemode=request.livemode, public_id=btxn_id
        )
        return Response(render_balance_transaction(bt))
