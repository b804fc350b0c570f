"""A real `kill -9` of the Celery worker in the middle of finishing a capture or a refund.

A capture or refund whose answer was lost (the sandbox's `approve_then_timeout`: the
network did it, the gateway saw a timeout) is left `unknown` and handed to the
`payments.resolve_transaction` task. The worker takes it and asks the network; the
sandbox's `latency` fault holds that inquiry's answer back, and the test SIGKILLs the worker
inside it. The task's message stays unacknowledged in Redis (acks late) and the
transaction unknown; a new worker and the beat's sweeper finish it: the network's truth,
one operation at the network, one journal, one success event. Redelivering the killed
task's message later changes nothing. The same for a virtual account refund, paid to the
customer's bank account by a task: the worker dies after the bank paid, before the
answer; the beat's resender sends the same reference again and the bank answers with the
first payout. (Mid-delivery of webhooks: tests/webhooks/test_crash_recovery.py.)
"""

import datetime as dt
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.db.models import Sum
from django.utils import timezone

from payments.models import PaymentIntent, Refund, Transaction
from payments.services.local_refunds import refunds_resend_stranded
from payments.services.payment_intents import (
    payment_intent_capture,
    payment_intent_confirm,
    payment_intent_create,
)
from payments.services.refunds import refund_create
from payments.tasks import resolve_transaction, sweep_unknown_transactions
from sandbox import faults, providers
from sandbox.models import BankPayout, Fault, Operation, ProviderPayment
from sandbox.network import authorization_count
from settlement.models import Journal, JournalEntry
from tests.conftest import _database_url_of_test_db, wait_for
from webhooks.models import Event

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]

ROOT = Path(__file__).resolve().parents[2]
DESTINATION = {"bank": "bni", "account_number": "9876543210", "account_holder_name": "Budi"}


@pytest.fixture
def start_worker(transactional_db):
    """start_worker() -> a `celery worker` process (solo pool, as a killed container would
    be) on the test database and the test broker; all stopped at the end."""
    from config.celery import app

    procs: list[subprocess.Popen] = []
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.test",
        "DATABASE_URL": _database_url_of_test_db(),
        # The worker waits for the held inquiry: it is still inside it when it dies.
        "GATEWAY_SANDBOX_TIMEOUT_SECONDS": "120",
    }

    def start(settings_module: str = "config.settings.test") -> subprocess.Popen:
        proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "config",
                "worker",
                "-P",
                "solo",
                "--without-mingle",
                "--without-gossip",
                "--loglevel",
                "WARNING",
            ],
            cwd=ROOT,
            env={**env, "DJANGO_SETTINGS_MODULE": settings_module},
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        procs.append(proc)
        return proc

    app.control.purge()
    app.conf.task_always_eager = False
    try:
        yield start
    finally:
        app.conf.task_always_eager = True
        for proc in procs:
            if proc.poll() is None:
                proc.terminate()
                try:
                    proc.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait()
        app.control.purge()


def _kill_inside_the_inquiry(worker: subprocess.Popen) -> None:
    """Hold the next inquiry's answer; SIGKILL the worker once it is waiting for it."""
    faults.inject("latency", operation="inquire", latency_ms=90_000)
    assert wait_for(lambda: not Fault.objects.exists(), timeout=30)  # the worker asked
    time.sleep(0.3)
    started = time.monotonic()
    os.kill(worker.pid, signal.SIGKILL)
    assert worker.wait(timeout=10) == -signal.SIGKILL
    assert time.monotonic() - started < 10


def _recover(start_worker) -> None:
    start_worker()
    later = timezone.now() + dt.timedelta(minutes=3)
    assert sweep_unknown_transactions(now_iso=later.isoformat()) == 1


def _assert_ledger_balanced() -> None:
    sums = JournalEntry.objects.values("journal_id", "currency").annotate(total=Sum("amount"))
    assert [row for row in sums if row["total"] != 0] == []


def _held(merchant, amount: int) -> PaymentIntent:
    intent = payment_intent_create(
        merchant=merchant, livemode=False, amount=amount, currency="idr", capture_method="manual"
    )
    return payment_intent_confirm(intent=intent, payment_method="pm_card_visa")


