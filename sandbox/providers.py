"""The local-method providers behind the sandbox: e-wallets (GoPay, OVO, DANA, ShopeePay),
the banks' virtual account services (BCA, BNI, BRI, Mandiri, Permata) and a QRIS acquirer.

Each function takes and returns plain data (as if over the wire), owns its transaction and
answers a repeated reference with what it stored the first time. A payment waits for the
customer (the sandbox pages: sandbox.wallets, sandbox.virtual_accounts, sandbox.qris) until
its expiry; every end (paid, failed, expired) sends the gateway a signed callback
(sandbox.callbacks), which faults can make late, double or missing; `inquire` tells the
truth whatever happened to the callback.
"""

import datetime as dt
import secrets
import string

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from sandbox.models import ProviderPayment, ProviderPaymentStatus, ProviderRefund

EWALLETS = {"gopay", "ovo", "dana", "shopeepay"}
METHODS = EWALLETS | {"qris", "bank_transfer"}
# E-wallets that refund part of a payment; OVO and DANA refund only the whole of it.
PARTIAL_REFUNDS = {"gopay", "shopeepay"}
# Virtual account numbers: the bank's prefix for the gateway's company code, then digits.
VA_PREFIXES = {"bca": "39358", "bni": "8808", "bri": "26215", "mandiri": "89608", "permata": "8625"}
VA_LENGTH = 16
# The QRIS acquirer's merchant account (tag 26) for the gateway's merchants.
QRIS_GLOBAL_ID = "ID.CO.SANDBOX.WWW"
QRIS_PAN_PREFIX = "93600999"


def _random(prefix: str, length: int = 20) -> str:
    alphabet = string.ascii_letters + string.digits
    return prefix + "".join(secrets.choice(alphabet) for _ in range(length))


def _digits(length: int) -> str:
    return "".join(secrets.choice(string.digits) for _ in range(length))


def base_url() -> str:
    return getattr(settings, "GATEWAY_BASE_URL", "http://127.0.0.1:8000").rstrip("/")


def _unix(moment: dt.datetime | None) -> int | None:
    return int(moment.timestamp()) if moment else None


def qris_merchant_pan(merchant_id: str) -> str:
    """A stable 18-digit merchant PAN per gateway merchant (the acquirer's NMID stand-in)."""
    number = int.from_bytes(merchant_id.encode()[-8:].rjust(8, b"\0"), "big") % 10**10
    return f"{QRIS_PAN_PREFIX}{number:010d}"


def payment_answer(payment: ProviderPayment) -> dict:
    answer = {
        "http_status": 200,
        "object": "provider_payment",
        "reference": payment.reference,
        "provider_reference": payment.provider_reference,
        "method": payment.method,
        "status": payment.status,
        "amount": payment.amount,
        "currency": payment.currency,
        "refunded_amount": payment.refunded_amount,
        "code": payment.failure_code or None,
        "expires_at": _unix(payment.expires_at),
        "paid_at": _unix(payment.paid_at),
    }
    if payment.method in EWALLETS:
        page = f"{base_url()}/sandbox/wallet/{payment.method}/{payment.provider_reference}"
        answer["checkout_url"] = page
        if payment.method == "ovo":
            answer["phone"] = payment.phone
    elif payment.method == "bank_transfer":
        answer["bank"] = payment.bank
        answer["va_number"] = payment.va_number
    elif payment.method == "qris":
        answer["qris"] = {
            "global_id": QRIS_GLOBAL_ID,
            "merchant_pan": qris_merchant_pan(payment.merchant_id),
            "merchant_id": payment.merchant_id[:32],
            "criteria": "UMI",
            "mcc": "5999",
        }
    return answer


def _refused(code: str, message: str, status: int = 400) -> dict:
    return {"http_status": status, "error": {"code": code, "message": message}}


def create_payment(request: dict) -> dict:
    """request: reference, method, amount, currency, expires_at (unix), merchant {id, name},
    bank (bank_transfer), phone (ovo). Idempotent on reference."""
    reference = str(request["reference"])
    existing = ProviderPayment.objects.filter(reference=reference).first()
    if existing is not None:
        return payment_answer(_expire_if_due(existing))
    method = str(request["method"])
    if method not in METHODS:
        return _refused("payment_method_not_available", f"Unknown method {method}.")
    bank = str(request.get("bank") or "")
    if method == "bank_transfer" and bank not in VA_PREFIXES:
        return _refused("bank_not_supported", f"No virtual accounts at {bank or 'no bank'}.")
    if str(request["currency"]).lower() != "idr":
        return _refused("currency_not_supported", "Local methods take rupiah only.")
    merchant = request.get("merchant") or {}
    for _ in range(5):  # a virtual account number that is already taken: draw again
        va_number = ""
        if method == "bank_transfer":
            prefix = VA_PREFIXES[bank]
            va_number = prefix + _digits(VA_LENGTH - len(prefix))
        try:
            with transaction.atomic():
                payment = ProviderPayment.objects.create(
                    reference=reference,
                    provider_reference=_random(f"sbx_{method[:4]}_"),
                    method=method,
                    bank=bank,
                    va_number=va_number,
                    phone=str(request.get("phone") or ""),
                    merchant_id=str(merchant.get("id") or ""),
                    merchant_name=str(merchant.get("name") or ""),
                    amount=int(request["amount"]),
                    currency="idr",
                    expires_at=dt.datetime.fromtimestamp(int(request["expires_at"]), tz=dt.UTC),
                )
            break
        except IntegrityError:
            existing = ProviderPayment.objects.filter(reference=reference).first()
            if existing is not None:  # the same reference raced in: its answer is the answer
                return payment_answer(existing)
    else:
        return _refused("processing_error", "No virtual account number free.", 503)
    return payment_answer(payment)


