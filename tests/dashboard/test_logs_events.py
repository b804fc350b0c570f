"""Developers → Logs (the API request log) and Developers → Events (list, an event's payload
and deliveries per endpoint, resend): filters, pages, merchant and mode scope, roles, and a
fixed number of queries per page."""

import re
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from core.api.requestlog import api_request_log_flush
from core.models import APIRequestLog
from dashboard.access import merchant_zone
from merchants.models import AuditEvent
from tests.dashboard.conftest import pay
from tests.webhooks.conftest import Receiver  # noqa: F401  (the receiver fixture's class)
from webhooks.models import Event, WebhookDelivery
from webhooks.services.endpoints import webhook_endpoint_create

pytestmark = pytest.mark.django_db

LOGS = "dashboard:requestlog-list"
EVENTS = "dashboard:event-list"


def _log_ids(response) -> list[int]:
    return [int(i) for i in re.findall(r'<tr data-id="(\d+)"', response.content.decode())]


def _event_ids(response) -> list[str]:
    return re.findall(r'<tr data-id="(evt_[A-Za-z0-9]+)"', response.content.decode())


def _log(merchant, n=1, *, livemode=False, at=None, **fields) -> list[APIRequestLog]:
    import uuid

    at = at or timezone.now()
    rows = [
        APIRequestLog(
            uid=uuid.uuid4(),
            account=merchant.public_id,
            livemode=livemode,
            api_key_prefix="sk_live_" if livemode else "sk_test_",
            api_key_last4="wxyz",
            method=fields.get("method", "GET"),
            path=fields.get("path", "/v1/payment_intents"),
            status=fields.get("status", 200),
            idempotency_key=fields.get("idempotency_key", ""),
            request_id=f"req_{uuid.uuid4().hex[:12]}",
            duration_ms=12,
            ip_address="10.0.0.7",
            created_at=at - timedelta(seconds=i),
        )
        for i in range(n)
    ]
    return APIRequestLog.objects.bulk_create(rows)


# --- Logs ----------------------------------------------------------------------------


def test_the_logs_page_lists_real_api_requests_of_this_merchant_and_mode(
    dashboard_client, merchant, other_merchant, api_key_for
):
    from django.test import Client

    key = api_key_for(merchant)
    api = Client()
    api.get("/v1/payment_intents", HTTP_AUTHORIZATION=f"Bearer {key}")
    api.get("/v1/customers/cus_missing", HTTP_AUTHORIZATION=f"Bearer {key}")
    api.get("/v1/payment_intents", HTTP_AUTHORIZATION=f"Bearer {api_key_for(other_merchant)}")
    live = api_key_for(merchant, livemode=True)
    api.get("/v1/payment_intents", HTTP_AUTHORIZATION=f"Bearer {live}")
    api_request_log_flush()
    response = dashboard_client.get(reverse(LOGS))
    assert response.status_code == 200
    page = response.content.decode()
    rows = re.findall(r'<tr data-id="\d+">(.*?)</tr>', page, re.S)
    assert len(rows) == 2  # not the other merchant's, not live mode's
    assert "/v1/customers/cus_missing" in rows[0] and ">404<" in rows[0]
    assert "/v1/payment_intents" in rows[1] and ">200<" in rows[1]
    assert f"sk_test_…{key[-4:]}" in rows[1]
    assert key not in page
    assert 'aria-current="page">Logs<' in page


def test_logs_filter_by_status_class_method_path_and_idempotency_key(dashboard_client, merchant):
    ok = _log(merchant, path="/v1/payment_intents/pi_1", method="GET")[0]
    bad = _log(merchant, path="/v1/refunds", method="POST", status=402)[0]
    boom = _log(merchant, path="/v1/payouts", method="POST", status=500)[0]
    keyed = _log(merchant, path="/v1/payment_intents", method="POST", idempotency_key="order-7")[0]
    url = reverse(LOGS)
    assert set(_log_ids(dashboard_client.get(url, {"status": "4xx"}))) == {bad.id}
    assert set(_log_ids(dashboard_client.get(url, {"status": "5xx"}))) == {boom.id}
    assert set(_log_ids(dashboard_client.get(url, {"status": "2xx"}))) == {ok.id, keyed.id}
    assert set(_log_ids(dashboard_client.get(url, {"method": "POST"}))) == {
        bad.id,
        boom.id,
        keyed.id,
    }
    assert set(_log_ids(dashboard_client.get(url, {"path": "payment_intents"}))) == {
        ok.id,
        keyed.id,
    }
    assert _log_ids(dashboard_client.get(url, {"idempotency_key": "order-7"})) == [keyed.id]
    htmx = dashboard_client.get(url, {"status": "4xx"}, HTTP_HX_REQUEST="true")
    assert htmx.content.decode().lstrip().startswith('<div id="results">')


