"""/v1/events and /v1/webhook_endpoints through the API."""

import json

import pytest
import standardwebhooks
import stripe

from webhooks.models import Event

pytestmark = pytest.mark.django_db(transaction=True)


def _create(api_client, url="https://hooks.example.com/x", **params):
    return api_client.post("/v1/webhook_endpoints", {"url": url, "enabled_events": ["*"], **params})


def test_the_secret_is_shown_at_creation_only(api_client):
    created = _create(api_client, description="orders", metadata={"team": "ops"}).json()
    assert created["object"] == "webhook_endpoint"
    assert created["id"].startswith("we_")
    assert created["secret"].startswith("whsec_")
    assert (created["status"], created["enabled_events"]) == ("enabled", ["*"])
    assert created["metadata"] == {"team": "ops"}
    shown = api_client.get(f"/v1/webhook_endpoints/{created['id']}").json()
    assert "secret" not in shown
    listed = api_client.get("/v1/webhook_endpoints").json()
    assert [e["id"] for e in listed["data"]] == [created["id"]]
    assert "secret" not in listed["data"][0]


def test_update_disable_enable_and_delete(api_client):
    endpoint = _create(api_client).json()
    path = f"/v1/webhook_endpoints/{endpoint['id']}"
    updated = api_client.post(
        path, {"enabled_events": ["charge.refunded"], "disabled": True, "description": "x"}
    ).json()
    assert updated["enabled_events"] == ["charge.refunded"]
    assert (updated["status"], updated["disabled_reason"]) == ("disabled", "merchant")
    enabled = api_client.post(path, {"disabled": "false"}).json()
    assert (enabled["status"], enabled["disabled_reason"]) == ("enabled", None)
    assert api_client.delete(path).json() == {
        "id": endpoint["id"],
        "object": "webhook_endpoint",
        "deleted": True,
    }
    assert api_client.get(path).status_code == 404


@pytest.mark.parametrize(
    "events, message",
    [(["*", "charge.refunded"], "cannot be combined"), (["Not An Event"], "Invalid event type")],
)
def test_enabled_events_are_validated(api_client, events, message):
    response = api_client.post(
        "/v1/webhook_endpoints", {"url": "https://a.example.com", "enabled_events": events}
    )
    assert response.status_code == 400
    assert response.json()["error"]["param"].startswith("enabled_events")
    assert message in response.json()["error"]["message"]


def test_another_merchant_cannot_see_or_touch_an_endpoint(api_client, other_merchant, api_key_for):
    from rest_framework.test import APIClient

    endpoint = _create(api_client).json()
    other = APIClient()
    other.credentials(HTTP_AUTHORIZATION=f"Bearer {api_key_for(other_merchant)}")
    assert other.get(f"/v1/webhook_endpoints/{endpoint['id']}").status_code == 404
    assert other.post(f"/v1/webhook_endpoints/{endpoint['id']}/test").status_code == 404
    assert other.get("/v1/webhook_endpoints").json()["data"] == []
    api_client.post("/v1/customers", {"email": "a@example.com"})
    event_id = Event.objects.get().public_id
    assert other.get(f"/v1/events/{event_id}").status_code == 404
    assert other.get("/v1/events").json()["data"] == []


def test_events_list_filters_by_type_types_and_created_and_pages(api_client):
    customer = api_client.post("/v1/customers", {"email": "a@example.com"}).json()
    api_client.post(f"/v1/customers/{customer['id']}", {"email": "b@example.com"})
    api_client.post(
        "/v1/payment_intents",
        {"amount": 1000, "currency": "idr", "payment_method": "pm_card_visa", "confirm": True},
    )
    every = api_client.get("/v1/events", {"limit": 100}).json()
    types = [e["type"] for e in every["data"]]
    assert types[-2:] == ["customer.updated", "customer.created"]  # newest first
    assert {"payment_intent.succeeded", "charge.succeeded"} <= set(types)

    one = api_client.get("/v1/events", {"type": "customer.updated"}).json()["data"]
    assert [e["type"] for e in one] == ["customer.updated"]
    assert one[0]["data"]["previous_attributes"] == {"email": "a@example.com"}
    assert one[0]["data"]["object_version"] == 2
    wildcard = api_client.get("/v1/events", {"type": "customer.*"}).json()["data"]
    assert [e["type"] for e in wildcard] == ["customer.updated", "customer.created"]
    several = api_client.get("/v1/events?types[]=customer.created&types[]=charge.succeeded").json()[
        "data"
    ]
    assert sorted(e["type"] for e in several) == ["charge.succeeded", "customer.created"]
    both = api_client.get("/v1/events?type=a.b&types[]=c.d")
    assert both.status_code == 400

    first = api_client.get("/v1/events", {"limit": 2}).json()
    assert first["has_more"] is True and len(first["data"]) == 2
    after = api_client.get(
        "/v1/events", {"limit": 100, "starting_after": first["data"][-1]["id"]}
    ).json()
    assert [e["id"] for e in first["data"] + after["data"]] == [e["id"] for e in every["data"]]
    created = every["data"][0]["created"]
    assert api_client.get(f"/v1/events?created[gte]={created + 1}").json()["data"] == []
    assert len(
        api_client.get(f"/v1/events?created[lt]={created + 1}&limit=100").json()["data"]
    ) == (len(every["data"]))

    event = api_client.get(f"/v1/events/{every['data'][0]['id']}").json()
    assert event == every["data"][0]
    assert set(event) == {
        "id", "object", "api_version", "created", "data", "livemode", "pending_webhooks",
        "request", "type",
    }  # fmt: skip
    assert api_client.get("/v1/events/evt_missing").status_code == 404


