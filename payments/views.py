from urllib.parse import urlencode, urlsplit, urlunsplit

from django.http import Http404, HttpResponseRedirect
from django.shortcuts import render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from payments.models import PaymentIntent, PaymentIntentStatus
from payments.services.payment_intents import (
    authentication_return_token_valid,
    payment_intent_complete_authentication,
)


def _with_query(url: str, params: dict) -> str:
    parts = urlsplit(url)
    query = "&".join(filter(None, [parts.query, urlencode(params)]))
    return urlunsplit(parts._replace(query=query))


@never_cache
@require_GET
def authentication_return(request, intent_id: str):
    """The customer's browser comes back from the 3-D Secure page. We learn the result from
    the processor (an inquiry, never a new authorization), then send the customer on to the
    merchant's return_url as Stripe does. Only with the signed token of the URL the
    gateway gave the issuer: the redirect carries the intent's client_secret."""
    if not authentication_return_token_valid(
        intent_id=intent_id, token=request.GET.get("token", "")
    ):
        raise Http404
    intent = PaymentIntent.objects.select_related("merchant").filter(public_id=intent_id).first()
    if intent is None:
        raise Http404
    intent = payment_intent_complete_authentication(intent=intent)
    succeeded = intent.status in (
        PaymentIntentStatus.SUCCEEDED,
        PaymentIntentStatus.REQUIRES_CAPTURE,
    )
    redirect_status = (
        "succeeded"
        if succeeded
        else ("pending" if intent.status == PaymentIntentStatus.PROCESSING else "failed")
    )
    if intent.return_url:
        return HttpResponseRedirect(
            _with_query(
                intent.return_url,
                {
                    "payment_intent": intent.public_id,
                    "payment_intent_client_secret": intent.client_secret,
                    "redirect_status": redirect_status,
                },
            )
        )
    return render(
        request,
        "payments/authentication_done.html",
        {"intent": intent, "redirect_status": redirect_status},
    )


@require_GET
def qr_code_svg(request, token: str):
    """The QR code of a local-method payment as SVG; the token is signed, so only the URL
    the gateway handed out (in next_action) finds it."""
    from django.http import HttpResponse

    from payments.qris import qr_svg
    from payments.services.local_methods import qr_data_for_token

    data = qr_data_for_token(token)
    if data is None:
        raise Http404
    response = HttpResponse(qr_svg(data), content_type="image/svg+xml")
    response["Cache-Control"] = "private, max-age=900"
    return response
