"""core.writes: the writes of a ledger posting sent together give the rows that writing
them one by one gives, in one statement on PostgreSQL."""

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from core import writes
from settlement.models import BalanceTransaction, Journal, JournalEntry, UnsettledItem
from settlement.services.ledger import ledger_post_capture

POSTING = dict(livemode=False, currency="idr", amount=150_000, payment_method_type="card")
IGNORED = {"id", "public_id", "created_at", "updated_at", "journal", "reference", "source"}


def _rows(reference: str) -> dict:
    bt = BalanceTransaction.objects.get(reference=reference)
    journal = Journal.objects.get(reference=reference)
    return {
        "balance_transaction": {
            f.name: getattr(bt, f.attname)
            for f in BalanceTransaction._meta.concrete_fields
            if f.name not in IGNORED
        },
        "journal": (journal.kind, journal.merchant_id, journal.livemode),
        "entries": sorted(
            JournalEntry.objects.filter(journal=journal).values_list(
                "account_id", "currency", "amount"
            )
        ),
        "queued": UnsettledItem.objects.filter(balance_transaction=bt).values_list(
            "amount", "fee", "net", "settlement_date", "type"
        )[0],
    }


def test_a_posting_in_a_batch_books_the_same_rows_as_one_by_one(priced_merchant):
    ledger_post_capture(merchant=priced_merchant, source="ch_a", reference="txn_a", **POSTING)
    with CaptureQueriesContext(connection) as captured, transaction.atomic(), writes.write_batch():
        bt = ledger_post_capture(
            merchant=priced_merchant, source="ch_b", reference="txn_b", **POSTING
        )
        assert bt.pk is None  # noted, not written yet
    assert bt.pk == BalanceTransaction.objects.get(reference="txn_b").pk
    assert bt.journal_id == Journal.objects.get(reference="txn_b").pk
    assert _rows("txn_b") == _rows("txn_a")
    assert sum(amount for _, _, amount in _rows("txn_b")["entries"]) == 0
    written = [q["sql"] for q in captured.captured_queries if not q["sql"].startswith("SELECT")]
    if connection.vendor == "postgresql":
        # journal, its 3 entries, the balance transaction, its queue row: one statement
        assert len([sql for sql in written if sql.startswith("WITH")]) == 1
        assert not [sql for sql in written if sql.startswith(("INSERT", "UPDATE"))]


def test_a_row_changed_twice_in_a_batch_is_written_once_with_its_last_values(merchant):
    with CaptureQueriesContext(connection) as captured, transaction.atomic(), writes.write_batch():
        merchant.name = "Toko Satu"
        writes.save(merchant, update_fields=["name"])
        merchant.timezone = "Asia/Makassar"
        merchant.name = "Toko Dua"
        writes.save(merchant, update_fields=["name", "timezone"])
    merchant.refresh_from_db()
    assert (merchant.name, merchant.timezone) == ("Toko Dua", "Asia/Makassar")
    if connection.vendor == "postgresql":
        [statement] = [q["sql"] for q in captured.captured_queries if "UPDATE" in q["sql"]]
        assert statement.count("UPDATE") == 1


def test_an_error_in_the_block_writes_nothing(priced_merchant):
    with pytest.raises(RuntimeError), transaction.atomic(), writes.write_batch():
        ledger_post_capture(merchant=priced_merchant, source="ch_c", reference="txn_c", **POSTING)
        raise RuntimeError("refused after the posting")
    assert not Journal.objects.filter(reference="txn_c").exists()
    assert not BalanceTransaction.objects.filter(reference="txn_c").exists()


def test_a_batch_outside_a_transaction_is_refused(transactional_db):
    with pytest.raises(RuntimeError, match="inside transaction.atomic"), writes.write_batch():
        pass


def _name_guard(merchant, name: str) -> tuple[str, list]:
    return (
        "SELECT 1 FROM merchants_merchant WHERE id = %s AND name = %s FOR UPDATE",
        [merchant.pk, name],
    )


