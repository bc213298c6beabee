// Cancelling and un-ref'ing the waits of both builds: pool.acquire() and the ring's sliceAsync()
// take { signal, ref }. An AbortSignal rejects the wait with Node's AbortError (code ABORT_ERR, the
// signal's reason as its cause), at once when it is already aborted; the native wait is gone after
// (the pool's and the ring's waiter, the build's pending operation: __pendingWaits()), the pool lost
// no budget and gave none to the aborted waiter, and the streams (js/streams.mjs) pass their signal
// down to these waits, so an abort mid-pipe leaves nothing waiting. A wait keeps a Node process alive
// only when asked ({ ref: true }): child processes (wait-exit.child.mjs) show both. VirtualBuffer's
// Promises take a signal too: work aborted while still queued never runs (__workCounts()).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { BufferPool, Circular, VirtualBuffer, __pendingWaits, __workCounts, impl } from './impl.mjs';
import { collect } from './collect.mjs';
import { occupyThreadPool } from './thread-pool.mjs';

/** Checks that `promise` rejects with the AbortError of `signal`. */
async function rejectsAborted(promise, signal) {
  await assert.rejects(promise, (e) => {
    assert.equal(e.name, 'AbortError');
    assert.equal(e.code, 'ABORT_ERR');
    assert.equal(e.message, 'The operation was aborted');
    assert.ok(e instanceof Error);
    assert.equal(e.cause, signal.reason, 'the cause is the reason of the abort');
    return true;
  });
}

/** Lets pending wake-ups and settlements run. */
const turn = () => new Promise((resolve) => setImmediate(resolve));

/** A writer whose ring is full (its reader read nothing) and that reader. */
function fullRing(capacity = 4096) {
  const writer = Circular.withCapacity(capacity);
  const reader = writer.addReader();
  while (writer.write(new Uint8Array(writer.capacity)) > 0);
  return { writer, reader };
}

test('an already aborted signal rejects at once and leaves nothing waiting', async () => {
  const pool = new BufferPool({ budget: 4096, classes: [4096] });
  const held = pool.tryAcquire(4096);
  const signal = AbortSignal.abort(new Error('stop'));
  await rejectsAborted(pool.acquire(4096, { signal }), signal);
  await rejectsAborted(pool.acquire(4096, 'tenant', { signal }), signal);
  assert.equal(pool.snapshot().waiting, 0);
  // Not even when there is room: an aborted signal means "do not".
  held.free();
  await rejectsAborted(pool.acquire(16, { signal }), signal);
  assert.equal(pool.snapshot().inUseBytes, 0);

  const { writer, reader } = fullRing();
  await rejectsAborted(writer.sliceAsync({ signal }), signal);
  const empty = Circular.withCapacity(4096).addReader();
  await rejectsAborted(empty.sliceAsync({ signal }), signal);
  assert.equal(__pendingWaits(), 0);
  writer.free();
  reader.free();
  empty.free();
  pool.free();
});

test('aborting a pending acquire() removes the waiter: no budget lost, none granted to it', async () => {
  const pool = new BufferPool({ budget: 8192, classes: [4096, 8192] });
  const held = pool.tryAcquire(8192);
  const controller = new AbortController();
  const waiting = pool.acquire(4096, { signal: controller.signal });
  const behind = pool.acquire(8192); // queued after it, in another class
  await turn();
  assert.equal(pool.snapshot().waiting, 2);
  assert.equal(__pendingWaits(), 2);
  controller.abort();
  await rejectsAborted(waiting, controller.signal);
  assert.equal(pool.snapshot().waiting, 1, 'the aborted waiter left the queue');
  assert.equal(__pendingWaits(), 1);
  held.free();
  const next = await behind;
  assert.equal(next.capacity, 8192, 'the whole budget went to the waiter behind');
  next.free();
  assert.equal(pool.snapshot().inUseBytes, 0);
  assert.equal(__pendingWaits(), 0);

  // An abort in the same turn as the release that would have served the waiter: the budget goes
  // back, not to the aborted waiter.
  const again = pool.tryAcquire(8192);
  const late = new AbortController();
  const racing = pool.acquire(8192, { signal: late.signal });
  await turn();
  again.free();
  late.abort();
  await rejectsAborted(racing, late.signal);
  await turn();
  assert.equal(pool.snapshot().inUseBytes, 0, 'no budget was kept for the aborted waiter');
  assert.equal(pool.snapshot().waiting, 0);
  const whole = pool.tryAcquire(8192);
  assert.notEqual(whole, null, 'the whole budget is there');
  whole.free();
  // A later acquire() is served.
  (await pool.acquire(8192)).free();
  assert.equal(__pendingWaits(), 0);
  pool.free();
});

