"""The ledger, settlement batches, payouts and reconciliation (DESIGN.md §3, §4, §9).

Double entry: every money movement is a Journal of JournalEntry rows whose signed amounts
(debit positive, credit negative) sum to zero per currency. Journals and entries are
append-only; corrections are new journals. On PostgreSQL a deferred constraint trigger
refuses an unbalanced journal at commit and triggers refuse UPDATE and DELETE of either
(migration 0002); on SQLite the posting service checks the balance before it writes.

BalanceTransaction is the merchant's view of a journal (Stripe's balance transaction):
gross amount, fee, net, and whether it is still pending or available.
"""

from django.db import models
from django.db.models import F, Q

from core.ids import new_id
from core.models import TimeStampedModel
from merchants.models import BankAccount, Merchant


def new_stl_id() -> str:
    return new_id("stl")


def new_po_id() -> str:
    return new_id("po")


def new_btxn_id() -> str:
    return new_id("btxn")


class AccountKind(models.TextChoices):
    # Per merchant, mode and currency: what the gateway owes the merchant, by stage.
    PENDING = "pending"
    AVAILABLE = "available"
    IN_TRANSIT = "in_transit"
    PAID_OUT = "paid_out"  # cumulative: what reached the merchant's bank
    # The platform's, per mode and currency.
    PROCESSOR_RECEIVABLE = "processor_receivable"  # captured, not yet funded by the processor
    FEE_REVENUE = "fee_revenue"
    BANK = "bank"  # the processor's funding received


MERCHANT_KINDS = (
    AccountKind.PENDING,
    AccountKind.AVAILABLE,
    AccountKind.IN_TRANSIT,
    AccountKind.PAID_OUT,
)
PLATFORM_KINDS = (AccountKind.PROCESSOR_RECEIVABLE, AccountKind.FEE_REVENUE, AccountKind.BANK)


class LedgerAccount(models.Model):
    merchant = models.ForeignKey(
        Merchant, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    livemode = models.BooleanField(default=False)
    currency = models.CharField(max_length=3)
    kind = models.CharField(max_length=24, choices=AccountKind.choices)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(kind__in=AccountKind.values), name="settlement_ledgeraccount_kind"
            ),
            # Merchant accounts belong to a merchant, platform accounts to nobody.
            models.CheckConstraint(
                condition=(Q(kind__in=MERCHANT_KINDS) & Q(merchant__isnull=False))
                | (Q(kind__in=PLATFORM_KINDS) & Q(merchant__isnull=True)),
                name="settlement_ledgeraccount_owner",
            ),
            # One account per owner, mode, currency and kind (two partial indexes, because
            # NULL merchants are distinct in a plain unique index).
            models.UniqueConstraint(
                fields=["merchant", "livemode", "currency", "kind"],
                condition=Q(merchant__isnull=False),
                name="settlement_ledgeraccount_merchant_once",
            ),
            models.UniqueConstraint(
                fields=["livemode", "currency", "kind"],
                condition=Q(merchant__isnull=True),
                name="settlement_ledgeraccount_platform_once",
            ),
        ]

    def __str__(self) -> str:
        owner = self.merchant_id or "platform"
        return f"{owner}/{self.kind}/{self.currency}{'' if self.livemode else ' (test)'}"


class JournalKind(models.TextChoices):
    CAPTURE = "capture"
    REFUND = "refund"
    SETTLEMENT = "settlement"
    PAYOUT = "payout"
    PAYOUT_PAID = "payout_paid"
    PAYOUT_FAILURE = "payout_failure"
    PAYOUT_CANCEL = "payout_cancel"
    ADJUSTMENT = "adjustment"


