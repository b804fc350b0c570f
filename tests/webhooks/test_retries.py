"""Retries live in the database: attempts at the scheduled times (time advanced by passing
`now`), only 2xx succeeds, 410 and 3 days of failures disable the endpoint."""

from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.core import mail
from django.utils import timezone

from merchants.models import Membership, Role
from webhooks.models import WebhookDelivery, WebhookEndpoint
from webhooks.services.deliveries import RETRY_DELAYS, RETRY_JITTER, delivery_sweep

pytestmark = pytest.mark.django_db(transaction=True)


def _endpoint(api_client, url, events=("customer.created",)):
    return api_client.post(
        "/v1/webhook_endpoints", {"url": url, "enabled_events": list(events)}
    ).json()


def _within_schedule(delay: timedelta, seconds: int) -> bool:
    return seconds * (1 - RETRY_JITTER) <= delay.total_seconds() <= seconds * (1 + RETRY_JITTER) + 1


def _sweep_until_done(delivery: WebhookDelivery, limit: int = 20) -> WebhookDelivery:
    for _ in range(limit):
        delivery.refresh_from_db()
        if delivery.status in ("succeeded", "failed"):
            break
        due = delivery.next_attempt_at
        assert delivery_sweep(now=due - timedelta(seconds=1)) == 0  # not before its time
        assert delivery_sweep(now=due) == 1
    return delivery


def test_three_500s_then_200_is_one_success_after_four_attempts_on_schedule(api_client, receiver):
    hook = receiver(script=[500, 500, 500])
    _endpoint(api_client, hook.url)
    api_client.post("/v1/customers", {"email": "a@example.com"})
    delivery = _sweep_until_done(WebhookDelivery.objects.get())

    assert delivery.status == "succeeded"
    assert delivery.attempt_count == 4
    attempts = list(delivery.attempts.order_by("number"))
    assert [a.status_code for a in attempts] == [500, 500, 500, 200]
    assert [a.succeeded for a in attempts] == [False, False, False, True]
    assert attempts[0].response_excerpt == '{"status": 500}'
    for previous, attempt, seconds in zip(attempts, attempts[1:], RETRY_DELAYS, strict=False):
        assert _within_schedule(attempt.attempted_at - previous.attempted_at, seconds)
    assert delivery.succeeded_at == attempts[-1].attempted_at
    # The receiver saw the same event four times, with the same webhook-id.
    assert len({r["headers"]["webhook-id"] for r in hook.requests}) == 1
    assert len(hook.requests) == 4
    assert WebhookEndpoint.objects.get().failing_since is None  # the success cleared it


def test_a_redirect_is_a_failure_and_is_not_followed(api_client, receiver):
    target = receiver()
    redirect = receiver(script=[302])
    _endpoint(api_client, redirect.url)
    api_client.post("/v1/customers", {"email": "a@example.com"})
    delivery = WebhookDelivery.objects.get()
    assert delivery.status == "retrying"
    attempt = delivery.attempts.get()
    assert (attempt.status_code, attempt.error) == (302, "redirects are not followed")
    assert target.requests == []


def test_410_gone_disables_the_endpoint_and_emails_its_owners(api_client, receiver, merchant):
    owner = get_user_model().objects.create_user("owner", "owner@example.com", "pw-12345678")
    viewer = get_user_model().objects.create_user("viewer", "viewer@example.com", "pw-1234567")
    Membership.objects.create(user=owner, merchant=merchant, role=Role.OWNER)
    Membership.objects.create(user=viewer, merchant=merchant, role=Role.VIEWER)
    hook = receiver(script=[410])
    endpoint = _endpoint(api_client, hook.url)
    api_client.post("/v1/customers", {"email": "a@example.com"})

    assert WebhookDelivery.objects.get().status == "failed"
    shown = api_client.get(f"/v1/webhook_endpoints/{endpoint['id']}").json()
    assert (shown["status"], shown["disabled_reason"]) == ("disabled", "gone")
    assert [m.to for m in mail.outbox] == [["owner@example.com"]]
    assert endpoint["id"] in mail.outbox[0].body
    api_client.post("/v1/customers", {"email": "b@example.com"})
    assert len(hook.requests) == 1  # nothing more is sent to a disabled endpoint


def test_an_endpoint_failing_for_three_days_is_disabled_and_its_deliveries_fail(
    api_client, receiver, merchant
):
    owner = get_user_model().objects.create_user("owner", "owner@example.com", "pw-12345678")
    Membership.objects.create(user=owner, merchant=merchant, role=Role.OWNER)
    hook = receiver(script=[503] * 100)
    endpoint = _endpoint(api_client, hook.url)
    api_client.post("/v1/customers", {"email": "a@example.com"})
    delivery = _sweep_until_done(WebhookDelivery.objects.get())

    assert delivery.status == "failed"
    attempts = list(delivery.attempts.order_by("number"))
    span = attempts[-1].attempted_at - attempts[0].attempted_at
    assert timedelta(days=2, hours=12) < span <= timedelta(days=3)
    assert all(a.status_code == 503 for a in attempts)
    assert len(attempts) >= 10
    shown = api_client.get(f"/v1/webhook_endpoints/{endpoint['id']}").json()
    assert (shown["status"], shown["disabled_reason"]) in {
        ("disabled", "failing"),
        ("enabled", None),  # the last attempt came a little before 3 days of failure
    }
    # A failure three days after the first one disables it for sure.
    later = timezone.now() + timedelta(days=3, hours=1)
    WebhookDelivery.objects.create(
        event=delivery.event, endpoint_id=delivery.endpoint_id, reason="resend",
        next_attempt_at=later,
    )  # fmt: skip
    delivery_sweep(now=later)
    shown = api_client.get(f"/v1/webhook_endpoints/{endpoint['id']}").json()
    assert (shown["status"], shown["disabled_reason"]) == ("disabled", "failing")
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == ["owner@example.com"]


def test_a_duplicate_task_message_sends_nothing_twice(api_client, receiver, monkeypatch):
    from webhooks.services.deliveries import delivery_send

    hook = receiver()
    _endpoint(api_client, hook.url)
    queued = []
    monkeypatch.setattr("webhooks.tasks.deliver.delay", lambda *args: queued.append(args))
    api_client.post("/v1/customers", {"email": "a@example.com"})
    [([[delivery_id, token]],)] = queued
    assert delivery_send(delivery_id=delivery_id, lease_token=token) == "succeeded"
    assert delivery_send(delivery_id=delivery_id, lease_token=token) == "not_claimed"
    assert delivery_sweep() == 0
    assert len(hook.requests) == 1
    assert WebhookDelivery.objects.get().attempts.count() == 1
