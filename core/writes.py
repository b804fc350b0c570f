"""Writes of one transaction sent to the database together (issue #10: statements per request).

Inside `with write_batch():` (itself inside `transaction.atomic()`), `save` and `insert`
only note the write; when the block ends the noted writes go to the database at once. On
PostgreSQL that is one statement, a WITH of data-modifying parts (an UPDATE or INSERT per
row, inserts referring to rows inserted before them by `(SELECT * FROM wN)`, the id that
part returns); elsewhere each write is the ORM's save, in the order they were noted.
Outside a batch both write at once, so a service reads the same either way: `save` is
the ORM's save, and `insert` on PostgreSQL a batch of that one row (the same INSERT,
without the ORM compiling it), elsewhere the ORM's.

The statement carries its values as literals (psycopg's quoting, or the batch's own for
a plain string or integer), not as parameters: psycopg would otherwise scan a statement
of several kilobytes for placeholders on every request.

What a batch does not do: reads inside the block see the database as it was before the
block (nothing noted is written yet), and model signals are not sent (the models written
here have no receivers). Values are read when the batch is sent, so a row noted twice is
written once with its final values, and a row inserted and then changed is inserted as it
ends up.

A guarded batch (`write_batch(guard=(sql, params))`, PostgreSQL only) needs no transaction
around it: its statement starts with the guard, a SELECT ... FOR UPDATE of the rows the
writes were computed from, which must find them as they were read (a version, a status).
If it finds nothing the whole statement fails, nothing is written, and GuardFailed tells
the caller to do it again under row locks. It is optimistic locking in one round trip: the
statement is its own transaction. Inside it, `on_commit` callbacks wait for the statement
(Django's would run at once, outside a transaction).
"""

import contextlib
import datetime as dt
import functools
import logging
from collections.abc import Callable
from contextlib import contextmanager
from contextvars import ContextVar
from typing import NamedTuple

import psycopg
from django.db import (
    DEFAULT_DB_ALIAS,
    DataError,
    IntegrityError,
    connection,
    connections,
    models,
    transaction,
)
from django.db.models.expressions import DatabaseDefault
from psycopg.adapt import Transformer

logger = logging.getLogger(__name__)

_batch: ContextVar["WriteBatch | None"] = ContextVar("write_batch", default=None)


class GuardFailed(Exception):
    """A guarded batch found its rows changed: nothing was written."""


def one_statement() -> bool:
    """Whether batches go as one statement here (and guarded batches can be used)."""
    return connection.vendor == "postgresql"


