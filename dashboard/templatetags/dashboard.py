from decimal import Decimal

from babel.numbers import format_currency
from django import template

from core.money import currency_exponent

register = template.Library()


@register.filter
def money(amount: int | None, currency: str) -> str:
    """150000, "idr" -> "IDR 1,500.00"; the currency's exponent from core.money."""
    if amount is None or not currency:
        return ""
    value = Decimal(int(amount)).scaleb(-currency_exponent(currency))
    return format_currency(value, currency.upper(), locale="en", format="¤¤\xa0#,##0.00")


@register.filter
def major(amount: int | None, currency: str) -> str:
    """An amount in the currency's major unit, for form fields: 150000, "idr" -> "1500.00"."""
    if amount is None or not currency:
        return ""
    exponent = currency_exponent(currency)
    return f"{Decimal(int(amount)).scaleb(-exponent):.{exponent}f}"


@register.filter
def card_label(details: dict | None) -> str:
    """Brand and last 4 of a card payment method (never more of the number)."""
    if not details:
        return ""
    brand = (details.get("brand") or "card").title()
    last4 = details.get("last4") or ""
    return f"{brand} •••• {last4}" if last4 else brand


@register.filter
def bps(value: int | None) -> str:
    """Basis points as a percentage: 290 -> "2.9 %", 200 -> "2 %"."""
    if value is None:
        return ""
    return f"{Decimal(int(value)).scaleb(-2).normalize():f} %"
