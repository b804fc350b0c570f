"""Settlement timing per method: virtual accounts are paid out T+1; cards, e-wallets and
QRIS T+2 (the merchant's payout_delay_days); a batch waits for its slowest method."""

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from merchants.models import BankAccount
from merchants.services import merchant_create
from settlement.services.batches import settlement_run
from settlement.services.ledger import ledger_post_capture

JAKARTA = ZoneInfo("Asia/Jakarta")
MONDAY = dt.datetime(2026, 11, 23, 10, 0, tzinfo=JAKARTA)  # a working week, no holidays


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("methods", "arrival"),
    [
        (["bank_transfer"], dt.date(2026, 11, 24)),
        (["card"], dt.date(2026, 11, 25)),
        (["gopay", "qris"], dt.date(2026, 11, 25)),
        (["bank_transfer", "ovo"], dt.date(2026, 11, 25)),
    ],
)
def test_a_batchs_payout_arrives_after_its_slowest_methods_delay(methods, arrival):
    merchant = merchant_create(name="Toko")
    BankAccount.objects.create(
        merchant=merchant, currency="idr", bank_code="bca", account_number="1234567890",
        account_holder_name="Toko",
    )  # fmt: skip
    for n, method in enumerate(methods):
        ledger_post_capture(
            merchant=merchant, livemode=False, currency="idr", amount=1_000_000,
            payment_method_type=method, source=f"ch_{n}", reference=f"txn_{n}", at=MONDAY,
        )  # fmt: skip
    result = settlement_run(now=MONDAY + dt.timedelta(hours=14, minutes=5), merchant=merchant)
    [payout] = result.payouts
    assert payout.arrival_date == arrival
