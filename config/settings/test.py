"""Tests: PostgreSQL and Redis when DATABASE_URL / REDIS_URL are set, SQLite otherwise."""

import os
import tempfile

os.environ.setdefault("DJANGO_SECRET_KEY", "test-secret-key-0123456789abcdefghijklmnopqrstuvwxyz")
os.environ.setdefault("GATEWAY_VAULT_KEYS", "test1:dGVzdC12YXVsdC1rZXktdGhpcnR5LXR3by1ieXRlcyE=")
os.environ.setdefault("GATEWAY_FINGERPRINT_KEY", "test-fingerprint-key")
os.environ.setdefault("GATEWAY_DATA_DIR", os.path.join(tempfile.gettempdir(), "gateway-test"))

from .base import *  # noqa: F403
from .base import DATA_DIR, DATABASES

DEBUG = False
ALLOWED_HOSTS = ["*"]
DATA_DIR.mkdir(parents=True, exist_ok=True)
STATIC_ROOT = DATA_DIR / "staticfiles"
STATIC_ROOT.mkdir(exist_ok=True)
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
# Every test client is 127.0.0.1 and the cards are the same few test numbers, so the
# card-testing limits (per IP, per card and per merchant, in one shared cache) would trip
# across tests; the tests of those limits set their own.
GATEWAY_CARD_ATTEMPTS_PER_IP = 100_000
GATEWAY_CARD_ATTEMPTS_PER_CARD = 100_000
GATEWAY_CARD_ATTEMPTS_PER_MERCHANT = 100_000
# Concurrency tests send dozens of requests a second with one key; the limit has its own test.
GATEWAY_API_RATE_LIMIT_PER_SECOND = 0
MAILERS = {"default": {"BACKEND": "django.core.mail.backends.locmem.EmailBackend"}}
if DATABASES["default"]["ENGINE"].endswith("sqlite3"):
    # A file, not :memory:, so that a live server thread and a worker process share it.
    DATABASES["default"]["TEST"] = {"NAME": str(DATA_DIR / "test.sqlite3")}

# Tasks run inline unless a test starts a real worker (tests/conftest.py: celery_worker).
CELERY_TASK_ALWAYS_EAGER = True
CELERY_TASK_EAGER_PROPAGATES = True
