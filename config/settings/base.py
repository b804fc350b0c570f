"""Settings shared by every environment. Everything is configurable from the environment."""

from pathlib import Path

import environ

BASE_DIR = Path(__file__).resolve().parent.parent.parent
env = environ.Env()

# Where the embedded default keeps its SQLite database and broker queue.
DATA_DIR = Path(env("GATEWAY_DATA_DIR", default=str(BASE_DIR / "var")))

SECRET_KEY = env("DJANGO_SECRET_KEY")
DEBUG = env.bool("DJANGO_DEBUG", default=False)
ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS", default=[])
CSRF_TRUSTED_ORIGINS = env.list("DJANGO_CSRF_TRUSTED_ORIGINS", default=[])
# Public base URL of this gateway, used in links it hands out (checkout urls, 3-D Secure).
# Links the gateway hands out (checkout, 3-D Secure, QR codes, callbacks). Without it, the
# local address of `make run`, which follows GATEWAY_PORT.
GATEWAY_BASE_URL = env(
    "GATEWAY_BASE_URL", default=f"http://127.0.0.1:{env.int('GATEWAY_PORT', default=8000)}"
).rstrip("/")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",  # Redoc's files, served by us (no CDN)
    "django_htmx",
    "allauth",  # dashboard accounts (issue #8): login, signup, reset, lockout
    "allauth.account",
    "allauth.mfa",  # TOTP two-factor with recovery codes
    "core",
    "merchants",
    "webhooks",
    "settlement",
    "payments",
    "dashboard",
    "sandbox",
]

MIDDLEWARE = [
    "core.middleware.RequestIdMiddleware",
    "core.cors.CorsMiddleware",  # browser calls to /v1 with a publishable key
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "allauth.account.middleware.AccountMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django.middleware.csp.ContentSecurityPolicyMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "dashboard.middleware.DashboardCSPMiddleware",
    "payments.card_testing.PublishableKeyCardLimitMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"
ASGI_APPLICATION = "config.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.csp",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]


def _database(url: str) -> dict:
    db = env.db_url_config(url)
    if db["ENGINE"] == "django.db.backends.sqlite3":
        # WAL lets the web process read while the worker writes; IMMEDIATE takes the write
        # lock at BEGIN so concurrent writers queue on the busy timeout instead of failing.
        db["OPTIONS"] = {
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
            "transaction_mode": "IMMEDIATE",
            "timeout": 20,
        }
    else:
        db["CONN_MAX_AGE"] = env.int("DATABASE_CONN_MAX_AGE", default=60)
        db["CONN_HEALTH_CHECKS"] = True
    return db


DATABASE_URL = env("DATABASE_URL", default=f"sqlite:///{DATA_DIR / 'gateway.sqlite3'}")
DATABASES = {"default": _database(DATABASE_URL)}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

REDIS_URL = env("REDIS_URL", default="")

if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
        }
    }
else:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.db.DatabaseCache",
            "LOCATION": "core_cache",
        }
    }

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en"
LANGUAGES = [("en", "English"), ("id", "Bahasa Indonesia")]
TIME_ZONE = "UTC"
USE_I18N = True
LOCALE_PATHS = [BASE_DIR / "locale"]
USE_TZ = True

# Outgoing mail (password resets, endpoint-disabled notices). Console by default.
MAILERS = {
    "default": {
        "BACKEND": env("EMAIL_BACKEND", default="django.core.mail.backends.console.EmailBackend"),
        "OPTIONS": {},
    }
}
DEFAULT_FROM_EMAIL = env("DEFAULT_FROM_EMAIL", default="gateway@localhost")

STATIC_URL = "/static/"
STATIC_ROOT = Path(env("DJANGO_STATIC_ROOT", default=str(BASE_DIR / "staticfiles")))
STATICFILES_DIRS = [BASE_DIR / "static"]

# --- Celery (DESIGN.md §10) -------------------------------------------------------------
# Without REDIS_URL the broker is kombu's filesystem transport: no server to install, and
# web, worker and beat (separate processes) share the queue through a folder.
_broker_dir = DATA_DIR / "broker"
if REDIS_URL:
    CELERY_BROKER_URL = REDIS_URL
    CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 3600}
