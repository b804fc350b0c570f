"""The sandbox's demo shop (/sandbox/shop): a merchant's page that takes payments through
gateway.js, every way a merchant integrates: redirectToCheckout (the hosted page),
embedCheckout (the hosted page in a modal iframe, for an origin the demo merchant
registered: `manage.py demo_merchant` registers the gateway's own) and its own card form
(createPaymentMethod + confirmCardPayment). Its "server side" creates the
checkout session and the payment intent for the demo merchant through the services, as a
merchant's backend would through the API with its secret key."""

from urllib.parse import urlsplit

from django.conf import settings
from django.http import HttpResponseRedirect, JsonResponse
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from merchants.services import demo_merchant_ensure
from payments.checkout_views import checkout_csp, format_amount
from payments.models import CheckoutSession, PaymentIntent
from payments.services.checkout import checkout_session_create, checkout_url
from payments.services.payment_intents import payment_intent_create

PRODUCT = {"name": "Kopi Gayo 250 g", "unit_amount": 8_500_000, "currency": "idr"}


def _shop_url(request) -> str:
    return request.build_absolute_uri(reverse("sandbox:shop"))


def _with_gateway_origin(response):
    """The shop calls the gateway's API from the browser and frames its checkout page: when
    the shop is served from another origin than GATEWAY_BASE_URL (as a merchant's site
    is), connect-src and frame-src need it."""
    parts = urlsplit(settings.GATEWAY_BASE_URL)
    gateway = f"{parts.scheme}://{parts.netloc}"
    response._csp_config = {k: list(v) for k, v in settings.GATEWAY_CHECKOUT_CSP.items()}
    response._csp_config["connect-src"].append(gateway)
    response._csp_config["frame-src"] = ["'self'", gateway]
    return response


@checkout_csp
@require_GET
def shop(request):
    demo = demo_merchant_ensure()
    paid = None
    if request.GET.get("session_id"):
        paid = CheckoutSession.objects.filter(
            public_id=request.GET["session_id"], merchant=demo.merchant
        ).first()
    returned = None
    if request.GET.get("payment_intent"):
        returned = PaymentIntent.objects.filter(
            public_id=request.GET["payment_intent"], merchant=demo.merchant
        ).first()
    context = {
        "publishable_key": demo.publishable_key,
        "gateway_js": f"{settings.GATEWAY_BASE_URL}/static/gateway.js",
        "product": PRODUCT,
        "price": format_amount(PRODUCT["unit_amount"], PRODUCT["currency"]),
        "paid": paid,
        "canceled": request.GET.get("canceled") == "1",
        "returned": returned,
        "origin": f"{request.scheme}://{request.get_host()}",
        "embeddable": f"{request.scheme}://{request.get_host()}"
        in (demo.merchant.checkout_allowed_origins or []),
    }
    return _with_gateway_origin(render(request, "sandbox/shop.html", context))


@require_POST
def create_session(request):
    """The merchant's backend: a checkout session for one product. JSON for gateway.js
    (redirectToCheckout), a redirect to the hosted page for a form without JavaScript."""
    demo = demo_merchant_ensure()
    shop_url = _shop_url(request)
    session = checkout_session_create(
        merchant=demo.merchant,
        livemode=False,
        line_items=[
            {
                "price_data": {
                    "currency": PRODUCT["currency"],
                    "unit_amount": PRODUCT["unit_amount"],
                    "product_data": {"name": PRODUCT["name"]},
                },
                "quantity": 1,
            }
        ],
        success_url=shop_url + "?session_id={CHECKOUT_SESSION_ID}",
        cancel_url=shop_url + "?canceled=1",
        client_reference_id="sandbox-shop",
    )
    if "application/json" in request.headers.get("Accept", ""):
        return JsonResponse({"id": session.public_id})
    return HttpResponseRedirect(checkout_url(session), status=303)


@require_POST
def create_intent(request):
    """The merchant's backend for its own card form: a payment intent whose client_secret
    the page confirms with gateway.js."""
    demo = demo_merchant_ensure()
    intent = payment_intent_create(
        merchant=demo.merchant,
        livemode=False,
        amount=PRODUCT["unit_amount"],
        currency=PRODUCT["currency"],
        description=f"Sandbox shop: {PRODUCT['name']}",
    )
    return JsonResponse({"client_secret": intent.client_secret})
