// What the package puts on an AbortSignal it is given: one 'abort' listener, however many calls
// share the signal (waits, VirtualBuffer work, streams, walks), gone once they are all done. A signal
// shared by many pending calls (one per request, one for a shutdown) must not make Node warn of a
// leak (MaxListenersExceededWarning, past ten listeners of one event), and an abort must still reach
// every call, in the order they were made.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { getEventListeners } from 'node:events';
import { onAbort } from '../abort-signal.mjs';
import { BufferPool, Circular, VirtualBuffer, __pendingWaits } from './impl.mjs';

const listeners = (signal) => getEventListeners(signal, 'abort').length;

/** Lets pending wake-ups and settlements run. */
const turn = () => new Promise((resolve) => setImmediate(resolve));

/** The process warnings emitted while `body()` runs and one turn after. */
async function warningsDuring(body) {
  const warnings = [];
  const onWarning = (warning) => warnings.push(warning);
  process.on('warning', onWarning);
  try {
    await body();
    await turn();
  } finally {
    process.off('warning', onWarning);
  }
  return warnings;
}

test('VirtualBuffer reads share one abort listener on their signal, taken off when they settle', async () => {
  const buffer = VirtualBuffer.fromBytes('one\ntwo\nthree');
  const { signal } = new AbortController();
  const reads = Array.from({ length: 12 }, () => buffer.read(0, 3, { signal }));
  const counts = [buffer.lineCount({ signal }), buffer.find('two', 0, undefined, { signal })];
  assert.equal(listeners(signal), 1);
  for (const read of await Promise.all(reads)) read.free();
  assert.deepEqual(await Promise.all(counts), [3, 4]);
  assert.equal(listeners(signal), 0);
  buffer.free();
});

test('an abort still rejects a VirtualBuffer read at once, and takes its listener off', async () => {
  const buffer = VirtualBuffer.fromBytes('abc');
  const controller = new AbortController();
  const read = buffer.read(0, 3, { signal: controller.signal });
  controller.abort(new Error('no longer wanted'));
  await assert.rejects(read, { name: 'AbortError' });
  assert.equal(listeners(controller.signal), 0);
  buffer.free();
});

test('forty calls of every kind on one signal: no leak warning, one listener, and an abort reaches each in the order made', async () => {
  const controller = new AbortController();
  const { signal } = controller;
  const pool = new BufferPool({ budget: 4096, classes: [4096] });
  const held = pool.tryAcquire(4096);
  const writer = Circular.withCapacity(4096);
  const reader = writer.addReader();
  const document = VirtualBuffer.fromBytes('a\nb\n');
  const settled = [];
  const waits = [];
  const counts = [];
  const warnings = await warningsDuring(async () => {
    for (let i = 0; i < 10; i++) {
      counts.push(document.lineCount({ signal }));
      for (const promise of [reader.sliceAsync({ signal }), pool.acquire(4096, { signal }), reader.chunks({ signal }).next()]) {
        const at = waits.length;
        waits.push(at);
        promise.then(
          (value) => settled.push([at, 'resolved', value]),
          (error) => settled.push([at, error.name]),
        );
      }
    }
    assert.equal(listeners(signal), 1);
    assert.deepEqual(await Promise.all(counts), Array(10).fill(3));
    assert.equal(__pendingWaits(), 30, 'the waits for data and for budget are pending');
    assert.equal(listeners(signal), 1);
    controller.abort(new Error('shutting down'));
    await turn();
  });
  assert.deepEqual(warnings.map((w) => w.name), []);
  assert.equal(listeners(signal), 0);
  assert.equal(__pendingWaits(), 0);
  // Every wait for data or budget rejected, those of each kind in the order they were made (how
  // many steps a rejection takes to reach the program differs between kinds and builds).
  assert.deepEqual(settled.map(([, how]) => how), Array(30).fill('AbortError'));
  for (const kind of [0, 1, 2]) {
    const made = settled.map(([at]) => at).filter((at) => at % 3 === kind);
    assert.deepEqual(made, [...made].sort((a, b) => a - b));
  }
  held.free();
  pool.free();
  writer.free();
  reader.free();
  document.free();
});

test("a listener of the program that stops the abort event's propagation keeps no wait from its cancellation", async () => {
  const controller = new AbortController();
  const { signal } = controller;
  // First on the signal, as a program's own listener often is.
  signal.addEventListener('abort', (event) => event.stopImmediatePropagation());
  const pool = new BufferPool({ budget: 4096, classes: [4096] });
  const held = pool.tryAcquire(4096);
  const writer = Circular.withCapacity(4096);
  const reader = writer.addReader();
  const waits = [pool.acquire(4096, { signal }), reader.sliceAsync({ signal }), reader.chunks({ signal }).next()];
  const outcomes = Promise.allSettled(waits);
  await turn();
  controller.abort(new Error('stop'));
  assert.deepEqual((await outcomes).map((o) => o.reason?.name), ['AbortError', 'AbortError', 'AbortError']);
  assert.equal(__pendingWaits(), 0);
  // The budget the aborted wait did not take goes to nobody: it is there to take.
  held.free();
  pool.tryAcquire(4096).free();
  pool.free();
  writer.free();
  reader.free();
});

