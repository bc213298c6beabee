// 1 GiB from a producer to a consumer through WHATWG streams in headless Chromium: omnibuf's ring (its
// WritableStream in, its byte ReadableStream out, BYOB reads) vs one TransformStream, runs alternating.
//
//   node js/bench/streams-chromium.mjs               (after bash scripts/build-wasm.sh)
//   OMNIBUF_STREAM_MIB=64 node js/bench/streams-chromium.mjs   a smaller run, prints only
//
// Prints a Markdown table (ratio = our median time / the TransformStream's; below 1 we are faster) and
// writes it to docs/bench-streams-chromium.md.
import { writeFileSync } from 'node:fs';
import { serve } from '../../scripts/serve-web.mjs';
import { launchChromium } from '../chromium.mjs';

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
      await init();
      const CHUNK = 64 << 10;
      const chunks = (mib << 20) / CHUNK;
      const block = new Uint8Array(CHUNK).map((_, i) => i * 7);
      // The producer: chunks of fresh memory, as a real source makes them.
      const source = () => {
        let i = 0;
        return new ReadableStream({
          pull(controller) {
            if (i++ === chunks) return controller.close();
            controller.enqueue(block.slice());
          },
        });
      };
      /** The consumer: reads everything from `readable`, BYOB where it can; returns the byte count. */
      const drain = async (readable, byob) => {
        let total = 0;
        if (byob) {
          const reader = readable.getReader({ mode: 'byob' });
          let buffer = new ArrayBuffer(CHUNK);
          for (;;) {
            const { value, done } = await reader.read(new Uint8Array(buffer));
            if (done) return total;
            total += value.length;
            buffer = value.buffer;
          }
        }
        for await (const chunk of readable) total += chunk.length;
        return total;
      };
      const ring = async () => {
        const writer = Circular.withCapacity(1 << 20);
        const readable = writer.addReader().readableStream();
        const [, total] = await Promise.all([source().pipeTo(writer.writableStream()), drain(readable, true)]);
        return total;
      };
      const transform = async () => {
        const { readable, writable } = new TransformStream();
        const [, total] = await Promise.all([source().pipeTo(writable), drain(readable, false)]);
        return total;
      };
      const out = { ring: [], transform: [] };
      for (let r = 0; r < runs; r++) {
        for (const [name, run] of [['transform', transform], ['ring', ring]]) {
          const start = performance.now();
          const total = await run();
          out[name].push(performance.now() - start);
          if (total !== mib << 20) throw new Error(`${name} delivered ${total} bytes`);
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

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const [ours, theirs] = [median(times.ring), median(times.transform)];
const table = [
  `${MIB} MiB in 64 KiB chunks, 1 MiB ring; medians of ${RUNS} alternating runs in headless Chromium`,
  '',
  '| contender | time | ratio (time / TransformStream) | goal |',
  '|---|---|---|---|',
  `| TransformStream | ${theirs.toFixed(0)} ms | 1.00 | |`,
  `| omnibuf ring (wasm) | ${ours.toFixed(0)} ms | ${(ours / theirs).toFixed(2)} | ≤ 0.50: ${ours / theirs <= 0.5 ? 'met' : 'missed'} |`,
].join('\n');
console.log(table);
if (!process.env.OMNIBUF_STREAM_MIB) {
  writeFileSync(new URL('../../docs/bench-streams-chromium.md', import.meta.url), `# WHATWG streams in Chromium: ring vs TransformStream\n\n\`node js/bench/streams-chromium.mjs\`\n\n${table}\n`);
}
