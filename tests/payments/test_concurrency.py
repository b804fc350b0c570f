"""Races on real threads against PostgreSQL: idempotent confirms, confirms with different
keys, refunds beyond the captured amount, capture against cancel (DESIGN.md §4, §5, §11).

Each thread is its own HTTP client with its own database connection; a barrier starts
them together so that the requests really overlap.
"""

import threading
from urllib.parse import urlencode

import pytest
from django.db import connection, connections
from django.test import Client

from payments.models import Charge, PaymentIntent, Refund, Transaction, TransactionKind
from sandbox.models import Authorization, Operation
from sandbox.network import account_state, authorization_count

pytestmark = pytest.mark.django_db(transaction=True)

VISA = "4242424242424242"


@pytest.fixture(autouse=True)
def postgresql_only(db):
    if connection.vendor != "postgresql":
        pytest.skip(
            "concurrency tests need PostgreSQL row locks and real concurrent connections; "
            f"this run uses {connection.vendor}"
        )


@pytest.fixture
def secret_key(api_key_for, merchant):
    return api_key_for(merchant)


def _post(key: str, path: str, params: dict | None = None, idempotency_key: str | None = None):
    headers = {"HTTP_AUTHORIZATION": f"Bearer {key}"}
    if idempotency_key:
        headers["HTTP_IDEMPOTENCY_KEY"] = idempotency_key
    return Client().post(
        path,
        data=urlencode(params or {}),
        content_type="application/x-www-form-urlencoded",
        **headers,
    )


def _get(key: str, path: str):
    return Client().get(path, HTTP_AUTHORIZATION=f"Bearer {key}")


def _in_threads(count: int, work) -> list:
    """Run work(index) in `count` threads started together; results (or exceptions)."""
    barrier = threading.Barrier(count)
    results: list = [None] * count

    def run(index: int) -> None:
        try:
            barrier.wait(timeout=30)
            results[index] = work(index)
        except Exception as exc:  # surfaced by the assertions
            results[index] = exc
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not any(t.is_alive() for t in threads), "a request thread hung"
    return results


def _create_intent(key: str, **params) -> dict:
    response = _post(key, "/v1/payment_intents", {"amount": 100000, "currency": "idr", **params})
    assert response.status_code == 200, response.content
    return response.json()


def _card_number(serial: int) -> str:
    """A Luhn-valid number of the sandbox's generic issuer, one per serial: a fresh card per
    round keeps the network's velocity check from blocking repeated rounds."""
    body = f"400012{serial:09d}"
    for check in "0123456789":
        digits = body + check
        total = sum(
            (d * 2 - 9 if d * 2 > 9 else d * 2) if i % 2 else d
            for i, d in enumerate(int(c) for c in reversed(digits))
        )
        if total % 10 == 0:
            return digits
    raise AssertionError("unreachable")


def _payment_method(key: str, number: str) -> str:
    response = _post(
        key,
        "/v1/payment_methods",
        {"type": "card", "card[number]": number, "card[exp_month]": 12, "card[exp_year]": 2035},
    )
    assert response.status_code == 200, response.content
    return response.json()["id"]


def _summary(responses) -> list:
    return [
        (r.status_code, r.json().get("error", {}).get("code")) if hasattr(r, "json") else repr(r)
        for r in responses
    ]


def test_fifty_identical_confirms_with_one_idempotency_key_authorize_once(secret_key):
    intent = _create_intent(secret_key)
    path = f"/v1/payment_intents/{intent['id']}/confirm"

    responses = _in_threads(
        50,
        lambda _i: _post(
            secret_key, path, {"payment_method": "pm_card_visa"}, idempotency_key="confirm-once"
        ),
    )

    assert all(hasattr(r, "status_code") for r in responses), responses
    assert {r.status_code for r in responses} <= {200, 409}, _summary(responses)
    originals = [
        r for r in responses if r.status_code == 200 and r.get("Idempotent-Replayed") != "true"
    ]
    replays = [r for r in responses if r.get("Idempotent-Replayed") == "true"]
    conflicts = [r for r in responses if r.status_code == 409]
    assert len(originals) == 1, _summary(responses)
    assert len(originals) + len(replays) + len(conflicts) == 50
    first = originals[0].json()
    assert first["status"] == "succeeded"
    for replay in replays:
        assert replay.status_code == 200
        assert replay.json() == first
    for conflict in conflicts:
        error = conflict.json()["error"]
        assert error["type"] == "invalid_request_error"
        assert error["code"] == "idempotency_key_in_use"
    assert authorization_count() == 1
    assert _get(secret_key, f"/v1/payment_intents/{intent['id']}").json()["status"] == "succeeded"
    assert Charge.objects.filter(payment_intent__public_id=intent["id"]).count() == 1
    assert account_state(VISA)["spent"] == 100000
    # Once the first has finished, the same key replays.
    late = _post(secret_key, path, {"payment_method": "pm_card_visa"}, "confirm-once")
    assert late.status_code == 200
    assert late["Idempotent-Replayed"] == "true"
    assert late.json() == first


