"""The sandbox's own pages: the 3-D Secure challenge an issuer shows the cardholder."""

from urllib.parse import urlsplit

from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.views.decorators.http import require_http_methods

from sandbox import services
from sandbox.models import AuthorizationStatus


def _amount_display(amount: int, currency: str) -> str:
    exponent = 0 if currency in {"jpy", "krw", "vnd"} else 2
    major = amount / 10**exponent
    return f"{currency.upper()} {major:,.{exponent}f}"


@require_http_methods(["GET", "POST"])
def challenge(request: HttpRequest, challenge_id: str) -> HttpResponse:
    """GET: the challenge page. POST result=complete|fail: finish the authentication, then
    send the browser back to the authentication_return_url given with the authorization."""
    auth = services.challenge_get(challenge_id)
    if auth is None:
        raise Http404("No such 3-D Secure challenge")
    if request.method == "POST":
        result = request.POST.get("result")
        if result not in {"complete", "fail"}:
            return HttpResponse("result must be complete or fail", status=400)
        auth = services.challenge_finish(
            challenge_id=challenge_id, authenticated=result == "complete"
        )
        return_url = auth.authentication_return_url
        if return_url and urlsplit(return_url).scheme in {"http", "https"}:
            return HttpResponseRedirect(return_url)
    context = {
        "auth": auth,
        "amount": _amount_display(auth.amount, auth.currency),
        "is_pending": auth.status == AuthorizationStatus.REQUIRES_ACTION,
    }
    return render(request, "sandbox/challenge.html", context)
