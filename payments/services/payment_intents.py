"""PaymentIntent lifecycle: create, update, confirm, capture, cancel (DESIGN.md §4).

Every processor call follows the three phases of STYLE.md: (1) one transaction locks the
intent, checks the transition, marks it processing and records a pending Transaction;
(2) the connector is called with no transaction open, under the Transaction's public id as
our reference; (3) one transaction records the answer, moves the state and writes events.
An unknown answer leaves the intent processing until `transaction_resolve` learns the
processor's truth by inquiry under the same reference; nothing is ever sent twice under a
new reference.
"""

import contextlib
import copy
import secrets
from dataclasses import dataclass
from datetime import timedelta
from urllib.parse import urlencode

from django.conf import settings
from django.core import signing
from django.db import transaction
from django.utils import timezone

from core import writes
from core.api.serializers import metadata_initial, metadata_merge
from core.errors import APIError, CardError, InvalidRequestError, StateConflictError
from core.money import validate_amount, validate_currency
from merchants.models import Merchant
from payments.connectors import get_connector
from payments.connectors.base import CardAuthorization, ConnectorResult, Outcome
from payments.models import (
    PAYMENT_INTENT_TRANSITIONS,
    CaptureMethod,
    Charge,
    ChargeStatus,
    Customer,
    PaymentIntent,
    PaymentIntentStatus,
    PaymentMethod,
    Transaction,
    TransactionKind,
    TransactionStatus,
)
from payments.render import render_charge, render_payment_intent
from payments.services.payment_methods import (
    payment_method_create_card,
    payment_method_record_card_facts,
    payment_method_resolve,
)
from settlement.services.ledger import ledger_post_capture
from webhooks.services import EventSpec, events_create

Status = PaymentIntentStatus
CONNECTOR = "sandbox"
# Uncaptured authorizations are released after this long (card networks hold them ~7 days).
AUTHORIZATION_VALIDITY = timedelta(days=7)
CANCELLATION_REASONS = {"duplicate", "fraudulent", "requested_by_customer", "abandoned"}


def _locked(intent_pk: int, known: PaymentIntent | None = None) -> PaymentIntent:
    """The intent under its row lock, with its relations.

    `known`: the same intent as this request read it a moment ago (the view's lookup, or
    what phase 1 committed). Every write to an intent goes through `_save`, which bumps
    its version, so when the locked row still has that version the row is what `known`
    holds and the read with joins is skipped.
    """
    # Lock, then read in a second statement. When a SELECT ... FOR UPDATE with joins waits
    # for the lock, PostgreSQL re-reads only the locked row: joined rows come from the
    # snapshot taken before the wait, so a payment method (or charge) that the transaction
    # we waited for created would read as None beside a set payment_method_id.
    version = (
        PaymentIntent.objects.select_for_update()
        .filter(pk=intent_pk)
        .values_list("version", flat=True)
        .get()
    )
    if known is not None and known.pk == intent_pk and known.version == version:
        return known
    return PaymentIntent.objects.select_related(
        "merchant", "payment_method", "customer", "latest_charge"
    ).get(pk=intent_pk)


def _locked_charge(charge_pk: int, intent: PaymentIntent) -> Charge:
    """The charge under its row lock, sharing the intent's already loaded relations (the
    events rendered later would otherwise load each of them again). It also becomes the
    intent's latest_charge object when it is that charge, so that what this change does
    to it shows in the intent's response (expand[]=latest_charge)."""
    return _adopt_charge(Charge.objects.select_for_update().get(pk=charge_pk), intent)


def _adopt_charge(charge: Charge, intent: PaymentIntent) -> Charge:
    charge.payment_intent = intent
    charge.merchant = intent.merchant
    if charge.payment_method_id == intent.payment_method_id:
        charge.payment_method = intent.payment_method
    if intent.latest_charge_id == charge.pk:
        intent.latest_charge = charge
    return charge


def _move(intent: PaymentIntent, status: str) -> None:
    if status != intent.status and status not in PAYMENT_INTENT_TRANSITIONS[intent.status]:
        raise StateConflictError(
            f"This PaymentIntent's status is {intent.status}; it cannot become {status}.",
        )
    intent.status = status


def _save(intent: PaymentIntent, *fields: str) -> None:
    intent.version += 1
    writes.save(intent, update_fields=[*fields, "version", "updated_at"])


def _intent_event(intent: PaymentIntent, type_: str, previous: dict | None = None) -> EventSpec:
    return EventSpec(
        type=f"payment_intent.{type_}",
        object_id=intent.public_id,
        object_version=intent.version,
        obj=render_payment_intent(intent),
        previous_attributes=previous,
    )


def _charge_event(charge: Charge, type_: str, previous: dict | None = None) -> EventSpec:
    return EventSpec(
        type=f"charge.{type_}",
        object_id=charge.public_id,
        object_version=charge.version,
        obj=render_charge(charge),
        previous_attributes=previous,
    )


def _emit(intent: PaymentIntent, *specs: EventSpec) -> None:
    """The events of one change, written together (one INSERT)."""
    events_create(merchant=intent.merchant, livemode=intent.livemode, specs=list(specs))


def _emit_intent(intent: PaymentIntent, type_: str, previous: dict | None = None) -> None:
    _emit(intent, _intent_event(intent, type_, previous))


def _emit_charge(charge: Charge, type_: str, previous: dict | None = None) -> None:
    events_create(
        merchant=charge.merchant,
        livemode=charge.livemode,
        specs=[_charge_event(charge, type_, previous)],
    )


