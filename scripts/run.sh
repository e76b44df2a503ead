#!/usr/bin/env bash
# `make run`: the whole system with demo data — web (gunicorn), Celery worker and beat, PostgreSQL and Redis,
# the national portal, payment gateway and identity provider simulators
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

# The payment gateway's local simulator (payments/gateway_simulator.py): citizens pay fees there unless
# PAYMENT_GATEWAY_URL names a real gateway; it calls the IPN of this web server.
export PAYMENT_TMN_CODE="${PAYMENT_TMN_CODE:-AGDVC001}"
export PAYMENT_HASH_SECRET="${PAYMENT_HASH_SECRET:-dev-payment-secret}"
if [ -z "${PAYMENT_GATEWAY_URL:-}" ]; then
  export PAYMENT_GATEWAY_PORT="${PAYMENT_GATEWAY_PORT:-8792}"
  export PAYMENT_GATEWAY_URL="http://127.0.0.1:$PAYMENT_GATEWAY_PORT"
  $PY -m payments.gateway_simulator --port "$PAYMENT_GATEWAY_PORT" --ipn-url "$SITE_URL/thanh-toan/ipn/" \
    --tmn-code "$PAYMENT_TMN_CODE" --secret "$PAYMENT_HASH_SECRET" &
  pids+=($!)
fi

# The national electronic identity's local simulator (citizens/idp_simulator.py): citizens sign in there with
# "Đăng nhập bằng tài khoản định danh điện tử" unless OIDC_PROVIDER_URL names the real provider.
export OIDC_RP_CLIENT_ID="${OIDC_RP_CLIENT_ID:-angiang-portal}"
export OIDC_RP_CLIENT_SECRET="${OIDC_RP_CLIENT_SECRET:-dev-oidc-secret}"
IDP_SIMULATED=0
if [ -z "${OIDC_PROVIDER_URL:-}" ]; then
  export IDENTITY_PROVIDER_PORT="${IDENTITY_PROVIDER_PORT:-8791}"
  export OIDC_PROVIDER_URL="http://127.0.0.1:$IDENTITY_PROVIDER_PORT"
  $PY -m citizens.idp_simulator --port "$IDENTITY_PROVIDER_PORT" &
  pids+=($!)
  IDP_SIMULATED=1
fi

# The development mail catcher (core/mailcatcher.py): emails to applicants are stored in .dev/mail/*.eml instead of
# being delivered, unless EMAIL_HOST names a real SMTP server. SMS go to the worker's log (logger "sms").
if [ -z "${EMAIL_HOST:-}" ]; then
  export EMAIL_HOST=127.0.0.1 EMAIL_PORT="${EMAIL_PORT:-8025}"
  $PY -m core.mailcatcher --port "$EMAIL_PORT" --dir .dev/mail &
  pids+=($!)
  MAIL_INFO="smtp://$EMAIL_HOST:$EMAIL_PORT, stored in .dev/mail/*.eml (mail catcher unless EMAIL_HOST was given)"
else
  MAIL_INFO="smtp://$EMAIL_HOST:${EMAIL_PORT:-8025}"
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
  Citizen e-mail   $MAIL_INFO
  Citizen SMS      logged by the Celery worker (logger "sms"; SMS_BACKEND names a real gateway)
  Citizen sign-in  http://localhost:$PORT/dang-nhap/   (identity provider $OIDC_PROVIDER_URL, simulator unless OIDC_PROVIDER_URL was given)
  Payment gateway  $PAYMENT_GATEWAY_URL   (simulator unless PAYMENT_GATEWAY_URL was given; IPN to $SITE_URL/thanh-toan/ipn/)

  Demo accounts (password: ${DEMO_PASSWORD:-AnGiang@2025}):
INFO
$PY manage.py shell -c "
from organizations.models import Staff
for s in Staff.objects.select_related('user','agency').order_by('agency__level','user__username'):
    print(f'    {s.user.username:24} {s.get_role_display():28} {s.agency.name}')
"
if [ "$IDP_SIMULATED" = 1 ]; then
  echo
  echo "  Demo identities at the identity provider simulator (or type the number; password: ${IDP_SIM_PASSWORD:-VNeID@2025}):"
  $PY -c "
from citizens.idp_simulator import DEMO_USERS
for name, number, birth, phone, email in DEMO_USERS:
    print(f'    {number}  {name:24} born {birth}  {phone}  {email}')
"
fi
echo
echo "  Press Ctrl-C to stop."
# Any process that dies takes the others down with it.
wait -n "${pids[@]}" || true
stop_all
