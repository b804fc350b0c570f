"""A real `kill -9` of a gunicorn worker between the processor's answer and our commit.

The gateway runs as in production (gunicorn, one sync worker, on the test database). The
sandbox's `latency` fault makes the card network take its decision and commit it, then
hold the answer back: the worker is inside the call, after the processor's answer and
before the gateway recorded it. The test SIGKILLs that worker process, checks what the
client and the database see, runs the recovery the beat runs (the sweeper of pending
processor transactions), and asserts the sandbox's truth: one authorization, one capture
or refund at the network, a balanced ledger, one success event.
"""

import datetime as dt
import os
import signal
import socket
import subprocess
import threading
import time
import uuid
from pathlib import Path

import pytest
import requests
from django.db.models import Sum
from django.utils import timezone

from payments.models import PaymentIntent, Refund, Transaction
from payments.tasks import sweep_unknown_transactions
from sandbox import faults
from sandbox.models import Authorization, Operation
from sandbox.network import authorization_count
from settlement.models import Journal, JournalEntry
from tests.conftest import _database_url_of_test_db, wait_for
from webhooks.models import Event

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]

ROOT = Path(__file__).resolve().parents[2]
HOLD_MS = 60_000  # how long the network holds its answer back: the kill comes long before


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _children(pid: int) -> list[int]:
    path = Path(f"/proc/{pid}/task/{pid}/children")
    return [int(child) for child in path.read_text().split()] if path.exists() else []


