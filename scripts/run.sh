#!/usr/bin/env bash
# `make run`: the whole system with demo data — web (gunicorn), Celery worker and beat, PostgreSQL and Redis,
# the national portal simulator
# (project-local unless DATABASE_URL / REDIS_URL are given). Ctrl-C or SIGTERM stops everything it started.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/bootstrap.sh
services_env="$(bash scripts/services.sh start)" || { echo "Could not start PostgreSQL/Redis (see above)." >&2; exit 1; }
eval "$services_env"
export DATABASE_URL REDIS_URL
export DJANGO_DEBUG="${DJANGO_DEBUG:-true}"
export PORT="${PORT:-8000}"
export SITE_URL="${SITE_URL:-http://localhost:$PORT}"
PY=.venv/bin/python

pids=()
stopping=0
stop_all() {
  [ "$stopping" = 1 ] && return
  stopping=1
  echo
  echo "==> Stopping"
  for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  bash scripts/services.sh stop
  echo "==> Stopped"
}
trap 'stop_all; exit 0' INT TERM
trap 'stop_all' EXIT

echo "==> Migrating"
$PY manage.py migrate --noinput -v 0
echo "==> Loading demo data"
$PY manage.py seed_demo
$PY manage.py collectstatic --noinput -v 0

# The national public-service portal's local simulator (sync/simulator.py): the outbox delivers to it unless
# NATIONAL_PORTAL_URL names another portal. It stores what it receives in .dev/national-portal.jsonl.
if [ -z "${NATIONAL_PORTAL_URL:-}" ]; then
  export NATIONAL_PORTAL_PORT="${NATIONAL_PORTAL_PORT:-8790}"
  export NATIONAL_PORTAL_URL="http://127.0.0.1:$NATIONAL_PORTAL_PORT"
  $PY -m sync.simulator --port "$NATIONAL_PORTAL_PORT" --store .dev/national-portal.jsonl &
  pids+=($!)
fi

.venv/bin/gunicorn config.wsgi:application --bind "0.0.0.0:$PORT" --workers "${WEB_CONCURRENCY:-3}" \
  --access-logfile - --graceful-timeout 10 &
pids+=($!)
.venv/bin/celery -A config worker --loglevel INFO --concurrency "${CELERY_CONCURRENCY:-2}" &
pids+=($!)
.venv/bin/celery -A config beat --loglevel INFO --schedule .dev/celerybeat-schedule &
pids+=($!)

cat <<INFO

  Citizen portal   http://localhost:$PORT/
  Procedures       http://localhost:$PORT/thu-tuc/
  Dossier lookup   http://localhost:$PORT/tra-cuu/
  One-stop desk    http://localhost:$PORT/mot-cua/   (staff accounts below)
  Administration   http://localhost:$PORT/quan-tri/
  API docs         http://localhost:$PORT/api/docs/
  Health           http://localhost:$PORT/healthz
  Sync monitor     http://localhost:$PORT/mot-cua/dong-bo/   (province administrator)
  National portal  $NATIONAL_PORTAL_URL   (simulator unless NATIONAL_PORTAL_URL was given)

  Demo accounts (password: ${DEMO_PASSWORD:-AnGiang@2025}):
INFO
$PY manage.py shell -c "
from organizations.models import Staff
for s in Staff.objects.select_related('user','agency').order_by('agency__level','user__username'):
    print(f'    {s.user.username:24} {s.get_role_display():28} {s.agency.name}')
"
echo
echo "  Press Ctrl-C to stop."
# Any process that dies takes the others down with it.
wait -n "${pids[@]}" || true
stop_all
