// The page of the ring tests (js/e2e/rings-threads.test.mjs): runs one scenario per call, with the
// page, dedicated workers, or both on either side of a ring, and returns every side's tally.
import { init, initSync, threaded, BufferMut, BufferPool, Circular, CircularReader, CircularWriter, VirtualBuffer, ZeroCopyBuffer } from '../../web.mjs';
import { count, expectedChecksum, fill, tally } from './pattern.mjs';
import { plainBytesOverSharedMemory } from '../../test/plain-bytes.mjs';

const worker = (message) =>
  new Promise((resolve, reject) => {
    const w = new Worker(new URL('./worker.mjs', import.meta.url), { type: 'module' });
    w.onmessage = ({ data }) => {
      w.terminate();
      if (data.error) reject(new Error(data.error));
      else resolve(data);
    };
    w.onerror = (e) => reject(new Error(`worker: ${e.message}`));
    w.postMessage(message);
  });

/** Reads the stream on the page with sliceAsync() until the end. */
async function readOnPage(reader, capacity) {
  const t = tally();
  for (;;) {
    const slice = await reader.sliceAsync();
    if (slice === null) break;
    count(t, slice, capacity);
    reader.consume(slice.length);
  }
  t.abortReason = reader.abortReason;
  reader.free();
  return t;
}

/** Reads the stream on the page through reader.readableStream() until it ends or errors (the error's
 * code and message go into the tally). */
async function readStreamOnPage(reader, capacity) {
  const t = tally();
  try {
    for await (const chunk of reader.readableStream()) count(t, chunk, capacity);
  } catch (e) {
    t.error = { code: e.code, message: e.message };
  }
  return t;
}

/** Writes the stream on the page: slice() in place, sliceAsync() when the ring is full. */
async function writeOnPage(writer, total, chunk, abortWith) {
  let sent = 0;
  while (sent < total) {
    let room = writer.slice();
    if (room.length === 0) room = await writer.sliceAsync();
    const n = Math.min(room.length, chunk, total - sent);
    fill(room.subarray(0, n), sent);
    writer.produce(n);
    sent += n;
  }
  if (abortWith === undefined) writer.free();
  else writer.abort(abortWith);
}

/**
 * One ring of `capacity` bytes carrying `total` bytes in chunks of at most `chunk`: the writer on
 * the page or in a worker, `workerReaders` readers in workers, `pageReaders` on the page and
 * `pageStreams` on the page through a ReadableStream. With `abortWith`, the writer ends the stream
 * with abort(abortWith).
 */
async function scenario({ capacity, total, chunk, writerIn, workerReaders, pageReaders, pageStreams = 0, abortWith }) {
  const writer = Circular.withCapacity(capacity);
  const cap = writer.capacity;
  const readers = [];
  for (let i = 0; i < workerReaders; i++) {
    readers.push(worker({ handle: writer.addReader().toHandle(), role: 'reader', capacity: cap }));
  }
  for (let i = 0; i < pageReaders; i++) readers.push(readOnPage(writer.addReader(), cap));
  for (let i = 0; i < pageStreams; i++) readers.push(readStreamOnPage(writer.addReader(), cap));
  const writing = writerIn === 'page'
    ? writeOnPage(writer, total, chunk, abortWith)
    : worker({ handle: writer.toHandle(), role: 'writer', total, chunk, abortWith });
  const [tallies, wrote] = await Promise.all([Promise.all(readers), writing]);
  return { capacity: cap, expected: expectedChecksum(total), tallies, wrote: wrote ?? null };
}

/** A worker of the ring tests, kept running: `first` and `second` are its first two messages. */
function keptWorker(message) {
  const w = new Worker(new URL('./worker.mjs', import.meta.url), { type: 'module' });
  const settlers = [];
  const [first, second] = [0, 1].map((i) => new Promise((resolve, reject) => (settlers[i] = { resolve, reject })));
  let received = 0;
  w.onmessage = ({ data }) => {
    const settle = settlers[received++];
    if (data.error) settle?.reject(new Error(data.error));
    else settle?.resolve(data);
  };
  w.onerror = (e) => settlers.forEach((s) => s.reject(new Error(`worker: ${e.message}`)));
  w.postMessage(message);
  return { first, second, terminate: () => w.terminate() };
}

/** `promise`, or a rejection naming `what` after `ms`. */
const within = (ms, what, promise) =>
  Promise.race([promise, new Promise((_, reject) => setTimeout(() => reject(new Error(`${what} still waits after ${ms} ms`)), ms))]);

