#!/usr/bin/env bash
# Checks that packing is reproducible: clones HEAD twice (both before either builds), into folders of
# different names and depths, runs scripts/pack-all.sh in each (every platform's package, each clone
# with its own target folder, so nothing is shared but the installed tools and registry caches), and
# compares every tarball's sha256. Exits non-zero if any tarball differs. Slow: two cold builds of
# seven targets and the wasm.
#
#   bash scripts/check-reproducible.sh
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
clones=("$work/a" "$work/second/clone-b")
# Both clones of one commit, made before either builds.
commit=$(git rev-parse HEAD)
for clone in "${clones[@]}"; do
    mkdir -p "$(dirname "$clone")"
    git clone --quiet . "$clone"
    git -C "$clone" checkout --quiet --detach "$commit"
done
for clone in "${clones[@]}"; do
    (cd "$clone" && npm install --no-audit --no-fund >/dev/null && OUT=target/npm-all bash scripts/pack-all.sh)
done

status=0
printf '%-44s %-18s %s\n' tarball "$(basename "${clones[0]}")" "$(basename "${clones[1]}")"
for tarball in "${clones[0]}"/target/npm-all/*.tgz; do
    name=$(basename "$tarball")
    a=$(sha256sum "$tarball" | cut -c1-16)
    b=$(sha256sum "${clones[1]}/target/npm-all/$name" 2>/dev/null | cut -c1-16 || echo missing)
    [ "$a" = "$b" ] || status=1
    printf '%-44s %-18s %s %s\n' "$name" "$a" "$b" "$([ "$a" = "$b" ] && echo same || echo DIFFERENT)"
done
[ "$status" -eq 0 ] && echo "every tarball is bit-identical between the two clones" || echo "some tarballs differ"
exit "$status"
