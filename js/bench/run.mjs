#!/usr/bin/env -S node --expose-gc
// `npm run bench`: the JS API's two implementations (the napi-rs addon and the wasm build) side by side
// with their Node and npm peers, in one run. Prints a Markdown table of ratios of median times and
// writes it to docs/bench-js.md. Needs the addon (`node node/build.mjs`), the wasm build
// (`bash scripts/build-wasm.sh`; without it its rows are left out) and the devDependency ringbuf.js
// (`npm install`).
//
//   npm run bench                  every group; writes docs/bench-js.md
//   npm run bench -- ring          only the groups whose name contains "ring" (prints, writes nothing);
//                                  the groups: ring, buffers, pool, vbuf
//   OMNIBUF_BENCH_QUICK=1 npm run bench    a short smoke run (prints, writes nothing)
//
// Compared:
// - ring: 64 KiB chunks through a 1 MiB ring from JS, writer (slices or write()) and reader (in place
//   or copying out) alternating in one thread, against ringbuf.js (push + pop); for the addon also
//   with the reader in a worker.
// - buffers: ZeroCopyBuffer.slice, freed at once or left to the GC, against Buffer.subarray, per call;
//   the length and sharers getters against a Buffer's length.
// - pool: BufferPool.tryAcquire + free against Buffer.allocUnsafe, per call.
// - vbuf: VirtualBuffer.open + read of the first 64 KiB of a 1 GiB file against fs.promises.readFile
//   of it, each sample in a child process (js/bench/vbuf-child.mjs): time and resident-memory growth.
//   The file is written (real bytes, not sparse) in a temporary directory and deleted afterwards.
import { execFileSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { closeSync, mkdtempSync, openSync, renameSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import { arch, availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { compare, formatGbps, formatNs, median, quick } from './harness.mjs';
import { CHUNKS, DONE, REQUEST } from './ring-reader.worker.mjs';

const CHUNK = 64 * 1024;
const RING = 1024 * 1024;

/** The addon (required) and the wasm build (its rows are left out, with a warning, when it is not built). */
async function loadImpls() {
  let addon;
  try {
    addon = await import('../node.mjs');
  } catch (e) {
    throw new Error(`omnibuf bench: ${e.message}; build it with \`node node/build.mjs\``, { cause: e });
  }
  try {
    return { addon, wasm: await import('../wasm-node.mjs') };
  } catch (e) {
    console.error(`omnibuf bench: no wasm build (${e.message}): its rows are left out`);
    return { addon, wasm: null };
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
    // Two threads, one waiting for the other: elapsed time (see harness.mjs).
    clock: 'wall',
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

/** Getters, per call: `length` (computed in JS in the addon) and `sharers` (one Node-API call
 * there), against a Buffer's `length`. The index varies so the JIT cannot hoist the read. */
function getterCases(implName, impl) {
  const zcs = [impl.ZeroCopyBuffer.from(source), impl.ZeroCopyBuffer.from(source.subarray(1))];
  const bufs = [Buffer.from(source), Buffer.from(source.subarray(1))];
  return [
    {
      name: `${implName} length`,
      run(ops) {
        let sum = 0;
        for (let i = 0; i < ops; i++) sum += zcs[i & 1].length;
        keep[0] = sum;
      },
    },
    {
      name: `${implName} sharers`,
      run(ops) {
        let sum = 0;
        for (let i = 0; i < ops; i++) sum += zcs[i & 1].sharers;
        keep[0] = sum;
      },
      close: () => zcs.forEach((z) => z.free()),
    },
    {
      name: 'Buffer length',
      run(ops) {
        let sum = 0;
        for (let i = 0; i < ops; i++) sum += bufs[i & 1].length;
        keep[0] = sum;
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
function row(group, caseName, timings, ours, peer, { goal = null, bytes = 0, format = null } = {}) {
  const [oursNs, theirsNs] = [timings.get(ours), timings.get(peer)];
  const r = { group, caseName, oursName: ours, ours: oursNs, peer, theirs: theirsNs, goal, bytes, format };
  r.ratio = oursNs / theirsNs;
  rows.push(r);
  const show = format ?? ((v) => describe(v, bytes));
  console.error(`  ${group} / ${caseName}: ${ours} ${show(r.ours)} vs ${peer} ${show(r.theirs)}: ${ratioText(r.ratio)}`);
}

/** A ratio with two significant digits below 0.01 (the vbuf rows' are), else two decimals. */
const ratioText = (ratio) => (ratio < 0.01 ? ratio.toPrecision(2) : ratio.toFixed(2));

/** A byte count in MiB, or KiB when small. */
const formatBytes = (n) => {
  const a = Math.abs(n);
  if (a >= 1024 ** 3) return `${(n / 1024 ** 3).toFixed(2)} GiB`;
  return a >= 1024 ** 2 ? `${(n / 1024 ** 2).toFixed(1)} MiB` : `${(n / 1024).toFixed(0)} KiB`;
};

function table() {
  const lines = [
    "| group | case | omnibuf | time | peer | peer's time | ratio (our time / peer's) | difference | goal | met |",
    '|---|---|---|---|---|---|---|---|---|---|',
  ];
  for (const r of rows) {
    const show = r.format ?? ((v) => describe(v, r.bytes));
    const diff = r.bytes || r.format ? '' : `${r.ours >= r.theirs ? '+' : '−'}${formatNs(Math.abs(r.ours - r.theirs))}`;
    const met = r.goal ? (r.goal.met(r) ? 'yes' : '**no**') : '';
    lines.push(
      `| ${r.group} | ${r.caseName} | ${r.oursName} | ${show(r.ours)} | ${r.peer} | ` +
        `${show(r.theirs)} | ${ratioText(r.ratio)} | ${diff} | ${r.goal?.text ?? '—'} | ${met} |`,
    );
  }
  return lines.join('\n');
}

console.error(`omnibuf JS bench${quick ? ' (quick: a smoke run, not results)' : ''}`);

/** The implementations that are built, by name. */
const built = [['addon', addon], ...(wasm ? [['wasm', wasm]] : [])];

if (wants('ring')) {
  const cases = [];
  for (const [name, impl] of built) {
    cases.push(
      omnibufRing(name, impl),
      omnibufRing(`${name} copy`, impl, { copyOut: true }),
      omnibufRing(`${name} write`, impl, { write: true }),
    );
  }
  const t = await compare([...cases, ringbufJsRing('ringbuf.js')]);
  const c = '64 KiB chunks, 1 MiB ring, one thread';
  const goal = ratioGoal(0.5);
  for (const [impl] of built) {
    row('ring', `${c}, slices, reader in place`, t, impl, 'ringbuf.js', { bytes: CHUNK, goal });
    row('ring', `${c}, slices, reader copies out`, t, `${impl} copy`, 'ringbuf.js', { bytes: CHUNK, goal });
    row('ring', `${c}, write(), reader in place`, t, `${impl} write`, 'ringbuf.js', { bytes: CHUNK, goal });
  }
  if (wasm) row('ring', `${c}, slices, reader in place`, t, 'addon', 'wasm', { bytes: CHUNK });
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
const implementations = [['addon', addon, overheadGoal(150)], ...(wasm ? [['wasm', wasm, null]] : [])];

for (const [implName, impl, goal] of wants('buffers') ? implementations : []) {
  const t = await compare(sliceCases(implName, impl));
  row('buffers', 'slice 1 KiB of 64 KiB + free', t, `${implName} slice`, 'Buffer.subarray', { goal });
  const left = `${implName} slice, no free`;
  row('buffers', 'slice 1 KiB of 64 KiB, left to the GC', t, left, 'Buffer.subarray', { goal });
  const g = await compare(getterCases(implName, impl));
  row('buffers', 'length getter', g, `${implName} length`, 'Buffer length', { goal });
  row('buffers', 'sharers getter', g, `${implName} sharers`, 'Buffer length');
}

for (const [implName, impl, goal] of wants('pool') ? implementations : []) {
  for (const size of [4096, 65536]) {
    const t = await compare(poolCases(implName, impl, size));
    row('pool', `tryAcquire + free, ${size / 1024} KiB`, t, `${implName} pool`, 'Buffer.allocUnsafe', { goal });
  }
}

/** The vbuf group's file: 1 GiB (64 MiB in quick mode) of random-looking bytes, written for real. */
const VBUF_FILE = quick ? 64 * 1024 * 1024 : 1024 * 1024 * 1024;
/** Child-process samples per case in the vbuf group (each a fresh process). */
const VBUF_SAMPLES = quick ? 3 : 7;

/** Writes `size` bytes to `path`: 1 MiB blocks of random bytes, each block different. Returns the
 * SHA-256 of the first 64 KiB. */
function writeBigFile(path, size) {
  const fd = openSync(path, 'w');
  let head = null;
  try {
    const block = randomBytes(1024 * 1024);
    for (let off = 0; off < size; off += block.length) {
      // A different block each time: a cheap shuffle of the random one, so no two are alike.
      block.writeUInt32LE(off >>> 20, 0);
      if (head === null) head = createHash('sha256').update(block.subarray(0, 64 * 1024)).digest('hex');
      writeSync(fd, block, 0, Math.min(block.length, size - off));
    }
  } finally {
    closeSync(fd);
  }
  return head;
}

if (wants('vbuf')) {
  const dir = mkdtempSync(join(tmpdir(), 'omnibuf-bench-'));
  // An interrupted run deletes the file too.
  const interrupted = (signal) => {
    rmSync(dir, { recursive: true, force: true });
    process.kill(process.pid, signal);
  };
  process.once('SIGINT', interrupted).once('SIGTERM', interrupted);
  try {
    const file = join(dir, 'big.bin');
    console.error(`  vbuf: writing a ${formatBytes(VBUF_FILE)} file in a temporary directory`);
    const head = writeBigFile(file, VBUF_FILE);
    const child = fileURLToPath(new URL('./vbuf-child.mjs', import.meta.url));
    const sample = (which) => {
      const out = execFileSync(process.execPath, ['--expose-gc', child, which, file], { encoding: 'utf8' });
      const result = JSON.parse(out.trim().split('\n').pop());
      if (result.head !== head) throw new Error(`omnibuf bench: ${which} did not read the file's first 64 KiB`);
      return result;
    };
    const samples = { vbuf: [], readFile: [] };
    // One of each first, unmeasured: the file's pages are then in the page cache for both alike.
    sample('vbuf');
    sample('readFile');
    for (let i = 0; i < VBUF_SAMPLES; i++) {
      for (const which of ['vbuf', 'readFile']) samples[which].push(sample(which));
    }
    const of = (key) =>
      new Map(Object.entries(samples).map(([which, list]) => [which, median(list.map((r) => r[key]))]));
    const c = `open + read(0, 64 KiB) of a ${formatBytes(VBUF_FILE)} file`;
    row('vbuf', `${c}: time`, of('ns'), 'vbuf', 'readFile', { goal: ratioGoal(0.01), format: formatNs });
    row('vbuf', `${c}: resident memory growth, peak`, of('peakGrowth'), 'vbuf', 'readFile', {
      goal: ratioGoal(0.1),
      format: formatBytes,
    });
    row('vbuf', `${c}: resident memory growth, holding the result`, of('rssGrowth'), 'vbuf', 'readFile', {
      format: formatBytes,
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
    process.off('SIGINT', interrupted).off('SIGTERM', interrupted);
  }
}

const header =
  `Measured by \`npm run bench\` on ${arch()} (${availableParallelism()} cores), Node ${process.versions.node}, ` +
  'one run. Times are medians per operation (one 64 KiB chunk written and read, or one call), in CPU ' +
  'time of the process (elapsed time for the worker row and the vbuf group), so that waiting for a core ' +
  "on a shared machine does not count; ratio = our median time / the peer's: below 1 we are faster; " +
  "difference = our time − the peer's, the per-call overhead over Node's own.";
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
  "- getters: `length` and `sharers` of a ZeroCopyBuffer against a Buffer's `length`, per read. In the " +
    'addon `length` is computed in JS (js/addon-zero-copy.mjs) and `sharers` adds a count kept in JS to ' +
    'one Node-API call (a fast path, node/src/platform/fast.rs), so their difference is the price of ' +
    'that call.',
  '- vbuf: `VirtualBuffer.open(path)` then `read(0, 65536)` (the addon; the wasm build has no ' +
    'VirtualBuffer) against `fs.promises.readFile(path)`, on a file of random bytes written for the run ' +
    'and deleted after it. Each sample is a fresh Node process (js/bench/vbuf-child.mjs) that times the ' +
    'operation and measures its resident set just before and after it (holding the result) and at its ' +
    'peak; medians of the samples, taken in turns. The file is in the page cache for both (an unmeasured ' +
    'sample of each goes first), so readFile is timed copying 1 GiB from memory, not from the disk.',
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
