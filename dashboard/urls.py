from django.urls import path

from dashboard.views import (
    audit,
    balance,
    common,
    customers,
    developers,
    home,
    payments,
    settings,
    team,
)

app_name = "dashboard"

urlpatterns = [
    path("", home.home, name="home"),
    path("mode", common.mode_switch, name="mode-switch"),
    path("payments/", payments.payment_list, name="payment-list"),
    path("payments/export.csv", payments.payment_export, name="payment-export"),
    path("payments/<str:public_id>/", payments.payment_detail, name="payment-detail"),
    path("payments/<str:public_id>/refund", payments.payment_refund, name="payment-refund"),
    path("payments/<str:public_id>/capture", payments.payment_capture, name="payment-capture"),
    path("payments/<str:public_id>/cancel", payments.payment_cancel, name="payment-cancel"),
    path("refunds/", customers.refund_list_page, name="refund-list"),
    path("customers/", customers.customer_list_page, name="customer-list"),
    path("customers/<str:public_id>/", customers.customer_detail, name="customer-detail"),
    path("balance/", balance.balance, name="balance"),
    path("settlements/", balance.settlementbatch_list, name="settlementbatch-list"),
    path(
        "settlements/<str:public_id>/",
        balance.settlementbatch_detail,
        name="settlementbatch-detail",
    ),
    path(
        "settlements/<str:public_id>/export.csv",
        balance.settlementbatch_export,
        name="settlementbatch-export",
    ),
    path("payouts/", balance.payout_list_page, name="payout-list"),
    path("payouts/create", balance.payout_create_view, name="payout-create"),
    path("payouts/<str:public_id>/", balance.payout_detail, name="payout-detail"),
    path("payouts/<str:public_id>/cancel", balance.payout_cancel_view, name="payout-cancel"),
    path("settings/", settings.settings_page, name="settings"),
    path("settings/profile", settings.settings_profile, name="settings-profile"),
    path(
        "settings/payout-schedule",
        settings.settings_payout_schedule,
        name="settings-payout-schedule",
    ),
    path("settings/bank-accounts/", balance.bankaccount_list, name="bankaccount-list"),
    path("developers/keys/", developers.apikey_list, name="apikey-list"),
    path("developers/keys/create", developers.apikey_create, name="apikey-create"),
    path("developers/keys/<int:pk>/roll", developers.apikey_roll, name="apikey-roll"),
    path("developers/keys/<int:pk>/revoke", developers.apikey_revoke, name="apikey-revoke"),
    path("developers/webhooks/", developers.webhookendpoint_list, name="webhookendpoint-list"),
    path(
        "developers/webhooks/create",
        developers.webhookendpoint_create,
        name="webhookendpoint-create",
    ),
    path(
        "developers/webhooks/<str:public_id>/",
        developers.webhookendpoint_detail,
        name="webhookendpoint-detail",
    ),
    path(
        "developers/webhooks/<str:public_id>/update",
        developers.webhookendpoint_update,
        name="webhookendpoint-update",
    ),
    path(
        "developers/webhooks/<str:public_id>/roll-secret",
        developers.webhookendpoint_roll_secret,
        name="webhookendpoint-roll-secret",
    ),
    path(
        "developers/webhooks/<str:public_id>/test",
        developers.webhookendpoint_test,
        name="webhookendpoint-test",
    ),
    path(
        "developers/webhooks/<str:public_id>/resend",
        developers.webhookendpoint_resend,
        name="webhookendpoint-resend",
    ),
    path("audit/", audit.auditevent_list, name="auditevent-list"),
    path("team/", team.team, name="team"),
    path("team/invite", team.team_invite, name="team-invite"),
    path(
        "team/invitations/<str:public_id>/revoke",
        team.team_invitation_revoke,
        name="team-invitation-revoke",
    ),
    path("team/members/<int:pk>/role", team.team_member_role, name="team-member-role"),
    path("team/members/<int:pk>/remove", team.team_member_remove, name="team-member-remove"),
    path("invitations/<str:token>/", team.invitation_accept_page, name="invitation-accept"),
]
