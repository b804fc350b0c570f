"""/v1/events and /v1/webhook_endpoints (Stripe's objects), plus three actions on an
endpoint: roll_secret, resend (an event) and test (a ping), and its deliveries."""

from datetime import timedelta

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.response import Response

from core.api.pagination import paginate
from core.api.schema import IDEMPOTENCY_KEY, error_responses, query_parameters
from core.api.serializers import validate
from core.api.views import StripeAPIView
from webhooks.api.serializers import (
    DeletedWebhookEndpointSerializer,
    EventListResponseSerializer,
    EventListSerializer,
    EventRetrieveSerializer,
    EventSerializer,
    WebhookDeliveryListResponseSerializer,
    WebhookDeliverySerializer,
    WebhookEndpointCreateSerializer,
    WebhookEndpointListResponseSerializer,
    WebhookEndpointListSerializer,
    WebhookEndpointResendSerializer,
    WebhookEndpointRetrieveSerializer,
    WebhookEndpointRollSecretSerializer,
    WebhookEndpointSerializer,
    WebhookEndpointTestSerializer,
    WebhookEndpointUpdateSerializer,
)
from webhooks.render import render_delivery, render_event, render_webhook_endpoint
from webhooks.selectors import (
    event_get,
    event_list,
    webhook_delivery_list,
    webhook_endpoint_get,
    webhook_endpoint_list,
)
from webhooks.services.endpoints import (
    DEFAULT_ROLL_OVERLAP,
    webhook_endpoint_create,
    webhook_endpoint_delete,
    webhook_endpoint_ping,
    webhook_endpoint_resend,
    webhook_endpoint_roll_secret,
    webhook_endpoint_update,
)

_EVENT_ID = OpenApiParameter("event_id", str, OpenApiParameter.PATH, description="evt_...")
_ENDPOINT_ID = OpenApiParameter("endpoint_id", str, OpenApiParameter.PATH, description="we_...")
_EVENT_LIST_PARAMETERS = [p for p in query_parameters(EventListSerializer) if p.name != "types"] + [
    OpenApiParameter(
        "types[]",
        {"type": "array", "items": {"type": "string", "minLength": 1}, "maxItems": 20},
        OpenApiParameter.QUERY,
        explode=True,
        description="Up to 20 event types (repeatable); not together with type.",
    )
]


def _render_event(event) -> dict:
    return render_event(event, pending_webhooks=event.pending_webhooks)


class EventListView(StripeAPIView):
    @extend_schema(
        operation_id="events_list",
        parameters=_EVENT_LIST_PARAMETERS,
        responses={200: EventListResponseSerializer, **error_responses()},
    )
    def get(self, request):
        data = validate(EventListSerializer, request.params)
        types = data.get("types") or ([data["type"]] if "type" in data else None)
        events = event_list(merchant=request.merchant, livemode=request.livemode, types=types)
        return Response(paginate(request, events, _render_event, url="/v1/events"))


class EventDetailView(StripeAPIView):
    @extend_schema(
        operation_id="events_retrieve",
        parameters=[_EVENT_ID],
        responses={200: EventSerializer, **error_responses(404)},
    )
    def get(self, request, event_id: str):
        validate(EventRetrieveSerializer, request.params)
        event = event_get(merchant=request.merchant, livemode=request.livemode, public_id=event_id)
        return Response(_render_event(event))


class WebhookEndpointListCreateView(StripeAPIView):
    @extend_schema(
        operation_id="webhook_endpoints_create",
        parameters=[IDEMPOTENCY_KEY],
        request=WebhookEndpointCreateSerializer,
        responses={200: WebhookEndpointSerializer, **error_responses(409)},
    )
    def post(self, request):
        data = validate(WebhookEndpointCreateSerializer, request.params)
        data.pop("expand", None)
        endpoint, secret = webhook_endpoint_create(
            merchant=request.merchant, livemode=request.livemode, **data
        )
        return Response(render_webhook_endpoint(endpoint, secret=secret))

    @extend_schema(
        operation_id="webhook_endpoints_list",
        parameters=query_parameters(WebhookEndpointListSerializer),
        responses={200: WebhookEndpointListResponseSerializer, **error_responses()},
    )
    def get(self, request):
        validate(WebhookEndpointListSerializer, request.params)
        endpoints = webhook_endpoint_list(merchant=request.merchant, livemode=request.livemode)
        return Response(
            paginate(request, endpoints, render_webhook_endpoint, url="/v1/webhook_endpoints")
        )


