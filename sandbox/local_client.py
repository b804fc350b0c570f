"""The local-method providers as a processor client sees them (like sandbox.network for
cards): the gateway's sandbox_local connector loads `LocalProviderClient` by dotted path
(GATEWAY_SANDBOX_LOCAL_PROVIDERS) and exchanges JSON only. "http_status" 200 is an answer;
404 an unknown reference; 4xx a refused request; 503 nothing happened."""

import json

from sandbox import providers


def _wire(data: dict) -> dict:
    return json.loads(json.dumps(data))


class LocalProviderClient:
    def create_payment(self, request: dict, *, timeout: float | None = None) -> dict:
        """request: reference, method, amount, currency, expires_at, merchant, bank, phone."""
        return _wire(providers.create_payment(_wire(request)))

    def inquire(self, request: dict, *, timeout: float | None = None) -> dict:
        return _wire(providers.inquire(_wire(request)))

    def cancel(self, request: dict, *, timeout: float | None = None) -> dict:
        return _wire(providers.cancel(_wire(request)))

    def refund(self, request: dict, *, timeout: float | None = None) -> dict:
        """request: reference, payment_reference, amount, currency (e-wallets only)."""
        return _wire(providers.refund(_wire(request)))
