# Two commands: `make run` and `make test`. Both create .venv on first use and
# reinstall only when pyproject.toml changes (stamp files), so re-running is fast.
VENV   := .venv
PY     := $(VENV)/bin/python
PIP    := $(PY) -m pip
PORT   ?= 8501
PYTHON ?= python3

.PHONY: run test lint bench clean

$(VENV)/bin/python:
	$(PYTHON) -m venv $(VENV)

$(VENV)/.stamp-run: pyproject.toml | $(VENV)/bin/python
	$(PIP) install -q -e .
	$(PY) -c "import risk_models, streamlit"
	touch $@

$(VENV)/.stamp-test: pyproject.toml $(VENV)/.stamp-run
	$(PIP) install -q -e ".[test]"
	$(PY) -c "import pytest, hypothesis, playwright"
	touch $@

run: $(VENV)/.stamp-run
	$(PY) -m streamlit run dashboard/app.py --server.headless true \
	  --server.address 127.0.0.1 --server.port $(PORT) --browser.gatherUsageStats false

test: $(VENV)/.stamp-test
	./scripts/install_system_deps.sh
	$(VENV)/bin/ruff check .
	$(PY) -m pytest -q

bench: $(VENV)/.stamp-test
	$(PIP) install -q --pre "pyfair==0.1a13"
	$(PY) -m bench.bench_import
	$(PY) -m bench.bench_engine
	$(PY) -m bench.bench_report
	$(PY) -m bench.bench_dashboard
	$(PY) -m bench.bench_storage
	$(PY) -m bench.bench_questionnaire

clean:
	rm -rf $(VENV) .pytest_cache .hypothesis
