"""Writes of one transaction sent to the database together (issue #10: statements per request).

Inside `with write_batch():` (itself inside `transaction.atomic()`), `save` and `insert`
only note the write; when the block ends the noted writes go to the database at once. On
PostgreSQL that is one statement, a WITH of data-modifying parts (an UPDATE or INSERT per
row, inserts referring to rows inserted before them by `(SELECT id FROM wN)`); elsewhere
each write is the ORM's save, in the order they were noted. Outside a batch both
functions are the ORM's save at once, so a service reads the same either way.

What a batch does not do: reads inside the block see the database as it was before the
block (nothing noted is written yet), and model signals are not sent (the models written
here have no receivers). Values are read when the batch is sent, so a row noted twice is
written once with its final values, and a row inserted and then changed is inserted as it
ends up.
"""

from contextlib import contextmanager
from contextvars import ContextVar

from django.db import connection, models

_batch: ContextVar["WriteBatch | None"] = ContextVar("write_batch", default=None)


class WriteBatch:
    def __init__(self) -> None:
        self.inserts: list[models.Model] = []
        self.updates: dict[int, tuple[models.Model, set[str]]] = {}  # id(instance): fields
        self.order: list[tuple[str, models.Model]] = []

    def note_insert(self, instance: models.Model) -> None:
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
        if connection.vendor == "postgresql":
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
        params: list = []
        # Only quoted table and column names of our models and the parts' own names (wN)
        # are formatted into the statement (the S608 notes below); values are parameters.
        quote = connection.ops.quote_name
        for kind, instance in self.order:
            meta = instance._meta
            name = names[id(instance)]
            if kind == "insert":
                # every column but a generated id (a one-to-one primary key is written)
                fields = [f for f in meta.concrete_fields if f is not meta.auto_field]
                values = [self._value(f, instance, names, add=True) for f in fields]
                placeholders = []
                for sql, param in values:
                    placeholders.append(sql)
                    params.extend(param)
                table, pk = quote(meta.db_table), quote(meta.pk.column)
                columns, values_sql = (
                    ", ".join(quote(f.column) for f in fields),
                    ", ".join(placeholders),
                )
                insert = f"INSERT INTO {table} ({columns}) VALUES ({values_sql}) RETURNING {pk}"  # noqa: S608
                parts.append(f"{name} AS ({insert})")
            else:
                wanted = self.updates[id(instance)][1]
                fields = [
                    f for f in meta.concrete_fields if f.name in wanted or f.attname in wanted
                ]
                sets = []
                for field in fields:
                    sql, param = self._value(field, instance, names, add=False)
                    sets.append(f"{quote(field.column)} = {sql}")
                    params.extend(param)
                params.append(instance.pk)
                table, pk = quote(meta.db_table), quote(meta.pk.column)
                update = f"UPDATE {table} SET {', '.join(sets)} WHERE {pk} = %s"  # noqa: S608
                parts.append(f"{name} AS ({update})")
        returned = [names[id(instance)] for instance in self.inserts]
        select = ", ".join(f"(SELECT * FROM {name})" for name in returned) or "1"  # noqa: S608
        with connection.cursor() as cursor:
            cursor.execute(f"WITH {', '.join(parts)} SELECT {select}", params)
            row = cursor.fetchone()
        for instance, pk in zip(self.inserts, row if returned else (), strict=True):
            instance.pk = pk
            instance._state.adding = False
            instance._state.db = connection.alias
        for _, instance in self.order:  # foreign keys to rows this batch inserted
            for field in instance._meta.concrete_fields:
                if field.is_relation and field.is_cached(instance):
                    related = field.get_cached_value(instance)
                    if related is not None and getattr(instance, field.attname) is None:
                        setattr(instance, field.attname, related.pk)

    def _value(self, field, instance, names: dict, *, add: bool) -> tuple[str, list]:
        if field.is_relation and field.is_cached(instance):
            related = field.get_cached_value(instance)
            if related is not None and related.pk is None:
                if id(related) not in names:
                    raise ValueError(f"{field} refers to a row that is neither saved nor noted")
                return f"(SELECT * FROM {names[id(related)]})", []  # noqa: S608
            if related is not None:
                setattr(instance, field.attname, related.pk)
        value = field.pre_save(instance, add)
        return "%s", [field.get_db_prep_save(value, connection)]


@contextmanager
def write_batch():
    """Note the writes of the block and send them together when it ends without an error.
    Use it inside `transaction.atomic()`: the batch is one statement, the transaction what
    makes it one change with the reads and locks around it."""
    if not connection.in_atomic_block:
        raise RuntimeError("write_batch() runs inside transaction.atomic()")
    batch = WriteBatch()
    token = _batch.set(batch)
    try:
        yield batch
    finally:
        _batch.reset(token)
    batch.send()


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
    the batch is sent)."""
    batch = _batch.get()
    if batch is None:
        instance.save(force_insert=True)
    else:
        batch.note_insert(instance)
    return instance


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
