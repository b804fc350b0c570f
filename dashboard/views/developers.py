"""Developers: API keys (create, reveal once, roll, revoke) and webhook endpoints (create,
edit events, roll secret, disable, send a test event, resend an event, deliveries).

A new key or secret is shown once, in the response to the POST that made it, and never
again: it is neither stored in clear nor put in the session. The test keys that sign-up
creates were never shown to anyone (only their hashes exist), so the keys page offers to
reveal each of them once, as Stripe's "Reveal test key" does: a fresh key is made and shown,
and the unseen one is revoked at once (no one can have used it)."""

from datetime import timedelta

from django import forms
from django.db import transaction
from django.http import Http404, HttpRequest, HttpResponse
from django.views.decorators.http import require_POST

from core.errors import APIError, ResourceMissingError
from dashboard.access import audit, dashboard_view
from dashboard.views.common import render_page
from merchants.models import APIKey, APIKeyKind, AuditEvent
from merchants.services import api_key_create, api_key_revoke, api_key_roll
from webhooks.models import WebhookEndpoint
from webhooks.selectors import (
    event_list,
    webhook_delivery_list,
    webhook_endpoint_get,
    webhook_endpoint_list,
)
from webhooks.services.endpoints import (
    webhook_endpoint_create as endpoint_create,
)
from webhooks.services.endpoints import (
    webhook_endpoint_ping,
    webhook_endpoint_resend,
    webhook_endpoint_roll_secret,
    webhook_endpoint_update,
)

# --- API keys ---------------------------------------------------------------------------

ROLL_EXPIRIES = {
    "now": timedelta(0),
    "1h": timedelta(hours=1),
    "24h": timedelta(hours=24),
    "7d": timedelta(days=7),
}


class KeyCreateForm(forms.Form):
    name = forms.CharField(max_length=100, required=False)
    kind = forms.ChoiceField(choices=APIKeyKind.choices, initial=APIKeyKind.SECRET)


def _keys(request: HttpRequest):
    d = request.dashboard
    return APIKey.objects.filter(merchant=d.merchant, livemode=d.livemode).order_by(
        "revoked_at", "-created_at", "-id"
    )


def _key(request: HttpRequest, pk: int) -> APIKey:
    key = _keys(request).filter(pk=pk).first()
    if key is None:
        raise Http404("No such key")
    return key


# merchants.services.merchant_signup names the test keys it makes so.
SIGNUP_KEY_NAME = "default"


def _unrevealed(request: HttpRequest, keys: list[APIKey]) -> set[int]:
    """The keys among `keys` that no one has seen: sign-up's test keys while they are
    active and unused. A key made, rolled or revealed here was shown in that answer, and
    the audit log names it (api_key.create and api_key.reveal by object id, api_key.roll
    as new_key)."""
    candidates = [
        k
        for k in keys
        if k.name == SIGNUP_KEY_NAME
        and not k.livemode
        and k.revoked_at is None
        and k.expires_at is None
        and k.last_used_at is None
    ]
    if not candidates:
        return set()
    shown = set()
    for action, object_id, data in AuditEvent.objects.filter(
        merchant=request.dashboard.merchant,
        action__in=["api_key.create", "api_key.roll", "api_key.reveal"],
    ).values_list("action", "object_id", "data"):
        shown.add(data.get("new_key", "") if action == "api_key.roll" else object_id)
    return {k.pk for k in candidates if k.redacted not in shown}


def _keys_page(
    request: HttpRequest, *, issued=None, revealed: bool = False, error: str = "", form=None
) -> HttpResponse:
    keys = list(_keys(request))
    context = {
        "nav": "keys",
        "keys": keys,
        "unrevealed": _unrevealed(request, keys),
        "issued": issued,
        "revealed": revealed,
        "error": error,
        "form": form or KeyCreateForm(),
        "roll_expiries": list(ROLL_EXPIRIES),
    }
    return render_page(request, "dashboard/apikey_list.html", context, partial="keys")


@dashboard_view("keys.manage", require_2fa=True)
def apikey_list(request: HttpRequest) -> HttpResponse:
    return _keys_page(request)


@require_POST
@dashboard_view("keys.manage", require_2fa=True)
def apikey_create(request: HttpRequest) -> HttpResponse:
    d = request.dashboard
    form = KeyCreateForm(request.POST)
    if not form.is_valid():
        return _keys_page(request, error="Check the form.", form=form)
    issued = api_key_create(
        merchant=d.merchant,
        kind=form.cleaned_data["kind"],
        livemode=d.livemode,
        name=form.cleaned_data["name"],
    )
    audit(request, "api_key.create", issued.api_key.redacted, kind=issued.api_key.kind)
    return _keys_page(request, issued=issued)


