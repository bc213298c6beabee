// `npm run bench:browser-rings`: omnibuf's ring across browser threads (the threaded build on a
// cross-origin isolated page) vs ringbuf.js over a SharedArrayBuffer, in headless Chromium, side by
// side in one run: page → worker and worker → worker, messages of 64 B and 64 KiB through 1 MiB
// rings. The producer copies each message into the ring and publishes it; the consumer takes each in
// turn (omnibuf in place, ringbuf.js by pop(), its only way to read). Workers wait in sliceSync()
// (omnibuf) or poll (ringbuf.js cannot wait); the page polls with both.
//
//   npm run bench:browser-rings                 builds the wasm, prints, writes docs/bench-rings-chromium.md
//   OMNIBUF_BENCH_QUICK=1 node js/bench/rings-chromium.mjs   a short run that only prints
//
// Ratio = omnibuf's median time / ringbuf.js's (below 1 omnibuf is faster).
import { writeFileSync } from 'node:fs';
import { availableParallelism, loadavg } from 'node:os';
import { serve } from '../../scripts/serve-web.mjs';
import { launchChromium } from '../chromium.mjs';

const quick = process.env.OMNIBUF_BENCH_QUICK === '1';
const RUNS = quick ? 3 : 5;
const CASES = [
  { from: 'page', chunk: 64, total: (quick ? 2 : 8) << 20, goal: 0.5 },
  { from: 'page', chunk: 64 << 10, total: (quick ? 32 : 128) << 20, goal: 0.2 },
  { from: 'worker', chunk: 64, total: (quick ? 2 : 8) << 20, goal: 0.5 },
  { from: 'worker', chunk: 64 << 10, total: (quick ? 32 : 128) << 20, goal: 0.2 },
];

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const size = (n) => (n >= 1 << 20 ? `${n >> 20} MiB` : n >= 1024 ? `${n >> 10} KiB` : `${n} B`);

// Polling threads lose most when the machine has fewer free cores than spinning threads: the load at
// the start goes into the report.
const load = loadavg()[0].toFixed(1);
const { origin, server } = await serve(0, { also: ['node_modules/ringbuf.js/dist/'] });
const browser = await launchChromium();
const rows = [];
try {
  const page = await browser.newPage();
  page.on('pageerror', (e) => console.error(e));
  await page.goto(`${origin}/js/bench/rings-threads/index.html`);
  await page.waitForSelector('body[data-ready="true"]', { state: 'attached' });
  if (!(await page.evaluate(() => window.ringBench.threaded))) throw new Error('the page did not load the threaded build');
  for (const c of CASES) {
    const times = await page.evaluate((c) => window.ringBench.bench({ ...c, runs: c.runs }), { ...c, runs: RUNS });
    const ours = median(times.omnibuf);
    const theirs = median(times['ringbuf.js']);
    const gbps = (ms) => ((c.total / (ms / 1000)) / 1e9).toFixed(2);
    const row = {
      case: `${c.from} → worker, ${size(c.chunk)} messages`,
      ours: `${ours.toFixed(1)} ms (${gbps(ours)} GB/s)`,
      theirs: `${theirs.toFixed(1)} ms (${gbps(theirs)} GB/s)`,
      ratio: (ours / theirs).toFixed(2),
      goal: `≤ ${c.goal}`,
      met: ours / theirs <= c.goal ? 'yes' : 'no',
    };
    rows.push(row);
    console.log(`${row.case}: omnibuf ${row.ours}, ringbuf.js ${row.theirs}, ratio ${row.ratio} (goal ${row.goal})`);
  }
} finally {
  await browser.close();
  server.close();
}

const table = [
  '| case (1 MiB ring) | omnibuf | ringbuf.js | ratio | goal | met |',
  '|---|---|---|---|---|---|',
  ...rows.map((r) => `| ${r.case} | ${r.ours} | ${r.theirs} | ${r.ratio} | ${r.goal} | ${r.met} |`),
].join('\n');
console.log(`\n${table}`);
if (!quick) {
  const header = `# Rings across browser threads: omnibuf vs ringbuf.js in Chromium\n\n` +
    `Written by \`npm run bench:browser-rings\` (js/bench/rings-chromium.mjs): medians of ${RUNS} runs each, ` +
    `alternating, ${CASES.map((c) => `${size(c.total)} in ${size(c.chunk)} messages`).filter((v, i, a) => a.indexOf(v) === i).join(' and ')} ` +
    `per run, on ${availableParallelism()} cores (load average ${load} at the start). Ratio = omnibuf's time / ringbuf.js's.\n\n`;
  writeFileSync(new URL('../../docs/bench-rings-chromium.md', import.meta.url), `${header}${table}\n`);
}
