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
    list_display = ("public_id", "merchant", "status", "amount", "currency", "arrival_date")
    list_filter = ("status", "currency")
    search_fields = ("public_id", "transaction_reference")


class DifferenceInline(admin.TabularInline):
    model = ReconciliationDifference
    extra = 0
    can_delete = False
    readonly_fields = ("kind", "reference", "currency", "ledger_amount", "report_amount", "detail")


@admin.register(ReconciliationRun)
class ReconciliationRunAdmin(ReadOnly):
    list_display = ("date", "connector", "report_lines", "matched", "difference_count")
    inlines = [DifferenceInline]