class WebhookEndpointDetailView(StripeAPIView):
    @extend_schema(
        operation_id="webhook_endpoints_retrieve",
        parameters=[_ENDPOINT_ID],
        responses={200: WebhookEndpointSerializer, **error_responses(404)},
    )
    def get(self, request, endpoint_id: str):
        validate(WebhookEndpointRetrieveSerializer, request.params)
        endpoint = webhook_endpoint_get(
            merchant=request.merchant, livemode=request.livemode, public_id=endpoint_id
        )
        return Response(render_webhook_endpoint(endpoint))

    @extend_schema(
        operation_id="webhook_endpoints_update",
        parameters=[_ENDPOINT_ID, IDEMPOTENCY_KEY],
        request=WebhookEndpointUpdateSerializer,
        responses={200: WebhookEndpointSerializer, **error_responses(404, 409)},
    )
    def post(self, request, endpoint_id: str):
        data = validate(WebhookEndpointUpdateSerializer, request.params)
        data.pop("expand", None)
        endpoint = webhook_endpoint_update(
            merchant=request.merchant,
            livemode=request.livemode,
            public_id=endpoint_id,
            changes=data,
        )
        return Response(render_webhook_endpoint(endpoint))

    @extend_schema(
        operation_id="webhook_endpoints_delete",
        parameters=[_ENDPOINT_ID],
        responses={200: DeletedWebhookEndpointSerializer, **error_responses(404)},
    )
    def delete(self, request, endpoint_id: str):
        validate(WebhookEndpointRetrieveSerializer, request.params)
        endpoint = webhook_endpoint_delete(
            merchant=request.merchant, livemode=request.livemode, public_id=endpoint_id
        )
        return Response(render_webhook_endpoint(endpoint))


class WebhookEndpointRollSecretView(StripeAPIView):
    @extend_schema(
        operation_id="webhook_endpoints_roll_secret",
        description="Replace the signing secret. The old secret keeps signing every delivery "
        "beside the new one (one more v1 signature in each header) for `expires_in` seconds, "
        "24 hours by default, so receivers can switch without missing a delivery. The answer "
        "is the only place the new secret is shown.",
        parameters=[_ENDPOINT_ID, IDEMPOTENCY_KEY],
        request=WebhookEndpointRollSecretSerializer,
        responses={200: WebhookEndpointSerializer, **error_responses(404, 409)},
    )
    def post(self, request, endpoint_id: str):
        data = validate(WebhookEndpointRollSecretSerializer, request.params)
        seconds = data.get("expires_in")
        endpoint, secret = webhook_endpoint_roll_secret(
            merchant=request.merchant,
            livemode=request.livemode,
            public_id=endpoint_id,
            expires_in=DEFAULT_ROLL_OVERLAP if seconds is None else timedelta(seconds=seconds),
        )
        return Response(render_webhook_endpoint(endpoint, secret=secret))


class WebhookEndpointResendView(StripeAPIView):
    @extend_schema(
        operation_id="webhook_endpoints_resend",
        description="Send an event to this endpoint again: a new delivery with its own "
        "retries. The webhook-id header is the event id, as on the first delivery.",
        parameters=[_ENDPOINT_ID, IDEMPOTENCY_KEY],
        request=WebhookEndpointResendSerializer,
        responses={200: WebhookDeliverySerializer, **error_responses(404, 409)},
    )
    def post(self, request, endpoint_id: str):
        data = validate(WebhookEndpointResendSerializer, request.params)
        delivery = webhook_endpoint_resend(
            merchant=request.merchant,
            livemode=request.livemode,
            public_id=endpoint_id,
            event_id=data["event"],
        )
        return Response(render_delivery(delivery))


class WebhookEndpointTestView(StripeAPIView):
    @extend_schema(
        operation_id="webhook_endpoints_test",
        description="Send the endpoint a new `ping` event (data.object is the endpoint).",
        parameters=[_ENDPOINT_ID, IDEMPOTENCY_KEY],
        request=WebhookEndpointTestSerializer,
        responses={200: WebhookDeliverySerializer, **error_responses(404, 409)},
    )
    def post(self, request, endpoint_id: str):
        validate(WebhookEndpointTestSerializer, request.params)
        delivery = webhook_endpoint_ping(
            merchant=request.merchant, livemode=request.livemode, public_id=endpoint_id
        )
        return Response(render_delivery(delivery))


class WebhookDeliveryListView(StripeAPIView):
    @extend_schema(
        operation_id="webhook_endpoints_deliveries",
        description="The endpoint's deliveries, newest first, each with its attempts.",
        parameters=[_ENDPOINT_ID, *query_parameters(WebhookEndpointListSerializer)],
        responses={200: WebhookDeliveryListResponseSerializer, **error_responses(404)},
    )
    def get(self, request, endpoint_id: str):
        validate(WebhookEndpointListSerializer, request.params)
        endpoint = webhook_endpoint_get(
            merchant=request.merchant, livemode=request.livemode, public_id=endpoint_id
        )
        return Response(
            paginate(
                request,
                webhook_delivery_list(endpoint=endpoint),
                lambda delivery: render_delivery(delivery, attempts=True),
                url=f"/v1/webhook_endpoints/{endpoint.public_id}/deliveries",
                object_name="webhook_delivery",
            )
        )
