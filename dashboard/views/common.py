import re

from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.cache import patch_vary_headers
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from dashboard.access import SESSION_LIVEMODE, audit, dashboard_view

_DETAIL = re.compile(r"/[a-z]+_[A-Za-z0-9]+/?$")


def render_page(
    request: HttpRequest, template: str, context: dict, *, partial: str = "", status: int = 200
) -> HttpResponse:
    """The whole page, or for an htmx request only its `partial` (STYLE.md)."""
    name = f"{template}#{partial}" if partial and request.htmx else template
    response = render(request, name, context, status=status)
    patch_vary_headers(response, ["HX-Request"])
    return response


def safe_next(request: HttpRequest, fallback: str) -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return fallback


@require_POST
@dashboard_view()
def mode_switch(request: HttpRequest) -> HttpResponse:
    livemode = request.POST.get("mode") == "live"
    if livemode != request.dashboard.livemode:
        request.session[SESSION_LIVEMODE] = livemode
        audit(request, "dashboard.mode_switch", mode="live" if livemode else "test")
    # Objects of the other mode are not found there: a detail page goes back to home.
    target = safe_next(request, reverse("dashboard:home"))
    if _DETAIL.search(target):
        target = reverse("dashboard:home")
    return redirect(target)
