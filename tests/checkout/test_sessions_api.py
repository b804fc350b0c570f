"""/v1/checkout/sessions through the official stripe SDK and raw requests for errors."""

import time

import pytest
import stripe
from django.utils import timezone

from payments.models import CheckoutSession, PaymentIntent
from payments.services.checkout import (
    checkout_session_pay_card,
    checkout_sessions_sweep,
)
from webhooks.models import Event

LINE_ITEMS = [
    {
        "price_data": {
            "currency": "idr",
            "unit_amount": 2500000,
            "product_data": {"name": "Kopi Toraja 250 g"},
        },
        "quantity": 2,
    }
]


@pytest.fixture
def client(live_server, api_key_for, merchant, settings):
    settings.GATEWAY_BASE_URL = live_server.url
    return stripe.StripeClient(
        api_key_for(merchant), base_addresses={"api": live_server.url}, max_network_retries=0
    )


def _pay(session, number="4242424242424242"):
    return checkout_session_pay_card(
        session=session, number=number, exp_month=12, exp_year=2034, cvc="123"
    )


@pytest.mark.django_db(transaction=True)
def test_the_stripe_sdk_creates_retrieves_lists_and_expires_sessions(client, live_server):
    session = client.v1.checkout.sessions.create(
        params={
            "mode": "payment",
            "line_items": LINE_ITEMS,
            "success_url": "https://shop.example/ok?session_id={CHECKOUT_SESSION_ID}",
            "cancel_url": "https://shop.example/cart",
            "customer_email": "budi@example.com",
            "client_reference_id": "order-42",
            "metadata": {"order": "42"},
        }
    )
    assert session.id.startswith("cs_")
    assert session.object == "checkout.session"
    assert session.amount_total == 5000000
    assert session.currency == "idr"
    assert (session.status, session.payment_status) == ("open", "unpaid")
    assert session.url == f"{live_server.url}/checkout/{session.id}"
    assert session.success_url == "https://shop.example/ok?session_id={CHECKOUT_SESSION_ID}"
    assert session.client_reference_id == "order-42"
    assert session.customer_email == "budi@example.com"
    assert session.metadata["order"] == "42"
    assert session.payment_intent is None
    assert session.livemode is False
    assert 24 * 3600 - 60 <= session.expires_at - session.created <= 24 * 3600

    fetched = client.v1.checkout.sessions.retrieve(session.id, params={"expand": ["line_items"]})
    assert fetched.id == session.id
    [item] = fetched.line_items.data
    assert (item.description, item.quantity, item.amount_total) == ("Kopi Toraja 250 g", 2, 5000000)
    assert item.price.unit_amount == 2500000

    items = client.v1.checkout.sessions.line_items.list(session.id)
    assert [i.id for i in items.data] == [item.id]

    other = client.v1.checkout.sessions.create(
        params={"amount": 1000000, "currency": "idr", "success_url": "https://shop.example/ok"}
    )
    page = client.v1.checkout.sessions.list(params={"limit": 1})
    assert [s.id for s in page.data] == [other.id]
    assert page.has_more is True
    nxt = client.v1.checkout.sessions.list(params={"limit": 1, "starting_after": other.id})
    assert [s.id for s in nxt.data] == [session.id]

    expired = client.v1.checkout.sessions.expire(session.id)
    assert expired.status == "expired"
    assert expired.url is None
    assert [s.id for s in client.v1.checkout.sessions.list(params={"status": "open"}).data] == [
        other.id
    ]
    event = Event.objects.get(type="checkout.session.expired")
    assert event.data["object"]["id"] == session.id


