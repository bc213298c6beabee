import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { Circular, CircularReader, CircularWriter, impl } from './impl.mjs';

/** Deterministic pseudo-random bytes (xorshift32), so a stream can be checked end to end. */
function pattern(length, seed = 0x9e3779b9) {
  const out = new Uint8Array(length);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < length; i++) {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    out[i] = x & 0xff;
  }
  return out;
}

/** Reads everything a reader has now (slice + consume until empty), as one copy. */
function drain(reader) {
  const parts = [];
  for (let s = reader.slice(); s !== null && s.length > 0; s = reader.slice()) {
    parts.push(Uint8Array.from(s));
    reader.consume(s.length);
  }
  return Buffer.concat(parts);
}

test('bytes go through slices to every reader, contiguous across the wrap', () => {
  const w = Circular.withCapacity(1000);
  const cap = w.capacity;
  assert.ok(cap >= 1000);
  const readers = [w.addReader(), w.addReader()];
  const data = pattern(cap * 3 + 123);
  const seen = readers.map(() => []);
  let sent = 0;
  let crossedTheEnd = false;
  while (sent < data.length) {
    const room = w.slice();
    // Odd chunk sizes move the positions across the end of the ring in different places.
    const n = Math.min(room.length, data.length - sent, 333);
    room.set(data.subarray(sent, sent + n));
    w.produce(n);
    sent += n;
    readers.forEach((r, i) => {
      const before = seen[i].reduce((a, b) => a + b.length, 0);
      const chunk = drain(r);
      if (Math.floor(before / cap) !== Math.floor((before + chunk.length - 1) / cap)) crossedTheEnd = true;
      seen[i].push(chunk);
    });
  }
  assert.ok(crossedTheEnd, 'some read crossed the end of the ring in one slice');
  for (const parts of seen) assert.deepEqual(Buffer.concat(parts), Buffer.from(data));
  w.free();
  for (const r of readers) assert.equal(r.slice(), null, 'the end of the stream');
});

test('the writer waits for the slowest reader; without readers it overwrites', async () => {
  const w = Circular.withCapacity(64);
  const cap = w.capacity;
  assert.equal(w.slice().length, cap, 'no readers: all of it');
  w.produce(cap);
  assert.equal(w.slice().length, cap, 'no readers: overwritten freely');
  const fast = w.addReader();
  const slow = w.addReader();
  assert.equal(fast.slice().length, 0, 'a new reader starts at the write position');
  assert.equal(w.write(pattern(cap)), cap);
  assert.equal(w.slice().length, 0, 'full');
  assert.equal(w.write('more'), 0, 'write() takes nothing when full');
  drain(fast);
  assert.equal(w.slice().length, 0, 'still held back by the slow reader');
  const room = w.sliceAsync();
  slow.consume(10);
  assert.equal((await room).length >= 10, true, 'sliceAsync resolves once the slow reader moves');
  slow.free();
  drain(fast);
  assert.equal(w.slice().length, cap, 'a freed reader holds nothing back');
  w.free();
  fast.free();
});

test('sliceAsync resolves with data, then null at the end', async () => {
  const w = Circular.withCapacity(256);
  const r = w.addReader();
  const pending = r.sliceAsync();
  setTimeout(() => w.write('late bytes'), 5);
  const got = await pending;
  assert.equal(Buffer.from(got).toString(), 'late bytes');
  r.consume(got.length);
  const end = r.sliceAsync();
  setTimeout(() => w.free(), 5);
  assert.equal(await end, null);
  r.free();
});

test('a stream through sliceAsync on both sides arrives intact', async () => {
  const w = Circular.withCapacity(4096);
  const readers = [w.addReader(), w.addReader()];
  const total = 1 << 18;
  const data = pattern(total, 7);
  const consume = async (r) => {
    const hash = createHash('sha256');
    let n = 0;
    for (let s = await r.sliceAsync(); s !== null; s = await r.sliceAsync()) {
      hash.update(s);
      n += s.length;
      r.consume(s.length);
    }
    r.free();
    return [n, hash.digest('hex')];
  };
  const results = Promise.all(readers.map(consume));
  for (let sent = 0; sent < total; ) {
    const room = await w.sliceAsync();
    const n = Math.min(room.length, total - sent, 1000);
    room.set(data.subarray(sent, sent + n));
    w.produce(n);
    sent += n;
  }
  w.free();
  const expected = createHash('sha256').update(data).digest('hex');
  for (const [n, digest] of await results) {
    assert.equal(n, total);
    assert.equal(digest, expected);
  }
});

