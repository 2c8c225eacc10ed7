#!/usr/bin/env bash
# Builds build/billbridgeFFI.xcframework, the binary target of Package.swift: the
# release static library for iOS devices (arm64), the iOS simulator (arm64 + x86_64)
# and macOS (arm64 + x86_64), with the generated C header and module map.
#
#   cd bindings-swift && ./build-xcframework.sh     then: swift test   (the XCTest suite)
#
# Needs macOS with Xcode (xcodebuild, lipo) and rustup; it adds the Rust targets it
# needs. It first checks that the committed Swift sources match the library
# (generate.sh --check): a stale BillbridgeKit.swift would not match the library's
# checksums, and every call would fail at load time.
set -euo pipefail

if [[ "$(uname -s)" != "Darwin" ]]; then
    echo "build-xcframework.sh needs macOS with Xcode (xcodebuild, lipo)" >&2
    exit 1
fi

here="$(cd "$(dirname "$0")" && pwd)"
workspace="$(cd "$here/.." && pwd)"
cd "$workspace"

# The oldest systems the Swift package supports (Package.swift `platforms`).
export IPHONEOS_DEPLOYMENT_TARGET=15.0
export MACOSX_DEPLOYMENT_TARGET=12.0

bash "$here/generate.sh" --check >/dev/null

targets=(
    aarch64-apple-ios
    aarch64-apple-ios-sim
    x86_64-apple-ios
    aarch64-apple-darwin
    x86_64-apple-darwin
)
rustup target add "${targets[@]}"
for target in "${targets[@]}"; do
    cargo build --release --locked -p billbridge-uniffi --target "$target"
done

target_dir="$(cargo metadata --format-version 1 --no-deps |
    python3 -c 'import json, sys; print(json.load(sys.stdin)["target_directory"])')"
library() { echo "$target_dir/$1/release/libbillbridge_uniffi.a"; }

build="$here/build"
rm -rf "$build"
mkdir -p "$build/headers" "$build/ios" "$build/ios-simulator" "$build/macos"

# One header folder for every slice: the C declarations and the module map that makes
# them the `billbridgeFFI` module BillbridgeKit.swift imports.
cp "$here/ffi/billbridgeFFI.h" "$here/ffi/module.modulemap" "$build/headers/"

cp "$(library aarch64-apple-ios)" "$build/ios/libbillbridge_uniffi.a"
lipo -create "$(library aarch64-apple-ios-sim)" "$(library x86_64-apple-ios)" \
    -output "$build/ios-simulator/libbillbridge_uniffi.a"
lipo -create "$(library aarch64-apple-darwin)" "$(library x86_64-apple-darwin)" \
    -output "$build/macos/libbillbridge_uniffi.a"

xcodebuild -create-xcframework \
    -library "$build/ios/libbillbridge_uniffi.a" -headers "$build/headers" \
    -library "$build/ios-simulator/libbillbridge_uniffi.a" -headers "$build/headers" \
    -library "$build/macos/libbillbridge_uniffi.a" -headers "$build/headers" \
    -output "$build/billbridgeFFI.xcframework"

echo "built $build/billbridgeFFI.xcframework"
