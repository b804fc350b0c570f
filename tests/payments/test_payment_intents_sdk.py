"""Payment intents end to end with the official stripe SDK against a live test server."""

import re
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
import stripe

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def client(live_server, api_key_for, merchant, settings):
    # Links the gateway hands out (3-D Secure pages) point at this test server.
    settings.GATEWAY_BASE_URL = live_server.url
    return stripe.StripeClient(
        api_key_for(merchant), base_addresses={"api": live_server.url}, max_network_retries=0
    )


def _create(client, **params):
    return client.v1.payment_intents.create(params={"amount": 150000, "currency": "idr", **params})


def test_confirming_with_pm_card_visa_succeeds(client):
    intent = _create(client, payment_method="pm_card_visa", confirm=True)
    assert intent.status == "succeeded"
    assert intent.amount_received == 150000
    charge = client.v1.charges.retrieve(intent.latest_charge)
    assert charge.status == "succeeded"
    assert charge.captured is True
    assert charge.amount_captured == 150000
    card = charge.payment_method_details.card
    assert (card.brand, card.last4) == ("visa", "4242")
    assert card.fingerprint
    assert charge.outcome.network_status == "approved_by_network"
    assert charge.outcome.type == "authorized"
    assert charge.outcome.risk_level == "normal"


def test_confirm_and_capture_answer_with_the_charge_as_they_left_it(client):
    intent = _create(client)
    intent = client.v1.payment_intents.confirm(
        intent.id, params={"payment_method": "pm_card_visa", "expand": ["latest_charge"]}
    )
    charge = intent.latest_charge
    assert (charge.status, charge.captured, charge.amount_captured) == ("succeeded", True, 150000)
    assert charge.outcome.type == "authorized"

    manual = _create(
        client,
        capture_method="manual",
        payment_method="pm_card_visa",
        confirm=True,
        expand=["latest_charge"],
    )
    assert (manual.latest_charge.status, manual.latest_charge.captured) == ("succeeded", False)
    captured = client.v1.payment_intents.capture(
        manual.id, params={"amount_to_capture": 100000, "expand": ["latest_charge"]}
    )
    assert captured.latest_charge.captured is True
    assert captured.latest_charge.amount_captured == 100000


def test_create_then_confirm_in_two_steps(client):
    intent = _create(client)
    assert intent.status == "requires_payment_method"
    assert intent.client_secret.startswith(intent.id + "_secret_")
    intent = client.v1.payment_intents.confirm(
        intent.id, params={"payment_method": "pm_card_mastercard"}
    )
    assert intent.status == "succeeded"


DECLINES = [
    ("pm_card_chargeDeclined", "card_declined", "generic_decline"),
    ("pm_card_chargeDeclinedInsufficientFunds", "card_declined", "insufficient_funds"),
    ("pm_card_chargeDeclinedLostCard", "card_declined", "lost_card"),
    ("pm_card_chargeDeclinedStolenCard", "card_declined", "stolen_card"),
    ("pm_card_chargeDeclinedExpiredCard", "expired_card", None),
    ("pm_card_chargeDeclinedIncorrectCvc", "incorrect_cvc", None),
    ("pm_card_chargeDeclinedProcessingError", "processing_error", None),
    ("pm_card_chargeDeclinedFraudulent", "card_declined", "fraudulent"),
]


@pytest.mark.parametrize(("token", "code", "decline_code"), DECLINES)
def test_each_decline_card_raises_card_error_and_returns_the_intent_for_another_try(
    client, token, code, decline_code
):
    intent = _create(client)
    with pytest.raises(stripe.CardError) as raised:
        client.v1.payment_intents.confirm(intent.id, params={"payment_method": token})
    error = raised.value
    assert error.http_status == 402
    assert error.code == code
    if decline_code:
        assert error.error.decline_code == decline_code
    intent = client.v1.payment_intents.retrieve(intent.id)
    assert intent.status == "requires_payment_method"
    assert intent.last_payment_error.code == code
    assert intent.last_payment_error.type == "card_error"
    charge = client.v1.charges.retrieve(intent.latest_charge)
    assert charge.status == "failed"
    assert charge.failure_code == (decline_code or code)
    # The customer can try again with another card.
    intent = client.v1.payment_intents.confirm(intent.id, params={"payment_method": "pm_card_visa"})
    assert intent.status == "succeeded"
    assert intent.last_payment_error is None


