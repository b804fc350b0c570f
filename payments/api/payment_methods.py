"""/v1/payment_methods: create, retrieve, update, list, attach, detach."""

from django.db import transaction
from rest_framework.response import Response

from core.api.pagination import paginate
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
from payments.models import PaymentMethod
from payments.render import render_payment_method
from payments.selectors.customers import customer_get
from payments.selectors.payments import payment_method_get, payment_method_list
from payments.services.payment_methods import (
    payment_method_attach,
    payment_method_create_card,
    payment_method_detach,
)


class PaymentMethodListCreateView(StripeAPIView):
    publishable_key_allowed = True  # the browser tokenizes cards with the publishable key

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
    def get(self, request, pm_id: str):
        validate(ExpandOnlySerializer, request.params)
        pm = payment_method_get(
            merchant=request.merchant, livemode=request.livemode, public_id=pm_id
        )
        return Response(render_payment_method(pm))

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
    def post(self, request, pm_id: str):
        validate(ExpandOnlySerializer, request.params)
        pm = payment_method_get(
            merchant=request.merchant, livemode=request.livemode, public_id=pm_id
        )
        pm = payment_method_detach(payment_method=pm)
        return Response(render_payment_method(pm))