class Gunicorn:
    """`gunicorn config.wsgi` with one sync worker on the test database."""

    def __init__(self):
        self.port = _free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "config.settings.test",
            "DATABASE_URL": _database_url_of_test_db(),
            # The connector waits longer than the network holds the answer: the worker is
            # still inside the call when it dies (no timeout, no unknown outcome).
            "GATEWAY_SANDBOX_TIMEOUT_SECONDS": "120",
            "LOG_LEVEL": "WARNING",
        }
        self.proc = subprocess.Popen(
            [
                str(ROOT / ".venv/bin/gunicorn"),
                "config.wsgi",
                "--bind",
                f"127.0.0.1:{self.port}",
                "--workers",
                "1",
                "--timeout",
                "120",
                "--log-level",
                "warning",
            ],
            cwd=ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        ready = wait_for(self._healthy, timeout=30)
        assert ready, self.output()

    def _healthy(self) -> bool:
        try:
            return requests.get(f"{self.base}/healthz", timeout=1).status_code == 200
        except requests.RequestException:
            return False

    def worker_pid(self) -> int:
        [pid] = wait_for(lambda: _children(self.proc.pid), timeout=15)
        return pid

    def output(self) -> str:
        if self.proc.poll() is None:
            return ""
        return self.proc.stdout.read()

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


@pytest.fixture
def gunicorn(transactional_db):
    server = Gunicorn()
    yield server
    server.stop()


@pytest.fixture
def key(merchant, api_key_for):
    return api_key_for(merchant)


def _post(server: Gunicorn, key: str, path: str, data: dict, idempotency_key: str):
    return requests.post(
        f"{server.base}{path}",
        data=data,
        headers={"Authorization": f"Bearer {key}", "Idempotency-Key": idempotency_key},
        timeout=150,
    )


def _get(server: Gunicorn, key: str, path: str) -> dict:
    response = requests.get(
        f"{server.base}{path}", headers={"Authorization": f"Bearer {key}"}, timeout=30
    )
    assert response.status_code == 200, response.text
    return response.json()


class _InFlight:
    """A request sent on a thread; what the client got back, or the error it saw."""

    def __init__(self, send):
        self.response = None
        self.error: Exception | None = None

        def run():
            try:
                self.response = send()
            except requests.RequestException as error:
                self.error = error

        self.thread = threading.Thread(target=run)
        self.thread.start()

    def join(self) -> None:
        self.thread.join(timeout=30)
        assert not self.thread.is_alive()


def _kill_worker_after_the_network_answered(server: Gunicorn, operation: str, send):
    """Send a request whose network `operation` the sandbox holds back after deciding;
    SIGKILL the worker once the network's decision is committed. Returns what the client
    saw and the dead worker's pid."""
    worker = server.worker_pid()
    before = Operation.objects.filter(kind=operation).count()
    faults.inject("latency", operation=operation, latency_ms=HOLD_MS)
    if operation == "authorize":
        decided = lambda: Authorization.objects.exists()  # noqa: E731
    else:
        decided = lambda: Operation.objects.filter(kind=operation).count() > before  # noqa: E731
    started = time.monotonic()
    in_flight = _InFlight(send)
    assert wait_for(decided, timeout=30), server.output()
    time.sleep(0.2)  # the worker is now asleep inside the network call
    os.kill(worker, signal.SIGKILL)
    in_flight.join()
    assert time.monotonic() - started < HOLD_MS / 1000  # killed well before the answer
    assert in_flight.response is None, in_flight.response.text  # the connection just died
    assert isinstance(in_flight.error, requests.ConnectionError)
    # The master replaces the worker; the gateway answers again.
    assert wait_for(lambda: server.worker_pid() != worker and server._healthy(), timeout=30)
    faults.clear()
    return in_flight


def _sweep() -> int:
    """What beat runs every minute, a few minutes after the crash."""
    later = timezone.now() + dt.timedelta(minutes=3)
    return sweep_unknown_transactions(now_iso=later.isoformat())


def _assert_ledger_balanced() -> None:
    sums = JournalEntry.objects.values("journal_id", "currency").annotate(total=Sum("amount"))
    assert [row for row in sums if row["total"] != 0] == []


def test_a_confirm_whose_worker_is_killed_after_the_approval_ends_succeeded_once(
    gunicorn, key, merchant
):
    intent = _get(gunicorn, key, "/v1/payment_intents?limit=1")  # the key works
    assert intent["data"] == []
    created = _post(
        gunicorn,
        key,
        "/v1/payment_intents",
        {"amount": 250_000, "currency": "idr"},
        uuid.uuid4().hex,
    ).json()
    idempotency_key = uuid.uuid4().hex

    def confirm():
        return _post(
            gunicorn,
            key,
            f"/v1/payment_intents/{created['id']}/confirm",
            {"payment_method": "pm_card_visa"},
            idempotency_key,
        )

    _kill_worker_after_the_network_answered(gunicorn, "authorize", confirm)

    # The network approved; the gateway never recorded the answer.
    assert authorization_count() == 1
    assert _get(gunicorn, key, f"/v1/payment_intents/{created['id']}")["status"] == "processing"
    txn = Transaction.objects.get(payment_intent__public_id=created["id"], kind="authorize")
    assert txn.status == "pending"
    # The client (or its SDK) retries with the same key: the key is still held by the dead
    # request, so it gets 409 and nothing is sent to the network again.
    retry = confirm()
    assert retry.status_code == 409, retry.text
    assert authorization_count() == 1

    assert _sweep() == 1
    paid = _get(gunicorn, key, f"/v1/payment_intents/{created['id']}")
    assert (paid["status"], paid["amount_received"]) == ("succeeded", 250_000)
    assert authorization_count() == 1  # inquired under the same reference, never re-sent
    assert Authorization.objects.get().reference == txn.public_id
    assert (
        Event.objects.filter(object_id=created["id"], type="payment_intent.succeeded").count() == 1
    )
    assert Journal.objects.filter(kind="capture").count() == 1
    _assert_ledger_balanced()
    assert _sweep() == 0


def test_a_capture_whose_worker_is_killed_after_the_network_captured_ends_captured_once(
    gunicorn, key, merchant
):
    held = _post(
        gunicorn,
        key,
        "/v1/payment_intents",
        {
            "amount": 300_000,
            "currency": "idr",
            "capture_method": "manual",
            "payment_method": "pm_card_mastercard",
            "confirm": "true",
        },
        uuid.uuid4().hex,
    ).json()
    assert held["status"] == "requires_capture", held

    def capture():
        return _post(
            gunicorn,
            key,
            f"/v1/payment_intents/{held['id']}/capture",
            {"amount_to_capture": 120_000},
            uuid.uuid4().hex,
        )

    _kill_worker_after_the_network_answered(gunicorn, "capture", capture)
    assert _get(gunicorn, key, f"/v1/payment_intents/{held['id']}")["status"] == "processing"
    assert Operation.objects.filter(kind="capture").count() == 1

    assert _sweep() == 1
    captured = _get(gunicorn, key, f"/v1/payment_intents/{held['id']}")
    assert (captured["status"], captured["amount_received"]) == ("succeeded", 120_000)
    assert Operation.objects.filter(kind="capture").count() == 1
    assert authorization_count() == 1
    assert Event.objects.filter(object_id=held["id"], type="payment_intent.succeeded").count() == 1
    assert Journal.objects.filter(kind="capture").count() == 1
    _assert_ledger_balanced()


def test_a_refund_whose_worker_is_killed_after_the_network_refunded_ends_refunded_once(
    gunicorn, key, merchant
):
    paid = _post(
        gunicorn,
        key,
        "/v1/payment_intents",
        {"amount": 200_000, "currency": "idr", "payment_method": "pm_card_visa", "confirm": "true"},
        uuid.uuid4().hex,
    ).json()
    assert paid["status"] == "succeeded", paid

    def refund():
        return _post(
            gunicorn,
            key,
            "/v1/refunds",
            {"payment_intent": paid["id"], "amount": 50_000},
            uuid.uuid4().hex,
        )

    _kill_worker_after_the_network_answered(gunicorn, "refund", refund)
    refund_row = Refund.objects.get()
    assert refund_row.status == "pending"

    assert _sweep() == 1
    refunded = _get(gunicorn, key, f"/v1/refunds/{refund_row.public_id}")
    assert (refunded["status"], refunded["amount"]) == ("succeeded", 50_000)
    assert _get(gunicorn, key, f"/v1/charges/{paid['latest_charge']}")["amount_refunded"] == 50_000
    assert Operation.objects.filter(kind="refund").count() == 1
    assert Event.objects.filter(object_id=refund_row.public_id, type="refund.updated").count() == 1
    assert Journal.objects.filter(kind="refund").count() == 1
    assert PaymentIntent.objects.get(public_id=paid["id"]).amount_received == 200_000
    _assert_ledger_balanced()
