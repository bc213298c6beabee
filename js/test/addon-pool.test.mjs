// The addon's PooledBuffer is a JS object holding a handle into a native table (js/addon-pool.mjs):
// buffers the program drops must come back through the garbage collector, whether they were dropped
// in the turn that acquired them or later; freed and frozen ones must say so after checking their
// arguments, as before; and the table's functions must refuse stale and forged handles.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';
import { collect } from './collect.mjs';
import { impl } from './impl.mjs';

const skip = impl !== 'addon' && 'addon only';
const api = impl === 'addon' ? await import('../node.mjs') : {};

test('dropped buffers come back, dropped in the turn that acquired them or later', { skip }, async () => {
  const pool = new api.BufferPool({ budget: 4096 * 2000, classes: [4096] });
  // In this turn: more than wait to be registered at once (1024), some with views. (In a function of
  // its own: a suspended async function may keep its last temporaries alive.)
  const views = [];
  (() => {
    for (let i = 0; i < 1500; i++) {
      const b = pool.tryAcquire(1);
      if (i % 100 === 0) {
        b.append('v');
        views.push(b.view());
      }
    }
  })();
  assert.equal(pool.snapshot().inUseBytes, 4096 * 1500);
  await collect();
  assert.equal(pool.snapshot().inUseBytes, 4096 * 15, "the views' buffers are kept for the views");
  assert.ok(views.every((v) => v.toString() === 'v'));
  views.length = 0;
  await collect();
  assert.equal(pool.snapshot().inUseBytes, 0);
  // Kept past the turn, then dropped.
  const held = [pool.tryAcquire(1), pool.tryAcquire(1), await pool.acquire(1)];
  await new Promise((resolve) => setImmediate(resolve));
  held[0].free();
  held.length = 0;
  await collect();
  assert.equal(pool.snapshot().inUseBytes, 0);
  pool.free();
});

test('freed buffers and pools say so before checking their arguments, frozen buffers after', { skip }, async () => {
  const pool = new api.BufferPool({ budget: 8192, classes: [4096] });
  const a = pool.tryAcquire(1);
  a.free();
  a.free();
  assert.throws(() => a.append(42), { name: 'Error', message: 'this PooledBuffer was freed and cannot be used any more' });
  assert.throws(() => a.freeze(42), { name: 'Error', message: 'this PooledBuffer was freed and cannot be used any more' });
  assert.throws(() => a.append('x'), { name: 'Error', message: 'this PooledBuffer was freed and cannot be used any more' });
  assert.throws(() => a.freeze(), { message: /PooledBuffer was freed/ });
  const b = await pool.acquire(1);
  assert.ok(b instanceof api.PooledBuffer);
  b.append('b');
  assert.throws(() => b.freeze('no-such-kind'), TypeError);
  assert.equal(b.length, 1, 'a failed freeze changes nothing');
  const frozen = b.freeze('text');
  assert.throws(() => b.freeze('no-such-kind'), { name: 'TypeError', message: /unknown buffer kind/ });
  assert.throws(() => b.freeze(), { message: 'this PooledBuffer was frozen and cannot be used any more' });
  assert.throws(() => b.tenant, { message: /PooledBuffer was frozen/ });
  b.free(); // nothing: it was frozen
  assert.equal(Buffer.from(frozen.bytes()).toString(), 'b');
  frozen.free();
  assert.equal(pool.snapshot().inUseBytes, 0);
  assert.throws(() => new api.PooledBuffer(), TypeError);
  assert.throws(() => new api.BufferPool(), TypeError);
  pool.free();
  pool.free();
  assert.throws(() => pool.tryAcquire('x'), { name: 'Error', message: /BufferPool was freed/ });
  assert.throws(() => pool.tryAcquire(1), { message: /BufferPool was freed/ });
  assert.throws(() => pool.snapshot(), { message: /BufferPool was freed/ });
  await assert.rejects(pool.acquire(1), { message: /BufferPool was freed/ });
});

test('every member of BufferPool and PooledBuffer refuses another class as this', { skip }, async () => {
  const pool = new api.BufferPool({ budget: 8192, classes: [4096] });
  const b = pool.tryAcquire(1);
  for (const cls of [api.BufferPool, api.PooledBuffer]) {
    const fake = Object.create(cls.prototype);
    for (const [name, d] of Object.entries(Object.getOwnPropertyDescriptors(cls.prototype))) {
      if (name === 'constructor') continue;
      for (const self of [fake, {}, undefined, 3, cls === api.BufferPool ? b : pool]) {
        // acquire() returns a Promise, which rejects (never throws), as in the wasm build.
        if (name === 'acquire') await assert.rejects(d.value.call(self, 1), TypeError, `${cls.name}.${name}`);
        else assert.throws(() => (d.value ?? d.get).call(self, 1), TypeError, `${cls.name}.${name}`);
      }
    }
  }
  b.free();
  pool.free();
});

test("the table's functions refuse stale and forged handles", { skip }, () => {
  const addon = createRequire(import.meta.url)('../../node/omnibuf.node');
  const pool = new api.BufferPool({ budget: 8192, classes: [4096] });
  const b = pool.tryAcquire(1);
  b.free();
  for (const handle of [0, 1, -1, 2 ** 32, 2 ** 53, 1.5, NaN, 'x', {}, undefined]) {
    for (const f of [addon.pooledLength, addon.pooledCapacity, addon.pooledView, addon.pooledFree, addon.pooledTenant]) {
      assert.throws(() => f(handle), Error);
    }
    assert.equal(addon.pooledRelease(handle), undefined);
  }
  assert.equal(pool.snapshot().inUseBytes, 0);
  pool.free();
  // (2 ** 32 is the first handle of a table: a live pool's, maybe.)
  for (const handle of [0, 1, -1, 2 ** 53, 1.5, NaN, 'x', {}, undefined]) {
    assert.throws(() => addon.poolTryAcquire(handle, 1), { message: /BufferPool was freed/ });
  }
});

test('a worker that ends holding pooled buffers and views ends cleanly', { skip }, async () => {
  const script = (stay) => `import(${JSON.stringify(new URL('../node.mjs', import.meta.url).href)}).then((api) => {
    const pool = new api.BufferPool({ budget: 1 << 20, classes: [4096] });
    globalThis.kept = [];
    for (let i = 0; i < 10; i++) {
      const b = pool.tryAcquire(1);
      b.append('w');
      globalThis.kept.push(b, b.view(), b.view());
    }
    ${stay ? 'setInterval(() => {}, 1000);' : ''}
    require('node:worker_threads').parentPort.postMessage('ready');
  });`;
  // One terminated, one that ends on its own.
  const stays = new Worker(script(true), { eval: true });
  const ends = new Worker(script(false), { eval: true });
  const exited = new Promise((resolve) => ends.once('exit', resolve));
  await new Promise((resolve, reject) => {
    stays.once('message', resolve);
    stays.once('error', reject);
  });
  assert.equal(await stays.terminate(), 1);
  assert.equal(await exited, 0);
});
