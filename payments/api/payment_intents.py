"""/v1/payment_intents: create, retrieve, update, list, confirm, capture, cancel."""

from drf_spectacular.utils import extend_schema
from rest_framework.response import Response

from core.api.pagination import paginate
from core.api.schema import IDEMPOTENCY_KEY, error_responses, path_id, query_parameters
from core.api.serializers import validate
from core.api.views import StripeAPIView
from core.errors import PermissionDeniedError
from payments.api.serializers.payments import (
    PaymentIntentCancelSerializer,
    PaymentIntentCaptureSerializer,
    PaymentIntentConfirmSerializer,
    PaymentIntentCreateSerializer,
    PaymentIntentListSerializer,
    PaymentIntentRetrieveSerializer,
    PaymentIntentUpdateSerializer,
)
from payments.api.serializers.schema import (
    PaymentIntentListResponseSerializer,
    PaymentIntentSerializer,
)
from payments.cards import validate_card
from payments.render import render_payment_intent
from payments.selectors.customers import customer_get
from payments.selectors.payments import (
    payment_intent_get,
    payment_intent_get_by_client_secret,
    payment_intent_list,
)
from payments.services.payment_intents import (
    payment_intent_cancel,
    payment_intent_capture,
    payment_intent_confirm,
    payment_intent_create,
    payment_intent_update,
)
from payments.services.payment_methods import payment_method_resolve


def _client_ip(request) -> str | None:
    return request.META.get("REMOTE_ADDR")


def _intent_for(request, intent_id: str, params: dict):
    """Secret keys see any of their intents; publishable keys need the client_secret."""
    if request.api_key.kind == "publishable":
        if not params.get("client_secret"):
            raise PermissionDeniedError(
                "This API call cannot be made with a publishable API key without the "
                "PaymentIntent's client_secret.",
                code="secret_key_required",
            )
        return payment_intent_get_by_client_secret(
            merchant=request.merchant,
            livemode=request.livemode,
            public_id=intent_id,
            client_secret=params["client_secret"],
        )
    return payment_intent_get(
        merchant=request.merchant, livemode=request.livemode, public_id=intent_id
    )


_ID = path_id("intent_id", "pi_")
_EXPAND = "expand[] takes latest_charge, payment_method and customer."


class PaymentIntentListCreateView(StripeAPIView):
    @extend_schema(
        operation_id="PostPaymentIntents",
        summary="Create a payment intent",
        description="Creates a payment intent for an amount in a currency's minor unit. "
        "With confirm=true and a payment_method (or payment_method_data), it is confirmed "
        "in the same call: a declined card answers 402 with the intent in the error. " + _EXPAND,
        parameters=[IDEMPOTENCY_KEY],
        request=PaymentIntentCreateSerializer,
        responses={200: PaymentIntentSerializer, **error_responses(402, 403, 404, 409)},
    )
    def post(self, request):
        data = validate(PaymentIntentCreateSerializer, request.params)
        merchant, livemode = request.merchant, request.livemode
        card = (data.get("payment_method_data") or {}).get("card")
        if data.get("confirm") and card:
            # Checked before the intent exists, as Stripe does: a card error on create
            # leaves nothing behind (the confirm below checks it again, with the CVC).
            validate_card(
                number=card.get("number"),
                exp_month=card.get("exp_month"),
                exp_year=card.get("exp_year"),
                cvc=card.get("cvc"),
                param_prefix="payment_method_data[card]",
            )
        customer = (
            customer_get(merchant=merchant, livemode=livemode, public_id=data["customer"])
            if data.get("customer")
            else None
        )
        pm = (
            payment_method_resolve(
                merchant=merchant, livemode=livemode, payment_method=data["payment_method"]
            )
            if data.get("payment_method")
            else None
        )
        intent = payment_intent_create(
            merchant=merchant,
            livemode=livemode,
            amount=data["amount"],
            currency=data["currency"],
            capture_method=data.get("capture_method", "automatic"),
            payment_method_types=data.get("payment_method_types"),
            customer=customer,
            payment_method=pm,
            description=data.get("description", ""),
            receipt_email=data.get("receipt_email", ""),
            statement_descriptor=data.get("statement_descriptor", ""),
            metadata=data.get("metadata"),
            return_url=data.get("return_url", ""),
        )
        if data.get("confirm"):
            intent = payment_intent_confirm(
                intent=intent,
                payment_method_data=data.get("payment_method_data"),
                return_url=data.get("return_url"),
                customer_ip=_client_ip(request),
            )
        return Response(render_payment_intent(intent, data.get("expand", frozenset())))

    @extend_schema(
        operation_id="GetPaymentIntents",
        summary="List payment intents",
        description="The payment intents of this mode, newest first, optionally of one customer.",
        parameters=query_parameters(PaymentIntentListSerializer),
        responses={200: PaymentIntentListResponseSerializer, **error_responses(403, 404)},
    )
    def get(self, request):
        data = validate(PaymentIntentListSerializer, request.params)
        customer_pk = None
        if data.get("customer"):
            customer_pk = customer_get(
                merchant=request.merchant, livemode=request.livemode, public_id=data["customer"]
            ).pk
        expand = {e.removeprefix("data.") for e in data.get("expand", ())}
        qs = payment_intent_list(
            merchant=request.merchant, livemode=request.livemode, customer_pk=customer_pk
        )
        return Response(
            paginate(
                request, qs, lambda pi: render_payment_intent(pi, expand), url="/v1/payment_intents"
            )
        )


