"""Bad input on POST /v1/payment_intents and /confirm: a Stripe-shaped error with the right
status, type, code and param, and nothing written (no intent, charge, payment method or
vaulted card) and nothing sent to the card network."""

import json
from urllib.parse import urlencode

import pytest
from rest_framework.test import APIClient

from core.money import max_amount
from payments.models import Charge, PaymentIntent, PaymentMethod, VaultCard
from sandbox.network import authorization_count

pytestmark = pytest.mark.django_db

FORM = "application/x-www-form-urlencoded"
NEXT_YEAR = 2099  # any valid future year within 50 years of now works
CARD = {
    "payment_method_data[type]": "card",
    "payment_method_data[card][number]": "4242424242424242",
    "payment_method_data[card][exp_month]": "12",
    "payment_method_data[card][exp_year]": "2034",
    "payment_method_data[card][cvc]": "123",
}


def _counts() -> tuple:
    return (
        PaymentIntent.objects.count(),
        Charge.objects.count(),
        PaymentMethod.objects.count(),
        VaultCard.objects.count(),
        authorization_count(),
    )


def _client(key: str | None) -> APIClient:
    client = APIClient()
    if key is not None:
        client.credentials(HTTP_AUTHORIZATION=key)
    return client


def _post(client: APIClient, path: str, body, content_type: str = FORM):
    if isinstance(body, dict):
        body = urlencode(body)
    return client.generic("POST", path, data=body, content_type=content_type)


def _assert_error(response, status: int, type_: str, code: str | None, param: str | None):
    assert response.status_code == status, response.content
    body = response.json()
    assert set(body) == {"error"}
    error = body["error"]
    assert error["type"] == type_
    assert error.get("code") == code
    assert error.get("param") == param
    assert isinstance(error["message"], str) and error["message"]
    return error


