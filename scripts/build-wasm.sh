#!/usr/bin/env bash
# Builds the npm package's wasm entries from the core crate:
#   pkg/node/         wasm-bindgen --target nodejs (CommonJS; the wasm build under Node)
#   pkg/web/          wasm-bindgen --target web    (ES module with init(); the browser entry)
#   pkg/web-threads/  the same over one shared memory, for cross-origin isolated pages (rings across
#                     threads): nightly Rust rebuilds std with the atomics target feature
#                     (-Z build-std), into target/wasm-threads so that its flags never invalidate the
#                     other builds' cache. OMNIBUF_WASM_THREADS=0 skips it.
# Needs the wasm32 target, the wasm-bindgen CLI matching Cargo.lock, and nightly with rust-src
# (scripts/install.sh installs them).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
export PATH="${CARGO_HOME:-$HOME/.cargo}/bin:$PATH"

profile=${PROFILE:-release}
# Paths of this machine stay out of the modules (panic locations name source files): the checkout,
# cargo's home (dependencies' sources) and rustup's (std's sources, which -Z build-std compiles).
remap="--remap-path-prefix=$PWD=omnibuf --remap-path-prefix=${CARGO_HOME:-$HOME/.cargo}=cargo"
remap+=" --remap-path-prefix=${RUSTUP_HOME:-$HOME/.rustup}=rustup"
CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUSTFLAGS="$remap" \
    cargo build -p omnibuf --lib --target wasm32-unknown-unknown --profile "$profile"
wasm="${CARGO_TARGET_DIR:-target}/wasm32-unknown-unknown/$profile/omnibuf.wasm"
wasm-bindgen --target nodejs --out-dir pkg/node "$wasm"
wasm-bindgen --target web --out-dir pkg/web "$wasm"
# The web glue is an ES module in a .js file: said so for Node (18 reads a .js file of a package
# without "type" as CommonJS; omnibuf/inline and omnibuf/worklet load these files in Node too).
es_module_folder() { echo '{ "type": "module" }' >"$1/package.json"; }
es_module_folder pkg/web
echo "built pkg/node and pkg/web from $wasm ($(wc -c <"$wasm") bytes)"

if [ "${OMNIBUF_WASM_THREADS:-1}" != 0 ]; then
    threads_dir="${CARGO_TARGET_DIR:-target}/wasm-threads"
    # The memory is imported (each thread instantiates the module over the same one) and shared; its
    # maximum (1 GiB) is fixed when it is made. wasm-bindgen's thread support sets up each thread's TLS and
    # stack through the exported __wasm_init_tls and __tls_* globals.
    link_args=(--shared-memory --import-memory --max-memory=1073741824
        --export=__wasm_init_tls --export=__tls_size --export=__tls_align --export=__tls_base)
    rustflags="-C target-feature=+atomics,+bulk-memory,+mutable-globals $remap"
    for arg in "${link_args[@]}"; do rustflags+=" -C link-arg=$arg"; done
    CARGO_TARGET_DIR="$threads_dir" RUSTFLAGS="$rustflags" cargo +nightly build -p omnibuf --lib \
        --target wasm32-unknown-unknown --profile "$profile" -Z build-std=std,panic_abort
    threads_wasm="$threads_dir/wasm32-unknown-unknown/$profile/omnibuf.wasm"
    # Named apart from the single-thread build's files, so that both can sit beside a bundle (esbuild
    # copies neither: the page's server has them side by side).
    rm -rf pkg/web-threads
    wasm-bindgen --target web --out-name omnibuf_threads --out-dir pkg/web-threads "$threads_wasm"
    es_module_folder pkg/web-threads
    echo "built pkg/web-threads from $threads_wasm ($(wc -c <"$threads_wasm") bytes)"
fi
