// The rules of views that both builds keep (js/index.d.ts, "Views"): what a program may write into
// (PooledBuffer.view(), CircularWriter.slice()) reaches the object, and a view kept after the object
// let go of its memory never shows another object's bytes. The wasm build's views are copies (a view
// of wasm memory reaches all of it through .buffer); the addon's are its own tests' subject
// (js/test/addon-view-lifetimes.test.mjs), and the random-call fuzz checks both.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { collect } from './collect.mjs';
import { impl, entry, BufferPool, Circular, VirtualBuffer, ZeroCopyBuffer } from './impl.mjs';
import { plainBytesOverSharedMemory } from './plain-bytes.mjs';

const wasmOnly = impl === 'wasm' ? false : "the addon's views: js/test/addon-view-lifetimes.test.mjs";
const text = (bytes) => Buffer.from(bytes).toString();

test('what is written into PooledBuffer.view() is in the buffer, and in what it freezes into', () => {
  const pool = new BufferPool({ budget: 4096, classes: [16] });
  const p = pool.tryAcquire(16);
  p.append('aaaa');
  const v = p.view();
  v[0] = 0x41;
  v.subarray(2)[1] = 0x42;
  assert.equal(p.length, 4);
  p.append('cc');
  assert.equal(text(p.view()), 'AaaBcc');
  assert.equal(text(p.freeze().bytes()), 'AaaBcc');
});

test('a writer slice filled once and produced in two steps publishes all of it', () => {
  const w = Circular.withCapacity(64);
  const r = w.addReader();
  const room = w.slice();
  room.set([1, 2, 3, 4]);
  w.produce(2);
  w.produce(2);
  assert.deepEqual([...r.slice()], [1, 2, 3, 4]);
  r.consume(4);
  assert.equal(w.write(new Uint8Array([5])), 1, 'write() after a slice');
  w.produce(0);
  assert.deepEqual([...r.slice()], [5]);
  w.free();
});

test('wasm: a view kept after free() keeps its own bytes (observation 2, wasm)', { skip: wasmOnly }, async () => {
  const a = ZeroCopyBuffer.from('secret-one');
  const kept = a.view().subarray(0, 10);
  const whole = new Uint8Array(kept.buffer);
  await collect(2);
  a.free();
  const others = [];
  for (let i = 0; i < 1000; i++) others.push(ZeroCopyBuffer.from(`other-${i}`.padEnd(10, '!')));
  assert.equal(text(kept), 'secret-one');
  assert.equal(whole.length, 10, "a view's .buffer is its own copy, not wasm memory");
  for (const o of others) o.free();
});

test('wasm: a pooled view kept after free() is not the next buffer (observation 1, wasm)', { skip: wasmOnly }, async () => {
  const pool = new BufferPool({ budget: 16, classes: [16] });
  const p = pool.tryAcquire(16);
  p.append('aaaa');
  const kept = p.view().subarray(0, 4);
  await collect(2);
  p.free();
  pool.trim();
  const q = pool.tryAcquire(16);
  q.append('QQQQ');
  assert.equal(text(kept), 'aaaa');
  kept[0] = 0x41;
  assert.equal(text(q.freeze().bytes()), 'QQQQ', 'the frozen buffer is untouched');
});

test('wasm: reader slices are copies that later writes do not change (observation 3, wasm)', { skip: wasmOnly }, () => {
  const w = Circular.withCapacity(64);
  const r = w.addReader();
  w.write('first');
  const kept = r.slice();
  const unconsumed = r.slice(); // the same slice again: nothing changed
  w.write(' and more');
  assert.equal(text(unconsumed), 'first', 'a write does not reach a slice handed out');
  r.consume(5);
  assert.equal(kept.length, 0, 'consume() detaches the slices handed out, as the addon does');
  w.write('later writes fill the ring and wrap around it, again and again');
  assert.equal(kept.length, 0);
  w.free();
});

test('wasm: a VirtualBuffer read is a buffer whose view can be written without harm (observation 4, wasm)', { skip: wasmOnly }, async () => {
  const vb = VirtualBuffer.fromBytes('0123456789');
  const read = await vb.read(0, 8);
  read.view()[0] = 1;
  assert.equal(text(read.bytes()), '01234567');
  assert.equal(text((await vb.read(0, 10)).bytes()), '0123456789');
});

test('bytes handed out, but for ring slices, are over an ArrayBuffer (PlainBytes), never shared memory', async () => {
  assert.deepEqual(await plainBytesOverSharedMemory(entry), []);
});
