"""Developers → Logs (the API request log) and Developers → Events (the events the
merchant's integration was sent, each with its payload and its deliveries per endpoint, and
a resend to any endpoint). Both are lists a page at a time (keyset: page 1000 costs what
page 1 costs), scoped to the merchant and mode, for owners, admins and developers."""

import json

from django import forms
from django.http import Http404, HttpRequest, HttpResponse
from django.views.decorators.http import require_POST

from core.errors import APIError
from dashboard.access import audit, dashboard_view
from dashboard.selectors import (
    STATUS_CLASSES,
    RequestLogFilters,
    api_request_log_search,
    event_search,
    keyset_page,
)
from dashboard.views.common import render_page
from dashboard.views.developers import EVENT_TYPES
from webhooks.models import ACTIVE_DELIVERY_STATUSES, Event, WebhookDelivery
from webhooks.render import render_event
from webhooks.selectors import webhook_endpoint_list
from webhooks.services.endpoints import webhook_endpoint_resend

PAGE_SIZE = 50
METHODS = ["GET", "POST", "DELETE"]


def _query_without_cursor(request: HttpRequest) -> str:
    query = request.GET.copy()
    for key in ("after", "before"):
        query.pop(key, None)
    return query.urlencode()


# --- the API request log ----------------------------------------------------------------


class RequestLogFilterForm(forms.Form):
    status = forms.ChoiceField(
        choices=[("", "Any status"), *((c, c) for c in STATUS_CLASSES)], required=False
    )
    method = forms.ChoiceField(
        choices=[("", "Any method"), *((m, m) for m in METHODS)], required=False
    )
    path = forms.CharField(max_length=200, required=False)
    idempotency_key = forms.CharField(max_length=255, required=False)

    def filters(self) -> RequestLogFilters:
        if not self.is_valid():
            return RequestLogFilters()
        data = self.cleaned_data
        return RequestLogFilters(
            status_class=data["status"],
            method=data["method"],
            path=data["path"].strip(),
            idempotency_key=data["idempotency_key"].strip(),
        )


@dashboard_view("developers.view")
def requestlog_list(request: HttpRequest) -> HttpResponse:
    d = request.dashboard
    form = RequestLogFilterForm(request.GET or None)
    rows = api_request_log_search(merchant=d.merchant, livemode=d.livemode, filters=form.filters())
    page = keyset_page(
        rows,
        size=PAGE_SIZE,
        after=request.GET.get("after", ""),
        before=request.GET.get("before", ""),
        scope=api_request_log_search(
            merchant=d.merchant, livemode=d.livemode, filters=RequestLogFilters()
        ),
        key="id",
    )
    context = {"nav": "logs", "form": form, "page": page, "query": _query_without_cursor(request)}
    return render_page(request, "dashboard/requestlog_list.html", context, partial="results")


# --- events -----------------------------------------------------------------------------


@dashboard_view("developers.view")
def event_list_page(request: HttpRequest) -> HttpResponse:
    d = request.dashboard
    wanted = request.GET.get("type", "")
    types = ["ping", *EVENT_TYPES]
    groups = sorted({t.split(".")[0] + ".*" for t in EVENT_TYPES})
    kind = wanted if wanted in types or wanted in groups else ""
    page = keyset_page(
        event_search(merchant=d.merchant, livemode=d.livemode, type=kind),
        size=PAGE_SIZE,
        after=request.GET.get("after", ""),
        before=request.GET.get("before", ""),
        scope=Event.objects.filter(merchant=d.merchant, livemode=d.livemode),
    )
    context = {
        "nav": "events",
        "page": page,
        "type": kind,
        "types": types,
        "groups": groups,
        "query": _query_without_cursor(request),
    }
    return render_page(request, "dashboard/event_list.html", context, partial="results")


def _event(request: HttpRequest, public_id: str) -> Event:
    d = request.dashboard
    event = Event.objects.filter(
        merchant=d.merchant, livemode=d.livemode, public_id=public_id
    ).first()
    if event is None:
        raise Http404("No such event.")
    return event


def _event_page(request: HttpRequest, event: Event, *, notice="", error="") -> HttpResponse:
    d = request.dashboard
    deliveries = list(
        WebhookDelivery.objects.filter(event=event)
        .prefetch_related("attempts")
        .order_by("-created_at", "-id")
    )
    endpoints = []
    for endpoint in webhook_endpoint_list(merchant=d.merchant, livemode=d.livemode).order_by(
        "created_at", "id"
    ):
        endpoints.append(
            {
                "endpoint": endpoint,
                "deliveries": [dl for dl in deliveries if dl.endpoint_id == endpoint.pk],
            }
        )
    context = {
        "nav": "events",
        "event": event,
        # What the endpoints receive (and GET /v1/events/{id} answers).
        "payload": json.dumps(
            render_event(
                event,
                pending_webhooks=sum(dl.status in ACTIVE_DELIVERY_STATUSES for dl in deliveries),
            ),
            indent=2,
        ),
        "endpoints": endpoints,
        "notice": notice,
        "error": error,
    }
    return render_page(request, "dashboard/event_detail.html", context, partial="event")


@dashboard_view("developers.view")
def event_detail(request: HttpRequest, public_id: str) -> HttpResponse:
    return _event_page(request, _event(request, public_id))


@require_POST
@dashboard_view("webhooks.manage")
def event_resend(request: HttpRequest, public_id: str) -> HttpResponse:
    """Send the event again to one endpoint, as a new delivery with its own retries (the
    service behind POST /v1/webhook_endpoints/{id}/resend)."""
    d = request.dashboard
    event = _event(request, public_id)
    endpoint_id = request.POST.get("endpoint", "")
    try:
        delivery = webhook_endpoint_resend(
            merchant=d.merchant, livemode=d.livemode, public_id=endpoint_id, event_id=public_id
        )
    except APIError as exc:
        return _event_page(request, event, error=exc.message)
    audit(
        request,
        "webhook_endpoint.resend",
        endpoint_id,
        event=event.public_id,
        delivery=delivery.public_id,
    )
    return _event_page(request, event, notice=f"{event.public_id} was sent again to {endpoint_id}.")
