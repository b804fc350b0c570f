"""Payment objects (DESIGN.md §4). Every state change goes through payments.services."""

from django.db import models
from django.db.models import F, Q

from core.ids import new_id
from core.models import TimeStampedModel
from merchants.models import Merchant


# Module-level functions (not lambdas) so that migrations can reference them.
def new_cus_id() -> str:
    return new_id("cus")


def new_pm_id() -> str:
    return new_id("pm")


def new_pi_id() -> str:
    return new_id("pi")


def new_ch_id() -> str:
    return new_id("ch")


def new_re_id() -> str:
    return new_id("re")


def new_txn_id() -> str:
    return new_id("txn")


class MerchantOwned(TimeStampedModel):
    merchant = models.ForeignKey(Merchant, on_delete=models.PROTECT, related_name="+")
    livemode = models.BooleanField(default=False)

    class Meta:
        abstract = True


class Customer(MerchantOwned):
    public_id = models.CharField(max_length=40, unique=True, default=new_cus_id, editable=False)
    email = models.CharField(max_length=512, blank=True)
    name = models.CharField(max_length=256, blank=True)
    phone = models.CharField(max_length=32, blank=True)
    description = models.CharField(max_length=1000, blank=True)
    metadata = models.JSONField(default=dict, blank=True)
    is_deleted = models.BooleanField(default=False)
    version = models.PositiveIntegerField(default=1)  # carried by events

    class Meta:
        indexes = [
            # List pages: newest first within a merchant and mode.
            models.Index(
                fields=["merchant", "livemode", "-created_at", "-id"], name="payments_customer_list"
            ),
        ]

    def __str__(self) -> str:
        return self.public_id


class VaultCard(TimeStampedModel):
    """An encrypted card number (payments.vault is the only code that reads `ciphertext`).

    Envelope encryption: the PAN is sealed with a per-row data key (AES-256-GCM), and the
    data key is sealed with the vault key named by `key_id`, so rotating a vault key
    re-wraps data keys without touching anything else.
    """

    key_id = models.CharField(max_length=32)
    wrapped_key = models.BinaryField()
    ciphertext = models.BinaryField()
    fingerprint = models.CharField(max_length=64, db_index=True)  # HMAC, never a plain hash
    bin = models.CharField(max_length=8)
    last4 = models.CharField(max_length=4)

    def __str__(self) -> str:
        return f"vault card {self.pk} ({self.bin}…{self.last4})"


class PaymentMethodType(models.TextChoices):
    CARD = "card"
    GOPAY = "gopay"
    OVO = "ovo"
    DANA = "dana"
    SHOPEEPAY = "shopeepay"
    QRIS = "qris"
    BANK_TRANSFER = "bank_transfer"


class PaymentMethod(MerchantOwned):
    public_id = models.CharField(max_length=40, unique=True, default=new_pm_id, editable=False)
    type = models.CharField(max_length=20, choices=PaymentMethodType.choices)
    customer = models.ForeignKey(
        Customer, null=True, blank=True, on_delete=models.SET_NULL, related_name="payment_methods"
    )
    vault_card = models.ForeignKey(VaultCard, null=True, blank=True, on_delete=models.PROTECT)
    # Display facts only: brand, last4, exp_month, exp_year, fingerprint, funding, country...
    details = models.JSONField(default=dict, blank=True)
    billing_details = models.JSONField(default=dict, blank=True)
    metadata = models.JSONField(default=dict, blank=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(type__in=PaymentMethodType.values), name="payments_paymentmethod_type"
            ),
            # A card payment method always points into the vault.
            models.CheckConstraint(
                condition=~Q(type="card") | Q(vault_card__isnull=False),
                name="payments_paymentmethod_card_vaulted",
            ),
        ]

    def __str__(self) -> str:
        return self.public_id


class PaymentIntentStatus(models.TextChoices):
    REQUIRES_PAYMENT_METHOD = "requires_payment_method"
    REQUIRES_CONFIRMATION = "requires_confirmation"
    REQUIRES_ACTION = "requires_action"
    PROCESSING = "processing"
    REQUIRES_CAPTURE = "requires_capture"
    SUCCEEDED = "succeeded"
    CANCELED = "canceled"


