# The two commands of the quick start are `make run` and `make test`; see README.md.
# Everything installs itself on first use: uv from PyPI, the Python deps from uv.lock,
# Kafka's jars from Maven Central, FerretDB from the Go module proxy, PostgreSQL from apt.

SHELL := /bin/bash
.DEFAULT_GOAL := help

LOCAL := $(CURDIR)/.local
UV := $(shell command -v uv 2>/dev/null || echo $(LOCAL)/tools/bin/uv)
VENV := $(CURDIR)/.venv
RUN := set -a && source $(LOCAL)/stack.env && source $(LOCAL)/dev.env && set +a &&
export CRM_PYTHON := $(VENV)/bin/python

.PHONY: help install dev-env browser helm infra topics run down test test-unit test-integration lint format schemas token bench status

help: ## List the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-17s %s\n", $$1, $$2}'

$(LOCAL)/tools/bin/uv:
	python3 -m venv $(LOCAL)/tools
	$(LOCAL)/tools/bin/pip install --quiet uv

$(VENV)/.synced: pyproject.toml uv.lock | $(UV)
	$(UV) sync --frozen --quiet
	touch $@

install: $(VENV)/.synced ## Install the Python environment (uv, from uv.lock)

dev-env: ## Generate the development secrets the services need (.local/dev.env; existing ones kept)
	@deploy/local/dev-env.sh

infra: install dev-env ## Install (first time) and start Kafka, FerretDB and PostgreSQL on loopback
	deploy/local/up.sh

topics: infra ## Create the Kafka topics (streams and dead letters)
	$(RUN) $(VENV)/bin/crm topics ensure

run: topics ## Start the whole platform locally, load demo data, print the URLs
	$(RUN) $(VENV)/bin/crm dev up
	$(RUN) $(VENV)/bin/crm dev seed
	@$(RUN) $(VENV)/bin/crm dev urls

down: ## Stop the platform and the local servers (data is kept; deploy/local/down.sh --purge drops it)
	-[ -f $(LOCAL)/stack.env ] && $(RUN) $(VENV)/bin/crm dev down
	deploy/local/down.sh

browser: ## Debian's chromium and CJK fonts for the dashboard's browser test (apt, if missing)
	deploy/local/browser.sh

helm: ## Pinned Helm and Kustomize CLIs and the CRDs the chart uses (Go module proxy, Maven Central), for the chart tests
	deploy/local/helm.sh
	deploy/local/crds.sh
	deploy/kustomize/kustomize.sh

test: infra browser helm ## Run the whole suite (unit, contract, integration on the real servers, a real browser)
	$(RUN) $(VENV)/bin/pytest

test-unit: install ## Only the fast tests (no servers)
	$(VENV)/bin/pytest services shared tests/test_*.py

lint: install ## ruff, formatting, mypy (strict), import contracts, schema drift (SCHEMA_BASE=origin/main to compare with it)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy services shared crm tests
	$(VENV)/bin/lint-imports
	$(VENV)/bin/python -m shared.events.schemas check $(if $(SCHEMA_BASE),--against $(SCHEMA_BASE))
	$(VENV)/bin/python -m shared.events.asyncapi

format: install ## Fix what ruff can fix
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

schemas: install ## Regenerate the committed JSON Schemas and AsyncAPI document from the models
	$(VENV)/bin/python -m shared.events.schemas write
	$(VENV)/bin/python -m shared.events.asyncapi write

token: install dev-env ## Print a dev JWT (ROLES="sales_rep analyst" to choose)
	@set -a && source $(LOCAL)/dev.env && set +a && $(VENV)/bin/crm token $(foreach r,$(or $(ROLES),admin),--role $(r))

bench: infra ## Benchmarks as ratios against same-run baselines: one table, JSON in .local/bench/ (QUICK=1: seconds-sized smoke run)
	$(RUN) timeout 1500 $(VENV)/bin/python -m tests.bench $(if $(QUICK),--quick)

status: ## State of the local servers
	-deploy/local/status.sh
