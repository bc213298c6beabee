// The addon's ring across threads: a writer on the main thread (Promise waits) and one or two reader
// workers (blocking waits) move a stream through a ring and compare SHA-256 checksums. The only reader
// reads in place, and its slices are detached by consume(); with two readers each slice is a copy
// of the reader's own (js/index.d.ts), which the writer never changes. A writer stream in a worker
// ({ ref: true }) keeps that worker alive while it waits for room, until all of it is in the ring;
// one whose source fails errors the main thread's reader stream after the bytes that went in, and so
// does a writer whose worker dies without freeing it.
//
// OMNIBUF_RING_SOAK_BYTES sets the stream's length (default 8 MiB, a second or so); the soak the
// ring issue asks for is OMNIBUF_RING_SOAK_BYTES=1073741824 (1 GiB).
//
// This file is both the test (on the main thread) and the reader (in each worker).
import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';
import { createHash } from 'node:crypto';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const CHUNK = 64 * 1024;

/** The stream's bytes from `offset`: a counter mixed per byte, cheap and never periodic in a ring. */
function fill(target, offset) {
  for (let i = 0; i < target.length; i++) {
    const n = offset + i;
    target[i] = (n ^ (n >>> 8) ^ (n >>> 16) ^ (n >>> 24)) & 0xff;
  }
}

