# sessiond — two commands: `make serve` and `make test`. Each sets up what it needs.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
TOOLS  := .tools
BUF    := $(TOOLS)/node_modules/.bin/buf
BUF_VERSION := 1.75.0

.PHONY: serve test lint typecheck proto-lint generate check-generated pytest clean

$(STAMP): pyproject.toml clients/python/pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e clients/python -e '.[dev]'
	touch $(STAMP)

$(BUF):
	@command -v npm >/dev/null || { echo "npm is needed for buf (npm package @bufbuild/buf)"; exit 1; }
	mkdir -p $(TOOLS)
	cd $(TOOLS) && npm install --silent --no-audit --no-fund --prefix . @bufbuild/buf@$(BUF_VERSION)

serve: $(STAMP)
	$(BIN)/sessiond serve

test: $(STAMP) lint typecheck proto-lint pytest

lint: $(STAMP)
	$(BIN)/ruff check service tests scripts
	$(BIN)/ruff format --check service tests scripts

typecheck: $(STAMP)
	$(BIN)/mypy

proto-lint: $(BUF)
	$(BUF) lint
	$(BUF) format --diff --exit-code

pytest: $(STAMP)
	$(BIN)/pytest -q

generate: $(STAMP)
	$(BIN)/python scripts/generate_python.py

clean:
	rm -rf $(VENV) $(TOOLS) .pytest_cache .mypy_cache .ruff_cache
