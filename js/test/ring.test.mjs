import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { copyFileSync, mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { collect } from './collect.mjs';
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

test('write() into a ring without readers takes its room, the capacity, and no more: with a slice out or not', () => {
  for (const capacity of [7, 4096, 1 << 20]) {
    const w = Circular.withCapacity(capacity);
    const cap = w.capacity;
    const more = new Uint8Array(4 * cap + 5);
    assert.equal(w.write(more), cap, `${cap}: no slice out`);
    w.slice();
    assert.equal(w.write(more), cap, `${cap}: a slice out`);
    assert.equal(w.write(new Uint8Array(cap - 1)), cap - 1, `${cap}: less than the capacity`);
    w.free();
  }
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

test('a side peeked at again before it publishes or takes bytes gives the same slice, in both builds', async () => {
  const w = Circular.withCapacity(4096);
  const r = w.addReader();
  const room = w.slice();
  assert.equal(w.slice(), room, "the writer's room, again");
  room.set([1, 2, 3]);
  w.produce(3);
  const peeked = r.slice();
  // A reader waiting for a whole message peeks at every event: one slice, not one kept per peek.
  for (let i = 0; i < 10_000; i++) assert.equal(r.slice(), peeked);
  assert.equal(await r.sliceAsync(), peeked);
  assert.deepEqual([...peeked], [1, 2, 3]);
  w.write(Uint8Array.of(4));
  const more = r.slice();
  assert.notEqual(more, peeked, 'more bytes arrived: another slice');
  assert.deepEqual([...more], [1, 2, 3, 4]);
  r.consume(4);
  assert.equal(more.length, 0, 'consume() detached it');
  w.free();
  r.free();
});

test('a reader slice kept past consume() and the next slices never shows other bytes', async () => {
  const w = Circular.withCapacity(4096);
  const r = w.addReader();
  const kept = [];
  for (let round = 0; round < 6; round++) {
    const sent = Uint8Array.of(round, round + 1, round + 2);
    w.write(sent);
    // From slice() and from a sliceAsync() served at once (the one after the loop waits).
    const got = round % 2 === 0 ? r.slice() : await r.sliceAsync();
    kept.push([got, [...sent]]);
    r.consume(got.length);
  }
  const late = r.sliceAsync();
  w.write('later');
  kept.push([await late, [...Buffer.from('later')]]);
  // Each kept slice is detached (empty) or still shows exactly the bytes it showed.
  for (const [slice, bytes] of kept) {
    if (slice.length > 0) assert.deepEqual([...slice], bytes);
  }
  w.free();
  r.free();
});

test('slices against a model of ring memory: bytes written into the last slice are the room\'s, across re-slicing, write() and partial produce()', async () => {
  // The model: what the program wrote into the writer's free room, by stream offset (the addon's
  // slices are that memory; the wasm build's copies must behave the same). Bytes of the room that
  // nobody wrote are unspecified and not checked. Only the latest slice is written to.
  for (let seed = 1; seed <= 6; seed++) {
    let x = seed * 0x9e3779b1;
    const rand = (n) => {
      x ^= x << 13;
      x ^= x >>> 17;
      x ^= x << 5;
      return (x >>> 0) % n;
    };
    const w = Circular.withCapacity(64, { backend: 'mirror-copy' });
    const r = w.addReader();
    const written = new Map(); // stream offset -> byte, for the room's bytes the program wrote
    const expected = []; // the stream as published, undefined where unspecified
    let received = 0;
    let slice = null; // the writer's latest slice, while the room has not moved
    const publish = (n) => {
      for (let i = 0; i < n; i++) {
        expected.push(written.get(expected.length));
        written.delete(expected.length - 1);
      }
    };
    const check = (bytes, what) => {
      for (let i = 0; i < bytes.length; i++) {
        const want = expected[received + i];
        if (want !== undefined) assert.equal(bytes[i], want, `seed ${seed}, ${what}: stream byte ${received + i}`);
      }
    };
    for (let step = 0; step < 1500; step++) {
      const op = rand(9);
      if (op <= 1) {
        slice = w.slice();
      } else if (op === 2 && slice !== null && slice.length > 0) {
        const at = rand(slice.length);
        const n = 1 + rand(slice.length - at);
        for (let i = at; i < at + n; i++) {
          slice[i] = rand(256);
          written.set(expected.length + i, slice[i]);
        }
      } else if (op === 3) {
        const free = w.slice().length; // the room as it is now (a slice of the same room, or a longer one)
        const n = rand(free + 1);
        w.produce(n);
        publish(n);
        slice = null;
      } else if (op === 4) {
        const bytes = Uint8Array.from({ length: rand(12) }, () => rand(256));
        const n = w.write(bytes);
        for (let i = 0; i < n; i++) written.set(expected.length + i, bytes[i]);
        publish(n);
        if (n > 0) slice = null;
      } else if (op === 5) {
        const got = r.slice();
        check(got, 'slice()');
        const n = rand(got.length + 1);
        r.consume(n);
        received += n;
      } else if (op === 6) {
        const got = r.read(1 + rand(20));
        check(got, 'read()');
        received += got.length;
      } else if (op === 7) {
        // Two waits settled together see the same bytes.
        const [a, b] = [r.sliceAsync(), r.sliceAsync()];
        if (received === expected.length) {
          const bytes = Uint8Array.of(rand(256));
          w.write(bytes);
          written.set(expected.length, bytes[0]);
          publish(1);
          slice = null;
        }
        const [first, second] = await Promise.all([a, b]);
        assert.ok(first.length > 0 && first.length === second.length, `seed ${seed}: waits settled together: ${first.length}, ${second.length}`);
        check(first, 'the first of two sliceAsync()s');
        check(second, 'the second of two sliceAsync()s');
      } else if (op === 8 && received === expected.length) {
        // Two writer waits for room settled together: the same room.
        const [a, b] = await Promise.all([w.sliceAsync(), w.sliceAsync()]);
        assert.equal(a.length, b.length, `seed ${seed}: writer waits settled together`);
        assert.ok(a.length > 0);
        slice = b;
      }
    }
    w.free();
    for (let got = r.read(); got !== null; got = r.read()) {
      check(got, 'the rest');
      received += got.length;
    }
    assert.equal(received, expected.length);
  }
});

test("a writer's slice whose ArrayBuffer the program transfers away: never other bytes published", () => {
  const w = Circular.withCapacity(64, { backend: 'mirror-copy' });
  const r = w.addReader();
  w.write('old bytes, read'); // so that the room holds bytes other than the ones about to be written
  r.read();
  const s = w.slice();
  s.set([0x41, 0x42, 0x43]);
  try {
    structuredClone(s, { transfer: [s.buffer] });
  } catch (e) {
    // Node 22 on refuses to move an external buffer; Node 18 and 20 copy it.
    assert.equal(impl, 'addon');
    assert.equal(e.name, 'DataCloneError');
  }
  if (impl === 'addon') {
    // The addon's transfer copied or was refused: the bytes stay in the ring's memory.
    w.produce(3);
    assert.equal(text(r.read()), 'ABC');
  } else {
    // The wasm build's slice is memory of its own, moved away with what was written into it.
    assert.throws(() => w.produce(3), { name: 'Error', code: 'ERR_INVALID_STATE', message: /transferred away/ });
    assert.equal(r.read().length, 0, 'nothing published');
    w.produce(0);
    w.slice().set([0x61, 0x62]);
    w.produce(2);
    assert.equal(text(r.read()), 'ab');
  }
  w.free();
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
  // The bounds a capacity takes, as every other number argument says its own.
  for (const capacity of [0, -1]) {
    assert.throws(() => Circular.withCapacity(capacity), {
      name: 'RangeError',
      code: 'ERR_OUT_OF_RANGE',
      message: `capacity must be between 1 and ${Number.MAX_SAFE_INTEGER}, got ${capacity}`,
    });
  }
  assert.throws(() => Circular.withCapacity(1.5), TypeError);
  assert.throws(() => Circular.withCapacity('big'), TypeError);
  assert.throws(() => Circular.withCapacity(64, { backend: 'magic' }), TypeError);
  const w = Circular.withCapacity(64);
  const r = w.addReader();
  assert.throws(() => w.produce(w.capacity + 1), { name: 'RangeError', message: /^cannot produce \d+ bytes: only \d+ are free$/ });
  assert.throws(() => w.produce(-1), RangeError);
  assert.throws(() => w.write(42), TypeError);
  w.write('abc');
  assert.throws(() => r.consume(4), { name: 'RangeError', message: /^cannot consume 4 bytes: only 3 are available$/ });
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

test('readInto copies unread bytes into a target of any size and consumes them, -1 at the end', () => {
  const w = Circular.withCapacity(4096);
  const cap = w.capacity;
  const r = w.addReader();
  assert.equal(r.readInto(new Uint8Array(16)), 0, 'nothing yet');
  // Many times round the ring, in writes and reads of odd sizes: across the wrap and in pieces.
  const data = pattern(5 * cap + 123);
  const got = [];
  let [sent, received] = [0, 0];
  for (let round = 0; received < data.length; round++) {
    sent += w.write(data.subarray(sent, Math.min(data.length, sent + 1 + ((round * 977) % (cap + 500)))));
    const target = new Uint8Array(1 + ((round * 131) % 1500));
    const n = r.readInto(target);
    assert.ok(n >= 0 && n <= target.length);
    assert.ok(n > 0 || sent === received, 'unread bytes come out');
    got.push(target.slice(0, n));
    received += n;
  }
  assert.deepEqual(Buffer.concat(got), Buffer.from(data));
  assert.equal(r.readInto(new Uint8Array(16)), 0, 'all read: nothing yet again');
  // A write takes what fits, a whole ring at most.
  const big = pattern(cap + 100);
  let taken = 0;
  for (let n = w.write(big); n > 0; n = w.write(big.subarray(taken))) taken += n;
  assert.equal(taken, cap);
  const whole = new Uint8Array(cap + 100);
  assert.equal(r.readInto(whole), cap);
  assert.deepEqual(whole.subarray(0, cap), pattern(cap));
  // Other targets are filled from their own start.
  w.write('abcdefg');
  const backing = new Uint8Array(8);
  assert.equal(r.readInto(new DataView(backing.buffer, 2, 3)), 3);
  assert.deepEqual([...backing], [0, 0, 97, 98, 99, 0, 0, 0]);
  const wide = new Uint16Array(1);
  assert.equal(r.readInto(wide), 2);
  assert.deepEqual([...new Uint8Array(wide.buffer)], [100, 101]);
  assert.equal(r.readInto(new ArrayBuffer(1)), 1);
  assert.equal(r.readInto(new Uint8Array(0)), 0, 'an empty target takes nothing');
  const last = new Uint8Array(4);
  assert.equal(r.readInto(last), 1);
  assert.equal(last[0], 103);
  // The end: what is left, then -1 for good.
  w.write('xyz');
  w.free();
  assert.equal(r.readInto(last), 3);
  assert.equal(r.readInto(last), -1);
  assert.equal(r.readInto(last), -1);
  r.free();
  assert.throws(() => r.readInto(last), /CircularReader was freed/);
});

test("readInto() detaches the reader's slices first: one given as its target is refused (it would read nothing, forever), in both builds", () => {
  const w = Circular.withCapacity(4096);
  const r = w.addReader();
  w.write('abcdef');
  const ownSlice = {
    name: 'TypeError',
    code: 'ERR_INVALID_ARG_VALUE',
    message:
      "CircularReader.readInto: target is a view of this reader's own slice, which the read detaches: read the slice itself and consume() it, or readInto() memory of your own",
  };
  for (const target of [(s) => s, (s) => s.subarray(2), (s) => new DataView(s.buffer, s.byteOffset, 1), (s) => s.buffer]) {
    const slice = r.slice();
    const part = slice.subarray(2);
    assert.throws(() => r.readInto(target(slice)), ownSlice);
    assert.equal(slice.length, 0, 'detached');
    assert.equal(part.length, 0, 'with every array over its memory');
  }
  assert.equal(new TextDecoder().decode(r.read()), 'abcdef', 'nothing was consumed');
  // A later slice of other bytes is unaffected by an older one given as the target.
  w.write('gh');
  const old = r.slice();
  w.write('ij');
  const target = new Uint8Array(8);
  assert.equal(r.readInto(target), 4);
  assert.equal(new TextDecoder().decode(target.subarray(0, 4)), 'ghij');
  assert.equal(old.length, 0);
  w.free();
  r.free();
});

test('a readInto() refused for its target changes nothing: slices stay, and the next one sees every byte', () => {
  const bad = [null, 5, 'abc', {}];
  const w = Circular.withCapacity(64);
  const r = w.addReader();
  w.write('ab');
  for (const target of bad) {
    assert.throws(() => r.readInto(target), { name: 'TypeError', code: 'ERR_INVALID_ARG_TYPE' });
  }
  w.write('cd');
  const target = new Uint8Array(8);
  assert.equal(r.readInto(target), 4, 'the bytes published after the refused calls too');
  assert.equal(text(target.subarray(0, 4)), 'abcd');
  w.write('ef');
  const held = r.slice();
  for (const target of bad) assert.throws(() => r.readInto(target), { name: 'TypeError' });
  assert.equal(text(held), 'ef', 'the slice handed out before stays');
  w.free();
  r.free();
});

test('slice(), read() and readInto() show every byte published, also after an earlier slice() saw fewer', () => {
  for (const take of ['slice', 'read', 'readInto']) {
    const w = Circular.withCapacity(64, { backend: 'mirror-copy' });
    const r = w.addReader();
    w.write('abcdefghij');
    assert.equal(r.slice().length, 10);
    w.write('0123456789');
    const got =
      take === 'slice' ? r.slice() : take === 'read' ? r.read() : (() => {
        const target = new Uint8Array(32);
        return target.subarray(0, r.readInto(target));
      })();
    assert.equal(text(got), 'abcdefghij0123456789', take);
    w.free();
    r.free();
  }
});

test('read copies unread bytes out (max at most) and consumes them; what it returns stays as it was', () => {
  const w = Circular.withCapacity(4096);
  const cap = w.capacity;
  const r = w.addReader();
  assert.equal(r.read().length, 0, 'nothing yet');
  const data = pattern(7 * cap + 5);
  const got = [];
  let [sent, received] = [0, 0];
  for (let round = 0; received < data.length; round++) {
    sent += w.write(data.subarray(sent, Math.min(data.length, sent + 1 + ((round * 977) % (cap + 500)))));
    const max = round % 3 === 0 ? undefined : 1 + ((round * 131) % 1500);
    const chunk = r.read(max);
    assert.ok(chunk instanceof Uint8Array);
    assert.ok(max === undefined || chunk.length <= max);
    assert.ok(chunk.length > 0 || sent === received, 'unread bytes come out');
    got.push(chunk); // kept, not copied: later writes must not change it
    received += chunk.length;
  }
  assert.deepEqual(Buffer.concat(got), Buffer.from(data));
  assert.equal(r.read(0).length, 0);
  w.write('end');
  w.free();
  assert.deepEqual([...r.read()], [101, 110, 100]);
  assert.equal(r.read(), null);
  assert.equal(r.read(5), null);
  r.free();
  assert.throws(() => r.read(), /CircularReader was freed/);
});

test('readInto detaches the slices handed out before, as consume does (addon)', { skip: impl !== 'addon' && 'the wasm build copies every slice' }, () => {
  const w = Circular.withCapacity(4096);
  const r = w.addReader();
  w.write('abc');
  const slice = r.slice();
  assert.equal(slice.length, 3);
  // The slice itself as the target: detached first, so it would take nothing: refused, and the bytes
  // stay unread.
  assert.throws(() => r.readInto(slice), { code: 'ERR_INVALID_ARG_VALUE' });
  assert.equal(slice.length, 0);
  const target = new Uint8Array(3);
  const again = r.slice();
  assert.equal(r.readInto(target), 3);
  assert.equal(again.length, 0, 'the writer may reuse those bytes now: the slice shows none of them');
  assert.deepEqual([...target], [97, 98, 99]);
});

test('write() of a view of its own ring takes the bytes it shows', () => {
  const w = Circular.withCapacity(4096);
  const r = w.addReader();
  const room = w.slice();
  room.set([1, 2, 3]);
  // The bytes are read before the write detaches the slice they are in.
  assert.equal(w.write(room.subarray(0, 3)), 3);
  const got = new Uint8Array(8);
  assert.equal(r.readInto(got), 3);
  assert.deepEqual([...got.subarray(0, 3)], [1, 2, 3]);
});

test("produce() and write() detach the writer's slices in both builds; what was written past what went out stays the room's start", () => {
  for (const publish of ['produce(n)', 'write(view of the slice)', 'write(other bytes)', 'produce(0)', 'write(nothing)']) {
    const w = Circular.withCapacity(4096, { backend: 'mirror-copy' });
    const r = w.addReader();
    const room = w.slice();
    room.set([1, 2, 3, 4, 5, 6]);
    const rest = room.subarray(3, 6); // a view taken before: detached with the slice
    const n = { 'produce(n)': 3, 'write(view of the slice)': 3, 'write(other bytes)': 3 }[publish] ?? 0;
    if (publish === 'produce(n)' || publish === 'produce(0)') w.produce(n);
    else if (publish === 'write(view of the slice)') assert.equal(w.write(room.subarray(0, 3)), 3);
    else if (publish === 'write(other bytes)') assert.equal(w.write(Uint8Array.of(1, 2, 3)), 3);
    else assert.equal(w.write(new Uint8Array(0)), 0);
    assert.equal(room.length, 0, `${publish}: the slice`);
    assert.equal(rest.length, 0, `${publish}: a view of the slice`);
    // Written into the old slice now, nothing reaches the ring; the next slice starts with what was
    // written past the published bytes, as ring memory would.
    assert.throws(() => room.subarray(0, 1).fill(9), TypeError);
    assert.deepEqual([...w.slice().subarray(0, 6 - n)], [1, 2, 3, 4, 5, 6].slice(n), publish);
    assert.equal(w.write(rest), 0, `${publish}: the detached view writes nothing`);
    w.produce(6 - n);
    w.free();
    assert.deepEqual([...r.read(16)], [1, 2, 3, 4, 5, 6], publish);
    r.free();
  }
});

test("what does not detach a writer's slices, in both builds: a produce(n) refused, and the empty slice of a full ring", async () => {
  const w = Circular.withCapacity(4096, { backend: 'mirror-copy' });
  const r = w.addReader();
  const room = w.slice();
  room.set([1, 2, 3]);
  assert.throws(() => w.produce(room.length + 1), { name: 'RangeError', code: 'ERR_OUT_OF_RANGE' });
  assert.throws(() => w.produce(2 ** 32), { name: 'RangeError', code: 'ERR_OUT_OF_RANGE' });
  assert.equal(room.length, w.capacity, 'a refused produce() changes nothing');
  w.produce(w.capacity); // fills the ring
  const none = w.slice();
  assert.equal(none.length, 0);
  w.produce(0);
  assert.equal(w.write(Uint8Array.of(9)), 0);
  assert.deepEqual([...none.subarray(0)], [], 'the empty slice is a view like any other');
  assert.deepEqual([...r.read(3)], [1, 2, 3]);
  // A sliceAsync() whose room a write() takes before it is awaited: never a slice past the room.
  const later = w.sliceAsync();
  w.write(Uint8Array.of(4, 5));
  const slice = await later;
  assert.ok(slice.length <= 1, `a slice of ${slice.length} bytes over a room of 1`);
  w.produce(slice.length);
  w.free();
  r.free();
});

test("free() and abort() empty the side's slices in both builds, a sliceAsync() served at the call too; the other side's stay", async () => {
  for (const end of ['writer.free()', 'writer.abort()', 'reader.free()', 'reader[Symbol.dispose]()']) {
    const w = Circular.withCapacity(4096, { backend: 'mirror-copy' });
    const r = w.addReader();
    const room = w.slice();
    room.set([1, 2, 3]);
    w.produce(3);
    const kept = w.slice(); // the writer's slice after produce(), and a view of it
    const keptView = kept.subarray(1);
    const read = r.slice(); // the reader's slice, and a view of it
    const readView = read.subarray(1);
    const served = end.startsWith('writer') ? w.sliceAsync() : r.sliceAsync(); // room or data there: served at the call
    if (end === 'writer.free()') w.free();
    else if (end === 'writer.abort()') w.abort('stop');
    else if (end === 'reader.free()') r.free();
    else r[Symbol.dispose]();
    const [ended, other] = end.startsWith('writer') ? [[kept, keptView], [read, readView]] : [[read, readView], [kept, keptView]];
    assert.deepEqual(
      ended.map((v) => v.length),
      [0, 0],
      `${end}: its slices are empty`,
    );
    assert.equal((await served).length, 0, `${end}: the slice of a sliceAsync() served at the call`);
    assert.ok(other[0].length > 0 && other[1].length === other[0].length - 1, `${end}: the other side's slices stay`);
    if (end.startsWith('writer')) {
      assert.deepEqual([...read], [1, 2, 3], `${end}: the reader still reads what was published`);
      r.free();
    } else {
      w.free();
    }
  }
});

test('a pending sliceAsync rejects when its own side is freed', async () => {
  const w = Circular.withCapacity(64);
  const r = w.addReader();
  const pending = r.sliceAsync();
  r.free();
  await assert.rejects(pending, /CircularReader was freed/);
  w.free();
});

test("a reader slice's buffer shows no byte the reader consumed, in slice() and sliceAsync()", async () => {
  for (const backend of ['mirror-copy', undefined]) {
    const w = Circular.withCapacity(64, backend === undefined ? undefined : { backend });
    const r = w.addReader();
    w.write('SECRET, already consumed');
    r.consume(r.slice().length);
    const outside = (slice) => {
      const all = new Uint8Array(slice.buffer);
      return [...all.subarray(0, slice.byteOffset), ...all.subarray(slice.byteOffset + slice.length)];
    };
    w.write('ab');
    const shown = r.slice();
    assert.equal(Buffer.from(shown).toString(), 'ab');
    assert.ok(outside(shown).every((b) => b === 0), `${backend}: ${Buffer.from(shown.buffer)}`);
    r.consume(2);
    const waited = r.sliceAsync();
    w.write('Z');
    const settled = await waited;
    assert.equal(Buffer.from(settled).toString(), 'Z');
    assert.ok(outside(settled).every((b) => b === 0), `${backend}: ${Buffer.from(settled.buffer)}`);
    w.free();
    r.free();
  }
});

test('double mapping asked for where the system lacks it is an Error with Node\'s code for a missing feature', () => {
  if (Circular.doubleMappingAvailable()) {
    const w = Circular.withCapacity(100, { backend: 'double-mapped' });
    assert.equal(w.backend, 'double-mapped');
    w.free();
    return;
  }
  assert.throws(() => Circular.withCapacity(100, { backend: 'double-mapped' }), {
    name: 'Error',
    code: 'ERR_FEATURE_UNAVAILABLE_ON_PLATFORM',
    message: 'double-mapped memory is not available on this system',
  });
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

test('sliceSync refuses to block the main thread, in the same words in both builds, before looking at its timeout', () => {
  const w = Circular.withCapacity(64);
  const r = w.addReader();
  for (const [side, cls] of [[r, 'CircularReader'], [w, 'CircularWriter']]) {
    const said = {
      name: 'Error',
      code: 'ERR_INVALID_STATE',
      message: `${cls}.sliceSync() would block the main thread's event loop, which must never block: use sliceAsync(), or slice(), which returns at once`,
    };
    assert.throws(() => side.sliceSync(), said);
    assert.throws(() => side.sliceSync(10), said);
    for (const bad of [-1, NaN, 'x', {}]) assert.throws(() => side.sliceSync(bad), said);
  }
  w.free();
  r.free();
});

test('handles move a side between threads (addon) or say why not (wasm)', () => {
  const w = Circular.withCapacity(64);
  const r = w.addReader();
  if (impl !== 'addon') {
    // The single-thread build, in Node: rings cross threads in the addon (in the browser, in the
    // threaded build, which needs cross-origin isolation: js/e2e/rings-threads.test.mjs).
    for (const [call, member] of [
      [() => r.toHandle(), 'CircularReader.toHandle()'],
      [() => w.toHandle(), 'CircularWriter.toHandle()'],
      [() => CircularReader.fromHandle({}), 'CircularReader.fromHandle()'],
      [() => CircularWriter.fromHandle({}), 'CircularWriter.fromHandle()'],
    ]) {
      assert.throws(call, {
        name: 'Error',
        code: 'ERR_FEATURE_UNAVAILABLE_ON_PLATFORM',
        message: `${member} is not available in the wasm build in Node ("omnibuf/wasm"), whose rings stay on the thread that made them: the addon's rings ("omnibuf") cross worker threads`,
      });
    }
    w.free();
    r.free();
    return;
  }
  const handle = r.toHandle();
  assert.deepEqual(Object.keys(handle).sort(), ['copyToken', 'id', 'omnibuf']);
  assert.throws(() => r.slice(), /moved to a handle/);
  assert.throws(() => CircularWriter.fromHandle(handle), TypeError);
  const back = CircularReader.fromHandle(structuredClone(handle));
  assert.throws(() => CircularReader.fromHandle(handle), /already claimed/);
  assert.throws(() => CircularReader.fromHandle({ omnibuf: 'CircularReader' }), TypeError);
  // An id no toHandle() gave is a malformed handle, in the threaded browser build's words too.
  for (const id of [1.5, 0, -1, 2 ** 60]) {
    assert.throws(() => CircularReader.fromHandle({ ...handle, id }), {
      name: 'TypeError',
      message: 'CircularReader.fromHandle needs the object toHandle() returned',
    });
  }
  // Freed after it moved: it says it was freed, as the browser build's object does.
  r.free();
  assert.throws(() => r.slice(), { code: 'ERR_INVALID_STATE', message: 'this CircularReader was freed and cannot be used any more' });
  w.write('via handle');
  assert.equal(drain(back).toString(), 'via handle');
  const wh = w.toHandle();
  const w2 = CircularWriter.fromHandle(wh);
  w2.free();
  assert.equal(back.slice(), null);
  back.free();
});

test("a side's pending sliceAsync() rejects when the side moves to a handle (addon)", { skip: impl !== 'addon' && 'the wasm build in Node has no handles' }, async () => {
  // The threaded browser build's outcomes are the same (js/e2e/rings-threads.test.mjs).
  const gone = (cls, how) => ({ name: 'Error', code: 'ERR_INVALID_STATE', message: `this ${cls} was ${how} and cannot be used any more` });
  for (const side of ['reader', 'writer']) {
    for (const freed of [false, true]) {
      const w = Circular.withCapacity(64);
      const r = w.addReader();
      if (side === 'writer') while (w.write(new Uint8Array(w.capacity)) > 0);
      const waiting = side === 'reader' ? r : w;
      const pending = waiting.sliceAsync({ ref: true });
      await new Promise((resolve) => setImmediate(resolve));
      const handle = waiting.toHandle();
      // The wake-up goes round the event loop: a side freed before then says it was freed.
      if (freed) waiting.free();
      const cls = side === 'reader' ? 'CircularReader' : 'CircularWriter';
      await assert.rejects(pending, gone(cls, freed ? 'freed' : 'moved to a handle'), `${side}, freed: ${freed}`);
      (side === 'reader' ? CircularReader : CircularWriter).fromHandle(handle).free();
      w.free();
      r.free();
    }
  }
});

const text = (bytes) => Buffer.from(bytes).toString('latin1');

test("several readers: a write into one reader's slice never reaches another reader", () => {
  const w = Circular.withCapacity(4096);
  const a = w.addReader();
  const b = w.addReader();
  w.write('produced bytes');
  const mine = a.slice();
  assert.equal(text(mine), 'produced bytes');
  // Read-only by contract; a program may write all the same, through the slice or its .buffer.
  mine.fill(0x21, 0, 4);
  new Uint8Array(mine.buffer, mine.byteOffset, mine.length)[13] = 0x23;
  assert.equal(text(b.slice()), 'produced bytes', 'the other reader reads what was produced');
  assert.equal(text(a.slice()), 'produced bytes', "the writing reader's next slice too");
  b.consume(9);
  assert.equal(text(b.slice()), 'bytes');
  a.consume(14);
  b.consume(5);
  w.write('more');
  const again = a.slice();
  again[0] = 0x21;
  assert.equal(text(b.slice()), 'more');
  w.free();
  a.free();
  b.free();
});

test('a reader added while the only reader holds a slice reads only what is produced after', () => {
  const w = Circular.withCapacity(4096);
  const a = w.addReader();
  w.write('first');
  const held = a.slice();
  const b = w.addReader();
  held[0] = 0x46; // a's slice: in place in the addon (a was the only reader), a copy in wasm
  w.write('second');
  const theirs = b.slice();
  assert.equal(text(theirs), 'second', 'the new reader starts past the held slice');
  theirs[0] = 0x53;
  // Two readers now: each slice is the reader's own ('first' and 'second' both, in a's).
  const ours = a.slice();
  assert.equal(text(ours).slice(0, 5), impl === 'addon' ? 'First' : 'first', "the held slice's write stays in a's bytes");
  a.consume(5);
  const next = a.slice();
  assert.equal(text(next), 'second');
  next[1] = 0x45;
  assert.equal(text(b.slice()), 'second', "a's write never reaches b");
  assert.equal(text(a.slice()), 'second', "nor b's write a");
  w.free();
  a.free();
  b.free();
});

test('one reader: its slices are the ring memory itself, in place (addon)', { skip: impl !== 'addon' && 'the wasm build copies every slice' }, () => {
  const w = Circular.withCapacity(4096);
  const r = w.addReader();
  w.write('abc');
  r.slice()[0] = 0x41; // (read-only by contract: here it shows there is no copy in between)
  assert.equal(text(r.slice()), 'Abc', 'the only reader reads in place');
  const other = w.addReader();
  r.slice()[1] = 0x42;
  assert.equal(text(r.slice()), 'Abc', 'with a second reader each slice is a copy');
  const parked = other.toHandle();
  r.slice()[1] = 0x42;
  assert.equal(text(r.slice()), 'Abc', 'a reader parked in a handle still counts');
  CircularReader.fromHandle(parked).free();
  r.slice()[1] = 0x42;
  assert.equal(text(r.slice()), 'ABc', 'alone again: in place again');
  w.free();
  r.free();
});

test('a writer lost without free() aborts its stream; free(), Symbol.dispose and abort() do not count as lost', async () => {
  const LOST = 'the writer was not freed: it was garbage-collected, or its thread exited';
  /** A reader of a ring whose writer wrote [1, 2, 3] and then went `how`; the writer is unreachable after. */
  const readerOf = (how) => {
    const writer = Circular.withCapacity(4096);
    const reader = writer.addReader();
    writer.write(new Uint8Array([1, 2, 3]));
    if (how === 'free') writer.free();
    if (how === 'dispose') writer[Symbol.dispose]();
    if (how === 'abort') writer.abort('failed');
    return reader;
  };
  const readers = { lost: readerOf('lost'), free: readerOf('free'), dispose: readerOf('dispose'), abort: readerOf('abort') };
  // Collected, and its finalizer run, within a few rounds: until then the lost writer's stream waits.
  for (let round = 0; round < 20 && readers.lost.abortReason === null; round++) await collect(2);
  const expected = { lost: LOST, free: null, dispose: null, abort: 'failed' };
  for (const [how, reader] of Object.entries(readers)) {
    assert.deepEqual([...reader.read()], [1, 2, 3], how);
    assert.equal(reader.read(), null, how);
    assert.equal(reader.abortReason, expected[how], how);
    reader.free();
  }
});

test('write() of a long string takes the first bytes of its UTF-8 that fit, cut anywhere, as of a short one', () => {
  // Over 65,536 characters, the wasm build encodes only what fits in JS: the same bytes all the same.
  const long = '\uD800' + 'é€😀a'.repeat(20_000);
  const utf8 = Buffer.from(long, 'utf8'); // a lone surrogate as U+FFFD, as every build writes it
  for (const lead of [0, 1, 2, 3]) {
    const w = Circular.withCapacity(4096);
    const r = w.addReader();
    w.write('x'.repeat(lead)); // the room then ends anywhere in a character
    const room = w.capacity - lead;
    assert.equal(w.write(long), room, `lead ${lead}`);
    assert.equal(w.write(long), 0, 'a full ring takes nothing');
    const got = r.read();
    assert.deepEqual(Buffer.from(got.subarray(lead)), utf8.subarray(0, room), `lead ${lead}`);
    assert.equal(w.write(long.slice(0, 3 * 4096)), w.capacity, 'a string that may fit: written as before');
    w.free();
    r.free();
  }
  // One that fits whole, long or short.
  const w = Circular.withCapacity(1 << 16);
  const r = w.addReader();
  for (const text of [long.slice(0, 5000), long.slice(0, 500)]) {
    const bytes = Buffer.from(text, 'utf8');
    assert.equal(w.write(text), bytes.length);
    assert.deepEqual(Buffer.from(r.read()), bytes);
  }
  w.free();
  r.free();
});

// Promises of js/index.d.ts about the ring that the tests above leave out (an audit of the ring's
// members: zero-length arguments, free() twice, a freed writer's wait, an aborted signal with data
// there, a parked reader, what read() does to slices kept, the rounding of capacities).

test('write() of nothing (an empty string, array or ArrayBuffer) and produce(0) publish nothing and return 0, also into a full ring', () => {
  const w = Circular.withCapacity(64);
  const r = w.addReader();
  const wait = r.sliceAsync().then((s) => text(s));
  for (const empty of ['', new Uint8Array(0), new ArrayBuffer(0), new Uint16Array(0)]) assert.equal(w.write(empty), 0);
  w.slice();
  w.produce(0);
  assert.equal(r.slice().length, 0, 'nothing published');
  w.write('ab');
  while (w.write(new Uint8Array(w.capacity)) > 0);
  assert.equal(w.write(''), 0, 'full: still no error');
  w.produce(0);
  w.free();
  return wait.then((first) => {
    assert.equal(first.slice(0, 2), 'ab', 'the first bytes the reader sees are the first written');
    r.free();
  });
});

test('withCapacity() rounds up: at least the size asked, whole pages natively; doubleMappingAvailable() is false in wasm', () => {
  for (const asked of [1, 100, 4097, 70_000]) {
    const w = Circular.withCapacity(asked);
    assert.ok(w.capacity >= asked, `${asked}: ${w.capacity}`);
    if (impl === 'addon') assert.equal(w.capacity % 4096, 0, `${asked}: ${w.capacity} is whole pages`);
    // All of it is usable: a reader sees a whole capacity's worth.
    const r = w.addReader();
    let written = 0;
    for (let n = w.write(pattern(w.capacity)); n > 0; n = w.write(pattern(w.capacity - written))) written += n;
    assert.equal(written, w.capacity);
    assert.equal(r.read().length, w.capacity);
    w.free();
    r.free();
  }
  assert.equal(typeof Circular.doubleMappingAvailable(), 'boolean');
  if (impl === 'wasm') assert.equal(Circular.doubleMappingAvailable(), false);
});

test('free() twice does nothing on either ring side, and [Symbol.dispose]() frees as free() does', () => {
  const w = Circular.withCapacity(4096);
  const r = w.addReader();
  const gone = w.addReader();
  w.write('abc');
  gone[Symbol.dispose]();
  assert.throws(() => gone.slice(), { code: 'ERR_INVALID_STATE', message: /CircularReader was freed/ });
  gone.free();
  gone[Symbol.dispose]();
  w.free();
  w.free();
  w[Symbol.dispose]();
  assert.equal(text(r.read()), 'abc', 'the end of the stream comes once, after the bytes');
  assert.equal(r.read(), null);
  assert.equal(r.abortReason, null, 'a second free() aborts nothing');
  r.free();
  r.free();
  assert.throws(() => r.read(), { code: 'ERR_INVALID_STATE' });
});

test("a writer's pending sliceAsync() rejects when the writer is freed, as a reader's does", async () => {
  const w = Circular.withCapacity(64);
  const r = w.addReader();
  while (w.write(new Uint8Array(w.capacity)) > 0);
  const pending = w.sliceAsync();
  w.free();
  await assert.rejects(pending, { name: 'Error', code: 'ERR_INVALID_STATE', message: /CircularWriter was freed/ });
  assert.ok(r.read().length > 0, 'the reader reads what was published');
  assert.equal(r.read(), null, 'then the end: the freed writer ended the stream');
  assert.equal(r.abortReason, null);
  r.free();
});

test('an already aborted signal rejects sliceAsync() even when data or room is there at the call, and consumes nothing', async () => {
  const w = Circular.withCapacity(4096);
  const r = w.addReader();
  w.write('abc');
  const signal = AbortSignal.abort(new Error('stop'));
  for (const wait of [() => r.sliceAsync({ signal }), () => w.sliceAsync({ signal })]) {
    await assert.rejects(wait(), (e) => e.name === 'AbortError' && e.code === 'ABORT_ERR' && e.cause === signal.reason);
  }
  assert.equal(text(r.slice()), 'abc', 'the data is still unread');
  assert.equal(w.slice().length, w.capacity - 3, 'the room is as it was');
  w.free();
  r.free();
});

test('a reader parked in a handle holds the writer back until it is claimed and freed (addon)', { skip: impl !== 'addon' && 'the wasm build in Node has no handles' }, () => {
  const w = Circular.withCapacity(4096);
  const r = w.addReader();
  const parked = r.toHandle();
  let written = w.write(pattern(w.capacity));
  written += w.write(pattern(w.capacity - written));
  assert.equal(written, w.capacity);
  assert.equal(w.write('more'), 0, 'the parked reader read nothing: the ring is full');
  assert.equal(w.slice().length, 0);
  const claimed = CircularReader.fromHandle(parked);
  assert.deepEqual(drain(claimed), Buffer.from(pattern(w.capacity)), 'claimed, it reads every byte held for it');
  claimed.consume(0);
  w.write('x');
  claimed.free();
  // Freed, it holds nothing back: a whole ring's worth goes in (in two writes at most, as a write
  // may stop at what the writer saw as free at its last look).
  let room = w.write(new Uint8Array(w.capacity));
  room += w.write(new Uint8Array(w.capacity - room));
  assert.equal(room, w.capacity, 'freed, it holds nothing back');
  w.free();
});

test('read() detaches the slices handed out before, with every array over their memory', () => {
  const w = Circular.withCapacity(4096);
  const r = w.addReader();
  w.write('abcdef');
  const kept = r.slice();
  const part = kept.subarray(1);
  assert.equal(text(r.read(2)), 'ab');
  assert.equal(kept.length, 0, 'detached by read()');
  assert.equal(part.length, 0, 'with every array over its memory');
  // Round the ring, over the bytes the slice showed: it never shows them.
  for (let i = 0; i < 3; i++) {
    w.write(pattern(w.capacity - 4, i + 1));
    r.read();
  }
  assert.equal(kept.length, 0);
  assert.equal(text(r.read()), '', 'everything was read');
  assert.equal(text(r.slice()), '', 'a new slice after read() works');
  w.free();
  r.free();
});

test("abort(reason) keeps the reason as UTF-8: a lone surrogate becomes U+FFFD, other characters stay; an empty one is none", () => {
  for (const [reason, expected] of [
    ['a\uD800b', 'a\uFFFDb'],
    ['\uDC00', '\uFFFD'],
    [new Error('é😀\uD83D'), 'é😀\uFFFD'],
    ['', 'no reason given'],
    [new Error(), 'no reason given'],
    [' ', ' '],
  ]) {
    const w = Circular.withCapacity(64);
    const r = w.addReader();
    w.abort(reason);
    assert.equal(r.read(), null);
    assert.equal(r.abortReason, expected, JSON.stringify(String(reason)));
    r.free();
  }
});

test('write() copies its bytes: changing the source after the call changes nothing published', () => {
  const w = Circular.withCapacity(4096);
  const r = w.addReader();
  const source = Uint8Array.of(1, 2, 3);
  const shared = new Uint8Array(new SharedArrayBuffer(2)).fill(7);
  w.write(source);
  w.write(shared);
  source.fill(9);
  shared.fill(9);
  assert.deepEqual([...r.read()], [1, 2, 3, 7, 7]);
  w.free();
  r.free();
});

test('read(0) and readInto() of an empty target take nothing: empty while bytes are left, the end (null, -1) once all was read', () => {
  const w = Circular.withCapacity(64);
  const r = w.addReader();
  w.write('ab');
  w.free();
  assert.equal(r.read(0).length, 0);
  assert.equal(r.readInto(new Uint8Array(0)), 0);
  assert.equal(r.readInto(new ArrayBuffer(0)), 0);
  assert.equal(text(r.read()), 'ab', 'nothing was consumed');
  assert.equal(r.read(0), null);
  assert.equal(r.readInto(new Uint8Array(0)), -1);
  r.free();
});

test('a handle of another copy of the addon in the process claims nothing of this one, even with the id and class of a side parked here', { skip: impl !== 'addon' && 'addon handles' }, () => {
  // A second copy, as a dependency's own copy of omnibuf would be: a file of its own, loaded apart.
  const dir = mkdtempSync(join(tmpdir(), 'omnibuf-copy-'));
  try {
    const addonFile = fileURLToPath(new URL('../../node/omnibuf.node', import.meta.url));
    copyFileSync(addonFile, join(dir, 'omnibuf.node'));
    const other = createRequire(import.meta.url)(join(dir, 'omnibuf.node'));
    assert.notEqual(other.Circular, createRequire(import.meta.url)(addonFile).Circular, 'two copies');
    const writer = Circular.withCapacity(64);
    const parked = writer.addReader().toHandle();
    // The other copy numbers its handles from 1: make its ids reach this one's.
    const theirs = other.Circular.withCapacity(64);
    let foreign;
    for (let id = 0; id < parked.id; id++) {
      foreign = theirs.addReader().toHandle();
      if (foreign.id !== parked.id) other.CircularReader.fromHandle(foreign).free();
    }
    assert.deepEqual([foreign.omnibuf, foreign.id], [parked.omnibuf, parked.id]);
    assert.throws(() => CircularReader.fromHandle(foreign), { code: 'ERR_INVALID_STATE', message: /this copy of omnibuf never made it/ });
    // Each side is still its own copy's to claim.
    CircularReader.fromHandle(parked).free();
    other.CircularReader.fromHandle(foreign).free();
    writer.free();
    theirs.free();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('under a file-size limit smaller than the ring (ulimit -f), withCapacity() makes a ring that works', () => {
  // A ring's memory object counts against the limit: the addon's default choice makes a mirror of
  // such a ring, where it refused it ("ftruncate: File too large"), and double mapping stays
  // available for the rings that fit.
  const entry = new URL('./impl.mjs', import.meta.url).href;
  const script = `const { Circular, impl } = await import(${JSON.stringify(entry)});
    const writer = Circular.withCapacity(8 << 20);
    const reader = writer.addReader();
    writer.write(new Uint8Array(8 << 20).fill(3));
    const got = reader.read();
    console.log(JSON.stringify([got.length, got[got.length - 1], Circular.doubleMappingAvailable() === (impl === 'addon')]));`;
  const child = spawnSync('/bin/sh', ['-c', 'ulimit -f 1024 && exec "$0" --input-type=module -e "$1"', process.execPath, script], { encoding: 'utf8', timeout: 60_000 });
  assert.equal(child.status, 0, `${child.stderr} (signal ${child.signal})`);
  assert.deepEqual(JSON.parse(child.stdout), [8 << 20, 3, true]);
});
