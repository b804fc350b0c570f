"""Local payment methods (DESIGN.md §4, §7): e-wallets (GoPay, OVO, DANA, ShopeePay), bank
transfer to a virtual account (BCA, BNI, BRI, Mandiri, Permata) and QRIS. IDR only.

Confirming goes requires_action: the provider is asked for a payment (phase 1 records the
attempt, phase 2 calls the provider under our reference, phase 3 applies its answer through
payment_intents.apply_authorization_result with a next_action the customer can act on: a QR
code, a deeplink, an OVO push or a virtual account). The customer then pays outside our
pages; the provider's signed callback (handle_callback), an inquiry by the poller or the
expiry sweeper (local_payments_sweep) ends the payment through the same phase-3 path as
cards: paid -> succeeded, failed -> requires_payment_method, expired -> canceled with
cancellation_reason "expired". Every end is idempotent: the first one wins, a duplicate or
late callback changes nothing.

Locks are taken in the card path's order: the authorization Transaction, then the intent,
then the LocalPayment.
"""

import datetime as dt
import logging
import re
from dataclasses import replace

from django.conf import settings
from django.core import signing
from django.db import transaction
from django.utils import timezone

from core.errors import InvalidRequestError
from core.ids import new_id
from payments.connectors import get_connector
from payments.connectors.base import ConnectorResult, LocalPaymentRequest, Outcome
from payments.models import (
    CaptureMethod,
    Charge,
    ChargeStatus,
    LocalPayment,
    LocalPaymentStatus,
    PaymentIntent,
    PaymentIntentStatus,
    PaymentMethod,
    Transaction,
    TransactionKind,
    TransactionStatus,
)
from payments.qris import MerchantAccount, qris_payload
from payments.services import payment_intents as pi

logger = logging.getLogger(__name__)

CONNECTOR = "sandbox_local"
EWALLETS = ("gopay", "ovo", "dana", "shopeepay")
LOCAL_TYPES = (*EWALLETS, "qris", "bank_transfer")
BANKS = {"bca": "BCA", "bni": "BNI", "bri": "BRI", "mandiri": "Mandiri", "permata": "Permata"}
# Per-method amount limits in IDR minor units (Rp1 = 100), and whole rupiah only.
LIMITS: dict[str, tuple[int, int]] = {
    "gopay": (1_000_00, 20_000_000_00),
    "ovo": (1_000_00, 10_000_000_00),
    "dana": (1_000_00, 20_000_000_00),
    "shopeepay": (1_000_00, 20_000_000_00),
    "qris": (1_000_00, 10_000_000_00),
    "bank_transfer": (10_000_00, 50_000_000_00),
}
# How long the customer has to pay.
EXPIRY: dict[str, dt.timedelta] = {
    "gopay": dt.timedelta(minutes=15),
    "ovo": dt.timedelta(seconds=60),  # the push must be approved within a minute
    "dana": dt.timedelta(minutes=15),
    "shopeepay": dt.timedelta(minutes=15),
    "qris": dt.timedelta(minutes=15),
    "bank_transfer": dt.timedelta(hours=24),
}
# The poller asks about a payment no callback has ended after this, then this often.
POLL_AFTER = dt.timedelta(seconds=30)
POLL_EVERY = dt.timedelta(seconds=60)
_PHONE = re.compile(r"^(?:\+62|62|0)(8\d{7,11})$")
_QR_SALT = "payments.local.qr"


def is_local(method: str | None) -> bool:
    return method in LOCAL_TYPES


def confirms_locally(
    *, intent: PaymentIntent, payment_method: str | None, payment_method_data: dict | None
) -> bool:
    """Whether this confirm is a local-method payment (the card path handles the rest)."""
    if payment_method_data:
        return is_local(payment_method_data.get("type"))
    if payment_method:
        return False
    return intent.payment_method_id is not None and is_local(intent.payment_method.type)