/** Settles once `condition()` holds, looking every 10 ms. */
async function until(condition) {
  while (!condition()) await new Promise((resolve) => setTimeout(resolve, 10));
}

/**
 * A side handed to a worker that is terminated while it holds it, never freed. A writer fills the
 * ring and waits in sliceSync() for room: the page's readers (raw and a ReadableStream), which start
 * only once the writer's end is known, read every byte it wrote, then the end and why. A reader reads
 * `stopAfter` bytes and blocks: the page's writer, waiting for the room that reader holds, goes on
 * once the worker is terminated, and the page's reader gets the whole stream.
 */
async function leftBehind({ side, capacity, total, chunk, stopAfter }) {
  const writer = Circular.withCapacity(capacity);
  const cap = writer.capacity;
  if (side === 'writer') {
    const readers = [writer.addReader(), writer.addReader()];
    const worker = keptWorker({ handle: writer.toHandle(), role: 'writer', total: cap, chunk, leave: true });
    const wrote = await worker.first;
    worker.terminate();
    // Nothing reads until the writer's end is known, which comes after its worker stopped: a reader
    // that made room earlier would wake the writer, and a worker stopped while it runs wasm code may
    // leave the allocator's lock held (docs/browser-threads.md).
    await within(20_000, 'the end of the lost writer', until(() => readers[0].abortReason !== null));
    const tallies = await within(20_000, 'a reader of the lost writer',
      Promise.all([readOnPage(readers[0], cap), readStreamOnPage(readers[1], cap)]));
    return { capacity: cap, expected: expectedChecksum(cap), tallies, wrote };
  }
  const worker = keptWorker({ handle: writer.addReader().toHandle(), role: 'reader', capacity: cap, stopAfter });
  const reading = readOnPage(writer.addReader(), cap);
  const writing = writeOnPage(writer, total, chunk);
  const left = await worker.first;
  // The writer is held back by the worker's reader now; the terminate lets it go on.
  await new Promise((resolve) => setTimeout(resolve, 200));
  worker.terminate();
  const [tally] = await within(20_000, 'the writer held back by the lost reader', Promise.all([reading, writing]));
  return { capacity: cap, expected: expectedChecksum(total), tallies: [tally], left };
}

/**
 * A side a worker made itself (never handed to it), and the worker terminated: a writer of its own
 * ring, whose reader the page claimed, must end the stream for that reader; a reader it added to the
 * page's writer must stop holding that writer back.
 */
async function madeInWorker({ side, capacity, total, chunk }) {
  if (side === 'writer') {
    const seed = Circular.withCapacity(capacity); // its handle only loads the module in the worker
    const worker = keptWorker({ handle: seed.toHandle(), role: 'maker', made: 'writer', capacity, total: chunk });
    const reader = CircularReader.fromHandle((await worker.first).handle);
    const wrote = await worker.second;
    worker.terminate();
    await within(20_000, 'the end of the lost writer', until(() => reader.abortReason !== null));
    const tally = await within(20_000, 'a reader of the lost writer', readOnPage(reader, capacity));
    return { expected: expectedChecksum(wrote.sent), tallies: [tally], wrote };
  }
  const writer = Circular.withCapacity(capacity);
  const cap = writer.capacity;
  const pageReader = writer.addReader();
  const worker = keptWorker({ handle: writer.toHandle(), role: 'maker', made: 'reader' });
  const back = CircularWriter.fromHandle((await worker.first).handle);
  await new Promise((resolve) => setTimeout(resolve, 200));
  worker.terminate();
  const [tally] = await within(20_000, 'the writer held back by the lost reader',
    Promise.all([readOnPage(pageReader, cap), writeOnPage(back, total, chunk)]));
  return { expected: expectedChecksum(total), tallies: [tally] };
}

/**
 * Sides a worker makes and frees while the page's thread is busy (a long task that ends only when
 * the worker's loop did): the page watches such sides for the worker's end, but freed, they must not
 * keep their ring's memory until the page gets to them. Returns what the worker says: how many rings
 * it made, and how much the shared memory grew meanwhile.
 */
async function churnedInWorker({ rings, capacity }) {
  const seed = Circular.withCapacity(16); // its handle only loads the module in the worker
  const signals = new Int32Array(new SharedArrayBuffer(8)); // go, done
  const worker = keptWorker({ handle: seed.toHandle(), role: 'churn', rings, capacity, signals });
  await worker.first; // loaded: from here on the page's thread stays busy until the loop ends
  Atomics.store(signals, 0, 1);
  Atomics.notify(signals, 0);
  const deadline = performance.now() + 30_000;
  while (Atomics.load(signals, 1) === 0 && performance.now() < deadline);
  const churned = await worker.second;
  worker.terminate();
  return churned;
}

