"""The operators' admin for merchants, their members and pricing plans. Suspending or
activating a merchant goes through merchants.services and lands in its audit log."""

from django.contrib import admin, messages

from merchants.models import (
    AuditEvent,
    BankAccount,
    Invitation,
    Membership,
    Merchant,
    MerchantStatus,
    PricingPlan,
    PricingRate,
)
from merchants.services import merchant_status_set


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 0
    fields = ("user", "role", "created_at")
    readonly_fields = ("user", "role", "created_at")
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


def _set_status(modeladmin, request, queryset, status: str) -> None:
    changed = sum(
        merchant_status_set(merchant=m, status=status, operator=request.user) for m in queryset
    )
    modeladmin.message_user(request, f"{changed} merchant(s) now {status}.", messages.SUCCESS)


@admin.action(description="Activate selected merchants")
def activate(modeladmin, request, queryset):
    _set_status(modeladmin, request, queryset, MerchantStatus.ACTIVE)


@admin.action(description="Suspend selected merchants")
def suspend(modeladmin, request, queryset):
    _set_status(modeladmin, request, queryset, MerchantStatus.SUSPENDED)


@admin.register(Merchant)
class MerchantAdmin(admin.ModelAdmin):
    list_display = ("public_id", "name", "country", "default_currency", "status", "created_at")
    list_filter = ("status", "country", "default_currency")
    search_fields = ("public_id", "name", "memberships__user__email")
    readonly_fields = ("public_id", "status", "created_at", "updated_at")
    fields = (
        "public_id",
        "name",
        "status",
        "country",
        "default_currency",
        "timezone",
        "pricing_plan",
        "settlement_cutoff_hour",
        "payout_delay_days",
        "payouts_automatic",
        "created_at",
        "updated_at",
    )
    actions = [activate, suspend]
    inlines = [MembershipInline]

    def has_delete_permission(self, request, obj=None):
        return False  # merchants hold money (PROTECT everywhere): suspend instead


class PricingRateInline(admin.TabularInline):
    model = PricingRate
    extra = 1


@admin.register(PricingPlan)
class PricingPlanAdmin(admin.ModelAdmin):
    list_display = ("name", "is_default", "refund_returns_fee", "created_at")
    search_fields = ("name",)
    fields = ("name", "is_default", "refund_returns_fee")
    inlines = [PricingRateInline]


@admin.register(BankAccount)
class BankAccountAdmin(admin.ModelAdmin):
    list_display = ("public_id", "merchant", "currency", "bank_code", "last4")
    search_fields = ("public_id", "merchant__public_id", "merchant__name")
    exclude = ("account_number",)
    readonly_fields = ("public_id", "merchant", "currency", "bank_code", "last4")

    @admin.display(description="Account")
    def last4(self, obj) -> str:
        return f"…{obj.account_number[-4:]}"

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class _ReadOnly(admin.ModelAdmin):
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Invitation)
class InvitationAdmin(_ReadOnly):
    list_display = ("email", "merchant", "role", "created_at", "accepted_at", "revoked_at")
    search_fields = ("email", "merchant__public_id")
    exclude = ("token_hash",)


@admin.register(AuditEvent)
class AuditEventAdmin(_ReadOnly):
    list_display = ("created_at", "merchant", "actor_email", "actor_role", "action", "object_id")
    list_filter = ("action", "actor_role")
    search_fields = ("merchant__public_id", "actor_email", "object_id")
