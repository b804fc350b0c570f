"""Request parameters under /v1: bracket notation, JSON, empty bodies and their errors."""

import json

import pytest

from core.api.params import param_name, parse_query
from core.errors import InvalidRequestError

FORM = "application/x-www-form-urlencoded"


def test_brackets_nest_into_dicts_and_lists_like_a_json_body():
    parsed = parse_query(
        "metadata[order]=42&payment_method_types[0]=card&payment_method_types[1]=gopay"
        "&expand[]=latest_charge&expand[]=customer&payment_method_data[card][number]=4242"
        "&created[gte]=1700000000&amount=100"
    )
    assert parsed == {
        "metadata": {"order": "42"},
        "payment_method_types": ["card", "gopay"],
        "expand": ["latest_charge", "customer"],
        "payment_method_data": {"card": {"number": "4242"}},
        "created": {"gte": "1700000000"},
        "amount": "100",
    }


def test_list_indexes_keep_their_order_even_when_sent_out_of_order():
    assert parse_query("a[1]=second&a[0]=first") == {"a": ["first", "second"]}


def test_percent_encoded_brackets_parse_like_literal_ones():
    assert parse_query("metadata%5Border%5D=42") == {"metadata": {"order": "42"}}


def test_param_names_are_written_back_in_bracket_notation():
    assert param_name(["payment_method_data", "card", "number"]) == (
        "payment_method_data[card][number]"
    )
    assert param_name(["items", 0, "price"]) == "items[0][price]"


@pytest.mark.parametrize("query, param", [("metadata[a=1", "metadata[a"), ("a]]=1", "a]]")])
def test_malformed_brackets_are_refused_naming_the_param(query, param):
    with pytest.raises(InvalidRequestError) as caught:
        parse_query(query)
    assert caught.value.param == param


def test_a_value_and_a_nested_object_under_one_name_are_refused():
    with pytest.raises(InvalidRequestError) as caught:
        parse_query("metadata=x&metadata[a]=1")
    assert caught.value.param == "metadata"


def test_a_form_body_with_brackets_reaches_the_view_nested(api_client):
    response = api_client.post(
        "/v1/customers", "email=a%40example.com&metadata[order]=42", content_type=FORM
    )
    assert response.status_code == 200
    assert response.json()["metadata"] == {"order": "42"}
    assert response.json()["email"] == "a@example.com"


def test_a_json_body_is_accepted(api_client):
    response = api_client.post(
        "/v1/customers",
        json.dumps({"name": "Ani", "metadata": {"order": 42}}),
        content_type="application/json",
    )
    assert response.status_code == 200
    assert response.json()["name"] == "Ani"
    assert response.json()["metadata"] == {"order": "42"}


def test_an_empty_body_is_an_empty_set_of_parameters(api_client):
    response = api_client.post("/v1/customers", "", content_type=FORM)
    assert response.status_code == 200
    assert response.json()["object"] == "customer"


def test_malformed_brackets_in_a_body_are_a_400_naming_the_param(api_client):
    response = api_client.post("/v1/customers", "metadata[a=1", content_type=FORM)
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["type"] == "invalid_request_error"
    assert error["param"] == "metadata[a"


def test_malformed_brackets_in_a_query_string_are_a_400(api_client):
    response = api_client.get("/v1/customers?a]]=1")
    assert response.status_code == 400
    assert response.json()["error"]["param"] == "a]]"


def test_invalid_json_is_a_400_saying_so(api_client):
    response = api_client.post("/v1/customers", "{not json", content_type="application/json")
    assert response.status_code == 400
    assert response.json()["error"]["message"].startswith("Invalid JSON")


def test_a_json_body_that_is_not_an_object_is_a_400(api_client):
    response = api_client.post("/v1/customers", "[1, 2]", content_type="application/json")
    assert response.status_code == 400
    assert response.json()["error"]["message"].startswith("Invalid JSON")


@pytest.mark.parametrize("content_type", ["text/plain", "multipart/form-data; boundary=x"])
def test_other_content_types_are_a_400_naming_the_accepted_ones(api_client, content_type):
    response = api_client.post("/v1/customers", "name=x", content_type=content_type)
    assert response.status_code == 400
    message = response.json()["error"]["message"]
    assert "application/x-www-form-urlencoded" in message
    assert content_type.split(";")[0] in message


def test_a_body_over_one_megabyte_is_refused_with_a_clear_error(api_client):
    body = "description=" + "x" * (1024 * 1024 + 1)
    response = api_client.post("/v1/customers", body, content_type=FORM)
    assert response.status_code == 413
    assert "larger than the limit" in response.json()["error"]["message"]
