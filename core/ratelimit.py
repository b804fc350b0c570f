"""Velocity limits against card testing (DESIGN.md §6): fixed-window counters in the cache.

Each counter is `cache.add(key, 0)` (create if missing, with the window as its lifetime)
followed by `cache.incr(key)`. On Redis (REDIS_URL set) both are single atomic commands,
so concurrent attempts are all counted; the database cache (no Redis) is good enough for
one small process but its incr is a read and a write.
"""

import time
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import cache

from core.errors import RateLimitError


@dataclass(frozen=True)
class Limit:
    name: str  # what is counted: "session", "ip", "card", "merchant"
    limit: int
    window: int  # seconds


def limits() -> dict[str, Limit]:
    return {
        "session": Limit(
            "session",
            settings.GATEWAY_CARD_ATTEMPTS_PER_SESSION,
            settings.GATEWAY_CARD_ATTEMPTS_PER_SESSION_WINDOW,
        ),
        "ip": Limit(
            "ip",
            settings.GATEWAY_CARD_ATTEMPTS_PER_IP,
            settings.GATEWAY_CARD_ATTEMPTS_PER_IP_WINDOW,
        ),
        "card": Limit(
            "card",
            settings.GATEWAY_CARD_ATTEMPTS_PER_CARD,
            settings.GATEWAY_CARD_ATTEMPTS_PER_CARD_WINDOW,
        ),
        # All of one merchant's card attempts, whatever the address: holds when an attacker
        # rotates IPs (and sessions) faster than the per-IP limit can see.
        "merchant": Limit(
            "merchant",
            settings.GATEWAY_CARD_ATTEMPTS_PER_MERCHANT,
            settings.GATEWAY_CARD_ATTEMPTS_PER_MERCHANT_WINDOW,
        ),
    }


def hit(limit: Limit, value: str, *, now: float | None = None) -> int:
    """Count one attempt for `value` under `limit`; returns the count in this window."""
    bucket = int((now if now is not None else time.time()) // limit.window)
    key = f"ratelimit:{limit.name}:{value}:{bucket}"
    cache.add(key, 0, timeout=limit.window + 5)
    try:
        return cache.incr(key)
    except ValueError:  # evicted between add and incr
        cache.set(key, 1, timeout=limit.window + 5)
        return 1


class TooManyAttemptsError(RateLimitError):
    default_code = "rate_limit"

    def __init__(self, message: str, *, limit: str):
        super().__init__(message)
        self.limit = limit


MESSAGE = (
    "Too many payment attempts. Please wait a few minutes before trying again, or use "
    "another payment method."
)


def card_attempt(
    *,
    ip: str | None,
    session_id: str | None = None,
    fingerprint: str | None = None,
    merchant: str | None = None,
) -> None:
    """Count a card attempt against every limit that applies; raise TooManyAttemptsError
    (429) when any is exceeded. Every counter is incremented, so a blocked client keeps
    being counted (no resetting a window by hammering). `merchant` is merchant_scope()."""
    table = limits()
    exceeded = None
    counted = (("session", session_id), ("ip", ip), ("card", fingerprint), ("merchant", merchant))
    for name, value in counted:
        if value and hit(table[name], value) > table[name].limit:
            exceeded = exceeded or name
    if exceeded:
        raise TooManyAttemptsError(MESSAGE, limit=exceeded)


def merchant_scope(merchant_id: int, livemode: bool) -> str:
    """The per-merchant counter's value: test-mode traffic never blocks live payments."""
    return f"{merchant_id}:{'live' if livemode else 'test'}"
