// The random-call fuzz: every method and getter of every class, called at random on live, freed and
// handed-on objects, with wrong types, NaN, negative, huge and fractional numbers, objects of other
// classes, detached buffers, and now and then with `this` of another class; views and their
// subarrays are kept across free() and written to, with garbage collection forced in between.
//
// Each seed runs in a child process (node --expose-gc), so that a crash is a failed test and not a
// dead runner. What must hold:
// - no crash: the child exits by itself;
// - every failure is a JS Error, TypeError or RangeError with a message, never a panic's or the
//   bindings' internals' words ("null pointer passed to rust", "recursive use of an object");
// - every object stays usable: a live object answers, a freed one says it was freed; when everything
//   is freed every pool's budget is whole again;
// - no kept view (or subarray, or view over its .buffer) ever shows bytes other than those it showed
//   when it was taken and those the fuzz wrote into it (or nothing, once detached), and no buffer's
//   bytes are ever anything but its own and those written into its views (which the addon's views
//   are, read-only by contract only).
//
// Seeds: OMNIBUF_FUZZ_SEEDS (a count, default 4) starting at OMNIBUF_FUZZ_SEED (default 1);
// OMNIBUF_FUZZ_CALLS calls per seed (default 3000). `npm run fuzz:js` runs 64 seeds per build. To see
// what a seed does, run its child by hand with a trace on stderr (2: also before each call):
//   OMNIBUF_IMPL=addon OMNIBUF_FUZZ_TRACE=2 node --expose-gc js/test/random-calls.test.mjs child SEED
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const CHILD = process.argv[2] === 'child';
/** The byte the fuzz writes into kept views; no object's own bytes hold it. */
const SCRIBBLED = 0xee;

if (!CHILD) {
  const { impl } = await import('./impl.mjs');
  const first = Number(process.env.OMNIBUF_FUZZ_SEED ?? 1);
  const seeds = Number(process.env.OMNIBUF_FUZZ_SEEDS ?? 4);
  const run = (seed, views) =>
    spawnSync(process.execPath, ['--expose-gc', fileURLToPath(import.meta.url), 'child', String(seed)], {
      encoding: 'utf8',
      // Not a test runner's child: NODE_TEST_CONTEXT would make it report to one.
      env: { ...process.env, NODE_TEST_CONTEXT: undefined, OMNIBUF_FUZZ_VIEWS: views },
      timeout: 300_000,
      maxBuffer: 16 << 20,
    });
  for (let seed = first; seed < first + seeds; seed++) {
    let checked;
    const checking = () => (checked ??= run(seed, 'check'));
    test(`random calls, seed ${seed} (${impl}): no crash, clear errors, usable objects`, () => {
      const child = checking();
      assert.equal(child.signal, null, `the child died of ${child.signal}:\n${child.stdout}\n${child.stderr}`);
      assert.ok([0, 3].includes(child.status), `the child failed (${child.status}):\n${child.stdout}\n${child.stderr}`);
      assert.match(child.stdout, /calls: \d+/);
    });
    test(`random calls, seed ${seed} (${impl}): no kept view shows another object's bytes`, () => {
      const child = checking();
      assert.equal(child.signal, null, `the child died of ${child.signal}:\n${child.stdout}\n${child.stderr}`);
      assert.equal(child.status, 0, `kept views changed, or the child failed (${child.status}):\n${child.stdout}\n${child.stderr}`);
    });
  }
} else {
  await child(Number(process.argv[3]));
}

