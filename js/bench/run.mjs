#!/usr/bin/env -S node --expose-gc
// `npm run bench`: the JS API's two implementations (the napi-rs addon and the wasm build) side by side
// with their Node and npm peers, in one run. Prints a Markdown table of ratios of median times and
// writes it to docs/bench-js.md. Needs both builds (`bash scripts/build-wasm.sh`, `node node/build.mjs`)
// and the devDependency ringbuf.js (`npm install`).
//
//   npm run bench                  every group; writes docs/bench-js.md
//   npm run bench -- ring          only the groups whose name contains "ring" (prints, writes nothing)
//   OMNIBUF_BENCH_QUICK=1 npm run bench    a short smoke run (prints, writes nothing)
//
// Compared:
// - ring: 64 KiB chunks through a 1 MiB ring from JS, writer (slices or write()) and reader (in place
//   or copying out) alternating in one thread, against ringbuf.js (push + pop); for the addon also
//   with the reader in a worker.
// - buffers: ZeroCopyBuffer.slice, freed at once or left to the GC, against Buffer.subarray, per call.
// - pool: BufferPool.tryAcquire + free against Buffer.allocUnsafe, per call.
import { renameSync, writeFileSync } from 'node:fs';
import { arch, availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import { compare, formatGbps, formatNs, quick } from './harness.mjs';
import { CHUNKS, DONE, REQUEST } from './ring-reader.worker.mjs';

const CHUNK = 64 * 1024;
const RING = 1024 * 1024;

async function loadImpls() {
  const hint = 'build both with `bash scripts/build-wasm.sh && node node/build.mjs`';
  try {
    return { addon: await import('../node.mjs'), wasm: await import('../wasm-node.mjs') };
  } catch (e) {
    throw new Error(`omnibuf bench: ${e.message}; ${hint}`, { cause: e });
  }
}

async function loadRingbufJs() {
  try {
    return (await import('ringbuf.js')).RingBuffer;
  } catch (e) {
    throw new Error('omnibuf bench: the devDependency ringbuf.js is missing; run `npm install`', { cause: e });
  }
}

const filter = process.argv[2];
/** Whether the group named `group` was asked for. */
const wants = (group) => filter === undefined || group.includes(filter);

const { addon, wasm } = await loadImpls();
const RingBuffer = await loadRingbufJs();

/** Bytes that are not all alike, so a broken copy shows in the check. */
function pattern(length) {
  const bytes = new Uint8Array(length);
  for (let i = 0; i < length; i++) bytes[i] = (i * 31 + (i >>> 8)) & 0xff;
  return bytes;
}

const source = pattern(CHUNK);

/** Throws unless `actual` holds the source chunk: a benchmark of a broken ring measures nothing. */
function checkChunk(actual, what) {
  if (actual.length !== source.length || !actual.every((b, i) => b === source[i])) {
    throw new Error(`omnibuf bench: ${what} did not carry a chunk through intact`);
  }
}

// Results escape into this array so the JIT cannot drop the work whose result is unused.
const keep = new Array(64);

/** How long a ring case may go without progress before the benchmark gives up rather than hang. */
const STALL_NS = 60_000_000_000n;

/** A check to call while polling: throws once `STALL_NS` have passed since it was made. */
function stallGuard(what) {
  const deadline = process.hrtime.bigint() + STALL_NS;
  return () => {
    if (process.hrtime.bigint() > deadline) {
      throw new Error(`omnibuf bench: ${what} made no progress for a minute`);
    }
  };
}

/** Writes one chunk into an omnibuf ring through writable slices (filled in place, then produced).
 * With `poll` (a stall guard), an empty slice means a full ring and is retried; without, it is an
 * error, since a ring read as fast as it is written never fills. */
function writeChunkInSlices(writer, poll = null) {
  for (let off = 0; off < CHUNK; ) {
    const slice = writer.slice();
    const n = Math.min(slice.length, CHUNK - off);
    if (n === 0) {
      if (poll === null) throw new Error('omnibuf bench: the writer saw a full ring');
      poll();
      continue;
    }
    slice.set(off === 0 && n === CHUNK ? source : source.subarray(off, off + n));
    writer.produce(n);
    off += n;
  }
}

/** Writes one chunk into an omnibuf ring with write(), which copies and publishes in one call. */
function writeChunkWithWrite(writer) {
  for (let off = 0; off < CHUNK; ) off += writer.write(off === 0 ? source : source.subarray(off));
}

/** An omnibuf ring (addon or wasm), one chunk written then read per operation. The writer fills
 * writable slices, or with `write` calls write(); with `copyOut` the reader copies each chunk out, as
 * ringbuf.js's pop() does, and without it reads in place. */
function omnibufRing(name, impl, { write = false, copyOut = false } = {}) {
  const writeChunk = write ? writeChunkWithWrite : writeChunkInSlices;
  const writer = impl.Circular.withCapacity(RING);
  const reader = writer.addReader();
  const out = new Uint8Array(CHUNK);
  const readChunk = () => {
    for (let got = 0; got < CHUNK; ) {
      const view = reader.slice();
      if (view === null || view.length === 0) throw new Error('omnibuf bench: the reader found no chunk');
      const n = Math.min(view.length, CHUNK - got);
      if (copyOut) out.set(n === view.length ? view : view.subarray(0, n), got);
      else keep[got & 63] = view[n - 1];
      reader.consume(n);
      got += n;
    }
  };
  writeChunk(writer);
  readChunk();
  if (copyOut) checkChunk(out, name);
  return {
    name,
    run(ops) {
      for (let i = 0; i < ops; i++) {
        writeChunk(writer);
        readChunk();
      }
    },
    close() {
      reader.free();
      writer.free();
    },
  };
}

/** ringbuf.js over a SharedArrayBuffer of the same capacity: push() then pop() per operation. */
function ringbufJsRing(name) {
  const ring = new RingBuffer(RingBuffer.getStorageForCapacity(RING, Uint8Array), Uint8Array);
  const out = new Uint8Array(CHUNK);
  const move = () => {
    if (ring.push(source) !== CHUNK || ring.pop(out) !== CHUNK) throw new Error('ringbuf.js moved a short chunk');
  };
  move();
  checkChunk(out, name);
  return {
    name,
    run(ops) {
      for (let i = 0; i < ops; i++) move();
    },
  };
}

/** A ring whose reader runs in a worker (js/bench/ring-reader.worker.mjs); the main thread writes
 * `ops` chunks, polling when the ring is full, and waits until the worker has read them all. */
async function workerRing(name, kind) {
  const control = new SharedArrayBuffer(3 * Int32Array.BYTES_PER_ELEMENT);
  const ctl = new Int32Array(control);
  let write;
  let data;
  let freeWriter = () => {};
  if (kind === 'addon') {
    const writer = addon.Circular.withCapacity(RING);
    data = { handle: writer.addReader().toHandle() };
    write = (poll) => writeChunkInSlices(writer, poll);
    freeWriter = () => writer.free();
  } else {
    const storage = RingBuffer.getStorageForCapacity(RING, Uint8Array);
    const ring = new RingBuffer(storage, Uint8Array);
    data = { storage };
    write = (poll) => {
      for (let off = 0; off < CHUNK; ) {
        const n = ring.push(source, CHUNK - off, off);
        if (n === 0) poll();
        off += n;
      }
    };
  }
  const worker = new Worker(new URL('./ring-reader.worker.mjs', import.meta.url), {
    workerData: { kind, chunk: CHUNK, control, ...data },
  });
  const exited = new Promise((resolve, reject) => {
    worker.once('error', reject);
    worker.once('exit', resolve);
  });
  await new Promise((resolve, reject) => {
    worker.once('message', resolve);
    worker.once('error', reject);
  });
  let request = 0;
  return {
    name,
    exited,
    run(ops) {
      Atomics.store(ctl, CHUNKS, ops);
      Atomics.store(ctl, REQUEST, ++request);
      Atomics.notify(ctl, REQUEST);
      // A worker that died cannot say so while this thread spins: the guard ends the wait instead.
      const poll = stallGuard(`${name} with a reader in a worker`);
      for (let i = 0; i < ops; i++) write(poll);
      while (Atomics.load(ctl, DONE) !== request) poll();
    },
    close() {
      Atomics.store(ctl, REQUEST, -1);
      Atomics.notify(ctl, REQUEST);
      freeWriter();
    },
  };
}

/** ZeroCopyBuffer.slice (addon or wasm), freed at once or left to the garbage collector, against
 * Buffer.subarray of the same range. */
function sliceCases(implName, impl) {
  const zc = impl.ZeroCopyBuffer.from(source);
  const buf = Buffer.from(source);
  return [
    {
      name: `${implName} slice`,
      run(ops) {
        for (let i = 0; i < ops; i++) {
          const s = zc.slice(16, 1040);
          keep[i & 63] = s;
          s.free();
        }
      },
    },
    {
      name: `${implName} slice, no free`,
      run(ops) {
        for (let i = 0; i < ops; i++) keep[i & 63] = zc.slice(16, 1040);
      },
      // Both slice cases use zc; compare() closes cases only after every sample.
      close: () => zc.free(),
    },
    {
      name: 'Buffer.subarray',
      run(ops) {
        for (let i = 0; i < ops; i++) keep[i & 63] = buf.subarray(16, 1040);
      },
    },
  ];
}

/** BufferPool.tryAcquire + free (addon or wasm) against Buffer.allocUnsafe, for one size. */
function poolCases(implName, impl, size) {
  const pool = new impl.BufferPool({ budget: 64 * 1024 * 1024 });
  return [
    {
      name: `${implName} pool`,
      run(ops) {
        for (let i = 0; i < ops; i++) {
          const b = pool.tryAcquire(size);
          keep[i & 63] = b;
          b.free();
        }
      },
      close: () => pool.free(),
    },
    {
      name: 'Buffer.allocUnsafe',
      run(ops) {
        for (let i = 0; i < ops; i++) keep[i & 63] = Buffer.allocUnsafe(size);
      },
    },
  ];
}

const rows = [];
const ratioGoal = (bound) => ({ text: `ratio ≤ ${bound.toFixed(2)}`, met: (r) => r.ratio <= bound });
const overheadGoal = (ns) => ({ text: `difference ≤ ${ns} ns`, met: (r) => r.ours - r.theirs <= ns });

/** A median time per operation, with the throughput when the operation moves `bytes`. */
const describe = (ns, bytes) => (bytes ? `${formatNs(ns)} (${formatGbps(bytes, ns)})` : formatNs(ns));

/** Records case `ours` against case `peer`, both timed in `timings` (ns per operation, `bytes` moved
 * per operation). */
function row(group, caseName, timings, ours, peer, { goal = null, bytes = 0 } = {}) {
  const [oursNs, theirsNs] = [timings.get(ours), timings.get(peer)];
  const r = { group, caseName, oursName: ours, ours: oursNs, peer, theirs: theirsNs, goal, bytes };
  r.ratio = oursNs / theirsNs;
  rows.push(r);
  console.error(
    `  ${group} / ${caseName}: ${ours} ${describe(r.ours, bytes)} vs ${peer} ${describe(r.theirs, bytes)}: ` +
      r.ratio.toFixed(2),
  );
}

function table() {
  const lines = [
    "| group | case | omnibuf | time | peer | peer's time | ratio (our time / peer's) | difference | goal | met |",
    '|---|---|---|---|---|---|---|---|---|---|',
  ];
  for (const r of rows) {
    const diff = r.bytes ? '' : `${r.ours >= r.theirs ? '+' : '−'}${formatNs(Math.abs(r.ours - r.theirs))}`;
    const met = r.goal ? (r.goal.met(r) ? 'yes' : '**no**') : '';
    lines.push(
      `| ${r.group} | ${r.caseName} | ${r.oursName} | ${describe(r.ours, r.bytes)} | ${r.peer} | ` +
        `${describe(r.theirs, r.bytes)} | ${r.ratio.toFixed(2)} | ${diff} | ${r.goal?.text ?? '—'} | ${met} |`,
    );
  }
  return lines.join('\n');
}

console.error(`omnibuf JS bench${quick ? ' (quick: a smoke run, not results)' : ''}`);

if (wants('ring')) {
  const t = await compare([
    omnibufRing('addon', addon),
    omnibufRing('addon copy', addon, { copyOut: true }),
    omnibufRing('addon write', addon, { write: true }),
    omnibufRing('wasm', wasm),
    omnibufRing('wasm copy', wasm, { copyOut: true }),
    omnibufRing('wasm write', wasm, { write: true }),
    ringbufJsRing('ringbuf.js'),
  ]);
  const c = '64 KiB chunks, 1 MiB ring, one thread';
  const goal = ratioGoal(0.5);
  for (const impl of ['addon', 'wasm']) {
    row('ring', `${c}, slices, reader in place`, t, impl, 'ringbuf.js', { bytes: CHUNK, goal });
    row('ring', `${c}, slices, reader copies out`, t, `${impl} copy`, 'ringbuf.js', { bytes: CHUNK, goal });
    row('ring', `${c}, write(), reader in place`, t, `${impl} write`, 'ringbuf.js', { bytes: CHUNK, goal });
  }
  row('ring', `${c}, slices, reader in place`, t, 'addon', 'wasm', { bytes: CHUNK });
}

if (wants('ring')) {
  const cases = [await workerRing('addon', 'addon'), await workerRing('ringbuf.js', 'ringbuf.js')];
  const t = await compare(cases);
  await Promise.all(cases.map((c) => c.exited));
  // No goal here: ringbuf.js has no blocking wait, so its worker polls, and on a busy 2-core machine
  // two polling threads lose whole scheduler slices to each other; this row measures that as much as
  // the rings.
  row('ring', '64 KiB chunks, 1 MiB ring, reader in a worker', t, 'addon', 'ringbuf.js', { bytes: CHUNK });
}

// The per-call goal is the addon's; the wasm build is shown for comparison.
const implementations = [
  ['addon', addon, overheadGoal(150)],
  ['wasm', wasm, null],
];

for (const [implName, impl, goal] of wants('buffers') ? implementations : []) {
  const t = await compare(sliceCases(implName, impl));
  row('buffers', 'slice 1 KiB of 64 KiB + free', t, `${implName} slice`, 'Buffer.subarray', { goal });
  const left = `${implName} slice, no free`;
  row('buffers', 'slice 1 KiB of 64 KiB, left to the GC', t, left, 'Buffer.subarray', { goal });
}

for (const [implName, impl, goal] of wants('pool') ? implementations : []) {
  for (const size of [4096, 65536]) {
    const t = await compare(poolCases(implName, impl, size));
    row('pool', `tryAcquire + free, ${size / 1024} KiB`, t, `${implName} pool`, 'Buffer.allocUnsafe', { goal });
  }
}

const header =
  `Measured by \`npm run bench\` on ${arch()} (${availableParallelism()} cores), Node ${process.versions.node}, ` +
  'one run. Times are medians per operation (one 64 KiB chunk written and read, or one call); ratio = our ' +
  "median time / the peer's: below 1 we are faster; difference = our time − the peer's, the per-call " +
  "overhead over Node's own.";
const notes = [
  'Notes:',
  '- ring, one thread: per operation the writer puts a 64 KiB source chunk in, by filling writable ' +
    'slices and producing them ("slices") or with write(), then the reader takes it: in place (reads ' +
    "one byte of each view) or copied out into a 64 KiB array, which is what ringbuf.js's pop() always " +
    'does; ringbuf.js runs push() + pop().',
  "- ring, reader in a worker: the main thread writes (polling while the ring is full); the addon's " +
    "reader waits with sliceSync(), ringbuf.js's reader polls pop(), as it has no blocking wait. Two " +
    'polling threads on a busy 2-core machine lose whole scheduler slices to each other, so this row ' +
    'moves a lot between runs and has no goal.',
  '- buffers: slice(16, 1040), then free() of the slice or not (the garbage collector frees it), ' +
    'against Buffer.subarray(16, 1040) left to the garbage collector. pool: tryAcquire(size) then ' +
    'free(), from a 64 MiB pool, against Buffer.allocUnsafe(size) left to the garbage collector.',
];
const markdown = `${header}\n\n${table()}\n\n${notes.join('\n')}\n`;
console.log(markdown);
if (quick || filter !== undefined) process.exit(0);
// Written under a temporary name and renamed, so an interrupted run never leaves half a table.
const target = new URL('../../docs/bench-js.md', import.meta.url);
const partial = new URL(`../../docs/.bench-js.md.${process.pid}.tmp`, import.meta.url);
writeFileSync(partial, markdown);
renameSync(partial, target);
console.error('wrote docs/bench-js.md');
