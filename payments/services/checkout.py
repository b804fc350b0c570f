"""Checkout sessions: create, pay by card, complete, expire (DESIGN.md §4, issue #7).

A session's amount and currency are fixed by the merchant's server at creation; the hosted
page only ever charges them. The session creates its PaymentIntent once, under the
session's row lock, so every card tried on the page is an attempt of that one intent and
the intent's own state machine refuses a second successful confirm: the session is paid at
most once. Completion and expiry are conditional updates from `open`, each writing its
Event in the same transaction.
"""

import contextlib
import secrets
from datetime import UTC, datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from core import writes
from core.api.serializers import metadata_initial
from core.errors import InvalidRequestError, StateConflictError
from core.money import validate_amount, validate_currency
from merchants.models import Merchant
from payments.models import (
    CHECKOUT_SESSION_TRANSITIONS,
    CaptureMethod,
    CheckoutSession,
    CheckoutSessionPaymentStatus,
    CheckoutSessionStatus,
    PaymentIntent,
    PaymentIntentStatus,
)
from payments.services.payment_intents import (
    payment_intent_cancel,
    payment_intent_complete_authentication,
    payment_intent_confirm,
    payment_intent_create,
)
from webhooks.services import event_create

Status = CheckoutSessionStatus
MIN_LIFETIME = timedelta(minutes=30)
MAX_LIFETIME = timedelta(hours=24)
# Intent states in which the customer (or the network) still holds the payment: the
# session must not expire under them, the answer decides.
_IN_FLIGHT = {PaymentIntentStatus.PROCESSING}
_PAID = {PaymentIntentStatus.SUCCEEDED, PaymentIntentStatus.REQUIRES_CAPTURE}


def checkout_url(session: CheckoutSession) -> str:
    return f"{settings.GATEWAY_BASE_URL}/checkout/{session.public_id}"


def _return_url(session: CheckoutSession) -> str:
    return f"{checkout_url(session)}/return"


def _line_items(items: list[dict]) -> tuple[list[dict], str, int]:
    """Validate Stripe's line_items[i][price_data]... into stored items, currency, total."""
    stored: list[dict] = []
    currency = None
    total = 0
    for index, item in enumerate(items):
        prefix = f"line_items[{index}]"
        price = item.get("price_data") or {}
        item_currency = validate_currency(
            price.get("currency"), param=f"{prefix}[price_data][currency]"
        )
        if currency is not None and item_currency != currency:
            raise InvalidRequestError(
                "All line_items must be in the same currency.",
                param=f"{prefix}[price_data][currency]",
            )
        currency = item_currency
        unit_amount = validate_amount(
            price.get("unit_amount"),
            currency=currency,
            param=f"{prefix}[price_data][unit_amount]",
        )
        quantity = item.get("quantity", 1)
        name = ((price.get("product_data") or {}).get("name") or "").strip()
        if not name:
            raise InvalidRequestError(
                f"Missing required param: {prefix}[price_data][product_data][name].",
                code="parameter_missing",
                param=f"{prefix}[price_data][product_data][name]",
            )
        stored.append(
            {
                "id": f"li_{secrets.token_urlsafe(12).replace('-', 'A').replace('_', 'B')}",
                "name": name,
                "quantity": quantity,
                "unit_amount": unit_amount,
                "amount_total": unit_amount * quantity,
            }
        )
        total += unit_amount * quantity
    assert currency is not None
    return stored, currency, total