def test_manual_capture_then_a_partial_capture(client):
    intent = _create(client, payment_method="pm_card_visa", confirm=True, capture_method="manual")
    assert intent.status == "requires_capture"
    assert intent.amount_capturable == 150000
    assert intent.amount_received == 0
    intent = client.v1.payment_intents.capture(intent.id, params={"amount_to_capture": 100000})
    assert intent.status == "succeeded"
    assert intent.amount_received == 100000
    assert intent.amount_capturable == 0
    charge = client.v1.charges.retrieve(intent.latest_charge)
    assert (charge.captured, charge.amount_captured, charge.amount) == (True, 100000, 150000)


def test_capturing_more_than_authorized_is_refused(client):
    intent = _create(client, payment_method="pm_card_visa", confirm=True, capture_method="manual")
    with pytest.raises(stripe.InvalidRequestError) as raised:
        client.v1.payment_intents.capture(intent.id, params={"amount_to_capture": 150001})
    assert raised.value.param == "amount_to_capture"
    assert client.v1.payment_intents.retrieve(intent.id).status == "requires_capture"


def test_cancel_an_authorized_intent_and_an_unconfirmed_one(client):
    authorized = _create(
        client, payment_method="pm_card_visa", confirm=True, capture_method="manual"
    )
    canceled = client.v1.payment_intents.cancel(
        authorized.id, params={"cancellation_reason": "requested_by_customer"}
    )
    assert canceled.status == "canceled"
    assert canceled.cancellation_reason == "requested_by_customer"
    assert canceled.canceled_at
    fresh = client.v1.payment_intents.cancel(_create(client).id)
    assert fresh.status == "canceled"
    with pytest.raises(stripe.InvalidRequestError) as raised:
        client.v1.payment_intents.capture(authorized.id)
    assert raised.value.code == "payment_intent_unexpected_state"


def test_two_partial_refunds_succeed_and_a_third_beyond_the_captured_amount_is_refused(client):
    intent = _create(client, payment_method="pm_card_visa", confirm=True)
    first = client.v1.refunds.create(params={"payment_intent": intent.id, "amount": 50000})
    second = client.v1.refunds.create(
        params={
            "charge": intent.latest_charge,
            "amount": 60000,
            "reason": "requested_by_customer",
            "metadata": {"ticket": "42"},
        }
    )
    assert (first.status, second.status) == ("succeeded", "succeeded")
    assert second.metadata["ticket"] == "42"
    with pytest.raises(stripe.InvalidRequestError) as raised:
        client.v1.refunds.create(params={"payment_intent": intent.id, "amount": 40001})
    assert raised.value.param == "amount"
    charge = client.v1.charges.retrieve(intent.latest_charge)
    assert charge.amount_refunded == 110000
    assert charge.refunded is False
    last = client.v1.refunds.create(params={"payment_intent": intent.id})
    assert last.amount == 40000
    assert client.v1.charges.retrieve(intent.latest_charge).refunded is True
    refunds = client.v1.refunds.list(params={"payment_intent": intent.id})
    assert [r.id for r in refunds.data] == [last.id, second.id, first.id]
    updated = client.v1.refunds.update(first.id, params={"metadata": {"note": "late"}})
    assert updated.metadata["note"] == "late"


