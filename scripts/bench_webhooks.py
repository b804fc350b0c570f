"""Webhook deliveries per second with one Celery worker to a local receiver.

    DATABASE_URL=postgres://... REDIS_URL=redis://... .venv/bin/python scripts/bench_webhooks.py \
        [--deliveries 5000] [--pool prefork] [--concurrency 2] [--events-per-transaction 500]

Migrates the database it is given, creates a merchant with one test-mode endpoint that
points at a receiver in this process (127.0.0.1, HTTP/1.1 keep-alive, answers 200), writes
N events (one delivery each, enqueued on commit) while no worker runs, then starts one
`celery worker`, and times from the first request the receiver gets until every delivery
is `succeeded` in the database. Prints JSON: {"deliveries", "seconds", "per_second", ...}.
Not a test: run it by hand (it purges the broker's queue and leaves its rows behind).
"""

import argparse
import json
import os
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")
os.environ.setdefault("LOG_LEVEL", "WARNING")


class Receiver(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # no 40 ms wait between headers and body
    count = 0
    first_at: float | None = None
    lock = threading.Lock()

    def do_POST(self):
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        with Receiver.lock:
            Receiver.count += 1
            if Receiver.first_at is None:
                Receiver.first_at = time.monotonic()
        self.send_response(200)
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"ok")

    def log_message(self, *args):
        pass


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--deliveries", type=int, default=5000)
    parser.add_argument("--pool", default="prefork", help="prefork, threads, solo")
    parser.add_argument("--concurrency", type=int, default=2)
    parser.add_argument(
        "--events-per-transaction",
        type=int,
        default=500,
        help="events written per transaction: the deliveries of one transaction share task "
        "messages (20 each); 1 is the worst case, one message per delivery",
    )
    args = parser.parse_args()

    import django

    django.setup()
    from django.core.management import call_command
    from django.db import transaction

    from config.celery import app
    from merchants.services import merchant_create
    from webhooks.models import WebhookDelivery
    from webhooks.services import event_create
    from webhooks.services.endpoints import webhook_endpoint_create

    call_command("migrate", verbosity=0)
    server = ThreadingHTTPServer(("127.0.0.1", 0), Receiver)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_address[1]}/hook"

    app.control.purge()
    merchant = merchant_create(name="Bench")
    endpoint, _ = webhook_endpoint_create(
        merchant=merchant, livemode=False, url=url, enabled_events=["*"]
    )
    step = args.events_per_transaction
    for start in range(0, args.deliveries, step):
        with transaction.atomic():
            for n in range(start, min(start + step, args.deliveries)):
                event_create(
                    merchant=merchant, livemode=False, type="customer.created",
                    object_id=f"cus_bench{n}", object_version=1,
                    obj={"id": f"cus_bench{n}", "object": "customer", "email": "b@example.com"},
                )  # fmt: skip
    deliveries = WebhookDelivery.objects.filter(endpoint=endpoint)
    assert deliveries.count() == args.deliveries

    worker = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "config", "worker", "-P", args.pool,
         "-c", str(args.concurrency), "--without-mingle", "--without-gossip",
         "--loglevel", "WARNING"],
        cwd=ROOT, env=os.environ.copy(),
    )  # fmt: skip
    started = time.monotonic()
    try:
        while deliveries.exclude(status="succeeded").exists():
            if worker.poll() is not None:
                raise SystemExit("the worker exited")
            if time.monotonic() - started > 600:
                raise SystemExit("timed out")
            time.sleep(0.05)
        done = time.monotonic()
    finally:
        worker.terminate()
        worker.wait(timeout=30)
    seconds = done - (Receiver.first_at or started)
    print(
        json.dumps(
            {
                "deliveries": args.deliveries,
                "seconds": round(seconds, 3),
                "per_second": round(args.deliveries / seconds, 1),
                "seconds_with_worker_startup": round(done - started, 3),
                "received": Receiver.count,
                "worker": f"-P {args.pool} -c {args.concurrency}",
                "events_per_transaction": step,
                "database": django.db.connection.vendor,
            }
        )
    )


if __name__ == "__main__":
    main()