class Journal(models.Model):
    """One balanced money movement. (kind, reference) is unique, so posting the same
    capture, refund, batch or payout event twice is a no-op, not a second movement."""

    merchant = models.ForeignKey(
        Merchant, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    livemode = models.BooleanField(default=False)
    kind = models.CharField(max_length=24, choices=JournalKind.choices)
    # Our reference for the event: the processor transaction (txn_) of a capture or refund,
    # the batch (stl_) of a settlement, the payout (po_) of payout postings.
    reference = models.CharField(max_length=64)
    description = models.CharField(max_length=255, blank=True)
    created_at = models.DateTimeField(db_index=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(kind__in=JournalKind.values), name="settlement_journal_kind"
            ),
            models.UniqueConstraint(fields=["kind", "reference"], name="settlement_journal_once"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.reference}"


class JournalEntry(models.Model):
    journal = models.ForeignKey(Journal, on_delete=models.PROTECT, related_name="entries")
    account = models.ForeignKey(LedgerAccount, on_delete=models.PROTECT, related_name="entries")
    currency = models.CharField(max_length=3)  # the account's, copied for the balance check
    amount = models.BigIntegerField()  # debit positive, credit negative

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=~Q(amount=0), name="settlement_journalentry_amount_nonzero"
            ),
        ]
        indexes = [
            # Balances: SUM(amount) per account.
            models.Index(fields=["account", "amount"], name="settlement_entry_balance"),
        ]

    def __str__(self) -> str:
        return f"{self.account} {self.amount:+d}"


class BalanceTransactionType(models.TextChoices):
    CHARGE = "charge"
    REFUND = "refund"
    PAYOUT = "payout"
    PAYOUT_FAILURE = "payout_failure"
    PAYOUT_CANCEL = "payout_cancel"
    ADJUSTMENT = "adjustment"


class BalanceTransactionStatus(models.TextChoices):
    PENDING = "pending"
    AVAILABLE = "available"


class BalanceTransaction(TimeStampedModel):
    """Stripe's balance transaction: one money event as the merchant sees it. Public ids are
    `btxn_...` because `txn_` already names processor transactions (payments.Transaction)."""

    public_id = models.CharField(max_length=40, unique=True, default=new_btxn_id, editable=False)
    merchant = models.ForeignKey(Merchant, on_delete=models.PROTECT, related_name="+")
    livemode = models.BooleanField(default=False)
    type = models.CharField(max_length=24, choices=BalanceTransactionType.choices)
    status = models.CharField(
        max_length=16,
        choices=BalanceTransactionStatus.choices,
        default=BalanceTransactionStatus.PENDING,
    )
    currency = models.CharField(max_length=3)
    amount = models.BigIntegerField()  # gross, signed: + money in, - money out
    fee = models.BigIntegerField(default=0)  # the gateway's fee (negative when returned)
    net = models.BigIntegerField()
    fee_details = models.JSONField(default=list, blank=True)
    source = models.CharField(max_length=40, blank=True)  # ch_, re_, po_
    reference = models.CharField(max_length=64, blank=True)  # our processor reference (txn_)
    description = models.CharField(max_length=255, blank=True)
    journal = models.OneToOneField(Journal, on_delete=models.PROTECT, related_name="+")
    # The local day (merchant's time zone and cutoff) whose settlement batch takes it.
    settlement_date = models.DateField()
    available_on = models.DateField()
    # Set when its batch settles it (with status). Not indexed, like status: the settlement
    # run's UPDATE of these two columns then touches no index and stays a HOT update in
    # place (fillfactor, migration 0004). A batch's balance transactions are found through
    # its lines (SettlementLine.batch is indexed).
    settlement_batch = models.ForeignKey(
        "SettlementBatch",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        db_index=False,
    )
    # Charges: card, gopay, bank_transfer... (payouts of a batch wait for its slowest method).
    payment_method_type = models.CharField(max_length=20, blank=True, db_default="")
    # A refund's charge: the fee returned on refunds is bounded by the charge's fee.
    parent = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="children"
    )

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(type__in=BalanceTransactionType.values),
                name="settlement_balancetransaction_type",
            ),
            models.CheckConstraint(
                condition=Q(status__in=BalanceTransactionStatus.values),
                name="settlement_balancetransaction_status",
            ),
            models.CheckConstraint(
                condition=Q(net=F("amount") - F("fee")), name="settlement_balancetransaction_net"
            ),
        ]
        indexes = [
            models.Index(
                fields=["merchant", "livemode", "-created_at", "-id"], name="settlement_btxn_list"
            ),
            models.Index(fields=["merchant", "source"], name="settlement_btxn_source"),
            models.Index(fields=["reference"], name="settlement_btxn_reference"),
        ]

    def __str__(self) -> str:
        return self.public_id


