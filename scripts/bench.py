"""`make bench`: the gateway as in production, measured on loopback, bounded in time.

Starts PostgreSQL and Redis (scripts/services.sh), a fresh `gateway_bench` database,
gunicorn with workers sized to the machine, and a Celery worker; then measures card
payments per second at several concurrencies (p50/p95/p99 per endpoint), the manual-capture
and refund flows, and the database's own limit for the same SQL (pgbench running exactly the
statements one payment makes, taken from PostgreSQL's statement log of a real payment).
Other parts (webhook deliveries, settlement) run their own scripts when present. Prints a
table and writes bench-results/bench.json.

The load generator shares the machine's cores with the server: numbers are a floor.
"""

import argparse
import base64
import http.client
import json
import os
import random
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path
from urllib.parse import urlencode

import requests

ROOT = Path(__file__).resolve().parent.parent
PY = str(ROOT / ".venv" / "bin" / "python")
PORT = int(os.environ.get("BENCH_PORT", "8765"))
BASE = f"http://127.0.0.1:{PORT}"
DB_NAME = "gateway_bench"


def log(message: str) -> None:
    print(f"[bench] {message}", file=sys.stderr, flush=True)


# --- environment --------------------------------------------------------------------------


def start_services() -> dict:
    out = subprocess.run(
        [str(ROOT / "scripts" / "services.sh"), "start"], capture_output=True, text=True, check=True
    ).stdout
    env = dict(line.split("=", 1) for line in out.split() if "=" in line)
    base_db = env["DATABASE_URL"].rsplit("/", 1)[0]
    env["PG_ADMIN_URL"] = base_db + "/postgres"
    env["DATABASE_URL"] = f"{base_db}/{DB_NAME}"
    env["REDIS_URL"] = env["REDIS_URL"].rsplit("/", 1)[0] + "/12"
    return env


def psql(url: str, sql: str) -> str:
    run = subprocess.run(
        ["psql", url, "-v", "ON_ERROR_STOP=1", "-tAc", sql], capture_output=True, text=True
    )
    if run.returncode != 0:
        raise RuntimeError(f"psql failed: {run.stderr.strip()}\n{sql[:300]}")
    return run.stdout.strip()


def server_env(services: dict) -> dict:
    return {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.production",
        "DJANGO_SECRET_KEY": "bench-secret-key-" + "x" * 40,
        "DJANGO_ALLOWED_HOSTS": "127.0.0.1,localhost",
        "DJANGO_SECURE_SSL_REDIRECT": "false",
        "DATABASE_URL": services["DATABASE_URL"],
        "REDIS_URL": services["REDIS_URL"],
        "GATEWAY_VAULT_KEYS": "bench1:YmVuY2gtdmF1bHQta2V5LXRoaXJ0eS10d28tYnl0ZXM=",
        "GATEWAY_FINGERPRINT_KEY": "bench-fingerprint",
        "GATEWAY_BASE_URL": BASE,
        "LOG_LEVEL": "WARNING",
        # One key drives the whole load: the per-key limit would measure itself.
        "GATEWAY_API_RATE_LIMIT_PER_SECOND": "0",
        "DJANGO_STATIC_ROOT": str(Path(tempfile.gettempdir()) / "bench-static"),
    }


def manage(env: dict, *args: str) -> str:
    return subprocess.run(
        [PY, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True, check=True
    ).stdout


class Processes:
    def __init__(self):
        self.procs: list[subprocess.Popen] = []

    def start(self, args: list[str], env: dict, name: str) -> subprocess.Popen:
        logfile = open(Path(tempfile.gettempdir()) / f"bench-{name}.log", "w")  # noqa: SIM115
        proc = subprocess.Popen(
            args,
            cwd=ROOT,
            env=env,
            stdout=logfile,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        self.procs.append(proc)
        return proc

    def stop(self) -> None:
        for proc in self.procs:
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGTERM)
        for proc in self.procs:
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)