else:
    for _folder in ("queue", "processed"):
        (_broker_dir / _folder).mkdir(parents=True, exist_ok=True)
    CELERY_BROKER_URL = "filesystem://"
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(_broker_dir / "queue"),
        "data_folder_out": str(_broker_dir / "queue"),
        "processed_folder": str(_broker_dir / "processed"),
        "store_processed": False,
    }
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TIMEZONE = "UTC"
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_WORKER_HIJACK_ROOT_LOGGER = False
# Celery's Django fixup closes the database connection around every task unless this is
# set (a new PostgreSQL connection per task costs more than most tasks); it recycles them
# after this many tasks instead.
CELERY_DB_REUSE_MAX = env.int("CELERY_DB_REUSE_MAX", default=500)
# The whole beat schedule lives here, in one place. Long schedules (webhook retries,
# payout dates) are rows in the database that these periodic sweepers pick up.
CELERY_BEAT_SCHEDULE: dict = {
    "core.purge_idempotency_keys": {
        "task": "core.purge_idempotency_keys",
        "schedule": 3600.0,
    },
    "core.heartbeat": {"task": "core.heartbeat", "schedule": 60.0},
    "core.purge_api_request_log": {"task": "core.purge_api_request_log", "schedule": 3600.0},
    "payments.sweep_unknown_transactions": {
        "task": "payments.sweep_unknown_transactions",
        "schedule": 60.0,
    },
    "payments.cancel_expired_authorizations": {
        "task": "payments.cancel_expired_authorizations",
        "schedule": 3600.0,
    },
    # Checkout sessions past expires_at expire (and paid ones nobody saw complete).
    "payments.sweep_checkout_sessions": {
        "task": "payments.sweep_checkout_sessions",
        "schedule": 60.0,
    },
    # Settlement: each merchant's day is settled within 10 minutes of its local cutoff;
    # payouts go to the bank on their arrival date; reconciliation of yesterday's report.
    "settlement.settle_due": {"task": "settlement.settle_due", "schedule": 600.0},
    "settlement.send_due_payouts": {"task": "settlement.send_due_payouts", "schedule": 600.0},
    "settlement.resolve_payouts": {"task": "settlement.resolve_payouts", "schedule": 600.0},
    "settlement.reconcile_previous_day": {
        "task": "settlement.reconcile_previous_day",
        "schedule": 3600.0,
    },
    # Webhook deliveries that are due (retries) or stranded (lost message, dead worker).
    "webhooks.sweep_deliveries": {
        "task": "webhooks.sweep_deliveries",
        "schedule": env.float("GATEWAY_WEBHOOKS_SWEEP_SECONDS", default=30.0),
    },
    "webhooks.sweep_inbound_callbacks": {
        "task": "webhooks.sweep_inbound_callbacks",
        "schedule": 60.0,
    },
    # Local methods: ask about payments no callback has ended, close the expired ones.
    "payments.sweep_local_payments": {"task": "payments.sweep_local_payments", "schedule": 30.0},
    # The sandbox providers' late callbacks and retries.
    "sandbox.send_due_callbacks": {"task": "sandbox.send_due_callbacks", "schedule": 30.0},
}
if REDIS_URL:
    # The API request log: web processes queue records in Redis, this writes them in
    # batches. (Without Redis each request's row is written directly: nothing to flush.)
    CELERY_BEAT_SCHEDULE["core.flush_api_request_log"] = {
        "task": "core.flush_api_request_log",
        "schedule": env.float("GATEWAY_API_LOG_FLUSH_SECONDS", default=5.0),
    }
CELERY_BEAT_SCHEDULE_FILENAME = str(DATA_DIR / "celerybeat-schedule")

