"""The embedded default for a first run: SQLite (WAL), a serverless broker, DEBUG on."""

import os

os.environ.setdefault("DJANGO_DEBUG", "true")
# Local-only placeholders. production.py has no defaults for secrets.
os.environ.setdefault("DJANGO_SECRET_KEY", "local-insecure-secret-key-change-me-0123456789abcdef")
os.environ.setdefault("GATEWAY_VAULT_KEYS", "local1:bG9jYWwtdmF1bHQta2V5LW5vdC1mb3ItcHJvZC0zMmI=")
os.environ.setdefault("GATEWAY_FINGERPRINT_KEY", "local-fingerprint-key-not-for-production")

from .base import *  # noqa: F403
from .base import DATA_DIR, env

ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "[::1]"])
DATA_DIR.mkdir(parents=True, exist_ok=True)
STATIC_ROOT = DATA_DIR / "staticfiles"
STATIC_ROOT.mkdir(exist_ok=True)
