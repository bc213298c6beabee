import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { BufferPool, Circular, __pendingWaits, impl } from './impl.mjs';

const pool = (extra = {}) => new BufferPool({ budget: 8192, classes: [4096], ...extra });

test('tryAcquire, freeze and release', () => {
  const p = pool();
  assert.equal(p.budget, 8192);
  assert.deepEqual(p.classes, [4096]);
  const a = p.tryAcquire(100);
  assert.equal(a.capacity, 4096);
  a.append('pooled');
  assert.deepEqual(new TextDecoder().decode(a.view()), 'pooled');
  const b = p.tryAcquire(4096);
  assert.equal(p.tryAcquire(1), null, 'the budget is full');
  const frozen = a.freeze('text');
  assert.equal(frozen.kind, 'text');
  const view = frozen.slice(0, 3);
  frozen.free();
  assert.equal(p.snapshot().inUseBytes, 8192, 'a live view keeps its memory out');
  view.free();
  b.free();
  assert.equal(p.snapshot().inUseBytes, 0);
  assert.notEqual(p.tryAcquire(4096), null);
});

test('acquire waits for room and resolves in order', async () => {
  const p = pool({ budget: 4096 });
  const held = p.tryAcquire(1);
  const order = [];
  const first = p.acquire(1).then((b) => { order.push(1); return b; });
  const second = p.acquire(1).then((b) => { order.push(2); return b; });
  await new Promise((r) => setTimeout(r, 5));
  assert.deepEqual(order, [], 'both wait');
  assert.equal(p.snapshot().waiting, 2);
  held.free();
  const one = await first;
  one.free();
  const two = await second;
  assert.deepEqual(order, [1, 2]);
  two.free();
  assert.equal(p.snapshot().waiting, 0);
});

