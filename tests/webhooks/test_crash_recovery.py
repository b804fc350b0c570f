"""Nothing is lost when Redis loses its messages and the worker dies mid-delivery: the
sweeper finds every committed delivery in the database and a new worker sends it."""

import threading
from datetime import timedelta

import pytest
from django.conf import settings
from django.utils import timezone

from tests.conftest import wait_for
from webhooks.models import Event, WebhookDelivery
from webhooks.services.deliveries import DISPATCH_LEASE, SEND_LEASE, delivery_sweep

pytestmark = pytest.mark.django_db(transaction=True)


def _flush_broker():
    if settings.REDIS_URL:
        import redis

        redis.Redis.from_url(settings.REDIS_URL).flushdb()  # only the test's database index
    else:
        from config.celery import app

        app.control.purge()


def test_flushed_redis_and_a_killed_worker_lose_no_delivery(api_client, receiver, start_worker):
    hook = receiver(dedupe=True)
    hook.gate = threading.Event()  # hold the first delivery inside the receiver
    api_client.post("/v1/webhook_endpoints", {"url": hook.url, "enabled_events": ["*"]})
    worker = start_worker()
    for n in range(5):
        api_client.post("/v1/customers", {"email": f"c{n}@example.com"})
    assert Event.objects.count() == 5
    # The worker took one delivery and hangs on it; the others wait in Redis.
    assert wait_for(lambda: len(hook.requests) == 1, timeout=30), worker.stdout
    worker.kill()
    worker.wait()
    _flush_broker()
    hook.gate.set()
    assert WebhookDelivery.objects.filter(status="succeeded").count() == 0

    start_worker()
    # Nothing due yet: the dispatched messages and the dead worker's claim are still leased.
    assert delivery_sweep() == 0
    later = timezone.now() + max(DISPATCH_LEASE, SEND_LEASE) + timedelta(seconds=1)
    assert delivery_sweep(now=later) == 5
    assert wait_for(
        lambda: WebhookDelivery.objects.filter(status="succeeded").count() == 5, timeout=60
    )
    events = set(Event.objects.values_list("public_id", flat=True))
    assert sorted(hook.processed_ids) == sorted(events)  # each processed once
    assert len(hook.requests) == 6  # the one the killed worker sent came again
    interrupted = WebhookDelivery.objects.get(
        event__public_id=hook.requests[0]["headers"]["webhook-id"]
    )
    # The killed worker never recorded its attempt; the redelivery did.
    assert list(interrupted.attempts.values_list("number", "status_code")) == [(1, 200)]