def checkout_session_create(
    *,
    merchant: Merchant,
    livemode: bool,
    success_url: str,
    amount: object = None,
    currency: object = None,
    line_items: list[dict] | None = None,
    cancel_url: str = "",
    payment_method_types: list[str] | None = None,
    customer_email: str = "",
    client_reference_id: str = "",
    metadata: dict | None = None,
    expires_at: int | None = None,
    capture_method: str = CaptureMethod.AUTOMATIC,
    now: datetime | None = None,
) -> CheckoutSession:
    """Create an open session for `amount` `currency`, or for the sum of `line_items`."""
    now = now or timezone.now()
    if line_items:
        if amount not in (None, ""):
            raise InvalidRequestError(
                "You may only specify one of these parameters: amount, line_items.",
                code="parameters_exclusive",
                param="amount",
            )
        items, item_currency, total = _line_items(line_items)
        if currency not in (None, "") and validate_currency(currency) != item_currency:
            raise InvalidRequestError(
                "currency must match the currency of the line_items.", param="currency"
            )
        currency = item_currency
        amount = validate_amount(total, currency=currency, param="line_items")
    else:
        if amount in (None, ""):
            raise InvalidRequestError(
                "Missing required param: line_items (or amount and currency).",
                code="parameter_missing",
                param="line_items",
            )
        currency = validate_currency(currency)
        amount = validate_amount(amount, currency=currency)
        items = []
    if expires_at is None:
        expiry = now + MAX_LIFETIME
    else:
        expiry = datetime.fromtimestamp(int(expires_at), tz=UTC)
        if expiry < now + MIN_LIFETIME - timedelta(seconds=5):
            raise InvalidRequestError(
                "The `expires_at` timestamp must be at least 30 minutes from Checkout "
                "Session creation.",
                param="expires_at",
            )
        if expiry > now + MAX_LIFETIME + timedelta(seconds=5):
            raise InvalidRequestError(
                "The `expires_at` timestamp must be less than 24 hours from Checkout "
                "Session creation.",
                param="expires_at",
            )
    if capture_method not in CaptureMethod.values:
        raise InvalidRequestError(
            "Invalid capture_method.", param="payment_intent_data[capture_method]"
        )
    local = [t for t in payment_method_types or [] if t != "card"]
    if local and currency != "idr":
        raise InvalidRequestError(
            f"{local[0]} takes payments in idr only; this Checkout Session is in {currency}.",
            param="payment_method_types",
        )
    _check_local_amounts(local, amount)
    if local and capture_method == CaptureMethod.MANUAL:
        raise InvalidRequestError(
            f"{local[0]} payments are captured when paid: capture_method must be automatic.",
            param="payment_intent_data[capture_method]",
        )
    with transaction.atomic():
        session = CheckoutSession.objects.create(
            merchant=merchant,
            livemode=livemode,
            amount_total=amount,
            currency=currency,
            line_items=items,
            payment_method_types=payment_method_types or ["card"],
            capture_method=capture_method,
            success_url=success_url,
            cancel_url=cancel_url or "",
            customer_email=customer_email or "",
            client_reference_id=client_reference_id or "",
            metadata=metadata_initial(metadata),
            expires_at=expiry,
        )
    return session


def _check_local_amounts(methods: list[str], amount: int) -> None:
    """Refuse a session that a method it offers could never take (every Pay would fail):
    the provider's per-method limits and whole rupiah (local_methods.LIMITS)."""
    from payments.services.local_methods import LIMITS

    for method in methods:
        if method not in LIMITS:
            continue
        low, high = LIMITS[method]
        if amount % 100:
            raise InvalidRequestError(
                f"{method} takes whole rupiah only: the amount must be a multiple of 100 "
                f"(this Checkout Session is {amount}).",
                param="payment_method_types",
            )
        if not low <= amount <= high:
            raise InvalidRequestError(
                f"{method} takes amounts from Rp{low // 100:,} to Rp{high // 100:,}; this "
                f"Checkout Session is Rp{amount // 100:,}.",
                param="payment_method_types",
            )


# --- paying ---------------------------------------------------------------------------


class CheckoutSessionClosedError(StateConflictError):
    """The session is complete or expired: it takes no payment."""

    default_code = "checkout_session_unexpected_state"


class PaymentInProgressError(StateConflictError):
    default_code = "checkout_session_payment_in_progress"


def _locked(session_pk: int) -> CheckoutSession:
    list(CheckoutSession.objects.select_for_update().filter(pk=session_pk).values_list("pk"))
    return CheckoutSession.objects.select_related("merchant", "payment_intent").get(pk=session_pk)


# A local attempt ends canceled when its time ran out ("expired") or when the customer
# chose another method (checkout_session_cancel_attempt): the session then takes another.
_ATTEMPT_OVER = ("expired", "requested_by_customer")


def _attempt_over(intent: PaymentIntent | None) -> bool:
    return (
        intent is not None
        and intent.status == PaymentIntentStatus.CANCELED
        and intent.cancellation_reason in _ATTEMPT_OVER
    )


