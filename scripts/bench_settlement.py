#!/usr/bin/env python
"""Benchmark: settle N captured transactions across M merchants on PostgreSQL.

    DATABASE_URL=postgres://postgres@127.0.0.1:5439/gateway \\
        .venv/bin/python scripts/bench_settlement.py [--transactions 1000000] [--merchants 1000]

Creates (drops first) the database `<name>_bench_settlement` beside the one in DATABASE_URL,
migrates it, generates the captures with set-based SQL (generate_series: merchants, bank
accounts, one capture journal with its three entries, one pending balance transaction and its row
in the settlement queue per capture, all on one local day), then measures in one run:

- raw_group_seconds: the bare grouping query (SUM ... GROUP BY merchant, currency, day);
- raw_settle_sql_seconds: the same work as the service's SQL, hand-written (batches INSERT ...
  SELECT with ON CONFLICT, lines INSERT ... SELECT, UPDATE ... FROM), in a transaction that is
  rolled back;
- settle_seconds: settlement.services.batches.settlement_run (batches, lines, the balanced
  journals, and the automatic payout of every merchant: 1 per merchant);

and prints JSON with the peak memory of this process (ru_maxrss) and of its PostgreSQL
backend (VmHWM of the backend process, when /proc shows it).

The generated journals are bulk-loaded with session_replication_role = replica (triggers off:
the deferred balance check would run 3 million times at commit); one GROUP BY query then
verifies that every generated journal balances. The settlement run itself has every trigger on.
"""

import argparse
import json
import os
import resource
import sys
import time
from pathlib import Path
from urllib.parse import urlparse, urlunparse

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def _bench_url(url: str, suffix: str) -> tuple[str, str, str]:
    parsed = urlparse(url)
    if not parsed.scheme.startswith("postgres"):
        raise SystemExit("bench_settlement needs DATABASE_URL=postgres://...")
    name = parsed.path.lstrip("/") + suffix
    admin = urlunparse(parsed._replace(path="/postgres"))
    return urlunparse(parsed._replace(path="/" + name)), admin, name


def _recreate(admin_url: str, name: str) -> None:
    import psycopg

    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')


def _peak_kb_of(pid: int) -> int | None:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    except OSError:
        return None
    return None


