"""Schemathesis over the served OpenAPI schema (DESIGN.md §11): no 5xx, every response as
documented, invalid input refused. In-process through the WSGI app, with a test secret key."""

import json
import re
import uuid

import pytest
import schemathesis
from django.core import signals
from django.core.handlers.wsgi import WSGIHandler
from django.db import close_old_connections
from drf_spectacular.generators import SchemaGenerator
from hypothesis import HealthCheck, settings
from rest_framework.utils.encoders import JSONEncoder
from schemathesis.generation.meta import CoveragePhaseData, CoverageScenario
from schemathesis.openapi.checks import RejectedPositiveData
from schemathesis.specs.openapi.checks import positive_data_acceptance, unsupported_method

MAX_EXAMPLES = 10


def _load_schema():
    # The document /openapi.json serves, generated without a request (and so without a
    # database, which pytest-django has not set up at collection time).
    document = SchemaGenerator().get_schema(request=None, public=True)
    loaded = schemathesis.openapi.from_dict(json.loads(json.dumps(document, cls=JSONEncoder)))
    loaded.app = WSGIHandler()
    # No NUL characters in generated strings: every string parameter refuses them (400
    # "Null characters are not allowed": PostgreSQL cannot store them), which the schema
    # would otherwise have to repeat as a pattern on each one.
    loaded.config.generation.update(max_examples=MAX_EXAMPLES, allow_x00=False)
    # A card number that fails the Luhn check is Stripe's 402 card_error incorrect_number.
    negative = loaded.config.checks.negative_data_rejection
    negative.expected_statuses = [*negative.expected_statuses, "402"]
    return loaded


schema = _load_schema()

# Every check of schemathesis runs: no 5xx, documented status codes, content types and
# headers, responses that match their schemas, schema-violating requests refused
# (negative_data_rejection), schema-valid requests accepted (positive_data_acceptance), with
# two adjustments below.
#
# A schema-valid request may still be refused for what OpenAPI 3.0 cannot say: that an id
# names an existing object of this merchant, that two parameters exclude or require each
# other, or checks of content (an e-mail address or URL as Django validates it, a currency
# that ISO 4217 lists, the Luhn digit of a card number). Only a 400 (402 for a card number)
# with one of these codes passes; any other refusal of a valid request (an unknown
# parameter, an empty value, a wrong type...) fails the test.
BEYOND_THE_SCHEMA = {
    "resource_missing",  # an id of no object of this merchant (as Stripe: 400 or 404)
    "parameters_exclusive",  # starting_after with ending_before, type with types
    "parameter_missing",  # one of two: line_items or amount and currency; a refund's
    # payment_intent or charge
    "email_invalid",  # Django's validate_email is stricter than `format: email`
    "url_invalid",  # a webhook URL: https (http in test mode), not a private address
    "incorrect_number",  # the card number's Luhn digit (402 card_error)
    "parameter_invalid_string",  # only for a currency that ISO 4217 does not list
}


# Metadata keys of 1 to 40 characters: OpenAPI 3.0 (what drf-spectacular writes) has no
# propertyNames to say so; the schema's description does.
METADATA_KEY = re.compile(r"^Invalid (\w+\[)*metadata\]?\[\]: Metadata keys can have 1 to 40")


# A URL Django's URLValidator refuses (a label over 63 characters...) or not http(s) where
# that is required; these errors carry no code (tests/payments pins that).
URL = re.compile(r"^Invalid \w+: (Enter a valid URL\.|Not a valid URL: use http or https\.)$")


def _error(response) -> dict:
    try:
        return json.loads(response.content).get("error", {})
    except (ValueError, AttributeError):
        return {}


def positive_data_acceptance_beyond_the_schema(ctx, response, case):
    """positive_data_acceptance, except for the refusals listed in BEYOND_THE_SCHEMA."""
    try:
        return positive_data_acceptance(ctx, response, case)
    except RejectedPositiveData:
        error = _error(response)
        code = error.get("code")
        if code == "parameter_invalid_string" and "currency" not in error.get("param", ""):
            raise
        if response.status_code in (400, 402) and code in BEYOND_THE_SCHEMA:
            return None
        message = error.get("message", "")
        if response.status_code == 400 and (METADATA_KEY.match(message) or URL.match(message)):
            return None
        raise


