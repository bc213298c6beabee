// The addon's ZeroCopyBuffer is a JS class over a native storage shared by the buffers sliced from
// one another (js/addon-zero-copy.mjs): its checks must say what the native ones say, each buffer's
// views must be its own, and a storage must be released both by the last free() (at once) and by the
// garbage collector when every sharer is dropped.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { collect } from './collect.mjs';
import { impl } from './impl.mjs';

const skip = impl !== 'addon' && 'addon only';
const api = impl === 'addon' ? await import('../node.mjs') : {};

const message = (call) => {
  try {
    call();
  } catch (e) {
    return `${e.name}: ${e.message}`;
  }
  return 'no error';
};

test('argument errors say what the native checks say', { skip }, () => {
  const b = api.ZeroCopyBuffer.from('abc');
  const pool = new api.BufferPool({ budget: 1 << 20, classes: [4096] });
  const values = [undefined, null, true, 'x', {}, [], Symbol('s'), 10n, () => 0, -1, -0.5, 1.5, NaN, Infinity,
    -Infinity, 2 ** 53, 2 ** 64, 1e21, 1.5e300, -1e22, 1e-7, 2.5e-10];
  for (const v of values) {
    // tryAcquire's size goes through node/src/args.rs, as slice's start did.
    const native = message(() => pool.tryAcquire(v)).replace('size', 'start');
    assert.equal(message(() => b.slice(v)), native, `slice(${String(v)})`);
    assert.equal(message(() => b.splitTo(v)), native.replace('start', 'at'), `splitTo(${String(v)})`);
  }
  pool.free();
  b.free();
});

test('there is no public constructor, and members check their receiver', { skip }, () => {
  assert.throws(() => new api.ZeroCopyBuffer(), { name: 'TypeError', message: /ZeroCopyBuffer.from/ });
  const proto = api.ZeroCopyBuffer.prototype;
  const fake = Object.create(proto); // inherits the members, but is no ZeroCopyBuffer
  assert.throws(() => proto.slice.call(fake, 0), {
    name: 'TypeError',
    message: 'ZeroCopyBuffer.slice: called on an object that is not a ZeroCopyBuffer',
  });
  for (const [name, d] of Object.entries(Object.getOwnPropertyDescriptors(proto))) {
    if (name === 'constructor') continue;
    assert.throws(() => (d.value ?? d.get).call(fake, fake), TypeError, name);
  }
});

test("free() detaches the views of the buffer freed and nobody else's", { skip }, () => {
  const b = api.ZeroCopyBuffer.from('0123456789');
  const left = b.slice(0, 4);
  const right = b.slice(4);
  const views = { b: b.view(), left: left.view(), left2: left.view(), right: right.view() };
  // left's two views are Buffers over one native view (view() reuses an object's last one).
  assert.equal(b.sharers, 3 + 3, 'three buffers and the native views of three of them hold the bytes');
  left.free();
  assert.equal(views.left.length, 0);
  assert.equal(views.left2.length, 0);
  assert.equal(views.b.toString(), '0123456789');
  assert.equal(views.right.toString(), '456789');
  right.free();
  assert.equal(views.right.length, 0);
  assert.equal(views.b.toString(), '0123456789');
  const late = b.slice(2, 3);
  b.free();
  assert.equal(views.b.length, 0);
  assert.equal(late.view().toString(), '2', 'a sharer made after the others were freed still shows its bytes');
  const lateView = late.view();
  late.free();
  assert.equal(lateView.length, 0, 'the last free() detaches what is left');
});

test('the last free() gives pooled memory back at once, whichever sharer it is', { skip }, () => {
  const pool = new api.BufferPool({ budget: 8192, classes: [4096] });
  const p = pool.tryAcquire(8);
  p.append('pooled!!');
  const frozen = p.freeze();
  const parts = [frozen.slice(0, 4), frozen.slice(4), frozen.splitTo(2)];
  frozen.free();
  parts[0].free();
  parts[2].free();
  assert.equal(pool.snapshot().inUseBytes, 4096, 'one sharer is left');
  assert.equal(Buffer.from(parts[1].bytes()).toString(), 'ed!!');
  parts[1].free();
  assert.equal(pool.snapshot().inUseBytes, 0);
  pool.free();
});

test('a storage whose sharers are all dropped is released by the garbage collector', { skip }, async () => {
  const pool = new api.BufferPool({ budget: 4096, classes: [4096] });
  let view;
  (() => {
    const p = pool.tryAcquire(4);
    p.append('kept');
    const frozen = p.freeze();
    const slices = [frozen.slice(1), frozen.slice(0, 2).slice(1)];
    slices[0].free(); // some freed, the rest dropped
    view = frozen.slice(0, 4).view();
  })();
  await collect();
  assert.equal(view.toString(), 'kept', 'a view of a dropped sharer stays valid');
  assert.equal(pool.snapshot().inUseBytes, 4096, 'and holds the memory');
  view = null;
  await collect();
  assert.equal(pool.snapshot().inUseBytes, 0, 'the memory is back once nothing holds it');
  (() => {
    const p = pool.tryAcquire(4);
    p.append('abcd');
    const frozen = p.freeze();
    for (let i = 0; i < 100; i++) frozen.slice(0, i % 4);
  })();
  await collect();
  assert.equal(pool.snapshot().inUseBytes, 0, 'slices left to the collector, no views');
  pool.free();
});

