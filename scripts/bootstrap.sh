#!/usr/bin/env bash
# Install what the project needs on a Debian/Ubuntu machine: system packages (when root), a .venv and the
# pinned Python dependencies. Safe to run again: each step is skipped when already done.
set -euo pipefail
cd "$(dirname "$0")/.."

want_dev="${1:-}"   # "dev" also installs the test tools and the browser
PYTHON="${PYTHON:-python3}"

# --- Debian packages ----------------------------------------------------------------------------------------------
pkgs=(gettext poppler-utils fonts-liberation libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 python3-venv)
[ -z "${REDIS_URL:-}" ] && pkgs+=(redis-server)
[ -z "${DATABASE_URL:-}" ] && pkgs+=(postgresql postgresql-contrib)
[ "$want_dev" = "dev" ] && pkgs+=(chromium)
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ "${#missing[@]}" -gt 0 ]; then
  if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null; then
    echo "==> Installing Debian packages: ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  else
    echo "Missing system packages. Run once as root:"
    echo "  sudo apt-get install -y ${missing[*]}"
    exit 1
  fi
fi

# --- Python virtualenv and pinned dependencies --------------------------------------------------------------------
if [ ! -x .venv/bin/python ]; then
  echo "==> Creating .venv"
  "$PYTHON" -m venv .venv
fi
req=requirements.txt
[ "$want_dev" = "dev" ] && req=requirements-dev.txt
hash="$(cat requirements.txt requirements-dev.txt | sha256sum | cut -c1-16)"
# The development set includes the runtime set: either stamp satisfies `make run`.
if [ ! -f ".venv/.installed-$hash-dev" ] && { [ "$want_dev" = "dev" ] || [ ! -f ".venv/.installed-$hash-" ]; }; then
  echo "==> Installing Python dependencies ($req)"
  .venv/bin/pip install -q --disable-pip-version-check --upgrade pip
  .venv/bin/pip install -q --disable-pip-version-check -r "$req"
  rm -f .venv/.installed-*
  touch ".venv/.installed-$hash-$want_dev"
fi

# --- Translations (compiled, not committed) -----------------------------------------------------------------------
DJANGO_SECRET_KEY="${DJANGO_SECRET_KEY:-bootstrap-only}" .venv/bin/python manage.py compilemessages --ignore=.venv --ignore=.dev -v 0
