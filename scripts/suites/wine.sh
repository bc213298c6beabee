#!/usr/bin/env bash
# Windows: the ring's tests built with MinGW and run under Wine, in the prefix scripts/install.sh made.
#
# Wine 8 has VirtualAlloc2 and MapViewOfFile3 but refuses MEM_RESERVE_PLACEHOLDER, so the probe finds no
# double mapping there and the rings run on mirror-copy memory; --show-output shows which
# double-mapping tests had nothing to check. On a Wine with placeholders they run in full.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

WINDOWS_TARGET=x86_64-pc-windows-gnu
# A subset (about a minute): the ring, its memory and the double mapping, the ring model tests, the
# pool and buffers, the virtual buffer and its files, and the names of system errors. Skipped: the
# file tests that replace a file still open (Wine's rename cannot, where Windows' POSIX-semantics
# rename, which std uses, can), or rewrite a mapped file in place (Windows refuses that by design:
# "user-mapped section").
WINDOWS_TEST_FILTERS=(ring:: ring_memory double_mapped ring_matches generic_ring pool:: buffer persistence vbuf:: os_error)
WINDOWS_TEST_SKIPS=()
for unix_only in an_empty_recipe_saves_an_empty_file check_unchanged_reports_size_mtime_replacement_and_deletion \
    no_save_copies_from_a_file_changed_in_place_forced_or_not \
    save_refuses_a_file_changed_on_disk_unless_forced save_writes_the_recipe_and_the_old_layer_still_reads_the_old_content; do
    WINDOWS_TEST_SKIPS+=(--skip "$unix_only")
done
WINE_PREFIX_DIR="$(cd "$TARGET_DIR" && pwd)/wine-prefix"

# A program that links the crate must start on a Windows without the placeholder calls (before 10
# 1803), where its rings use mirror-copy memory: the calls are looked up when a ring is first made,
# never imported. (MinGW's objdump lists what the loader must find.)
no_placeholder_imports() {
    local exe
    exe=$(cargo test -p omnibuf --target "$WINDOWS_TARGET" --lib --no-run --message-format=json 2>/dev/null |
        node -e 'for (const line of require("fs").readFileSync(0, "utf8").split("\n")) {
            const m = line.startsWith("{") ? JSON.parse(line) : {};
            if (m.executable && m.target?.name === "omnibuf") console.log(m.executable);
        }')
    [ -n "$exe" ] || { echo "no test executable was built"; return 1; }
    if x86_64-w64-mingw32-objdump -p "$exe" | grep -E 'VirtualAlloc2|MapViewOfFile3'; then
        echo "$exe imports the placeholder calls: it would not start before Windows 10 1803"
        return 1
    fi
    echo "$exe imports neither VirtualAlloc2 nor MapViewOfFile3"
}
step "windows: the placeholder calls are looked up, not imported" no_placeholder_imports

# One cargo invocation per test binary, and the prefix's wineserver let go in between: a binary that
# starts while the previous one's server is shutting down dies with "Connection reset by peer". A
# persistent server is no cure: the Wine services it keeps alive hold the step's output pipe open,
# and the step never ends.
for wine_tests in "--lib" "--test ring_model"; do
    # shellcheck disable=SC2086 # the two words of "--test ring_model" are meant to split
    step "windows (wine): $wine_tests" env WINEPREFIX="$WINE_PREFIX_DIR" \
        WINEDEBUG=-all CARGO_TARGET_X86_64_PC_WINDOWS_GNU_RUNNER=wine \
        cargo test -p omnibuf --target "$WINDOWS_TARGET" $wine_tests -- --show-output \
        "${WINDOWS_TEST_FILTERS[@]}" "${WINDOWS_TEST_SKIPS[@]}"
    WINEPREFIX="$WINE_PREFIX_DIR" wineserver --wait || true
done
finish
