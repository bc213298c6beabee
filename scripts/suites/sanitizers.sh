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

step "AddressSanitizer" sanitized address
step "ThreadSanitizer" sanitized thread -Zbuild-std
finish
