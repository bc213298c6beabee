#!/usr/bin/env bash
# Windows: the ring's tests built with MinGW and run under Wine, in the prefix scripts/install.sh made.
#
# Wine 8 has VirtualAlloc2 and MapViewOfFile3 but refuses MEM_RESERVE_PLACEHOLDER, so the probe finds no
# double mapping there and the rings run on mirror-copy memory; --show-output shows which
# double-mapping tests had nothing to check. On a Wine with placeholders they run in full.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

WINDOWS_TARGET=x86_64-pc-windows-gnu
# A subset: the ring, its memory and the double mapping, and the ring model tests (about a minute).
WINDOWS_TEST_FILTERS=(ring:: ring_memory double_mapped ring_matches generic_ring)
WINE_PREFIX_DIR="$(cd "$TARGET_DIR" && pwd)/wine-prefix"

# One cargo invocation per test binary, and the prefix's wineserver let go in between: a binary that
# starts while the previous one's server is shutting down dies with "Connection reset by peer". A
# persistent server is no cure: the Wine services it keeps alive hold the step's output pipe open,
# and the step never ends.
for wine_tests in "--lib" "--test ring_model"; do
    # shellcheck disable=SC2086 # the two words of "--test ring_model" are meant to split
    step "windows (wine): $wine_tests" env WINEPREFIX="$WINE_PREFIX_DIR" \
        WINEDEBUG=-all CARGO_TARGET_X86_64_PC_WINDOWS_GNU_RUNNER=wine \
        cargo test -p omnibuf --target "$WINDOWS_TARGET" $wine_tests -- --show-output \
        "${WINDOWS_TEST_FILTERS[@]}"
    WINEPREFIX="$WINE_PREFIX_DIR" wineserver --wait || true
done
finish
