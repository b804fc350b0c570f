"""/v1 routes of the settlement app (balance, balance transactions, payouts, batches).

Included in config/urls.py before payments' /v1 routes, whose last route is the catch-all
404."""

from django.urls import path

from settlement.api import balance

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
]
