#!/usr/bin/env bash
# Sanitizers: the crate's unit and integration tests under AddressSanitizer (use after free, overflows,
# leaks of the double-mapped ring's memory) and ThreadSanitizer (data races in the ring, the pool, the
# buffer views' counts and the virtual buffer's threads). Knobs: SANITIZER_PROPTEST_CASES.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

# Instrumented code runs 5 to 20 times slower: property tests take fewer cases here.
SANITIZER_PROPTEST_CASES="${SANITIZER_PROPTEST_CASES:-16}"
# Two tests that measure the process rather than the code: one counts /proc/self/maps, where the
# sanitizers' own mappings come and go; one kills a child after a delay tuned to uninstrumented speed.
SKIP=(--skip leave_nothing_behind --skip a_save_killed_at_any_moment)
# Both need nightly's -Zsanitizer and an explicit target (so that build scripts and proc macros are
# built without it). ThreadSanitizer also needs the standard library built with it (-Zbuild-std), or it
# reports races inside std's own synchronisation. Each gets its own target dir: the flags would
# otherwise invalidate every other build.
HOST=$(rustc -vV | sed -n 's/^host: //p')
sanitized() { # sanitized NAME CARGO_ARGS...
    local name=$1
    shift
    env RUSTFLAGS="-Zsanitizer=$name" RUSTDOCFLAGS="-Zsanitizer=$name" \
        CARGO_TARGET_DIR="$TARGET_DIR/sanitizer-$name" PROPTEST_CASES="$SANITIZER_PROPTEST_CASES" \
        cargo +nightly test "$@" --no-fail-fast -p omnibuf --all-features --lib --tests --target "$HOST" \
        -- "${SKIP[@]}"
}

# halt_on_error: the first race fails its test binary at once, with the report last in the log.
# allocator_may_return_null: a failed allocation returns null, as the system's does, instead of
# stopping the process (tests ask for more memory than there is, and expect an error back).
export TSAN_OPTIONS="halt_on_error=1 allocator_may_return_null=1 ${TSAN_OPTIONS:-}"
export ASAN_OPTIONS="allocator_may_return_null=1 ${ASAN_OPTIONS:-}"

# The Node addon under AddressSanitizer, through the JS suite: its views over native memory, their
# detaching and finalizers are the addon's own unsafe code. Node is not instrumented, so the runtime
# is preloaded: GCC's libasan, whose interface is the one rustc's instrumentation calls. The suite
# runs from a copy of js/ beside the instrumented addon, leaving the repository's build as it is;
# reports go to files (tests run child processes whose stderr they read), and any report fails the
# step. Leak checks are off: Node leaves memory to the process's end by design.
addon_under_asan() {
    local target dir runtime status=0
    mkdir -p "$TARGET_DIR" && target=$(cd "$TARGET_DIR" && pwd) || return 1
    dir="$target/sanitizer-address-js"
    runtime=$(gcc -print-file-name=libasan.so)
    [ -e "$runtime" ] || { echo "no libasan.so from gcc (Debian: libasan8)"; return 1; }
    (cd node && RUSTFLAGS="-Zsanitizer=address" CARGO_TARGET_DIR="$target/sanitizer-address-addon" \
        cargo +nightly build --target "$HOST") || return 1
    rm -rf "$dir" && mkdir -p "$dir/node" "$dir/reports" || return 1
    cp "$target/sanitizer-address-addon/$HOST/debug/libomnibuf_node.so" "$dir/node/omnibuf.node" &&
        cp -r js package.json "$dir/" && ln -s "$PWD/node_modules" "$dir/node_modules" || return 1
    (cd "$dir" && env LD_PRELOAD="$runtime" OMNIBUF_IMPL=addon OMNIBUF_SANITIZER=address \
        ASAN_OPTIONS="detect_leaks=0:allocator_may_return_null=1:handle_segv=0:log_path=$dir/reports/asan" \
        node --expose-gc --test --test-reporter=tap js/test/*.test.mjs) || status=$?
    # Reports of errors, not ASan's warnings of allocations it refused (tests ask for too much on
    # purpose, and expect an error back).
    if grep -l "ERROR: AddressSanitizer" "$dir"/reports/asan.* 2>/dev/null; then
        cat "$dir"/reports/asan.*
        return 1
    fi
    return "$status"
}

step "AddressSanitizer" sanitized address
step "ThreadSanitizer" sanitized thread -Zbuild-std
step "AddressSanitizer: the Node addon, through the JS suite" addon_under_asan
finish
