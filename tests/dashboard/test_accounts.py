"""Accounts: sign-up creates a merchant, login with two-factor, lockout, idle sessions."""

import re
import time

import pytest
from django.conf import settings
from django.urls import reverse

from merchants.models import APIKey, AuditEvent, Membership
from tests.dashboard.conftest import PASSWORD, make_user, totp_code


def test_sign_up_creates_a_test_mode_merchant_with_its_owner_and_test_keys(client, db, mailoutbox):
    response = client.post(
        reverse("account_signup"),
        {
            "email": "siti@warung.example",
            "password1": PASSWORD,
            "password2": PASSWORD,
            "business_name": "Warung Siti",
        },
    )
    assert response["Location"] == reverse("account_email_verification_sent")
    membership = Membership.objects.select_related("merchant", "user").get(
        user__email="siti@warung.example"
    )
    assert (membership.role, membership.merchant.name) == ("owner", "Warung Siti")
    keys = APIKey.objects.filter(merchant=membership.merchant)
    assert sorted((k.kind, k.livemode) for k in keys) == [
        ("publishable", False),
        ("secret", False),
    ]
    # The dashboard opens once the address is verified (the link in the email).
    assert client.get(reverse("dashboard:home")).status_code == 302
    [email] = mailoutbox
    link = re.search(r"http://testserver(/accounts/confirm-email/[^\s]+)", email.body).group(1)
    assert client.post(link).status_code == 302
    home = client.get(reverse("dashboard:home"))
    assert home.status_code == 200
    assert b"Warung Siti" in home.content
    assert b"Test mode" in home.content


def test_login_page_logs_in_with_email_and_password(client, merchant):
    user = make_user("budi@toko.example")
    Membership.objects.create(user=user, merchant=merchant, role="viewer")
    response = client.post(
        reverse("account_login"), {"login": "budi@toko.example", "password": PASSWORD}
    )
    assert response.status_code == 302
    assert response["Location"] == reverse("dashboard:home")
    assert client.get(reverse("dashboard:home")).status_code == 200


def test_login_with_two_factor_asks_for_the_code(client, merchant):
    user = make_user("owner2@toko.example")
    Membership.objects.create(user=user, merchant=merchant, role="owner")
    from tests.dashboard.conftest import enable_totp

    secret = enable_totp(user)
    response = client.post(
        reverse("account_login"), {"login": "owner2@toko.example", "password": PASSWORD}
    )
    assert response["Location"] == reverse("mfa_authenticate")
    assert client.get(reverse("dashboard:home")).status_code == 302  # not logged in yet
    response = client.post(reverse("mfa_authenticate"), {"code": totp_code(secret)})
    assert response.status_code == 302
    assert client.get(reverse("dashboard:home")).status_code == 200


@pytest.mark.parametrize(("steps", "accepted"), [(-2, False), (-1, True), (1, True), (2, False)])
def test_a_code_from_the_neighbouring_30_second_step_is_accepted_once(
    client, merchant, steps, accepted
):
    from tests.dashboard.conftest import enable_totp

    user = make_user("owner3@toko.example")
    Membership.objects.create(user=user, merchant=merchant, role="owner")
    secret = enable_totp(user)
    if time.time() % 30 > 27:  # the server must see the same step as this code's origin
        time.sleep(30 - time.time() % 30)
    code = totp_code(secret, steps)
    client.post(reverse("account_login"), {"login": user.email, "password": PASSWORD})
    response = client.post(reverse("mfa_authenticate"), {"code": code})
    assert (response.status_code == 302) is accepted
    if accepted:
        # The same code again, in a new login: refused (allauth remembers used codes).
        client.logout()
        client.post(reverse("account_login"), {"login": user.email, "password": PASSWORD})
        response = client.post(reverse("mfa_authenticate"), {"code": code})
        assert response.status_code == 200
        assert client.get(reverse("dashboard:home")).status_code == 302


def test_ten_failed_logins_lock_the_account_even_with_the_right_password(client, merchant):
    user = make_user("target@toko.example")
    Membership.objects.create(user=user, merchant=merchant, role="owner")
    for _ in range(10):
        response = client.post(
            reverse("account_login"), {"login": "target@toko.example", "password": "wrong"}
        )
        assert response.status_code == 200  # the form again, with an error
    response = client.post(
        reverse("account_login"), {"login": "target@toko.example", "password": PASSWORD}
    )
    assert response.status_code == 429 or b"Too many failed login attempts" in response.content
    assert client.get(reverse("dashboard:home")).status_code == 302


def test_lockout_is_configured_for_ten_failures_in_thirty_minutes():
    assert "10/30m/key" in settings.ACCOUNT_RATE_LIMITS["login_failed"]


def test_sessions_end_after_fifteen_idle_minutes(dashboard_client):
    assert settings.SESSION_COOKIE_AGE == 15 * 60
    assert settings.SESSION_SAVE_EVERY_REQUEST is True
    response = dashboard_client.get(reverse("dashboard:home"))
    # The expiry moves forward with every request.
    assert response.cookies[settings.SESSION_COOKIE_NAME]["max-age"] in ("", 900)
    assert dashboard_client.session.get_expiry_age() == 900


def test_logout_is_a_post_with_the_csrf_token(client, owner):
    from django.test import Client

    strict = Client(enforce_csrf_checks=True)
    strict.force_login(owner)
    assert strict.post(reverse("account_logout")).status_code == 403
    assert strict.get(reverse("dashboard:home")).status_code == 200


def test_owner_without_two_factor_is_sent_to_set_it_up_before_keys(client, member):
    user = member("owner", mfa=False)
    client.force_login(user)
    response = client.get(reverse("dashboard:apikey-list"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("mfa_activate_totp"))
    # Payments stay open to them.
    assert client.get(reverse("dashboard:payment-list")).status_code == 200


def test_a_password_reset_sends_an_email_with_a_link(client, merchant, mailoutbox):
    make_user("lupa@toko.example")
    response = client.post(reverse("account_reset_password"), {"email": "lupa@toko.example"})
    assert response.status_code == 302
    assert len(mailoutbox) == 1
    assert "/accounts/password/reset/key/" in mailoutbox[0].body


def test_demo_owner_can_log_in(client, db):
    from merchants.services import demo_merchant_ensure

    demo = demo_merchant_ensure()
    demo_merchant_ensure()  # idempotent
    response = client.post(
        reverse("account_login"),
        {"login": demo.dashboard_email, "password": demo.dashboard_password},
    )
    assert response["Location"] == reverse("dashboard:home")
    assert b"Demo Store" in client.get(reverse("dashboard:home")).content


def test_mode_switch_is_recorded_in_the_audit_log(dashboard_client, merchant):
    response = dashboard_client.post(
        reverse("dashboard:mode-switch"), {"mode": "live", "next": "/dashboard/payments/"}
    )
    assert response["Location"] == "/dashboard/payments/"
    page = dashboard_client.get("/dashboard/payments/")
    assert b"Test mode" not in page.content
    event = AuditEvent.objects.get(merchant=merchant)
    assert (event.action, event.data, event.ip_address) == (
        "dashboard.mode_switch",
        {"mode": "live"},
        "127.0.0.1",
    )
