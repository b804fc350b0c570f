"""Objects as the API renders them (Stripe's wire format). Events carry the same dicts."""

from payments.models import Charge, Customer, PaymentIntent, PaymentMethod, Refund


def ts(value) -> int | None:
    return int(value.timestamp()) if value else None


def _has(expand: set[str], name: str) -> bool:
    return name in expand


def render_customer(customer: Customer) -> dict:
    if customer.is_deleted:
        return {"id": customer.public_id, "object": "customer", "deleted": True}
    return {
        "id": customer.public_id,
        "object": "customer",
        "created": ts(customer.created_at),
        "livemode": customer.livemode,
        "email": customer.email or None,
        "name": customer.name or None,
        "phone": customer.phone or None,
        "description": customer.description or None,
        "metadata": dict(customer.metadata),
    }


def render_payment_method(pm: PaymentMethod) -> dict:
    billing = {"address": None, "email": None, "name": None, "phone": None}
    billing.update(pm.billing_details or {})
    body = {
        "id": pm.public_id,
        "object": "payment_method",
        "type": pm.type,
        "billing_details": billing,
        "created": ts(pm.created_at),
        "customer": pm.customer.public_id if pm.customer_id else None,
        "livemode": pm.livemode,
        "metadata": pm.metadata,
    }
    body[pm.type] = dict(pm.details)
    return body


def render_charge(charge: Charge, expand: set[str] = frozenset()) -> dict:
    intent = charge.payment_intent
    pm = charge.payment_method
    return {
        "id": charge.public_id,
        "object": "charge",
        "amount": charge.amount,
        "amount_captured": charge.amount_captured,
        "amount_refunded": charge.amount_refunded,
        "balance_transaction": None,
        "billing_details": render_payment_method(pm)["billing_details"],
        "calculated_statement_descriptor": intent.statement_descriptor or None,
        "captured": charge.captured,
        "created": ts(charge.created_at),
        "currency": charge.currency,
        "customer": intent.customer.public_id if intent.customer_id else None,
        "description": charge.description or None,
        "disputed": False,
        "failure_code": charge.failure_code or None,
        "failure_message": charge.failure_message or None,
        "livemode": charge.livemode,
        "metadata": charge.metadata,
        "outcome": charge.outcome,
        "paid": charge.status == "succeeded",
        "payment_intent": render_payment_intent(intent)
        if _has(expand, "payment_intent")
        else intent.public_id,
        "payment_method": pm.public_id,
        "payment_method_details": charge.payment_method_details,
        "receipt_email": intent.receipt_email or None,
        "refunded": charge.amount_captured > 0 and charge.amount_refunded >= charge.amount_captured,
        "status": charge.status,
    }


def render_payment_intent(intent: PaymentIntent, expand: set[str] = frozenset()) -> dict:
    latest = intent.latest_charge
    if _has(expand, "latest_charge") and latest is not None:
        latest_charge = render_charge(latest)
    else:
        latest_charge = latest.public_id if latest is not None else None
    if _has(expand, "payment_method") and intent.payment_method_id:
        payment_method = render_payment_method(intent.payment_method)
    else:
        payment_method = intent.payment_method.public_id if intent.payment_method_id else None
    customer = None
    if intent.customer_id:
        if _has(expand, "customer"):
            customer = render_customer(intent.customer)
        else:
            customer = intent.customer.public_id
    return {
        "id": intent.public_id,
        "object": "payment_intent",
        "amount": intent.amount,
        "amount_capturable": intent.amount_capturable,
        "amount_received": intent.amount_received,
        "automatic_payment_methods": None,
        "canceled_at": ts(intent.canceled_at),
        "cancellation_reason": intent.cancellation_reason or None,
        "capture_method": intent.capture_method,
        "client_secret": intent.client_secret,
        "confirmation_method": intent.confirmation_method,
        "created": ts(intent.created_at),
        "currency": intent.currency,
        "customer": customer,
        "description": intent.description or None,
        "last_payment_error": intent.last_payment_error,
        "latest_charge": latest_charge,
        "livemode": intent.livemode,
        "metadata": intent.metadata,
        "next_action": intent.next_action,
        "payment_method": payment_method,
        "payment_method_types": intent.payment_method_types,
        "receipt_email": intent.receipt_email or None,
        "return_url": intent.return_url or None,
        "statement_descriptor": intent.statement_descriptor or None,
        "status": intent.status,
    }


def render_refund(refund: Refund, expand: set[str] = frozenset()) -> dict:
    body = {
        "id": refund.public_id,
        "object": "refund",
        "amount": refund.amount,
        "charge": render_charge(refund.charge)
        if _has(expand, "charge")
        else refund.charge.public_id,
        "created": ts(refund.created_at),
        "currency": refund.currency,
        "failure_reason": refund.failure_reason or None,
        "livemode": refund.livemode,
        "metadata": refund.metadata,
        "payment_intent": refund.payment_intent.public_id,
        "reason": refund.reason or None,
        "status": refund.status,
    }
    if refund.destination:  # a virtual account or QRIS refund, paid by bank transfer
        from payments.services.local_refunds import render_destination_details

        body["destination_details"] = render_destination_details(refund)
    return body
