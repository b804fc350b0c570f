"""The database itself keeps the ledger honest (PostgreSQL; SQLite relies on the posting
service's check):

- a deferred constraint trigger checks, at commit, that every journal that received entries
  sums to zero in each currency, so a journal may be written entry by entry inside one
  transaction but can never be committed unbalanced;
- journals and entries are append-only: UPDATE and DELETE raise. (TRUNCATE, used by test
  teardown, is not a row operation and stays possible for the database owner.)
"""

from django.db import migrations

FORWARD = [
    """
CREATE FUNCTION settlement_journal_balanced() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    bad record;
BEGIN
    SELECT currency, SUM(amount) AS total INTO bad
      FROM settlement_journalentry
     WHERE journal_id = NEW.journal_id
     GROUP BY currency
    HAVING SUM(amount) <> 0
     LIMIT 1;
    IF FOUND THEN
        RAISE EXCEPTION 'journal % is not balanced in %: entries sum to %',
            NEW.journal_id, bad.currency, bad.total
            USING ERRCODE = 'check_violation';
    END IF;
    RETURN NULL;
END
$$;
""",
    """
CREATE CONSTRAINT TRIGGER settlement_journalentry_balanced
    AFTER INSERT ON settlement_journalentry
    DEFERRABLE INITIALLY DEFERRED
    FOR EACH ROW EXECUTE FUNCTION settlement_journal_balanced();
""",
    """
CREATE FUNCTION settlement_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION '% is append-only: % refused (post a reversing journal instead)',
        TG_TABLE_NAME, TG_OP
        USING ERRCODE = 'insufficient_privilege';
END
$$;
""",
    """
CREATE TRIGGER settlement_journalentry_append_only
    BEFORE UPDATE OR DELETE ON settlement_journalentry
    FOR EACH ROW EXECUTE FUNCTION settlement_append_only();
""",
    """
CREATE TRIGGER settlement_journal_append_only
    BEFORE UPDATE OR DELETE ON settlement_journal
    FOR EACH ROW EXECUTE FUNCTION settlement_append_only();
""",
]

BACKWARD = [
    "DROP TRIGGER IF EXISTS settlement_journal_append_only ON settlement_journal;",
    "DROP TRIGGER IF EXISTS settlement_journalentry_append_only ON settlement_journalentry;",
    "DROP TRIGGER IF EXISTS settlement_journalentry_balanced ON settlement_journalentry;",
    "DROP FUNCTION IF EXISTS settlement_append_only();",
    "DROP FUNCTION IF EXISTS settlement_journal_balanced();",
]


class PostgresRunSQL(migrations.RunSQL):
    """RunSQL on PostgreSQL only: SQLite has neither plpgsql nor constraint triggers."""

    def database_forwards(self, app_label, schema_editor, from_state, to_state):
        if schema_editor.connection.vendor == "postgresql":
            super().database_forwards(app_label, schema_editor, from_state, to_state)

    def database_backwards(self, app_label, schema_editor, from_state, to_state):
        if schema_editor.connection.vendor == "postgresql":
            super().database_backwards(app_label, schema_editor, from_state, to_state)


class Migration(migrations.Migration):
    dependencies = [("settlement", "0001_initial")]

    operations = [PostgresRunSQL(FORWARD, BACKWARD)]