GENERATE = [
    """
    INSERT INTO merchants_merchant
        (public_id, name, country, default_currency, timezone, status, created_at, updated_at,
         settlement_cutoff_hour, payout_delay_days, payouts_automatic, brand_color,
         logo_digest, checkout_allowed_origins)
    SELECT 'acct_bench' || lpad(i::text, 6, '0'), 'Bench ' || i, 'ID', 'idr', 'Asia/Jakarta',
           'active', now(), now(), 0, 2, true, '', '', '[]'::jsonb
      FROM generate_series(1, %(merchants)s) i
    """,
    """
    INSERT INTO merchants_bankaccount
        (public_id, merchant_id, currency, bank_code, account_number, account_holder_name,
         created_at, updated_at)
    SELECT 'ba_bench' || m.id, m.id, 'idr', 'bca', lpad(m.id::text, 10, '0'), m.name, now(),
           now()
      FROM merchants_merchant m
    """,
    """
    INSERT INTO settlement_ledgeraccount (merchant_id, livemode, currency, kind)
    SELECT id, false, 'idr', 'pending' FROM merchants_merchant
    UNION ALL SELECT NULL, false, 'idr', 'processor_receivable'
    UNION ALL SELECT NULL, false, 'idr', 'fee_revenue'
    """,
    # The captures: merchant round robin, gross 10,000 to 1,000,000 sen, fee 2.9 % + 500,
    # spread over one local day (Asia/Jakarta).
    """
    CREATE UNLOGGED TABLE bench_capture AS
    SELECT i,
           (SELECT min(id) FROM merchants_merchant) + (i %% %(merchants)s) AS merchant_id,
           10000 + (i::bigint * 7919) %% 990000 AS gross,
           (%(day)s::date::timestamp AT TIME ZONE 'Asia/Jakarta')
             + make_interval(secs => (i %% 86000)) AS at
      FROM generate_series(1, %(transactions)s) i
    """,
    "ALTER TABLE bench_capture ADD COLUMN fee bigint",
    "UPDATE bench_capture SET fee = (gross * 290 + 5000) / 10000 + 500",
    """
    INSERT INTO settlement_journal (merchant_id, livemode, kind, reference, description,
                                    created_at)
    SELECT merchant_id, false, 'capture', 'txn_bench' || i, '', at FROM bench_capture
    """,
    """
    CREATE UNLOGGED TABLE bench_journal AS
    SELECT c.*, j.id AS journal_id
      FROM bench_capture c JOIN settlement_journal j
        ON j.kind = 'capture' AND j.reference = 'txn_bench' || c.i
    """,
    """
    INSERT INTO settlement_journalentry (journal_id, account_id, currency, amount)
    SELECT b.journal_id, a.id, 'idr', b.gross FROM bench_journal b
      JOIN settlement_ledgeraccount a ON a.merchant_id IS NULL AND a.kind = 'processor_receivable'
    UNION ALL
    SELECT b.journal_id, a.id, 'idr', -(b.gross - b.fee) FROM bench_journal b
      JOIN settlement_ledgeraccount a ON a.merchant_id = b.merchant_id AND a.kind = 'pending'
    UNION ALL
    SELECT b.journal_id, a.id, 'idr', -b.fee FROM bench_journal b
      JOIN settlement_ledgeraccount a ON a.merchant_id IS NULL AND a.kind = 'fee_revenue'
    """,
    """
    INSERT INTO settlement_balancetransaction
        (public_id, merchant_id, livemode, type, status, currency, amount, fee, net,
         fee_details, source, reference, description, journal_id, settlement_date,
         available_on, created_at, updated_at)
    SELECT 'btxn_bench' || i, merchant_id, false, 'charge', 'pending', 'idr', gross, fee,
           gross - fee, '[]'::jsonb, 'ch_bench' || i, 'txn_bench' || i, '', journal_id,
           %(day)s::date, %(day)s::date + 1, at, at
      FROM bench_journal
    """,
    # The settlement queue, as ledger_post_capture fills it.
    """
    INSERT INTO settlement_unsettled
        (balance_transaction_id, merchant_id, livemode, currency, settlement_date, type,
         amount, fee, net, source, reference, payment_method_type)
    SELECT id, merchant_id, livemode, currency, settlement_date, type, amount, fee, net,
           source, reference, payment_method_type
      FROM settlement_balancetransaction
    """,
    "DROP TABLE bench_journal",
    "DROP TABLE bench_capture",
]

RAW_GROUP = """
    SELECT bt.merchant_id, bt.livemode, bt.currency, bt.settlement_date,
           SUM(CASE WHEN bt.type = 'charge' THEN bt.amount ELSE 0 END),
           SUM(CASE WHEN bt.type = 'refund' THEN -bt.amount ELSE 0 END),
           SUM(bt.fee), SUM(bt.net), COUNT(*)
      FROM settlement_balancetransaction bt
     WHERE bt.status = 'pending' AND bt.settlement_date <= %(day)s
     GROUP BY 1, 2, 3, 4
"""