def _expire_if_due(payment: ProviderPayment) -> ProviderPayment:
    """A pending payment past its expiry ends as expired (with its callback). Done lazily,
    whenever it is read, so no clock process is needed."""
    if payment.status == ProviderPaymentStatus.PENDING and payment.expires_at <= timezone.now():
        finish(payment.provider_reference, ProviderPaymentStatus.EXPIRED)
        payment.refresh_from_db()
    return payment


def get(provider_reference: str) -> ProviderPayment | None:
    payment = ProviderPayment.objects.filter(provider_reference=provider_reference).first()
    return _expire_if_due(payment) if payment is not None else None


def finish(
    provider_reference: str, status: str, *, code: str = "", amount: int | None = None
) -> tuple[ProviderPayment | None, str]:
    """End a pending payment: paid (the customer paid `amount`, which must be the exact
    amount), failed (declined in the app) or expired. Sends the callback. Returns the
    payment and "" or why nothing changed."""
    from sandbox.callbacks import callback_schedule

    with transaction.atomic():
        payment = (
            ProviderPayment.objects.select_for_update()
            .filter(provider_reference=provider_reference)
            .first()
        )
        if payment is None:
            return None, "no such payment"
        if payment.status != ProviderPaymentStatus.PENDING:
            return payment, f"this payment is {payment.status}"
        if status == ProviderPaymentStatus.PAID:
            if payment.expires_at <= timezone.now():
                status, code = ProviderPaymentStatus.EXPIRED, ""
            elif amount is not None and amount != payment.amount:
                # Closed virtual accounts and dynamic QR codes take the exact amount only.
                return payment, "the amount must be exactly the amount due"
        payment.status = status
        payment.failure_code = code
        if status == ProviderPaymentStatus.PAID:
            payment.paid_at = timezone.now()
        payment.save()
        callback_schedule(payment)
    return payment, "" if payment.status == status else f"this payment is {payment.status}"


def inquire(request: dict) -> dict:
    """The provider's truth about a reference: a payment, or an e-wallet refund."""
    reference = str(request["reference"])
    payment = ProviderPayment.objects.filter(reference=reference).first()
    if payment is not None:
        return payment_answer(_expire_if_due(payment))
    refund = ProviderRefund.objects.select_related("payment").filter(reference=reference).first()
    if refund is not None:
        return _refund_answer(refund)
    return _refused("resource_missing", f"No payment or refund with reference {reference}", 404)


def cancel(request: dict) -> dict:
    """Close a pending payment (the gateway expires or cancels it): it can no longer be paid.
    A payment already paid says so; the answer is the payment either way."""
    reference = str(request["reference"])
    payment = ProviderPayment.objects.filter(reference=reference).first()
    if payment is None:
        return _refused("resource_missing", f"No payment with reference {reference}", 404)
    with transaction.atomic():
        payment = ProviderPayment.objects.select_for_update().get(pk=payment.pk)
        if payment.status == ProviderPaymentStatus.PENDING:
            expired = payment.expires_at <= timezone.now()
            payment.status = (
                ProviderPaymentStatus.EXPIRED if expired else ProviderPaymentStatus.CANCELED
            )
            payment.save(update_fields=["status", "updated_at"])
    return payment_answer(payment)


def _refund_answer(refund: ProviderRefund) -> dict:
    return {
        "http_status": 200,
        "object": "provider_refund",
        "reference": refund.reference,
        "provider_reference": refund.provider_reference,
        "payment_reference": refund.payment.reference,
        "status": refund.status,
        "amount": refund.amount,
        "code": refund.code or None,
        "message": refund.message or None,
    }


def refund(request: dict) -> dict:
    """An e-wallet refund to the customer's wallet, idempotent on reference. GoPay and
    ShopeePay refund any part of what is left; OVO and DANA only the whole payment, once.
    Virtual accounts and QRIS have no refund API (the gateway pays those back by payout)."""
    reference = str(request["reference"])
    existing = ProviderRefund.objects.select_related("payment").filter(reference=reference)
    if (found := existing.first()) is not None:
        return _refund_answer(found)
    amount = int(request["amount"])
    try:
        with transaction.atomic():
            payment = (
                ProviderPayment.objects.select_for_update()
                .filter(provider_reference=str(request["payment_reference"]))
                .first()
            ) or (
                ProviderPayment.objects.select_for_update()
                .filter(reference=str(request["payment_reference"]))
                .first()
            )
            if payment is None:
                return _refused("resource_missing", "No such payment.", 404)
            status, code, message = "succeeded", "", ""
            left = payment.amount - payment.refunded_amount
            if payment.method not in EWALLETS:
                status, code = "failed", "refund_not_supported"
                message = f"{payment.method} payments cannot be refunded by the provider."
            elif payment.status != ProviderPaymentStatus.PAID:
                status, code, message = "failed", "payment_not_paid", "Nothing was paid."
            elif not 0 < amount <= left:
                status, code, message = "failed", "amount_too_large", f"Refund at most {left}."
            elif payment.method not in PARTIAL_REFUNDS and amount != payment.amount:
                status, code = "failed", "partial_refund_not_supported"
                message = f"{payment.method} refunds only the whole payment."
            if status == "succeeded":
                payment.refunded_amount += amount
                payment.save(update_fields=["refunded_amount", "updated_at"])
            found = ProviderRefund.objects.create(
                reference=reference,
                provider_reference=_random("sbx_rf_"),
                payment=payment,
                amount=amount,
                status=status,
                code=code,
                message=message,
            )
    except IntegrityError:
        found = existing.first()
        if found is None:
            raise
    return _refund_answer(found)