# --- confirm ---------------------------------------------------------------------------


def _phone(value: object) -> str:
    digits = re.sub(r"[\s\-()]", "", str(value or ""))
    match = _PHONE.match(digits)
    if not match:
        raise InvalidRequestError(
            "payment_method_data[ovo][phone] must be an Indonesian mobile number "
            "(+628..., 628... or 08...).",
            code="parameter_invalid_string" if value else "parameter_missing",
            param="payment_method_data[ovo][phone]",
        )
    return "+62" + match.group(1)


def _masked(phone: str) -> str:
    return phone[:6] + "*" * (len(phone) - 10) + phone[-4:]


def _payment_method_from_data(
    intent: PaymentIntent, data: dict | None
) -> tuple[PaymentMethod | None, str | None]:
    """(a new PaymentMethod or None to reuse the intent's, the OVO phone if any)."""
    if not data:
        if intent.payment_method.type == "ovo":
            raise InvalidRequestError(
                "Confirm an OVO payment with payment_method_data[ovo][phone]: the push goes "
                "to that phone.",
                code="parameter_missing",
                param="payment_method_data[ovo][phone]",
            )
        return None, None
    method = data["type"]
    details: dict = {}
    phone = None
    if method == "ovo":
        phone = _phone((data.get("ovo") or {}).get("phone"))
        details = {"phone": _masked(phone)}
    elif method == "bank_transfer":
        bank = (data.get("bank_transfer") or {}).get("bank")
        if bank not in BANKS:
            raise InvalidRequestError(
                f"payment_method_data[bank_transfer][bank] must be one of {', '.join(BANKS)}.",
                code="parameter_invalid_string" if bank else "parameter_missing",
                param="payment_method_data[bank_transfer][bank]",
            )
        details = {"bank": bank}
    pm = PaymentMethod.objects.create(
        merchant=intent.merchant,
        livemode=intent.livemode,
        type=method,
        details=details,
        billing_details=data.get("billing_details") or {},
        metadata=data.get("metadata") or {},
    )
    return pm, phone


def _check_amount(intent: PaymentIntent, method: str) -> None:
    if intent.currency != "idr":
        raise InvalidRequestError(
            f"{method} takes payments in idr only; this PaymentIntent is in {intent.currency}.",
            code="payment_intent_invalid_currency",
            param="currency",
        )
    low, high = LIMITS[method]
    if intent.amount % 100:
        raise InvalidRequestError(
            f"{method} takes whole rupiah: the amount must be a multiple of 100.",
            code="amount_invalid",
            param="amount",
        )
    if not low <= intent.amount <= high:
        raise InvalidRequestError(
            f"{method} takes amounts from Rp{low // 100:,} to Rp{high // 100:,}.",
            code="amount_too_small" if intent.amount < low else "amount_too_large",
            param="amount",
        )


