"""The sandbox QRIS acquirer: a customer's banking app scans a dynamic QRIS code and pays.

The payload is decoded here on its own (TLV parsing and the CRC-16/CCITT-FALSE check are
written apart from the gateway's encoder, so the sandbox checks the gateway's codes the way
a real issuer app would): a code that does not parse, has a wrong CRC, is not ours, or
whose amount is not the payment's is refused.
"""

import binascii

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_http_methods

from sandbox import providers
from sandbox.models import ProviderPayment, ProviderPaymentStatus


class QrisError(ValueError):
    pass


def parse_tlv(data: str) -> list[tuple[str, str]]:
    """[(tag, value)] of an EMVCo TLV string; QrisError if it does not parse exactly."""
    fields, at = [], 0
    while at < len(data):
        head = data[at : at + 4]
        if len(head) < 4 or not head.isdigit():
            raise QrisError(f"bad TLV header at {at}: {head!r}")
        length = int(head[2:])
        value = data[at + 4 : at + 4 + length]
        if len(value) != length:
            raise QrisError(f"tag {head[:2]} runs past the end")
        fields.append((head[:2], value))
        at += 4 + length
    return fields


def crc_ok(payload: str) -> bool:
    """The last field is 63 (4 hex digits) and equals CRC-16/CCITT-FALSE of what precedes
    it, "6304" included. binascii.crc_hqx is the same polynomial (0x1021, unreflected);
    started at 0xFFFF it is CCITT-FALSE."""
    if len(payload) < 8 or payload[-8:-4] != "6304":
        return False
    expected = binascii.crc_hqx(payload[:-4].encode("ascii", "strict"), 0xFFFF)
    return payload[-4:].upper() == f"{expected:04X}"


def decode(payload: str) -> dict:
    """The fields of a dynamic QRIS payload as a dict (tag -> value; 26 and 62 as dicts).
    QrisError for anything a QRIS app would refuse."""
    try:
        payload.encode("ascii")
    except UnicodeEncodeError as exc:
        raise QrisError("not ASCII") from exc
    fields = parse_tlv(payload)
    tags = [tag for tag, _ in fields]
    if not tags or tags[0] != "00" or fields[0][1] != "01":
        raise QrisError("the payload does not start with 000201")
    if tags[-1] != "63" or not crc_ok(payload):
        raise QrisError("wrong CRC")
    if len(set(tags)) != len(tags):
        raise QrisError("a tag appears twice")
    decoded: dict = dict(fields)
    for nested in ("26", "62"):
        if nested in decoded:
            decoded[nested] = dict(parse_tlv(decoded[nested]))
    for tag, expected in (("01", "12"), ("53", "360"), ("58", "ID")):
        if decoded.get(tag) != expected:
            raise QrisError(f"tag {tag} must be {expected}")
    for tag in ("26", "52", "54", "59", "60", "62"):
        if tag not in decoded:
            raise QrisError(f"tag {tag} is missing")
    if len(decoded["59"]) > 25 or len(decoded["60"]) > 15:
        raise QrisError("merchant name or city too long")
    return decoded


def scan_and_pay(payload: str) -> tuple[ProviderPayment | None, str]:
    """Pay the payment a QRIS payload names, for the amount it carries. (payment, "") or
    (payment or None, why not)."""
    try:
        fields = decode(payload.strip())
    except QrisError as exc:
        return None, f"This is not a valid QRIS code ({exc})."
    account = fields["26"]
    reference = fields["62"].get("05", "")
    payment = ProviderPayment.objects.filter(reference=reference, method="qris").first()
    if payment is None or account.get("00") != providers.QRIS_GLOBAL_ID:
        return None, "This QRIS code is not from this acquirer."
    if account.get("01") != providers.qris_merchant_pan(payment.merchant_id):
        return payment, "The merchant account does not match."
    amount = fields["54"]
    if not amount.isdigit():
        return payment, "The amount is not a whole number of rupiah."
    return providers.finish(
        payment.provider_reference, ProviderPaymentStatus.PAID, amount=int(amount) * 100
    )


@require_http_methods(["GET", "POST"])
def scan_page(request: HttpRequest) -> HttpResponse:
    """/sandbox/qris/scan: paste (or scan) a QRIS payload, see what it says, pay it."""
    payload = (request.POST.get("payload") or request.GET.get("payload") or "").strip()
    context: dict = {"payload": payload}
    status = 200
    if payload:
        try:
            context["fields"] = decode(payload)
            context["amount"] = f"Rp{int(context['fields']['54']):,}"
        except (QrisError, ValueError) as exc:
            context["error"] = f"This is not a valid QRIS code ({exc})."
            status = 400
    if request.method == "POST" and "error" not in context and payload:
        payment, problem = scan_and_pay(payload)
        context["payment"] = payment
        if problem:
            context["error"] = problem
            status = 400
        else:
            context["paid"] = True
    return render(request, "sandbox/qris.html", context, status=status)
