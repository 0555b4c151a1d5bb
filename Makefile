# The README's commands: `make dev` (the local stack) and `make test` (every test).
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 3000
AWS_PORT ?= 4566
AWS_HOST ?= 127.0.0.1
export AWS_DEFAULT_REGION ?= us-east-1
# sam and the tests never need real credentials; dummy ones keep botocore quiet.
export AWS_ACCESS_KEY_ID ?= testing
export AWS_SECRET_ACCESS_KEY ?= testing
export SAM_CLI_TELEMETRY := 0

.PHONY: dev local-aws test lint typecheck sam-validate sam-build unit functional e2e \
        bench fuzz load clean system-deps

$(BIN)/.installed: requirements-dev.txt requirements-lock.txt layers/common/requirements.txt pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -r requirements-dev.txt -c requirements-lock.txt -e .
	touch $@

venv: $(BIN)/.installed

# TypeScript, to run the seed's TypeScript clients unmodified (Node.js 20 is on the machine).
JS := tests/js/node_modules/.installed
$(JS): tests/js/package.json tests/js/package-lock.json
	npm ci --prefix tests/js --no-audit --no-fund --loglevel=error
	touch $@

dev: $(BIN)/.installed
	$(BIN)/python -m devserver --port $(PORT) --aws-port $(AWS_PORT)

local-aws: $(BIN)/.installed
	$(BIN)/python -m devserver --aws-only --aws-host $(AWS_HOST) --aws-port $(AWS_PORT)

# Chromium for the browser tests (Debian's package; run as root, as CI does).
system-deps:
	@if [ ! -x /usr/bin/chromium ]; then \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium; \
	fi

test: lint typecheck sam-validate sam-build $(JS)
	$(BIN)/pytest -n 2 --dist loadgroup tests

lint: $(BIN)/.installed
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: $(BIN)/.installed
	$(BIN)/mypy layers/common/oauth21 functions devserver

sam-validate: $(BIN)/.installed
	$(BIN)/sam validate --lint --template template.yaml
	$(BIN)/sam validate --lint --template examples/resource-server/template.yaml

sam-build: $(BIN)/.installed
	$(BIN)/sam build --template template.yaml

unit: $(BIN)/.installed
	$(BIN)/pytest tests/unit

functional: $(BIN)/.installed
	$(BIN)/pytest tests/functional

e2e: $(BIN)/.installed $(JS)
	$(BIN)/pytest tests/e2e

# On demand: long schemathesis run, load test, benchmarks. Each prints its figures.
fuzz: $(BIN)/.installed
	$(BIN)/python -m bench.fuzz

load: $(BIN)/.installed
	$(BIN)/python -m bench.load

bench: $(BIN)/.installed
	$(BIN)/python -m bench.run

clean:
	rm -rf .aws-sam .pytest_cache .mypy_cache .ruff_cache test-artifacts
