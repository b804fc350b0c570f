"""The connector to the sandbox's local-method providers: e-wallets (GoPay, OVO, DANA,
ShopeePay), banks' virtual accounts and the QRIS acquirer (DESIGN.md §7).

A payment is created under our reference and answers requires_action: the customer pays in
the wallet app, at the bank or by scanning. The provider tells the outcome by a signed
callback (POST /hooks/sandbox_local/) or, when asked, by `inquire(reference)`. E-wallets
refund by API; virtual accounts and QRIS cannot, so their refunds are bank payouts
(`create_payout`, through the sandbox bank as for merchant payouts).
"""

from collections.abc import Callable

from django.conf import settings
from django.utils.module_loading import import_string

from payments.connectors.base import ConnectorResult, LocalPaymentRequest, Outcome
from payments.connectors.sandbox import SandboxConnector, error_answer, exchange

DEFAULT_CLIENT = "sandbox.local_client.LocalProviderClient"
_PAYMENT_OUTCOMES = {
    "pending": Outcome.REQUIRES_ACTION,
    "paid": Outcome.SUCCEEDED,
    "succeeded": Outcome.SUCCEEDED,  # refunds
    "failed": Outcome.DECLINED,
    "expired": Outcome.DECLINED,
    "canceled": Outcome.DECLINED,
}


class SandboxLocalConnector:
    name = "sandbox_local"

    def __init__(self, client: object | None = None, *, timeout: float | None = None):
        if client is None:
            path = getattr(settings, "GATEWAY_SANDBOX_LOCAL_PROVIDERS", DEFAULT_CLIENT)
            client = import_string(path)()
        self.client = client
        if timeout is None:
            timeout = getattr(settings, "GATEWAY_SANDBOX_TIMEOUT_SECONDS", 10.0)
        self.timeout = float(timeout)

    def create_payment(self, request: LocalPaymentRequest) -> ConnectorResult:
        return self._send(
            self.client.create_payment,
            {
                "reference": request.reference,
                "method": request.method,
                "amount": request.amount,
                "currency": request.currency,
                "expires_at": request.expires_at,
                "merchant": {"id": request.merchant_id, "name": request.merchant_name},
                "bank": request.bank,
                "phone": request.phone,
            },
        )

    def inquire(self, *, reference: str) -> ConnectorResult:
        """The provider's truth about a payment or e-wallet refund sent under `reference`
        (for a refund paid by payout: the bank's). REQUIRES_ACTION: still waiting for the
        customer; DECLINED with code expired, canceled or the decline's code."""
        result = self._send(self.client.inquire, {"reference": reference})
        if result.outcome == Outcome.TRANSIENT and result.code == "resource_missing":
            payout = SandboxConnector().inquire_payout(reference=reference)
            if payout.outcome != Outcome.TRANSIENT:
                return payout
        return result

    def cancel_payment(self, *, reference: str) -> ConnectorResult:
        """Close a pending payment so that it can no longer be paid. SUCCEEDED if the
        customer paid first (the payment stands), DECLINED (expired/canceled) otherwise."""
        return self._send(self.client.cancel, {"reference": reference})

    def refund(
        self, *, reference: str, capture_reference: str, amount: int, currency: str
    ) -> ConnectorResult:
        """An e-wallet refund; `capture_reference` is the payment's provider reference."""
        return self._send(
            self.client.refund,
            {
                "reference": reference,
                "payment_reference": capture_reference,
                "amount": amount,
                "currency": currency,
            },
        )

    def parse_callback(self, payload: dict) -> tuple[str, ConnectorResult]:
        """(our reference, the outcome) of a verified callback body:
        {"id", "type": "payment.paid|failed|expired", "data": {reference, status, ...}}."""
        data = payload.get("data") or {}
        status = data.get("status")
        code = status if status in ("expired", "canceled") else data.get("code")
        return str(data.get("reference") or ""), ConnectorResult(
            outcome=_PAYMENT_OUTCOMES.get(status, Outcome.UNKNOWN),
            processor_reference=data.get("provider_reference"),
            code=code,
            amount=data.get("amount"),
            raw=payload,
        )

    def create_payout(self, **kwargs) -> ConnectorResult:
        return SandboxConnector().create_payout(**kwargs)

    def inquire_payout(self, *, reference: str) -> ConnectorResult:
        return SandboxConnector().inquire_payout(reference=reference)

    def _send(self, method: Callable[..., dict], payload: dict) -> ConnectorResult:
        return exchange(method, payload, timeout=self.timeout, party="provider", parse=_result)


def _result(answer: dict, *, latency_ms: int) -> ConnectorResult:
    # A refusal (400-403) is the provider's final word; other errors are worth a retry.
    http_status = int(answer.get("http_status", 200))
    declined = Outcome.DECLINED if 400 <= http_status < 404 else Outcome.TRANSIENT
    failed = error_answer(answer, latency_ms=latency_ms, outcome=declined)
    if failed is not None:
        return failed
    status = answer.get("status")
    outcome = _PAYMENT_OUTCOMES.get(status, Outcome.UNKNOWN)
    code = answer.get("code")
    if status in ("expired", "canceled"):
        code = status
    return ConnectorResult(
        outcome=outcome,
        processor_reference=answer.get("provider_reference"),
        code=code,
        message=answer.get("message"),
        amount=answer.get("amount"),
        latency_ms=latency_ms,
        raw=answer,
    )