test("aborting a pending sliceAsync() removes the ring's waiter; the ring goes on", async () => {
  const { writer, reader } = fullRing();
  const controller = new AbortController();
  const waiting = writer.sliceAsync({ signal: controller.signal });
  await turn();
  assert.equal(__pendingWaits(), 1);
  controller.abort('enough');
  await rejectsAborted(waiting, controller.signal);
  assert.equal(__pendingWaits(), 0);
  reader.consume(reader.slice().length);
  assert.ok((await writer.sliceAsync()).length > 0, 'the writer waits again, and gets room');

  const empty = Circular.withCapacity(4096);
  const r = empty.addReader();
  const stop = new AbortController();
  const reading = r.sliceAsync({ signal: stop.signal });
  await turn();
  stop.abort();
  await rejectsAborted(reading, stop.signal);
  assert.equal(__pendingWaits(), 0);
  empty.write('after');
  assert.equal(new TextDecoder().decode(r.slice()), 'after', 'nothing was consumed by the aborted wait');
  for (const o of [writer, reader, empty, r]) o.free();
});

test("a signal that aborts right after the free() that ends a wait wins, in both builds; a turn later the free() has", async () => {
  const pool = () => {
    const p = new BufferPool({ budget: 4096, classes: [4096] });
    p.tryAcquire(4096);
    return { wait: (signal) => p.acquire(4096, { signal }), end: () => p.free(), error: /BufferPool was freed/ };
  };
  const writer = () => {
    const { writer: w, reader: r } = fullRing();
    return { wait: (signal) => w.sliceAsync({ signal }), end: () => w.free(), error: /CircularWriter was freed/, after: () => r.free() };
  };
  const reader = () => {
    const w = Circular.withCapacity(4096);
    const r = w.addReader();
    return { wait: (signal) => r.sliceAsync({ signal }), end: () => r.free(), error: /CircularReader was freed/, after: () => w.free() };
  };
  // The writer's free() is the reader's end of stream: the wait would resolve with null.
  const ended = () => {
    const w = Circular.withCapacity(4096);
    const r = w.addReader();
    return { wait: (signal) => r.sliceAsync({ signal }), end: () => w.free(), value: null, after: () => r.free() };
  };
  for (const [name, make] of Object.entries({ pool, writer, reader, ended })) {
    const same = make();
    const controller = new AbortController();
    const waiting = same.wait(controller.signal);
    same.end();
    controller.abort(new Error(name));
    await rejectsAborted(waiting, controller.signal);
    same.after?.();

    const later = make();
    const late = new AbortController();
    const settled = later.wait(late.signal);
    settled.catch(() => {}); // it rejects during the turn below, before it is awaited
    later.end();
    await turn();
    late.abort();
    if ('value' in later) assert.equal(await settled, later.value, name);
    else await assert.rejects(settled, { code: 'ERR_INVALID_STATE', message: later.error }, name);
    later.after?.();
  }

  // The same for a write() or consume() that serves the wait: nothing is taken by the aborted one.
  const w = Circular.withCapacity(4096);
  const r = w.addReader();
  const reading = new AbortController();
  const read = r.sliceAsync({ signal: reading.signal });
  w.write('abc');
  reading.abort();
  await rejectsAborted(read, reading.signal);
  assert.equal(new TextDecoder().decode(r.slice()), 'abc');
  const full = fullRing();
  const writing = new AbortController();
  const write = full.writer.sliceAsync({ signal: writing.signal });
  full.reader.consume(10);
  writing.abort();
  await rejectsAborted(write, writing.signal);
  assert.equal(full.writer.slice().length, 10, 'the room is still there');
  for (const o of [w, r, full.writer, full.reader]) o.free();
  assert.equal(__pendingWaits(), 0);
});

test("names a program adds to Object.prototype do not reach the waits' own bookkeeping", async () => {
  const polluted = { bare: true, id: 7, ref: true };
  const pollute = () => Object.assign(Object.prototype, polluted);
  const clean = () => {
    for (const key of Object.keys(polluted)) delete Object.prototype[key];
  };
  try {
    pollute();
    const w = Circular.withCapacity(4096);
    const r = w.addReader();
    w.write('abc');
    const served = await r.sliceAsync();
    assert.ok(served instanceof Uint8Array && new TextDecoder().decode(served) === 'abc', 'a slice, served at the call');
    const room = await w.sliceAsync();
    assert.ok(room instanceof Uint8Array && room.length > 0, 'the writer gets room');
    r.consume(3);
    const controller = new AbortController();
    const pending = r.sliceAsync({ signal: controller.signal });
    w.write('def');
    assert.equal(new TextDecoder().decode(await pending), 'def', 'a slice, once data came');
    r.consume(3);
    const late = r.sliceAsync({ signal: controller.signal });
    controller.abort();
    await assert.rejects(late, { name: 'AbortError' });
    assert.equal(__pendingWaits(), 0, 'nothing left waiting');
    const pool = new BufferPool({ budget: 4096, classes: [4096] });
    const buffer = await pool.acquire(4096, { signal: new AbortController().signal });
    assert.equal(buffer.capacity, 4096);
    buffer.free();
    const vbuf = VirtualBuffer.fromBytes('text');
    assert.equal(new TextDecoder().decode((await vbuf.read(0, 4, { signal: new AbortController().signal })).view()), 'text');
    for (const o of [w, r, pool, vbuf]) o.free();
  } finally {
    clean();
  }
});

