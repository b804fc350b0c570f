"""The demo merchant of a fresh install (`manage.py demo_merchant`) can pay out: it has a
sandbox bank account that the sandbox bank pays, set once and left alone afterwards."""

import datetime as dt
import io

from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone

from merchants.models import BankAccount
from merchants.services import bank_account_set, demo_merchant_ensure
from sandbox.bank import FAILING_ACCOUNTS
from sandbox.models import BankPayout
from settlement.models import Payout
from tests.dashboard.conftest import enable_totp, pay


def test_the_demo_merchant_gets_one_sandbox_bank_account_that_the_bank_pays(db):
    call_command("demo_merchant", "--json", stdout=io.StringIO())
    call_command("demo_merchant", "--json", stdout=io.StringIO())
    demo = demo_merchant_ensure()
    [account] = BankAccount.objects.filter(merchant=demo.merchant)
    assert (account.currency, account.bank_code) == ("idr", "bca")
    assert account.account_number not in FAILING_ACCOUNTS
    assert account.account_holder_name == "Demo Store"


def test_a_bank_account_the_demo_owner_set_is_kept(db):
    demo = demo_merchant_ensure()
    bank_account_set(
        merchant=demo.merchant, currency="idr", bank_code="bni", account_number="55554444",
        account_holder_name="Toko Demo",
    )  # fmt: skip
    demo_merchant_ensure()
    [account] = BankAccount.objects.filter(merchant=demo.merchant)
    assert (account.bank_code, account.account_number) == ("bni", "55554444")


def test_the_demo_owner_makes_a_payout_from_the_dashboard_and_the_bank_pays_it(client, db):
    from merchants.models import PricingPlan, PricingRate
    from settlement.services.batches import settlement_run
    from settlement.services.payouts import payout_cancel, payout_send

    demo = demo_merchant_ensure()
    plan = PricingPlan.objects.create(name="Demo plan")
    PricingRate.objects.create(
        plan=plan, payment_method_type="card", currency="idr", percent_bps=200
    )
    demo.merchant.pricing_plan = plan
    demo.merchant.save(update_fields=["pricing_plan"])
    pay(demo.merchant, 150_000)
    settlement_run(now=timezone.now() + dt.timedelta(days=1), merchant=demo.merchant)
    for automatic in Payout.objects.filter(merchant=demo.merchant, status="pending"):
        payout_cancel(payout=automatic)  # its money is available for a manual payout
    owner = demo.merchant.memberships.get().user
    enable_totp(owner)
    client.force_login(owner)

    response = client.post(
        reverse("dashboard:payout-create"), {"amount": "1000", "currency": "idr"}, follow=True
    )
    body = response.content.decode()
    assert "no bank account" not in body
    manual = Payout.objects.get(merchant=demo.merchant, automatic=False)
    assert f"Payout {manual.public_id} created" in body
    assert payout_send(payout_pk=manual.pk).status == "paid"
    assert BankPayout.objects.get().amount == 100_000
    page = client.get(reverse("dashboard:payout-detail", args=[manual.public_id]))
    assert '<span class="badge paid" id="payout-status">Paid</span>' in page.content.decode()