# --- API -------------------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [],
    "DEFAULT_PERMISSION_CLASSES": [],
    "UNAUTHENTICATED_USER": None,
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    # Any error in any DRF view leaves as Stripe's {"error": {...}}, never Django's HTML.
    "EXCEPTION_HANDLER": "core.api.exceptions.exception_handler",
    "DEFAULT_PARSER_CLASSES": [
        "core.api.parsers.FormParser",
        "core.api.parsers.JSONParser",
    ],
    "TEST_REQUEST_DEFAULT_FORMAT": "json",
}
# The OpenAPI schema of /v1 (GET /openapi.json, /openapi.yaml) and its reference page
# (/docs/api), served with the sidecar's copy of Redoc: no CDN.
SPECTACULAR_SETTINGS = {
    "TITLE": "Gateway API",
    "DESCRIPTION": """A Stripe-compatible payment API for cards and Indonesian local methods.
The official Stripe SDKs work against it with this server as their API base. A longer guide
with examples is docs/api.md in the gateway's repository.

**Authentication.** Every call takes an API key, as a Bearer token (`Authorization: Bearer
sk_test_...`) or as the HTTP Basic user name (`curl -u sk_test_...:`). Secret keys
(`sk_test_`, `sk_live_`) may make every call; publishable keys (`pk_...`) only the browser's:
create a payment method, and retrieve or confirm a payment intent with its `client_secret`.
Test-mode keys see only test-mode objects.

**Requests.** Bodies are `application/x-www-form-urlencoded` with bracket notation
(`metadata[order]=42`, `payment_method_types[0]=card`, `expand[]=latest_charge`) or JSON
objects of the same shape. Unknown parameters are refused.

**Errors.** `{"error": {"type", "code", "decline_code", "message", "param"}}` with status 400
(invalid request), 401 (no or bad key), 402 (card declined or invalid), 403 (a publishable
key on a secret-key call), 404 (`resource_missing`), 409 (idempotency key in use), 429, 500.

**Idempotency.** Send an `Idempotency-Key` header on POSTs: a retry with the same key and
parameters within 24 hours replays the first response (header `Idempotent-Replayed: true`);
the same key with other parameters is a 400 `idempotency_error`; while the first request
runs, a second one gets 409.

**Pagination.** Lists answer `{"object": "list", "data": [...], "has_more", "url"}`, newest
first. `limit` (1 to 100, default 10); `starting_after=<last id>` for the next page,
`ending_before=<first id>` for the previous one; `created[gte]=...` and the like filter on
creation time (unix seconds).

**Expand.** Fields that hold an id (`latest_charge`, `payment_method`, `customer`,
`payment_intent`, `charge`) hold the whole object instead when named in `expand[]`; on lists,
prefix them with `data.` (`expand[]=data.latest_charge`).""",
    "VERSION": "2026-11-01",
    "SERVERS": [{"url": GATEWAY_BASE_URL, "description": "This gateway"}],
    "SCHEMA_PATH_PREFIX": "/v1",
    "SERVE_INCLUDE_SCHEMA": False,
    "COMPONENT_SPLIT_REQUEST": True,
    "ENUM_NAME_OVERRIDES": {
        "PaymentMethodTypeEnum": [
            "card",
            "gopay",
            "ovo",
            "dana",
            "shopeepay",
            "qris",
            "bank_transfer",
        ],
        "CardOnlyPaymentMethodTypeEnum": ["card"],  # payment methods created by API: cards
        "ChargeOutcomeTypeEnum": ["authorized", "blocked", "invalid", "issuer_declined"],
        "NextActionTypeEnum": [
            "redirect_to_url",
            "display_qr_code",
            "display_bank_transfer_instructions",
            "await_push_approval",
        ],
    },
    "REDOC_DIST": "SIDECAR",
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
}

# --- Card vault (DESIGN.md §6) ---------------------------------------------------------
# GATEWAY_VAULT_KEYS: comma-separated "key_id:base64(32 bytes)"; the first is used to encrypt.
GATEWAY_VAULT_KEYS = env("GATEWAY_VAULT_KEYS")
GATEWAY_FINGERPRINT_KEY = env("GATEWAY_FINGERPRINT_KEY")

# --- Processing ------------------------------------------------------------------------
# How long the sandbox connector waits for the card network; past it the outcome is unknown
# and an inquiry under the same reference settles it.
GATEWAY_SANDBOX_TIMEOUT_SECONDS = env.float("GATEWAY_SANDBOX_TIMEOUT_SECONDS", default=10.0)
# Requests per second per API key (enforced when Redis is the cache); 0 turns it off.
GATEWAY_API_RATE_LIMIT_PER_SECOND = env.int("GATEWAY_API_RATE_LIMIT_PER_SECOND", default=100)