def wait_ready(timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if requests.get(f"{BASE}/readyz", timeout=2).status_code == 200:
                return
        except requests.RequestException:
            pass
        time.sleep(0.3)
    raise RuntimeError("the gateway did not become ready")


# --- where the CPU goes ---------------------------------------------------------------------

CLK_TCK = os.sysconf("SC_CLK_TCK")


def _stat_fields(pid: int) -> list[str] | None:
    try:  # the fields after "(comm)", which may itself hold spaces
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return None


def _cpu_seconds(pid: int) -> float:
    fields = _stat_fields(pid)
    return (int(fields[11]) + int(fields[12])) / CLK_TCK if fields else 0.0


def _process_tree(root: int) -> list[int]:
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit() and (fields := _stat_fields(int(entry.name))):
            children.setdefault(int(fields[1]), []).append(int(entry.name))
    found, stack = [], [root]
    while stack:
        pid = stack.pop()
        found.append(pid)
        stack.extend(children.get(pid, []))
    return found


class CpuMeter:
    """CPU time of each part of the system under load: gunicorn and its workers, the
    Celery worker, the PostgreSQL backends of the bench database, and this process (the
    load generator). Read from /proc before and after a load step, per process, so that
    processes born during the step count from zero."""

    def __init__(self, *, groups: dict[str, int], database_url: str):
        self.groups, self.database_url = groups, database_url

    def sample(self) -> dict[str, dict[int, float]]:
        pids = {name: _process_tree(root) for name, root in self.groups.items()}
        backends = psql(
            self.database_url,
            f"SELECT pid FROM pg_stat_activity WHERE datname = '{DB_NAME}' "
            "AND pid <> pg_backend_pid()",
        )
        pids["postgres"] = [int(p) for p in backends.split()]
        taken = {name: {pid: _cpu_seconds(pid) for pid in group} for name, group in pids.items()}
        taken["load generator"] = {os.getpid(): time.process_time()}
        return taken

    @staticmethod
    def spent(before: dict, after: dict) -> dict[str, float]:
        return {
            name: sum(max(0.0, t - before.get(name, {}).get(pid, 0.0)) for pid, t in now.items())
            for name, now in after.items()
        }


# --- load ---------------------------------------------------------------------------------


def luhn_card(prefix: str = "4") -> str:
    body = prefix + "".join(random.choice("0123456789") for _ in range(15 - len(prefix)))
    for digit in "0123456789":
        candidate = body + digit
        total = 0
        for i, ch in enumerate(reversed(candidate)):
            v = int(ch) * (2 if i % 2 else 1)
            total += v - 9 if v > 9 else v
        if total % 10 == 0:
            return candidate
    raise AssertionError


def card_data() -> dict:
    # A fresh card for every payment: one card reused thousands of times would trip the
    # sandbox issuer's velocity check and credit limit, which is not what we measure.
    return {
        "payment_method_data[type]": "card",
        "payment_method_data[card][number]": luhn_card(),
        "payment_method_data[card][exp_month]": "12",
        "payment_method_data[card][exp_year]": str(time.gmtime().tm_year + 3),
        "payment_method_data[card][cvc]": "123",
    }


def flow_payment(call) -> None:
    intent = call("create", "/v1/payment_intents", {"amount": 1500000, "currency": "idr"})
    if intent is not None:
        confirmed = call("confirm", f"/v1/payment_intents/{intent['id']}/confirm", card_data())
        if confirmed is not None and confirmed["status"] != "succeeded":
            call.error("confirm_not_succeeded")


def flow_manual_capture(call) -> None:
    intent = call(
        "create_confirm_manual",
        "/v1/payment_intents",
        {
            "amount": 1500000,
            "currency": "idr",
            "capture_method": "manual",
            "confirm": "true",
            **card_data(),
        },
    )
    if intent is not None:
        call(
            "capture", f"/v1/payment_intents/{intent['id']}/capture", {"amount_to_capture": 1000000}
        )


def flow_refund(call) -> None:
    intent = call(
        "create_confirm",
        "/v1/payment_intents",
        {"amount": 1500000, "currency": "idr", "confirm": "true", **card_data()},
    )
    if intent is not None:
        call("refund", "/v1/refunds", {"payment_intent": intent["id"], "amount": 500000})


class _Caller:
    """POSTs a form with a fresh Idempotency-Key, timing each call by endpoint label.

    Over http.client, not requests: the load generator shares the machine's cores with the
    server, and requests spent 2.5 to 3 ms of CPU per payment (two calls), http.client
    about 1 ms. A new connection each time, as gunicorn's sync workers
    close it after every response anyway."""

    def __init__(self, key: str, latencies: dict, errors: dict, lock: threading.Lock):
        token = base64.b64encode(f"{key}:".encode()).decode()
        self.headers = {
            "Authorization": f"Basic {token}",
            "Content-Type": "application/x-www-form-urlencoded",
        }
        self.latencies, self.errors, self.lock = latencies, errors, lock

    def __call__(self, label: str, path: str, data: dict):
        body = urlencode(data)
        headers = {**self.headers, "Idempotency-Key": str(uuid.uuid4())}
        started = time.perf_counter()
        connection = http.client.HTTPConnection("127.0.0.1", PORT, timeout=30)
        try:
            connection.request("POST", path, body, headers)
            response = connection.getresponse()
            payload = response.read()
        except (OSError, http.client.HTTPException):
            self.error(label)
            return None
        finally:
            connection.close()
        elapsed = (time.perf_counter() - started) * 1000
        if response.status != 200:
            self.error(f"{label}:{response.status}")
            return None
        with self.lock:
            self.latencies.setdefault(label, []).append(elapsed)
        return json.loads(payload)

    def error(self, label: str) -> None:
        with self.lock:
            self.errors[label] = self.errors.get(label, 0) + 1


def run_load(
    flow, *, key: str, concurrency: int, seconds: float, meter: CpuMeter | None = None
) -> dict:
    latencies: dict[str, list[float]] = {}
    errors: dict[str, int] = {}
    lock = threading.Lock()
    flows_done = [0]
    stop_at = time.monotonic() + seconds

    def worker():
        call = _Caller(key, latencies, errors, lock)
        while time.monotonic() < stop_at:
            flow(call)
            with lock:
                flows_done[0] += 1

    threads = [threading.Thread(target=worker) for _ in range(concurrency)]
    cpu_before = meter.sample() if meter else None
    began = time.monotonic()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.monotonic() - began
    cpu = CpuMeter.spent(cpu_before, meter.sample()) if meter else {}
    endpoints = {}
    for label, values in sorted(latencies.items()):
        values.sort()
        endpoints[label] = {
            "count": len(values),
            "p50_ms": round(_pct(values, 50), 1),
            "p95_ms": round(_pct(values, 95), 1),
            "p99_ms": round(_pct(values, 99), 1),
            "mean_ms": round(statistics.fmean(values), 1),
        }
    return {
        "concurrency": concurrency,
        "seconds": round(elapsed, 2),
        "flows": flows_done[0],
        "flows_per_second": round(flows_done[0] / elapsed, 1),
        # CPU milliseconds per flow by part, and how many of the machine's cores were busy
        "cpu_ms_per_flow": {
            name: round(t * 1000 / max(1, flows_done[0]), 1) for name, t in cpu.items()
        },
        "cores_busy": round(sum(cpu.values()) / elapsed, 2) if cpu else None,
        "errors": errors,
        "endpoints": endpoints,
    }


def _pct(values: list[float], pct: float) -> float:
    if not values:
        return 0.0
    index = min(len(values) - 1, max(0, round(pct / 100 * len(values)) - 1))
    return values[index]


# --- the database's own limit: pgbench on the SQL of one real payment -----------------------

# Prefixed random ids (pi_..., sbx_auth_...): the random part has capitals or digits, which
# tells it from enum values such as 'requires_payment_method'.
_ID_LITERAL = re.compile(
    r"'([a-z]{2,8}(?:_[a-z]+)?)_((?=[A-Za-z0-9_-]*[A-Z0-9])[A-Za-z0-9_-]{12,})'"
)
_UUID_LITERAL = re.compile(r"'[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}'")
_HEX64 = re.compile(r"'[0-9a-f]{64}'")


def capture_payment_sql(services: dict, env: dict, key: str) -> tuple[list[str], dict]:
    """Statements (with BEGIN/COMMIT) of one create + confirm, from PostgreSQL's log."""
    admin = services["PG_ADMIN_URL"]
    services_dir = os.environ.get("GATEWAY_SERVICES_DIR") or str(
        Path(tempfile.gettempdir()) / "gateway-services"
    )
    log_path = Path(services_dir) / "pg.log"
    before = table_last_ids(services["DATABASE_URL"])
    psql(admin, f"ALTER DATABASE {DB_NAME} SET log_statement = 'all'")
    try:
        script = f"""
import django, json
from urllib.parse import urlencode
django.setup()
from django.db import connection
from django.test import Client
client = Client(HTTP_AUTHORIZATION="Bearer {key}")
FORM = "application/x-www-form-urlencoded"
with connection.cursor() as c: c.execute("SELECT 'bench-capture-start'")
intent = client.post("/v1/payment_intents", "amount=1500000&currency=idr", content_type=FORM,
                     HTTP_IDEMPOTENCY_KEY="{uuid.uuid4()}").json()
data = {json.dumps(card_data())}
r = client.post(f"/v1/payment_intents/{{intent['id']}}/confirm", urlencode(data),
                content_type=FORM, HTTP_IDEMPOTENCY_KEY="{uuid.uuid4()}")
assert r.status_code == 200, r.content
with connection.cursor() as c: c.execute("SELECT 'bench-capture-end'")
"""
        run = subprocess.run(
            [PY, "-c", script],
            cwd=ROOT,
            env={**env, "DJANGO_ALLOWED_HOSTS": "*"},
            check=False,
            capture_output=True,
            text=True,
        )
    finally:
        psql(admin, f"ALTER DATABASE {DB_NAME} RESET log_statement")
    if run.returncode != 0:
        raise RuntimeError(f"capturing a payment's SQL failed:\n{run.stderr[-2000:]}")
    text = log_path.read_text(errors="replace")
    start = text.rfind("SELECT 'bench-capture-start'")
    end = text.find("SELECT 'bench-capture-end'", start)
    statements = []
    for match in re.finditer(r"LOG:  statement: (.*?)(?=\n\S|\Z)", text[start:end], re.S):
        sql = match.group(1).strip()
        if sql and "bench-capture" not in sql:  # the end marker leaves an empty match
            statements.append(" ".join(sql.split()))
    return statements, before


def _fresh_id(match: re.Match) -> str:
    prefix, rest = match.group(1), match.group(2)
    if prefix == "acct":  # the merchant's id: the same for every payment
        return match.group(0)
    return f"('{prefix}_' || substr(md5(random()::text) || md5(random()::text), 1, {len(rest)}))"


# A multi-row insert (UNNEST) carries its public ids in an array literal: '{evt_..,evt_..}'.
_ARRAY_LITERAL = re.compile(r"'\{([^'{}\"]*)\}'")


def table_last_ids(url: str) -> dict[str, int]:
    """The last id each table's sequence handed out (the next insert gets the one after)."""
    tables = psql(
        url,
        """
        SELECT table_name FROM information_schema.columns
        WHERE table_schema = 'public' AND column_name = 'id'""",
    ).split()
    query = " UNION ALL ".join(
        f"SELECT '{t}', coalesce(pg_sequence_last_value(pg_get_serial_sequence('{t}', 'id')), 0)"
        for t in tables
    )
    out = psql(url, query)
    return {t: int(n) for t, n in (line.split("|") for line in out.splitlines() if line)}


def foreign_keys(url: str) -> dict[tuple[str, str], str]:
    out = psql(
        url,
        """
        SELECT c.conrelid::regclass::text, a.attname, c.confrelid::regclass::text
        FROM pg_constraint c
        JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = c.conkey[1]
        WHERE c.contype = 'f'""",
    )
    return {(t, col): target for t, col, target in (ln.split("|") for ln in out.splitlines() if ln)}


def _split_values(text: str) -> list[str]:
    """Split a VALUES tuple's inside at top-level commas (quotes and parentheses respected)."""
    parts, depth, quoted, current = [], 0, False, []
    i = 0
    while i < len(text):
        ch = text[i]
        if quoted:
            current.append(ch)
            if ch == "'":
                if i + 1 < len(text) and text[i + 1] == "'":
                    current.append("'")
                    i += 1
                else:
                    quoted = False
        elif ch == "'":
            quoted = True
            current.append(ch)
        elif ch in "([":
            depth += 1
            current.append(ch)
        elif ch in ")]":
            depth -= 1
            current.append(ch)
        elif ch == "," and depth == 0:
            parts.append("".join(current).strip())
            current = []
        else:
            current.append(ch)
        i += 1
    parts.append("".join(current).strip())
    return parts


# Django returns the id, and any other database-default column, of what it inserts.
_INSERT = re.compile(
    r'^INSERT INTO "(\w+)" \((.*?)\) VALUES \((.*?)\)( RETURNING "\w+"\."id"(?:, "\w+"\."\w+")*)?$',
    re.S,
)
_COLUMN_EQ = re.compile(r'"(\w+)"\."(\w+)" = (\d+)')
_SET_EQ = re.compile(r'(?<!\.)"(\w+)" = (\d+)')


def _top_level_select(sql: str) -> int:
    """Where the main SELECT of a WITH statement starts (outside quotes and parentheses)."""
    depth, quoted = 0, False
    for i, ch in enumerate(sql):
        if quoted:
            quoted = ch != "'"  # a doubled quote closes and reopens: the same for this scan
        elif ch == "'":
            quoted = True
        elif ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
        elif depth == 0 and sql.startswith(" SELECT ", i):
            return i
    raise ValueError("no main SELECT in the WITH statement")


def pgbench_script(statements: list[str], *, before: dict, fks: dict, url: str) -> str:
    """Make the captured statements repeatable by many clients at once.

    Rows the payment inserts get fresh ids (RETURNING ... \\gset) that the later statements
    use, as in the real request; unique random values (public ids, keys, hashes) are drawn
    afresh; rows that already existed (the merchant, its key, its ledger accounts) stay the
    same for every client, as they are for every real payment of one merchant.
    """
    inserted: dict[str, int] = {}
    variables: dict[tuple[str, int], str] = {}
    # A random value (a public id, a key, a hash) is drawn once per transaction, into a
    # variable, so that the statements that look a row up by it find the row this
    # transaction inserted, through its index, as the request did.
    fresh: dict[str, tuple[str, str]] = {}  # the captured literal: (variable, expression)

    def fresh_value(literal: str, expression: str) -> str:
        if literal not in fresh:
            fresh[literal] = (f"fresh_{len(fresh) + 1}", expression)
        return f"':{fresh[literal][0]}'"

    def fresh_id(match: re.Match) -> str:
        expression = _fresh_id(match)
        if expression == match.group(0):  # the merchant's id stays
            return expression
        return fresh_value(match.group(0), expression)

    def fresh_array_ids(match: re.Match) -> str:
        elements = [f"'{element}'" for element in match.group(1).split(",")]
        ids = [_ID_LITERAL.fullmatch(element) for element in elements]
        if not any(m and m.group(1) != "acct" for m in ids):
            return match.group(0)
        return (
            "ARRAY["
            + ", ".join(fresh_id(m) if m else e for m, e in zip(ids, elements, strict=True))
            + "]"
        )

    def ref(table: str | None, value: str) -> str:
        if table is None:
            return value
        return f":{variables[(table, int(value))]}" if (table, int(value)) in variables else value

    def columns_eq(sql: str) -> str:
        return _COLUMN_EQ.sub(
            lambda m: (
                f'"{m.group(1)}"."{m.group(2)}" = '
                + ref(
                    m.group(1) if m.group(2) == "id" else fks.get((m.group(1), m.group(2))),
                    m.group(3),
                )
            ),
            sql,
        )

    def new_insert(table: str) -> str:
        inserted[table] = inserted.get(table, 0) + 1
        var = f"{table}_{inserted[table]}_"
        variables[(table, before.get(table, 0) + inserted[table])] = var + "id"
        return var

    def write_batch(sql: str) -> str:
        r"""A write batch (core.writes): WITH [g AS (guard), ok AS (...),] wN AS (INSERT ...
        RETURNING "id" | UPDATE ...), ... SELECT ...: its inserts get fresh ids, returned
        under names that \gset keeps for the statements after it."""
        cut = _top_level_select(sql)
        selected, returned = [], []
        parts = []
        for part in _split_values(sql[len("WITH ") : cut]):
            name, inner = re.match(r"^(\w+) AS \((.*)\)$", part, re.S).groups()
            insert = re.match(
                r'^INSERT INTO "(\w+)" \((.*?)\) VALUES \((.*)\)( ON CONFLICT DO NOTHING)?'
                r' RETURNING "id"$',
                inner,
                re.S,
            )
            update = re.match(r'^UPDATE "(\w+)" SET (.*) WHERE "id" = (\d+)$', inner, re.S)
            if insert:
                table, columns = (
                    insert.group(1),
                    [c.strip().strip('"') for c in insert.group(2).split(",")],
                )
                values = [
                    ref(fks.get((table, col)), v) if v.isdigit() else v
                    for col, v in zip(columns, _split_values(insert.group(3)), strict=True)
                ]
                inner = (
                    f'INSERT INTO "{table}" ({insert.group(2)}) '
                    f'VALUES ({", ".join(values)}){insert.group(4) or ""} RETURNING "id"'
                )
                returned.append((name, new_insert(table) + "id"))
            elif update:
                table = update.group(1)
                sets = _SET_EQ.sub(
                    lambda m, t=table: (
                        f'"{m.group(1)}" = ' + ref(fks.get((t, m.group(1))), m.group(2))
                    ),
                    update.group(2),
                )
                inner = f'UPDATE "{table}" SET {sets} WHERE "id" = {ref(table, update.group(3))}'
            else:  # the guard
                inner = columns_eq(inner)
                if name == "ok":
                    selected.append("(SELECT one FROM ok) AS guard_ok")
            parts.append(f"{name} AS ({inner})")
        selected += [f"(SELECT * FROM {name}) AS {var}" for name, var in returned]
        return f"WITH {', '.join(parts)} SELECT {', '.join(selected) or '1'} \\gset"

    lines = []
    for sql in statements:
        sql = _ID_LITERAL.sub(fresh_id, sql)
        sql = _ARRAY_LITERAL.sub(fresh_array_ids, sql)
        sql = _UUID_LITERAL.sub(lambda m: fresh_value(m.group(0), "gen_random_uuid()::text"), sql)
        sql = _HEX64.sub(
            lambda m: fresh_value(m.group(0), "md5(random()::text) || md5(random()::text)"), sql
        )
        if sql.startswith("WITH "):
            lines.append(write_batch(sql))
            continue
        # An insert that may meet its row already there (the sandbox opening a card's
        # account): with a fresh unique value it always inserts, and its id is kept.
        on_conflict = sql.endswith(" ON CONFLICT DO NOTHING")
        if on_conflict:
            into = re.match(r'^INSERT INTO "(\w+)"', sql).group(1)
            sql = sql.removesuffix(" ON CONFLICT DO NOTHING") + f' RETURNING "{into}"."id"'
        match = _INSERT.match(sql)
        if match and "UNNEST" not in sql:
            table, columns = (
                match.group(1),
                [c.strip().strip('"') for c in match.group(2).split(",")],
            )
            values = _split_values(match.group(3))
            if len(values) == len(columns):
                values = [
                    ref(fks.get((table, col)), v) if v.isdigit() else v
                    for col, v in zip(columns, values, strict=True)
                ]
                cols = ", ".join(f'"{c}"' for c in columns)
                insert = f'INSERT INTO "{table}" ({cols}) VALUES ({", ".join(values)})'
                if on_conflict:
                    insert += " ON CONFLICT DO NOTHING"
                if not match.group(4):  # a table keyed by another row's id: nothing returned
                    lines.append(insert + ";")
                    continue
                lines.append(f'{insert} RETURNING "id" \\gset {new_insert(table)}')
                continue
        sql = columns_eq(sql)
        update = re.match(r'^UPDATE "(\w+)"', sql)
        if update:
            table = update.group(1)
            sql = _SET_EQ.sub(
                lambda m, t=table: f'"{m.group(1)}" = ' + ref(fks.get((t, m.group(1))), m.group(2)),
                sql,
            )
        lines.append(sql.rstrip(";") + ";")
    if fresh:
        drawn = ", ".join(f"({expression}) AS {var}" for var, expression in fresh.values())
        lines.insert(0, f"SELECT {drawn} \\gset")
    return "\n".join(lines) + "\n"


def run_pgbench(script: str, services: dict, *, concurrency: int, seconds: int) -> dict:
    path = Path(tempfile.gettempdir()) / "bench-payment.sql"
    path.write_text(script)
    url = services["DATABASE_URL"]
    out = subprocess.run(
        [
            "pgbench",
            "-n",
            "-f",
            str(path),
            "-c",
            str(concurrency),
            "-j",
            str(min(concurrency, 2)),
            "-T",
            str(seconds),
            "-M",
            "simple",
            url,
        ],
        capture_output=True,
        text=True,
    )
    tps = re.search(r"tps = ([\d.]+)", out.stdout)
    failed = re.search(r"number of failed transactions: (\d+)", out.stdout)
    return {
        "concurrency": concurrency,
        "tps": round(float(tps.group(1)), 1) if tps else None,
        "failed": int(failed.group(1)) if failed else None,
        "error": None if tps else (out.stderr or out.stdout)[-500:],
    }


# --- the checkout page: Lighthouse --------------------------------------------------------


def lighthouse_checkout(key: str) -> dict:
    """Scores and transfer size of a hosted checkout page, by Lighthouse in the system
    Chromium (npm's lighthouse, installed once under bench-results/node)."""
    node_dir = ROOT / "bench-results" / "node"
    binary = node_dir / "node_modules" / ".bin" / "lighthouse"
    if not binary.exists():
        node_dir.mkdir(parents=True, exist_ok=True)
        installed = subprocess.run(
            ["npm", "install", "--silent", "--prefix", str(node_dir), "lighthouse"],
            capture_output=True,
            text=True,
        )
        if installed.returncode != 0:
            return {"error": "npm install lighthouse failed: " + installed.stderr[-300:]}
    session = requests.post(
        f"{BASE}/v1/checkout/sessions",
        auth=(key, ""),
        timeout=30,
        data={
            "amount": 6500000,
            "currency": "idr",
            "success_url": "https://shop.example/ok",
            "cancel_url": "https://shop.example/cancel",
        },
    ).json()
    report = Path(tempfile.gettempdir()) / "bench-lighthouse.json"
    flags = (
        "--headless=new --no-sandbox --disable-gpu --disable-background-networking "
        "--disable-component-update --disable-sync --no-first-run"
    )
    for _ in range(2):  # Lighthouse sometimes fails with NO_NAVSTART: retry once
        run = subprocess.run(
            [
                str(binary),
                session["url"],
                "--quiet",
                f"--chrome-flags={flags}",
                "--only-categories=performance,accessibility,best-practices",
                "--output=json",
                f"--output-path={report}",
            ],
            capture_output=True,
            text=True,
            timeout=180,
            env={**os.environ, "CHROME_PATH": os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")},
        )
        if run.returncode == 0:
            break
    else:
        return {"error": run.stderr[-300:]}
    data = json.loads(report.read_text())
    audits = data["audits"]
    return {
        "url": session["url"],
        "scores": {k: v["score"] for k, v in data["categories"].items()},
        "transfer_kb": round(audits["total-byte-weight"]["numericValue"] / 1024, 1),
        "lcp_ms": round(audits["largest-contentful-paint"]["numericValue"]),
        "tbt_ms": round(audits["total-blocking-time"]["numericValue"]),
    }


def pgbench_part(results: dict, services: dict, env: dict, key: str, *, levels, seconds):
    statements, before = capture_payment_sql(services, env, key)
    url = services["DATABASE_URL"]
    script = pgbench_script(statements, before=before, fks=foreign_keys(url), url=url)
    results["payment_sql"] = {
        "statements": len(statements),
        "gateway_statements": sum(1 for s in statements if '"sandbox_' not in s),
    }
    results["pgbench"] = [
        run_pgbench(script, services, concurrency=c, seconds=seconds) for c in levels
    ]
    for load, db in zip(results["card_payments"], results["pgbench"], strict=True):
        load["pgbench_tps"] = db["tps"]
        load["ratio_to_pgbench"] = (
            round(load["flows_per_second"] / db["tps"], 3) if db["tps"] else None
        )


# --- main ---------------------------------------------------------------------------------


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=15, help="per load step")
    parser.add_argument("--concurrency", default="1,8,32")
    parser.add_argument("--quick", action="store_true", help="5 s steps, for a smoke run")
    parser.add_argument(
        "--skip-parts",
        default="",
        help="comma list: lighthouse,webhooks,settlement,dashboard",
    )
    parser.add_argument(
        "--workers",
        type=int,
        default=0,
        help="gunicorn workers (default: 1 per core + 1, as the README's production command)",
    )
    parser.add_argument(
        "--threads", type=int, default=1, help="threads per gunicorn worker (1: sync workers)"
    )
    args = parser.parse_args()
    seconds = 5 if args.quick else args.seconds
    levels = [int(c) for c in args.concurrency.split(",")]
    results: dict = {
        "machine": {"cores": os.cpu_count()},
        "note": ("load generator, gunicorn, worker, PostgreSQL and Redis share this machine"),
    }

    services = start_services()
    psql(services["PG_ADMIN_URL"], f"DROP DATABASE IF EXISTS {DB_NAME} WITH (FORCE)")
    psql(services["PG_ADMIN_URL"], f"CREATE DATABASE {DB_NAME}")
    subprocess.run(["redis-cli", "-u", services["REDIS_URL"], "flushdb"], capture_output=True)
    env = server_env(services)
    log("migrating the bench database")
    manage(env, "migrate", "--noinput")
    manage(env, "collectstatic", "--noinput")  # production serves hashed static files
    demo = json.loads(manage(env, "demo_merchant", "--json"))
    key = demo["secret_key"]

    procs = Processes()
    # As production runs it (README): sync workers, 1 per core + 1, since the card network
    # answers in-process and a request never waits on it. More workers than that only
    # share the cores: on 2 cores 5 workers spent about a fifth more CPU per payment than 3
    # and had a longer tail (docs/performance.md). Threads share a GIL: 4 workers x 2
    # threads spent more CPU per payment than sync workers.
    workers = args.workers or (os.cpu_count() or 2) + 1
    worker_class = "sync" if args.threads == 1 else "gthread"
    results["gunicorn"] = {
        "workers": workers,
        "threads": args.threads,
        "worker_class": worker_class,
    }
    try:
        procs.start(
            [
                str(ROOT / ".venv/bin/gunicorn"),
                "config.wsgi",
                "--bind",
                f"127.0.0.1:{PORT}",
                "--workers",
                str(workers),
                "--threads",
                str(args.threads),
                "--worker-class",
                worker_class,
                "--log-level",
                "warning",
            ],
            env,
            "gunicorn",
        )
        procs.start(
            [
                str(ROOT / ".venv/bin/celery"),
                "-A",
                "config",
                "worker",
                "--loglevel",
                "WARNING",
                "--concurrency",
                "2",
                "--without-mingle",
                "--without-gossip",
            ],
            env,
            "worker",
        )
        wait_ready()
        meter = CpuMeter(
            groups={"gateway": procs.procs[0].pid, "celery worker": procs.procs[1].pid},
            database_url=services["DATABASE_URL"],
        )
        log("warming up")
        run_load(flow_payment, key=key, concurrency=4, seconds=2)

        results["card_payments"] = []
        for c in levels:
            log(f"card payments at concurrency {c} for {seconds:g} s")
            results["card_payments"].append(
                run_load(flow_payment, key=key, concurrency=c, seconds=seconds, meter=meter)
            )
        log("manual capture and refund flows at concurrency 8")
        results["manual_capture"] = run_load(
            flow_manual_capture, key=key, concurrency=8, seconds=seconds, meter=meter
        )
        results["refunds"] = run_load(
            flow_refund, key=key, concurrency=8, seconds=seconds, meter=meter
        )
        if "lighthouse" not in set(filter(None, args.skip_parts.split(","))):
            log("checkout page: Lighthouse")
            results["checkout_lighthouse"] = lighthouse_checkout(key)
    finally:
        procs.stop()

    log("pgbench on the SQL of one payment")
    try:
        pgbench_part(results, services, env, key, levels=levels, seconds=int(seconds))
    except Exception as exc:  # report what was measured so far, and why this part failed
        results["pgbench"] = {"error": str(exc)[-800:]}

    skip = set(filter(None, args.skip_parts.split(",")))
    sizes = {
        "webhooks": ["--deliveries", "1000" if args.quick else "5000"],
        "settlement": ["--transactions", "100000", "--merchants", "100"] if args.quick else [],
        "dashboard": ["--payments", "100000", "--runs", "5" if args.quick else "15"],
    }
    for part, script_name in (
        ("webhooks", "bench_webhooks.py"),
        ("settlement", "bench_settlement.py"),
        ("dashboard", "bench_dashboard.py"),
    ):
        path = ROOT / "scripts" / script_name
        if part in skip or not path.exists():
            continue
        log(f"{part}: scripts/{script_name} {' '.join(sizes[part])}")
        out = subprocess.run(
            [PY, str(path), *sizes[part]],
            cwd=ROOT,
            env={**os.environ, **services},
            capture_output=True,
            text=True,
        )
        try:
            text = out.stdout.strip()  # the script's last output: a JSON object, on
            # one line or indented (from the last line that opens one)
            results[part] = json.loads(text[text.rfind("\n{") + 1 :])
        except (IndexError, ValueError):
            results[part] = {"error": (out.stderr or out.stdout)[-800:]}

    out_dir = ROOT / "bench-results"
    out_dir.mkdir(exist_ok=True)
    (out_dir / "bench.json").write_text(json.dumps(results, indent=2))
    print_table(results)
    print(f"\nwritten: {out_dir / 'bench.json'}")
    return 0


def print_table(results: dict) -> None:
    print("\nCard payments (create + confirm, automatic capture, Idempotency-Key on each POST)")
    print(
        f"{'conc':>4} {'pay/s':>7} {'pgbench tps':>11} {'ratio':>6} {'create p50/p95/p99 ms':>24} "
        f"{'confirm p50/p95/p99 ms':>24} {'errors':>7}"
    )
    for row in results.get("card_payments", []):
        cr = row["endpoints"].get("create", {})
        co = row["endpoints"].get("confirm", {})
        print(
            f"{row['concurrency']:>4} {row['flows_per_second']:>7} {row.get('pgbench_tps')!s:>11} "
            f"{row.get('ratio_to_pgbench')!s:>6} "
            f"{_triple(cr):>24} {_triple(co):>24} {sum(row['errors'].values()):>7}"
        )
    for row in results.get("card_payments", []):
        if row.get("cpu_ms_per_flow"):
            parts = ", ".join(f"{k} {v}" for k, v in row["cpu_ms_per_flow"].items())
            print(
                f"  CPU ms per payment at c={row['concurrency']}: {parts}; "
                f"cores busy {row['cores_busy']} of {results['machine']['cores']}"
            )
    for name in ("manual_capture", "refunds"):
        row = results.get(name)
        if row:
            eps = ", ".join(f"{k} {_triple(v)}" for k, v in row["endpoints"].items())
            print(
                f"{name}: {row['flows_per_second']} flows/s at c={row['concurrency']} ({eps} ms),"
                f" errors {sum(row['errors'].values())}"
            )
    sql = results.get("payment_sql")
    if sql:
        print(
            f"SQL statements per payment (create + confirm): {sql['statements']} "
            f"({sql['gateway_statements']} gateway, the rest the in-process sandbox)"
        )
    for part in ("checkout_lighthouse", "webhooks", "settlement"):
        if part in results:
            print(f"{part}: {json.dumps(results[part])}")
    dashboard = results.get("dashboard", {})
    if "pages" in dashboard:
        pages = ", ".join(
            f"{name} {p['median_ms']}/{p['p95_ms']} ms {p['queries']} queries"
            for name, p in dashboard["pages"].items()
        )
        verdict = "all under" if dashboard["all_under_budget"] else "NOT all under"
        print(
            f"dashboard pages with {dashboard['payments']:,} payments (median/p95): {pages}; "
            f"{verdict} {dashboard['budget_ms']} ms"
        )
    elif dashboard:
        print(f"dashboard: {json.dumps(dashboard)}")


def _triple(ep: dict) -> str:
    if not ep:
        return "-"
    return f"{ep['p50_ms']}/{ep['p95_ms']}/{ep['p99_ms']}"


if __name__ == "__main__":
    if not shutil.which("pgbench"):
        sys.exit("pgbench not found (it ships with PostgreSQL's client packages)")
    sys.exit(main())
