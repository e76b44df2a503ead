#!/usr/bin/env bash
# Start or stop project-local PostgreSQL and Redis under .dev/ when DATABASE_URL / REDIS_URL are not given.
# Prints the environment to use (eval it). PostgreSQL refuses to run as root, so it runs as `postgres`.
set -euo pipefail
cd "$(dirname "$0")/.."
DEV="$PWD/.dev"
PG_PORT="${DEV_PG_PORT:-55432}"
REDIS_PORT="${DEV_REDIS_PORT:-56379}"
mkdir -p "$DEV"

as_pg() {
  if [ "$(id -u)" = "0" ]; then runuser -u postgres -- "$@"; else "$@"; fi
}
pg_bin() {
  local d
  for d in /usr/lib/postgresql/*/bin; do [ -x "$d/pg_ctl" ] && { echo "$d"; return; }; done
  dirname "$(command -v pg_ctl)"
}

start_pg() {
  local bin; bin="$(pg_bin)"
  local data="$DEV/pgdata"
  if [ "$(id -u)" = "0" ] && [ ! -e "$data" ] && ! runuser -u postgres -- test -x "$DEV"; then
    # The checkout sits where the postgres user cannot enter (e.g. under /root): keep the cluster in a
    # directory it owns and link it into .dev/ so that it stays "the project's".
    local outside; outside="/var/tmp/angiang-pg-$(echo "$DEV" | sha256sum | cut -c1-12)"
    mkdir -p "$outside" && chown postgres:postgres "$outside" && ln -s "$outside" "$data"
  fi
  if [ ! -f "$data/PG_VERSION" ]; then
    mkdir -p "$data"
    [ "$(id -u)" = "0" ] && chown postgres:postgres "$data"
    as_pg "$bin/initdb" -D "$data" -U postgres --auth=trust --encoding=UTF8 --locale=C.UTF-8 >/dev/null
  fi
  if ! as_pg "$bin/pg_ctl" -D "$data" status >/dev/null 2>&1; then
    if "$bin/pg_isready" -q -h 127.0.0.1 -p "$PG_PORT"; then
      echo "Port $PG_PORT already has a PostgreSQL that is not this project's; set DEV_PG_PORT or DATABASE_URL." >&2
      exit 1
    fi
    [ "$(id -u)" = "0" ] && chown postgres:postgres "$DEV/pgdata"
    as_pg "$bin/pg_ctl" -D "$data" -l "$data/postgres.log" -w -t 60 \
      -o "-p $PG_PORT -k /tmp -c listen_addresses=127.0.0.1 -c fsync=${DEV_PG_FSYNC:-on} -c max_connections=200" start >/dev/null \
      || { echo "PostgreSQL did not start; see $data/postgres.log" >&2; exit 1; }
  fi
  "$bin/psql" -h 127.0.0.1 -p "$PG_PORT" -U postgres -tAc "SELECT 1 FROM pg_database WHERE datname='angiang'" | grep -q 1 \
    || "$bin/createdb" -h 127.0.0.1 -p "$PG_PORT" -U postgres angiang
}

stop_pg() {
  local bin; bin="$(pg_bin)"
  [ -f "$DEV/pgdata/PG_VERSION" ] && as_pg "$bin/pg_ctl" -D "$DEV/pgdata" -m fast stop >/dev/null 2>&1 || true
}

redis_ours() { [ -f "$DEV/redis.pid" ] && kill -0 "$(cat "$DEV/redis.pid")" 2>/dev/null; }

start_redis() {
  if ! redis_ours; then
    if redis-cli -p "$REDIS_PORT" ping >/dev/null 2>&1; then
      echo "Port $REDIS_PORT already has a Redis that is not this project's; set DEV_REDIS_PORT or REDIS_URL." >&2
      exit 1
    fi
    redis-server --port "$REDIS_PORT" --bind 127.0.0.1 --dir "$DEV" --daemonize yes \
      --pidfile "$DEV/redis.pid" --logfile "$DEV/redis.log" --save "" --appendonly no >/dev/null
    for _ in $(seq 50); do redis-cli -p "$REDIS_PORT" ping >/dev/null 2>&1 && return; sleep 0.1; done
    echo "Redis did not start; see $DEV/redis.log" >&2
    exit 1
  fi
}

stop_redis() {
  # Only the instance this script started (its pid file), never a server someone else runs on the port.
  if redis_ours; then kill "$(cat "$DEV/redis.pid")"; fi
  rm -f "$DEV/redis.pid"
}

case "${1:-start}" in
  start)
    if [ -z "${DATABASE_URL:-}" ]; then start_pg >&2; echo "export DATABASE_URL=postgres://postgres@127.0.0.1:$PG_PORT/angiang"; fi
    if [ -z "${REDIS_URL:-}" ]; then start_redis >&2; echo "export REDIS_URL=redis://127.0.0.1:$REDIS_PORT/0"; fi
    ;;
  stop)
    # Stops the project-local servers under .dev/ only; servers behind a given URL are not ours to stop.
    stop_pg
    stop_redis
    ;;
  *) echo "usage: $0 start|stop" >&2; exit 2 ;;
esac
