# The two commands a new user needs: `make run` and `make test`.
# Everything installs into .venv; torch comes first as the CPU build, so pip never
# pulls the CUDA packages.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
TORCH_VERSION := 2.13.0
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: install run test lint typecheck index clean screenshots bench

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(VENV)/.installed: $(BIN)/python pyproject.toml
	$(BIN)/pip install --quiet "torch==$(TORCH_VERSION)"
	$(BIN)/pip install --quiet -e ".[test,translate]"
	touch $@

install: $(VENV)/.installed
	$(BIN)/chatbot model prepare
	$(BIN)/chatbot db upgrade

index: install
	$(BIN)/chatbot ingest --if-stale

run: index
	$(BIN)/chatbot serve --host $(HOST) --port $(PORT)

# axe-core (npm) is injected into the page by the widget's accessibility tests; the
# service itself never needs Node.
WIDGET_TEST_TOOLS := tests/web_widget/node_modules/axe-core/axe.min.js

$(WIDGET_TEST_TOOLS): tests/web_widget/package.json tests/web_widget/package-lock.json
	npm ci --prefix tests/web_widget --no-audit --no-fund --loglevel=error
	touch $@

test: install $(WIDGET_TEST_TOOLS)
	$(BIN)/ruff check chatbot tests
	$(BIN)/mypy
	$(BIN)/pytest

# The README's widget pictures: the browser test writes them to test-artifacts/ (so
# `make test` never rewrites tracked files); this copies them into the tree.
screenshots: install $(WIDGET_TEST_TOOLS)
	$(BIN)/pytest -q tests/web_widget/test_widget_browser.py -k screenshots
	cp test-artifacts/screenshots/*.png web_widget/screenshots/

# The benchmark suite (README, Performance): tables on stdout, JSON in bench-results.json.
# `make bench BENCH_ARGS=--quick` skips the 1M-chunk corpus and sends fewer requests.
BENCH_ARGS ?=

bench: index
	$(BIN)/python -m chatbot.benchmarks.suite $(BENCH_ARGS)

lint: install
	$(BIN)/ruff check chatbot tests

typecheck: install
	$(BIN)/mypy

clean:
	rm -rf $(VENV) indexes/v* indexes/CURRENT var
