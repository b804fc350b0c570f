"""The gateway's fee on a payment, from the merchant's pricing plan (or the default plan)."""

from django.db.models import Case, IntegerField, Q, Value, When

from core.prepared import Prepared
from merchants.models import ANY, Merchant, PricingPlan, PricingRate


def pricing_plan_of(merchant: Merchant) -> PricingPlan | None:
    if merchant.pricing_plan_id is not None:
        return merchant.pricing_plan
    return PricingPlan.objects.filter(is_default=True).first()


def _rates(payment_method_type: str, currency: str):
    """Rates for the method (or any method) in the currency, the most specific first."""
    return (
        PricingRate.objects.filter(
            Q(payment_method_type=payment_method_type) | Q(payment_method_type=ANY),
            currency=currency,
        )
        .annotate(
            rank=Case(
                When(payment_method_type=ANY, then=Value(1)),
                default=Value(0),
                output_field=IntegerField(),
            )
        )
        .order_by("rank")
    )


def pricing_rate_for(
    *, plan: PricingPlan | None, payment_method_type: str, currency: str
) -> PricingRate | None:
    """The most specific rate: method and currency, then any method in the currency."""
    if plan is None:
        return None
    return _rates(payment_method_type, currency).filter(plan=plan).first()


def fee_amount(*, amount: int, percent_bps: int, fixed_amount: int) -> int:
    """bps of the amount, rounded half up, plus the fixed part; never more than the amount."""
    fee = (amount * percent_bps + 5_000) // 10_000 + fixed_amount
    return max(0, min(fee, amount))


# The rate for a capture, with its plan: the merchant's plan, or the default plan.
_RATE_OF_PLAN = Prepared(
    lambda plan_id, method, currency: (
        _rates(method, currency).filter(plan_id=plan_id).select_related("plan")[:1]
    )
)
_RATE_OF_DEFAULT_PLAN = Prepared(
    lambda method, currency: (
        _rates(method, currency).filter(plan__is_default=True).select_related("plan")[:1]
    )
)


def pricing_fee(
    *, merchant: Merchant, payment_method_type: str, currency: str, amount: int
) -> tuple[int, PricingPlan | None]:
    """(fee in minor units, the plan that priced it). No matching rate: no fee.

    One query when a rate matches (the rate with its plan): this runs in every capture."""
    if merchant.pricing_plan_id is not None:
        rate = _RATE_OF_PLAN.first(
            plan_id=merchant.pricing_plan_id, method=payment_method_type, currency=currency
        )
    else:
        rate = _RATE_OF_DEFAULT_PLAN.first(method=payment_method_type, currency=currency)
    if rate is None:
        return 0, pricing_plan_of(merchant)
    plan = rate.plan
    return fee_amount(
        amount=amount, percent_bps=rate.percent_bps, fixed_amount=rate.fixed_amount
    ), plan
