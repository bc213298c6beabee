// The Node entries under the other runtimes that load them as Node does (Bun, Deno; Node itself as
// the reference): where those runtimes behave otherwise than Node, and the package makes up for it.
// OMNIBUF_IMPL=addon|wasm picks the entry (js/node.mjs or js/wasm-node.mjs). Needs a way to collect
// garbage: `node --expose-gc`, `deno run --v8-flags=--expose-gc`, or Bun's own Bun.gc(). Prints a
// line per check and TAP's "# pass N" / "# fail N"; exits 1 when a check failed. Run by
// scripts/suites/node.sh with the Bun and Deno that scripts/install.sh puts in target/runtimes.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const impl = process.env.OMNIBUF_IMPL ?? 'addon';
const { BufferPool, Circular, VirtualBuffer, ZeroCopyBuffer, externalBuffers } = await import(
  impl === 'wasm' ? '../wasm-node.mjs' : '../node.mjs'
);
const runtime = typeof globalThis.Bun !== 'undefined' ? 'bun' : typeof globalThis.Deno !== 'undefined' ? 'deno' : 'node';
const gc = runtime === 'bun' ? () => globalThis.Bun.gc(true) : globalThis.gc;
if (typeof gc !== 'function') throw new Error('no gc(): run node with --expose-gc, deno with --v8-flags=--expose-gc');
const turn = () => new Promise((resolve) => setTimeout(resolve, 0));
async function collect() {
  for (let i = 0; i < 6; i++) {
    gc();
    await turn();
  }
}

const checks = [];
const check = (name, body) => checks.push([name, body]);

check('a pending wait keeps the pool and the ring side it waits on alive through collection', async () => {
  // Each wait is the only reference to its pool or reader (Bun collected them, in both builds).
  const pool = (() => {
    const pool = new BufferPool({ budget: 4096, classes: [4096] });
    return { held: pool.tryAcquire(4096), wait: pool.acquire(4096) };
  })();
  const ring = (() => {
    const writer = Circular.withCapacity(4096);
    return { writer, wait: writer.addReader().sliceAsync() };
  })();
  await collect();
  pool.held.free();
  ring.writer.write('x');
  const [block, slice] = await Promise.all([pool.wait, ring.wait]);
  assert.equal(block.capacity, 4096);
  assert.deepEqual([...slice], [0x78]);
  block.free();
  ring.writer.free();
});

check('views collected by the thousand leave the process running (Deno gets copies)', async () => {
  // Deno's Node-API (2.9) aborts the process when a view's finalizer deletes its reference.
  if (impl === 'addon') assert.equal(externalBuffers, runtime !== 'deno');
  for (let round = 0; round < 5; round++) {
    for (let i = 0; i < 10_000; i++) ZeroCopyBuffer.from('hello').view();
    const pool = new BufferPool({ budget: 1 << 20 });
    for (let i = 0; i < 2_000; i++) {
      const block = pool.tryAcquire(64);
      block.view();
      block.free();
    }
    pool.free();
    await collect();
  }
});

check('a ring carries bytes in order through a loop over its reader', async () => {
  const writer = Circular.withCapacity(1 << 16);
  const reader = writer.addReader();
  const sent = Buffer.alloc(1 << 20, 'omnibuf ');
  const received = [];
  const reading = (async () => {
    for await (const chunk of reader) received.push(Buffer.from(chunk));
  })();
  for (let at = 0; at < sent.length; ) {
    at += writer.write(sent.subarray(at));
    await turn();
  }
  writer.free();
  await reading;
  assert.ok(Buffer.concat(received).equals(sent));
  reader.free();
});

if (impl === 'addon') {
  check('a file opened, edited and saved', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'omnibuf-runtimes-'));
    try {
      const path = join(dir, 'notes.txt');
      writeFileSync(path, 'hello\nworld\n');
      const doc = await VirtualBuffer.open(path);
      doc.insert(6, 'wide ');
      await doc.save();
      assert.equal(readFileSync(path, 'utf8'), 'hello\nwide world\n');
      assert.equal(await doc.lineCount(), 3);
      doc.free();
      await assert.rejects(VirtualBuffer.open(join(dir, 'missing')), { code: 'ENOENT' });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
}

let passed = 0;
let failed = 0;
for (const [name, body] of checks) {
  try {
    await body();
    passed++;
    console.log(`ok - ${runtime} ${impl}: ${name}`);
  } catch (error) {
    failed++;
    console.log(`not ok - ${runtime} ${impl}: ${name}\n  ${String(error?.stack ?? error).replaceAll('\n', '\n  ')}`);
  }
}
console.log(`# pass ${passed}\n# fail ${failed}`);
process.exitCode = failed === 0 ? 0 : 1;