def test_logs_are_paged_newest_first_with_older_and_newer_links(dashboard_client, merchant):
    rows = _log(merchant, 120)  # rows[0] newest
    url = reverse(LOGS)
    first = dashboard_client.get(url)
    assert _log_ids(first) == [r.id for r in rows[:50]]
    after = re.search(r'id="next-page" href="\?after=(\d+)"', first.content.decode())[1]
    second = dashboard_client.get(url, {"after": after})
    assert _log_ids(second) == [r.id for r in rows[50:100]]
    third = dashboard_client.get(url, {"after": str(rows[99].id)})
    assert _log_ids(third) == [r.id for r in rows[100:]]
    assert 'id="next-page"' not in third.content.decode()
    back = dashboard_client.get(url, {"before": str(rows[100].id)})
    assert _log_ids(back) == [r.id for r in rows[50:100]]


def test_developers_admins_and_owners_see_logs_and_events_others_do_not(client_as):
    for role in ("developer", "admin"):
        c = client_as(role)
        assert c.get(reverse(LOGS)).status_code == 200
        assert c.get(reverse(EVENTS)).status_code == 200
    for role in ("analyst", "viewer"):
        c = client_as(role)
        assert c.get(reverse(LOGS)).status_code == 403
        assert c.get(reverse(EVENTS)).status_code == 403


def test_the_logs_page_makes_a_fixed_number_of_queries(
    dashboard_client, merchant, django_assert_num_queries
):
    _log(merchant, 3)
    url = reverse(LOGS)
    dashboard_client.get(url)  # warm: session
    # session, user, membership, the page of rows, the session's save (in a savepoint)
    with django_assert_num_queries(7) as first:
        dashboard_client.get(url, {"status": "2xx"})
    newest = _log(merchant, 200, at=timezone.now() + timedelta(minutes=1))
    with django_assert_num_queries(len(first.captured_queries)):
        dashboard_client.get(url, {"method": "GET", "path": "/v1"})
    with django_assert_num_queries(len(first.captured_queries) + 1):  # + the cursor row
        dashboard_client.get(url, {"after": str(newest[60].id)})


# --- Events --------------------------------------------------------------------------


def test_the_events_page_lists_events_newest_first_and_filters_by_type(
    dashboard_client, merchant, other_merchant
):
    pay(merchant, 10_000)
    pay(other_merchant, 10_000)
    mine = list(Event.objects.filter(merchant=merchant).order_by("-created_at", "-id"))
    assert {e.type for e in mine} >= {"payment_intent.created", "payment_intent.succeeded"}
    url = reverse(EVENTS)
    assert _event_ids(dashboard_client.get(url)) == [e.public_id for e in mine]
    succeeded = dashboard_client.get(url, {"type": "payment_intent.succeeded"})
    wanted = [e.public_id for e in mine if e.type == "payment_intent.succeeded"]
    assert _event_ids(succeeded) == wanted
    charges = dashboard_client.get(url, {"type": "charge.*"})
    assert _event_ids(charges) == [e.public_id for e in mine if e.type.startswith("charge.")]
    assert _event_ids(charges)


def test_events_are_paged(dashboard_client, merchant):
    for _ in range(20):
        pay(merchant, 1_000)
    events = list(Event.objects.filter(merchant=merchant).order_by("-created_at", "-id"))
    assert len(events) > 50
    url = reverse(EVENTS)
    first = dashboard_client.get(url)
    assert _event_ids(first) == [e.public_id for e in events[:50]]
    after = re.search(r'id="next-page" href="\?after=(evt_\w+)"', first.content.decode())[1]
    assert _event_ids(dashboard_client.get(url, {"after": after})) == [
        e.public_id for e in events[50:100]
    ]