_S = PaymentIntentStatus
# Allowed transitions (DESIGN.md §4). A failed attempt goes back to requires_payment_method.
PAYMENT_INTENT_TRANSITIONS: dict[str, set[str]] = {
    _S.REQUIRES_PAYMENT_METHOD: {_S.REQUIRES_CONFIRMATION, _S.PROCESSING, _S.CANCELED},
    _S.REQUIRES_CONFIRMATION: {_S.REQUIRES_PAYMENT_METHOD, _S.PROCESSING, _S.CANCELED},
    _S.PROCESSING: {
        _S.REQUIRES_ACTION,
        _S.REQUIRES_CAPTURE,
        _S.SUCCEEDED,
        _S.REQUIRES_PAYMENT_METHOD,
        _S.CANCELED,
    },
    _S.REQUIRES_ACTION: {
        _S.PROCESSING,
        _S.REQUIRES_CAPTURE,
        _S.SUCCEEDED,
        _S.REQUIRES_PAYMENT_METHOD,
        _S.CANCELED,
    },
    _S.REQUIRES_CAPTURE: {_S.PROCESSING, _S.SUCCEEDED, _S.CANCELED},
    _S.SUCCEEDED: set(),
    _S.CANCELED: set(),
}


class CaptureMethod(models.TextChoices):
    AUTOMATIC = "automatic"
    AUTOMATIC_ASYNC = "automatic_async"
    MANUAL = "manual"


class PaymentIntent(MerchantOwned):
    public_id = models.CharField(max_length=40, unique=True, default=new_pi_id, editable=False)
    client_secret = models.CharField(max_length=100)
    amount = models.BigIntegerField()
    currency = models.CharField(max_length=3)
    status = models.CharField(
        max_length=32,
        choices=PaymentIntentStatus.choices,
        default=PaymentIntentStatus.REQUIRES_PAYMENT_METHOD,
    )
    capture_method = models.CharField(
        max_length=20, choices=CaptureMethod.choices, default=CaptureMethod.AUTOMATIC
    )
    confirmation_method = models.CharField(max_length=20, default="automatic")
    payment_method_types = models.JSONField(default=list)
    payment_method = models.ForeignKey(
        PaymentMethod, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    customer = models.ForeignKey(
        Customer, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    latest_charge = models.ForeignKey(
        "Charge", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    amount_capturable = models.BigIntegerField(default=0)
    amount_received = models.BigIntegerField(default=0)
    description = models.CharField(max_length=1000, blank=True)
    receipt_email = models.CharField(max_length=512, blank=True)
    statement_descriptor = models.CharField(max_length=22, blank=True)
    metadata = models.JSONField(default=dict, blank=True)
    return_url = models.CharField(max_length=2048, blank=True)
    next_action = models.JSONField(null=True, blank=True)
    last_payment_error = models.JSONField(null=True, blank=True)
    canceled_at = models.DateTimeField(null=True, blank=True)
    cancellation_reason = models.CharField(max_length=40, blank=True)
    # Bumped on every change; events carry it so receivers can drop stale ones.
    version = models.PositiveIntegerField(default=1)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(amount__gt=0), name="payments_paymentintent_amount_positive"
            ),
            models.CheckConstraint(
                condition=Q(status__in=PaymentIntentStatus.values),
                name="payments_paymentintent_status",
            ),
            models.CheckConstraint(
                condition=Q(amount_received__gte=0) & Q(amount_received__lte=F("amount")),
                name="payments_paymentintent_received_le_amount",
            ),
            models.CheckConstraint(
                condition=Q(amount_capturable__gte=0) & Q(amount_capturable__lte=F("amount")),
                name="payments_paymentintent_capturable_le_amount",
            ),
        ]
        indexes = [
            models.Index(
                fields=["merchant", "livemode", "-created_at", "-id"], name="payments_pi_list"
            ),
            # The sweeper that cancels uncaptured authorizations after 7 days.
            models.Index(fields=["status", "created_at"], name="payments_pi_status_created"),
        ]

    def __str__(self) -> str:
        return self.public_id


class ChargeStatus(models.TextChoices):
    PENDING = "pending"
    SUCCEEDED = "succeeded"
    FAILED = "failed"


class Charge(MerchantOwned):
    """One authorization attempt of a payment intent, with its outcome."""

    public_id = models.CharField(max_length=40, unique=True, default=new_ch_id, editable=False)
    payment_intent = models.ForeignKey(
        PaymentIntent, on_delete=models.PROTECT, related_name="charges"
    )
    payment_method = models.ForeignKey(PaymentMethod, on_delete=models.PROTECT, related_name="+")
    amount = models.BigIntegerField()
    amount_captured = models.BigIntegerField(default=0)
    amount_refunded = models.BigIntegerField(default=0)
    currency = models.CharField(max_length=3)
    status = models.CharField(
        max_length=16, choices=ChargeStatus.choices, default=ChargeStatus.PENDING
    )
    captured = models.BooleanField(default=False)
    # The authorization was released (void, expiry, or the uncaptured rest of a partial capture).
    is_released = models.BooleanField(default=False)
    failure_code = models.CharField(max_length=64, blank=True)
    failure_message = models.CharField(max_length=500, blank=True)
    outcome = models.JSONField(null=True, blank=True)
    payment_method_details = models.JSONField(default=dict, blank=True)
    authorization_code = models.CharField(max_length=32, blank=True)
    description = models.CharField(max_length=1000, blank=True)
    metadata = models.JSONField(default=dict, blank=True)
    version = models.PositiveIntegerField(default=1)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(amount__gt=0), name="payments_charge_amount_positive"
            ),
            models.CheckConstraint(
                condition=Q(status__in=ChargeStatus.values), name="payments_charge_status"
            ),
            # Refunds never exceed what was captured, which never exceeds the amount.
            models.CheckConstraint(
                condition=Q(amount_refunded__gte=0)
                & Q(amount_refunded__lte=F("amount_captured"))
                & Q(amount_captured__lte=F("amount")),
                name="payments_charge_refunded_le_captured_le_amount",
            ),
        ]
        indexes = [
            models.Index(
                fields=["merchant", "livemode", "-created_at", "-id"], name="payments_charge_list"
            ),
        ]

    def __str__(self) -> str:
        return self.public_id


