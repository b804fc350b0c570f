"""Payments: the list (filters, search, pages, CSV) and a payment's page with its actions.
Actions call the payments services; their errors are shown where the action was taken."""

import csv

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import redirect
from django.utils import timezone
from django.views.decorators.http import require_POST

from core.errors import APIError, ResourceMissingError
from dashboard.access import audit, dashboard_view, merchant_zone
from dashboard.forms import (
    CancelForm,
    CaptureForm,
    PaymentFilterForm,
    RefundForm,
    amount_in_minor,
)
from dashboard.selectors import keyset_page, payment_search
from dashboard.views.common import render_page
from payments.models import PaymentIntent, PaymentIntentStatus, Transaction
from payments.selectors.payments import payment_intent_get, payment_intent_list, refund_list
from payments.services.local_methods import BANKS
from payments.services.local_refunds import BY_PAYOUT
from payments.services.payment_intents import payment_intent_cancel, payment_intent_capture
from payments.services.refunds import refund_create
from webhooks.models import Event

PAGE_SIZE = 25


def _filtered(request: HttpRequest):
    d = request.dashboard
    form = PaymentFilterForm(request.GET or None)
    filters = form.filters(
        default_currency=d.merchant.default_currency, zone=merchant_zone(d.merchant)
    )
    rows = payment_search(merchant=d.merchant, livemode=d.livemode, filters=filters)
    return form, rows


@dashboard_view("payments.view")
def payment_list(request: HttpRequest) -> HttpResponse:
    d = request.dashboard
    form, rows = _filtered(request)
    page = keyset_page(
        rows,
        size=PAGE_SIZE,
        after=request.GET.get("after", ""),
        before=request.GET.get("before", ""),
        scope=payment_intent_list(merchant=d.merchant, livemode=d.livemode),
    )
    query = request.GET.copy()
    for key in ("after", "before"):
        query.pop(key, None)
    context = {"nav": "payments", "form": form, "page": page, "query": query.urlencode()}
    return render_page(request, "dashboard/payment_list.html", context, partial="results")


def _csv_rows(rows):
    yield [
        "id",
        "created (UTC)",
        "amount",
        "currency",
        "amount_received",
        "amount_refunded",
        "status",
        "payment_method_type",
        "card_brand",
        "card_last4",
        "customer_email",
        "client_reference_id",
        "description",
    ]
    for pi in rows.select_related("checkout_session").iterator(chunk_size=2000):
        pm = pi.payment_method
        details = (pm.details if pm else None) or {}
        session = getattr(pi, "checkout_session", None)
        charge = pi.latest_charge
        yield [
            pi.public_id,
            pi.created_at.astimezone(timezone.UTC).isoformat(timespec="seconds"),
            pi.amount,
            pi.currency,
            pi.amount_received,
            charge.amount_refunded if charge else 0,
            pi.status,
            pm.type if pm else "",
            details.get("brand", "") if pm and pm.type == "card" else "",
            details.get("last4", "") if pm and pm.type == "card" else "",
            (pi.customer.email if pi.customer else "") or pi.receipt_email,
            session.client_reference_id if session else "",
            pi.description,
        ]


class _Echo:
    def write(self, value: str) -> str:
        return value


@dashboard_view("payments.export")
def payment_export(request: HttpRequest) -> StreamingHttpResponse:
    """Every payment matching the list's filters (not only one page), as CSV."""
    _form, rows = _filtered(request)
    audit(request, "payments.export", query=request.GET.urlencode())
    writer = csv.writer(_Echo())
    response = StreamingHttpResponse(
        (writer.writerow(row) for row in _csv_rows(rows)), content_type="text/csv"
    )
    stamp = timezone.now().strftime("%Y%m%d-%H%M%S")
    response["Content-Disposition"] = f'attachment; filename="payments-{stamp}.csv"'
    return response


# --- one payment ------------------------------------------------------------------------


def _intent(request: HttpRequest, public_id: str) -> PaymentIntent:
    d = request.dashboard
    try:
        return payment_intent_get(merchant=d.merchant, livemode=d.livemode, public_id=public_id)
    except ResourceMissingError as exc:
        raise Http404(str(exc)) from exc


def _refund_by_payout(intent: PaymentIntent) -> bool:
    """Virtual account and QRIS payments are refunded by a bank transfer to the customer."""
    charge = intent.latest_charge
    return charge is not None and charge.payment_method_details.get("type") in BY_PAYOUT