test('a wait served by a call on its own thread settles before the next turn of the event loop (ring, pool)', async () => {
  const { writer, reader } = fullRing();
  for (let i = 0; i < 200; i++) {
    const room = writer.sliceAsync();
    const unread = reader.slice();
    reader.consume(unread.length);
    const first = await Promise.race([room.then(() => 'the wait'), turn().then(() => 'a turn of the loop')]);
    assert.equal(first, 'the wait', `wait ${i}: consume() made room, so the wait settles in this turn`);
    const free = await room;
    assert.equal(free.length, writer.capacity);
    writer.produce(free.length);
  }
  // The reader's side too: a wait for data served by the writer's produce().
  reader.consume(reader.slice().length);
  const data = reader.sliceAsync();
  writer.produce(writer.slice().length);
  assert.equal(await Promise.race([data.then(() => 'the wait'), turn().then(() => 'a turn of the loop')]), 'the wait');
  writer.free();
  reader.free();

  // The pool's: an acquire() served by a free() of the same thread.
  const pool = new BufferPool({ budget: 4096, classes: [4096] });
  let held = pool.tryAcquire(4096);
  for (let i = 0; i < 50; i++) {
    const next = pool.acquire(4096);
    held.free();
    assert.equal(await Promise.race([next.then(() => 'the wait'), turn().then(() => 'a turn of the loop')]), 'the wait');
    held = await next;
  }
  held.free();
  assert.equal(__pendingWaits(), 0);
});

test('waits on one ring side settle in the order they were made, in both builds', async () => {
  const tick = () => new Promise((resolve) => setImmediate(resolve));
  for (const between of ['a turn of the loop', 'nothing']) {
    // Readers: a write serves both waits, the older first.
    const writer = Circular.withCapacity(64);
    const reader = writer.addReader();
    const order = [];
    reader.sliceAsync().then(() => order.push('older'));
    if (between !== 'nothing') await tick();
    reader.sliceAsync().then(() => order.push('newer'));
    writer.write('abc');
    await tick();
    assert.deepEqual(order, ['older', 'newer'], `reader, ${between} between the waits`);
    // Copies: the older wait's walk gets the bytes; the newer one waits on.
    const got = [];
    reader.consume(3);
    reader.chunks().next().then(({ value }) => got.push(`older ${Buffer.from(value)}`));
    if (between !== 'nothing') await tick();
    const newer = reader.chunks();
    const newerStep = newer.next().then(({ value }) => got.push(`newer ${Buffer.from(value)}`), (error) => error);
    writer.write('def');
    await tick();
    assert.deepEqual(got, ['older def'], `chunks(), ${between} between the waits`);
    await newer.return();
    assert.equal((await newerStep).name, 'AbortError', 'the newer walk, ended, ends its wait');

    // Writers: room made by a consume() serves the older wait first.
    const full = fullRing();
    const room = [];
    full.writer.sliceAsync().then(() => room.push('older'));
    if (between !== 'nothing') await tick();
    full.writer.sliceAsync().then(() => room.push('newer'));
    full.reader.consume(1);
    await tick();
    assert.deepEqual(room, ['older', 'newer'], `writer, ${between} between the waits`);
    for (const o of [writer, reader, full.writer, full.reader]) o.free();
  }
  await tick();
  assert.equal(__pendingWaits(), 0);
});

test('a wait served at the call holds its result: a reader freed right after it still resolves', async () => {
  const writer = Circular.withCapacity(64);
  const reader = writer.addReader();
  writer.write('abc');
  const served = reader.sliceAsync();
  reader.free();
  // The slice it was served, emptied by the free (its bytes are no longer the reader's).
  assert.equal((await served).length, 0);

  const ended = Circular.withCapacity(64);
  const last = ended.addReader();
  ended.free();
  const end = last.sliceAsync();
  last.free();
  assert.equal(await end, null);
});

test('acquire(size, tenant, options): an object where the tenant goes is refused when options follow it, not taken for them', async () => {
  const pool = new BufferPool({ budget: 4096, classes: [4096] });
  const held = pool.tryAcquire(4096);
  for (const tenant of [{}, [], new String('t')]) {
    await assert.rejects(pool.acquire(4096, tenant, {}), { name: 'TypeError', code: 'ERR_INVALID_ARG_TYPE', message: 'tenant must be a string, got an object' });
  }
  // The signal is honoured, not dropped with the options: an aborted one rejects at once.
  const signal = AbortSignal.abort();
  await rejectsAborted(pool.acquire(4096, {}, { signal }), signal);
  // Without options after it, an object there is the options.
  await rejectsAborted(pool.acquire(4096, { signal }), signal);
  held.free();
  assert.equal(pool.snapshot().waiting, 0);
  assert.equal(__pendingWaits(), 0);
  pool.free();
});

