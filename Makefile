# Two commands: `make run` and `make test`. Both create .venv on first use and
# reinstall only when pyproject.toml changes (stamp files), so re-running is fast.
# Extras (pyproject.toml): `make run` installs the app with discovery (every page of the single-user app
# works, ML-BOMs included); `make test` adds postgres and team (PostgreSQL, sign-in) and the test tools.
RUN_EXTRAS  := discovery
TEST_EXTRAS := test,postgres,team,discovery
VENV   := .venv
PY     := $(VENV)/bin/python
PIP    := $(PY) -m pip
PORT   ?= 8501
PYTHON ?= python3

.PHONY: run test test-fast lint bench clean bytecode

# Our own modules' bytecode, written ahead (pip does this for installed packages; Python does it on import
# unless PYTHONDONTWRITEBYTECODE is set, as in CI and this sandbox): each start then loads ~170 modules
# instead of compiling them (~0.3 s of a server's first page, and of every CLI process the tests start).
# make itself checks the sources' times, so an up-to-date `make run` starts no extra Python process (0.07 → 0.03 s);
# a changed source is recompiled (and Python never loads a stale .pyc: it checks the source's time itself).
PY_SOURCES := $(shell find risk_models dashboard -name '*.py')
bytecode: $(VENV)/.stamp-bytecode

$(VENV)/.stamp-bytecode: $(VENV)/.stamp-run $(PY_SOURCES)
	@$(PY) -m compileall -q risk_models dashboard
	@touch $@

$(VENV)/bin/python:
	$(PYTHON) -m venv $(VENV)

$(VENV)/.stamp-run: pyproject.toml | $(VENV)/bin/python
	$(PIP) install -q -e ".[$(RUN_EXTRAS)]"
	$(PY) -c "import risk_models, streamlit, python_calamine, cyclonedx"
	touch $@

$(VENV)/.stamp-test: pyproject.toml $(VENV)/.stamp-run .venv-focus/.stamp
	$(PIP) install -q -e ".[$(TEST_EXTRAS)]"
	$(PY) -c "import pytest, hypothesis, playwright, psycopg, authlib, httpx, cyclonedx"
	touch $@

# The FinOps Foundation's focus-validator checks the FOCUS samples of tests/test_discovery.py. It cannot
# share our venv: on Python 3.11 only 1.0.0 installs (2.x needs Python >= 3.12) and 1.0.0 pins
# numpy < 2 and pandas 2 (we need numpy 2.4, pandas 3.1), so it gets a venv of its own.
# pyarrow < 18 (numpy 1.x builds): its Parquet loader needs it but does not declare it. multimethod < 1.11: pandera 0.17 (its dependency) imports multimethod.overload, gone in 1.11.
.venv-focus/.stamp:
	$(PYTHON) -m venv .venv-focus
	.venv-focus/bin/python -m pip install -q "focus-validator==1.0.0" "multimethod<1.11" "pyarrow>=15,<18"
	.venv-focus/bin/focus-validator --supported-versions
	touch $@

run: $(VENV)/.stamp-run bytecode
	$(PY) -m dashboard.serve --server.headless true \
	  --server.address 127.0.0.1 --server.port $(PORT) --browser.gatherUsageStats false

lint: $(VENV)/.stamp-test
	$(VENV)/bin/ruff check .
	$(VENV)/bin/lint-imports

test: $(VENV)/.stamp-test lint bytecode
	./scripts/install_system_deps.sh
	$(PY) -m pytest -q -n 2 --dist loadfile

# The inner loop: everything but browser, PostgreSQL, Node and slow tests (CI runs `make test`).
test-fast: $(VENV)/.stamp-test lint bytecode
	$(PY) -m pytest -q -n 2 --dist loadfile -m "not browser and not postgres and not node and not slow"

bench: $(VENV)/.stamp-test
	$(PIP) install -q --pre "pyfair==0.1a13"
	$(PY) -m bench.bench_import
	$(PY) -m bench.bench_engine
	$(PY) -m bench.bench_report
	$(PY) -m bench.bench_dashboard
	$(PY) -m bench.bench_storage
	$(PY) -m bench.bench_questionnaire
	$(PY) -m bench.bench_xlsx

clean:
	rm -rf $(VENV) .venv-focus .pytest_cache .hypothesis
