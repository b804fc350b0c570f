"""The hosted checkout page (/checkout/<cs_id>): card payments for a CheckoutSession.

The page works without JavaScript (a plain form POST, redirects, a meta refresh while a
payment is processing); htmx enhances it: the form region is swapped with the
"checkout/page.html#card_form" partial and a status fragment polls every 2 s. The amount
and currency come from the session only: nothing the browser sends can change them.
Every response carries the strict Content-Security-Policy of GATEWAY_CHECKOUT_CSP.

Embedded mode (gateway.js embedCheckout): /checkout/<id>?embedded=1&origin=<the parent
page's origin>. When that origin is registered for the merchant (and the session's mode),
frame-ancestors lists the merchant's registered origins instead of 'none', every link and
form of the page keeps the two parameters, and the page tells its parent about completion
or cancellation by postMessage to exactly that origin. Otherwise the page is the ordinary,
unframeable one.

The page's forms carry no CSRF cookie token: a cross-site iframe gets no cookies, and no
cookie carries any authority here (the unguessable session id in the URL is the customer's
capability). Cross-site posts are refused from the browser's own word instead
(Sec-Fetch-Site, else Origin), which holds in an iframe too.
"""

import base64
import hashlib
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from functools import lru_cache, wraps
from urllib.parse import urlencode, urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from babel.numbers import format_currency
from django.conf import settings
from django.http import Http404, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils.cache import patch_vary_headers
from django.utils.translation import get_language, gettext
from django.utils.translation import gettext_lazy as _
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_http_methods

from core.errors import CardError, InvalidRequestError, StateConflictError
from core.money import currency_exponent
from core.ratelimit import TooManyAttemptsError, card_attempt, merchant_scope
from merchants.branding import brand_palette, embedding_origins
from merchants.models import MerchantLogo
from payments.card_testing import client_ip, fingerprint_or_none
from payments.cards import normalize_number
from payments.models import CheckoutSession, CheckoutSessionStatus, PaymentIntentStatus
from payments.selectors.checkout import checkout_session_for_page
from payments.services.checkout import (
    CheckoutSessionClosedError,
    checkout_session_cancel_attempt,
    checkout_session_expire_if_due,
    checkout_session_pay_card,
    checkout_session_pay_local,
    checkout_session_sync,
    checkout_url,
)
from payments.services.local_methods import BANKS, LOCAL_TYPES, VA_STEPS

# Stripe's error codes, in words a customer understands (never the issuer's reason for a
# lost or stolen card, which would help a thief).
CARD_MESSAGES = {
    "incorrect_number": _("Your card number is not valid. Check it and try again."),
    "invalid_number": _("Your card number is not valid. Check it and try again."),
    "invalid_expiry_month": _("The expiry date is not valid."),
    "invalid_expiry_year": _("The expiry date is not valid."),
    "expired_card": _("Your card has expired. Use another card."),
    "invalid_cvc": _("The security code is not valid."),
    "incorrect_cvc": _("The security code is incorrect. Check the back of your card."),
    "insufficient_funds": _("Your card does not have enough funds. Use another card."),
    "processing_error": _("We could not reach your bank. Wait a moment and try again."),
    "authentication_failure": _(
        "Your bank could not confirm this payment. Try again or use another card."
    ),
    "payment_intent_authentication_failure": _(
        "Your bank could not confirm this payment. Try again or use another card."
    ),
    "card_declined": _("Your card was declined. Use another card or contact your bank."),
}
DECLINED = CARD_MESSAGES["card_declined"]
RATE_LIMITED = _(
    "Too many payment attempts. Wait a few minutes before trying again, or use another "
    "payment method."
)
ALREADY_PAID = _("This order has already been paid. It cannot be paid again.")
IN_PROGRESS = _("A payment for this order is already being processed.")
EXPIRED = _("This checkout page has expired.")
LOCAL_NAMES = {
    "gopay": "GoPay",
    "ovo": "OVO",
    "dana": "DANA",
    "shopeepay": "ShopeePay",
    "qris": "QRIS",
    "bank_transfer": _("Bank transfer"),
}
LOCAL_ACTIONS = ("display_qr_code", "await_push_approval", "display_bank_transfer_instructions")
ATTEMPT_EXPIRED = _(
    "The time to pay with %(method)s ran out and nothing was charged. Choose a payment "
    "method to try again."
)
CROSS_SITE = _("This form can only be sent from the checkout page itself.")
LOCAL_REFUSED = _("The payment could not be started. Try again or choose another method.")
CANCEL_FAILED = _("This payment could not be closed just now. Wait a moment and try again.")
PHONE_INVALID = _("Enter your OVO phone number (08…).")
BANK_MISSING = _("Choose your bank.")
DEFAULT_TIMEZONE = "Asia/Jakarta"
FIELD_MESSAGES = {
    "number": _("Enter a valid card number."),
    "exp": _("Enter the expiry date as MM / YY."),
    "cvc": _("Enter the security code."),
}