test('bad wait options are TypeErrors with a code, as a rejected Promise', async () => {
  const pool = new BufferPool({ budget: 4096, classes: [4096] });
  const { writer, reader } = fullRing();
  const cases = [
    [() => pool.acquire(16, { signal: 'no' }), 'BufferPool.acquire: options.signal must be an AbortSignal, got a string'],
    [() => pool.acquire(16, 'tenant', { signal: {} }), 'BufferPool.acquire: options.signal must be an AbortSignal, got an object'],
    [() => pool.acquire(16, { ref: 1 }), 'options.ref must be a boolean, got 1'],
    [() => writer.sliceAsync({ signal: 1 }), 'CircularWriter.sliceAsync: options.signal must be an AbortSignal, got 1'],
    [() => reader.sliceAsync(5), 'options must be an object, got 5'],
    [() => reader.sliceAsync({ signal: null }), 'CircularReader.sliceAsync: options.signal must be an AbortSignal, got null'],
    // An object made with AbortSignal's prototype passes instanceof, but is no signal.
    [() => reader.sliceAsync({ signal: Object.create(AbortSignal.prototype) }), 'CircularReader.sliceAsync: options.signal must be an AbortSignal, got an object'],
    [() => pool.acquire(16, { signal: Object.create(AbortSignal.prototype) }), 'BufferPool.acquire: options.signal must be an AbortSignal, got an object'],
  ];
  for (const [call, message] of cases) {
    const result = call();
    assert.ok(result instanceof Promise);
    await assert.rejects(result, { constructor: TypeError, message, code: 'ERR_INVALID_ARG_TYPE' });
  }
  assert.equal(pool.snapshot().waiting, 0);
  assert.equal(__pendingWaits(), 0);
  for (const o of [pool, writer, reader]) o.free();
});

test("a signal aborted already is looked at before acquire()'s size and tenant, after the options' own types", async () => {
  const pool = new BufferPool({ budget: 4096, classes: [4096] });
  const aborted = AbortSignal.abort();
  for (const call of [() => pool.acquire(-1, { signal: aborted }), () => pool.acquire(1.5, { signal: aborted }), () => pool.acquire(1, 5, { signal: aborted })]) {
    await assert.rejects(call(), { name: 'AbortError', code: 'ABORT_ERR' });
  }
  await assert.rejects(pool.acquire(-1, { signal: aborted, ref: 1 }), { constructor: TypeError, code: 'ERR_INVALID_ARG_TYPE' });
  await assert.rejects(pool.acquire(-1), { constructor: RangeError }); // without the signal, the size's error
  assert.equal(pool.snapshot().waiting, 0);
  pool.free();
});

test('a wait on a freed object, or called on another object, rejects in both builds: it never throws', async () => {
  const pool = new BufferPool({ budget: 4096, classes: [4096] });
  const { writer, reader } = fullRing();
  for (const o of [pool, writer, reader]) o.free();
  const doc = VirtualBuffer.fromBytes('text');
  const calls = [
    [() => pool.acquire(16), { code: 'ERR_INVALID_STATE' }],
    [() => writer.sliceAsync(), { code: 'ERR_INVALID_STATE' }],
    [() => reader.sliceAsync({ signal: new AbortController().signal }), { code: 'ERR_INVALID_STATE' }],
    [() => VirtualBuffer.prototype.read.call({}, 0, 1), { name: 'TypeError', code: 'ERR_INVALID_THIS' }],
    [() => VirtualBuffer.prototype.lineCount.call({}), { name: 'TypeError', code: 'ERR_INVALID_THIS' }],
    [() => VirtualBuffer.prototype.save.call({}), { name: 'TypeError', code: 'ERR_INVALID_THIS' }],
  ];
  // Receivers no check may touch: a revoked Proxy, and an object with a `then` of its own, which
  // nothing may call (a Promise resolved with the receiver would).
  const { proxy: revoked, revoke } = Proxy.revocable({}, {});
  revoke();
  let thenCalls = 0;
  const thenable = { then: () => thenCalls++ };
  for (const self of [revoked, thenable]) {
    calls.push(
      [() => BufferPool.prototype.acquire.call(self, 16), { name: 'TypeError', code: 'ERR_INVALID_THIS' }],
      [() => writer.constructor.prototype.sliceAsync.call(self), { name: 'TypeError', code: 'ERR_INVALID_THIS' }],
      [() => reader.constructor.prototype.sliceAsync.call(self), { name: 'TypeError', code: 'ERR_INVALID_THIS' }],
    );
  }
  for (const [call, error] of calls) {
    let result;
    assert.doesNotThrow(() => (result = call()), String(call));
    assert.ok(result instanceof Promise);
    await assert.rejects(result, error, String(call));
  }
  doc.free();
  await new Promise((resolve) => setImmediate(resolve));
  assert.equal(thenCalls, 0);
  assert.equal(__pendingWaits(), 0);
});