@require_POST
@dashboard_view("keys.manage", require_2fa=True)
def apikey_reveal(request: HttpRequest, pk: int) -> HttpResponse:
    """Show a sign-up test key once: only its hash exists, so a fresh key of the same kind
    and name replaces it (shown in this answer) and the unseen one is revoked. The row lock
    makes a double click reveal one key, not two."""
    d = request.dashboard
    with transaction.atomic():
        key = _keys(request).select_for_update().filter(pk=pk).first()
        if key is None:
            raise Http404("No such key")
        if key.pk not in _unrevealed(request, [key]):
            return _keys_page(
                request,
                error="This key cannot be shown again: a key is shown once. Roll it for a new one.",
            )
        issued = api_key_create(
            merchant=d.merchant, kind=key.kind, livemode=key.livemode, name=key.name
        )
        api_key_revoke(api_key=key)
        audit(request, "api_key.reveal", issued.api_key.redacted, replaces=key.redacted)
    return _keys_page(request, issued=issued, revealed=True)


@require_POST
@dashboard_view("keys.manage", require_2fa=True)
def apikey_roll(request: HttpRequest, pk: int) -> HttpResponse:
    key = _key(request, pk)
    if key.revoked_at is not None:
        return _keys_page(request, error="A revoked key cannot be rolled.")
    expire_in = ROLL_EXPIRIES.get(request.POST.get("expires_in", "now"), timedelta(0))
    issued = api_key_roll(api_key=key, expire_in=expire_in)
    audit(
        request,
        "api_key.roll",
        key.redacted,
        new_key=issued.api_key.redacted,
        old_key_expires_in_seconds=int(expire_in.total_seconds()),
    )
    return _keys_page(request, issued=issued)


@require_POST
@dashboard_view("keys.manage", require_2fa=True)
def apikey_revoke(request: HttpRequest, pk: int) -> HttpResponse:
    key = _key(request, pk)
    api_key_revoke(api_key=key)
    audit(request, "api_key.revoke", key.redacted)
    return _keys_page(request)


# --- Webhook endpoints ------------------------------------------------------------------

EVENT_TYPES = [
    "payment_intent.created",
    "payment_intent.succeeded",
    "payment_intent.payment_failed",
    "payment_intent.requires_action",
    "payment_intent.amount_capturable_updated",
    "payment_intent.canceled",
    "charge.succeeded",
    "charge.failed",
    "charge.captured",
    "charge.refunded",
    "refund.created",
    "refund.updated",
    "refund.failed",
    "checkout.session.completed",
    "checkout.session.expired",
    "customer.created",
    "customer.updated",
    "customer.deleted",
    "payout.created",
    "payout.updated",
    "payout.paid",
    "payout.failed",
    "payout.canceled",
]


class EndpointForm(forms.Form):
    url = forms.URLField(max_length=2048, label="Endpoint URL")
    description = forms.CharField(max_length=5000, required=False)
    all_events = forms.BooleanField(required=False, label="All events")
    events = forms.MultipleChoiceField(
        choices=[(t, t) for t in EVENT_TYPES],
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )

    def clean(self):
        data = super().clean()
        if not data.get("all_events") and not data.get("events"):
            raise forms.ValidationError("Choose the events to send, or all events.")
        return data

    @property
    def enabled_events(self) -> list[str]:
        return ["*"] if self.cleaned_data["all_events"] else self.cleaned_data["events"]

    @classmethod
    def for_endpoint(cls, endpoint: WebhookEndpoint) -> "EndpointForm":
        every = "*" in endpoint.enabled_events
        return cls(
            initial={
                "url": endpoint.url,
                "description": endpoint.description,
                "all_events": every,
                "events": [] if every else endpoint.enabled_events,
            }
        )


def _endpoints_page(request, *, form=None, created=None, secret="", error="") -> HttpResponse:
    d = request.dashboard
    context = {
        "nav": "webhooks",
        "endpoints": list(
            webhook_endpoint_list(merchant=d.merchant, livemode=d.livemode).order_by("-created_at")
        ),
        "form": form or EndpointForm(initial={"all_events": True}),
        "created": created,
        "secret": secret,
        "error": error,
    }
    return render_page(request, "dashboard/webhookendpoint_list.html", context, partial="endpoints")


@dashboard_view("developers.view")
def webhookendpoint_list(request: HttpRequest) -> HttpResponse:
    return _endpoints_page(request)


@require_POST
@dashboard_view("webhooks.manage")
def webhookendpoint_create(request: HttpRequest) -> HttpResponse:
    d = request.dashboard
    form = EndpointForm(request.POST)
    if not form.is_valid():
        return _endpoints_page(request, form=form, error="Check the form.")
    try:
        endpoint, secret = endpoint_create(
            merchant=d.merchant,
            livemode=d.livemode,
            url=form.cleaned_data["url"],
            enabled_events=form.enabled_events,
            description=form.cleaned_data["description"],
        )
    except APIError as exc:
        return _endpoints_page(request, form=form, error=exc.message)
    audit(request, "webhook_endpoint.create", endpoint.public_id, url=endpoint.url)
    return _endpoints_page(request, created=endpoint, secret=secret)


