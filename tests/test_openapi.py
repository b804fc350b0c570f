"""The OpenAPI schema (/openapi.json, /openapi.yaml) matches the /v1 routes and the objects
the API really returns; the reference page (/docs/api) loads nothing from other hosts."""

import re

import pytest
import yaml
from django.contrib.staticfiles import finders
from django.core.management import call_command
from django.test import Client
from django.urls import URLPattern, URLResolver

from payments.api.urls import urlpatterns as v1_patterns

FORM = "application/x-www-form-urlencoded"
METHODS = ("get", "post", "delete")


@pytest.fixture(scope="module")
def schema(django_db_blocker):
    with django_db_blocker.unblock():
        response = Client().get("/openapi.json")
    assert response.status_code == 200
    return response.json()


def _component(schema: dict, name: str) -> dict:
    return schema["components"]["schemas"][name]


def _resolve(schema: dict, node: dict) -> dict:
    """Follow $ref and the allOf-of-one that drf-spectacular uses for nullable objects."""
    while True:
        if "$ref" in node:
            node = _component(schema, node["$ref"].rsplit("/", 1)[1])
        elif "allOf" in node and len(node["allOf"]) == 1:
            node = node["allOf"][0]
        else:
            return node


def _response_schema(schema: dict, path: str, method: str, status: str = "200") -> dict:
    content = schema["paths"][path][method]["responses"][status]["content"]
    return _resolve(schema, content["application/json"]["schema"])


def _assert_documents(schema: dict, documented: dict, actual: dict, where: str) -> None:
    """Every key of `actual` is documented, and every required key is present."""
    documented = _resolve(schema, documented)
    keys = set(documented["properties"])
    assert set(actual) - keys == set(), f"{where}: keys missing from the schema"
    assert set(documented.get("required", ())) - set(actual) == set(), (
        f"{where}: the schema requires keys the API did not return"
    )


def test_the_schema_generates_without_warnings_and_validates(tmp_path):
    out = tmp_path / "schema.yaml"
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(out))
    assert yaml.safe_load(out.read_text())["openapi"].startswith("3.")


def _routes(patterns, prefix: str = "/v1/"):
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            yield from _routes(pattern.url_patterns, prefix + str(pattern.pattern))
        elif isinstance(pattern, URLPattern) and pattern.name != "unrecognized":
            yield prefix + str(pattern.pattern), pattern.callback


def test_every_v1_route_and_method_is_in_the_served_schema(schema):
    routes = list(_routes(v1_patterns))
    assert len(routes) >= 15
    for route, callback in routes:
        path = re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", route)
        assert path in schema["paths"], path
        view = callback.view_class
        methods = {m for m in METHODS if hasattr(view, m)}
        assert set(schema["paths"][path]) == methods, path
        for method in methods:
            operation = schema["paths"][path][method]
            assert re.fullmatch(r"(Get|Post|Delete)[A-Za-z]+", operation["operationId"])
            assert operation.get("summary"), f"{method} {path} has no summary"
            assert "200" in operation["responses"] and "401" in operation["responses"]
            assert {"bearerAuth": []} in operation["security"]
            if method == "post":
                headers = {p["name"] for p in operation["parameters"] if p["in"] == "header"}
                assert "Idempotency-Key" in headers, path
                assert set(operation["requestBody"]["content"]) == {
                    "application/x-www-form-urlencoded",
                    "application/json",
                }


def test_the_yaml_schema_is_the_same_document(schema, db):
    response = Client().get("/openapi.yaml")
    assert response.status_code == 200
    assert yaml.safe_load(response.content)["paths"].keys() == schema["paths"].keys()


def test_list_endpoints_document_stripes_query_parameters(schema):
    parameters = {p["name"]: p for p in schema["paths"]["/v1/payment_intents"]["get"]["parameters"]}
    assert {"limit", "starting_after", "ending_before", "created", "customer", "expand[]"} <= set(
        parameters
    )
    assert parameters["created"]["style"] == "deepObject"
    assert set(parameters["created"]["schema"]["properties"]) == {"gt", "gte", "lt", "lte"}
    assert set(parameters["expand[]"]["schema"]["items"]["enum"]) == {
        "data.customer",
        "data.latest_charge",
        "data.payment_method",
    }


def test_card_declines_and_publishable_keys_have_their_documented_errors(schema):
    create = schema["paths"]["/v1/payment_intents"]["post"]["responses"]
    confirm = schema["paths"]["/v1/payment_intents/{intent_id}/confirm"]["post"]["responses"]
    assert {"400", "401", "402", "403", "404", "409"} <= set(create) & set(confirm)
    charges = schema["paths"]["/v1/charges"]["get"]["responses"]
    assert "403" in charges and "402" not in charges


