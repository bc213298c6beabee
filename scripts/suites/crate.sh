#!/usr/bin/env bash
# The crate as crates.io gets it: docs without warnings (native and wasm32: docs.rs builds both), doc
# examples on its public items, the package the include list makes (library and docs only) builds on
# its own (cargo publish --dry-run packs and compiles it, and uploads nothing), and each crate builds
# on the rust-version it declares.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

step "cargo doc -D warnings" env RUSTDOCFLAGS="-D warnings" cargo doc --no-deps --all-features
step "cargo doc -D warnings (wasm32)" env RUSTDOCFLAGS="-D warnings" cargo doc --no-deps --all-features --target wasm32-unknown-unknown
# Every public type, trait, free function and method (the test aids included) has an example in its
# docs; the count of public items per module is printed with it.
step "public items and their examples" env FEATURES=testing CHECK_EXAMPLES=1 bash scripts/count-public.sh
# The wasm32-only items' examples are `no_run` and never built by `cargo test --doc`: compiled here.
step "wasm32 doc examples compile" node scripts/check-wasm-examples.mjs
step "cargo publish --dry-run" cargo publish --dry-run --allow-dirty
# Each crate builds on the rust-version it declares, with every feature: the core natively and for
# wasm32, the addon with its locked dependencies. scripts/install.sh (which scripts/test.sh runs
# first) installs those toolchains: run it when a crate's rust-version changes.
msrv() { sed -n 's/^rust-version = "\(.*\)"/\1/p' "$1"; }
step "the core on its rust-version ($(msrv Cargo.toml))" cargo "+$(msrv Cargo.toml)" check --lib --all-features
step "the core on its rust-version, wasm32" cargo "+$(msrv Cargo.toml)" check --lib --all-features --target wasm32-unknown-unknown
step "the addon on its rust-version ($(msrv node/Cargo.toml))" cargo "+$(msrv node/Cargo.toml)" check --locked --manifest-path node/Cargo.toml
finish