def _unexpected_state(intent: PaymentIntent, action: str, allowed: str) -> StateConflictError:
    return StateConflictError(
        f"You cannot {action} this PaymentIntent because it has a status of {intent.status}. "
        f"Only a PaymentIntent with one of the following statuses may be {allowed}.",
        code="payment_intent_unexpected_state",
        extra={"payment_intent": render_payment_intent(intent)},
    )


# --- create / update ------------------------------------------------------------------


def payment_intent_create(
    *,
    merchant: Merchant,
    livemode: bool,
    amount: object,
    currency: object,
    capture_method: str = CaptureMethod.AUTOMATIC,
    payment_method_types: list[str] | None = None,
    customer: Customer | None = None,
    payment_method: PaymentMethod | None = None,
    description: str = "",
    receipt_email: str = "",
    statement_descriptor: str = "",
    metadata: dict | None = None,
    return_url: str = "",
) -> PaymentIntent:
    currency = validate_currency(currency)
    amount = validate_amount(amount, currency=currency)
    if capture_method not in CaptureMethod.values:
        raise InvalidRequestError(
            f"Invalid capture_method: must be one of {', '.join(CaptureMethod.values)}",
            code="parameter_invalid_string",
            param="capture_method",
        )
    with writes.write_batch(alone=True):  # the intent and its event: one statement
        intent = PaymentIntent(
            merchant=merchant,
            livemode=livemode,
            amount=amount,
            currency=currency,
            capture_method=capture_method,
            payment_method_types=payment_method_types or ["card"],
            customer=customer,
            payment_method=payment_method,
            status=Status.REQUIRES_CONFIRMATION
            if payment_method
            else Status.REQUIRES_PAYMENT_METHOD,
            description=description,
            receipt_email=receipt_email,
            statement_descriptor=statement_descriptor,
            metadata=metadata_initial(metadata),
            return_url=return_url,
        )
        # public_id is drawn when the object is built, so the secret is known before the
        # INSERT: one statement, not an insert and an update.
        intent.client_secret = f"{intent.public_id}_secret_{secrets.token_urlsafe(18)}"
        writes.insert(intent)
        _emit_intent(intent, "created")
    return intent


_UPDATABLE = {
    "amount",
    "currency",
    "description",
    "metadata",
    "receipt_email",
    "statement_descriptor",
    "customer",
    "payment_method",
    "payment_method_types",
    "capture_method",
}


def payment_intent_update(*, intent: PaymentIntent, changes: dict) -> PaymentIntent:
    """Update fields while the intent has not been confirmed. Metadata merges ("" unsets)."""
    with transaction.atomic():
        intent = _locked(intent.pk, known=intent)
        if intent.status not in (
            Status.REQUIRES_PAYMENT_METHOD,
            Status.REQUIRES_CONFIRMATION,
            Status.REQUIRES_ACTION,
        ) and set(changes) - {"metadata", "description"}:
            raise _unexpected_state(
                intent,
                "update",
                "updated: requires_payment_method, requires_confirmation, requires_action",
            )
        previous: dict = {}
        rendered_before = render_payment_intent(intent)
        currency = validate_currency(changes.get("currency", intent.currency))
        for field, value in changes.items():
            if field not in _UPDATABLE:
                continue
            if field == "metadata":
                value = metadata_merge(intent.metadata, value)
            elif field == "amount":
                value = validate_amount(value, currency=currency)
            elif field == "currency":
                value = currency
            if getattr(intent, field) != value:
                previous[field] = rendered_before.get(field)
                setattr(intent, field, value)
        if "payment_method" in changes and intent.payment_method_id:
            _move(intent, Status.REQUIRES_CONFIRMATION)
        if previous:
            _save(intent, *[f for f in _UPDATABLE if f in changes], "status")
            _emit_intent(intent, "updated", previous)
    return intent


# --- confirm --------------------------------------------------------------------------


@dataclass(frozen=True)
class _Attempt:
    intent: PaymentIntent  # as committed by phase 1
    charge: Charge
    transaction: Transaction  # its pk is set once phase 1's writes are sent


