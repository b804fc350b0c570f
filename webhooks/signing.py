"""Webhook signatures in two formats at once, so both official verifiers accept a delivery.

- Standard Webhooks: `webhook-id`, `webhook-timestamp`, `webhook-signature: v1,<base64>`
  (HMAC-SHA256 of "{id}.{timestamp}.{body}" keyed with the base64-decoded part of the
  secret), one `v1,` entry per valid secret, space-separated.
- Stripe: `Stripe-Signature: t=<timestamp>,v1=<hex>` (HMAC-SHA256 of "{timestamp}.{body}"
  keyed with the whole "whsec_..." string), one `v1=` per valid secret.

A secret is "whsec_" + base64 of 32 random bytes: the shape both libraries expect.
"""

import base64
import hashlib
import hmac
import secrets

SECRET_PREFIX = "whsec_"
SECRET_BYTES = 32


def secret_generate() -> str:
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(SECRET_BYTES)).decode()


def _standard_key(secret: str) -> bytes:
    return base64.b64decode(secret.removeprefix(SECRET_PREFIX))


def standard_signature(secret: str, *, msg_id: str, timestamp: int, body: bytes) -> str:
    signed = f"{msg_id}.{timestamp}.".encode() + body
    digest = hmac.new(_standard_key(secret), signed, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode()


def stripe_signature(secret: str, *, timestamp: int, body: bytes) -> str:
    signed = f"{timestamp}.".encode() + body
    return hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()


def signature_headers(
    *, secrets_: list[str], msg_id: str, timestamp: int, body: bytes
) -> dict[str, str]:
    """The signature headers of one POST, signed with every secret in `secrets_`."""
    standard = " ".join(
        standard_signature(s, msg_id=msg_id, timestamp=timestamp, body=body) for s in secrets_
    )
    stripe = ",".join(f"v1={stripe_signature(s, timestamp=timestamp, body=body)}" for s in secrets_)
    return {
        "webhook-id": msg_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": standard,
        "Stripe-Signature": f"t={timestamp},{stripe}",
    }


def hmac_header_verify(
    *, secret: str, header: str, body: bytes, now: int, tolerance: int = 300
) -> bool:
    """Check a `t=<unix>,v1=<hex>` header (HMAC-SHA256 of "t.body" with `secret`).

    The format inbound processor callbacks are signed with; any v1 may match (secret rolls).
    """
    if not secret or not header:
        return False
    timestamp = None
    candidates = []
    for part in header.split(","):
        key, _, value = part.strip().partition("=")
        if key == "t":
            timestamp = value
        elif key == "v1":
            candidates.append(value)
    if timestamp is None or not timestamp.isdigit() or abs(now - int(timestamp)) > tolerance:
        return False
    expected = stripe_signature(secret, timestamp=int(timestamp), body=body)
    return any(hmac.compare_digest(expected, candidate) for candidate in candidates)
