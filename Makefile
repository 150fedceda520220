# Two commands: `make run` materialises yesterday's daily refresh, `make test` runs the tests.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
INSTALLED := $(VENV)/.installed
DEMO_API_PORT ?= 8765
export DAGSTER_HOME ?= $(CURDIR)/.dagster_home
export DATAPLATFORM_CHROMIUM ?= /usr/bin/chromium

.PHONY: install browser run test dev bench catalog mlflow-ui serve lint audit lock clean screenshots sql

# uv, a wheel from PyPI pinned in constraints.txt, installs the pinned set about 3x faster than
# pip (bench/RESULTS.md); where no uv wheel fits the machine, pip installs the same set.
$(INSTALLED): pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	if $(BIN)/pip install --quiet -c constraints.txt uv; then \
	  $(BIN)/uv pip install --quiet --python $(BIN)/python -c constraints.txt -e '.[dev]'; \
	else \
	  $(BIN)/pip install --quiet --upgrade pip && \
	  $(BIN)/pip install --quiet -c constraints.txt -e '.[dev]'; \
	fi
	touch $@

install: $(INSTALLED)

# Yesterday's daily refresh, then a first training (the sensors do this under the daemon), then
# yesterday's scoring with the newly promoted models. The calendar starts at that day (README).
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

# The tests in one process per core (pytest-xdist), each file's tests in the same process
# (pyproject.toml's addopts).
TEST_WORKERS ?= auto
test: install browser
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/pyright
	$(BIN)/pytest -n $(TEST_WORKERS)

# The UI on DAGSTER_PORT, with the daemon, on the local instance `dataplatform run` makes (its
# dagster.yaml, as the command writes it, if none yet). Dagster warns at start that the repo
# root's dagster.yaml (the production instance) is not used: the local instance is meant.
DAGSTER_PORT ?= 3000
# Beside the UI, so the links in the assets' metadata open in one click: the quality and
# evaluation reports over HTTP on REPORTS_PORT (DATAPLATFORM_REPORTS_URL) and MLflow's UI
# (make mlflow-ui, in its own process group so all of it stops with the UI).
REPORTS_PORT ?= 8766
REPORTS_DIR = $(abspath $(or $(DATAPLATFORM_DATA_DIR),data)/quality)
dev: install
	mkdir -p $(DAGSTER_HOME) '$(REPORTS_DIR)'
	test -f $(DAGSTER_HOME)/dagster.yaml || \
	  $(BIN)/python -c 'from dataplatform.cli.instance import LOCAL_SETTINGS; print(LOCAL_SETTINGS, end="")' \
	  > $(DAGSTER_HOME)/dagster.yaml
	$(BIN)/python -m dataplatform.demo_api --port $(DEMO_API_PORT) & demo=$$!; \
	$(BIN)/python -m http.server $(REPORTS_PORT) --bind 127.0.0.1 --directory '$(REPORTS_DIR)' \
	  & reports=$$!; \
	setsid $(MAKE) --no-print-directory mlflow-ui & mlflow=$$!; \
	trap "kill $$demo $$reports; kill -- -$$mlflow" EXIT INT TERM; \
	DATAPLATFORM_API_URL=http://127.0.0.1:$(DEMO_API_PORT) \
	DATAPLATFORM_REPORTS_URL=http://127.0.0.1:$(REPORTS_PORT) \
	  $(BIN)/dagster dev -w workspace.yaml --port $(DAGSTER_PORT)

# Browse the local DataHub Lite catalog, e.g. make catalog ARGS='get --urn "urn:li:..."'.
# `serve` starts our read-only HTTP API (dataplatform/catalog/lite_server.py): `datahub lite
# serve` answers HTTP 500 for every entity. The DataHub CLI reads ~/.datahubenv; a private HOME
# keeps the user's own config untouched.
CATALOG_DIR = $(abspath $(or $(DATAPLATFORM_CATALOG_DIR),$(or $(DATAPLATFORM_DATA_DIR),data)/catalog))
catalog: install
	@set -- $(or $(ARGS),ls /); \
	if [ "$$1" = serve ]; then \
	  shift; exec $(BIN)/python -m dataplatform.catalog.lite_server \
	    --file '$(CATALOG_DIR)/datahub_lite.sqlite' "$$@"; \
	fi; \
	mkdir -p '$(CATALOG_DIR)/cli'; \
	printf 'gms:\n  server: http://localhost:8080\nlite:\n  type: sqlite\n  config:\n    file: %s\n' \
	  '$(CATALOG_DIR)/datahub_lite.sqlite' > '$(CATALOG_DIR)/cli/.datahubenv'; \
	HOME='$(CATALOG_DIR)/cli' DATAHUB_TELEMETRY_ENABLED=false $(BIN)/datahub lite "$$@"

