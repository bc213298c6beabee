#!/usr/bin/env bash
# The project's one test command:  bash scripts/test.sh
#
# 1. Installs whatever a fresh machine lacks: rustup targets, nightly's miri and rust-src, the
#    wasm-bindgen CLI at exactly the version Cargo.lock pins, Debian's chromium and chromedriver, Wine
#    and the MinGW compiler (with a Wine prefix for the tests), and npm packages. Each step checks
#    first, so a second run installs nothing.
# 2. Runs every suite that exists: native tests (unit, integration, doc), examples and benches built,
#    type-checks for Windows and macOS, the ring's tests built for Windows and run under Wine, loom
#    models, Miri, the wasm suites in Node and in headless Chromium, the Node addon's build, and the
#    shared JS suite against the wasm build and the addon.
# 3. Prints a summary and, as its very last line, "N passed, N failed" summed from every runner's
#    own closing lines. Exits non-zero if any step failed.
#
# A failing test step does not stop the run (the summary says which steps failed); a failing install
# does, since nothing after it could be trusted.
#
# Usage: bash scripts/test.sh [--install-only]
# Knobs (environment): MIRIFLAGS, MIRI_PROPTEST_CASES, WASM_BINDGEN_TEST_TIMEOUT, CARGO_TARGET_DIR.
set -euo pipefail

INSTALL_ONLY=false
case "${1:-}" in
    "") ;;
    --install-only) INSTALL_ONLY=true ;;
    *)
        echo "usage: bash scripts/test.sh [--install-only]" >&2
        exit 2
        ;;
esac

cd "$(dirname "${BASH_SOURCE[0]}")/.."

# ── what runs ─────────────────────────────────────────────────────────────────────────────────────────

# Library test modules that Miri runs (libtest name filters: a test runs if its path contains one).
# Add a module here when its unit tests should run under Miri.
MIRI_FILTERS=(buffer pool ring_memory ring:: vbuf:: persistence::memory persistence::blocks)
# The buffer views are a NonNull into an Arc'd owner; they are written to pass under strict provenance.
MIRIFLAGS="${MIRIFLAGS:--Zmiri-strict-provenance}"
# Miri is ~1000x slower than native code: property tests take few cases there.
MIRI_PROPTEST_CASES="${MIRI_PROPTEST_CASES:-4}"

# Library test modules run under loom (filter on the test path; loom tests live in *loom* modules).
LOOM_FILTER=loom

WASM_TARGET=wasm32-unknown-unknown
# Native code for other operating systems is type-checked, not linked or run.
CROSS_TARGETS=(x86_64-pc-windows-msvc aarch64-apple-darwin x86_64-apple-darwin)

# Windows code that is also run: built with MinGW, run under Wine. A subset: the ring, its memory and
# the double mapping (unit tests, and the model tests of tests/ring_model.rs) — about a minute.
WINDOWS_TARGET=x86_64-pc-windows-gnu
WINDOWS_TEST_FILTERS=(ring:: ring_memory double_mapped ring_matches generic_ring)

# The wasm-bindgen test runner's default per-test timeout (20 s) is short for a loaded 2-core machine.
export WASM_BINDGEN_TEST_TIMEOUT="${WASM_BINDGEN_TEST_TIMEOUT:-120}"

TARGET_DIR="${CARGO_TARGET_DIR:-target}"
# loom needs `--cfg loom` in RUSTFLAGS, which would invalidate every other build in a shared target dir.
LOOM_TARGET_DIR="$TARGET_DIR/loom"

# `cargo install` puts binaries here; a fresh shell may not have it on PATH yet.
export PATH="${CARGO_HOME:-$HOME/.cargo}/bin:$PATH"

# ── bookkeeping ───────────────────────────────────────────────────────────────────────────────────────

LOG_DIR=$(mktemp -d)
trap 'rm -rf "$LOG_DIR"' EXIT

STEP_NAMES=() STEP_STATUS=() STEP_PASSED=() STEP_FAILED=() STEP_SECONDS=()
RUN_START=$SECONDS

section() {
    printf '\n\033[1m══ %s ══\033[0m\n' "$*"
}

