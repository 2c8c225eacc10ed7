#!/usr/bin/env bash
# Builds the UniFFI library (debug) and generates its Swift module and Kotlin package
# from the built library (library mode), into <target>/uniffi/{swift,kotlin}.
#
#   bindings-swift/generate.sh           also copies the Swift sources over the committed ones
#   bindings-swift/generate.sh --check   fails when the committed Swift sources differ
#                                        from what the library generates (stale bindings)
#
# Prints the paths the Kotlin tests need as `library=…` and `kotlin=…` on its last two
# lines. Runs from anywhere; the generator runs inside the workspace because it reads
# `cargo metadata` to find each crate's uniffi.toml.
set -euo pipefail

mode="${1:-write}"
case "$mode" in
    write | --check) ;;
    *)
        echo "usage: $0 [--check]" >&2
        exit 2
        ;;
esac

here="$(cd "$(dirname "$0")" && pwd)"
workspace="$(cd "$here/.." && pwd)"
cd "$workspace"

target_dir="$(cargo metadata --format-version 1 --no-deps |
    python3 -c 'import json, sys; print(json.load(sys.stdin)["target_directory"])')"

# One invocation for both, so `uniffi` is compiled once with the union of their features.
nice -n 10 cargo build --quiet -p billbridge-uniffi -p uniffi-bindgen >&2

case "$(uname -s)" in
    Darwin) library="$target_dir/debug/libbillbridge_uniffi.dylib" ;;
    *) library="$target_dir/debug/libbillbridge_uniffi.so" ;;
esac

out="$target_dir/uniffi"
rm -rf "$out"
mkdir -p "$out/swift" "$out/kotlin"
"$target_dir/debug/uniffi-bindgen" generate "$library" \
    --language swift --out-dir "$out/swift" --no-format >&2
"$target_dir/debug/uniffi-bindgen" generate "$library" \
    --language kotlin --out-dir "$out/kotlin" --no-format >&2

# Generated file → committed file. The modulemap is committed under the name an
# XCFramework's headers folder needs.
pairs=(
    "$out/swift/BillbridgeKit.swift:$here/Sources/BillbridgeKit/BillbridgeKit.swift"
    "$out/swift/billbridgeFFI.h:$here/ffi/billbridgeFFI.h"
    "$out/swift/billbridgeFFI.modulemap:$here/ffi/module.modulemap"
)

stale=0
for pair in "${pairs[@]}"; do
    generated="${pair%%:*}"
    committed="${pair#*:}"
    if [[ "$mode" == "--check" ]]; then
        if ! cmp -s "$generated" "$committed"; then
            echo "stale Swift bindings: ${committed#"$workspace"/} differs from what the library generates" >&2
            diff -u "$committed" "$generated" 2>/dev/null | head -40 >&2 || true
            stale=1
        fi
    else
        mkdir -p "$(dirname "$committed")"
        cp "$generated" "$committed"
    fi
done
if [[ "$stale" -ne 0 ]]; then
    echo "run 'make swift-bindings' and commit the result" >&2
    exit 1
fi
if [[ "$mode" == "--check" ]]; then
    echo "Swift bindings are up to date" >&2
fi

echo "library=$library"
echo "kotlin=$out/kotlin"