def test_a_list_of_25_intents_pages_both_ways(client):
    created = [_create(client, amount=1000 + i).id for i in range(25)]
    newest_first = list(reversed(created))
    page1 = client.v1.payment_intents.list(params={"limit": 10})
    assert [p.id for p in page1.data] == newest_first[:10]
    assert page1.has_more is True
    page2 = client.v1.payment_intents.list(
        params={"limit": 10, "starting_after": page1.data[-1].id}
    )
    assert [p.id for p in page2.data] == newest_first[10:20]
    page3 = client.v1.payment_intents.list(
        params={"limit": 10, "starting_after": page2.data[-1].id}
    )
    assert [p.id for p in page3.data] == newest_first[20:]
    assert page3.has_more is False
    back = client.v1.payment_intents.list(params={"limit": 10, "ending_before": page3.data[0].id})
    assert [p.id for p in back.data] == newest_first[10:20]
    assert back.has_more is True
    pages = client.v1.payment_intents.list(params={"limit": 7})
    everything = [p.id for p in pages.auto_paging_iter()]
    assert everything == newest_first


def test_retrieve_with_expand_returns_the_nested_objects(client):
    customer = client.v1.customers.create(params={"email": "buyer@example.com"})
    intent = _create(client, payment_method="pm_card_visa", confirm=True, customer=customer.id)
    expanded = client.v1.payment_intents.retrieve(
        intent.id, params={"expand": ["latest_charge", "payment_method", "customer"]}
    )
    assert expanded.latest_charge.object == "charge"
    assert expanded.latest_charge.amount_captured == 150000
    assert expanded.payment_method.card.last4 == "4242"
    assert expanded.customer.email == "buyer@example.com"
    plain = client.v1.payment_intents.retrieve(intent.id)
    assert isinstance(plain.latest_charge, str)


def test_a_3d_secure_card_requires_action_and_completes_through_the_challenge_page(
    client, live_server
):
    intent = _create(
        client,
        payment_method="pm_card_threeDSecure2Required",
        confirm=True,
        return_url="https://shop.example.com/done",
    )
    assert intent.status == "requires_action"
    assert intent.next_action.type == "redirect_to_url"
    url = intent.next_action.redirect_to_url.url
    session, response = _answer_challenge(url, "complete")
    assert response.status_code in (302, 303)
    back_to_gateway = response.headers["Location"]
    final = session.get(urljoin(url, back_to_gateway), allow_redirects=False, timeout=10)
    assert final.status_code == 302
    merchant_url = urlsplit(final.headers["Location"])
    assert merchant_url.netloc == "shop.example.com"
    query = parse_qs(merchant_url.query)
    assert query["payment_intent"] == [intent.id]
    assert query["redirect_status"] == ["succeeded"]
    assert client.v1.payment_intents.retrieve(intent.id).status == "succeeded"


def test_a_failed_3d_secure_challenge_returns_the_intent_to_requires_payment_method(
    client, live_server
):
    intent = _create(
        client,
        payment_method="pm_card_authenticationRequired",
        confirm=True,
        return_url="https://shop.example.com/done",
    )
    url = intent.next_action.redirect_to_url.url
    session, response = _answer_challenge(url, "fail")
    final = session.get(
        urljoin(url, response.headers["Location"]), allow_redirects=False, timeout=10
    )
    assert parse_qs(urlsplit(final.headers["Location"]).query)["redirect_status"] == ["failed"]
    intent = client.v1.payment_intents.retrieve(intent.id)
    assert intent.status == "requires_payment_method"
    assert intent.last_payment_error.code == "payment_intent_authentication_failure"


def test_the_3d_secure_return_page_answers_only_the_url_given_to_the_issuer(client, live_server):
    intent = _create(
        client,
        payment_method="pm_card_threeDSecure2Required",
        confirm=True,
        return_url="https://shop.example.com/done",
    )
    return_page = f"{live_server.url}/payments/authenticate/{intent.id}/return"
    for query in ("", "?token=forged", "?token=" + "x" * 40):
        response = requests.get(return_page + query, allow_redirects=False, timeout=10)
        assert response.status_code == 404
        assert intent.client_secret not in response.headers.get("Location", "")
        assert intent.client_secret not in response.text
    other = _create(client, payment_method="pm_card_threeDSecure2Required", confirm=True)
    _, answered = _answer_challenge(other.next_action.redirect_to_url.url, "fail")
    handed_out = answered.headers["Location"]
    token = parse_qs(urlsplit(handed_out).query)["token"][0]
    # another intent's token opens nothing
    response = requests.get(f"{return_page}?token={token}", allow_redirects=False, timeout=10)
    assert response.status_code == 404