test('onAbort(): callbacks in the order given, each once, forgotten by off(), the listener gone with the last', () => {
  const controller = new AbortController();
  const { signal } = controller;
  const calls = [];
  const record = (name) => () => calls.push(name);
  const offFirst = onAbort(signal, record('first'));
  const same = record('twice');
  onAbort(signal, same);
  onAbort(signal, same);
  const offGone = onAbort(signal, record('forgotten'));
  onAbort(signal, () => {
    calls.push('last');
    onAbort(signal, record('added while running')); // as a listener added to an aborted signal: never
  });
  offGone();
  offGone(); // twice does nothing
  assert.equal(listeners(signal), 1);
  controller.abort();
  assert.deepEqual(calls, ['first', 'twice', 'twice', 'last']);
  offFirst(); // after the abort: nothing
  assert.equal(listeners(signal), 0);

  const other = new AbortController();
  const offs = [onAbort(other.signal, record('x')), onAbort(other.signal, record('y'))];
  offs[0]();
  assert.equal(listeners(other.signal), 1);
  offs[1]();
  assert.equal(listeners(other.signal), 0);
  other.abort();
  assert.deepEqual(calls, ['first', 'twice', 'twice', 'last']);
});

test("a signal's own `reason` property, even a getter that throws, is not what a cancelled call reads", async () => {
  const controller = new AbortController();
  const { signal } = controller;
  Object.defineProperty(signal, 'reason', {
    get() {
      throw new Error('a reason that cannot be read');
    },
  });
  const pool = new BufferPool({ budget: 4096, classes: [4096] });
  const held = pool.tryAcquire(1);
  const writer = Circular.withCapacity(4096);
  const reader = writer.addReader();
  const uncaught = [];
  const onUncaught = (error) => uncaught.push(error);
  process.on('uncaughtException', onUncaught);
  try {
    const waits = [pool.acquire(1, { signal }), reader.sliceAsync({ signal }), VirtualBuffer.fromBytes('x').read(0, 1, { signal })];
    controller.abort('the real reason');
    const outcomes = await Promise.allSettled(waits);
    // The pool's and the ring's waits had nothing to wait for but the abort; the read may have
    // settled first.
    assert.deepEqual(outcomes.slice(0, 2).map((o) => o.status), ['rejected', 'rejected']);
    for (const outcome of outcomes.filter((o) => o.status === 'rejected')) {
      assert.equal(outcome.reason.name, 'AbortError');
      assert.equal(outcome.reason.cause, 'the real reason');
    }
    await turn();
    assert.deepEqual(uncaught, []);
    assert.equal(__pendingWaits(), 0);
  } finally {
    process.off('uncaughtException', onUncaught);
    held.free();
    pool.free();
    reader.free();
    writer.free();
  }
});

/** A signal of `controller` whose own `aborted` property says `own` (a getter that throws where `own`
 * is an Error). */
function shadowedAborted(controller, own) {
  Object.defineProperty(controller.signal, 'aborted', {
    get() {
      if (own instanceof Error) throw own;
      return own;
    },
  });
  return controller.signal;
}

test("a signal's own `aborted` property, a getter that throws or one that lies, is not what a call reads", async () => {
  const pool = new BufferPool({ budget: 4096, classes: [4096] });
  const held = pool.tryAcquire(1);
  const writer = Circular.withCapacity(4096);
  const reader = writer.addReader();
  const document = VirtualBuffer.fromBytes('x');
  /** The calls that wait on `signal`: none has anything to wait for but an abort, save the read. */
  const calls = (signal) => [pool.acquire(1, { signal }), reader.sliceAsync({ signal }), reader.chunks({ signal }).next(), document.read(0, 1, { signal })];
  try {
    for (const own of [new Error('an aborted that cannot be read'), true]) {
      // A signal that has not aborted: each call returns a Promise (none throws) that waits, as
      // with any signal that has not aborted, until the signal aborts.
      const controller = new AbortController();
      const waits = calls(shadowedAborted(controller, own));
      await turn();
      const settled = [];
      waits.forEach((wait, at) => wait.then(() => settled.push(at), () => settled.push(at)));
      await turn();
      assert.deepEqual(settled.filter((at) => at < 3), [], `waits settled before the abort (own aborted: ${own})`);
      controller.abort('the real reason');
      const outcomes = await Promise.allSettled(waits);
      assert.deepEqual(outcomes.slice(0, 3).map((o) => [o.status, o.reason?.name, o.reason?.cause]), Array(3).fill(['rejected', 'AbortError', 'the real reason']));
      const read = outcomes[3];
      if (read.status === 'fulfilled') read.value.free();
    }
    // A signal that has aborted, whose own property says it has not: every call rejects at once.
    const controller = new AbortController();
    controller.abort('aborted already');
    const outcomes = await Promise.allSettled(calls(shadowedAborted(controller, false)));
    assert.deepEqual(outcomes.map((o) => [o.status, o.reason?.name, o.reason?.cause]), Array(4).fill(['rejected', 'AbortError', 'aborted already']));
    await turn();
    assert.equal(__pendingWaits(), 0);
  } finally {
    held.free();
    pool.free();
    reader.free();
    writer.free();
    document.free();
  }
});
