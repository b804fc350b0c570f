"""Security headers of the pages that matter (issue #9), under production's settings,
compared with tests/security/security_headers.json; and `check --deploy` passes.

A deliberate change: UPDATE_SECURITY_SNAPSHOT=1 .venv/bin/pytest
tests/security/test_security_headers.py rewrites the JSON; review its diff and commit it."""

import importlib
import json
import os
import re
import secrets
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.core.cache import cache
from django.test import Client
from django.urls import reverse

SNAPSHOT = Path(__file__).with_name("security_headers.json")
HEADERS = [
    "Content-Security-Policy",
    "Strict-Transport-Security",
    "X-Content-Type-Options",
    "Referrer-Policy",
    "X-Frame-Options",
    "Cross-Origin-Opener-Policy",
]
REGENERATE = (
    "Security headers changed. If the change is intended, regenerate the snapshot with\n"
    "  UPDATE_SECURITY_SNAPSHOT=1 .venv/bin/pytest tests/security/test_security_headers.py\n"
    "and commit tests/security/security_headers.json with the change."
)
ROOT = Path(django_settings.BASE_DIR)
DEPLOY_ENV = {
    "DJANGO_SETTINGS_MODULE": "config.settings.production",
    "DJANGO_SECRET_KEY": "placeholder-" + secrets.token_urlsafe(48),
    "DJANGO_ALLOWED_HOSTS": "gateway.example.com",
    "GATEWAY_BASE_URL": "https://gateway.example.com",
    "DATABASE_URL": "postgres://gateway@127.0.0.1:5432/gateway",
    "REDIS_URL": "redis://127.0.0.1:6379/0",
    "GATEWAY_VAULT_KEYS": "k1:" + "A" * 43 + "=",
    "GATEWAY_FINGERPRINT_KEY": "placeholder",
}


@pytest.fixture
def production_like(settings, monkeypatch, fresh_cache):
    """The security settings of config.settings.production, over plain HTTP in tests
    (requests say secure=True, so HSTS is sent)."""
    for name, value in DEPLOY_ENV.items():
        if name != "DJANGO_SETTINGS_MODULE":
            monkeypatch.setenv(name, value)
    production = importlib.import_module("config.settings.production")
    for name in dir(production):
        if name.startswith("SECURE_") or name in (
            "X_FRAME_OPTIONS",
            "SESSION_COOKIE_SECURE",
            "CSRF_COOKIE_SECURE",
            "GATEWAY_CHECKOUT_CSP",
            "GATEWAY_DASHBOARD_CSP",
        ):
            setattr(settings, name, getattr(production, name))
    settings.SECURE_SSL_REDIRECT = False
    settings.DEBUG = False
    cache.clear()
    return settings


def _headers(response) -> dict[str, str | None]:
    assert response.status_code == 200, response.status_code
    found = {name: response.headers.get(name) for name in HEADERS}
    if found["Content-Security-Policy"]:
        found["Content-Security-Policy"] = re.sub(
            r"'nonce-[^']+'", "'nonce-NONCE'", found["Content-Security-Policy"]
        )
    return found


def test_security_headers_match_the_snapshot(production_like, merchant, api_key_for):
    from merchants.models import Membership
    from payments.services.checkout import checkout_session_create
    from tests.dashboard.conftest import make_user

    session = checkout_session_create(
        merchant=merchant,
        livemode=False,
        success_url="https://shop.example/thanks",
        amount=50000,
        currency="idr",
    )
    owner = make_user("owner@toko.example", mfa=True)
    Membership.objects.create(user=owner, merchant=merchant, role="owner")
    dashboard = Client()
    dashboard.force_login(owner)
    api = Client(headers={"Authorization": f"Bearer {api_key_for(merchant)}"})

    current = {
        "checkout page": _headers(Client().get(f"/checkout/{session.public_id}", secure=True)),
        "dashboard home": _headers(dashboard.get(reverse("dashboard:home"), secure=True)),
        "login page": _headers(Client().get(reverse("account_login"), secure=True)),
        "/v1 API": _headers(api.get("/v1/payment_intents", secure=True)),
    }
    if os.environ.get("UPDATE_SECURITY_SNAPSHOT") == "1":
        SNAPSHOT.write_text(json.dumps(current, indent=2) + "\n")
    expected = json.loads(SNAPSHOT.read_text())
    assert current == expected, REGENERATE


def test_hsts_is_a_year_with_subdomains_and_preload(production_like, merchant, api_key_for):
    api = Client(headers={"Authorization": f"Bearer {api_key_for(merchant)}"})
    hsts = api.get("/v1/payment_intents", secure=True).headers["Strict-Transport-Security"]
    assert hsts == "max-age=31536000; includeSubDomains; preload"


def test_check_deploy_passes_under_production_settings():
    # Placeholders as in the Makefile's check-deploy, and nothing of the test run's own
    # environment (pytest-django sets DJANGO_ALLOW_ASYNC_UNSAFE, which the check refuses).
    env = {"PATH": os.environ.get("PATH", ""), "HOME": os.environ.get("HOME", ""), **DEPLOY_ENV}
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