class RefundStatus(models.TextChoices):
    PENDING = "pending"
    REQUIRES_ACTION = "requires_action"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    CANCELED = "canceled"


REFUND_TRANSITIONS: dict[str, set[str]] = {
    RefundStatus.PENDING: {RefundStatus.SUCCEEDED, RefundStatus.FAILED, RefundStatus.CANCELED},
    RefundStatus.REQUIRES_ACTION: {RefundStatus.PENDING, RefundStatus.CANCELED},
    RefundStatus.SUCCEEDED: set(),
    RefundStatus.FAILED: set(),
    RefundStatus.CANCELED: set(),
}


class RefundReason(models.TextChoices):
    DUPLICATE = "duplicate"
    FRAUDULENT = "fraudulent"
    REQUESTED_BY_CUSTOMER = "requested_by_customer"


class Refund(MerchantOwned):
    public_id = models.CharField(max_length=40, unique=True, default=new_re_id, editable=False)
    charge = models.ForeignKey(Charge, on_delete=models.PROTECT, related_name="refunds")
    payment_intent = models.ForeignKey(PaymentIntent, on_delete=models.PROTECT, related_name="+")
    amount = models.BigIntegerField()
    currency = models.CharField(max_length=3)
    status = models.CharField(
        max_length=20, choices=RefundStatus.choices, default=RefundStatus.PENDING
    )
    reason = models.CharField(max_length=32, choices=RefundReason.choices, blank=True)
    failure_reason = models.CharField(max_length=64, blank=True)
    metadata = models.JSONField(default=dict, blank=True)
    # Virtual account and QRIS refunds: the customer's bank account the payout goes to
    # ({bank, account_number, account_holder_name}); null for refunds through the processor.
    destination = models.JSONField(null=True, blank=True)
    version = models.PositiveIntegerField(default=1)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(amount__gt=0), name="payments_refund_amount_positive"
            ),
            models.CheckConstraint(
                condition=Q(status__in=RefundStatus.values), name="payments_refund_status"
            ),
        ]
        indexes = [
            models.Index(
                fields=["merchant", "livemode", "-created_at", "-id"], name="payments_refund_list"
            ),
        ]

    def __str__(self) -> str:
        return self.public_id


