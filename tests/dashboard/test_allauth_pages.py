"""allauth's pages under the dashboard's Content-Security-Policy: every script they load
carries the response's nonce. A page whose template never asks for the nonce gets a policy
without `script-src` at all (Django drops the directive when no nonce was used), so any
same-origin script would run there; with the nonce the policy stays nonce-only."""

import re

import pytest

from tests.dashboard.conftest import log_in_recently

pytestmark = pytest.mark.django_db

_NONCE = re.compile(r"script-src[^;]*'nonce-([^']+)'")


def _scripts_without_the_nonce(response) -> list[str]:
    found = _NONCE.search(response.headers["Content-Security-Policy"])
    assert found, "script-src is nonce-only on this page"
    nonce = found.group(1)
    html = response.content.decode()
    tags = re.findall(r"<script\b[^>]*>", html)
    assert tags, "the page loads scripts"
    return [tag for tag in tags if f'nonce="{nonce}"' not in tag]


def test_every_script_of_the_recovery_codes_page_carries_the_csp_nonce(client, owner):
    log_in_recently(client, owner)
    response = client.get("/accounts/2fa/recovery-codes/")
    assert response.status_code == 200
    assert 'id="recovery_codes"' in response.content.decode()
    assert "mfa/js/recovery_codes" in response.content.decode()
    assert _scripts_without_the_nonce(response) == []


def test_every_script_of_the_email_addresses_page_carries_the_csp_nonce(client, owner):
    client.force_login(owner)
    response = client.get("/accounts/email/")
    assert response.status_code == 200
    assert "account/js/account" in response.content.decode()
    assert _scripts_without_the_nonce(response) == []
