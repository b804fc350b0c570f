#!/usr/bin/env python
"""Benchmark: the dashboard's home and payments pages of a merchant with 100,000 payments.

    DATABASE_URL=postgres://postgres@127.0.0.1:5439/gateway \\
        .venv/bin/python scripts/bench_dashboard.py [--payments 100000] [--runs 15]

Creates (drops first) the database `<name>_bench_dashboard` beside the one in DATABASE_URL and
migrates it. Makes a few real payments through the payment services and the in-process
sandbox (a captured card payment, an uncaptured one, a declined one, one partly refunded),
then clones them with set-based SQL (INSERT ... SELECT over generate_series, every column
copied from its template but ids, public ids, times, amounts and the card's last 4) into
`--payments` payments spread over 90 days: payment methods, vault cards (10,000 distinct
last 4), intents, charges, and for the captured ones their capture journals with entries and
balance transactions, so the home page's balances and charts add up real ledger rows. The
generated journals are loaded with triggers off (session_replication_role = replica) and
checked to balance with one GROUP BY.

Then logs an owner in (Client.force_login: a session as after the password and two-factor
steps; these pages need no fresh two-factor step) and times GET of each page `--runs` times
after one warm-up: home (30 and 90 days; and 90 days with the cache emptied before each
GET, as when its cached earlier days expire), payments list, its page 2, a status filter,
a last 4 search and an email search that matches nothing. Prints one JSON line: per page
the median and p95 in ms and the number of queries, and whether every median is under
300 ms; also writes it to bench-results/bench_dashboard.json.
"""

import argparse
import contextlib
import json
import os
import statistics
import sys
import time
from pathlib import Path
from urllib.parse import urlparse, urlunparse

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

BUDGET_MS = 300
DAYS = 90
CARDS = 10_000


def _bench_url(url: str, suffix: str) -> tuple[str, str, str]:
    parsed = urlparse(url)
    if not parsed.scheme.startswith("postgres"):
        raise SystemExit("bench_dashboard needs DATABASE_URL=postgres://...")
    name = parsed.path.lstrip("/") + suffix
    admin = urlunparse(parsed._replace(path="/postgres"))
    return urlunparse(parsed._replace(path="/" + name)), admin, name


def _recreate(admin_url: str, name: str) -> None:
    import psycopg

    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')


def _columns(cursor, table: str) -> list[str]:
    cursor.execute(
        "SELECT column_name FROM information_schema.columns WHERE table_name = %s "
        "ORDER BY ordinal_position",
        [table],
    )
    return [row[0] for row in cursor.fetchall()]


def _clone(cursor, table: str, *, source: str, overrides: dict[str, str], params: dict) -> int:
    """INSERT INTO table SELECT every column of the template row(s) `t` (from `source`, a
    FROM clause with the series `g(i)`), each overridden by an SQL expression when given."""
    columns = [c for c in _columns(cursor, table) if c != "id" or "id" in overrides]
    select = ", ".join(overrides.get(c, f't."{c}"') for c in columns)
    names = ", ".join(f'"{c}"' for c in columns)
    cursor.execute(f"INSERT INTO {table} ({names}) SELECT {select} FROM {source}", params)
    return cursor.rowcount


