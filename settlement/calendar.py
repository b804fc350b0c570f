"""Settlement days and business days (DESIGN.md §9).

A merchant's settlement day is the local date (its time zone) of the moment shifted back by
its cutoff hour. With the default cutoff 0 the day is the plain local date, closed at the
next local midnight; with cutoff 17, 24 Nov 17:00 to 25 Nov 16:59 local is the day 24 Nov,
closed at 25 Nov 17:00.
"""

import datetime as dt
from functools import cache
from zoneinfo import ZoneInfo


def settlement_date_for(moment: dt.datetime, *, tz: str, cutoff_hour: int) -> dt.date:
    """The settlement day an event at `moment` (aware) belongs to."""
    local = moment.astimezone(ZoneInfo(tz))
    return (local - dt.timedelta(hours=cutoff_hour)).date()


def closed_day(now: dt.datetime, *, tz: str, cutoff_hour: int) -> dt.date:
    """The latest settlement day whose cutoff has passed at `now`."""
    return settlement_date_for(now, tz=tz, cutoff_hour=cutoff_hour) - dt.timedelta(days=1)


@cache
def _holidays(country: str, year: int) -> frozenset[dt.date]:
    import holidays  # imported here: only payout scheduling needs it

    try:
        return frozenset(holidays.country_holidays(country.upper(), years=year).keys())
    except NotImplementedError:  # a country the library does not know: weekends only
        return frozenset()


# Processors fund methods on their own schedules: virtual accounts at T+1; cards, e-wallets
# and QRIS at the merchant's payout_delay_days (T+2 by default). Never later than that.
METHOD_PAYOUT_DELAY_DAYS = {"bank_transfer": 1}


def payout_delay_days(methods: set[str], *, merchant_delay: int) -> int:
    """The T+N of a payout of charges made with `methods`: the slowest method's."""
    if not methods:
        return merchant_delay
    return max(
        min(METHOD_PAYOUT_DELAY_DAYS.get(m, merchant_delay), merchant_delay) for m in methods
    )


def is_business_day(day: dt.date, *, country: str) -> bool:
    return day.weekday() < 5 and day not in _holidays(country, day.year)


def add_business_days(day: dt.date, days: int, *, country: str) -> dt.date:
    """`day` plus `days` business days: weekends and the country's public holidays skipped.
    T+0 of a holiday is the next business day."""
    current = day
    if days == 0:
        while not is_business_day(current, country=country):
            current += dt.timedelta(days=1)
        return current
    remaining = days
    while remaining:
        current += dt.timedelta(days=1)
        if is_business_day(current, country=country):
            remaining -= 1
    return current