def _intent_for_payment(session: CheckoutSession, *, now: datetime) -> PaymentIntent:
    """The session's PaymentIntent, created on the first attempt (once, under the lock),
    and again after a local payment's time ran out or the customer chose another method
    (the old intent is canceled, a final state: it can never be paid, so the session is
    still paid at most once, by its one live intent). A card decline keeps the intent
    (requires_payment_method)."""
    with transaction.atomic():
        session = _locked(session.pk)
        if session.status != Status.OPEN:
            raise CheckoutSessionClosedError(
                f"This Checkout Session is {session.status} and cannot be paid."
            )
        if session.expires_at <= now:
            raise CheckoutSessionClosedError("This Checkout Session has expired.")
        if session.payment_intent is None or _attempt_over(session.payment_intent):
            session.payment_intent = payment_intent_create(
                merchant=session.merchant,
                livemode=session.livemode,
                amount=session.amount_total,
                currency=session.currency,
                capture_method=session.capture_method,
                payment_method_types=list(session.payment_method_types or ["card"]),
                receipt_email=session.customer_email,
                metadata={"checkout_session": session.public_id},
                return_url=_return_url(session),
            )
            session.version += 1
            session.save(update_fields=["payment_intent", "version", "updated_at"])
        return session.payment_intent


def checkout_session_pay_card(
    *,
    session: CheckoutSession,
    number: str,
    exp_month: object,
    exp_year: object,
    cvc: str,
    name: str = "",
    customer_ip: str | None = None,
    return_url: str | None = None,
    now: datetime | None = None,
) -> CheckoutSession:
    """Pay the session by card: confirm its PaymentIntent with the card (checked again on the
    server by payments.cards.validate_card inside the confirm).

    Returns the session, complete when the card was approved; its intent is requires_action
    when the issuer asks for 3-D Secure, processing when the network's answer is unknown.
    Raises CardError on a decline (the intent is back in requires_payment_method and another
    card may be tried), CheckoutSessionClosedError when the session is complete or expired,
    PaymentInProgressError while an attempt is still being decided. The CVC lives only in
    this call (and the confirm's) memory. `return_url` is where 3-D Secure sends the
    customer back (the page's /return by default).
    """
    now = now or timezone.now()
    intent = _intent_for_payment(session, now=now)
    if intent.status in _PAID:
        checkout_session_sync(session=session)
        raise CheckoutSessionClosedError("This Checkout Session is already paid.")
    if intent.status not in (
        PaymentIntentStatus.REQUIRES_PAYMENT_METHOD,
        PaymentIntentStatus.REQUIRES_CONFIRMATION,
    ):
        raise PaymentInProgressError("A payment for this Checkout Session is already in progress.")
    card = {"number": number, "exp_month": exp_month, "exp_year": exp_year, "cvc": cvc}
    try:
        payment_intent_confirm(
            intent=intent,
            payment_method_data={
                "type": "card",
                "card": card,
                "billing_details": {"name": name} if name else {},
            },
            return_url=return_url or _return_url(session),
            customer_ip=customer_ip,
        )
    except StateConflictError:
        # Lost a race with another attempt on the same intent.
        raise PaymentInProgressError(
            "A payment for this Checkout Session is already in progress."
        ) from None
    return checkout_session_sync(session=session)


def checkout_session_pay_local(
    *,
    session: CheckoutSession,
    method: str,
    phone: str = "",
    bank: str = "",
    return_url: str | None = None,
    now: datetime | None = None,
) -> CheckoutSession:
    """Pay the session with a local method (e-wallet, OVO push, virtual account, QRIS):
    confirm its PaymentIntent, which ends requires_action with the next_action the page
    shows; the provider's callback (or the poller) then succeeds it and the page's status
    poll completes the session. Raises InvalidRequestError for a method the session does not
    take or a bad phone/bank, CardError when the provider refuses, and the same state errors
    as checkout_session_pay_card. `return_url` is where the e-wallet app sends the customer
    back (the page by default).

    After a local payment's time ran out (its intent canceled as expired), or once the
    customer chose another method (checkout_session_cancel_attempt), the customer may try
    again: the next attempt gets a new PaymentIntent (_intent_for_payment)."""
    from payments.services.local_methods import local_payment_confirm

    now = now or timezone.now()
    if method not in (session.payment_method_types or []):
        raise InvalidRequestError(f"This Checkout Session does not take {method}.")
    intent = _intent_for_payment(session, now=now)
    if intent.status in _PAID:
        checkout_session_sync(session=session)
        raise CheckoutSessionClosedError("This Checkout Session is already paid.")
    if intent.status not in (
        PaymentIntentStatus.REQUIRES_PAYMENT_METHOD,
        PaymentIntentStatus.REQUIRES_CONFIRMATION,
    ):
        raise PaymentInProgressError("A payment for this Checkout Session is already in progress.")
    data: dict = {"type": method}
    if method == "ovo":
        data["ovo"] = {"phone": phone}
    elif method == "bank_transfer":
        data["bank_transfer"] = {"bank": bank}
    try:
        local_payment_confirm(
            intent=intent,
            payment_method_data=data,
            return_url=return_url or checkout_url(session),
        )
    except StateConflictError:
        raise PaymentInProgressError(
            "A payment for this Checkout Session is already in progress."
        ) from None
    return checkout_session_sync(session=session)


