// One small operation at two sizes of something it should not depend on, in both Node builds: the
// cost of a call that grows with a ring's size, a backlog, a chunk, a buffer, the number of siblings,
// tenants or edits, or a document's length, is a cliff. A ratio (large / small) near 1 means none.
// Each time is the median of several runs of many calls; nothing here is a speed target.
//
//   node --expose-gc js/bench/scaling.mjs            (after node node/build.mjs, bash scripts/build-wasm.sh)
//   OMNIBUF_SCALING_RUNS=3 node --expose-gc js/bench/scaling.mjs   fewer runs, prints only
//
// Prints a Markdown table and writes it over the first table of docs/bench-scaling.md.
import { existsSync } from 'node:fs';
import { median, writeReport } from './harness.mjs';

const RUNS = Number(process.env.OMNIBUF_SCALING_RUNS ?? 5);
const KiB = 1 << 10;
const MiB = 1 << 20;

/**
 * The cases. `setup(api, size)` makes what the operation needs and resolves to `{ op, close }`:
 * `op()` is one call (or a few that go together; a Promise is awaited), timed over `calls` of them.
 */
const cases = [
  {
    name: 'ring write() of a chunk, 64 KiB of room in a 16 MiB ring',
    sizes: [64 * KiB, 64 * MiB],
    label: (n) => `chunk ${size(n)}`,
    calls: 200,
    setup: (api, chunkBytes) => writingIntoRoom(api, 16 * MiB, new Uint8Array(chunkBytes).fill(7)),
  },
  {
    name: 'ring write() of a string, 64 KiB of room',
    sizes: [64 * KiB, 32 * MiB],
    label: (n) => `${size(n)} characters`,
    calls: 20,
    setup: (api, chars) => writingIntoRoom(api, 64 * KiB, 'a'.repeat(chars)),
  },
  {
    name: 'writer slice() + produce(100) + consume(100)',
    sizes: [64 * KiB, 16 * MiB],
    label: (n) => `ring ${size(n)}`,
    calls: 2000,
    setup(api, capacity) {
      const writer = api.Circular.withCapacity(capacity);
      const reader = writer.addReader();
      return {
        op() {
          writer.slice().fill(1, 0, 100);
          writer.produce(100);
          reader.consume(100);
        },
        close: () => (writer.free(), reader.free()),
      };
    },
  },
  {
    name: 'PooledBuffer length after a view()',
    sizes: [4 * KiB, 4 * MiB],
    label: (n) => `buffer ${size(n)}`,
    calls: 2000,
    setup(api, classBytes) {
      const pool = new api.BufferPool({ budget: 2 * classBytes, classes: [classBytes] });
      const buffer = pool.tryAcquire(classBytes);
      buffer.append(new Uint8Array(classBytes));
      const view = buffer.view();
      let sum = 0;
      return {
        op() {
          view[0] = sum;
          sum += buffer.length;
        },
        close: () => (buffer.free(), pool.free()),
      };
    },
  },
  {
    name: 'ZeroCopyBuffer slice() + view() + free() among live siblings with views',
    sizes: [1000, 20_000],
    label: (n) => `${n} siblings`,
    calls: 2000,
    setup(api, siblings) {
      const whole = api.ZeroCopyBuffer.from(new Uint8Array(64 * KiB));
      const kept = Array.from({ length: siblings }, (_, i) => {
        const slice = whole.slice(i % 1000, 1000 + (i % 1000));
        return { slice, view: slice.view() };
      });
      return {
        op() {
          const slice = whole.slice(0, 16);
          slice.view();
          slice.free();
        },
        close() {
          for (const { slice } of kept) slice.free();
          whole.free();
        },
      };
    },
  },
  {
    name: 'BufferPool snapshot(), per tenant with a quota of its own',
    sizes: [1000, 10_000],
    label: (n) => `${n} tenants`,
    calls: 5,
    perCall: (tenants) => tenants,
    setup(api, tenants) {
      const names = Array.from({ length: tenants }, (_, i) => `tenant-${i}`);
      const pool = new api.BufferPool({
        budget: 64 * MiB,
        classes: [64],
        tenantQuotas: Object.fromEntries(names.map((name) => [name, 1 * MiB])),
      });
      const held = names.map((name) => pool.tryAcquire(64, name));
      return {
        op: () => pool.snapshot(),
        close() {
          for (const buffer of held) buffer.free();
          pool.free();
        },
      };
    },
  },
  {
    name: 'VirtualBuffer lineCount(), after the first',
    sizes: [1 * MiB, 64 * MiB],
    label: (n) => `document ${size(n)}`,
    calls: 100,
    async setup(api, bytes) {
      const doc = api.VirtualBuffer.fromBytes(lines(bytes));
      await doc.lineCount();
      return { op: () => doc.lineCount(), close: () => doc.free() };
    },
  },
  {
    name: 'VirtualBuffer lineToOffset(10) of a 1 MiB document, after edits',
    sizes: [100, 100_000],
    label: (n) => `${n} edits`,
    calls: 100,
    async setup(api, edits) {
      const doc = api.VirtualBuffer.fromBytes(lines(1 * MiB));
      for (let i = 0; i < edits; i++) doc.insert((i * 7919) % doc.length, 'x');
      await doc.lineToOffset(10);
      return { op: () => doc.lineToOffset(10), close: () => doc.free() };
    },
  },
];

