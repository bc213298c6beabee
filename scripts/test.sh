#!/usr/bin/env bash
# The project's one test command:  bash scripts/test.sh
#
# Installs what a fresh machine lacks (scripts/install.sh), then runs every suite under scripts/suites/,
# each also runnable on its own (`bash scripts/suites/miri.sh`), and ends with a summary whose very last
# line is "N passed, N failed", summed from every runner's own closing lines. Exits non-zero if any
# suite failed. A failing suite does not stop the run; a failing install does.
#
# Usage: bash scripts/test.sh [--install-only] [SUITE...]
#        (SUITE: native wine loom miri sanitizers wasm node browser crate packages)
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

ALL_SUITES=(native wine loom miri sanitizers wasm node browser crate packages)
INSTALL_ONLY=false
SUITES=()
for arg in "$@"; do
    case "$arg" in
        --install-only) INSTALL_ONLY=true ;;
        native | wine | loom | miri | sanitizers | wasm | node | browser | crate | packages) SUITES+=("$arg") ;;
        *)
            echo "usage: bash scripts/test.sh [--install-only] [${ALL_SUITES[*]}]" >&2
            exit 2
            ;;
    esac
done
[ "${#SUITES[@]}" -gt 0 ] || SUITES=("${ALL_SUITES[@]}")

RUN_START=$SECONDS
printf '\n\033[1m══ install: what this machine lacks ══\033[0m\n'
bash scripts/install.sh
INSTALL_SECONDS=$((SECONDS - RUN_START))
if $INSTALL_ONLY; then
    echo "installed everything the suites need (${INSTALL_SECONDS} s)"
    exit 0
fi

LOG_DIR=$(mktemp -d)
trap 'rm -rf "$LOG_DIR"' EXIT

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

ROWS=() total_passed=0 total_failed=0 failed_suites=0
for suite in "${SUITES[@]}"; do
    printf '\n\033[1m══ %s ══\033[0m\n' "$suite"
    log="$LOG_DIR/$suite.log" start=$SECONDS status=0
    bash "scripts/suites/$suite.sh" 2>&1 | tee "$log" || status=$?
    read -r passed failed < <(count_results "$log")
    if [ "$status" -eq 0 ]; then
        result=ok
    else
        result="FAILED($status)"
        failed_suites=$((failed_suites + 1))
        # A suite that failed without a failing test (a build error, a crashed runner) still counts as
        # one failure, so the closing line never reads "0 failed" for a failed run.
        if [ "$failed" -eq 0 ]; then failed=1; fi
    fi
    total_passed=$((total_passed + passed))
    total_failed=$((total_failed + failed))
    ROWS+=("$(printf '%-12s %10s %8s %8s %8s' "$suite" "$result" "$passed" "$failed" $((SECONDS - start)))")
done

printf '\n\033[1m══ summary ══\033[0m\n'
printf '%-12s %10s %8s %8s %8s\n' suite result passed failed seconds
printf '%-12s %10s %8s %8s %8s\n' install ok - - "$INSTALL_SECONDS"
printf '%s\n' "${ROWS[@]}"
echo "wall time: $((SECONDS - RUN_START)) s; $failed_suites suite(s) failed"
echo "$total_passed passed, $total_failed failed"
[ "$failed_suites" -eq 0 ] && [ "$total_failed" -eq 0 ]
