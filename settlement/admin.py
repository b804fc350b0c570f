"""Read-only admin for the ledger and settlement: money is changed by services only."""

from django.contrib import admin

from settlement.models import (
    BalanceTransaction,
    Journal,
    JournalEntry,
    LedgerAccount,
    Payout,
    ReconciliationDifference,
    ReconciliationRun,
    SettlementBatch,
)


class ReadOnly(admin.ModelAdmin):
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(LedgerAccount)
class LedgerAccountAdmin(ReadOnly):
    list_display = ("id", "merchant", "livemode", "currency", "kind")
    list_filter = ("kind", "currency", "livemode")


class EntryInline(admin.TabularInline):
    model = JournalEntry
    extra = 0
    can_delete = False
    readonly_fields = ("account", "currency", "amount")


@admin.register(Journal)
class JournalAdmin(ReadOnly):
    list_display = ("id", "kind", "reference", "merchant", "created_at")
    list_filter = ("kind",)
    search_fields = ("reference",)
    inlines = [EntryInline]


@admin.register(JournalEntry)
class JournalEntryAdmin(ReadOnly):
    list_display = ("id", "journal", "account", "currency", "amount")
    list_filter = ("currency", "account__kind")
    search_fields = ("journal__reference",)
    list_select_related = ("journal", "account")


@admin.register(BalanceTransaction)
class BalanceTransactionAdmin(ReadOnly):
    list_display = ("public_id", "merchant", "type", "status", "amount", "fee", "net", "currency")
    list_filter = ("type", "status", "currency")
    search_fields = ("public_id", "source", "reference")


@admin.register(SettlementBatch)
class SettlementBatchAdmin(ReadOnly):
    list_display = ("public_id", "merchant", "currency", "day", "gross_amount", "net_amount")
    list_filter = ("currency", "day")


@admin.register(Payout)
class PayoutAdmin(ReadOnly):
    """Read-only: payouts have no held state to hold or release them (PayoutStatus); a
    pending payout is canceled through the API or settlement.services.payouts."""

    list_display = (
        "public_id",
        "merchant",
        "status",
        "amount",
        "currency",
        "arrival_date",
        "automatic",
    )
    list_filter = ("status", "currency", "automatic", "livemode")
    search_fields = ("public_id", "transaction_reference", "merchant__public_id")
    list_select_related = ("merchant",)


class DifferenceInline(admin.TabularInline):
    model = ReconciliationDifference
    extra = 0
    can_delete = False
    readonly_fields = ("kind", "reference", "currency", "ledger_amount", "report_amount", "detail")


@admin.register(ReconciliationDifference)
class ReconciliationDifferenceAdmin(ReadOnly):
    list_display = ("run", "kind", "reference", "currency", "ledger_amount", "report_amount")
    list_filter = ("kind", "currency")
    search_fields = ("reference",)
    list_select_related = ("run",)


@admin.register(ReconciliationRun)
class ReconciliationRunAdmin(ReadOnly):
    list_display = ("date", "connector", "report_lines", "matched", "difference_count")
    inlines = [DifferenceInline]