def test_fifty_confirms_with_different_idempotency_keys_authorize_once(secret_key):
    intent = _create_intent(secret_key)
    path = f"/v1/payment_intents/{intent['id']}/confirm"

    responses = _in_threads(
        50,
        lambda i: _post(
            secret_key, path, {"payment_method": "pm_card_visa"}, idempotency_key=f"key-{i}"
        ),
    )

    assert all(hasattr(r, "status_code") for r in responses), responses
    succeeded = [r for r in responses if r.status_code == 200]
    refused = [r for r in responses if r.status_code != 200]
    assert len(succeeded) == 1, _summary(responses)
    assert succeeded[0].json()["status"] == "succeeded"
    assert len(refused) == 49
    for response in refused:
        assert response.status_code == 400, _summary(responses)
        error = response.json()["error"]
        assert error["type"] == "invalid_request_error"
        assert error["code"] == "payment_intent_unexpected_state"
        assert error["payment_intent"]["id"] == intent["id"]
    assert authorization_count() == 1
    assert (
        Transaction.objects.filter(
            payment_intent__public_id=intent["id"], kind=TransactionKind.AUTHORIZE
        ).count()
        == 1
    )
    assert account_state(VISA)["spent"] == 100000
    final = _get(secret_key, f"/v1/payment_intents/{intent['id']}").json()
    assert (final["status"], final["amount_received"]) == ("succeeded", 100000)


def test_concurrent_partial_refunds_never_exceed_the_captured_amount(secret_key):
    intent = _create_intent(secret_key, payment_method="pm_card_visa", confirm="true")
    assert intent["status"] == "succeeded"
    charge_id = intent["latest_charge"]
    # 20 x 7,000 = 140,000 asked against 100,000 captured: exactly 14 fit. Half name the
    # charge, half the payment intent, as two integrations of one merchant might.
    targets = [{"charge": charge_id}, {"payment_intent": intent["id"]}]
    responses = _in_threads(
        20, lambda i: _post(secret_key, "/v1/refunds", {**targets[i % 2], "amount": 7000})
    )

    assert all(hasattr(r, "status_code") for r in responses), responses
    ok = [r.json() for r in responses if r.status_code == 200]
    refused = [r for r in responses if r.status_code != 200]
    assert all(r["status"] == "succeeded" for r in ok), ok
    refunded = sum(r["amount"] for r in ok)
    assert refunded <= 100000
    assert len(ok) == 14, _summary(responses)
    for response in refused:
        assert response.status_code == 400
        assert response.json()["error"]["code"] == "amount_too_large"
        assert response.json()["error"]["param"] == "amount"

    charge = _get(secret_key, f"/v1/charges/{charge_id}").json()
    assert charge["amount_captured"] == 100000
    assert charge["amount_refunded"] == refunded
    listed = _get(secret_key, f"/v1/refunds?charge={charge_id}&limit=100").json()["data"]
    assert sorted(r["id"] for r in listed) == sorted(r["id"] for r in ok)
    assert Refund.objects.filter(charge__public_id=charge_id).count() == len(ok)
    # The network agrees: what it refunded is what the gateway says it refunded.
    network_refunds = Operation.objects.filter(kind="refund", status="succeeded")
    assert network_refunds.count() == len(ok)
    assert sum(op.amount for op in network_refunds) == refunded
    assert Authorization.objects.get().refunded_amount == refunded
    assert account_state(VISA)["spent"] == 100000 - refunded


def test_capture_racing_cancel_has_exactly_one_winner_every_time(secret_key):
    numbers = [_card_number(round_) for round_ in range(10)]
    for round_, number in enumerate(numbers):
        intent = _create_intent(
            secret_key,
            payment_method=_payment_method(secret_key, number),
            confirm="true",
            capture_method="manual",
        )
        assert intent["status"] == "requires_capture"
        base = f"/v1/payment_intents/{intent['id']}"

        capture, cancel = _in_threads(
            2,
            lambda i, base=base: _post(
                secret_key, f"{base}/capture" if i == 0 else f"{base}/cancel"
            ),
        )

        codes = sorted([capture.status_code, cancel.status_code])
        assert codes == [200, 400], (round_, _summary([capture, cancel]))
        winner, loser = (capture, cancel) if capture.status_code == 200 else (cancel, capture)
        assert loser.json()["error"]["code"] == "payment_intent_unexpected_state"
        final = _get(secret_key, base).json()
        auth_reference = Transaction.objects.get(
            payment_intent__public_id=intent["id"], kind=TransactionKind.AUTHORIZE
        ).public_id
        auth = Authorization.objects.get(reference=auth_reference)
        ops = Operation.objects.filter(authorization=auth, status="succeeded")
        if winner is capture:
            assert winner.json()["status"] == final["status"] == "succeeded"
            assert final["amount_received"] == 100000
            assert auth.status == "captured"
            assert [op.kind for op in ops] == ["capture"]
        else:
            assert winner.json()["status"] == final["status"] == "canceled"
            assert final["amount_received"] == 0
            assert auth.status == "voided"
            assert [op.kind for op in ops] == ["void"]
        assert auth.held_amount == 0
        assert account_state(number)["held"] == 0
    assert PaymentIntent.objects.filter(status="processing").count() == 0
