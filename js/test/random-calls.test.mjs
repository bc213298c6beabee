// Random calls with bad arguments: every method and getter of every class, on live, freed and
// handed-on objects, with wrong types, odd numbers and objects of other classes, and now and then with
// `this` of another class. Nothing may crash the process, and every failure must be a JS Error
// (Error, TypeError or RangeError) with a message, never a panic's text. Seeded, so a failure repeats;
// OMNIBUF_RANDOM_CALLS sets the number of calls (default 20000, well under a second).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as api from './impl.mjs';

const { ZeroCopyBuffer, BufferMut, BufferKind, BufferPool, PooledBuffer, Circular, CircularWriter, CircularReader, VirtualBuffer } = api;
const CLASSES = [ZeroCopyBuffer, BufferMut, BufferKind, BufferPool, PooledBuffer, Circular, CircularWriter, CircularReader];
// The addon only (the wasm build does not have it yet).
if (VirtualBuffer) CLASSES.push(VirtualBuffer);

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

test('random calls with bad arguments throw JS errors and never crash', async (t) => {
  // VirtualBuffer.open() and saveAs() take random strings as paths: keep them in a temp directory.
  const home = process.cwd();
  const dir = mkdtempSync(join(tmpdir(), 'omnibuf-random-'));
  process.chdir(dir);
  t.after(() => {
    process.chdir(home);
    rmSync(dir, { recursive: true, force: true });
  });
  const random = rng(Number(process.env.OMNIBUF_RANDOM_SEED ?? 20240611));
  const pick = (list) => list[Math.floor(random() * list.length)];
  const calls = Number(process.env.OMNIBUF_RANDOM_CALLS ?? 20000);

  const objects = [];
  const pools = [];
  const make = [
    () => ZeroCopyBuffer.from(new Uint8Array([1, 2, 3, 4]), 'raw'),
    () => ZeroCopyBuffer.from('text').withTenant('t'),
    () => new BufferMut(8),
    () => {
      const pool = new BufferPool({ budget: 16384, classes: [16, 4096], tenantQuotas: { q: 4096 } });
      pools.push(pool);
      return pool;
    },
    () => pools.length > 0 && pick(pools).tryAcquire(10),
    () => Circular.withCapacity(64),
    () => VirtualBuffer && VirtualBuffer.fromBytes('one\ntwo\n'),
    () => {
      const writers = objects.filter((o) => o instanceof CircularWriter);
      return writers.length > 0 && pick(writers).addReader();
    },
  ];
  const fresh = () => {
    try {
      const o = pick(make)();
      if (o) objects.push(o);
    } catch {
      // a freed pool or writer: fine
    }
  };
  for (let i = 0; i < 30; i++) fresh();

  const numbers = [undefined, null, -1, 0, 1, 3, 16, 1.5, NaN, Infinity, -Infinity, 2 ** 53, 2 ** 64, 1e7];
  const others = ['', 'raw', 'x y', 'mirror-copy', true, {}, [], [1, 2], { budget: 'x' }, { backend: 1 },
    { omnibuf: 'CircularReader', id: 1e9 }, new Uint8Array(3), new ArrayBuffer(2), new DataView(new ArrayBuffer(1)),
    Symbol('s'), 10n, () => 0];
  const arg = () => {
    const r = random();
    if (r < 0.45) return pick(numbers);
    if (r < 0.85) return pick(others);
    return objects.length > 0 ? pick(objects) : undefined;
  };

  const members = (cls) =>
    Object.entries(Object.getOwnPropertyDescriptors(cls.prototype))
      .filter(([name]) => name !== 'constructor' && !name.startsWith('__')) // not wasm-bindgen's internals
      .map(([name, d]) => ({ name, fn: d.value ?? d.get, getter: !d.value }));
  const statics = (cls) =>
    Object.entries(Object.getOwnPropertyDescriptors(cls))
      .filter(([name, d]) => typeof d.value === 'function' && !name.startsWith('__'))
      .map(([name, d]) => ({ name, fn: d.value }));

  const pending = [];
  let threw = 0;
  let returned = 0;
  for (let i = 0; i < calls; i++) {
    if (random() < 0.05) fresh();
    let call;
    const r = random();
    if (r < 0.1) {
      const cls = pick(CLASSES);
      const s = pick(statics(cls));
      if (!s) continue;
      call = () => s.fn.call(cls, arg(), arg());
    } else if (r < 0.15 && objects.length > 0) {
      // `this` of the wrong class (or a plain object)
      const m = pick(members(pick(CLASSES)));
      const self = random() < 0.5 ? pick(objects) : {};
      call = () => m.fn.call(self, arg(), arg());
    } else if (objects.length > 0) {
      const o = pick(objects);
      const m = pick(members(o.constructor));
      if (m.name === 'free' && random() < 0.7) continue; // keep most objects alive for longer
      call = () => (m.getter ? m.fn.call(o) : m.fn.call(o, arg(), arg(), arg()));
    } else {
      continue;
    }
    try {
      const result = call();
      returned++;
      if (result instanceof Promise) pending.push(result.catch((e) => checkError(e)));
      if (result && typeof result === 'object' && CLASSES.some((c) => result instanceof c)) objects.push(result);
    } catch (e) {
      checkError(e);
      threw++;
    }
  }
  assert.ok(threw > calls / 10, `many calls threw (${threw})`);
  assert.ok(returned > calls / 10, `many calls succeeded (${returned})`);

  // Free everything, so that every pending wait settles (a ring wait rejects or sees the end, a
  // pool wait is served as buffers come back).
  for (let round = 0; round < 3; round++) {
    for (const o of objects) o.free();
    await Promise.race([Promise.all(pending), new Promise((resolve) => setTimeout(resolve, 200))]);
  }
  const results = await Promise.all(pending);
  for (const r of results) if (r && typeof r.free === 'function') r.free();
});

function checkError(e) {
  assert.ok(e instanceof Error, `a JS Error, got ${String(e)}`);
  assert.ok(['Error', 'TypeError', 'RangeError'].includes(e.name), `an Error, TypeError or RangeError, got ${e.name}: ${e.message}`);
  assert.ok(e.message.length > 0, 'with a message');
  assert.doesNotMatch(e.message, /panic/i);
}