@pytest.mark.django_db
def test_the_documented_objects_have_exactly_the_keys_the_api_returns(schema, api_client):
    customer = api_client.post("/v1/customers", "email=a%40example.com", content_type=FORM)
    assert customer.status_code == 200
    _assert_documents(
        schema, _response_schema(schema, "/v1/customers", "post"), customer.json(), "customer"
    )

    created = api_client.post(
        "/v1/payment_intents",
        f"amount=150000&currency=idr&payment_method=pm_card_visa&confirm=true"
        f"&customer={customer.json()['id']}&metadata[order]=42",
        content_type=FORM,
    )
    assert created.status_code == 200, created.json()
    intent = api_client.get(f"/v1/payment_intents/{created.json()['id']}").json()
    assert intent["status"] == "succeeded"
    pi_schema = _response_schema(schema, "/v1/payment_intents/{intent_id}", "get")
    _assert_documents(schema, pi_schema, intent, "payment_intent")

    charge = api_client.get(f"/v1/charges/{intent['latest_charge']}").json()
    ch_schema = _response_schema(schema, "/v1/charges/{charge_id}", "get")
    _assert_documents(schema, ch_schema, charge, "charge")
    props = ch_schema["properties"]
    _assert_documents(schema, props["outcome"], charge["outcome"], "charge.outcome")
    details = _resolve(schema, props["payment_method_details"])
    _assert_documents(schema, details, charge["payment_method_details"], "charge.pm_details")
    _assert_documents(
        schema,
        details["properties"]["card"],
        charge["payment_method_details"]["card"],
        "charge.payment_method_details.card",
    )
    _assert_documents(
        schema, props["billing_details"], charge["billing_details"], "charge.billing_details"
    )

    pm = api_client.get(f"/v1/payment_methods/{intent['payment_method']}").json()
    pm_schema = _response_schema(schema, "/v1/payment_methods/{pm_id}", "get")
    _assert_documents(schema, pm_schema, pm, "payment_method")
    _assert_documents(schema, pm_schema["properties"]["card"], pm["card"], "payment_method.card")
    card = _resolve(schema, pm_schema["properties"]["card"])
    _assert_documents(schema, card["properties"]["checks"], pm["card"]["checks"], "card.checks")
    _assert_documents(
        schema, card["properties"]["networks"], pm["card"]["networks"], "card.networks"
    )

    refund = api_client.post(
        "/v1/refunds", f"payment_intent={intent['id']}&amount=50000", content_type=FORM
    )
    assert refund.status_code == 200, refund.json()
    _assert_documents(
        schema, _response_schema(schema, "/v1/refunds", "post"), refund.json(), "refund"
    )

    listed = api_client.get("/v1/payment_intents?expand[]=data.latest_charge").json()
    list_schema = _response_schema(schema, "/v1/payment_intents", "get")
    _assert_documents(schema, list_schema, listed, "payment_intent list")
    charge_refs = pi_schema["properties"]["latest_charge"]["oneOf"]
    assert {"$ref": "#/components/schemas/Charge"} in charge_refs
    _assert_documents(schema, charge_refs[1], listed["data"][0]["latest_charge"], "expanded")


@pytest.mark.django_db
def test_a_declined_intents_last_payment_error_is_documented(schema, api_client):
    response = api_client.post(
        "/v1/payment_intents",
        "amount=150000&currency=idr&payment_method=pm_card_chargeDeclined&confirm=true",
        content_type=FORM,
    )
    assert response.status_code == 402
    intent = response.json()["error"]["payment_intent"]
    pi_schema = _response_schema(schema, "/v1/payment_intents", "post")
    _assert_documents(schema, pi_schema, intent, "declined payment_intent")
    _assert_documents(
        schema,
        pi_schema["properties"]["last_payment_error"],
        intent["last_payment_error"],
        "last_payment_error",
    )


@pytest.mark.django_db
def test_a_3d_secure_intents_next_action_is_documented(schema, api_client):
    response = api_client.post(
        "/v1/payment_intents",
        "amount=150000&currency=idr&payment_method=pm_card_threeDSecure2Required&confirm=true"
        "&return_url=https%3A%2F%2Fshop.example%2Fdone",
        content_type=FORM,
    )
    assert response.status_code == 200, response.json()
    intent = response.json()
    assert intent["status"] == "requires_action"
    pi_schema = _response_schema(schema, "/v1/payment_intents", "post")
    next_action = _resolve(schema, pi_schema["properties"]["next_action"])
    _assert_documents(schema, next_action, intent["next_action"], "next_action")
    _assert_documents(
        schema,
        next_action["properties"]["redirect_to_url"],
        intent["next_action"]["redirect_to_url"],
        "next_action.redirect_to_url",
    )


@pytest.mark.django_db
def test_the_schema_and_the_reference_page_need_no_api_key():
    client = Client()
    assert client.get("/openapi.json")["Content-Type"].startswith("application/json")
    page = client.get("/docs/api")
    assert page.status_code == 200
    assert b"/openapi.json" in page.content


@pytest.mark.django_db
def test_the_reference_page_loads_only_same_origin_files():
    html = Client().get("/docs/api").content.decode()
    urls = re.findall(r"<script[^>]*\bsrc=\"([^\"]+)\"", html)
    urls += re.findall(r"<link[^>]*\bhref=\"([^\"]+)\"", html)
    assert urls, "the page loads Redoc"
    for url in urls:
        assert url.startswith("/") and not url.startswith("//"), url
    assert not re.search(r"https?://(?!127\.0\.0\.1|localhost)", html.split("<body")[0])
    for url in urls:
        if url.startswith("/static/"):
            assert finders.find(url.removeprefix("/static/")), f"{url} is not a static file"
