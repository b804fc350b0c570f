"""The local-method providers' customer pages (included under /sandbox/)."""

from django.urls import path

from sandbox import qris, virtual_accounts, wallets

app_name = "sandbox_local"
urlpatterns = [
    path("wallet/ovo/phone/<str:phone>", wallets.phone_page, name="ovo-phone"),
    path("wallet/<str:provider>/<str:payment_id>", wallets.wallet_page, name="wallet"),
    path("bank/va", virtual_accounts.va_page, name="bank-va"),
    path("qris/scan", qris.scan_page, name="qris-scan"),
]