def _templates(merchant) -> dict[str, object]:
    """One payment of each kind, made by the real services (and the in-process sandbox)."""
    from payments.services.payment_intents import (
        payment_intent_confirm,
        payment_intent_create,
    )
    from payments.services.refunds import refund_create

    def card(number: str, *, manual: bool = False):
        intent = payment_intent_create(
            merchant=merchant,
            livemode=False,
            amount=15_000_000,  # Rp150,000: the fee (2.9% + Rp2,000) leaves a net
            currency="idr",
            capture_method="manual" if manual else "automatic",
            receipt_email="buyer@example.com",
        )
        return payment_intent_confirm(
            intent=intent,
            payment_method_data={
                "type": "card",
                "card": {"number": number, "exp_month": 12, "exp_year": 2035, "cvc": "123"},
            },
        )

    from core.errors import CardError
    from payments.models import PaymentIntent

    # The declined intent stays, back to requires_payment_method with its failed charge.
    with contextlib.suppress(CardError):
        card("4000000000000002")
    declined = PaymentIntent.objects.filter(merchant=merchant).order_by("-id").first()
    captured = card("4242424242424242")
    refunded = card("5555555555554444")
    refund_create(payment_intent=refunded, amount=5_000_000)
    return {
        "captured": captured,
        "uncaptured": card("4000056655665556", manual=True),
        "declined": declined,
        "refunded": refunded,
    }


# Share of the generated payments per template kind.
MIX = [("captured", 0.78), ("declined", 0.12), ("uncaptured", 0.05), ("refunded", 0.05)]


