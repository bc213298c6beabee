// A small timing harness for side-by-side comparisons in JS, the counterpart of
// benches/compare/harness.rs: every case is timed in many samples, each long enough (milliseconds) that
// timer resolution and call overhead of the harness do not matter, and the median per operation is kept.
// Samples are timed in CPU time of the process unless a case asks for elapsed time (see `Case`).
// Cases that are compared are sampled in turns (a, b, c, a, b, c, ...) so that a slow spell of a shared
// machine falls on all of them alike. What is reported are ratios of medians, not absolute times.

import { readFileSync, writeFileSync } from 'node:fs';

/** Quick mode (OMNIBUF_BENCH_QUICK=1): fewer, shorter samples, for a smoke run; not for results. */
export const quick = (process.env.OMNIBUF_BENCH_QUICK ?? '0') !== '0';
/** How long one sample should last, in nanoseconds. */
const SAMPLE_NS = quick ? 2e6 : 20e6;
/** How many samples each case gets. */
const SAMPLES = quick ? 7 : 21;

/**
 * A case to time: `run(ops)` performs `ops` operations; `close()` (optional) releases what it holds.
 * `clock` says what is timed: `'cpu'` (the default), the CPU time of the process, user and system, so
 * that time spent waiting for a core on a shared machine does not count; or `'wall'`, elapsed time,
 * for a case whose work is spread over threads that wait for each other (the process's CPU time would
 * add the threads up and leave the waits out).
 * @typedef {{ name: string, run: (ops: number) => void, close?: () => void, clock?: 'cpu' | 'wall' }} Case
 */

/** A full collection, when node runs with --expose-gc (npm run bench does). */
const collect = globalThis.gc ?? (() => {});

/** Settles what earlier samples left behind, outside the timing, so that one case's garbage is not
 * collected in another case's sample: a full collection, then a turn of the event loop, where Node runs
 * the finalizers of native objects that the collection found dead (and a second collection for what
 * those released). */
async function settle() {
  collect();
  await new Promise((resolve) => setImmediate(resolve));
  collect();
}

/** Nanoseconds `run(ops)` takes on `clock` (see `Case`). */
function timeOnce(run, ops, clock = 'cpu') {
  if (clock === 'wall') {
    const start = process.hrtime.bigint();
    run(ops);
    return Number(process.hrtime.bigint() - start);
  }
  const start = process.cpuUsage();
  run(ops);
  const used = process.cpuUsage(start);
  return (used.user + used.system) * 1000;
}

/** The number of operations that makes one sample of `run` last about SAMPLE_NS. */
async function calibrate(run, clock) {
  let ops = 1;
  for (;;) {
    await settle();
    const ns = timeOnce(run, ops, clock);
    if (ns >= SAMPLE_NS / 4 || ops >= 2 ** 30) return Math.max(1, Math.round((ops * SAMPLE_NS) / Math.max(ns, 1)));
    ops *= 4;
  }
}

/** The median of a list of numbers. */
export function median(values) {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

/**
 * Times the cases of one comparison in turns and resolves to, per case name, the median nanoseconds of
 * one operation. Each case is warmed up (which also lets the JIT settle) and calibrated first.
 * @param {Case[]} cases
 * @returns {Promise<Map<string, number>>}
 */
export async function compare(cases) {
  try {
    const plans = [];
    for (const c of cases) {
      // The first calibration doubles as the warm-up: its count is taken once the JIT has settled.
      await calibrate(c.run, c.clock);
      plans.push({ c, ops: await calibrate(c.run, c.clock), perOp: [] });
    }
    for (let s = 0; s < SAMPLES; s++) {
      for (const p of plans) {
        await settle();
        p.perOp.push(timeOnce(p.c.run, p.ops, p.c.clock) / p.ops);
      }
    }
    return new Map(plans.map((p) => [p.c.name, median(p.perOp)]));
  } finally {
    for (const c of cases) c.close?.();
  }
}

/** A duration in nanoseconds, with a unit that suits it. */
export function formatNs(ns) {
  if (ns < 1e3) return `${ns.toFixed(1)} ns`;
  if (ns < 1e6) return `${(ns / 1e3).toFixed(2)} µs`;
  return `${(ns / 1e6).toFixed(2)} ms`;
}

/** Throughput of `bytes` per `ns`, in GB/s (10^9 bytes per second). */
export function formatGbps(bytes, ns) {
  return `${(bytes / ns).toFixed(2)} GB/s`;
}

/**
 * Writes a benchmark's report to `url`: `# title`, the command, then `table`. Only the part before
 * the file's first `## ` section is replaced: the sections after it (earlier runs, notes) are kept.
 */
export function writeReport(url, title, command, table) {
  let rest = '';
  try {
    const old = readFileSync(url, 'utf8');
    const at = old.indexOf('\n## ');
    if (at >= 0) rest = old.slice(at);
  } catch (error) {
    if (error.code !== 'ENOENT') throw error;
  }
  writeFileSync(url, `# ${title}\n\n\`${command}\`\n\n${table}\n${rest}`);
}
