# The two commands of the README: `make run` and `make test`. Both create .venv when needed.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PIP := $(BIN)/pip --quiet --disable-pip-version-check

.PHONY: run test lint bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(PIP) install -e .
	touch $@

$(VENV)/.installed-test: pyproject.toml | $(BIN)/python
	$(PIP) install -e '.[test]'
	touch $@ $(VENV)/.installed

run: $(VENV)/.installed
	LOKET_DEMO=1 $(BIN)/loket serve

# A temp folder of its own: pytest prunes old runs' folders in the shared one, and with them the data
# of a PostgreSQL server another run may still be using.
test: $(VENV)/.installed-test lint
	$(BIN)/pytest --basetemp=.pytest_tmp

lint: $(VENV)/.installed-test
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/ruff format --check src tests benchmarks

bench: $(VENV)/.installed-test
	$(BIN)/python benchmarks/ingest.py
	$(BIN)/python benchmarks/search.py

clean:
	rm -rf $(VENV) .loket .pytest_cache .ruff_cache
