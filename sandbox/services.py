"""The issuers behind the sandbox card network: holds, limits, fraud and 3-D Secure.

Each function takes and returns plain data (as if over the wire), owns its transaction and
answers a repeated reference with what it stored the first time, never acting twice.
Called only through sandbox.network.CardNetworkClient and the sandbox's own pages.
"""

import datetime as dt
import secrets
import string

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Count, Q
from django.utils import timezone
from django.utils.crypto import salted_hmac

from core import writes
from core.prepared import Prepared
from sandbox.cards import TEST_CARDS, CardProfile, luhn_valid, profile_of
from sandbox.models import (
    Authorization,
    AuthorizationStatus,
    IssuerAccount,
    Operation,
    OperationKind,
    OperationStatus,
)

VELOCITY_WINDOW = dt.timedelta(minutes=10)
# A 3-D Secure challenge nobody finishes fails after this long, as at a real issuer.
CHALLENGE_TTL = dt.timedelta(minutes=15)
ELEVATED_RISK, HIGHEST_RISK = 65, 75

# Rough value of one major unit in US dollars, and exponents that are not 2; enough for a
# fraud model to tell a coffee from a car.
_USD_PER_UNIT = {
    "usd": 1.0, "eur": 1.1, "gbp": 1.27, "sgd": 0.75, "aud": 0.66, "myr": 0.22, "idr": 0.000063,
    "php": 0.018, "thb": 0.028, "jpy": 0.0067, "krw": 0.00073, "vnd": 0.00004,
}  # fmt: skip
_ZERO_DECIMAL = {"jpy", "krw", "vnd"}

_MESSAGES = {
    "generic_decline": "Your card was declined.",
    "insufficient_funds": "Your card has insufficient funds.",
    "lost_card": "Your card was declined.",
    "stolen_card": "Your card was declined.",
    "fraudulent": "Your card was declined.",
    "expired_card": "Your card has expired.",
    "incorrect_cvc": "Your card's security code is incorrect.",
    "processing_error": "An error occurred while processing your card. Try again in a little bit.",
    "incorrect_number": "Your card number is incorrect.",
    "payment_intent_authentication_failure": (
        "We are unable to authenticate your payment method. Please choose a different "
        "payment method and try again."
    ),
}


_AUTHORIZATION = Prepared(
    lambda reference: Authorization.objects.select_related("account").filter(reference=reference)[
        :1
    ]
)
_LOCKED_ACCOUNT = Prepared(
    lambda card_hash: IssuerAccount.objects.select_for_update().filter(card_hash=card_hash)[:1]
)
_RECENT_AUTHORIZATIONS = Prepared(
    lambda account_id, since: (
        Authorization.objects.filter(account_id=account_id, created_at__gte=since)
        .values("account_id")
        .annotate(n=Count("id"))
        .values_list("n", flat=True)
    )
)


def _random(prefix: str, length: int = 24) -> str:
    alphabet = string.ascii_letters + string.digits
    return prefix + "".join(secrets.choice(alphabet) for _ in range(length))


def _authorization_code() -> str:
    alphabet = string.ascii_uppercase + string.digits
    return "".join(secrets.choice(alphabet) for _ in range(6))


def card_hash(number: str) -> str:
    return salted_hmac("sandbox.issuer-account", number, algorithm="sha256").hexdigest()


def _unix(moment: dt.datetime) -> int:
    return int(moment.timestamp())


def _base_url() -> str:
    return getattr(settings, "GATEWAY_BASE_URL", "http://127.0.0.1:8000").rstrip("/")


def fraud_score(
    *,
    recent_authorizations: int,
    amount: int,
    currency: str,
    card_country: str,
    merchant_country: str,
) -> int:
    """0-99: velocity (prior authorizations on the card in the last 10 minutes beyond two,
    15 points each, at most 60), amount (10/20/30 points from USD 500/2,000/10,000) and a
    card country other than the merchant's (20 points), over a base of 5."""
    score = 5 + min(60, max(0, recent_authorizations - 2) * 15)
    exponent = 0 if currency.lower() in _ZERO_DECIMAL else 2
    usd = amount / 10**exponent * _USD_PER_UNIT.get(currency.lower(), 1.0)
    score += 30 if usd >= 10_000 else 20 if usd >= 2_000 else 10 if usd >= 500 else 0
    if merchant_country and card_country.upper() != merchant_country.upper():
        score += 20
    return min(score, 99)


