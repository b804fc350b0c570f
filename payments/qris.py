"""QRIS: Indonesia's EMVCo merchant-presented QR code (DESIGN.md §7), and QR codes as SVG.

A dynamic QRIS payload is a string of TLV fields (two-digit tag, two-digit length, value),
ending with the CRC-16/CCITT-FALSE of everything before it, "6304" included:

    00 payload format "01"        01 initiation "12" (dynamic: one payment)
    26 merchant account (the acquirer's: 00 global id, 01 merchant PAN, 02 merchant id,
       03 criteria)
    52 MCC   53 currency "360"   54 amount (whole rupiah)   58 country "ID"
    59 merchant name (<= 25)     60 city (<= 15)
    62 additional data: 05 reference label (our reference), 07 terminal label
    63 CRC (4 hex digits, upper case)

Names are transliterated to ASCII and truncated to fit their tags; the gateway builds the
payload, the acquirer (here the sandbox) decodes it when a customer's app scans it.
"""

import io
import re
import unicodedata
from dataclasses import dataclass

import segno

NAME_MAX, CITY_MAX, REFERENCE_MAX = 25, 15, 25
# EMVCo's "ans" characters: printable ASCII.
_NOT_ANS = re.compile(r"[^\x20-\x7e]")


def crc16_ccitt_false(data: bytes) -> int:
    """CRC-16/CCITT-FALSE: polynomial 0x1021, initial 0xFFFF, no reflection, no final xor."""
    crc = 0xFFFF
    for byte in data:
        crc ^= byte << 8
        for _ in range(8):
            crc = ((crc << 1) ^ 0x1021) if crc & 0x8000 else crc << 1
            crc &= 0xFFFF
    return crc


def _tlv(tag: str, value: str) -> str:
    if not 0 < len(value) <= 99:
        raise ValueError(f"QRIS tag {tag}: a value of {len(value)} characters does not fit")
    return f"{tag}{len(value):02d}{value}"


def ascii_fit(text: str, limit: int, *, fallback: str) -> str:
    """Transliterate to printable ASCII (accents dropped, other letters removed), collapse
    spaces and cut to `limit` characters; `fallback` when nothing is left."""
    decomposed = unicodedata.normalize("NFKD", text)
    words = decomposed.encode("ascii", "ignore").decode().split()  # tabs, newlines: spaces
    plain = " ".join(_NOT_ANS.sub("", " ".join(words)).split())[:limit].strip()
    return plain or fallback[:limit]


@dataclass(frozen=True)
class MerchantAccount:
    """Tag 26 as the acquirer assigns it."""

    global_id: str  # reverse domain of the acquirer, e.g. ID.CO.SANDBOX.WWW
    merchant_pan: str  # 16 to 19 digits
    merchant_id: str
    criteria: str = "UMI"  # micro (UMI), small (UKE), medium (UME), large (UBE)


def qris_payload(
    *,
    account: MerchantAccount,
    amount_rupiah: int,
    merchant_name: str,
    merchant_city: str,
    reference: str,
    mcc: str = "5999",
    terminal: str = "GATEWAY",
) -> str:
    """A dynamic QRIS payload for one payment of `amount_rupiah` (whole rupiah)."""
    if amount_rupiah <= 0:
        raise ValueError("a QRIS amount is a positive number of rupiah")
    if len(reference) > REFERENCE_MAX:
        raise ValueError(f"a QRIS reference is at most {REFERENCE_MAX} characters")
    merchant_account = (
        _tlv("00", account.global_id)
        + _tlv("01", account.merchant_pan)
        + _tlv("02", account.merchant_id)
        + _tlv("03", account.criteria)
    )
    body = (
        _tlv("00", "01")
        + _tlv("01", "12")
        + _tlv("26", merchant_account)
        + _tlv("52", mcc)
        + _tlv("53", "360")
        + _tlv("54", str(amount_rupiah))
        + _tlv("58", "ID")
        + _tlv("59", ascii_fit(merchant_name, NAME_MAX, fallback="MERCHANT"))
        + _tlv("60", ascii_fit(merchant_city, CITY_MAX, fallback="JAKARTA"))
        + _tlv("62", _tlv("05", reference) + _tlv("07", terminal[:25]))
        + "6304"
    )
    return body + f"{crc16_ccitt_false(body.encode('ascii')):04X}"


def qr_svg(data: str) -> str:
    """`data` as a QR code in SVG (error correction M, quiet zone of 4 modules), dark modules
    on a white background so that it scans on any page colour."""
    code = segno.make(data, error="m", micro=False, boost_error=False)
    out = io.BytesIO()
    code.save(out, kind="svg", scale=4, border=4, dark="#000", light="#fff", xmldecl=False)
    return out.getvalue().decode()