class PaymentIntentDetailView(StripeAPIView):
    publishable_key_allowed = True  # retrieve with the client_secret

    @extend_schema(
        operation_id="GetPaymentIntentsIntent",
        summary="Retrieve a payment intent",
        description="With a secret key, any intent of this mode. With a publishable key, "
        "only with the intent's client_secret. " + _EXPAND,
        parameters=[_ID, *query_parameters(PaymentIntentRetrieveSerializer)],
        responses={200: PaymentIntentSerializer, **error_responses(403, 404)},
    )
    def get(self, request, intent_id: str):
        data = validate(PaymentIntentRetrieveSerializer, request.params)
        intent = _intent_for(request, intent_id, data)
        return Response(render_payment_intent(intent, data.get("expand", frozenset())))

    @extend_schema(
        operation_id="PostPaymentIntentsIntent",
        summary="Update a payment intent",
        description="Changes an intent in requires_payment_method, requires_confirmation "
        "or requires_action; metadata and description may change in any state. Metadata "
        "keys merge (an empty value unsets a key). Secret key only. " + _EXPAND,
        parameters=[_ID, IDEMPOTENCY_KEY],
        request=PaymentIntentUpdateSerializer,
        responses={200: PaymentIntentSerializer, **error_responses(403, 404, 409)},
    )
    def post(self, request, intent_id: str):
        if request.api_key.kind == "publishable":
            raise PermissionDeniedError(
                "This API call cannot be made with a publishable API key. "
                "Please use a secret API key."
            )
        data = validate(PaymentIntentUpdateSerializer, request.params)
        intent = _intent_for(request, intent_id, data)
        changes = {k: v for k, v in data.items() if k != "expand"}
        if "customer" in changes:
            changes["customer"] = customer_get(
                merchant=request.merchant, livemode=request.livemode, public_id=changes["customer"]
            )
        if "payment_method" in changes:
            changes["payment_method"] = payment_method_resolve(
                merchant=request.merchant,
                livemode=request.livemode,
                payment_method=changes["payment_method"],
            )
        intent = payment_intent_update(intent=intent, changes=changes)
        return Response(render_payment_intent(intent, data.get("expand", frozenset())))


class PaymentIntentConfirmView(StripeAPIView):
    publishable_key_allowed = True  # the browser confirms with the client_secret

    @extend_schema(
        operation_id="PostPaymentIntentsIntentConfirm",
        summary="Confirm a payment intent",
        description="Authorizes the payment method with the card network. The intent "
        "becomes succeeded (automatic capture), requires_capture (manual capture), "
        "requires_action (3-D Secure: send the customer to next_action.redirect_to_url.url) "
        "or processing (the network did not answer: the gateway finds out). A decline "
        "answers 402 and leaves the intent in requires_payment_method. A publishable key "
        "needs the client_secret. " + _EXPAND,
        parameters=[_ID, IDEMPOTENCY_KEY],
        request=PaymentIntentConfirmSerializer,
        responses={200: PaymentIntentSerializer, **error_responses(402, 403, 404, 409)},
    )
    def post(self, request, intent_id: str):
        data = validate(PaymentIntentConfirmSerializer, request.params)
        intent = _intent_for(request, intent_id, data)
        intent = payment_intent_confirm(
            intent=intent,
            payment_method=data.get("payment_method"),
            payment_method_data=data.get("payment_method_data"),
            return_url=data.get("return_url"),
            capture_method=data.get("capture_method"),
            receipt_email=data.get("receipt_email"),
            customer_ip=_client_ip(request),
        )
        return Response(render_payment_intent(intent, data.get("expand", frozenset())))


class PaymentIntentCaptureView(StripeAPIView):
    @extend_schema(
        operation_id="PostPaymentIntentsIntentCapture",
        summary="Capture a payment intent",
        description="Captures an intent in requires_capture, all of it or amount_to_capture "
        "(the rest is released). " + _EXPAND,
        parameters=[_ID, IDEMPOTENCY_KEY],
        request=PaymentIntentCaptureSerializer,
        responses={200: PaymentIntentSerializer, **error_responses(403, 404, 409)},
    )
    def post(self, request, intent_id: str):
        data = validate(PaymentIntentCaptureSerializer, request.params)
        intent = _intent_for(request, intent_id, data)
        intent = payment_intent_capture(
            intent=intent, amount_to_capture=data.get("amount_to_capture")
        )
        return Response(render_payment_intent(intent, data.get("expand", frozenset())))


class PaymentIntentCancelView(StripeAPIView):
    @extend_schema(
        operation_id="PostPaymentIntentsIntentCancel",
        summary="Cancel a payment intent",
        description="Cancels an intent that is not succeeded; an authorization held for "
        "it is voided. " + _EXPAND,
        parameters=[_ID, IDEMPOTENCY_KEY],
        request=PaymentIntentCancelSerializer,
        responses={200: PaymentIntentSerializer, **error_responses(403, 404, 409)},
    )
    def post(self, request, intent_id: str):
        data = validate(PaymentIntentCancelSerializer, request.params)
        intent = _intent_for(request, intent_id, data)
        intent = payment_intent_cancel(
            intent=intent, cancellation_reason=data.get("cancellation_reason")
        )
        return Response(render_payment_intent(intent, data.get("expand", frozenset())))
