"""A walker over every URL pattern of the project (issue #9): each route that names an object
is requested with merchant A's credentials against merchant B's object, with GET, POST and
DELETE, and must refuse (404, or 403 where a role refuses) without changing any of B's rows.

The walker reads Django's URL resolver, so a route added later is walked too. A route with
a parameter the tables below do not know fails the test until someone says how to fill it
with one of B's objects (FILL) or why it is public or not merchant-scoped (EXEMPT).
"""

import datetime as dt
from dataclasses import dataclass

import pytest
from django.apps import apps
from django.contrib.auth import get_user_model
from django.contrib.contenttypes.models import ContentType
from django.core.cache import cache
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver
from django.utils import timezone
from rest_framework.test import APIClient

from merchants.models import APIKey, Membership, Merchant, PricingPlan, PricingRate
from merchants.services import bank_account_set, invitation_create
from payments.models import PaymentIntent
from settlement.services.batches import settlement_run
from tests.dashboard.conftest import make_user
from tests.form_client import form_client

pytestmark = pytest.mark.django_db(transaction=True)


# Route name -> {URL parameter: key of B's world (see _world_of_b)}. Every route whose
# pattern takes a parameter is here or in EXEMPT.
FILL: dict[str, dict[str, str]] = {
    # The JSON API, with A's secret key.
    "event-detail": {"event_id": "event"},
    "webhook_endpoint-detail": {"endpoint_id": "webhook_endpoint"},
    "webhook_endpoint-roll_secret": {"endpoint_id": "webhook_endpoint"},
    "webhook_endpoint-resend": {"endpoint_id": "webhook_endpoint"},
    "webhook_endpoint-test": {"endpoint_id": "webhook_endpoint"},
    "webhook_endpoint-deliveries": {"endpoint_id": "webhook_endpoint"},
    "balance_transaction-detail": {"btxn_id": "balance_transaction"},
    "payout-detail": {"payout_id": "payout"},
    "payout-cancel": {"payout_id": "payout"},
    "settlement_batch-detail": {"batch_id": "settlement_batch"},
    "settlement_batch-lines": {"batch_id": "settlement_batch"},
    "settlement_batch-lines-csv": {"batch_id": "settlement_batch"},
    "customer-detail": {"customer_id": "customer"},
    "payment_intent-detail": {"intent_id": "payment_intent"},
    "payment_intent-confirm": {"intent_id": "fresh_payment_intent"},
    "payment_intent-capture": {"intent_id": "held_payment_intent"},
    "payment_intent-cancel": {"intent_id": "held_payment_intent"},
    "payment_method-detail": {"pm_id": "payment_method"},
    "payment_method-attach": {"pm_id": "payment_method"},
    "payment_method-detach": {"pm_id": "payment_method"},
    "charge-detail": {"charge_id": "charge"},
    "refund-detail": {"refund_id": "refund"},
    "checkout_session-detail": {"session_id": "checkout_session"},
    "checkout_session-expire": {"session_id": "checkout_session"},
    "checkout_session-line_items": {"session_id": "checkout_session"},
    # The dashboard, with the session of A's owner (two-factor set up).
    "dashboard:payment-detail": {"public_id": "payment_intent"},
    "dashboard:payment-refund": {"public_id": "payment_intent"},
    "dashboard:payment-capture": {"public_id": "held_payment_intent"},
    "dashboard:payment-cancel": {"public_id": "held_payment_intent"},
    "dashboard:customer-detail": {"public_id": "customer"},
    "dashboard:settlementbatch-detail": {"public_id": "settlement_batch"},
    "dashboard:settlementbatch-export": {"public_id": "settlement_batch"},
    "dashboard:payout-detail": {"public_id": "payout"},
    "dashboard:payout-cancel": {"public_id": "payout"},
    "dashboard:apikey-reveal": {"pk": "api_key_pk"},
    "dashboard:apikey-roll": {"pk": "api_key_pk"},
    "dashboard:apikey-revoke": {"pk": "api_key_pk"},
    "dashboard:webhookendpoint-detail": {"public_id": "webhook_endpoint"},
    "dashboard:webhookendpoint-update": {"public_id": "webhook_endpoint"},
    "dashboard:webhookendpoint-roll-secret": {"public_id": "webhook_endpoint"},
    "dashboard:webhookendpoint-test": {"public_id": "webhook_endpoint"},
    "dashboard:webhookendpoint-resend": {"public_id": "webhook_endpoint"},
    "dashboard:event-detail": {"public_id": "event"},
    "dashboard:event-resend": {"public_id": "event"},
    "dashboard:team-invitation-revoke": {"public_id": "invitation"},
    "dashboard:team-invitation-resend": {"public_id": "invitation"},
    "dashboard:team-member-role": {"pk": "membership_pk"},
    "dashboard:team-member-remove": {"pk": "membership_pk"},
}

