"""/v1 routes of the settlement app (balance, balance transactions, payouts, batches).

Included in config/urls.py before payments' /v1 routes, whose last route is the catch-all
404."""

from django.urls import path

from settlement.api import balance, batches, payouts

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
    path(
        "settlement_batches",
        batches.SettlementBatchListView.as_view(),
        name="settlement_batch-list",
    ),
    path(
        "settlement_batches/<str:batch_id>",
        batches.SettlementBatchDetailView.as_view(),
        name="settlement_batch-detail",
    ),
    path(
        "settlement_batches/<str:batch_id>/lines",
        batches.SettlementBatchLineListView.as_view(),
        name="settlement_batch-lines",
    ),
    path(
        "settlement_batches/<str:batch_id>/lines.csv",
        batches.SettlementBatchLinesCSVView.as_view(),
        name="settlement_batch-lines-csv",
    ),
]
