from django.db import models
from django.utils import timezone


class TimeStampedModel(models.Model):
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        abstract = True


class Heartbeat(models.Model):
    """Last time each background process proved it runs tasks (shown by /readyz)."""

    name = models.CharField(max_length=64, unique=True)
    seen_at = models.DateTimeField()
    hostname = models.CharField(max_length=255, blank=True)

    def __str__(self) -> str:
        return f"{self.name} @ {self.seen_at:%Y-%m-%d %H:%M:%S}"


class IdempotencyKey(models.Model):
    """One `Idempotency-Key` of one account and mode: the request it was first used with and,
    once the request finished, the response to replay (Stripe semantics, kept 24 hours).

    core sits below merchants, so the account is its public id, not a foreign key.
    """

    account = models.CharField(max_length=64)
    livemode = models.BooleanField()
    key = models.CharField(max_length=255)
    request_method = models.CharField(max_length=8)
    request_path = models.CharField(max_length=2048)
    # HMAC of method, path and canonical parameters: compares requests without keeping
    # their parameters (which may hold card data).
    request_fingerprint = models.CharField(max_length=64)
    request_id = models.CharField(max_length=64, blank=True)  # echoed as Original-Request
    # Set while a request runs with this key; a stale lock means the request crashed.
    locked_at = models.DateTimeField(null=True, blank=True)
    response_status = models.PositiveSmallIntegerField(null=True, blank=True)
    response_body = models.JSONField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)  # the purge scans it
    completed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            # Two racing requests with one key: the database lets exactly one insert win.
            models.UniqueConstraint(
                fields=["account", "livemode", "key"], name="core_idempotencykey_unique"
            ),
            # A finished request always has the response that replays it.
            models.CheckConstraint(
                condition=models.Q(completed_at__isnull=True)
                | models.Q(response_status__isnull=False),
                name="core_idempotencykey_completed_has_response",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.account} {self.key}"


class APIRequestLog(models.Model):
    """One /v1 request of one account and mode, for the dashboard's Developers → Logs.

    It lives in core beside IdempotencyKey because the API plumbing (core.api) records it,
    and for the same reason the account is its public id, not a foreign key (core sits
    below merchants). No request or response body is kept: bodies can hold card data. The
    key is kept as its prefix and last 4 characters only. Rows are written in batches by
    a beat task from a Redis list (core.api.requestlog), never on the request's own path,
    and kept 30 days.
    """

    # Unique per request, made when it is recorded: a batch written twice (a flusher that
    # died after its insert) is written once.
    uid = models.UUIDField(unique=True)
    account = models.CharField(max_length=64)
    livemode = models.BooleanField()
    api_key_prefix = models.CharField(max_length=8)
    api_key_last4 = models.CharField(max_length=4)
    method = models.CharField(max_length=8)
    path = models.CharField(max_length=2048)
    status = models.PositiveSmallIntegerField()
    idempotency_key = models.CharField(max_length=255, blank=True)
    request_id = models.CharField(max_length=64, blank=True)
    duration_ms = models.PositiveIntegerField()
    ip_address = models.GenericIPAddressField(null=True, blank=True)
    created_at = models.DateTimeField(db_index=True)  # the 30-day purge scans it

    class Meta:
        indexes = [
            # The dashboard's list: one account and mode, newest first, a page at a time
            # (keyset on created_at, id), whatever the filters.
            models.Index(
                "account",
                "livemode",
                models.F("created_at").desc(),
                models.F("id").desc(),
                name="core_apirequestlog_list",
            ),
            # The filters that pick out few rows among many (errors, one idempotency key):
            # without these a page of 5xx would read every request of the last 30 days.
            # Rows are written in batches off the request path, so the indexes cost the
            # API nothing.
            models.Index(
                fields=["account", "livemode", "status", "created_at"],
                name="core_apirequestlog_status",
            ),
            models.Index(
                fields=["account", "livemode", "idempotency_key"],
                condition=~models.Q(idempotency_key=""),
                name="core_apirequestlog_idem",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.method} {self.path} {self.status}"

    @property
    def api_key(self) -> str:
        return f"{self.api_key_prefix}…{self.api_key_last4}"