# Routes with parameters that are not one merchant's object behind a merchant's key or
# session, and why.
EXEMPT: dict[str, str] = {
    "webhooks:inbound-callback": "a connector's name; processors call it with a signed "
    "body and no merchant credential (tests/webhooks/test_inbound.py)",
    "payments:authentication-return": "the paying customer's browser back from 3-D Secure, "
    "without a merchant credential; the outcome is inquired from the processor",
    "payments:qr-code-svg": "a signed, unguessable token of one local payment's QR code, "
    "embedded in the customer's checkout page",
    "checkout:page": "public by design: the checkout session id is the paying customer's "
    "capability, as Stripe's checkout URL is",
    "checkout:status": "the checkout page's own polling, by session id (public by design)",
    "checkout:return": "the checkout page's return from 3-D Secure, by session id (public)",
    "checkout:change-method": "the checkout page's 'choose another method', by session id "
    "(public by design; same-origin posts only)",
    "checkout:theme": "a stylesheet for a brand colour: the colour is the whole input, no "
    "merchant's data behind it",
    "checkout:logo": "a checkout logo addressed by the SHA-256 of its content (public on the "
    "checkout page, unguessable without it)",
    "sandbox:3ds-challenge": "the sandbox issuer's challenge page: the simulated outside "
    "world, not the gateway",
    "sandbox_local:ovo-phone": "the sandbox's simulated OVO phone (outside world)",
    "sandbox_local:wallet": "the sandbox's simulated e-wallet app (outside world)",
    "account_confirm_email": "allauth's e-mail confirmation key, sent to the address",
    "account_reset_password_from_key": "allauth's password reset key, sent by e-mail",
    "dashboard:invitation-accept": "the invitation token is the capability, e-mailed to the "
    "invitee (tests/dashboard/test_team.py)",
}

# The operators' Django admin: these parameters are filled with one of B's rows; a
# merchant's session (not staff) must be sent to the admin login for every one of them.
ADMIN_FILL = {
    "object_id": "payment_intent_pk",
    "app_label": "app_label",
    "content_type_id": "content_type_id",
    "url": "admin_url",
    "id": "owner_user_pk",
}

# A body for the POSTs that would do something if the object were A's (so the request gets
# past form validation to the lookup). Others are posted empty.
POST_DATA: dict[str, dict[str, str]] = {
    "payment_intent-confirm": {"payment_method": "pm_card_visa"},
    "payment_intent-capture": {"amount_to_capture": "1000"},
    "payment_intent-detail": {"amount": "1", "metadata[walker]": "a"},
    "customer-detail": {"name": "Mallory", "email": "m@example.com"},
    "webhook_endpoint-detail": {"url": "https://example.com/mallory", "disabled": "true"},
    "webhook_endpoint-roll_secret": {"expires_in": "0"},
    "webhook_endpoint-resend": {"event": "{event}"},
    "payment_method-attach": {"customer": "{own_customer}"},
    "payment_method-detail": {"metadata[walker]": "a"},
    "refund-detail": {"metadata[walker]": "a"},
    "dashboard:payment-refund": {"amount": "1000", "reason": "requested_by_customer"},
    "dashboard:payment-capture": {"amount_to_capture": "1000"},
    "dashboard:apikey-roll": {"expires_in": "0"},
    "dashboard:webhookendpoint-update": {"url": "https://example.com/m", "enabled_events": "*"},
    "dashboard:event-resend": {"endpoint": "{webhook_endpoint}"},
    "dashboard:team-member-role": {"role": "viewer"},
}

METHODS = ("get", "post", "delete")
REFUSALS = {403, 404}


