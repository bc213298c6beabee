// 1 GiB from a producer to a consumer through Node streams: omnibuf's ring as a Writable and a
// Readable (stream.pipeline on both sides) vs one stream.PassThrough, side by side, runs alternating.
// Every run checks the bytes (SHA-256 on both sides) and samples the resident memory.
//
//   node --expose-gc js/bench/streams.mjs            addon (and the wasm build if pkg/node exists)
//   OMNIBUF_STREAM_MIB=64 node js/bench/streams.mjs  a smaller run
//
// Prints a Markdown table (ratio = our median time / PassThrough's; below 1 we are faster) and writes
// it to docs/bench-streams.md.
import { createHash, randomFillSync } from 'node:crypto';
import { existsSync, writeFileSync } from 'node:fs';
import { PassThrough, Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';

const TOTAL = Number(process.env.OMNIBUF_STREAM_MIB ?? 1024) << 20;
const CHUNK = 64 << 10;
const RING = 1 << 20;
const RUNS = 5;

const block = randomFillSync(new Uint8Array(CHUNK));
const expected = (() => {
  const hash = createHash('sha256');
  for (let i = 0; i < TOTAL / CHUNK; i++) hash.update(block);
  return hash.digest('hex');
})();

/** The producer: TOTAL bytes as CHUNK-sized Buffers (each a fresh copy, as a real source makes). */
const produce = () =>
  Readable.from(
    (function* () {
      for (let i = 0; i < TOTAL / CHUNK; i++) yield Buffer.from(block);
    })(),
  );

/** The consumer: hashes what arrives; resolves to the digest. */
function consume() {
  const hash = createHash('sha256');
  const sink = new Writable({
    write(chunk, _encoding, callback) {
      hash.update(chunk);
      callback();
    },
  });
  return { sink, digest: () => hash.digest('hex') };
}

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

async function throughRing(api) {
  const writer = api.Circular.withCapacity(RING);
  const reader = writer.addReader();
  const { sink, digest } = consume();
  await Promise.all([pipeline(produce(), writer.nodeWritable()), pipeline(reader.nodeReadable(), sink)]);
  if (digest() !== expected) throw new Error('the ring delivered other bytes');
}

async function throughPassThrough() {
  const { sink, digest } = consume();
  await pipeline(produce(), new PassThrough(), sink);
  if (digest() !== expected) throw new Error('PassThrough delivered other bytes');
}

const contenders = [['addon', await import('../node.mjs')]];
if (existsSync(new URL('../../pkg/node/omnibuf.js', import.meta.url))) {
  contenders.push(['wasm build', await import('../wasm-node.mjs')]);
}
const results = new Map([['PassThrough', []], ...contenders.map(([name]) => [name, []])]);
for (let run = 0; run < RUNS; run++) {
  results.get('PassThrough').push(await measure(throughPassThrough));
  for (const [name, api] of contenders) results.get(name).push(await measure(() => throughRing(api)));
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const peer = median(results.get('PassThrough').map((r) => r.ms));
const lines = [
  `${TOTAL >> 20} MiB, ${CHUNK >> 10} KiB chunks, ${RING >> 20} MiB ring; medians of ${RUNS} alternating runs`,
  '',
  '| contender | time | ratio (time / PassThrough) | goal | peak RSS growth |',
  '|---|---|---|---|---|',
];
for (const [name, runs] of results) {
  const ms = median(runs.map((r) => r.ms));
  const rss = Math.max(...runs.map((r) => r.rssMiB));
  const goal = name === 'PassThrough' ? '' : `≤ 0.50: ${ms / peer <= 0.5 ? 'met' : 'missed'}`;
  lines.push(`| ${name} | ${ms.toFixed(0)} ms | ${(ms / peer).toFixed(2)} | ${goal} | ${rss.toFixed(1)} MiB |`);
}
const table = lines.join('\n');
console.log(table);
if (!process.env.OMNIBUF_STREAM_MIB) {
  writeFileSync(new URL('../../docs/bench-streams.md', import.meta.url), `# Node streams: ring vs PassThrough\n\n\`node --expose-gc js/bench/streams.mjs\`\n\n${table}\n`);
}
