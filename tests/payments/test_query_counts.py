"""SQL statements per request on the hot API endpoints (issue #10).

Counted as production runs them: autocommit between transactions (transactional_db), so
BEGIN and COMMIT show up as Django 6 logs them. The in-process sandbox plays the card
network; its statements are the processor's, not the gateway's, so they are left out of
the count (a real connector spends them on the other side of an HTTP call).

A change that adds a statement to one of these requests fails here: either it earns its
place (update the number and say why in the commit) or it goes.
"""

import re
import uuid

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def _production_backends(settings):
    # The counts describe production: PostgreSQL, with Redis as the cache. On the SQLite
    # fallback the database cache adds its own statements (CI runs these on PostgreSQL).
    if connection.vendor != "postgresql" or not settings.REDIS_URL:
        pytest.skip("query counts are for PostgreSQL with Redis")


SANDBOX_TABLE = re.compile(r'"sandbox_')

# Gateway statements per request (BEGIN and COMMIT included).
EXPECTED = {
    "create": 5,
    "confirm_with_card_data": 10,
    "confirm_with_payment_method": 11,
    "retrieve": 2,
    "list": 2,
    "capture": 19,
    "refund": 26,
}


def gateway_statements(captured: list[dict]) -> list[str]:
    """The statements minus the sandbox's: its own statements and the transactions that
    hold nothing else."""
    kept: list[str] = []
    block: list[str] | None = None
    for sql in (q["sql"] for q in captured):
        if sql == "BEGIN":
            block = [sql]
            continue
        if block is not None:
            block.append(sql)
            if sql in ("COMMIT", "ROLLBACK"):
                inner = block[1:-1]
                if not inner or not all(SANDBOX_TABLE.search(s) for s in inner):
                    kept.extend(s for s in block if not SANDBOX_TABLE.search(s))
                block = None
            continue
        if not SANDBOX_TABLE.search(sql):
            kept.append(sql)
    return kept


@pytest.fixture
def client(merchant, api_key_for):
    """A test-mode client of a merchant on the default plan with a card rate (the flush
    between transactional tests empties what the migrations seeded, so it is made here)."""
    from django.test import Client

    from merchants.models import PricingPlan, PricingRate

    plan, _ = PricingPlan.objects.get_or_create(is_default=True, defaults={"name": "Standard"})
    PricingRate.objects.get_or_create(
        plan=plan, payment_method_type="card", currency="idr", defaults={"percent_bps": 290}
    )

    key = api_key_for(merchant)
    return Client(HTTP_AUTHORIZATION=f"Bearer {key}", HTTP_HOST="localhost")


def _post(client, path: str, data: dict):
    from urllib.parse import urlencode

    response = client.post(
        path,
        urlencode(data),
        content_type="application/x-www-form-urlencoded",
        HTTP_IDEMPOTENCY_KEY=str(uuid.uuid4()),
    )
    assert response.status_code == 200, response.content
    return response.json()


def _counted(call):
    with CaptureQueriesContext(connection) as captured:
        body = call()
    return body, gateway_statements(captured.captured_queries)


def _assert_count(name: str, statements: list[str]) -> None:
    assert len(statements) == EXPECTED[name], (
        f"{name}: {len(statements)} gateway statements, expected {EXPECTED[name]}:\n"
        + "\n".join(s[:160] for s in statements)
    )


CARD = {
    "payment_method_data[type]": "card",
    "payment_method_data[card][number]": "4242424242424242",
    "payment_method_data[card][exp_month]": "12",
    "payment_method_data[card][exp_year]": "2040",
    "payment_method_data[card][cvc]": "123",
}


def _warm(client) -> None:
    # The first payment of a merchant creates its ledger accounts and the key's
    # last_used_at stamp; steady state is what the counts describe.
    intent = _post(client, "/v1/payment_intents", {"amount": 1000, "currency": "idr"})
    _post(client, f"/v1/payment_intents/{intent['id']}/confirm", CARD)


def test_creating_a_payment_intent_takes_a_fixed_number_of_statements(client):
    _warm(client)
    body, statements = _counted(
        lambda: _post(client, "/v1/payment_intents", {"amount": 150000, "currency": "idr"})
    )
    assert body["status"] == "requires_payment_method"
    _assert_count("create", statements)


def test_confirming_with_card_data_takes_a_fixed_number_of_statements(client):
    _warm(client)
    intent = _post(client, "/v1/payment_intents", {"amount": 150000, "currency": "idr"})
    body, statements = _counted(
        lambda: _post(client, f"/v1/payment_intents/{intent['id']}/confirm", CARD)
    )
    assert body["status"] == "succeeded"
    _assert_count("confirm_with_card_data", statements)


def test_confirming_with_a_saved_payment_method_takes_a_fixed_number_of_statements(client):
    _warm(client)
    pm = _post(
        client,
        "/v1/payment_methods",
        {
            "type": "card",
            "card[number]": "4242424242424242",
            "card[exp_month]": "12",
            "card[exp_year]": "2040",
        },
    )
    intent = _post(client, "/v1/payment_intents", {"amount": 150000, "currency": "idr"})
    body, statements = _counted(
        lambda: _post(
            client, f"/v1/payment_intents/{intent['id']}/confirm", {"payment_method": pm["id"]}
        )
    )
    assert body["status"] == "succeeded"
    _assert_count("confirm_with_payment_method", statements)


def test_retrieving_and_listing_payment_intents_take_a_fixed_number_of_statements(client):
    _warm(client)
    for _ in range(3):
        _post(client, "/v1/payment_intents", {"amount": 150000, "currency": "idr"})
    intent = _post(client, "/v1/payment_intents", {"amount": 150000, "currency": "idr"})

    body, statements = _counted(lambda: client.get(f"/v1/payment_intents/{intent['id']}").json())
    assert body["id"] == intent["id"]
    _assert_count("retrieve", statements)

    body, statements = _counted(lambda: client.get("/v1/payment_intents?limit=3").json())
    assert len(body["data"]) == 3 and body["has_more"] is True
    _assert_count("list", statements)


def test_capturing_takes_a_fixed_number_of_statements(client):
    _warm(client)
    intent = _post(
        client,
        "/v1/payment_intents",
        {"amount": 150000, "currency": "idr", "capture_method": "manual", "confirm": "true"} | CARD,
    )
    assert intent["status"] == "requires_capture"
    body, statements = _counted(
        lambda: _post(
            client, f"/v1/payment_intents/{intent['id']}/capture", {"amount_to_capture": 100000}
        )
    )
    assert body["status"] == "succeeded" and body["amount_received"] == 100000
    _assert_count("capture", statements)


def test_refunding_takes_a_fixed_number_of_statements(client):
    _warm(client)
    intent = _post(
        client,
        "/v1/payment_intents",
        {"amount": 150000, "currency": "idr", "confirm": "true"} | CARD,
    )
    body, statements = _counted(
        lambda: _post(client, "/v1/refunds", {"payment_intent": intent["id"], "amount": 50000})
    )
    assert body["status"] == "succeeded" and body["amount"] == 50000
    _assert_count("refund", statements)
