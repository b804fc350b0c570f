"""The connector to the sandbox card network (DESIGN.md §7).

It talks to the network the way a real connector talks to a real processor: through a
client loaded by dotted path (GATEWAY_SANDBOX_CARD_NETWORK), plain data in and out, with a
timeout. It is the only code that asks the vault for a card number, at the moment it sends
an authorization; the number and the CVC live only in this call's memory.
"""

import time
from collections.abc import Callable

from django.conf import settings
from django.utils.module_loading import import_string

from core.prepared import Prepared
from payments.connectors.base import CardAuthorization, ConnectorResult, Outcome
from payments.models import VaultCard
from payments.vault import vault_reveal

_VAULT_CARD = Prepared(lambda pk: VaultCard.objects.filter(pk=pk)[:1])

DEFAULT_CLIENT = "sandbox.network.CardNetworkClient"
DEFAULT_TIMEOUT_SECONDS = 10.0

_SUCCEEDED = {"authorized", "captured", "voided", "succeeded"}
_DECLINED = {"declined", "failed"}
DEFAULT_BANK = "sandbox.bank.BankClient"
_PAYOUT_OUTCOMES = {
    "paid": Outcome.SUCCEEDED,
    "failed": Outcome.DECLINED,
    "pending": Outcome.PENDING,
    "in_transit": Outcome.PENDING,
}


class SandboxConnector:
    name = "sandbox"

    def __init__(
        self,
        client: object | None = None,
        *,
        timeout: float | None = None,
        bank: object | None = None,
    ):
        if client is None:
            path = getattr(settings, "GATEWAY_SANDBOX_CARD_NETWORK", DEFAULT_CLIENT)
            client = import_string(path)()
        self.client = client
        if timeout is None:
            timeout = getattr(settings, "GATEWAY_SANDBOX_TIMEOUT_SECONDS", DEFAULT_TIMEOUT_SECONDS)
        self.timeout = float(timeout)
        self._bank = bank

    def authorize(self, request: CardAuthorization) -> ConnectorResult:
        """Send the authorization under `request.reference`. Reads the PAN from the vault now;
        neither it nor the CVC is kept in the result."""
        vault_card = _VAULT_CARD.first(pk=request.vault_card_id)
        if vault_card is None:
            raise VaultCard.DoesNotExist(f"no vault card {request.vault_card_id}")
        payload = {
            "reference": request.reference,
            "amount": request.amount,
            "currency": request.currency,
            "capture": request.capture,
            "card": {
                "number": vault_reveal(vault_card=vault_card),
                "exp_month": request.exp_month,
                "exp_year": request.exp_year,
                "cvc": request.cvc,
            },
            "merchant": {
                "id": request.merchant_id,
                "name": request.merchant_name,
                "country": request.merchant_country,
            },
            "customer_ip": request.customer_ip,
            "authentication_return_url": request.authentication_return_url,
        }
        return self._send(self.client.authorize, payload)

    def capture(
        self, *, reference: str, authorization_reference: str, amount: int, currency: str
    ) -> ConnectorResult:
        return self._send(
            self.client.capture,
            {
                "reference": reference,
                "authorization_reference": authorization_reference,
                "amount": amount,
                "currency": currency,
            },
        )

    def void(self, *, reference: str, authorization_reference: str) -> ConnectorResult:
        return self._send(
            self.client.void,
            {"reference": reference, "authorization_reference": authorization_reference},
        )

    def refund(
        self, *, reference: str, capture_reference: str, amount: int, currency: str
    ) -> ConnectorResult:
        """`capture_reference`: the capture's reference, or the authorization's when it was
        captured at once."""
        return self._send(
            self.client.refund,
            {
                "reference": reference,
                "capture_reference": capture_reference,
                "amount": amount,
                "currency": currency,
            },
        )

    def inquire(self, *, reference: str) -> ConnectorResult:
        """The network's truth about `reference`: the stored outcome of the authorization or
        operation sent under it. TRANSIENT with code resource_missing when the network never
        received it (nothing happened, so resending the same reference is safe)."""
        return self._send(self.client.inquire, {"reference": reference})

    # --- the sandbox bank: payouts and the daily settlement report ----------------------

    @property
    def bank(self) -> object:
        if self._bank is None:
            path = getattr(settings, "GATEWAY_SANDBOX_BANK", DEFAULT_BANK)
            self._bank = import_string(path)()
        return self._bank

    def create_payout(
        self,
        *,
        reference: str,
        amount: int,
        currency: str,
        bank_code: str,
        account_number: str,
        account_holder_name: str,
    ) -> ConnectorResult:
        payload = {
            "reference": reference,
            "amount": amount,
            "currency": currency,
            "bank_code": bank_code,
            "account_number": account_number,
            "account_holder_name": account_holder_name,
        }
        return self._send_payout(self.bank.create_payout, payload)

    def inquire_payout(self, *, reference: str) -> ConnectorResult:
        return self._send_payout(self.bank.inquire_payout, {"reference": reference})

    def settlement_report(self, *, date) -> str:
        answer = self.bank.settlement_report({"date": date.isoformat()}, timeout=self.timeout)
        return answer["csv"]

    def _send_payout(self, method: Callable[..., dict], payload: dict) -> ConnectorResult:
        return exchange(method, payload, timeout=self.timeout, party="bank", parse=_payout_result)

    def _send(self, method: Callable[..., dict], payload: dict) -> ConnectorResult:
        return exchange(method, payload, timeout=self.timeout, party="card network", parse=_result)