class UnsettledItem(models.Model):
    """The settlement queue: a copy of each charge or refund balance transaction that no
    batch has taken yet, written by its posting (ledger_post_capture/refund) in the same
    transaction. A settlement run reads its batches and lines from here and deletes what it
    settled, so it never scans or index-searches the ever-growing balance transactions,
    and the queue holds one day's rows at most."""

    balance_transaction = models.OneToOneField(
        BalanceTransaction, primary_key=True, on_delete=models.PROTECT, related_name="+"
    )
    merchant = models.ForeignKey(
        Merchant, on_delete=models.PROTECT, related_name="+", db_index=False
    )
    livemode = models.BooleanField(default=False)
    currency = models.CharField(max_length=3)
    settlement_date = models.DateField()
    type = models.CharField(max_length=24)
    amount = models.BigIntegerField()
    fee = models.BigIntegerField()
    net = models.BigIntegerField()
    source = models.CharField(max_length=40, blank=True)
    reference = models.CharField(max_length=64, blank=True)
    payment_method_type = models.CharField(max_length=20, blank=True)

    class Meta:
        db_table = "settlement_unsettled"

    def __str__(self) -> str:
        return f"{self.balance_transaction_id} ({self.settlement_date})"


class SettlementBatch(TimeStampedModel):
    """What one merchant's day in one currency settled: pending to available."""

    public_id = models.CharField(max_length=40, unique=True, default=new_stl_id, editable=False)
    merchant = models.ForeignKey(Merchant, on_delete=models.PROTECT, related_name="+")
    livemode = models.BooleanField(default=False)
    currency = models.CharField(max_length=3)
    day = models.DateField()  # the merchant's local settlement day
    gross_amount = models.BigIntegerField(default=0)  # charges
    refund_amount = models.BigIntegerField(default=0)  # refunds, positive
    fee_amount = models.BigIntegerField(default=0)  # fees less fees returned
    net_amount = models.BigIntegerField(default=0)
    count = models.PositiveIntegerField(default=0)
    run_id = models.CharField(max_length=40)  # the settlement run that made it

    class Meta:
        constraints = [
            # Settling a day twice, or twice at once, makes one batch.
            models.UniqueConstraint(
                fields=["merchant", "livemode", "currency", "day"], name="settlement_batch_once"
            ),
        ]
        indexes = [
            models.Index(
                fields=["merchant", "livemode", "-created_at", "-id"], name="settlement_batch_list"
            ),
            models.Index(fields=["run_id"], name="settlement_batch_run"),
        ]

    def __str__(self) -> str:
        return self.public_id


class SettlementLine(models.Model):
    batch = models.ForeignKey(SettlementBatch, on_delete=models.PROTECT, related_name="lines")
    balance_transaction = models.OneToOneField(
        BalanceTransaction, on_delete=models.PROTECT, related_name="+"
    )
    type = models.CharField(max_length=24)
    amount = models.BigIntegerField()
    fee = models.BigIntegerField()
    net = models.BigIntegerField()
    source = models.CharField(max_length=40, blank=True)
    reference = models.CharField(max_length=64, blank=True)
    created_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"{self.batch_id}: {self.source} {self.net}"


class PayoutStatus(models.TextChoices):
    PENDING = "pending"
    IN_TRANSIT = "in_transit"
    PAID = "paid"
    FAILED = "failed"
    CANCELED = "canceled"