if (process.argv[2] === 'child-blocked-worker') {
  // A process whose main thread ends (process.exit(3), or an uncaught error) while a worker is
  // blocked in sliceSync() without a timeout, on a side the main thread still holds: it must exit.
  const { Circular } = await import('../node.mjs');
  const writer = Circular.withCapacity(4096);
  const worker = new Worker(new URL(import.meta.url), { workerData: { blockIn: 'reader', handle: writer.addReader().toHandle() } });
  await new Promise((resolve) => worker.once('message', resolve));
  await new Promise((resolve) => setTimeout(resolve, 100));
  if (process.argv[3] === 'exit') process.exit(3);
  throw new Error('the main thread failed');
} else if (process.argv[2] === 'child-terminated-finalizers') {
  // Workers terminated while the finalizers of sides they dropped, whose slices they keep, are
  // still to run: those run as the worker stops, where a view can no longer be detached.
  for (let i = 0; i < 10; i++) {
    const worker = new Worker(new URL(import.meta.url), { workerData: { dropSides: true } });
    await new Promise((resolve) => worker.once('message', resolve));
    await worker.terminate();
  }
  console.log('survived');
} else if (!isMainThread && workerData.dropSides !== undefined) {
  const { Circular } = await import('../node.mjs');
  const kept = [];
  for (let i = 0; i < 2000; i++) {
    const writer = Circular.withCapacity(4096);
    const reader = writer.addReader();
    writer.write('ring data');
    kept.push(reader.slice()); // the sides are dropped, the slice kept
    if (i === 1000) parentPort.postMessage('dropping');
  }
  for (;;) await new Promise((resolve) => setImmediate(resolve)); // collections, finalizers, until terminated
} else if (!isMainThread && workerData.blockIn !== undefined) {
  // Blocks in sliceSync() without a timeout: a reader of a ring with no data, or a writer of a full one.
  const { CircularReader, CircularWriter } = await import('../node.mjs');
  const side = (workerData.blockIn === 'reader' ? CircularReader : CircularWriter).fromHandle(workerData.handle);
  parentPort.postMessage('blocking');
  side.sliceSync();
  parentPort.postMessage('woken');
} else if (!isMainThread && workerData.sliceSyncTimeouts !== undefined) {
  // sliceSync() in a worker, of the build under test (OMNIBUF_IMPL, inherited): what each call gives,
  // or the Error it throws. Nothing else runs on the ring meanwhile, so each answer is certain.
  const { Circular } = await import('./impl.mjs');
  const results = [];
  const call = (what, f) => {
    try {
      const slice = f();
      results.push([what, slice === null ? null : slice.length]);
    } catch (e) {
      results.push([what, `${e.constructor.name}: ${e.message}${e.code === undefined ? '' : ` (${e.code})`}`]);
    }
  };
  const writer = Circular.withCapacity(4096);
  const reader = writer.addReader();
  call('reader, no data, sliceSync(5)', () => reader.sliceSync(5));
  call('reader, no data, sliceSync(0)', () => reader.sliceSync(0));
  writer.write('abc');
  call('reader, data, sliceSync()', () => reader.sliceSync());
  call('reader, data, sliceSync(null)', () => reader.sliceSync(null));
  call('writer, room, sliceSync(0)', () => writer.sliceSync(0));
  while (writer.write(new Uint8Array(writer.capacity)) > 0);
  call('writer, full, sliceSync(5)', () => writer.sliceSync(5));
  reader.consume(3);
  call('writer, room again, sliceSync(undefined)', () => writer.sliceSync(undefined));
  writer.free();
  reader.consume(reader.slice().length);
  call('reader, at the end, sliceSync(5)', () => reader.sliceSync(5));
  call('reader, at the end, sliceSync()', () => reader.sliceSync());
  reader.free();
  parentPort.postMessage(results);
} else if (!isMainThread && workerData.crashAfter !== undefined) {
  // A writer whose thread dies half-way: some bytes written, then an uncaught error, no free().
  const { CircularWriter } = await import('../node.mjs');
  const writer = CircularWriter.fromHandle(workerData.handle);
  const bytes = new Uint8Array(workerData.crashAfter);
  fill(bytes, 0);
  // Its waits for room keep it alive (ref): it dies of the error below, not of an idle event loop.
  for (let sent = 0; sent < bytes.length; ) sent += writer.write(bytes.subarray(sent)) || (await writer.sliceAsync({ ref: true }), 0);
  throw new Error('the producer crashed');
} else if (!isMainThread && workerData.loopRef !== undefined) {
  // A reader loop over copies, reader.chunks({ ref }): with ref it keeps this worker alive while it
  // waits for the main thread's slow writes; without, the worker may exit before they come.
  const { CircularReader } = await import('../node.mjs');
  const reader = CircularReader.fromHandle(workerData.handle);
  let bytes = 0;
  for await (const chunk of reader.chunks({ ref: workerData.loopRef })) bytes += chunk.length;
  reader.free();
  parentPort.postMessage({ bytes });
} else if (!isMainThread && workerData.streamBytes !== undefined) {
  // A writer stream: the stream's bytes piped into the ring, with waits for room that keep this
  // thread alive (ref) while the main thread reads slowly.
  const { CircularWriter } = await import('../node.mjs');
  const { Readable } = await import('node:stream');
  const { pipeline } = await import('node:stream/promises');
  const writer = CircularWriter.fromHandle(workerData.handle);
  const total = workerData.streamBytes;
  async function* produce() {
    for (let sent = 0; sent < total; sent += CHUNK) {
      const chunk = new Uint8Array(Math.min(CHUNK, total - sent));
      fill(chunk, sent);
      yield chunk;
    }
    if (workerData.fail) throw new Error(`the source failed after ${total} bytes`);
  }
  try {
    await pipeline(Readable.from(produce()), writer.nodeWritable({ ref: true }));
    parentPort.postMessage('piped');
  } catch (error) {
    parentPort.postMessage(`failed: ${error.message}`);
  }
} else if (!isMainThread) {
  // A reader: claim the ring side, read with blocking waits until the end, report the checksum.
  const { CircularReader } = await import('../node.mjs');
  const reader = CircularReader.fromHandle(workerData.handle);
  const hash = createHash('sha256');
  let bytes = 0;
  let slices = 0;
  // A slice over the ring kept across consume() must be detached (empty) at once: otherwise it would
  // show bytes the writer, on the main thread, is overwriting at the same time. A slice that is a copy
  // stays, and must keep what it showed while the writer goes round the ring again and again.
  let attachedAfterConsume = 0;
  const kept = [];
  for (;;) {
    // The timeout lets the worker come back to JS now and then (so it could be terminated). An
    // argument more is ignored, whatever it says: only js/node.mjs tells the addon where it runs.
    const data = reader.sliceSync(1000, "the main thread's event loop");
    if (data === null) break;
    if (data.length === 0) continue;
    hash.update(data);
    bytes += data.length;
    slices++;
    const head = data.subarray(0, 16);
    const showed = Uint8Array.from(head);
    reader.consume(data.length);
    if (data.buffer.byteLength !== 0 || head.buffer.byteLength !== 0) {
      attachedAfterConsume++;
      if (kept.length < 256) kept.push({ head, showed });
    }
  }
  reader.free();
  const changed = kept.filter(({ head, showed }) => head.some((b, i) => b !== showed[i])).length;
  parentPort.postMessage({ bytes, slices, attachedAfterConsume, changed, digest: hash.digest('hex') });
} else {
  const { test } = await import('node:test');
  const assert = (await import('node:assert/strict')).default;
  const { impl } = await import('./impl.mjs');

  for (const readers of [1, 2]) test(`a writer and ${readers} reader worker(s) move a stream through a ring intact`, { skip: impl !== 'addon' && 'addon only' }, async () => {
    const { Circular } = await import('../node.mjs');
    const total = Number(process.env.OMNIBUF_RING_SOAK_BYTES ?? 8 * 1024 * 1024);
    assert.ok(Number.isSafeInteger(total) && total > 0, 'OMNIBUF_RING_SOAK_BYTES must be a positive integer');
    const writer = Circular.withCapacity(256 * 1024);
    const workers = Array.from({ length: readers }, () => {
      const handle = writer.addReader().toHandle();
      const worker = new Worker(new URL(import.meta.url), { workerData: { handle } });
      return new Promise((resolve, reject) => {
        worker.once('message', resolve);
        worker.once('error', reject);
        worker.once('exit', (code) => reject(new Error(`reader worker exited with ${code} before reporting`)));
      });
    });
    const expected = createHash('sha256');
    const chunk = new Uint8Array(CHUNK);
    try {
      for (let sent = 0; sent < total; ) {
        let room = writer.slice();
        if (room.length === 0) room = await writer.sliceAsync();
        const n = Math.min(room.length, total - sent, CHUNK);
        fill(chunk.subarray(0, n), sent);
        room.set(chunk.subarray(0, n));
        expected.update(chunk.subarray(0, n));
        writer.produce(n);
        sent += n;
      }
    } finally {
      writer.free(); // the end of the stream
    }
    const digest = expected.digest('hex');
    for (const report of await Promise.all(workers)) {
      assert.equal(report.bytes, total);
      assert.equal(report.digest, digest);
      assert.ok(report.slices > 0);
      if (readers === 1) {
        assert.equal(report.attachedAfterConsume, 0, 'a slice kept across consume() still showed the ring');
      } else {
        // Copies while both read (the last slices, after the other reader finished and was freed,
        // may be in place again, and then detached like the only reader's).
        assert.ok(report.attachedAfterConsume > report.slices / 2, 'with two readers the slices are copies');
        assert.equal(report.changed, 0, 'a copy kept across consume() changed under later writes');
      }
    }
  });

  test('a writer stream in a worker, with { ref: true }, keeps the worker alive until all of it is in the ring', { skip: impl !== 'addon' && 'addon only' }, async () => {
    const { Circular } = await import('../node.mjs');
    const total = 4 << 20;
    // A ring far smaller than the stream: the worker waits for room again and again, and only those
    // waits are left to it then.
    const writer = Circular.withCapacity(64 * 1024);
    const reader = writer.addReader();
    const worker = new Worker(new URL(import.meta.url), { workerData: { handle: writer.toHandle(), streamBytes: total } });
    const piped = new Promise((resolve, reject) => {
      worker.once('message', resolve);
      worker.once('error', reject);
    });
    const hash = createHash('sha256');
    let received = 0;
    const slowly = reader.nodeReadable();
    for await (const chunk of slowly) {
      hash.update(chunk);
      received += chunk.length;
      if (received % (1 << 20) < CHUNK) await new Promise((resolve) => setTimeout(resolve, 20));
    }
    assert.equal(await piped, 'piped');
    const expected = new Uint8Array(total);
    fill(expected, 0);
    assert.equal(received, total);
    assert.equal(hash.digest('hex'), createHash('sha256').update(expected).digest('hex'));
  });

  test('a writer stream in a worker whose source fails errors the reader stream on the main thread, after the bytes that went in', { skip: impl !== 'addon' && 'addon only' }, async () => {
    const { Circular } = await import('../node.mjs');
    const total = (1 << 20) + 12345;
    const writer = Circular.withCapacity(64 * 1024);
    const reader = writer.addReader();
    const worker = new Worker(new URL(import.meta.url), { workerData: { handle: writer.toHandle(), streamBytes: total, fail: true } });
    const piped = new Promise((resolve, reject) => {
      worker.once('message', resolve);
      worker.once('error', reject);
    });
    const hash = createHash('sha256');
    let received = 0;
    await assert.rejects(
      async () => {
        for await (const chunk of reader.nodeReadable()) {
          hash.update(chunk);
          received += chunk.length;
        }
      },
      { code: 'ECONNABORTED', message: `the ring's writer aborted: the source failed after ${total} bytes` },
    );
    assert.equal(await piped, `failed: the source failed after ${total} bytes`);
    // The pipeline destroys the writer stream as soon as its source fails: a chunk it still held,
    // waiting for room, never goes in. What did go in arrives whole, in order.
    assert.ok(received > total - 2 * CHUNK && received <= total, `${received} of ${total} bytes`);
    const expected = new Uint8Array(received);
    fill(expected, 0);
    assert.equal(hash.digest('hex'), createHash('sha256').update(expected).digest('hex'));
  });

  test('a reader loop in a worker, over reader.chunks({ ref: true }), keeps the worker alive while the writer is slow', { skip: impl !== 'addon' && 'addon only' }, async () => {
    const { Circular } = await import('../node.mjs');
    for (const loopRef of [true, false]) {
      const writer = Circular.withCapacity(64 * 1024);
      const worker = new Worker(new URL(import.meta.url), { workerData: { handle: writer.addReader().toHandle(), loopRef } });
      const report = new Promise((resolve, reject) => {
        worker.once('message', resolve);
        worker.once('error', reject);
        worker.once('exit', (code) => resolve(`exited with ${code} before reporting`));
      });
      for (let i = 0; i < 3; i++) {
        await new Promise((resolve) => setTimeout(resolve, 100));
        writer.write('0123456789');
      }
      writer.free();
      if (loopRef) assert.deepEqual(await report, { bytes: 30 });
      // Without ref, nothing else keeps the worker: it exits while it waits, as documented.
      else assert.match(String(await report), /^exited with \d+ before reporting$/);
    }
  });

  // Node stops a worker by asking its JS to end, which a thread parked in native code does not see;
  // the stopper then waits for the thread. Each case hangs for good unless sliceSync() notices.
  test('a worker blocked in sliceSync() without a timeout can be terminated, reader or writer', { skip: impl !== 'addon' && 'addon only', timeout: 60_000 }, async () => {
    const { Circular } = await import('../node.mjs');
    for (const blockIn of ['reader', 'writer']) {
      const writer = Circular.withCapacity(4096);
      const reader = writer.addReader();
      let handle;
      if (blockIn === 'writer') {
        writer.produce(writer.slice().length); // full: the writer waits for room
        handle = writer.toHandle();
      } else {
        handle = reader.toHandle();
      }
      const worker = new Worker(new URL(import.meta.url), { workerData: { blockIn, handle } });
      const messages = [];
      worker.on('message', (m) => messages.push(m));
      while (messages.length === 0) await new Promise((resolve) => setTimeout(resolve, 10));
      await new Promise((resolve) => setTimeout(resolve, 100)); // well inside sliceSync()
      assert.deepEqual(messages, ['blocking'], `${blockIn}: the worker is blocked`);
      assert.equal(await worker.terminate(), 1, blockIn);
      if (blockIn === 'reader') writer.free();
      else reader.free();
    }
  });

  test('sliceSync(timeoutMs) in a worker: an empty slice once the time passes, at once with data or room, null at the end; the wasm build throws', async () => {
    const worker = new Worker(new URL(import.meta.url), { workerData: { sliceSyncTimeouts: true } });
    const [results] = await Promise.all([new Promise((resolve) => worker.once('message', resolve)), new Promise((resolve) => worker.once('exit', resolve))]);
    const got = Object.fromEntries(results);
    if (impl === 'addon') {
      assert.deepEqual(got, {
        'reader, no data, sliceSync(5)': 0,
        'reader, no data, sliceSync(0)': 0,
        'reader, data, sliceSync()': 3,
        'reader, data, sliceSync(null)': 3,
        'writer, room, sliceSync(0)': got['writer, room, sliceSync(0)'],
        'writer, full, sliceSync(5)': 0,
        'writer, room again, sliceSync(undefined)': got['writer, room again, sliceSync(undefined)'],
        'reader, at the end, sliceSync(5)': null,
        'reader, at the end, sliceSync()': null,
      });
      assert.ok(got['writer, room, sliceSync(0)'] > 0);
      assert.ok(got['writer, room again, sliceSync(undefined)'] > 0, 'room once the reader consumed');
    } else {
      // The single-thread wasm build never blocks, in a worker either, and says that the addon does.
      const said = /^Error: Circular(Reader|Writer)\.sliceSync\(\): the wasm build in Node \("omnibuf\/wasm"\) never blocks; use sliceAsync\(\), or the addon \("omnibuf"\), whose sliceSync\(\) blocks in workers \(ERR_FEATURE_UNAVAILABLE_ON_PLATFORM\)$/;
      for (const [what, outcome] of results) assert.match(String(outcome), said, what);
    }
  });

  test('a writer blocked in sliceSync() without a timeout in a worker wakes when the main thread reads', { skip: impl !== 'addon' && 'addon only', timeout: 30_000 }, async () => {
    const { Circular } = await import('../node.mjs');
    const writer = Circular.withCapacity(4096);
    const reader = writer.addReader();
    const capacity = writer.capacity;
    writer.produce(writer.slice().length); // full: the writer waits for room
    const worker = new Worker(new URL(import.meta.url), { workerData: { blockIn: 'writer', handle: writer.toHandle() } });
    // Listened to from the start: Node emits 'exit' right after the last messages, in the same turn.
    const exited = new Promise((resolve) => worker.once('exit', resolve));
    const messages = [];
    const woken = new Promise((resolve) => worker.on('message', (m) => messages.push(m) === 2 && resolve()));
    while (messages.length === 0) await new Promise((resolve) => setImmediate(resolve));
    assert.deepEqual(messages, ['blocking']);
    reader.consume(100); // room: the blocked (or about to block) sliceSync() returns
    await woken;
    assert.deepEqual(messages, ['blocking', 'woken']);
    await exited;
    // The worker ended without freeing its writer: the stream aborts (when the thread's teardown
    // reaches the writer: wait for it), after the bytes published.
    assert.equal(reader.read().length, capacity - 100);
    assert.equal(await reader.sliceAsync({ ref: true }), null);
    assert.equal(reader.read(), null);
    assert.match(reader.abortReason, /not freed/);
    reader.free();
  });

  test('a reader claimed by a worker that ends without freeing it stops holding the writer back', { skip: impl !== 'addon' && 'addon only', timeout: 30_000 }, async () => {
    const { Circular } = await import('../node.mjs');
    const writer = Circular.withCapacity(4096);
    const capacity = writer.capacity;
    // The worker claims the reader, waits for data, and ends without free() or consume().
    const worker = new Worker(new URL(import.meta.url), { workerData: { blockIn: 'reader', handle: writer.addReader().toHandle() } });
    const exited = new Promise((resolve) => worker.once('exit', resolve));
    const messages = [];
    worker.on('message', (m) => messages.push(m));
    while (messages.length === 0) await new Promise((resolve) => setImmediate(resolve));
    writer.write(new Uint8Array(capacity)); // wakes it; the ring is full while the reader lives
    await exited;
    assert.deepEqual(messages, ['blocking', 'woken']);
    // Room comes when the thread's teardown reaches the reader (a wait, not a guess of when).
    assert.ok((await writer.sliceAsync({ ref: true })).length > 0);
    let written = writer.write(new Uint8Array(capacity));
    written += writer.write(new Uint8Array(capacity - written));
    assert.equal(written, capacity, 'a whole ring goes in: the lost reader holds nothing back');
    writer.free();
  });

  for (const how of ['exit', 'throw']) test(`a process whose main thread ends (${how}) while a worker is blocked in sliceSync() exits`, { skip: impl !== 'addon' && 'addon only' }, () => {
    const child = spawnSync(process.execPath, [fileURLToPath(import.meta.url), 'child-blocked-worker', how], { encoding: 'utf8', timeout: 30_000 });
    assert.equal(child.signal, null, `the child hung (killed after 30 s): ${child.stderr}`);
    assert.equal(child.status, how === 'exit' ? 3 : 1, child.stderr);
  });

  test('workers terminated while the finalizers of sides they dropped are pending: the process lives on', { skip: impl !== 'addon' && 'addon only' }, () => {
    const child = spawnSync(process.execPath, [fileURLToPath(import.meta.url), 'child-terminated-finalizers'], { encoding: 'utf8', timeout: 60_000 });
    assert.equal(child.signal, null, `the child was stopped by a signal (an abort?): ${child.stderr}`);
    assert.equal(child.status, 0, child.stderr);
    assert.equal(child.stdout.trim(), 'survived');
  });

  test('a writer in a worker that dies without free() aborts the stream: the reader stream errors after its bytes', { skip: impl !== 'addon' && 'addon only' }, async () => {
    const { Circular } = await import('../node.mjs');
    const total = 300_001;
    const writer = Circular.withCapacity(64 * 1024);
    const reader = writer.addReader();
    const worker = new Worker(new URL(import.meta.url), { workerData: { handle: writer.toHandle(), crashAfter: total } });
    const crashed = new Promise((resolve) => worker.once('error', resolve));
    let received = 0;
    await assert.rejects(
      async () => {
        // Ref'd: the abort, sent by the worker's teardown, may reach this thread after the worker's
        // 'exit' let go of the event loop (it did under AddressSanitizer's slower code).
        for await (const chunk of reader.nodeReadable({ ref: true })) received += chunk.length;
      },
      { code: 'ECONNABORTED', message: "the ring's writer aborted: the writer was not freed: it was garbage-collected, or its thread exited" },
    );
    assert.equal((await crashed).message, 'the producer crashed');
    assert.equal(received, total);
  });
}
