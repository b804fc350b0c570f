import datetime as dt

import pytest

from sandbox.network import account_state, authorization_count
from sandbox.services import fraud_score, risk_level
from tests.sandbox.conftest import auth_request, new_reference

pytestmark = pytest.mark.django_db(transaction=True)

SUCCESS_CARDS = {
    "4242424242424242": ("visa", "credit"),
    "4000056655665556": ("visa", "debit"),
    "5555555555554444": ("mastercard", "credit"),
    "2223003122003222": ("mastercard", "credit"),
    "5200828282828210": ("mastercard", "debit"),
    "378282246310005": ("amex", "credit"),
    "6011111111111117": ("discover", "credit"),
    "3056930009020004": ("diners", "credit"),
    "3566002020360505": ("jcb", "credit"),
    "6200000000000005": ("unionpay", "credit"),
}


@pytest.mark.parametrize(("number", "facts"), SUCCESS_CARDS.items())
def test_each_brand_test_card_is_approved_with_a_hold(network, number, facts):
    answer = network.authorize(auth_request(number, amount=2500))
    assert answer["http_status"] == 200
    assert answer["status"] == "authorized"
    assert answer["approved"] is True
    assert len(answer["authorization_code"]) == 6
    assert answer["processor_reference"].startswith("sbx_auth_")
    assert (answer["card"]["brand"], answer["card"]["funding"]) == facts
    assert answer["card"]["country"] == "US"
    assert answer["card"]["last4"] == number[-4:]
    assert answer["outcome"]["network_status"] == "approved_by_network"
    assert answer["outcome"]["risk_level"] == "normal"
    assert account_state(number)["held"] == 2500


@pytest.mark.parametrize(
    ("number", "code", "decline_code"),
    [
        ("4000000000000002", "card_declined", "generic_decline"),
        ("4000000000009995", "card_declined", "insufficient_funds"),
        ("4000000000009987", "card_declined", "lost_card"),
        ("4000000000009979", "card_declined", "stolen_card"),
        ("4000000000000069", "expired_card", "expired_card"),
        ("4000000000000127", "incorrect_cvc", "incorrect_cvc"),
        ("4000000000000119", "processing_error", "processing_error"),
        ("4100000000000019", "card_declined", "fraudulent"),
    ],
)
def test_each_decline_card_answers_with_its_stripe_code(network, number, code, decline_code):
    answer = network.authorize(auth_request(number))
    assert answer["status"] == "declined"
    assert answer["approved"] is False
    assert (answer["code"], answer["decline_code"]) == (code, decline_code)
    assert answer["authorization_code"] is None
    assert answer["message"]
    assert account_state(number)["held"] == 0


def test_the_fraudulent_card_is_blocked_at_the_highest_risk_level(network):
    answer = network.authorize(auth_request("4100000000000019"))
    assert answer["outcome"]["risk_level"] == "highest"
    assert answer["outcome"]["type"] == "blocked"
    assert answer["outcome"]["network_status"] == "not_sent_to_network"


def test_an_expiry_date_in_the_past_is_declined_as_expired_on_any_card(network):
    last_year = dt.date.today().year - 1
    card = {"number": "4242424242424242", "exp_month": 1, "exp_year": last_year, "cvc": "1"}
    answer = network.authorize(auth_request("4242424242424242", card=card))
    assert (answer["code"], answer["decline_code"]) == ("expired_card", "expired_card")


def test_any_other_luhn_valid_number_is_approved_by_a_generic_issuer(network):
    answer = network.authorize(auth_request("4111111111111111"))
    assert answer["status"] == "authorized"
    assert answer["card"] == {
        "brand": "visa",
        "funding": "credit",
        "country": "US",
        "last4": "1111",
    }


def test_the_indonesian_test_cards_come_from_indonesia(network):
    answer = network.authorize(auth_request("5243250000000007"))
    assert answer["card"]["country"] == "ID"
    assert answer["card"]["funding"] == "debit"


