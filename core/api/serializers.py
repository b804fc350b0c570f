"""Input validation for /v1 views: Stripe's parameter errors, metadata, integers, expand."""

import json
import re
import threading
from collections.abc import Iterable

from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.validators import validate_email
from drf_spectacular.extensions import OpenApiSerializerFieldExtension
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers
from rest_framework.exceptions import ErrorDetail, ValidationError

from core.api.exceptions import ParameterError, validation_error

METADATA_MAX_KEYS = 50
METADATA_MAX_KEY_LENGTH = 40
METADATA_MAX_VALUE_LENGTH = 500


class StripeSerializer(serializers.Serializer):
    """A serializer that refuses parameters it does not declare, as Stripe does, and, in a
    JSON body, a number or a boolean where it documents a string (a form body has only
    strings; DRF would quietly take 0 as "0").

    Nested StripeSerializers refuse them too; the error names the full bracketed param.
    """

    def to_internal_value(self, data):
        if isinstance(data, dict):
            unknown = [key for key in data if key not in self.fields or self.fields[key].read_only]
            if unknown:
                raise ValidationError(
                    {unknown[0]: [ErrorDetail("unknown parameter", code="parameter_unknown")]}
                )
            for key, value in data.items():
                field = self.fields[key]
                if (
                    isinstance(field, serializers.CharField)
                    and not isinstance(field, NumberOrDigitsField)
                    and isinstance(value, bool | int | float)
                ):
                    raise ValidationError(
                        {
                            key: [
                                ErrorDetail(
                                    "Invalid string: a string is expected, not "
                                    f"{json.dumps(value)}.",
                                    code="parameter_invalid_string",
                                )
                            ]
                        }
                    )
        return super().to_internal_value(data)


@extend_schema_field(
    {
        "oneOf": [
            {"type": "integer", "minimum": 0, "maximum": 9999},
            {"type": "string", "pattern": "^[0-9]+$", "maxLength": 4},
        ]
    }
)
class NumberOrDigitsField(serializers.CharField):
    """A number that a form body sends as digits and a JSON body may send as a number (a
    card's expiry month and year, as Stripe's clients send them). Kept as its digits for
    the checks that follow, which give the card errors."""

    def __init__(self, **kwargs):
        kwargs.setdefault("max_length", 4)
        super().__init__(**kwargs)

    def to_internal_value(self, data):
        if isinstance(data, int) and not isinstance(data, bool):
            data = str(data)
        return super().to_internal_value(data)


# One serializer of each class per thread, used again for the next request: DRF builds a
# serializer's fields (deep copies of the declared ones, nested serializers included) on
# its first use, which cost about a tenth of a payment's CPU when done per request. What a
# validation leaves on the serializer (initial_data, _validated_data, _errors) is reset
# before each use; its fields keep nothing between validations.
_serializers = threading.local()
_RESULTS = ("_validated_data", "_errors", "_data")


def _serializer_for(serializer_class: type[serializers.Serializer], data):
    cache = _serializers.__dict__.setdefault("by_class", {})
    serializer = cache.get(serializer_class)
    if serializer is None:
        serializer = cache[serializer_class] = serializer_class(data=data)
        return serializer
    for name in _RESULTS:
        serializer.__dict__.pop(name, None)
    serializer.initial_data = data
    return serializer


def validate(serializer_class: type[serializers.Serializer], data, **kwargs) -> dict:
    """Validate `data` (request.params) and return validated_data, or raise a Stripe error."""
    data = data if data is not None else {}
    if kwargs:
        serializer = serializer_class(data=data, **kwargs)
    else:
        serializer = _serializer_for(serializer_class, data)
    if not serializer.is_valid():
        raise validation_error(ValidationError(serializer.errors), data)
    return serializer.validated_data


class IntegerField(serializers.IntegerField):
    """Integers from form bodies ("42") or JSON (42); refuses 4.2, "4.0", true and "abc"."""

    default_error_messages = {"invalid_integer": "Invalid integer."}

    def to_internal_value(self, data):
        if isinstance(data, (bool, float)):
            self.fail("invalid_integer")
        if isinstance(data, str):
            text = data.strip()
            if not text.lstrip("-").isdigit() or len(text) > 20:
                self.fail("invalid_integer")
            data = int(text)
        elif not isinstance(data, int):
            self.fail("invalid_integer")
        return super().to_internal_value(data)


class BooleanField(serializers.BooleanField):
    """true/false from forms and JSON (DRF's own also accepts "1", "yes", "on")."""


class EmailField(serializers.CharField):
    """An email address; "" is allowed when allow_blank (it unsets on update)."""

    default_error_messages = {"invalid_email": "Invalid email address: {value}"}

    def to_internal_value(self, data):
        value = super().to_internal_value(data)
        if value:
            try:
                validate_email(value)
            except DjangoValidationError:
                self.fail("invalid_email", value=value)
        return value


_METADATA_VALUE = {
    "anyOf": [
        {"type": "string", "maxLength": METADATA_MAX_VALUE_LENGTH},
        {"type": "number"},
        {"type": "boolean"},
    ],
    "nullable": True,
}