# --- Hosted checkout (issue #7) ----------------------------------------------------------
# The Content-Security-Policy of the checkout pages (and the sandbox shop): first-party
# scripts with a nonce and Subresource Integrity, no inline script or style, never framed.
# The rest of the site keeps SECURE_CSP unset until its pages are ready for it.
GATEWAY_CHECKOUT_CSP = {
    "default-src": ["'none'"],
    "script-src": ["<CSP_NONCE_SENTINEL>"],  # django.utils.csp.CSP.NONCE: nonce only
    "style-src": ["'self'"],
    "img-src": ["'self'"],
    "font-src": ["'self'"],
    "connect-src": ["'self'"],
    "form-action": ["'self'"],
    "frame-ancestors": ["'none'"],
    "base-uri": ["'none'"],
    "object-src": ["'none'"],
}
# Card-testing defence: attempts with card details on the checkout page and with a
# publishable key on /v1 (payment methods, confirms), counted in the cache (Redis).
GATEWAY_CARD_ATTEMPTS_PER_SESSION = env.int("GATEWAY_CARD_ATTEMPTS_PER_SESSION", default=10)
GATEWAY_CARD_ATTEMPTS_PER_SESSION_WINDOW = env.int(
    "GATEWAY_CARD_ATTEMPTS_PER_SESSION_WINDOW", default=24 * 3600
)
GATEWAY_CARD_ATTEMPTS_PER_IP = env.int("GATEWAY_CARD_ATTEMPTS_PER_IP", default=20)
GATEWAY_CARD_ATTEMPTS_PER_IP_WINDOW = env.int("GATEWAY_CARD_ATTEMPTS_PER_IP_WINDOW", default=600)
GATEWAY_CARD_ATTEMPTS_PER_CARD = env.int("GATEWAY_CARD_ATTEMPTS_PER_CARD", default=5)
GATEWAY_CARD_ATTEMPTS_PER_CARD_WINDOW = env.int(
    "GATEWAY_CARD_ATTEMPTS_PER_CARD_WINDOW", default=600
)
# All card attempts of one merchant (per mode) from any address: the limit that holds
# when card testers rotate IPs. Raise it for a shop that takes more card payments.
GATEWAY_CARD_ATTEMPTS_PER_MERCHANT = env.int("GATEWAY_CARD_ATTEMPTS_PER_MERCHANT", default=100)
GATEWAY_CARD_ATTEMPTS_PER_MERCHANT_WINDOW = env.int(
    "GATEWAY_CARD_ATTEMPTS_PER_MERCHANT_WINDOW", default=600
)

