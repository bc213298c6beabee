#!/usr/bin/env bash
# Native suite: unit, integration and doc tests; examples and benches built; the fuzz target checked;
# the library type-checked for Windows and macOS (nothing for those systems links or runs here).
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

CROSS_TARGETS=(x86_64-pc-windows-msvc aarch64-apple-darwin x86_64-apple-darwin)

# No file imports, through any chain, a file that imports it (no exceptions are allowed): in the
# crate, and in the addon (whose Node-API layer, node/src/platform, knows no domain types).
step "no circular imports between files (crate)" node scripts/check-circles.mjs src
step "no circular imports between files (addon)" node scripts/check-circles.mjs node/src
step "native tests (unit, integration, doc)" cargo test --workspace --all-features
# The addon is a crate of its own, outside the workspace; its unit tests (the handle tables) need
# no Node to run.
step "the addon's unit tests" cargo test --manifest-path node/Cargo.toml
step "examples build" cargo build --workspace --all-features --examples
step "benches build (not run)" cargo bench --workspace --all-features --no-run
# The fuzz target is type-checked here and run by hand: `cargo +nightly fuzz run vbuf_edits`.
step "fuzz target check (not run)" cargo check --manifest-path fuzz/Cargo.toml
for target in "${CROSS_TARGETS[@]}"; do
    step "check $target" cargo check -p omnibuf --lib --all-features --target "$target"
done
finish
