"""Reads of payment objects, always scoped to one merchant and mode."""

import hmac

from django.db.models import QuerySet

from core.errors import ResourceMissingError
from core.prepared import Prepared
from merchants.models import Merchant
from payments.models import Charge, PaymentIntent, PaymentMethod, Refund


def _get(queryset: QuerySet, *, label: str, public_id: str, param: str = "id"):
    obj = queryset.filter(public_id=public_id).first()
    if obj is None:
        raise ResourceMissingError(f"No such {label}: '{public_id}'", param=param)
    return obj


def payment_intent_list(
    *, merchant: Merchant, livemode: bool, customer_pk: int | None = None
) -> QuerySet[PaymentIntent]:
    qs = PaymentIntent.objects.filter(merchant=merchant, livemode=livemode).select_related(
        "merchant", "payment_method", "customer", "latest_charge"
    )
    if customer_pk is not None:
        qs = qs.filter(customer_id=customer_pk)
    return qs


_INTENT = Prepared(
    lambda merchant_id, livemode, public_id: PaymentIntent.objects.filter(
        merchant_id=merchant_id, livemode=livemode, public_id=public_id
    ).select_related("payment_method", "customer", "latest_charge")[:1]
)


def payment_intent_get(*, merchant: Merchant, livemode: bool, public_id: str) -> PaymentIntent:
    # The merchant is the caller's (the API key's or the session's): not read again.
    intent = _INTENT.first(merchant_id=merchant.pk, livemode=livemode, public_id=public_id)
    if intent is None:
        raise ResourceMissingError(f"No such payment_intent: '{public_id}'", param="intent")
    intent.merchant = merchant
    return intent


def payment_intent_get_by_client_secret(
    *, merchant: Merchant, livemode: bool, public_id: str, client_secret: str
) -> PaymentIntent:
    intent = payment_intent_get(merchant=merchant, livemode=livemode, public_id=public_id)
    if not hmac.compare_digest(intent.client_secret, client_secret or ""):
        raise ResourceMissingError(f"No such payment_intent: '{public_id}'", param="intent")
    return intent


def charge_list(
    *,
    merchant: Merchant,
    livemode: bool,
    payment_intent_pk: int | None = None,
    customer_pk: int | None = None,
) -> QuerySet[Charge]:
    qs = Charge.objects.filter(merchant=merchant, livemode=livemode).select_related(
        "merchant", "payment_intent", "payment_intent__customer", "payment_method"
    )
    if payment_intent_pk is not None:
        qs = qs.filter(payment_intent_id=payment_intent_pk)
    if customer_pk is not None:
        qs = qs.filter(payment_intent__customer_id=customer_pk)
    return qs


def charge_get(*, merchant: Merchant, livemode: bool, public_id: str, param: str = "id") -> Charge:
    return _get(
        charge_list(merchant=merchant, livemode=livemode),
        label="charge",
        public_id=public_id,
        param=param,
    )


def refund_list(
    *,
    merchant: Merchant,
    livemode: bool,
    charge_pk: int | None = None,
    payment_intent_pk: int | None = None,
) -> QuerySet[Refund]:
    qs = Refund.objects.filter(merchant=merchant, livemode=livemode).select_related(
        "merchant", "charge", "payment_intent"
    )
    if charge_pk is not None:
        qs = qs.filter(charge_id=charge_pk)
    if payment_intent_pk is not None:
        qs = qs.filter(payment_intent_id=payment_intent_pk)
    return qs


def refund_get(*, merchant: Merchant, livemode: bool, public_id: str) -> Refund:
    return _get(
        refund_list(merchant=merchant, livemode=livemode),
        label="refund",
        public_id=public_id,
        param="refund",
    )


def payment_method_list(
    *, merchant: Merchant, livemode: bool, customer_pk: int | None = None, type: str | None = None
) -> QuerySet[PaymentMethod]:
    qs = PaymentMethod.objects.filter(merchant=merchant, livemode=livemode).select_related(
        "customer"
    )
    if customer_pk is not None:
        qs = qs.filter(customer_id=customer_pk)
    if type:
        qs = qs.filter(type=type)
    return qs


def payment_method_get(*, merchant: Merchant, livemode: bool, public_id: str) -> PaymentMethod:
    return _get(
        payment_method_list(merchant=merchant, livemode=livemode),
        label="PaymentMethod",
        public_id=public_id,
        param="payment_method",
    )