@extend_schema_field(
    {
        "anyOf": [
            {
                "type": "object",
                # Numbers and booleans are stored as their strings (as Stripe does with
                # JSON); null, like "", unsets a key.
                "additionalProperties": _METADATA_VALUE,
                "maxProperties": METADATA_MAX_KEYS,
            },
            # metadata[0]=x: the keys are "0", "1", ...
            {"type": "array", "items": _METADATA_VALUE, "maxItems": METADATA_MAX_KEYS},
            # metadata="" unsets every key.
            {"type": "string", "enum": [""]},
        ],
        "nullable": True,
        "description": "Up to 50 keys of at most 40 characters, values of at most 500. "
        "On update, an empty value unsets a key; metadata='' unsets them all.",
    }
)
class MetadataField(serializers.Field):
    """Stripe metadata. Validates to a dict of strings, where "" means "unset this key" on
    update, or to None for `metadata=` (or JSON null): "unset every key". See metadata_merge.
    """

    default_error_messages = {
        "not_a_dict": "Invalid object: metadata must be a hash of keys and string values.",
    }

    def to_internal_value(self, data):
        if data == "" or data is None:
            return None
        if isinstance(data, list):  # metadata[0]=x parses as a list; the keys are strings
            data = {str(i): v for i, v in enumerate(data)}
        if not isinstance(data, dict):
            self.fail("not_a_dict")
        if len(data) > METADATA_MAX_KEYS:
            raise ValidationError(
                f"You can have up to {METADATA_MAX_KEYS} metadata keys, "
                f"but you passed in {len(data)}.",
                code="parameter_invalid",
            )
        clean: dict[str, str] = {}
        for key, value in data.items():
            key = str(key)
            if not key or len(key) > METADATA_MAX_KEY_LENGTH:
                raise ValidationError(
                    {
                        key: [
                            ErrorDetail(
                                f"Metadata keys can have 1 to {METADATA_MAX_KEY_LENGTH} "
                                f"characters, but you passed in a key of {len(key)}.",
                                code="parameter_invalid",
                            )
                        ]
                    }
                )
            if isinstance(value, bool):
                value = "true" if value else "false"
            elif isinstance(value, int | float):
                value = str(value)
            elif value is None:
                value = ""
            if not isinstance(value, str):
                raise ValidationError(
                    {
                        key: [
                            ErrorDetail(
                                "Metadata values must be strings.", code="parameter_invalid"
                            )
                        ]
                    }
                )
            if len(value) > METADATA_MAX_VALUE_LENGTH:
                raise ValidationError(
                    {
                        key: [
                            ErrorDetail(
                                "Metadata values can have up to "
                                f"{METADATA_MAX_VALUE_LENGTH} characters, but you passed "
                                f"in a value of {len(value)}.",
                                code="parameter_invalid",
                            )
                        ]
                    }
                )
            clean[key] = value
        return clean

    def __init__(self, **kwargs):
        kwargs.setdefault("allow_null", True)
        super().__init__(**kwargs)

    def to_representation(self, value):
        return dict(value or {})


def metadata_merge(current: dict | None, changes: dict | None) -> dict:
    """Stripe's update rule: keys are merged, "" unsets a key; changes=None (the client sent
    `metadata=`) unsets them all. Call it only when the client sent `metadata`."""
    if changes is None:
        return {}
    merged = dict(current or {})
    for key, value in changes.items():
        if value == "":
            merged.pop(key, None)
        else:
            merged[key] = value
    return merged


def metadata_initial(changes: dict | None) -> dict:
    """Metadata for a new object: empty values are simply not stored."""
    return metadata_merge({}, changes)


class ExpandField(serializers.Field):
    """`expand[]=latest_charge&expand[]=customer` (or a JSON list) -> a set of paths."""

    def __init__(self, *, allowed: Iterable[str] = (), **kwargs):
        kwargs.setdefault("required", False)
        self.allowed = frozenset(allowed)
        super().__init__(**kwargs)

    def to_internal_value(self, data):
        if isinstance(data, str):
            data = [data]
        if not isinstance(data, list) or not all(isinstance(item, str) for item in data):
            raise ValidationError("Invalid array: expand must be a list of strings.")
        for index, item in enumerate(data):
            if item not in self.allowed:
                raise ValidationError(
                    {
                        index: [
                            ErrorDetail(
                                f"This property cannot be expanded ({item}).",
                                code="parameter_invalid",
                            )
                        ]
                    }
                )
        return frozenset(data)

    def to_representation(self, value):
        return sorted(value)


class ExpandFieldSchema(OpenApiSerializerFieldExtension):
    """The schema of an ExpandField: only the paths it allows (none: an empty list)."""

    target_class = ExpandField

    def map_serializer_field(self, auto_schema, direction):
        allowed = sorted(self.target.allowed)
        if not allowed:
            return {"type": "array", "items": {"type": "string"}, "maxItems": 0}
        # A pattern, not an enum: drf-spectacular would make a named enum component of each.
        alternatives = "|".join(re.escape(path) for path in allowed)
        return {"type": "array", "items": {"type": "string", "pattern": f"^({alternatives})$"}}


def parse_expand(params: dict, *, allowed: Iterable[str]) -> frozenset[str]:
    """The `expand` list of a request (for views whose serializer has no ExpandField)."""
    raw = params.get("expand")
    if raw is None:
        return frozenset()
    field = ExpandField(allowed=allowed)
    try:
        return field.to_internal_value(raw)
    except ValidationError as exc:
        raise validation_error(ValidationError({"expand": exc.detail}), params) from None


def reject_unknown(params: dict, allowed: Iterable[str]) -> None:
    """For views without a serializer: refuse parameters outside `allowed`."""
    allowed = set(allowed)
    for key in params:
        if key not in allowed:
            raise ParameterError(
                f"Received unknown parameter: {key}", code="parameter_unknown", param=key
            )
