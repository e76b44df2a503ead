.PHONY: run test bench lint messages
SHELL := /bin/bash

run:            ## the whole system with demo data
	bash scripts/run.sh

test:           ## the whole suite on real PostgreSQL, Redis and Chromium
	bash scripts/test.sh

bench:          ## benchmarks (not tests); figures go to docs/performance.md
	bash scripts/bench.sh

lint:
	.venv/bin/ruff check . && .venv/bin/ruff format --check . && .venv/bin/lint-imports

messages:       ## refresh the message catalogues after changing user-facing strings
	.venv/bin/python manage.py makemessages -l vi -l en --ignore=.venv --ignore=.dev
	.venv/bin/python manage.py makemessages -d djangojs -l vi -l en --ignore=.venv --ignore=.dev --ignore=static/vendor
