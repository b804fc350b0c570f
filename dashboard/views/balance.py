"""Balance and payouts: balance transactions, settlement batches (lines, CSV), payouts with
their arrival dates, a manual payout and the bank accounts payouts go to. Money moves only
through settlement's services; managing payouts needs two-factor for owners and admins."""

from decimal import Decimal

from django import forms
from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.views.decorators.http import require_POST

from core.errors import APIError, ResourceMissingError
from core.money import supported_currencies
from dashboard.access import audit, dashboard_view
from dashboard.forms import amount_in_minor
from dashboard.selectors import keyset_page
from dashboard.templatetags.dashboard import money
from dashboard.views.common import render_page
from merchants.models import BankAccount
from merchants.services import bank_account_set
from settlement.models import BalanceTransactionType, PayoutStatus, SettlementLine
from settlement.selectors import (
    balance_transaction_list,
    payout_get,
    payout_list,
    settlement_batch_get,
    settlement_batch_list,
)
from settlement.services.ledger import merchant_balances
from settlement.services.payouts import payout_cancel, payout_create
from settlement.services.reconciliation import settlement_batch_csv

PAGE_SIZE = 25
BANKS = [
    ("bca", "BCA"),
    ("bni", "BNI"),
    ("bri", "BRI"),
    ("mandiri", "Mandiri"),
    ("permata", "Permata"),
]


def _currency(value: str) -> str:
    value = (value or "").strip().lower()
    if value and value not in supported_currencies():
        raise forms.ValidationError("Unknown currency.")
    return value


class BalanceFilterForm(forms.Form):
    type = forms.ChoiceField(
        required=False, choices=[("", "Any type"), *BalanceTransactionType.choices]
    )
    currency = forms.CharField(required=False, max_length=3)

    def clean_currency(self) -> str:
        return _currency(self.cleaned_data["currency"])


class PayoutFilterForm(forms.Form):
    status = forms.ChoiceField(required=False, choices=[("", "Any status"), *PayoutStatus.choices])


class PayoutForm(forms.Form):
    amount = forms.DecimalField(min_value=Decimal("0.01"), label="Amount")
    currency = forms.CharField(max_length=3)
    description = forms.CharField(required=False, max_length=255)

    def clean_currency(self) -> str:
        value = _currency(self.cleaned_data["currency"])
        if not value:
            raise forms.ValidationError("Choose a currency.")
        return value


class BankAccountForm(forms.Form):
    currency = forms.CharField(max_length=3, initial="idr")
    bank_code = forms.ChoiceField(choices=BANKS, label="Bank")
    account_number = forms.RegexField(
        regex=r"^[0-9]{6,20}$",
        label="Account number",
        error_messages={"invalid": "Digits only, 6 to 20 of them."},
    )
    account_holder_name = forms.CharField(max_length=200, label="Account holder")

    def clean_currency(self) -> str:
        value = _currency(self.cleaned_data["currency"])
        if not value:
            raise forms.ValidationError("Choose a currency.")
        return value


def _query_without_cursor(request: HttpRequest) -> str:
    query = request.GET.copy()
    for key in ("after", "before"):
        query.pop(key, None)
    return query.urlencode()


def _page(request: HttpRequest, rows, scope):
    return keyset_page(
        rows.order_by("-created_at", "-id"),
        size=PAGE_SIZE,
        after=request.GET.get("after", ""),
        before=request.GET.get("before", ""),
        scope=scope,
    )


def _balances(request: HttpRequest) -> list[dict]:
    d = request.dashboard
    balances = merchant_balances(merchant=d.merchant, livemode=d.livemode)
    return [
        {
            "currency": c,
            "available": balances.get(c, {}).get("available", 0),
            "pending": balances.get(c, {}).get("pending", 0),
            "in_transit": balances.get(c, {}).get("in_transit", 0),
        }
        for c in sorted(balances) or [d.merchant.default_currency]
    ]


