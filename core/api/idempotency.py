"""`Idempotency-Key` on POST, with Stripe's semantics (DESIGN.md §5).

The first request with a key inserts an in-flight row (the unique constraint lets exactly one
of two racing requests in), runs outside any transaction, then stores its status and body.
A retry with the same parameters replays that response; with other parameters it is a 400
idempotency_error; while the first still runs, a 409. 5xx answers and parameter validation
errors are not stored (the row is released, so a retry runs again); other 4xx and 402 are.
"""

import hashlib
import hmac
import json
import logging
from contextlib import nullcontext
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from core import writes
from core.errors import APIError, IdempotencyError
from core.models import IdempotencyKey

logger = logging.getLogger("core.api")

KEY_MAX_LENGTH = 255
KEY_TTL = timedelta(hours=24)
# A request holding a key longer than this is presumed dead (crashed worker) and its key
# may be taken over. Longer than any request may run (gunicorn's timeout is 30 s).
LOCK_TIMEOUT = timedelta(seconds=60)


class IdempotencyKeyInUseError(APIError):
    status = 409
    type = "invalid_request_error"
    default_code = "idempotency_key_in_use"


class IdempotencyMismatchError(IdempotencyError):
    default_code = None


def _retry_hint(key: str) -> str:
    return f"Try using a key other than '{key}' if you meant to execute a different request."


def fingerprint(*, method: str, path: str, params: dict) -> str:
    # Keyed, so that the stored value reveals nothing about parameters (card numbers) even
    # to someone who can guess most of them.
    canonical = json.dumps(
        {"method": method, "path": path, "params": params},
        sort_keys=True,
        separators=(",", ":"),
        default=str,
    )
    return hmac.new(settings.SECRET_KEY.encode(), canonical.encode(), hashlib.sha256).hexdigest()


def validate_key(key: str) -> str:
    if len(key) > KEY_MAX_LENGTH:
        raise APIError(
            f"Invalid Idempotency-Key: it can be at most {KEY_MAX_LENGTH} characters long.",
            code="idempotency_key_invalid",
        )
    if not key.strip():
        raise APIError(
            "Invalid Idempotency-Key: it cannot be empty.", code="idempotency_key_invalid"
        )
    return key


def _single_statement():
    """A lone INSERT needs no transaction of its own in autocommit mode (BEGIN and COMMIT
    would be two more round trips on every POST); inside a caller's transaction a savepoint
    keeps a duplicate key from breaking it."""
    if transaction.get_connection().in_atomic_block:
        return transaction.atomic()
    return nullcontext()


@dataclass
class Claim:
    """Either the key is ours to run the request with (`held`), or a response to replay."""

    row: IdempotencyKey
    held: bool


def idempotency_begin(
    *,
    account: str,
    livemode: bool,
    key: str,
    method: str,
    path: str,
    params: dict,
    request_id: str = "",
) -> Claim:
    """Claim `key` for this request, or return the finished response to replay.

    Raises IdempotencyMismatchError (400) when the key was used for another request and
    IdempotencyKeyInUseError (409) while the first request still runs.
    """
    digest = fingerprint(method=method, path=path, params=params)
    scope = {"account": account, "livemode": livemode, "key": key}
    for _attempt in range(3):
        now = timezone.now()
        try:
            with _single_statement():
                row = writes.insert(
                    IdempotencyKey(
                        **scope,
                        request_method=method,
                        request_path=path[:2048],
                        request_fingerprint=digest,
                        request_id=request_id[:64],
                        locked_at=now,
                        created_at=now,
                    )
                )
            return Claim(row=row, held=True)
        except IntegrityError:
            pass
        existing = IdempotencyKey.objects.filter(**scope).first()
        if existing is None:  # purged or released between our insert and this read
            continue
        if existing.created_at < now - KEY_TTL:
            # Keys live 24 hours; an older one is reused as if new.
            IdempotencyKey.objects.filter(pk=existing.pk, created_at=existing.created_at).delete()
            continue
        if (existing.request_method, existing.request_path) != (method, path):
            raise IdempotencyMismatchError(
                "Keys for idempotent requests can only be used for the same endpoint they "
                f"were first used for ('{existing.request_method} {existing.request_path}' vs "
                f"'{method} {path}'). {_retry_hint(key)}"
            )
        if existing.request_fingerprint != digest:
            raise IdempotencyMismatchError(
                "Keys for idempotent requests can only be used with the same parameters they "
                f"were first used with. {_retry_hint(key)}"
            )
        if existing.completed_at is not None:
            return Claim(row=existing, held=False)
        if existing.locked_at is not None and existing.locked_at < now - LOCK_TIMEOUT:
            taken = IdempotencyKey.objects.filter(
                pk=existing.pk, locked_at=existing.locked_at, completed_at__isnull=True
            ).update(locked_at=now)
            if taken:
                existing.locked_at = now
                return Claim(row=existing, held=True)
        break
    raise IdempotencyKeyInUseError(
        "There is currently another in-progress request using this Idempotent Key (that "
        "probably means you submitted twice, and the other request is still going through): "
        f"{key}. Please try again later."
    )


_STILL_HELD = (
    'SELECT 1 FROM "core_idempotencykey" WHERE "core_idempotencykey"."id" = %s'
    ' AND "core_idempotencykey"."locked_at" = %s'
    ' AND "core_idempotencykey"."completed_at" IS NULL FOR UPDATE'
)


def idempotency_complete(claim: Claim, *, status: int, body) -> None:
    """Store the response for replays. A no-op when another request took the key over."""
    now = timezone.now()
    row = claim.row
    if writes.one_statement():  # one guarded statement, written without the ORM's compiling
        held_since = row.locked_at
        row.response_status, row.response_body = status, body
        row.completed_at, row.locked_at = now, None
        try:
            with writes.write_batch(guard=(_STILL_HELD, [row.pk, held_since])):
                writes.save(
                    row,
                    update_fields=["response_status", "response_body", "completed_at", "locked_at"],
                )
            return
        except writes.GuardFailed:
            stored = 0
    else:
        stored = IdempotencyKey.objects.filter(
            pk=row.pk, locked_at=row.locked_at, completed_at__isnull=True
        ).update(response_status=status, response_body=body, completed_at=now, locked_at=None)
    if not stored:
        logger.warning("idempotency key was taken over before its request finished")


def idempotency_release(claim: Claim) -> None:
    """Forget the key (5xx or invalid parameters), so that a retry runs afresh."""
    IdempotencyKey.objects.filter(
        pk=claim.row.pk, locked_at=claim.row.locked_at, completed_at__isnull=True
    ).delete()


def idempotency_purge(*, older_than: timedelta = KEY_TTL, batch_size: int = 5000) -> int:
    """Delete keys older than `older_than`, in batches. Idempotent; returns how many."""
    cutoff = timezone.now() - older_than
    total = 0
    while True:
        ids = list(
            IdempotencyKey.objects.filter(created_at__lt=cutoff).values_list("pk", flat=True)[
                :batch_size
            ]
        )
        if not ids:
            return total
        deleted, _ = IdempotencyKey.objects.filter(pk__in=ids, created_at__lt=cutoff).delete()
        total += deleted
