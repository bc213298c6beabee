#!/usr/bin/env bash
# The browser examples end to end in headless Chromium, driven by playwright-core: examples/web, and
# rings across threads (js/e2e/rings-threads.test.mjs; the threaded build, pkg/web-threads).
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

step "wasm builds (pkg/web, pkg/web-threads)" bash scripts/build-wasm.sh
step "browser example end to end in Chromium" npm run test:browser
finish
