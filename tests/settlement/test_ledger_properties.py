"""Property: whatever sequence of payments, partial captures, refunds, settlements and
payouts a merchant goes through (driven through the real services, so the real postings are
what is tested):

- every journal sums to zero in each currency;
- each balance equals the sum of the balance transactions it holds;
- available + pending + in transit + paid out + fees = captured - refunded.
"""

import datetime as dt

import pytest
from django.db import connection
from django.db.models import Sum
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from core.errors import InvalidRequestError
from merchants.models import BankAccount, PricingPlan, PricingRate
from merchants.services import merchant_create
from payments.models import Charge, Refund
from settlement.models import BalanceTransaction, JournalEntry, Payout
from settlement.services.batches import settlement_run
from settlement.services.ledger import merchant_balances, merchant_fee_totals
from settlement.services.payouts import payout_cancel, payout_create, payout_send
from tests.settlement.conftest import pay, refund

amounts = st.integers(min_value=1_000, max_value=2_000_000)
fractions = st.floats(min_value=0.05, max_value=1.0)
operations = st.one_of(
    st.tuples(st.just("pay"), amounts),
    st.tuples(st.just("authorize_and_capture_part"), amounts, fractions),
    st.tuples(st.just("refund"), st.integers(min_value=0, max_value=20), fractions),
    st.tuples(st.just("settle")),
    st.tuples(st.just("payout"), fractions),
    st.tuples(st.just("send_payouts")),
    st.tuples(st.just("cancel_payout")),
)


def _merchant(returns_fee: bool, failing_bank: bool, automatic: bool):
    merchant = merchant_create(name="Property Store")
    plan = PricingPlan.objects.create(
        name=f"plan {merchant.public_id}", refund_returns_fee=returns_fee
    )
    PricingRate.objects.create(
        plan=plan, payment_method_type="card", currency="idr", percent_bps=290, fixed_amount=500
    )
    merchant.pricing_plan = plan
    merchant.payouts_automatic = automatic
    merchant.save()
    BankAccount.objects.create(
        merchant=merchant,
        currency="idr",
        bank_code="bca",
        account_number="000123456789" if failing_bank else "1234567890",
        account_holder_name="Property Store",
    )
    return merchant


def _run(merchant, ops) -> None:
    intents = []
    settlements = 0
    for op in ops:
        kind = op[0]
        if kind == "pay":
            intents.append(pay(merchant, op[1]))
        elif kind == "authorize_and_capture_part":
            intents.append(pay(merchant, op[1], manual=True, capture=max(1, int(op[1] * op[2]))))
        elif kind == "refund" and intents:
            intent = intents[op[1] % len(intents)]
            charge = Charge.objects.get(pk=intent.latest_charge_id)
            left = charge.amount_captured - charge.amount_refunded
            if left > 0:
                refund(intent, max(1, int(left * op[2])))
        elif kind == "settle":
            settlements += 1
            settlement_run(merchant=merchant, now=timezone.now() + dt.timedelta(days=settlements))
        elif kind == "payout":
            available = merchant_balances(merchant=merchant, livemode=False).get("idr", {})
            amount = int(available.get("available", 0) * op[1])
            if amount > 0:
                payout_create(merchant=merchant, livemode=False, amount=amount, currency="idr")
        elif kind == "send_payouts":
            for payout in Payout.objects.filter(merchant=merchant, status="pending"):
                payout_send(payout_pk=payout.pk)
        elif kind == "cancel_payout":
            payout = Payout.objects.filter(merchant=merchant, status="pending").last()
            if payout is not None:
                payout_cancel(payout=payout)


def _check(merchant) -> None:
    # 1. Every journal of the merchant sums to zero per currency (and PostgreSQL's deferred
    #    trigger agrees: run the checks now, inside the test's transaction).
    totals: dict = {}
    for entry in JournalEntry.objects.filter(journal__merchant=merchant):
        key = (entry.journal_id, entry.currency)
        totals[key] = totals.get(key, 0) + entry.amount
    assert all(total == 0 for total in totals.values()), totals
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
            cursor.execute("SET CONSTRAINTS ALL DEFERRED")

    # 2. Balances equal the balance transactions they hold.
    balances = merchant_balances(merchant=merchant, livemode=False).get("idr", {})
    bts = BalanceTransaction.objects.filter(merchant=merchant)

    def net(**filters) -> int:
        return bts.filter(**filters).aggregate(t=Sum("net"))["t"] or 0

    def payouts(*statuses) -> int:
        rows = Payout.objects.filter(merchant=merchant, status__in=statuses)
        return rows.aggregate(t=Sum("amount"))["t"] or 0

    assert balances.get("pending", 0) == net(status="pending")
    assert balances.get("available", 0) == net(status="available")
    assert balances.get("in_transit", 0) == payouts("pending", "in_transit")
    assert balances.get("paid_out", 0) == payouts("paid")

    # 3. Nothing created or lost: what the merchant holds at every stage plus the fees it
    #    paid is what was captured less what was refunded (from the payments tables).
    captured = (
        Charge.objects.filter(merchant=merchant).aggregate(t=Sum("amount_captured"))["t"] or 0
    )
    refunded = (
        Refund.objects.filter(merchant=merchant, status="succeeded").aggregate(t=Sum("amount"))["t"]
        or 0
    )
    fees = merchant_fee_totals(merchant=merchant, livemode=False).get("idr", 0)
    held = sum(balances.get(k, 0) for k in ("available", "pending", "in_transit", "paid_out"))
    assert held + fees == captured - refunded


@pytest.mark.slow
@settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    ops=st.lists(operations, min_size=1, max_size=14),
    returns_fee=st.booleans(),
    failing_bank=st.booleans(),
    automatic=st.booleans(),
)
def test_the_ledger_balances_and_conserves_money_over_any_sequence(
    db, ops, returns_fee, failing_bank, automatic
):
    merchant = _merchant(returns_fee, failing_bank, automatic)
    try:
        _run(merchant, ops)
    except InvalidRequestError as exc:  # pragma: no cover - the ops are built to be valid
        pytest.fail(f"an operation was refused: {exc.message}")
    _check(merchant)
