"""The e-wallets' customer side: a page per payment that plays the customer's app (GoPay,
DANA and ShopeePay open it from the QR code or the deeplink; OVO pushes it to the phone).
The customer approves, declines, or lets it expire; each ends the payment at the provider,
which sends the gateway its signed callback."""

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_http_methods

from sandbox import providers
from sandbox.models import ProviderPayment, ProviderPaymentStatus

NAMES = {"gopay": "GoPay", "ovo": "OVO", "dana": "DANA", "shopeepay": "ShopeePay"}
ACTIONS = {
    "approve": (ProviderPaymentStatus.PAID, ""),
    "decline": (ProviderPaymentStatus.FAILED, "declined_by_customer"),
    "expire": (ProviderPaymentStatus.EXPIRED, ""),
}


def _amount(payment: ProviderPayment) -> str:
    return f"Rp{payment.amount // 100:,}"


@require_http_methods(["GET", "POST"])
def wallet_page(request: HttpRequest, provider: str, payment_id: str) -> HttpResponse:
    """GET: the payment as the app shows it. POST action=approve|decline|expire."""
    payment = providers.get(payment_id)
    if provider not in NAMES or payment is None or payment.method != provider:
        raise Http404("No such payment")
    problem, status = "", 200
    if request.method == "POST":
        action = request.POST.get("action")
        if action not in ACTIONS:
            return HttpResponse("action must be approve, decline or expire", status=400)
        new_status, code = ACTIONS[action]
        payment, problem = providers.finish(payment.provider_reference, new_status, code=code)
        status = 409 if problem else 200
    context = {
        "payment": payment,
        "wallet": NAMES[provider],
        "amount": _amount(payment),
        "is_pending": payment.status == ProviderPaymentStatus.PENDING,
        "problem": problem,
    }
    return render(request, "sandbox/wallet.html", context, status=status)


def phone_page(request: HttpRequest, phone: str) -> HttpResponse:
    """/sandbox/wallet/ovo/phone/<phone>: the OVO app on that phone, with its pending pushes."""
    pending = [
        p
        for p in ProviderPayment.objects.filter(
            method="ovo", phone=phone, status=ProviderPaymentStatus.PENDING
        ).order_by("-created_at")[:20]
        if providers.get(p.provider_reference).status == ProviderPaymentStatus.PENDING
    ]
    context = {"phone": phone, "pushes": [(p, _amount(p)) for p in pending]}
    return render(request, "sandbox/ovo_phone.html", context)