/**
 * toHandle() when the shared memory is full just as the tables of handed sides must grow (57,344
 * entries: 7/8 of 65,536, the most a table of that size holds): the call must fail with a
 * RangeError and leave the side where it was, not trap with a table's spin lock held, which froze
 * the page at the next watch of a handed side. Then, with the memory back, the side moves, and a
 * worker claims a side handed before while the page's watch goes on.
 */
async function handedWithFullMemory() {
  const writer = Circular.withCapacity(64);
  const handles = [];
  for (let i = 0; i < 57_344; i++) handles.push(writer.addReader().toHandle());
  const kept = writer.addReader();
  // The memory filled with rings, halving their size down to the smallest, then a small hole for
  // the small allocations a toHandle() makes besides the tables.
  const filling = [];
  for (let capacity = 2 ** 28; capacity >= 16; ) {
    try {
      filling.push(Circular.withCapacity(capacity));
    } catch {
      capacity /= 2;
    }
  }
  filling.pop().free();
  let full;
  try {
    kept.toHandle();
  } catch (e) {
    full = { name: e.name, code: e.code, message: e.message };
  }
  const stillKept = kept.slice().length; // throws if the reader moved or broke
  for (const ring of filling) ring.free();
  const moved = kept.toHandle();
  const claimer = keptWorker({ handle: handles[0], role: 'claim' });
  const claimed = await within(10_000, 'a worker claiming a side handed before', claimer.first);
  claimer.terminate();
  await within(5_000, 'the page, after the claim', new Promise((resolve) => setTimeout(resolve, 50)));
  return { full, stillKept, moved: typeof moved.id, claimed: claimed.claimed };
}

/**
 * A reader moved on: a worker claims it and moves it to a handle of its own, then is terminated; the
 * page's watch of the first handle must not take that for a reader lost (it would stop holding the
 * writer back, and bytes would be overwritten before they are read). A second worker claims the new
 * handle and reads the whole stream.
 */
async function movedOn({ capacity, total, chunk }) {
  const writer = Circular.withCapacity(capacity);
  const cap = writer.capacity;
  const forwarder = keptWorker({ handle: writer.addReader().toHandle(), role: 'forward' });
  const { handle } = await forwarder.first;
  forwarder.terminate();
  await new Promise((resolve) => setTimeout(resolve, 200));
  const writing = writeOnPage(writer, total, chunk);
  const [tally] = await within(30_000, 'the moved reader', Promise.all([worker({ handle, role: 'reader', capacity: cap }), writing]));
  return { capacity: cap, expected: expectedChecksum(total), tallies: [tally] };
}

/**
 * A writer handed on by a worker that then blocks in sliceSync() on a reader of it: the worker it
 * was handed to writes `total` bytes (less than the ring holds), keeps the writer and is terminated.
 * The blocked worker's reader gets the bytes, then the end and why: the page ends the lost writer,
 * as the blocked worker could not.
 */
async function relayed({ capacity, total, chunk }) {
  const writer = Circular.withCapacity(capacity);
  const cap = writer.capacity;
  const relay = keptWorker({ handle: writer.toHandle(), role: 'relay', capacity: cap });
  const { handle } = await relay.first;
  const producer = keptWorker({ handle, role: 'writer', total, chunk, leave: 'idle' });
  const wrote = await producer.first;
  producer.terminate();
  const tally = await within(20_000, 'the blocked reader of the lost writer', relay.second);
  relay.terminate();
  return { capacity: cap, expected: expectedChecksum(total), tallies: [tally], wrote };
}

/** What toHandle() says where the page is not cross-origin isolated. */
function handleError() {
  const writer = Circular.withCapacity(64);
  const reader = writer.addReader();
  try {
    reader.toHandle();
    return null;
  } catch (e) {
    return { name: e.name, message: e.message, code: e.code };
  } finally {
    reader.free();
    writer.free();
  }
}

/** The mistakes around handles and waits on an isolated page: each one's error, or null if it did
 * not throw. */
