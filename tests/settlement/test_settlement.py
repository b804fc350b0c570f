"""Daily settlement: batches per merchant, currency and day, pending to available, the
automatic payout and its arrival date, idempotency (twice, and twice at once)."""

import datetime as dt
import threading
from zoneinfo import ZoneInfo

import pytest
from django.core.management import call_command
from django.db import connection, connections
from django.utils import timezone

from merchants.models import BankAccount
from settlement.models import (
    BalanceTransaction,
    JournalEntry,
    Payout,
    SettlementBatch,
    SettlementLine,
)
from settlement.services.batches import settlement_run
from settlement.services.ledger import ledger_post_capture, merchant_balances
from tests.settlement.conftest import pay, refund

JAKARTA = ZoneInfo("Asia/Jakarta")


def _jakarta(*args) -> dt.datetime:
    return dt.datetime(*args, tzinfo=JAKARTA)


def _tomorrow() -> dt.datetime:
    return timezone.now() + dt.timedelta(days=1)


@pytest.fixture
def bank_account(priced_merchant):
    return BankAccount.objects.create(
        merchant=priced_merchant,
        currency="idr",
        bank_code="bca",
        account_number="1234567890",
        account_holder_name="Toko Kopi",
    )


def test_settlement_batches_the_day_moves_it_to_available_and_pays_it_out(
    priced_merchant, bank_account
):
    first = pay(priced_merchant, 100_000)
    pay(priced_merchant, 50_000)
    refund(first, 10_000)

    result = settlement_run(now=_tomorrow())

    [batch] = result.batches
    assert (batch.gross_amount, batch.refund_amount, batch.fee_amount, batch.count) == (
        150_000,
        10_000,
        2_100 + 1_100 - 210,
        3,
    )
    assert batch.net_amount == 150_000 - 10_000 - 2_990
    assert batch.public_id.startswith("stl_")
    assert batch.day == timezone.localdate(timezone=JAKARTA)
    assert SettlementLine.objects.filter(batch=batch).count() == 3
    assert set(
        BalanceTransaction.objects.filter(type__in=["charge", "refund"]).values_list(
            "status", "settlement_batch"
        )
    ) == {("available", batch.pk)}
    [payout] = result.payouts
    assert (payout.amount, payout.status, payout.automatic) == (batch.net_amount, "pending", True)
    assert payout.public_id.startswith("po_") and payout.settlement_batch == batch
    assert merchant_balances(merchant=priced_merchant, livemode=False) == {
        "idr": {"pending": 0, "available": 0, "in_transit": batch.net_amount}
    }


def test_a_day_that_has_not_closed_is_not_settled(priced_merchant):
    pay(priced_merchant, 100_000)
    assert settlement_run(now=timezone.now()).batches == []
    assert BalanceTransaction.objects.get().status == "pending"


def test_settling_the_same_day_twice_gives_one_batch_and_one_payout(priced_merchant, bank_account):
    pay(priced_merchant, 100_000)
    now = _tomorrow()
    first = settlement_run(now=now)
    second = settlement_run(now=now)
    assert len(first.batches) == 1 and second.batches == []
    assert SettlementBatch.objects.count() == 1
    assert Payout.objects.count() == 1


def test_a_straggler_of_a_settled_day_goes_into_the_next_days_batch(priced_merchant):
    priced_merchant.payouts_automatic = False
    priced_merchant.save()
    day = _jakarta(2026, 11, 24, 10, 0)
    ledger_post_capture(
        merchant=priced_merchant,
        livemode=False,
        currency="idr",
        amount=10_000,
        payment_method_type="card",
        source="ch_a",
        reference="txn_a",
        at=day,
    )
    [first] = settlement_run(now=_jakarta(2026, 11, 25, 0, 5)).batches
    # Committed after the 24th was settled, though it happened on the 24th.
    ledger_post_capture(
        merchant=priced_merchant,
        livemode=False,
        currency="idr",
        amount=20_000,
        payment_method_type="card",
        source="ch_b",
        reference="txn_b",
        at=day,
    )
    [second] = settlement_run(now=_jakarta(2026, 11, 26, 0, 5)).batches
    assert (first.day, first.gross_amount) == (dt.date(2026, 11, 24), 10_000)
    assert (second.day, second.gross_amount) == (dt.date(2026, 11, 25), 20_000)


