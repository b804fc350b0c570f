"""Every error under /v1 leaves as Stripe's {"error": {...}} (REST_FRAMEWORK EXCEPTION_HANDLER)."""

import logging

from django.core.exceptions import PermissionDenied
from django.http import Http404
from rest_framework import exceptions as drf
from rest_framework.response import Response
from rest_framework.settings import api_settings

from core.api.params import param_name
from core.errors import (
    APIError,
    AuthenticationError,
    InvalidRequestError,
    PermissionDeniedError,
    ProcessorError,
    RateLimitError,
    ResourceMissingError,
)

logger = logging.getLogger("core.api")


def unrecognized_url(method: str, path: str) -> InvalidRequestError:
    error = InvalidRequestError(
        f"Unrecognized request URL ({method}: {path}). Please check the API reference "
        "for the list of endpoints."
    )
    error.status = 404
    return error


class ParameterError(InvalidRequestError):
    """A request parameter failed validation: the endpoint's work never began."""


def _leaf(detail, data):
    """Walk DRF's nested error detail to its first error: (path, ErrorDetail, value)."""
    path: list = []
    value = data
    while True:
        if isinstance(detail, dict):
            key = next((k for k, v in detail.items() if v), None)
            if key is None:
                return path, None, value
            detail = detail[key]
            if key in ("non_field_errors", api_settings.NON_FIELD_ERRORS_KEY):
                continue
            path.append(key)
            value = _child(value, key)
        elif isinstance(detail, list):
            if detail and all(isinstance(d, str) for d in detail):
                return path, detail[0], value
            index = next((i for i, d in enumerate(detail) if d), None)
            if index is None:
                return path, None, value
            detail = detail[index]
            path.append(index)
            value = _child(value, index)
        else:
            return path, detail, value


def _child(value, key):
    try:
        return value[key]
    except (KeyError, IndexError, TypeError):
        return None


def validation_error(exc: drf.ValidationError, data=None) -> "ParameterError":
    """A DRF ValidationError as Stripe reports it: its first error, param in brackets."""
    path, detail, value = _leaf(exc.detail, data)
    param = param_name(path) or None
    code = getattr(detail, "code", None)
    text = str(detail) if detail is not None else "Invalid request."
    if code == "required":
        return ParameterError(
            f"Missing required param: {param}.", code="parameter_missing", param=param
        )
    if code == "parameter_unknown":
        return ParameterError(
            f"Received unknown parameter: {param}", code="parameter_unknown", param=param
        )
    if code == "invalid_integer":
        return ParameterError(
            f"Invalid integer: {value}", code="parameter_invalid_integer", param=param
        )
    if code in ("blank", "null") and param:
        return ParameterError(
            f"You passed an empty string for '{param}'. We assume empty values are an attempt "
            f"to unset a parameter; however '{param}' cannot be unset. You should remove "
            f"'{param}' from your request or supply a non-empty value.",
            code="parameter_invalid_empty",
            param=param,
        )
    stripe_code = {
        "invalid_email": "email_invalid",
        "invalid_choice": None,
    }.get(code, code if code and code.startswith(("parameter_", "email_")) else None)
    message = f"Invalid {param}: {text}" if param and not text.startswith("Invalid") else text
    return ParameterError(message, code=stripe_code, param=param)


def as_api_error(exc: Exception, context: dict | None = None) -> APIError:
    if isinstance(exc, APIError):
        return exc
    request = (context or {}).get("request")
    if isinstance(exc, drf.ValidationError):
        return validation_error(exc, getattr(request, "params", None))
    if isinstance(exc, drf.ParseError):
        return InvalidRequestError(str(exc.detail))
    if isinstance(exc, drf.UnsupportedMediaType):
        media = getattr(request, "content_type", "") or "this"
        return InvalidRequestError(
            f"Invalid request: the Content-Type {media.split(';')[0]} is not supported. Send "
            "the parameters as application/x-www-form-urlencoded (bracket notation for "
            "nested values) or application/json.",
            code="parameter_invalid",
        )
    if isinstance(exc, drf.MethodNotAllowed) and request is not None:
        return unrecognized_url(request.method, request.path)
    if isinstance(exc, Http404 | drf.NotFound):
        return ResourceMissingError("No such object.")
    if isinstance(exc, drf.NotAuthenticated | drf.AuthenticationFailed):
        return AuthenticationError(str(exc.detail), code="invalid_api_key")
    if isinstance(exc, drf.PermissionDenied | PermissionDenied):
        return PermissionDeniedError(str(getattr(exc, "detail", "")) or "Permission denied.")
    if isinstance(exc, drf.Throttled):
        return RateLimitError("Too many requests hit the API too quickly.")
    if isinstance(exc, drf.APIException):
        error = InvalidRequestError(str(exc.detail))
        error.status = exc.status_code
        return error
    logger.exception("unhandled error in API view")
    return ProcessorError(
        "An unexpected error occurred on our side. Please retry the request; "
        "if it keeps failing, contact support with the Request-Id.",
        code=None,
    )


def render_error(error: APIError) -> Response:
    return Response(error.as_dict(), status=error.status)


def exception_handler(exc: Exception, context: dict) -> Response:
    """DRF's EXCEPTION_HANDLER: never None, so DRF never re-raises into Django's 500 page."""
    return render_error(as_api_error(exc, context))
