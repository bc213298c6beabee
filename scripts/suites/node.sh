#!/usr/bin/env bash
# The JS API: the addon built from source, then one suite (js/test) against each implementation of
# js/index.d.ts (OMNIBUF_IMPL picks it); `npm test`'s pretest builds the wasm entries.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

step "Node addon build (node/build.mjs)" node node/build.mjs
step "JS suite against the wasm build in Node" env OMNIBUF_IMPL=wasm npm test
step "JS suite against the Node addon" env OMNIBUF_IMPL=addon npm test
finish