# Retake the README's screenshots (docs/screenshots/) from a real run in headless Chromium.
screenshots: install browser
	DATAPLATFORM_UPDATE_SCREENSHOTS=1 $(BIN)/pytest platform_tests/ui

# Query the data mart (docs/mart.md), e.g. make sql Q="SELECT * FROM users_current LIMIT 5";
# without Q, what each published day holds.
MART_DAYS := SELECT day, table_name, day_rows, total_rows FROM mart_publications ORDER BY day, table_name
sql: install
	$(BIN)/dataplatform sql "$(or $(Q),$(MART_DAYS))"

# Browse the local MLflow store (experiments, runs, registered models) on MLFLOW_PORT.
MLFLOW_PORT ?= 5000
MLFLOW_DIR = $(abspath $(or $(DATAPLATFORM_DATA_DIR),data)/mlflow)
mlflow-ui: install
	mkdir -p '$(MLFLOW_DIR)'
	$(BIN)/mlflow ui --backend-store-uri 'sqlite:///$(MLFLOW_DIR)/mlflow.db' \
	  --default-artifact-root '$(MLFLOW_DIR)/artifacts' --port $(MLFLOW_PORT)

# The sentiment champion over HTTP on loopback, by MLflow's own scoring server (it starts
# uvicorn by name, hence the PATH); see docs/models.md for a request.
SERVE_PORT ?= 5001
serve: install
	PATH=$(CURDIR)/$(BIN):$$PATH \
	MLFLOW_TRACKING_URI=$${MLFLOW_TRACKING_URI:-sqlite:///$${DATAPLATFORM_DATA_DIR:-$(CURDIR)/data}/mlflow/mlflow.db} \
	  $(BIN)/mlflow models serve -m models:/review_sentiment@champion --env-manager local \
	  --host 127.0.0.1 --port $(SERVE_PORT)

bench: install
	$(BIN)/python -m bench.run $(ONLY)

lint: install
	$(BIN)/ruff check . && $(BIN)/ruff format --check .

# Known vulnerabilities in the pinned set (constraints.txt), by pip-audit in a venv of its own
# (docs/security.md); AUDIT_SERVICE=osv asks OSV instead of PyPI's JSON API. --strict fails when
# a package could not be checked (e.g. its advisory source is unreachable) instead of reporting
# "no known vulnerabilities" about packages it never looked up.
AUDIT_VENV := $(VENV)/audit
AUDIT_SERVICE ?= pypi
audit:
	test -x $(AUDIT_VENV)/bin/pip-audit || { $(PYTHON) -m venv $(AUDIT_VENV) && \
	  $(AUDIT_VENV)/bin/pip install --quiet pip-audit==2.10.1; }
	@$(AUDIT_VENV)/bin/pip-audit --strict --no-deps --disable-pip -s $(AUDIT_SERVICE) \
	  -r constraints.txt > $(AUDIT_VENV)/last.log 2>&1; status=$$?; cat $(AUDIT_VENV)/last.log; \
	if grep -qE "could not be audited|ConnectionError" $(AUDIT_VENV)/last.log; then \
	  echo "audit: NOT RUN: the advisory source ($(AUDIT_SERVICE)) gave no answer for the" \
	    "package named above (unreachable from here, or it does not know the release), so" \
	    "nothing was checked; run make audit where it answers (docs/security.md)" >&2; exit 1; \
	elif [ $$status -ne 0 ]; then \
	  echo "audit: FAILED: known vulnerabilities listed above; record a decision for each" \
	    "in docs/security.md" >&2; exit 1; fi

# Re-resolve the pinned versions after changing dependency ranges in pyproject.toml.
lock:
	rm -rf .lock-venv && $(PYTHON) -m venv .lock-venv
	.lock-venv/bin/pip install --quiet --upgrade pip && .lock-venv/bin/pip install --quiet '.[dev]'
	.lock-venv/bin/pip freeze --exclude dataplatform > constraints.txt && rm -rf .lock-venv

clean:
	rm -rf $(VENV) data .dagster_home
