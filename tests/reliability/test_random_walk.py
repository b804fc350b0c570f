"""A seeded random walk over the HTTP API, with injected processor faults.

The merchant's side goes over HTTP to a live server, as an integration would: form-encoded
bodies with the secret test key and an Idempotency-Key on every POST (tests/reliability/
walk_client.py). Each step picks an action at random: create a payment intent, confirm
it with a good or a declining card, capture, cancel, refund, pay with a local method
(GoPay, OVO, DANA, ShopeePay, QRIS, bank transfer to a virtual account); re-send an
earlier POST with its key and body (a network retry: it must replay, never charge or
refund twice) or with its key and another body (400 idempotency_error, nothing changes).
Declines and actions in the wrong state are part of the walk: Stripe-shaped 4xx answers,
never a 5xx. The outside world acts directly: the customer pays, declines or lets the
code expire in the sandbox's app or bank (the provider then calls back over HTTP, late,
twice or never when injected), settlement days pass, faults are injected at the card
network, late callbacks are sent and the gateway's poller inquires, as the beat does. The
walk ends with the recovery the beat runs (late callbacks, the poller, the inquiry of
unknown transactions). After it the invariants of DESIGN.md must hold whatever happened
on the way, and the API must tell the same story as the database. A failing seed is
printed; replay it with GATEWAY_WALK_SEED=<seed> (and GATEWAY_WALK_STEPS=<n>).
"""

import datetime as dt
import os
import random
from collections import defaultdict

import pytest
from django.db.models import Sum
from django.utils import timezone

from payments.models import (
    Charge,
    LocalPayment,
    PaymentIntent,
    Refund,
    RefundStatus,
    Transaction,
)
from payments.services.local_methods import local_payments_sweep
from payments.tasks import sweep_unknown_transactions
from sandbox import faults, providers
from sandbox.callbacks import callbacks_send_due
from sandbox.models import (
    Authorization,
    AuthorizationStatus,
    ProviderCallback,
    ProviderCallbackStatus,
    ProviderPayment,
)
from settlement.models import JournalEntry
from settlement.services.batches import settlement_run
from tests.reliability.walk_client import Exchange, WalkClient, stripe_shape_problems
from webhooks.models import Event, InboundCallback

pytestmark = pytest.mark.django_db(transaction=True)

SEEDS = [int(os.environ["GATEWAY_WALK_SEED"])] if "GATEWAY_WALK_SEED" in os.environ else [7, 2026]
STEPS = int(os.environ.get("GATEWAY_WALK_STEPS", "200"))
GOOD = ["pm_card_visa", "pm_card_mastercard", "pm_card_amex", "pm_card_jcb", "pm_card_discover"]
BAD = ["pm_card_chargeDeclined", "pm_card_chargeDeclinedInsufficientFunds"]
FAULTS = [("timeout", "authorize"), ("approve_then_timeout", "authorize"),
          ("server_error", "authorize"), ("approve_then_timeout", "capture"),
          ("timeout", "capture"), ("approve_then_timeout", "refund")]  # fmt: skip
CALLBACK_FAULTS = ["callback_late", "callback_duplicate", "callback_missing"]
LOCAL = {
    "gopay": {},
    "dana": {},
    "shopeepay": {},
    "qris": {},
    "ovo": {"ovo": {"phone": "+6281234567890"}},
    "bank_transfer": {"bank_transfer": {"bank": "bca"}},
}
# VA and QRIS payments are refunded by a transfer to the customer's bank account.
DESTINATION = {"bank": "bca", "account_number": "1234567890", "account_holder_name": "Budi"}
ACTIONS = (
    ["create", "create_confirmed", "confirm", "confirm", "capture", "cancel", "refund",
     "refund", "fault", "settle"]
    + ["pay_local", "pay_local", "customer", "customer", "customer", "callback_fault",
       "late_callbacks", "poll"]
    + ["retry", "retry", "retry_changed"]
)  # fmt: skip
INTENTS = "/v1/payment_intents"


