"""The sandbox banks' virtual accounts: a customer transfers to a VA number from the
sandbox bank page. Closed VAs: only the exact amount due is accepted, before the expiry;
the bank then tells the gateway by a signed callback."""

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_http_methods

from sandbox import providers
from sandbox.models import ProviderPayment, ProviderPaymentStatus

BANK_NAMES = {
    "bca": "BCA",
    "bni": "BNI",
    "bri": "BRI",
    "mandiri": "Mandiri",
    "permata": "Permata",
}


def transfer(*, bank: str, va_number: str, amount: int) -> tuple[ProviderPayment | None, str]:
    """Pay `amount` (minor units) into a virtual account: (payment, "") or why not."""
    payment = ProviderPayment.objects.filter(
        method="bank_transfer", bank=bank, va_number=va_number
    ).first()
    if payment is None:
        return None, "No such virtual account at this bank."
    payment = providers.get(payment.provider_reference)
    if payment.status != ProviderPaymentStatus.PENDING:
        return payment, f"This virtual account is closed ({payment.status})."
    return providers.finish(payment.provider_reference, ProviderPaymentStatus.PAID, amount=amount)


@require_http_methods(["GET", "POST"])
def va_page(request: HttpRequest) -> HttpResponse:
    """/sandbox/bank/va: GET the transfer form; POST bank, va_number, amount (rupiah, as a
    customer types it: "1500" or "1.500")."""
    context: dict = {"banks": BANK_NAMES, "form": request.POST or request.GET}
    status = 200
    if request.method == "POST":
        bank = request.POST.get("bank", "")
        va_number = request.POST.get("va_number", "").replace(" ", "")
        rupiah = request.POST.get("amount", "").replace(".", "").replace(",", "").strip()
        if bank not in BANK_NAMES or not va_number.isdigit() or not rupiah.isdigit():
            context["error"] = "Choose a bank and give the VA number and an amount in rupiah."
            status = 400
        else:
            payment, problem = transfer(bank=bank, va_number=va_number, amount=int(rupiah) * 100)
            context["payment"] = payment
            if problem:
                context["error"] = problem
                status = 400
            else:
                context["paid"] = True
    return render(request, "sandbox/bank_va.html", context, status=status)