/** A full ring of `capacity` bytes whose `op()` reads 64 KiB and then writes `value` into that room. */
function writingIntoRoom(api, capacity, value) {
  const writer = api.Circular.withCapacity(capacity);
  const reader = writer.addReader();
  while (writer.write(value) > 0);
  const room = new Uint8Array(64 * KiB);
  return {
    op() {
      reader.readInto(room);
      writer.write(value);
    },
    close: () => (writer.free(), reader.free()),
  };
}

/** `bytes` bytes of 64-byte lines. */
function lines(bytes) {
  const line = 'x'.repeat(63) + '\n';
  return new TextEncoder().encode(line.repeat(bytes / line.length));
}

function size(n) {
  return n >= MiB ? `${n / MiB} MiB` : n >= KiB ? `${n / KiB} KiB` : `${n}`;
}

/** The median time of one call of `c` at `size`, in microseconds (per `perCall` unit if given). */
async function timeCase(api, c, n) {
  const { op, close } = await c.setup(api, n);
  try {
    const runs = [];
    for (let run = 0; run <= RUNS; run++) {
      globalThis.gc?.();
      const start = process.hrtime.bigint();
      for (let i = 0; i < c.calls; i++) await op();
      const us = Number(process.hrtime.bigint() - start) / 1e3 / c.calls / (c.perCall?.(n) ?? 1);
      if (run > 0) runs.push(us); // the first run warms up
    }
    return median(runs);
  } finally {
    close();
  }
}

const builds = [['addon', () => import('../node.mjs')]];
if (existsSync(new URL('../../pkg/node/omnibuf.js', import.meta.url))) {
  builds.push([
    'wasm build',
    async () => {
      if (globalThis.indexedDB === undefined) await import('fake-indexeddb/auto');
      return import('../wasm-node.mjs');
    },
  ]);
}

const apis = [];
for (const [name, load] of builds) apis.push([name, await load()]);
const rows = [
  `One call at two sizes of what it should not depend on; medians of ${RUNS} runs (µs per call)`,
  '',
  '| operation | sizes | ' + apis.map(([name]) => `${name}: small → large (ratio)`).join(' | ') + ' |',
  '|---|---|' + apis.map(() => '---|').join(''),
];
for (const c of cases) {
  const cells = [];
  for (const [, api] of apis) {
    const [small, large] = [await timeCase(api, c, c.sizes[0]), await timeCase(api, c, c.sizes[1])];
    cells.push(`${small.toFixed(2)} → ${large.toFixed(2)} (${(large / small).toFixed(1)})`);
  }
  const sizes = `${c.label(c.sizes[0])} → ${c.label(c.sizes[1])}`;
  rows.push(`| ${c.name}${c.perCall ? ' (µs per tenant)' : ''} | ${sizes} | ${cells.join(' | ')} |`);
  console.log(rows.at(-1));
}
const table = rows.join('\n');
if (!process.env.OMNIBUF_SCALING_RUNS) {
  const report = new URL('../../docs/bench-scaling.md', import.meta.url);
  writeReport(report, 'Scaling: one call against sizes it should not depend on', 'node --expose-gc js/bench/scaling.mjs', table);
}