def _world() -> tuple:
    """What a request may change: the rows that hold money, at the gateway and outside."""
    return (
        PaymentIntent.objects.count(),
        Charge.objects.count(),
        Refund.objects.count(),
        Transaction.objects.count(),
        Event.objects.count(),
        JournalEntry.objects.count(),
        Authorization.objects.count(),
        ProviderPayment.objects.count(),
        PaymentIntent.objects.aggregate(s=Sum("amount_received"))["s"],
        Charge.objects.aggregate(s=Sum("amount_refunded"))["s"],
    )


class Walk:
    def __init__(self, rng: random.Random, api: WalkClient):
        self.rng, self.api = rng, api
        self.cards: list[str] = []  # card payment intents' ids
        self.methods: dict[str, str] = {}  # every payment intent's id -> its method
        self.sent: list[Exchange] = []  # first sends of POSTs, for the retries
        self.log: list[str] = []
        self.replays = self.idempotency_errors = 0

    def post(self, path: str, params: dict) -> Exchange:
        exchange = self.api.post(path, params)
        assert exchange.status < 500, f"POST {path} {params} -> {exchange.status} {exchange.body}"
        self.sent.append(exchange)
        return exchange

    def create(self, amount: int, **params) -> str:
        exchange = self.post(INTENTS, {"amount": amount, "currency": "idr", **params})
        assert exchange.status == 200, exchange.body
        return exchange.body["id"]

    def run(self, steps: int) -> None:
        rng = self.rng
        day = timezone.now() - dt.timedelta(days=3)
        for _ in range(steps):
            action = rng.choice(ACTIONS)
            self.log.append(action)
            if action == "create" or (not self.cards and action != "pay_local"):
                amount = rng.randint(10, 500) * 1000
                capture_method = rng.choice(["automatic", "manual"])
                self.cards.append(self.create(amount, capture_method=capture_method))
                self.methods[self.cards[-1]] = "card"
            elif action == "create_confirmed":
                # Created and confirmed in one call: a decline is a 402 from the create.
                params = {"amount": rng.randint(10, 500) * 1000, "currency": "idr",
                          "payment_method": rng.choice(GOOD * 2 + BAD), "confirm": True,
                          "capture_method": rng.choice(["automatic", "manual"])}  # fmt: skip
                exchange = self.post(INTENTS, params)
                intent = exchange.body if exchange.ok else exchange.error.get("payment_intent")
                assert intent, exchange.body  # a created intent, or the declined one
                self.cards.append(intent["id"])
                self.methods[intent["id"]] = "card"
            elif action == "confirm":
                token = rng.choice(GOOD * 2 + BAD)
                # The merchant confirms what it just created, or any of its intents.
                intent_id = rng.choice([self.cards[-1], rng.choice(self.cards)])
                self.post(f"{INTENTS}/{intent_id}/confirm", {"payment_method": token})
            elif action == "capture":
                intent_id = rng.choice(self.cards)
                intent = self.api.get(f"{INTENTS}/{intent_id}").body
                params = rng.choice(
                    [{}, {"amount_to_capture": max(1, intent["amount_capturable"] // 2)}]
                )
                self.post(f"{INTENTS}/{intent_id}/capture", params)
            elif action == "cancel":
                self.post(f"{INTENTS}/{rng.choice(list(self.methods))}/cancel", {})
            elif action == "refund":
                # Half the time one the merchant's list shows paid; otherwise any.
                intent_id = rng.choice(list(self.methods))
                if rng.random() < 0.5:
                    listed = self.api.get(INTENTS, {"limit": 100}).body["data"]
                    paid = {i["id"] for i in listed if i["status"] == "succeeded"}
                    intent_id = rng.choice([i for i in self.methods if i in paid] or [intent_id])
                params: dict = {"payment_intent": intent_id}
                if amount := rng.choice([None, 1000, 7000]):
                    params["amount"] = amount
                if self.methods[intent_id] in ("bank_transfer", "qris"):
                    params["destination"] = DESTINATION
                self.post("/v1/refunds", params)
            elif action == "pay_local":
                method = rng.choice(sorted(LOCAL))
                self.log[-1] = f"pay_local:{method}"
                amount = rng.randint(20, 500) * 100_000
                intent_id = self.create(amount, payment_method_types=[method])
                self.methods[intent_id] = method
                self.post(
                    f"{INTENTS}/{intent_id}/confirm",
                    {"payment_method_data": {"type": method, **LOCAL[method]}},
                )
            elif action == "retry" and self.sent:
                self.retry(rng.choice(self.sent))
            elif action == "retry_changed" and self.sent:
                self.retry_changed(rng.choice(self.sent))
            elif action == "fault":
                kind, operation = rng.choice(FAULTS)
                faults.inject(kind, operation=operation)
            elif action == "settle":
                day += dt.timedelta(days=1)
                settlement_run(now=day + dt.timedelta(days=2))
            elif action == "customer":
                # The customer acts in the wallet app or the bank, on an open payment (or,
                # now and then, on one already ended: the provider refuses).
                payments = list(ProviderPayment.objects.order_by("pk"))
                if payments:
                    payment = rng.choice(payments)
                    outcome = rng.choice(["paid", "paid", "paid", "failed", "expired"])
                    self.log[-1] = f"customer:{outcome}"
                    providers.finish(payment.provider_reference, outcome, amount=payment.amount)
            elif action == "callback_fault":
                kind = rng.choice(CALLBACK_FAULTS)
                self.log[-1] = f"callback_fault:{kind}"
                faults.inject(kind, operation="callback")
            elif action == "late_callbacks":
                callbacks_send_due(now=timezone.now() + dt.timedelta(minutes=4))
            elif action == "poll":
                local_payments_sweep(now=timezone.now() + dt.timedelta(seconds=45))
        faults.clear()
        _recover()

    def retry(self, first: Exchange) -> None:
        """The merchant's network lost the answer: the same key and body again replay the
        first answer and change nothing."""
        before = _world()
        again = self.api.post(first.path, first.params, key=first.key)
        assert again.replayed, f"{first.key} {first.path} was not replayed: {again.body}"
        assert (again.status, again.body) == (first.status, first.body), first.key
        assert _world() == before, f"a replay of {first.key} {first.path} changed something"
        self.replays += 1

    def retry_changed(self, first: Exchange) -> None:
        """A key reused with another body: 400 idempotency_error, nothing changes."""
        before = _world()
        again = self.api.post(first.path, {**first.params, "metadata": {"walk": "changed"}},
                              key=first.key)  # fmt: skip
        assert (again.status, again.error.get("type")) == (400, "idempotency_error"), again.body
        assert not again.replayed
        assert _world() == before, f"a reuse of {first.key} with another body changed something"
        self.idempotency_errors += 1


def _recover() -> None:
    """What the beat runs after any crash or lost message: late callbacks are sent, the
    poller asks the providers about open payments, unknown processor transactions are
    inquired."""
    later = timezone.now() + dt.timedelta(minutes=5)
    callbacks_send_due(now=later)
    # Past the poller's interval since any poll of the walk, before any code expires.
    local_payments_sweep(now=timezone.now() + dt.timedelta(minutes=2))
    sweep_unknown_transactions(now_iso=later.isoformat())


def _check_api_answers(api: WalkClient) -> None:
    # Every answer was JSON in Stripe's shape; declines and wrong states are 4xx, never 5xx.
    server_errors = [e for e in api.exchanges if e.status >= 500]
    assert server_errors == [], [(e.method, e.path, e.params, e.body) for e in server_errors[:3]]
    problems = [p for e in api.exchanges for p in stripe_shape_problems(e)]
    assert problems == [], problems[:5]


def _check_api_tells_the_database(api: WalkClient, methods: dict[str, str]) -> None:
    """Each intent the walk made, read back over the API, as the database has it: status,
    amount received, and its refunds (never more than received)."""
    for intent_id in methods:
        answer = api.get(f"{INTENTS}/{intent_id}")
        assert answer.status == 200, answer.body
        intent = PaymentIntent.objects.get(public_id=intent_id)
        seen = (answer.body["status"], answer.body["amount_received"])
        assert seen == (intent.status, intent.amount_received), intent_id
        refunds = api.get("/v1/refunds", {"payment_intent": intent_id, "limit": 100})
        assert refunds.status == 200 and not refunds.body["has_more"], refunds.body
        listed = {r["id"]: (r["amount"], r["status"]) for r in refunds.body["data"]}
        stored = {
            r.public_id: (r.amount, r.status) for r in Refund.objects.filter(payment_intent=intent)
        }
        assert listed == stored, intent_id
        kept = sum(a for a, status in listed.values() if status not in ("failed", "canceled"))
        assert kept <= intent.amount_received, (
            f"{intent_id}: refunded {kept} of {intent.amount_received}"
        )


def _check_callbacks_came_over_http(base_url: str) -> None:
    """Every provider callback that was owed went out (none dropped by a fault is still due)
    and was answered 2xx by /hooks/ on the live server, over HTTP: the gateway kept the Host
    it was sent to."""
    unanswered = ProviderCallback.objects.exclude(status=ProviderCallbackStatus.DROPPED).exclude(
        last_http_status__range=(200, 299)
    )
    assert list(unanswered.values("event_id", "status", "last_http_status")) == []
    hosts = {
        c.headers.get("Host") for c in InboundCallback.objects.filter(connector="sandbox_local")
    }
    assert hosts == {base_url.removeprefix("http://")}, hosts


def _check_invariants() -> None:
    # Every journal sums to zero per currency.
    sums = JournalEntry.objects.values("journal_id", "currency").annotate(total=Sum("amount"))
    unbalanced = [row for row in sums if row["total"] != 0]
    assert unbalanced == [], f"unbalanced journals: {unbalanced[:5]}"

    # Refunds never exceed what was captured, per charge.
    for charge in Charge.objects.all():
        refunded = (
            Refund.objects.filter(charge=charge)
            .exclude(status__in=[RefundStatus.FAILED, RefundStatus.CANCELED])
            .aggregate(total=Sum("amount"))["total"]
            or 0
        )
        assert refunded <= charge.amount_captured, charge.public_id
        assert charge.amount_refunded == refunded, charge.public_id

    # Each object's events are in version order.
    versions: dict[str, list[int]] = defaultdict(list)
    for object_id, version in Event.objects.order_by("id").values_list(
        "object_id", "object_version"
    ):
        versions[object_id].append(version)
    for object_id, seen in versions.items():
        assert seen == sorted(seen), f"{object_id}: events out of version order {seen}"

    # The network never approved a payment twice: at most one approved authorization per
    # payment intent, and every approved one belongs to a charge the gateway knows.
    references = dict(
        Transaction.objects.filter(kind="authorize").values_list("public_id", "payment_intent_id")
    )
    approved = Authorization.objects.filter(
        status__in=[AuthorizationStatus.AUTHORIZED, AuthorizationStatus.CAPTURED]
    ).values_list("reference", flat=True)
    per_intent: dict[int, int] = defaultdict(int)
    for reference in approved:
        assert reference in references, f"the network approved an unknown reference {reference}"
        per_intent[references[reference]] += 1
    assert all(count == 1 for count in per_intent.values()), dict(per_intent)

    # Local methods: the provider took the money at most once per intent, and the intent
    # ends in the provider's truth (paid: succeeded with the amount; otherwise not paid).
    local_refs = dict(
        LocalPayment.objects.values_list("transaction__public_id", "payment_intent_id")
    )
    paid: dict[int, int] = defaultdict(int)
    for payment in ProviderPayment.objects.all():
        assert payment.reference in local_refs, f"unknown provider reference {payment.reference}"
        intent = PaymentIntent.objects.get(pk=local_refs[payment.reference])
        if payment.status == "paid":
            paid[intent.pk] += 1
            assert (intent.status, intent.amount_received) == ("succeeded", payment.amount), (
                f"{intent.public_id} is {intent.status} but {payment.provider_reference} was paid"
            )
    assert all(count == 1 for count in paid.values()), dict(paid)
    for local in LocalPayment.objects.filter(payment_intent__status="succeeded"):
        if local.charge.status == "succeeded":
            assert paid.get(local.payment_intent_id) == 1, (
                f"{local.payment_intent_id} succeeded but its provider was never paid"
            )

    # One success event per intent, however many callbacks and inquiries said so.
    succeeded = defaultdict(int)
    for object_id in Event.objects.filter(type="payment_intent.succeeded").values_list(
        "object_id", flat=True
    ):
        succeeded[object_id] += 1
    assert all(count == 1 for count in succeeded.values()), dict(succeeded)

    # What the gateway says was captured is what the network captured.
    captured = Charge.objects.aggregate(total=Sum("amount_captured"))["total"] or 0
    received = PaymentIntent.objects.aggregate(total=Sum("amount_received"))["total"] or 0
    assert captured == received


@pytest.fixture
def api(live_server, settings, merchant, api_key_for):
    # Links the gateway hands out, and the providers' callbacks, go to the live server.
    settings.GATEWAY_BASE_URL = live_server.url
    settings.GATEWAY_SANDBOX_CALLBACK_TRANSPORT = "http"
    return WalkClient(live_server.url, api_key_for(merchant))


@pytest.mark.slow
@pytest.mark.parametrize("seed", SEEDS)
def test_a_random_walk_over_the_api_with_faults_keeps_every_invariant(seed, api):
    walk = Walk(random.Random(seed), api)
    try:
        walk.run(STEPS)
        _check_invariants()
        _check_callbacks_came_over_http(api.base_url)
        _check_api_tells_the_database(api, walk.methods)
        _check_api_answers(api)
    except Exception as error:  # an unexpected answer may surface as a KeyError too
        raise AssertionError(
            f"random walk seed {seed} broke an invariant (replay: GATEWAY_WALK_SEED={seed} "
            f"GATEWAY_WALK_STEPS={STEPS}); actions: {' '.join(walk.log)}\n{error!r}"
        ) from error
    # The walk did real work, not only refused actions.
    log = walk.log
    assert PaymentIntent.objects.filter(status="succeeded").exists(), log
    assert Refund.objects.filter(status=RefundStatus.SUCCEEDED).exists(), log
    assert JournalEntry.objects.filter(journal__kind="settlement").exists(), log
    assert LocalPayment.objects.filter(payment_intent__status="succeeded").exists(), log
    statuses = api.statuses()
    assert any(s.startswith("402 ") for s in statuses), statuses
    assert statuses.get("400 payment_intent_unexpected_state"), statuses
    assert walk.replays and walk.idempotency_errors, log
    print(f"seed {seed}: {_summary(walk)}")  # the numbers of docs/reliability.md (pytest -s)


def _summary(walk: Walk) -> dict:
    callbacks = InboundCallback.objects.filter(connector="sandbox_local")
    log = walk.log
    return {
        "steps": len(log),
        "requests": len(walk.api.exchanges),
        "statuses": walk.api.statuses(),
        "replays": walk.replays,
        "idempotency_errors": walk.idempotency_errors,
        "intents": PaymentIntent.objects.count(),
        "succeeded": PaymentIntent.objects.filter(status="succeeded").count(),
        "card_authorizations": Authorization.objects.count(),
        "local_payments": ProviderPayment.objects.count(),
        "local_paid": ProviderPayment.objects.filter(status="paid").count(),
        "callbacks": callbacks.count(),
        "duplicate_callbacks": callbacks.filter(is_duplicate=True).count(),
        "late_or_missing_injected": sum(
            a in ("callback_fault:callback_late", "callback_fault:callback_missing") for a in log
        ),
        "card_faults_injected": log.count("fault"),
        "refunds_succeeded": Refund.objects.filter(status=RefundStatus.SUCCEEDED).count(),
        "settlement_journals": JournalEntry.objects.filter(journal__kind="settlement")
        .values("journal_id")
        .distinct()
        .count(),
        "inquiries": Transaction.objects.filter(kind="inquiry").count(),
    }
