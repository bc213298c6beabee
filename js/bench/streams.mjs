// 1 GiB from a producer to a consumer on one thread, side by side, runs alternating:
//   PassThrough      the producer's Buffers through one stream.PassThrough into a Writable
//   nothing between  the producer's Buffers straight into the consumer: the producer's and the
//                    consumer's own work, which every stream row pays besides its transport
//   copying Transform
//                    a Transform that hands on a copy of each Buffer: the least a transport pays
//                    that, like a ring, does not hand the producer's own chunk objects on (a
//                    Readable's consumer may keep what it is given, so each chunk is fresh memory)
//   <build> streams  the same Buffers through the ring's nodeWritable() and out of its nodeReadable()
//   <build> in place the producer fills the ring's free bytes (writer.slice() + produce()) and the
//                    consumer walks reader.slices() with `for await`: in the addon neither copies
//                    nor allocates; the wasm build copies through its staging memory (a view of wasm
//                    memory could not be taken back from JS)
// Every consumer checks every byte it gets against the pattern sent (a memcmp per piece, the same work
// on every side) and counts them; the resident memory is sampled during each run.
//
//   node --expose-gc js/bench/streams.mjs            addon (and the wasm build if pkg/node exists)
//   OMNIBUF_STREAM_MIB=64 node js/bench/streams.mjs  a smaller run
//
// Prints a Markdown table (ratio = our median time / PassThrough's; below 1 we are faster) and writes
// it over the first table of docs/bench-streams.md.
import { randomFillSync } from 'node:crypto';
import { existsSync } from 'node:fs';
import { PassThrough, Readable, Transform, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { median, writeReport } from './harness.mjs';
import { produceInPlace } from './ring-in-place.mjs';

const TOTAL = Number(process.env.OMNIBUF_STREAM_MIB ?? 1024) << 20;
const CHUNK = 64 << 10;
const RING = 1 << 20;
const RUNS = 5;

const block = randomFillSync(Buffer.alloc(CHUNK));
/** The pattern twice, so that any piece of at most CHUNK bytes at any offset is one range of it. */
const twice = Buffer.concat([block, block]);

/** The producer of the stream rows: TOTAL bytes as CHUNK-sized Buffers (each a fresh copy, as a
 * real source makes). */
const produce = () =>
  Readable.from(
    (function* () {
      for (let i = 0; i < TOTAL / CHUNK; i++) yield Buffer.from(block);
    })(),
  );

/** The consumers' check: `check(bytes)` compares bytes with the pattern at the stream's offset;
 * `end()` throws unless exactly TOTAL matching bytes arrived. */
function checker(name) {
  let received = 0;
  let mismatches = 0;
  return {
    check(bytes) {
      for (let at = 0; at < bytes.length; ) {
        const from = received % CHUNK;
        const n = Math.min(CHUNK, bytes.length - at);
        if (twice.compare(bytes, at, at + n, from, from + n) !== 0) mismatches++;
        received += n;
        at += n;
      }
    },
    end() {
      if (mismatches > 0 || received !== TOTAL) {
        throw new Error(`${name} delivered ${received} bytes, ${mismatches} pieces of them wrong`);
      }
    },
  };
}

/** A Writable that checks what arrives. */
const checkingSink = ({ check }) =>
  new Writable({
    write(chunk, _encoding, callback) {
      check(chunk);
      callback();
    },
  });

/** Runs `body`, returning its elapsed milliseconds and the peak RSS growth in MiB. */
async function measure(body) {
  globalThis.gc?.();
  const base = process.memoryUsage.rss();
  let peak = base;
  const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage.rss())), 5);
  const start = process.hrtime.bigint();
  await body();
  const ms = Number(process.hrtime.bigint() - start) / 1e6;
  clearInterval(sampler);
  peak = Math.max(peak, process.memoryUsage.rss());
  return { ms, rssMiB: (peak - base) / 2 ** 20 };
}

async function throughPassThrough() {
  const check = checker('PassThrough');
  await pipeline(produce(), new PassThrough(), checkingSink(check));
  check.end();
}

async function straightThrough() {
  const check = checker('nothing between');
  await pipeline(produce(), checkingSink(check));
  check.end();
}

async function throughCopyingTransform() {
  const check = checker('copying Transform');
  const copying = new Transform({
    transform(chunk, _encoding, callback) {
      callback(null, Buffer.from(chunk));
    },
  });
  await pipeline(produce(), copying, checkingSink(check));
  check.end();
}

async function throughRingStreams(api) {
  const writer = api.Circular.withCapacity(RING);
  const reader = writer.addReader();
  const check = checker('the ring streams');
  await Promise.all([pipeline(produce(), writer.nodeWritable()), pipeline(reader.nodeReadable(), checkingSink(check))]);
  check.end();
}

async function throughRingInPlace(api) {
  const writer = api.Circular.withCapacity(RING);
  const reader = writer.addReader();
  const check = checker('the ring in place');
  const consume = async () => {
    for await (const slice of reader.slices()) check.check(slice);
  };
  await Promise.all([produceInPlace(writer, block, TOTAL), consume()]);
  check.end();
}

const builds = [['addon', await import('../node.mjs')]];
if (existsSync(new URL('../../pkg/node/omnibuf.js', import.meta.url))) {
  builds.push(['wasm build', await import('../wasm-node.mjs')]);
}
const contenders = [
  ['PassThrough', throughPassThrough],
  ['nothing between', straightThrough],
  ['copying Transform', throughCopyingTransform],
  ...builds.map(([name, api]) => [`${name}: streams`, () => throughRingStreams(api)]),
  ...builds.map(([name, api]) => [`${name}: in place`, () => throughRingInPlace(api)]),
];
/** The rows that are no contender of ours, and what the goal column says of them. */
const REFERENCES = new Map([
  ['PassThrough', ''],
  ['nothing between', '— (producer and consumer alone)'],
  ['copying Transform', '— (one copy per chunk, no ring)'],
]);
const results = new Map(contenders.map(([name]) => [name, []]));
for (let run = 0; run < RUNS; run++) {
  for (const [name, body] of contenders) results.get(name).push(await measure(body));
}

const peer = median(results.get('PassThrough').map((r) => r.ms));
const lines = [
  `${TOTAL >> 20} MiB, ${CHUNK >> 10} KiB chunks, ${RING >> 20} MiB ring, every byte compared on arrival; ` +
    `medians of ${RUNS} alternating runs`,
  '',
  '| contender | time | ratio (time / PassThrough) | goal | peak RSS growth |',
  '|---|---|---|---|---|',
];
for (const [name, runs] of results) {
  const ms = median(runs.map((r) => r.ms));
  const rss = Math.max(...runs.map((r) => r.rssMiB));
  const goal = REFERENCES.get(name) ?? `≤ 0.50: ${ms / peer <= 0.5 ? 'met' : 'missed'}`;
  lines.push(`| ${name} | ${ms.toFixed(0)} ms | ${(ms / peer).toFixed(2)} | ${goal} | ${rss.toFixed(1)} MiB |`);
}
const table = lines.join('\n');
console.log(table);
if (!process.env.OMNIBUF_STREAM_MIB) {
  const report = new URL('../../docs/bench-streams.md', import.meta.url);
  writeReport(report, 'Node streams: ring vs PassThrough', 'node --expose-gc js/bench/streams.mjs', table);
}