test('bad input is a TypeError or RangeError, use after free an Error', async () => {
  assert.throws(() => Circular.withCapacity(0), RangeError);
  assert.throws(() => Circular.withCapacity(-1), RangeError);
  assert.throws(() => Circular.withCapacity(1.5), TypeError);
  assert.throws(() => Circular.withCapacity('big'), TypeError);
  assert.throws(() => Circular.withCapacity(64, { backend: 'magic' }), TypeError);
  const w = Circular.withCapacity(64);
  const r = w.addReader();
  assert.throws(() => w.produce(w.capacity + 1), { name: 'RangeError', message: /cannot produce/ });
  assert.throws(() => w.produce(-1), RangeError);
  assert.throws(() => w.write(42), TypeError);
  w.write('abc');
  assert.throws(() => r.consume(4), { name: 'RangeError', message: /cannot consume 4 items: only 3/ });
  assert.throws(() => r.consume(NaN), TypeError);
  const pending = w.sliceAsync().then(() => 'resolved', (e) => e);
  r.free();
  assert.throws(() => r.slice(), /CircularReader was freed/);
  assert.equal(await pending, 'resolved', 'the freed reader released the writer');
  const waiting = w.addReader().sliceAsync();
  w.free();
  assert.equal(await waiting, null, 'a waiting reader sees the end when the writer is freed');
  assert.throws(() => w.slice(), /CircularWriter was freed/);
  assert.throws(() => w.addReader(), /CircularWriter was freed/);
});

test('a pending sliceAsync rejects when its own side is freed', async () => {
  const w = Circular.withCapacity(64);
  const r = w.addReader();
  const pending = r.sliceAsync();
  r.free();
  await assert.rejects(pending, /CircularReader was freed/);
  w.free();
});

test('backends: double-mapped where available, mirror-copy on request and in wasm', () => {
  const w = Circular.withCapacity(100);
  const native = impl === 'addon' && Circular.doubleMappingAvailable();
  assert.equal(w.backend, native ? 'double-mapped' : 'mirror-copy');
  w.free();
  const m = Circular.withCapacity(100, { backend: 'mirror-copy' });
  assert.equal(m.backend, 'mirror-copy');
  const r = m.addReader();
  const cap = m.capacity;
  m.write(pattern(cap - 3));
  drain(r);
  m.write(pattern(10, 3)); // across the end: the writer mirrors what it wrote past it
  assert.deepEqual(drain(r), Buffer.from(pattern(10, 3)));
  m.free();
  r.free();
});

test('sliceSync refuses to block the main thread', () => {
  const w = Circular.withCapacity(64);
  const r = w.addReader();
  assert.throws(() => r.sliceSync(), { name: 'Error', message: /sliceAsync/ });
  assert.throws(() => w.sliceSync(), { name: 'Error', message: /sliceAsync/ });
  w.free();
  r.free();
});

test('handles move a side between threads (addon) or say why not (wasm)', () => {
  const w = Circular.withCapacity(64);
  const r = w.addReader();
  if (impl !== 'addon') {
    // The single-thread build: rings cross threads in the browser's threaded build, which needs
    // cross-origin isolation (js/e2e/rings-threads.test.mjs), or in the addon.
    const named = /single-thread wasm build.*Cross-Origin-Opener-Policy: same-origin.*Cross-Origin-Embedder-Policy: require-corp/;
    assert.throws(() => r.toHandle(), named);
    assert.throws(() => CircularReader.fromHandle({}), named);
    w.free();
    r.free();
    return;
  }
  const handle = r.toHandle();
  assert.deepEqual(Object.keys(handle).sort(), ['id', 'omnibuf']);
  assert.throws(() => r.slice(), /moved to a handle/);
  assert.throws(() => CircularWriter.fromHandle(handle), TypeError);
  const back = CircularReader.fromHandle(structuredClone(handle));
  assert.throws(() => CircularReader.fromHandle(handle), /already claimed/);
  assert.throws(() => CircularReader.fromHandle({ omnibuf: 'CircularReader' }), TypeError);
  w.write('via handle');
  assert.equal(drain(back).toString(), 'via handle');
  const wh = w.toHandle();
  const w2 = CircularWriter.fromHandle(wh);
  w2.free();
  assert.equal(back.slice(), null);
  back.free();
});
