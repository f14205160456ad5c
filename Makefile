# The two commands that matter: `make run` and `make test`. Both set everything up.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: run test lint check bench clean console

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e ".[dev]"
	touch $(STAMP)

run: $(STAMP)
	$(BIN)/graphport dev --config examples/langgraph.json

test: $(STAMP)
	$(BIN)/ruff check src tests bench scripts examples
	$(BIN)/mypy
	$(BIN)/pytest -q $(PYTEST_ARGS)

check: $(STAMP)
	$(BIN)/ruff check src tests bench scripts examples
	$(BIN)/mypy

# Rebuild the web console's committed assets (src/graphport/server/console/) from console/;
# needs Node.js and npm, which `make run` and `make test` do not.
console:
	cd console && npm ci && npm run build

bench: $(STAMP)
	$(BIN)/python bench/run_bench.py

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache examples/.graphport
