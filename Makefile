# Two commands: `make run` materialises yesterday's daily refresh, `make test` runs the tests.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
INSTALLED := $(VENV)/.installed
DEMO_API_PORT ?= 8765
export DAGSTER_HOME ?= $(CURDIR)/.dagster_home
export DATAPLATFORM_CHROMIUM ?= /usr/bin/chromium

.PHONY: install browser run test dev bench catalog mlflow-ui lint lock clean screenshots

$(INSTALLED): pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -c constraints.txt -e '.[dev]'
	touch $@

install: $(INSTALLED)

# Yesterday's daily refresh, then a first training (the sensors do this under the daemon),
# then yesterday's scoring with the newly promoted models.
run: install
	mkdir -p $(DAGSTER_HOME)
	$(BIN)/dataplatform run
	$(BIN)/dataplatform run --job train_models_job
	$(BIN)/dataplatform run --job models_job

# Headless Chromium for the UI test (platform_tests/ui): Debian's package, never a download.
browser:
	@if [ -x "$(DATAPLATFORM_CHROMIUM)" ]; then :; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium; \
	else \
	  echo "browser: $(DATAPLATFORM_CHROMIUM) is missing and cannot be installed here" \
	    "(needs root and apt-get): the UI test will be skipped (and fail under CI=true)"; \
	fi

test: install browser
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/pyright
	$(BIN)/pytest

dev: install
	mkdir -p $(DAGSTER_HOME)
	$(BIN)/python -m dataplatform.demo_api --port $(DEMO_API_PORT) & demo=$$!; \
	trap "kill $$demo" EXIT INT TERM; \
	DATAPLATFORM_API_URL=http://127.0.0.1:$(DEMO_API_PORT) $(BIN)/dagster dev -w workspace.yaml

# Browse the local DataHub Lite catalog, e.g. make catalog ARGS='get --urn "urn:li:..."'.
# The DataHub CLI reads ~/.datahubenv; a private HOME keeps the user's own config untouched.
CATALOG_CLI_HOME := $(CURDIR)/data/catalog/cli
catalog: install
	mkdir -p $(CATALOG_CLI_HOME)
	printf 'gms:\n  server: http://localhost:8080\nlite:\n  type: sqlite\n  config:\n    file: $(CURDIR)/data/catalog/datahub_lite.sqlite\n' \
	  > $(CATALOG_CLI_HOME)/.datahubenv
	HOME=$(CATALOG_CLI_HOME) DATAHUB_TELEMETRY_ENABLED=false $(BIN)/datahub lite $(or $(ARGS),ls /)

# Retake the README's screenshots (docs/screenshots/) from a real run in headless Chromium.
screenshots: install browser
	DATAPLATFORM_UPDATE_SCREENSHOTS=1 $(BIN)/pytest platform_tests/ui

# Browse the local MLflow store (experiments, runs, registered models) on port 5000.
mlflow-ui: install
	mkdir -p data/mlflow
	$(BIN)/mlflow ui --backend-store-uri sqlite:///$(CURDIR)/data/mlflow/mlflow.db \
	  --default-artifact-root $(CURDIR)/data/mlflow/artifacts --port 5000

bench: install
	$(BIN)/python -m bench.run $(ONLY)

lint: install
	$(BIN)/ruff check . && $(BIN)/ruff format --check .

# Re-resolve the pinned versions after changing dependency ranges in pyproject.toml.
lock:
	rm -rf .lock-venv && $(PYTHON) -m venv .lock-venv
	.lock-venv/bin/pip install --quiet --upgrade pip && .lock-venv/bin/pip install --quiet '.[dev]'
	.lock-venv/bin/pip freeze --exclude dataplatform > constraints.txt && rm -rf .lock-venv

clean:
	rm -rf $(VENV) data .dagster_home
