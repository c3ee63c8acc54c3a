# Two set-up commands for a fresh machine: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PIP := $(PY) -m pip install -c constraints.txt
EXAMPLE ?= resources/examples/iris_mlp.netcanvas

.PHONY: run test lint bench install dev clean screenshots package

$(VENV)/bin/python:
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --upgrade pip setuptools wheel >/dev/null

$(VENV)/.installed: $(VENV)/bin/python pyproject.toml constraints.txt
	$(PIP) -e .
	touch $@

$(VENV)/.dev-installed: $(VENV)/.installed
	$(PIP) -e '.[dev]'
	touch $@

install: $(VENV)/.installed
dev: $(VENV)/.dev-installed

run: $(VENV)/.installed
	$(VENV)/bin/netcanvas $(ARGS)

lint: $(VENV)/.dev-installed
	$(VENV)/bin/ruff check designer tests bench
	$(VENV)/bin/ruff format --check designer tests bench
	$(VENV)/bin/lint-imports
	$(VENV)/bin/mypy

test: $(VENV)/.dev-installed lint
	$(PY) -m pytest $(PYTEST_ARGS)

bench: $(VENV)/.dev-installed
	$(PY) -m bench

clean:
	rm -rf $(VENV) build dist *.egg-info .pytest_cache .ruff_cache
