// Flat memory in synchronous loops (issue 12, observation 9): a million small buffers made and freed,
// or made and dropped, and a million pooled buffers, in one loop that never yields to the event loop,
// grow resident memory by at most 64 MiB. Node-API frees what it keeps for a native object only in a
// task after the collector found it, so a loop that made a native object per buffer held hundreds of
// MiB until it ended (ZeroCopyBuffer.from(64 bytes).free(): 45 -> 388 MiB).
//
// The same holds for views: a million view() calls of one ZeroCopyBuffer, or of one pooled buffer, in
// one loop. Node frees what it keeps for each Buffer over native memory (an external buffer) only in a
// task after that Buffer is gone, so a view() that made a new one per call held hundreds of MiB until
// the loop ended: repeated views of one object share one native view now. (A loop of tryAcquire() +
// view() + free() still needs a new native view per buffer, since free() must detach the last one:
// Node's record of each stays until the turn ends, with no way around it through Node-API; see
// docs/performance.md.) The view loops run against both builds; the wasm build's views are copies.
//
// Each loop runs in a child process of its own, so that one loop's garbage does not count for another.
// A few seconds each.
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const COUNT = 1_000_000;
const LIMIT_MIB = 64;

const loops = {
  'ZeroCopyBuffer.from(64 bytes).free()': ({ ZeroCopyBuffer }, source, count) => {
    for (let i = 0; i < count; i++) ZeroCopyBuffer.from(source).free();
  },
  'ZeroCopyBuffer.from(64 bytes), dropped': ({ ZeroCopyBuffer }, source, count) => {
    let last;
    for (let i = 0; i < count; i++) last = ZeroCopyBuffer.from(source);
    return last.length;
  },
  'ZeroCopyBuffer.from(a 20-byte string).slice(2, 9), both freed': ({ ZeroCopyBuffer }, source, count) => {
    for (let i = 0; i < count; i++) {
      const b = ZeroCopyBuffer.from('twenty bytes of text');
      b.slice(2, 9).free();
      b.free();
    }
  },
  'BufferPool.tryAcquire(64) + append + free()': ({ BufferPool }, source, count) => {
    const pool = new BufferPool({ budget: 1 << 20 });
    for (let i = 0; i < count; i++) {
      const p = pool.tryAcquire(64);
      p.append(source);
      p.free();
    }
    pool.free();
  },
  'ZeroCopyBuffer.view() of one 64-byte buffer': ({ ZeroCopyBuffer }, source, count) => {
    const b = ZeroCopyBuffer.from(source);
    let seen = 0;
    for (let i = 0; i < count; i++) seen += b.view()[i & 63];
    b.free();
    return seen;
  },
  'PooledBuffer.view() of one 4 KiB pooled buffer, written to': ({ BufferPool }, source, count) => {
    const pool = new BufferPool({ budget: 1 << 20 });
    const p = pool.tryAcquire(4096);
    p.append(source);
    for (let i = 0; i < count; i++) p.view()[i & 63] = i;
    p.free();
    pool.free();
  },
  'BufferPool.tryAcquire(64), dropped': ({ BufferPool }, source, count) => {
    // Dropped buffers go back to the pool only after a turn of the event loop, so most of these calls
    // find the budget spent and return null: what must stay flat is what the calls keep.
    const pool = new BufferPool({ budget: 1 << 20 });
    let got = 0;
    for (let i = 0; i < count; i++) if (pool.tryAcquire(64) !== null) got++;
    return got;
  },
};

/** The loops both builds run (the others are about the addon's native objects). */
const bothBuilds = new Set(['ZeroCopyBuffer.view() of one 64-byte buffer', 'PooledBuffer.view() of one 4 KiB pooled buffer, written to']);

if (process.argv[2] === 'child') {
  const api = await import(process.argv[4] === 'wasm' ? '../wasm-node.mjs' : '../node.mjs');
  const loop = loops[process.argv[3]];
  const source = new Uint8Array(64).fill(7);
  loop(api, source, COUNT / 50); // warm up: code loaded and optimized
  globalThis.gc();
  const before = process.memoryUsage().rss;
  const started = Date.now();
  loop(api, source, COUNT);
  const after = process.memoryUsage().rss;
  process.stdout.write(JSON.stringify({ grown: after - before, ms: Date.now() - started }));
} else {
  const { test } = await import('node:test');
  const assert = (await import('node:assert/strict')).default;
  const { impl, residentMemoryUnreliable } = await import('./impl.mjs');

  for (const name of Object.keys(loops)) {
    const skip = (impl !== 'addon' && !bothBuilds.has(name) && 'addon only') || residentMemoryUnreliable;
    test(`${COUNT} × ${name} in one synchronous loop: resident memory grows ≤ ${LIMIT_MIB} MiB`, { skip }, () => {
      const child = spawnSync(process.execPath, ['--expose-gc', fileURLToPath(import.meta.url), 'child', name, impl], {
        encoding: 'utf8',
        timeout: 300_000,
      });
      assert.equal(child.status, 0, `the child failed: ${child.stderr}`);
      const { grown, ms } = JSON.parse(child.stdout);
      const grownMiB = grown / 2 ** 20;
      console.log(`${name}: resident memory grew ${grownMiB.toFixed(1)} MiB in ${ms} ms`);
      assert.ok(grownMiB <= LIMIT_MIB, `resident memory grew by ${grownMiB.toFixed(1)} MiB`);
    });
  }
}
