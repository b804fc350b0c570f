"""API keys: `Authorization: Bearer sk_test_...` or HTTP Basic with the key as user name."""

import base64
import binascii
import re
from datetime import timedelta

from django.utils import timezone
from rest_framework.authentication import BaseAuthentication

from core.errors import AuthenticationError
from core.prepared import Prepared

KEY_SHAPE = re.compile(r"^(sk|pk|rk)_(test|live)_[A-Za-z0-9]{8,128}$")
# last_used_at is for the dashboard ("used 3 minutes ago"); writing it on every request
# would turn every read into a write, so it is refreshed at most once a minute.
LAST_USED_RESOLUTION = timedelta(minutes=1)

NO_KEY_MESSAGE = (
    "You did not provide an API key. You need to provide your API key in the Authorization "
    "header, using Bearer auth (e.g. 'Authorization: Bearer YOUR_SECRET_KEY'). "
    "See the API reference for details."
)


def _key_by_hash(key_hash: str):
    # merchants sits above core; this is core's single, lazy reach into it.
    from merchants.models import APIKey

    return APIKey.objects.select_related("merchant").filter(key_hash=key_hash)[:1]


_KEY_BY_HASH = Prepared(_key_by_hash)


def redact_key(raw: str) -> str:
    """sk_test_abcdef...wxyz -> sk_test_****wxyz (what Stripe echoes back in errors)."""
    match = KEY_SHAPE.match(raw)
    prefix = raw[: raw.index("_", 3) + 1] if match else ""
    return f"{prefix}****{raw[-4:] if len(raw) > 8 else ''}"


def _invalid(raw: str) -> AuthenticationError:
    return AuthenticationError(
        f"Invalid API Key provided: {redact_key(raw)}", code="invalid_api_key"
    )


def key_from_header(header: str) -> str | None:
    """The raw key from an Authorization header, or None when there is none."""
    scheme, _, value = header.strip().partition(" ")
    value = value.strip()
    if scheme.lower() == "bearer":
        return value or None
    if scheme.lower() == "basic":
        try:
            decoded = base64.b64decode(value, validate=True).decode()
        except (binascii.Error, UnicodeDecodeError):
            raise AuthenticationError(
                "Invalid API Key provided: the Basic credentials are not valid base64.",
                code="invalid_api_key",
            ) from None
        return decoded.partition(":")[0] or None
    if header.strip():
        raise AuthenticationError(
            "Invalid Authorization header: use 'Authorization: Bearer YOUR_SECRET_KEY'.",
            code="invalid_api_key",
        )
    return None


class APIKeyAuthentication(BaseAuthentication):
    """Authenticates a merchant's API key; returns (None, APIKey) so request.auth is the key.

    Raises Stripe-shaped errors (core.errors) rather than DRF's, so every failure renders
    like Stripe's. A missing key is not an error here: the view decides (StripeAPIView).
    """

    def authenticate(self, request):
        raw = key_from_header(request.META.get("HTTP_AUTHORIZATION", ""))
        if raw is None:
            return None
        if not KEY_SHAPE.match(raw):
            raise _invalid(raw)
        from merchants.models import APIKey, MerchantStatus
        from merchants.services import hash_key

        api_key = _KEY_BY_HASH.first(key_hash=hash_key(raw))
        now = timezone.now()
        if api_key is None or api_key.revoked_at is not None:
            raise _invalid(raw)
        if api_key.expires_at is not None and api_key.expires_at <= now:
            raise AuthenticationError(
                f"Expired API Key provided: {redact_key(raw)}", code="api_key_expired"
            )
        if api_key.merchant.status != MerchantStatus.ACTIVE:
            raise AuthenticationError(
                "The account behind this API key is not active.", code="account_invalid"
            )
        if api_key.last_used_at is None or api_key.last_used_at < now - LAST_USED_RESOLUTION:
            APIKey.objects.filter(pk=api_key.pk).update(last_used_at=now)
            api_key.last_used_at = now
        return (None, api_key)

    def authenticate_header(self, request) -> str:
        return 'Bearer realm="gateway"'
