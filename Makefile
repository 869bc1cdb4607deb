# The two commands of the quick start: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
MANAGE := DEBUG=1 $(BIN)/python manage.py

.PHONY: install setup run test test-sqlite test-postgres lint bench screenshots clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test,dev]'
	touch $(STAMP)

install: $(STAMP)

# Migrations, demo data (first time only) and the first supervisor (from the environment).
setup: install
	$(MANAGE) migrate --noinput
	$(MANAGE) seed_demo
	$(MANAGE) ensure_supervisor

# The web server and, beside it, the worker (shifts and the queue's safety sweep); Ctrl-C
# stops both.
run: setup
	$(MANAGE) run_worker & worker=$$!; \
	trap 'kill $$worker 2>/dev/null' EXIT INT TERM; \
	$(MANAGE) runserver 127.0.0.1:8000

# The whole suite on SQLite, then again on PostgreSQL when TEST_DATABASE_URL is set; on every
# core, a test file per worker at a time (module fixtures are built once). PYTEST_ARGS= runs
# it in one process.
PYTEST_ARGS ?= -n auto --dist loadfile
test: setup test-sqlite test-postgres

test-sqlite: install
	env -u DATABASE_URL $(BIN)/python -m pytest $(PYTEST_ARGS)

test-postgres: install
	@if [ -n "$$TEST_DATABASE_URL" ]; then \
		DATABASE_URL="$$TEST_DATABASE_URL" $(BIN)/python -m pytest $(PYTEST_ARGS); \
	else \
		echo "TEST_DATABASE_URL is not set: PostgreSQL-only tests were reported as skipped above."; \
	fi

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(MANAGE) makemigrations --check --dry-run
	$(BIN)/mypy crm distribution

bench: setup
	$(BIN)/python -m bench

screenshots: install
	$(BIN)/python -m bench.screenshots

clean:
	rm -rf $(VENV) staticfiles .pytest_cache .test-db-*.sqlite3*
