// What a ring wait served on its own thread costs, in both builds: one round of writer.slice() +
// produce() + reader.slice() + consume() on a 4 KiB ring, with and without a writer.sliceAsync() that
// the reader's consume() serves, and for scale one turn of the event loop (setImmediate) and one
// microtask. Rounds alternate between the cases; the median of several samples per case is printed.
//
//   node js/bench/waits.mjs          addon (and the wasm build if pkg/node exists)
import { existsSync } from 'node:fs';
import { median } from './harness.mjs';

const ROUNDS = 20_000;
const SAMPLES = 7;

/** The cases of one build: each does one round and returns a Promise when it waits. */
function cases(name, api) {
  const writer = api.Circular.withCapacity(4096);
  const reader = writer.addReader();
  const fill = () => writer.produce(writer.slice().length);
  const drain = () => reader.consume(reader.slice().length);
  return [
    [`${name}: no wait`, () => {
      fill();
      drain();
    }],
    [`${name}: wait served at once`, async () => {
      writer.produce((await writer.sliceAsync()).length);
      drain();
    }],
    [`${name}: wait served by this thread`, async () => {
      fill();
      const room = writer.sliceAsync();
      drain();
      await room;
    }],
  ];
}

const builds = [['addon', await import('../node.mjs')]];
if (existsSync(new URL('../../pkg/node/omnibuf.js', import.meta.url))) {
  builds.push(['wasm build', await import('../wasm-node.mjs')]);
}
const all = [
  ...builds.flatMap(([name, api]) => cases(name, api)),
  ['a turn of the event loop (setImmediate)', () => new Promise((resolve) => setImmediate(resolve))],
  ['a microtask (await)', () => Promise.resolve()],
];
const samples = new Map(all.map(([name]) => [name, []]));
for (let s = 0; s < SAMPLES; s++) {
  for (const [name, round] of all) {
    const start = process.hrtime.bigint();
    for (let i = 0; i < ROUNDS; i++) await round();
    samples.get(name).push(Number(process.hrtime.bigint() - start) / ROUNDS / 1e3);
  }
}
console.log(`| case | µs per round (median of ${SAMPLES} samples of ${ROUNDS}) |`);
console.log('|---|---|');
for (const [name, times] of samples) console.log(`| ${name} | ${median(times).toFixed(2)} |`);
