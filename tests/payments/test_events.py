"""Every state change writes its event in the same transaction (the outbox of DESIGN.md §8)."""

import pytest

from webhooks.models import Event

pytestmark = pytest.mark.django_db


def _types(object_id: str) -> list[str]:
    return list(
        Event.objects.filter(object_id=object_id).order_by("id").values_list("type", flat=True)
    )


def test_a_successful_payment_writes_created_charge_succeeded_and_succeeded(api_client):
    intent = api_client.post(
        "/v1/payment_intents",
        {"amount": 150000, "currency": "idr", "payment_method": "pm_card_visa", "confirm": "true"},
    ).json()
    assert _types(intent["id"]) == ["payment_intent.created", "payment_intent.succeeded"]
    assert _types(intent["latest_charge"]) == ["charge.succeeded"]
    succeeded = Event.objects.get(object_id=intent["id"], type="payment_intent.succeeded")
    # The event carries the object exactly as the API renders it, with its version.
    assert succeeded.data["object"] == api_client.get(f"/v1/payment_intents/{intent['id']}").json()
    assert succeeded.data["previous_attributes"] == {"status": "processing"}
    created = Event.objects.get(object_id=intent["id"], type="payment_intent.created")
    assert created.object_version < succeeded.object_version


def test_a_decline_writes_charge_failed_and_payment_failed(api_client):
    intent = api_client.post("/v1/payment_intents", {"amount": 5000, "currency": "idr"}).json()
    response = api_client.post(
        f"/v1/payment_intents/{intent['id']}/confirm", {"payment_method": "pm_card_chargeDeclined"}
    )
    assert response.status_code == 402
    assert _types(intent["id"]) == ["payment_intent.created", "payment_intent.payment_failed"]
    failed = Event.objects.get(type="payment_intent.payment_failed", object_id=intent["id"])
    assert failed.data["object"]["last_payment_error"]["decline_code"] == "generic_decline"


def test_manual_capture_and_refund_write_their_events(api_client):
    intent = api_client.post(
        "/v1/payment_intents",
        {
            "amount": 9000,
            "currency": "idr",
            "payment_method": "pm_card_visa",
            "confirm": "true",
            "capture_method": "manual",
        },
    ).json()
    api_client.post(f"/v1/payment_intents/{intent['id']}/capture", {"amount_to_capture": 7000})
    refund = api_client.post("/v1/refunds", {"payment_intent": intent["id"], "amount": 2000}).json()
    assert _types(intent["id"]) == [
        "payment_intent.created",
        "payment_intent.amount_capturable_updated",
        "payment_intent.succeeded",
    ]
    assert _types(intent["latest_charge"]) == [
        "charge.succeeded",
        "charge.captured",
        "charge.refunded",
    ]
    assert _types(refund["id"]) == ["refund.created", "refund.updated"]
    refunded = Event.objects.get(type="charge.refunded")
    assert refunded.data["object"]["amount_refunded"] == 2000


def test_customer_events_carry_previous_attributes_and_versions(api_client):
    customer = api_client.post("/v1/customers", {"email": "a@example.com"}).json()
    api_client.post(f"/v1/customers/{customer['id']}", {"email": "b@example.com"})
    api_client.post(f"/v1/customers/{customer['id']}", {"email": "b@example.com"})  # no change
    api_client.delete(f"/v1/customers/{customer['id']}")
    events = list(Event.objects.filter(object_id=customer["id"]).order_by("id"))
    assert [e.type for e in events] == ["customer.created", "customer.updated", "customer.deleted"]
    assert events[1].data["previous_attributes"] == {"email": "a@example.com"}
    assert [e.object_version for e in events] == [1, 2, 3]
    assert events[2].data["object"]["deleted"] is True
    assert events[2].data["object"]["email"] == "b@example.com"


def test_events_belong_to_the_merchant_and_mode_of_the_change(api_client, merchant):
    api_client.post("/v1/customers", {"email": "a@example.com"})
    event = Event.objects.get(type="customer.created")
    assert (event.merchant_id, event.livemode) == (merchant.pk, False)
    assert event.request_id.startswith("req_")


def test_events_carry_the_idempotency_key_of_the_request_that_caused_them(api_client):
    intent = api_client.post(
        "/v1/payment_intents",
        {"amount": 5000, "currency": "idr", "payment_method": "pm_card_visa", "confirm": "true"},
        HTTP_IDEMPOTENCY_KEY="order-77",
    ).json()
    keys = set(
        Event.objects.filter(object_id=intent["id"]).values_list("idempotency_key", flat=True)
    )
    assert keys == {"order-77"}
    customer = api_client.post("/v1/customers", {"email": "x@example.com"}).json()
    assert Event.objects.get(object_id=customer["id"]).idempotency_key == ""