function handleMisuse() {
  const caught = (f) => {
    try {
      f();
      return null;
    } catch (e) {
      return { name: e.name, message: e.message };
    }
  };
  const writer = Circular.withCapacity(64);
  const reader = writer.addReader();
  const out = {
    initSyncWithoutHandle: caught(() => initSync({})),
    sliceSyncOnPage: caught(() => reader.sliceSync(10)),
    writerSliceSyncOnPage: caught(() => writer.sliceSync(10)),
  };
  const handle = reader.toHandle();
  out.usedAfterMove = caught(() => reader.slice());
  // A side moved away says so before it looks at the arguments, as a freed one does.
  out.movedWithBadArguments = [
    () => reader.consume(-1),
    () => reader.read(-1),
    () => reader.readInto(5),
    () => reader.sliceSync(-1),
  ].map(caught);
  const other = Circular.withCapacity(64);
  other.addReader().toHandle(); // parked, unclaimed: nothing reads from it
  other.toHandle();
  out.movedWithBadArguments.push(
    ...[() => other.produce(-1), () => other.write(5), () => other.sliceSync(-1), () => other.abort(5)].map(caught),
  );
  out.otherClass = caught(() => CircularWriter.fromHandle(handle));
  // The class edited: refused for the class of what the handle names, which it leaves parked.
  out.editedClass = caught(() => CircularWriter.fromHandle({ ...handle, omnibuf: 'CircularWriter' }));
  out.malformed = caught(() => CircularReader.fromHandle({ omnibuf: 'CircularReader' }));
  out.fractionalId = caught(() => CircularReader.fromHandle({ ...handle, id: handle.id + 0.5 }));
  const back = CircularReader.fromHandle(structuredClone({ ...handle, module: undefined, memory: undefined }));
  out.claimedTwice = caught(() => CircularReader.fromHandle(handle));
  reader.free();
  out.freedAfterMove = caught(() => reader.slice());
  writer.write('via handle');
  // A view of shared memory: TextDecoder (like Blob) takes only unshared bytes, so a copy.
  out.readBack = new TextDecoder().decode(back.slice().slice());
  back.free();
  writer.free();
  return out;
}

/** A side's pending sliceAsync() when the side moves to a handle: each wait's outcome, by side and by
 * whether the object was freed right after the move. The wait is woken by toHandle() but settles in
 * a later task (Atomics.waitAsync; the addon's wake-up goes round the event loop too): by itself it
 * rejects as moved, and an object freed before then says it was freed, as in the addon
 * (js/test/ring.test.mjs). */
async function movedWhileWaiting() {
  const outcome = (promise) =>
    Promise.race([
      promise.then(() => 'resolved', (e) => ({ name: e.name, code: e.code, message: e.message })),
      new Promise((resolve) => setTimeout(() => resolve('still pending after 5 s'), 5000)),
    ]);
  const out = {};
  for (const side of ['reader', 'writer']) {
    for (const freed of [false, true]) {
      const writer = Circular.withCapacity(64);
      const reader = writer.addReader();
      // A reader waits for data; a writer for room, once the reader is a whole ring behind.
      if (side === 'writer') while (writer.write(new Uint8Array(writer.capacity)) > 0);
      const waiting = side === 'reader' ? reader : writer;
      const pending = waiting.sliceAsync();
      await new Promise((resolve) => setTimeout(resolve, 20)); // pending, in the ring's list too
      const handle = waiting.toHandle();
      if (freed) waiting.free();
      out[`${side}${freed ? 'Freed' : 'Moved'}`] = await outcome(pending);
      (side === 'reader' ? CircularReader : CircularWriter).fromHandle(handle).free();
      writer.free();
      reader.free();
    }
  }
  return out;
}

/** The ring's stream forms in a worker that ran only initSync(handle) (worker.mjs, afterInitSync):
 * its errors, and a second ring's reader's reason after that worker's writable stream was aborted by
 * its signal. */
async function streamsAfterInitSync() {
  const first = Circular.withCapacity(64);
  const readerHandle = first.addReader().toHandle();
  const second = Circular.withCapacity(64);
  const secondReader = second.addReader();
  const out = await worker({ role: 'initSync', handle: first.toHandle(), readerHandle, secondHandle: second.toHandle() });
  const received = [];
  try {
    for await (const chunk of secondReader) received.push(...chunk);
  } catch (e) {
    out.secondEnd = { code: e.code, message: e.message };
  }
  out.secondReceived = new TextDecoder().decode(new Uint8Array(received));
  return out;
}

