.PHONY: run test bench lint messages reorganisation-2025
SHELL := /bin/bash

run:            ## the whole system with demo data
	bash scripts/run.sh

test:           ## the whole suite on real PostgreSQL, Redis and Chromium
	bash scripts/test.sh

bench:          ## benchmarks (not tests); figures go to docs/performance.md
	bash scripts/bench.sh

reorganisation-2025:  ## replay the 2025 two-level change on the demo data of `make run` (docs/scenario-2025.md); ARGS="--dry-run" or "--json"
	eval "$$(bash scripts/services.sh start)" && export DATABASE_URL REDIS_URL DJANGO_DEBUG="$${DJANGO_DEBUG:-true}" && \
	  .venv/bin/python manage.py migrate --noinput -v 0 && .venv/bin/python manage.py reorganisation_2025 $(ARGS)

lint:
	.venv/bin/ruff check . && .venv/bin/ruff format --check . && .venv/bin/lint-imports

messages:       ## refresh the message catalogues after changing user-facing strings
	.venv/bin/python manage.py makemessages -l vi -l en --ignore=.venv --ignore=.dev
	.venv/bin/python manage.py makemessages -d djangojs -l vi -l en --ignore=.venv --ignore=.dev --ignore=static/vendor