def local_payment_confirm(
    *,
    intent: PaymentIntent,
    payment_method_data: dict | None = None,
    return_url: str | None = None,
    capture_method: str | None = None,
    receipt_email: str | None = None,
) -> PaymentIntent:
    """Confirm with an e-wallet, a virtual account or QRIS: the intent ends requires_action
    with its next_action, or (the provider refused) back in requires_payment_method with a
    402. One provider payment per confirm, under the new Transaction's reference."""
    pm, phone = _payment_method_from_data(intent, payment_method_data)
    with transaction.atomic():
        intent = pi._locked(intent.pk)
        if intent.status not in (
            PaymentIntentStatus.REQUIRES_PAYMENT_METHOD,
            PaymentIntentStatus.REQUIRES_CONFIRMATION,
        ):
            raise pi._unexpected_state(
                intent, "confirm", "confirmed: requires_payment_method, requires_confirmation"
            )
        if pm is not None:
            intent.payment_method = pm
        method = intent.payment_method.type
        if method not in intent.payment_method_types:
            raise InvalidRequestError(
                f"The PaymentMethod provided ({method}) is not allowed for this "
                f"PaymentIntent. Allowed types: {', '.join(intent.payment_method_types)}.",
                code="payment_intent_incompatible_payment_method",
                param="payment_method",
            )
        _check_amount(intent, method)
        if (capture_method or intent.capture_method) == CaptureMethod.MANUAL:
            raise InvalidRequestError(
                f"{method} payments are captured when paid: capture_method must be automatic.",
                code="parameter_invalid_string",
                param="capture_method",
            )
        if return_url is not None:
            intent.return_url = return_url
        if receipt_email is not None:
            intent.receipt_email = receipt_email
        pi._move(intent, PaymentIntentStatus.PROCESSING)
        intent.last_payment_error = None
        intent.next_action = None
        charge = pi.new_charge(
            intent, {"type": method, method: dict(intent.payment_method.details)}
        )
        # 24 characters: it travels in QRIS tag 62, whose fields hold at most 25.
        txn = Transaction.objects.create(
            public_id=new_id("txn", 20),
            merchant=intent.merchant,
            livemode=intent.livemode,
            kind=TransactionKind.AUTHORIZE,
            connector=CONNECTOR,
            payment_intent=intent,
            charge=charge,
            amount=intent.amount,
            currency=intent.currency,
        )
        local = LocalPayment.objects.create(
            merchant=intent.merchant,
            livemode=intent.livemode,
            charge=charge,
            payment_intent=intent,
            transaction=txn,
            method=method,
            bank=intent.payment_method.details.get("bank", ""),
            expires_at=timezone.now() + EXPIRY[method],
        )
        intent.latest_charge = charge
        pi._save(
            intent,
            "status",
            "payment_method",
            "return_url",
            "receipt_email",
            "last_payment_error",
            "next_action",
            "latest_charge",
        )
    request = LocalPaymentRequest(
        reference=txn.public_id,
        method=method,
        amount=intent.amount,
        currency=intent.currency,
        expires_at=int(local.expires_at.timestamp()),
        merchant_id=intent.merchant.public_id,
        merchant_name=intent.merchant.name,
        bank=local.bank or None,
        phone=phone,
    )
    del phone
    connector = get_connector(CONNECTOR)
    result = connector.create_payment(request)
    for _ in range(2):  # the provider answers a repeated reference with the same payment
        if result.outcome not in (Outcome.UNKNOWN, Outcome.TRANSIENT):
            break
        result = connector.create_payment(request)
    intent = _apply_created(local.pk, result)
    if intent.status == PaymentIntentStatus.REQUIRES_PAYMENT_METHOD and intent.last_payment_error:
        raise pi._card_error(intent)
    return intent


def _apply_created(local_pk: int, result: ConnectorResult) -> PaymentIntent:
    """Phase 3 of confirm: requires_action with the next_action, or the attempt failed."""
    with transaction.atomic():
        local = LocalPayment.objects.select_related("transaction").get(pk=local_pk)
        txn = Transaction.objects.select_for_update().get(pk=local.transaction_id)
        intent = pi._locked(local.payment_intent_id)
        local = LocalPayment.objects.select_for_update().get(pk=local_pk)
        pending = local.status == LocalPaymentStatus.PENDING
        if result.outcome == Outcome.REQUIRES_ACTION and pending:
            next_action = _next_action(intent, local, txn, result.raw)
            local.save(update_fields=["details", "updated_at"])
            charge = Charge.objects.select_for_update().get(pk=local.charge_id)
            shown = {k: v for k, v in local.details.items() if k in ("va_number", "bank")}
            charge.payment_method_details = {
                "type": local.method,
                local.method: {**charge.payment_method_details[local.method], **shown},
            }
            charge.save(update_fields=["payment_method_details", "updated_at"])
            result = replace(result, next_action=next_action)
        elif result.outcome != Outcome.REQUIRES_ACTION and pending:
            local.status = LocalPaymentStatus.FAILED
            local.save(update_fields=["status", "updated_at"])
            if result.outcome == Outcome.UNKNOWN:  # nobody was shown anything to pay
                result = replace(result, outcome=Outcome.TRANSIENT)
        pi.apply_authorization_result(transaction_pk=txn.pk, result=result)
    return PaymentIntent.objects.select_related("merchant", "payment_method").get(pk=intent.pk)


