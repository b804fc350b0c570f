"""Payouts: sent to the sandbox bank on their date, paid or failed (money back to
available), manual payouts from the available balance, cancel while pending, events."""

import datetime as dt

import pytest
from django.utils import timezone

from merchants.models import BankAccount
from payments.models import Transaction
from sandbox.models import BankPayout
from settlement.models import Payout
from settlement.services.batches import settlement_run
from settlement.services.ledger import merchant_balances
from settlement.services.payouts import payout_resolve, payouts_send_due
from tests.settlement.conftest import pay
from webhooks.models import Event


def _account(merchant, number="1234567890"):
    return BankAccount.objects.create(
        merchant=merchant,
        currency="idr",
        bank_code="bca",
        account_number=number,
        account_holder_name="Toko Kopi",
    )


def _settled_payout(merchant, amount: int = 100_000) -> Payout:
    pay(merchant, amount)
    [payout] = settlement_run(now=timezone.now() + dt.timedelta(days=1)).payouts
    return payout


def _send_on_arrival(payout: Payout) -> Payout:
    arrival = dt.datetime.combine(payout.arrival_date, dt.time(12), tzinfo=dt.UTC)
    assert payouts_send_due(now=arrival - dt.timedelta(days=2)) == 0  # not due yet
    assert payouts_send_due(now=arrival) == 1
    payout.refresh_from_db()
    return payout


def _event_types(payout: Payout) -> list[str]:
    return list(
        Event.objects.filter(object_id=payout.public_id)
        .order_by("id")
        .values_list("type", flat=True)
    )


def test_a_payout_is_sent_on_its_arrival_date_and_paid(priced_merchant):
    _account(priced_merchant)
    payout = _send_on_arrival(_settled_payout(priced_merchant))
    assert payout.status == "paid"
    assert _event_types(payout) == ["payout.created", "payout.updated", "payout.paid"]
    txn = Transaction.objects.get(public_id=payout.transaction_reference)
    assert (txn.kind, txn.status, txn.amount) == ("payout", "succeeded", payout.amount)
    assert BankPayout.objects.get(reference=txn.public_id).status == "paid"
    assert merchant_balances(merchant=priced_merchant, livemode=False)["idr"] == {
        "pending": 0,
        "available": 0,
        "in_transit": 0,
        "paid_out": payout.amount,
    }


def test_a_payout_to_a_closed_account_fails_and_its_money_returns_to_available(
    priced_merchant,
):
    _account(priced_merchant, number="000123456789")
    payout = _send_on_arrival(_settled_payout(priced_merchant))
    assert (payout.status, payout.failure_code) == ("failed", "account_closed")
    assert _event_types(payout) == ["payout.created", "payout.updated", "payout.failed"]
    failure = payout.failure_balance_transaction
    assert (failure.type, failure.amount, failure.source) == (
        "payout_failure",
        payout.amount,
        payout.public_id,
    )
    balances = merchant_balances(merchant=priced_merchant, livemode=False)["idr"]
    assert (balances["available"], balances["in_transit"]) == (payout.amount, 0)


def test_resolving_a_payout_the_bank_never_received_sends_it_once_under_the_same_reference(
    priced_merchant,
):
    _account(priced_merchant)
    payout = _settled_payout(priced_merchant)
    # As if the process died after phase 1: in transit, no answer recorded.
    Payout.objects.filter(pk=payout.pk).update(status="in_transit", transaction_reference="txn_x")
    payout_resolve(payout_pk=payout.pk)
    payout_resolve(payout_pk=payout.pk)
    payout.refresh_from_db()
    assert payout.status == "paid"
    assert BankPayout.objects.filter(reference="txn_x").count() == 1


def test_manual_payouts_take_only_what_is_available_and_cancel_returns_it(
    api_client, priced_merchant
):
    priced_merchant.payouts_automatic = False
    priced_merchant.save()
    _account(priced_merchant)
    pay(priced_merchant, 100_000)
    settlement_run(now=timezone.now() + dt.timedelta(days=1))

    too_much = api_client.post("/v1/payouts", {"amount": 97_901, "currency": "idr"})
    assert too_much.status_code == 400
    assert too_much.json()["error"]["code"] == "balance_insufficient"

    created = api_client.post(
        "/v1/payouts",
        {"amount": 90_000, "currency": "idr", "description": "weekly", "metadata": {"k": "v"}},
    ).json()
    assert created["object"] == "payout" and created["status"] == "pending"
    assert (created["amount"], created["automatic"], created["metadata"]) == (
        90_000,
        False,
        {"k": "v"},
    )
    assert created["destination"].startswith("ba_")
    bt = api_client.get(f"/v1/balance_transactions/{created['balance_transaction']}").json()
    assert (bt["type"], bt["amount"], bt["source"]) == ("payout", -90_000, created["id"])
    assert api_client.get("/v1/balance").json()["available"][0]["amount"] == 7_900

    canceled = api_client.post(f"/v1/payouts/{created['id']}/cancel").json()
    assert canceled["status"] == "canceled"
    assert api_client.get("/v1/balance").json()["available"][0]["amount"] == 97_900
    again = api_client.post(f"/v1/payouts/{created['id']}/cancel")
    assert again.status_code == 400
    assert again.json()["error"]["code"] == "payout_not_cancelable"

    listed = api_client.get("/v1/payouts").json()
    assert [p["id"] for p in listed["data"]] == [created["id"]]
    assert api_client.get(f"/v1/payouts/{created['id']}").json()["status"] == "canceled"


def test_a_payout_needs_a_bank_account_for_its_currency(api_client, priced_merchant):
    response = api_client.post("/v1/payouts", {"amount": 1, "currency": "idr"})
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "no_external_account"


def test_another_merchants_payout_is_missing(api_client, other_merchant):
    _account(other_merchant)
    payout = _settled_payout(other_merchant, 10_000_000)  # the default plan's fee is Rp2,000+
    response = api_client.get(f"/v1/payouts/{payout.public_id}")
    assert response.status_code == 404


def test_the_sandbox_bank_pays_a_repeated_reference_once():
    from sandbox.bank import BankClient

    request = {
        "reference": "txn_repeat",
        "amount": 5_000,
        "currency": "idr",
        "bank_code": "bca",
        "account_number": "42",
        "account_holder_name": "A",
    }
    client = BankClient()
    first = client.create_payout(request)
    second = client.create_payout({**request, "amount": 9_999})
    assert first == second
    assert BankPayout.objects.filter(reference="txn_repeat").count() == 1


pytestmark = pytest.mark.django_db
