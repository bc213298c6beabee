// The virtual buffer's IndexedDB store in headless Chromium vs keeping the whole document as one
// IndexedDB value, as idb-keyval users do: import, open, and one small edit + save, at 10 MiB and
// 100 MiB. Goals (issue 5): open under 50 ms and flat in document size; edit + save at least 20x faster
// than rewriting the whole value. Prints the table and writes docs/bench-idb.md.
//   npm run bench:idb            (OMNIBUF_BENCH_IDB_MIB=10,100 sets the sizes)
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { ORIGIN, withBenchPage } from './chromium.mjs';

const root = fileURLToPath(new URL('../..', import.meta.url));
const sizes = (process.env.OMNIBUF_BENCH_IDB_MIB ?? '10,100').split(',').map((mib) => Number(mib) << 20);

/** Runs in the page: every measurement for one document size, in milliseconds. */
async function measure({ origin, size }) {
  const { init, VirtualBuffer } = await import(`${origin}/js/web.mjs`);
  const keyval = await import(`${origin}/node_modules/idb-keyval/dist/index.js`);
  await init();
  const median = (xs) => [...xs].sort((a, b) => a - b)[xs.length >> 1];
  const time = async (f) => {
    const start = performance.now();
    await f();
    return performance.now() - start;
  };
  // Text: numbered lines, like a log.
  const line = new TextEncoder().encode('2026-12-01 12:00:00 INFO request served in 12 ms by worker 7\n');
  const bytes = new Uint8Array(size);
  for (let at = 0; at < size; at += line.length) bytes.set(line.subarray(0, Math.min(line.length, size - at)), at);
  const name = `bench-${size}`;
  await VirtualBuffer.deleteDocument(name);
  await keyval.del(name);

  const row = { size };
  row.importOurs = await time(async () => (await VirtualBuffer.import(name, new Blob([bytes]))).free());
  row.importWhole = await time(() => keyval.set(name, bytes));
  const opens = [];
  const firstReads = [];
  for (let i = 0; i < 7; i++) {
    let vb;
    opens.push(await time(async () => (vb = await VirtualBuffer.open(name))));
    firstReads.push(await time(async () => (await vb.read(0, 65536)).free()));
    vb.free();
  }
  row.openOurs = median(opens);
  row.firstReadOurs = median(firstReads);
  const gets = [];
  for (let i = 0; i < 3; i++) gets.push(await time(() => keyval.get(name)));
  row.openWhole = median(gets);

  // One small edit in the middle, then save; repeated on the same buffer.
  const vb = await VirtualBuffer.open(name);
  const saves = [];
  for (let i = 0; i < 7; i++) {
    saves.push(await time(async () => {
      vb.insert(Math.floor(vb.length / 2), 'x');
      await vb.save();
    }));
  }
  vb.free();
  row.saveOurs = median(saves);
  // The whole-value way: the edited document, held in memory, stored again.
  let doc = bytes;
  const rewrites = [];
  for (let i = 0; i < 3; i++) {
    rewrites.push(await time(async () => {
      const edited = new Uint8Array(doc.length + 1);
      const mid = doc.length >> 1;
      edited.set(doc.subarray(0, mid));
      edited[mid] = 120;
      edited.set(doc.subarray(mid), mid + 1);
      doc = edited;
      await keyval.set(name, doc);
    }));
  }
  row.saveWhole = median(rewrites);
  await VirtualBuffer.deleteDocument(name);
  await keyval.del(name);
  return row;
}

const rows = [];
for (const size of sizes) {
  console.log(`measuring ${size >> 20} MiB ...`);
  rows.push(await withBenchPage((page) => page.evaluate(measure, { origin: ORIGIN, size })));
}

const ms = (x) => (x >= 100 ? `${x.toFixed(0)} ms` : `${x.toFixed(1)} ms`);
const lines = [
  '| size | import: ours / whole value | open: ours / whole value (get) | first 64 KiB read after open | one small edit + save: ours / whole value | save speed-up |',
  '|---|---|---|---|---|---|',
];
for (const r of rows) {
  lines.push(
    `| ${r.size >> 20} MiB | ${ms(r.importOurs)} / ${ms(r.importWhole)} | ${ms(r.openOurs)} / ${ms(r.openWhole)} | ${ms(r.firstReadOurs)} | ${ms(r.saveOurs)} / ${ms(r.saveWhole)} | ${(r.saveWhole / r.saveOurs).toFixed(0)}x |`,
  );
}
const [small, large] = [rows[0], rows.at(-1)];
const flat = large.openOurs / small.openOurs;
const goals = [
  `- open of ${large.size >> 20} MiB: ${ms(large.openOurs)} (goal < 50 ms: ${large.openOurs < 50 ? 'met' : 'missed'}); ` +
    `${large.size >> 20} MiB / ${small.size >> 20} MiB open time: ${flat.toFixed(2)} (flat: ${flat < 2 ? 'met' : 'missed'})`,
  `- edit + save vs rewriting the whole value, ${large.size >> 20} MiB: ${(large.saveWhole / large.saveOurs).toFixed(0)}x faster ` +
    `(goal ≥ 20x: ${large.saveWhole / large.saveOurs >= 20 ? 'met' : 'missed'})`,
];
const report = `${lines.join('\n')}\n\n${goals.join('\n')}\n`;
console.log(`\nIndexedDB in headless Chromium (medians; import once):\n\n${report}`);
writeFileSync(
  `${root}docs/bench-idb.md`,
  `# IndexedDB: the virtual buffer's block store vs one whole value\n\nWritten by \`npm run bench:idb\` (js/bench/indexeddb.mjs) in headless Chromium. "Whole value" stores the document as one IndexedDB value with idb-keyval; its open is a get of that value, its save a set of the edited document.\n\n${report}`,
);