/** Calls made before init(): each one's error (a Promise's rejection), or null if none. */
async function callsBeforeInit() {
  const settled = async (f) => {
    try {
      await f();
      return null;
    } catch (e) {
      return { name: e.name, code: e.code, message: e.message };
    }
  };
  const listed = VirtualBuffer.list();
  listed.catch(() => {});
  return {
    construct: await settled(() => new BufferMut(8)),
    staticCall: await settled(() => ZeroCopyBuffer.from('x')),
    ring: await settled(() => Circular.withCapacity(64)),
    asyncStatic: await settled(() => VirtualBuffer.open('doc')),
    asyncStaticIsPromise: listed instanceof Promise,
  };
}

const beforeInit = await callsBeforeInit();
/** The members one entry lacks: the Node stream forms here, and what "omnibuf/worklet" lacks in a
 * worker that loads only that entry (worklet-entry.mjs), each call's error. */
async function unavailableMembers() {
  const caught = (f) => {
    try {
      f();
      return null;
    } catch (e) {
      return { name: e.name, code: e.code, message: e.message };
    }
  };
  const writer = Circular.withCapacity(64);
  const reader = writer.addReader();
  const doc = VirtualBuffer.fromBytes('text');
  const out = {
    nodeReadable: caught(() => reader.nodeReadable()),
    nodeWritable: caught(() => writer.nodeWritable()),
    documentNodeReadable: caught(() => doc.nodeReadable(0, 4)),
    wrongReceiver: caught(() => CircularReader.prototype.nodeReadable.call({})),
  };
  doc.free();
  if (threaded) {
    const w = new Worker(new URL('./worklet-entry.mjs', import.meta.url), { type: 'module' });
    out.worklet = await new Promise((resolve, reject) => {
      w.onmessage = ({ data }) => resolve(data);
      w.onerror = (e) => reject(new Error(`worker: ${e.message}`));
      w.postMessage({ writerHandle: writer.toHandle(), readerHandle: reader.toHandle() });
    });
    w.terminate();
    const both = new Worker(new URL('./both-entries.mjs', import.meta.url), { type: 'module' });
    const bothWriter = Circular.withCapacity(64);
    const bothReader = bothWriter.addReader();
    out.bothEntries = await new Promise((resolve, reject) => {
      both.onmessage = ({ data }) => resolve(data);
      both.onerror = (e) => reject(new Error(`worker: ${e.message}`));
      both.postMessage({ writerHandle: bothWriter.toHandle(), readerHandle: bothReader.toHandle() });
    });
    both.terminate();
  } else {
    writer.free();
    reader.free();
  }
  return out;
}

/** slices() whose steps' bodies take bytes from the reader (read(), consume(), readInto()): what the
 * steps showed. In the threaded build the slices are the ring's shared memory, which no take
 * detaches. */
async function slicesTakenOver() {
  const writer = Circular.withCapacity(64);
  const reader = writer.addReader();
  const text = (bytes) => new TextDecoder().decode(bytes.slice());
  const encode = (s) => new TextEncoder().encode(s);
  const seen = [];
  const loop = reader.slices();
  writer.write(encode('abc'));
  seen.push(text((await loop.next()).value));
  reader.read();
  writer.write(encode('defgh'));
  seen.push(text((await loop.next()).value));
  reader.consume(2);
  writer.write(encode('ij'));
  seen.push(text((await loop.next()).value));
  reader.readInto(new Uint8Array(1));
  writer.write(encode('k'));
  seen.push(text((await loop.next()).value));
  await loop.return();
  const left = reader.slice().length;
  writer.free();
  reader.free();
  return { seen, left };
}

window.omnibufRings = { scenario, leftBehind, madeInWorker, churnedInWorker, handedWithFullMemory, movedOn, relayed, handleError, handleMisuse, movedWhileWaiting, streamsAfterInitSync, unavailableMembers, slicesTakenOver, plainBytes: () => plainBytesOverSharedMemory({ BufferPool, Circular, VirtualBuffer, ZeroCopyBuffer }), threaded, beforeInit };
await init();
/** Whether objects' `constructor` is the class as exported, and `instanceof` holds. */
window.omnibufRings.constructors = () => {
  const buffer = ZeroCopyBuffer.from('x');
  const writer = Circular.withCapacity(64);
  const out = {
    buffer: buffer.constructor === ZeroCopyBuffer && buffer instanceof ZeroCopyBuffer,
    writer: writer.constructor === CircularWriter && writer instanceof CircularWriter,
    prototype: BufferMut.prototype.constructor === BufferMut,
  };
  writer.free();
  return out;
};
document.body.dataset.ready = 'true';