class WriteBatch:
    def __init__(self, guard: tuple[str, list] | None = None, *, alone: bool = False) -> None:
        self.guard = guard
        self.db = connections[DEFAULT_DB_ALIAS]  # the wrapper itself: `connection` is a proxy
        # A guarded or lone batch outside any transaction: its statement commits by itself.
        self.standalone = (guard is not None or alone) and not self.db.in_atomic_block
        self.after: list[tuple[Callable[[], object], bool]] = []
        self.inserts: list[models.Model] = []
        self.updates: dict[int, tuple[models.Model, set[str]]] = {}  # id(instance): fields
        self.order: list[tuple[str, models.Model]] = []
        self.if_absent: set[int] = set()  # id(instance): INSERT ... ON CONFLICT DO NOTHING

    def note_insert(self, instance: models.Model, *, if_absent: bool = False) -> None:
        if if_absent:
            self.if_absent.add(id(instance))
        for field in instance._meta.concrete_fields:
            # A literal db_default is what the row will hold; the ORM reads it back after
            # its INSERT, the batch knows it now (code after the insert may read it).
            value = getattr(instance, field.attname, None)
            if isinstance(value, DatabaseDefault):
                literal = getattr(field.db_default, "value", field.db_default)
                if not hasattr(literal, "resolve_expression"):  # not a database function
                    setattr(instance, field.attname, literal)
        self.inserts.append(instance)
        self.order.append(("insert", instance))

    def note_update(self, instance: models.Model, fields: set[str]) -> None:
        if any(instance is pending for pending in self.inserts):
            return  # inserted by this batch: written as it is when the batch is sent
        key = id(instance)
        if key in self.updates:
            self.updates[key][1].update(fields)
            return
        self.updates[key] = (instance, set(fields))
        self.order.append(("update", instance))

    # --- sending ----------------------------------------------------------------------

    def send(self) -> None:
        if not self.order:
            return
        if self.db.vendor == "postgresql":
            self._send_one_statement()
        else:
            self._send_one_by_one()

    def _send_one_by_one(self) -> None:
        for kind, instance in self.order:
            if kind == "insert":
                instance.save(force_insert=True)
            else:
                instance.save(update_fields=sorted(self.updates[id(instance)][1]))

    def _send_one_statement(self) -> None:
        names = {id(instance): f"w{i}" for i, (_, instance) in enumerate(self.order)}
        parts: list[str] = []
        db = self.db
        db.ensure_connection()
        # Values are written into the statement as psycopg's literals (Transformer.as_literal,
        # what its client-side binding does with each parameter), which saves it parsing a
        # long statement for placeholders on every request.
        as_literal = Transformer(db.connection).as_literal

        def literal(value) -> str:
            return "NULL" if value is None else as_literal(value).decode()

        if self.guard is not None:
            # 1 / 0 when the guard finds no row: the statement fails as a whole.
            guard_sql, guard_params = self.guard
            pieces = guard_sql.split("%s")
            if len(pieces) != len(guard_params) + 1 or "%" in guard_sql.replace("%s", ""):
                raise ValueError("a guard has one %s per parameter and no other %")
            rendered = pieces[0] + "".join(
                literal(value) + piece
                for value, piece in zip(guard_params, pieces[1:], strict=True)
            )
            parts += [f"g AS ({rendered})", "ok AS (SELECT 1 / count(*) AS one FROM g)"]
        # Only quoted table and column names of our models, the parts' own names (wN) and
        # psycopg's literals of the values are formatted into the statement (S608 below).
        for kind, instance in self.order:
            meta = instance._meta
            name = names[id(instance)]
            table = _table(type(instance))
            if kind == "insert":
                values = ", ".join(
                    [
                        self._value(column, instance, names, literal, add=True)
                        for column in table.inserted
                    ]
                )
                into = f"INSERT INTO {table.name} ({table.inserted_sql})"
                absent = " ON CONFLICT DO NOTHING" if id(instance) in self.if_absent else ""
                parts.append(f"{name} AS ({into} VALUES ({values}){absent} RETURNING {table.pk})")
            else:
                wanted = self.updates[id(instance)][1]
                sets = ", ".join(
                    [
                        f"{column.sql} = "
                        + self._value(column, instance, names, literal, add=False)
                        for column in table.columns
                        if column.field.name in wanted or column.attname in wanted
                    ]
                )
                where = literal(meta.pk.get_db_prep_value(instance.pk, db))
                update = f"UPDATE {table.name} SET {sets} WHERE {table.pk} = {where}"  # noqa: S608
                parts.append(f"{name} AS ({update})")
        returned = [names[id(instance)] for instance in self.inserts]
        selected = [f"(SELECT * FROM {name})" for name in returned]  # noqa: S608
        if self.guard is not None:
            selected.insert(0, "(SELECT one FROM ok)")  # first: nothing is written before it
        with db.cursor() as cursor:
            try:
                cursor.execute(f"WITH {', '.join(parts)} SELECT {', '.join(selected)}")
            except DataError as error:
                if isinstance(error.__cause__, psycopg.errors.DivisionByZero):
                    raise GuardFailed from error
                raise
            row = cursor.fetchone()
        if self.guard is not None:
            row = row[1:]
        for instance, pk in zip(self.inserts, row, strict=True):
            if pk is None:  # an insert if absent that found its row there
                continue
            instance.pk = pk
            instance._state.adding = False
            instance._state.db = db.alias
        for _, instance in self.order:  # foreign keys to rows this batch inserted
            for field in _table(type(instance)).relations:
                if field.is_cached(instance):
                    related = field.get_cached_value(instance)
                    if related is not None and getattr(instance, field.attname) is None:
                        _set_id(instance, field, related.pk)

    def _value(self, column: "_Column", instance, names: dict, literal, *, add: bool) -> str:
        field = column.field
        if column.relation and field.is_cached(instance):
            related = field.get_cached_value(instance)
            if related is not None and related.pk is None:
                if id(related) not in names:
                    raise ValueError(f"{field} refers to a row that is neither saved nor noted")
                return f"(SELECT * FROM {names[id(related)]})"  # noqa: S608
            if related is not None:
                _set_id(instance, field, related.pk)
        value = getattr(instance, column.attname) if column.read else field.pre_save(instance, add)
        if value is None:
            return "NULL"
        if type(value) is int and column.plain is int:
            return str(value)  # digits, perhaps a minus: after "(", ", " or "= " as it is
        if type(value) is str and column.plain is str and "\\" not in value and "\0" not in value:
            # Quotes doubled: the same string under either standard_conforming_strings,
            # as long as it has no backslash (those, and NUL, go to psycopg).
            return "'" + value.replace("'", "''") + "'"
        if type(value) is column.plain and getattr(value, "tzinfo", True):
            return literal(value)  # an aware datetime: get_db_prep_save would keep it
        if isinstance(value, DatabaseDefault):  # a db_default the code did not set
            return "DEFAULT"
        return literal(field.get_db_prep_save(value, self.db))


