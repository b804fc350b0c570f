import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.db import connection

# live_server runs in a thread beside sync Playwright's event loop.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    return {
        **browser_type_launch_args,
        "executable_path": os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium"),
        "args": [
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
        ],
    }


def _database_url_of_test_db() -> str:
    settings_dict = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"sqlite:///{settings_dict['NAME']}"
    user = settings_dict["USER"] or "postgres"
    password = f":{settings_dict['PASSWORD']}" if settings_dict["PASSWORD"] else ""
    host = settings_dict["HOST"] or "127.0.0.1"
    port = settings_dict["PORT"] or 5432
    return f"postgres://{user}{password}@{host}:{port}/{settings_dict['NAME']}"


@pytest.fixture
def celery_worker(transactional_db):
    """A real `celery worker` process on the test database and the configured broker.

    Tasks enqueued while it runs go through the broker (not eager mode) and the worker
    executes them against the committed test database.
    """
    from config.celery import app

    app.control.purge()
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.test",
        "DATABASE_URL": _database_url_of_test_db(),
    }
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "config",
            "worker",
            "-P",
            "solo",
            "--without-mingle",
            "--without-gossip",
            "--loglevel",
            "INFO",
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    app.conf.task_always_eager = False
    try:
        yield proc
    finally:
        app.conf.task_always_eager = True
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def wait_for(predicate, timeout: float = 20.0, interval: float = 0.1):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = predicate()
        if result:
            return result
        time.sleep(interval)
    return predicate()


# --- API personas (core/api, payments/api) ---------------------------------------------


@pytest.fixture
def api_key_for(db):
    """api_key_for(merchant, kind="secret", livemode=False) -> the raw key (sk_test_...)."""
    from merchants.services import api_key_create

    def make(merchant, kind: str = "secret", livemode: bool = False) -> str:
        return api_key_create(merchant=merchant, kind=kind, livemode=livemode).raw_key

    return make


@pytest.fixture
def merchant(db):
    from merchants.services import merchant_create

    return merchant_create(name="Toko Kopi")


@pytest.fixture
def other_merchant(db):
    from merchants.services import merchant_create

    return merchant_create(name="Warung Lain")


@pytest.fixture
def api_client(merchant, api_key_for):
    """A DRF APIClient speaking as `merchant` with a test-mode secret key."""
    from rest_framework.test import APIClient

    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {api_key_for(merchant)}")
    return client


@pytest.fixture
def fresh_cache(request):
    """An empty cache before and after the test: rate limits, card-testing counters and
    allauth's login counts are kept there and tests share it. Without Redis the cache is
    a database table, so the test database is opened first (as the test's own marker or
    fixtures ask: transactional or not)."""
    from django.core.cache import cache, caches
    from django.core.cache.backends.db import DatabaseCache

    if isinstance(caches["default"], DatabaseCache):
        marker = request.node.get_closest_marker("django_db")
        transactional = (marker is not None and marker.kwargs.get("transaction")) or {
            "transactional_db",
            "live_server",
        } & set(request.fixturenames)
        request.getfixturevalue("transactional_db" if transactional else "db")
    cache.clear()
    yield
    cache.clear()
