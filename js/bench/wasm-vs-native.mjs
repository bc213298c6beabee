// The buffer, pool and ring micro-benchmarks (benches/micro) natively, in wasm under Node and in wasm in
// headless Chromium: the same Rust code timed the same way in each. Prints the ratios wasm / native
// (goal: at most 2.0) and writes docs/bench-wasm.md.
//   npm run bench:wasm
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { ORIGIN, withBenchPage } from './chromium.mjs';

const root = fileURLToPath(new URL('../..', import.meta.url));
const target = process.env.CARGO_TARGET_DIR ?? `${root}target`;
const run = (cmd, args) => execFileSync(cmd, args, { cwd: root, encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });

console.log('building benches/micro natively and for wasm32 ...');
run('cargo', ['build', '--release', '-p', 'omnibuf-bench-micro']);
run('cargo', ['build', '--release', '-p', 'omnibuf-bench-micro', '--lib', '--target', 'wasm32-unknown-unknown']);
const wasm = `${target}/wasm32-unknown-unknown/release/omnibuf_bench_micro.wasm`;
run('wasm-bindgen', ['--target', 'nodejs', '--out-dir', `${target}/bench-micro/node`, wasm]);
run('wasm-bindgen', ['--target', 'web', '--out-dir', `${root}target/bench-micro/web`, wasm]);

console.log('native ...');
const native = JSON.parse(run(`${target}/release/omnibuf-bench-micro`, []));
console.log('wasm in Node ...');
const inNode = JSON.parse(createRequire(import.meta.url)(`${target}/bench-micro/node/omnibuf_bench_micro.js`).runJson());
console.log('wasm in Chromium ...');
const inChromium = await withBenchPage((page) =>
  page.evaluate(async (url) => {
    const module = await import(url);
    await module.default();
    return JSON.parse(module.runJson());
  }, `${ORIGIN}/target/bench-micro/web/omnibuf_bench_micro.js`),
);

const byCase = (rows) => new Map(rows.map((r) => [r.case, r.nsPerOp]));
const [node, browser] = [byCase(inNode), byCase(inChromium)];
const fmt = (ns) => (ns >= 1000 ? `${(ns / 1000).toFixed(2)} µs` : `${ns.toFixed(1)} ns`);
const verdict = (ratio) => (ratio <= 2 ? 'met' : 'missed');
const lines = [
  '| case | native | wasm in Node | ratio | wasm in Chromium | ratio | goal ≤ 2.0 (Node / Chromium) |',
  '|---|---|---|---|---|---|---|',
];
for (const { case: name, nsPerOp } of native) {
  if (!node.has(name)) {
    lines.push(`| ${name} | ${fmt(nsPerOp)} | — | — | — | — | native only |`);
    continue;
  }
  const [rn, rc] = [node.get(name) / nsPerOp, browser.get(name) / nsPerOp];
  lines.push(`| ${name} | ${fmt(nsPerOp)} | ${fmt(node.get(name))} | ${rn.toFixed(2)} | ${fmt(browser.get(name))} | ${rc.toFixed(2)} | ${verdict(rn)} / ${verdict(rc)} |`);
}
const table = lines.join('\n');
console.log(`\nwasm time / native time for the same work (median of 11 samples of ~20 ms each):\n\n${table}\n`);
writeFileSync(
  `${root}docs/bench-wasm.md`,
  `# wasm vs native: the same micro-benchmarks\n\nWritten by \`npm run bench:wasm\` (js/bench/wasm-vs-native.mjs): benches/micro timed natively, in wasm under Node ${process.version}, and in wasm in headless Chromium. Ratio = wasm time / native time.\n\n${table}\n`,
);
