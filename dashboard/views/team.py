"""Team: members and their roles, invitations by email, and accepting an invitation.
Owners and admins manage the team (with two-factor); only owners grant, change or remove
the owner role. Every change is in the audit log."""

from allauth.account.models import EmailAddress
from django import forms
from django.contrib import messages
from django.contrib.auth import get_user_model, login
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import PermissionDenied
from django.core.mail import send_mail
from django.db import transaction
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from core.errors import APIError
from dashboard.access import SESSION_LIVEMODE, SESSION_MERCHANT, audit, client_ip, dashboard_view
from dashboard.views.common import render_page
from merchants.models import Invitation, Membership, Role
from merchants.services import (
    IssuedInvitation,
    audit_event_record,
    invitation_accept,
    invitation_create,
    invitation_find,
    invitation_revoke,
    membership_remove,
    membership_role_change,
)


class InviteForm(forms.Form):
    email = forms.EmailField(label="Email")
    role = forms.ChoiceField(choices=Role.choices, initial=Role.VIEWER)


class RoleForm(forms.Form):
    role = forms.ChoiceField(choices=Role.choices)


def _team_context(request: HttpRequest, **extra) -> dict:
    d = request.dashboard
    context = {
        "nav": "team",
        "members": list(
            Membership.objects.filter(merchant=d.merchant)
            .select_related("user")
            .prefetch_related("user__authenticator_set")
            .order_by("created_at", "id")
        ),
        # Expired ones too: they can be sent again with a new link.
        "invitations": list(
            Invitation.objects.filter(
                merchant=d.merchant, accepted_at__isnull=True, revoked_at__isnull=True
            ).order_by("-created_at", "-id")
        ),
        "roles": Role.choices,
        "invite_form": InviteForm(),
        "me": d.membership.pk,
        "is_owner": d.role == Role.OWNER,
    }
    context.update(extra)
    return context


def _team_response(request: HttpRequest, *, error: str = "", notice: str = "", **extra):
    if not request.htmx:
        if error or notice:
            (messages.error if error else messages.success)(request, error or notice)
        return redirect("dashboard:team")
    context = _team_context(request, error=error, notice=notice, **extra)
    return render_page(request, "dashboard/team.html", context, partial="team")


@dashboard_view("payments.view", require_2fa=True)
def team(request: HttpRequest) -> HttpResponse:
    return render_page(request, "dashboard/team.html", _team_context(request))


def _owner_only(request: HttpRequest, *roles: str) -> None:
    """Only owners grant, change or take away the owner role."""
    if Role.OWNER in roles and request.dashboard.role != Role.OWNER:
        raise PermissionDenied("Only owners can change owners.")


def _send_invitation(request: HttpRequest, issued: IssuedInvitation) -> None:
    d = request.dashboard
    invitation = issued.invitation
    link = request.build_absolute_uri(reverse("dashboard:invitation-accept", args=[issued.token]))
    send_mail(
        subject=f"You are invited to {d.merchant.name}",
        message=(
            f"{request.user.email} invited you to join {d.merchant.name} as {invitation.role}."
            f"\n\nAccept within 7 days: {link}\n\n"
            "If you did not expect this, ignore this email."
        ),
        from_email=None,
        recipient_list=[invitation.email],
    )


@require_POST
@dashboard_view("team.manage", require_2fa=True)
def team_invite(request: HttpRequest) -> HttpResponse:
    d = request.dashboard
    form = InviteForm(request.POST)
    if not form.is_valid():
        return _team_response(request, error="Check the invitation form.", invite_form=form)
    role = form.cleaned_data["role"]
    _owner_only(request, role)
    try:
        issued = invitation_create(
            merchant=d.merchant,
            email=form.cleaned_data["email"],
            role=role,
            invited_by=request.user,
        )
    except APIError as exc:
        return _team_response(request, error=exc.message, invite_form=form)
    invitation = issued.invitation
    _send_invitation(request, issued)
    audit(request, "team.invite", invitation.public_id, email=invitation.email, role=role)
    return _team_response(request, notice=f"Invitation sent to {invitation.email}.")


@require_POST
@dashboard_view("team.manage", require_2fa=True)
def team_invitation_revoke(request: HttpRequest, public_id: str) -> HttpResponse:
    d = request.dashboard
    invitation = Invitation.objects.filter(merchant=d.merchant, public_id=public_id).first()
    if invitation is None:
        raise Http404("No such invitation.")
    _owner_only(request, invitation.role)
    invitation_revoke(invitation=invitation)
    audit(request, "team.invitation_revoke", invitation.public_id, email=invitation.email)
    return _team_response(request, notice=f"Invitation of {invitation.email} revoked.")


@require_POST
@dashboard_view("team.manage", require_2fa=True)
def team_invitation_resend(request: HttpRequest, public_id: str) -> HttpResponse:
    """Send an open invitation again with a new link for another 7 days: the invitation is
    issued anew (invitation_create replaces the open one), so the old link stops working."""
    d = request.dashboard
    invitation = Invitation.objects.filter(
        merchant=d.merchant, public_id=public_id, accepted_at__isnull=True, revoked_at__isnull=True
    ).first()
    if invitation is None:
        raise Http404("No such open invitation.")
    _owner_only(request, invitation.role)
    try:
        issued = invitation_create(
            merchant=d.merchant,
            email=invitation.email,
            role=invitation.role,
            invited_by=request.user,
        )
    except APIError as exc:
        return _team_response(request, error=exc.message)
    _send_invitation(request, issued)
    audit(
        request,
        "team.invitation_resend",
        issued.invitation.public_id,
        email=invitation.email,
        role=invitation.role,
        replaces=invitation.public_id,
    )
    return _team_response(request, notice=f"Invitation sent again to {invitation.email}.")


