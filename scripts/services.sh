#!/usr/bin/env bash
# Start or stop a throwaway PostgreSQL and Redis on loopback, on ports that do not clash with
# the system defaults. Prints the environment to use them. Exit 3 when a binary is missing.
#   scripts/services.sh start|stop|env|status
set -euo pipefail

DIR=${GATEWAY_SERVICES_DIR:-/tmp/gateway-services}
PG_PORT=${GATEWAY_PG_PORT:-5439}
REDIS_PORT=${GATEWAY_REDIS_PORT:-6391}
PGBIN=${PGBIN:-$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)}
DB=gateway

as_pg() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }

print_env() {
  echo "DATABASE_URL=postgres://postgres@127.0.0.1:${PG_PORT}/${DB}"
  echo "REDIS_URL=redis://127.0.0.1:${REDIS_PORT}/0"
}

pg_up() { [ -n "$PGBIN" ] && "$PGBIN/pg_isready" -q -h 127.0.0.1 -p "$PG_PORT" 2>/dev/null; }
redis_up() { command -v redis-cli >/dev/null && redis-cli -p "$REDIS_PORT" ping 2>/dev/null | grep -q PONG; }

start() {
  if [ -z "$PGBIN" ] || [ ! -x "$PGBIN/postgres" ]; then echo "postgresql binaries not found" >&2; exit 3; fi
  if ! command -v redis-server >/dev/null; then echo "redis-server not found" >&2; exit 3; fi
  mkdir -p "$DIR"
  if ! pg_up; then
    if [ ! -f "$DIR/pg/PG_VERSION" ]; then
      mkdir -p "$DIR/pg"
      [ "$(id -u)" = 0 ] && chown -R postgres:postgres "$DIR/pg"
      as_pg "$PGBIN/initdb" -D "$DIR/pg" -U postgres --auth=trust -E UTF8 --locale=C.UTF-8 -N >/dev/null
    fi
    [ "$(id -u)" = 0 ] && chown postgres:postgres "$DIR"
    # fsync off: a throwaway test and benchmark cluster, never a store of record.
    as_pg "$PGBIN/pg_ctl" -D "$DIR/pg" -l "$DIR/pg.log" -w -o \
      "-p $PG_PORT -k $DIR -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200" \
      start >/dev/null
  fi
  "$PGBIN/psql" -h 127.0.0.1 -p "$PG_PORT" -U postgres -tAc "SELECT 1 FROM pg_database WHERE datname='$DB'" \
    | grep -q 1 || "$PGBIN/createdb" -h 127.0.0.1 -p "$PG_PORT" -U postgres "$DB"
  if ! redis_up; then
    redis-server --bind 127.0.0.1 --port "$REDIS_PORT" --daemonize yes --dir "$DIR" \
      --pidfile "$DIR/redis.pid" --logfile "$DIR/redis.log" --save '' --appendonly no >/dev/null
    for _ in $(seq 50); do redis_up && break; sleep 0.1; done
  fi
  pg_up && redis_up
  echo "PostgreSQL on 127.0.0.1:$PG_PORT and Redis on 127.0.0.1:$REDIS_PORT are up" >&2
  print_env
}

stop() {
  if [ -n "$PGBIN" ] && [ -f "$DIR/pg/postmaster.pid" ]; then
    as_pg "$PGBIN/pg_ctl" -D "$DIR/pg" -m fast -w stop >/dev/null 2>&1 || true
  fi
  if redis_up; then redis-cli -p "$REDIS_PORT" shutdown nosave >/dev/null 2>&1 || true; fi
  echo "services stopped" >&2
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  env) print_env ;;
  status) if pg_up && redis_up; then print_env; else exit 1; fi ;;
  *) echo "usage: $0 start|stop|env|status" >&2; exit 2 ;;
esac
