#!/usr/bin/env bash
# Builds the npm package's wasm entries from the core crate:
#   pkg/node/  wasm-bindgen --target nodejs (CommonJS; the wasm build under Node)
#   pkg/web/   wasm-bindgen --target web    (ES module with init(); the browser entry)
# Needs the wasm32 target and the wasm-bindgen CLI matching Cargo.lock (scripts/test.sh installs both).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
export PATH="${CARGO_HOME:-$HOME/.cargo}/bin:$PATH"

profile=${PROFILE:-release}
cargo build -p omnibuf --lib --target wasm32-unknown-unknown --profile "$profile"
wasm="${CARGO_TARGET_DIR:-target}/wasm32-unknown-unknown/$profile/omnibuf.wasm"
wasm-bindgen --target nodejs --out-dir pkg/node "$wasm"
wasm-bindgen --target web --out-dir pkg/web "$wasm"
echo "built pkg/node and pkg/web from $wasm ($(wc -c <"$wasm") bytes)"
