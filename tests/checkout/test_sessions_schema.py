"""The documented checkout.session has exactly the keys the API returns."""

import pytest
from django.test import Client

from tests.test_openapi import _assert_documents, _resolve, _response_schema

FORM = "application/x-www-form-urlencoded"


@pytest.mark.django_db
def test_the_documented_session_and_line_items_match_the_api(api_client):
    schema = Client().get("/openapi.json").json()
    created = api_client.post(
        "/v1/checkout/sessions",
        "success_url=https%3A%2F%2Fs.example&line_items[0][price_data][currency]=idr"
        "&line_items[0][price_data][unit_amount]=10000"
        "&line_items[0][price_data][product_data][name]=Teh&line_items[0][quantity]=3"
        "&expand[]=line_items",
        content_type=FORM,
    )
    assert created.status_code == 200, created.json()
    body = created.json()
    assert body["amount_total"] == 30000
    session_schema = _response_schema(schema, "/v1/checkout/sessions", "post")
    _assert_documents(schema, session_schema, body, "checkout.session")
    items_schema = _resolve(schema, session_schema["properties"]["line_items"])
    _assert_documents(schema, items_schema, body["line_items"], "line_items")
    item_schema = _resolve(schema, items_schema["properties"]["data"]["items"])
    _assert_documents(schema, item_schema, body["line_items"]["data"][0], "item")

    listed = api_client.get(f"/v1/checkout/sessions/{body['id']}/line_items").json()
    _assert_documents(
        schema,
        _response_schema(schema, "/v1/checkout/sessions/{session_id}/line_items", "get"),
        listed,
        "line_items list",
    )
