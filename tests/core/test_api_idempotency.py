"""Idempotency-Key on POST /v1/... with Stripe's semantics."""

import json
import threading
import urllib.error
import urllib.request
from datetime import timedelta

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from core.api.idempotency import fingerprint
from core.models import IdempotencyKey
from core.tasks import purge_idempotency_keys
from payments.api import customers as customer_views
from payments.models import Customer

FORM = "application/x-www-form-urlencoded"


def post(client, body: str, key: str | None, path: str = "/v1/customers"):
    headers = {"HTTP_IDEMPOTENCY_KEY": key} if key is not None else {}
    return client.post(path, body, content_type=FORM, **headers)


def test_a_retry_with_the_same_key_replays_the_first_response(api_client):
    first = post(api_client, "name=Ani&metadata[a]=1", "key-1")
    again = post(api_client, "name=Ani&metadata[a]=1", "key-1")
    assert first.status_code == again.status_code == 200
    assert again.json() == first.json()
    assert again["Idempotent-Replayed"] == "true"
    assert first.get("Idempotent-Replayed") is None
    assert again["Original-Request"] == first["Request-Id"]
    assert again["Idempotency-Key"] == "key-1"
    assert Customer.objects.count() == 1


def test_the_same_parameters_in_another_order_or_as_json_replay(api_client):
    first = post(api_client, "name=Ani&email=a%40example.com", "key-order")
    again = post(api_client, "email=a%40example.com&name=Ani", "key-order")
    as_json = api_client.post(
        "/v1/customers",
        {"email": "a@example.com", "name": "Ani"},
        format="json",
        HTTP_IDEMPOTENCY_KEY="key-order",
    )
    assert again.json()["id"] == as_json.json()["id"] == first.json()["id"]


def test_the_same_key_with_other_parameters_is_an_idempotency_error(api_client):
    post(api_client, "name=Ani", "key-2")
    response = post(api_client, "name=Budi", "key-2")
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["type"] == "idempotency_error"
    assert error["message"].startswith(
        "Keys for idempotent requests can only be used with the same parameters they were "
        "first used with."
    )
    assert Customer.objects.count() == 1


def test_the_same_key_on_another_endpoint_is_an_idempotency_error(api_client):
    created = post(api_client, "name=Ani", "key-3").json()
    response = post(api_client, "name=Ani", "key-3", path=f"/v1/customers/{created['id']}")
    assert response.status_code == 400
    assert response.json()["error"]["type"] == "idempotency_error"
    assert "same endpoint" in response.json()["error"]["message"]


def test_keys_are_scoped_to_the_merchant_and_mode(
    api_client, merchant, other_merchant, api_key_for
):
    post(api_client, "name=Ani", "shared-key")
    for raw in (api_key_for(other_merchant), api_key_for(merchant, livemode=True)):
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
        response = post(client, "name=Other", "shared-key")
        assert response.status_code == 200
        assert response.get("Idempotent-Replayed") is None
    assert Customer.objects.count() == 3


def test_a_4xx_answer_is_stored_and_replayed(api_client):
    first = post(api_client, "name=x", "key-404", path="/v1/customers/cus_missing")
    again = post(api_client, "name=x", "key-404", path="/v1/customers/cus_missing")
    assert first.status_code == again.status_code == 404
    assert again["Idempotent-Replayed"] == "true"
    assert again.json() == first.json()


def test_invalid_parameters_are_not_stored_so_the_fixed_request_can_reuse_the_key(api_client):
    bad = post(api_client, "name=Ani&foo=1", "key-fix")
    assert bad.status_code == 400
    fixed = post(api_client, "name=Ani", "key-fix")
    assert fixed.status_code == 200
    assert fixed.get("Idempotent-Replayed") is None


def test_a_5xx_answer_is_not_stored_and_a_retry_runs_again(api_client, monkeypatch):
    real = customer_views.customer_create
    calls = []

    def flaky(**kwargs):
        calls.append(1)
        if len(calls) == 1:
            raise RuntimeError("database went away")
        return real(**kwargs)

    monkeypatch.setattr(customer_views, "customer_create", flaky)
    assert post(api_client, "name=Ani", "key-500").status_code == 500
    retry = post(api_client, "name=Ani", "key-500")
    assert retry.status_code == 200
    assert retry.get("Idempotent-Replayed") is None
    assert Customer.objects.count() == 1


def _in_flight(merchant, key: str, body: dict, locked_at):
    return IdempotencyKey.objects.create(
        account=merchant.public_id,
        livemode=False,
        key=key,
        request_method="POST",
        request_path="/v1/customers",
        request_fingerprint=fingerprint(method="POST", path="/v1/customers", params=body),
        locked_at=locked_at,
    )


def test_a_request_while_the_first_is_in_flight_gets_a_409(api_client, merchant):
    _in_flight(merchant, "key-busy", {"name": "Ani"}, timezone.now())
    response = post(api_client, "name=Ani", "key-busy")
    assert response.status_code == 409
    error = response.json()["error"]
    assert error["code"] == "idempotency_key_in_use"
    assert error["message"].startswith(
        "There is currently another in-progress request using this Idempotent Key"
    )
    assert Customer.objects.count() == 0


