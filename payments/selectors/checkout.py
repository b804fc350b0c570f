"""Reads of checkout sessions: scoped to one merchant and mode for the API; by the
unguessable public id alone for the hosted page (the id is the customer's capability)."""

from django.db.models import QuerySet

from core.errors import ResourceMissingError
from merchants.models import Merchant
from payments.models import CheckoutSession


def checkout_session_list(
    *,
    merchant: Merchant,
    livemode: bool,
    status: str | None = None,
    payment_intent: str | None = None,
) -> QuerySet[CheckoutSession]:
    qs = CheckoutSession.objects.filter(merchant=merchant, livemode=livemode).select_related(
        "merchant", "payment_intent"
    )
    if status:
        qs = qs.filter(status=status)
    if payment_intent:
        qs = qs.filter(payment_intent__public_id=payment_intent)
    return qs


def checkout_session_get(*, merchant: Merchant, livemode: bool, public_id: str) -> CheckoutSession:
    session = (
        checkout_session_list(merchant=merchant, livemode=livemode)
        .filter(public_id=public_id)
        .first()
    )
    if session is None:
        raise ResourceMissingError(f"No such checkout.session: '{public_id}'", param="session")
    return session


def checkout_session_for_page(*, public_id: str) -> CheckoutSession | None:
    return (
        CheckoutSession.objects.select_related("merchant", "payment_intent")
        .filter(public_id=public_id)
        .first()
    )
