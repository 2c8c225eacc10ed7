#!/usr/bin/env bash
# Raises per second with 1, 2, 4 and 8 worker processes on PostgreSQL and one process on
# SQLite, against the mock Stripe over loopback HTTP, in one run (core/examples/
# bench_postgres.rs). Builds in release mode, starts a throwaway PostgreSQL cluster for
# the run and stops it afterwards. Prints a Markdown table for BENCHMARKS.md.
set -euo pipefail
cd "$(dirname "$0")/../.."
if [[ -z "${BILLBRIDGE_TEST_POSTGRES_URL:-}" ]]; then
    exec bash tests/postgres/cluster.sh run -- bash "$0" "$@"
fi
# Thin LTO and parallel codegen: the figures are about the store and the processes, and
# the shipped profile's full LTO would triple the build time.
export CARGO_PROFILE_RELEASE_LTO=thin CARGO_PROFILE_RELEASE_CODEGEN_UNITS=16
features=postgres,sqlite,http
cargo build --quiet --release -p billbridge --features "$features" \
    --bin billbridge-postgres-worker --example bench_postgres
target="$(cargo metadata --format-version 1 --no-deps | python3 -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])')"
echo "$(nproc) cores, $(uname -sr), PostgreSQL $(psql --version | awk '{print $3}'), fsync off (throwaway cluster)" >&2
"$target/release/examples/bench_postgres"
