"""Team: invitations by email and accepting them, role changes and removal, who may do
what (owners only for owners), two-factor, the audit log, CSRF and fixed query counts."""

import re

import pytest
from django.contrib.auth import get_user_model
from django.test import Client
from django.urls import reverse

from merchants.models import AuditEvent, Invitation, Membership
from tests.dashboard.conftest import PASSWORD, make_user


def _invite(client, email: str, role: str = "developer", **extra):
    return client.post(reverse("dashboard:team-invite"), {"email": email, "role": role}, **extra)


def _link(mailoutbox) -> str:
    return re.search(r"http://testserver(/dashboard/invitations/\S+/)", mailoutbox[-1].body)[1]


def test_invite_sends_an_email_with_a_link_that_stores_only_a_hash(
    dashboard_client, merchant, mailoutbox
):
    response = _invite(dashboard_client, "Dewi@Example.com", HTTP_HX_REQUEST="true")
    assert response.content.decode().lstrip().startswith('<div id="team">')
    assert "Invitation sent to dewi@example.com" in response.content.decode()
    [mail] = mailoutbox
    assert mail.to == ["dewi@example.com"] and "Toko Kopi" in mail.subject
    link = _link(mailoutbox)
    token = link.rstrip("/").rsplit("/", 1)[1]
    invitation = Invitation.objects.get()
    assert invitation.role == "developer" and token not in invitation.token_hash
    assert AuditEvent.objects.get(action="team.invite").data == {
        "email": "dewi@example.com",
        "role": "developer",
    }


def test_accepting_creates_the_user_and_a_membership_with_the_invited_role(
    dashboard_client, merchant, mailoutbox
):
    _invite(dashboard_client, "dewi@example.com", "analyst")
    link = _link(mailoutbox)
    newcomer = Client()
    page = newcomer.get(link)
    assert page.status_code == 200 and "Join Toko Kopi" in page.content.decode()
    response = newcomer.post(link, {"password1": PASSWORD, "password2": PASSWORD})
    assert response.status_code == 302 and response["Location"] == reverse("dashboard:home")
    user = get_user_model().objects.get(email="dewi@example.com")
    assert Membership.objects.get(user=user).role == "analyst"
    assert newcomer.get(reverse("dashboard:payment-list")).status_code == 200
    assert newcomer.get(link).status_code == 404  # used up
    assert AuditEvent.objects.filter(action="team.invitation_accept").count() == 1


def test_an_existing_user_logs_in_then_accepts(dashboard_client, merchant, mailoutbox):
    from merchants.services import merchant_create

    user = make_user("sari@example.com")
    merchant_create(name="Sari's own shop", owner=user)
    _invite(dashboard_client, "sari@example.com", "viewer")
    link = _link(mailoutbox)
    c = Client()
    assert "Log in to accept" in c.get(link).content.decode()
    c.force_login(user)
    response = c.post(link)
    assert response.status_code == 302
    assert Membership.objects.get(user=user, merchant=merchant).role == "viewer"
    # The session now acts for the merchant just joined.
    assert "Toko Kopi" in c.get(reverse("dashboard:home")).content.decode()


def test_an_invitation_for_another_address_cannot_be_accepted(
    dashboard_client, merchant, mailoutbox
):
    _invite(dashboard_client, "dewi@example.com")
    c = Client()
    c.force_login(make_user("mallory@example.com"))
    assert c.post(_link(mailoutbox)).status_code == 403
    assert not Membership.objects.filter(user__email="mallory@example.com").exists()


def test_inviting_again_replaces_the_open_invitation(dashboard_client, merchant, mailoutbox):
    _invite(dashboard_client, "dewi@example.com")
    first = _link(mailoutbox)
    _invite(dashboard_client, "dewi@example.com", "viewer")
    assert Client().get(first).status_code == 404
    assert Client().get(_link(mailoutbox)).status_code == 200
    assert Invitation.objects.filter(revoked_at__isnull=True).get().role == "viewer"


