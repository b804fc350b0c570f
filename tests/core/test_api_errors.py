"""Every error under /v1 is Stripe's {"error": {...}}, whatever raised it."""

import pytest
from rest_framework.test import APIClient

from payments.api.customers import CustomerDetailView

FORM = "application/x-www-form-urlencoded"


def test_an_unknown_v1_url_is_stripes_unrecognized_url_404(api_client):
    response = api_client.get("/v1/foo")
    assert response.status_code == 404
    error = response.json()["error"]
    assert error["type"] == "invalid_request_error"
    assert error["message"].startswith("Unrecognized request URL (GET: /v1/foo).")


@pytest.mark.django_db
def test_an_unknown_v1_url_needs_no_key_to_be_reported():
    response = APIClient().post("/v1/nothing/here")
    assert response.status_code == 404
    assert "POST: /v1/nothing/here" in response.json()["error"]["message"]


def test_a_method_an_endpoint_does_not_have_is_an_unrecognized_url(api_client):
    response = api_client.put("/v1/customers")
    assert response.status_code == 404
    assert response.json()["error"]["message"].startswith(
        "Unrecognized request URL (PUT: /v1/customers)."
    )


def test_an_unknown_parameter_is_named(api_client):
    response = api_client.post("/v1/customers", "foo=1", content_type=FORM)
    assert response.status_code == 400
    assert response.json()["error"] == {
        "type": "invalid_request_error",
        "code": "parameter_unknown",
        "param": "foo",
        "message": "Received unknown parameter: foo",
    }


def test_an_invalid_nested_value_names_the_param_in_brackets(api_client):
    response = api_client.post("/v1/customers", f"metadata[{'k' * 41}]=v", content_type=FORM)
    assert response.status_code == 400
    assert response.json()["error"]["param"] == f"metadata[{'k' * 41}]"


def test_an_unexpected_exception_is_a_500_api_error_without_internals(api_client, monkeypatch):
    def explode(self, request, customer_id):
        raise RuntimeError("secret internal detail")

    monkeypatch.setattr(CustomerDetailView, "get", explode)
    response = api_client.get("/v1/customers/cus_x")
    assert response.status_code == 500
    error = response.json()["error"]
    assert error["type"] == "api_error"
    assert "secret internal detail" not in response.content.decode()


def test_every_response_carries_a_request_id(api_client):
    assert api_client.get("/v1/customers")["Request-Id"].startswith("req_")
    assert api_client.get("/v1/foo")["Request-Id"].startswith("req_")


@pytest.mark.django_db
def test_api_errors_are_in_english_whatever_the_accept_language(api_client):
    response = api_client.post(
        "/v1/customers", {"email": "not-an-email"}, HTTP_ACCEPT_LANGUAGE="id"
    )
    assert response.status_code == 400
    assert response.json()["error"]["param"] == "email"
    assert "valid email" in response.json()["error"]["message"].lower()
