# The two commands: `make run` (the gateway with a demo merchant) and `make test`.
SHELL := /bin/bash
export UV_PYTHON_DOWNLOADS := never
VENV := .venv
PY := $(VENV)/bin/python
GATEWAY_PORT ?= 8000
export GATEWAY_PORT

.PHONY: run test services services-stop lint check-deploy bench venv

venv: $(VENV)/.synced

$(VENV)/.synced: pyproject.toml uv.lock
	@command -v uv >/dev/null || python3 -m pip install --quiet uv
	uv sync --frozen --quiet
	@touch $@

run: venv
	$(PY) manage.py migrate --noinput
	$(PY) manage.py createcachetable
	$(PY) manage.py demo_merchant --banner --port $(GATEWAY_PORT)
	PATH=$(CURDIR)/$(VENV)/bin:$$PATH $(VENV)/bin/honcho start

services:
	@scripts/services.sh start >/dev/null

services-stop:
	@scripts/services.sh stop

# The suite runs on PostgreSQL and Redis when they are up or can be started here, and on
# SQLite with a serverless broker otherwise. GATEWAY_REQUIRE_SERVICES=1 (CI) forbids the
# fallback.
test: venv
	@if envs=$$(scripts/services.sh start 2>/dev/null); then \
	  export $$envs; echo "make test: running on PostgreSQL ($$DATABASE_URL) and Redis ($$REDIS_URL)"; \
	elif [ -n "$$GATEWAY_REQUIRE_SERVICES" ]; then \
	  echo "make test: PostgreSQL and Redis are required but could not be started" >&2; exit 1; \
	else \
	  unset DATABASE_URL REDIS_URL; echo "make test: PostgreSQL/Redis unavailable, running on SQLite with the filesystem broker"; \
	fi; \
	$(VENV)/bin/pytest $(PYTEST_ARGS)

lint: venv
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

check-deploy: venv
	DJANGO_SETTINGS_MODULE=config.settings.production \
	DJANGO_SECRET_KEY=placeholder-$$(head -c 48 /dev/urandom | base64 | tr -d '/+=') \
	DJANGO_ALLOWED_HOSTS=gateway.example.com GATEWAY_BASE_URL=https://gateway.example.com \
	DATABASE_URL=postgres://gateway@127.0.0.1:5432/gateway REDIS_URL=redis://127.0.0.1:6379/0 \
	GATEWAY_VAULT_KEYS=k1:$$(head -c 32 /dev/urandom | base64) GATEWAY_FINGERPRINT_KEY=placeholder \
	$(PY) manage.py check --deploy --fail-level WARNING

# Benchmarks (not tests): production-like processes on loopback; prints a table and writes
# bench-results/bench.json. BENCH_ARGS="--quick" for a short smoke run.
bench: venv
	$(PY) scripts/bench.py $(BENCH_ARGS)