# --- next_action -----------------------------------------------------------------------


def qr_image_url(charge_public_id: str) -> str:
    token = signing.Signer(salt=_QR_SALT).sign(charge_public_id)
    return f"{settings.GATEWAY_BASE_URL.rstrip('/')}/payments/qr/{token}.svg"


def qr_data_for_token(token: str) -> str | None:
    """The QR content behind an image URL's token, or None for a bad or unknown token."""
    try:
        charge_id = signing.Signer(salt=_QR_SALT).unsign(token)
    except signing.BadSignature:
        return None
    local = LocalPayment.objects.filter(charge__public_id=charge_id).first()
    return (local.details or {}).get("qr_data") if local else None


def _city(merchant) -> str:
    return merchant.timezone.rsplit("/", 1)[-1].replace("_", " ")


VA_STEPS = {
    "bca": "m-Transfer > BCA Virtual Account",
    "bni": "Transfer > Virtual Account Billing",
    "bri": "Pembayaran > BRIVA",
    "mandiri": "Bayar > Multipayment",
    "permata": "Pembayaran Tagihan > Virtual Account",
}


def _next_action(intent: PaymentIntent, local: LocalPayment, txn: Transaction, answer: dict):
    """What the customer is shown, Stripe-like, from the provider's answer; keeps what we
    need again (QR content, VA number) in local.details."""
    expires_at = int(local.expires_at.timestamp())
    method = local.method
    if method in ("gopay", "dana", "shopeepay"):
        url = answer["checkout_url"]
        local.details = {"qr_data": url, "checkout_url": url}
        return {
            "type": "display_qr_code",
            "display_qr_code": {
                "data": url,
                "image_url_svg": qr_image_url(local.charge.public_id),
                "expires_at": expires_at,
            },
            "redirect_to_url": {"url": url, "return_url": intent.return_url or None},
        }
    if method == "ovo":
        local.details = {"phone": intent.payment_method.details.get("phone")}
        return {
            "type": "await_push_approval",
            "await_push_approval": {
                "provider": "ovo",
                "phone": intent.payment_method.details.get("phone"),
                "expires_at": expires_at,
            },
        }
    if method == "bank_transfer":
        bank, number = answer["bank"], answer["va_number"]
        local.details = {"bank": bank, "va_number": number}
        rupiah = f"Rp{intent.amount // 100:,}".replace(",", ".")
        return {
            "type": "display_bank_transfer_instructions",
            "display_bank_transfer_instructions": {
                "type": "id_bank_transfer",
                "amount_remaining": intent.amount,
                "currency": intent.currency,
                "expires_at": expires_at,
                "reference": txn.public_id,
                "financial_addresses": [
                    {
                        "type": "id_virtual_account",
                        "id_virtual_account": {
                            "bank": bank,
                            "bank_name": BANKS[bank],
                            "account_number": number,
                            "account_holder_name": intent.merchant.name,
                        },
                    }
                ],
                "instructions": [
                    f"Open {BANKS[bank]} mobile banking or internet banking, or go to an ATM.",
                    f"Choose {VA_STEPS[bank]}.",
                    f"Enter the virtual account number {number}.",
                    f"Check that the amount is exactly {rupiah} and the name is "
                    f"{intent.merchant.name}, then confirm.",
                    "Pay before the expiry: the account closes then.",
                ],
                "hosted_instructions_url": None,
            },
        }
    qris = answer["qris"]
    payload = qris_payload(
        account=MerchantAccount(
            global_id=qris["global_id"],
            merchant_pan=qris["merchant_pan"],
            merchant_id=qris["merchant_id"],
            criteria=qris.get("criteria", "UMI"),
        ),
        amount_rupiah=intent.amount // 100,
        merchant_name=intent.merchant.name,
        merchant_city=_city(intent.merchant),
        reference=txn.public_id,
        mcc=qris.get("mcc", "5999"),
    )
    local.details = {"qr_data": payload}
    return {
        "type": "display_qr_code",
        "display_qr_code": {
            "data": payload,
            "image_url_svg": qr_image_url(local.charge.public_id),
            "expires_at": expires_at,
        },
    }


