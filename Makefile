# billbridge task runner. `make help` lists the commands a contributor needs.
SHELL := /bin/bash
.SHELLFLAGS := -euo pipefail -c
.DEFAULT_GOAL := help

VENV := .venv
PYTHON := $(VENV)/bin/python

.PHONY: help quickstart test test-rust test-python python-binding lint fmt ci

help: ## List the commands
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-12s %s\n", $$1, $$2}'

quickstart: ## Play a practice day on the embedded mock Stripe and print the summary
	cargo run --quiet --example quickstart

test: test-rust test-python ## Run every test of the repository (installs what it needs)

test-rust: ## Rust unit, integration and doc tests
	cargo test --workspace --all-features

PYTHON_REQUIREMENTS := tests/python/requirements.txt bindings-python/requirements-dev.txt

$(VENV)/.installed: $(PYTHON_REQUIREMENTS)
	python3 -m venv $(VENV)
	$(PYTHON) -m pip install --quiet --upgrade pip
	$(PYTHON) -m pip install --quiet $(addprefix -r ,$(PYTHON_REQUIREMENTS))
	touch $@

python-binding: $(VENV)/.installed ## Build the Python binding into .venv (debug build, incremental)
	VIRTUAL_ENV="$(abspath $(VENV))" PATH="$(abspath $(VENV))/bin:$$PATH" \
		maturin develop --quiet --manifest-path bindings-python/Cargo.toml

test-python: python-binding ## Python tests: the binding (pytest, stubtest, mypy --strict examples) and stripe-python against the mock
	cargo build --quiet -p billbridge-mock --bin billbridge-mock
	BILLBRIDGE_MOCK_SERVER="$$(cargo metadata --format-version 1 --no-deps | $(PYTHON) -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])')/debug/billbridge-mock" \
		$(PYTHON) -m pytest -q tests/python bindings-python/tests
	$(PYTHON) -m mypy.stubtest billbridge --allowlist bindings-python/stubtest-allowlist.txt
	$(PYTHON) -m mypy --strict examples/python/

lint: ## Formatting, clippy and rustdoc, as CI checks them
	cargo fmt --all -- --check
	cargo clippy --workspace --all-targets --all-features -- -D warnings
	RUSTDOCFLAGS="-D warnings" cargo doc --quiet --no-deps -p billbridge -p billbridge-mock --all-features

fmt: ## Format the Rust code
	cargo fmt --all

ci: lint test ## What CI runs
