"""Request bodies under /v1: form bodies with bracket notation (what the Stripe SDKs send)
and JSON. Both produce the same nested dict."""

import json

from rest_framework.parsers import BaseParser

from core.api.params import parse_query
from core.errors import APIError, InvalidRequestError

MAX_BODY_BYTES = 1024 * 1024


class RequestTooLargeError(APIError):
    status = 413
    type = "invalid_request_error"
    default_code = "request_too_large"


def read_body(stream, parser_context: dict | None) -> bytes:
    """Read at most MAX_BODY_BYTES, refusing larger bodies before reading them when we can."""
    request = (parser_context or {}).get("request")
    declared = request.META.get("CONTENT_LENGTH") if request is not None else None
    too_large = RequestTooLargeError(
        f"The request body is larger than the limit of {MAX_BODY_BYTES // 1024} KB."
    )
    try:
        if declared and int(declared) > MAX_BODY_BYTES:
            raise too_large
    except ValueError:
        pass
    body = stream.read(MAX_BODY_BYTES + 1)
    if len(body) > MAX_BODY_BYTES:
        raise too_large
    return body


def _decode(body: bytes, encoding: str) -> str:
    try:
        return body.decode(encoding)
    except (UnicodeDecodeError, LookupError) as exc:
        raise InvalidRequestError(f"The request body is not valid {encoding}.") from exc


class FormParser(BaseParser):
    media_type = "application/x-www-form-urlencoded"

    def parse(self, stream, media_type=None, parser_context=None) -> dict:
        encoding = (parser_context or {}).get("encoding") or "utf-8"
        return parse_query(_decode(read_body(stream, parser_context), encoding))


class JSONParser(BaseParser):
    media_type = "application/json"

    def parse(self, stream, media_type=None, parser_context=None) -> dict:
        text = _decode(read_body(stream, parser_context), "utf-8")
        try:
            data = json.loads(text) if text.strip() else {}
        except ValueError as exc:
            raise InvalidRequestError(f"Invalid JSON: {exc}.", code="parameter_invalid") from exc
        if not isinstance(data, dict):
            raise InvalidRequestError(
                "Invalid JSON: the request body must be a JSON object.", code="parameter_invalid"
            )
        return data
