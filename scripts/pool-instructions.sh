#!/usr/bin/env bash
# Instructions per pool acquire + release (and per malloc + free, for comparison), counted with
# callgrind: each case runs at two loop lengths and the difference is divided by the extra pairs, so
# that start-up and set-up cancel out. Instruction counts do not depend on the machine's load.
#
#   bash scripts/pool-instructions.sh            # pool and malloc, 4 KiB and 64 KiB
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
export PATH="${CARGO_HOME:-$HOME/.cargo}/bin:$PATH"
command -v valgrind >/dev/null || { echo "valgrind is needed (apt-get install valgrind)"; exit 1; }

cargo build --quiet --release --example pool_pairs
BIN="${CARGO_TARGET_DIR:-target}/release/examples/pool_pairs"
SHORT=100000
LONG=300000

count() { # count WHAT SIZE PAIRS: total instructions of one run
    local out
    out=$(mktemp)
    valgrind --tool=callgrind --callgrind-out-file="$out" "$BIN" "$1" "$2" "$3" >/dev/null 2>&1
    awk '/^summary:/ { print $2 }' "$out"
    rm -f "$out"
}

printf '%-8s %8s %22s\n' case size "instructions per pair"
for what in pool malloc; do
    for size in 4096 65536; do
        a=$(count "$what" "$size" "$SHORT")
        b=$(count "$what" "$size" "$LONG")
        printf '%-8s %8s %22s\n' "$what" "$size" "$(awk -v a="$a" -v b="$b" -v n=$((LONG - SHORT)) 'BEGIN { printf "%.1f", (b - a) / n }')"
    done
done
