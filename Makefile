# Every target installs what it needs: on a fresh machine `make bench` and `make test` are the whole set-up.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-$(shell cksum pyproject.toml | cut -d' ' -f1)
ARGS ?=
PYTEST_ARGS ?=
RUNS ?= 10
COMPOSE ?= docker compose

.PHONY: venv bench bench-sweep bench-scaling bench-load load run report gate calibrate candidates test lint format up down status clean

$(STAMP): pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	@rm -f $(VENV)/.installed-*
	@touch $(STAMP)

venv: $(STAMP)

bench: venv  ## instances -> load -> suites -> storage -> verdicts -> report (default preset, 2M rows)
	$(PY) -m bench bench $(ARGS)

bench-sweep: venv  ## where the speedups hold: each promise as a curve over the data shape (~2 min at 2M rows)
	$(PY) -m bench bench --suites sweep $(ARGS)

bench-scaling: venv  ## the promises at 0.5M, 2M and 10M rows (about 12 minutes on 2 cores)
	$(PY) -m bench bench --suites scaling $(ARGS)

bench-load: venv  ## streaming load rate vs the server's own COPY FROM file ceiling
	$(PY) -m bench load --measure-ceiling $(ARGS)

load: venv
	$(PY) -m bench load $(ARGS)

run: venv
	$(PY) -m bench run $(ARGS)

report: venv
	$(PY) -m bench report $(ARGS)

gate: venv  ## CI performance gate on the ci preset; exit 0 pass, 1 a check failed, 2 harness failure
	$(PY) -m bench gate $(ARGS)

calibrate: venv  ## RUNS A/A gates (no-op migration) and RUNS per planted regression: false alarms, detection
	$(PY) -m bench calibrate --runs $(RUNS) $(ARGS)

candidates: venv  ## candidate migrations side by side (default: the shipped phase2 variants): table, figure, pick
	$(PY) -m bench candidates $(ARGS)

status: venv
	$(PY) -m bench status $(ARGS)

test: venv
	$(PY) -m pytest $(PYTEST_ARGS)

lint: venv
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy
	$(VENV)/bin/lint-imports

format: venv
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

up:  ## the docker-compose engine (needs a Docker engine); the embedded engine needs no `up`
	$(COMPOSE) up -d --wait

down:
	$(COMPOSE) down

clean:  ## stop embedded servers, remove their data and the virtual environment (reports/runs is kept)
	-@test -x $(PY) && $(PY) -m bench down
	-@test -x $(PY) && $(PY) -m bench clean
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache .benchmarks build *.egg-info
