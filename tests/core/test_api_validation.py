"""StripeSerializer and its fields turn bad parameters into Stripe's 400s naming the param."""

import pytest
from rest_framework import serializers

from core.api.serializers import (
    ExpandField,
    IntegerField,
    MetadataField,
    StripeSerializer,
    metadata_merge,
    parse_expand,
    validate,
)
from core.errors import InvalidRequestError


class Card(StripeSerializer):
    number = serializers.CharField()
    exp_month = IntegerField(min_value=1, max_value=12)


class PaymentMethodData(StripeSerializer):
    type = serializers.CharField()
    card = Card(required=False)


class Intent(StripeSerializer):
    amount = IntegerField(min_value=1)
    metadata = MetadataField(required=False)
    payment_method_data = PaymentMethodData(required=False)
    expand = ExpandField(allowed=["latest_charge"])


def error_of(params: dict) -> dict:
    with pytest.raises(InvalidRequestError) as caught:
        validate(Intent, params)
    return caught.value.as_dict()["error"]


def test_valid_form_strings_become_typed_values():
    data = validate(Intent, {"amount": "15000", "expand": ["latest_charge"]})
    assert data["amount"] == 15000
    assert data["expand"] == {"latest_charge"}


def test_a_missing_required_param_is_named():
    assert error_of({}) == {
        "type": "invalid_request_error",
        "code": "parameter_missing",
        "param": "amount",
        "message": "Missing required param: amount.",
    }


@pytest.mark.parametrize("value", ["abc", "4.2", "1e3", 4.2, True])
def test_a_non_integer_is_an_invalid_integer(value):
    error = error_of({"amount": value})
    assert error["code"] == "parameter_invalid_integer"
    assert error["param"] == "amount"
    assert error["message"] == f"Invalid integer: {value}"


def test_an_unknown_parameter_is_refused():
    error = error_of({"amount": "1", "foo": "x"})
    assert (error["code"], error["param"]) == ("parameter_unknown", "foo")
    assert error["message"] == "Received unknown parameter: foo"


def test_an_unknown_nested_parameter_is_named_in_brackets():
    error = error_of(
        {"amount": "1", "payment_method_data": {"type": "card", "card": {"number": "4", "cvv": 1}}}
    )
    assert error["param"] == "payment_method_data[card][cvv]"
    assert error["message"] == "Received unknown parameter: payment_method_data[card][cvv]"


def test_a_missing_nested_parameter_is_named_in_brackets():
    error = error_of({"amount": "1", "payment_method_data": {"type": "card", "card": {}}})
    assert error["param"] == "payment_method_data[card][number]"
    assert error["code"] == "parameter_missing"


def test_an_out_of_range_nested_integer_names_its_param():
    error = error_of(
        {
            "amount": "1",
            "payment_method_data": {"type": "card", "card": {"number": "4", "exp_month": "13"}},
        }
    )
    assert error["param"] == "payment_method_data[card][exp_month]"


def test_a_field_that_cannot_be_expanded_is_refused():
    error = error_of({"amount": "1", "expand": ["customer"]})
    assert error["param"] == "expand[0]"
    assert "cannot be expanded (customer)" in error["message"]


def test_parse_expand_reads_expand_from_any_params():
    assert parse_expand({"expand": ["latest_charge"]}, allowed=["latest_charge"]) == {
        "latest_charge"
    }
    assert parse_expand({}, allowed=[]) == frozenset()


def test_metadata_keys_longer_than_40_characters_are_refused():
    error = error_of({"amount": "1", "metadata": {"k" * 41: "v"}})
    assert error["param"] == f"metadata[{'k' * 41}]"


def test_more_than_50_metadata_keys_are_refused():
    error = error_of({"amount": "1", "metadata": {f"k{i}": "v" for i in range(51)}})
    assert error["param"] == "metadata"


def test_metadata_merge_keeps_unset_and_clears_like_stripe():
    assert metadata_merge({"a": "1", "b": "2"}, {"a": "", "c": "3"}) == {"b": "2", "c": "3"}
    assert metadata_merge({"a": "1"}, None) == {}


def test_one_validation_leaves_nothing_behind_for_the_next():
    # The serializer of a class is used again on the same thread (core.api.serializers):
    # neither the values nor the errors of one request may reach the next.
    full = {
        "amount": "500",
        "metadata": {"order": "A-1"},
        "payment_method_data": {"type": "card", "card": {"number": "4242", "exp_month": "3"}},
    }
    assert validate(Intent, full)["payment_method_data"]["card"]["exp_month"] == 3
    assert error_of({"amount": "0"})["param"] == "amount"
    assert validate(Intent, {"amount": "7"}) == {"amount": 7}
    nested_error = error_of({"amount": "7", "payment_method_data": {"type": "card", "card": {}}})
    assert nested_error["param"] == "payment_method_data[card][number]"
    first = validate(Intent, {"amount": "8", "metadata": {"a": "1"}})
    second = validate(Intent, {"amount": "9"})
    assert first == {"amount": 8, "metadata": {"a": "1"}} and second == {"amount": 9}
