"""gateway.js on the sandbox demo shop: redirectToCheckout, and the shop's own card form
(createPaymentMethod, confirmCardPayment) calling /v1 across origins with a publishable
key; CORS on /v1."""

import re
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import expect

from merchants.services import demo_merchant_ensure
from payments.models import CheckoutSession, PaymentIntent, PaymentMethod


@pytest.fixture(autouse=True)
def _fresh_counters(fresh_cache):
    """The cache (counters, rate limits) starts and ends empty: fresh_cache."""


def test_a_preflight_on_v1_allows_any_origin_with_the_key_header(client):
    response = client.options(
        "/v1/payment_methods",
        headers={
            "Origin": "https://shop.example",
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "authorization, content-type",
        },
    )
    assert response.status_code == 204
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    allowed = response.headers["Access-Control-Allow-Headers"].lower()
    assert "authorization" in allowed and "content-type" in allowed
    assert "POST" in response.headers["Access-Control-Allow-Methods"]
    assert "Access-Control-Allow-Credentials" not in response.headers


def test_api_answers_carry_cors_headers_for_browsers(client, merchant, api_key_for):
    response = client.post(
        "/v1/payment_methods",
        "type=card&card[number]=4242424242424242&card[exp_month]=12&card[exp_year]=2034",
        content_type="application/x-www-form-urlencoded",
        headers={
            "Origin": "https://shop.example",
            "Authorization": f"Bearer {api_key_for(merchant, 'publishable')}",
        },
    )
    assert response.status_code == 200
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    assert "Request-Id" in response.headers["Access-Control-Expose-Headers"]


def test_publishable_key_card_attempts_are_limited_per_card_with_a_stripe_error(
    client, merchant, api_key_for, settings
):
    settings.GATEWAY_CARD_ATTEMPTS_PER_CARD = 2
    key = api_key_for(merchant, "publishable")
    body = "type=card&card[number]=4000000000000002&card[exp_month]=12&card[exp_year]=2034"

    def post():
        return client.post(
            "/v1/payment_methods",
            body,
            content_type="application/x-www-form-urlencoded",
            headers={"Authorization": f"Bearer {key}"},
        )

    assert post().status_code == 200
    assert post().status_code == 200
    limited = post()
    assert limited.status_code == 429
    assert limited.json()["error"]["type"] == "invalid_request_error"
    assert limited.json()["error"]["code"] == "rate_limit"
    assert "Too many payment attempts" in limited.json()["error"]["message"]
    assert PaymentMethod.objects.count() == 2
    # Another card from the same client is not blocked by the card limit.
    other = client.post(
        "/v1/payment_methods",
        body.replace("4000000000000002", "4242424242424242"),
        content_type="application/x-www-form-urlencoded",
        headers={"Authorization": f"Bearer {key}"},
    )
    assert other.status_code == 200


def test_publishable_key_attempts_are_limited_per_ip(client, merchant, api_key_for, settings):
    settings.GATEWAY_CARD_ATTEMPTS_PER_IP = 3
    key = api_key_for(merchant, "publishable")
    statuses = [
        client.post(
            "/v1/payment_methods",
            {
                "type": "card",
                "card": {"number": f"424242424242424{i}", "exp_month": 1, "exp_year": 2034},
            },
            content_type="application/json",
            headers={"Authorization": f"Bearer {key}"},
        ).status_code
        for i in range(5)
    ]
    assert statuses[3:] == [429, 429]
    # Secret-key calls from a merchant's server are not counted against the browser limit.
    secret = client.post(
        "/v1/payment_methods",
        "type=card&card[number]=4242424242424242&card[exp_month]=12&card[exp_year]=2034",
        content_type="application/x-www-form-urlencoded",
        headers={"Authorization": f"Bearer {api_key_for(merchant)}"},
    )
    assert secret.status_code == 200


def test_the_shop_without_javascript_posts_to_its_server_and_lands_on_checkout(client, db):
    response = client.post("/sandbox/shop/session")
    assert response.status_code == 303
    session = CheckoutSession.objects.get()
    assert response.headers["Location"].endswith(f"/checkout/{session.public_id}")
    assert session.merchant == demo_merchant_ensure().merchant


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_redirect_to_checkout_pays_and_returns_to_the_shop(page, live_server, settings):
    settings.GATEWAY_BASE_URL = live_server.url
    page.goto(f"{live_server.url}/sandbox/shop")
    page.click("#hosted-button")
    page.wait_for_url(re.compile(r"/checkout/cs_"))
    expect(page.locator("#total")).to_contain_text("Rp85.000")
    page.fill("#number", "4242 4242 4242 4242")
    page.fill("#exp", "12 / 34")
    page.fill("#cvc", "123")
    page.click("#pay-button")
    page.click("#return-link")
    expect(page.locator("#shop-result")).to_contain_text("is complete")
    assert CheckoutSession.objects.get().status == "complete"


def _other_origin(url: str) -> str:
    """The same live server under another host name: another origin for the browser."""
    parts = urlsplit(url)
    host = "localhost" if parts.hostname == "127.0.0.1" else "127.0.0.1"
    return f"{parts.scheme}://{host}:{parts.port}"


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_the_shops_own_form_tokenizes_and_confirms_from_another_origin(page, live_server, settings):
    settings.GATEWAY_BASE_URL = live_server.url
    shop = _other_origin(live_server.url)
    api_calls = []
    page.on("request", lambda r: api_calls.append(r) if "/v1/" in r.url else None)
    page.goto(f"{shop}/sandbox/shop")
    page.fill("#own-number", "4242 4242 4242 4242")
    page.fill("#own-exp", "12 / 34")
    page.fill("#own-cvc", "123")
    page.click("#own-button")
    expect(page.locator("#own-status")).to_contain_text("is succeeded", timeout=15_000)
    intent = PaymentIntent.objects.get()
    assert intent.status == "succeeded"
    assert PaymentMethod.objects.count() == 2  # the tokenized one, and the confirm's
    posts = [r for r in api_calls if r.method == "POST"]
    assert [urlsplit(r.url).path for r in posts] == [
        "/v1/payment_methods",
        f"/v1/payment_intents/{intent.public_id}/confirm",
    ]
    assert all(r.url.startswith(live_server.url) for r in posts)  # cross-origin calls
    assert all(r.headers["authorization"].startswith("Bearer pk_test_") for r in posts)


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_confirm_card_payment_follows_3d_secure_and_returns_to_the_shop(
    page, live_server, settings
):
    settings.GATEWAY_BASE_URL = live_server.url
    page.goto(f"{live_server.url}/sandbox/shop")
    page.fill("#own-number", "4000 0027 6000 3184")
    page.fill("#own-exp", "12 / 34")
    page.fill("#own-cvc", "123")
    page.click("#own-button")
    page.wait_for_url(re.compile(r"/sandbox/3ds/"))
    page.click("text=Complete authentication")
    expect(page.locator("#shop-result")).to_contain_text("is succeeded")
    assert "redirect_status=succeeded" in page.url


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_a_declined_card_on_the_shops_form_shows_the_gateways_message(page, live_server, settings):
    settings.GATEWAY_BASE_URL = live_server.url
    page.goto(f"{live_server.url}/sandbox/shop")
    page.fill("#own-number", "4000 0000 0000 0002")
    page.fill("#own-exp", "12 / 34")
    page.fill("#own-cvc", "123")
    page.click("#own-button")
    expect(page.locator("#own-error")).to_have_text("Your card has been declined.")
