"""/v1/checkout/sessions: create, retrieve, list, expire, line_items (secret key only)."""

from drf_spectacular.utils import extend_schema
from rest_framework.response import Response

from core.api.pagination import paginate
from core.api.schema import IDEMPOTENCY_KEY, error_responses, path_id, query_parameters
from core.api.serializers import validate
from core.api.views import StripeAPIView
from core.errors import InvalidRequestError
from payments.api.serializers.checkout import (
    CheckoutSessionCreateSerializer,
    CheckoutSessionListResponseSerializer,
    CheckoutSessionListSerializer,
    CheckoutSessionRetrieveSerializer,
    CheckoutSessionSerializer,
    LineItemListResponseSerializer,
    LineItemListSerializer,
)
from payments.render_checkout import render_checkout_session, render_line_items
from payments.selectors.checkout import checkout_session_get, checkout_session_list
from payments.services.checkout import checkout_session_create, checkout_session_expire

_ID = path_id("session_id", "cs_")
_EXPAND = "expand[] takes line_items and payment_intent."


class CheckoutSessionListCreateView(StripeAPIView):
    @extend_schema(
        operation_id="PostCheckoutSessions",
        summary="Create a checkout session",
        description="A hosted payment page for line_items (price_data and quantity, as "
        "Stripe) or, as our extension, for an amount and currency. Send the customer to "
        "the session's url; after paying they land on success_url, where the literal "
        "{CHECKOUT_SESSION_ID} is replaced by the session id. expires_at is 30 minutes to "
        "24 hours ahead (default 24 hours). " + _EXPAND,
        parameters=[IDEMPOTENCY_KEY],
        request=CheckoutSessionCreateSerializer,
        responses={200: CheckoutSessionSerializer, **error_responses(403, 409)},
    )
    def post(self, request):
        data = validate(CheckoutSessionCreateSerializer, request.params)
        session = checkout_session_create(
            merchant=request.merchant,
            livemode=request.livemode,
            success_url=data["success_url"],
            amount=data.get("amount"),
            currency=data.get("currency"),
            line_items=data.get("line_items"),
            cancel_url=data.get("cancel_url", ""),
            payment_method_types=data.get("payment_method_types"),
            customer_email=data.get("customer_email", ""),
            client_reference_id=data.get("client_reference_id", ""),
            metadata=data.get("metadata"),
            expires_at=data.get("expires_at"),
            capture_method=(data.get("payment_intent_data") or {}).get(
                "capture_method", "automatic"
            ),
        )
        return Response(render_checkout_session(session, data.get("expand", frozenset())))

    @extend_schema(
        operation_id="GetCheckoutSessions",
        summary="List checkout sessions",
        description="Sessions of this mode, newest first; filters: status, payment_intent.",
        parameters=query_parameters(CheckoutSessionListSerializer),
        responses={200: CheckoutSessionListResponseSerializer, **error_responses(403)},
    )
    def get(self, request):
        data = validate(CheckoutSessionListSerializer, request.params)
        expand = {e.removeprefix("data.") for e in data.get("expand", ())}
        sessions = checkout_session_list(
            merchant=request.merchant,
            livemode=request.livemode,
            status=data.get("status"),
            payment_intent=data.get("payment_intent"),
        )
        return Response(
            paginate(
                request,
                sessions,
                lambda s: render_checkout_session(s, expand),
                url="/v1/checkout/sessions",
                object_name="checkout.session",
            )
        )


class CheckoutSessionDetailView(StripeAPIView):
    @extend_schema(
        operation_id="GetCheckoutSessionsSession",
        summary="Retrieve a checkout session",
        description=_EXPAND,
        parameters=[_ID, *query_parameters(CheckoutSessionRetrieveSerializer)],
        responses={200: CheckoutSessionSerializer, **error_responses(403, 404)},
    )
    def get(self, request, session_id: str):
        data = validate(CheckoutSessionRetrieveSerializer, request.params)
        session = checkout_session_get(
            merchant=request.merchant, livemode=request.livemode, public_id=session_id
        )
        return Response(render_checkout_session(session, data.get("expand", frozenset())))


class CheckoutSessionExpireView(StripeAPIView):
    @extend_schema(
        operation_id="PostCheckoutSessionsSessionExpire",
        summary="Expire a checkout session",
        description="An open session stops taking payments at once (its page shows that it "
        "expired) and checkout.session.expired is sent. A session whose payment is still "
        "being decided by the card network cannot be expired until the answer is known. " + _EXPAND,
        parameters=[_ID, IDEMPOTENCY_KEY],
        request=CheckoutSessionRetrieveSerializer,
        responses={200: CheckoutSessionSerializer, **error_responses(403, 404, 409)},
    )
    def post(self, request, session_id: str):
        data = validate(CheckoutSessionRetrieveSerializer, request.params)
        session = checkout_session_get(
            merchant=request.merchant, livemode=request.livemode, public_id=session_id
        )
        session = checkout_session_expire(session=session)
        return Response(render_checkout_session(session, data.get("expand", frozenset())))


class CheckoutSessionLineItemsView(StripeAPIView):
    @extend_schema(
        operation_id="GetCheckoutSessionsSessionLineItems",
        summary="List a checkout session's line items",
        parameters=[_ID, *query_parameters(LineItemListSerializer)],
        responses={200: LineItemListResponseSerializer, **error_responses(403, 404)},
    )
    def get(self, request, session_id: str):
        data = validate(LineItemListSerializer, request.params)
        session = checkout_session_get(
            merchant=request.merchant, livemode=request.livemode, public_id=session_id
        )
        items = list(session.line_items)
        ids = [item["id"] for item in items]
        if "starting_after" in data or "ending_before" in data:
            param = "starting_after" if "starting_after" in data else "ending_before"
            if data[param] not in ids:
                raise InvalidRequestError(
                    f"No such line item: '{data[param]}'", code="resource_missing", param=param
                )
            at = ids.index(data[param])
            items = items[at + 1 :] if param == "starting_after" else items[:at]
        limit = data.get("limit", 10)
        if "ending_before" in data:
            page, has_more = items[-limit:], len(items) > limit
        else:
            page, has_more = items[:limit], len(items) > limit
        return Response(render_line_items(session, page, has_more))
