"""The ledger: postings for captures and refunds, balances, and the database's refusal of
unbalanced or edited journals."""

import pytest
from django.db import IntegrityError, InternalError, connection, transaction
from django.db.utils import DatabaseError

from settlement.models import AccountKind, BalanceTransaction, Journal, JournalEntry
from settlement.services.ledger import (
    Line,
    UnbalancedJournalError,
    journal_post,
    merchant_balances,
)
from tests.settlement.conftest import pay, refund

postgres_only = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="the triggers are PostgreSQL's"
)


def _journal_sums(merchant) -> dict:
    sums: dict = {}
    for e in JournalEntry.objects.filter(journal__merchant=merchant):
        key = (e.journal_id, e.currency)
        sums[key] = sums.get(key, 0) + e.amount
    return sums


def test_a_capture_puts_the_gross_less_the_plan_fee_in_pending_and_the_fee_in_revenue(
    priced_merchant,
):
    intent = pay(priced_merchant, 100_000)
    bt = BalanceTransaction.objects.get(source=intent.latest_charge.public_id)
    assert (bt.type, bt.amount, bt.fee, bt.net, bt.status) == (
        "charge",
        100_000,
        2_100,
        97_900,
        "pending",
    )
    assert bt.fee_details == [
        {
            "amount": 2_100,
            "currency": "idr",
            "type": "gateway_fee",
            "description": "Gateway processing fees",
        }
    ]
    assert merchant_balances(merchant=priced_merchant, livemode=False) == {
        "idr": {"pending": 97_900}
    }
    journal = Journal.objects.get(kind="capture", merchant=priced_merchant)
    amounts = {e.account.kind: e.amount for e in journal.entries.select_related("account")}
    assert amounts == {"processor_receivable": 100_000, "pending": -97_900, "fee_revenue": -2_100}


def test_a_partial_capture_is_booked_for_the_captured_amount_only(priced_merchant):
    intent = pay(priced_merchant, 100_000, manual=True)
    assert not BalanceTransaction.objects.filter(merchant=priced_merchant).exists()
    pay_captured = pay(priced_merchant, 100_000, manual=True, capture=60_000)
    bt = BalanceTransaction.objects.get(source=pay_captured.latest_charge.public_id)
    assert (bt.amount, bt.fee, bt.net) == (60_000, 1_300, 58_700)
    assert intent.status == "requires_capture"


def test_a_refund_takes_the_amount_from_pending_and_returns_the_fee_pro_rata(priced_merchant):
    intent = pay(priced_merchant, 100_000)
    refund(intent, 25_000)
    refund(intent, 75_000)
    refunds = BalanceTransaction.objects.filter(type="refund").order_by("id")
    assert [(r.amount, r.fee, r.net) for r in refunds] == [
        (-25_000, -525, -24_475),
        (-75_000, -1_575, -73_425),
    ]
    # Fully refunded with the fee returned: nothing left anywhere for this merchant.
    assert merchant_balances(merchant=priced_merchant, livemode=False) == {"idr": {"pending": 0}}
    assert all(total == 0 for total in _journal_sums(priced_merchant).values())


def test_a_plan_that_keeps_fees_keeps_them_on_refunds(priced_merchant, flat_plan):
    flat_plan.refund_returns_fee = False
    flat_plan.save()
    intent = pay(priced_merchant, 100_000)
    refund(intent)
    bt = BalanceTransaction.objects.get(type="refund")
    assert (bt.amount, bt.fee, bt.net) == (-100_000, 0, -100_000)
    assert merchant_balances(merchant=priced_merchant, livemode=False) == {
        "idr": {"pending": -2_100}
    }


def test_merchants_without_a_plan_pay_the_default_card_rate(merchant):
    intent = pay(merchant, 10_000_000)  # Rp100,000.00
    bt = BalanceTransaction.objects.get(source=intent.latest_charge.public_id)
    # 2.9 % + Rp2,000 (200,000 sen)
    assert bt.fee == 290_000 + 200_000


def test_posting_the_same_capture_twice_books_it_once(priced_merchant):
    from settlement.services.ledger import ledger_post_capture

    args = dict(
        merchant=priced_merchant,
        livemode=False,
        currency="idr",
        amount=5_000,
        payment_method_type="card",
        source="ch_test",
        reference="txn_same",
    )
    first = ledger_post_capture(**args)
    second = ledger_post_capture(**args)
    assert first.pk == second.pk
    assert Journal.objects.filter(reference="txn_same").count() == 1