def payment_intent_confirm(
    *,
    intent: PaymentIntent,
    payment_method: str | None = None,
    payment_method_data: dict | None = None,
    return_url: str | None = None,
    customer_ip: str | None = None,
    capture_method: str | None = None,
    receipt_email: str | None = None,
) -> PaymentIntent:
    """Confirm: authorize (and capture, for automatic capture) the payment.

    Guarantees: one authorization per confirm, sent under the new Transaction's reference;
    a concurrent confirm of the same intent gets a state error, never a second charge; a
    decline raises CardError after the intent is back in requires_payment_method. The CVC,
    when given in payment_method_data, lives only in this call's memory.
    """
    from payments.services import local_methods

    if local_methods.confirms_locally(
        intent=intent, payment_method=payment_method, payment_method_data=payment_method_data
    ):  # e-wallets, virtual accounts, QRIS: requires_action until the provider says
        return local_methods.local_payment_confirm(
            intent=intent,
            payment_method_data=payment_method_data,
            return_url=return_url,
            capture_method=capture_method,
            receipt_email=receipt_email,
        )
    choices = {
        "payment_method": payment_method,
        "payment_method_data": payment_method_data,
        "return_url": return_url,
        "capture_method": capture_method,
        "receipt_email": receipt_email,
    }
    attempt = cvc = None
    if writes.one_statement():
        # Optimistic: checked against the intent as this request read it, and written in
        # one statement guarded by its version. Changed meanwhile, or refused: again under
        # the row lock, which gives the answer for the intent as it is now.
        try:
            with writes.write_batch(guard=_intent_guard(intent)):
                # on a copy: should it fail, `intent` is still the row as it was read
                attempt, cvc = _record_attempt(copy.copy(intent), lock=False, **choices)
        except (writes.GuardFailed, APIError):
            attempt = cvc = None
    if attempt is None:
        # A card given with the confirm is vaulted in phase 1's transaction: no orphan
        # payment method when the confirm is refused.
        with transaction.atomic(), writes.write_batch():
            attempt, cvc = _record_attempt(intent, lock=True, **choices)
    fresh = attempt.intent
    pm, merchant = fresh.payment_method, fresh.merchant
    request = CardAuthorization(
        reference=attempt.transaction.public_id,
        amount=fresh.amount,
        currency=fresh.currency,
        capture=fresh.capture_method != CaptureMethod.MANUAL,
        vault_card_id=pm.vault_card_id,
        exp_month=pm.details["exp_month"],
        exp_year=pm.details["exp_year"],
        cvc=cvc,
        merchant_id=merchant.public_id,
        merchant_name=merchant.name,
        merchant_country=merchant.country,
        customer_ip=customer_ip,
        customer_email=fresh.receipt_email or None,
        authentication_return_url=authentication_return_url(fresh),
    )
    del cvc
    result = get_connector(CONNECTOR).authorize(request)
    intent = apply_authorization_result(
        transaction_pk=attempt.transaction.pk, result=result, known=fresh, attempt=attempt
    )
    if intent.status == Status.REQUIRES_PAYMENT_METHOD and intent.last_payment_error:
        raise _card_error(intent)
    return intent


# The 3-D Secure return page hands the customer (and the client_secret) on to the
# merchant's return_url, so it answers only the URL the gateway gave the issuer: signed,
# for the challenge's lifetime and then some.
AUTHENTICATION_RETURN_SALT = "payments.authentication-return"
AUTHENTICATION_RETURN_MAX_AGE = timedelta(days=1)


def authentication_return_url(intent: PaymentIntent) -> str:
    token = signing.dumps(intent.public_id, salt=AUTHENTICATION_RETURN_SALT)
    return (
        f"{settings.GATEWAY_BASE_URL}/payments/authenticate/{intent.public_id}/return?"
        + urlencode({"token": token})
    )


def authentication_return_token_valid(*, intent_id: str, token: str) -> bool:
    try:
        signed = signing.loads(
            token, salt=AUTHENTICATION_RETURN_SALT, max_age=AUTHENTICATION_RETURN_MAX_AGE
        )
    except signing.BadSignature:
        return False
    return signed == intent_id


def _intent_guard(intent: PaymentIntent) -> tuple[str, list]:
    """The intent's row, locked, as long as it is the version this request read."""
    return (
        'SELECT 1 FROM "payments_paymentintent" WHERE "payments_paymentintent"."id" = %s'
        ' AND "payments_paymentintent"."version" = %s FOR UPDATE',
        [intent.pk, intent.version],
    )


def _record_attempt(
    intent: PaymentIntent,
    *,
    lock: bool,
    payment_method: str | None,
    payment_method_data: dict | None,
    return_url: str | None,
    capture_method: str | None,
    receipt_email: str | None,
) -> tuple["_Attempt", str | None]:
    """Phase 1 of confirm, in the caller's write batch: the payment method (vaulted when
    given as card data), the charge, the transaction and the intent moved to processing.
    `lock`: under the intent's row lock (else the caller's guard stands in for it).
    Returns the attempt and the CVC, which only this request's memory holds."""
    merchant, livemode = intent.merchant, intent.livemode
    cvc = pm = None
    if payment_method_data:
        pm, cvc = _payment_method_from_data(merchant, livemode, payment_method_data)
    elif payment_method:
        pm = payment_method_resolve(
            merchant=merchant, livemode=livemode, payment_method=payment_method
        )
    attempt = _begin_authorization(
        intent=intent,
        pm=pm,
        lock=lock,
        return_url=return_url,
        capture_method=capture_method,
        receipt_email=receipt_email,
    )
    return attempt, cvc


def _payment_method_from_data(merchant: Merchant, livemode: bool, data: dict):
    kind = data.get("type")
    if kind != "card":
        raise InvalidRequestError(
            "payment_method_data[type] must be card for this request.",
            code="parameter_invalid_string" if kind else "parameter_missing",
            param="payment_method_data[type]",
        )
    card = data.get("card")
    if not isinstance(card, dict):
        raise InvalidRequestError(
            "Missing required param: payment_method_data[card].",
            code="parameter_missing",
            param="payment_method_data[card]",
        )
    return payment_method_create_card(
        merchant=merchant,
        livemode=livemode,
        number=card.get("number"),
        exp_month=card.get("exp_month"),
        exp_year=card.get("exp_year"),
        cvc=card.get("cvc"),
        billing_details=data.get("billing_details") or {},
        metadata=data.get("metadata") or {},
        param_prefix="payment_method_data[card]",
    )