def checkout_session_cancel_attempt(*, session: CheckoutSession) -> CheckoutSession:
    """The customer chooses another method while a local payment (e-wallet, OVO push,
    virtual account, QRIS) waits for them: that attempt ends through payment_intent_cancel
    ("requested_by_customer"), which has the provider close the payment first
    (local_payment_cancel) and then cancels the intent. The session stays open and its
    next attempt is a new PaymentIntent (_intent_for_payment). A provider's late callback
    for the closed payment changes nothing (local_payment_conclude: the first end wins).

    If the customer paid before the provider closed it, the payment stands and the session
    completes. Idempotent: with no local payment pending, nothing changes. No lock is held
    across the provider's call. Raises CheckoutSessionClosedError when the session is
    complete or expired, InvalidRequestError ("cancel_failed") when the provider could not
    close the payment (it is still pending then)."""
    from payments.services.local_methods import awaiting_customer

    session = CheckoutSession.objects.select_related("merchant", "payment_intent").get(
        pk=session.pk
    )
    if session.status != Status.OPEN:
        raise CheckoutSessionClosedError(
            f"This Checkout Session is {session.status}: its payment cannot be changed."
        )
    intent = session.payment_intent
    if (
        intent is not None
        and intent.status == PaymentIntentStatus.REQUIRES_ACTION
        and awaiting_customer(intent) is not None
    ):
        # A StateConflictError: paid (or ended) just before the provider closed it; the
        # sync below tells.
        with contextlib.suppress(StateConflictError):
            payment_intent_cancel(intent=intent, cancellation_reason="requested_by_customer")
    return checkout_session_sync(session=session)


def checkout_session_sync(*, session: CheckoutSession) -> CheckoutSession:
    """Complete the session if its PaymentIntent is paid (succeeded, or authorized with
    manual capture). Idempotent: a conditional update from open, the event written once."""
    session = CheckoutSession.objects.select_related("merchant", "payment_intent").get(
        pk=session.pk
    )
    intent = session.payment_intent
    if session.status == Status.OPEN and intent is not None and intent.status in _PAID:
        _complete(session)
        session.refresh_from_db()
    return session


def checkout_session_complete_on_commit(*, intent_pk: int) -> None:
    """Called by payment_intents when an intent is paid (card phase 3, 3-D Secure, an
    inquiry, a local method's callback or poll): once that commits, the open session of
    this intent completes with its event, without waiting for the page's poll or the
    sweeper. After the commit rather than inside it: the expiry path locks the session
    then the intent, the payment path the intent then the session, and completing in a
    transaction of its own keeps them from waiting on each other. Robust: should it fail,
    the payment stands and the sweeper completes the session."""
    writes.on_commit(
        lambda: checkout_session_complete_for_intent(intent_pk=intent_pk), robust=True
    )


def checkout_session_complete_for_intent(*, intent_pk: int) -> int:
    """Complete the open session(s) whose PaymentIntent `intent_pk` is paid. Idempotent (a
    conditional update from open, the event written once); returns how many moved."""
    sessions = CheckoutSession.objects.filter(
        payment_intent_id=intent_pk, status=Status.OPEN, payment_intent__status__in=list(_PAID)
    ).select_related("merchant")
    return sum(_complete(session) for session in sessions)


