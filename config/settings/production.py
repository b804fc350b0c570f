"""Production: PostgreSQL and Redis required, every secret from the environment."""

from .base import *  # noqa: F403
from .base import _database, env

DEBUG = False
# No defaults: production never falls back to SQLite or the filesystem broker.
DATABASE_URL = env("DATABASE_URL")
DATABASES = {"default": _database(DATABASE_URL)}
REDIS_URL = env("REDIS_URL")  # base.py has already chosen Redis for the cache and broker
ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS")
# The public address customers and providers reach (checkout links, 3-D Secure returns,
# callbacks): no local default in production.
GATEWAY_BASE_URL = env("GATEWAY_BASE_URL").rstrip("/")
SPECTACULAR_SETTINGS["SERVERS"] = [{"url": GATEWAY_BASE_URL, "description": "This gateway"}]  # noqa: F405

SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = env.bool("DJANGO_SECURE_SSL_REDIRECT", default=True)
SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^readyz$"]
SECURE_HSTS_SECONDS = env.int("DJANGO_SECURE_HSTS_SECONDS", default=31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = True
SECURE_HSTS_PRELOAD = True
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SESSION_COOKIE_SECURE = True
CSRF_COOKIE_SECURE = True
SESSION_COOKIE_HTTPONLY = True
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}
MAILERS = {
    "default": {
        "BACKEND": env("EMAIL_BACKEND", default="django.core.mail.backends.smtp.EmailBackend"),
        "OPTIONS": {
            "host": env("EMAIL_HOST", default="localhost"),
            "port": env.int("EMAIL_PORT", default=587),
            "username": env("EMAIL_HOST_USER", default=""),
            "password": env("EMAIL_HOST_PASSWORD", default=""),
            "use_tls": env.bool("EMAIL_USE_TLS", default=True),
        },
    }
}
