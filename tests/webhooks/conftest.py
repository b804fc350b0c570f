import json
import os
import subprocess
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from tests.conftest import ROOT, _database_url_of_test_db


class Receiver:
    """A webhook receiver on 127.0.0.1: records every POST, answers from a script.

    `script` lists the status codes of the first answers (then 200). `gate`, when set, makes
    each request wait on it before answering (to hold a worker mid-delivery).
    """

    def __init__(self, script=(), dedupe=False):
        self.script = list(script)
        self.requests: list[dict] = []
        self.processed_ids: list[str] = []  # what a receiver deduping on webhook-id processed
        self.dedupe = dedupe
        self.gate: threading.Event | None = None
        self.lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            disable_nagle_algorithm = True  # headers and body leave at once

            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                with receiver.lock:
                    receiver.requests.append(
                        {"path": self.path, "headers": dict(self.headers), "body": body}
                    )
                    status = receiver.script.pop(0) if receiver.script else 200
                    msg_id = self.headers.get("webhook-id")
                    if status == 200 and (
                        not receiver.dedupe or msg_id not in receiver.processed_ids
                    ):
                        receiver.processed_ids.append(msg_id)
                if receiver.gate is not None:
                    receiver.gate.wait(30)
                answer = json.dumps({"status": status}).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/hooks/gateway"

    def events(self) -> list[dict]:
        with self.lock:
            return [json.loads(r["body"]) for r in self.requests]

    def close(self):
        if self.gate is not None:
            self.gate.set()
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver():
    made = []

    def make(script=(), dedupe=False) -> Receiver:
        made.append(Receiver(script, dedupe))
        return made[-1]

    yield make
    for r in made:
        r.close()


@pytest.fixture
def start_worker(transactional_db):
    """start_worker() -> a `celery worker` subprocess on the test database; stopped at the
    end of the test (tests may kill one themselves)."""
    from config.celery import app

    procs: list[subprocess.Popen] = []
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.test",
        "DATABASE_URL": _database_url_of_test_db(),
    }

    def start(pool: str = "solo") -> subprocess.Popen:
        proc = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "config", "worker", "-P", pool,
             "--without-mingle", "--without-gossip", "--loglevel", "WARNING"],
            cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        )  # fmt: skip
        procs.append(proc)
        return proc

    app.control.purge()
    app.conf.task_always_eager = False
    try:
        yield start
    finally:
        app.conf.task_always_eager = True
        for proc in procs:
            if proc.poll() is None:
                proc.terminate()
                try:
                    proc.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait()
