"""/v1/settlement_batches: list (currency and date filters, pages), retrieve, lines (pages)
and lines.csv; another merchant's or the other mode's batches are not found."""

import csv
import datetime as dt
import io
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone

from merchants.models import BankAccount
from settlement.models import BalanceTransaction, Payout, SettlementBatch
from settlement.services.batches import settlement_run
from settlement.services.ledger import ledger_post_capture
from tests.settlement.conftest import pay, refund

JAKARTA = ZoneInfo("Asia/Jakarta")


def _capture(merchant, reference: str, *, day: dt.date, currency="idr", livemode=False):
    ledger_post_capture(
        merchant=merchant,
        livemode=livemode,
        currency=currency,
        amount=10_000,
        payment_method_type="card",
        source=f"ch_{reference}",
        reference=reference,
        at=dt.datetime.combine(day, dt.time(12), tzinfo=JAKARTA),
    )


def _settle(day: dt.date, merchant=None):
    return settlement_run(
        now=dt.datetime.combine(day + dt.timedelta(days=1), dt.time(0, 5), tzinfo=JAKARTA),
        day=day,
        merchant=merchant,
    )


@pytest.fixture
def settled(priced_merchant):
    """A settled day: two charges and a refund, paid out automatically."""
    BankAccount.objects.create(
        merchant=priced_merchant,
        currency="idr",
        bank_code="bca",
        account_number="1234567890",
        account_holder_name="Toko Kopi",
    )
    first = pay(priced_merchant, 100_000)
    pay(priced_merchant, 50_000)
    refund(first, 10_000)
    [batch] = settlement_run(now=timezone.now() + dt.timedelta(days=1)).batches
    return batch


def test_a_batch_shows_its_totals_status_and_payout(api_client, settled):
    body = api_client.get(f"/v1/settlement_batches/{settled.public_id}").json()
    payout = Payout.objects.get()
    assert body == {
        "id": settled.public_id,
        "object": "settlement_batch",
        "count": 3,
        "created": int(settled.created_at.timestamp()),
        "currency": "idr",
        "date": timezone.localdate(timezone=JAKARTA).isoformat(),
        "fees": 2_100 + 1_100 - 210,
        "gross": 150_000,
        "livemode": False,
        "net": 150_000 - 10_000 - 2_990,
        "payout": payout.public_id,
        "refunds": 10_000,
        "status": "in_transit",
    }
    listed = api_client.get("/v1/settlement_batches").json()
    assert listed["object"] == "list" and listed["url"] == "/v1/settlement_batches"
    assert [b["id"] for b in listed["data"]] == [settled.public_id]
    assert listed["data"][0] == body and listed["has_more"] is False


def test_a_batchs_lines_come_in_pages_one_per_balance_transaction(api_client, settled):
    url = f"/v1/settlement_batches/{settled.public_id}/lines"
    first = api_client.get(url, {"limit": 2}).json()
    assert (len(first["data"]), first["has_more"], first["url"]) == (2, True, url)
    rest = api_client.get(
        url, {"limit": 2, "starting_after": first["data"][-1]["balance_transaction"]}
    ).json()
    assert (len(rest["data"]), rest["has_more"]) == (1, False)
    lines = first["data"] + rest["data"]
    settled_bts = BalanceTransaction.objects.filter(type__in=["charge", "refund"])
    assert {line["balance_transaction"] for line in lines} == {bt.public_id for bt in settled_bts}
    assert sorted(line["amount"] for line in lines) == [-10_000, 50_000, 100_000]
    assert sum(line["net"] for line in lines) == settled.net_amount
    assert {(line["object"], line["currency"], line["settlement_batch"]) for line in lines} == {
        ("settlement_batch_line", "idr", settled.public_id)
    }


def test_a_batchs_lines_download_as_csv_with_a_total(api_client, settled):
    response = api_client.get(
        f"/v1/settlement_batches/{settled.public_id}/lines.csv", HTTP_ACCEPT="text/csv"
    )
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    assert settled.public_id in response["Content-Disposition"]
    rows = list(csv.DictReader(io.StringIO(response.content.decode())))
    assert len(rows) == 4
    assert rows[-1]["balance_transaction"] == "total"
    assert int(rows[-1]["net"]) == settled.net_amount
    assert sum(int(r["net"]) for r in rows[:-1]) == settled.net_amount


def test_batches_filter_by_currency_and_date(api_client, priced_merchant):
    priced_merchant.payouts_automatic = False
    priced_merchant.save()
    monday, tuesday = dt.date(2026, 11, 23), dt.date(2026, 11, 24)
    _capture(priced_merchant, "txn_mon_idr", day=monday)
    _capture(priced_merchant, "txn_mon_usd", day=monday, currency="usd")
    _capture(priced_merchant, "txn_tue_idr", day=tuesday)
    _settle(monday)
    _settle(tuesday)

    def listed(**params):
        rows = api_client.get("/v1/settlement_batches", params).json()["data"]
        return sorted((row["currency"], row["date"]) for row in rows)

    assert listed() == [("idr", "2026-11-23"), ("idr", "2026-11-24"), ("usd", "2026-11-23")]
    assert listed(currency="usd") == [("usd", "2026-11-23")]
    assert listed(date="2026-11-24") == [("idr", "2026-11-24")]
    assert listed(currency="idr", date="2026-11-23") == [("idr", "2026-11-23")]
    bad = api_client.get("/v1/settlement_batches", {"date": "24/11/2026"})
    assert bad.status_code == 400 and bad.json()["error"]["param"] == "date"


def test_batches_come_in_pages_newest_first(api_client, priced_merchant):
    priced_merchant.payouts_automatic = False
    priced_merchant.save()
    days = [dt.date(2026, 11, 20) + dt.timedelta(days=i) for i in range(3)]
    for day in days:
        _capture(priced_merchant, f"txn_{day}", day=day)
        _settle(day)
    first = api_client.get("/v1/settlement_batches", {"limit": 2}).json()
    rest = api_client.get(
        "/v1/settlement_batches", {"limit": 2, "starting_after": first["data"][-1]["id"]}
    ).json()
    assert [b["date"] for b in first["data"] + rest["data"]] == [
        "2026-11-22",
        "2026-11-21",
        "2026-11-20",
    ]
    assert (first["has_more"], rest["has_more"]) == (True, False)


def test_another_merchants_batch_is_not_found(api_client, other_merchant):
    _capture(other_merchant, "txn_other", day=dt.date(2026, 11, 24))
    [batch] = _settle(dt.date(2026, 11, 24)).batches
    assert batch.merchant == other_merchant
    for path in ("", "/lines", "/lines.csv"):
        response = api_client.get(f"/v1/settlement_batches/{batch.public_id}{path}")
        assert response.status_code == 404, path
        assert response.json()["error"]["code"] == "resource_missing"
    assert api_client.get("/v1/settlement_batches").json()["data"] == []


def test_a_live_batch_is_not_found_with_a_test_key(api_client, merchant):
    merchant.payouts_automatic = False
    merchant.save()
    _capture(merchant, "txn_live", day=dt.date(2026, 11, 24), livemode=True)
    [batch] = _settle(dt.date(2026, 11, 24)).batches
    assert batch.livemode is True and SettlementBatch.objects.count() == 1
    for path in ("", "/lines", "/lines.csv"):
        response = api_client.get(f"/v1/settlement_batches/{batch.public_id}{path}")
        assert response.status_code == 404, path
    assert api_client.get("/v1/settlement_batches").json()["data"] == []
