"""The API request log: one row per /v1 request (core.models.APIRequestLog), kept 30 days.

The lead's budget for a payment confirm is a handful of SQL statements, so recording a
request adds no database write to it. With Redis (REDIS_URL), the web process pushes one
compact JSON record onto a Redis list when the response is closed (after it was sent), and
a beat task (`core.flush_api_request_log`, every few seconds) moves the list into the table
in batches with bulk_create. Without Redis (the embedded SQLite setup, one small process)
the row is inserted directly, also after the response.

A flush claims a batch atomically (one Lua script: LRANGE + LTRIM off the queue, and the
same items onto a claim list registered with its time), inserts it, then deletes the
claim. Two flushers at once never claim the same record; a flusher that dies after its
claim leaves the claim behind, and the next flush takes it over after CLAIM_TIMEOUT (an
atomic check-and-restamp decides which flusher wins it). Each record carries a UUID that is
unique in the table, so a batch inserted twice (a flusher that died after its insert but
before deleting its claim) is written once.
"""

import json
import logging
import time
import uuid
from datetime import UTC, datetime, timedelta

from django.conf import settings
from django.utils import timezone

from core.models import APIRequestLog

logger = logging.getLogger(__name__)

QUEUE = "gateway:apilog"
CLAIMS = "gateway:apilog:claims"  # sorted set: claim list key -> time claimed
CLAIM_TIMEOUT = 300  # seconds before a claim whose flusher vanished is taken over
BATCH_SIZE = 1000
RETENTION = timedelta(days=30)

# Atomically move up to ARGV[1] records from the queue (KEYS[1]) onto a new claim list
# (KEYS[2]) registered in the claims set (KEYS[3]) with the time ARGV[2].
_CLAIM = """
local items = redis.call('LRANGE', KEYS[1], 0, tonumber(ARGV[1]) - 1)
if #items == 0 then return items end
redis.call('LTRIM', KEYS[1], #items, -1)
redis.call('RPUSH', KEYS[2], unpack(items))
redis.call('ZADD', KEYS[3], ARGV[2], KEYS[2])
return items
"""

# Take over a stale claim (ARGV[1]) if it is still older than ARGV[2]: re-stamp it ARGV[3].
# Atomic, so of two flushers that saw it stale exactly one gets it.
_TAKE_OVER = """
local at = redis.call('ZSCORE', KEYS[1], ARGV[1])
if at and tonumber(at) <= tonumber(ARGV[2]) then
  redis.call('ZADD', KEYS[1], ARGV[3], ARGV[1])
  return 1
end
return 0
"""

_client = None


def _redis():
    """One connection pool per process."""
    global _client
    if _client is None:
        import redis

        _client = redis.Redis.from_url(settings.REDIS_URL)
    return _client


def api_request_record(
    *,
    account: str,
    livemode: bool,
    api_key_prefix: str,
    api_key_last4: str,
    method: str,
    path: str,
    status: int,
    idempotency_key: str,
    request_id: str,
    duration_ms: int,
    ip_address: str | None,
) -> None:
    """Record one API request: onto the Redis queue, or (no Redis, or Redis failing) straight
    into the table. Never raises: a request log must not break the API."""
    record = {
        "u": uuid.uuid4().hex,
        "a": account,
        "l": 1 if livemode else 0,
        "kp": api_key_prefix,
        "k4": api_key_last4,
        "m": method,
        "p": path[:2048],
        "s": status,
        "i": idempotency_key[:255],
        "r": request_id[:64],
        "d": duration_ms,
        "ip": ip_address,
        "t": round(time.time(), 6),
    }
    try:
        if settings.REDIS_URL:
            try:
                _redis().rpush(QUEUE, json.dumps(record, separators=(",", ":")))
                return
            except Exception:
                logger.warning("api request log: Redis push failed, writing the row directly")
        APIRequestLog.objects.bulk_create([_row(record)], ignore_conflicts=True)
    except Exception:
        logger.exception("api request log: the request could not be recorded")