def risk_level(score: int) -> str:
    if score >= HIGHEST_RISK:
        return "highest"
    return "elevated" if score >= ELEVATED_RISK else "normal"


def _account_for(number: str, profile: CardProfile) -> tuple[IssuerAccount, bool]:
    """The card's account under its row lock, and whether this call opened it (the card's
    first use). An insert that a unique card_hash turns into nothing when the account
    exists (ON CONFLICT DO NOTHING); only then a locked read follows. A row this
    transaction inserted is its own, locked, until it commits."""
    hashed = card_hash(number)
    account = IssuerAccount(
        card_hash=hashed,
        bin=number[:6],
        last4=number[-4:],
        brand=profile.brand,
        funding=profile.funding,
        country=profile.country,
        credit_limit=profile.credit_limit,
    )
    if writes.insert_if_absent(account):
        return account, True
    return _LOCKED_ACCOUNT.first(card_hash=hashed), False


def _is_expired(exp_month: int, exp_year: int) -> bool:
    today = timezone.now().date()
    return (int(exp_year), int(exp_month)) < (today.year, today.month)


def _decline(
    auth: Authorization,
    code: str,
    decline_code: str | None,
    *,
    reason: str,
    network_status: str = "declined_by_network",
    outcome_type: str = "issuer_declined",
):
    auth.status = AuthorizationStatus.DECLINED
    auth.code = code
    auth.decline_code = decline_code or ""
    auth.message = _MESSAGES.get(decline_code or code, "Your card was declined.")
    auth.network_status = network_status
    auth.outcome_type = outcome_type
    auth.outcome_reason = reason


def _approve_or_decline_for_funds(auth: Authorization, account: IssuerAccount) -> None:
    """The issuer's final word on an authorization that passed every other check: a hold
    (or, with capture, the spending) if the account has room, else insufficient_funds."""
    if auth.amount > account.available_amount:
        _decline(auth, "card_declined", "insufficient_funds", reason="insufficient_funds")
        return
    auth.authorization_code = _authorization_code()
    auth.network_status = "approved_by_network"
    auth.outcome_type = "authorized"
    auth.outcome_reason = "elevated_risk_level" if auth.risk_level == "elevated" else ""
    if auth.capture:
        auth.status = AuthorizationStatus.CAPTURED
        auth.captured_amount = auth.amount
        account.spent_amount += auth.amount
    else:
        auth.status = AuthorizationStatus.AUTHORIZED
        auth.held_amount = auth.amount
        account.held_amount += auth.amount
    writes.save(account, update_fields=["held_amount", "spent_amount", "updated_at"])


def authorization_response(auth: Authorization) -> dict:
    account = auth.account
    approved = auth.status in {
        AuthorizationStatus.AUTHORIZED,
        AuthorizationStatus.CAPTURED,
        AuthorizationStatus.VOIDED,
    }
    next_action = None
    if auth.status == AuthorizationStatus.REQUIRES_ACTION:
        next_action = {
            "type": "redirect_to_url",
            "redirect_url": f"{_base_url()}/sandbox/3ds/{auth.challenge_id}",
        }
    return {
        "object": "authorization",
        "reference": auth.reference,
        "processor_reference": auth.processor_reference,
        "status": auth.status,
        "approved": approved,
        "amount": auth.amount,
        "currency": auth.currency,
        "capture": auth.capture,
        "held_amount": auth.held_amount,
        "captured_amount": auth.captured_amount,
        "refunded_amount": auth.refunded_amount,
        "authorization_code": auth.authorization_code or None,
        "code": auth.code or None,
        "decline_code": auth.decline_code or None,
        "message": auth.message or None,
        "outcome": {
            "network_status": auth.network_status or None,
            "type": auth.outcome_type or None,
            "reason": auth.outcome_reason or None,
            "risk_score": auth.risk_score,
            "risk_level": auth.risk_level,
        },
        "card": {
            "brand": account.brand,
            "funding": account.funding,
            "country": account.country,
            "last4": account.last4,
        },
        "three_d_secure": {"authenticated": auth.authenticated_at is not None}
        if auth.challenge_id
        else None,
        "next_action": next_action,
        "created": _unix(auth.created_at),
    }


