"""Read-only admin of payments for operators looking into a merchant's question. Payments
change through the payments services only; no card data beyond brand and last 4 (the
vault is not registered) and no client secrets."""

from django.contrib import admin

from payments.models import Customer, PaymentIntent, Refund


class ReadOnly(admin.ModelAdmin):
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(PaymentIntent)
class PaymentIntentAdmin(ReadOnly):
    list_display = (
        "public_id",
        "merchant",
        "amount",
        "currency",
        "status",
        "livemode",
        "created_at",
    )
    list_filter = ("status", "currency", "livemode")
    search_fields = ("public_id", "merchant__public_id")
    list_select_related = ("merchant",)
    fields = (
        "public_id",
        "merchant",
        "livemode",
        "amount",
        "amount_received",
        "currency",
        "status",
        "capture_method",
        "description",
        "created_at",
    )


@admin.register(Refund)
class RefundAdmin(ReadOnly):
    list_display = ("public_id", "merchant", "amount", "currency", "status", "created_at")
    list_filter = ("status", "currency", "livemode")
    search_fields = ("public_id", "merchant__public_id")
    list_select_related = ("merchant",)
    fields = ("public_id", "merchant", "livemode", "amount", "currency", "status", "reason")


@admin.register(Customer)
class CustomerAdmin(ReadOnly):
    list_display = ("public_id", "merchant", "email", "livemode", "created_at")
    search_fields = ("public_id", "email", "merchant__public_id")
    list_select_related = ("merchant",)
    fields = ("public_id", "merchant", "livemode", "email", "name", "created_at")