def _detail_context(request: HttpRequest, intent: PaymentIntent, **extra) -> dict:
    d = request.dashboard
    charges = list(intent.charges.select_related("payment_method").order_by("created_at", "id"))
    refunds = list(
        refund_list(merchant=d.merchant, livemode=d.livemode, payment_intent_pk=intent.pk).order_by(
            "-created_at", "-id"
        )
    )
    object_ids = [
        intent.public_id,
        *(c.public_id for c in charges),
        *(r.public_id for r in refunds),
    ]
    events = list(
        Event.objects.filter(merchant=d.merchant, livemode=d.livemode, object_id__in=object_ids)
        .only("public_id", "type", "created_at", "object_id")
        .order_by("created_at", "id")
    )
    transactions = list(
        Transaction.objects.filter(payment_intent=intent).order_by("created_at", "id")
    )
    charge = intent.latest_charge
    by_payout = _refund_by_payout(intent)
    refundable = 0
    if charge is not None and charge.captured:
        refundable = charge.amount_captured - charge.amount_refunded
    context = {
        "nav": "payments",
        "intent": intent,
        "charge": charge,
        "charges": charges,
        "refunds": refunds,
        "events": events,
        "transactions": transactions,
        "refundable": refundable,
        "can_refund": d.can("payments.refund") and refundable > 0,
        "can_capture": d.can("payments.capture")
        and intent.status == PaymentIntentStatus.REQUIRES_CAPTURE,
        "can_cancel": d.can("payments.cancel")
        and intent.status
        in (
            PaymentIntentStatus.REQUIRES_CAPTURE,
            PaymentIntentStatus.REQUIRES_PAYMENT_METHOD,
            PaymentIntentStatus.REQUIRES_CONFIRMATION,
            PaymentIntentStatus.REQUIRES_ACTION,
        ),
        "refund_by_payout": by_payout,
        "refund_form": RefundForm(by_payout=by_payout),
        "capture_form": CaptureForm(),
        "cancel_form": CancelForm(),
    }
    context.update(extra)
    return context


@dashboard_view("payments.view")
def payment_detail(request: HttpRequest, public_id: str) -> HttpResponse:
    intent = _intent(request, public_id)
    return render_page(request, "dashboard/payment_detail.html", _detail_context(request, intent))


def _form_error(form) -> str:
    """The form's first problem, for the page's message ("Check the form: Account number:
    Digits only, ..."); the htmx answer also shows each field's error beside the field."""
    for name, errors in form.errors.items():
        label = form.fields[name].label if name in form.fields else ""
        return f"Check the form: {label or name}: {errors[0]}"
    return "Check the form."


def _after_action(request, intent, *, error: str = "", notice: str = "", **forms) -> HttpResponse:
    """For htmx, the payment re-read and re-rendered in place; without JavaScript, back to
    the payment's page (post/redirect/get) with the outcome as a message."""
    if not request.htmx:
        (messages.error if error else messages.success)(request, error or notice)
        return redirect("dashboard:payment-detail", public_id=intent.public_id)
    intent = _intent(request, intent.public_id)
    context = _detail_context(request, intent, action_error=error, action_notice=notice, **forms)
    return render_page(request, "dashboard/payment_detail.html", context, partial="payment")


@require_POST
@dashboard_view("payments.refund")
def payment_refund(request: HttpRequest, public_id: str) -> HttpResponse:
    intent = _intent(request, public_id)
    form = RefundForm(request.POST, by_payout=_refund_by_payout(intent))
    if not form.is_valid():
        return _after_action(request, intent, error=_form_error(form), refund_form=form)
    amount = amount_in_minor(form.cleaned_data["amount"], intent.currency)
    reason = form.cleaned_data["reason"] or None
    destination = form.destination
    try:
        refund = refund_create(
            payment_intent=intent, amount=amount, reason=reason, destination=destination
        )
    except APIError as exc:
        return _after_action(request, intent, error=exc.message, refund_form=form)
    # The customer's account is kept on the refund; the log keeps only its bank and last 4.
    paid_to = (
        {"bank": destination["bank"], "account_last4": destination["account_number"][-4:]}
        if destination
        else {}
    )
    audit(
        request,
        "payment_intent.refund",
        refund.public_id,
        payment_intent=intent.public_id,
        amount=refund.amount,
        currency=refund.currency,
        reason=refund.reason,
        status=refund.status,
        **paid_to,
    )
    notice = f"Refund {refund.public_id}: {refund.status}."
    if destination and refund.status == "pending":
        account = f"{BANKS[destination['bank']]} ••••{destination['account_number'][-4:]}"
        notice = (
            f"Refund {refund.public_id}: pending until the bank transfer to {account} completes."
        )
    return _after_action(request, intent, notice=notice)


@require_POST
@dashboard_view("payments.capture")
def payment_capture(request: HttpRequest, public_id: str) -> HttpResponse:
    intent = _intent(request, public_id)
    form = CaptureForm(request.POST)
    if not form.is_valid():
        return _after_action(request, intent, error="Check the capture form.", capture_form=form)
    amount = amount_in_minor(form.cleaned_data["amount"], intent.currency)
    try:
        intent = payment_intent_capture(intent=intent, amount_to_capture=amount)
    except APIError as exc:
        return _after_action(request, intent, error=exc.message, capture_form=form)
    audit(
        request,
        "payment_intent.capture",
        intent.public_id,
        amount=intent.amount_received,
        currency=intent.currency,
    )
    return _after_action(request, intent, notice=f"Captured; the payment is {intent.status}.")


@require_POST
@dashboard_view("payments.cancel")
def payment_cancel(request: HttpRequest, public_id: str) -> HttpResponse:
    intent = _intent(request, public_id)
    form = CancelForm(request.POST)
    reason = form.cleaned_data["reason"] if form.is_valid() else ""
    try:
        intent = payment_intent_cancel(intent=intent, cancellation_reason=reason or None)
    except APIError as exc:
        return _after_action(request, intent, error=exc.message)
    audit(request, "payment_intent.cancel", intent.public_id, reason=reason)
    return _after_action(request, intent, notice=f"The payment is {intent.status}.")
