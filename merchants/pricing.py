"""The gateway's fee on a payment, from the merchant's pricing plan (or the default plan)."""

from django.db.models import Case, IntegerField, Q, Value, When

from merchants.models import ANY, Merchant, PricingPlan, PricingRate


def pricing_plan_of(merchant: Merchant) -> PricingPlan | None:
    if merchant.pricing_plan_id is not None:
        return merchant.pricing_plan
    return PricingPlan.objects.filter(is_default=True).first()


def pricing_rate_for(
    *, plan: PricingPlan | None, payment_method_type: str, currency: str
) -> PricingRate | None:
    """The most specific rate: method and currency, then any method in the currency."""
    if plan is None:
        return None
    return (
        PricingRate.objects.filter(
            Q(payment_method_type=payment_method_type) | Q(payment_method_type=ANY),
            plan=plan,
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
        .first()
    )


def fee_amount(*, amount: int, percent_bps: int, fixed_amount: int) -> int:
    """bps of the amount, rounded half up, plus the fixed part; never more than the amount."""
    fee = (amount * percent_bps + 5_000) // 10_000 + fixed_amount
    return max(0, min(fee, amount))


def pricing_fee(
    *, merchant: Merchant, payment_method_type: str, currency: str, amount: int
) -> tuple[int, PricingPlan | None]:
    """(fee in minor units, the plan that priced it). No matching rate: no fee."""
    plan = pricing_plan_of(merchant)
    rate = pricing_rate_for(plan=plan, payment_method_type=payment_method_type, currency=currency)
    if rate is None:
        return 0, plan
    return fee_amount(
        amount=amount, percent_bps=rate.percent_bps, fixed_amount=rate.fixed_amount
    ), plan
