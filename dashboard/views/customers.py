"""Refunds and customers: lists with filters and keyset pages, and a customer's payments."""

from django import forms
from django.db.models import Q
from django.http import Http404, HttpRequest, HttpResponse

from core.errors import ResourceMissingError
from core.money import supported_currencies
from dashboard.access import dashboard_view
from dashboard.selectors import keyset_page
from dashboard.views.common import render_page
from payments.models import RefundStatus
from payments.selectors.customers import customer_get, customer_list
from payments.selectors.payments import payment_intent_list, refund_list

PAGE_SIZE = 25
CUSTOMER_PAYMENTS = 50


class RefundFilterForm(forms.Form):
    q = forms.CharField(required=False, max_length=100, label="Search")
    status = forms.ChoiceField(required=False, choices=[("", "Any status"), *RefundStatus.choices])
    currency = forms.CharField(required=False, max_length=3)

    def clean_currency(self) -> str:
        value = self.cleaned_data["currency"].strip().lower()
        if value and value not in supported_currencies():
            raise forms.ValidationError("Unknown currency.")
        return value


class CustomerFilterForm(forms.Form):
    q = forms.CharField(required=False, max_length=200, label="Search")


def _query_without_cursor(request: HttpRequest) -> str:
    query = request.GET.copy()
    for key in ("after", "before"):
        query.pop(key, None)
    return query.urlencode()


@dashboard_view("payments.view")
def refund_list_page(request: HttpRequest) -> HttpResponse:
    d = request.dashboard
    form = RefundFilterForm(request.GET or None)
    data = form.cleaned_data if form.is_valid() else {}
    scope = refund_list(merchant=d.merchant, livemode=d.livemode)
    rows = scope.select_related("payment_intent__payment_method")
    if data.get("status"):
        rows = rows.filter(status=data["status"])
    if data.get("currency"):
        rows = rows.filter(currency=data["currency"])
    q = (data.get("q") or "").strip()
    if q.startswith("re_"):
        rows = rows.filter(public_id=q)
    elif q.startswith("pi_"):
        rows = rows.filter(payment_intent__public_id=q)
    elif q.startswith("ch_"):
        rows = rows.filter(charge__public_id=q)
    elif q:
        rows = rows.none()
    page = keyset_page(
        rows.order_by("-created_at", "-id"),
        size=PAGE_SIZE,
        after=request.GET.get("after", ""),
        before=request.GET.get("before", ""),
        scope=scope,
    )
    context = {
        "nav": "refunds",
        "form": form,
        "page": page,
        "query": _query_without_cursor(request),
    }
    return render_page(request, "dashboard/refund_list.html", context, partial="results")


@dashboard_view("payments.view")
def customer_list_page(request: HttpRequest) -> HttpResponse:
    d = request.dashboard
    form = CustomerFilterForm(request.GET or None)
    q = (form.cleaned_data.get("q") or "").strip() if form.is_valid() else ""
    scope = customer_list(merchant=d.merchant, livemode=d.livemode)
    rows = scope
    if q.startswith("cus_"):
        rows = rows.filter(public_id=q)
    elif q:
        rows = rows.filter(Q(email__icontains=q) | Q(name__icontains=q))
    page = keyset_page(
        rows.order_by("-created_at", "-id"),
        size=PAGE_SIZE,
        after=request.GET.get("after", ""),
        before=request.GET.get("before", ""),
        scope=scope,
    )
    context = {
        "nav": "customers",
        "form": form,
        "page": page,
        "query": _query_without_cursor(request),
    }
    return render_page(request, "dashboard/customer_list.html", context, partial="results")


@dashboard_view("payments.view")
def customer_detail(request: HttpRequest, public_id: str) -> HttpResponse:
    d = request.dashboard
    try:
        customer = customer_get(merchant=d.merchant, livemode=d.livemode, public_id=public_id)
    except ResourceMissingError as exc:
        raise Http404(str(exc)) from exc
    payments = list(
        payment_intent_list(
            merchant=d.merchant, livemode=d.livemode, customer_pk=customer.pk
        ).order_by("-created_at", "-id")[: CUSTOMER_PAYMENTS + 1]
    )
    context = {
        "nav": "customers",
        "customer": customer,
        "payments": payments[:CUSTOMER_PAYMENTS],
        "more_payments": len(payments) > CUSTOMER_PAYMENTS,
    }
    return render_page(request, "dashboard/customer_detail.html", context)