def record_on_close(request, response, *, started: float, idempotency_key: str) -> None:
    """Record an authenticated /v1 request once its response is closed (sent), so the
    recording costs the client nothing. Requests without a valid key belong to no account
    and are not recorded."""
    api_key = getattr(request, "_auth", None)  # DRF's authenticated key, if any
    if api_key is None:
        return
    django_request = getattr(request, "_request", request)
    fields = {
        "account": api_key.merchant.public_id,
        "livemode": api_key.livemode,
        "api_key_prefix": api_key.prefix,
        "api_key_last4": api_key.last4,
        "method": request.method,
        "path": request.path,
        "status": response.status_code,
        "idempotency_key": idempotency_key or "",
        "request_id": getattr(django_request, "request_id", ""),
        "ip_address": django_request.META.get("REMOTE_ADDR") or None,
    }

    def record() -> None:
        duration_ms = int((time.monotonic() - started) * 1000)
        api_request_record(**fields, duration_ms=duration_ms)

    response._resource_closers.append(record)


def _row(record: dict) -> APIRequestLog:
    return APIRequestLog(
        uid=uuid.UUID(record["u"]),
        account=record["a"],
        livemode=bool(record["l"]),
        api_key_prefix=record["kp"],
        api_key_last4=record["k4"],
        method=record["m"],
        path=record["p"],
        status=record["s"],
        idempotency_key=record["i"],
        request_id=record["r"],
        duration_ms=record["d"],
        ip_address=record["ip"],
        created_at=datetime.fromtimestamp(record["t"], tz=UTC),
    )


def _insert(items: list[bytes]) -> int:
    rows = []
    for item in items:
        try:
            rows.append(_row(json.loads(item)))
        except (ValueError, KeyError, TypeError):
            logger.error("api request log: dropping a malformed record %r", item[:200])
    APIRequestLog.objects.bulk_create(rows, ignore_conflicts=True, batch_size=BATCH_SIZE)
    return len(rows)


def _finish(client, claim: str) -> None:
    pipe = client.pipeline(transaction=True)
    pipe.delete(claim)
    pipe.zrem(CLAIMS, claim)
    pipe.execute()


def api_request_log_flush(*, max_batches: int = 100) -> int:
    """Move queued records into the table, BATCH_SIZE at a time (at most `max_batches`
    batches per call); first take over claims left behind by a flusher that died. Safe to
    run concurrently: no record is lost or written twice. Returns the records written."""
    if not settings.REDIS_URL:
        return 0
    client = _redis()
    written = 0
    now = time.time()
    take_over = client.register_script(_TAKE_OVER)
    for stale in client.zrangebyscore(CLAIMS, 0, now - CLAIM_TIMEOUT):
        if take_over(keys=[CLAIMS], args=[stale, now - CLAIM_TIMEOUT, now]):
            written += _insert(client.lrange(stale, 0, -1))
            _finish(client, stale)
    claim_script = client.register_script(_CLAIM)
    for _ in range(max_batches):
        claim = f"{QUEUE}:claim:{uuid.uuid4().hex}"
        items = claim_script(keys=[QUEUE, claim, CLAIMS], args=[BATCH_SIZE, time.time()])
        if not items:
            break
        written += _insert(items)
        _finish(client, claim)
        if len(items) < BATCH_SIZE:
            break
    return written


def api_request_log_purge(*, older_than: timedelta = RETENTION, batch_size: int = 5000) -> int:
    """Delete rows older than `older_than` (30 days), in batches. Idempotent."""
    cutoff = timezone.now() - older_than
    total = 0
    while True:
        ids = list(
            APIRequestLog.objects.filter(created_at__lt=cutoff).values_list("pk", flat=True)[
                :batch_size
            ]
        )
        if not ids:
            return total
        deleted, _ = APIRequestLog.objects.filter(pk__in=ids).delete()
        total += deleted
