#!/usr/bin/env bash
# Miri: the portable code paths' unit tests checked for undefined behaviour.
# Knobs: MIRIFLAGS, MIRI_PROPTEST_CASES.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

# Library test modules that Miri runs (libtest name filters: a test runs if its path contains one).
# Add a module here when its unit tests should run under Miri.
MIRI_FILTERS=(binding:: buffer pool ring_memory ring:: platform::copy vbuf:: persistence::memory persistence::blocks)
# The buffer views are a NonNull into an Arc'd owner; they are written to pass under strict provenance.
MIRIFLAGS="${MIRIFLAGS:--Zmiri-strict-provenance}"
# Miri is about a thousand times slower than native code: property tests take few cases there.
MIRI_PROPTEST_CASES="${MIRI_PROPTEST_CASES:-4}"

# Miri hides the host environment from the program; PROPTEST_CASES is let through on purpose.
step "miri (${MIRI_FILTERS[*]})" env PROPTEST_CASES="$MIRI_PROPTEST_CASES" \
    MIRIFLAGS="$MIRIFLAGS -Zmiri-env-forward=PROPTEST_CASES" \
    cargo +nightly miri test -p omnibuf --lib -- "${MIRI_FILTERS[@]}"
finish
