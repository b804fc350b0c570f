"""Right after sign-up, the new merchant's test keys can be seen once, as on Stripe's
developers page ("Reveal test key"): only their hashes are kept, so revealing makes a fresh
key, shows it once and revokes the unseen one."""

import re

from django.test import Client
from django.urls import reverse

from merchants.models import APIKey, AuditEvent, Membership
from tests.dashboard.conftest import PASSWORD, enable_totp, make_user


def _signed_up(client, mailoutbox) -> APIKey:
    """Sign up as Siti of Warung Siti, verify the address, set up two-factor (the keys page
    asks for it); the merchant's sign-up secret key."""
    client.post(
        reverse("account_signup"),
        {"email": "siti@warung.example", "password1": PASSWORD, "password2": PASSWORD,
         "business_name": "Warung Siti"},
    )  # fmt: skip
    [email] = mailoutbox
    link = re.search(r"http://testserver(/accounts/confirm-email/[^\s]+)", email.body).group(1)
    assert client.post(link).status_code == 302
    key = APIKey.objects.get(kind="secret", merchant__name="Warung Siti")
    enable_totp(key.merchant.memberships.get().user)
    return key


def test_the_home_page_of_a_new_merchant_points_to_its_api_keys(client, db, mailoutbox):
    _signed_up(client, mailoutbox)
    home = client.get(reverse("dashboard:home")).content.decode()
    assert "create one with your test secret key" in home
    assert f'<a href="{reverse("dashboard:apikey-list")}" id="home-keys-link">API keys</a>' in home


def test_after_sign_up_the_test_secret_key_is_revealed_once_and_works(client, db, mailoutbox):
    unseen = _signed_up(client, mailoutbox)
    page = client.get(reverse("dashboard:apikey-list")).content.decode()
    assert page.count(">Reveal test key</button>") == 2  # the secret and the publishable key
    assert 'id="reveal-secret-key"' in page

    response = client.post(reverse("dashboard:apikey-reveal", args=[unseen.pk]))
    body = response.content.decode()
    raw = re.search(r'<p class="secret" id="new-key-value">(sk_test_[A-Za-z0-9]+)</p>', body)
    assert raw, "the revealed key is on the page"
    raw = raw.group(1)
    assert "Your test secret key. Copy it now: it will not be shown again." in body
    # The key works with the API; the one no one saw is revoked.
    api = Client(HTTP_AUTHORIZATION=f"Bearer {raw}")
    assert api.get("/v1/balance").status_code == 200
    unseen.refresh_from_db()
    assert unseen.revoked_at is not None
    [active] = APIKey.objects.filter(merchant=unseen.merchant, kind="secret", revoked_at=None)
    assert (active.name, active.last4) == ("default", raw[-4:])
    assert AuditEvent.objects.get(action="api_key.reveal").object_id == active.redacted

    # Once: the keys page no longer shows it nor offers to reveal it.
    again = client.get(reverse("dashboard:apikey-list")).content.decode()
    assert raw not in again
    assert 'id="reveal-secret-key"' not in again and 'id="reveal-publishable-key"' in again
    refused = client.post(reverse("dashboard:apikey-reveal", args=[active.pk]))
    assert "This key cannot be shown again" in refused.content.decode()
    assert raw not in refused.content.decode()
    assert APIKey.objects.filter(merchant=unseen.merchant, kind="secret").count() == 2


def test_a_key_that_was_shown_when_it_was_made_is_never_offered_for_reveal(
    dashboard_client, merchant
):
    made = dashboard_client.post(
        reverse("dashboard:apikey-create"), {"name": "default", "kind": "secret"}
    )
    assert "sk_test_" in made.content.decode()
    page = dashboard_client.get(reverse("dashboard:apikey-list")).content.decode()
    assert "Reveal test key" not in page
    key = APIKey.objects.get(merchant=merchant)
    refused = dashboard_client.post(reverse("dashboard:apikey-reveal", args=[key.pk]))
    assert "This key cannot be shown again" in refused.content.decode()
    key.refresh_from_db()
    assert key.revoked_at is None


def test_a_developer_cannot_reveal_the_sign_up_key(client, db, mailoutbox):
    unseen = _signed_up(client, mailoutbox)
    dev = make_user("dev@warung.example", mfa=True)
    Membership.objects.create(user=dev, merchant=unseen.merchant, role="developer")
    c = Client()
    c.force_login(dev)
    assert c.post(reverse("dashboard:apikey-reveal", args=[unseen.pk])).status_code == 403
    unseen.refresh_from_db()
    assert unseen.revoked_at is None
