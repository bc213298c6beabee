// The addon gives memory back: create and drop a million buffers and thousands of rings (freed or
// left to the garbage collector, some with views), and resident memory and the count of memory
// mappings come back near where they started.
//
// The work runs in four equal rounds. The C allocator keeps the pages of freed small objects for reuse
// rather than return them, so resident memory after the first round is the baseline: a leak shows as
// growth over the next three rounds (a leak of even 100 bytes per object would be about 70 MiB),
// while reuse shows none. Ring memory is mapped, so the count of mappings must come back to where it
// was before the first round.
//
// Runs in a child process with --expose-gc, so that it can collect garbage on purpose and measure a
// process nothing else has touched. A few seconds.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const BUFFERS = 1_000_000;
const RINGS = 3_000;

if (process.argv[2] === 'child-documents') {
  // Documents dropped without free(), with no collection asked for, each holding 1 MiB of native
  // memory: made from bytes, read whole from a file (its block cache), or given an insert (inserted
  // bytes not spilled yet). V8 must see that memory to collect them in time (the addon reports it).
  const { VirtualBuffer } = await import('../node.mjs');
  const bytes = new Uint8Array(1 << 20).fill(1);
  const dir = mkdtempSync(join(tmpdir(), 'omnibuf-dropped-'));
  const path = join(dir, 'one-mebibyte');
  writeFileSync(path, bytes);
  const make = {
    fromBytes: async () => VirtualBuffer.fromBytes(bytes),
    file: async () => {
      const doc = await VirtualBuffer.open(path);
      (await doc.read(0, doc.length)).free();
    },
    inserted: async () => VirtualBuffer.fromBytes('').insert(0, bytes),
  }[process.argv[3]];
  const start = process.memoryUsage().rss;
  let peak = start;
  for (let i = 0; i < 2000; i++) {
    await make();
    if (i % 50 === 0) {
      peak = Math.max(peak, process.memoryUsage().rss);
      // A program's turns of the event loop, where Node runs the finalizers of what V8 collected.
      await new Promise((resolve) => setImmediate(resolve));
    }
  }
  rmSync(dir, { recursive: true });
  process.stdout.write(JSON.stringify({ grownMiB: (peak - start) / 2 ** 20 }));
} else if (process.argv[2] === 'child') {
  const { ZeroCopyBuffer, Circular, BufferPool } = await import('../node.mjs');
  const mappings = () => {
    try {
      return readFileSync('/proc/self/maps', 'utf8').split('\n').length;
    } catch {
      return 0; // not Linux: RSS only
    }
  };
  const settle = async () => {
    // Finalizers of native objects run after a collection, from the event loop.
    for (let i = 0; i < 8; i++) {
      globalThis.gc();
      await new Promise((resolve) => setImmediate(resolve));
    }
  };
  const source = new Uint8Array(64).fill(7);
  const buffers = (count) => {
    const pool = new BufferPool({ budget: 1 << 20, classes: [4096] });
    for (let i = 0; i < count; i++) {
      const b = ZeroCopyBuffer.from(source, 'raw');
      if (i % 10 === 0) b.view()[0]; // an external Buffer over it
      if (i % 100 === 0) b.slice(1, 9).free();
      if (i % 1000 === 0) {
        const p = pool.tryAcquire(100);
        p.append(source);
        p.view();
        p.freeze().free();
      }
      if (i % 2 === 0) b.free(); // the rest is left to the garbage collector
    }
    pool.free();
  };
  const rings = (count) => {
    for (let i = 0; i < count; i++) {
      const w = Circular.withCapacity(64 * 1024);
      const r = w.addReader();
      w.write(source);
      r.slice()[0];
      w.slice();
      if (i % 2 === 0) {
        r.free();
        w.free();
      }
    }
  };
  const ROUNDS = 4;
  const started = Date.now();
  const startMappings = mappings();
  const rss = [];
  for (let round = 0; round < ROUNDS; round++) {
    buffers(BUFFERS / ROUNDS);
    rings(RINGS / ROUNDS);
    await settle();
    rss.push(process.memoryUsage().rss);
  }
  const before = { rss: rss[0], mappings: startMappings };
  const after = { rss: rss[ROUNDS - 1], mappings: mappings() };
  process.stdout.write(JSON.stringify({ before, after, rss, ms: Date.now() - started }));
} else {
  const { test } = await import('node:test');
  const assert = (await import('node:assert/strict')).default;
  const { impl, residentMemoryUnreliable } = await import('./impl.mjs');

  test(`${BUFFERS} buffers and ${RINGS} rings later, memory is back`, { skip: (impl !== 'addon' && 'addon only') || residentMemoryUnreliable }, () => {
    const child = spawnSync(process.execPath, ['--expose-gc', fileURLToPath(import.meta.url), 'child'], {
      encoding: 'utf8',
      timeout: 120_000,
    });
    assert.equal(child.status, 0, `the child failed: ${child.stderr}`);
    const { before, after, rss, ms } = JSON.parse(child.stdout);
    const grownMiB = (after.rss - before.rss) / 2 ** 20;
    console.log(`rss after each round: ${rss.map((r) => (r / 2 ** 20).toFixed(1)).join(', ')} MiB; ` +
      `mappings ${before.mappings} -> ${after.mappings}; ${ms} ms`);
    assert.ok(grownMiB < 16, `resident memory grew by ${grownMiB.toFixed(1)} MiB after the first round`);
    // A leaked ring would leave its mappings behind: thousands of them.
    assert.ok(after.mappings - before.mappings < 50, `${after.mappings - before.mappings} more mappings`);
  });

  for (const kind of ['fromBytes', 'file', 'inserted']) {
    test(`2000 documents holding 1 MiB each (${kind}) dropped without free(), and no collection asked for: memory stays bounded`, { skip: impl !== 'addon' && 'addon only' }, () => {
      const child = spawnSync(process.execPath, [fileURLToPath(import.meta.url), 'child-documents', kind], { encoding: 'utf8', timeout: 120_000 });
      assert.equal(child.status, 0, `the child failed: ${child.stderr}`);
      const { grownMiB } = JSON.parse(child.stdout);
      // Unreported, V8 collected none of them for 2 GiB: resident memory grew with every document.
      assert.ok(grownMiB < 512, `resident memory grew by ${grownMiB.toFixed(0)} MiB`);
    });
  }
}
