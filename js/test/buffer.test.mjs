import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { ZeroCopyBuffer, BufferMut, BufferKind } from './impl.mjs';

const bytes = (...b) => new Uint8Array(b);

test('from copies, view and bytes show the content', () => {
  const src = bytes(1, 2, 3, 4);
  const b = ZeroCopyBuffer.from(src);
  src[0] = 99; // the buffer holds a copy
  assert.equal(b.length, 4);
  assert.equal(b.kind, 'raw');
  assert.deepEqual([...b.view()], [1, 2, 3, 4]);
  assert.deepEqual([...b.bytes()], [1, 2, 3, 4]);
  assert.equal(ZeroCopyBuffer.from('héllo').kind, 'text');
  assert.equal(ZeroCopyBuffer.from('héllo').length, 6, 'strings are UTF-8');
  assert.deepEqual([...ZeroCopyBuffer.from(new Uint16Array([0x0201]).buffer).bytes()], [1, 2]);
  assert.deepEqual([...ZeroCopyBuffer.from(new Uint16Array([0x0403, 0x0201]).subarray(1)).bytes()], [1, 2]);
});

test('slices share storage and keep kind and tenant', () => {
  const b = ZeroCopyBuffer.from(bytes(10, 20, 30, 40), 'pcm16').withTenant('alpha');
  const s = b.slice(1, 3);
  assert.deepEqual([...s.bytes()], [20, 30]);
  assert.equal(s.kind, 'pcm16');
  assert.equal(s.tenant, 'alpha');
  assert.ok(b.sharers >= 2);
  assert.equal(b.slice(2).length, 2, 'end defaults to the length');
  const j = b.retag('jpeg');
  assert.equal(j.kind, 'jpeg');
  assert.equal(b.kind, 'pcm16');
});

test('split_to and split_off', () => {
  const b = ZeroCopyBuffer.from('0123456789');
  const head = b.splitTo(3);
  const tail = b.splitOff(4);
  assert.equal(new TextDecoder().decode(head.bytes()), '012');
  assert.equal(new TextDecoder().decode(b.bytes()), '3456');
  assert.equal(new TextDecoder().decode(tail.bytes()), '789');
});

test('bad ranges and numbers are RangeErrors and TypeErrors, and change nothing', () => {
  const b = ZeroCopyBuffer.from(bytes(1, 2, 3));
  assert.throws(() => b.slice(2, 7), { name: 'RangeError', message: /2\.\.7 is out of bounds for a buffer of 3 bytes/ });
  assert.throws(() => b.slice(2, 1), RangeError);
  assert.throws(() => b.slice(-1), RangeError);
  assert.throws(() => b.slice(1.5), TypeError);
  assert.throws(() => b.slice('x'), TypeError);
  assert.throws(() => b.slice(NaN), TypeError);
  assert.throws(() => b.splitTo(4), RangeError);
  assert.equal(b.length, 3);
  assert.throws(() => ZeroCopyBuffer.from(42), TypeError);
  assert.throws(() => ZeroCopyBuffer.from({}), TypeError);
  assert.throws(() => ZeroCopyBuffer.from(bytes(1), 'no-such-kind'), TypeError);
  assert.throws(() => b.equals({}), TypeError);
});

test('sha256 matches node:crypto over the visible bytes', () => {
  const b = ZeroCopyBuffer.from('xabcx').slice(1, 4);
  const expected = createHash('sha256').update('abc').digest();
  assert.deepEqual(Buffer.from(b.sha256()), expected);
});

test('equality is by content', () => {
  const a = ZeroCopyBuffer.from('same');
  const b = ZeroCopyBuffer.from('xsamex', 'jpeg').slice(1, 5);
  assert.ok(a.equals(b));
  assert.ok(!a.equals(ZeroCopyBuffer.from('other')));
});

test('BufferMut appends and freezes', () => {
  const m = new BufferMut(16, 'json');
  m.append('{"n":');
  m.append(bytes(0x31, 0x7d));
  assert.equal(m.length, 7);
  assert.ok(m.capacity >= 16);
  const f = m.freeze();
  assert.equal(new TextDecoder().decode(f.bytes()), '{"n":1}');
  assert.equal(f.kind, 'json');
  assert.throws(() => m.append('x'), /BufferMut was frozen/);
  assert.throws(() => m.freeze(), /BufferMut was frozen/);
  assert.throws(() => new BufferMut(-1), RangeError);
  assert.throws(() => new BufferMut(1, 'nope'), TypeError);
});

