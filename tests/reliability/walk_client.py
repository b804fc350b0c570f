"""The merchant's side of the random walk: HTTP calls to /v1 as an integration makes them.

Bodies are form-encoded in bracket notation with literal brackets (as the Stripe SDKs send
them), every POST carries an Idempotency-Key, and every exchange is kept so the walk can
re-send one (a network retry) and check afterwards what the API answered.
"""

from collections import Counter
from dataclasses import dataclass, field
from urllib.parse import urlencode

import requests

TIMEOUT = 30

# Stripe's error types, and the statuses each may come with.
ERROR_STATUSES = {
    "card_error": {402},
    "invalid_request_error": {400, 404, 409},
    "idempotency_error": {400},
    "authentication_error": {401},
    "rate_limit_error": {429},
}
ERROR_FIELDS = {"type", "code", "decline_code", "message", "param", "doc_url", "payment_intent",
                "charge", "payment_method", "refund"}  # fmt: skip


def form_encode(params: dict) -> str:
    """{"a": {"b": [1]}} -> "a[b][0]=1"."""
    pairs: list[tuple[str, str]] = []

    def walk(prefix: str, value) -> None:
        if isinstance(value, dict):
            for key, item in value.items():
                walk(f"{prefix}[{key}]" if prefix else key, item)
        elif isinstance(value, list | tuple):
            for index, item in enumerate(value):
                walk(f"{prefix}[{index}]", item)
        else:
            pairs.append((prefix, str(value).lower() if isinstance(value, bool) else str(value)))

    walk("", params)
    return urlencode(pairs, safe="[]")


@dataclass
class Exchange:
    method: str
    path: str
    params: dict
    key: str | None
    status: int
    body: object  # the parsed JSON, or None when the answer was not JSON
    content_type: str
    replayed: bool
    seconds: float = 0.0

    @property
    def error(self) -> dict:
        return self.body.get("error", {}) if isinstance(self.body, dict) else {}

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300


@dataclass
class WalkClient:
    """One connection per request (no requests.Session): with keep-alive, the live server's
    small writes meet the client's delayed ACK and every request waits 40 ms more."""

    base_url: str
    api_key: str
    exchanges: list[Exchange] = field(default_factory=list)
    _keys: int = 0

    def new_key(self) -> str:
        self._keys += 1
        return f"walk-{self._keys}"

    def post(self, path: str, params: dict, *, key: str | None = None) -> Exchange:
        """POST with a fresh Idempotency-Key, or with `key` (a retry)."""
        key = key or self.new_key()
        response = requests.post(
            self.base_url + path,
            data=form_encode(params),
            headers={
                "Authorization": f"Bearer {self.api_key}",
                "Content-Type": "application/x-www-form-urlencoded",
                "Idempotency-Key": key,
            },
            timeout=TIMEOUT,
        )
        return self._keep("POST", path, params, key, response)

    def get(self, path: str, params: dict | None = None) -> Exchange:
        query = form_encode(params or {})
        url = self.base_url + path + (f"?{query}" if query else "")
        response = requests.get(
            url, headers={"Authorization": f"Bearer {self.api_key}"}, timeout=TIMEOUT
        )
        return self._keep("GET", path, params or {}, None, response)

    def _keep(self, method, path, params, key, response) -> Exchange:
        try:
            body = response.json()
        except ValueError:
            body = None
        exchange = Exchange(
            method=method,
            path=path,
            params=params,
            key=key,
            status=response.status_code,
            body=body,
            content_type=response.headers.get("Content-Type", ""),
            replayed=response.headers.get("Idempotent-Replayed") == "true",
            seconds=response.elapsed.total_seconds(),
        )
        self.exchanges.append(exchange)
        return exchange

    def statuses(self) -> dict[str, int]:
        """How often each status came back, with the error code: {"200": 80, "402
        card_declined": 5, ...}."""
        counts = Counter(
            f"{e.status} {e.error.get('code') or e.error.get('type')}" if e.error else str(e.status)
            for e in self.exchanges
        )
        return dict(sorted(counts.items()))


def stripe_shape_problems(exchange: Exchange) -> list[str]:
    """Why an answer is not in Stripe's shape: a JSON object with id, object, livemode and
    created (or a list), or {"error": {type, message, ...}} with the status of its type."""
    where = f"{exchange.method} {exchange.path} -> {exchange.status}"
    body = exchange.body
    if not exchange.content_type.startswith("application/json") or not isinstance(body, dict):
        return [f"{where}: not a JSON object ({exchange.content_type})"]
    if exchange.ok:
        if body.get("object") == "list":
            missing = {"data", "has_more", "url"} - body.keys()
        else:
            missing = {"id", "object", "livemode", "created"} - body.keys()
        return [f"{where}: missing {sorted(missing)}"] if missing else []
    error = body.get("error")
    if set(body) != {"error"} or not isinstance(error, dict):
        return [f"{where}: an error must be {{'error': {{...}}}}, got {sorted(body)}"]
    problems = []
    if exchange.status not in ERROR_STATUSES.get(error.get("type"), ()):
        problems.append(f"{where}: error type {error.get('type')!r} with this status")
    if not isinstance(error.get("message"), str) or not error["message"]:
        problems.append(f"{where}: error without a message")
    if unknown := set(error) - ERROR_FIELDS:
        problems.append(f"{where}: unknown error fields {sorted(unknown)}")
    return problems
