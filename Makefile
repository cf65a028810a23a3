# hubopt — every target creates/uses the local virtual environment .venv.
# Needs only Python 3.11+ on the machine; system packages (Chromium for the browser
# tests, npm for their offline assets) are installed by tools/install_browser_deps.sh.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
PYTEST_ARGS ?=
BENCH_ARGS ?=

.PHONY: demo test lint bench bench-quick bench-slow clean help

help:
	@echo "make demo   - set up and solve the built-in Korea scenario (map + report)"
	@echo "make test   - set up and run the whole test suite (browser tests included)"
	@echo "make lint   - ruff + mypy + the import-layer contract (lint-imports)"
	@echo "make bench  - solve benchmark on every set (OR-Library cap*, capa/b/c, Holmberg,"
	@echo "              Korea, synthetic ladder; hubopt vs bare HiGHS vs PuLP+CBC in the same"
	@echo "              run; hours), micro benchmarks and the Prodhon location-routing set"
	@echo "make bench-quick - a subset of the solve benchmark from repo files only (<10 min)"

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/hubopt demo

test: $(STAMP)
	bash tools/install_browser_deps.sh
	$(BIN)/python -m pytest -n 2 --dist loadfile -q --durations=20 $(PYTEST_ARGS)

lint: $(STAMP)
	$(BIN)/ruff check hubopt tests benchmarks
	$(BIN)/ruff format --check hubopt tests benchmarks
	$(BIN)/mypy hubopt
	$(BIN)/lint-imports --no-cache

bench: $(STAMP)
	$(BIN)/python benchmarks/run.py $(BENCH_ARGS)
	$(BIN)/python benchmarks/micro.py
	$(BIN)/python benchmarks/lrp.py

bench-quick: $(STAMP)
	$(BIN)/python benchmarks/run.py --quick $(BENCH_ARGS)

bench-slow: $(STAMP)
	$(BIN)/python -m pytest -m slow -q

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache test-artifacts bench-results