def test_the_cutoff_hour_ends_the_merchants_day_at_that_local_hour(priced_merchant):
    priced_merchant.settlement_cutoff_hour = 17
    priced_merchant.payouts_automatic = False
    priced_merchant.save()
    for reference, at in [
        ("txn_before", (2026, 11, 24, 16, 59)),
        ("txn_after", (2026, 11, 24, 17, 0)),
    ]:
        ledger_post_capture(
            merchant=priced_merchant,
            livemode=False,
            currency="idr",
            amount=10_000,
            payment_method_type="card",
            source=f"ch_{reference}",
            reference=reference,
            at=_jakarta(*at),
        )
    assert settlement_run(now=_jakarta(2026, 11, 24, 16, 59)).batches == []
    [batch] = settlement_run(now=_jakarta(2026, 11, 24, 17, 0)).batches
    assert (batch.day, batch.count) == (dt.date(2026, 11, 23), 1)
    assert BalanceTransaction.objects.get(status="pending").reference == "txn_after"


def test_a_capture_the_working_day_before_an_indonesian_holiday_arrives_after_it(
    priced_merchant, bank_account
):
    # Friday 14 August 2026; Monday the 17th is Independence Day (Hari Kemerdekaan).
    ledger_post_capture(
        merchant=priced_merchant,
        livemode=False,
        currency="idr",
        amount=1_000_000,
        payment_method_type="card",
        source="ch_friday",
        reference="txn_friday",
        at=_jakarta(2026, 8, 14, 15, 0),
    )
    [payout] = settlement_run(now=_jakarta(2026, 8, 15, 0, 10)).payouts
    # T+2 business days: Tuesday 18 (T+1), Wednesday 19 (T+2); weekends alone would
    # have given Tuesday 18.
    assert payout.arrival_date == dt.date(2026, 8, 19)


def test_settle_command_settles_a_given_date_for_one_merchant(priced_merchant, other_merchant):
    for merchant, reference in [(priced_merchant, "txn_1"), (other_merchant, "txn_2")]:
        ledger_post_capture(
            merchant=merchant,
            livemode=False,
            currency="idr",
            amount=10_000,
            payment_method_type="card",
            source=f"ch_{reference}",
            reference=reference,
            at=_jakarta(2026, 11, 24, 12, 0),
        )
    call_command("settle", "--date", "2026-11-24", "--merchant", priced_merchant.public_id)
    assert list(SettlementBatch.objects.values_list("merchant", "day")) == [
        (priced_merchant.pk, dt.date(2026, 11, 24))
    ]


def test_every_settlement_journal_balances(priced_merchant, bank_account):
    intent = pay(priced_merchant, 100_000)
    refund(intent, 100_000)
    pay(priced_merchant, 70_000)
    settlement_run(now=_tomorrow())
    totals: dict = {}
    for entry in JournalEntry.objects.all():
        key = (entry.journal_id, entry.currency)
        totals[key] = totals.get(key, 0) + entry.amount
    assert totals and set(totals.values()) == {0}


@pytest.mark.skipif(connection.vendor != "postgresql", reason="real concurrency on PostgreSQL")
@pytest.mark.django_db(transaction=True)
def test_settling_concurrently_on_threads_gives_one_batch_and_one_payout(
    priced_merchant, bank_account, other_merchant
):
    BankAccount.objects.create(
        merchant=other_merchant,
        currency="idr",
        bank_code="bni",
        account_number="555",
        account_holder_name="Warung",
    )
    for merchant in (priced_merchant, other_merchant):
        for currency in ("idr", "usd"):
            ledger_post_capture(
                merchant=merchant,
                livemode=False,
                currency=currency,
                amount=1_000_000,
                payment_method_type="card",
                source=f"ch_{merchant.pk}_{currency}",
                reference=f"txn_{merchant.pk}_{currency}",
                at=_jakarta(2026, 11, 24, 12, 0),
            )
    now = _jakarta(2026, 11, 25, 0, 5)
    barrier = threading.Barrier(4)
    errors = []

    def settle():
        try:
            barrier.wait()
            settlement_run(now=now)
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=settle) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert sorted(SettlementBatch.objects.values_list("merchant", "currency", "day")) == sorted(
        (m.pk, c, dt.date(2026, 11, 24))
        for m in (priced_merchant, other_merchant)
        for c in ("idr", "usd")
    )
    # usd has no bank account: one idr payout per merchant.
    assert sorted(Payout.objects.values_list("merchant", "currency")) == sorted(
        [(priced_merchant.pk, "idr"), (other_merchant.pk, "idr")]
    )
