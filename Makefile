# Orderpass: `make dev` runs everything locally, `make test` runs every check.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin

.PHONY: install dev test lint typecheck pytest test-standalone test-soak static clean test-security translations

install: $(VENV)/.installed static/vendor/.installed

$(VENV)/.installed: pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Python 3.11+ is required")'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e ".[dev]"
	touch $@

# htmx and its SSE extension come from the npm registry (pinned in package-lock.json); so does
# axe-core, which tests/e2e/test_accessibility.py loads from node_modules (never served).
static/vendor/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	mkdir -p static/vendor
	cp node_modules/htmx.org/dist/htmx.min.js node_modules/htmx-ext-sse/sse.js static/vendor/
	touch $@

static: static/vendor/.installed

# Diner pages and emails in English and German (app/infra/i18n.py): extract every marked string
# (babel.cfg) into a template, merge it into each catalog (app/locale/<lang>/LC_MESSAGES/
# messages.po: translate what is new or marked fuzzy), compile the .mo files. Without a .mo
# the app compiles the .po in memory, so a fresh clone needs no build step.
POT := $(VENV)/messages.pot
translations: install
	$(BIN)/pybabel extract -F babel.cfg -k N_ -k ngettext:1,2 -k pgettext:1c,2 \
		--no-location --sort-output -w 100 --project Orderpass -o $(POT) .
	$(BIN)/pybabel update -i $(POT) -d app/locale -w 100 --ignore-obsolete
	$(BIN)/pybabel compile -d app/locale --statistics

dev: install
	$(BIN)/orderpass dev

lint: install
	$(BIN)/ruff check app workers migrations tests

typecheck: install
	$(BIN)/mypy

# pytest-xdist: the suite spreads over PYTEST_WORKERS processes, each a session of its own
# (its own embedded servers, or its own database, Redis db and channel prefix on standalone
# ones: tests/helpers/infra.py). Many tests wait on processes, sockets and timeouts, so 4
# workers beat 3 even on 2 cores (fresh-clone CI, 2 vCPUs: the parallel run 10:08 against
# 12:10, one run each; the whole of .ci/run 18:18 against 21:05). Whole files go to one
# worker (--dist loadfile): the reliability suite starts a stack per module. `PYTEST_WORKERS=0` runs in one process;
# `.venv/bin/pytest tests/…` alone runs without xdist as before.
# The reliability suite runs after, alone: each test holds a recovery budget (a stack back
# within 20 s of a restart, every email out once within 60 s), which measures the product
# only when the other workers are not starting servers and browsers beside it.
# The email pacing tests too: they count Resend's 429s against a limit measured on arrival.
PYTEST_WORKERS ?= 4
XDIST := -n $(PYTEST_WORKERS) --dist loadfile --durations=25
TIMED := tests/reliability tests/integration/notifications/test_pacing.py

pytest: install
	$(BIN)/pytest $(XDIST) $(addprefix --ignore=,$(TIMED))
	$(BIN)/pytest $(TIMED) --durations=10

test: lint typecheck pytest

# The integration suite again, against the machine's own Postgres and Redis; tests that start
# their own embedded servers (`own_servers`: `orderpass dev`) would only repeat themselves, and
# tests of input rules and wording (`server_agnostic`: a fifth of the run's time) prove nothing
# more about the servers. Tests that change the whole Redis server (`redis_server_wide`: a
# SCRIPT FLUSH, a maxmemory) run alone after: on the shared server they pulled scripts from
# under the other workers (a NOSCRIPT 500 in a login, CI of stop 33's successor).
STANDALONE := TEST_DATABASE_URL=$${TEST_DATABASE_URL:-postgresql://postgres@127.0.0.1:5432/postgres} \
	TEST_REDIS_URL=$${TEST_REDIS_URL:-redis://127.0.0.1:6379/9}
test-standalone: install
	$(STANDALONE) $(BIN)/pytest $(XDIST) tests/integration \
		-m "not browser and not own_servers and not server_agnostic and not redis_server_wide" \
		$(addprefix --ignore=,$(TIMED))
	$(STANDALONE) $(BIN)/pytest tests/integration/notifications/test_pacing.py
	$(STANDALONE) $(BIN)/pytest tests/integration -m redis_server_wide

# Opt-in soak: 10 minutes of mixed traffic with RSS / connection bounds (SOAK_SECONDS=…).
test-soak: install
	$(BIN)/pytest -m soak tests/reliability -s

clean:
	rm -rf $(VENV) node_modules static/vendor

# Headers/CSP, XSS, CSRF, isolation, webhook fuzzing, schemathesis (also part of `make pytest`).
test-security: install
	$(BIN)/pytest tests/security