def test_holds_beyond_the_credit_limit_are_declined_for_insufficient_funds(network):
    number = "5555555555554444"
    limit = account_state(number)["credit_limit"]
    first = network.authorize(auth_request(number, amount=limit - 100))
    assert first["status"] == "authorized"
    second = network.authorize(auth_request(number, amount=101))
    assert (second["code"], second["decline_code"]) == ("card_declined", "insufficient_funds")
    third = network.authorize(auth_request(number, amount=100))
    assert third["status"] == "authorized"
    assert account_state(number)["available"] == 0


def test_a_repeated_reference_gets_the_same_answer_without_a_second_hold(network):
    request = auth_request("4242424242424242", amount=700)
    first = network.authorize(request)
    again = network.authorize(request)
    assert again == first
    assert authorization_count(reference=request["reference"]) == 1
    assert account_state("4242424242424242")["held"] == 700


def test_a_partial_capture_releases_the_rest_of_the_hold(network):
    number = "4242424242424242"
    auth = network.authorize(auth_request(number, amount=1000))
    capture = network.capture(
        {
            "reference": new_reference("cap"),
            "authorization_reference": auth["reference"],
            "amount": 600,
            "currency": "usd",
        }
    )
    assert capture["status"] == "succeeded"
    assert capture["amount"] == 600
    assert capture["processor_reference"].startswith("sbx_cap_")
    state = account_state(number)
    assert (state["held"], state["spent"]) == (0, 600)
    assert state["available"] == state["credit_limit"] - 600


def test_a_second_capture_is_refused_and_a_repeated_capture_reference_does_not_act_twice(
    network,
):
    number = "4242424242424242"
    auth = network.authorize(auth_request(number, amount=1000))
    request = {
        "reference": new_reference("cap"),
        "authorization_reference": auth["reference"],
        "amount": 1000,
        "currency": "usd",
    }
    first = network.capture(request)
    assert network.capture(request) == first
    other = network.capture({**request, "reference": new_reference("cap")})
    assert (other["status"], other["code"]) == ("failed", "charge_already_captured")
    assert account_state(number)["spent"] == 1000


def test_capturing_more_than_authorized_is_refused(network):
    auth = network.authorize(auth_request("4242424242424242", amount=1000))
    answer = network.capture(
        {
            "reference": new_reference("cap"),
            "authorization_reference": auth["reference"],
            "amount": 1001,
            "currency": "usd",
        }
    )
    assert (answer["status"], answer["code"]) == ("failed", "amount_too_large")
    assert account_state("4242424242424242")["held"] == 1000


def test_a_void_releases_the_hold_and_the_authorization_can_no_longer_be_captured(network):
    number = "4000056655665556"
    auth = network.authorize(auth_request(number, amount=1000))
    void = network.void(
        {"reference": new_reference("void"), "authorization_reference": auth["reference"]}
    )
    assert void["status"] == "succeeded"
    assert account_state(number)["held"] == 0
    capture = network.capture(
        {
            "reference": new_reference("cap"),
            "authorization_reference": auth["reference"],
            "amount": 1000,
            "currency": "usd",
        }
    )
    assert (capture["status"], capture["code"]) == ("failed", "authorization_voided")


def test_refunds_restore_available_credit_up_to_what_was_captured(network):
    number = "378282246310005"
    limit = account_state(number)["credit_limit"]
    auth = network.authorize(auth_request(number, amount=5000, capture=True))
    assert auth["status"] == "captured"
    assert account_state(number)["available"] == limit - 5000
    first = network.refund(
        {
            "reference": new_reference("re"),
            "capture_reference": auth["reference"],
            "amount": 2000,
            "currency": "usd",
        }
    )
    assert first["status"] == "succeeded"
    assert first["processor_reference"].startswith("sbx_ref_")
    too_much = network.refund(
        {
            "reference": new_reference("re"),
            "capture_reference": auth["reference"],
            "amount": 3001,
            "currency": "usd",
        }
    )
    assert (too_much["status"], too_much["code"]) == ("failed", "amount_too_large")
    assert account_state(number)["available"] == limit - 3000


