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
