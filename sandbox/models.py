"""The sandbox card network's own tables: the simulated outside world (DESIGN.md §7).

Nothing in the gateway imports these; the sandbox connector reaches them only through
sandbox.network.CardNetworkClient. No column holds a card number or a CVC: accounts are
found by an HMAC of the number, and the CVC is checked in memory and forgotten.
"""

from django.db import models
from django.db.models import F, Q
from django.utils import timezone


class IssuerAccount(models.Model):
    """The card's account at its issuer: a credit limit, open holds and what was spent."""

    card_hash = models.CharField(max_length=64, unique=True)  # HMAC-SHA256 of the number
    bin = models.CharField(max_length=8)
    last4 = models.CharField(max_length=4)
    brand = models.CharField(max_length=16)
    funding = models.CharField(max_length=16)
    country = models.CharField(max_length=2)
    credit_limit = models.BigIntegerField()
    held_amount = models.BigIntegerField(default=0)  # open authorizations
    spent_amount = models.BigIntegerField(default=0)  # captured minus refunded
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            # Holds and spending never go negative: a release or refund applied twice fails.
            models.CheckConstraint(
                condition=Q(held_amount__gte=0) & Q(spent_amount__gte=0),
                name="sandbox_issueraccount_amounts_non_negative",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.brand} {self.bin}…{self.last4}"

    @property
    def available_amount(self) -> int:
        return self.credit_limit - self.held_amount - self.spent_amount


class AuthorizationStatus(models.TextChoices):
    REQUIRES_ACTION = "requires_action"  # waiting for the 3-D Secure challenge
    DECLINED = "declined"
    AUTHORIZED = "authorized"  # approved, hold open
    CAPTURED = "captured"
    VOIDED = "voided"


class Authorization(models.Model):
    """One authorization request, keyed by the gateway's reference: a repeated reference
    gets this row's answer and never a second hold."""

    reference = models.CharField(max_length=64, unique=True)
    processor_reference = models.CharField(max_length=64, unique=True)
    account = models.ForeignKey(IssuerAccount, on_delete=models.PROTECT, related_name="+")
    amount = models.BigIntegerField()
    currency = models.CharField(max_length=3)
    capture = models.BooleanField(default=False)
    status = models.CharField(max_length=20, choices=AuthorizationStatus.choices)
    held_amount = models.BigIntegerField(default=0)
    captured_amount = models.BigIntegerField(default=0)
    refunded_amount = models.BigIntegerField(default=0)
    authorization_code = models.CharField(max_length=6, blank=True)
    code = models.CharField(max_length=64, blank=True)
    decline_code = models.CharField(max_length=64, blank=True)
    message = models.CharField(max_length=255, blank=True)
    network_status = models.CharField(max_length=32, blank=True)
    outcome_type = models.CharField(max_length=32, blank=True)
    outcome_reason = models.CharField(max_length=64, blank=True)
    risk_score = models.PositiveSmallIntegerField(default=0)
    risk_level = models.CharField(max_length=16, blank=True)
    merchant_id = models.CharField(max_length=64, blank=True)
    merchant_name = models.CharField(max_length=255, blank=True)
    merchant_country = models.CharField(max_length=2, blank=True)
    # 3-D Secure: the challenge page's id and where it sends the customer afterwards.
    challenge_id = models.CharField(max_length=64, unique=True, null=True, blank=True)
    authentication_return_url = models.CharField(max_length=2048, blank=True)
    authenticated_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(status__in=AuthorizationStatus.values),
                name="sandbox_authorization_status",
            ),
            models.CheckConstraint(
                condition=Q(amount__gt=0), name="sandbox_authorization_amount_positive"
            ),
            models.CheckConstraint(
                condition=Q(held_amount__gte=0)
                & Q(refunded_amount__gte=0)
                & Q(refunded_amount__lte=F("captured_amount"))
                & Q(captured_amount__lte=F("amount"))
                & Q(held_amount__lte=F("amount")),
                name="sandbox_authorization_amounts",
            ),
        ]
        indexes = [
            # Velocity: authorizations on one card in the last minutes.
            models.Index(fields=["account", "created_at"], name="sandbox_auth_velocity"),
        ]

    def __str__(self) -> str:
        return f"{self.reference} ({self.status})"


