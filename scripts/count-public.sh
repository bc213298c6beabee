#!/usr/bin/env bash
# Prints the number of public items of the crate, per top-level module (what scripts/public-items.mjs
# counts and how is written at its top). Needs the nightly toolchain (rustdoc's JSON output).
#
# Usage: bash scripts/count-public.sh [--manifest-path PATH] [--target TRIPLE] [CARGO ARGS...]
#   bash scripts/count-public.sh                                   # omnibuf, this machine's target
#   bash scripts/count-public.sh --target wasm32-unknown-unknown   # the wasm32 build's surface
#   bash scripts/count-public.sh --manifest-path DIR/Cargo.toml    # another crate, for comparison
#                       (a copy of its source, e.g. of rtrb from cargo's registry, built --offline)
# LIST=1 also lists every counted item; CHECK_EXAMPLES=1 fails when a public type, trait, free function
# or method has no example in its docs (the suite `crate` runs it so).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
export PATH="${CARGO_HOME:-$HOME/.cargo}/bin:$PATH"

package=omnibuf
target=
args=()
while [ $# -gt 0 ]; do
    case "$1" in
        --manifest-path)
            package=$(sed -n 's/^name *= *"\(.*\)"/\1/p' "$2" | head -n 1)
            args+=(--manifest-path "$2")
            shift 2
            ;;
        --target) target=$2; args+=(--target "$2"); shift 2 ;;
        *) args+=("$1"); shift ;;
    esac
done
# The features a program turns on (not `testing`, whose test aids are no part of the API); FEATURES=testing
# adds them.
[ "$package" = omnibuf ] && args+=(--features "bytes,tokio${FEATURES:+,$FEATURES}")

# A target directory of its own, so that the JSON never mixes with the HTML docs of `cargo doc`.
out="${CARGO_TARGET_DIR:-target}/public-items"
cargo +nightly rustdoc -q --lib --target-dir "$out" "${args[@]}" -- \
    -Z unstable-options --output-format json --document-hidden-items
json="$out/${target:+$target/}doc/${package//-/_}.json"
node scripts/public-items.mjs "$json"