def _endpoint(request: HttpRequest, public_id: str) -> WebhookEndpoint:
    d = request.dashboard
    try:
        return webhook_endpoint_get(merchant=d.merchant, livemode=d.livemode, public_id=public_id)
    except ResourceMissingError as exc:
        raise Http404(str(exc)) from exc


def _endpoint_page(request, endpoint, *, form=None, secret="", notice="", error="") -> HttpResponse:
    d = request.dashboard
    deliveries = list(webhook_delivery_list(endpoint=endpoint).order_by("-created_at", "-id")[:50])
    recent_events = list(
        event_list(merchant=d.merchant, livemode=d.livemode).order_by("-created_at", "-id")[:20]
    )
    context = {
        "nav": "webhooks",
        "endpoint": endpoint,
        "form": form or EndpointForm.for_endpoint(endpoint),
        "deliveries": deliveries,
        "recent_events": recent_events,
        "secret": secret,
        "notice": notice,
        "error": error,
        "roll_expiries": list(ROLL_EXPIRIES),
    }
    return render_page(
        request, "dashboard/webhookendpoint_detail.html", context, partial="endpoint"
    )


@dashboard_view("developers.view")
def webhookendpoint_detail(request: HttpRequest, public_id: str) -> HttpResponse:
    return _endpoint_page(request, _endpoint(request, public_id))


@require_POST
@dashboard_view("webhooks.manage")
def webhookendpoint_update(request: HttpRequest, public_id: str) -> HttpResponse:
    d = request.dashboard
    endpoint = _endpoint(request, public_id)
    if "disabled" in request.POST:
        changes: dict = {"disabled": request.POST["disabled"] == "true"}
        form = None
    else:
        form = EndpointForm(request.POST)
        if not form.is_valid():
            return _endpoint_page(request, endpoint, form=form, error="Check the form.")
        changes = {
            "url": form.cleaned_data["url"],
            "description": form.cleaned_data["description"],
            "enabled_events": form.enabled_events,
        }
    try:
        endpoint = webhook_endpoint_update(
            merchant=d.merchant, livemode=d.livemode, public_id=public_id, changes=changes
        )
    except APIError as exc:
        return _endpoint_page(request, endpoint, form=form, error=exc.message)
    audit(request, "webhook_endpoint.update", endpoint.public_id, **changes)
    return _endpoint_page(request, endpoint, notice="Saved.")


@require_POST
@dashboard_view("webhooks.manage")
def webhookendpoint_roll_secret(request: HttpRequest, public_id: str) -> HttpResponse:
    d = request.dashboard
    _endpoint(request, public_id)
    expires_in = ROLL_EXPIRIES.get(request.POST.get("expires_in", "24h"), timedelta(hours=24))
    endpoint, secret = webhook_endpoint_roll_secret(
        merchant=d.merchant, livemode=d.livemode, public_id=public_id, expires_in=expires_in
    )
    audit(
        request,
        "webhook_endpoint.roll_secret",
        endpoint.public_id,
        old_secret_expires_in_seconds=int(expires_in.total_seconds()),
    )
    return _endpoint_page(request, endpoint, secret=secret)


@require_POST
@dashboard_view("webhooks.manage")
def webhookendpoint_test(request: HttpRequest, public_id: str) -> HttpResponse:
    d = request.dashboard
    endpoint = _endpoint(request, public_id)
    try:
        delivery = webhook_endpoint_ping(
            merchant=d.merchant, livemode=d.livemode, public_id=public_id
        )
    except APIError as exc:
        return _endpoint_page(request, endpoint, error=exc.message)
    audit(request, "webhook_endpoint.test", endpoint.public_id, delivery=delivery.public_id)
    return _endpoint_page(request, endpoint, notice="A test event was sent.")


@require_POST
@dashboard_view("webhooks.manage")
def webhookendpoint_resend(request: HttpRequest, public_id: str) -> HttpResponse:
    d = request.dashboard
    endpoint = _endpoint(request, public_id)
    event_id = request.POST.get("event", "")
    try:
        delivery = webhook_endpoint_resend(
            merchant=d.merchant, livemode=d.livemode, public_id=public_id, event_id=event_id
        )
    except APIError as exc:
        return _endpoint_page(request, endpoint, error=exc.message)
    audit(
        request,
        "webhook_endpoint.resend",
        endpoint.public_id,
        event=event_id,
        delivery=delivery.public_id,
    )
    return _endpoint_page(request, endpoint, notice=f"Event {event_id} was sent again.")
