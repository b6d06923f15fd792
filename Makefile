# Latvian e-service delivery portal and reference registry. `make help` lists the targets.
SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 5000
REGISTRY_PORT ?= 5001
REGISTRY_DATABASE_URL ?= sqlite:///$(CURDIR)/instance/registry.sqlite3
export REGISTRY_DATABASE_URL
FLASK_REGISTRY := $(BIN)/flask --app registry
# Root installs Debian packages directly; anyone else goes through sudo.
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: help
help: ## List the targets
	@grep -hE '^[a-zA-Z_-]+:.*?## ' $(MAKEFILE_LIST) | awk 'BEGIN {FS = ":.*?## "}; {printf "  \033[36m%-16s\033[0m %s\n", $$1, $$2}'

$(BIN)/activate:
	$(PYTHON) -m venv $(VENV)

$(VENV)/.installed: $(BIN)/activate requirements.lock pyproject.toml
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -r requirements.lock
	touch $@

node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

app/static/vendor/htmx.min.js: node_modules/.installed
	mkdir -p app/static/vendor
	cp node_modules/htmx.org/dist/htmx.min.js $@

MO_FILES := $(patsubst %.po,%.mo,$(wildcard translations/*/LC_MESSAGES/messages.po))

translations/%/LC_MESSAGES/messages.mo: translations/%/LC_MESSAGES/messages.po $(VENV)/.installed
	$(BIN)/pybabel compile -i $< -o $@

# libmagic checks uploaded files by content; DejaVu fonts carry the Latvian letters into PDF receipts.
SYSTEM_PACKAGES := libmagic1 fonts-dejavu-core

.PHONY: system
system: ## Install the Debian libraries the programs load (libmagic, DejaVu fonts) if missing
	@dpkg -s $(SYSTEM_PACKAGES) >/dev/null 2>&1 || { $(SUDO) apt-get update -qq && $(SUDO) apt-get install -y -qq $(SYSTEM_PACKAGES) >/dev/null; }

.PHONY: install
install: system $(VENV)/.installed app/static/vendor/htmx.min.js $(MO_FILES) ## Create .venv, install Python and npm dependencies, compile translations

.PHONY: browser
browser: ## Install Debian chromium for browser tests (if missing)
	@command -v chromium >/dev/null || { $(SUDO) apt-get update -qq && $(SUDO) apt-get install -y -qq chromium >/dev/null; }

# The tests of shared state (sessions, cache, circuit breaker, rate limits) start a throwaway Redis of their own
# (tests/fixtures/redis_server.py) on loopback, without persistence.
.PHONY: redis
redis: ## Install Debian's redis-server for the shared-state tests (if missing)
	@command -v redis-server >/dev/null || { $(SUDO) apt-get update -qq && $(SUDO) apt-get install -y -qq redis-server >/dev/null; }

# The registry's PostgreSQL tests start a throwaway server of their own (tests/fixtures/postgres.py) with Debian's
# initdb and pg_ctl, which live in /usr/lib/postgresql/<version>/bin; PG_BIN may name another bin directory.
.PHONY: postgres
postgres: ## Install Debian's PostgreSQL server for the registry's PostgreSQL tests (if missing)
	@ls /usr/lib/postgresql/*/bin/initdb /usr/lib/postgresql/*/bin/pg_ctl >/dev/null 2>&1 || [ -x "$${PG_BIN:-/nonexistent}/initdb" ] || \
	{ $(SUDO) apt-get update -qq && $(SUDO) apt-get install -y -qq postgresql >/dev/null; }

# The antivirus tests start a throwaway clamd of their own (tests/fixtures/clamd.py) on a unix socket, with a
# database of test signatures it writes itself: nothing is downloaded and freshclam never runs.
.PHONY: clamav
clamav: ## Install Debian's clamav-daemon for the antivirus tests (if missing)
	@command -v clamd >/dev/null || [ -x /usr/sbin/clamd ] || { $(SUDO) apt-get update -qq && $(SUDO) apt-get install -y -qq clamav-daemon >/dev/null; }

# The sign-in tests run a real OpenID provider (npm oidc-provider, tests/oidc_provider/server.js) from its own lockfile.
tests/oidc_provider/node_modules/.installed: tests/oidc_provider/package.json tests/oidc_provider/package-lock.json
	cd tests/oidc_provider && npm ci --no-audit --no-fund --loglevel=error
	touch $@

.PHONY: oidc-provider
oidc-provider: tests/oidc_provider/node_modules/.installed ## Install the test OpenID provider for the sign-in tests

.PHONY: db
db: $(VENV)/.installed ## Migrate the registry database and seed it when empty
	$(FLASK_REGISTRY) db-upgrade
	$(FLASK_REGISTRY) seed --if-empty

.PHONY: run
run: install db ## Run the registry (127.0.0.1:$(REGISTRY_PORT)) and the portal (127.0.0.1:$(PORT)); Ctrl-C stops both
	@echo "portal:   http://127.0.0.1:$(PORT)/  (also riga.localhost, valmiera.localhost, viss.localhost)"
	@echo "registry: http://127.0.0.1:$(REGISTRY_PORT)/api/v1/services"
	@trap 'kill 0' INT TERM; \
	REGISTRY_PORT=$(REGISTRY_PORT) $(BIN)/gunicorn -c registry/gunicorn.conf.py registry.wsgi:app & \
	PORT=$(PORT) REGISTRY_URL=http://127.0.0.1:$(REGISTRY_PORT) $(BIN)/gunicorn -c gunicorn.conf.py wsgi:app & \
	wait

.PHONY: test
test: install browser postgres oidc-provider redis clamav ## Run the whole test suite (installs everything it needs first)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(MAKE) --no-print-directory security
	$(BIN)/flask --app registry openapi --check
	$(BIN)/python -m pytest -n 2 $(PYTEST_ARGS)

# Security lint (docs/security.md): bandit over the shipped code ([tool.bandit] in pyproject.toml), and semgrep with
# the local rules of .semgrep/ only, offline and without metrics (`semgrep --test` first checks the rules catch what
# they should). semgrep pins click and jsonschema below what the portal uses, so it has a virtualenv of its own.
SEMGREP_VERSION := 1.185.0
SEMGREP_VENV := $(VENV)/semgrep
SEMGREP := $(SEMGREP_VENV)/bin/semgrep
SEMGREP_FLAGS := --metrics=off --disable-version-check
SEMGREP_TARGETS := app registry forms identity envconfig bench tests themes wsgi.py gunicorn.conf.py
BANDIT_TARGETS := app registry forms identity envconfig wsgi.py gunicorn.conf.py

$(SEMGREP_VENV)/.installed: requirements-semgrep.lock | $(BIN)/activate
	$(PYTHON) -m venv $(SEMGREP_VENV)
	$(SEMGREP_VENV)/bin/pip install --quiet -r requirements-semgrep.lock
	touch $@

.PHONY: security
security: $(VENV)/.installed $(SEMGREP_VENV)/.installed ## Security lint: bandit, and semgrep with the local rules (offline)
	$(BIN)/bandit -c pyproject.toml -r $(BANDIT_TARGETS) --severity-level medium --confidence-level medium -q
	cd .semgrep && ../$(SEMGREP) --test $(SEMGREP_FLAGS) .
	$(SEMGREP) scan --config .semgrep/ $(SEMGREP_FLAGS) --error --no-git-ignore --quiet $(SEMGREP_TARGETS)

.PHONY: lint
lint: $(VENV)/.installed ## Lint and format-check with ruff
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

.PHONY: seed
seed: $(VENV)/.installed ## Load the seed catalogue again (idempotent)
	$(FLASK_REGISTRY) db-upgrade
	$(FLASK_REGISTRY) seed

.PHONY: token
token: $(VENV)/.installed ## Print a publisher token: make token INSTITUTION=pmlp
	@$(FLASK_REGISTRY) create-token $(INSTITUTION)

.PHONY: translations
translations: $(VENV)/.installed ## Extract strings and update the lv and en catalogues (then translate, make install)
	$(BIN)/pybabel extract -F babel.cfg -o translations/messages.pot .
	$(BIN)/pybabel update -i translations/messages.pot -d translations --no-fuzzy-matching

.PHONY: openapi
openapi: $(VENV)/.installed ## Regenerate registry/openapi.json from the code
	$(FLASK_REGISTRY) openapi

.PHONY: bench
bench: install postgres redis ## Benchmarks: one table of the portal's pages, on SQLite and on PostgreSQL + Redis (10,000 services and cases)
	@command -v wrk >/dev/null || { $(SUDO) apt-get update -qq && $(SUDO) apt-get install -y -qq wrk >/dev/null; } || true
	$(BIN)/python -m bench.table $(BENCH_TABLE_ARGS)

.PHONY: bench-all
bench-all: bench bench-registry bench-portal bench-forms bench-cases ## The table, then each benchmark below (numbers, no assertions)

# locust is the optional extra `bench` of pyproject.toml: not in requirements.lock, so `make test` never installs it;
# here it is installed with the locked versions of everything it shares with the portal.
BENCH_EXTRA = $(shell $(BIN)/python -c 'import shlex, tomllib; print(*map(shlex.quote, tomllib.load(open("pyproject.toml", "rb"))["project"]["optional-dependencies"]["bench"]))')

$(VENV)/.bench-installed: $(VENV)/.installed pyproject.toml requirements.lock
	$(BIN)/pip install --quiet -c requirements.lock $(BENCH_EXTRA)
	touch $@

.PHONY: load
load: install postgres redis $(VENV)/.bench-installed ## Load test: 200 users browse, search, apply and submit for 60 s (LOAD_ARGS=--variant postgres)
	$(BIN)/python -m bench.load $(LOAD_ARGS)

.PHONY: bench-registry
bench-registry: $(VENV)/.installed ## Registry: GET /services latency with 1,000 / 10,000 / 100,000 synthetic services
	$(BIN)/python -m bench.registry $(BENCH_ARGS)

.PHONY: bench-cases
bench-cases: install ## Staff queue: GET /staff/cases with 10,000 open cases over 20 institutions
	$(BIN)/python -m bench.cases

.PHONY: bench-forms
bench-forms: install ## Forms: pages, validation and page weight of the 73-question income tax return
	$(BIN)/python -m bench.forms $(BENCH_FORMS_ARGS)

.PHONY: bench-portal
bench-portal: install ## Portal: page latency, throughput against a trivial app, page weight (10,000 services)
	@command -v wrk >/dev/null || { $(SUDO) apt-get update -qq && $(SUDO) apt-get install -y -qq wrk >/dev/null; } || true
	$(BIN)/python -m bench.portal $(BENCH_PORTAL_ARGS)

.PHONY: lock
lock: $(VENV)/.installed ## Re-resolve requirements.lock from pyproject.toml
	$(BIN)/pip install --quiet uv
	$(BIN)/uv pip compile pyproject.toml --extra dev --python-version 3.11 --quiet -o requirements.lock
	echo "semgrep==$(SEMGREP_VERSION)" | $(BIN)/uv pip compile - --python-version 3.11 --quiet -o requirements-semgrep.lock

.PHONY: clean
clean: ## Remove the virtualenv, npm packages and local databases
	rm -rf $(VENV) node_modules tests/oidc_provider/node_modules instance app/static/vendor