RAW_SETTLE = [
    """
    INSERT INTO settlement_settlementbatch
        (public_id, merchant_id, livemode, currency, day, gross_amount, refund_amount,
         fee_amount, net_amount, count, run_id, created_at, updated_at)
    SELECT 'stl_raw' || row_number() OVER (), g.*, 'raw', now(), now()
      FROM (SELECT bt.merchant_id, bt.livemode, bt.currency, bt.settlement_date,
                   SUM(CASE WHEN bt.type = 'charge' THEN bt.amount ELSE 0 END),
                   SUM(CASE WHEN bt.type = 'refund' THEN -bt.amount ELSE 0 END),
                   SUM(bt.fee), SUM(bt.net), COUNT(*)
              FROM settlement_balancetransaction bt
             WHERE bt.status = 'pending' AND bt.settlement_date <= %(day)s
             GROUP BY 1, 2, 3, 4) g
    ON CONFLICT (merchant_id, livemode, currency, day) DO NOTHING
    """,
    """
    INSERT INTO settlement_settlementline
        (batch_id, balance_transaction_id, type, amount, fee, net, source, reference,
         created_at)
    SELECT b.id, bt.id, bt.type, bt.amount, bt.fee, bt.net, bt.source, bt.reference, now()
      FROM settlement_balancetransaction bt
      JOIN settlement_settlementbatch b
        ON b.run_id = 'raw' AND b.merchant_id = bt.merchant_id AND b.livemode = bt.livemode
       AND b.currency = bt.currency AND b.day = bt.settlement_date
     WHERE bt.status = 'pending' AND bt.settlement_date <= %(day)s
    """,
    """
    UPDATE settlement_balancetransaction AS bt
       SET status = 'available', settlement_batch_id = l.batch_id
      FROM settlement_settlementline l
     WHERE l.balance_transaction_id = bt.id
    """,
]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--transactions", type=int, default=1_000_000)
    parser.add_argument("--merchants", type=int, default=1_000)
    parser.add_argument("--day", default="2026-11-24", help="the local day of the captures")
    args = parser.parse_args()

    url, admin_url, name = _bench_url(os.environ.get("DATABASE_URL", ""), "_bench_settlement")
    _recreate(admin_url, name)
    os.environ["DATABASE_URL"] = url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.test")
    os.environ.setdefault("GATEWAY_DATA_DIR", str(ROOT / "var" / "bench-settlement"))

    import django

    django.setup()
    import datetime as dt
    from zoneinfo import ZoneInfo

    from django.core.management import call_command
    from django.db import connection, transaction

    from settlement.models import BalanceTransaction, Payout, SettlementBatch
    from settlement.services.batches import settlement_run

    call_command("migrate", verbosity=0)
    params = {"merchants": args.merchants, "transactions": args.transactions, "day": args.day}
    started = time.perf_counter()
    with connection.cursor() as cursor:
        backend_pid = connection.connection.info.backend_pid
        cursor.execute("SET session_replication_role = replica")
        for sql in GENERATE:
            cursor.execute(sql, params)
        cursor.execute("SET session_replication_role = DEFAULT")
        cursor.execute("ANALYZE")
        cursor.execute(
            "SELECT count(*) FROM (SELECT journal_id FROM settlement_journalentry "
            "GROUP BY journal_id, currency HAVING SUM(amount) <> 0) x"
        )
        unbalanced = cursor.fetchone()[0]
    generate_seconds = time.perf_counter() - started

    with connection.cursor() as cursor:
        started = time.perf_counter()
        cursor.execute(RAW_GROUP, params)
        groups = len(cursor.fetchall())
        raw_group_seconds = time.perf_counter() - started

    started = time.perf_counter()
    with transaction.atomic(), connection.cursor() as cursor:
        for sql in RAW_SETTLE:
            cursor.execute(sql, params)
        transaction.set_rollback(True)
    raw_settle_sql_seconds = time.perf_counter() - started
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE settlement_balancetransaction")

    day = dt.date.fromisoformat(args.day)
    now = dt.datetime.combine(day + dt.timedelta(days=1), dt.time(0, 10), ZoneInfo("Asia/Jakarta"))
    rss_before_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    started = time.perf_counter()
    result = settlement_run(now=now)
    settle_seconds = time.perf_counter() - started
    rss_after_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss

    settled = BalanceTransaction.objects.filter(status="available", type="charge").count()
    print(
        json.dumps(
            {
                "transactions": args.transactions,
                "merchants": args.merchants,
                "database": name,
                "generate_seconds": round(generate_seconds, 2),
                "generated_unbalanced_journals": unbalanced,
                "raw_group_seconds": round(raw_group_seconds, 3),
                "raw_group_rows": groups,
                "raw_settle_sql_seconds": round(raw_settle_sql_seconds, 3),
                "settle_seconds": round(settle_seconds, 3),
                "settle_vs_raw_settle_sql": round(settle_seconds / raw_settle_sql_seconds, 2),
                "settle_vs_raw_group": round(settle_seconds / raw_group_seconds, 2),
                "batches": len(result.batches),
                "batches_in_db": SettlementBatch.objects.count(),
                "payouts": len(result.payouts),
                "payouts_in_db": Payout.objects.count(),
                "settled_transactions": settled,
                "python_peak_rss_mb": round(rss_after_kb / 1024, 1),
                "python_peak_rss_before_settle_mb": round(rss_before_kb / 1024, 1),
                "postgres_backend_peak_rss_mb": round(_peak_kb_of(backend_pid) / 1024, 1)
                if _peak_kb_of(backend_pid)
                else None,
                "targets": {"seconds": 60, "memory_mb": 500, "ratio_vs_raw": 5},
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
