// Views that JS moves into a new ArrayBuffer (a byte stream's enqueue(), a BYOB read(), transfer()):
// whatever moved must never show memory after it was freed or handed on, in either build. The
// addon copies or refuses such moves of its views (js/addon-moves.mjs), and a move it does not know
// leaves the bytes alone until the moved memory is collected (node/src/platform/views.rs); the wasm
// build's views are copies of their own, free to move.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as web from 'node:stream/web';
import { Worker } from 'node:worker_threads';

// Taken before the entry loads, as a mover the addon's JS layer does not know.
const unguardedEnqueue = web.ReadableByteStreamController.prototype.enqueue;
const { BufferPool, Circular, ZeroCopyBuffer, externalBuffers, impl } = await import('./impl.mjs');

const gc = globalThis.gc ?? (() => {});
const turn = () => new Promise((resolve) => setImmediate(resolve));

/** The first chunk a byte stream gives when its start() enqueues `view` with `enqueue`. */
async function throughByteStream(view, enqueue = web.ReadableByteStreamController.prototype.enqueue) {
  const stream = new web.ReadableStream({
    type: 'bytes',
    start(controller) {
      Reflect.apply(enqueue, controller, [view]);
      controller.close();
    },
  });
  const { value } = await stream.getReader().read();
  return value;
}

/** Frees `objects`, then gives the collector and the finalizers it queues a chance to run. */
async function freeAndCollect(...objects) {
  for (const object of objects) object.free();
  for (let i = 0; i < 3; i++) {
    gc();
    await turn();
  }
}

test('a ring slice enqueued into a byte stream keeps its bytes after the ring is freed', async () => {
  const writer = Circular.withCapacity(1 << 16);
  const reader = writer.addReader();
  writer.write(new Uint8Array(1 << 16).fill(0xaa));
  const chunk = await throughByteStream(reader.slice());
  assert.equal(chunk.length, 1 << 16);
  await freeAndCollect(reader, writer);
  // A crash, or the bytes of whatever took the memory, if the chunk still showed the ring.
  assert.ok(chunk.every((byte) => byte === 0xaa));
  chunk.fill(1);
});

/** Enqueues the view of each of `count` ZeroCopyBuffers (buffer i filled with i) with `enqueue`,
 * freeing each buffer, then checks that the chunks keep their bytes while new buffers take memory. */
async function viewsKeepTheirBytes(count, enqueue) {
  const chunks = [];
  for (let i = 0; i < count; i++) {
    const buffer = ZeroCopyBuffer.from(new Uint8Array(4096).fill(i));
    chunks.push(await throughByteStream(buffer.view(), enqueue));
    buffer.free();
  }
  gc();
  await turn();
  const others = Array.from({ length: count }, () => ZeroCopyBuffer.from(new Uint8Array(4096).fill(0xee)));
  chunks.forEach((chunk, i) => assert.ok(chunk.every((byte) => byte === i), `chunk ${i}`));
  others.forEach((other) => other.free());
}

test("views of ZeroCopyBuffers enqueued into byte streams keep their own bytes after free()", async () => {
  await viewsKeepTheirBytes(50);
});

test('a BYOB read into a writer slice is refused, or the produce() after it is: readers never see bytes not written', async () => {
  const source = new web.ReadableStream({
    type: 'bytes',
    pull(controller) {
      controller.byobRequest.view.fill(0x42, 0, 100);
      controller.byobRequest.respond(100);
    },
  });
  const byob = source.getReader({ mode: 'byob' });
  const writer = Circular.withCapacity(1 << 16);
  const reader = writer.addReader();
  let read;
  try {
    read = await byob.read(writer.slice());
  } catch (error) {
    // The addon: its slice is ring memory, which may not move.
    assert.equal(impl, 'addon');
    assert.ok(error instanceof TypeError, String(error));
    assert.equal(error.code, 'ERR_INVALID_STATE');
  }
  if (read !== undefined) {
    // The wasm build: the slice is a copy, which moved away with the bytes read into it.
    assert.throws(() => writer.produce(read.value.length), { code: 'ERR_INVALID_STATE' });
  }
  assert.equal(reader.slice().length, 0);
  await freeAndCollect(reader, writer);
  if (read !== undefined) assert.ok(read.value.every((byte) => byte === 0x42));
});

test("a BYOB request's respondWithNewView() is refused a view's memory", { skip: !externalBuffers && 'views are copies here' }, async () => {
  const buffer = ZeroCopyBuffer.from(new Uint8Array(16).fill(7));
  let refusal;
  const source = new web.ReadableStream({
    type: 'bytes',
    autoAllocateChunkSize: 16,
    pull(controller) {
      try {
        controller.byobRequest.respondWithNewView(buffer.view());
      } catch (error) {
        refusal = error;
        controller.close();
      }
    },
  });
  await source.getReader().read();
  assert.ok(refusal instanceof TypeError, String(refusal));
  assert.equal(refusal.code, 'ERR_INVALID_STATE');
  assert.equal(buffer.view()[0], 7);
  // The copy the message advises is one (a view's own slice(), Buffer's, would not be).
  assert.match(refusal.message, /copy it \(new Uint8Array\(view\)\) instead$/);
  const copy = new Uint8Array(buffer.view());
  buffer.free();
  assert.deepEqual([...copy], new Array(16).fill(7), 'the copy outlives free()');
});