# --- the end of a payment: callback, inquiry, expiry, cancel ----------------------------


def local_payment_conclude(
    *, local_pk: int, result: ConnectorResult, cancellation_reason: str | None = None
) -> str:
    """Apply the provider's final word (SUCCEEDED: paid; DECLINED: failed, or expired /
    canceled by code) once. Returns a note of what happened; a payment that has ended
    already is left as it is."""
    local = LocalPayment.objects.get(pk=local_pk)
    with transaction.atomic():
        txn = Transaction.objects.select_for_update().get(pk=local.transaction_id)
        intent = pi._locked(local.payment_intent_id)
        local = LocalPayment.objects.select_for_update().get(pk=local_pk)
        if local.status != LocalPaymentStatus.PENDING or txn.status in (
            TransactionStatus.SUCCEEDED,
            TransactionStatus.FAILED,
        ):
            return f"already {local.status}; nothing changed"
        if result.outcome == Outcome.SUCCEEDED:
            if result.amount is not None and result.amount != txn.amount:
                return f"paid {result.amount}, not {txn.amount}: not applied"
            local.status = LocalPaymentStatus.SUCCEEDED
            local.save(update_fields=["status", "updated_at"])
            pi.apply_authorization_result(transaction_pk=txn.pk, result=result)
            return "succeeded"
        if result.outcome != Outcome.DECLINED:
            return f"still {result.outcome}"
        if result.code in ("expired", "canceled"):
            local.status = LocalPaymentStatus(result.code)
            local.save(update_fields=["status", "updated_at"])
            reason = "expired" if cancellation_reason is None else cancellation_reason
            _end_unpaid(intent, txn, result, reason)
            return f"{result.code}: intent canceled"
        local.status = LocalPaymentStatus.FAILED
        local.save(update_fields=["status", "updated_at"])
        declined = replace(
            result,
            code="payment_method_provider_decline",
            decline_code=result.code or "generic_decline",
            message=f"The customer's {local.method} payment was declined.",
        )
        pi.apply_authorization_result(transaction_pk=txn.pk, result=declined)
        return "failed"


def _end_unpaid(
    intent: PaymentIntent, txn: Transaction, result: ConnectorResult, reason: str
) -> None:
    """Expired or closed unpaid: the attempt failed and the intent is canceled."""
    pi._record(txn, result)
    charge = Charge.objects.select_for_update().get(pk=txn.charge_id)
    charge.status = ChargeStatus.FAILED
    charge.failure_code = "payment_intent_payment_attempt_expired"
    charge.failure_message = (
        "The customer did not pay in time." if result.code == "expired" else "Canceled."
    )
    charge.version += 1
    charge.save()
    pi._emit_charge(charge, "failed")
    pi._finish_cancel(intent, reason)


def awaiting_customer(intent: PaymentIntent) -> LocalPayment | None:
    return LocalPayment.objects.filter(
        payment_intent_id=intent.pk, status=LocalPaymentStatus.PENDING
    ).first()


