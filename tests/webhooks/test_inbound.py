"""POST /hooks/<connector>/: kept raw first, verified, deduplicated, processed in a task."""

import json
import time

import pytest

from webhooks.models import InboundCallback
from webhooks.services.inbound import callback_secret
from webhooks.signing import stripe_signature

pytestmark = pytest.mark.django_db(transaction=True)

HANDLED: list = []


def handler(callback, payload):
    HANDLED.append((callback.pk, payload["id"]))
    return f"handled {payload['type']}"


def _post(client, body: dict, *, secret=None, timestamp=None, connector="sandbox"):
    raw = json.dumps(body).encode()
    ts = timestamp or int(time.time())
    sig = stripe_signature(secret or callback_secret(connector), timestamp=ts, body=raw)
    return client.post(
        f"/hooks/{connector}/",
        data=raw,
        content_type="application/json",
        HTTP_GATEWAY_SIGNATURE=f"t={ts},v1={sig}",
    )


def test_a_signed_callback_without_a_handler_is_recorded_and_marked_processed(client):
    response = _post(client, {"id": "cb_1", "type": "va.paid", "amount": 5})
    assert response.status_code == 200
    assert response.json() == {"received": True, "duplicate": False}
    callback = InboundCallback.objects.get()
    assert (callback.connector, callback.provider_event_id) == ("sandbox", "cb_1")
    assert callback.signature_valid and callback.processed_at is not None
    assert callback.note == "no handler for sandbox callbacks of type va.paid; recorded only"
    assert json.loads(bytes(callback.body)) == {"id": "cb_1", "type": "va.paid", "amount": 5}
    assert callback.headers["Content-Type"] == "application/json"


def test_a_duplicate_is_kept_but_processed_once(client, settings):
    settings.GATEWAY_CALLBACK_HANDLERS = {"sandbox": "tests.webhooks.test_inbound.handler"}
    HANDLED.clear()
    first = _post(client, {"id": "cb_2", "type": "ewallet.paid"})
    again = _post(client, {"id": "cb_2", "type": "ewallet.paid"})
    assert first.json()["duplicate"] is False
    assert (again.status_code, again.json()["duplicate"]) == (200, True)
    rows = list(InboundCallback.objects.order_by("pk"))
    assert [r.is_duplicate for r in rows] == [False, True]
    assert [pk for pk, _ in HANDLED] == [rows[0].pk]
    assert rows[0].note == "handled ewallet.paid"


@pytest.mark.parametrize("how", ["wrong secret", "old timestamp", "no signature"])
def test_a_bad_signature_is_refused_recorded_and_not_processed(client, settings, how):
    settings.GATEWAY_CALLBACK_HANDLERS = {"sandbox": "tests.webhooks.test_inbound.handler"}
    HANDLED.clear()
    body = {"id": "cb_3", "type": "qris.paid"}
    if how == "wrong secret":
        response = _post(client, body, secret="not-the-secret")
    elif how == "old timestamp":
        response = _post(client, body, timestamp=int(time.time()) - 600)
    else:
        response = client.post("/hooks/sandbox/", data=body, content_type="application/json")
    assert response.status_code == 400
    callback = InboundCallback.objects.get()
    assert not callback.signature_valid
    assert callback.processed_at is None
    assert callback.error == "invalid or missing signature"
    assert HANDLED == []
    # A forged copy does not block the authentic one.
    assert _post(client, body).json() == {"received": True, "duplicate": False}
    assert len(HANDLED) == 1


def test_an_unknown_connector_is_404(client):
    assert _post(client, {"id": "x"}, secret="s", connector="nobody").status_code == 404
    assert not InboundCallback.objects.exists()


def test_a_configured_connector_secret_is_used(client, settings):
    settings.GATEWAY_CALLBACK_SECRETS = {"xendit": "xnd-secret"}
    assert _post(client, {"id": "x1"}, secret="xnd-secret", connector="xendit").status_code == 200
    assert _post(client, {"id": "x2"}, secret="other", connector="xendit").status_code == 400
