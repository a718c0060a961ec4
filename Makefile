# The two commands a new user needs: `make run` and `make test`.
# Everything installs into .venv; torch comes first as the CPU build, so pip never
# pulls the CUDA packages.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
TORCH_VERSION := 2.13.0
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: install run test lint typecheck index clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(VENV)/.installed: $(BIN)/python pyproject.toml
	$(BIN)/pip install --quiet "torch==$(TORCH_VERSION)"
	$(BIN)/pip install --quiet -e ".[test]"
	touch $@

install: $(VENV)/.installed
	$(BIN)/chatbot model prepare
	$(BIN)/chatbot db upgrade

index: install
	$(BIN)/chatbot ingest --if-stale

run: index
	$(BIN)/chatbot serve --host $(HOST) --port $(PORT)

test: install
	$(BIN)/ruff check chatbot tests
	$(BIN)/mypy
	$(BIN)/pytest

lint: install
	$(BIN)/ruff check chatbot tests

typecheck: install
	$(BIN)/mypy

clean:
	rm -rf $(VENV) indexes/v* indexes/CURRENT var