class TransactionKind(models.TextChoices):
    AUTHORIZE = "authorize"
    CAPTURE = "capture"
    VOID = "void"
    REFUND = "refund"
    INQUIRY = "inquiry"
    PAYOUT = "payout"


class TransactionStatus(models.TextChoices):
    PENDING = "pending"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    UNKNOWN = "unknown"


class Transaction(MerchantOwned):
    """Every operation sent to a processor: the trail that reconciliation reads.

    `public_id` is our reference, sent with the call, so the processor can recognise a retry.
    """

    public_id = models.CharField(max_length=40, unique=True, default=new_txn_id, editable=False)
    kind = models.CharField(max_length=16, choices=TransactionKind.choices)
    status = models.CharField(
        max_length=16, choices=TransactionStatus.choices, default=TransactionStatus.PENDING
    )
    connector = models.CharField(max_length=32)
    payment_intent = models.ForeignKey(
        PaymentIntent, null=True, blank=True, on_delete=models.PROTECT, related_name="transactions"
    )
    charge = models.ForeignKey(
        Charge, null=True, blank=True, on_delete=models.PROTECT, related_name="transactions"
    )
    refund = models.ForeignKey(
        Refund, null=True, blank=True, on_delete=models.PROTECT, related_name="transactions"
    )
    # For an inquiry: the transaction it asked about.
    parent = models.ForeignKey("self", null=True, blank=True, on_delete=models.PROTECT)
    amount = models.BigIntegerField(null=True, blank=True)
    currency = models.CharField(max_length=3, blank=True)
    processor_reference = models.CharField(max_length=64, blank=True, db_index=True)
    response_code = models.CharField(max_length=64, blank=True)
    response_message = models.CharField(max_length=500, blank=True)
    latency_ms = models.PositiveIntegerField(null=True, blank=True)
    raw = models.JSONField(default=dict, blank=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(kind__in=TransactionKind.values), name="payments_transaction_kind"
            ),
            models.CheckConstraint(
                condition=Q(status__in=TransactionStatus.values), name="payments_transaction_status"
            ),
        ]
        indexes = [
            # The recovery task: unknown and stale pending transactions.
            models.Index(fields=["status", "created_at"], name="payments_txn_status_created"),
        ]

    def __str__(self) -> str:
        return self.public_id


# --- Checkout sessions (hosted checkout, issue #7) --------------------------------------


def new_cs_id() -> str:
    return new_id("cs")


class CheckoutSessionStatus(models.TextChoices):
    OPEN = "open"
    COMPLETE = "complete"
    EXPIRED = "expired"


class CheckoutSessionPaymentStatus(models.TextChoices):
    UNPAID = "unpaid"
    PAID = "paid"


CHECKOUT_SESSION_TRANSITIONS: dict[str, set[str]] = {
    CheckoutSessionStatus.OPEN: {CheckoutSessionStatus.COMPLETE, CheckoutSessionStatus.EXPIRED},
    CheckoutSessionStatus.COMPLETE: set(),
    CheckoutSessionStatus.EXPIRED: set(),
}