def _sweep(minutes_ahead: int) -> None:
    from datetime import timedelta

    from django.utils import timezone

    from payments.tasks import sweep_unknown_transactions

    sweep_unknown_transactions((timezone.now() + timedelta(minutes=minutes_ahead)).isoformat())


def test_a_customer_who_completes_3d_secure_and_closes_the_tab_still_pays_once(client, live_server):
    intent = _create(
        client,
        payment_method="pm_card_threeDSecure2Required",
        confirm=True,
        return_url="https://shop.example.com/done",
    )
    # The tab is closed after the challenge: the return page is never opened.
    _, done = _answer_challenge(intent.next_action.redirect_to_url.url, "complete")
    assert done.status_code in (302, 303)
    assert client.v1.payment_intents.retrieve(intent.id).status == "requires_action"

    _sweep(minutes_ahead=1)  # the customer may still be on the challenge: left alone
    assert client.v1.payment_intents.retrieve(intent.id).status == "requires_action"
    _sweep(minutes_ahead=6)
    intent = client.v1.payment_intents.retrieve(intent.id)
    assert (intent.status, intent.amount_received) == ("succeeded", 150000)
    _sweep(minutes_ahead=7)  # asking again changes nothing
    succeeded = client.v1.events.list(params={"type": "payment_intent.succeeded"})
    assert [e.data.object.id for e in succeeded.data] == [intent.id]


def test_a_3d_secure_challenge_left_open_fails_when_the_issuer_gives_up_on_it(client, live_server):
    from django.utils import timezone

    from sandbox.models import Authorization
    from sandbox.services import CHALLENGE_TTL

    intent = _create(
        client,
        payment_method="pm_card_threeDSecure2Required",
        confirm=True,
        return_url="https://shop.example.com/done",
    )
    _sweep(minutes_ahead=6)  # still inside the issuer's window: still waiting
    assert client.v1.payment_intents.retrieve(intent.id).status == "requires_action"

    Authorization.objects.update(created_at=timezone.now() - CHALLENGE_TTL)  # time passes
    _sweep(minutes_ahead=6)
    intent = client.v1.payment_intents.retrieve(intent.id)
    assert intent.status == "requires_payment_method"
    assert intent.last_payment_error.code == "payment_intent_authentication_failure"


def urljoin(base: str, path: str) -> str:
    from urllib.parse import urljoin as join

    return join(base, path)


def _answer_challenge(url: str, word: str) -> tuple[requests.Session, requests.Response]:
    """On the issuer's 3-D Secure page, press the button that says `word`; the browser's
    session and the page's answer, a redirect not followed."""
    session = requests.Session()
    page = session.get(url, timeout=10)
    assert page.status_code == 200
    form = _form_with_button(page.text, word)
    response = session.post(
        urljoin(url, form["action"]),
        data=form["fields"],
        allow_redirects=False,
        timeout=10,
        headers={"Referer": url},
    )
    return session, response


def _form_with_button(html: str, word: str) -> dict:
    """The form whose submit button mentions `word`, with its hidden fields."""
    for form in re.finditer(r"<form\b(.*?)</form>", html, re.S | re.I):
        body = form.group(0)
        if word.lower() not in body.lower():
            continue
        action = re.search(r'action="([^"]*)"', body)
        fields = dict(re.findall(r'<input[^>]*name="([^"]+)"[^>]*value="([^"]*)"', body))
        button = re.search(r'<button[^>]*name="([^"]+)"[^>]*value="([^"]*)"', body)
        if button:
            fields[button.group(1)] = button.group(2)
        return {"action": action.group(1) if action else "", "fields": fields}
    raise AssertionError(f"no form with a {word!r} button in:\n{html[:2000]}")
