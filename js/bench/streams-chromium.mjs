// 1 GiB from a producer to a consumer on one thread in headless Chromium, side by side, runs alternating:
//   TransformStream  the producer's chunks through one TransformStream
//   nothing between  the consumer reads the producer's stream itself: the producer's and the
//                    consumer's own work, which every stream row pays besides its transport
//   copying TransformStream
//                    a TransformStream that enqueues a copy of each chunk: the least a transport
//                    pays that, like a ring, does not hand the producer's own chunks on
//   ring streams     the same chunks through the ring's WritableStream and out of its byte
//                    ReadableStream (BYOB reads)
//   ring in place    the producer fills the ring's free bytes (writer.slice() + produce()) and the
//                    consumer walks reader.slices() with `for await`, no stream in between (the
//                    build copies through its staging memory: a view of wasm memory could not be
//                    taken back from JS)
// Every consumer counts the bytes and checks one byte in every 4 KiB of each piece against the pattern.
//
//   node js/bench/streams-chromium.mjs               (after bash scripts/build-wasm.sh)
//   OMNIBUF_STREAM_MIB=64 node js/bench/streams-chromium.mjs   a smaller run, prints only
//
// Prints a Markdown table (ratio = our median time / the TransformStream's; below 1 we are faster) and
// writes it over the first table of docs/bench-streams-chromium.md.
import { serve } from '../../scripts/serve-web.mjs';
import { launchChromium } from '../chromium.mjs';
import { median, writeReport } from './harness.mjs';

const MIB = Number(process.env.OMNIBUF_STREAM_MIB ?? 1024);
const RUNS = 5;

const { url, server } = await serve(0);
const browser = await launchChromium();
let times;
try {
  const page = await browser.newPage();
  await page.goto(url);
  times = await page.evaluate(
    async ({ mib, runs }) => {
      const { init, Circular } = await import('/js/web.mjs');
      const { produceInPlace } = await import('/js/bench/ring-in-place.mjs');
      await init();
      const CHUNK = 64 << 10;
      const total = mib << 20;
      const chunks = total / CHUNK;
      const block = new Uint8Array(CHUNK).map((_, i) => i * 7);
      // The producer of the stream rows: chunks of fresh memory, as a real source makes them.
      const source = () => {
        let i = 0;
        return new ReadableStream({
          pull(controller) {
            if (i++ === chunks) return controller.close();
            controller.enqueue(block.slice());
          },
        });
      };
      /** The consumers' check: the bytes are counted, one in every 4 KiB compared with the pattern. */
      const checker = () => {
        let received = 0;
        return {
          check(bytes) {
            for (let at = 0; at < bytes.length; at += 4096) {
              if (bytes[at] !== block[(received + at) % CHUNK]) throw new Error(`wrong byte at ${received + at}`);
            }
            received += bytes.length;
          },
          get received() {
            return received;
          },
        };
      };
      /** Reads everything from `readable`, BYOB where it can; returns the byte count. */
      const drain = async (readable, byob) => {
        const count = checker();
        if (byob) {
          const reader = readable.getReader({ mode: 'byob' });
          let buffer = new ArrayBuffer(CHUNK);
          for (;;) {
            const { value, done } = await reader.read(new Uint8Array(buffer));
            if (done) return count.received;
            count.check(value);
            buffer = value.buffer;
          }
        }
        for await (const chunk of readable) count.check(chunk);
        return count.received;
      };
      const ringStreams = async () => {
        const writer = Circular.withCapacity(1 << 20);
        const readable = writer.addReader().readableStream();
        const [, received] = await Promise.all([source().pipeTo(writer.writableStream()), drain(readable, true)]);
        return received;
      };
      const ringInPlace = async () => {
        const writer = Circular.withCapacity(1 << 20);
        const reader = writer.addReader();
        const consume = async () => {
          const count = checker();
          for await (const slice of reader.slices()) count.check(slice);
          return count.received;
        };
        const [, received] = await Promise.all([produceInPlace(writer, block, total), consume()]);
        return received;
      };
      const transform = async () => {
        const { readable, writable } = new TransformStream();
        const [, received] = await Promise.all([source().pipeTo(writable), drain(readable, false)]);
        return received;
      };
      const copyingTransform = async () => {
        const { readable, writable } = new TransformStream({
          transform(chunk, controller) {
            controller.enqueue(chunk.slice());
          },
        });
        const [, received] = await Promise.all([source().pipeTo(writable), drain(readable, false)]);
        return received;
      };
      const straight = () => drain(source(), false);
      const runners = { transform, straight, copyingTransform, ringStreams, ringInPlace };
      const out = Object.fromEntries(Object.keys(runners).map((name) => [name, []]));
      for (let r = 0; r < runs; r++) {
        for (const [name, run] of Object.entries(runners)) {
          const start = performance.now();
          const received = await run();
          out[name].push(performance.now() - start);
          if (received !== total) throw new Error(`${name} delivered ${received} bytes`);
        }
      }
      return out;
    },
    { mib: MIB, runs: RUNS },
  );
} finally {
  await browser.close();
  server.close();
}

const theirs = median(times.transform);
/** A row of the table; `goal` says what a row that is no contender of ours is (else the goal, met or
 * missed). */
const row = (name, runs, goal) => {
  const ratio = median(runs) / theirs;
  return `| ${name} | ${median(runs).toFixed(0)} ms | ${ratio.toFixed(2)} | ${goal ?? `≤ 0.50: ${ratio <= 0.5 ? 'met' : 'missed'}`} |`;
};
const table = [
  `${MIB} MiB in 64 KiB chunks, 1 MiB ring, bytes counted and sampled on arrival; medians of ${RUNS} alternating runs in headless Chromium`,
  '',
  '| contender | time | ratio (time / TransformStream) | goal |',
  '|---|---|---|---|',
  `| TransformStream | ${theirs.toFixed(0)} ms | 1.00 | |`,
  row('nothing between', times.straight, '— (producer and consumer alone)'),
  row('copying TransformStream', times.copyingTransform, '— (one copy per chunk, no ring)'),
  row('omnibuf ring (wasm): streams', times.ringStreams),
  row('omnibuf ring (wasm): in place', times.ringInPlace),
].join('\n');
console.log(table);
if (!process.env.OMNIBUF_STREAM_MIB) {
  const report = new URL('../../docs/bench-streams-chromium.md', import.meta.url);
  writeReport(report, 'WHATWG streams in Chromium: ring vs TransformStream', 'node js/bench/streams-chromium.mjs', table);
}