def authorize(request: dict) -> dict:
    """Authorize `request["amount"]` on the card, placing a hold (or spending at once with
    `capture`). Idempotent on `reference`. The CVC is checked here and never stored."""
    reference = request["reference"]
    card = request["card"]
    number = str(card["number"])
    merchant = request.get("merchant") or {}
    profile = profile_of(number)
    try:
        with transaction.atomic():
            account, opened = _account_for(number, profile)
            # Under the account lock: a concurrent request with the same reference has
            # either committed (we answer with it) or waits for us. A card used for the
            # first time has no authorizations; should another card have used the
            # reference, the insert below fails on it and its answer is the answer.
            if not opened:
                auth = _expire_stale_challenge(_AUTHORIZATION.first(reference=reference))
                if auth is not None:
                    return authorization_response(auth)
            score = profile.risk_score
            if score is None:
                # The documented test cards answer as documented however often they are
                # used (as Stripe's do): velocity counts for any other number.
                recent = (
                    0
                    if opened or number in TEST_CARDS
                    else sum(
                        _RECENT_AUTHORIZATIONS.fetch(
                            account_id=account.pk, since=timezone.now() - VELOCITY_WINDOW
                        )
                    )
                )
                score = fraud_score(
                    recent_authorizations=recent,
                    amount=int(request["amount"]),
                    currency=str(request["currency"]),
                    card_country=account.country,
                    merchant_country=str(merchant.get("country") or ""),
                )
            auth = Authorization(
                reference=reference,
                processor_reference=_random("sbx_auth_"),
                account=account,
                amount=int(request["amount"]),
                currency=str(request["currency"]).lower(),
                capture=bool(request.get("capture")),
                risk_score=score,
                risk_level=risk_level(score),
                merchant_id=str(merchant.get("id") or ""),
                merchant_name=str(merchant.get("name") or ""),
                merchant_country=str(merchant.get("country") or "").upper(),
                authentication_return_url=str(request.get("authentication_return_url") or ""),
            )
            with writes.write_batch():  # the account's hold and the authorization
                _decide(auth, account, card, number, profile)
                writes.insert(auth)
    except IntegrityError:
        # Lost a race on the same reference: the winner's answer is the answer.
        auth = _expire_stale_challenge(_AUTHORIZATION.first(reference=reference))
        if auth is None:
            raise
    return authorization_response(auth)


def _decide(
    auth: Authorization, account: IssuerAccount, card: dict, number: str, profile: CardProfile
) -> None:
    if not number.isdigit() or not luhn_valid(number):
        _decline(
            auth,
            "incorrect_number",
            None,
            reason="incorrect_number",
            network_status="not_sent_to_network",
            outcome_type="invalid",
        )
        return
    if profile.decline == ("expired_card", "expired_card") or _is_expired(
        card.get("exp_month") or 0, card.get("exp_year") or 0
    ):
        _decline(auth, "expired_card", "expired_card", reason="expired_card")
        return
    if profile.decline is not None:
        code, decline_code = profile.decline
        _decline(auth, code, decline_code, reason=decline_code)
        return
    if auth.risk_level == "highest":
        _decline(
            auth,
            "card_declined",
            "fraudulent",
            reason="highest_risk_level",
            network_status="not_sent_to_network",
            outcome_type="blocked",
        )
        return
    if profile.requires_3ds:
        auth.status = AuthorizationStatus.REQUIRES_ACTION
        auth.challenge_id = _random("sbx_3ds_")
        auth.network_status = ""
        auth.outcome_type = ""
        return
    _approve_or_decline_for_funds(auth, account)