def seed(cursor, templates: dict, total: int) -> dict:
    """Clone the templates into `total` payments with set-based SQL; returns counts."""
    from payments.models import Charge
    from settlement.models import BalanceTransaction, Journal

    params = {"total": total, "days": DAYS, "cards": CARDS}
    # Amounts are scaled by a small integer, so every copied ledger journal still balances.
    k = "(1 + g.i %% 7)"
    last4 = "lpad((g.i %% %(cards)s)::text, 4, '0')"
    cursor.execute("SET session_replication_role = replica")
    template_card = templates["captured"].payment_method.vault_card_id
    _clone(
        cursor,
        "payments_vaultcard",
        source="payments_vaultcard t, generate_series(0, %(cards)s - 1) g(i) WHERE t.id = "
        + str(template_card),
        overrides={
            "fingerprint": "'bench' || g.i",
            "last4": last4,
            "created_at": "now()",
            "updated_at": "now()",
        },
        params=params,
    )
    counts: dict[str, int] = {}
    start = 1
    for n, (kind, share) in enumerate(MIX):
        count = total - start + 1 if n == len(MIX) - 1 else int(total * share)
        intent = templates[kind]
        charge = Charge.objects.get(pk=intent.latest_charge_id)
        p = {**params, "lo": start, "hi": start + count - 1}
        series = "generate_series(%(lo)s, %(hi)s) g(i)"
        # Each kind spreads evenly over the 90 days, so the kinds interleave in time.
        frac = (n + 1) / (len(MIX) + 1)
        at_k = (
            f"(now() - make_interval(secs => (((g.i - %(lo)s)::float8 + {frac}) "
            f"* %(days)s * 86400 / {count})))"
        )
        # A declined intent has no payment method left; its charge keeps the one it tried.
        method_id = intent.payment_method_id or charge.payment_method_id
        _clone(
            cursor,
            "payments_paymentmethod",
            source=f"payments_paymentmethod t, {series} WHERE t.id = {method_id}",
            overrides={
                "public_id": "'pm_bench' || g.i",
                "vault_card_id": "(SELECT v.id FROM payments_vaultcard v WHERE v.fingerprint = "
                "'bench' || (g.i %% %(cards)s))",
                "details": f"jsonb_set(t.details, '{{last4}}', to_jsonb({last4}))",
                "created_at": at_k,
                "updated_at": at_k,
            },
            params=p,
        )
        _clone(
            cursor,
            "payments_paymentintent",
            source=f"payments_paymentintent t, {series} WHERE t.id = {intent.pk}",
            overrides={
                "public_id": "'pi_bench' || g.i",
                "client_secret": "'pi_bench' || g.i || '_secret_bench'",
                "payment_method_id": "(SELECT m.id FROM payments_paymentmethod m "
                "WHERE m.public_id = 'pm_bench' || g.i)"
                if intent.payment_method_id
                else "NULL",
                "latest_charge_id": "NULL",
                "amount": f"t.amount * {k}",
                "amount_received": f"t.amount_received * {k}",
                "amount_capturable": f"t.amount_capturable * {k}",
                "created_at": at_k,
                "updated_at": at_k,
            },
            params=p,
        )
        _clone(
            cursor,
            "payments_charge",
            source=f"payments_charge t, {series} WHERE t.id = {charge.pk}",
            overrides={
                "public_id": "'ch_bench' || g.i",
                "payment_intent_id": "(SELECT x.id FROM payments_paymentintent x "
                "WHERE x.public_id = 'pi_bench' || g.i)",
                "payment_method_id": "(SELECT m.id FROM payments_paymentmethod m "
                "WHERE m.public_id = 'pm_bench' || g.i)",
                "amount": f"t.amount * {k}",
                "amount_captured": f"t.amount_captured * {k}",
                "amount_refunded": f"t.amount_refunded * {k}",
                "created_at": at_k,
                "updated_at": at_k,
            },
            params=p,
        )
        # The template's ledger journals (capture, refund) with their entries and balance
        # transactions, one copy per payment.
        journals = list(
            Journal.objects.filter(
                pk__in=BalanceTransaction.objects.filter(
                    source__in=[charge.public_id, *(r.public_id for r in charge.refunds.all())]
                ).values("journal_id")
            )
        )
        for journal in journals:
            tag = f"'bench{journal.pk}_' || g.i"
            _clone(
                cursor,
                "settlement_journal",
                source=f"settlement_journal t, {series} WHERE t.id = {journal.pk}",
                overrides={"reference": tag, "created_at": at_k},
                params=p,
            )
            _clone(
                cursor,
                "settlement_journalentry",
                source=(
                    f"settlement_journalentry t, {series}, settlement_journal j "
                    f"WHERE t.journal_id = {journal.pk} AND j.kind = '{journal.kind}' "
                    f"AND j.reference = {tag}"
                ),
                overrides={"journal_id": "j.id", "amount": f"t.amount * {k}"},
                params=p,
            )
            _clone(
                cursor,
                "settlement_balancetransaction",
                source=(
                    f"settlement_balancetransaction t, {series}, settlement_journal j "
                    f"WHERE t.journal_id = {journal.pk} AND j.kind = '{journal.kind}' "
                    f"AND j.reference = {tag}"
                ),
                overrides={
                    "public_id": f"'btxn_bench{journal.pk}_' || g.i",
                    "journal_id": "j.id",
                    "source": "CASE WHEN t.source LIKE 'ch_%%' THEN 'ch_bench' || g.i "
                    "ELSE t.source || '_' || g.i END",
                    "reference": tag,
                    "amount": f"t.amount * {k}",
                    "fee": f"t.fee * {k}",
                    "net": f"t.net * {k}",
                    "created_at": at_k,
                    "updated_at": at_k,
                },
                params=p,
            )
        counts[kind] = count
        start += count
    cursor.execute(
        """
        UPDATE payments_paymentintent x SET latest_charge_id = c.id
          FROM payments_charge c
         WHERE c.public_id = 'ch_bench' || substr(x.public_id, 9)
           AND x.public_id LIKE 'pi_bench%%'
        """
    )
    cursor.execute("SET session_replication_role = DEFAULT")
    cursor.execute(
        "SELECT count(*) FROM (SELECT journal_id FROM settlement_journalentry "
        "GROUP BY journal_id, currency HAVING SUM(amount) <> 0) x"
    )
    counts["unbalanced_journals"] = cursor.fetchone()[0]
    cursor.execute("VACUUM ANALYZE")
    return counts