@dataclass(frozen=True)
class Embed:
    """The page opened in a registered origin's iframe."""

    origin: str  # the parent page's origin: the only target of the page's postMessage
    ancestors: tuple[str, ...]  # every origin registered for the merchant and mode

    @property
    def query(self) -> str:
        return "?" + urlencode({"embedded": "1", "origin": self.origin})


def _embed_for(request, session: CheckoutSession) -> Embed | None:
    """Embedded mode when asked for (?embedded=1) from an origin the merchant registered;
    None (the ordinary page, never framed) for any other origin."""
    if request.GET.get("embedded") != "1":
        return None
    origins = embedding_origins(session.merchant, livemode=session.livemode)
    origin = request.GET.get("origin", "")
    if origin not in origins:
        return None
    return Embed(origin=origin, ancestors=tuple(origins))


def checkout_csp(view):
    """Give the response the checkout CSP (a copy per response: a view may widen
    form-action for the bank's 3-D Secure page). A view that found the page embedded
    (request.checkout_embed) gets frame-ancestors of the merchant's registered origins,
    and no X-Frame-Options (which knows no list of origins)."""

    @wraps(view)
    def wrapped(request, *args, **kwargs):
        response = view(request, *args, **kwargs)
        if getattr(response, "_csp_config", None) is None:
            response._csp_config = {
                key: list(value) for key, value in settings.GATEWAY_CHECKOUT_CSP.items()
            }
        embed = getattr(request, "checkout_embed", None)
        if embed is not None:
            response._csp_config["frame-ancestors"] = list(embed.ancestors)
            response.xframe_options_exempt = True
        return response

    return wrapped


def _cross_site(request) -> bool:
    """A browser's post from another site (Fetch Metadata; Origin for browsers without
    it). Clients that send neither are not browsers and carry no ambient authority."""
    site = request.headers.get("Sec-Fetch-Site")
    if site is not None:
        return site not in ("same-origin", "none")
    origin = request.headers.get("Origin")
    if origin is None:
        return False
    return origin != f"{request.scheme}://{request.get_host()}"


def _allow_form_redirect(response: HttpResponse, url: str) -> HttpResponse:
    """A form POST answered by a redirect to another origin (the issuer's 3-D Secure page)
    is checked against form-action: allow exactly that origin."""
    parts = urlsplit(url)
    config = {key: list(value) for key, value in settings.GATEWAY_CHECKOUT_CSP.items()}
    if parts.scheme in ("http", "https") and parts.netloc:
        config["form-action"].append(f"{parts.scheme}://{parts.netloc}")
    response._csp_config = config
    return response


# --- formatting -----------------------------------------------------------------------


def format_amount(amount: int, currency: str) -> str:
    """Rp65.000 / $12.50: the currency's exponent (core.money) and the page language's
    conventions (Babel). Rupiah show no decimals when they are zero, as Indonesians write
    them."""
    exponent = currency_exponent(currency)
    value = Decimal(amount).scaleb(-exponent)
    language = (get_language() or "en").split("-")[0]
    locale = "id_ID" if language == "id" else ("en_ID" if currency == "idr" else "en")
    if currency == "idr" and amount % 10**exponent == 0:
        return format_currency(value, "IDR", format="¤#,##0", locale=locale, currency_digits=False)
    return format_currency(value, currency.upper(), locale=locale)


def success_url_for(session: CheckoutSession) -> str:
    return session.success_url.replace("{CHECKOUT_SESSION_ID}", session.public_id)


def _state(session: CheckoutSession) -> str:
    if session.status == CheckoutSessionStatus.COMPLETE:
        return "complete"
    if session.status == CheckoutSessionStatus.EXPIRED:
        return "expired"
    intent = session.payment_intent
    if intent is not None and intent.status == PaymentIntentStatus.PROCESSING:
        return "processing"
    if intent is not None and intent.status == PaymentIntentStatus.REQUIRES_ACTION:
        return "local" if (intent.next_action or {}).get("type") in LOCAL_ACTIONS else "action"
    return "pay"  # also after a local payment's time ran out: a new attempt may start