test("VirtualBuffer's Promise methods refuse options that are not an object, as the waits do", async () => {
  const doc = VirtualBuffer.fromBytes('one\ntwo\n');
  const calls = [
    [() => doc.read(0, 3, 5), '5'],
    [() => doc.find('t', 0, 8, 'x'), 'a string'],
    [() => doc.lineCount(true), 'a boolean'],
    [() => doc.lineToOffset(1, 5), '5'],
    [() => doc.offsetToLine(1, () => {}), 'a function'],
    [() => doc.save(5), '5'],
  ];
  for (const [call, got] of calls) {
    const message = `options must be an object, got ${got}`;
    await assert.rejects(call(), { name: 'TypeError', code: 'ERR_INVALID_ARG_TYPE', message }, String(call));
  }
  // null is the same as no options.
  assert.equal(await doc.lineCount(null), 3);
  doc.free();
});

test('Node streams: an abort mid-pipe leaves nothing waiting and frees the ring sides', async () => {
  // The writer side waits for room (nobody reads): the abort ends the wait.
  const { writer, reader } = fullRing();
  const controller = new AbortController();
  const producing = pipeline(
    Readable.from((function* () {
      for (;;) yield new Uint8Array(1024);
    })()),
    writer.nodeWritable({ signal: controller.signal }),
  );
  await turn();
  assert.equal(__pendingWaits(), 1, 'the writable waits for room');
  controller.abort();
  await assert.rejects(producing, { name: 'AbortError' });
  await turn();
  assert.equal(__pendingWaits(), 0);
  // The writer is freed: its reader reads what is left, then the end.
  reader.consume(reader.slice().length);
  assert.equal(reader.slice(), null);
  reader.free();

  // The reader side waits for data (nobody writes).
  const quiet = Circular.withCapacity(4096);
  const stop = new AbortController();
  const consuming = pipeline(
    quiet.addReader().nodeReadable({ signal: stop.signal }),
    new Writable({ write: (_chunk, _encoding, callback) => callback() }),
  );
  await turn();
  assert.equal(__pendingWaits(), 1, 'the readable waits for data');
  stop.abort();
  await assert.rejects(consuming, { name: 'AbortError' });
  await turn();
  assert.equal(__pendingWaits(), 0);
  // The reader is gone: nothing holds the writer back.
  let written = quiet.write(new Uint8Array(quiet.capacity));
  written += quiet.write(new Uint8Array(quiet.capacity - written));
  assert.equal(written, quiet.capacity);
  quiet.free();
});

test("a reader's iterators end a wait under way when they are ended: return(), throw(), a destroyed Readable.from", async () => {
  const writer = Circular.withCapacity(4096);
  const reader = writer.addReader();
  for (const [form, iterate] of [
    ['for await', () => reader[Symbol.asyncIterator]()],
    ['slices()', () => reader.slices()],
  ]) {
    for (const end of ['return', 'throw']) {
      const steps = iterate();
      const step = steps.next();
      await turn();
      assert.equal(__pendingWaits(), 1, `${form}: the step waits for data`);
      const ended = end === 'return' ? steps.return() : steps.throw(new Error('stop'));
      await assert.rejects(step, { name: 'AbortError' }, `${form}: the step the ${end}() ended`);
      await ended.catch(() => {});
      assert.equal(__pendingWaits(), 0, `${form}: ${end}() ended the wait`);
      assert.deepEqual(await steps.next(), { value: undefined, done: true });
    }
    // A pipeline from Readable.from(...) destroys it on abort, which ends the iterator's wait.
    const stop = new AbortController();
    const piping = pipeline(
      Readable.from(iterate()),
      new Writable({ write: (_chunk, _encoding, callback) => callback() }),
      { signal: stop.signal },
    );
    await turn();
    assert.equal(__pendingWaits(), 1, `${form}: Readable.from waits for data`);
    stop.abort();
    await assert.rejects(piping, { name: 'AbortError' });
    await turn();
    assert.equal(__pendingWaits(), 0, `${form}: the destroyed Readable.from ended the wait`);
  }
  // The reader still reads.
  writer.write(new Uint8Array([7]));
  for await (const chunk of reader) {
    assert.deepEqual([...chunk], [7]);
    break;
  }
  writer.free();
  reader.free();
});

test('WHATWG streams: pipeTo with a signal, aborted while the ring is full, leaves nothing waiting', async () => {
  const { writer, reader } = fullRing();
  const controller = new AbortController();
  const source = new ReadableStream({
    pull(c) {
      c.enqueue(new Uint8Array(1024));
    },
  });
  // The same signal for the pipe and the ring's stream: pipeTo() aborts its destination only once the
  // write in flight is done, and that write waits for room in a full ring.
  const piping = source.pipeTo(writer.writableStream({ signal: controller.signal }), { signal: controller.signal });
  await turn();
  assert.equal(__pendingWaits(), 1, 'the writable stream waits for room');
  controller.abort();
  await assert.rejects(piping, { name: 'AbortError' });
  await turn();
  assert.equal(__pendingWaits(), 0);
  reader.consume(reader.slice().length);
  assert.equal(reader.slice(), null, 'aborting the writable freed the writer');
  reader.free();

  // A readable stream cancelled while its pull waits for data lets go of the wait and the reader.
  const quiet = Circular.withCapacity(4096);
  const readable = quiet.addReader().readableStream();
  const it = readable.getReader();
  const pending = it.read();
  await turn();
  assert.equal(__pendingWaits(), 1);
  await it.cancel();
  assert.deepEqual(await pending, { value: undefined, done: true });
  await turn();
  assert.equal(__pendingWaits(), 0);
  quiet.free();
});