# Field classes whose get_db_prep_save gives the driver a value of this exact type as it
# is, or (integers) in a wrapper that only names the column's type: the batch writes the
# value's literal at once. Anything else takes the field's own preparation (JSON, choices
# given as enum members, foreign keys, naive datetimes, ...).
_PLAIN = {
    models.CharField: str,
    models.TextField: str,
    models.BooleanField: bool,
    models.IntegerField: int,
    models.BigIntegerField: int,
    models.SmallIntegerField: int,
    models.PositiveIntegerField: int,
    models.PositiveBigIntegerField: int,
    models.PositiveSmallIntegerField: int,
    models.DateTimeField: dt.datetime,
}


class _Column(NamedTuple):
    field: models.Field
    attname: str
    sql: str  # the quoted column name
    plain: type | None  # _PLAIN's type for the field
    relation: bool
    read: bool  # pre_save only reads the attribute (no auto_now)


class _Table(NamedTuple):
    name: str
    pk: str
    columns: list[_Column]  # every concrete column
    inserted: list[_Column]  # every column but a generated id (a one-to-one pk is written)
    inserted_sql: str
    relations: list[models.Field]


@functools.cache
def _table(model: type[models.Model]) -> _Table:
    """What the batch needs of a model's table, worked out once (PostgreSQL's quoting)."""
    meta = model._meta
    quote = connection.ops.quote_name
    columns = [
        _Column(
            field=field,
            attname=field.attname,
            sql=quote(field.column),
            plain=_PLAIN.get(type(field)),
            relation=field.is_relation,
            read=type(field).pre_save is models.Field.pre_save
            or (
                isinstance(field, models.DateField)
                and not field.auto_now
                and not field.auto_now_add
            ),
        )
        for field in meta.concrete_fields
    ]
    inserted = [column for column in columns if column.field is not meta.auto_field]
    return _Table(
        name=quote(meta.db_table),
        pk=quote(meta.pk.column),
        columns=columns,
        inserted=inserted,
        inserted_sql=", ".join(column.sql for column in inserted),
        relations=[column.field for column in columns if column.relation],
    )


def _set_id(instance: models.Model, field, pk) -> None:
    # Past the attribute's descriptor, which would drop the related object it holds.
    instance.__dict__[field.attname] = pk


