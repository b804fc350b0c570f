"""/v1 routes of the settlement app (balance, balance transactions, payouts, batches).

Included in config/urls.py before payments' /v1 routes, whose last route is the catch-all
404."""

from django.urls import path

from settlement.api import balance, payouts

urlpatterns: list = [
    path("balance", balance.BalanceView.as_view(), name="balance-retrieve"),
    path(
        "balance_transactions",
        balance.BalanceTransactionListView.as_view(),
        name="balance_transaction-list",
    ),
    path(
        "balance_transactions/<str:btxn_id>",
        balance.BalanceTransactionDetailView.as_view(),
        name="balance_transaction-detail",
    ),
    path("payouts", payouts.PayoutListCreateView.as_view(), name="payout-list"),
    path("payouts/<str:payout_id>", payouts.PayoutDetailView.as_view(), name="payout-detail"),
    path(
        "payouts/<str:payout_id>/cancel",
        payouts.PayoutCancelView.as_view(),
        name="payout-cancel",
    ),
]
