import contextlib

from allauth.account.adapter import DefaultAccountAdapter
from django.conf import settings
from django.core.cache import cache


class AccountAdapter(DefaultAccountAdapter):
    """allauth's adapter, with a login lockout that holds under parallel attempts.

    allauth keeps its failure history as a list that each request reads and writes back,
    so a burst of parallel guesses can overwrite each other's entries and leave the account
    unlocked afterwards. Here every attempt first reserves a slot with an atomic increment
    (Redis INCR in production), before allauth's own check; past the limit it is refused
    without checking the password, and its slot stays taken (a refused attempt is still an
    attempt). Only a successful login gives its slot back. The window starts at the first
    attempt. Reserving first matters: when allauth's check refused some of the first ten
    parallel guesses, fewer than ten failures were counted and the right password got in.
    """

    def _attempts_key(self, request, **credentials) -> str:
        return "login-attempts:" + self._get_login_attempts_cache_key(request, **credentials)

    def pre_authenticate(self, request, **credentials) -> None:
        key = self._attempts_key(request, **credentials)
        cache.add(key, 0, timeout=settings.GATEWAY_LOGIN_LOCKOUT_SECONDS)
        try:
            attempts = cache.incr(key)
        except ValueError:  # expired between add and incr
            cache.set(key, 1, timeout=settings.GATEWAY_LOGIN_LOCKOUT_SECONDS)
            attempts = 1
        if attempts > settings.GATEWAY_LOGIN_MAX_FAILURES:
            raise self.validation_error("too_many_login_attempts")
        self._reserved_attempt_key = key
        super().pre_authenticate(request, **credentials)

    def _rollback_login_failed_rl_usage(self) -> None:
        super()._rollback_login_failed_rl_usage()
        key = getattr(self, "_reserved_attempt_key", None)
        if key:  # a successful login does not count as a failure
            self._reserved_attempt_key = None
            with contextlib.suppress(ValueError):
                cache.decr(key)
