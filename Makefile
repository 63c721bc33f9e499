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

## The production-shape smoke suite alone: entrypoint.sh's roles on a fresh PostgreSQL database and
## Redis, then the API, Flower and every admin page in Chromium (hospital/tests/test_smoke.py).
.PHONY: smoke
smoke: $(STAMP)
	scripts/entrypoint.sh test -m smoke $(ARGS)

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	DJANGO_SECRET_KEY=$${DJANGO_SECRET_KEY:-typecheck-only} $(VENV)/bin/mypy staff appointments hospital conftest.py

format: $(STAMP)
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

clean:
	rm -rf $(VENV) var/db.sqlite3 var/celery staticfiles .pytest_cache

## Fuzz the API longer than CI does (Schemathesis, hospital/tests/test_fuzz.py), with a new seed each
## time (printed; FUZZ_SEED=... replays one). Needs PostgreSQL: DATABASE_URL, else the local one.
.PHONY: fuzz
fuzz: $(STAMP)
	DATABASE_URL=$${DATABASE_URL:-postgres://postgres@127.0.0.1:5432/hospital} \
	FUZZ_SEED=$${FUZZ_SEED:-$$(date +%s)} FUZZ_MAX_EXAMPLES=$${FUZZ_MAX_EXAMPLES:-100} \
	FUZZ_STATEFUL_EXAMPLES=$${FUZZ_STATEFUL_EXAMPLES:-100} \
		$(PY) -m pytest hospital/tests/test_fuzz.py -p no:cacheprovider $(ARGS)

## Load with faults: locust against gunicorn + Celery + PostgreSQL while a worker is killed, Redis is
## stopped and PostgreSQL restarted (bench/reliability/run.py); rewrites docs/reliability.md.
.PHONY: reliability
reliability: $(STAMP)
	$(PY) -m bench.reliability.run $(ARGS)