test('requests that can never be served are RangeErrors, bad options TypeErrors', async () => {
  const p = new BufferPool({ budget: 4096, classes: [4096, 65536], tenantQuotas: { t: 4096 } });
  assert.throws(() => p.tryAcquire(1 << 20), { name: 'RangeError', message: /no size class holds/ });
  assert.throws(() => p.tryAcquire(10000), { name: 'RangeError', message: /can never fit the pool's budget/ });
  await assert.rejects(p.acquire(10000), RangeError);
  await assert.rejects(p.acquire(-1), RangeError);
  assert.throws(() => p.tryAcquire(1.5), TypeError);
  assert.throws(() => new BufferPool(), TypeError);
  assert.throws(() => new BufferPool({}), { name: 'TypeError', message: /budget is required/ });
  assert.throws(() => new BufferPool({ budget: 'lots' }), TypeError);
  assert.throws(() => new BufferPool({ budget: 100, classes: [4096] }), TypeError);
  assert.throws(() => new BufferPool({ budget: 4096, classes: 'big' }), TypeError);
});

test('a request refused as impossible makes no tenant, with or without a tenant quota, in both builds', async () => {
  const p = new BufferPool({ budget: 8192, classes: [16, 4096, 65536], tenantQuotas: { small: 16 } });
  const impossible = [
    [5000 * 1000, 'no class'], // above the largest class
    [2 ** 32, 'past 4 GiB'], // the wasm build refuses it as out of range, the addon as above every class
    [10000, 'over the budget'], // a class larger than the budget
  ];
  for (const [size, why] of impossible) {
    assert.throws(() => p.tryAcquire(size, `try ${why}`), RangeError);
    await assert.rejects(p.acquire(size, `wait ${why}`), RangeError);
  }
  assert.throws(() => p.tryAcquire(100, 'small'), { name: 'RangeError', message: /quota/ });
  await assert.rejects(p.acquire(100, 'small'), { name: 'RangeError', message: /quota/ });
  assert.deepEqual(p.snapshot().tenants, [], 'no refused request made a tenant');
  // A request that waits, or finds no room, is one: its tenant is made and counts it.
  p.tryAcquire(1, 'small').free();
  assert.deepEqual(p.snapshot().tenants.map((t) => t.tenant), ['small']);
  p.free();
});

test('tenants are held to their quotas and counted', () => {
  const p = new BufferPool({ budget: 1 << 20, classes: [4096], tenantQuotas: { alpha: 4096 } });
  const a = p.tryAcquire(1, 'alpha');
  assert.equal(a.tenant, 'alpha');
  assert.equal(p.tryAcquire(1, 'alpha'), null, 'alpha is at its quota');
  const b = p.tryAcquire(1, 'beta');
  const snap = p.snapshot();
  const alpha = snap.tenants.find((t) => t.tenant === 'alpha');
  assert.equal(alpha.quota, 4096);
  assert.equal(alpha.inUseBytes, 4096);
  assert.equal(alpha.refusals, 1);
  assert.equal(snap.tenants.find((t) => t.tenant === 'beta').quota, null);
  assert.equal(a.freeze().tenant, 'alpha');
  b.free();
});

test('tenantQuotas may be a record without a prototype, in both builds', () => {
  const quotas = Object.assign(Object.create(null), { alpha: 4096 });
  const p = new BufferPool({ budget: 1 << 20, classes: [4096], tenantQuotas: quotas });
  const a = p.tryAcquire(1, 'alpha');
  assert.equal(p.tryAcquire(1, 'alpha'), null, 'alpha is at its quota');
  a.free();
  p.free();
});

test('tenant names are kept as given, U+FFFD and astral characters too; a lone surrogate is refused, not merged', () => {
  const names = ['t\uFFFD', 't\u{1F600}', 't'];
  const p = new BufferPool({ budget: 1 << 20, classes: [4096], tenantQuotas: Object.fromEntries(names.map((n, i) => [n, (i + 1) * 4096])) });
  const held = names.map((n) => p.tryAcquire(1, n));
  assert.deepEqual(held.map((b) => b.tenant), names);
  const quotas = Object.fromEntries(p.snapshot().tenants.map(({ tenant, quota, inUseBytes }) => [tenant, [quota, inUseBytes]]));
  assert.deepEqual(quotas, { 't\uFFFD': [4096, 4096], 't\u{1F600}': [8192, 4096], t: [12288, 4096] });
  // As U+FFFD, 't\uD800' would have been 't\uFFFD', whose quota is used up.
  assert.throws(() => p.tryAcquire(1, 't\uD800'), { name: 'TypeError', code: 'ERR_INVALID_ARG_VALUE' });
  for (const b of held) b.free();
  p.free();
});

test('a pooled buffer refuses what does not fit and cannot be used after freeze', () => {
  const p = new BufferPool({ budget: 64, classes: [16] });
  const b = p.tryAcquire(16);
  b.append(new Uint8Array(10));
  assert.throws(() => b.append(new Uint8Array(10)), { name: 'RangeError', message: /10 bytes.*6 bytes of room/ });
  assert.equal(b.length, 10);
  b.freeze().free();
  assert.throws(() => b.append('x'), /PooledBuffer was frozen/);
  assert.throws(() => b.length, /PooledBuffer was frozen/);
});

test('snapshot and trim', () => {
  const p = new BufferPool({ budget: 1 << 20, classes: [4096, 65536] });
  const bufs = [p.tryAcquire(1), p.tryAcquire(5000)];
  const snap = p.snapshot();
  assert.equal(snap.inUseBytes, 4096 + 65536);
  assert.equal(snap.classes.length, 2);
  assert.equal(snap.classes[1].size, 65536);
  assert.ok(snap.highWaterBytes >= snap.inUseBytes);
  for (const b of bufs) b.free();
  assert.equal(p.snapshot().inUseBytes, 0);
  assert.ok(p.snapshot().leasedBytes > 0, 'the thread keeps budget for its next buffers');
  assert.equal(p.trim(), 4096 + 65536, 'the released memory was cached and is now freed');
  // The leases went back with it: nothing is reserved while nothing is in use.
  const trimmed = p.snapshot();
  assert.deepEqual([trimmed.inUseBytes, trimmed.leasedBytes, trimmed.reservedBytes], [0, 0, 0]);
  assert.ok(trimmed.classes.every((c) => c.leasedBytes === 0));
});

test('tryAcquire makes full PooledBuffers; tryAcquire, view, length, capacity and free refuse another class as this', () => {
  const pool = new BufferPool({ budget: 1 << 20 });
  const b = pool.tryAcquire(100, 'me');
  assert.equal(b.length, 0);
  assert.ok(b.capacity >= 100);
  assert.equal(b.tenant, 'me');
  b.append(new Uint8Array([5, 6]));
  assert.equal(b.length, 2);
  assert.deepEqual([...b.view()], [5, 6]);
  const frozen = b.freeze();
  assert.deepEqual([...frozen.bytes()], [5, 6]);
  assert.throws(() => b.length, { message: /PooledBuffer was frozen/ });
  assert.throws(() => pool.tryAcquire('x'), { name: 'TypeError', message: /size must be an integer/ });
  assert.throws(() => pool.tryAcquire(1, 5), { name: 'TypeError', message: /tenant must be a string/ });
  assert.throws(() => pool.tryAcquire(2 ** 40), RangeError);
  assert.ok(pool.tryAcquire(1, undefined) !== null, 'an undefined tenant means none');
  const c = pool.tryAcquire(1, null);
  assert.equal(c.tenant, undefined, 'so does null');
  const proto = Object.getPrototypeOf(c);
  const length = Object.getOwnPropertyDescriptor(proto, 'length').get;
  const capacity = Object.getOwnPropertyDescriptor(proto, 'capacity').get;
  for (const self of [{}, pool, frozen, undefined, 3]) {
    assert.throws(() => length.call(self), TypeError);
    assert.throws(() => capacity.call(self), TypeError);
    assert.throws(() => proto.view.call(self), TypeError);
    assert.throws(() => proto.free.call(self), TypeError);
  }
  for (const self of [{}, c, undefined]) {
    assert.throws(() => BufferPool.prototype.tryAcquire.call(self, 1), TypeError);
  }
  const view = c.view();
  assert.equal(view.length, 0);
  c.append(new Uint8Array([9]));
  assert.deepEqual([...c.view()], [9]);
  c.free();
  assert.throws(() => c.length, { message: /PooledBuffer was freed/ });
  assert.throws(() => c.capacity, { message: /PooledBuffer was freed/ });
  assert.throws(() => c.view(), { message: /PooledBuffer was freed/ });
  frozen.free();
  pool.free();
  assert.throws(() => pool.tryAcquire(1), { message: /BufferPool was freed/ });
});

test('free() rejects pending acquire()s with the Error a freed ring side gives its sliceAsync()s', async () => {
  const p = pool({ budget: 4096 });
  const held = p.tryAcquire(4096);
  const waiting = p.acquire(1);
  const reader = Circular.withCapacity(4096).addReader();
  const sliceWait = reader.sliceAsync();
  p.free();
  reader.free();
  const expected = (e) => ({ name: e.name, code: e.code, message: e.message.replace('CircularReader', 'BufferPool') });
  const ringError = await sliceWait.then(() => assert.fail('resolved'), expected);
  await assert.rejects(waiting, (e) => {
    assert.ok(e instanceof Error && !(e instanceof TypeError));
    assert.deepEqual({ name: e.name, code: e.code, message: e.message }, ringError);
    assert.equal(e.message, 'this BufferPool was freed and cannot be used any more');
    return true;
  });
  assert.equal(__pendingWaits(), 0, 'nothing left waiting');
  held.free();
});

test('free() lets go of the event loop a ref: true acquire() held', () => {
  const impl = new URL('./impl.mjs', import.meta.url).href;
  const script = `import { BufferPool } from ${JSON.stringify(impl)};
    const p = new BufferPool({ budget: 4096, classes: [4096] });
    const held = p.tryAcquire(4096);
    p.acquire(1, { ref: true }).then(() => console.log('resolved'), (e) => console.log(e.code));
    setTimeout(() => p.free(), 20).unref();`;
  const child = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8', timeout: 20_000 });
  assert.equal(child.signal, null, 'the process exited on its own');
  assert.equal(child.stdout.trim(), 'ERR_INVALID_STATE');
});

test('an acquire() served at the call resolves even if its signal aborts right after', async () => {
  const p = pool({ budget: 4096 });
  const controller = new AbortController();
  const acquired = p.acquire(16, { signal: controller.signal });
  controller.abort();
  const b = await acquired;
  assert.equal(b.capacity, 4096);
  assert.equal(p.snapshot().inUseBytes, 4096, 'counted once');
  b.free();
  assert.equal(p.snapshot().inUseBytes, 0);
  assert.equal(__pendingWaits(), 0);
});

test('budget, maxIdle and quotas take any size, as bounds, and read back as given', () => {
  // Around the sizes a wasm32 usize holds (2^31, 2^32), and the largest a JS number holds exactly.
  for (const big of [2 ** 31, 2 ** 32 - 1, 2 ** 32, 2 ** 40, Number.MAX_SAFE_INTEGER]) {
    const p = new BufferPool({ budget: big, classes: [4096], maxIdle: big, defaultTenantQuota: big, tenantQuotas: { t: big, small: 8192 } });
    for (const tenant of ['t', 'small', 'other']) {
      const b = p.tryAcquire(1, tenant);
      assert.notEqual(b, null, `${big} ${tenant}`);
      b.free();
    }
    assert.equal(p.budget, big);
    const snapshot = p.snapshot();
    assert.equal(snapshot.budget, big);
    const quotas = Object.fromEntries(snapshot.tenants.map(({ tenant, quota }) => [tenant, quota]));
    assert.deepEqual(quotas, { t: big, small: 8192, other: big }, String(big));
    p.free();
  }
  // A class as large as one allocation may be, with a budget of it or more: taken, and the budget
  // read back as given.
  const largest = impl === 'wasm' ? 2 ** 31 - 1 : 2 ** 40;
  for (const budget of [largest, 2 ** 33, 2 ** 40]) {
    const large = new BufferPool({ budget, classes: [4096, largest] });
    assert.equal(large.budget, budget);
    large.free();
  }
  // The wasm build's limit on a class is the largest allocation its memory takes, which the refusal
  // names, whatever the budget (before, a budget read as 2 GiB - 1 refused it as too small).
  // A class past 4 GiB, which no wasm number of bytes holds, too.
  if (impl === 'wasm') {
    for (const size of [2 ** 31, 2 ** 32, 2 ** 53 - 1]) {
      assert.throws(() => new BufferPool({ budget: 2 ** 53 - 1, classes: [4096, size] }), {
        name: 'TypeError',
        code: 'ERR_INVALID_ARG_VALUE',
        message: 'invalid pool configuration: a size class cannot exceed 2147483647 bytes',
      });
    }
  }
  // The mistakes every build refuses are refused alike, whatever the sizes.
  const refused = (options, why) => assert.throws(() => new BufferPool(options), { name: 'TypeError', code: 'ERR_INVALID_ARG_VALUE', message: `invalid pool configuration: ${why}` });
  refused({ budget: 2 ** 40, classes: [2 ** 33, 2 ** 33] }, 'size classes must be distinct');
  refused({ budget: 2 ** 32, classes: [2 ** 33] }, 'the budget (4294967296 bytes) is smaller than the smallest class (8589934592 bytes)');
  // Without a default quota, a tenant with none reads back null.
  const p = new BufferPool({ budget: 2 ** 33, classes: [4096], tenantQuotas: { t: 2 ** 33 } });
  p.tryAcquire(1, 'free-rider').free();
  assert.equal(p.snapshot().tenants.find(({ tenant }) => tenant === 'free-rider').quota, null);
  p.free();
});

test("what is written into a view reaches the buffer's bytes, whatever calls come between", () => {
  const pool = new BufferPool({ budget: 1 << 20, classes: [4096] });
  const buf = pool.tryAcquire(4096);
  buf.append('abcdef');
  const view = buf.view();
  view[0] = 0x41;
  // Calls that do not read the bytes, then one that adds some: the write still reaches them.
  assert.equal(buf.length, 6);
  assert.equal(buf.capacity, 4096);
  buf.append('gh');
  view[1] = 0x42; // written after the append, into the same (last) view
  assert.equal(buf.tenant, undefined);
  const later = buf.view();
  assert.equal(Buffer.from(later).toString(), 'ABcdefgh');
  later[7] = 0x48;
  buf.append('i');
  const frozen = buf.freeze();
  assert.equal(Buffer.from(frozen.bytes()).toString(), 'ABcdefgHi');
  frozen.free();
  pool.free();
});
