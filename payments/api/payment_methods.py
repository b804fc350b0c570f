"""/v1/payment_methods: create, retrieve, update, list, attach, detach."""

from django.db import transaction
from drf_spectacular.utils import extend_schema
from rest_framework.response import Response

from core.api.pagination import paginate
from core.api.schema import IDEMPOTENCY_KEY, error_responses, path_id, query_parameters
from core.api.serializers import metadata_merge, validate
from core.api.views import StripeAPIView
from core.errors import InvalidRequestError
from payments.api.serializers.payments import (
    ExpandOnlySerializer,
    PaymentMethodAttachSerializer,
    PaymentMethodCreateSerializer,
    PaymentMethodListSerializer,
    PaymentMethodUpdateSerializer,
)
from payments.api.serializers.schema import (
    PaymentMethodListResponseSerializer,
    PaymentMethodSerializer,
)
from payments.models import PaymentMethod
from payments.render import render_payment_method
from payments.selectors.customers import customer_get
from payments.selectors.payments import payment_method_get, payment_method_list
from payments.services.payment_methods import (
    payment_method_attach,
    payment_method_create_card,
    payment_method_detach,
)

_ID = path_id("pm_id", "pm_")


class PaymentMethodListCreateView(StripeAPIView):
    publishable_key_allowed = True  # the browser tokenizes cards with the publishable key

    @extend_schema(
        operation_id="PostPaymentMethods",
        summary="Create a payment method",
        description="Stores a card in the vault and returns its payment method; a publishable "
        "key may call it (the browser tokenizes the card). An invalid number, expiry or CVC "
        "answers 402 (card_error). The CVC is checked and never stored.",
        parameters=[IDEMPOTENCY_KEY],
        request=PaymentMethodCreateSerializer,
        responses={200: PaymentMethodSerializer, **error_responses(402, 409)},
    )
    def post(self, request):
        data = validate(PaymentMethodCreateSerializer, request.params)
        card = data.get("card")
        if card is None:
            raise InvalidRequestError(
                "Missing required param: card.", code="parameter_missing", param="card"
            )
        # The CVC is checked for shape and dropped: it is only ever used by a confirm that
        # carries it in the same request (payment_method_data).
        pm, _cvc = payment_method_create_card(
            merchant=request.merchant,
            livemode=request.livemode,
            number=card["number"],
            exp_month=card["exp_month"],
            exp_year=card["exp_year"],
            cvc=card.get("cvc"),
            billing_details=data.get("billing_details"),
            metadata=data.get("metadata"),
        )
        return Response(render_payment_method(pm))

    @extend_schema(
        operation_id="GetPaymentMethods",
        summary="List payment methods",
        description="Payment methods of this mode, newest first, optionally of one customer. "
        "Secret key only.",
        parameters=query_parameters(PaymentMethodListSerializer),
        responses={200: PaymentMethodListResponseSerializer, **error_responses(403, 404)},
    )
    def get(self, request):
        self._secret_only(request)
        data = validate(PaymentMethodListSerializer, request.params)
        customer_pk = None
        if data.get("customer"):
            customer_pk = customer_get(
                merchant=request.merchant, livemode=request.livemode, public_id=data["customer"]
            ).pk
        qs = payment_method_list(
            merchant=request.merchant,
            livemode=request.livemode,
            customer_pk=customer_pk,
            type=data.get("type"),
        )
        return Response(paginate(request, qs, render_payment_method, url="/v1/payment_methods"))

    def _secret_only(self, request):
        if request.api_key.kind == "publishable":
            from core.errors import PermissionDeniedError

            raise PermissionDeniedError(
                "This API call cannot be made with a publishable API key. "
                "Please use a secret API key."
            )


class PaymentMethodDetailView(StripeAPIView):
    @extend_schema(
        operation_id="GetPaymentMethodsPaymentMethod",
        summary="Retrieve a payment method",
        description="A stored payment method (pm_...). Test tokens such as pm_card_visa "
        "are not objects: they stand for a new payment method where one is expected.",
        parameters=[_ID],
        responses={200: PaymentMethodSerializer, **error_responses(403, 404)},
    )
    def get(self, request, pm_id: str):
        validate(ExpandOnlySerializer, request.params)
        pm = payment_method_get(
            merchant=request.merchant, livemode=request.livemode, public_id=pm_id
        )
        return Response(render_payment_method(pm))

    @extend_schema(
        operation_id="PostPaymentMethodsPaymentMethod",
        summary="Update a payment method",
        description="Changes billing_details and metadata (metadata keys merge; an empty "
        "value unsets a key).",
        parameters=[_ID, IDEMPOTENCY_KEY],
        request=PaymentMethodUpdateSerializer,
        responses={200: PaymentMethodSerializer, **error_responses(403, 404, 409)},
    )
    def post(self, request, pm_id: str):
        data = validate(PaymentMethodUpdateSerializer, request.params)
        pm = payment_method_get(
            merchant=request.merchant, livemode=request.livemode, public_id=pm_id
        )
        with transaction.atomic():
            pm = PaymentMethod.objects.select_for_update().select_related("customer").get(pk=pm.pk)
            if "metadata" in data:
                pm.metadata = metadata_merge(pm.metadata, data["metadata"])
            if "billing_details" in data:
                pm.billing_details = {**pm.billing_details, **data["billing_details"]}
            pm.save(update_fields=["metadata", "billing_details", "updated_at"])
        return Response(render_payment_method(pm))


class PaymentMethodAttachView(StripeAPIView):
    @extend_schema(
        operation_id="PostPaymentMethodsPaymentMethodAttach",
        summary="Attach a payment method to a customer",
        parameters=[_ID, IDEMPOTENCY_KEY],
        request=PaymentMethodAttachSerializer,
        responses={200: PaymentMethodSerializer, **error_responses(403, 404, 409)},
    )
    def post(self, request, pm_id: str):
        data = validate(PaymentMethodAttachSerializer, request.params)
        pm = payment_method_get(
            merchant=request.merchant, livemode=request.livemode, public_id=pm_id
        )
        customer = customer_get(
            merchant=request.merchant, livemode=request.livemode, public_id=data["customer"]
        )
        pm = payment_method_attach(payment_method=pm, customer=customer)
        return Response(render_payment_method(pm))


class PaymentMethodDetachView(StripeAPIView):
    @extend_schema(
        operation_id="PostPaymentMethodsPaymentMethodDetach",
        summary="Detach a payment method from its customer",
        description="Unsets its customer; the payment method stays retrievable.",
        parameters=[_ID, IDEMPOTENCY_KEY],
        request=ExpandOnlySerializer,
        responses={200: PaymentMethodSerializer, **error_responses(403, 404, 409)},
    )
    def post(self, request, pm_id: str):
        validate(ExpandOnlySerializer, request.params)
        pm = payment_method_get(
            merchant=request.merchant, livemode=request.livemode, public_id=pm_id
        )
        pm = payment_method_detach(payment_method=pm)
        return Response(render_payment_method(pm))
