"""Stripe list pages: limit, starting_after / ending_before cursors, created filters."""

import re
from collections.abc import Callable
from datetime import UTC, datetime

from django.db.models import Model, Q, QuerySet
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from core.api.serializers import ExpandField, IntegerField, StripeSerializer, validate
from core.errors import InvalidRequestError

LIST_PARAMS = ("limit", "starting_after", "ending_before", "created", "expand")


@extend_schema_field(
    {
        "oneOf": [
            {"type": "integer", "description": "Exactly this unix time."},
            {
                "type": "object",
                "properties": {op: {"type": "integer"} for op in ("gt", "gte", "lt", "lte")},
                "additionalProperties": False,
            },
        ],
        "description": "Filter on creation time (unix seconds): created=... or "
        "created[gte]=...&created[lt]=...",
    }
)
class CreatedFilterField(serializers.Field):
    """`created=1700000000` or `created[gte]=...&created[lt]=...` -> {"gte": 17..., ...}."""

    OPERATORS = ("gt", "gte", "lt", "lte")

    def to_internal_value(self, data):
        integer = IntegerField()
        if not isinstance(data, dict):
            integer.field_name = self.field_name
            return {"eq": integer.run_validation(data)}
        result = {}
        errors = {}
        for op, value in data.items():
            if op not in self.OPERATORS:
                errors[op] = [
                    serializers.ErrorDetail("unknown parameter", code="parameter_unknown")
                ]
                continue
            try:
                result[op] = integer.run_validation(value)
            except serializers.ValidationError as exc:
                errors[op] = exc.detail
        if errors:
            raise serializers.ValidationError(errors)
        return result

    def to_representation(self, value):
        return value


class ListParams(StripeSerializer):
    """The parameters every list endpoint takes. Subclass it to add filters (email=...)."""

    limit = IntegerField(required=False, min_value=1, max_value=100)
    starting_after = serializers.CharField(required=False, max_length=255)
    ending_before = serializers.CharField(required=False, max_length=255)
    created = CreatedFilterField(required=False)
    expand = ExpandField(required=False, allowed=())


class _PaginationOnly(ListParams):
    def to_internal_value(self, data):
        # The view validated the whole request already (with its own ListParams subclass);
        # here only the pagination keys matter.
        subset = {key: data[key] for key in LIST_PARAMS[:-1] if key in data}
        return super().to_internal_value(subset)


def _epoch(seconds: int) -> datetime:
    try:
        return datetime.fromtimestamp(seconds, tz=UTC)
    except (OverflowError, OSError, ValueError):
        raise InvalidRequestError(
            f"Invalid timestamp: {seconds}", code="parameter_invalid_integer", param="created"
        ) from None


def _object_name(model: type[Model]) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", model.__name__).lower()


def paginate(
    request,
    queryset: QuerySet,
    render: Callable[[Model], dict],
    *,
    url: str,
    id_field: str = "public_id",
    object_name: str | None = None,
) -> dict:
    """One page of `queryset` (already scoped to the merchant and mode), newest first.

    Reads limit, starting_after, ending_before and created from request.params. Runs one
    query for the cursor object and one for the page (limit + 1 rows, to know has_more).
    """
    params = validate(_PaginationOnly, getattr(request, "params", {}))
    limit = params.get("limit", 10)
    if "starting_after" in params and "ending_before" in params:
        raise InvalidRequestError(
            "You may only specify one of these parameters: ending_before, starting_after.",
            code="parameters_exclusive",
            param="ending_before",
        )
    scoped = queryset
    created = params.get("created") or {}
    # `created` is whole seconds and created_at is not: "created in second X" is the
    # interval [X, X+1), so gt X starts at X+1 and lte X ends before X+1.
    for op, seconds in created.items():
        if op == "eq":
            queryset = queryset.filter(
                created_at__gte=_epoch(seconds), created_at__lt=_epoch(seconds + 1)
            )
        elif op == "gt":
            queryset = queryset.filter(created_at__gte=_epoch(seconds + 1))
        elif op == "gte":
            queryset = queryset.filter(created_at__gte=_epoch(seconds))
        elif op == "lt":
            queryset = queryset.filter(created_at__lt=_epoch(seconds))
        else:  # lte
            queryset = queryset.filter(created_at__lt=_epoch(seconds + 1))

    backwards = "ending_before" in params
    cursor_param = "ending_before" if backwards else "starting_after"
    cursor_id = params.get(cursor_param)
    if cursor_id is not None:
        cursor = scoped.filter(**{id_field: cursor_id}).values("created_at", "pk").first()
        if cursor is None:
            name = object_name or _object_name(queryset.model)
            raise InvalidRequestError(
                f"No such {name}: '{cursor_id}'", code="resource_missing", param=cursor_param
            )
        at, pk = cursor["created_at"], cursor["pk"]
        if backwards:
            queryset = queryset.filter(Q(created_at__gt=at) | Q(created_at=at, pk__gt=pk))
        else:
            queryset = queryset.filter(Q(created_at__lt=at) | Q(created_at=at, pk__lt=pk))

    order = ("created_at", "pk") if backwards else ("-created_at", "-pk")
    rows = list(queryset.order_by(*order)[: limit + 1])
    has_more = len(rows) > limit
    rows = rows[:limit]
    if backwards:
        rows.reverse()
    return {
        "object": "list",
        "data": [render(row) for row in rows],
        "has_more": has_more,
        "url": url,
    }