def measure(client, url: str, runs: int, *, cold: bool = False) -> dict:
    """Median and p95 of `runs` GETs after a warm-up, and the queries of one more. `cold`
    empties the cache before each GET (home's cached earlier days are recomputed)."""
    from django.core.cache import cache
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    response = client.get(url)  # warm-up
    if response.status_code != 200:
        raise SystemExit(f"GET {url} answered {response.status_code}")
    times = []
    for _ in range(runs):
        if cold:
            cache.clear()
        started = time.perf_counter()
        response = client.get(url)
        times.append((time.perf_counter() - started) * 1000)
        assert response.status_code == 200
    if cold:
        cache.clear()
    with CaptureQueriesContext(connection) as queries:
        client.get(url)
    times.sort()
    return {
        "median_ms": round(statistics.median(times), 1),
        "p95_ms": round(times[min(len(times) - 1, int(len(times) * 0.95))], 1),
        "queries": len(queries.captured_queries),
        "bytes": len(response.content),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--payments", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--reuse", action="store_true", help="keep the seeded database")
    args = parser.parse_args()

    url, admin_url, name = _bench_url(os.environ.get("DATABASE_URL", ""), "_bench_dashboard")
    if not args.reuse:
        _recreate(admin_url, name)
    os.environ["DATABASE_URL"] = url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.test")
    os.environ.setdefault("GATEWAY_DATA_DIR", str(ROOT / "var" / "bench-dashboard"))

    import django

    django.setup()
    from django.contrib.auth import get_user_model
    from django.core.management import call_command
    from django.db import connection
    from django.test import Client

    from merchants.models import Membership, Merchant
    from merchants.services import merchant_create

    call_command("migrate", verbosity=0)
    call_command("createcachetable", verbosity=0)  # the cache without REDIS_URL
    User = get_user_model()
    seed_seconds = None
    counts = None
    if args.reuse and Merchant.objects.filter(name="Bench Dashboard").exists():
        merchant = Merchant.objects.get(name="Bench Dashboard")
        user = User.objects.get(username="owner@bench.example")
    else:
        user = User.objects.create_user(
            username="owner@bench.example", email="owner@bench.example", password="x" * 20
        )
        merchant = merchant_create(name="Bench Dashboard", owner=user)
        if not Membership.objects.filter(user=user, merchant=merchant).exists():
            Membership.objects.create(user=user, merchant=merchant, role="owner")
        started = time.perf_counter()
        templates = _templates(merchant)
        with connection.cursor() as cursor:
            counts = seed(cursor, templates, args.payments)
        seed_seconds = round(time.perf_counter() - started, 1)

    client = Client()
    client.force_login(user)
    from payments.models import PaymentIntent

    page_2_after = (
        PaymentIntent.objects.filter(merchant=merchant, livemode=False)
        .order_by("-created_at", "-id")
        .values_list("public_id", flat=True)[24]
    )
    pages = {
        "home": "/dashboard/",
        "home_90d": "/dashboard/?range=90d",
        "payments": "/dashboard/payments/",
        "payments_page_2": f"/dashboard/payments/?after={page_2_after}",
        "payments_succeeded": "/dashboard/payments/?status=succeeded",
        "payments_last4": "/dashboard/payments/?q=4242",
        # An address no payment has: the search reads every payment (the worst case).
        "payments_email_none": "/dashboard/payments/?q=nobody%40example.com",
    }
    results = {name: measure(client, path, args.runs) for name, path in pages.items()}
    # The worst case of home: its cached earlier days expired (once per 5 minutes).
    results["home_90d_uncached"] = measure(client, pages["home_90d"], args.runs, cold=True)
    out = {
        "payments": PaymentIntent.objects.filter(merchant=merchant).count(),
        "seed_seconds": seed_seconds,
        "seeded": counts,
        "runs": args.runs,
        "budget_ms": BUDGET_MS,
        "pages": results,
        "all_under_budget": all(r["median_ms"] < BUDGET_MS for r in results.values()),
    }
    out_dir = ROOT / "bench-results"
    out_dir.mkdir(exist_ok=True)
    (out_dir / "bench_dashboard.json").write_text(json.dumps(out, indent=2))
    print(json.dumps(out))


if __name__ == "__main__":
    main()
