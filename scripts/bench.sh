#!/usr/bin/env bash
# `make bench`: benchmarks (never part of `make test`). Writes docs/performance.md.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/bootstrap.sh dev
if ! command -v wrk >/dev/null; then
  if [ "$(id -u)" = "0" ]; then apt-get install -y -qq wrk >/dev/null; else echo "Run once: sudo apt-get install -y wrk"; exit 1; fi
fi
services_env="$(bash scripts/services.sh start)" || exit 1
eval "$services_env"
export DATABASE_URL REDIS_URL
exec .venv/bin/python bench/run.py "$@"