def _begin_authorization(
    *,
    intent: PaymentIntent,
    pm: PaymentMethod | None,
    lock: bool,
    return_url: str | None,
    capture_method: str | None,
    receipt_email: str | None,
) -> _Attempt:
    # savepoint=False: inside confirm's transaction a savepoint would cost two statements
    # and buy nothing (an error here rolls the whole confirm back anyway). Unlocked, the
    # caller's guarded batch is the transaction.
    with transaction.atomic(savepoint=False) if lock else contextlib.nullcontext():
        if lock:
            intent = _locked(intent.pk, known=intent)
        if intent.status not in (Status.REQUIRES_PAYMENT_METHOD, Status.REQUIRES_CONFIRMATION):
            raise _unexpected_state(
                intent, "confirm", "confirmed: requires_payment_method, requires_confirmation"
            )
        if pm is not None:
            intent.payment_method = pm
        if intent.payment_method is None:
            raise InvalidRequestError(
                "You cannot confirm this PaymentIntent because it's missing a payment method. "
                "Update it with a payment method, or confirm it again with payment_method.",
                code="payment_intent_unexpected_state",
                param="payment_method",
            )
        if intent.payment_method.type not in intent.payment_method_types:
            raise InvalidRequestError(
                f"The PaymentMethod provided ({intent.payment_method.type}) is not allowed for "
                f"this PaymentIntent. Allowed types: {', '.join(intent.payment_method_types)}.",
                code="payment_intent_incompatible_payment_method",
                param="payment_method",
            )
        if intent.payment_method.type != "card":
            raise InvalidRequestError(
                f"Payment method type {intent.payment_method.type} is not available yet.",
                param="payment_method",
            )
        if return_url is not None:
            intent.return_url = return_url
        if capture_method:
            if capture_method not in CaptureMethod.values:
                raise InvalidRequestError("Invalid capture_method.", param="capture_method")
            intent.capture_method = capture_method
        if receipt_email is not None:
            intent.receipt_email = receipt_email
        _move(intent, Status.PROCESSING)
        intent.last_payment_error = None
        intent.next_action = None
        charge = new_charge(intent, {"type": "card", "card": _card_details(intent.payment_method)})
        txn = _new_transaction(intent, charge, TransactionKind.AUTHORIZE, intent.amount)
        intent.latest_charge = charge
        _save(
            intent,
            "status",
            "payment_method",
            "return_url",
            "capture_method",
            "receipt_email",
            "last_payment_error",
            "next_action",
            "latest_charge",
        )
    return _Attempt(intent, charge, txn)


def new_charge(intent: PaymentIntent, payment_method_details: dict) -> Charge:
    """The charge of an attempt to pay the intent with its payment method (card or local
    method), in the caller's write batch or transaction."""
    return writes.insert(
        Charge(
            merchant=intent.merchant,
            livemode=intent.livemode,
            payment_intent=intent,
            payment_method=intent.payment_method,
            amount=intent.amount,
            currency=intent.currency,
            description=intent.description,
            metadata=intent.metadata,
            payment_method_details=payment_method_details,
        )
    )


def _new_transaction(
    intent: PaymentIntent,
    charge: Charge,
    kind: str,
    amount: int,
    parent: Transaction | None = None,
) -> Transaction:
    """The pending processor transaction of an attempt, in the caller's write batch."""
    return writes.insert(
        Transaction(
            merchant=intent.merchant,
            livemode=intent.livemode,
            kind=kind,
            connector=CONNECTOR,
            payment_intent=intent,
            charge=charge,
            amount=amount,
            currency=intent.currency,
            parent=parent,
        )
    )


def _card_details(pm: PaymentMethod) -> dict:
    d = pm.details
    return {
        "brand": d.get("brand"),
        "checks": d.get("checks"),
        "country": d.get("country"),
        "exp_month": d.get("exp_month"),
        "exp_year": d.get("exp_year"),
        "fingerprint": d.get("fingerprint"),
        "funding": d.get("funding"),
        "last4": d.get("last4"),
        "network": d.get("brand"),
        "authorization_code": None,
        "three_d_secure": None,
    }


def _record(txn: Transaction, result: ConnectorResult) -> None:
    status = {
        Outcome.SUCCEEDED: TransactionStatus.SUCCEEDED,
        Outcome.REQUIRES_ACTION: TransactionStatus.PENDING,
        Outcome.PENDING: TransactionStatus.PENDING,
        Outcome.DECLINED: TransactionStatus.FAILED,
        Outcome.TRANSIENT: TransactionStatus.FAILED,
        Outcome.UNKNOWN: TransactionStatus.UNKNOWN,
    }[result.outcome]
    txn.status = status
    txn.processor_reference = result.processor_reference or txn.processor_reference
    txn.response_code = result.decline_code or result.code or str(result.outcome)
    txn.response_message = (result.message or "")[:500]
    txn.latency_ms = result.latency_ms
    txn.raw = result.raw
    writes.save(
        txn,
        update_fields=[
            "status",
            "processor_reference",
            "response_code",
            "response_message",
            "latency_ms",
            "raw",
            "updated_at",
        ],
    )


_DECLINE_MESSAGES = {
    "insufficient_funds": "Your card has insufficient funds.",
    "lost_card": "Your card has been declined.",
    "stolen_card": "Your card has been declined.",
    "fraudulent": "Your card has been declined.",
    "generic_decline": "Your card has been declined.",
    "expired_card": "Your card has expired.",
    "incorrect_cvc": "Your card's security code is incorrect.",
    "processing_error": "An error occurred while processing your card. Try again in a little bit.",
    "authentication_failure": "We are unable to authenticate your payment method. Please choose "
    "a different payment method and try again.",
}


