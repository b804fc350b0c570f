"""Card-testing defence on the browser's /v1 calls (DESIGN.md §6).

With a publishable key anyone can send card numbers to POST /v1/payment_methods and
/v1/payment_intents/{id}/confirm, so these count against the per-IP, per-card and
per-merchant limits of core.ratelimit (the checkout page counts its own attempts, plus one
per session). Over a limit the answer is Stripe's 429 rate_limit error and the request never
reaches the view.
"""

import base64
import binascii
import json
import re

from django.http import JsonResponse

from core.api.params import parse_query
from core.ratelimit import TooManyAttemptsError, card_attempt, merchant_scope
from merchants.models import APIKey
from merchants.services import hash_key
from payments.cards import normalize_number
from payments.vault.services import card_fingerprint

_CARD_PATHS = re.compile(r"^/v1/(payment_methods|payment_intents/[^/]+/confirm)$")


def _publishable_key(header: str) -> str | None:
    scheme, _, value = header.strip().partition(" ")
    value = value.strip()
    if scheme.lower() == "basic":
        try:
            value = base64.b64decode(value, validate=True).decode().partition(":")[0]
        except (binascii.Error, UnicodeDecodeError):
            return None
    return value if value.startswith("pk_") else None


def _merchant_scope_of(raw_key: str) -> str | None:
    """merchant_scope() of the key's merchant; None for an unknown key (the view answers
    401 without counting: an attacker cannot fill another merchant's counter that way)."""
    row = (
        APIKey.objects.filter(key_hash=hash_key(raw_key))
        .values_list("merchant_id", "livemode")
        .first()
    )
    return merchant_scope(*row) if row else None


def _card_number(request) -> str | None:
    try:
        if request.content_type == "application/json":
            params = json.loads(request.body or b"{}")
        else:
            params = parse_query(request.body.decode())
    except Exception:  # a malformed body: the view answers it
        return None
    if not isinstance(params, dict):
        return None
    card = params.get("card") or (params.get("payment_method_data") or {}).get("card")
    if not isinstance(card, dict) or not card.get("number"):
        return None
    return normalize_number(card["number"]) or None


def client_ip(request) -> str:
    return request.META.get("REMOTE_ADDR", "")


def fingerprint_or_none(number: str | None) -> str | None:
    if not number or not number.isdigit() or not 12 <= len(number) <= 19:
        return None
    return card_fingerprint(number)


class PublishableKeyCardLimitMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        raw_key = _publishable_key(request.headers.get("Authorization", ""))
        if request.method == "POST" and raw_key and _CARD_PATHS.match(request.path):
            try:
                card_attempt(
                    ip=client_ip(request),
                    fingerprint=fingerprint_or_none(_card_number(request)),
                    merchant=_merchant_scope_of(raw_key),
                )
            except TooManyAttemptsError as exc:
                return JsonResponse(exc.as_dict(), status=exc.status)
        return self.get_response(request)