def test_rolled_secret_signs_beside_the_old_one_until_it_expires(api_client, receiver):
    hook = receiver()
    endpoint = _create(api_client, url=hook.url).json()
    old = endpoint["secret"]
    rolled = api_client.post(f"/v1/webhook_endpoints/{endpoint['id']}/roll_secret").json()
    new = rolled["secret"]
    assert new != old and new.startswith("whsec_")
    api_client.post(f"/v1/webhook_endpoints/{endpoint['id']}/test")
    request = hook.requests[-1]
    assert len(request["headers"]["webhook-signature"].split(" ")) == 2
    for secret in (old, new):  # both verify during the overlap
        standardwebhooks.Webhook(secret).verify(request["body"], request["headers"])
        stripe.Webhook.construct_event(
            request["body"].decode(), request["headers"]["Stripe-Signature"], secret
        )

    api_client.post(f"/v1/webhook_endpoints/{endpoint['id']}/roll_secret", {"expires_in": 0})
    newest = api_client.post(
        f"/v1/webhook_endpoints/{endpoint['id']}/roll_secret", {"expires_in": 0}
    ).json()["secret"]
    api_client.post(f"/v1/webhook_endpoints/{endpoint['id']}/test")
    request = hook.requests[-1]
    # The first roll's 24 h overlap still runs for `old`; the zero-overlap rolls do not add.
    signatures = request["headers"]["webhook-signature"].split(" ")
    assert len(signatures) == 2
    standardwebhooks.Webhook(newest).verify(request["body"], request["headers"])
    with pytest.raises(stripe.SignatureVerificationError):
        stripe.Webhook.construct_event(
            request["body"].decode(), request["headers"]["Stripe-Signature"], new
        )


def test_test_sends_a_ping_and_resend_sends_an_event_again(api_client, receiver):
    hook = receiver()
    endpoint = _create(api_client, url=hook.url).json()
    ping = api_client.post(f"/v1/webhook_endpoints/{endpoint['id']}/test").json()
    assert ping["object"] == "webhook_delivery"
    assert ping["reason"] == "test"
    body = json.loads(hook.requests[-1]["body"])
    assert body["type"] == "ping"
    assert body["data"]["object"]["id"] == endpoint["id"]
    assert "secret" not in body["data"]["object"]

    api_client.post("/v1/customers", {"email": "a@example.com"})
    event_id = json.loads(hook.requests[-1]["body"])["id"]
    resent = api_client.post(
        f"/v1/webhook_endpoints/{endpoint['id']}/resend", {"event": event_id}
    ).json()
    assert (resent["event"], resent["reason"]) == (event_id, "resend")
    assert [json.loads(r["body"])["id"] for r in hook.requests[-2:]] == [event_id, event_id]
    missing = api_client.post(
        f"/v1/webhook_endpoints/{endpoint['id']}/resend", {"event": "evt_nope"}
    )
    assert missing.status_code == 404

    deliveries = api_client.get(f"/v1/webhook_endpoints/{endpoint['id']}/deliveries").json()
    assert [d["reason"] for d in deliveries["data"]] == ["resend", "event", "test"]
    assert all(d["status"] == "succeeded" for d in deliveries["data"])
    assert deliveries["data"][0]["attempts"][0]["status_code"] == 200


def test_events_go_only_to_endpoints_that_subscribe_in_the_same_mode(api_client, receiver):
    customers = receiver()
    refunds = receiver()
    _create(api_client, url=customers.url, enabled_events=["customer.created"])
    _create(api_client, url=refunds.url, enabled_events=["charge.refunded"])
    api_client.post("/v1/customers", {"email": "a@example.com"})
    assert [json.loads(r["body"])["type"] for r in customers.requests] == ["customer.created"]
    assert refunds.requests == []