def test_a_guarded_batch_writes_nothing_when_its_rows_changed_and_all_when_not(
    transactional_db, priced_merchant
):
    called = []
    if not writes.one_statement():  # SQLite: the callers take their locking path instead
        guard = _name_guard(priced_merchant, priced_merchant.name)
        with pytest.raises(RuntimeError, match="needs PostgreSQL"), writes.write_batch(guard=guard):
            pass
        return
    stale = _name_guard(priced_merchant, "renamed meanwhile")
    with pytest.raises(writes.GuardFailed), writes.write_batch(guard=stale):
        ledger_post_capture(merchant=priced_merchant, source="ch_d", reference="txn_d", **POSTING)
        writes.on_commit(lambda: called.append("sent"))
    assert not Journal.objects.filter(reference="txn_d").exists()
    assert called == []  # what waits for the commit never ran

    with writes.write_batch(guard=_name_guard(priced_merchant, priced_merchant.name)):
        bt = ledger_post_capture(
            merchant=priced_merchant, source="ch_d", reference="txn_d", **POSTING
        )
        writes.on_commit(lambda: called.append(BalanceTransaction.objects.get(pk=bt.pk).net))
        assert called == []  # not before the statement
    assert called == [bt.net]  # after it, with the row committed
    assert UnsettledItem.objects.filter(balance_transaction=bt).exists()


def test_a_failed_guard_inside_a_transaction_undoes_only_its_own_work(
    transactional_db, priced_merchant
):
    if not writes.one_statement():  # SQLite: guarded batches are PostgreSQL's
        return
    called = []
    stale = _name_guard(priced_merchant, "renamed meanwhile")
    with transaction.atomic():
        ledger_post_capture(merchant=priced_merchant, source="ch_e", reference="txn_e", **POSTING)
        with pytest.raises(writes.GuardFailed), writes.write_batch(guard=stale):
            ledger_post_capture(
                merchant=priced_merchant, source="ch_f", reference="txn_f", **POSTING
            )
            writes.on_commit(lambda: called.append("sent"))
        # the transaction goes on: what came before the batch commits
    assert Journal.objects.filter(reference="txn_e").exists()
    assert not Journal.objects.filter(reference="txn_f").exists()
    assert called == []  # dropped with the batch's savepoint


def test_insert_if_absent_writes_a_row_once_and_says_whether_it_did(merchant):
    from settlement.models import LedgerAccount

    def account(currency="usd"):
        return LedgerAccount(merchant=merchant, livemode=False, currency=currency, kind="pending")

    first = account()
    assert writes.insert_if_absent(first) is True and first.pk is not None
    again = account()
    assert writes.insert_if_absent(again) is False and again.pk is None
    assert LedgerAccount.objects.filter(merchant=merchant, currency="usd").count() == 1
    other = account("sgd")
    assert writes.insert_if_absent(other) is True
    assert set(LedgerAccount.objects.filter(merchant=merchant).values_list("pk", flat=True)) >= {
        first.pk,
        other.pk,
    }
    with pytest.raises(RuntimeError), transaction.atomic(), writes.write_batch():
        writes.insert_if_absent(account("eur"))


@pytest.mark.parametrize(
    "text",
    [
        "O'Brien",
        "''",
        "back\\slash \\' and \\\\",
        "'); DROP TABLE merchants_merchant; --",
        "E'\\x41'",
        "%s %(name)s {0}",
        "Toko Jaya ✓ 日本語",
        "line\nbreak\ttab",
    ],
)
def test_text_reaches_the_row_exactly_as_given(db, text):
    from merchants.models import Merchant

    merchant = writes.insert(Merchant(name=text))
    assert Merchant.objects.get(pk=merchant.pk).name == text
    with transaction.atomic(), writes.write_batch():
        merchant.name = text + "!"
        writes.save(merchant, update_fields=["name"])
    assert Merchant.objects.get(pk=merchant.pk).name == text + "!"
