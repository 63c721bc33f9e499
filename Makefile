# Two commands do all the set-up on a fresh machine: `make run` and `make test`.
SHELL := /bin/bash
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
export PATH := $(abspath $(VENV))/bin:$(PATH)
export PYTHON := $(abspath $(PY))

.PHONY: run test lint format fuzz bench check clean

$(STAMP): requirements.txt requirements-dev.txt
	test -x $(PY) || python3 -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements-dev.txt
	touch $(STAMP)

venv: $(STAMP)

## Serve the admin and API on http://127.0.0.1:8000 with a Celery worker and beat (demo settings).
run: $(STAMP)
	DJANGO_DEBUG=$${DJANGO_DEBUG:-1} scripts/entrypoint.sh dev

## Run the whole test suite: PostgreSQL when DATABASE_URL is set, otherwise SQLite.
test: $(STAMP)
	scripts/entrypoint.sh test $(ARGS)

## Benchmarks against PostgreSQL's own floor (needs DATABASE_URL=postgres://..., wrk, psql and pgbench);
## prints a table and rewrites docs/benchmarks.md. ARGS="--only 5,6 --seconds 10" runs a subset.
bench: $(STAMP)
	@test -n "$$DATABASE_URL" || { echo "make bench needs DATABASE_URL pointing at PostgreSQL" >&2; exit 2; }
	$(PY) -m pip install --quiet -r bench/requirements.txt
	$(PY) -m bench.run $(ARGS)

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

format: $(STAMP)
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

clean:
	rm -rf $(VENV) var/db.sqlite3 var/celery staticfiles .pytest_cache