# (case, body, content type, status, type, code, param)
CREATE_CASES = [
    ("missing amount", {"currency": "idr"}, FORM, 400, "invalid_request_error",
     "parameter_missing", "amount"),
    ("negative amount", {"amount": "-100", "currency": "idr"}, FORM, 400,
     "invalid_request_error", "parameter_invalid_integer", "amount"),
    ("zero amount", {"amount": "0", "currency": "idr"}, FORM, 400, "invalid_request_error",
     "parameter_invalid_integer", "amount"),
    ("decimal amount", {"amount": "12.5", "currency": "idr"}, FORM, 400,
     "invalid_request_error", "parameter_invalid_integer", "amount"),
    ("word amount", {"amount": "abc", "currency": "idr"}, FORM, 400, "invalid_request_error",
     "parameter_invalid_integer", "amount"),
    ("unknown currency", {"amount": "1000", "currency": "xyz"}, FORM, 400,
     "invalid_request_error", "parameter_invalid_string", "currency"),
    ("rupiah amount above the maximum", {"amount": str(max_amount("idr") + 1),
     "currency": "idr"}, FORM, 400, "invalid_request_error", "amount_too_large", "amount"),
    ("dollar amount above the maximum", {"amount": str(max_amount("usd") + 1),
     "currency": "usd"}, FORM, 400, "invalid_request_error", "amount_too_large", "amount"),
    ("malformed brackets", "amount=1000&currency=idr&metadata[a=1", FORM, 400,
     "invalid_request_error", "parameter_invalid", "metadata[a"),
    ("text/plain body", "amount=1000&currency=idr", "text/plain", 400,
     "invalid_request_error", "parameter_invalid", None),
    ("invalid JSON", '{"amount": 1000, "currency": ', "application/json", 400,
     "invalid_request_error", "parameter_invalid", None),
    ("JSON that is not an object", "[1000]", "application/json", 400,
     "invalid_request_error", "parameter_invalid", None),
    ("unknown parameter", {"amount": "1000", "currency": "idr", "colour": "red"}, FORM, 400,
     "invalid_request_error", "parameter_unknown", "colour"),
    ("unknown nested parameter", {"amount": "1000", "currency": "idr", **CARD,
     "confirm": "true", "payment_method_data[card][pin]": "1234"}, FORM, 400,
     "invalid_request_error", "parameter_unknown", "payment_method_data[card][pin]"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("body", "content_type", "status", "type_", "code", "param"),
    [case[1:] for case in CREATE_CASES],
    ids=[case[0] for case in CREATE_CASES],
)
def test_bad_input_to_create_gets_a_stripe_error_and_writes_nothing(
    api_client, body, content_type, status, type_, code, param
):
    before = _counts()
    response = _post(api_client, "/v1/payment_intents", body, content_type)
    _assert_error(response, status, type_, code, param)
    assert _counts() == before


def test_a_json_body_with_a_bad_amount_is_refused_like_a_form_body(api_client):
    before = _counts()
    response = _post(
        api_client,
        "/v1/payment_intents",
        json.dumps({"amount": 12.5, "currency": "idr"}),
        "application/json",
    )
    _assert_error(response, 400, "invalid_request_error", "parameter_invalid_integer", "amount")
    assert _counts() == before


AUTH_CASES = [
    ("no key", None, 401, "invalid_request_error", None),
    ("a bearer that is not a key", "Bearer hello", 401, "invalid_request_error",
     "invalid_api_key"),
    ("an unknown secret key", "Bearer sk_test_" + "Zz9" * 10, 401, "invalid_request_error",
     "invalid_api_key"),
    ("a scheme that is not bearer", "Token sk_test_abcdefgh1234", 401,
     "invalid_request_error", "invalid_api_key"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("header", "status", "type_", "code"),
    [case[1:] for case in AUTH_CASES],
    ids=[case[0] for case in AUTH_CASES],
)
def test_requests_without_a_valid_key_are_refused_and_write_nothing(header, status, type_, code):
    before = _counts()
    response = _post(_client(header), "/v1/payment_intents", {"amount": 1000, "currency": "idr"})
    _assert_error(response, status, type_, code, None)
    assert _counts() == before


def test_a_publishable_key_cannot_create_a_payment_intent(merchant, api_key_for):
    publishable = _client(f"Bearer {api_key_for(merchant, kind='publishable')}")
    before = _counts()
    response = _post(publishable, "/v1/payment_intents", {"amount": 1000, "currency": "idr"})
    _assert_error(response, 403, "invalid_request_error", "secret_key_required", None)
    assert _counts() == before


def test_a_publishable_key_cannot_confirm_without_the_client_secret(
    api_client, merchant, api_key_for
):
    intent = api_client.post("/v1/payment_intents", {"amount": 1000, "currency": "idr"}).json()
    publishable = _client(f"Bearer {api_key_for(merchant, kind='publishable')}")
    before = _counts()
    response = _post(
        publishable,
        f"/v1/payment_intents/{intent['id']}/confirm",
        {"payment_method": "pm_card_visa"},
    )
    _assert_error(response, 403, "invalid_request_error", "secret_key_required", None)
    assert _counts() == before
    assert api_client.get(f"/v1/payment_intents/{intent['id']}").json()["status"] == (
        "requires_payment_method"
    )


# (case, card fields overriding CARD, code, param)
CARD_CASES = [
    ("a Luhn-invalid number", {"number": "4242424242424241"}, "incorrect_number", "number"),
    ("a number too short", {"number": "4242"}, "incorrect_number", "number"),
    ("a number with letters", {"number": "4242abcd42424242"}, "incorrect_number", "number"),
    ("month 13", {"exp_month": "13"}, "invalid_expiry_month", "exp_month"),
    ("month 0", {"exp_month": "0"}, "invalid_expiry_month", "exp_month"),
    ("a year in the past", {"exp_year": "2020"}, "invalid_expiry_year", "exp_year"),
    ("a year that is not a number", {"exp_year": "next"}, "invalid_expiry_year", "exp_year"),
    ("a two-digit cvc", {"cvc": "12"}, "invalid_cvc", "cvc"),
    ("a three-digit cvc on amex", {"number": "378282246310005", "cvc": "123"}, "invalid_cvc",
     "cvc"),
    ("a cvc with letters", {"cvc": "1a3"}, "invalid_cvc", "cvc"),
]  # fmt: skip


def _card(overrides: dict) -> dict:
    return {**CARD, **{f"payment_method_data[card][{k}]": v for k, v in overrides.items()}}


@pytest.mark.parametrize(
    ("overrides", "code", "param"),
    [case[1:] for case in CARD_CASES],
    ids=[case[0] for case in CARD_CASES],
)
def test_a_bad_card_on_create_and_confirm_is_a_card_error_and_writes_nothing(
    api_client, overrides, code, param
):
    before = _counts()
    response = _post(
        api_client,
        "/v1/payment_intents",
        {"amount": "150000", "currency": "idr", "confirm": "true", **_card(overrides)},
    )
    _assert_error(response, 402, "card_error", code, f"payment_method_data[card][{param}]")
    assert _counts() == before


@pytest.mark.parametrize(
    ("overrides", "code", "param"),
    [case[1:] for case in CARD_CASES],
    ids=[case[0] for case in CARD_CASES],
)
def test_a_bad_card_on_confirm_is_a_card_error_and_leaves_the_intent_as_it_was(
    api_client, overrides, code, param
):
    intent = api_client.post("/v1/payment_intents", {"amount": 150000, "currency": "idr"}).json()
    before = _counts()
    response = _post(api_client, f"/v1/payment_intents/{intent['id']}/confirm", _card(overrides))
    _assert_error(response, 402, "card_error", code, f"payment_method_data[card][{param}]")
    assert _counts() == before
    after = api_client.get(f"/v1/payment_intents/{intent['id']}").json()
    assert after["status"] == "requires_payment_method"
    assert after["latest_charge"] is None
    assert after["payment_method"] is None


CONFIRM_CASES = [
    ("an unknown payment method", {"payment_method": "pm_doesnotexist"}, 404,
     "invalid_request_error", "resource_missing", "payment_method"),
    ("an unknown parameter", {"payment_method": "pm_card_visa", "amount": "5"}, 400,
     "invalid_request_error", "parameter_unknown", "amount"),
    ("payment_method_data of another type", {"payment_method_data[type]": "sepa"}, 400,
     "invalid_request_error", None, "payment_method_data[type]"),
    ("payment_method_data without a card", {"payment_method_data[type]": "card"}, 400,
     "invalid_request_error", "parameter_missing", "payment_method_data[card]"),
    ("a card without a number", {"payment_method_data[type]": "card",
     "payment_method_data[card][exp_month]": "12",
     "payment_method_data[card][exp_year]": "2034"}, 400, "invalid_request_error",
     "parameter_missing", "payment_method_data[card][number]"),
    ("a bad return_url", {"payment_method": "pm_card_visa", "return_url": "not a url"}, 400,
     "invalid_request_error", None, "return_url"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("body", "status", "type_", "code", "param"),
    [case[1:] for case in CONFIRM_CASES],
    ids=[case[0] for case in CONFIRM_CASES],
)
def test_bad_input_to_confirm_gets_a_stripe_error_and_changes_nothing(
    api_client, body, status, type_, code, param
):
    intent = api_client.post("/v1/payment_intents", {"amount": 150000, "currency": "idr"}).json()
    before = _counts()
    response = _post(api_client, f"/v1/payment_intents/{intent['id']}/confirm", body)
    _assert_error(response, status, type_, code, param)
    assert _counts() == before
    assert api_client.get(f"/v1/payment_intents/{intent['id']}").json()["status"] == (
        "requires_payment_method"
    )


def test_confirming_an_intent_with_no_payment_method_is_refused(api_client):
    intent = api_client.post("/v1/payment_intents", {"amount": 150000, "currency": "idr"}).json()
    before = _counts()
    response = _post(api_client, f"/v1/payment_intents/{intent['id']}/confirm", {})
    _assert_error(
        response,
        400,
        "invalid_request_error",
        "payment_intent_unexpected_state",
        "payment_method",
    )
    assert _counts() == before


def test_confirming_an_unknown_intent_is_404(api_client):
    before = _counts()
    response = _post(
        api_client,
        "/v1/payment_intents/pi_doesnotexist/confirm",
        {"payment_method": "pm_card_visa"},
    )
    _assert_error(response, 404, "invalid_request_error", "resource_missing", "intent")
    assert _counts() == before