test('a pending wait keeps the object it waits on alive: garbage collection does not end it', async () => {
  // Each wait is the only reference to its object: the writer waiting for room, the reader for data,
  // the pool for a block.
  const full = (() => {
    const writer = Circular.withCapacity(4096);
    const reader = writer.addReader();
    while (writer.write(new Uint8Array(writer.capacity)) > 0);
    return { reader, wait: writer.sliceAsync() };
  })();
  const empty = (() => {
    const writer = Circular.withCapacity(4096);
    return { writer, wait: writer.addReader().sliceAsync() };
  })();
  const held = (() => {
    const pool = new BufferPool({ budget: 4096, classes: [4096] });
    const block = pool.tryAcquire(4096);
    return { block, wait: pool.acquire(4096) };
  })();
  await collect();
  full.reader.consume(full.reader.slice().length);
  assert.ok((await full.wait).length > 0, 'the writer got room');
  empty.writer.write('x');
  assert.deepEqual([...(await empty.wait)], [0x78], 'the reader got the byte');
  held.block.free();
  (await held.wait).free();
  full.reader.free();
  empty.writer.free();
});

const child = fileURLToPath(new URL('./wait-exit.child.mjs', import.meta.url));
for (const what of ['pool', 'reader', 'writer']) {
  test(`a pending ${what} wait lets the process exit; with { ref: true } it keeps it alive until served`, () => {
    for (const how of ['unref', 'ref']) {
      const run = spawnSync(process.execPath, [child], {
        encoding: 'utf8',
        env: { ...process.env, OMNIBUF_WAIT_CHILD: `${what}:${how}` },
        timeout: 120_000,
      });
      assert.equal(run.status, 0, `${how}: ${run.stderr}`);
      const lines = run.stdout.trim().split('\n');
      assert.deepEqual(lines, how === 'ref' ? ['waiting', 'satisfied', 'exit'] : ['waiting', 'exit'], how);
    }
  });
}

test("a wait's rejection the program leaves unhandled is reported as any other, in both builds", () => {
  const run = spawnSync(process.execPath, [fileURLToPath(new URL('./unhandled-waits.child.mjs', import.meta.url))], {
    encoding: 'utf8',
    env: { ...process.env, OMNIBUF_UNHANDLED_CHILD: '1' },
    timeout: 120_000,
  });
  assert.equal(run.status, 0, run.stderr);
  assert.deepEqual(JSON.parse(run.stdout), [
    ['pool.acquire, aborted while waiting', 'ABORT_ERR'],
    ['pool.acquire, signal aborted before', 'ABORT_ERR'],
    ['reader.sliceAsync, aborted while waiting', 'ABORT_ERR'],
    ['reader.sliceAsync, not a signal', 'ERR_INVALID_ARG_TYPE'],
    ['reader.sliceAsync, reader freed while waiting', 'ERR_INVALID_STATE'],
    ['writer.sliceAsync, writer freed while waiting', 'ERR_INVALID_STATE'],
  ]);
});

test('the stream forms over a ring side: a pending wait lets the process exit; with { ref: true } it keeps it alive until served', async () => {
  const { execFile } = await import('node:child_process');
  const forms = ['chunks', 'slices', 'readableStream', 'nodeReadable', 'writableStream', 'nodeWritable'];
  // The children run side by side: each takes the 300 ms of its timer at most.
  const runs = forms.flatMap((what) =>
    ['unref', 'ref'].map(
      (how) =>
        new Promise((resolve) => {
          const env = { ...process.env, OMNIBUF_WAIT_CHILD: `${what}:${how}` };
          execFile(process.execPath, [child], { encoding: 'utf8', env, timeout: 120_000 }, (error, stdout, stderr) =>
            resolve({ what, how, status: error?.code ?? 0, stdout, stderr }),
          );
        }),
    ),
  );
  for (const { what, how, status, stdout, stderr } of await Promise.all(runs)) {
    assert.equal(status, 0, `${what}, ${how}: ${stderr}`);
    assert.deepEqual(stdout.trim().split('\n'), how === 'ref' ? ['waiting', 'satisfied', 'exit'] : ['waiting', 'exit'], `${what}, ${how}`);
  }
});