def _payment_error(intent: PaymentIntent, charge: Charge, result: ConnectorResult) -> dict:
    code = result.code or "card_declined"
    decline_code = result.decline_code
    if code == "card_declined" and not decline_code:
        decline_code = "generic_decline"
    message = (
        _DECLINE_MESSAGES.get(decline_code or "")
        or _DECLINE_MESSAGES.get(code.removeprefix("payment_intent_"))
        or result.message
        or "Your card has been declined."
    )
    error = {
        "type": "card_error",
        "code": code,
        "message": message,
        "charge": charge.public_id,
        "payment_method": _render_pm(intent.payment_method),
    }
    if decline_code:
        error["decline_code"] = decline_code
    return error


def _render_pm(pm: PaymentMethod) -> dict:
    from payments.render import render_payment_method

    return render_payment_method(pm)


def _card_error(intent: PaymentIntent) -> CardError:
    err = intent.last_payment_error
    return CardError(
        err["message"],
        code=err.get("code"),
        decline_code=err.get("decline_code"),
        extra={
            "charge": err.get("charge"),
            "payment_intent": render_payment_intent(intent),
            "payment_method": err.get("payment_method"),
        },
    )


def _outcome(result: ConnectorResult, charge: Charge) -> dict:
    approved = result.outcome == Outcome.SUCCEEDED
    level = result.risk_level or ("normal" if approved else "not_assessed")
    if result.decline_code == "fraudulent":
        kind = "blocked"
    elif approved:
        kind = "authorized"
    elif result.outcome == Outcome.DECLINED and result.network_status == "not_sent_to_network":
        kind = "invalid"
    else:
        kind = "issuer_declined"
    seller = {
        "authorized": "Payment complete.",
        "blocked": "The payment was blocked as likely fraudulent.",
        "issuer_declined": "The bank did not return any further details with this decline.",
        "invalid": "The payment could not be sent to the card network.",
    }[kind]
    return {
        "network_status": result.network_status
        or ("approved_by_network" if approved else "declined_by_network"),
        "reason": None if approved else (result.decline_code or result.code),
        "risk_level": level,
        "risk_score": result.risk_score,
        "seller_message": seller,
        "type": kind,
    }


# The answers phase 3 books in one guarded statement; the others (3-D Secure, unknown)
# take the locking path.
_BATCHED_OUTCOMES = (Outcome.SUCCEEDED, Outcome.DECLINED, Outcome.TRANSIENT)


def _attempt_guard(attempt: _Attempt) -> tuple[str, list]:
    """Phase 1's rows, locked, as long as no one changed them since: the transaction still
    pending, the intent and the charge at the versions phase 1 wrote."""
    return (
        'SELECT 1 FROM "payments_transaction"'
        ' JOIN "payments_paymentintent"'
        ' ON "payments_paymentintent"."id" = "payments_transaction"."payment_intent_id"'
        ' JOIN "payments_charge" ON "payments_charge"."id" = "payments_transaction"."charge_id"'
        ' WHERE "payments_transaction"."id" = %s AND "payments_transaction"."status" = %s'
        ' AND "payments_paymentintent"."version" = %s AND "payments_charge"."version" = %s'
        ' FOR UPDATE OF "payments_transaction", "payments_paymentintent", "payments_charge"',
        [
            attempt.transaction.pk,
            TransactionStatus.PENDING,
            attempt.intent.version,
            attempt.charge.version,
        ],
    )


def apply_authorization_result(
    *,
    transaction_pk: int,
    result: ConnectorResult,
    known: PaymentIntent | None = None,
    attempt: _Attempt | None = None,
) -> PaymentIntent:
    """Phase 3 of confirm, also used after 3-D Secure and by inquiry. Idempotent: a result
    for a transaction that is already final changes nothing. `known`: the intent as phase
    1 left it (see `_locked`). Its writes go to the database as one batch (core.writes).

    `attempt`: phase 1's rows as this request wrote them. On PostgreSQL an approval or a
    decline is then booked in one statement guarded by their versions (no reads, no
    locks held across statements); if anything changed them meanwhile, it is booked again
    under the row locks, as without `attempt`."""
    if attempt is not None and result.outcome in _BATCHED_OUTCOMES and writes.one_statement():
        guard = _attempt_guard(attempt)
        # copies: should the guard fail, the locking path starts from what it reads
        intent, charge, txn = (
            copy.copy(o) for o in (attempt.intent, attempt.charge, attempt.transaction)
        )
        try:
            with writes.write_batch(guard=guard):
                _adopt_charge(charge, intent)
                _apply_authorization(intent, charge, txn, result, first_posting=True)
            return intent
        except writes.GuardFailed:
            known = None
    with transaction.atomic(), writes.write_batch():
        txn = Transaction.objects.select_for_update().get(pk=transaction_pk)
        intent = _locked(txn.payment_intent_id, known=known)
        if txn.status in (TransactionStatus.SUCCEEDED, TransactionStatus.FAILED):
            return intent
        charge = _locked_charge(txn.charge_id, intent)
        _apply_authorization(intent, charge, txn, result)
    return intent