def test_a_worker_killed_while_it_resolves_a_lost_capture_loses_nothing(merchant, start_worker):
    intent = _held(merchant, 300_000)
    worker = start_worker()
    faults.inject("approve_then_timeout", operation="capture")
    intent = payment_intent_capture(intent=intent, amount_to_capture=180_000)
    assert intent.status == "processing"
    capture = Transaction.objects.get(payment_intent=intent, kind="capture")
    assert capture.status == "unknown"

    _kill_inside_the_inquiry(worker)
    capture.refresh_from_db()
    intent.refresh_from_db()
    assert (capture.status, intent.status) == ("unknown", "processing")

    _recover(start_worker)
    assert wait_for(
        lambda: PaymentIntent.objects.get(pk=intent.pk).status == "succeeded", timeout=30
    )
    intent.refresh_from_db()
    assert intent.amount_received == 180_000
    assert Operation.objects.filter(kind="capture").count() == 1
    assert authorization_count() == 1
    assert (
        Event.objects.filter(object_id=intent.public_id, type="payment_intent.succeeded").count()
        == 1
    )
    assert Journal.objects.filter(kind="capture").count() == 1
    _assert_ledger_balanced()

    # The killed task's message comes back after Redis's visibility timeout: nothing to do.
    resolve_transaction.delay(capture.pk).get(timeout=30)
    intent.refresh_from_db()
    assert intent.amount_received == 180_000
    assert Journal.objects.filter(kind="capture").count() == 1


def test_a_worker_killed_while_it_resolves_a_lost_refund_loses_nothing(merchant, start_worker):
    intent = payment_intent_confirm(
        intent=payment_intent_create(
            merchant=merchant, livemode=False, amount=200_000, currency="idr"
        ),
        payment_method="pm_card_visa",
    )
    assert intent.status == "succeeded"
    worker = start_worker()
    faults.inject("approve_then_timeout", operation="refund")
    refund = refund_create(payment_intent=intent, amount=60_000)
    assert refund.status == "pending"
    txn = Transaction.objects.get(refund=refund, kind="refund")
    assert txn.status == "unknown"

    _kill_inside_the_inquiry(worker)
    refund.refresh_from_db()
    assert refund.status == "pending"

    _recover(start_worker)
    assert wait_for(lambda: Refund.objects.get(pk=refund.pk).status == "succeeded", timeout=30)
    refund.refresh_from_db()
    assert refund.charge.amount_refunded == 60_000
    assert Operation.objects.filter(kind="refund").count() == 1
    assert Event.objects.filter(object_id=refund.public_id, type="refund.updated").count() == 1
    assert Journal.objects.filter(kind="refund").count() == 1
    _assert_ledger_balanced()

    resolve_transaction.delay(txn.pk).get(timeout=30)
    refund.charge.refresh_from_db()
    assert refund.charge.amount_refunded == 60_000
    assert Journal.objects.filter(kind="refund").count() == 1


def test_a_worker_killed_inside_a_va_refunds_bank_payout_pays_the_customer_once(
    merchant, start_worker, settings
):
    settings.GATEWAY_SANDBOX_CALLBACK_TRANSPORT = "inprocess"
    worker = start_worker()  # the provider's callback task runs here
    intent = payment_intent_create(
        merchant=merchant,
        livemode=False,
        amount=2_500_000,
        currency="idr",
        payment_method_types=["bank_transfer"],
    )
    intent = payment_intent_confirm(
        intent=intent,
        payment_method_data={"type": "bank_transfer", "bank_transfer": {"bank": "bca"}},
    )
    [payment] = ProviderPayment.objects.all()
    providers.finish(payment.provider_reference, "paid", amount=payment.amount)
    assert wait_for(
        lambda: PaymentIntent.objects.get(pk=intent.pk).status == "succeeded", timeout=30
    )
    worker.terminate()
    worker.wait(timeout=10)

    worker = start_worker("tests.reliability.slow_bank")
    refund = refund_create(payment_intent=intent, amount=None, destination=DESTINATION)
    assert refund.status == "pending"
    assert wait_for(BankPayout.objects.exists, timeout=30)  # the bank paid; no answer yet
    time.sleep(0.3)
    os.kill(worker.pid, signal.SIGKILL)
    assert worker.wait(timeout=10) == -signal.SIGKILL
    refund.refresh_from_db()
    assert refund.status == "pending"

    start_worker()
    # A minute later the beat's resender finds the payout refund nobody answered.
    Transaction.objects.filter(refund=refund).update(
        created_at=timezone.now() - dt.timedelta(minutes=2)
    )
    assert refunds_resend_stranded() == 1
    assert wait_for(lambda: Refund.objects.get(pk=refund.pk).status == "succeeded", timeout=30)
    refund.refresh_from_db()
    assert refund.amount == 2_500_000
    assert BankPayout.objects.count() == 1  # the customer was paid once
    assert BankPayout.objects.get().amount == 2_500_000
    assert refund.charge.amount_refunded == 2_500_000
    assert Event.objects.filter(object_id=refund.public_id, type="refund.updated").count() == 1
    assert Journal.objects.filter(kind="refund").count() == 1
    _assert_ledger_balanced()
    assert refunds_resend_stranded() == 0
