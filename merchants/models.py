from django.conf import settings
from django.db import models
from django.db.models import Q

from core.ids import new_id
from core.models import TimeStampedModel


def _merchant_id() -> str:
    return new_id("acct", 16)


class MerchantStatus(models.TextChoices):
    ACTIVE = "active"
    SUSPENDED = "suspended"


class Merchant(TimeStampedModel):
    public_id = models.CharField(max_length=32, unique=True, default=_merchant_id, editable=False)
    name = models.CharField(max_length=200)
    country = models.CharField(max_length=2, default="ID")
    default_currency = models.CharField(max_length=3, default="idr")
    timezone = models.CharField(max_length=64, default="Asia/Jakarta")
    status = models.CharField(
        max_length=16, choices=MerchantStatus.choices, default=MerchantStatus.ACTIVE
    )

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(status__in=MerchantStatus.values), name="merchants_merchant_status"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.public_id})"


class APIKeyKind(models.TextChoices):
    SECRET = "secret"
    PUBLISHABLE = "publishable"


class APIKey(TimeStampedModel):
    """An API key. The key itself is shown once; only its SHA-256 is kept."""

    merchant = models.ForeignKey(Merchant, on_delete=models.PROTECT, related_name="api_keys")
    livemode = models.BooleanField(default=False)
    kind = models.CharField(max_length=16, choices=APIKeyKind.choices)
    # Keys are 32 random characters, so a plain SHA-256 is enough to make a leaked table
    # useless while allowing lookup by an indexed equality.
    key_hash = models.CharField(max_length=64, unique=True)
    prefix = models.CharField(max_length=8)  # sk_test_, pk_live_, ...
    last4 = models.CharField(max_length=4)
    name = models.CharField(max_length=100, blank=True)
    expires_at = models.DateTimeField(null=True, blank=True)  # set when rolled
    revoked_at = models.DateTimeField(null=True, blank=True)
    last_used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(kind__in=APIKeyKind.values), name="merchants_apikey_kind"
            ),
        ]

    def __str__(self) -> str:
        return self.redacted

    @property
    def redacted(self) -> str:
        return f"{self.prefix}…{self.last4}"


class Role(models.TextChoices):
    OWNER = "owner"
    ADMIN = "admin"
    DEVELOPER = "developer"
    ANALYST = "analyst"
    VIEWER = "viewer"


class Membership(TimeStampedModel):
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships"
    )
    merchant = models.ForeignKey(Merchant, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(max_length=16, choices=Role.choices)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "merchant"], name="merchants_membership_once"),
            models.CheckConstraint(
                condition=Q(role__in=Role.values), name="merchants_membership_role"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user} {self.role} of {self.merchant}"
