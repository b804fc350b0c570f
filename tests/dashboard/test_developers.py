"""Developers pages: API keys and webhook endpoints, for owners/admins (keys) and developers."""

import pytest
from django.urls import reverse

from merchants.models import APIKey, AuditEvent
from merchants.services import hash_key
from webhooks.models import WebhookDelivery, WebhookEndpoint


def test_create_a_key_shows_it_once_and_stores_only_its_hash(dashboard_client, merchant):
    response = dashboard_client.post(
        reverse("dashboard:apikey-create"),
        {"name": "backend", "kind": "secret"},
        HTTP_HX_REQUEST="true",
    )
    body = response.content.decode()
    import re

    raw = re.search(r'id="new-key-value">(sk_test_[A-Za-z0-9]+)<', body).group(1)
    key = APIKey.objects.get(key_hash=hash_key(raw))
    assert (key.merchant, key.name, key.livemode) == (merchant, "backend", False)
    assert raw not in dashboard_client.get(reverse("dashboard:apikey-list")).content.decode()
    assert AuditEvent.objects.filter(action="api_key.create", object_id=key.redacted).exists()


def test_roll_a_key_with_an_expiry_and_revoke_another(dashboard_client, merchant, api_key_for):
    api_key_for(merchant)
    key = APIKey.objects.get(merchant=merchant, kind="secret", name="")
    response = dashboard_client.post(
        reverse("dashboard:apikey-roll", args=[key.pk]),
        {"expires_in": "24h"},
        HTTP_HX_REQUEST="true",
    )
    assert 'id="new-key-value"' in response.content.decode()
    key.refresh_from_db()
    assert key.expires_at is not None
    dashboard_client.post(reverse("dashboard:apikey-revoke", args=[key.pk]))
    key.refresh_from_db()
    assert key.revoked_at is not None


@pytest.mark.parametrize("role", ["developer", "analyst", "viewer"])
def test_only_owners_and_admins_manage_keys(client_as, role, merchant):
    c = client_as(role)
    assert c.get(reverse("dashboard:apikey-list")).status_code == 403
    assert c.post(reverse("dashboard:apikey-create"), {"kind": "secret"}).status_code == 403
    assert not APIKey.objects.filter(merchant=merchant).exists()


def test_keys_of_another_merchant_cannot_be_rolled(dashboard_client, other_merchant, api_key_for):
    api_key_for(other_merchant)
    theirs = APIKey.objects.get(merchant=other_merchant)
    assert (
        dashboard_client.post(reverse("dashboard:apikey-revoke", args=[theirs.pk])).status_code
        == 404
    )
    theirs.refresh_from_db()
    assert theirs.revoked_at is None


def test_create_edit_test_and_disable_a_webhook_endpoint(dashboard_client, merchant):
    response = dashboard_client.post(
        reverse("dashboard:webhookendpoint-create"),
        {
            "url": "http://127.0.0.1:9/hook",
            "events": ["payment_intent.succeeded", "charge.refunded"],
        },
        HTTP_HX_REQUEST="true",
    )
    endpoint = WebhookEndpoint.objects.get(merchant=merchant)
    assert endpoint.enabled_events == ["payment_intent.succeeded", "charge.refunded"]
    assert endpoint.secret in response.content.decode()  # shown once, on creation
    detail = reverse("dashboard:webhookendpoint-detail", args=[endpoint.public_id])
    assert endpoint.secret not in dashboard_client.get(detail).content.decode()

    update = reverse("dashboard:webhookendpoint-update", args=[endpoint.public_id])
    dashboard_client.post(update, {"url": endpoint.url, "all_events": "on"})
    endpoint.refresh_from_db()
    assert endpoint.enabled_events == ["*"]

    dashboard_client.post(reverse("dashboard:webhookendpoint-test", args=[endpoint.public_id]))
    assert WebhookDelivery.objects.filter(endpoint=endpoint, event__type="ping").exists()

    old = endpoint.secret
    dashboard_client.post(
        reverse("dashboard:webhookendpoint-roll-secret", args=[endpoint.public_id]),
        {"expires_in": "now"},
    )
    endpoint.refresh_from_db()
    assert endpoint.secret != old

    dashboard_client.post(update, {"disabled": "true"})
    endpoint.refresh_from_db()
    assert endpoint.status == "disabled"
    actions = list(
        AuditEvent.objects.filter(merchant=merchant).order_by("id").values_list("action", flat=True)
    )
    assert actions == [
        "webhook_endpoint.create",
        "webhook_endpoint.update",
        "webhook_endpoint.test",
        "webhook_endpoint.roll_secret",
        "webhook_endpoint.update",
    ]


def test_a_live_mode_endpoint_on_a_private_address_is_refused(dashboard_client, merchant):
    dashboard_client.post(reverse("dashboard:mode-switch"), {"mode": "live"})
    response = dashboard_client.post(
        reverse("dashboard:webhookendpoint-create"),
        {"url": "http://127.0.0.1:9/hook", "all_events": "on"},
    )
    assert response.status_code == 200
    assert not WebhookEndpoint.objects.filter(merchant=merchant).exists()
    assert 'role="alert"' in response.content.decode()


def test_viewers_cannot_see_developer_pages(client_as):
    c = client_as("viewer")
    assert c.get(reverse("dashboard:webhookendpoint-list")).status_code == 403


def test_only_owners_read_the_audit_log(dashboard_client, client_as, merchant):
    dashboard_client.post(reverse("dashboard:mode-switch"), {"mode": "live"})
    page = dashboard_client.get(reverse("dashboard:auditevent-list"))
    assert "dashboard.mode_switch" in page.content.decode()
    assert client_as("admin").get(reverse("dashboard:auditevent-list")).status_code == 403


def test_audit_events_cannot_be_changed_or_deleted(dashboard_client, merchant):
    from django.db import DatabaseError, connection, transaction

    dashboard_client.post(reverse("dashboard:mode-switch"), {"mode": "live"})
    event = AuditEvent.objects.get(merchant=merchant)
    with pytest.raises(ValueError):
        event.save()
    with pytest.raises(ValueError):
        event.delete()
    if connection.vendor == "postgresql":
        with pytest.raises(DatabaseError), transaction.atomic():
            AuditEvent.objects.filter(pk=event.pk).update(action="nothing")
        with pytest.raises(DatabaseError), transaction.atomic():
            AuditEvent.objects.filter(pk=event.pk).delete()
    assert AuditEvent.objects.get(pk=event.pk).action == "dashboard.mode_switch"