test('read(), freeze() and the like return the JS class', { skip }, async () => {
  const { ZeroCopyBuffer, BufferMut, BufferPool, VirtualBuffer } = api;
  const m = new BufferMut(2);
  m.append('mu');
  const pool = new BufferPool({ budget: 4096, classes: [4096] });
  const p = pool.tryAcquire(2);
  p.append('po');
  const v = VirtualBuffer.fromBytes('virtual');
  const made = [m.freeze(), p.freeze('text'), await v.read(1, 4)];
  assert.deepEqual(made.map((x) => x instanceof ZeroCopyBuffer), [true, true, true]);
  assert.deepEqual(made.map((x) => Buffer.from(x.bytes()).toString()), ['mu', 'po', 'irt']);
  assert.equal(made[1].kind, 'text');
  assert.ok(made[2].slice(1).equals(ZeroCopyBuffer.from('rt')));
  assert.throws(() => BufferMut.prototype.freeze.call({}), TypeError);
  await assert.rejects(v.read(5, 2), RangeError);
  for (const x of made) x.free();
  v.free();
  pool.free();
});

// Small buffers from ZeroCopyBuffer.from() keep their bytes in JS until a member needs a native storage
// (js/addon-zero-copy.mjs); larger ones are native from the start. Nothing a program can see may tell
// them apart, apart from memory.
test('small buffers (bytes kept in JS) behave as native ones in every member', { skip }, () => {
  const { ZeroCopyBuffer, BufferPool } = api;
  const custom = api.BufferKind.register('small-test-kind');
  const sizes = [0, 5, 4096, 4097, 10000];
  const pool = new BufferPool({ budget: 1 << 20 });
  for (const size of sizes) {
    const bytes = new Uint8Array(size).map((_, i) => (i * 7) & 0xff);
    const inputs = [bytes, bytes.buffer, new DataView(bytes.buffer), new Uint16Array(bytes.buffer, 0, size >> 1),
      'é'.repeat(size >> 1)];
    for (const input of inputs) {
      for (const kind of [undefined, 'raw', custom]) {
        const b = ZeroCopyBuffer.from(input, kind);
        const expected = typeof input === 'string' ? Buffer.from(input) : Buffer.from(ArrayBuffer.isView(input)
          ? new Uint8Array(input.buffer, input.byteOffset, input.byteLength) : new Uint8Array(input));
        const what = `${size} bytes of ${input.constructor.name}, kind ${kind}`;
        assert.equal(b.length, expected.length, what);
        assert.equal(b.kind, kind ?? (typeof input === 'string' ? 'text' : 'raw'), what);
        assert.equal(b.tenant, undefined);
        assert.equal(b.sharers, 1);
        assert.deepEqual(Buffer.from(b.bytes()), expected, what);
        assert.ok(b.bytes() instanceof Uint8Array);
        const digest = Buffer.from(b.sha256()).toString('hex');
        const native = pool.tryAcquire(Math.max(1, expected.length));
        native.append(expected);
        const frozen = native.freeze(); // always a native storage
        assert.equal(Buffer.from(frozen.sha256()).toString('hex'), digest, what);
        assert.ok(b.equals(frozen) && frozen.equals(b), what);
        const tail = b.slice(Math.min(1, b.length));
        assert.equal(tail.sharers, 2);
        assert.equal(tail.equals(frozen), expected.length <= 1, what);
        const frozenTail = frozen.slice(Math.min(1, b.length));
        assert.ok(tail.equals(frozenTail), what);
        frozenTail.free();
        const view = tail.view();
        assert.deepEqual(Buffer.from(view), expected.subarray(Math.min(1, expected.length)), what);
        tail.free();
        assert.equal(view.length, 0, 'its own free() detaches its view');
        assert.equal(b.sharers, 1);
        const tenanted = b.withTenant('t1');
        const tagged = tenanted.retag(custom);
        assert.equal(tagged.tenant, 't1');
        assert.equal(tagged.kind, custom);
        assert.ok(tagged.equals(b));
        assert.equal(b.sharers, 3, 'the same bytes, shared by two more buffers');
        for (const x of [b, frozen, tenanted, tagged]) x.free();
        assert.throws(() => b.bytes(), { message: /freed/ });
      }
    }
  }
  assert.equal(pool.snapshot().inUseBytes, 0);
  pool.free();
});

test('small and native buffers refuse the same arguments with the same errors', { skip }, () => {
  const { ZeroCopyBuffer } = api;
  const detached = new ArrayBuffer(8);
  const overDetached = new Uint8Array(detached);
  const dataViewOverDetached = new DataView(detached);
  structuredClone(detached, { transfer: [detached] });
  const shared = new Uint8Array(new SharedArrayBuffer(4)).fill(9);
  for (const [bytes, expected] of [
    [detached, ''],
    [overDetached, ''],
    [dataViewOverDetached, ''],
    [new DataView(new ArrayBuffer(0)), ''],
    [shared, '09090909'],
    ['\ud800x', 'efbfbd78'], // a lone surrogate becomes U+FFFD
  ]) {
    assert.equal(Buffer.from(ZeroCopyBuffer.from(bytes).bytes()).toString('hex'), expected);
  }
  const big = 'x'.repeat(5000);
  for (const [bytes, kind] of [[5, undefined], [null, 'raw'], [{ length: 2 }, undefined], ['ab', 'no-such-kind'],
    ['ab', 5], [big, 'no-such-kind'], [new Uint8Array(2), {}]]) {
    const small = message(() => ZeroCopyBuffer.from(bytes, kind));
    assert.match(small, /^TypeError: /);
    const storage = message(() => api.ZeroCopyBuffer.from(typeof bytes === 'string' ? big : bytes, kind));
    assert.equal(small, storage);
  }
});