def test_a_session_is_paid_once_and_completes_with_its_event(make_session):
    session = make_session()
    paid = _pay(session)
    assert (paid.status, paid.payment_status) == ("complete", "paid")
    assert paid.payment_intent.status == "succeeded"
    assert paid.payment_intent.amount == 6500000
    event = Event.objects.get(type="checkout.session.completed")
    assert event.data["object"]["payment_intent"] == paid.payment_intent.public_id
    assert event.data["object"]["status"] == "complete"

    from payments.services.checkout import CheckoutSessionClosedError

    with pytest.raises(CheckoutSessionClosedError):
        _pay(session)
    assert PaymentIntent.objects.filter(checkout_session=session).count() == 1
    assert Event.objects.filter(type="checkout.session.completed").count() == 1


def test_a_declined_card_leaves_the_session_open_for_another_card(make_session):
    from core.errors import CardError

    session = make_session()
    with pytest.raises(CardError) as declined:
        _pay(session, "4000000000000002")
    assert declined.value.code == "card_declined"
    session.refresh_from_db()
    assert session.status == "open"
    paid = _pay(session)
    assert paid.status == "complete"
    assert paid.payment_intent.charges.count() == 2


def test_the_api_refuses_a_session_without_amount_or_items(api_client):
    response = api_client.post(
        "/v1/checkout/sessions", {"success_url": "https://shop.example/ok"}, format="json"
    )
    assert response.status_code == 400
    assert response.json()["error"]["param"] == "line_items"
    assert not CheckoutSession.objects.exists()


@pytest.mark.parametrize(
    ("body", "param"),
    [
        ({"amount": 1000, "currency": "idr"}, "success_url"),
        ({"amount": 1000, "currency": "idr", "success_url": "javascript:alert(1)"}, "success_url"),
        ({"amount": 0, "currency": "idr", "success_url": "https://s.example"}, "amount"),
        ({"amount": 1000, "currency": "zzz", "success_url": "https://s.example"}, "currency"),
        (
            {"amount": 1000, "currency": "idr", "success_url": "https://s.example", "mode": "x"},
            "mode",
        ),
        (
            {
                "amount": 1000,
                "currency": "idr",
                "success_url": "https://s.example",
                "payment_method_types": ["alipay"],
            },
            "payment_method_types[0]",
        ),
        (
            {
                "line_items": [{"price_data": {"currency": "idr", "unit_amount": 5}}],
                "success_url": "https://s.example",
            },
            "line_items[0][price_data][product_data]",
        ),
        (
            {"amount": 1000, "currency": "idr", "success_url": "https://s.example", "x": 1},
            "x",
        ),
    ],
)
def test_invalid_parameters_answer_stripe_errors_and_write_nothing(api_client, body, param):
    response = api_client.post("/v1/checkout/sessions", body, format="json")
    assert response.status_code == 400, response.json()
    assert response.json()["error"]["param"] == param
    assert not CheckoutSession.objects.exists()


@pytest.mark.parametrize("offset", [10 * 60, 25 * 3600])
def test_expires_at_must_be_between_30_minutes_and_24_hours(api_client, offset):
    response = api_client.post(
        "/v1/checkout/sessions",
        {
            "amount": 1000,
            "currency": "idr",
            "success_url": "https://s.example",
            "expires_at": int(time.time()) + offset,
        },
        format="json",
    )
    assert response.status_code == 400
    assert response.json()["error"]["param"] == "expires_at"


def test_expires_at_within_the_window_is_kept(api_client):
    at = int(time.time()) + 3600
    response = api_client.post(
        "/v1/checkout/sessions",
        {"amount": 1000, "currency": "usd", "success_url": "https://s.example", "expires_at": at},
        format="json",
    )
    assert response.status_code == 200
    assert response.json()["expires_at"] == at


def test_another_merchants_session_is_missing(api_client, other_merchant, make_session):
    from payments.services.checkout import checkout_session_create

    theirs = checkout_session_create(
        merchant=other_merchant,
        livemode=False,
        amount=1000,
        currency="idr",
        success_url="https://s.example",
    )
    for url in (
        f"/v1/checkout/sessions/{theirs.public_id}",
        f"/v1/checkout/sessions/{theirs.public_id}/line_items",
    ):
        response = api_client.get(url)
        assert response.status_code == 404
        assert response.json()["error"]["code"] == "resource_missing"
    response = api_client.post(f"/v1/checkout/sessions/{theirs.public_id}/expire")
    assert response.status_code == 404
    theirs.refresh_from_db()
    assert theirs.status == "open"
    assert api_client.get("/v1/checkout/sessions").json()["data"] == []


