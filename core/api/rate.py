"""Requests per second per API key (429 with Retry-After past the limit), as Stripe does.

Counted in the cache with fixed one-second windows (core.ratelimit). Only with Redis as the
cache: on the embedded default the database cache would add two writes to every request,
for a single-user setup that needs no limit.
"""

from django.conf import settings

from core.errors import RateLimitError
from core.ratelimit import Limit, hit


class ApiRateLimitError(RateLimitError):
    default_code = "rate_limit"
    retry_after = 1


def check_api_rate(api_key) -> None:
    per_second = settings.GATEWAY_API_RATE_LIMIT_PER_SECOND
    if not per_second or not settings.REDIS_URL:
        return
    if hit(Limit("api_key", per_second, 1), str(api_key.pk)) > per_second:
        raise ApiRateLimitError(
            f"Too many requests hit the API too quickly: at most {per_second} requests per "
            "second per API key. Retry after a second, with exponential backoff.",
        )
