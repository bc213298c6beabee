// Finds and loads the Node addon for the platform this process runs on, in this order:
//   1. node/omnibuf.node beside this package: a build from source (`npx omnibuf-build`, or the
//      repository's own `node node/build.mjs`). Someone made it on purpose, so it wins.
//   2. The prebuilt package for this platform (omnibuf-<os>-<cpu>[-<libc>]), which npm installs from
//      the main package's optionalDependencies, picking by the `os`, `cpu` and `libc` fields.
// Neither: an Error that names this platform, the prebuilt ones, why the matching package did not load,
// and how to build from source (or to use the wasm build instead). Under Node's permission model
// without --allow-addons, an Error that says so.
//
// Nothing is built at import time: a compile of a minute or more, which downloads crates, is not
// something an `import` should start (in a server's startup, in each worker at once, in a read-only
// node_modules). Building is one explicit, documented command instead: `npx omnibuf-build`.
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { PLATFORMS, currentPlatformId, platformBinary, platformPackage } from './addon-platforms.mjs';

const require = createRequire(import.meta.url);

const packageRoot = fileURLToPath(new URL('..', import.meta.url));
const sourceBuild = fileURLToPath(new URL('../node/omnibuf.node', import.meta.url));

function ownVersion() {
  try {
    return JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')).version;
  } catch {
    return undefined;
  }
}

/** Loads the prebuilt package for `id`; returns the addon, or the reason it could not. */
function loadPrebuilt(id) {
  const name = platformPackage(id);
  let manifest;
  try {
    manifest = require(`${name}/package.json`);
  } catch (e) {
    if (e.code !== 'MODULE_NOT_FOUND' && e.code !== 'ERR_PACKAGE_PATH_NOT_EXPORTED') throw e;
    return { reason: `${name} is not installed` };
  }
  const version = ownVersion();
  // The JS half and the native half must come from one build: the classes' methods are the addon's.
  if (version !== undefined && manifest.version !== version) {
    return { reason: `${name} is version ${manifest.version}, omnibuf is ${version}: reinstall omnibuf` };
  }
  try {
    return { addon: require(`${name}/${platformBinary(id)}`) };
  } catch (e) {
    throwIfAddonsDisabled(e);
    return { reason: `${name} did not load: ${e.message}`, cause: e };
  }
}

/** Node's permission model (`--permission`) loads no addon unless the process allows them: said as
 * such, with Node's code, rather than as an addon to rebuild or reinstall. */
function throwIfAddonsDisabled(e) {
  if (e?.code !== 'ERR_DLOPEN_DISABLED') return;
  const message =
    "omnibuf: Node's permission model loads no native addon in this process: allow addons with " +
    "--allow-addons, or import from 'omnibuf/wasm', which needs none (its VirtualBuffer keeps " +
    'documents in IndexedDB, not files)';
  throw Object.assign(new Error(message, { cause: e }), { code: 'ERR_DLOPEN_DISABLED' });
}

function cargoVersion() {
  // Imported lazily: only the error path needs a child process.
  const { spawnSync } = require('node:child_process');
  const probe = spawnSync('cargo', ['--version'], { encoding: 'utf8' });
  return probe.status === 0 ? probe.stdout.trim() : null;
}

function loadAddon() {
  if (existsSync(sourceBuild)) {
    try {
      return require(sourceBuild);
    } catch (e) {
      throwIfAddonsDisabled(e);
      throw new Error(`omnibuf: the addon built from source (${sourceBuild}) does not load; rebuild it with \`npx omnibuf-build\``, {
        cause: e,
      });
    }
  }
  const id = currentPlatformId();
  const prebuilt = PLATFORMS.some((p) => p.id === id) ? loadPrebuilt(id) : { reason: `no prebuilt addon exists for ${id}` };
  if (prebuilt.addon) return prebuilt.addon;

  const cargo = cargoVersion();
  const build = cargo
    ? `build it from source with \`npx omnibuf-build\` (uses ${cargo}; a minute or two)`
    : 'build it from source with `npx omnibuf-build` once Rust 1.88 or newer (https://rustup.rs) and a C linker are installed';
  const lines = [
    `omnibuf: no Node addon for this platform (${id}): ${prebuilt.reason}.`,
    `Prebuilt platforms: ${PLATFORMS.map((p) => p.id).join(', ')}.`,
    PLATFORMS.some((p) => p.id === id)
      ? `If npm skipped ${platformPackage(id)} (--omit=optional, or a lockfile written on another platform), reinstall omnibuf; or ${build}.`
      : `To use the addon here, ${build}.`,
    `Without the addon, the wasm build runs in Node: import from 'omnibuf/wasm'. (Package: ${packageRoot})`,
  ];
  // A cause only where there is one (an addon that did not load): no `[cause]: undefined` printed.
  throw new Error(lines.join('\n'), prebuilt.cause === undefined ? undefined : { cause: prebuilt.cause });
}

/** The napi-rs addon's exports. */
export const addon = loadAddon();