# Sums the counts in a runner's closing lines: libtest's and wasm-bindgen-test's
# "test result: ok. 12 passed; 0 failed; ...", and node --test's "# pass 3" / "# fail 0" (TAP) or
# "ℹ pass 3" / "ℹ fail 0" (spec reporter). Prints "PASSED FAILED".
count_results() {
    sed 's/\x1b\[[0-9;]*m//g' "$1" | awk '
        /test result: [A-Za-z]+\. [0-9]+ passed; [0-9]+ failed/ {
            for (i = 1; i <= NF; i++) {
                if ($(i + 1) ~ /^passed;/) p += $i
                if ($(i + 1) ~ /^failed;/) f += $i
            }
        }
        /^(# |ℹ )pass [0-9]+$/ { p += $NF }
        /^(# |ℹ )fail [0-9]+$/ { f += $NF }
        END { printf "%d %d\n", p, f }'
}

# run_step NAME COMMAND...: runs a test step, shows and keeps its output, records its counts.
run_step() {
    local name=$1
    shift
    local log="$LOG_DIR/${#STEP_NAMES[@]}.log" start=$SECONDS status=0 passed failed
    printf '\n\033[1m── %s\033[0m\n$ %s\n' "$name" "$*"
    "$@" 2>&1 | tee "$log" || status=$?
    read -r passed failed < <(count_results "$log")
    STEP_NAMES+=("$name")
    STEP_STATUS+=("$status")
    STEP_PASSED+=("$passed")
    STEP_FAILED+=("$failed")
    STEP_SECONDS+=($((SECONDS - start)))
}

# Records a step that had nothing to run, so the summary says so.
skip_step() {
    printf '\n\033[1m── %s\033[0m\n%s\n' "$1" "$2"
    STEP_NAMES+=("$1 ($2)")
    STEP_STATUS+=(skip)
    STEP_PASSED+=(0)
    STEP_FAILED+=(0)
    STEP_SECONDS+=(0)
}

# Runs a command as root: directly when we are root, through sudo otherwise.
as_root() {
    if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi
}

# True when package.json declares any dependencies.
npm_has_dependencies() {
    node -e 'const p = require("./package.json");
             const deps = { ...p.dependencies, ...p.devDependencies, ...p.optionalDependencies };
             process.exit(Object.keys(deps).length > 0 ? 0 : 1)'
}

# True when package.json has a "test" script.
npm_has_test_script() {
    node -e 'process.exit(require("./package.json").scripts?.test ? 0 : 1)'
}

# ── install ───────────────────────────────────────────────────────────────────────────────────────────

section "install: what this machine lacks"
INSTALL_START=$SECONDS

installed_targets=$(rustup target list --installed)
for target in "$WASM_TARGET" "${CROSS_TARGETS[@]}" "$WINDOWS_TARGET"; do
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

# Debian's Chromium and its driver, for the browser suite (no browser download works on these machines).
CHROMEDRIVER_BIN=/usr/bin/chromedriver
if [ ! -x /usr/bin/chromium ] || [ ! -x "$CHROMEDRIVER_BIN" ]; then
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

# npm packages, only when package.json needs some. No lockfile is committed (.gitignore), so a lockfile
# here is one an earlier install wrote: `npm install` brings it and node_modules up to package.json.
if [ -f package.json ] && npm_has_dependencies; then
    npm install --no-audit --no-fund
fi

echo "rustc $(rustc --version | awk '{ print $2 }'), $(rustc +nightly --version)," \
    "wasm-bindgen $wasm_bindgen_version, $(/usr/bin/chromium --version 2>/dev/null), node $(node --version)," \
    "$(wine --version 2>/dev/null)"
INSTALL_SECONDS=$((SECONDS - INSTALL_START))
if $INSTALL_ONLY; then
    echo "installed everything the suites need (${INSTALL_SECONDS} s)"
    exit 0
fi

# ── native ────────────────────────────────────────────────────────────────────────────────────────────

section "native"
run_step "native tests (unit, integration, doc)" cargo test --workspace --all-features
run_step "examples build" cargo build --workspace --all-features --examples
run_step "benches build (not run)" cargo bench --workspace --all-features --no-run
# The fuzz target is type-checked here and run by hand: `cargo +nightly fuzz run vbuf_edits`.
run_step "fuzz target check (not run)" cargo check --manifest-path fuzz/Cargo.toml

section "cross-checks: Windows and macOS type-check"
for target in "${CROSS_TARGETS[@]}"; do
    run_step "check $target" cargo check -p omnibuf --lib --all-features --target "$target"
done

section "Windows: the ring's tests under Wine"
# Wine 8 has VirtualAlloc2 and MapViewOfFile3 but refuses MEM_RESERVE_PLACEHOLDER, so the probe finds
# no double mapping there and the rings run on mirror-copy memory; --show-output shows which
# double-mapping tests had nothing to check. On a Wine with placeholders they run in full.
# One cargo invocation per test binary, and the prefix's wineserver let go in between: a binary that
# starts while the previous one's server is shutting down dies with "Connection reset by peer" (seen
# in a fresh-clone run). A persistent server is no cure: the Wine services it keeps alive hold the
# step's output pipe open, and the step never ends.
for wine_tests in "--lib" "--test ring_model"; do
    # shellcheck disable=SC2086 # the two words of "--test ring_model" are meant to split
    run_step "windows (wine): $wine_tests" env WINEPREFIX="$WINE_PREFIX_DIR" \
        WINEDEBUG=-all CARGO_TARGET_X86_64_PC_WINDOWS_GNU_RUNNER=wine \
        cargo test -p omnibuf --target "$WINDOWS_TARGET" $wine_tests -- --show-output \
        "${WINDOWS_TEST_FILTERS[@]}"
    WINEPREFIX="$WINE_PREFIX_DIR" wineserver --wait || true
done

section "crates.io: the crate as published"
# The docs build without warnings (native and wasm32: docs.rs builds both), and the crate that the
# include list makes (library and docs only) builds on its own: cargo publish --dry-run packs and
# compiles it, and uploads nothing.
run_step "cargo doc (-D warnings), cargo publish --dry-run" bash -c \
    'for t in "" "--target $0"; do RUSTDOCFLAGS="-D warnings" cargo doc --no-deps --all-features $t || exit; done &&
     cargo publish --dry-run --allow-dirty' "$WASM_TARGET"

# ── loom ──────────────────────────────────────────────────────────────────────────────────────────────

section "loom: model-checked concurrency protocols"
# Zero matching tests is a pass ("0 passed") rather than an error, so this works before any exist.
run_step "loom" env RUSTFLAGS="${RUSTFLAGS:-} --cfg loom" CARGO_TARGET_DIR="$LOOM_TARGET_DIR" \
    cargo test -p omnibuf --release --lib "$LOOM_FILTER"

# ── Miri ──────────────────────────────────────────────────────────────────────────────────────────────

section "Miri: undefined-behaviour check of ${MIRI_FILTERS[*]}"
# Miri hides the host environment from the program; PROPTEST_CASES is let through on purpose.
run_step "miri (${MIRI_FILTERS[*]})" env PROPTEST_CASES="$MIRI_PROPTEST_CASES" \
    MIRIFLAGS="$MIRIFLAGS -Zmiri-env-forward=PROPTEST_CASES" \
    cargo +nightly miri test -p omnibuf --lib -- "${MIRI_FILTERS[@]}"

# ── wasm ──────────────────────────────────────────────────────────────────────────────────────────────

section "wasm: the core's tests on $WASM_TARGET"
# The runner adds --headless --no-sandbox to Chromium; webdriver.json adds the flags that keep it off
# the network (these machines reach only package registries, and refused connections are slow noise).
run_step "wasm in Node" env CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUNNER=wasm-bindgen-test-runner \
    cargo test -p omnibuf-wasm-tests --target "$WASM_TARGET" --test node
run_step "wasm in headless Chromium" env CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUNNER=wasm-bindgen-test-runner \
    CHROMEDRIVER="$CHROMEDRIVER_BIN" WASM_BINDGEN_TEST_WEBDRIVER_JSON="$PWD/wasm-tests/webdriver.json" \
    cargo test -p omnibuf-wasm-tests --target "$WASM_TARGET" --test browser

# ── Node ──────────────────────────────────────────────────────────────────────────────────────────────

section "Node"
if [ -f package.json ] && npm_has_test_script; then
    # The napi-rs addon, built from source (node/omnibuf.node, which the loader prefers to a prebuilt
    # package); its build is a step of its own.
    run_step "Node addon build (node/build.mjs)" node node/build.mjs
    # One suite (js/test), one switch (OMNIBUF_IMPL) per implementation of js/index.d.ts.
    run_step "JS suite against the wasm build in Node" env OMNIBUF_IMPL=wasm npm test
    run_step "JS suite against the Node addon" env OMNIBUF_IMPL=addon npm test
    # The browser example (examples/web) in headless Chromium, driven by playwright-core.
    run_step "browser example end to end in Chromium" npm run test:browser
    # The npm packages as a user installs them: packed (this machine's platform; every platform is
    # scripts/pack-all.sh), installed offline into an empty project where no cargo or rustup is found;
    # the Node entry by import and require, and the browser entry bundled by esbuild, vite and webpack.
    run_step "packages: pack, install without Rust, smoke tests" \
        bash -c 'node scripts/pack.mjs && node --test js/packages/'
else
    skip_step "Node suite" "no Node suite yet"
fi

# ── summary ───────────────────────────────────────────────────────────────────────────────────────────

section "summary"
total_passed=0 total_failed=0 failed_steps=0
printf '%-48s %8s %8s %8s %8s\n' step result passed failed seconds
printf '%-48s %8s %8s %8s %8s\n' "install" ok - - "$INSTALL_SECONDS"
for i in "${!STEP_NAMES[@]}"; do
    status=${STEP_STATUS[$i]} passed=${STEP_PASSED[$i]} failed=${STEP_FAILED[$i]}
    case $status in
        skip) result=skipped ;;
        0) result=ok ;;
        *)
            result="FAILED($status)"
            failed_steps=$((failed_steps + 1))
            # A step that failed without a failing test (a build error, a crashed runner) still counts
            # as one failure, so the closing line never reads "0 failed" for a failed run.
            if [ "$failed" -eq 0 ]; then failed=1; fi
            ;;
    esac
    total_passed=$((total_passed + passed))
    total_failed=$((total_failed + failed))
    printf '%-48s %8s %8s %8s %8s\n' "${STEP_NAMES[$i]}" "$result" "$passed" "$failed" "${STEP_SECONDS[$i]}"
done
echo "wall time: $((SECONDS - RUN_START)) s; $failed_steps step(s) failed"
echo "$total_passed passed, $total_failed failed"
[ "$failed_steps" -eq 0 ] && [ "$total_failed" -eq 0 ]