# --- Dashboard accounts (issue #8, DESIGN.md §6) ---------------------------------------------
AUTHENTICATION_BACKENDS = [
    "django.contrib.auth.backends.ModelBackend",
    "allauth.account.auth_backends.AuthenticationBackend",
]
LOGIN_URL = "account_login"
LOGIN_REDIRECT_URL = "dashboard:home"
ACCOUNT_LOGOUT_REDIRECT_URL = "account_login"
ACCOUNT_LOGIN_METHODS = {"email"}
ACCOUNT_SIGNUP_FIELDS = ["email*", "password1*", "password2*"]
ACCOUNT_SIGNUP_FORM_CLASS = "dashboard.forms.SignupForm"  # adds the business name
ACCOUNT_UNIQUE_EMAIL = True
# Verified before use: two-factor can only be added to a verified address (allauth refuses
# otherwise: someone could sign up with another's email and lock its owner out).
ACCOUNT_EMAIL_VERIFICATION = "mandatory"
ACCOUNT_LOGIN_ON_EMAIL_CONFIRMATION = True
ACCOUNT_LOGOUT_ON_GET = False  # logout is a POST with the CSRF token
ACCOUNT_SESSION_REMEMBER = False  # sessions end with the browser (and after 15 idle minutes)
ACCOUNT_EMAIL_SUBJECT_PREFIX = "[Gateway] "
# Lockout: 10 failed logins for one email within 30 minutes refuse the next until the window
# has passed (allauth counts them in the cache), besides 10 a minute from one address.
ACCOUNT_RATE_LIMITS = {"login_failed": "10/m/ip,10/30m/key"}
ACCOUNT_ADAPTER = "dashboard.adapters.AccountAdapter"
# Lockout after this many failed logins of one account, for this long (atomic counters).
GATEWAY_LOGIN_MAX_FAILURES = env.int("GATEWAY_LOGIN_MAX_FAILURES", default=10)
GATEWAY_LOGIN_LOCKOUT_SECONDS = env.int("GATEWAY_LOGIN_LOCKOUT_SECONDS", default=30 * 60)
MFA_SUPPORTED_TYPES = ["totp", "recovery_codes"]
MFA_TOTP_ISSUER = "Gateway"
# A code from the 30-second step before or after the server's is accepted too (RFC 6238
# §5.2): a code typed as its step ends, or a phone clock a few seconds off, still works.
# allauth remembers used codes, so a code still works only once.
MFA_TOTP_TOLERANCE = 1
# Idle sessions end after 15 minutes: the expiry moves forward on every request.
SESSION_COOKIE_AGE = env.int("GATEWAY_SESSION_IDLE_SECONDS", default=15 * 60)
SESSION_SAVE_EVERY_REQUEST = True
# The dashboard's Content-Security-Policy (dashboard.middleware): our own scripts with a
# nonce, our own styles, the TOTP QR code as a data: image.
GATEWAY_DASHBOARD_CSP = {
    "default-src": ["'self'"],
    "script-src": ["<CSP_NONCE_SENTINEL>"],  # django.utils.csp.CSP.NONCE: nonce only
    "style-src": ["'self'"],
    "img-src": ["'self'", "data:"],
    "connect-src": ["'self'"],
    "form-action": ["'self'"],
    "frame-ancestors": ["'none'"],
    "base-uri": ["'none'"],
    "object-src": ["'none'"],
}

# --- Webhooks (DESIGN.md §8) ------------------------------------------------------------
# Test-mode endpoints may be on localhost or a private network (a developer's receiver);
# live-mode ones never.
GATEWAY_WEBHOOKS_ALLOW_PRIVATE_IN_TEST = env.bool(
    "GATEWAY_WEBHOOKS_ALLOW_PRIVATE_IN_TEST", default=True
)
GATEWAY_WEBHOOKS_TIMEOUT_SECONDS = env.float("GATEWAY_WEBHOOKS_TIMEOUT_SECONDS", default=10.0)
# Processor callbacks (POST /hooks/<connector>/): "connector=secret,..." signing keys, and
# connector -> dotted path of its handler.
GATEWAY_CALLBACK_SECRETS = env.dict("GATEWAY_CALLBACK_SECRETS", default={})
GATEWAY_CALLBACK_HANDLERS: dict[str, str] = {
    "sandbox_local": "payments.services.local_methods.handle_callback",
}
# How the sandbox's local-method providers reach /hooks/: "http" (to GATEWAY_BASE_URL),
# "inprocess" (the same view, called in-process) or "auto" (http; in-process when refused).
GATEWAY_SANDBOX_CALLBACK_TRANSPORT = env("GATEWAY_SANDBOX_CALLBACK_TRANSPORT", default="auto")

# --- Logging: JSON lines with a request id. Card numbers are masked in every record when
# it is created (core.logging.install_card_masking), whatever handler it goes to.
LOG_LEVEL = env("LOG_LEVEL", default="INFO")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {
        "request_id": {"()": "core.logging.RequestIdFilter"},
    },
    "formatters": {
        "json": {
            "()": "pythonjsonlogger.json.JsonFormatter",
            "fmt": "%(asctime)s %(levelname)s %(name)s %(message)s %(request_id)s",
            "rename_fields": {"asctime": "time", "levelname": "level", "name": "logger"},
        },
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": "json",
            "filters": ["request_id"],
        },
    },
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
    "loggers": {
        "django.db.backends": {"level": "INFO"},
    },
}
