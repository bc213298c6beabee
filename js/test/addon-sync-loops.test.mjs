// Flat memory in synchronous loops (issue 12, observation 9): a million small buffers made and freed,
// or made and dropped, and a million pooled buffers, in one loop that never yields to the event loop,
// grow resident memory by at most 64 MiB. Node-API frees what it keeps for a native object only in a
// task after the collector found it, so a loop that made a native object per buffer held hundreds of
// MiB until it ended (ZeroCopyBuffer.from(64 bytes).free(): 45 -> 388 MiB).
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
  'BufferPool.tryAcquire(64), dropped': ({ BufferPool }, source, count) => {
    // Dropped buffers go back to the pool only after a turn of the event loop, so most of these calls
    // find the budget spent and return null: what must stay flat is what the calls keep.
    const pool = new BufferPool({ budget: 1 << 20 });
    let got = 0;
    for (let i = 0; i < count; i++) if (pool.tryAcquire(64) !== null) got++;
    return got;
  },
};

if (process.argv[2] === 'child') {
  const api = await import('../node.mjs');
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
  const { impl } = await import('./impl.mjs');

  for (const name of Object.keys(loops)) {
    test(`${COUNT} × ${name} in one synchronous loop: resident memory grows ≤ ${LIMIT_MIB} MiB`, { skip: impl !== 'addon' && 'addon only' }, () => {
      const child = spawnSync(process.execPath, ['--expose-gc', fileURLToPath(import.meta.url), 'child', name], {
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