def test_a_crashed_requests_key_is_taken_over_after_a_minute(api_client, merchant):
    _in_flight(merchant, "key-crashed", {"name": "Ani"}, timezone.now() - timedelta(seconds=61))
    response = post(api_client, "name=Ani", "key-crashed")
    assert response.status_code == 200
    assert Customer.objects.count() == 1


def test_a_request_whose_key_was_taken_over_stores_nothing(merchant, caplog):
    # The slow first request finishes after a retry took its key over (a minute later):
    # the retry's answer is the one kept.
    from core.api.idempotency import Claim, idempotency_complete

    claimed_at = timezone.now() - timedelta(seconds=61)
    row = _in_flight(merchant, "key-slow", {"name": "Ani"}, claimed_at)
    slow = Claim(row=IdempotencyKey.objects.get(pk=row.pk), held=True)
    IdempotencyKey.objects.filter(pk=row.pk).update(locked_at=timezone.now())
    retry = Claim(row=IdempotencyKey.objects.get(pk=row.pk), held=True)
    idempotency_complete(slow, status=200, body={"from": "slow"})
    stored = IdempotencyKey.objects.get(pk=row.pk)
    assert stored.completed_at is None and stored.response_body is None
    assert "taken over" in caplog.text
    idempotency_complete(retry, status=200, body={"from": "retry"})
    stored = IdempotencyKey.objects.get(pk=row.pk)
    assert (stored.response_status, stored.response_body) == (200, {"from": "retry"})
    assert stored.completed_at is not None and stored.locked_at is None


def test_a_key_older_than_24_hours_starts_afresh(api_client):
    post(api_client, "name=Ani", "key-old")
    IdempotencyKey.objects.update(created_at=timezone.now() - timedelta(hours=25))
    response = post(api_client, "name=Budi", "key-old")
    assert response.status_code == 200
    assert response.json()["name"] == "Budi"


def test_a_key_longer_than_255_characters_is_refused(api_client):
    response = post(api_client, "name=Ani", "k" * 256)
    assert response.status_code == 400
    assert "255" in response.json()["error"]["message"]
    assert Customer.objects.count() == 0


def test_get_requests_ignore_the_header(api_client):
    response = api_client.get("/v1/customers", HTTP_IDEMPOTENCY_KEY="k")
    assert response.status_code == 200
    assert IdempotencyKey.objects.count() == 0


def test_the_purge_task_deletes_keys_older_than_24_hours_and_can_run_twice(api_client):
    post(api_client, "name=Old", "old")
    post(api_client, "name=New", "new")
    IdempotencyKey.objects.filter(key="old").update(
        created_at=timezone.now() - timedelta(hours=24, seconds=1)
    )
    assert purge_idempotency_keys.delay().get() == 1
    assert purge_idempotency_keys.delay().get() == 0
    assert list(IdempotencyKey.objects.values_list("key", flat=True)) == ["new"]


def test_the_database_refuses_two_rows_for_one_key(merchant):
    from django.db import IntegrityError, transaction

    _in_flight(merchant, "dup", {}, timezone.now())
    with pytest.raises(IntegrityError), transaction.atomic():
        _in_flight(merchant, "dup", {}, timezone.now())


@pytest.mark.django_db(transaction=True)
def test_concurrent_requests_with_one_key_create_one_customer(
    live_server, merchant, api_key_for, monkeypatch
):
    """Real threads against the live server: one runs, the others replay it or get a 409."""
    real = customer_views.customer_create

    def slow(**kwargs):
        threading.Event().wait(0.3)  # keep the first request in flight while others arrive
        return real(**kwargs)

    monkeypatch.setattr(customer_views, "customer_create", slow)
    raw = api_key_for(merchant)
    barrier = threading.Barrier(8)
    results: list[tuple[int, str, dict]] = []

    def call():
        request = urllib.request.Request(
            f"{live_server.url}/v1/customers",
            data=b"name=Race&metadata[n]=1",
            method="POST",
            headers={
                "Authorization": f"Bearer {raw}",
                "Idempotency-Key": "race-key",
                "Content-Type": FORM,
            },
        )
        barrier.wait()
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                results.append(
                    (
                        response.status,
                        response.headers.get("Idempotent-Replayed"),
                        json.loads(response.read()),
                    )
                )
        except urllib.error.HTTPError as error:
            results.append((error.code, None, json.loads(error.read())))

    threads = [threading.Thread(target=call) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert Customer.objects.count() == 1
    customer_id = Customer.objects.get().public_id
    assert len(results) == 8
    statuses = sorted(status for status, _, _ in results)
    assert set(statuses) <= {200, 409}
    originals = [r for r in results if r[0] == 200 and r[1] is None]
    assert len(originals) == 1
    for status, replayed, body in results:
        if status == 200:
            assert body["id"] == customer_id
        else:
            assert body["error"]["code"] == "idempotency_key_in_use"
    # After the race, a retry is a replay.
    retry = urllib.request.Request(
        f"{live_server.url}/v1/customers",
        data=b"name=Race&metadata[n]=1",
        method="POST",
        headers={
            "Authorization": f"Bearer {raw}",
            "Idempotency-Key": "race-key",
            "Content-Type": FORM,
        },
    )
    with urllib.request.urlopen(retry, timeout=30) as response:
        assert response.headers.get("Idempotent-Replayed") == "true"
