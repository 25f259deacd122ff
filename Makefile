# WRO Triage. `make run` serves the product; `make test` runs every check. Both set everything up first.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp

# Models load from package folders only; a hub download must fail loudly rather than happen.
export HF_HUB_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1

.PHONY: setup run test lint typecheck unit eval corpus clean

setup: $(STAMP)
	$(BIN)/triage db upgrade

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info[:2] != (3, 11))' || { echo "need Python 3.11 as $(PYTHON)"; exit 1; }
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip setuptools wheel
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

run: setup
	$(BIN)/triage serve

lint: $(STAMP)
	$(BIN)/ruff check service training tests benchmarks
	$(BIN)/ruff format --check service training tests benchmarks

typecheck: $(STAMP)
	$(BIN)/mypy service training tests benchmarks

test: setup lint typecheck
	$(BIN)/pytest

eval: setup
	$(BIN)/triage eval ../shared/dev/dev.jsonl

corpus: $(STAMP)
	$(BIN)/python training/build_corpus.py

clean:
	rm -rf $(VENV) var .mypy_cache .pytest_cache .ruff_cache
