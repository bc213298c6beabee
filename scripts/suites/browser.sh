#!/usr/bin/env bash
# The browser example (examples/web) end to end in headless Chromium, driven by playwright-core.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

step "wasm build (pkg/web)" bash scripts/build-wasm.sh
step "browser example end to end in Chromium" npm run test:browser
finish