test('VirtualBuffer: a signal on its Promises; reads reject at once, saves only refuse to start', async () => {
  const { VirtualBuffer } = await import('./impl.mjs');
  const doc = VirtualBuffer.fromBytes('one\ntwo\nthree\n');
  const aborted = AbortSignal.abort('no');
  for (const call of [
    () => doc.read(0, 4, { signal: aborted }),
    () => doc.read(0, undefined, { signal: aborted }),
    () => doc.find('two', 0, undefined, { signal: aborted }),
    () => doc.lineCount({ signal: aborted }),
    () => doc.lineToOffset(1, { signal: aborted }),
    () => doc.offsetToLine(5, { signal: aborted }),
    () => VirtualBuffer.open('never-opened', { signal: aborted }),
  ]) {
    await rejectsAborted(call(), aborted);
  }
  doc.insert(0, 'zero\n');
  await rejectsAborted(doc.save({ signal: aborted }), aborted);
  await rejectsAborted(doc.saveAs('never-saved', { signal: aborted }), aborted);
  assert.equal(doc.isModified, true, 'an aborted save did not start');

  // Aborted while the read is under way: rejected at once.
  const controller = new AbortController();
  const reading = doc.read(0, doc.length, { signal: controller.signal });
  controller.abort();
  await rejectsAborted(reading, controller.signal);
  // Not aborted: the signal changes nothing.
  const live = new AbortController();
  const part = await doc.read(0, 4, { signal: live.signal });
  assert.equal(new TextDecoder().decode(part.bytes()), 'zero');
  part.free();
  assert.equal(await doc.lineCount({ signal: live.signal }), 5);
  assert.equal(await doc.find('two', 0, undefined, { signal: live.signal }), 9);
  await assert.rejects(doc.read(0, 4, { signal: 'no' }), {
    constructor: TypeError,
    message: 'VirtualBuffer.read: options.signal must be an AbortSignal, got a string',
    code: 'ERR_INVALID_ARG_TYPE',
  });
  doc.free();
});

test('VirtualBuffer: a save or saveAs() whose signal aborts after the call is not stopped: it resolves, and the content is saved', async () => {
  const dir = impl === 'addon' ? fs.mkdtempSync(path.join(os.tmpdir(), 'omnibuf-save-signal-')) : null;
  const id = (name) => (impl === 'addon' ? path.join(dir, name) : `save-signal-${process.pid}-${name}`);
  const stored = async (name) =>
    impl === 'addon' ? fs.readFileSync(id(name), 'utf8') : (await VirtualBuffer.exportDocument(id(name))).text();
  try {
    if (impl === 'addon') fs.writeFileSync(id('doc'), 'text');
    else (await VirtualBuffer.import(id('doc'), 'text')).free();
    const doc = await VirtualBuffer.open(id('doc'));
    doc.insert(0, 'saved ');
    const controller = new AbortController();
    const saving = doc.save({ signal: controller.signal });
    controller.abort('too late');
    await saving;
    assert.equal(doc.isModified, false);
    assert.equal(await stored('doc'), 'saved text');
    doc.insert(0, 'also ');
    const other = new AbortController();
    const savingAs = doc.saveAs(id('copy'), { signal: other.signal });
    other.abort('too late');
    await savingAs;
    assert.equal(doc.isModified, false);
    assert.equal(await stored('copy'), 'also saved text');
    doc.free();
  } finally {
    if (dir !== null) fs.rmSync(dir, { recursive: true, force: true });
    else for (const name of ['doc', 'copy']) await VirtualBuffer.deleteDocument(id(name));
  }
});

test('VirtualBuffer.import is a change: an AbortError only when it never started', {
  skip: impl === 'wasm' ? false : 'IndexedDB documents: the wasm build only (the addon opens files)',
}, async () => {
  const name = `abort-import-${process.pid}`;
  const stored = async () => (await VirtualBuffer.list()).some((d) => d.name === name);
  const aborted = AbortSignal.abort('no');
  await rejectsAborted(VirtualBuffer.import(name, new TextEncoder().encode('never'), { signal: aborted }), aborted);
  assert.equal(await stored(), false, 'refused to start');

  // Aborted in the same turn as the call: cancelled before it started, so nothing is stored.
  const early = new AbortController();
  const cancelled = VirtualBuffer.import(name, new TextEncoder().encode('never'), { signal: early.signal });
  early.abort();
  await rejectsAborted(cancelled, early.signal);
  assert.equal(await stored(), false, 'cancelled before it started');

  // Aborted once it has started: it runs to its end, and its Promise says so (an AbortError would
  // stand for a document that was stored).
  const late = new AbortController();
  const [, started] = __workCounts();
  const importing = VirtualBuffer.import(name, new TextEncoder().encode('kept'), { signal: late.signal });
  while (__workCounts()[1] === started) await Promise.resolve();
  late.abort();
  const doc = await importing;
  assert.equal(doc.length, 4);
  doc.free();
  assert.equal(await (await VirtualBuffer.exportDocument(name)).text(), 'kept');
  await VirtualBuffer.deleteDocument(name);
});

