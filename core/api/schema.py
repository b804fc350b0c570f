"""OpenAPI (drf-spectacular) pieces shared by /v1 views: the key scheme and Stripe's errors."""

from drf_spectacular.extensions import OpenApiAuthenticationExtension, OpenApiSerializerExtension
from drf_spectacular.plumbing import force_instance
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, inline_serializer
from rest_framework import serializers

from core.api.pagination import CreatedFilterField
from core.api.serializers import ExpandField


class APIKeyAuthenticationScheme(OpenApiAuthenticationExtension):
    target_class = "core.api.authentication.APIKeyAuthentication"
    # Either one: the Stripe SDKs send Bearer, `curl -u sk_test_...:` sends Basic.
    name = ["bearerAuth", "basicAuth"]

    def get_security_requirement(self, auto_schema):
        return [{name: []} for name in self.name]

    def get_security_definition(self, auto_schema):
        return [
            {
                "type": "http",
                "scheme": "bearer",
                "description": "An API key as a Bearer token: a secret key (sk_test_..., "
                "sk_live_...), or a publishable key (pk_...) on the few calls a browser "
                "makes.",
            },
            {
                "type": "http",
                "scheme": "basic",
                "description": "The API key as the user name, with an empty password "
                "(curl -u sk_test_...:).",
            },
        ]


class StripeSerializerSchema(OpenApiSerializerExtension):
    """Request bodies refuse what they do not declare (StripeSerializer answers 400
    parameter_unknown), so their schemas say `additionalProperties: false`."""

    target_class = "core.api.serializers.StripeSerializer"
    match_subclasses = True

    def map_serializer(self, auto_schema, direction):
        schema = auto_schema._map_serializer(self.target, direction, bypass_extensions=True)
        if direction == "request":
            schema["additionalProperties"] = False
            for name, field in force_instance(self.target).fields.items():
                prop = schema.get("properties", {}).get(name)
                if prop is not None and prop.get("type") == "string" and "pattern" not in prop:
                    prop.update(_not_blank(field))
        return schema


def _not_blank(field: serializers.Field) -> dict:
    """A string field that trims whitespace and refuses blanks refuses a lone tab too
    (parameter_invalid_empty): it needs one character that is whitespace neither for
    Python's str.strip (which also strips the controls 0x1C to 0x1F and 0x85) nor for the
    ECMA regular expressions of OpenAPI."""
    if isinstance(field, serializers.CharField) and field.trim_whitespace and not field.allow_blank:
        return {"minLength": 1, "pattern": r"[^\s\x1c-\x1f\x85]"}
    return {}


ErrorSerializer = inline_serializer(
    name="Error",
    fields={
        "error": inline_serializer(
            name="ErrorDetail",
            fields={
                "type": serializers.ChoiceField(
                    choices=[
                        "api_error",
                        "card_error",
                        "idempotency_error",
                        "invalid_request_error",
                    ]
                ),
                "code": serializers.CharField(required=False),
                "decline_code": serializers.CharField(required=False),
                "message": serializers.CharField(),
                "param": serializers.CharField(required=False),
            },
        )
    },
)

_DESCRIPTIONS = {
    400: "Invalid request: a missing, unknown or invalid parameter, or an idempotency key "
    "reused with other parameters (type idempotency_error).",
    401: "No API key, or an invalid, revoked or expired one.",
    402: "The request was valid but failed (a card was declined).",
    403: "The key may not make this call (a publishable key on a secret-key endpoint).",
    404: "No such object, or an unrecognized URL.",
    409: "Another request with the same Idempotency-Key is still running.",
    413: "The request body is larger than 1 MB.",
    429: "Too many requests.",
}


def error_responses(*statuses: int) -> dict:
    """{status: error response} for extend_schema(responses=...); 400 and 401 always."""
    wanted = sorted({400, 401, *statuses})
    return {
        code: OpenApiResponse(ErrorSerializer, description=_DESCRIPTIONS[code]) for code in wanted
    }


IDEMPOTENCY_KEY = OpenApiParameter(
    "Idempotency-Key",
    {"type": "string", "minLength": 1, "maxLength": 255},
    OpenApiParameter.HEADER,
    required=False,
    description="Up to 255 characters. A retry with the same key and parameters within 24 "
    "hours replays the first response (header Idempotent-Replayed: true).",
)


# Unix seconds a `created` filter takes: the years 1 to 9999 (a datetime's range).
UNIX_SECONDS = {"type": "integer", "minimum": -62135596800, "maximum": 253402300799}


def path_id(name: str, prefix: str) -> OpenApiParameter:
    """The object id in the URL (`intent_id` -> pi_...)."""
    return OpenApiParameter(name, str, OpenApiParameter.PATH, description=f"{prefix}...")


def _field_schema(field: serializers.Field) -> dict:
    if isinstance(field, serializers.ChoiceField):
        return {"type": "string", "enum": list(field.choices)}
    if isinstance(field, serializers.IntegerField):
        schema = {"type": "integer"}
        if field.min_value is not None:
            schema["minimum"] = field.min_value
        if field.max_value is not None:
            schema["maximum"] = field.max_value
        return schema
    if isinstance(field, serializers.BooleanField):
        return {"type": "boolean"}
    if isinstance(field, serializers.DateField):
        return {"type": "string", "format": "date"}
    schema = {"type": "string"}
    if isinstance(field, serializers.CharField) and not field.allow_blank:
        schema["minLength"] = 1  # an empty value is refused (parameter_invalid_empty)
        schema.update(_not_blank(field))
    if getattr(field, "max_length", None):
        schema["maxLength"] = field.max_length
    return schema


_QUERY_HELP = {
    "limit": "How many objects a page holds, 1 to 100 (default 10).",
    "starting_after": "An object id: the page after it (the next, older page).",
    "ending_before": "An object id: the page before it (the previous, newer page).",
}


def query_parameters(serializer_class: type[serializers.Serializer]) -> list[OpenApiParameter]:
    """The query parameters of a GET, from the serializer its view validates them with.

    Written out in Stripe's bracket notation, which the generic expansion of a serializer
    does not do: `expand[]=...` (repeatable) and `created[gte]=...` (deepObject).
    """
    parameters = []
    for name, field in serializer_class().fields.items():
        if isinstance(field, ExpandField):
            if not field.allowed:
                continue  # nothing to expand: leave it out
            parameters.append(
                OpenApiParameter(
                    "expand[]",
                    {"type": "array", "items": {"type": "string", "enum": sorted(field.allowed)}},
                    OpenApiParameter.QUERY,
                    explode=True,
                    description="Objects to return whole instead of as ids (repeatable).",
                )
            )
        elif isinstance(field, CreatedFilterField):
            parameters.append(
                OpenApiParameter(
                    "created",
                    {
                        "type": "object",
                        "properties": {op: UNIX_SECONDS for op in CreatedFilterField.OPERATORS},
                        "additionalProperties": False,
                    },
                    OpenApiParameter.QUERY,
                    style="deepObject",
                    explode=True,
                    description="Creation time filters in unix seconds: created[gt], "
                    "created[gte], created[lt], created[lte] (created=<seconds> matches "
                    "exactly).",
                )
            )
        else:
            parameters.append(
                OpenApiParameter(
                    name,
                    _field_schema(field),
                    OpenApiParameter.QUERY,
                    required=field.required,
                    description=str(field.help_text or _QUERY_HELP.get(name, "")),
                )
            )
    return parameters
