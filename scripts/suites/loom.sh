#!/usr/bin/env bash
# loom: the pool's budget, lease and waiting protocol and the ring's index protocol, model-checked.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

# Library tests whose path contains this run (loom tests live in *loom* modules).
LOOM_FILTER=loom
# loom needs `--cfg loom` in RUSTFLAGS, which would invalidate every other build in a shared target dir.
step "loom" env RUSTFLAGS="${RUSTFLAGS:-} --cfg loom" CARGO_TARGET_DIR="$TARGET_DIR/loom" \
    cargo test -p omnibuf --release --lib "$LOOM_FILTER"
finish
