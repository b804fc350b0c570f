"""Personas and helpers for settlement tests: payments made through the real payment
services and the sandbox card network, so the ledger postings under test are the real ones."""

import itertools

import pytest

from sandbox.cards import luhn_valid

_card_counter = itertools.count(1)


def fresh_card() -> str:
    """A Luhn-valid Indonesian-range Visa number no other payment used: its own issuer
    account (so no velocity or credit limit carries over between payments)."""
    body = f"4617{next(_card_counter):011d}"
    for check in range(10):
        if luhn_valid(body + str(check)):
            return body + str(check)
    raise AssertionError("unreachable")


def pay(merchant, amount: int, *, currency: str = "idr", manual: bool = False, capture=None):
    """A card payment: captured at once, or authorized (manual) and captured for `capture`
    (None: not captured). Returns the PaymentIntent."""
    from payments.services.payment_intents import (
        payment_intent_capture,
        payment_intent_confirm,
        payment_intent_create,
    )

    intent = payment_intent_create(
        merchant=merchant,
        livemode=False,
        amount=amount,
        currency=currency,
        capture_method="manual" if manual else "automatic",
    )
    intent = payment_intent_confirm(
        intent=intent,
        payment_method_data={
            "type": "card",
            "card": {"number": fresh_card(), "exp_month": 12, "exp_year": 2035, "cvc": "123"},
        },
    )
    if manual and capture is not None:
        intent = payment_intent_capture(intent=intent, amount_to_capture=capture)
    return intent


def refund(intent, amount: int | None = None):
    from payments.services.refunds import refund_create

    return refund_create(payment_intent=intent, amount=amount)


@pytest.fixture
def flat_plan(db):
    """A plan easy to check by hand: 2 % + 100 on idr cards, fees returned on refunds."""
    from merchants.models import PricingPlan, PricingRate

    plan = PricingPlan.objects.create(name="Flat test plan", refund_returns_fee=True)
    PricingRate.objects.create(
        plan=plan, payment_method_type="card", currency="idr", percent_bps=200, fixed_amount=100
    )
    return plan


@pytest.fixture
def priced_merchant(merchant, flat_plan):
    merchant.pricing_plan = flat_plan
    merchant.save(update_fields=["pricing_plan"])
    return merchant