test('a ring slice moved by a mover the entry does not know leaves the ring stuck, never shows reused memory', { skip: impl !== 'addon' && 'wasm slices are copies, free to move' }, async () => {
  const writer = Circular.withCapacity(1 << 16);
  const reader = writer.addReader();
  writer.write(new Uint8Array(1 << 16).fill(0xaa));
  const slice = reader.slice();
  const chunk = await throughByteStream(slice, unguardedEnqueue);
  assert.equal(slice.length, 0, 'moved away');
  // The reader cannot let the writer reuse bytes that the moved chunk may still show.
  assert.throws(() => reader.consume(chunk.length), { code: 'ERR_INVALID_STATE' });
  writer.write(new Uint8Array(16).fill(0xbb)); // no room: nothing is written over the chunk
  await freeAndCollect(reader, writer);
  assert.ok(chunk.every((byte) => byte === 0xaa));
});

test('a ZeroCopyBuffer view moved by a mover the entry does not know keeps its memory until collected', { skip: impl !== 'addon' && 'wasm views are copies, free to move' }, async () => {
  await viewsKeepTheirBytes(20, unguardedEnqueue);
});

test('a move the entry does not know is still seen after the moved-from ArrayBuffer could be collected', { skip: impl !== 'addon' && 'wasm views are copies, free to move' }, async () => {
  // A reader's slice: the side holds the ArrayBuffer it made until the slice is detached, so the
  // move stays visible however long the program waits.
  const writer = Circular.withCapacity(1 << 16);
  const reader = writer.addReader();
  writer.write(new Uint8Array(1 << 16).fill(0xaa));
  const chunk = await throughByteStream(reader.slice(), unguardedEnqueue);
  for (let i = 0; i < 3; i++) {
    gc();
    await turn();
  }
  assert.throws(() => reader.consume(chunk.length), { code: 'ERR_INVALID_STATE' });
  await freeAndCollect(reader, writer);
  assert.ok(chunk.every((byte) => byte === 0xaa));

  // A ZeroCopyBuffer's view holds its memory itself: collected or not, the memory lives until the
  // moved chunk is collected too.
  const buffer = ZeroCopyBuffer.from(new Uint8Array(1 << 16).fill(0xcc));
  const moved = await throughByteStream(buffer.view(), unguardedEnqueue);
  const tail = buffer.splitOff(buffer.length); // lets go of the view the buffer kept
  for (let i = 0; i < 3; i++) {
    gc();
    await turn();
  }
  await freeAndCollect(buffer, tail);
  const others = Array.from({ length: 20 }, () => ZeroCopyBuffer.from(new Uint8Array(1 << 16).fill(0xee)));
  assert.ok(moved.every((byte) => byte === 0xcc));
  others.forEach((other) => other.free());
});

test('a PooledBuffer whose view moved out of reach is not frozen, and its memory is never reused', { skip: impl !== 'addon' && 'wasm views are copies, free to move' }, async () => {
  const pool = new BufferPool({ budget: 1 << 16, classes: [4096] });
  const buffer = pool.tryAcquire(4096);
  buffer.append(new Uint8Array(4096).fill(0xaa));
  const moved = await throughByteStream(buffer.view(), unguardedEnqueue);
  assert.throws(() => buffer.freeze(), { code: 'ERR_INVALID_STATE', message: /moved out of reach/ });
  // The refused freeze gave the buffer up, as free() would: it says so, and free() does nothing.
  assert.throws(() => buffer.length, { code: 'ERR_INVALID_STATE', message: 'this PooledBuffer was freed and cannot be used any more' });
  buffer.free();
  buffer.free();
  const next = pool.tryAcquire(4096);
  next.append(new Uint8Array(4096).fill(0xee));
  assert.ok(moved.every((byte) => byte === 0xaa));
  next.free();
  pool.free();
});

/** Runs moves-worker.child.mjs with `workerData`, ends it (`workerData.exit`: 'return' or
 * 'terminate'), and returns what it posted once the worker's environment is gone. */
async function runWorkerToTheEnd(workerData) {
  const worker = new Worker(new URL('./moves-worker.child.mjs', import.meta.url), { workerData });
  const ended = new Promise((resolve, reject) => {
    worker.once('exit', resolve);
    worker.once('error', reject);
  });
  const posted = await new Promise((resolve) => worker.once('message', resolve));
  if (workerData.exit === 'terminate') await worker.terminate();
  await ended;
  return posted;
}

for (const what of ['buffer', 'slice', 'pooled']) {
  for (const exit of ['return', 'terminate']) {
    test(`a ${what} view moved out of reach in a worker and posted keeps its bytes after the worker ends (${exit})`, { skip: impl !== 'addon' && 'wasm views are copies, free to move' }, async () => {
      const { moved, fill } = await runWorkerToTheEnd({ what, exit });
      assert.equal(moved.length, 1 << 20);
      // Memory freed at the worker's shutdown would now be unmapped (a crash) or taken by these.
      const others = Array.from({ length: 64 }, () => new Uint8Array(1 << 20).fill(0xee));
      const buffers = Array.from({ length: 16 }, () => ZeroCopyBuffer.from(new Uint8Array(1 << 20).fill(0xee)));
      assert.ok(moved.every((byte) => byte === fill));
      moved.fill(1);
      assert.equal(others.length + buffers.length, 80);
      buffers.forEach((buffer) => buffer.free());
    });
  }
}

test("views alive when a worker ends, moved nowhere, are freed with the worker's memory", { skip: impl !== 'addon' && 'wasm views are copies' }, async () => {
  // 32 MiB per view, 8 workers per kind: kept for good, they would add 768 MiB.
  const rss = () => process.memoryUsage.rss() / 2 ** 20;
  const before = rss();
  for (const what of ['buffer', 'slice', 'pooled']) {
    for (let i = 0; i < 8; i++) await runWorkerToTheEnd({ what, exit: 'terminate', move: false, size: 32 << 20 });
  }
  gc();
  await turn();
  const growth = rss() - before;
  assert.ok(growth < 256, `resident memory grew by ${growth.toFixed(0)} MiB`);
});