def test_a_refund_of_a_separate_capture_names_the_capture(network):
    number = "6011111111111117"
    auth = network.authorize(auth_request(number, amount=5000))
    capture_reference = new_reference("cap")
    network.capture(
        {
            "reference": capture_reference,
            "authorization_reference": auth["reference"],
            "amount": 4000,
            "currency": "usd",
        }
    )
    refund = network.refund(
        {
            "reference": new_reference("re"),
            "capture_reference": capture_reference,
            "amount": 4000,
            "currency": "usd",
        }
    )
    assert refund["status"] == "succeeded"
    assert refund["authorization_reference"] == auth["reference"]
    state = account_state(number)
    assert (state["held"], state["spent"]) == (0, 0)
    assert state["available"] == state["credit_limit"]


def test_an_operation_on_an_unknown_authorization_is_refused(network):
    answer = network.void(
        {"reference": new_reference("void"), "authorization_reference": "txn_never_sent"}
    )
    assert (answer["status"], answer["code"]) == ("failed", "resource_missing")


def test_the_fraud_score_grows_with_velocity_amount_and_a_foreign_card():
    base = dict(
        recent_authorizations=0,
        amount=1000,
        currency="usd",
        card_country="US",
        merchant_country="US",
    )
    assert fraud_score(**base) == 5
    assert fraud_score(**{**base, "merchant_country": "ID"}) == 25
    assert fraud_score(**{**base, "amount": 300_000}) == 25  # USD 3,000
    assert fraud_score(**{**base, "amount": 150_000_000, "currency": "idr"}) == 5  # Rp1.5m
    assert fraud_score(**{**base, "recent_authorizations": 5}) == 50
    assert (
        fraud_score(
            **{**base, "recent_authorizations": 50, "amount": 10**9, "merchant_country": "ID"}
        )
        == 99
    )
    assert [risk_level(s) for s in (64, 65, 74, 75)] == [
        "normal",
        "elevated",
        "elevated",
        "highest",
    ]


def test_rapid_authorizations_on_one_card_become_elevated_then_blocked(network):
    number = "4111111111111111"  # any card but the documented test cards
    merchant = {"id": "acct_id", "name": "Warung", "country": "ID"}  # foreign card: +20
    levels = []
    for _ in range(8):
        answer = network.authorize(auth_request(number, merchant=merchant))
        levels.append(
            (
                answer["outcome"]["risk_score"],
                answer["outcome"]["risk_level"],
                answer["decline_code"],
            )
        )
    assert levels[0] == (25, "normal", None)
    assert levels[5] == (70, "elevated", None)  # 5 before it in 10 minutes
    assert levels[6] == (85, "highest", "fraudulent")
    assert levels[7][2] == "fraudulent"


def test_a_documented_test_card_approves_however_often_it_is_used(network):
    merchant = {"id": "acct_id", "name": "Warung", "country": "ID"}  # foreign card: +20
    answers = [
        network.authorize(auth_request("4000056655665556", merchant=merchant)) for _ in range(10)
    ]
    assert {(a["status"], a["outcome"]["risk_score"]) for a in answers} == {("authorized", 25)}


def test_the_elevated_risk_test_card_is_approved_with_elevated_risk(network):
    answer = network.authorize(auth_request("4000000000009235"))
    assert answer["status"] == "authorized"
    assert answer["outcome"]["risk_level"] == "elevated"


def test_an_authorization_can_be_named_by_the_networks_processor_reference(network):
    number = "4242424242424242"
    auth = network.authorize(auth_request(number, amount=1000))
    capture = network.capture(
        {
            "reference": new_reference("cap"),
            "authorization_reference": auth["processor_reference"],
            "amount": 400,
            "currency": "usd",
        }
    )
    assert capture["status"] == "succeeded"
    assert capture["authorization_reference"] == auth["reference"]
    refund = network.refund(
        {
            "reference": new_reference("re"),
            "capture_reference": capture["processor_reference"],
            "amount": 400,
            "currency": "usd",
        }
    )
    assert refund["status"] == "succeeded"
    assert account_state(number)["spent"] == 0