def _attempt_expired(session: CheckoutSession) -> bool:
    intent = session.payment_intent
    return (
        intent is not None
        and intent.status == PaymentIntentStatus.CANCELED
        and intent.cancellation_reason == "expired"
    )


@lru_cache(maxsize=64)
def _known_timezone(name: str) -> str:
    """The merchant's time zone name, or the default for a name the system doesn't know."""
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return DEFAULT_TIMEZONE
    return name


def _first_local(session: CheckoutSession) -> str:
    return next((t for t in session.payment_method_types if t in LOCAL_TYPES), "card")


def _local_context(next_action: dict) -> dict:
    """What the page shows for a local method's next_action (docs/api.md)."""
    kind = next_action.get("type")
    if kind not in LOCAL_ACTIONS:
        return {}
    details = next_action.get(kind) or {}
    expires = details.get("expires_at")
    local = {
        "kind": {"display_qr_code": "qr", "await_push_approval": "ovo"}.get(kind, "bank"),
        "expires_at": datetime.fromtimestamp(expires, tz=UTC) if expires else None,
        "expires_unix": expires or "",
    }
    if kind == "display_qr_code":
        local["qr_url"] = details.get("image_url_svg", "")
        local["qr_data"] = details.get("data", "")
        local["app_url"] = (next_action.get("redirect_to_url") or {}).get("url", "")
    elif kind == "await_push_approval":
        local["phone"] = details.get("phone", "")
    else:
        address = (details.get("financial_addresses") or [{}])[0].get("id_virtual_account", {})
        local["bank_name"] = address.get("bank_name", "")
        local["va_number"] = address.get("account_number", "")
        local["holder"] = address.get("account_holder_name", "")
        local["bank"] = address.get("bank", "")
    return local


def _va_steps(local: dict, total: str) -> list[str]:
    """The transfer, step by step, in the page's language (the API's next_action carries
    the same steps in English)."""
    names = {"bank": local["bank_name"], "number": local["va_number"]}
    steps = [gettext("Open %(bank)s mobile banking or internet banking, or go to an ATM.") % names]
    if local.get("bank") in VA_STEPS:
        steps.append(gettext("Choose %(menu)s.") % {"menu": VA_STEPS[local["bank"]]})
    steps += [
        gettext("Enter the virtual account number %(number)s.") % names,
        gettext(
            "Check that the amount is exactly %(amount)s and the name is %(name)s, then confirm."
        )
        % {"amount": total, "name": local["holder"]},
        gettext("Pay before the expiry: the account closes then."),
    ]
    return steps


def _theme(color: str) -> bytes:
    """The stylesheet of one brand colour (CSS custom properties for checkout.css)."""
    palette = brand_palette(color)
    return (
        f":root{{--brand:{palette['brand']};--brand-dark:{palette['dark']};"
        f"--brand-ink:{palette['ink']};--link:{palette['link']}}}\n"
    ).encode()