async function child(seed) {
  const api = await import('./impl.mjs');
  const { ZeroCopyBuffer, BufferMut, BufferKind, BufferPool, PooledBuffer, Circular, CircularWriter, CircularReader, VirtualBuffer } = api;
  const CLASSES = [ZeroCopyBuffer, BufferMut, BufferKind, BufferPool, PooledBuffer, Circular, CircularWriter, CircularReader, VirtualBuffer];
  // VirtualBuffer.open() and saveAs() take random strings as paths: keep them in a temp directory.
  const dir = mkdtempSync(join(tmpdir(), 'omnibuf-random-'));
  process.chdir(dir);
  const failures = [];
  const viewFailures = [];
  try {
    await run();
  } catch (e) {
    failures.push(`the run threw: ${e?.stack ?? e}`);
  } finally {
    process.chdir(tmpdir());
    rmSync(dir, { recursive: true, force: true });
  }
  for (const f of failures.slice(0, 20)) console.log('FAIL', f);
  for (const f of viewFailures.slice(0, 20)) console.log('VIEW', f);
  process.exitCode = failures.length > 0 ? 1 : viewFailures.length > 0 ? 3 : 0;

  async function run() {
    const random = rng(seed * 2654435761);
    const pick = (list) => list[Math.floor(random() * list.length)];
    const calls = Number(process.env.OMNIBUF_FUZZ_CALLS ?? 3000);
    // 'check' (the default): kept views are read and written after frees; 'keep': only kept, for
    // looking at a build whose views are known to be unsafe without crashing it.
    const CHECK_VIEWS = process.env.OMNIBUF_FUZZ_VIEWS !== 'keep';

    const objects = [];
    const pools = [];
    /** Buffers made here with known bytes: object → the bytes it must always have. */
    const contents = new Map();
    /** Views kept: { view, expected, what }. */
    const kept = [];
    let nextTag = 1;
    /** Bytes no other object has: a 4-byte pattern with this object's number. */
    const tagged = (n) => {
      let tag = nextTag++;
      while ((tag & 0xff) === SCRIBBLED || tag >> 8 === SCRIBBLED) tag = nextTag++;
      const out = new Uint8Array(n);
      for (let i = 0; i < n; i++) out[i] = [0xa5, (tag >> 8) & 0xff, tag & 0xff, 0x5a][i % 4];
      return out;
    };
    /** ZeroCopyBuffers whose bytes are checked: only viewed, freed and passed as arguments here,
     * since splitTo() and splitOff() change what a buffer holds. */
    const sentinels = [];
    const sentinel = () => {
      const bytes = tagged(4 + Math.floor(random() * 60));
      const b = ZeroCopyBuffer.from(bytes, 'raw');
      contents.set(b, bytes);
      sentinels.push(b);
      return b;
    };
    const make = [
      () => ZeroCopyBuffer.from(tagged(4 + Math.floor(random() * 60)), 'raw'),
      () => ZeroCopyBuffer.from('text').withTenant('t'),
      () => {
        const m = new BufferMut(8);
        m.append(tagged(12));
        return m;
      },
      () => {
        const pool = new BufferPool({ budget: 16384, classes: [16, 4096], tenantQuotas: { q: 4096 } });
        pools.push(pool);
        return pool;
      },
      () => {
        const p = pools.length > 0 && pick(pools).tryAcquire(random() < 0.5 ? 10 : 100);
        if (p) p.append(tagged(8));
        return p;
      },
      () => Circular.withCapacity(64),
      () => VirtualBuffer.fromBytes(tagged(32)),
      () => {
        const writers = objects.filter((o) => o instanceof CircularWriter);
        return writers.length > 0 && pick(writers).addReader();
      },
    ];
    const fresh = () => {
      try {
        const o = pick(make)();
        if (o) objects.push(o);
      } catch (e) {
        checkError(e, 'making an object'); // a freed pool or writer
      }
    };
    for (let i = 0; i < 30; i++) fresh();
    for (let i = 0; i < 10; i++) sentinel();

    const detachedBuffer = () => {
      const buffer = new ArrayBuffer(16);
      const view = new Uint8Array(buffer, 4, 8);
      structuredClone(buffer, { transfer: [buffer] });
      return random() < 0.5 ? buffer : view;
    };
    const numbers = [undefined, null, -1, -0, 0, 1, 3, 16, 63, 64, 1.5, -2.5, 0.1, NaN, Infinity, -Infinity, 2 ** 31, 2 ** 32, 2 ** 32 + 1, 2 ** 53, 2 ** 53 - 1, 2 ** 64, 1e21, 1e7, Number.MIN_VALUE];
    const others = () => pick(['', 'raw', 'text', 'x y', 'mirror-copy', '16', true, false, {}, [], [1, 2], { budget: 'x' }, { budget: 64 }, { backend: 1 }, { force: 'yes' },
      { omnibuf: 'CircularReader', id: 1e9 }, new Uint8Array(3), new ArrayBuffer(2), new DataView(new ArrayBuffer(1)), new Float64Array(2),
      Symbol('s'), 10n, () => 0, new Proxy({}, {}), new Proxy(new Uint8Array(2), {}), detachedBuffer(),
      Object.defineProperty(new Uint8Array(2), 'length', { get() { throw new Error('own getter'); } })]);
    const arg = () => {
      const r = random();
      if (r < 0.45) return pick(numbers);
      if (r < 0.85) return others();
      if (r < 0.9) return pick(sentinels);
      return objects.length > 0 ? pick(objects) : undefined;
    };

    const members = (cls) =>
      Object.entries(Object.getOwnPropertyDescriptors(cls.prototype))
        .filter(([name]) => name !== 'constructor' && !name.startsWith('__'))
        .map(([name, d]) => ({ name, fn: d.value ?? d.get, getter: !d.value }));
    const statics = (cls) =>
      Object.entries(Object.getOwnPropertyDescriptors(cls))
        .filter(([name, d]) => typeof d.value === 'function' && !name.startsWith('__'))
        .map(([name, d]) => ({ name, fn: d.value }));

    /** Keeps `view` (a view, or a ring slice) in one of the ways JS can keep its memory. */
    const keep = (view, what) => {
      if (!(view instanceof Uint8Array) || view.length === 0) return;
      // A huge ring's slice (withCapacity(2 ** 32) works natively): check a part of it.
      if (view.length > 65536) view = view.subarray(0, 4096);
      const r = random();
      let held;
      if (r < 0.4) held = view.subarray(Math.floor(random() * view.length));
      else if (r < 0.7) held = new Uint8Array(view.buffer, view.byteOffset, view.length);
      else held = view;
      kept.push({ view: held, expected: Uint8Array.from(held), what });
      if (kept.length > 200) kept.splice(0, kept.length - 200);
    };
    /** Writes SCRIBBLED into some kept views, as a program that keeps one by mistake might. Views
     * that alias one another (subarrays, views of one object) may see it; nothing else may. */
    const scribble = () => {
      if (!CHECK_VIEWS) return;
      for (const k of kept) {
        if (random() < 0.1 && k.view.length > 0) k.view[Math.floor(random() * k.view.length)] = SCRIBBLED;
      }
    };
    /** Each kept view shows what it showed when it was taken, or SCRIBBLED where a write went, or
     * nothing at all (detached). Anything else is another object's bytes, or freed memory. */
    const checkViews = (when) => {
      for (const k of CHECK_VIEWS ? kept : []) {
        const now = k.view;
        if (now.length === 0) continue; // detached
        const wrong = now.length !== k.expected.length || now.some((v, i) => v !== k.expected[i] && v !== SCRIBBLED);
        if (wrong) {
          viewFailures.push(`${when}: a kept ${k.what} changed: ${[...k.expected.subarray(0, 12)]} -> ${[...now.subarray(0, 12)]}`);
          k.expected = Uint8Array.from(now);
        }
      }
      for (const [b, bytes] of contents) {
        let now;
        try {
          now = b.bytes();
        } catch (e) {
          checkError(e, 'bytes() of a buffer');
          contents.delete(b); // freed
          continue;
        }
        // SCRIBBLED where a write into one of its views went: in the addon a view of a ZeroCopyBuffer
        // is its memory, read-only by contract only (js/index.d.ts); anything else is foreign.
        if (now.length !== bytes.length || now.some((v, i) => v !== bytes[i] && v !== SCRIBBLED)) {
          viewFailures.push(`${when}: a ZeroCopyBuffer's bytes changed: ${[...bytes.subarray(0, 12)]} -> ${[...now.subarray(0, 12)]}`);
          contents.delete(b);
        }
      }
    };
    const usable = (when) => {
      for (const o of objects) {
        const probe = o instanceof BufferPool ? () => o.snapshot() : o instanceof BufferKind || o instanceof Circular ? () => 0 : () => o.length ?? o.capacity;
        try {
          probe();
        } catch (e) {
          checkError(e, `${when}: a ${o.constructor.name} answering`);
          if (!/was (freed|frozen|moved)/.test(e.message)) failures.push(`${when}: a ${o.constructor.name} is not usable: ${e.message}`);
        }
      }
    };

    const pending = [];
    let threw = 0;
    let returned = 0;
    for (let i = 0; i < calls; i++) {
      if (random() < 0.05) fresh();
      if (i % 250 === 249) {
        if (process.env.OMNIBUF_FUZZ_TRACE === '2') process.stderr.write(`${i} gc, checks ...\n`);
        globalThis.gc?.();
        scribble();
        for (let j = 0; j < 5; j++) fresh(); // new objects, maybe in memory freed just now
        sentinel();
        checkViews(`call ${i}`);
        usable(`call ${i}`);
        await new Promise((resolve) => setImmediate(resolve)); // finalizers run
      }
      let call;
      let label;
      let args = [];
      const r = random();
      if (r < 0.1) {
        const cls = pick(CLASSES);
        const s = pick(statics(cls));
        if (!s) continue;
        label = `${cls.name}.${s.name}`;
        call = () => s.fn.call(cls, ...(args = [arg(), arg()]));
      } else if (r < 0.15 && objects.length > 0) {
        // `this` of the wrong class (or a plain object)
        const cls = pick(CLASSES);
        const m = pick(members(cls));
        const self = random() < 0.5 ? pick(objects) : {};
        label = `${cls.name}.prototype.${m.name} on ${self?.constructor?.name}`;
        call = () => m.fn.call(self, ...(args = [arg(), arg()]));
      } else if (r < 0.2) {
        // A sentinel: viewed (and the view kept), or freed.
        const b = pick(sentinels);
        const free = random() < 0.2;
        label = free ? 'a sentinel freed' : 'a sentinel viewed';
        call = () => {
          if (free) return b.free();
          const v = b.view();
          keep(v, 'ZeroCopyBuffer view');
          return v;
        };
      } else if (r < 0.3 && objects.length > 0) {
        // A view or slice, kept.
        const o = pick(objects);
        if (typeof o.view === 'function' || o instanceof CircularReader || o instanceof CircularWriter) {
          label = `${o.constructor.name} view`;
          if (process.env.OMNIBUF_FUZZ_TRACE) label += `#${idOf(o)}`;
          call = () => {
            const v = typeof o.view === 'function' ? o.view() : o.slice();
            keep(v, label);
            return v;
          };
        } else continue;
      } else if (objects.length > 0) {
        const o = pick(objects);
        const m = pick(members(o.constructor));
        if (m.name === 'free' && random() < 0.7) continue; // keep most objects alive for longer
        label = `${o.constructor.name}.${m.name}`;
        if (process.env.OMNIBUF_FUZZ_TRACE) label += `#${idOf(o)}`;
        call = () => (m.getter ? m.fn.call(o) : m.fn.call(o, ...(args = [arg(), arg(), arg()])));
      } else {
        continue;
      }
      if (process.env.OMNIBUF_FUZZ_TRACE === '2') process.stderr.write(`${i} ${label} ...\n`);
      try {
        const result = call();
        if (process.env.OMNIBUF_FUZZ_TRACE) process.stderr.write(`${i} ${label} ${args.map(show)} -> ok\n`);
        returned++;
        if (result instanceof Promise) pending.push(result.catch((e) => checkError(e, label)));
        if (result && typeof result === 'object' && CLASSES.some((c) => result instanceof c)) objects.push(result);
      } catch (e) {
        if (process.env.OMNIBUF_FUZZ_TRACE) process.stderr.write(`${i} ${label} ${args.map(show)} -> ${e?.message}\n`);
        checkError(e, label);
        threw++;
      }
    }
    if (threw < calls / 10) failures.push(`few calls threw (${threw})`);
    if (returned < calls / 10) failures.push(`few calls returned (${returned})`);
    globalThis.gc?.();
    checkViews('the end');
    usable('the end');

    // Free everything, so that every pending wait settles (a ring wait rejects or sees the end, a
    // pool wait is served as buffers come back); then every pool's budget must be whole.
    objects.push(...sentinels);
    for (let round = 0; round < 3; round++) {
      for (const o of objects) {
        try {
          o.free();
        } catch (e) {
          failures.push(`free() of a ${o.constructor.name} threw ${e.name}: ${e.message}`);
        }
      }
      await Promise.race([Promise.all(pending), new Promise((resolve) => setTimeout(resolve, 200))]);
    }
    const results = await Promise.all(pending);
    for (const r of results) if (r && typeof r.free === 'function') r.free();
    for (const pool of pools) {
      try {
        const inUse = pool.snapshot().inUseBytes;
        if (inUse !== 0) failures.push(`a pool still has ${inUse} bytes in use after everything was freed`);
      } catch (e) {
        if (!/was freed/.test(e.message)) failures.push(`a pool's snapshot threw ${e.message}`);
      }
    }
    console.log(`calls: ${calls}, threw ${threw}, returned ${returned}, views kept ${kept.length}`);
  }

  function checkError(e, label) {
    const fail = (why) => failures.push(`${label}: ${why}`);
    if (!(e instanceof Error)) return fail(`not a JS Error: ${String(e)}`);
    if (!['Error', 'TypeError', 'RangeError'].includes(e.constructor.name)) return fail(`${e.constructor.name}: ${e.message}`);
    if (e.message.length === 0) return fail(`${e.name} without a message`);
    if (/panic|null pointer|recursive use|unreachable|Failed to unwrap|Illegal invocation|\binf\b/i.test(e.message)) {
      return fail(`unclear: ${e.name}: ${e.message}`);
    }
  }
}

/** An object's number in the trace. (A function declaration: the child runs before the module's
 * later statements.) */
function idOf(o) {
  idOf.ids ??= new WeakMap();
  if (!idOf.ids.has(o)) idOf.ids.set(o, (idOf.next = (idOf.next ?? 0) + 1));
  return idOf.ids.get(o);
}

/** An argument, shortly, for the trace (OMNIBUF_FUZZ_TRACE=1). */
function show(value) {
  if (typeof value === 'object' && value !== null) return `${value.constructor?.name ?? 'object'}#${idOf(value)}`;
  return typeof value === 'symbol' || typeof value === 'bigint' ? typeof value : JSON.stringify(value);
}

function rng(seed) {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    return x / 2 ** 32;
  };
}