def _apply_authorization(
    intent: PaymentIntent,
    charge: Charge,
    txn: Transaction,
    result: ConnectorResult,
    *,
    first_posting: bool = False,
) -> None:
    _record(txn, result)
    if result.card:
        payment_method_record_card_facts(payment_method=intent.payment_method, card=result.card)
        details = dict(charge.payment_method_details)
        details["card"] = {
            **details["card"],
            **{k: v for k, v in result.card.items() if k in ("brand", "funding", "country")},
        }
        charge.payment_method_details = details

    if result.outcome == Outcome.REQUIRES_ACTION:
        _move(intent, Status.REQUIRES_ACTION)
        intent.next_action = result.next_action or {
            "type": "redirect_to_url",
            "redirect_to_url": {
                "url": result.redirect_url,
                "return_url": intent.return_url or None,
            },
        }
        writes.save(charge, update_fields=["payment_method_details", "updated_at"])
        _save(intent, "status", "next_action")
        _emit_intent(intent, "requires_action")
    elif result.outcome == Outcome.SUCCEEDED:
        _succeed_charge(intent, charge, result, txn, first_posting=first_posting)
    elif result.outcome in (Outcome.DECLINED, Outcome.TRANSIENT):
        if result.outcome == Outcome.TRANSIENT:
            result = ConnectorResult(
                outcome=Outcome.DECLINED,
                code="processing_error",
                decline_code="processing_error",
                network_status="not_sent_to_network",
                message=result.message,
            )
        charge.status = ChargeStatus.FAILED
        charge.failure_code = result.decline_code or result.code or "card_declined"
        charge.failure_message = _payment_error(intent, charge, result)["message"]
        charge.outcome = _outcome(result, charge)
        charge.version += 1
        writes.save(
            charge,
            update_fields=[
                "status",
                "failure_code",
                "failure_message",
                "outcome",
                "payment_method_details",
                "version",
                "updated_at",
            ],
        )
        previous_status = intent.status
        _move(intent, Status.REQUIRES_PAYMENT_METHOD)
        intent.next_action = None
        intent.last_payment_error = _payment_error(intent, charge, result)
        _save(intent, "status", "next_action", "last_payment_error")
        _emit(
            intent,
            _charge_event(charge, "failed"),
            _intent_event(intent, "payment_failed", {"status": previous_status}),
        )
    else:  # UNKNOWN or PENDING: stays processing; the inquiry learns the truth
        writes.save(charge, update_fields=["payment_method_details", "updated_at"])
        _schedule_inquiry(txn)


def _succeed_charge(
    intent: PaymentIntent,
    charge: Charge,
    result: ConnectorResult,
    txn: Transaction,
    *,
    first_posting: bool = False,
) -> None:
    manual = intent.capture_method == CaptureMethod.MANUAL
    charge.status = ChargeStatus.SUCCEEDED
    charge.outcome = _outcome(result, charge)
    charge.authorization_code = result.authorization_code or ""
    if "card" in charge.payment_method_details:  # local methods have no card facts
        card = dict(charge.payment_method_details["card"])
        card["authorization_code"] = result.authorization_code
        if result.redirect_url is None and intent.next_action:
            card["three_d_secure"] = {"result": "authenticated", "version": "2.2.0"}
        charge.payment_method_details = {**charge.payment_method_details, "card": card}
    if not manual:
        charge.captured = True
        charge.amount_captured = charge.amount
    charge.version += 1
    writes.save(
        charge,
        update_fields=[
            "status",
            "outcome",
            "authorization_code",
            "payment_method_details",
            "captured",
            "amount_captured",
            "version",
            "updated_at",
        ],
    )
    previous = {"status": intent.status}
    intent.next_action = None
    if manual:
        _move(intent, Status.REQUIRES_CAPTURE)
        intent.amount_capturable = charge.amount
        _save(intent, "status", "next_action", "amount_capturable")
        _emit(
            intent,
            _charge_event(charge, "succeeded"),
            _intent_event(intent, "amount_capturable_updated", previous),
        )
    else:
        _move(intent, Status.SUCCEEDED)
        intent.amount_received = charge.amount
        _save(intent, "status", "next_action", "amount_received")
        _after_capture(intent, charge, charge.amount, txn, first_posting=first_posting)
        _emit(
            intent, _charge_event(charge, "succeeded"), _intent_event(intent, "succeeded", previous)
        )
    if "checkout_session" in (intent.metadata or {}):  # what checkout marks its intents with
        # (without the mark, API payments pay no extra read; the sweeper completes any
        # session whose mark a merchant removed)
        from payments.services.checkout import checkout_session_complete_on_commit  # no cycle

        checkout_session_complete_on_commit(intent_pk=intent.pk)


def _after_capture(
    intent: PaymentIntent,
    charge: Charge,
    amount: int,
    capture: Transaction,
    *,
    first_posting: bool = False,
) -> None:
    """Book the capture in the ledger (gross, fee, net) in the capturing transaction, under
    our reference of the capture (the authorization's when captured at once).
    `first_posting`: the capture's transaction was still pending (held by the caller's
    lock or guard), so nothing can have been booked under its reference yet."""
    ledger_post_capture(
        merchant=intent.merchant,
        livemode=intent.livemode,
        currency=charge.currency,
        amount=amount,
        payment_method_type=charge.payment_method_details.get("type", "card"),
        source=charge.public_id,
        reference=capture.public_id,
        description=intent.description,
        first_posting=first_posting,
    )


def _schedule_inquiry(txn: Transaction) -> None:
    from payments.tasks import resolve_transaction

    # robust: the state is committed by now; a broker that is down (or, in eager mode, an
    # inquiry that cannot conclude yet) must not turn the answer into a 500. The sweeper
    # picks up any unknown transaction whose inquiry was never enqueued.
    writes.on_commit(
        lambda: resolve_transaction.apply_async(args=[txn.pk], countdown=2), robust=True
    )


# --- capture --------------------------------------------------------------------------