@dataclass(frozen=True)
class Route:
    name: str
    route: str
    params: tuple[str, ...]
    callback: object

    @property
    def is_api(self) -> bool:
        return self.route.startswith("v1/")

    def path(self, values: dict[str, str]) -> str:
        path = self.route
        for param in self.params:
            value = str(values[param])
            # Django's `<str:x>`-style routes and allauth's regex routes both.
            for converter in ("str", "int", "slug", "path", "uuid"):
                path = path.replace(f"<{converter}:{param}>", value)
            path = path.replace(f"<{param}>", value)
            if f"(?P<{param}>" in path:
                start = path.index(f"(?P<{param}>")
                end = path.index(")", start) + 1
                path = path[:start] + value + path[end:]
        return "/" + path.lstrip("^").rstrip("$")


def _routes(patterns=None, prefix: str = "", namespace: str = "") -> list[Route]:
    routes: list[Route] = []
    for entry in get_resolver().url_patterns if patterns is None else patterns:
        if isinstance(entry, URLResolver):
            inner = entry.namespace or ""
            full = f"{namespace}:{inner}" if namespace and inner else inner or namespace
            routes += _routes(entry.url_patterns, prefix + str(entry.pattern), full)
        elif isinstance(entry, URLPattern):
            pattern = entry.pattern
            params = tuple(getattr(pattern, "converters", {}) or {}) or tuple(
                pattern.regex.groupindex
            )
            name = f"{namespace}:{entry.name}" if namespace and entry.name else entry.name
            routes.append(
                Route(name or prefix + str(pattern), prefix + str(pattern), params, entry.callback)
            )
    return routes


def _with_params() -> list[Route]:
    return [route for route in _routes() if route.params]


def _is_admin(route: Route) -> bool:
    return route.route.startswith("admin/")


# --- B's world and its snapshot ---------------------------------------------------------


def _ok(response) -> dict:
    assert response.status_code == 200, response.content
    return response.json()


def _world_of_b(merchant: Merchant, key: str) -> dict[str, object]:
    """One of everything merchant B owns, made through the API and B's services."""
    # A plan of its own, so that the settled net (and so the automatic payout) does not
    # depend on the default plan's rates.
    plan = PricingPlan.objects.create(name="Walker plan")
    PricingRate.objects.create(
        plan=plan, payment_method_type="card", currency="idr", percent_bps=200, fixed_amount=100
    )
    merchant.pricing_plan = plan
    merchant.save(update_fields=["pricing_plan"])
    b = form_client(key)
    customer = _ok(b.post("/v1/customers", {"email": "buyer@example.com"}))
    pm = _ok(
        b.post(
            "/v1/payment_methods",
            {
                "type": "card",
                "card[number]": "4242424242424242",
                "card[exp_month]": "12",
                "card[exp_year]": "2034",
            },
        )
    )
    paid = _ok(
        b.post(
            "/v1/payment_intents",
            {
                "amount": 150000,
                "currency": "idr",
                "payment_method": "pm_card_visa",
                "customer": customer["id"],
                "confirm": "true",
            },
        )
    )
    assert paid["status"] == "succeeded"
    refund = _ok(b.post("/v1/refunds", {"payment_intent": paid["id"], "amount": 1000}))
    held = _ok(
        b.post(
            "/v1/payment_intents",
            {
                "amount": 70000,
                "currency": "idr",
                "payment_method": "pm_card_mastercard",
                "capture_method": "manual",
                "confirm": "true",
            },
        )
    )
    assert held["status"] == "requires_capture"
    fresh = _ok(b.post("/v1/payment_intents", {"amount": 5000, "currency": "idr"}))
    session = _ok(
        b.post(
            "/v1/checkout/sessions",
            {
                "amount": 25000,
                "currency": "idr",
                "success_url": "https://shop.example/ok",
                "cancel_url": "https://shop.example/cancel",
            },
        )
    )
    endpoint = _ok(
        b.post(
            "/v1/webhook_endpoints", {"url": "https://hooks.example/b", "enabled_events[0]": "*"}
        )
    )
    event = _ok(b.get("/v1/events", {"limit": 1}))["data"][0]
    bank_account_set(
        merchant=merchant,
        currency="idr",
        bank_code="bca",
        account_number="1234567890",
        account_holder_name="Warung Lain",
    )
    result = settlement_run(now=timezone.now() + dt.timedelta(days=1))
    [batch] = [b_ for b_ in result.batches if b_.merchant_id == merchant.pk]
    [payout] = [p for p in result.payouts if p.merchant_id == merchant.pk]
    assert payout.status == "pending"
    balance_transaction = _ok(b.get("/v1/balance_transactions", {"limit": 1}))["data"][0]
    owner = make_user("owner@warung.example", mfa=True)
    membership = Membership.objects.create(user=owner, merchant=merchant, role="owner")
    invitation = invitation_create(
        merchant=merchant, email="new@warung.example", role="viewer", invited_by=owner
    ).invitation
    return {
        "customer": customer["id"],
        "payment_method": pm["id"],
        "payment_intent": paid["id"],
        "payment_intent_pk": PaymentIntent.objects.get(public_id=paid["id"]).pk,
        "charge": paid["latest_charge"],
        "refund": refund["id"],
        "held_payment_intent": held["id"],
        "fresh_payment_intent": fresh["id"],
        "checkout_session": session["id"],
        "webhook_endpoint": endpoint["id"],
        "event": event["id"],
        "settlement_batch": batch.public_id,
        "payout": payout.public_id,
        "balance_transaction": balance_transaction["id"],
        "api_key_pk": APIKey.objects.filter(merchant=merchant).first().pk,
        "invitation": invitation.public_id,
        "membership_pk": membership.pk,
        "owner_user_pk": owner.pk,
        "app_label": "payments",
        "admin_url": "payments/paymentintent/",
        "content_type_id": ContentType.objects.get_for_model(PaymentIntent).pk,
    }