@dashboard_view("payments.view")
def balance(request: HttpRequest) -> HttpResponse:
    """Balances by stage and the balance transactions behind them, newest first."""
    d = request.dashboard
    form = BalanceFilterForm(request.GET or None)
    data = form.cleaned_data if form.is_valid() else {}
    scope = balance_transaction_list(merchant=d.merchant, livemode=d.livemode)
    rows = balance_transaction_list(
        merchant=d.merchant,
        livemode=d.livemode,
        type=data.get("type") or None,
        currency=data.get("currency") or None,
    )
    context = {
        "nav": "balance",
        "form": form,
        "balances": _balances(request),
        "page": _page(request, rows, scope),
        "query": _query_without_cursor(request),
    }
    return render_page(request, "dashboard/balance.html", context, partial="results")


# --- settlement batches ------------------------------------------------------------------


def _batch(request: HttpRequest, public_id: str):
    d = request.dashboard
    try:
        return settlement_batch_get(merchant=d.merchant, livemode=d.livemode, public_id=public_id)
    except ResourceMissingError as exc:
        raise Http404(str(exc)) from exc


@dashboard_view("payments.view")
def settlementbatch_list(request: HttpRequest) -> HttpResponse:
    d = request.dashboard
    scope = settlement_batch_list(merchant=d.merchant, livemode=d.livemode)
    context = {
        "nav": "settlements",
        "page": _page(request, scope.select_related("payout"), scope),
        "query": _query_without_cursor(request),
    }
    return render_page(request, "dashboard/settlementbatch_list.html", context, partial="results")


@dashboard_view("payments.view")
def settlementbatch_detail(request: HttpRequest, public_id: str) -> HttpResponse:
    batch = _batch(request, public_id)
    lines = list(
        SettlementLine.objects.filter(batch=batch)
        .select_related("balance_transaction")
        .order_by("id")
    )
    payout = payout_list(merchant=batch.merchant, livemode=batch.livemode).filter(
        settlement_batch=batch
    )
    context = {"nav": "settlements", "batch": batch, "lines": lines, "payout": payout.first()}
    return render_page(request, "dashboard/settlementbatch_detail.html", context)


@dashboard_view("payments.export")
def settlementbatch_export(request: HttpRequest, public_id: str) -> HttpResponse:
    batch = _batch(request, public_id)
    audit(request, "settlement_batch.export", batch.public_id)
    response = HttpResponse(settlement_batch_csv(batch=batch), content_type="text/csv")
    filename = f"settlement-{batch.day.isoformat()}-{batch.currency}-{batch.public_id}.csv"
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


# --- payouts -----------------------------------------------------------------------------


def _payouts_context(request: HttpRequest, **extra) -> dict:
    d = request.dashboard
    form = PayoutFilterForm(request.GET or None)
    status = form.cleaned_data.get("status") if form.is_valid() else ""
    scope = payout_list(merchant=d.merchant, livemode=d.livemode)
    rows = payout_list(merchant=d.merchant, livemode=d.livemode, status=status or None)
    context = {
        "nav": "payouts",
        "filter_form": form,
        "balances": _balances(request),
        "page": _page(request, rows, scope),
        "query": _query_without_cursor(request),
        "payout_form": PayoutForm(initial={"currency": d.merchant.default_currency}),
    }
    context.update(extra)
    return context


@dashboard_view("payments.view", require_2fa=True)
def payout_list_page(request: HttpRequest) -> HttpResponse:
    return render_page(
        request, "dashboard/payout_list.html", _payouts_context(request), partial="results"
    )


