#!/usr/bin/env bash
# The core's tests on wasm32 (wasm-tests/), in Node and in headless Chromium; in Chromium also the
# IndexedDB document store, and in a dedicated worker the OPFS document store. Knob:
# WASM_BINDGEN_TEST_TIMEOUT.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

WASM_TARGET=wasm32-unknown-unknown
# The runner's default per-test timeout (20 s) is short for a loaded 2-core machine.
export WASM_BINDGEN_TEST_TIMEOUT="${WASM_BINDGEN_TEST_TIMEOUT:-120}"

step "wasm in Node" env CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUNNER=wasm-bindgen-test-runner \
    cargo test -p omnibuf-wasm-tests --target "$WASM_TARGET" --test node
# The runner adds --headless --no-sandbox to Chromium; webdriver.json adds the flags that keep it off
# the network (these machines reach only package registries, and refused connections are slow noise).
step "wasm in headless Chromium" env CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUNNER=wasm-bindgen-test-runner \
    CHROMEDRIVER=/usr/bin/chromedriver WASM_BINDGEN_TEST_WEBDRIVER_JSON="$PWD/wasm-tests/webdriver.json" \
    cargo test -p omnibuf-wasm-tests --target "$WASM_TARGET" --test browser
# OPFS sync access handles exist only in dedicated workers: this target runs in one.
step "wasm in a dedicated worker of headless Chromium" env \
    CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUNNER=wasm-bindgen-test-runner \
    CHROMEDRIVER=/usr/bin/chromedriver WASM_BINDGEN_TEST_WEBDRIVER_JSON="$PWD/wasm-tests/webdriver.json" \
    cargo test -p omnibuf-wasm-tests --target "$WASM_TARGET" --test worker
finish