PAYOUT_TRANSITIONS: dict[str, set[str]] = {
    PayoutStatus.PENDING: {PayoutStatus.IN_TRANSIT, PayoutStatus.CANCELED},
    PayoutStatus.IN_TRANSIT: {PayoutStatus.PAID, PayoutStatus.FAILED},
    PayoutStatus.PAID: set(),
    PayoutStatus.FAILED: set(),
    PayoutStatus.CANCELED: set(),
}


class Payout(TimeStampedModel):
    public_id = models.CharField(max_length=40, unique=True, default=new_po_id, editable=False)
    merchant = models.ForeignKey(Merchant, on_delete=models.PROTECT, related_name="+")
    livemode = models.BooleanField(default=False)
    amount = models.BigIntegerField()
    currency = models.CharField(max_length=3)
    status = models.CharField(
        max_length=16, choices=PayoutStatus.choices, default=PayoutStatus.PENDING
    )
    automatic = models.BooleanField(default=False)
    arrival_date = models.DateField()
    destination = models.ForeignKey(BankAccount, on_delete=models.PROTECT, related_name="+")
    description = models.CharField(max_length=255, blank=True)
    metadata = models.JSONField(default=dict, blank=True)
    # The batch an automatic payout pays out: unique, so a batch is paid out once.
    settlement_batch = models.OneToOneField(
        SettlementBatch, null=True, blank=True, on_delete=models.PROTECT, related_name="payout"
    )
    balance_transaction = models.ForeignKey(
        BalanceTransaction, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    failure_balance_transaction = models.ForeignKey(
        BalanceTransaction, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    failure_code = models.CharField(max_length=64, blank=True)
    failure_message = models.CharField(max_length=255, blank=True)
    # Our reference at the bank: the public id of the payments.Transaction (kind payout).
    transaction_reference = models.CharField(max_length=40, blank=True)
    processor_reference = models.CharField(max_length=64, blank=True)
    version = models.PositiveIntegerField(default=1)

    class Meta:
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="settlement_payout_amount"),
            models.CheckConstraint(
                condition=Q(status__in=PayoutStatus.values), name="settlement_payout_status"
            ),
        ]
        indexes = [
            models.Index(
                fields=["merchant", "livemode", "-created_at", "-id"], name="settlement_po_list"
            ),
            # The sender: pending payouts by date.
            models.Index(
                fields=["arrival_date"],
                condition=Q(status__in=["pending", "in_transit"]),
                name="settlement_po_due",
            ),
        ]

    def __str__(self) -> str:
        return self.public_id


class DifferenceKind(models.TextChoices):
    MISSING_IN_LEDGER = "missing_in_ledger"
    MISSING_IN_REPORT = "missing_in_report"
    AMOUNT_MISMATCH = "amount_mismatch"
    DUPLICATE = "duplicate"


class ReconciliationRun(TimeStampedModel):
    """One comparison of a processor's daily settlement report with the ledger."""

    connector = models.CharField(max_length=32)
    date = models.DateField()
    report_lines = models.PositiveIntegerField(default=0)
    ledger_lines = models.PositiveIntegerField(default=0)
    matched = models.PositiveIntegerField(default=0)
    difference_count = models.PositiveIntegerField(default=0)

    class Meta:
        indexes = [models.Index(fields=["connector", "date"], name="settlement_recon_date")]

    def __str__(self) -> str:
        return f"{self.connector} {self.date}: {self.difference_count} differences"


class ReconciliationDifference(models.Model):
    run = models.ForeignKey(ReconciliationRun, on_delete=models.CASCADE, related_name="differences")
    kind = models.CharField(max_length=24, choices=DifferenceKind.choices)
    reference = models.CharField(max_length=64)
    currency = models.CharField(max_length=3, blank=True)
    ledger_amount = models.BigIntegerField(null=True, blank=True)
    report_amount = models.BigIntegerField(null=True, blank=True)
    detail = models.CharField(max_length=255, blank=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(kind__in=DifferenceKind.values), name="settlement_difference_kind"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.reference}"