class OperationKind(models.TextChoices):
    CAPTURE = "capture"
    VOID = "void"
    REFUND = "refund"


class OperationStatus(models.TextChoices):
    SUCCEEDED = "succeeded"
    FAILED = "failed"


class Operation(models.Model):
    """A capture, void or refund on an authorization, keyed by the gateway's reference."""

    reference = models.CharField(max_length=64, unique=True)
    processor_reference = models.CharField(max_length=64, unique=True)
    kind = models.CharField(max_length=16, choices=OperationKind.choices)
    authorization = models.ForeignKey(
        Authorization, on_delete=models.PROTECT, related_name="operations"
    )
    # The capture a refund applies to (None when it refunds an automatic capture).
    parent = models.ForeignKey("self", null=True, blank=True, on_delete=models.PROTECT)
    amount = models.BigIntegerField(null=True, blank=True)
    currency = models.CharField(max_length=3, blank=True)
    status = models.CharField(max_length=16, choices=OperationStatus.choices)
    code = models.CharField(max_length=64, blank=True)
    message = models.CharField(max_length=255, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(kind__in=OperationKind.values), name="sandbox_operation_kind"
            ),
            models.CheckConstraint(
                condition=Q(status__in=OperationStatus.values), name="sandbox_operation_status"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.reference} ({self.status})"


class FaultKind(models.TextChoices):
    TIMEOUT = "timeout"  # no answer, nothing happened
    APPROVE_THEN_TIMEOUT = "approve_then_timeout"  # processed and committed, no answer
    SERVER_ERROR = "server_error"  # a 503, nothing happened
    LATENCY = "latency"  # a normal answer, late
    # Local-method providers' callbacks (operation "callback"):
    CALLBACK_LATE = "callback_late"  # sent, but minutes after the payment
    CALLBACK_DUPLICATE = "callback_duplicate"  # sent twice, same event id
    CALLBACK_MISSING = "callback_missing"  # never sent: only an inquiry tells


class Fault(models.Model):
    """An injected fault (sandbox.faults.inject). Rows, so that every process sees them."""

    kind = models.CharField(max_length=32, choices=FaultKind.choices)
    operation = models.CharField(max_length=16, default="authorize")  # or "*" for any
    remaining = models.PositiveIntegerField(null=True, blank=True)  # None: no count limit
    rate = models.FloatField(null=True, blank=True)  # None: every matching call
    seed = models.BigIntegerField(default=0)
    calls_seen = models.PositiveIntegerField(default=0)
    latency_ms = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(kind__in=FaultKind.values), name="sandbox_fault_kind"
            ),
            models.CheckConstraint(
                condition=Q(rate__isnull=True) | (Q(rate__gte=0) & Q(rate__lte=1)),
                name="sandbox_fault_rate_fraction",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kind} on {self.operation}"


class BankPayoutStatus(models.TextChoices):
    PAID = "paid"
    FAILED = "failed"


class BankPayout(models.Model):
    """A credit transfer the sandbox bank received (sandbox.bank), keyed by the gateway's
    reference so that a resent request is answered, never paid twice."""

    reference = models.CharField(max_length=64, unique=True)
    processor_reference = models.CharField(max_length=64, unique=True)
    bank_code = models.CharField(max_length=16)
    account_number = models.CharField(max_length=34)
    account_holder_name = models.CharField(max_length=200)
    amount = models.BigIntegerField()
    currency = models.CharField(max_length=3)
    status = models.CharField(max_length=16, choices=BankPayoutStatus.choices)
    failure_code = models.CharField(max_length=64, blank=True)
    failure_message = models.CharField(max_length=255, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(status__in=BankPayoutStatus.values), name="sandbox_bankpayout_status"
            ),
            models.CheckConstraint(condition=Q(amount__gt=0), name="sandbox_bankpayout_amount"),
        ]

    def __str__(self) -> str:
        return f"payout {self.reference} ({self.status})"


