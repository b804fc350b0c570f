from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

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
    # Settlement and payouts. No plan: the default plan's rates apply.
    pricing_plan = models.ForeignKey(
        "PricingPlan", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    # Local hour at which the settlement day ends: 0 settles the previous local day at
    # midnight; 17 makes a day run from 17:00 to 17:00.
    settlement_cutoff_hour = models.PositiveSmallIntegerField(default=0)
    payout_delay_days = models.PositiveSmallIntegerField(default=2)  # T+N business days
    payouts_automatic = models.BooleanField(default=True)
    # Hosted checkout branding (issue #7, merchants.branding): a #rrggbb colour ("" is the
    # gateway's blue), the digest naming the MerchantLogo ("" is no logo: the page shows an
    # initial), and the origins whose pages may embed the checkout page in an iframe.
    brand_color = models.CharField(max_length=7, blank=True, default="")
    logo_digest = models.CharField(max_length=64, blank=True, default="")
    checkout_allowed_origins = models.JSONField(default=list, blank=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(status__in=MerchantStatus.values), name="merchants_merchant_status"
            ),
            # The colour lands in a stylesheet: only #rrggbb, lowercase, can ever get there.
            models.CheckConstraint(
                condition=Q(brand_color="") | Q(brand_color__regex=r"^#[0-9a-f]{6}$"),
                name="merchants_merchant_brand_color",
            ),
            models.CheckConstraint(
                condition=Q(settlement_cutoff_hour__lte=23),
                name="merchants_merchant_cutoff_hour",
            ),
            models.CheckConstraint(
                condition=Q(payout_delay_days__lte=10), name="merchants_merchant_payout_delay"
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


class MerchantLogo(models.Model):
    """A merchant's checkout logo: decoded, shrunk and re-encoded as PNG by
    merchants.branding, kept in the database so that every web process serves it from the
    gateway's own origin (the checkout CSP stays first-party). Its own table, so that the
    bytes are read only by the logo's URL, never with the merchant row."""

    merchant = models.OneToOneField(Merchant, on_delete=models.CASCADE, related_name="logo")
    # sha256 of `image`: the logo's URL (content-addressed, cached for a year).
    digest = models.CharField(max_length=64, db_index=True)
    image = models.BinaryField()
    width = models.PositiveSmallIntegerField()
    height = models.PositiveSmallIntegerField()
    created_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return f"logo {self.digest[:12]} of {self.merchant_id}"


# --- Pricing and payouts (settlement issue) --------------------------------------------


class PricingPlan(TimeStampedModel):
    """What the gateway charges a merchant: per payment method and currency, basis points of
    the amount plus a fixed amount (PricingRate). Merchants without a plan pay the default
    plan's rates."""

    name = models.CharField(max_length=100, unique=True)
    is_default = models.BooleanField(default=False)
    # Stripe keeps its fee on a refund; some acquirers give it back (pro rata).
    refund_returns_fee = models.BooleanField(default=False)

    class Meta:
        constraints = [
            # Exactly one plan applies to merchants that have none.
            models.UniqueConstraint(
                fields=["is_default"],
                condition=Q(is_default=True),
                name="merchants_pricingplan_one_default",
            ),
        ]

    def __str__(self) -> str:
        return self.name


# Rates with this payment method or currency apply to any method or currency.
ANY = "*"


class PricingRate(models.Model):
    plan = models.ForeignKey(PricingPlan, on_delete=models.CASCADE, related_name="rates")
    payment_method_type = models.CharField(max_length=20, default=ANY)  # card, gopay, ... or *
    currency = models.CharField(max_length=3)  # the fixed amount is in its minor unit
    percent_bps = models.PositiveIntegerField(default=0)  # 290 = 2.9 %
    fixed_amount = models.BigIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["plan", "payment_method_type", "currency"],
                name="merchants_pricingrate_once",
            ),
            # A fee is never more than the whole amount, nor negative.
            models.CheckConstraint(
                condition=Q(percent_bps__lte=10_000) & Q(fixed_amount__gte=0),
                name="merchants_pricingrate_sane",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.plan}: {self.payment_method_type}/{self.currency} {self.percent_bps}bps"


def _bank_account_id() -> str:
    return new_id("ba")


class BankAccount(TimeStampedModel):
    """Where a merchant's payouts in one currency go."""

    public_id = models.CharField(max_length=40, unique=True, default=_bank_account_id)
    merchant = models.ForeignKey(Merchant, on_delete=models.PROTECT, related_name="bank_accounts")
    currency = models.CharField(max_length=3, default="idr")
    bank_code = models.CharField(max_length=16)  # bca, bni, bri, mandiri, permata, ...
    account_number = models.CharField(max_length=34)
    account_holder_name = models.CharField(max_length=200)

    class Meta:
        constraints = [
            # One payout destination per merchant and currency.
            models.UniqueConstraint(
                fields=["merchant", "currency"], name="merchants_bankaccount_one_per_currency"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.bank_code} …{self.account_number[-4:]}"


# --- Team invitations (issue #8) -------------------------------------------------------


def _invitation_id() -> str:
    return new_id("inv")


class Invitation(TimeStampedModel):
    """An invitation to join a merchant's team with a role. The link in the email carries a
    random token; only its SHA-256 is kept, so the table alone cannot accept anything."""

    public_id = models.CharField(max_length=40, unique=True, default=_invitation_id)
    merchant = models.ForeignKey(Merchant, on_delete=models.CASCADE, related_name="invitations")
    email = models.EmailField()
    role = models.CharField(max_length=16, choices=Role.choices)
    token_hash = models.CharField(max_length=64, unique=True)
    invited_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    expires_at = models.DateTimeField()
    accepted_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(role__in=Role.values), name="merchants_invitation_role"
            ),
            # One open invitation per address and merchant: inviting again replaces it.
            models.UniqueConstraint(
                fields=["merchant", "email"],
                condition=Q(accepted_at__isnull=True, revoked_at__isnull=True),
                name="merchants_invitation_one_open",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.email} as {self.role} of {self.merchant_id}"

    @property
    def is_open(self) -> bool:
        return (
            self.accepted_at is None
            and self.revoked_at is None
            and self.expires_at > timezone.now()
        )


# --- Dashboard audit log (issue #8) ------------------------------------------------------


class AuditEvent(models.Model):
    """One action taken in the dashboard: who, what, when, from where. Append-only: the
    model refuses updates and deletes, and on PostgreSQL a trigger refuses them too.

    The actor is kept by id and email, not by foreign key, so that deleting a user neither
    deletes nor rewrites the history of what they did.
    """

    merchant = models.ForeignKey(Merchant, on_delete=models.PROTECT, related_name="+")
    livemode = models.BooleanField(default=False)
    actor_user_id = models.BigIntegerField(null=True, blank=True)
    actor_email = models.CharField(max_length=254, blank=True)
    actor_role = models.CharField(max_length=16, blank=True)
    action = models.CharField(max_length=64)  # payment_intent.refund, api_key.create, ...
    object_id = models.CharField(max_length=64, blank=True)  # the public id acted on
    data = models.JSONField(default=dict, blank=True)  # amounts, reasons; never a secret
    ip_address = models.GenericIPAddressField(null=True, blank=True)
    user_agent = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        indexes = [
            # The audit log page: newest first within a merchant.
            models.Index(fields=["merchant", "-created_at", "-id"], name="merchants_audit_list"),
        ]

    def __str__(self) -> str:
        return f"{self.actor_email} {self.action} {self.object_id}"

    def save(self, *args, **kwargs):
        if self.pk is not None:
            raise ValueError("Audit events are append-only")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise ValueError("Audit events are append-only")
