# Capability Knowledge Base. `make run` serves it; `make test` runs lint and every test.
PYTHON ?= python3
PORT ?= 5000
VENV := .venv
BIN := $(VENV)/bin
FLASK := $(BIN)/flask --app wsgi

.PHONY: run test test-postgres lint bench bench-http relevance install install-test screenshots clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

# Reinstall only when pyproject.toml changes.
$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e .
	touch $@

$(VENV)/.installed-test: pyproject.toml $(VENV)/.installed
	$(BIN)/pip install --quiet -e '.[test]'
	touch $@

install: $(VENV)/.installed
install-test: $(VENV)/.installed-test

run: install
	$(FLASK) kb bootstrap
	@echo "Serving on http://127.0.0.1:$(PORT)/ (Ctrl+C to stop)"
	$(BIN)/waitress-serve --host 127.0.0.1 --port $(PORT) --threads 8 wsgi:app

lint: install-test
	$(BIN)/ruff check kb tests bench wsgi.py
	$(BIN)/ruff format --check kb tests bench wsgi.py

test: lint
	$(BIN)/python -m pytest $(PYTEST_ARGS)

# The whole suite again on PostgreSQL: KB_TEST_DATABASE_URL names a server where the account may create
# databases (each test gets its own, dropped at the end); a server that cannot be reached is a failure.
test-postgres: install-test
	@test -n "$(KB_TEST_DATABASE_URL)" || { echo "test-postgres: set KB_TEST_DATABASE_URL, e.g. postgresql+psycopg://postgres@/postgres?host=/tmp/pg"; exit 1; }
	KB_TEST_DATABASE_URL='$(KB_TEST_DATABASE_URL)' KB_REQUIRE_POSTGRES=1 $(BIN)/python -m pytest $(PYTEST_ARGS)

# The README's screenshots (docs/screenshots/), from a freshly seeded copy in Debian's chromium.
screenshots: install-test
	$(BIN)/python -m tests.browser.screenshots

# The search evaluation (tests/relevance/queries.yml): hit@1, hit@3, MRR and zero results by kind.
relevance: install-test
	$(BIN)/python -m tests.relevance.evaluate

bench: install-test
	$(BIN)/python bench/search_bench.py

# Load on loopback against the server `make run` starts, at 39, 1,000 and 10,000 articles.
bench-http: install-test
	$(BIN)/python bench/http_bench.py $(BENCH_ARGS)

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