test('kinds register once and are looked up by name', () => {
  assert.equal(BufferKind.register('pcm24'), 'pcm24');
  assert.equal(BufferKind.register('pcm24'), 'pcm24');
  assert.ok(BufferKind.has('pcm24'));
  assert.ok(!BufferKind.has('never-registered'));
  assert.ok(BufferKind.names().includes('mulaw8'));
  assert.throws(() => BufferKind.register('has space'), TypeError);
  assert.throws(() => BufferKind.register(''), TypeError);
  assert.equal(ZeroCopyBuffer.from('x', 'pcm24').kind, 'pcm24');
});

test('using an object after free() or dispose says so', () => {
  const b = ZeroCopyBuffer.from('x');
  const s = b.slice(0, 1);
  b.free();
  assert.throws(() => b.length, { message: /ZeroCopyBuffer was freed/ });
  assert.throws(() => b.slice(0), { message: /ZeroCopyBuffer was freed/ });
  assert.equal(new TextDecoder().decode(s.bytes()), 'x', 'other views stay valid');
  s[Symbol.dispose]();
  assert.throws(() => s.bytes(), /was freed/);
});

test('slices are full ZeroCopyBuffers, and slice, view, length and free refuse another class as this', () => {
  const b = ZeroCopyBuffer.from(bytes(1, 2, 3, 4), 'raw').withTenant('t');
  const s = b.slice(1);
  assert.ok(s instanceof ZeroCopyBuffer);
  assert.equal(s.length, 3);
  assert.equal(s.kind, 'raw');
  assert.equal(s.tenant, 't');
  assert.deepEqual([...s.view()], [2, 3, 4]);
  assert.ok(s.equals(ZeroCopyBuffer.from(bytes(2, 3, 4))));
  assert.deepEqual([...s.slice(1, 2).bytes()], [3]);
  assert.deepEqual([...s.splitTo(1).bytes()], [2]);
  assert.deepEqual([...b.slice(2, undefined).bytes()], [3, 4], 'an undefined end means the length');
  assert.deepEqual([...b.slice(2, null).bytes()], [3, 4], 'so does null');
  assert.throws(() => b.slice(), { name: 'TypeError', message: /start must be an integer/ });
  assert.throws(() => b.slice(0, 'x'), { name: 'TypeError', message: /end must be an integer/ });
  assert.throws(() => b.slice(3, 2), RangeError);
  assert.throws(() => b.slice(0, 5), RangeError);
  assert.throws(() => b.slice(-1), RangeError);
  const proto = ZeroCopyBuffer.prototype;
  const length = Object.getOwnPropertyDescriptor(proto, 'length').get;
  for (const self of [{}, new BufferMut(1), undefined, null, 7]) {
    assert.throws(() => proto.slice.call(self, 0), TypeError);
    assert.throws(() => proto.view.call(self), TypeError);
    assert.throws(() => length.call(self), TypeError);
    assert.throws(() => proto.free.call(self), TypeError);
  }
  s.free();
  s.free();
  assert.throws(() => s.length, { message: /ZeroCopyBuffer was freed/ });
  assert.equal(b.length, 4, 'freeing a slice leaves its parent alone');
});

test('a random storm of bad calls throws JS exceptions and never crashes', () => {
  const values = [undefined, null, -1, 1.5, NaN, Infinity, 2 ** 53, 'x', {}, [], 0, 1, 3, 1e9];
  const b = ZeroCopyBuffer.from(bytes(1, 2, 3));
  let threw = 0;
  for (const x of values) {
    for (const y of values) {
      for (const call of [() => b.slice(x, y), () => b.retag(x), () => b.withTenant(x), () => ZeroCopyBuffer.from(x, y)]) {
        try {
          call();
        } catch (e) {
          assert.ok(e instanceof Error, `a JS Error, got ${e}`);
          threw++;
        }
      }
    }
  }
  assert.ok(threw > 0);
  assert.deepEqual([...b.bytes()], [1, 2, 3], 'the buffer is unchanged');
});
