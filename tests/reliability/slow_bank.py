"""Settings and a bank client for a Celery worker that dies inside a bank payout.

`config.settings.test` with GATEWAY_SANDBOX_BANK pointing at SlowBankClient: the sandbox
bank decides and commits the payout, then its answer takes a minute to come back, long
enough for a test to SIGKILL the worker while it waits
(tests/reliability/test_kill_celery_worker.py)."""

import time

from config.settings.test import *  # noqa: F403

GATEWAY_SANDBOX_BANK = "tests.reliability.slow_bank.SlowBankClient"
HOLD_SECONDS = 60


class SlowBankClient:
    """sandbox.bank.BankClient, answering create_payout late."""

    def __init__(self):
        from sandbox.bank import BankClient  # models: only once Django is set up

        self._bank = BankClient()

    def create_payout(self, request: dict, *, timeout: float | None = None) -> dict:
        answer = self._bank.create_payout(request, timeout=timeout)
        time.sleep(HOLD_SECONDS)
        return answer

    def __getattr__(self, name):
        return getattr(self._bank, name)