# --- Local-method providers (issue #6): e-wallets, virtual accounts, QRIS -----------------


class ProviderPaymentStatus(models.TextChoices):
    PENDING = "pending"
    PAID = "paid"
    FAILED = "failed"  # the customer declined, or the wallet refused
    EXPIRED = "expired"
    CANCELED = "canceled"  # closed by the merchant's gateway before it was paid


class ProviderPayment(models.Model):
    """A payment request at an e-wallet, a bank's virtual account service or the QRIS
    acquirer, keyed by the gateway's reference: a repeated request gets this row back."""

    reference = models.CharField(max_length=64, unique=True)
    provider_reference = models.CharField(max_length=64, unique=True)
    method = models.CharField(max_length=20)  # gopay, ovo, dana, shopeepay, qris, bank_transfer
    bank = models.CharField(max_length=16, blank=True)
    va_number = models.CharField(max_length=32, blank=True)
    phone = models.CharField(max_length=32, blank=True)  # OVO: the phone the push goes to
    merchant_id = models.CharField(max_length=64, blank=True)
    merchant_name = models.CharField(max_length=255, blank=True)
    amount = models.BigIntegerField()
    currency = models.CharField(max_length=3)
    status = models.CharField(
        max_length=16, choices=ProviderPaymentStatus.choices, default=ProviderPaymentStatus.PENDING
    )
    failure_code = models.CharField(max_length=64, blank=True)
    refunded_amount = models.BigIntegerField(default=0)
    expires_at = models.DateTimeField()
    paid_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(status__in=ProviderPaymentStatus.values),
                name="sandbox_providerpayment_status",
            ),
            models.CheckConstraint(
                condition=Q(amount__gt=0)
                & Q(refunded_amount__gte=0)
                & Q(refunded_amount__lte=F("amount")),
                name="sandbox_providerpayment_amounts",
            ),
            # A bank never hands out one virtual account number twice.
            models.UniqueConstraint(
                fields=["bank", "va_number"],
                condition=~Q(va_number=""),
                name="sandbox_providerpayment_va_once",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.method} {self.reference} ({self.status})"


class ProviderRefund(models.Model):
    """An e-wallet refund, keyed by the gateway's reference."""

    reference = models.CharField(max_length=64, unique=True)
    provider_reference = models.CharField(max_length=64, unique=True)
    payment = models.ForeignKey(ProviderPayment, on_delete=models.PROTECT, related_name="refunds")
    amount = models.BigIntegerField()
    status = models.CharField(max_length=16)  # succeeded | failed
    code = models.CharField(max_length=64, blank=True)
    message = models.CharField(max_length=255, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return f"refund {self.reference} ({self.status})"


class ProviderCallbackStatus(models.TextChoices):
    SCHEDULED = "scheduled"
    SENT = "sent"  # the gateway answered 2xx
    DROPPED = "dropped"  # callback_missing: never sent


class ProviderCallback(models.Model):
    """A signed callback a provider owes the gateway: sent by a task, late, twice or never
    when a fault says so (sandbox.faults, operation "callback")."""

    event_id = models.CharField(max_length=64, unique=True)
    payment = models.ForeignKey(ProviderPayment, on_delete=models.PROTECT, related_name="callbacks")
    type = models.CharField(max_length=32)  # payment.paid, payment.failed, payment.expired
    body = models.TextField()
    status = models.CharField(
        max_length=16,
        choices=ProviderCallbackStatus.choices,
        default=ProviderCallbackStatus.SCHEDULED,
    )
    copies = models.PositiveSmallIntegerField(default=1)  # 2: callback_duplicate
    send_after = models.DateTimeField(default=timezone.now)
    attempts = models.PositiveIntegerField(default=0)
    last_http_status = models.PositiveIntegerField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        indexes = [
            # The sweeper: callbacks still owed, by due time.
            models.Index(
                fields=["send_after"],
                condition=Q(status="scheduled"),
                name="sandbox_callback_due",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.type} {self.event_id} ({self.status})"