def _path_to_merchant(model, depth: int = 0, seen: tuple = ()) -> str | None:
    """The shortest lookup from `model` to its Merchant ("merchant", "event__merchant"...)."""
    if model is Merchant:
        return ""
    if depth > 3:
        return None
    best = None
    for field in model._meta.fields:
        related = field.related_model if field.is_relation else None
        if related is None or related in seen:
            continue
        rest = _path_to_merchant(related, depth + 1, (*seen, model))
        if rest is not None:
            candidate = field.name + (f"__{rest}" if rest else "")
            if best is None or candidate.count("__") < best.count("__"):
                best = candidate
    return best


def _snapshot(merchant: Merchant) -> dict[str, list]:
    """Every row that belongs to `merchant` (any model with a path to it, so models added
    later count too), its members' accounts, and everything the sandbox's outside world
    holds (authorizations, captures, refunds, payouts, wallet payments)."""
    rows: dict[str, list] = {}
    for model in apps.get_models():
        label = model._meta.label
        if model is Merchant:
            rows[label] = list(Merchant.objects.filter(pk=merchant.pk).values())
        elif label.startswith("sandbox.") and label != "sandbox.Fault":
            rows[label] = list(model.objects.order_by("pk").values())
        elif (lookup := _path_to_merchant(model)) is not None:
            rows[label] = list(model.objects.filter(**{lookup: merchant}).order_by("pk").values())
    members = Membership.objects.filter(merchant=merchant).values("user_id")
    rows["users"] = list(get_user_model().objects.filter(pk__in=members).order_by("pk").values())
    return rows


# --- the walk ---------------------------------------------------------------------------


def _fill(value: str, world: dict) -> str:
    return value.format(**{k: v for k, v in world.items() if isinstance(v, str)})


def _request(client, method: str, path: str, data: dict, *, htmx: bool = False):
    extra = {"HTTP_HX_REQUEST": "true"} if htmx else {}
    if method == "get":
        return client.get(path, **extra)
    if method == "post":
        return client.post(path, data, **extra)
    return client.delete(path, **extra)


def _api_methods(route: Route) -> set[str]:
    view_class = getattr(route.callback, "view_class", None) or getattr(route.callback, "cls")
    return {method for method in METHODS if hasattr(view_class, method)}


