"""Settings: the business profile, checkout branding (logo, colour, the origins that may
embed the checkout page) and payout schedule (owners and admins; the schedule with
two-factor, like payouts) and the pricing plan, read-only."""

import re
import zoneinfo

from django import forms
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.views.decorators.http import require_POST

from core.money import supported_currencies
from dashboard.access import audit, dashboard_view
from dashboard.views.common import render_page
from merchants.branding import (
    LOGO_MAX_BYTES,
    brand_color_clean,
    checkout_origins_clean,
    logo_process,
    merchant_branding_update,
)
from merchants.models import PricingRate
from merchants.pricing import pricing_plan_of
from merchants.services import merchant_settings_update

_ZONES = sorted(zoneinfo.available_timezones())


class ProfileForm(forms.Form):
    name = forms.CharField(max_length=200, label="Business name")
    country = forms.RegexField(regex=r"^[A-Za-z]{2}$", label="Country (ISO code)")
    default_currency = forms.CharField(max_length=3, label="Default currency")
    timezone = forms.ChoiceField(choices=[(z, z) for z in _ZONES])

    def clean_country(self) -> str:
        return self.cleaned_data["country"].upper()

    def clean_default_currency(self) -> str:
        value = self.cleaned_data["default_currency"].strip().lower()
        if value not in supported_currencies():
            raise forms.ValidationError("Unknown currency.")
        return value


class PayoutScheduleForm(forms.Form):
    payout_delay_days = forms.IntegerField(min_value=0, max_value=10, label="Payout delay")
    settlement_cutoff_hour = forms.IntegerField(min_value=0, max_value=23, label="Cutoff hour")
    payouts_automatic = forms.BooleanField(required=False, label="Automatic payouts")


class BrandingForm(forms.Form):
    brand_color = forms.CharField(required=False, max_length=7, label="Brand colour")
    logo = forms.FileField(required=False, label="Logo")
    remove_logo = forms.BooleanField(required=False, label="Remove the logo")
    checkout_allowed_origins = forms.CharField(
        required=False, max_length=2000, widget=forms.Textarea, label="Embedding origins"
    )

    def clean_brand_color(self) -> str:
        return brand_color_clean(self.cleaned_data["brand_color"])

    def clean_logo(self):
        upload = self.cleaned_data.get("logo")
        if not upload:
            return None
        # Read no more than the limit (+1 to tell that it is over): the check is on bytes.
        return logo_process(upload.read(LOGO_MAX_BYTES + 1))

    def clean_checkout_allowed_origins(self) -> list[str]:
        return checkout_origins_clean(
            re.split(r"[\s,]+", self.cleaned_data["checkout_allowed_origins"])
        )


def _branding_initial(merchant) -> dict:
    return {
        "brand_color": merchant.brand_color,
        "checkout_allowed_origins": "\n".join(merchant.checkout_allowed_origins or []),
    }


def _context(request: HttpRequest, **extra) -> dict:
    m = request.dashboard.merchant
    plan = pricing_plan_of(m)
    context = {
        "nav": "settings",
        "profile_form": ProfileForm(
            initial={
                "name": m.name,
                "country": m.country,
                "default_currency": m.default_currency,
                "timezone": m.timezone,
            }
        ),
        "schedule_form": PayoutScheduleForm(
            initial={
                "payout_delay_days": m.payout_delay_days,
                "settlement_cutoff_hour": m.settlement_cutoff_hour,
                "payouts_automatic": m.payouts_automatic,
            }
        ),
        "branding_form": BrandingForm(initial=_branding_initial(m)),
        "plan": plan,
        "rates": list(
            PricingRate.objects.filter(plan=plan).order_by("payment_method_type", "currency")
        )
        if plan
        else [],
        "zones": _ZONES,
    }
    context.update(extra)
    return context


@dashboard_view("payments.view")
def settings_page(request: HttpRequest) -> HttpResponse:
    return render_page(request, "dashboard/settings.html", _context(request))


def _refused(request: HttpRequest, form_key: str, form, partial: str) -> HttpResponse:
    """The form again with its errors inline. htmx swaps only 2xx answers into the page
    (the dashboard's htmx config), so an htmx request gets the form's fragment with 200,
    as the team forms do; a plain post (no JavaScript) gets the whole page with 400."""
    context = _context(request, **{form_key: form, f"{partial}_error": "Check the form."})
    status = 200 if request.htmx else 400
    return render_page(request, "dashboard/settings.html", context, partial=partial, status=status)


def _saved(request: HttpRequest, form_key: str, form, action: str, partial: str):
    d = request.dashboard
    if not form.is_valid():
        return _refused(request, form_key, form, partial)
    changed = merchant_settings_update(merchant=d.merchant, **form.cleaned_data)
    if changed:
        audit(request, action, d.merchant.public_id, **changed)
    notice = "Saved." if changed else "Nothing changed."
    if not request.htmx:
        messages.success(request, notice)
        return redirect("dashboard:settings")
    context = _context(request, **{f"{partial}_notice": notice})
    return render_page(request, "dashboard/settings.html", context, partial=partial)


@require_POST
@dashboard_view("settings.manage")
def settings_profile(request: HttpRequest) -> HttpResponse:
    return _saved(request, "profile_form", ProfileForm(request.POST), "settings.profile", "profile")


@require_POST
@dashboard_view("payouts.manage", require_2fa=True)
def settings_payout_schedule(request: HttpRequest) -> HttpResponse:
    form = PayoutScheduleForm(request.POST)
    return _saved(request, "schedule_form", form, "settings.payout_schedule", "schedule")


@require_POST
@dashboard_view("settings.manage")
def settings_branding(request: HttpRequest) -> HttpResponse:
    """The hosted checkout's logo and colour, and the origins allowed to embed it."""
    d = request.dashboard
    form = BrandingForm(request.POST, request.FILES)
    if not form.is_valid():
        return _refused(request, "branding_form", form, "branding")
    data = form.cleaned_data
    changes = {
        "brand_color": data["brand_color"],
        "checkout_allowed_origins": data["checkout_allowed_origins"],
    }
    if data["logo"] is not None:
        changes["logo"] = data["logo"]
    elif data["remove_logo"]:
        changes["logo"] = None
    changed = merchant_branding_update(merchant=d.merchant, **changes)
    if changed:
        audit(request, "settings.checkout_branding", d.merchant.public_id, **changed)
    notice = "Saved." if changed else "Nothing changed."
    if not request.htmx:
        messages.success(request, notice)
        return redirect("dashboard:settings")
    context = _context(
        request,
        branding_form=BrandingForm(initial=_branding_initial(d.merchant)),
        branding_notice=notice,
    )
    return render_page(request, "dashboard/settings.html", context, partial="branding")