@require_POST
@dashboard_view("payouts.manage", require_2fa=True)
def payout_create_view(request: HttpRequest) -> HttpResponse:
    """A manual payout of part of the available balance (settlement's payout service)."""
    d = request.dashboard
    form = PayoutForm(request.POST)
    error = ""
    payout = None
    if not form.is_valid():
        error = "Check the payout form."
    else:
        currency = form.cleaned_data["currency"]
        amount = amount_in_minor(form.cleaned_data["amount"], currency)
        try:
            payout = payout_create(
                merchant=d.merchant,
                livemode=d.livemode,
                amount=amount,
                currency=currency,
                description=form.cleaned_data["description"],
            )
        except APIError as exc:
            error = exc.message
            if exc.code == "balance_insufficient":
                # The service speaks the API's minor units; the form takes major ones.
                balances = merchant_balances(merchant=d.merchant, livemode=d.livemode)
                available = balances.get(currency, {}).get("available", 0)
                error = (
                    "You have insufficient funds in your available balance: "
                    f"{money(available, currency)} available, {money(amount, currency)} "
                    "requested."
                )
    if payout is not None:
        audit(
            request,
            "payout.create",
            payout.public_id,
            amount=payout.amount,
            currency=payout.currency,
            arrival_date=payout.arrival_date.isoformat(),
        )
    notice = (
        f"Payout {payout.public_id} created; it arrives on {payout.arrival_date:%d %b %Y}."
        if payout
        else ""
    )
    if not request.htmx:
        (messages.error if error else messages.success)(request, error or notice)
        return redirect("dashboard:payout-list")
    context = _payouts_context(request, payout_error=error, payout_notice=notice)
    if error:
        context["payout_form"] = form
    return render_page(request, "dashboard/payout_list.html", context, partial="payouts")


@dashboard_view("payments.view", require_2fa=True)
def payout_detail(request: HttpRequest, public_id: str) -> HttpResponse:
    d = request.dashboard
    try:
        payout = payout_get(merchant=d.merchant, livemode=d.livemode, public_id=public_id)
    except ResourceMissingError as exc:
        raise Http404(str(exc)) from exc
    lines = []
    if payout.settlement_batch_id:
        lines = list(
            balance_transaction_list(
                merchant=d.merchant, livemode=d.livemode, payout=payout.public_id
            ).order_by("-created_at", "-id")[:200]
        )
    context = {
        "nav": "payouts",
        "payout": payout,
        "lines": lines,
        "can_cancel": d.can("payouts.manage") and payout.status == PayoutStatus.PENDING,
    }
    return render_page(request, "dashboard/payout_detail.html", context)


@require_POST
@dashboard_view("payouts.manage", require_2fa=True)
def payout_cancel_view(request: HttpRequest, public_id: str) -> HttpResponse:
    """Cancel a payout not sent yet: its money goes back to the available balance."""
    d = request.dashboard
    try:
        payout = payout_get(merchant=d.merchant, livemode=d.livemode, public_id=public_id)
    except ResourceMissingError as exc:
        raise Http404(str(exc)) from exc
    try:
        payout = payout_cancel(payout=payout)
    except APIError as exc:
        messages.error(request, exc.message)
    else:
        audit(request, "payout.cancel", payout.public_id, amount=payout.amount)
        messages.success(request, f"Payout {payout.public_id} canceled; its money is available.")
    return redirect("dashboard:payout-detail", public_id=public_id)


# --- bank accounts -----------------------------------------------------------------------


def _bank_context(request: HttpRequest, **extra) -> dict:
    d = request.dashboard
    context = {
        "nav": "bank",
        "accounts": list(BankAccount.objects.filter(merchant=d.merchant).order_by("currency")),
        "form": BankAccountForm(initial={"currency": d.merchant.default_currency}),
    }
    context.update(extra)
    return context


@dashboard_view("payouts.manage", require_2fa=True)
def bankaccount_list(request: HttpRequest) -> HttpResponse:
    d = request.dashboard
    if request.method != "POST":
        return render_page(request, "dashboard/bankaccount_list.html", _bank_context(request))
    form = BankAccountForm(request.POST)
    if not form.is_valid():
        context = _bank_context(request, form=form)
        return render_page(
            request, "dashboard/bankaccount_list.html", context, partial="accounts", status=400
        )
    account = bank_account_set(merchant=d.merchant, **form.cleaned_data)
    audit(
        request,
        "bank_account.set",
        account.public_id,
        currency=account.currency,
        bank_code=account.bank_code,
        last4=account.account_number[-4:],
    )
    notice = f"Payouts in {account.currency.upper()} now go to {account}."
    if not request.htmx:
        messages.success(request, notice)
        return redirect("dashboard:bankaccount-list")
    context = _bank_context(request, notice=notice)
    return render_page(request, "dashboard/bankaccount_list.html", context, partial="accounts")