def _walk(route: Route, world: dict, api: APIClient, session: Client) -> list[str]:
    """Request `route` with A's credentials on B's objects; the wrong answers, as text."""
    wrong: list[str] = []
    values = {param: world[key] for param, key in FILL[route.name].items()}
    path = route.path(values)
    data = {k: _fill(v, world) for k, v in POST_DATA.get(route.name, {}).items()}
    refused = 0
    if route.is_api:
        accepted = _api_methods(route)
        for method in METHODS:
            response = _request(api, method, path, data)
            code = response.status_code
            if method in accepted:
                error = response.json().get("error", {}) if code == 404 else {}
                if code != 404 or error.get("code") != "resource_missing":
                    wrong.append(f"{method.upper()} {path}: {code} {response.content[:200]!r}")
                else:
                    refused += 1
            elif code not in {404, 405}:
                wrong.append(f"{method.upper()} {path} (not a method of the route): {code}")
    else:
        for method, htmx in [
            ("get", False),
            ("get", True),
            ("post", False),
            ("post", True),
            ("delete", False),
        ]:
            response = _request(session, method, path, data, htmx=htmx)
            code = response.status_code
            if code in REFUSALS:
                refused += 1
            elif code != 405:
                where = response.get("Location", "")
                wrong.append(f"{method.upper()}{' (htmx)' if htmx else ''} {path}: {code} {where}")
    if not refused and not wrong:
        wrong.append(f"{path}: no method reached the object (every one answered 405)")
    return wrong


def _walk_admin(route: Route, world: dict, session: Client) -> list[str]:
    values = {param: world[ADMIN_FILL[param]] for param in route.params}
    path = route.path(values)
    wrong = []
    for method in ("get", "post"):
        response = _request(session, method, path, {"metadata": "{}"})
        location = response.get("Location", "")
        if response.status_code != 302 or not location.startswith("/admin/login/"):
            wrong.append(f"{method.upper()} {path}: {response.status_code} {location}")
    return wrong


def test_every_url_parameter_is_known_to_the_walker():
    """A new route taking an id fails here until FILL (or EXEMPT, with a reason) covers it,
    so the isolation walk below covers every future route too."""
    routes = _with_params()
    unknown = [
        f"{route.name} ({route.route}) params {route.params}"
        for route in routes
        if route.name not in FILL and route.name not in EXEMPT and not _is_admin(route)
    ]
    assert unknown == [], (
        "routes with parameters the URL walker cannot fill; add each to FILL (which of "
        "merchant B's objects fills each parameter) or to EXEMPT (why it is public): "
        + "; ".join(unknown)
    )
    stale = sorted(set(FILL) - {route.name for route in routes})
    assert stale == [], f"FILL names routes that no longer exist: {stale}"
    for route in routes:
        if route.name in FILL:
            assert set(FILL[route.name]) == set(route.params), route.name
        if _is_admin(route):
            assert set(route.params) <= set(ADMIN_FILL), route.name


def test_merchant_a_reaches_none_of_merchant_bs_objects_on_any_route(
    merchant, other_merchant, api_key_for
):
    cache.clear()  # rate limits and login counters of earlier tests
    owner = make_user("owner@toko.example", mfa=True)
    Membership.objects.create(user=owner, merchant=merchant, role="owner")
    world = _world_of_b(other_merchant, api_key_for(other_merchant))
    api = form_client(api_key_for(merchant))
    world["own_customer"] = _ok(api.post("/v1/customers", {"email": "a@toko.example"}))["id"]
    session = Client()
    session.force_login(owner)  # A's owner, two-factor set up (tests/dashboard/conftest.py)
    assert session.get("/dashboard/payments/").status_code == 200
    before = _snapshot(other_merchant)

    wrong: list[str] = []
    walked = 0
    for route in _with_params():
        if route.name in FILL:
            wrong += _walk(route, world, api, session)
            walked += 1
        elif _is_admin(route):
            wrong += _walk_admin(route, world, session)
            walked += 1

    assert wrong == [], "merchant A got through to merchant B's objects:\n" + "\n".join(wrong)
    assert walked >= len(FILL)
    after = _snapshot(other_merchant)
    changed = [label for label in before if before[label] != after.get(label)]
    assert changed == [], f"B's rows changed: {changed}"
    # And B still sees its own objects as they were.
    b = form_client(api_key_for(other_merchant))
    assert _ok(b.get(f"/v1/payment_intents/{world['held_payment_intent']}"))["status"] == (
        "requires_capture"
    )
    assert _ok(b.get(f"/v1/payouts/{world['payout']}"))["status"] == "pending"