def test_change_a_members_role_and_remove_them(dashboard_client, merchant, member):
    dev = member("developer")
    membership = Membership.objects.get(user=dev)
    url = reverse("dashboard:team-member-role", args=[membership.pk])
    response = dashboard_client.post(url, {"role": "analyst"}, HTTP_HX_REQUEST="true")
    assert "is now analyst" in response.content.decode()
    membership.refresh_from_db()
    assert membership.role == "analyst"
    dashboard_client.post(reverse("dashboard:team-member-remove", args=[membership.pk]))
    assert not Membership.objects.filter(pk=membership.pk).exists()
    actions = list(AuditEvent.objects.order_by("id").values_list("action", "data"))
    assert actions[0] == (
        "team.role_change",
        {"user_id": dev.pk, "before": "developer", "after": "analyst"},
    )
    assert actions[1][0] == "team.remove"


def test_admins_cannot_touch_owners_nor_make_one(client_as, member, merchant, mailoutbox):
    other_owner = Membership.objects.get(user=member("owner", email="boss@toko.example"))
    admin = client_as("admin")
    role_url = reverse("dashboard:team-member-role", args=[other_owner.pk])
    assert admin.post(role_url, {"role": "viewer"}).status_code == 403
    remove_url = reverse("dashboard:team-member-remove", args=[other_owner.pk])
    assert admin.post(remove_url).status_code == 403
    assert _invite(admin, "x@example.com", "owner").status_code == 403
    dev = Membership.objects.get(user=member("developer"))
    make_owner = reverse("dashboard:team-member-role", args=[dev.pk])
    assert admin.post(make_owner, {"role": "owner"}).status_code == 403
    other_owner.refresh_from_db()
    dev.refresh_from_db()
    assert (other_owner.role, dev.role) == ("owner", "developer")
    assert _invite(admin, "y@example.com", "admin").status_code == 302
    assert mailoutbox and not Invitation.objects.filter(role="owner").exists()


def test_an_owner_may_hand_over_ownership_but_not_act_on_themselves(
    dashboard_client, owner, merchant, member
):
    mine = Membership.objects.get(user=owner)
    url = reverse("dashboard:team-member-role", args=[mine.pk])
    assert dashboard_client.post(url, {"role": "viewer"}).status_code == 403
    admin = Membership.objects.get(user=member("admin"))
    dashboard_client.post(reverse("dashboard:team-member-role", args=[admin.pk]), {"role": "owner"})
    admin.refresh_from_db()
    assert admin.role == "owner"


def test_the_last_owner_cannot_be_demoted_or_removed(owner, merchant):
    from core.errors import StateConflictError
    from merchants.services import membership_remove, membership_role_change

    only = Membership.objects.get(user=owner)
    with pytest.raises(StateConflictError):
        membership_role_change(membership=only, role="admin")
    with pytest.raises(StateConflictError):
        membership_remove(membership=only)
    only.refresh_from_db()
    assert only.role == "owner"


@pytest.mark.parametrize("role", ["developer", "analyst", "viewer"])
def test_other_roles_see_the_team_but_cannot_change_it(client_as, role, member, merchant):
    c = client_as(role)
    page = c.get(reverse("dashboard:team"))
    assert page.status_code == 200 and 'id="invite-form"' not in page.content.decode()
    assert _invite(c, "x@example.com").status_code == 403
    target = Membership.objects.get(user=member("analyst", email="a2@toko.example"))
    url = reverse("dashboard:team-member-remove", args=[target.pk])
    assert c.post(url).status_code == 403
    assert not Invitation.objects.exists() and Membership.objects.filter(pk=target.pk).exists()


@pytest.mark.parametrize("role", ["owner", "admin"])
def test_owners_and_admins_need_two_factor_for_the_team_page(client_as, role):
    response = client_as(role, mfa=False).get(reverse("dashboard:team"))
    assert response.status_code == 302
    assert "/accounts/2fa/totp/activate" in response["Location"]


def test_another_merchants_member_cannot_be_changed(dashboard_client, other_merchant):
    stranger = make_user("stranger@elsewhere.example")
    theirs = Membership.objects.create(user=stranger, merchant=other_merchant, role="viewer")
    url = reverse("dashboard:team-member-role", args=[theirs.pk])
    assert dashboard_client.post(url, {"role": "admin"}).status_code == 404
    assert (
        dashboard_client.post(reverse("dashboard:team-member-remove", args=[theirs.pk])).status_code
        == 404
    )
    theirs.refresh_from_db()
    assert theirs.role == "viewer"


