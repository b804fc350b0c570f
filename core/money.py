"""Money is an integer in the currency's minor unit, with exponents from CLDR (Babel)."""

from functools import cache

from babel.numbers import get_currency_precision, list_currencies

from core.errors import InvalidRequestError

# Codes that are not money (testing, no currency, precious metals, fund units).
_NOT_MONEY = {
    "XXX",
    "XTS",
    "XAU",
    "XAG",
    "XPD",
    "XPT",
    "XBA",
    "XBB",
    "XBC",
    "XBD",
    "XDR",
    "XSU",
    "XUA",
}


@cache
def supported_currencies() -> frozenset[str]:
    return frozenset(c.lower() for c in list_currencies() if c not in _NOT_MONEY)


def currency_exponent(currency: str) -> int:
    """ISO 4217 minor-unit exponent: idr 2, usd 2, jpy 0, kwd 3."""
    return get_currency_precision(currency.upper())


def validate_currency(value: object, *, param: str = "currency") -> str:
    code = str(value or "").strip().lower()
    if code not in supported_currencies():
        raise InvalidRequestError(
            f"Invalid currency: {value}. Currencies are three-letter ISO 4217 codes in "
            "lowercase, e.g. idr or usd.",
            code="parameter_invalid_string" if code else "parameter_missing",
            param=param,
        )
    return code


# Largest amount accepted in one payment, in major units (Stripe's limit is 999,999.99 of
# most currencies; rupiah amounts are larger by nature).
_MAX_MAJOR = {"idr": 10_000_000_000, "vnd": 10_000_000_000, "krw": 100_000_000}
_DEFAULT_MAX_MAJOR = 1_000_000


def max_amount(currency: str) -> int:
    major = _MAX_MAJOR.get(currency, _DEFAULT_MAX_MAJOR)
    return major * 10 ** currency_exponent(currency) - 1


def validate_amount(value: object, *, currency: str, param: str = "amount") -> int:
    """A positive integer in minor units, at most `max_amount(currency)`."""
    if value is None or value == "":
        raise InvalidRequestError(
            f"Missing required param: {param}.", code="parameter_missing", param=param
        )
    if isinstance(value, bool) or not (
        isinstance(value, int) or (isinstance(value, str) and value.lstrip("-").isdigit())
    ):
        raise InvalidRequestError(
            f"Invalid integer: {value}", code="parameter_invalid_integer", param=param
        )
    amount = int(value)
    if amount < 1:
        raise InvalidRequestError(
            "This value must be greater than or equal to 1.",
            code="parameter_invalid_integer",
            param=param,
        )
    if amount > max_amount(currency):
        raise InvalidRequestError(
            f"Amount must be no more than {max_amount(currency)} ({currency}, in the smallest "
            "currency unit).",
            code="amount_too_large",
            param=param,
        )
    return amount
