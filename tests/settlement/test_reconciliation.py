"""Reconciliation of the sandbox's daily settlement report with the ledger, and the batch
CSV export."""

import datetime as dt

import pytest
from django.core.management import call_command
from django.utils import timezone

from sandbox.reports import settlement_report_csv
from settlement.models import BalanceTransaction, SettlementBatch
from settlement.services.batches import settlement_run
from settlement.services.reconciliation import (
    reconcile,
    reconciliation_run_for_day,
    settlement_batch_csv,
)
from tests.settlement.conftest import pay, refund


def _day_of_payments(merchant):
    auto = pay(merchant, 100_000)
    manual = pay(merchant, 80_000, manual=True, capture=50_000)
    refund(auto, 30_000)
    return auto, manual


def _differences(run) -> set[tuple]:
    return {(d.kind, d.reference, d.ledger_amount, d.report_amount) for d in run.differences.all()}


def test_a_clean_report_reconciles_with_no_differences(priced_merchant):
    _day_of_payments(priced_merchant)
    today = timezone.now().date()
    run = reconciliation_run_for_day(day=today)
    assert (run.report_lines, run.ledger_lines, run.matched, run.difference_count) == (3, 3, 3, 0)
    assert _differences(run) == set()


def test_injected_missing_extra_mismatched_and_duplicate_lines_are_exactly_the_differences(
    priced_merchant,
):
    _day_of_payments(priced_merchant)
    today = timezone.now().date()
    report = settlement_report_csv(today)
    header, *lines = report.strip().split("\n")
    assert len(lines) == 3
    dropped, mismatched, duplicated = lines
    ref_dropped = dropped.split(",")[0]
    ref_mismatched, *_rest = mismatched.split(",")
    fields = mismatched.split(",")
    fields[3] = str(int(fields[3]) + 1)
    ref_duplicated = duplicated.split(",")[0]
    extra = f"txn_notours,sbx_cap_x,capture,1234,idr,{today.isoformat()}"
    tampered = "\n".join([header, ",".join(fields), duplicated, duplicated, extra]) + "\n"

    run = reconcile(day=today, report_csv=tampered)

    amounts = {
        bt.reference: abs(bt.amount)
        for bt in BalanceTransaction.objects.filter(merchant=priced_merchant)
    }
    assert _differences(run) == {
        ("missing_in_report", ref_dropped, amounts[ref_dropped], None),
        ("amount_mismatch", ref_mismatched, amounts[ref_mismatched], amounts[ref_mismatched] + 1),
        ("duplicate", ref_duplicated, amounts[ref_duplicated], amounts[ref_duplicated]),
        ("missing_in_ledger", "txn_notours", None, 1234),
    }
    assert run.difference_count == 4 and run.matched == 0


def test_the_report_lists_captures_and_refunds_under_our_references(priced_merchant):
    auto, manual = _day_of_payments(priced_merchant)
    report = settlement_report_csv(timezone.now().date())
    rows = [line.split(",") for line in report.strip().split("\n")[1:]]
    assert sorted((r[2], int(r[3])) for r in rows) == [
        ("capture", 50_000),
        ("capture", 100_000),
        ("refund", 30_000),
    ]
    ours = set(BalanceTransaction.objects.values_list("reference", flat=True))
    assert {r[0] for r in rows} == ours


def test_a_batch_exports_its_lines_as_csv(priced_merchant, capsys):
    priced_merchant.payouts_automatic = False
    priced_merchant.save()
    _day_of_payments(priced_merchant)
    settlement_run(now=timezone.now() + dt.timedelta(days=1))
    batch = SettlementBatch.objects.get()
    text = settlement_batch_csv(batch=batch)
    header, *rows, total = text.strip().split("\n")
    assert header.startswith("batch,day,balance_transaction,type")
    assert len(rows) == 3
    assert sum(int(r.split(",")[8]) for r in rows) == batch.net_amount
    assert total.split(",")[8] == str(batch.net_amount)
    call_command("export_settlement_batch", batch.public_id)
    assert capsys.readouterr().out == text


def test_the_reconcile_command_says_clearly_when_the_report_cannot_be_read(tmp_path):
    from django.core.management import CommandError

    missing = tmp_path / "nowhere.csv"
    with pytest.raises(CommandError, match="cannot read the report .*nowhere.csv"):
        call_command("reconcile", "--date", "2026-11-25", "--report", str(missing))
    broken = tmp_path / "broken.csv"
    broken.write_text("id,total\n1,2\n")
    with pytest.raises(CommandError, match="is not valid: the report needs the columns"):
        call_command("reconcile", "--date", "2026-11-25", "--report", str(broken))


def test_payments_through_another_connector_are_not_missing_from_the_card_networks_report(
    priced_merchant,
):
    from settlement.services.ledger import ledger_post_capture

    _day_of_payments(priced_merchant)
    # A GoPay capture booked the same day: the e-wallet provider reports it, not the network.
    ledger_post_capture(
        merchant=priced_merchant,
        livemode=False,
        currency="idr",
        amount=500_000,
        payment_method_type="gopay",
        source="ch_gopay",
        reference="txn_gopay_capture",
    )
    run = reconciliation_run_for_day(day=timezone.now().date())
    assert (run.report_lines, run.ledger_lines, run.matched, run.difference_count) == (3, 3, 3, 0)
