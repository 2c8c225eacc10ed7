# billbridge task runner. `make help` lists the commands a contributor needs.
SHELL := /bin/bash
.SHELLFLAGS := -euo pipefail -c
.DEFAULT_GOAL := help

VENV := .venv
PYTHON := $(VENV)/bin/python

.PHONY: help quickstart test test-rust test-python python-binding lint fmt ci node-binding test-node

help: ## List the commands
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-12s %s\n", $$1, $$2}'

quickstart: ## Play a practice day on the embedded mock Stripe and print the summary
	cargo run --quiet --example quickstart

test: test-rust test-python test-kotlin test-node ## Run every test of the repository (installs what it needs; the PostgreSQL tests start their own cluster)

test-rust: ## Rust unit, integration and doc tests
	cargo test --workspace --all-features

.PHONY: test-postgres

POSTGRES_TESTS := --test store_contract --test offline_billing --test postgres_store --test postgres_practices --test postgres_workers

test-postgres: python-binding ## PostgreSQL store, many worker processes, many practices (Rust and Python) on one throwaway cluster
	bash tests/postgres/cluster.sh run -- bash -c 'cargo test -p billbridge --all-features $(POSTGRES_TESTS) && $(PYTHON) -m pytest -q bindings-python/tests/test_postgres_practices.py'

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

.PHONY: swift-bindings test-kotlin

swift-bindings: ## Regenerate the committed Swift sources (bindings-swift/) from the built library
	bash bindings-swift/generate.sh >/dev/null

test-kotlin: ## Kotlin JUnit tests through the real library (Maven), after failing on stale Swift sources
	outputs="$$(bash bindings-swift/generate.sh --check)"; \
	library="$$(sed -n 's/^library=//p' <<<"$$outputs")"; \
	kotlin="$$(sed -n 's/^kotlin=//p' <<<"$$outputs")"; \
	cd bindings-swift/kotlin && mvn -q -B test "-Dbillbridge.library=$$library" "-Dbillbridge.kotlin=$$kotlin" \
		&& python3 summarize-tests.py

NODE := bindings-node

$(NODE)/node_modules/.installed: $(NODE)/package.json $(NODE)/package-lock.json
	cd $(NODE) && npm install --no-audit --no-fund --loglevel=error
	touch $@

node-binding: $(NODE)/node_modules/.installed ## Build the Node binding (debug, incremental); regenerates binding.js and index.d.ts
	cd $(NODE) && npx napi build --platform --js binding.js --dts index.d.ts

test-node: node-binding ## Node tests (node --test): the binding, its examples, tsc --strict, the stripe npm package against the mock
	@git diff --quiet -- $(NODE)/index.d.ts $(NODE)/binding.js || { \
		echo "bindings-node/index.d.ts or binding.js differs from what the build generates: commit them"; \
		git diff --stat -- $(NODE)/index.d.ts $(NODE)/binding.js; exit 1; }
	cd $(NODE) && node --test test/*.test.mjs

lint: ## Formatting, clippy and rustdoc, as CI checks them
	cargo fmt --all -- --check
	cargo clippy --workspace --all-targets --all-features -- -D warnings
	RUSTDOCFLAGS="-D warnings" cargo doc --quiet --no-deps -p billbridge -p billbridge-mock --all-features

fmt: ## Format the Rust code
	cargo fmt --all

ci: lint test ## What CI runs