@pytest.mark.django_db(transaction=True)  # deliveries are sent when their transaction commits
def test_an_event_shows_its_payload_and_its_deliveries_per_endpoint_and_resends(
    dashboard_client, merchant
):
    receiver = Receiver(script=[503] * 10)
    try:
        hook, _ = webhook_endpoint_create(
            merchant=merchant, livemode=False, url=receiver.url, enabled_events=["*"]
        )
        other, _ = webhook_endpoint_create(
            merchant=merchant,
            livemode=False,
            url=receiver.url + "/other",
            enabled_events=["refund.created"],
        )
        intent = pay(merchant, 25_000)
        event = Event.objects.get(merchant=merchant, type="payment_intent.succeeded")
        url = reverse("dashboard:event-detail", args=[event.public_id])
        page = dashboard_client.get(url).content.decode()
        assert event.public_id in page and intent.public_id in page
        assert "&quot;amount&quot;: 25000" in page  # the JSON payload
        hook_section = page.split(f'data-endpoint="{hook.public_id}"')[1].split("</section>")[0]
        other_section = page.split(f'data-endpoint="{other.public_id}"')[1].split("</section>")[0]
        [delivery] = WebhookDelivery.objects.filter(event=event, endpoint=hook)
        assert delivery.public_id in hook_section
        [attempt] = delivery.attempts.all()
        # the answer's code and time
        assert f"HTTP {attempt.status_code}" in hook_section
        zone = merchant_zone(merchant)  # the dashboard shows the merchant's local time
        shown = timezone.localtime(attempt.attempted_at, zone).strftime("%d %b %H:%M:%S")
        assert shown in hook_section
        assert "Not sent to this endpoint" in other_section

        response = dashboard_client.post(
            reverse("dashboard:event-resend", args=[event.public_id]),
            {"endpoint": other.public_id},
            HTTP_HX_REQUEST="true",
        )
        body = response.content.decode()
        assert body.lstrip().startswith('<div id="event">')
        assert f"{event.public_id} was sent again to {other.public_id}" in body
        [resent] = WebhookDelivery.objects.filter(event=event, endpoint=other)
        assert resent.reason == "resend"
        assert resent.public_id in body.split(f'data-endpoint="{other.public_id}"')[1]
        assert any(
            e["id"] == event.public_id and r["path"].endswith("/other")
            for e, r in zip(receiver.events(), receiver.requests, strict=True)
        )
        audit = AuditEvent.objects.get(action="webhook_endpoint.resend")
        assert audit.object_id == other.public_id and audit.data["event"] == event.public_id
    finally:
        receiver.close()


def test_only_webhook_managers_resend_and_another_merchants_event_is_404(
    client_as, merchant, other_merchant, dashboard_client
):
    endpoint, _ = webhook_endpoint_create(
        merchant=merchant, livemode=False, url="http://127.0.0.1:9/h", enabled_events=["*"]
    )
    pay(other_merchant, 1_000)
    theirs = Event.objects.filter(merchant=other_merchant).first()
    assert (
        dashboard_client.get(reverse("dashboard:event-detail", args=[theirs.public_id])).status_code
        == 404
    )
    assert (
        dashboard_client.post(
            reverse("dashboard:event-resend", args=[theirs.public_id]),
            {"endpoint": endpoint.public_id},
        ).status_code
        == 404
    )
    assert not WebhookDelivery.objects.filter(endpoint=endpoint).exists()
    pay(merchant, 1_000)
    mine = Event.objects.filter(merchant=merchant).first()
    url = reverse("dashboard:event-resend", args=[mine.public_id])
    assert client_as("analyst").post(url, {"endpoint": endpoint.public_id}).status_code == 403


def test_the_event_page_makes_a_fixed_number_of_queries(
    dashboard_client, merchant, django_assert_num_queries
):
    webhook_endpoint_create(
        merchant=merchant, livemode=False, url="http://127.0.0.1:9/a", enabled_events=["*"]
    )
    pay(merchant, 1_000)
    event = Event.objects.filter(merchant=merchant).order_by("id").first()
    url = reverse("dashboard:event-detail", args=[event.public_id])
    dashboard_client.get(url)
    # + the event, its deliveries, their attempts, the endpoints
    with django_assert_num_queries(10) as first:
        dashboard_client.get(url)
    for n in range(3):
        webhook_endpoint_create(
            merchant=merchant, livemode=False, url=f"http://127.0.0.1:9/{n}", enabled_events=["*"]
        )
    pay(merchant, 1_000)
    busier = Event.objects.filter(merchant=merchant).order_by("-id").first()
    with django_assert_num_queries(len(first.captured_queries)):
        dashboard_client.get(reverse("dashboard:event-detail", args=[busier.public_id]))


def test_the_events_page_makes_a_fixed_number_of_queries(
    dashboard_client, merchant, django_assert_num_queries
):
    pay(merchant, 1_000)
    url = reverse(EVENTS)
    dashboard_client.get(url)
    with django_assert_num_queries(7) as first:
        dashboard_client.get(url)
    for _ in range(5):
        pay(merchant, 1_000)
    with django_assert_num_queries(len(first.captured_queries)):
        dashboard_client.get(url, {"type": "payment_intent.*"})
