"""Card flows through /v1 reach a receiver as signed webhooks that both official verifiers
(standardwebhooks and stripe) accept, delivered by a real Celery worker through Redis."""

import json
from datetime import timedelta

import pytest
import standardwebhooks
import stripe
from django.utils import timezone

from tests.conftest import wait_for
from webhooks.models import WebhookDelivery
from webhooks.services.deliveries import delivery_send
from webhooks.services.endpoints import webhook_endpoint_resend

pytestmark = pytest.mark.django_db(transaction=True)

TYPES = ["payment_intent.succeeded", "payment_intent.payment_failed", "charge.refunded"]


def _stripe_verify(request, secret):
    return stripe.Webhook.construct_event(
        request["body"].decode(), request["headers"]["Stripe-Signature"], secret
    )


def _standard_verify(request, secret):
    return standardwebhooks.Webhook(secret).verify(request["body"], request["headers"])


def test_card_flow_events_arrive_signed_for_both_libraries(
    api_client, receiver, start_worker, merchant
):
    hook = receiver()
    worker = start_worker()
    endpoint = api_client.post(
        "/v1/webhook_endpoints", {"url": hook.url, "enabled_events": TYPES}
    ).json()
    secret = endpoint["secret"]
    assert secret.startswith("whsec_")

    paid = api_client.post(
        "/v1/payment_intents",
        {"amount": 150000, "currency": "idr", "payment_method": "pm_card_visa", "confirm": True},
    ).json()
    declined = api_client.post(
        "/v1/payment_intents",
        {"amount": 5000, "currency": "idr", "payment_method": "pm_card_chargeDeclined",
         "confirm": True},
    )  # fmt: skip
    assert declined.status_code == 402
    refund = api_client.post("/v1/refunds", {"payment_intent": paid["id"], "amount": 50000})
    assert refund.status_code == 200

    if not wait_for(lambda: len(hook.requests) >= 3, timeout=30):
        worker.terminate()
        raise AssertionError(worker.communicate(timeout=10)[0][-3000:])
    assert sorted(e["type"] for e in hook.events()) == sorted(TYPES)

    for request in hook.requests:
        body = json.loads(request["body"])
        by_stripe = _stripe_verify(request, secret)
        by_standard = _standard_verify(request, secret)
        assert by_stripe.id == by_standard["id"] == body["id"] == request["headers"]["webhook-id"]
        # The body is the event exactly as the Events API renders it (now fully delivered).
        api_event = api_client.get(f"/v1/events/{body['id']}").json()
        assert {**body, "pending_webhooks": 0} == api_event
        assert body["object"] == "event"
        assert body["data"]["object_version"] >= 1
        assert body["data"]["object"]["object"] in ("payment_intent", "charge")
        assert body["request"]["id"].startswith("req_")

    succeeded = next(r for r in hook.requests if json.loads(r["body"])["type"] == TYPES[0])
    event = json.loads(succeeded["body"])
    assert event["data"]["object"]["id"] == paid["id"]
    assert event["data"]["object"]["status"] == "succeeded"
    assert event["data"]["previous_attributes"] == {"status": "processing"}
    refunded = next(e for e in hook.events() if e["type"] == "charge.refunded")
    assert refunded["data"]["object"]["amount_refunded"] == 50000

    # Rejected by both libraries: another secret, a tampered body.
    other = api_client.post(
        "/v1/webhook_endpoints", {"url": hook.url, "enabled_events": ["*"]}
    ).json()["secret"]
    with pytest.raises(stripe.SignatureVerificationError):
        _stripe_verify(succeeded, other)
    with pytest.raises(standardwebhooks.WebhookVerificationError):
        _standard_verify(succeeded, other)
    tampered = {**succeeded, "body": succeeded["body"].replace(b'"amount":150000', b'"amount":1')}
    assert tampered["body"] != succeeded["body"]
    with pytest.raises(stripe.SignatureVerificationError):
        _stripe_verify(tampered, secret)
    with pytest.raises(standardwebhooks.WebhookVerificationError):
        _standard_verify(tampered, secret)


def test_a_delivery_signed_more_than_five_minutes_ago_is_rejected_by_both_libraries(
    api_client, receiver, merchant, monkeypatch
):
    hook = receiver()
    endpoint = api_client.post(
        "/v1/webhook_endpoints", {"url": hook.url, "enabled_events": ["customer.created"]}
    ).json()
    api_client.post("/v1/customers", {"email": "a@example.com"})
    assert len(hook.requests) == 1  # sent at once (eager tasks, on commit)
    fresh = hook.requests[0]
    assert _stripe_verify(fresh, endpoint["secret"]).type == "customer.created"
    assert _standard_verify(fresh, endpoint["secret"])["type"] == "customer.created"

    # The same event sent again by a worker that took the message six minutes late.
    queued = []
    monkeypatch.setattr("webhooks.tasks.deliver.delay", lambda *args: queued.append(args))
    delivery = webhook_endpoint_resend(
        merchant=merchant, livemode=False, public_id=endpoint["id"],
        event_id=json.loads(fresh["body"])["id"],
    )  # fmt: skip
    [([[delivery_id, token]],)] = queued  # one task message, a batch of one
    delivery_send(
        delivery_id=delivery_id, lease_token=token, now=timezone.now() - timedelta(minutes=6)
    )
    assert WebhookDelivery.objects.get(pk=delivery.pk).status == "succeeded"
    late = hook.requests[1]
    assert late["headers"]["webhook-id"] == fresh["headers"]["webhook-id"]
    with pytest.raises(stripe.SignatureVerificationError, match="tolerance"):
        _stripe_verify(late, endpoint["secret"])
    with pytest.raises(standardwebhooks.WebhookVerificationError, match="too old"):
        _standard_verify(late, endpoint["secret"])