def _member(request: HttpRequest, pk: int) -> Membership:
    d = request.dashboard
    membership = Membership.objects.filter(merchant=d.merchant, pk=pk).select_related("user")
    found = membership.first()
    if found is None:
        raise Http404("No such member.")
    if found.pk == d.membership.pk:
        raise PermissionDenied("You cannot change your own membership.")
    return found


@require_POST
@dashboard_view("team.manage", require_2fa=True)
def team_member_role(request: HttpRequest, pk: int) -> HttpResponse:
    membership = _member(request, pk)
    form = RoleForm(request.POST)
    if not form.is_valid():
        return _team_response(request, error="Choose a role.")
    role = form.cleaned_data["role"]
    _owner_only(request, role, membership.role)
    before = membership.role
    try:
        membership_role_change(membership=membership, role=role)
    except APIError as exc:
        return _team_response(request, error=exc.message)
    audit(
        request,
        "team.role_change",
        str(membership.user.email),
        user_id=membership.user_id,
        before=before,
        after=role,
    )
    return _team_response(request, notice=f"{membership.user.email} is now {role}.")


@require_POST
@dashboard_view("team.manage", require_2fa=True)
def team_member_remove(request: HttpRequest, pk: int) -> HttpResponse:
    membership = _member(request, pk)
    _owner_only(request, membership.role)
    try:
        membership_remove(membership=membership)
    except APIError as exc:
        return _team_response(request, error=exc.message)
    audit(
        request,
        "team.remove",
        str(membership.user.email),
        user_id=membership.user_id,
        role=membership.role,
    )
    return _team_response(request, notice=f"{membership.user.email} was removed.")


# --- accepting an invitation (no membership yet) -------------------------------------------


class AcceptSignupForm(forms.Form):
    password1 = forms.CharField(widget=forms.PasswordInput, label="Password")
    password2 = forms.CharField(widget=forms.PasswordInput, label="Password (again)")

    def clean(self):
        data = super().clean()
        if data.get("password1") != data.get("password2"):
            raise forms.ValidationError("The passwords differ.")
        if data.get("password1"):
            validate_password(data["password1"])
        return data


def _joined(request: HttpRequest, invitation: Invitation, user) -> HttpResponse:
    membership = invitation_accept(invitation=invitation, user=user)
    audit_event_record(
        merchant=invitation.merchant,
        user=user,
        role=membership.role,
        action="team.invitation_accept",
        object_id=invitation.public_id,
        data={"email": invitation.email, "role": membership.role},
        ip_address=client_ip(request),
        user_agent=request.META.get("HTTP_USER_AGENT", ""),
    )
    request.session[SESSION_MERCHANT] = invitation.merchant.public_id
    request.session[SESSION_LIVEMODE] = False
    messages.success(request, f"You joined {invitation.merchant.name} as {membership.role}.")
    return redirect("dashboard:home")


def invitation_accept_page(request: HttpRequest, token: str) -> HttpResponse:
    """The link of an invitation email. Signed in as the invited address: join with a
    click. No account for the address yet: choose a password (the email proved the
    address). An account exists but is signed out: log in first, then come back."""
    invitation = invitation_find(token=token)
    context = {"invitation": invitation, "form": AcceptSignupForm(), "error": ""}
    if invitation is None:
        return render(request, "dashboard/invitation_accept.html", context, status=404)
    User = get_user_model()
    existing = User.objects.filter(email__iexact=invitation.email).first()
    context["existing"] = existing
    user = request.user if request.user.is_authenticated else None
    if user is not None and (user.email or "").lower() != invitation.email:
        context["error"] = f"This invitation is for {invitation.email}; log out and open it again."
        return render(request, "dashboard/invitation_accept.html", context, status=403)
    if request.method != "POST":
        return render(request, "dashboard/invitation_accept.html", context)
    try:
        if user is not None:
            return _joined(request, invitation, user)
        if existing is not None:
            return redirect(f"{reverse('account_login')}?next={request.path}")
        form = AcceptSignupForm(request.POST)
        if not form.is_valid():
            context["form"] = form
            return render(request, "dashboard/invitation_accept.html", context, status=400)
        with transaction.atomic():
            user = User.objects.create_user(
                username=invitation.email,
                email=invitation.email,
                password=form.cleaned_data["password1"],
            )
            EmailAddress.objects.create(
                user=user, email=invitation.email, verified=True, primary=True
            )
            response = _joined(request, invitation, user)
        login(request, user, backend="django.contrib.auth.backends.ModelBackend")
        request.session[SESSION_MERCHANT] = invitation.merchant.public_id
        return response
    except APIError as exc:
        context["error"] = exc.message
        return render(request, "dashboard/invitation_accept.html", context, status=400)