def payment_intent_capture(
    *, intent: PaymentIntent, amount_to_capture: object = None
) -> PaymentIntent:
    """Capture an authorized intent, fully or once partially (the rest is released).

    Racing a cancel, exactly one wins: both start by moving requires_capture to processing
    under the row lock, and the loser finds processing and gets a state error. Each phase's
    writes go as one batch (core.writes).
    """
    with transaction.atomic(), writes.write_batch():
        intent = _locked(intent.pk, known=intent)
        if intent.status != Status.REQUIRES_CAPTURE:
            raise _unexpected_state(intent, "capture", "captured: requires_capture")
        amount = intent.amount_capturable
        if amount_to_capture not in (None, ""):
            amount = validate_amount(
                amount_to_capture, currency=intent.currency, param="amount_to_capture"
            )
            if amount > intent.amount_capturable:
                raise InvalidRequestError(
                    f"The amount to capture ({amount}) is greater than the amount capturable "
                    f"({intent.amount_capturable}).",
                    code="amount_too_large",
                    param="amount_to_capture",
                )
        charge = Charge.objects.select_for_update().get(pk=intent.latest_charge_id)
        authorization = charge.transactions.filter(
            kind=TransactionKind.AUTHORIZE, status=TransactionStatus.SUCCEEDED
        ).first()
        _move(intent, Status.PROCESSING)
        _save(intent, "status")
        txn = _new_transaction(
            intent, charge, TransactionKind.CAPTURE, amount, parent=authorization
        )
    result = get_connector(CONNECTOR).capture(
        reference=txn.public_id,
        authorization_reference=authorization.processor_reference,
        amount=amount,
        currency=txn.currency,
    )
    intent = apply_capture_result(transaction_pk=txn.pk, result=result, known=intent)
    if intent.status == Status.REQUIRES_CAPTURE:
        raise InvalidRequestError(
            f"The capture could not be completed: {result.message or result.code or 'declined'}.",
            code="capture_failed",
        )
    return intent


def apply_capture_result(
    *, transaction_pk: int, result: ConnectorResult, known: PaymentIntent | None = None
) -> PaymentIntent:
    """Phase 3 of capture, also used by inquiry. Idempotent like apply_authorization_result;
    its writes go as one batch."""
    with transaction.atomic(), writes.write_batch():
        txn = Transaction.objects.select_for_update().get(pk=transaction_pk)
        intent = _locked(txn.payment_intent_id, known=known)
        if txn.status in (TransactionStatus.SUCCEEDED, TransactionStatus.FAILED):
            return intent
        _record(txn, result)
        charge = _locked_charge(txn.charge_id, intent)
        if result.outcome == Outcome.SUCCEEDED:
            charge.captured = True
            charge.amount_captured = txn.amount
            charge.is_released = txn.amount < charge.amount
            charge.version += 1
            writes.save(
                charge,
                update_fields=[
                    "captured",
                    "amount_captured",
                    "is_released",
                    "version",
                    "updated_at",
                ],
            )
            previous = {"status": intent.status, "amount_capturable": intent.amount_capturable}
            _move(intent, Status.SUCCEEDED)
            intent.amount_received = txn.amount
            intent.amount_capturable = 0
            _save(intent, "status", "amount_received", "amount_capturable")
            # the capture's transaction was pending under its lock: nothing booked under it
            _after_capture(intent, charge, txn.amount, txn, first_posting=True)
            _emit(
                intent,
                _charge_event(charge, "captured"),
                _intent_event(intent, "succeeded", previous),
            )
        elif result.outcome in (Outcome.DECLINED, Outcome.TRANSIENT):
            _move(intent, Status.REQUIRES_CAPTURE)
            _save(intent, "status")
        else:
            _schedule_inquiry(txn)
    return intent


# --- cancel ---------------------------------------------------------------------------


def payment_intent_cancel(
    *, intent: PaymentIntent, cancellation_reason: str | None = None
) -> PaymentIntent:
    """Cancel. An authorized (requires_capture) intent is voided at the processor first."""
    if cancellation_reason and cancellation_reason not in CANCELLATION_REASONS | {
        "automatic",
        "expired",
    }:
        raise InvalidRequestError(
            "Invalid cancellation_reason: must be one of duplicate, fraudulent, "
            "requested_by_customer or abandoned",
            code="parameter_invalid_string",
            param="cancellation_reason",
        )
    from payments.services import local_methods

    if local := local_methods.awaiting_customer(intent):  # closed at the provider first
        return local_methods.local_payment_cancel(
            local=local, cancellation_reason=cancellation_reason
        )
    cancelable = (
        Status.REQUIRES_PAYMENT_METHOD,
        Status.REQUIRES_CONFIRMATION,
        Status.REQUIRES_ACTION,
        Status.REQUIRES_CAPTURE,
    )
    with transaction.atomic():
        intent = _locked(intent.pk, known=intent)
        if intent.status not in cancelable:
            raise _unexpected_state(
                intent,
                "cancel",
                "canceled: requires_payment_method, "
                "requires_capture, requires_confirmation, requires_action",
            )
        if intent.status != Status.REQUIRES_CAPTURE:
            _finish_cancel(intent, cancellation_reason)
            return intent
        charge = Charge.objects.select_for_update().get(pk=intent.latest_charge_id)
        authorization = charge.transactions.filter(
            kind=TransactionKind.AUTHORIZE, status=TransactionStatus.SUCCEEDED
        ).first()
        _move(intent, Status.PROCESSING)
        intent.cancellation_reason = cancellation_reason or ""
        _save(intent, "status", "cancellation_reason")
        txn = Transaction.objects.create(
            merchant=intent.merchant,
            livemode=intent.livemode,
            kind=TransactionKind.VOID,
            connector=CONNECTOR,
            payment_intent=intent,
            charge=charge,
            amount=charge.amount,
            currency=charge.currency,
            parent=authorization,
        )
    result = get_connector(CONNECTOR).void(
        reference=txn.public_id, authorization_reference=authorization.processor_reference
    )
    intent = apply_void_result(transaction_pk=txn.pk, result=result, known=intent)
    if intent.status == Status.REQUIRES_CAPTURE:
        raise InvalidRequestError(
            "The authorization could not be released; try again.", code="cancel_failed"
        )
    return intent


