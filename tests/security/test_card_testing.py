"""Card testing from rotating addresses (issue #9): every card number new, every request
from another IP, so only the per-merchant limit can see the attack."""

import random

import pytest
from django.test import Client

from sandbox.network import authorization_count

ATTEMPTS = 1000
MERCHANT_LIMIT = 20


def luhn_valid(prefix: str, length: int, rng: random.Random) -> str:
    digits = prefix + "".join(rng.choice("0123456789") for _ in range(length - len(prefix) - 1))
    total = 0
    for i, d in enumerate(reversed(digits)):
        n = int(d)
        if i % 2 == 0:  # doubled: these sit left of the check digit
            n = n * 2 - 9 if n > 4 else n * 2
        total += n
    return digits + str(-total % 10)


@pytest.fixture(autouse=True)
def _limits(settings, fresh_cache):
    settings.GATEWAY_CARD_ATTEMPTS_PER_IP = 20
    settings.GATEWAY_CARD_ATTEMPTS_PER_CARD = 5
    settings.GATEWAY_CARD_ATTEMPTS_PER_MERCHANT = MERCHANT_LIMIT
    settings.GATEWAY_CARD_ATTEMPTS_PER_MERCHANT_WINDOW = 600


def test_luhn_helper_makes_valid_numbers():
    assert luhn_valid("424242424242424", 16, random.Random(0)) == "4242424242424242"


def test_a_thousand_cards_from_a_thousand_addresses_are_stopped_before_the_network(
    merchant, api_client, api_key_for
):
    intent = api_client.post("/v1/payment_intents", {"amount": 50000, "currency": "idr"}).json()
    client = Client(headers={"Authorization": f"Bearer {api_key_for(merchant, 'publishable')}"})
    rng = random.Random(9)
    cards = {luhn_valid(rng.choice("45"), 16, rng) for _ in range(ATTEMPTS * 2)}
    cards = sorted(cards)[:ATTEMPTS]
    rng.shuffle(cards)
    assert len(cards) == ATTEMPTS

    stopped = 0
    for i, number in enumerate(cards):
        response = client.post(
            f"/v1/payment_intents/{intent['id']}/confirm",
            {
                "client_secret": intent["client_secret"],
                "payment_method_data": {
                    "type": "card",
                    "card": {"number": number, "exp_month": 12, "exp_year": 2034, "cvc": "123"},
                },
            },
            content_type="application/json",
            REMOTE_ADDR=f"10.{i // 65536}.{i // 256 % 256}.{i % 256}",
        )
        if response.status_code == 429:
            assert response.json()["error"]["code"] == "rate_limit"
            stopped += 1
        else:
            assert i < MERCHANT_LIMIT, (i, response.status_code, response.content[:300])

    print(f"stopped {stopped}/{ATTEMPTS}, authorizations {authorization_count()}")
    assert stopped >= ATTEMPTS * 0.95
    assert authorization_count() <= 50


def test_the_checkout_page_counts_against_the_same_merchant_limit(merchant, api_key_for, settings):
    from payments.services.checkout import checkout_session_create

    settings.GATEWAY_CARD_ATTEMPTS_PER_MERCHANT = 3
    sessions = [
        checkout_session_create(
            merchant=merchant,
            livemode=False,
            success_url="https://shop.example/thanks",
            cancel_url="https://shop.example/cart",
            amount=50000,
            currency="idr",
        )
        for _ in range(5)
    ]
    rng = random.Random(3)
    statuses = []
    for i, session in enumerate(sessions):
        statuses.append(
            Client()
            .post(
                f"/checkout/{session.public_id}",
                {"number": luhn_valid("4", 16, rng), "exp": "12/34", "cvc": "123", "name": "A"},
                REMOTE_ADDR=f"10.9.0.{i}",
            )
            .status_code
        )
    assert statuses[:3] != [429] * 3
    assert statuses[3:] == [429, 429]


def test_another_merchant_is_not_blocked_by_an_attack_on_one(
    merchant, other_merchant, api_key_for, settings
):
    settings.GATEWAY_CARD_ATTEMPTS_PER_MERCHANT = 2

    def post(who, ip):
        return (
            Client()
            .post(
                "/v1/payment_methods",
                {
                    "type": "card",
                    "card": {"number": "4242424242424242", "exp_month": 1, "exp_year": 2034},
                },
                content_type="application/json",
                headers={"Authorization": f"Bearer {api_key_for(who, 'publishable')}"},
                REMOTE_ADDR=ip,
            )
            .status_code
        )

    assert [post(merchant, f"10.0.0.{i}") for i in range(3)] == [200, 200, 429]
    assert post(other_merchant, "10.0.0.9") == 200
