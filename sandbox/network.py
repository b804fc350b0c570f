"""The sandbox card network as a processor client would see it.

The sandbox connector loads `CardNetworkClient` by dotted path (setting
GATEWAY_SANDBOX_CARD_NETWORK) and talks to it as if over the wire: requests and answers are
JSON (they go through json.dumps/loads), each operation commits in its own transaction, and
transport failures are the builtin exceptions a network client would raise:

- TimeoutError: no answer in time; the operation may or may not have happened.
- an answer with "http_status" 503: the network refused to process; nothing happened.
- otherwise "http_status" 200 (or 404 for an inquiry about an unknown reference) and the body.

Injected faults (sandbox.faults) decide which of these a call gets.
"""

import json
import time
from collections.abc import Callable

from sandbox import faults, services
from sandbox.cards import profile_of
from sandbox.models import Authorization, FaultKind, IssuerAccount


class CardNetworkClient:
    """An in-process client of the sandbox card network. Every method takes a dict and
    returns a dict; `timeout` (seconds) is how long the caller waits for an answer."""

    def authorize(self, request: dict, *, timeout: float | None = None) -> dict:
        """request: reference, amount, currency, capture, card {number, exp_month, exp_year,
        cvc}, merchant {id, name, country}, authentication_return_url, customer_ip."""
        return self._call("authorize", services.authorize, request, timeout)

    def capture(self, request: dict, *, timeout: float | None = None) -> dict:
        """request: reference, authorization_reference, amount, currency."""
        return self._call("capture", services.capture, request, timeout)

    def void(self, request: dict, *, timeout: float | None = None) -> dict:
        """request: reference, authorization_reference."""
        return self._call("void", services.void, request, timeout)

    def refund(self, request: dict, *, timeout: float | None = None) -> dict:
        """request: reference, capture_reference, amount, currency."""
        return self._call("refund", services.refund, request, timeout)

    def inquire(self, request: dict, *, timeout: float | None = None) -> dict:
        """request: reference. 404 when the network never received that reference."""
        return self._call("inquire", _inquire, request, timeout)

    def _call(
        self,
        operation: str,
        handler: Callable[[dict], dict],
        request: dict,
        timeout: float | None,
    ) -> dict:
        request = json.loads(json.dumps(request))  # only data crosses the wire
        fault = faults.take(operation)
        delay = fault.latency_ms / 1000 if fault else 0.0
        if fault and fault.kind in {FaultKind.TIMEOUT, FaultKind.SERVER_ERROR}:
            _wait(delay, timeout)
            if fault.kind == FaultKind.TIMEOUT:
                raise TimeoutError(f"sandbox card network: no answer to {operation}")
            return {
                "http_status": 503,
                "error": {"type": "api_error", "message": "The card network is unavailable."},
            }
        answer = handler(request)
        answer.setdefault("http_status", 200)
        _wait(delay, timeout)
        if fault and fault.kind == FaultKind.APPROVE_THEN_TIMEOUT:
            raise TimeoutError(f"sandbox card network: no answer to {operation}")
        return json.loads(json.dumps(answer))


def _wait(delay: float, timeout: float | None) -> None:
    """Sleep `delay`; if the caller would give up first, sleep until then and time out."""
    if timeout is not None and delay > timeout:
        time.sleep(timeout)
        raise TimeoutError("sandbox card network: answer too slow")
    if delay:
        time.sleep(delay)


def _inquire(request: dict) -> dict:
    answer = services.inquire(request)
    if answer is None:
        return {
            "http_status": 404,
            "error": {
                "type": "invalid_request_error",
                "code": "resource_missing",
                "message": f"No operation with reference {request['reference']}",
            },
        }
    return {"http_status": 200, **answer}


# --- Helpers for tests: what the network saw ------------------------------------------


def authorization_count(reference: str | None = None) -> int:
    """How many authorizations reached the network (for one reference: 0 or 1)."""
    rows = Authorization.objects.all()
    if reference is not None:
        rows = rows.filter(reference=reference)
    return rows.count()


def account_state(number: str) -> dict:
    """The issuer account of a card: credit_limit, held, spent and available amounts.
    An account that has seen no authorization yet shows its full limit."""
    account = IssuerAccount.objects.filter(card_hash=services.card_hash(number)).first()
    if account is None:
        limit = profile_of(number).credit_limit
        return {"credit_limit": limit, "held": 0, "spent": 0, "available": limit}
    return {
        "credit_limit": account.credit_limit,
        "held": account.held_amount,
        "spent": account.spent_amount,
        "available": account.available_amount,
    }