def local_payment_cancel(*, local: LocalPayment, cancellation_reason: str | None) -> PaymentIntent:
    """Cancel an intent whose customer has not paid yet: the provider closes the payment
    first (so it can no longer be paid), then the intent is canceled. If the customer paid
    first, the payment stands and the cancel is refused."""
    result = get_connector(CONNECTOR).cancel_payment(reference=local.transaction.public_id)
    if result.outcome not in (Outcome.SUCCEEDED, Outcome.DECLINED):
        raise InvalidRequestError(
            "The payment could not be closed at the provider; try again.", code="cancel_failed"
        )
    local_payment_conclude(
        local_pk=local.pk, result=result, cancellation_reason=cancellation_reason or ""
    )
    intent = PaymentIntent.objects.select_related("merchant", "payment_method").get(
        pk=local.payment_intent_id
    )
    if intent.status == PaymentIntentStatus.REQUIRES_PAYMENT_METHOD:
        # The customer declined just before: nothing is pending now, cancel as usual.
        return pi.payment_intent_cancel(intent=intent, cancellation_reason=cancellation_reason)
    if intent.status != PaymentIntentStatus.CANCELED:
        raise pi._unexpected_state(
            intent,
            "cancel",
            "canceled: requires_payment_method, requires_capture, requires_confirmation, "
            "requires_action",
        )
    return intent


def handle_callback(callback, payload: dict) -> str:
    """GATEWAY_CALLBACK_HANDLERS["sandbox_local"]: a provider's signed callback (already
    verified and deduplicated on its event id) ends the payment it names."""
    reference, result = get_connector(CONNECTOR).parse_callback(payload)
    local = LocalPayment.objects.filter(transaction__public_id=reference).first()
    if local is None:
        return f"no local payment with reference {reference}; recorded only"
    return local_payment_conclude(local_pk=local.pk, result=result)


def _inquire(local: LocalPayment, connector) -> ConnectorResult:
    txn = local.transaction
    result = connector.inquire(reference=txn.public_id)
    Transaction.objects.create(
        merchant_id=txn.merchant_id,
        livemode=txn.livemode,
        kind=TransactionKind.INQUIRY,
        connector=CONNECTOR,
        payment_intent_id=txn.payment_intent_id,
        charge_id=txn.charge_id,
        parent=txn,
        status=TransactionStatus.FAILED
        if result.outcome in (Outcome.TRANSIENT, Outcome.UNKNOWN)
        else TransactionStatus.SUCCEEDED,
        processor_reference=result.processor_reference or "",
        response_code=str(result.outcome),
        latency_ms=result.latency_ms,
        raw=result.raw,
    )
    LocalPayment.objects.filter(pk=local.pk).update(last_inquiry_at=timezone.now())
    return result


def local_payments_sweep(*, now: dt.datetime | None = None, limit: int = 500) -> dict:
    """Beat: ask about open payments no callback has ended (a missing callback is
    recovered here), and close the ones past their expiry: the provider closes them first,
    so a customer who paid at the last moment is never canceled."""
    now = now or timezone.now()
    connector = get_connector(CONNECTOR)
    open_ = LocalPayment.objects.filter(status=LocalPaymentStatus.PENDING).select_related(
        "transaction"
    )
    counts = {"expired": 0, "concluded": 0}
    for local in open_.filter(expires_at__lte=now).order_by("expires_at")[:limit]:
        result = connector.cancel_payment(reference=local.transaction.public_id)
        if result.outcome in (Outcome.SUCCEEDED, Outcome.DECLINED):
            note = local_payment_conclude(local_pk=local.pk, result=result)
            counts["expired"] += note.startswith("expired")
            counts["concluded"] += not note.startswith("already")
    due = open_.filter(expires_at__gt=now, created_at__lte=now - POLL_AFTER).exclude(
        last_inquiry_at__gt=now - POLL_EVERY
    )
    for local in due.order_by("created_at")[:limit]:
        result = _inquire(local, connector)
        if result.outcome in (Outcome.SUCCEEDED, Outcome.DECLINED):
            note = local_payment_conclude(local_pk=local.pk, result=result)
            counts["concluded"] += not note.startswith("already")
    return counts
