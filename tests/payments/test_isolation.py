"""Merchants never see or touch each other's objects, and test keys never see live objects
(DESIGN.md §6): every read or write of another merchant's (or mode's) object is a 404
resource_missing that changes nothing, and lists never include them."""

import pytest
from rest_framework.test import APIClient

from payments.models import Charge, PaymentIntent, PaymentMethod, Refund
from sandbox.network import authorization_count
from tests.form_client import form_client

pytestmark = pytest.mark.django_db(transaction=True)


def _ok(response) -> dict:
    assert response.status_code == 200, response.content
    return response.json()


def _world(client: APIClient) -> dict:
    """One of everything, made through the API with `client`'s key."""
    customer = _ok(client.post("/v1/customers", {"email": "buyer@example.com"}))
    pm = _ok(
        client.post(
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
        client.post(
            "/v1/payment_intents",
            {
                "amount": 150000,
                "currency": "idr",
                "payment_method": pm["id"],
                "customer": customer["id"],
                "confirm": "true",
            },
        )
    )
    assert paid["status"] == "succeeded"
    refund = _ok(client.post("/v1/refunds", {"payment_intent": paid["id"], "amount": 1000}))
    held_pm = _ok(
        client.post(
            "/v1/payment_methods",
            {
                "type": "card",
                "card[number]": "5555555555554444",
                "card[exp_month]": "11",
                "card[exp_year]": "2033",
            },
        )
    )
    held = _ok(
        client.post(
            "/v1/payment_intents",
            {
                "amount": 70000,
                "currency": "idr",
                "payment_method": held_pm["id"],
                "capture_method": "manual",
                "confirm": "true",
            },
        )
    )
    assert held["status"] == "requires_capture"
    fresh = _ok(client.post("/v1/payment_intents", {"amount": 5000, "currency": "idr"}))
    return {
        "customer": customer["id"],
        "pm": pm["id"],
        "paid": paid["id"],
        "charge": paid["latest_charge"],
        "refund": refund["id"],
        "held": held["id"],
        "fresh": fresh["id"],
    }


def _snapshot(client: APIClient, world: dict) -> dict:
    return {
        "customer": _ok(client.get(f"/v1/customers/{world['customer']}")),
        "pm": _ok(client.get(f"/v1/payment_methods/{world['pm']}")),
        "paid": _ok(client.get(f"/v1/payment_intents/{world['paid']}")),
        "held": _ok(client.get(f"/v1/payment_intents/{world['held']}")),
        "fresh": _ok(client.get(f"/v1/payment_intents/{world['fresh']}")),
        "charge": _ok(client.get(f"/v1/charges/{world['charge']}")),
        "refund": _ok(client.get(f"/v1/refunds/{world['refund']}")),
        "rows": (
            PaymentIntent.objects.count(),
            Charge.objects.count(),
            Refund.objects.count(),
            PaymentMethod.objects.count(),
            authorization_count(),
        ),
    }


def _attempts(world: dict, own: dict) -> list[tuple[str, str, dict]]:
    """Every call that names one of `world`'s objects (with `own` objects of the caller)."""
    pi, held, fresh = world["paid"], world["held"], world["fresh"]
    return [
        ("get", f"/v1/payment_intents/{pi}", {}),
        ("get", f"/v1/payment_intents/{fresh}", {}),
        ("post", f"/v1/payment_intents/{fresh}", {"metadata[order]": "42"}),
        ("post", f"/v1/payment_intents/{fresh}", {"amount": 1}),
        ("post", f"/v1/payment_intents/{fresh}/confirm", {"payment_method": "pm_card_visa"}),
        ("post", f"/v1/payment_intents/{held}/capture", {}),
        ("post", f"/v1/payment_intents/{held}/cancel", {}),
        ("post", f"/v1/payment_intents/{fresh}/cancel", {}),
        ("get", f"/v1/charges/{world['charge']}", {}),
        ("get", f"/v1/charges?payment_intent={pi}", {}),
        ("get", f"/v1/charges?customer={world['customer']}", {}),
        ("post", "/v1/refunds", {"charge": world["charge"]}),
        ("post", "/v1/refunds", {"payment_intent": pi, "amount": 500}),
        ("get", f"/v1/refunds/{world['refund']}", {}),
        ("post", f"/v1/refunds/{world['refund']}", {"metadata[note]": "mine now"}),
        ("get", f"/v1/refunds?charge={world['charge']}", {}),
        ("get", f"/v1/refunds?payment_intent={pi}", {}),
        ("get", f"/v1/payment_methods/{world['pm']}", {}),
        ("post", f"/v1/payment_methods/{world['pm']}", {"metadata[k]": "v"}),
        ("post", f"/v1/payment_methods/{world['pm']}/attach", {"customer": own["customer"]}),
        ("post", f"/v1/payment_methods/{own['pm']}/attach", {"customer": world["customer"]}),
        ("post", f"/v1/payment_methods/{world['pm']}/detach", {}),
        ("get", f"/v1/payment_methods?customer={world['customer']}", {}),
        ("get", f"/v1/customers/{world['customer']}", {}),
        ("post", f"/v1/customers/{world['customer']}", {"name": "Mallory"}),
        ("delete", f"/v1/customers/{world['customer']}", {}),
        ("get", f"/v1/payment_intents?customer={world['customer']}", {}),
        # The caller's own intent, pointed at the other side's payment method or customer.
        ("post", f"/v1/payment_intents/{own['fresh']}/confirm", {"payment_method": world["pm"]}),
        ("post", f"/v1/payment_intents/{own['fresh']}", {"payment_method": world["pm"]}),
        ("post", f"/v1/payment_intents/{own['fresh']}", {"customer": world["customer"]}),
        (
            "post",
            "/v1/payment_intents",
            {"amount": 1000, "currency": "idr", "customer": world["customer"]},
        ),
        (
            "post",
            "/v1/payment_intents",
            {"amount": 1000, "currency": "idr", "payment_method": world["pm"], "confirm": "true"},
        ),
    ]


def _assert_all_missing(client: APIClient, attempts) -> None:
    wrong = []
    for method, path, params in attempts:
        response = (
            getattr(client, method)(path, params) if params else getattr(client, method)(path)
        )
        body = response.json()
        error = body.get("error", {})
        if (
            response.status_code != 404
            or error.get("code") != "resource_missing"
            or error.get("type") != "invalid_request_error"
        ):
            wrong.append((method, path, params, response.status_code, body))
    assert not wrong, wrong


def _listed_ids(client: APIClient) -> set[str]:
    ids: set[str] = set()
    for path in (
        "/v1/payment_intents",
        "/v1/charges",
        "/v1/refunds",
        "/v1/payment_methods",
        "/v1/customers",
    ):
        ids |= {obj["id"] for obj in _ok(client.get(path, {"limit": 100}))["data"]}
    return ids


def test_another_merchants_objects_are_404_to_every_call_and_nothing_changes(
    merchant, other_merchant, api_key_for
):
    ours = form_client(api_key_for(merchant))
    theirs = form_client(api_key_for(other_merchant))
    their_world = _world(theirs)
    our_world = _world(ours)
    before = _snapshot(theirs, their_world)
    our_before = _snapshot(ours, our_world)

    _assert_all_missing(ours, _attempts(their_world, our_world))

    assert _snapshot(theirs, their_world) == before
    assert _snapshot(ours, our_world) == our_before


def test_lists_never_include_another_merchants_objects(merchant, other_merchant, api_key_for):
    ours = form_client(api_key_for(merchant))
    theirs = form_client(api_key_for(other_merchant))
    their_world = _world(theirs)
    our_world = _world(ours)
    our_ids = _listed_ids(ours)
    their_ids = _listed_ids(theirs)
    assert set(their_world.values()) <= their_ids
    assert not (set(their_world.values()) & our_ids)
    assert not (set(our_world.values()) & their_ids)
    assert set(our_world.values()) <= our_ids


def test_a_test_key_never_sees_or_touches_live_objects_of_the_same_merchant(merchant, api_key_for):
    test = form_client(api_key_for(merchant))
    live = form_client(api_key_for(merchant, livemode=True))
    live_world = _world(live)
    test_world = _world(test)
    assert _ok(live.get(f"/v1/payment_intents/{live_world['paid']}"))["livemode"] is True
    before = _snapshot(live, live_world)

    _assert_all_missing(test, _attempts(live_world, test_world))
    # And the other way round: a live key does not reach test objects.
    _assert_all_missing(live, _attempts(test_world, live_world))

    assert _snapshot(live, live_world) == before
    test_ids, live_ids = _listed_ids(test), _listed_ids(live)
    assert not (set(live_world.values()) & test_ids)
    assert not (set(test_world.values()) & live_ids)
    assert set(live_world.values()) <= live_ids


def test_a_publishable_key_with_another_merchants_client_secret_gets_404(
    merchant, other_merchant, api_key_for
):
    theirs = form_client(api_key_for(other_merchant))
    intent = _ok(theirs.post("/v1/payment_intents", {"amount": 5000, "currency": "idr"}))
    publishable = form_client(api_key_for(merchant, kind="publishable"))
    secret = {"client_secret": intent["client_secret"]}
    response = publishable.get(f"/v1/payment_intents/{intent['id']}", secret)
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "resource_missing"
    response = publishable.post(
        f"/v1/payment_intents/{intent['id']}/confirm", {**secret, "payment_method": "pm_card_visa"}
    )
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "resource_missing"
    assert _ok(theirs.get(f"/v1/payment_intents/{intent['id']}"))["status"] == (
        "requires_payment_method"
    )
    assert authorization_count() == 0
