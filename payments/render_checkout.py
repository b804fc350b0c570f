"""The checkout.session object as the API renders it (Stripe's wire format)."""

from django.conf import settings

from payments.models import CheckoutSession, CheckoutSessionStatus
from payments.render import render_payment_intent, ts

LINE_ITEM_EXPAND = ("line_items", "payment_intent")


def render_line_item(item: dict, currency: str) -> dict:
    return {
        "id": item["id"],
        "object": "item",
        "amount_discount": 0,
        "amount_subtotal": item["amount_total"],
        "amount_tax": 0,
        "amount_total": item["amount_total"],
        "currency": currency,
        "description": item["name"],
        "price": {
            "object": "price",
            "currency": currency,
            "type": "one_time",
            "unit_amount": item["unit_amount"],
            "product_data": {"name": item["name"]},
        },
        "quantity": item["quantity"],
    }


def render_line_items(
    session: CheckoutSession, items: list[dict] | None = None, has_more: bool = False
) -> dict:
    items = session.line_items if items is None else items
    return {
        "object": "list",
        "data": [render_line_item(item, session.currency) for item in items],
        "has_more": has_more,
        "url": f"/v1/checkout/sessions/{session.public_id}/line_items",
    }


def render_checkout_session(session: CheckoutSession, expand: set[str] = frozenset()) -> dict:
    intent = session.payment_intent
    if intent is not None and "payment_intent" in expand:
        payment_intent = render_payment_intent(intent)
    else:
        payment_intent = intent.public_id if intent is not None else None
    body = {
        "id": session.public_id,
        "object": "checkout.session",
        "amount_subtotal": session.amount_total,
        "amount_total": session.amount_total,
        "cancel_url": session.cancel_url or None,
        "client_reference_id": session.client_reference_id or None,
        "created": ts(session.created_at),
        "currency": session.currency,
        "customer_email": session.customer_email or None,
        "expires_at": ts(session.expires_at),
        "livemode": session.livemode,
        "metadata": dict(session.metadata),
        "mode": session.mode,
        "payment_intent": payment_intent,
        "payment_method_types": list(session.payment_method_types),
        "payment_status": session.payment_status,
        "status": session.status,
        "success_url": session.success_url,
        # As Stripe: the page's address while it can be paid, null afterwards.
        "url": f"{settings.GATEWAY_BASE_URL}/checkout/{session.public_id}"
        if session.status == CheckoutSessionStatus.OPEN
        else None,
    }
    if "line_items" in expand:
        body["line_items"] = render_line_items(session)
    return body