def _complete(session: CheckoutSession) -> bool:
    assert Status.COMPLETE in CHECKOUT_SESSION_TRANSITIONS[Status.OPEN]
    with transaction.atomic():
        moved = CheckoutSession.objects.filter(pk=session.pk, status=Status.OPEN).update(
            status=Status.COMPLETE,
            payment_status=CheckoutSessionPaymentStatus.PAID,
            completed_at=timezone.now(),
            version=F("version") + 1,
            updated_at=timezone.now(),
        )
        if moved:
            _emit(
                CheckoutSession.objects.select_related("merchant").get(pk=session.pk), "completed"
            )
    return bool(moved)


def _emit(session: CheckoutSession, type_: str) -> None:
    from payments.render_checkout import render_checkout_session

    event_create(
        merchant=session.merchant,
        livemode=session.livemode,
        type=f"checkout.session.{type_}",
        object_id=session.public_id,
        object_version=session.version,
        obj=render_checkout_session(session),
        previous_attributes={"status": Status.OPEN},
    )


# --- expiry ---------------------------------------------------------------------------


def checkout_session_expire(*, session: CheckoutSession) -> CheckoutSession:
    """Expire an open session (the API's expire, or the sweeper once expires_at passed).

    A payment awaiting 3-D Secure is first asked about (an inquiry, no transaction open);
    a paid one completes the session instead, and one whose answer is still unknown
    (processing) refuses. Otherwise the session's intent is canceled (no processor call:
    nothing is authorized) and the session moves open -> expired with its event.
    """
    session = CheckoutSession.objects.select_related("merchant", "payment_intent").get(
        pk=session.pk
    )
    intent = session.payment_intent
    if intent is not None and intent.status == PaymentIntentStatus.REQUIRES_ACTION:
        payment_intent_complete_authentication(intent=intent)
    session = checkout_session_sync(session=session)
    if session.status != Status.OPEN:
        raise CheckoutSessionClosedError(
            f'Only Checkout Sessions with a status in ["open"] can be expired; this one is '
            f"{session.status}.",
        )
    with transaction.atomic():
        session = _locked(session.pk)
        intent = session.payment_intent
        if intent is not None:
            intent.refresh_from_db()
            if intent.status in _IN_FLIGHT:
                raise PaymentInProgressError(
                    "This Checkout Session has a payment in progress and cannot be expired "
                    "until its outcome is known."
                )
            if intent.status in _PAID:
                raise CheckoutSessionClosedError("This Checkout Session is already paid.")
            if intent.status != PaymentIntentStatus.CANCELED:
                payment_intent_cancel(intent=intent, cancellation_reason="abandoned")
        assert Status.EXPIRED in CHECKOUT_SESSION_TRANSITIONS[session.status]
        now = timezone.now()
        CheckoutSession.objects.filter(pk=session.pk, status=Status.OPEN).update(
            status=Status.EXPIRED,
            expired_at=now,
            version=F("version") + 1,
            updated_at=now,
        )
        session.refresh_from_db()
        _emit(session, "expired")
    return session


def checkout_sessions_sweep(*, now: datetime | None = None, limit: int = 500) -> dict:
    """The beat job: complete open sessions whose intent got paid without the customer's
    page seeing it (an inquiry settled it later), and expire open sessions past
    expires_at. Returns {"completed": n, "expired": n}."""
    now = now or timezone.now()
    done = {"completed": 0, "expired": 0}
    paid = CheckoutSession.objects.filter(
        status=Status.OPEN, payment_intent__status__in=list(_PAID)
    ).select_related("merchant")[:limit]
    for session in paid:
        if _complete(session):
            done["completed"] += 1
    overdue = list(
        CheckoutSession.objects.filter(status=Status.OPEN, expires_at__lte=now).values_list(
            "pk", flat=True
        )[:limit]
    )
    for pk in overdue:
        try:
            session = checkout_session_expire(session=CheckoutSession(pk=pk))
        except StateConflictError:
            continue  # paid meanwhile, or an answer still outstanding: next run
        if session.status == Status.EXPIRED:
            done["expired"] += 1
    return done


def checkout_session_expire_if_due(*, session: CheckoutSession) -> CheckoutSession:
    """For the page: a session past expires_at is expired now rather than at the next
    sweep (so the customer never sees a payable page that the API calls expired)."""
    if session.status == Status.OPEN and session.expires_at <= timezone.now():
        try:
            return checkout_session_expire(session=session)
        except StateConflictError:
            pass
    return CheckoutSession.objects.select_related("merchant", "payment_intent").get(pk=session.pk)
