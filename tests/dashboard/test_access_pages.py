"""What each role sees: the navigation offers only pages the role can open, and a page it
cannot open answers the dashboard's own 403 page, in its layout, saying why."""

import re

import pytest
from django.urls import reverse

from tests.dashboard.conftest import make_user

ROLES = ["owner", "admin", "developer", "analyst", "viewer"]


def _nav_links(body: str) -> dict[str, str]:
    nav = body.split('<nav class="sidenav"', 1)[1].split("</nav>", 1)[0]
    return {label: href for href, label in re.findall(r'<a href="([^"]+)"[^>]*>([^<]+)</a>', nav)}


@pytest.mark.parametrize("role", ROLES)
def test_every_page_in_a_roles_navigation_opens_for_that_role(client_as, role):
    c = client_as(role)
    links = _nav_links(c.get(reverse("dashboard:home")).content.decode())
    assert {"Home", "Payments", "Balance"} <= set(links)
    for label, href in links.items():
        assert c.get(href).status_code == 200, f"{role} is offered {label} ({href})"


def test_a_developer_is_not_offered_api_keys_but_is_offered_webhooks(client_as):
    links = _nav_links(client_as("developer").get(reverse("dashboard:home")).content.decode())
    assert "API keys" not in links and "Bank accounts" not in links
    assert {"Webhooks", "Events", "Logs"} <= set(links)


@pytest.mark.parametrize(
    ("role", "url_name"),
    [
        ("developer", "dashboard:apikey-list"),
        ("viewer", "dashboard:webhookendpoint-list"),
        ("analyst", "dashboard:bankaccount-list"),
        ("admin", "dashboard:auditevent-list"),
    ],
)
def test_a_page_the_role_cannot_open_is_the_dashboards_403_page_with_the_reason(
    client_as, merchant, role, url_name
):
    response = client_as(role).get(reverse(url_name))
    assert response.status_code == 403
    body = response.content.decode()
    assert re.search(r'<p id="forbidden-reason"[^>]*>Your role does not allow this\.</p>', body)
    assert "dashboard/dashboard.css" in body  # styled, in the dashboard's layout
    assert '<nav class="sidenav"' in body and merchant.name in body
    assert f"with the {role} role" in body


def test_a_refused_action_raised_inside_a_view_gets_the_same_page(client_as, merchant):
    from merchants.models import Membership

    target = Membership.objects.create(
        user=make_user("kasir@toko.example"), merchant=merchant, role="viewer"
    )
    response = client_as("admin").post(
        reverse("dashboard:team-member-role", args=[target.pk]), {"role": "owner"}
    )
    assert response.status_code == 403
    body = response.content.decode()
    assert "Only owners can change owners." in body and '<nav class="sidenav"' in body
    target.refresh_from_db()
    assert target.role == "viewer"


def test_someone_who_belongs_to_no_merchant_gets_a_styled_403_with_the_reason(client, db):
    client.force_login(make_user("stranger@example.com"))
    response = client.get(reverse("dashboard:home"))
    assert response.status_code == 403
    body = response.content.decode()
    assert "You are not a member of any merchant." in body
    assert "dashboard/dashboard.css" in body
