#!/usr/bin/env bash
# Runs every fuzz target (or the ones named) under libFuzzer for a bounded time each and
# fails if any input crashes, panics, breaks a target's property, or hangs.
#
#   fuzz/run.sh [seconds-per-target] [target ...]      (default: 60 s, every target)
#
# What it needs and does:
# - cargo-fuzz (`cargo install cargo-fuzz`) and a C++ compiler (libFuzzer is C++).
# - cargo-fuzz passes nightly-only compiler flags (`-Zsanitizer=…`). Only a stable
#   toolchain is assumed, so the script sets RUSTC_BOOTSTRAP=1, which lets a stable
#   rustc accept them; a nightly toolchain works as well.
# - AddressSanitizer by default (FUZZ_SANITIZER=none to build without it); when the
#   sanitizer build fails, for example without its runtime, it retries without one.
# - Optimised builds with debug assertions and overflow checks (fuzz/Cargo.toml).
# - New inputs go to a scratch corpus, fuzz/work/<target>/, which starts from the
#   committed seeds in fuzz/corpus/<target>/ (only read): the committed corpus stays
#   small. Copy an input worth keeping there, and `cargo test -p
#   billbridge-fuzz-targets` replays it from then on.
# - A crash is saved in fuzz/artifacts/<target>/; reproduce it with
#   `RUSTC_BOOTSTRAP=1 cargo fuzz run -O <target> <file>` in fuzz/, or add it to the
#   corpus and run the replay test.
# - Any single input running longer than FUZZ_INPUT_TIMEOUT seconds (default 10) counts
#   as a hang, a failure like a crash.
set -euo pipefail

FUZZ_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cd "$FUZZ_DIR"

SECONDS_PER_TARGET="${1:-60}"
shift || true
if ! [[ "$SECONDS_PER_TARGET" =~ ^[0-9]+$ ]] || [ "$SECONDS_PER_TARGET" -lt 1 ]; then
    echo "usage: fuzz/run.sh [seconds-per-target] [target ...]" >&2
    exit 2
fi

ALL_TARGETS=()
for wrapper in fuzz_targets/*.rs; do
    ALL_TARGETS+=("$(basename "$wrapper" .rs)")
done
TARGETS=("$@")
if [ "${#TARGETS[@]}" -eq 0 ]; then
    TARGETS=("${ALL_TARGETS[@]}")
fi
for target in "${TARGETS[@]}"; do
    if [ ! -f "fuzz_targets/$target.rs" ]; then
        echo "unknown target '$target'; targets: ${ALL_TARGETS[*]}" >&2
        exit 2
    fi
done

if ! cargo fuzz --version >/dev/null 2>&1; then
    echo "cargo-fuzz is missing: cargo install cargo-fuzz" >&2
    exit 2
fi
if ! command -v "${CXX:-c++}" >/dev/null 2>&1 && ! command -v g++ >/dev/null 2>&1 \
    && ! command -v clang++ >/dev/null 2>&1; then
    echo "libFuzzer needs a C++ compiler (g++ or clang++)" >&2
    exit 2
fi

export RUSTC_BOOTSTRAP=1
SANITIZER="${FUZZ_SANITIZER:-address}"
INPUT_TIMEOUT="${FUZZ_INPUT_TIMEOUT:-10}"

# `cargo fuzz build` takes one target, or none for all of them.
build() {
    if [ "${#TARGETS[@]}" -eq "${#ALL_TARGETS[@]}" ]; then
        cargo fuzz build -O --sanitizer "$SANITIZER"
    else
        for target in "${TARGETS[@]}"; do
            cargo fuzz build -O --sanitizer "$SANITIZER" "$target" || return 1
        done
    fi
}

echo "building ${#TARGETS[@]} target(s) with sanitizer: $SANITIZER"
if ! build; then
    if [ "$SANITIZER" = "none" ]; then
        echo "the fuzz targets do not build" >&2
        exit 1
    fi
    echo "the $SANITIZER sanitizer build failed; building without a sanitizer" >&2
    SANITIZER=none
    build
fi

declare -A RESULTS
failed=0
for target in "${TARGETS[@]}"; do
    work="work/$target"
    log="work/$target.log"
    mkdir -p "$work" "artifacts/$target"
    echo "fuzzing $target for ${SECONDS_PER_TARGET}s"
    status=0
    cargo fuzz run -O --sanitizer "$SANITIZER" "$target" "$work" "corpus/$target" -- \
        -max_total_time="$SECONDS_PER_TARGET" \
        -timeout="$INPUT_TIMEOUT" \
        -rss_limit_mb=2048 \
        -max_len=8192 \
        -print_final_stats=1 \
        >"$log" 2>&1 || status=$?
    runs="$(sed -n 's/^Done \([0-9]*\) runs in \([0-9]*\) second.*/\1 runs in \2 s/p' "$log" | tail -1)"
    if [ "$status" -eq 0 ]; then
        RESULTS[$target]="ok: ${runs:-?}"
    else
        failed=1
        artifact="$(grep -o 'artifacts/[^ ]*' "$log" | tail -1 || true)"
        RESULTS[$target]="FAILED (exit $status): ${artifact:-see fuzz/$log}"
        grep -E "panicked at|ERROR: libFuzzer|SUMMARY" "$log" | head -5 >&2 || true
    fi
done

echo
echo "fuzz results (${SECONDS_PER_TARGET}s per target, sanitizer: $SANITIZER):"
for target in "${TARGETS[@]}"; do
    printf '  %-18s %s\n' "$target" "${RESULTS[$target]}"
done
exit "$failed"