def _branding(session: CheckoutSession) -> dict:
    merchant = session.merchant
    branding: dict = {}
    if merchant.brand_color:
        color = merchant.brand_color.lstrip("#")
        digest = hashlib.sha384(_theme(merchant.brand_color)).digest()
        branding["theme_url"] = reverse("checkout:theme", args=[color])
        branding["theme_integrity"] = "sha384-" + base64.b64encode(digest).decode()
    if merchant.logo_digest:
        size = (
            MerchantLogo.objects.filter(merchant=merchant, digest=merchant.logo_digest)
            .values_list("width", "height")
            .first()
        )
        if size:
            branding["logo_url"] = reverse("checkout:logo", args=[merchant.logo_digest])
            # Shown at half its pixels (sharp on 2x screens), with its size known ahead
            # so nothing moves when it arrives.
            branding["logo_width"], branding["logo_height"] = (max(1, v // 2) for v in size)
    return branding


def _context(session: CheckoutSession, embed: Embed | None = None, **extra) -> dict:
    items = [
        {
            "name": item["name"],
            "quantity": item["quantity"],
            "unit": format_amount(item["unit_amount"], session.currency),
            "total": format_amount(item["amount_total"], session.currency),
        }
        for item in session.line_items
    ]
    intent = session.payment_intent
    next_action = (intent.next_action or {}) if intent is not None else {}
    query = embed.query if embed else ""
    merchant_tz = session.merchant.timezone or DEFAULT_TIMEZONE
    pay_url = reverse("checkout:page", args=[session.public_id]) + query
    context = {
        "session": session,
        "cs_id": session.public_id,
        "merchant_name": session.merchant.name,
        "items": items,
        "total": format_amount(session.amount_total, session.currency),
        "state": _state(session),
        "success_url": success_url_for(session),
        "cancel_url": session.cancel_url,
        "test_mode": not session.livemode,
        "action_url": (next_action.get("redirect_to_url") or {}).get("url", ""),
        "errors": {},
        "form_error": "",
        "values": {},
        "pay_url": pay_url,
        "status_url": reverse("checkout:status", args=[session.public_id]) + query,
        "change_url": reverse("checkout:change-method", args=[session.public_id]) + query,
        "embed": embed,
        "local": _local_context(next_action),
        # Deadlines in the merchant's time zone ("WIB" for Asia/Jakarta), as its customers
        # read clocks.
        "merchant_tz": _known_timezone(merchant_tz),
        "method": "card" if "card" in session.payment_method_types else _first_local(session),
        "methods": [
            {
                "type": t,
                "name": LOCAL_NAMES.get(t, _("Card")),
                "url": pay_url
                if t == "card"
                else pay_url + ("&" if query else "?") + urlencode({"method": t}),
            }
            for t in session.payment_method_types
            if t == "card" or t in LOCAL_TYPES
        ],
        "banks": list(BANKS.items()),
        "notice": "",
        **_branding(session),
    }
    if intent is not None and intent.payment_method_id and context["local"]:
        context["method_name"] = LOCAL_NAMES.get(intent.payment_method.type, "")
        if context["local"]["kind"] == "bank":
            context["local"]["instructions"] = _va_steps(context["local"], context["total"])
    if context["state"] == "pay" and _attempt_expired(session):
        name = LOCAL_NAMES.get(intent.payment_method.type, "") if intent.payment_method_id else ""
        context["notice"] = ATTEMPT_EXPIRED % {"method": name or _("this method")}
    context.update(extra)
    return context


def _page(request, session: CheckoutSession, *, status: int = 200, partial: str = "", **extra):
    template = "checkout/page.html" + (f"#{partial}" if partial else "")
    embed = getattr(request, "checkout_embed", None)
    response = render(request, template, _context(session, embed, **extra), status=status)
    patch_vary_headers(response, ["HX-Request"])
    return response


def _session_or_404(request, session_id: str) -> CheckoutSession:
    session = checkout_session_for_page(public_id=session_id)
    if session is None:
        raise Http404("No such checkout session")
    request.checkout_embed = _embed_for(request, session)
    return checkout_session_expire_if_due(session=session)


def _page_url(request, session: CheckoutSession) -> str:
    embed = getattr(request, "checkout_embed", None)
    return reverse("checkout:page", args=[session.public_id]) + (embed.query if embed else "")


def _go(request, url: str) -> HttpResponse:
    """Navigate the browser: HX-Redirect for htmx (a full page load), 303 otherwise."""
    if request.htmx:
        response = HttpResponse(status=200)
        response["HX-Redirect"] = url
    else:
        response = HttpResponseRedirect(url, status=303)
    patch_vary_headers(response, ["HX-Request"])
    return response


# --- views ----------------------------------------------------------------------------


@csrf_exempt  # see the module's docstring: _cross_site() instead of a cookie token
@never_cache
@checkout_csp
@require_http_methods(["GET", "POST"])
def page(request, session_id: str):
    session = _session_or_404(request, session_id)
    if request.method == "POST" and _cross_site(request):
        return _page(request, session, status=403, form_error=CROSS_SITE)
    chosen = (request.POST if request.method == "POST" else request.GET).get("method", "")
    if chosen not in session.payment_method_types or chosen not in LOCAL_TYPES:
        chosen = ""
    if request.method == "GET":
        if chosen:
            return _page(request, session, method=chosen)
        return _page(request, session)
    if chosen:
        return _pay_local(request, session, chosen)
    return _pay(request, session)


def _pay_local(request, session: CheckoutSession, method: str) -> HttpResponse:
    partial = "local_form" if request.htmx else ""
    values = {
        "phone": request.POST.get("phone", "").strip()[:20],
        "bank": request.POST.get("bank", ""),
    }
    extra = {"method": method, "values": values}
    if session.status != CheckoutSessionStatus.OPEN:
        if request.htmx:
            return _go(request, _page_url(request, session))
        message = ALREADY_PAID if session.status == CheckoutSessionStatus.COMPLETE else EXPIRED
        return _page(request, session, status=409, partial=partial, form_error=message)
    if method == "ovo" and not values["phone"]:
        errors = {"phone": PHONE_INVALID}
        return _page(request, session, status=400, partial=partial, errors=errors, **extra)
    if method == "bank_transfer" and values["bank"] not in BANKS:
        errors = {"bank": BANK_MISSING}
        return _page(request, session, status=400, partial=partial, errors=errors, **extra)
    try:
        session = checkout_session_pay_local(
            session=session,
            method=method,
            phone=values["phone"],
            bank=values["bank"],
            return_url=_absolute_url(request, session),
        )
    except CardError:
        session.refresh_from_db()
        return _page(
            request, session, status=402, partial=partial, form_error=LOCAL_REFUSED, **extra
        )
    except CheckoutSessionClosedError:
        session = checkout_session_for_page(public_id=session.public_id)
        return _page(request, session, status=409, partial=partial, form_error=ALREADY_PAID)
    except StateConflictError:
        return _page(request, session, status=409, partial=partial, form_error=IN_PROGRESS)
    except InvalidRequestError as exc:
        if (exc.param or "").endswith("[phone]"):
            errors = {"phone": PHONE_INVALID}
            return _page(request, session, status=400, partial=partial, errors=errors, **extra)
        return _page(
            request, session, status=400, partial=partial, form_error=LOCAL_REFUSED, **extra
        )
    return _go(request, _page_url(request, session))


def _field_errors(exc: CardError) -> dict:
    param = (exc.param or "").rsplit("[", 1)[-1].rstrip("]")
    field = {"exp_month": "exp", "exp_year": "exp", "number": "number", "cvc": "cvc"}.get(param)
    return {field: CARD_MESSAGES.get(exc.code or "", FIELD_MESSAGES[field])} if field else {}


def _parse_expiry(value: str) -> tuple[str, str]:
    digits = re.sub(r"\D", "", value or "")
    if len(digits) == 4:
        return digits[:2], digits[2:]
    if len(digits) == 6:
        return digits[:2], digits[2:]
    if len(digits) == 3:
        return digits[:1], digits[1:]
    return "", ""


def _pay(request, session: CheckoutSession) -> HttpResponse:
    partial = "card_form" if request.htmx else ""
    values = {"name": request.POST.get("name", "").strip()[:200], "exp": ""}
    if session.status != CheckoutSessionStatus.OPEN:
        # A complete session can never be paid again; an expired one takes nothing.
        if request.htmx:
            return _go(request, _page_url(request, session))
        message = ALREADY_PAID if session.status == CheckoutSessionStatus.COMPLETE else EXPIRED
        return _page(request, session, status=409, partial=partial, form_error=message)
    number = normalize_number(request.POST.get("number", ""))[:19]
    exp = request.POST.get("exp", "")
    cvc = request.POST.get("cvc", "").strip()[:4]
    values["exp"] = exp.strip()[:7]
    try:
        card_attempt(
            ip=client_ip(request),
            session_id=session.public_id,
            fingerprint=fingerprint_or_none(number),
            merchant=merchant_scope(session.merchant_id, session.livemode),
        )
    except TooManyAttemptsError:
        return _page(
            request, session, status=429, partial=partial, form_error=RATE_LIMITED, values=values
        )
    errors = {}
    if not number:
        errors["number"] = FIELD_MESSAGES["number"]
    exp_month, exp_year = _parse_expiry(exp)
    if not exp_month:
        errors["exp"] = FIELD_MESSAGES["exp"]
    if not cvc:
        errors["cvc"] = FIELD_MESSAGES["cvc"]
    if errors:
        return _page(request, session, status=400, partial=partial, errors=errors, values=values)
    try:
        session = checkout_session_pay_card(
            session=session,
            number=number,
            exp_month=exp_month,
            exp_year=exp_year,
            cvc=cvc,
            name=values["name"],
            customer_ip=client_ip(request),
            return_url=_authentication_return_url(request, session),
        )
    except CardError as exc:
        session.refresh_from_db()
        errors = _field_errors(exc)
        form_error = "" if errors else _decline_message(exc.code, exc.decline_code)
        return _page(
            request,
            session,
            status=402,
            partial=partial,
            errors=errors,
            form_error=form_error,
            values=values,
        )
    except CheckoutSessionClosedError:
        session = checkout_session_for_page(public_id=session.public_id)
        return _page(request, session, status=409, partial=partial, form_error=ALREADY_PAID)
    except StateConflictError:
        return _page(request, session, status=409, partial=partial, form_error=IN_PROGRESS)
    except InvalidRequestError:
        return _page(
            request, session, status=400, partial=partial, form_error=DECLINED, values=values
        )
    intent = session.payment_intent
    if session.status == CheckoutSessionStatus.OPEN and intent.status == "requires_action":
        if getattr(request, "checkout_embed", None) is not None:
            # In a frame the bank's page opens in the whole window (from the customer's
            # click on "Continue to your bank": browsers let a frame do that only then);
            # it sends the customer back to this page, embedded mode kept in its URL.
            return _go(request, _page_url(request, session))
        url = intent.next_action["redirect_to_url"]["url"]
        return _allow_form_redirect(_go(request, url), url)
    return _go(request, _page_url(request, session))


def _absolute_url(request, session: CheckoutSession, suffix: str = "") -> str:
    """The page's public URL (GATEWAY_BASE_URL), keeping embedded mode: where a bank's
    3-D Secure page or an e-wallet app sends the customer back."""
    embed = getattr(request, "checkout_embed", None)
    return checkout_url(session) + suffix + (embed.query if embed else "")


def _authentication_return_url(request, session: CheckoutSession) -> str:
    return _absolute_url(request, session, "/return")


def _decline_message(code: str | None, decline_code: str | None) -> str:
    for key in (decline_code, code):
        if key in CARD_MESSAGES and key not in ("lost_card", "stolen_card", "fraudulent"):
            return CARD_MESSAGES[key]
    return DECLINED


@csrf_exempt  # see the module's docstring: _cross_site() instead of a cookie token
@never_cache
@checkout_csp
@require_http_methods(["POST"])
def change_method(request, session_id: str):
    """ "Choose another method" while a wallet, QRIS, OVO or virtual account payment waits
    for the customer: the provider closes it and its intent is canceled, then the page
    shows the methods again (or the success, if the customer had paid just before)."""
    session = _session_or_404(request, session_id)
    if _cross_site(request):
        return _page(request, session, status=403, form_error=CROSS_SITE)
    try:
        session = checkout_session_cancel_attempt(session=session)
    except CheckoutSessionClosedError:
        pass  # the page shows the success or the expiry
    except InvalidRequestError:
        session = checkout_session_for_page(public_id=session.public_id)
        return _page(request, session, status=409, form_error=CANCEL_FAILED)
    return _go(request, _page_url(request, session))


@never_cache
@checkout_csp
@require_GET
def status(request, session_id: str):
    """The processing state's fragment, polled every 2 s: the same fragment while the
    payment is being decided, then the browser moves on to the page (success, or the
    form with the reason)."""
    session = checkout_session_sync(session=_session_or_404(request, session_id))
    if _state(session) in ("processing", "local"):
        return _page(request, session, partial="status")
    return _go(request, _page_url(request, session))


@never_cache
@checkout_csp
@require_GET
def authentication_return(request, session_id: str):
    """The customer is back from 3-D Secure (through payments' authentication_return,
    which asked the network for the result): success, processing, or the form with the
    reason the bank gave."""
    session = checkout_session_sync(session=_session_or_404(request, session_id))
    intent = session.payment_intent
    error = (intent.last_payment_error or {}) if intent is not None else {}
    if _state(session) == "pay" and error:
        message = _decline_message(error.get("code"), error.get("decline_code"))
        return _page(request, session, status=402, form_error=message)
    return HttpResponseRedirect(_page_url(request, session))


# --- branding assets --------------------------------------------------------------------

_YEAR = "public, max-age=31536000, immutable"


@checkout_csp
@require_GET
def theme(request, color: str):
    """/checkout/theme/<rrggbb>.css: a brand colour's custom properties. The URL is the
    whole content, so it is cached for good; the page pins it with its integrity."""
    response = HttpResponse(_theme(f"#{color}"), content_type="text/css; charset=utf-8")
    response["Cache-Control"] = _YEAR
    return response


@checkout_csp
@require_GET
def logo(request, digest: str):
    """/checkout/logo/<sha256>.png: a merchant's logo, served from the gateway's origin
    (re-encoded PNG, merchants.branding), addressed by its content."""
    image = MerchantLogo.objects.filter(digest=digest).values_list("image", flat=True).first()
    if image is None:
        raise Http404("No such logo")
    response = HttpResponse(bytes(image), content_type="image/png")
    response["Cache-Control"] = _YEAR
    response["Cross-Origin-Resource-Policy"] = "same-origin"
    return response
