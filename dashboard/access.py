"""Who may do what in the dashboard: the member's merchant, role and mode for each request,
the permissions of each role, two-factor for owners and admins, and the audit log."""

import logging
import zoneinfo
from collections.abc import Callable
from dataclasses import dataclass
from functools import wraps
from urllib.parse import urlencode

from allauth.mfa.utils import is_mfa_enabled
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone

from merchants.models import Membership, Merchant, MerchantStatus, Role
from merchants.services import audit_event_record

_ALL = frozenset(Role.values)
_MANAGERS = frozenset({Role.OWNER, Role.ADMIN})
_OPERATORS = frozenset({Role.OWNER, Role.ADMIN, Role.DEVELOPER})

# Permission -> roles that have it. A viewer only looks; an analyst also exports; a
# developer also moves money on payments and runs webhooks; only owners and admins manage
# keys, payouts and the team; only owners read the audit log.
PERMISSIONS: dict[str, frozenset[str]] = {
    "payments.view": _ALL,
    "payments.export": frozenset({Role.OWNER, Role.ADMIN, Role.DEVELOPER, Role.ANALYST}),
    "payments.refund": _OPERATORS,
    "payments.capture": _OPERATORS,
    "payments.cancel": _OPERATORS,
    "developers.view": _OPERATORS,
    "webhooks.manage": _OPERATORS,
    "keys.manage": _MANAGERS,
    "payouts.manage": _MANAGERS,
    "team.manage": _MANAGERS,
    "settings.manage": _MANAGERS,
    "audit.view": frozenset({Role.OWNER}),
}

logger = logging.getLogger(__name__)

SESSION_MERCHANT = "dashboard_merchant"
SESSION_LIVEMODE = "dashboard_livemode"


@dataclass(frozen=True)
class Dashboard:
    """What a dashboard request acts as: one merchant, in one mode, with one role."""

    membership: Membership
    merchant: Merchant
    role: str
    livemode: bool

    def can(self, permission: str) -> bool:
        return self.role in PERMISSIONS[permission]

    @property
    def allowed(self) -> dict[str, bool]:
        """For templates: {"payments_refund": True, ...}."""
        return {name.replace(".", "_"): self.can(name) for name in PERMISSIONS}

    @property
    def mode(self) -> str:
        return "live" if self.livemode else "test"


def _membership(request: HttpRequest) -> Membership | None:
    memberships = Membership.objects.select_related("merchant").filter(user=request.user)
    wanted = request.session.get(SESSION_MERCHANT)
    if wanted:
        found = memberships.filter(merchant__public_id=wanted).first()
        if found:
            return found
    return memberships.order_by("id").first()


def merchant_zone(merchant: Merchant) -> zoneinfo.ZoneInfo:
    try:
        return zoneinfo.ZoneInfo(merchant.timezone)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return zoneinfo.ZoneInfo("UTC")


def refused(request: HttpRequest, reason: str) -> HttpResponse:
    """The dashboard's own 403 page, in its layout, saying why (and the log says it too)."""
    logger.warning(
        "dashboard refused %s %s to %s: %s",
        request.method,
        request.path,
        request.dashboard.role,
        reason,
    )
    return render(request, "dashboard/403.html", {"reason": reason}, status=403)


def dashboard_view(permission: str = "payments.view", *, require_2fa: bool = False):
    """Log in required; the request gets `request.dashboard`. A member without `permission`
    gets the dashboard's 403 page with the reason (also for a POST crafted by hand, and
    for a PermissionDenied the view raises); with `require_2fa`, owners and admins without
    two-factor authentication are sent to set it up first. A suspended merchant's members
    get the suspension page (403) on every page and action, the way its API keys get 401
    `account_invalid`: no data is read and nothing changes."""

    def decorator(view: Callable[..., HttpResponse]):
        @login_required
        @wraps(view)
        def wrapped(request: HttpRequest, *args, **kwargs) -> HttpResponse:
            membership = _membership(request)
            if membership is None:
                raise PermissionDenied("You are not a member of any merchant.")
            if membership.merchant.status != MerchantStatus.ACTIVE:
                return render(
                    request,
                    "dashboard/suspended.html",
                    {"merchant": membership.merchant},
                    status=403,
                )
            request.dashboard = Dashboard(
                membership=membership,
                merchant=membership.merchant,
                role=membership.role,
                livemode=bool(request.session.get(SESSION_LIVEMODE, False)),
            )
            if not request.dashboard.can(permission):
                return refused(request, "Your role does not allow this.")
            if require_2fa and membership.role in _MANAGERS and not is_mfa_enabled(request.user):
                messages.info(
                    request, "Set up two-factor authentication to manage keys, payouts and team."
                )
                query = urlencode({"next": request.get_full_path()})
                return redirect(f"{reverse('mfa_activate_totp')}?{query}")
            # Dates on dashboard pages are the merchant's local time.
            with timezone.override(merchant_zone(membership.merchant)):
                try:
                    return view(request, *args, **kwargs)
                except PermissionDenied as exc:
                    return refused(request, str(exc) or "Your role does not allow this.")

        return wrapped

    return decorator


def client_ip(request: HttpRequest) -> str | None:
    return request.META.get("REMOTE_ADDR") or None


def audit(request: HttpRequest, action: str, object_id: str = "", **data) -> None:
    """Record a dashboard action in the merchant's audit log: who, what, when, from where."""
    dashboard: Dashboard = request.dashboard
    audit_event_record(
        merchant=dashboard.merchant,
        user=request.user,
        role=dashboard.role,
        action=action,
        livemode=dashboard.livemode,
        object_id=object_id,
        data=data,
        ip_address=client_ip(request),
        user_agent=request.META.get("HTTP_USER_AGENT", ""),
    )


# --- the operators' Django admin --------------------------------------------------------


def operator_has_admin_permission(request: HttpRequest) -> bool:
    """AdminSite.has_permission for config/urls.py: active staff with two-factor set up
    (they logged in through allauth, which asked for the code)."""
    user = request.user
    return bool(user.is_active and user.is_staff and is_mfa_enabled(user))


def operator_admin_login(login_view: Callable[..., HttpResponse]):
    """The admin's login view, through allauth (secure_admin_login: rate limits, lockout,
    the two-factor step); staff without two-factor are sent to set it up first."""
    from allauth.account.decorators import secure_admin_login

    guarded = secure_admin_login(login_view)

    @wraps(login_view)
    def view(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        user = request.user
        if user.is_authenticated and user.is_staff and not is_mfa_enabled(user):
            query = urlencode({"next": reverse("admin:index")})
            return redirect(f"{reverse('mfa_activate_totp')}?{query}")
        return guarded(request, *args, **kwargs)

    return view
