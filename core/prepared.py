"""Hot SELECTs compiled once per database connection (issue #10: CPU per request).

Turning a queryset into SQL costs the ORM more than running it: the intent's lookup with
its payment method, customer and latest charge took about 2 ms of CPU to compile and 0.3 ms
to run. A `Prepared` query is written as an ordinary queryset, built by a function of its
values; the first run on a connection builds it with placeholder values, keeps the SQL and
where each value goes, and later runs only execute that SQL with the new values and build
the instances as the ORM would (select_related objects included).

    _KEY = Prepared(lambda key_hash: APIKey.objects.select_related("merchant")
                    .filter(key_hash=key_hash)[:1])
    api_key = _KEY.first(key_hash=digest)

Values that are `str`, `int` or an aware `datetime` are parameters of the kept SQL. A bool
(such as `livemode`), None or a tuple is a variant: the query is compiled once for each
one seen, so use it only for values with few possibilities. Anything else is refused.
Statements still go through Django's cursor, so they are logged, counted by the tests and
seen by execute wrappers.
"""

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from weakref import WeakKeyDictionary, ref

from django.db import connections
from django.db.models import Model, QuerySet
from django.db.models.query import (
    FlatValuesListIterable,
    ModelIterable,
    ValuesListIterable,
    get_related_populators,
)
from django.db.transaction import TransactionManagementError

# A placeholder value can be told apart from anything the caller passes: strings in a
# private-use character, integers far from any id or amount.
_STR_MARK = "\ue000prepared:{}\ue000"
_INT_BASE = -7_301_999_000_000_000_000
_DATETIME_BASE = dt.datetime(1901, 2, 3, 4, 5, 6, tzinfo=dt.UTC)
_PARAMETER_TYPES = (str, int, dt.datetime)
_VARIANT_TYPES = (bool, type(None), tuple, frozenset)


@dataclass
class _Compiled:
    sql: str
    params: list  # the values, with a placeholder where a parameter goes
    slots: list[tuple[int, str]]  # (position in params, parameter name)
    rows_to_result: Callable[[list], list]
    for_update: bool


class Prepared:
    def __init__(self, build: Callable[..., QuerySet], using: str = "default") -> None:
        self.build = build
        self.using = using
        self._compiled: WeakKeyDictionary = WeakKeyDictionary()  # connection: {variant: _}

    def fetch(self, **values) -> list:
        """Every row: model instances, or tuples (values for a flat values_list)."""
        connection = connections[self.using]
        variant = []
        for name, value in values.items():
            if type(value) in _VARIANT_TYPES:
                variant.append((name, value))
            elif type(value) not in _PARAMETER_TYPES:
                raise TypeError(f"Prepared query: {name} is a {type(value).__name__}")
        variant = tuple(sorted(variant))
        per_connection = self._compiled.get(connection)
        if per_connection is None:
            per_connection = self._compiled[connection] = {}
        compiled = per_connection.get(variant)
        if compiled is None:
            compiled = per_connection[variant] = self._compile(connection, values)
        if compiled.for_update and connection.get_autocommit():
            raise TransactionManagementError(
                "select_for_update cannot be used outside of a transaction."
            )
        params = list(compiled.params)
        for position, name in compiled.slots:
            value = values[name]
            if type(value) is dt.datetime:
                value = connection.ops.adapt_datetimefield_value(value)
            params[position] = value
        with connection.cursor() as cursor:
            cursor.execute(compiled.sql, params)
            rows = cursor.fetchall()
        return compiled.rows_to_result(rows)

    def first(self, **values):
        rows = self.fetch(**values)
        return rows[0] if rows else None

    # --- compiling --------------------------------------------------------------------

    def _compile(self, connection, values: dict) -> _Compiled:
        marks: dict[object, str] = {}
        built_with = {}
        for index, (name, value) in enumerate(sorted(values.items())):
            if type(value) is str:
                built_with[name] = mark = _STR_MARK.format(name)
            elif type(value) is int:
                built_with[name] = mark = _INT_BASE - index
            elif type(value) is dt.datetime:
                built_with[name] = _DATETIME_BASE + dt.timedelta(microseconds=index)
                mark = connection.ops.adapt_datetimefield_value(built_with[name])
            else:
                built_with[name] = value
                continue
            marks[mark] = name
        queryset = self.build(**built_with)
        compiler = queryset.query.get_compiler(using=self.using, connection=connection)
        sql, params = compiler.as_sql()
        params = list(params)
        slots = [(i, marks[p]) for i, p in enumerate(params) if _hashable(p) and p in marks]
        missing = set(marks.values()) - {name for _, name in slots}
        if missing:
            raise ValueError(
                f"Prepared query: {sorted(missing)} did not reach the SQL as given; pass the "
                "value where a plain str or int column value is compared"
            )
        return _Compiled(
            sql,
            params,
            slots,
            self._rows_to_result(queryset, compiler),
            for_update=queryset.query.select_for_update,
        )

    def _rows_to_result(self, queryset: QuerySet, compiler) -> Callable[[list], list]:
        select = compiler.select
        fields = [s[0] for s in select[: compiler.col_count]]
        converters = compiler.get_converters(fields)
        if compiler.has_composite_fields(fields):
            raise ValueError("Prepared query: composite fields are not supported")

        def converted(rows: list) -> list:
            return list(compiler.apply_converters(rows, converters)) if converters else rows

        iterable = queryset._iterable_class
        if iterable is FlatValuesListIterable:
            return lambda rows: [row[0] for row in converted(rows)]
        if iterable is ValuesListIterable:
            return lambda rows: [tuple(row) for row in converted(rows)]
        if iterable is not ModelIterable or queryset._known_related_objects:
            raise ValueError("Prepared query: model rows or values_list only")
        annotations = list((compiler.annotation_col_map or {}).items())
        klass_info = compiler.klass_info
        model_cls = klass_info["model"]
        start, end = klass_info["select_fields"][0], klass_info["select_fields"][-1] + 1
        init_list = [f[0].target.attname for f in select[start:end]]
        fetch_mode = queryset._fetch_mode
        from_db = partial(model_cls.from_db, fetch_mode=fetch_mode)
        if model_cls.from_db.__func__ is not Model.from_db.__func__:
            raise ValueError("Prepared query: a model with its own from_db is not supported")
        populators = get_related_populators(klass_info, select, self.using, fetch_mode)
        db = self.using

        def to_instances(rows: list) -> list:
            result = []
            peers: list = []
            for row in converted(rows):
                obj = from_db(db, init_list, row[start:end])
                if fetch_mode.track_peers:
                    peers.append(ref(obj))
                    obj._state.peers = peers
                for populator in populators:
                    populator.populate(row, obj)
                for name, position in annotations:
                    setattr(obj, name, row[position])
                result.append(obj)
            return result

        return to_instances


def _hashable(value) -> bool:
    try:
        hash(value)
    except TypeError:
        return False
    return True
