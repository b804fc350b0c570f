"""OpenAPI (drf-spectacular) pieces shared by /v1 views: the key scheme and Stripe's errors."""

from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, inline_serializer
from rest_framework import serializers


class APIKeyAuthenticationScheme(OpenApiAuthenticationExtension):
    target_class = "core.api.authentication.APIKeyAuthentication"
    name = "apiKey"

    def get_security_definition(self, auto_schema):
        return {
            "type": "http",
            "scheme": "bearer",
            "description": "A secret key (sk_test_..., sk_live_...) as a Bearer token, or as "
            "the user name of HTTP Basic auth (curl -u sk_test_...:).",
        }


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
    str,
    OpenApiParameter.HEADER,
    required=False,
    description="Up to 255 characters. A retry with the same key and parameters within 24 "
    "hours replays the first response (header Idempotent-Replayed: true).",
)
