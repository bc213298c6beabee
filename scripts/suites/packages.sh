#!/usr/bin/env bash
# The npm packages as a user installs them: packed (this machine's platform; every platform is
# scripts/pack-all.sh), installed offline into an empty project where no cargo or rustup is found;
# the Node entry by import and require (and on Node 18, 22, 24 and 26), the types, and the browser entry bundled by
# esbuild, vite (build and dev server), rollup and webpack, run in Chromium.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

step "pack (scripts/pack.mjs)" node scripts/pack.mjs
step "install without Rust, smoke tests" node --test js/packages/*.test.mjs
finish
