# billbridge task runner. `make help` lists the commands a contributor needs.
SHELL := /bin/bash
.SHELLFLAGS := -euo pipefail -c
.DEFAULT_GOAL := help

VENV := .venv
PYTHON := $(VENV)/bin/python

.PHONY: help quickstart test test-rust test-python lint fmt ci

help: ## List the commands
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-12s %s\n", $$1, $$2}'

quickstart: ## Play a practice day on the embedded mock Stripe and print the summary
	cargo run --quiet --example quickstart

test: test-rust test-python ## Run every test of the repository (installs what it needs)

test-rust: ## Rust unit, integration and doc tests
	cargo test --workspace --all-features

$(VENV)/.installed: tests/python/requirements.txt
	python3 -m venv $(VENV)
	$(PYTHON) -m pip install --quiet --upgrade pip
	$(PYTHON) -m pip install --quiet -r tests/python/requirements.txt
	touch $@

test-python: $(VENV)/.installed ## Python tests (official stripe-python SDK against the mock's HTTP front)
	cargo build --quiet --example mock_server
	BILLBRIDGE_MOCK_SERVER="$$(cargo metadata --format-version 1 --no-deps | $(PYTHON) -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])')/debug/examples/mock_server" \
		$(PYTHON) -m pytest -q tests/python

lint: ## Formatting and clippy, as CI checks them
	cargo fmt --all -- --check
	cargo clippy --workspace --all-targets --all-features -- -D warnings

fmt: ## Format the Rust code
	cargo fmt --all

ci: lint test ## What CI runs