def challenge_get(challenge_id: str) -> Authorization | None:
    auth = Authorization.objects.select_related("account").filter(challenge_id=challenge_id)
    return _expire_stale_challenge(auth.first())


def _expire_stale_challenge(auth: Authorization | None) -> Authorization | None:
    """A challenge left open past CHALLENGE_TTL ends as failed authentication. Done lazily,
    whenever the authorization is read, so no clock process is needed."""
    if (
        auth is not None
        and auth.status == AuthorizationStatus.REQUIRES_ACTION
        and auth.created_at < timezone.now() - CHALLENGE_TTL
    ):
        challenge_finish(challenge_id=auth.challenge_id, authenticated=False, expired=True)
        auth.refresh_from_db()
    return auth


def challenge_finish(
    *, challenge_id: str, authenticated: bool, expired: bool = False
) -> Authorization | None:
    """Finish a 3-D Secure challenge: authenticated -> the issuer decides (hold placed or
    insufficient_funds); not authenticated -> declined with
    payment_intent_authentication_failure. A second submit changes nothing."""
    with transaction.atomic():
        auth = Authorization.objects.select_for_update().filter(challenge_id=challenge_id).first()
        if auth is None or auth.status != AuthorizationStatus.REQUIRES_ACTION:
            return auth
        account = IssuerAccount.objects.select_for_update().get(pk=auth.account_id)
        if authenticated:
            auth.authenticated_at = timezone.now()
            _approve_or_decline_for_funds(auth, account)
        else:
            _decline(
                auth,
                "payment_intent_authentication_failure",
                None,
                reason="authentication_expired" if expired else "authentication_failed",
                network_status="not_sent_to_network",
                outcome_type="blocked",
            )
        auth.save()
        return auth


def _operation_response(op: Operation) -> dict:
    return {
        "object": op.kind,
        "reference": op.reference,
        "processor_reference": op.processor_reference,
        "authorization_reference": op.authorization.reference,
        "status": op.status,
        "amount": op.amount,
        "currency": op.currency or None,
        "code": op.code or None,
        "message": op.message or None,
        "created": _unix(op.created_at),
    }


def _refused(kind: str, reference: str, code: str, message: str) -> dict:
    # Not stored: there is no authorization to hang it on.
    return {
        "object": kind,
        "reference": reference,
        "processor_reference": None,
        "status": OperationStatus.FAILED,
        "amount": None,
        "currency": None,
        "code": code,
        "message": message,
    }


def _run_operation(kind: str, reference: str, authorization_reference: str, apply) -> dict:
    """Shared frame of capture/void/refund: replay by reference, lock the authorization
    (named by the gateway's reference or by the network's processor_reference),
    let `apply(auth, account, op)` change the amounts or fail the op, store the op."""
    existing = Operation.objects.select_related("authorization").filter(reference=reference)
    if (op := existing.first()) is not None:
        return _operation_response(op)
    try:
        with transaction.atomic():
            auth = (
                Authorization.objects.select_for_update()
                .filter(
                    Q(reference=authorization_reference)
                    | Q(processor_reference=authorization_reference)
                )
                .first()
            )
            if auth is None:
                return _refused(
                    kind,
                    reference,
                    "resource_missing",
                    f"No such authorization: {authorization_reference}",
                )
            if (op := existing.first()) is not None:
                return _operation_response(op)
            account = IssuerAccount.objects.select_for_update().get(pk=auth.account_id)
            op = Operation(
                reference=reference,
                processor_reference=_random(f"sbx_{kind[:3]}_"),
                kind=kind,
                authorization=auth,
                status=OperationStatus.SUCCEEDED,
            )
            apply(auth, account, op)
            if op.status == OperationStatus.SUCCEEDED:
                auth.save()
                account.save(update_fields=["held_amount", "spent_amount", "updated_at"])
            op.save()
    except IntegrityError:
        op = existing.first()
        if op is None:
            raise
    return _operation_response(op)


