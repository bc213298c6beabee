#!/usr/bin/env node
// Builds the napi-rs addon from source and installs it as node/omnibuf.node, which the loader
// (js/addon-loader.mjs) prefers to a prebuilt platform package.
//
//   npx omnibuf-build              in a project that installed omnibuf (the package's `bin`): for a
//                                  platform without a prebuilt addon, or to use your own build
//   node node/build.mjs            in the repository: release build
//   node node/build.mjs --debug    debug build
//
// Runs `cargo build` in node/ (honouring CARGO_TARGET_DIR), then copies the library cargo made
// (libomnibuf_node.so, libomnibuf_node.dylib or omnibuf_node.dll) to node/omnibuf.node: written under a
// temporary name and renamed, so a failed build never leaves a half-written addon. Downloads nothing
// but crates; without cargo it says what is missing and how to get it, and exits non-zero. Inside an
// installed package (under node_modules) it removes its cargo target folder afterwards (over 100 MiB
// that only a rebuild would use), unless CARGO_TARGET_DIR names one.
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, renameSync, rmSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

const nodeDir = dirname(fileURLToPath(import.meta.url));
const debug = process.argv.includes('--debug');
const unknown = process.argv.slice(2).filter((a) => a !== '--debug');
if (unknown.length > 0) {
  console.error(`usage: node node/build.mjs [--debug] (unknown: ${unknown.join(' ')})`);
  process.exit(2);
}

/** cargo on PATH, or where rustup puts it (a fresh shell may not have it on PATH yet). */
function findCargo() {
  const candidates = ['cargo', join(process.env.CARGO_HOME ?? join(homedir(), '.cargo'), 'bin', 'cargo')];
  for (const cargo of candidates) {
    const probe = spawnSync(cargo, ['--version'], { encoding: 'utf8' });
    if (probe.status === 0) return { cargo, version: probe.stdout.trim() };
  }
  return null;
}

const found = findCargo();
if (!found) {
  console.error(`omnibuf: cannot build the Node addon: Rust's \`cargo\` was not found (looked on PATH and in
${join(process.env.CARGO_HOME ?? join(homedir(), '.cargo'), 'bin')}).

The addon is built from source and needs a Rust toolchain, 1.88 or newer, with a C linker:
  1. install rustup (https://rustup.rs), e.g. \`curl --proto '=https' --tlsv1.2 -sSf https://sh.rustup.rs | sh\`,
     or your system's package (Debian/Ubuntu: \`apt-get install rustup && rustup default stable\`);
  2. make sure a C toolchain is present (Debian/Ubuntu: \`apt-get install build-essential\`);
  3. run \`npx omnibuf-build\` (in the repository: \`node node/build.mjs\`) again.
The browser entry and 'omnibuf/wasm' (the wasm build) do not need the addon.`);
  process.exit(1);
}

const profile = debug ? 'debug' : 'release';
// Resolved here, since cargo runs in node/ and would read a relative path from there.
const targetDir = process.env.CARGO_TARGET_DIR ? resolve(process.env.CARGO_TARGET_DIR) : join(nodeDir, 'target');
const args = ['build', '--manifest-path', join(nodeDir, 'Cargo.toml'), ...(debug ? [] : ['--release'])];
console.log(`omnibuf: building the Node addon (${profile}) with ${found.version}`);
const env = { ...process.env, CARGO_TARGET_DIR: targetDir };
const build = spawnSync(found.cargo, args, { cwd: nodeDir, stdio: 'inherit', env });
if (build.status !== 0) {
  console.error(`omnibuf: \`cargo ${args.join(' ')}\` failed (${build.error?.message ?? `exit ${build.status}`})`);
  process.exit(1);
}

const library = {
  linux: 'libomnibuf_node.so',
  darwin: 'libomnibuf_node.dylib',
  win32: 'omnibuf_node.dll',
}[process.platform] ?? 'libomnibuf_node.so';
const built = join(targetDir, profile, library);
if (!existsSync(built)) {
  console.error(`omnibuf: cargo succeeded but ${built} is missing`);
  process.exit(1);
}
const installed = join(nodeDir, 'omnibuf.node');
const partial = `${installed}.${process.pid}.partial`;
try {
  copyFileSync(built, partial);
  renameSync(partial, installed);
} catch (e) {
  rmSync(partial, { force: true });
  console.error(`omnibuf: could not install ${installed}: ${e.message}`);
  process.exit(1);
}
console.log(`omnibuf: installed ${installed}`);
if (!process.env.CARGO_TARGET_DIR && nodeDir.split(sep).includes('node_modules')) {
  rmSync(targetDir, { recursive: true, force: true });
  console.log(`omnibuf: removed the build folder ${targetDir}`);
}
