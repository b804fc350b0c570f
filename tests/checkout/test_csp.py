"""The checkout page's Content-Security-Policy and Subresource Integrity, and that the
browser loads nothing from another origin."""

import base64
import hashlib
import re
from urllib.parse import urlsplit

import pytest
from django.contrib.staticfiles import finders
from playwright.sync_api import expect

CARD = {"number": "4242 4242 4242 4242", "exp": "12 / 34", "cvc": "123"}


def _policy(response) -> dict[str, list[str]]:
    header = response.headers["Content-Security-Policy"]
    return {
        part.split()[0]: part.split()[1:] for part in (p.strip() for p in header.split(";")) if part
    }


@pytest.fixture(autouse=True)
def _fresh_counters(fresh_cache):
    """The cache (counters, rate limits) starts and ends empty: fresh_cache."""


@pytest.mark.parametrize("path", ["", "/status", "/return"])
def test_every_checkout_response_carries_the_strict_policy(client, make_session, path):
    session = make_session()
    response = client.get(f"/checkout/{session.public_id}{path}")
    policy = _policy(response)
    assert policy["default-src"] == ["'none'"]
    assert policy["frame-ancestors"] == ["'none'"]
    assert policy["base-uri"] == ["'none'"]
    assert policy["object-src"] == ["'none'"]
    # Only nonce-bearing scripts; without a rendered nonce, default-src 'none' applies.
    assert all(v.startswith("'nonce-") for v in policy.get("script-src", []))
    if path == "":
        assert len(policy["script-src"]) == 1
    assert "'unsafe-inline'" not in policy["style-src"]
    assert policy["form-action"] == ["'self'"]
    assert response.headers["X-Frame-Options"] == "DENY"


def test_scripts_carry_the_nonce_of_the_policy_and_their_integrity(client, make_session):
    session = make_session()
    response = client.get(f"/checkout/{session.public_id}")
    nonce = re.search(r"'nonce-([^']+)'", response.headers["Content-Security-Policy"]).group(1)
    html = response.content.decode()
    scripts = re.findall(r"<script\b([^>]*)>(.*?)</script>", html, re.S)
    assert len(scripts) == 2
    for attrs, body in scripts:
        assert body.strip() == ""  # no inline script
        assert f'nonce="{nonce}"' in attrs
        src = re.search(r'src="/static/([^"]+)"', attrs).group(1)
        with open(finders.find(src), "rb") as handle:
            digest = hashlib.sha384(handle.read()).digest()
        assert f'integrity="sha384-{base64.b64encode(digest).decode()}"' in attrs
    assert " style=" not in html  # no inline style attributes
    assert "<style" not in html
    stylesheet = re.search(r'<link rel="stylesheet" href="([^"]+)" integrity="sha384-', html)
    assert stylesheet is not None
    # A fresh nonce on every response.
    again = client.get(f"/checkout/{session.public_id}")
    assert f"'nonce-{nonce}'" not in again.headers["Content-Security-Policy"]


def test_the_redirect_to_the_banks_page_widens_form_action_to_that_page_only(
    client, make_session, settings
):
    settings.GATEWAY_BASE_URL = "https://gateway.example"
    session = make_session()
    response = client.post(
        f"/checkout/{session.public_id}", {**CARD, "number": "4000 0027 6000 3184"}
    )
    assert response.status_code == 303
    assert response.headers["Location"].startswith("https://gateway.example/sandbox/3ds/")
    assert _policy(response)["form-action"] == ["'self'", "https://gateway.example"]


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_the_page_loads_everything_from_its_own_origin_without_csp_violations(
    page, live_server, make_session, settings
):
    settings.GATEWAY_BASE_URL = live_server.url
    session = make_session(success_url=live_server.url + "/healthz")
    requests, violations = [], []
    page.on("request", lambda request: requests.append(request))
    page.on(
        "console",
        lambda message: (
            violations.append(message.text) if "Content Security Policy" in message.text else None
        ),
    )
    page.goto(f"{live_server.url}/checkout/{session.public_id}")
    page.fill("#number", "4000 0000 0000 0002")
    page.fill("#exp", "12 / 34")
    page.fill("#cvc", "123")
    page.click("#pay-button")
    expect(page.locator("#form-error")).to_contain_text("declined")
    page.fill("#number", "4242 4242 4242 4242")
    page.fill("#cvc", "123")
    page.click("#pay-button")
    expect(page.locator("#outcome")).to_contain_text("Payment successful")
    assert page.evaluate("typeof htmx") == "object"  # SRI and the nonce let it run
    kinds = {request.resource_type for request in requests}
    assert {"document", "script", "stylesheet"} <= kinds
    origin = urlsplit(live_server.url)
    for request in requests:
        url = urlsplit(request.url)
        assert (url.scheme, url.netloc) == (origin.scheme, origin.netloc), request.url
    assert violations == []