def exchange(
    method: Callable[..., dict],
    payload: dict,
    *,
    timeout: float,
    party: str,
    parse: Callable[..., ConnectorResult],
) -> ConnectorResult:
    """One call to a sandbox party, as over the wire. No answer in time is UNKNOWN (it may
    have happened: inquire); a refused connection is TRANSIENT (nothing went out); an
    answer is mapped by `parse(answer, latency_ms=...)`."""
    started = time.monotonic()
    try:
        answer = method(payload, timeout=timeout)
    except TimeoutError:
        return ConnectorResult(
            outcome=Outcome.UNKNOWN,
            code="timeout",
            message=f"The {party} did not answer in time.",
            latency_ms=_since(started),
        )
    except (ConnectionError, OSError) as exc:
        return ConnectorResult(
            outcome=Outcome.TRANSIENT,
            code="processor_unavailable",
            message=f"The {party} could not be reached ({type(exc).__name__}).",
            latency_ms=_since(started),
        )
    return parse(answer, latency_ms=_since(started))


def error_answer(answer: dict, *, latency_ms: int, outcome: Outcome) -> ConnectorResult | None:
    """The result for a non-200 answer (None for a 200)."""
    if int(answer.get("http_status", 200)) == 200:
        return None
    error = answer.get("error") or {}
    return ConnectorResult(
        outcome=outcome,
        code=error.get("code", "processing_error"),
        message=error.get("message"),
        latency_ms=latency_ms,
        raw=answer,
    )


def _payout_result(answer: dict, *, latency_ms: int) -> ConnectorResult:
    failed = error_answer(answer, latency_ms=latency_ms, outcome=Outcome.TRANSIENT)
    if failed is not None:
        return failed
    return ConnectorResult(
        outcome=_PAYOUT_OUTCOMES.get(answer.get("status"), Outcome.UNKNOWN),
        processor_reference=answer.get("processor_reference"),
        code=answer.get("code"),
        message=answer.get("message"),
        amount=answer.get("amount"),
        latency_ms=latency_ms,
        raw=answer,
    )


def _since(started: float) -> int:
    return max(0, round((time.monotonic() - started) * 1000))


def _result(answer: dict, *, latency_ms: int) -> ConnectorResult:
    http_status = int(answer.get("http_status", 200))
    if http_status == 404:
        error = answer.get("error") or {}
        return ConnectorResult(
            outcome=Outcome.TRANSIENT,
            code=error.get("code", "resource_missing"),
            message=error.get("message"),
            latency_ms=latency_ms,
            raw=answer,
        )
    if http_status >= 500 or http_status == 429:
        error = answer.get("error") or {}
        return ConnectorResult(
            outcome=Outcome.TRANSIENT,
            code="processing_error",
            message=error.get("message", "The card network is unavailable."),
            latency_ms=latency_ms,
            raw=answer,
        )
    status = answer.get("status")
    if status == "requires_action":
        outcome = Outcome.REQUIRES_ACTION
    elif status in _SUCCEEDED:
        outcome = Outcome.SUCCEEDED
    elif status in _DECLINED:
        outcome = Outcome.DECLINED
    else:
        outcome = Outcome.UNKNOWN
    risk = answer.get("outcome") or {}
    next_action = answer.get("next_action") or {}
    return ConnectorResult(
        outcome=outcome,
        processor_reference=answer.get("processor_reference"),
        code=answer.get("code"),
        decline_code=answer.get("decline_code"),
        message=answer.get("message"),
        network_status=risk.get("network_status"),
        authorization_code=answer.get("authorization_code"),
        risk_score=risk.get("risk_score"),
        risk_level=risk.get("risk_level"),
        redirect_url=next_action.get("redirect_url"),
        card=answer.get("card") or {},
        amount=answer.get("amount"),
        latency_ms=latency_ms,
        raw=answer,
    )
