# The two commands: `make run` (portal with demo data, worker and beat) and `make test`.
SHELL := /bin/bash
VENV ?= .venv
PY := $(VENV)/bin/python
PYTHON ?= $(shell command -v python3.11 || command -v python3)
STAMP := $(VENV)/.installed
# The official Peppol rules pack of development and CI, when it is there (see README, "Peppol validation").
SHARED_PEPPOL := $(abspath ../shared/peppol)
ifneq ($(wildcard $(SHARED_PEPPOL)/rules),)
export PEPPOL_RULES_DIR ?= $(SHARED_PEPPOL)
endif
# Every step of `make run` sees the variables of .env, if there is one (honcho reads it too).
WITH_ENV := set -a; if [ -f .env ]; then . ./.env; fi; set +a;

.PHONY: run test test-postgres lint bench chaos venv migrate messages clean

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info[:2] == (3, 11) else "Python 3.11 is needed (found " + sys.version.split()[0] + "): set PYTHON=/path/to/python3.11")'
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e ".[dev]"
	touch $(STAMP)

venv: $(STAMP)

migrate: venv
	$(WITH_ENV) $(PY) manage.py migrate --noinput
	$(WITH_ENV) $(PY) manage.py sync_schedules

# Web on http://127.0.0.1:8000, a Celery worker and beat, in one foreground command. Ctrl-C stops all.
run: migrate
	$(WITH_ENV) $(PY) manage.py demo_seed
	@$(WITH_ENV) $(PY) manage.py peppol rules status --short || true
	$(WITH_ENV) PATH="$(CURDIR)/$(VENV)/bin:$$PATH" $(VENV)/bin/honcho -f Procfile.dev start

test: venv
	$(PY) -m pytest

# The Dutch catalogue: collect new messages into locale/nl/LC_MESSAGES/django.po, then compile it.
messages: venv
	$(PY) manage.py makemessages -l nl --ignore=.venv --ignore=benchmarks --ignore=tests --ignore=var
	$(PY) manage.py compilemessages -l nl --ignore=.venv

lint: venv
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

# Peppol validation speed beside bare lxml + saxonche, builder throughput, and sending 1,000 invoices over
# 10 environments through a real worker (needs PostgreSQL and Redis; it creates and drops its own database).
bench: venv
	$(PY) -m benchmarks.peppol_validation
	DATABASE_URL=$${BENCH_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/postgres} \
	CELERY_BROKER_URL=$${BENCH_BROKER_URL:-redis://127.0.0.1:6379/14} $(PY) -m benchmarks.sending
	DATABASE_URL=$${BENCH_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/postgres} \
	CELERY_BROKER_URL=$${BENCH_BROKER_URL:-redis://127.0.0.1:6379/14} $(PY) -m benchmarks.receiving
	DATABASE_URL=$${BENCH_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/postgres} \
	CELERY_BROKER_URL=$${BENCH_BROKER_URL:-redis://127.0.0.1:6379/14} $(PY) -m benchmarks.transports
	DATABASE_URL=$${BENCH_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/postgres} \
	CELERY_BROKER_URL=$${BENCH_BROKER_URL:-redis://127.0.0.1:6379/14} $(PY) -m benchmarks.latency
	DATABASE_URL=$${BENCH_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/postgres} \
	CELERY_BROKER_URL=$${BENCH_BROKER_URL:-redis://127.0.0.1:6379/14} $(PY) -m benchmarks.scale_out
	DATABASE_URL=$${BENCH_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/postgres} $(PY) -m benchmarks.duplicate_check
	DATABASE_URL=$${BENCH_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/postgres} $(PY) -m benchmarks.readiness_scan
	DATABASE_URL=$${BENCH_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/postgres} $(PY) -m benchmarks.readiness_report
	DATABASE_URL=$${BENCH_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/postgres} $(PY) -m benchmarks.portal_pages
	DATABASE_URL=$${BENCH_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/postgres} $(PY) -m benchmarks.document_retention
	DATABASE_URL=$${BENCH_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/postgres} $(PY) -m benchmarks.reconciliation

# Reliability campaigns (README, "Reliability"): the worker killed 50 times while invoices flow, every remote
# operation under every fault, hostile input, then Redis and PostgreSQL restarted during processing. They need
# PostgreSQL and Redis and create and drop their own databases; the outage campaign restarts both services.
chaos: venv
	DATABASE_URL=$${CHAOS_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/postgres} \
	CELERY_BROKER_URL=$${CHAOS_BROKER_URL:-redis://127.0.0.1:6379/13} $(PY) -m campaigns.crash
	DATABASE_URL=$${CHAOS_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/postgres} \
	CELERY_BROKER_URL=$${CHAOS_BROKER_URL:-redis://127.0.0.1:6379/13} $(PY) -m campaigns.faults
	DATABASE_URL=$${CHAOS_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/postgres} \
	CELERY_BROKER_URL=$${CHAOS_BROKER_URL:-redis://127.0.0.1:6379/13} $(PY) -m campaigns.hostile
	DATABASE_URL=$${CHAOS_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/postgres} \
	CELERY_BROKER_URL=$${CHAOS_BROKER_URL:-redis://127.0.0.1:6379/13} $(PY) -m campaigns.outages

# The suite against PostgreSQL and Redis on this machine (what CI runs after `make test`).
test-postgres: venv
	bash .ci/postgres-redis

clean:
	rm -rf $(VENV) var