def test_team_posts_without_the_csrf_token_get_403(owner, member, merchant):
    strict = Client(enforce_csrf_checks=True)
    strict.force_login(owner)
    target = Membership.objects.get(user=member("viewer"))
    for url in (
        reverse("dashboard:team-invite"),
        reverse("dashboard:team-member-role", args=[target.pk]),
        reverse("dashboard:team-member-remove", args=[target.pk]),
    ):
        assert strict.post(url, {"email": "x@example.com", "role": "admin"}).status_code == 403
    assert not Invitation.objects.exists()
    target.refresh_from_db()
    assert target.role == "viewer"


def test_the_team_page_makes_a_fixed_number_of_queries(
    dashboard_client, member, merchant, django_assert_num_queries
):
    url = reverse("dashboard:team")
    dashboard_client.get(url)
    with django_assert_num_queries(10):
        dashboard_client.get(url)
    for role in ("admin", "developer", "analyst"):
        member(role, mfa=True)
        _invite(dashboard_client, f"new-{role}@example.com", role)
    with django_assert_num_queries(10):
        dashboard_client.get(url)


def test_resending_an_invitation_mails_a_new_link_and_the_old_one_stops_working(
    dashboard_client, merchant, mailoutbox
):
    _invite(dashboard_client, "dewi@example.com", "analyst")
    first = _link(mailoutbox)
    old = Invitation.objects.get()
    response = dashboard_client.post(
        reverse("dashboard:team-invitation-resend", args=[old.public_id]), HTTP_HX_REQUEST="true"
    )
    assert "Invitation sent again to dewi@example.com" in response.content.decode()
    assert len(mailoutbox) == 2 and mailoutbox[-1].to == ["dewi@example.com"]
    second = _link(mailoutbox)
    assert second != first
    assert Client().get(first).status_code == 404
    assert Client().get(second).status_code == 200
    new = Invitation.objects.get(revoked_at__isnull=True)
    assert new.pk != old.pk and new.role == "analyst"
    event = AuditEvent.objects.get(action="team.invitation_resend")
    assert event.object_id == new.public_id
    assert event.data == {"email": "dewi@example.com", "role": "analyst", "replaces": old.public_id}
    assert event.actor_email == "owner@toko.example"


def test_an_expired_invitation_is_listed_and_can_be_sent_again(
    dashboard_client, merchant, mailoutbox
):
    from datetime import timedelta

    from django.utils import timezone

    _invite(dashboard_client, "dewi@example.com")
    Invitation.objects.update(expires_at=timezone.now() - timedelta(minutes=1))
    assert Client().get(_link(mailoutbox)).status_code == 404
    page = dashboard_client.get(reverse("dashboard:team")).content.decode()
    assert 'data-invitation="dewi@example.com"' in page and "Expired" in page
    old = Invitation.objects.get()
    dashboard_client.post(reverse("dashboard:team-invitation-resend", args=[old.public_id]))
    assert Client().get(_link(mailoutbox)).status_code == 200


def test_revoking_an_invitation_makes_its_link_useless(dashboard_client, merchant, mailoutbox):
    _invite(dashboard_client, "dewi@example.com")
    invitation = Invitation.objects.get()
    response = dashboard_client.post(
        reverse("dashboard:team-invitation-revoke", args=[invitation.public_id]),
        HTTP_HX_REQUEST="true",
    )
    assert "Invitation of dewi@example.com revoked" in response.content.decode()
    assert 'data-invitation="dewi@example.com"' not in response.content.decode()
    assert Client().get(_link(mailoutbox)).status_code == 404
    assert AuditEvent.objects.filter(action="team.invitation_revoke").count() == 1


def test_only_team_managers_resend_and_admins_cannot_resend_an_owner_invitation(
    dashboard_client, client_as, merchant, mailoutbox
):
    _invite(dashboard_client, "boss@example.com", "owner")
    owner_invite = Invitation.objects.get()
    url = reverse("dashboard:team-invitation-resend", args=[owner_invite.public_id])
    assert client_as("developer").post(url).status_code == 403
    assert client_as("admin").post(url).status_code == 403
    assert len(mailoutbox) == 1
    assert Invitation.objects.get(revoked_at__isnull=True).pk == owner_invite.pk


def test_another_merchants_invitation_cannot_be_resent(dashboard_client, other_merchant):
    from merchants.services import invitation_create

    theirs = invitation_create(
        merchant=other_merchant, email="x@example.com", role="viewer", invited_by=None
    ).invitation
    url = reverse("dashboard:team-invitation-resend", args=[theirs.public_id])
    assert dashboard_client.post(url).status_code == 404