test('VirtualBuffer: work aborted before it starts never runs, and is not left pending', {
  skip: impl === 'addon' && process.platform === 'win32' ? 'needs FIFOs to hold the thread pool' : false,
}, async () => {
  const doc = VirtualBuffer.fromBytes('one\ntwo\nthree\n');
  // The addon queues VirtualBuffer work on libuv's thread pool: with every thread busy, a read waits in
  // the queue. The wasm build runs it as a future first polled in a later microtask: until then it is
  // queued too.
  const release = impl === 'addon' ? occupyThreadPool() : async () => {};
  let released = false;
  try {
    const [pending, ran] = __workCounts();
    const controller = new AbortController();
    const reading = doc.read(0, 4, { signal: controller.signal });
    const counting = doc.lineCount({ signal: controller.signal });
    // Had it run, this open would have failed: there is no such file (or document).
    const opening = VirtualBuffer.open('never-opened', { signal: controller.signal });
    assert.equal(__workCounts()[0], pending + 3, 'all three are queued');
    controller.abort(new Error('stop'));
    const rejected = Promise.all([reading, counting, opening].map((p) => rejectsAborted(p, controller.signal)));
    assert.equal(__workCounts()[0], pending, 'aborted, they left the queue');
    await rejected;
    // Work not aborted, queued behind them, runs once the queue moves.
    const kept = doc.read(4, 7);
    await release();
    released = true;
    const part = await kept;
    assert.equal(new TextDecoder().decode(part.bytes()), 'two');
    part.free();
    for (let i = 0; i < 100 && __workCounts()[0] !== pending; i++) await turn();
    assert.deepEqual(__workCounts(), [pending, ran + 1], 'only the work not aborted ran');
  } finally {
    if (!released) await release();
    doc.free();
  }
});

test('a VirtualBuffer read aborted at any moment after the call is freed when the caller did not get it', async () => {
  const { ZeroCopyBuffer } = await import('./impl.mjs');
  const doc = VirtualBuffer.fromBytes(new Uint8Array(1 << 20));
  const free = ZeroCopyBuffer.prototype.free;
  let frees = 0;
  ZeroCopyBuffer.prototype.free = function () {
    frees++;
    return free.call(this);
  };
  try {
    const ranBefore = __workCounts()[1];
    // The abort lands 0 to 5 microtasks after the call: before the work settles, between its
    // settling and the caller's reaction, or after.
    for (let round = 0; round < 20; round++) {
      for (let ticks = 0; ticks <= 5; ticks++) {
        const controller = new AbortController();
        const read = doc.read(0, 4096, { signal: controller.signal });
        for (let i = 0; i < ticks; i++) await Promise.resolve();
        controller.abort();
        const got = await read.then(
          (buffer) => buffer,
          () => null,
        );
        got?.free(); // the caller's own
      }
    }
    // Work under way at an abort runs to its end, and what it gives is freed then; work cancelled
    // before it started gives nothing.
    const ran = () => __workCounts()[1] - ranBefore;
    for (let i = 0; i < 100 && (__workCounts()[0] > 0 || frees < ran()); i++) await new Promise((resolve) => setTimeout(resolve, 5));
    assert.ok(ran() > 0);
    assert.equal(frees, ran(), 'every read that ran is freed, by the caller or, aborted, by the build');
  } finally {
    ZeroCopyBuffer.prototype.free = free;
    doc.free();
  }
});

test('AbortError: the class the entry exports, which every aborted ring wait, walk and VirtualBuffer Promise rejects with', async () => {
  const { entry } = await import('./impl.mjs');
  const { AbortError } = entry;
  const made = new AbortError();
  assert.ok(made instanceof Error);
  assert.deepEqual([made.name, made.code, made.message, made.cause], ['AbortError', 'ABORT_ERR', 'The operation was aborted', undefined]);
  const given = new AbortError('stopped', { cause: 'why' });
  assert.deepEqual([given.name, given.code, given.message, given.cause], ['AbortError', 'ABORT_ERR', 'stopped', 'why']);

  const signal = AbortSignal.abort('why');
  const { writer, reader } = fullRing();
  const empty = Circular.withCapacity(4096);
  const doc = VirtualBuffer.fromBytes('text');
  for (const [what, call] of [
    ['writer.sliceAsync', () => writer.sliceAsync({ signal })],
    ['reader.sliceAsync', () => empty.addReader().sliceAsync({ signal })],
    ['reader.chunks', () => reader.chunks({ signal }).next()],
    ['reader.slices', () => reader.slices({ signal }).next()],
    ['doc.read', () => doc.read(0, 1, { signal })],
    ['doc.lineCount', () => doc.lineCount({ signal })],
    ['doc.chunks', () => doc.chunks(0, undefined, { signal }).next()],
  ]) {
    await assert.rejects(call(), (e) => e instanceof AbortError && e.cause === 'why', what);
  }
  for (const o of [writer, reader, empty, doc]) o.free();
});
