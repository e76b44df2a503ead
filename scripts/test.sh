#!/usr/bin/env bash
# `make test`: the same set-up as `make run`, then every check CI runs. Exits non-zero on any failure.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/bootstrap.sh dev
trap 'bash scripts/services.sh stop' EXIT   # also when only one of the two servers came up
services_env="$(bash scripts/services.sh start)" || { echo "Could not start PostgreSQL/Redis (see above)." >&2; exit 1; }
eval "$services_env"
export DATABASE_URL REDIS_URL
export DJANGO_DEBUG=false DJANGO_STATIC_MANIFEST=false DJANGO_SECRET_KEY="${DJANGO_SECRET_KEY:-test-only-secret-key-not-for-production}"
PY=.venv/bin/python
mkdir -p .dev/staticfiles .dev/media

echo "==> ruff"
.venv/bin/ruff check .
.venv/bin/ruff format --check .
echo "==> import-linter (app dependency rule)"
.venv/bin/lint-imports
echo "==> translations"
$PY scripts/check_translations.py
echo "==> migrations"
$PY manage.py makemigrations --check --dry-run
DJANGO_SECRET_KEY="$(head -c 48 /dev/urandom | base64)" DJANGO_SECURE_SSL_REDIRECT=true \
  DJANGO_SECURE_HSTS_SECONDS=31536000 DJANGO_ALLOWED_HOSTS=example.gov.vn \
  env -u DJANGO_ALLOW_ASYNC_UNSAFE $PY manage.py check --deploy --fail-level WARNING
echo "==> pytest"
# Playwright's sync API runs an event loop in the test thread; Django's live server tests need this then.
DJANGO_ALLOW_ASYNC_UNSAFE=true $PY -m pytest "$@"
