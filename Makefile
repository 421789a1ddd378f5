# The two commands a new user needs: `make run` and `make test`. Both create .venv when missing.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-stamp
ORG ?= ttd
# The suite mostly waits on servers: one runner per core (at most four), each with a stack of
# its own, and a module's tests kept together on one runner (its module-wide stack).
TEST_ARGS ?= -n auto --maxprocesses 4 --dist loadfile

BENCH_STAMP := $(VENV)/.bench-stamp
# Every install takes the versions the suite last passed with (scripts/lock.sh writes them).
PIP_INSTALL := $(PY) -m pip install --quiet --disable-pip-version-check -c constraints.txt

.PHONY: run test lint token install bench clean migrate histories screenshot lock

$(STAMP): pyproject.toml constraints.txt
	@$(PYTHON) -c 'import sys; assert sys.version_info >= (3, 11), "Python 3.11+ is required"'
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PIP_INSTALL) -e '.[dev]'
	@touch $(STAMP)

install: $(STAMP)

run: $(STAMP)  ## migrate the store, start Temporal, the simulator, the worker and the API
	$(PY) -m devstack

test: $(STAMP)  ## run the test suite against real Temporal, simulator, databases and Postfix
	TEST_POSTGRES_URL="$$(scripts/test-postgres.sh)" TEST_HAPROXY="$$(scripts/test-haproxy.sh)" \
		TEST_POSTFIX="$$(scripts/test-postfix.sh)" $(PY) -m pytest $(TEST_ARGS)

migrate: $(STAMP)  ## apply the schema migrations to DATABASE_URL
	$(PY) -m store.migrate

histories: $(STAMP)  ## record the workflow histories the replay test replays
	PYTHONPATH=. $(PY) scripts/record_histories.py

screenshot: $(STAMP)  ## the README's picture of a shipment in the Temporal UI (needs chromium)
	PYTHONPATH=. $(PY) scripts/screenshot.py

lint: $(STAMP)  ## ruff and mypy
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy .

token: $(STAMP)  ## print a development token: make token ORG=ttd (SCOPE=notifications.codec)
	@$(PY) -m devstack.token --org $(ORG) $(if $(SCOPE),--scope "$(SCOPE)")

$(BENCH_STAMP): $(STAMP)
	$(PIP_INSTALL) -e '.[dev,bench]'
	@touch $(BENCH_STAMP)

bench: $(BENCH_STAMP)  ## measure the service against the no-engine floor: bench/results/
	BENCH_POSTGRES_URL="$$(scripts/test-postgres.sh)" $(PY) -m bench $(BENCH_ARGS)

lock:  ## resolve the dependencies afresh into constraints.txt (then make test)
	PYTHON=$(PYTHON) scripts/lock.sh

clean:
	rm -rf .data