class CheckoutSession(MerchantOwned):
    """A hosted payment page for an amount the merchant's server fixed (DESIGN.md §4).

    The session creates its PaymentIntent once (on the first attempt to pay), so however
    many cards are tried it is paid at most once; completion is a conditional update.
    """

    public_id = models.CharField(max_length=40, unique=True, default=new_cs_id, editable=False)
    mode = models.CharField(max_length=16, default="payment")
    status = models.CharField(
        max_length=16,
        choices=CheckoutSessionStatus.choices,
        default=CheckoutSessionStatus.OPEN,
    )
    payment_status = models.CharField(
        max_length=16,
        choices=CheckoutSessionPaymentStatus.choices,
        default=CheckoutSessionPaymentStatus.UNPAID,
    )
    amount_total = models.BigIntegerField()
    currency = models.CharField(max_length=3)
    # [{id, name, quantity, unit_amount, amount_total}]: fixed at creation, never changed.
    line_items = models.JSONField(default=list, blank=True)
    payment_method_types = models.JSONField(default=list)
    capture_method = models.CharField(
        max_length=20, choices=CaptureMethod.choices, default=CaptureMethod.AUTOMATIC
    )
    payment_intent = models.OneToOneField(
        PaymentIntent,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="checkout_session",
    )
    success_url = models.CharField(max_length=2048)
    cancel_url = models.CharField(max_length=2048, blank=True)
    customer_email = models.CharField(max_length=512, blank=True)
    client_reference_id = models.CharField(max_length=200, blank=True)
    metadata = models.JSONField(default=dict, blank=True)
    expires_at = models.DateTimeField()
    completed_at = models.DateTimeField(null=True, blank=True)
    expired_at = models.DateTimeField(null=True, blank=True)
    version = models.PositiveIntegerField(default=1)  # carried by events

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(status__in=CheckoutSessionStatus.values),
                name="payments_checkoutsession_status",
            ),
            models.CheckConstraint(
                condition=Q(payment_status__in=CheckoutSessionPaymentStatus.values),
                name="payments_checkoutsession_payment_status",
            ),
            models.CheckConstraint(
                condition=Q(amount_total__gt=0), name="payments_checkoutsession_amount_positive"
            ),
            # Complete means paid, and paid means complete: the page never shows a paid
            # session as payable, nor a complete one as unpaid.
            models.CheckConstraint(
                condition=Q(status="complete", payment_status="paid")
                | (~Q(status="complete") & Q(payment_status="unpaid")),
                name="payments_checkoutsession_complete_is_paid",
            ),
        ]
        indexes = [
            models.Index(
                fields=["merchant", "livemode", "-created_at", "-id"], name="payments_cs_list"
            ),
            # The beat sweeper: open sessions past their expiry.
            models.Index(
                fields=["expires_at"],
                name="payments_cs_open_expires",
                condition=Q(status="open"),
            ),
        ]

    def __str__(self) -> str:
        return self.public_id


# --- Local payment methods (issue #6): e-wallets, virtual accounts, QRIS -------------------


class LocalPaymentStatus(models.TextChoices):
    PENDING = "pending"  # waiting for the customer (QR, push, transfer)
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    EXPIRED = "expired"
    CANCELED = "canceled"


class LocalPayment(MerchantOwned):
    """One local-method attempt (a Charge) while the customer acts outside our pages: what
    the provider gave us (VA number, QR payload, links), and until when it can be paid.

    The provider's callback, an inquiry by the poller or the expiry sweeper ends it; the
    intent's state follows through payments.services.local_methods."""

    charge = models.OneToOneField(Charge, on_delete=models.PROTECT, related_name="local_payment")
    payment_intent = models.ForeignKey(PaymentIntent, on_delete=models.PROTECT, related_name="+")
    transaction = models.OneToOneField(
        Transaction, on_delete=models.PROTECT, related_name="local_payment"
    )
    method = models.CharField(max_length=20, choices=PaymentMethodType.choices)
    bank = models.CharField(max_length=16, blank=True)
    status = models.CharField(
        max_length=16, choices=LocalPaymentStatus.choices, default=LocalPaymentStatus.PENDING
    )
    expires_at = models.DateTimeField()
    last_inquiry_at = models.DateTimeField(null=True, blank=True)
    # What the customer is shown: va_number, qr_data, checkout_url...
    details = models.JSONField(default=dict, blank=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(status__in=LocalPaymentStatus.values),
                name="payments_localpayment_status",
            ),
            models.CheckConstraint(
                condition=~Q(method="card"), name="payments_localpayment_not_card"
            ),
        ]
        indexes = [
            # The poller and the expiry sweeper read only the open ones.
            models.Index(
                fields=["expires_at"],
                condition=Q(status="pending"),
                name="payments_localpayment_open",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.method} {self.transaction_id} ({self.status})"