def _finish_cancel(intent: PaymentIntent, reason: str | None) -> None:
    previous = {"status": intent.status}
    _move(intent, Status.CANCELED)
    intent.canceled_at = timezone.now()
    intent.cancellation_reason = reason or intent.cancellation_reason or ""
    intent.next_action = None
    intent.amount_capturable = 0
    _save(
        intent, "status", "canceled_at", "cancellation_reason", "next_action", "amount_capturable"
    )
    _emit_intent(intent, "canceled", previous)


def apply_void_result(
    *, transaction_pk: int, result: ConnectorResult, known: PaymentIntent | None = None
) -> PaymentIntent:
    with transaction.atomic():
        txn = Transaction.objects.select_for_update().get(pk=transaction_pk)
        intent = _locked(txn.payment_intent_id, known=known)
        if txn.status in (TransactionStatus.SUCCEEDED, TransactionStatus.FAILED):
            return intent
        _record(txn, result)
        if result.outcome == Outcome.SUCCEEDED:
            Charge.objects.filter(pk=txn.charge_id).update(is_released=True)
            _finish_cancel(intent, intent.cancellation_reason)
        elif result.outcome in (Outcome.DECLINED, Outcome.TRANSIENT):
            _move(intent, Status.REQUIRES_CAPTURE)
            intent.cancellation_reason = ""
            _save(intent, "status", "cancellation_reason")
        else:
            _schedule_inquiry(txn)
    return intent


def payment_intent_cancel_expired_authorizations(*, now=None, limit: int = 500) -> int:
    """Cancel (void) intents left uncaptured for AUTHORIZATION_VALIDITY. Returns the count."""
    cutoff = (now or timezone.now()) - AUTHORIZATION_VALIDITY
    ids = list(
        PaymentIntent.objects.filter(
            status=Status.REQUIRES_CAPTURE, created_at__lt=cutoff
        ).values_list("pk", flat=True)[:limit]
    )
    done = 0
    for pk in ids:
        try:
            payment_intent_cancel(intent=PaymentIntent(pk=pk), cancellation_reason="automatic")
            done += 1
        except (StateConflictError, InvalidRequestError):
            continue  # captured or canceled meanwhile, or the void will be retried next run
    return done


# --- recovery -------------------------------------------------------------------------

_APPLY = {
    TransactionKind.AUTHORIZE: apply_authorization_result,
    TransactionKind.CAPTURE: apply_capture_result,
    TransactionKind.VOID: apply_void_result,
}


def transaction_resolve(*, transaction_pk: int) -> str:
    """Ask the processor what became of a transaction we could not see the end of, and
    apply its answer. Same reference, never a new operation. Returns the new status."""
    from payments.services.refunds import apply_refund_result

    txn = Transaction.objects.get(pk=transaction_pk)
    if txn.status not in (TransactionStatus.UNKNOWN, TransactionStatus.PENDING):
        return txn.status
    result = get_connector(txn.connector).inquire(reference=txn.public_id)
    Transaction.objects.create(
        merchant_id=txn.merchant_id,
        livemode=txn.livemode,
        kind=TransactionKind.INQUIRY,
        connector=txn.connector,
        payment_intent_id=txn.payment_intent_id,
        charge_id=txn.charge_id,
        refund_id=txn.refund_id,
        parent=txn,
        status=TransactionStatus.FAILED
        if result.outcome == Outcome.TRANSIENT
        else TransactionStatus.SUCCEEDED,
        processor_reference=result.processor_reference or "",
        response_code=str(result.outcome),
        latency_ms=result.latency_ms,
        raw=result.raw,
    )
    # The network answers resource_missing when it never received the reference: nothing
    # happened, so the operation failed (applied like any transient failure). Any other
    # transient answer is about the inquiry itself: ask again later.
    never_arrived = result.outcome == Outcome.TRANSIENT and result.code == "resource_missing"
    if result.outcome == Outcome.UNKNOWN or (
        result.outcome == Outcome.TRANSIENT and not never_arrived
    ):
        return txn.status
    if result.outcome == Outcome.REQUIRES_ACTION and txn.status == TransactionStatus.PENDING:
        return txn.status  # still waiting for the customer (3-D Secure)
    apply = apply_refund_result if txn.kind == TransactionKind.REFUND else _APPLY[txn.kind]
    apply(transaction_pk=txn.pk, result=result)
    txn.refresh_from_db(fields=["status"])
    return txn.status


def payment_intent_complete_authentication(*, intent: PaymentIntent) -> PaymentIntent:
    """The customer is back from the 3-D Secure page: learn the result by inquiry."""
    txn = (
        Transaction.objects.filter(payment_intent=intent, kind=TransactionKind.AUTHORIZE)
        .order_by("-id")
        .first()
    )
    if txn is not None and intent.status == Status.REQUIRES_ACTION:
        transaction_resolve(transaction_pk=txn.pk)
    return PaymentIntent.objects.select_related("merchant").get(pk=intent.pk)
