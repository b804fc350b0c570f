"""Card number, expiry and CVC checks with Stripe's error codes, before any processor call."""

import datetime as dt

from core.errors import CardError
from core.logging import luhn_valid

# (brand, prefixes as (low, high) ranges of the leading digits, valid lengths, cvc length)
_BRANDS = [
    ("amex", [(34, 34), (37, 37)], {15}, 4),
    ("diners", [(300, 305), (36, 36), (38, 39)], {14, 16}, 3),
    ("discover", [(6011, 6011), (644, 649), (65, 65)], {16, 19}, 3),
    ("jcb", [(3528, 3589)], {16, 19}, 3),
    ("unionpay", [(62, 62)], {16, 17, 18, 19}, 3),
    ("mastercard", [(51, 55), (2221, 2720)], {16}, 3),
    ("visa", [(4, 4)], {13, 16, 19}, 3),
]


def card_brand(number: str) -> str:
    for brand, ranges, _lengths, _cvc in _BRANDS:
        for low, high in ranges:
            width = len(str(low))
            if number[:width].isdigit() and low <= int(number[:width]) <= high:
                return brand
    return "unknown"


def _cvc_length(brand: str) -> int:
    return next((cvc for b, _r, _l, cvc in _BRANDS if b == brand), 3)


def normalize_number(value: object) -> str:
    return "".join(str(value or "").split()).replace("-", "")


def validate_card(
    *,
    number: object,
    exp_month: object,
    exp_year: object,
    cvc: object = None,
    today: dt.date | None = None,
    param_prefix: str = "",
) -> tuple[str, int, int, str | None]:
    """Return (number, exp_month, exp_year, cvc) or raise CardError like Stripe does."""
    today = today or dt.date.today()

    def param(name: str) -> str:
        return f"{param_prefix}[{name}]" if param_prefix else name

    digits = normalize_number(number)
    if not digits.isdigit() or not 12 <= len(digits) <= 19 or not luhn_valid(digits):
        raise CardError(
            "Your card number is incorrect.", code="incorrect_number", param=param("number")
        )
    try:
        month = int(str(exp_month))
    except (TypeError, ValueError):
        month = 0
    if not 1 <= month <= 12:
        raise CardError(
            "Your card's expiration month is invalid.",
            code="invalid_expiry_month",
            param=param("exp_month"),
        )
    try:
        year = int(str(exp_year))
    except (TypeError, ValueError):
        year = 0
    if 0 <= year < 100:
        year += 2000
    if year < today.year or year > today.year + 50:
        raise CardError(
            "Your card's expiration year is invalid.",
            code="invalid_expiry_year",
            param=param("exp_year"),
        )
    if year == today.year and month < today.month:
        raise CardError(
            "Your card's expiration month is invalid.",
            code="invalid_expiry_month",
            param=param("exp_month"),
        )
    cvc_value = None
    if cvc not in (None, ""):
        cvc_value = str(cvc).strip()
        if not cvc_value.isdigit() or len(cvc_value) != _cvc_length(card_brand(digits)):
            raise CardError(
                "Your card's security code is invalid.", code="invalid_cvc", param=param("cvc")
            )
    return digits, month, year, cvc_value