def _fail(op: Operation, code: str, message: str) -> None:
    op.status, op.code, op.message = OperationStatus.FAILED, code, message


def _check_open(auth: Authorization, op: Operation) -> bool:
    if auth.status == AuthorizationStatus.AUTHORIZED:
        return True
    if auth.status == AuthorizationStatus.CAPTURED:
        _fail(op, "charge_already_captured", "The authorization has already been captured.")
    elif auth.status == AuthorizationStatus.VOIDED:
        _fail(op, "authorization_voided", "The authorization has been voided.")
    else:
        _fail(op, "authorization_not_approved", "The authorization was not approved.")
    return False


def capture(request: dict) -> dict:
    """Capture `amount` (at most the authorized amount, once) of an open authorization;
    the hold is released in full, so a partial capture releases the rest."""
    amount, currency = int(request["amount"]), str(request["currency"]).lower()

    def apply(auth: Authorization, account: IssuerAccount, op: Operation) -> None:
        op.amount, op.currency = amount, currency
        if not _check_open(auth, op):
            return
        if currency != auth.currency:
            _fail(op, "currency_mismatch", f"The authorization is in {auth.currency}.")
        elif not 0 < amount <= auth.amount:
            _fail(op, "amount_too_large", f"Capture at most {auth.amount}.")
        else:
            account.held_amount -= auth.held_amount
            account.spent_amount += amount
            auth.held_amount = 0
            auth.captured_amount = amount
            auth.status = AuthorizationStatus.CAPTURED

    return _run_operation(
        OperationKind.CAPTURE, request["reference"], request["authorization_reference"], apply
    )


def void(request: dict) -> dict:
    """Release an open authorization's hold (or abandon one waiting for 3-D Secure)."""

    def apply(auth: Authorization, account: IssuerAccount, op: Operation) -> None:
        op.amount, op.currency = auth.amount, auth.currency
        if auth.status == AuthorizationStatus.REQUIRES_ACTION:
            auth.status = AuthorizationStatus.VOIDED
            return
        if not _check_open(auth, op):
            return
        account.held_amount -= auth.held_amount
        auth.held_amount = 0
        auth.status = AuthorizationStatus.VOIDED

    return _run_operation(
        OperationKind.VOID, request["reference"], request["authorization_reference"], apply
    )


def refund(request: dict) -> dict:
    """Refund part or all of what was captured; `capture_reference` is a capture's reference
    or, for an automatic capture, the authorization's (ours or the network's processor
    reference). Restores available credit."""
    amount, currency = int(request["amount"]), str(request["currency"]).lower()
    capture_reference = request["capture_reference"]
    parent = Operation.objects.filter(
        Q(reference=capture_reference) | Q(processor_reference=capture_reference),
        kind=OperationKind.CAPTURE,
        status=OperationStatus.SUCCEEDED,
    ).first()
    authorization_reference = parent.authorization.reference if parent else capture_reference

    def apply(auth: Authorization, account: IssuerAccount, op: Operation) -> None:
        op.amount, op.currency, op.parent = amount, currency, parent
        remaining = auth.captured_amount - auth.refunded_amount
        if auth.status != AuthorizationStatus.CAPTURED:
            _fail(op, "charge_not_captured", "Nothing was captured on this authorization.")
        elif currency != auth.currency:
            _fail(op, "currency_mismatch", f"The capture is in {auth.currency}.")
        elif not 0 < amount <= remaining:
            _fail(op, "amount_too_large", f"Refund at most {remaining}.")
        else:
            auth.refunded_amount += amount
            account.spent_amount -= amount

    return _run_operation(
        OperationKind.REFUND, request["reference"], authorization_reference, apply
    )


def inquire(request: dict) -> dict | None:
    """What happened to the operation sent under `reference`; None if it never arrived."""
    reference = request["reference"]
    auth = Authorization.objects.select_related("account").filter(reference=reference).first()
    if (auth := _expire_stale_challenge(auth)) is not None:
        return authorization_response(auth)
    op = Operation.objects.select_related("authorization").filter(reference=reference).first()
    return _operation_response(op) if op is not None else None