def undeclared_methods_answer_as_stripe_does(ctx, response, case):
    """unsupported_method, as Stripe's API answers it: a method a path does not declare is
    404 "Unrecognized request URL" (the Stripe SDKs expect it), not 405."""
    meta = case.meta
    if meta is None or not isinstance(meta.phase.data, CoveragePhaseData):
        return None
    if meta.phase.data.scenario != CoverageScenario.UNSPECIFIED_HTTP_METHOD:
        return None
    if response.request.method in ("OPTIONS", "HEAD"):
        return None
    body = json.loads(response.content or b"{}")
    message = body.get("error", {}).get("message", "")
    assert response.status_code == 404 and message.startswith("Unrecognized request URL"), (
        f"{response.request.method} {case.operation.path}: {response.status_code} {body}"
    )
    return None


EXCLUDED = [positive_data_acceptance, unsupported_method]  # replaced by the two above
ADDITIONAL = [positive_data_acceptance_beyond_the_schema, undeclared_methods_answer_as_stripe_does]

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
        additional_checks=ADDITIONAL,
    )


# Stateful: sequences of calls where one answer's id feeds the next call (create a
# customer, then update, retrieve or delete it; create an intent, then confirm, capture or
# cancel it...). The links come from schemathesis's dependency analysis of the schema
# (drf-spectacular writes no OpenAPI links); every check above runs on every step, plus the
# stateful ones (a deleted object stays gone, a created one can be read back).
APIWorkflow = schema.as_state_machine()
STATEFUL_EXAMPLES = 25
STATEFUL_STEPS = 8


@pytest.mark.slow
@pytest.mark.django_db
def test_linked_calls_keep_the_schema(merchant, api_key_for, keep_the_test_transaction):
    key = api_key_for(merchant)

    class Workflow(APIWorkflow):
        def before_call(self, case):
            if case.media_type == FORM:
                case.media_type = "application/json"
            if case.headers and "Idempotency-Key" in case.headers:
                case.headers["Idempotency-Key"] = uuid.uuid4().hex

        def get_call_kwargs(self, case):
            return {"headers": {"Authorization": f"Bearer {key}"}}

        def validate_response(self, response, case, additional_checks=None, **kwargs):
            case.validate_response(
                response,
                excluded_checks=EXCLUDED,
                additional_checks=ADDITIONAL,
                headers=kwargs.get("headers"),
            )

    Workflow.run(
        settings=settings(
            max_examples=STATEFUL_EXAMPLES,
            stateful_step_count=STATEFUL_STEPS,
            deadline=None,
            suppress_health_check=list(HealthCheck),
            derandomize=True,
        )
    )


@pytest.mark.django_db
def test_a_json_body_with_an_empty_expand_list_creates_a_customer(api_client):
    # Found by the fuzzer: `"expand": []` reached customer_create() and answered 500.
    response = api_client.post("/v1/customers", {"email": "a@example.com", "expand": []})
    assert response.status_code == 200, response.json()
    assert response.json()["email"] == "a@example.com"


@pytest.mark.django_db
def test_a_json_number_where_the_schema_says_string_is_refused_and_creates_nothing(api_client):
    # Found by the fuzzer (negative_data_rejection): {"description": 0} made a customer
    # described "0". A form body has only strings; in JSON the type is the caller's choice.
    response = api_client.post("/v1/customers", {"description": 0}, format="json")
    assert response.status_code == 400, response.json()
    assert response.json()["error"]["code"] == "parameter_invalid_string"
    assert response.json()["error"]["param"] == "description"
    assert api_client.get("/v1/customers").json()["data"] == []
    # Metadata values stay free: numbers and booleans are stored as strings.
    response = api_client.post("/v1/customers", {"metadata": {"n": 7, "b": True}}, format="json")
    assert response.json()["metadata"] == {"n": "7", "b": "true"}


@pytest.mark.django_db
def test_an_empty_enabled_events_list_is_refused_as_the_schema_says(api_client):
    response = api_client.post(
        "/v1/webhook_endpoints",
        {"url": "https://hooks.example/x", "enabled_events": []},
        format="json",
    )
    assert response.status_code == 400
    assert response.json()["error"]["param"] == "enabled_events"
    assert "must not be empty" in response.json()["error"]["message"]
