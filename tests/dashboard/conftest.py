"""Personas for dashboard tests: members of a merchant in each role, logged-in clients, and
payments made through the real payment services and the sandbox card network."""

import pytest

from tests.settlement.conftest import pay, refund  # noqa: F401  (shared helpers)

PASSWORD = "correct-horse-battery-staple-42"


@pytest.fixture(autouse=True)
def _fresh_rate_limits(fresh_cache):
    """allauth counts logins and failures in the cache, which tests share."""


def make_user(email: str, *, password: str = PASSWORD, mfa: bool = False):
    from allauth.account.models import EmailAddress
    from django.contrib.auth import get_user_model

    user = get_user_model().objects.create_user(username=email, email=email, password=password)
    EmailAddress.objects.create(user=user, email=email, verified=True, primary=True)
    if mfa:
        enable_totp(user)
    return user


def enable_totp(user) -> str:
    from allauth.mfa.recovery_codes.internal.auth import RecoveryCodes
    from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret

    secret = generate_totp_secret()
    TOTP.activate(user, secret)
    RecoveryCodes.activate(user)
    return secret


def totp_code(secret: str, steps: int = 0) -> str:
    """The authenticator app's code now, or `steps` 30-second steps from now."""
    import time

    from allauth.mfa.totp.internal.auth import format_hotp_value, hotp_value

    return format_hotp_value(hotp_value(secret, int(time.time()) // 30 + steps))


@pytest.fixture
def member(merchant):
    """member(role, mfa=False) -> a user with that role at `merchant`."""
    from merchants.models import Membership

    def make(role: str, *, mfa: bool = False, email: str | None = None):
        user = make_user(email or f"{role}@toko.example", mfa=mfa)
        Membership.objects.create(user=user, merchant=merchant, role=role)
        return user

    return make


@pytest.fixture
def owner(member):
    return member("owner", mfa=True)


@pytest.fixture
def dashboard_client(client, owner):
    """A browser session of the merchant's owner (with two-factor set up)."""
    client.force_login(owner)
    return client


@pytest.fixture
def client_as(member):
    """client_as(role) -> a test Client logged in as a new member with that role."""
    from django.test import Client

    def make(role: str, *, mfa: bool = True) -> Client:
        c = Client()
        c.force_login(member(role, mfa=mfa))
        return c

    return make


def log_in_recently(client, user) -> None:
    """force_login plus allauth's record of a password reauthentication just now, as its
    "confirm your password" page leaves it: pages behind reauthentication (recovery codes)
    then open directly."""
    import time

    from allauth.account.internal.flows import login as flows

    client.force_login(user)
    session = client.session
    now = time.time()
    session[flows.AUTHENTICATION_METHODS_SESSION_KEY] = [
        {"method": "password", "at": now, "username": user.username, "reauthenticated": True},
    ]
    session[flows._AUTHENTICATION_METHODS_USER_SESSION_KEY] = str(user.pk)
    session.save()
