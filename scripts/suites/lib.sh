# Sourced by every suite script: the repository root as working directory, cargo's binaries on PATH,
# and `step`, which runs one command of a suite, keeps going when it fails, and remembers the failure.
# A suite script ends with `finish`, which exits non-zero when any of its steps failed.
set -uo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."

# `cargo install` puts binaries here; a fresh shell may not have it on PATH yet.
export PATH="${CARGO_HOME:-$HOME/.cargo}/bin:$PATH"
TARGET_DIR="${CARGO_TARGET_DIR:-target}"

SUITE_FAILED=()

# step NAME COMMAND...: prints the name and the command, runs it, records a failure.
step() {
    local name=$1
    shift
    printf '\n\033[1m── %s\033[0m\n$ %s\n' "$name" "$*"
    if ! "$@"; then
        echo "step failed: $name"
        SUITE_FAILED+=("$name")
    fi
}

finish() {
    if [ "${#SUITE_FAILED[@]}" -gt 0 ]; then
        printf 'failed steps: %s\n' "${SUITE_FAILED[*]}"
        exit 1
    fi
}