def test_expiring_a_complete_session_is_refused(api_client, make_session):
    session = _pay(make_session())
    response = api_client.post(f"/v1/checkout/sessions/{session.public_id}/expire")
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "checkout_session_unexpected_state"
    session.refresh_from_db()
    assert session.status == "complete"


def test_a_publishable_key_cannot_create_sessions(api_client, merchant, api_key_for):
    api_client.credentials(HTTP_AUTHORIZATION=f"Bearer {api_key_for(merchant, 'publishable')}")
    response = api_client.post(
        "/v1/checkout/sessions",
        {"amount": 1000, "currency": "idr", "success_url": "https://s.example"},
        format="json",
    )
    assert response.status_code == 403


def test_manual_capture_sessions_complete_on_authorization(api_client):
    response = api_client.post(
        "/v1/checkout/sessions",
        {
            "amount": 1000,
            "currency": "idr",
            "success_url": "https://s.example",
            "payment_intent_data": {"capture_method": "manual"},
        },
        format="json",
    )
    session = CheckoutSession.objects.get(public_id=response.json()["id"])
    paid = _pay(session)
    assert paid.status == "complete"
    assert paid.payment_intent.status == "requires_capture"


def test_the_sweeper_expires_sessions_past_expires_at_and_cancels_their_intent(make_session):
    from core.errors import CardError

    session = make_session()
    with pytest.raises(CardError):
        _pay(session, "4000000000000002")
    fresh = make_session()
    CheckoutSession.objects.filter(pk=session.pk).update(
        expires_at=timezone.now() - timezone.timedelta(seconds=1)
    )
    assert checkout_sessions_sweep() == {"completed": 0, "expired": 1}
    session.refresh_from_db()
    fresh.refresh_from_db()
    assert session.status == "expired"
    assert session.payment_intent.status == "canceled"
    assert fresh.status == "open"
    assert Event.objects.filter(type="checkout.session.expired").count() == 1


def test_the_database_refuses_a_complete_session_that_is_unpaid(make_session):
    from django.db import IntegrityError, transaction

    session = make_session()
    with pytest.raises(IntegrityError), transaction.atomic():
        CheckoutSession.objects.filter(pk=session.pk).update(status="complete")
    with pytest.raises(IntegrityError), transaction.atomic():
        CheckoutSession.objects.filter(pk=session.pk).update(status="paused")


@pytest.mark.parametrize(
    ("amount", "types", "message"),
    [
        (
            50000,
            ["bank_transfer"],
            "bank_transfer takes amounts from Rp10,000 to Rp50,000,000; this Checkout "
            "Session is Rp500.",
        ),
        (
            5000050,
            ["card", "qris"],
            "qris takes whole rupiah only: the amount must be a multiple of 100 (this "
            "Checkout Session is 5000050).",
        ),
        (
            1_100_000_000,
            ["gopay", "ovo"],
            "ovo takes amounts from Rp1,000 to Rp10,000,000; this Checkout Session is "
            "Rp11,000,000.",
        ),
    ],
)
def test_a_session_refuses_a_method_its_amount_cannot_use(api_client, amount, types, message):
    answer = api_client.post(
        "/v1/checkout/sessions",
        {
            "amount": amount,
            "currency": "idr",
            "success_url": "https://s.example",
            "payment_method_types": types,
        },
        format="json",
    )
    assert answer.status_code == 400, answer.json()
    error = answer.json()["error"]
    assert error["type"] == "invalid_request_error"
    assert error["param"] == "payment_method_types"
    assert error["message"] == message
    assert not CheckoutSession.objects.exists()