def test_the_posting_service_refuses_an_unbalanced_journal(merchant):
    with pytest.raises(UnbalancedJournalError):
        journal_post(
            kind="adjustment",
            reference="adj_1",
            merchant_id=merchant.pk,
            livemode=False,
            currency="idr",
            lines=[Line(AccountKind.PENDING, -100, merchant.pk), Line(AccountKind.BANK, 99)],
        )
    assert not Journal.objects.filter(reference="adj_1").exists()


@postgres_only
def test_postgresql_refuses_to_commit_an_unbalanced_journal(merchant):
    journal, _ = journal_post(
        kind="adjustment",
        reference="adj_2",
        merchant_id=merchant.pk,
        livemode=False,
        currency="idr",
        lines=[Line(AccountKind.PENDING, -100, merchant.pk), Line(AccountKind.BANK, 100)],
    )
    account = JournalEntry.objects.filter(journal=journal).first().account
    with pytest.raises((IntegrityError, DatabaseError)), transaction.atomic():
        JournalEntry.objects.create(journal=journal, account=account, currency="idr", amount=5)
        # The check is deferred to commit; make it run now, inside the test's transaction.
        with connection.cursor() as cursor:
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")


@postgres_only
def test_postgresql_refuses_to_update_or_delete_journal_entries(priced_merchant):
    pay(priced_merchant, 10_000)
    entry = JournalEntry.objects.filter(journal__merchant=priced_merchant).first()
    with pytest.raises((InternalError, DatabaseError)), transaction.atomic():
        JournalEntry.objects.filter(pk=entry.pk).update(amount=entry.amount + 1)
    with pytest.raises((InternalError, DatabaseError)), transaction.atomic():
        JournalEntry.objects.filter(pk=entry.pk).delete()
    with pytest.raises((InternalError, DatabaseError)), transaction.atomic():
        Journal.objects.filter(pk=entry.journal_id).update(description="edited")
    entry.refresh_from_db()
    assert JournalEntry.objects.filter(pk=entry.pk).exists()


def test_the_database_refuses_a_zero_entry(merchant):
    journal = Journal.objects.create(
        kind="adjustment", reference="adj_3", livemode=False, created_at="2026-01-01T00:00:00Z"
    )
    from settlement.services.ledger import ledger_accounts

    account = ledger_accounts(merchant_id=None, livemode=False, currency="idr", kinds=["bank"])[
        "bank"
    ]
    with pytest.raises(IntegrityError), transaction.atomic():
        JournalEntry.objects.create(journal=journal, account_id=account, currency="idr", amount=0)


def test_balance_api_shows_available_and_pending_per_currency(api_client, priced_merchant):
    pay(priced_merchant, 100_000)
    body = api_client.get("/v1/balance").json()
    assert body == {
        "object": "balance",
        "available": [{"amount": 0, "currency": "idr", "source_types": {"card": 0}}],
        "pending": [{"amount": 97_900, "currency": "idr", "source_types": {"card": 97_900}}],
        "in_transit": [{"amount": 0, "currency": "idr"}],
        "livemode": False,
    }


def test_balance_transactions_list_and_retrieve(api_client, priced_merchant, other_merchant):
    intent = pay(priced_merchant, 100_000)
    refund(intent, 10_000)
    pay(other_merchant, 50_000)
    page = api_client.get("/v1/balance_transactions").json()
    assert [row["type"] for row in page["data"]] == ["refund", "charge"]
    charge = page["data"][1]
    assert charge["id"].startswith("btxn_")
    assert charge["source"] == intent.latest_charge.public_id
    assert (charge["amount"], charge["fee"], charge["net"], charge["status"]) == (
        100_000,
        2_100,
        97_900,
        "pending",
    )
    only_refunds = api_client.get("/v1/balance_transactions", {"type": "refund"}).json()
    assert [row["amount"] for row in only_refunds["data"]] == [-10_000]
    one = api_client.get(f"/v1/balance_transactions/{charge['id']}").json()
    assert one == charge
    other = BalanceTransaction.objects.get(merchant=other_merchant)
    missing = api_client.get(f"/v1/balance_transactions/{other.public_id}")
    assert missing.status_code == 404
    assert missing.json()["error"]["code"] == "resource_missing"
