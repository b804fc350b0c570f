"""Read-only views of the sandbox network for operators; faults can be added and removed."""

from django.contrib import admin

from sandbox.models import Authorization, Fault, IssuerAccount, Operation


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(IssuerAccount)
class IssuerAccountAdmin(ReadOnlyAdmin):
    list_display = [
        "id",
        "brand",
        "bin",
        "last4",
        "country",
        "credit_limit",
        "held_amount",
        "spent_amount",
    ]
    exclude = ["card_hash"]


@admin.register(Authorization)
class AuthorizationAdmin(ReadOnlyAdmin):
    list_display = [
        "reference",
        "status",
        "amount",
        "currency",
        "decline_code",
        "risk_score",
        "created_at",
    ]
    list_filter = ["status", "risk_level"]
    search_fields = ["reference", "processor_reference"]


@admin.register(Operation)
class OperationAdmin(ReadOnlyAdmin):
    list_display = ["reference", "kind", "status", "amount", "currency", "created_at"]
    list_filter = ["kind", "status"]
    search_fields = ["reference", "processor_reference"]


@admin.register(Fault)
class FaultAdmin(admin.ModelAdmin):
    list_display = ["id", "kind", "operation", "remaining", "rate", "seed", "latency_ms"]
    readonly_fields = ["calls_seen"]