@contextmanager
def write_batch(*, guard: tuple[str, list] | None = None, alone: bool = False):
    """Note the writes of the block and send them together when it ends without an error.

    Without a guard, use it inside `transaction.atomic()`: the batch is one statement, the
    transaction what makes it one change with the reads and locks around it. With a guard
    (see the module's docstring) it needs no transaction and raises GuardFailed when the
    guard finds its rows changed. Inside a transaction a guarded batch takes a savepoint
    around the block, so that a failed guard undoes only its own statement and drops the
    on_commit callbacks the block registered.

    `alone`: writes that need no reads or locks around them (creating an object and its
    events). Outside a transaction the statement is its own transaction; on a database
    where batches are not one statement the block runs in transaction.atomic()."""
    if guard is None and not alone and not connection.in_atomic_block:
        raise RuntimeError("write_batch() runs inside transaction.atomic()")
    if guard is not None and not one_statement():
        raise RuntimeError("a guarded write_batch() needs PostgreSQL")
    if alone and not one_statement() and not connection.in_atomic_block:
        with transaction.atomic(), write_batch() as batch:
            yield batch
        return
    batch = WriteBatch(guard, alone=alone)
    if guard is not None and not batch.standalone:
        with transaction.atomic():
            with _noting(batch):
                yield batch
            batch.send()
        return
    with _noting(batch):
        yield batch
    batch.send()
    for func, robust in batch.after:  # the statement has committed
        if not robust:
            func()
            continue
        try:
            func()
        except Exception:
            logger.exception("a callback after a write batch failed")


@contextmanager
def _noting(batch: WriteBatch):
    token = _batch.set(batch)
    try:
        yield
    finally:
        _batch.reset(token)


def on_commit(func: Callable[[], object], *, robust: bool = False) -> None:
    """transaction.on_commit, and in a guarded batch outside a transaction: after its
    statement."""
    batch = _batch.get()
    if batch is not None and batch.standalone:
        batch.after.append((func, robust))
        return
    transaction.on_commit(func, robust=robust)


def atomic():
    """transaction.atomic(savepoint=False) for a service's writes, or nothing in a write
    batch, which writes them all or none already."""
    if _batch.get() is not None:
        return contextlib.nullcontext()
    return transaction.atomic(savepoint=False)


def deferring() -> bool:
    """Whether the current code runs in a guarded batch that commits by itself (what
    `on_commit` waits for)."""
    batch = _batch.get()
    return batch is not None and batch.standalone


def save(instance: models.Model, *, update_fields: list[str] | None = None) -> None:
    """instance.save(update_fields=...), or noted in the current batch."""
    batch = _batch.get()
    if batch is None:
        instance.save(update_fields=update_fields)
        return
    fields = update_fields or [f.name for f in instance._meta.concrete_fields if not f.primary_key]
    batch.note_update(instance, set(fields))


def insert(instance: models.Model) -> models.Model:
    """instance.save(force_insert=True), or noted in the current batch (its pk is set when
    the batch is sent). Outside a batch on PostgreSQL it is a batch of its own: the same
    INSERT, without the ORM's compiling."""
    batch = _batch.get()
    if batch is not None:
        batch.note_insert(instance)
    elif one_statement():
        with write_batch(alone=True) as batch:
            batch.note_insert(instance)
    else:
        instance.save(force_insert=True)
    return instance


def insert_if_absent(instance: models.Model) -> bool:
    """Insert the row unless one with the same unique values exists; whether it did (then
    the row is this transaction's, locked, until it ends). Not in a batch."""
    if _batch.get() is not None:
        raise RuntimeError("insert_if_absent() is a statement of its own, not in a batch")
    if one_statement():
        with write_batch(alone=True) as batch:
            batch.note_insert(instance, if_absent=True)
        return instance.pk is not None
    try:
        with transaction.atomic():
            instance.save(force_insert=True)
    except IntegrityError:
        instance.pk = None
        return False
    return True


def insert_many(instances: list[models.Model]) -> list[models.Model]:
    """bulk_create, or each noted in the current batch."""
    if not instances:
        return instances
    batch = _batch.get()
    if batch is None:
        return type(instances[0]).objects.bulk_create(instances)
    for instance in instances:
        batch.note_insert(instance)
    return instances
