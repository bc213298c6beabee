// The stream forms' contracts where a program does something unusual, against both builds: chunks
// whose memory is detached, shrunk or grown while a write waits for room, or that come from another
// realm or are shared memory; a writer freed or aborted by other means than the stream that ends it;
// a stream destroyed while a write waits, or a document stream part-way; a signal's reason and
// AbortError class; options of the wrong type. (streams.test.mjs has the streams' ordinary work.)
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { finished } from 'node:stream/promises';
import { Readable } from 'node:stream';
import vm from 'node:vm';
import { Circular, VirtualBuffer, entry } from './impl.mjs';

const { AbortError } = entry;

/** Everything a reader gets until its stream ends, and how it ends: `{ bytes, error }`. */
async function drain(reader) {
  const parts = [];
  try {
    for await (const chunk of reader) parts.push(...chunk);
    return { bytes: Uint8Array.from(parts), error: null };
  } catch (error) {
    return { bytes: Uint8Array.from(parts), error };
  }
}

/** A ring whose room is smaller than `n` bytes, with one reader. */
function smallRing() {
  const writer = Circular.withCapacity(1);
  return { writer, reader: writer.addReader(), room: writer.capacity };
}

test('a chunk whose own properties misstate its bytes is written by its real bytes, as write() reads it, in both stream forms', async () => {
  /** A view of `bytes` with own properties that claim 8 bytes from offset 2 of another buffer. */
  const lying = (view) =>
    Object.defineProperties(view, {
      length: { value: 8 },
      byteLength: { value: 8 },
      byteOffset: { value: 2 },
      buffer: { value: new ArrayBuffer(16) },
      subarray: { value: () => new Uint8Array(8) },
    });
  const chunks = () => [lying(new Uint8Array([1, 2, 3, 4])), lying(new DataView(new Uint8Array([5, 6]).buffer)), lying(new Uint16Array([0x0807]))];
  const direct = Circular.withCapacity(4096);
  const directReader = direct.addReader();
  for (const chunk of chunks()) direct.write(chunk);
  direct.free();
  const expected = (await drain(directReader)).bytes;
  assert.deepEqual([...expected], [1, 2, 3, 4, 5, 6, 7, 8], 'write() reads the real bytes');
  for (const form of ['writableStream', 'nodeWritable']) {
    // A ring smaller than the chunks' bytes: the writes wait for room part-way.
    const writer = Circular.withCapacity(1);
    const reader = writer.addReader();
    const got = drain(reader);
    if (form === 'writableStream') {
      const sink = writer.writableStream().getWriter();
      for (const chunk of chunks()) await sink.write(chunk);
      await sink.close();
    } else {
      const stream = writer.nodeWritable();
      for (const chunk of chunks()) stream.write(chunk);
      stream.end();
      await finished(stream);
    }
    const { bytes, error } = await got;
    assert.equal(error, null, form);
    assert.deepEqual(bytes, expected, form);
  }
});

test("a view of the writer's own room, filled in place, goes in through every writing form as write() takes it", async () => {
  // Where write() detaches the writer's slices (the addon), the chunk is empty once it is written:
  // the stream must go by the length it had.
  for (const form of ['nodeWritable write()', 'nodeWritable end(chunk)', 'writableStream', 'direct write()']) {
    const writer = Circular.withCapacity(4096);
    const reader = writer.addReader();
    const got = drain(reader);
    const chunk = writer.slice().subarray(0, 10).fill(7);
    if (form.startsWith('nodeWritable')) {
      const stream = writer.nodeWritable();
      if (form.endsWith('end(chunk)')) stream.end(chunk);
      else {
        await new Promise((resolve, reject) => stream.write(chunk, (error) => (error ? reject(error) : resolve())));
        stream.end();
      }
      await finished(stream);
    } else if (form === 'writableStream') {
      const sink = writer.writableStream().getWriter();
      await sink.write(chunk);
      await sink.close();
    } else {
      assert.equal(writer.write(chunk), 10);
      writer.free();
    }
    const { bytes, error } = await got;
    assert.equal(error, null, form);
    assert.deepEqual([...bytes], Array(10).fill(7), form);
  }
});

test('a chunk over a detached buffer at the call is no bytes to either stream form, whatever its class, in both builds', async () => {
  // The second view of the writer's own slice is detached by the first write, in both builds.
  for (const form of ['nodeWritable', 'writableStream']) {
    const writer = Circular.withCapacity(4096);
    const reader = writer.addReader();
    const got = drain(reader);
    const room = writer.slice();
    room.set([1, 2, 3, 4]);
    const [first, second] = [room.subarray(0, 2), room.subarray(2, 4)];
    const detached = new Uint8Array(4);
    structuredClone(detached.buffer, { transfer: [detached.buffer] });
    if (form === 'nodeWritable') {
      const stream = writer.nodeWritable();
      await new Promise((resolve, reject) => stream.write(first, (error) => (error ? reject(error) : resolve())));
      stream.write(detached);
      stream.end(second);
      await finished(stream);
    } else {
      const sink = writer.writableStream().getWriter();
      await sink.write(first);
      await sink.write(detached);
      await sink.write(second);
      await sink.close();
    }
    const { bytes, error } = await got;
    assert.equal(error, null, form);
    assert.deepEqual([...bytes], [1, 2], form);
  }
});

test('a writable stream takes every chunk write() takes: SharedArrayBuffers, and buffers and views of another realm', async () => {
  const other = vm.createContext({});
  const chunks = [
    new SharedArrayBuffer(3),
    new Uint8Array(new SharedArrayBuffer(2)),
    vm.runInContext('new ArrayBuffer(4)', other),
    vm.runInContext('new Uint8Array([7, 8])', other),
    vm.runInContext('new Uint16Array([1])', other),
  ];
  for (const form of ['writableStream', 'direct write()']) {
    const writer = Circular.withCapacity(4096);
    const reader = writer.addReader();
    if (form === 'writableStream') {
      const sink = writer.writableStream().getWriter();
      for (const chunk of chunks) await sink.write(chunk);
      await sink.close();
    } else {
      for (const chunk of chunks) writer.write(chunk);
      writer.free();
    }
    const { bytes, error } = await drain(reader);
    assert.equal(error, null, form);
    assert.deepEqual([...bytes], [0, 0, 0, 0, 0, 0, 0, 0, 0, 7, 8, 1, 0], form);
  }
  // What neither takes: the same TypeError from both.
  const writer = Circular.withCapacity(4096);
  const reader = writer.addReader();
  let direct;
  try {
    writer.write(42);
  } catch (error) {
    direct = error;
  }
  assert.equal(direct.name, 'TypeError');
  await assert.rejects(writer.writableStream().getWriter().write(42), {
    name: 'TypeError',
    code: direct.code,
    message: direct.message.replace(/^bytes/, 'chunk'),
  });
  reader.free();
});

test("a stream write whose chunk is detached or shrunk while it waits for room rejects, and aborts the ring's stream", async () => {
  for (const form of ['writableStream', 'nodeWritable']) {
    for (const change of ['detach', 'shrink']) {
      if (change === 'shrink' && typeof ArrayBuffer.prototype.resize !== 'function') continue;
      const { writer, reader, room } = smallRing();
      const size = 2 * room + 10;
      const memory = change === 'shrink' ? new ArrayBuffer(size, { maxByteLength: size }) : new ArrayBuffer(size);
      new Uint8Array(memory).fill(5);
      const chunk = change === 'shrink' ? new Uint8Array(memory) : new Uint8Array(memory, 0, size);
      let written;
      if (form === 'writableStream') {
        written = writer.writableStream().getWriter().write(chunk);
      } else {
        const stream = writer.nodeWritable();
        stream.on('error', () => {});
        written = new Promise((resolve, reject) => stream.write(chunk, (error) => (error ? reject(error) : resolve())));
      }
      // The first room's worth went in at once; the rest waits for room.
      await new Promise((resolve) => setTimeout(resolve, 10));
      if (change === 'detach') structuredClone(memory, { transfer: [memory] });
      else memory.resize(room);
      const got = drain(reader);
      await assert.rejects(written, { name: 'TypeError', code: 'ERR_INVALID_STATE' }, `${form}, ${change}`);
      const { bytes, error } = await got;
      assert.equal(error?.code, 'ECONNABORTED', `${form}, ${change}: the readers are told`);
      assert.match(error.message, /detached or shrunk/);
      assert.ok(bytes.length >= room && bytes.length < size && bytes.every((b) => b === 5), `${form}, ${change}`);
    }
  }
});

test("a stream chunk detached or shrunk while it waits in the stream's queue, behind a write waiting for room, rejects too", async () => {
  // `again`: the same array is written once more after it changed (its length is taken per write).
  for (const form of ['writableStream', 'nodeWritable']) {
    for (const change of ['detach', 'shrink']) {
      for (const again of [false, true]) {
        if (change === 'shrink' && typeof ArrayBuffer.prototype.resize !== 'function') continue;
        const { writer, reader, room } = smallRing();
        const first = new Uint8Array(room + 10).fill(5);
        const memory = change === 'shrink' ? new ArrayBuffer(8, { maxByteLength: 8 }) : new ArrayBuffer(8);
        new Uint8Array(memory).fill(6);
        const queued = new Uint8Array(memory);
        const write = (stream, chunk) => new Promise((resolve, reject) => stream.write(chunk, (error) => (error ? reject(error) : resolve())));
        let writes;
        let writeAgain;
        if (form === 'writableStream') {
          const sink = writer.writableStream().getWriter();
          writes = [sink.write(first), sink.write(queued)];
          writeAgain = () => sink.write(queued).catch(() => {});
        } else {
          const stream = writer.nodeWritable({ highWaterMark: 1 });
          stream.on('error', () => {});
          writes = [write(stream, first), write(stream, queued)];
          writeAgain = () => write(stream, queued).catch(() => {});
        }
        // The second chunk goes while the first waits for room: before any of it was written.
        if (change === 'detach') structuredClone(memory, { transfer: [memory] });
        else memory.resize(3);
        if (again) writeAgain();
        const got = drain(reader);
        await writes[0];
        const what = `${form}, ${change}${again ? ', written again' : ''}`;
        await assert.rejects(writes[1], { name: 'TypeError', code: 'ERR_INVALID_STATE' }, what);
        const { bytes, error } = await got;
        assert.equal(error?.code, 'ECONNABORTED', `${what}: the readers are told`);
        assert.deepEqual(bytes, first, `${what}: nothing of the queued chunk`);
      }
    }
  }
});

test('a stream write whose length-tracking chunk grows while it waits writes as many bytes as it had at the call', { skip: typeof ArrayBuffer.prototype.resize !== 'function' && 'no resizable ArrayBuffer' }, async () => {
  const { writer, reader, room } = smallRing();
  const size = 2 * room + 10;
  const memory = new ArrayBuffer(size, { maxByteLength: 2 * size });
  new Uint8Array(memory).fill(1);
  const sink = writer.writableStream().getWriter();
  const written = sink.write(new Uint8Array(memory));
  await new Promise((resolve) => setTimeout(resolve, 10));
  memory.resize(2 * size);
  new Uint8Array(memory, size).fill(2);
  const got = drain(reader);
  await written;
  await sink.close();
  const { bytes, error } = await got;
  assert.equal(error, null);
  assert.equal(bytes.length, size);
  assert.ok(bytes.every((b) => b === 1));
});

test('a writable stream whose writer was freed or aborted by other means errors at its end instead of finishing', async () => {
  for (const how of ['free', 'abort']) {
    // Node: end() errors with the build's ERR_INVALID_STATE, and 'finish' never comes.
    let writer = Circular.withCapacity(4096);
    let reader = writer.addReader();
    const stream = writer.nodeWritable();
    let finishedEvent = false;
    stream.on('finish', () => (finishedEvent = true));
    stream.on('error', () => {});
    writer[how]('producer failed');
    stream.end();
    await assert.rejects(finished(stream), { code: 'ERR_INVALID_STATE' }, how);
    assert.equal(finishedEvent, false, how);
    assert.equal(stream.writableFinished, false, how);
    if (how === 'abort') assert.equal(reader.abortReason, 'producer failed');
    reader.free();

    // WHATWG: close() rejects.
    writer = Circular.withCapacity(4096);
    reader = writer.addReader();
    const sink = writer.writableStream().getWriter();
    writer[how]('producer failed');
    await assert.rejects(sink.close(), { code: 'ERR_INVALID_STATE' }, how);
    reader.free();
  }
  // A stream made over a freed writer: the same at its end.
  const writer = Circular.withCapacity(4096);
  writer.free();
  const stream = writer.nodeWritable();
  stream.on('error', () => {});
  stream.end();
  await assert.rejects(finished(stream), { code: 'ERR_INVALID_STATE' });
  await assert.rejects(writer.writableStream().getWriter().close(), { code: 'ERR_INVALID_STATE' });
});

test('a Node writer stream destroyed without an error while a write waits is not errored: as a plain Writable', async () => {
  const { writer, reader, room } = smallRing();
  const stream = writer.nodeWritable();
  const callbacks = [];
  stream.write(new Uint8Array(2 * room), (error) => callbacks.push(error?.code ?? null));
  stream.write(new Uint8Array(1), (error) => callbacks.push(error?.code ?? null));
  await new Promise((resolve) => setTimeout(resolve, 10));
  stream.destroy();
  await assert.rejects(finished(stream), { code: 'ERR_STREAM_PREMATURE_CLOSE' });
  assert.equal(stream.errored, null);
  // The write under way ends with the stream; the one buffered behind it fails, as Writable fails it.
  assert.deepEqual(callbacks, [null, 'ERR_STREAM_DESTROYED']);
  // The ring's stream did not end: its readers learn that it was cut short.
  assert.equal(reader.abortReason, 'the writable stream was destroyed before its end');
  reader.free();
});

test("a Node writer stream destroyed with an error while a write waits fails that write with the stream's error, as the writes behind it", async () => {
  // destroy(error), and the stream's signal (which destroys it with an AbortError of its reason).
  for (const how of ['destroy', 'signal']) {
    const { writer, reader, room } = smallRing();
    const controller = new AbortController();
    const stream = writer.nodeWritable({ signal: controller.signal });
    const failures = [];
    const stored = new Promise((resolve) => stream.on('error', resolve));
    stream.write(new Uint8Array(2 * room), (error) => failures.push(error));
    stream.write(new Uint8Array(1), (error) => failures.push(error));
    await new Promise((resolve) => setTimeout(resolve, 10));
    if (how === 'destroy') stream.destroy(new Error('gave up'));
    else controller.abort(new Error('shutting down'));
    const error = await stored;
    await new Promise((resolve) => setImmediate(resolve));
    assert.equal(failures.length, 2, how);
    for (const failure of failures) assert.equal(failure, error, `${how}: the callbacks get the stream's error`);
    assert.equal(reader.abortReason, how === 'destroy' ? 'gave up' : 'shutting down');
    reader.free();
  }
});

test('a document stream destroyed part-way closes without an end, as fs.createReadStream(): finished() says it was cut short', async () => {
  const doc = VirtualBuffer.fromBytes('x'.repeat(300_000)); // more than four chunks
  for (const error of [undefined, new Error('enough')]) {
    const stream = doc.nodeReadable();
    const events = [];
    for (const name of ['end', 'close']) stream.on(name, () => events.push(name));
    stream.on('error', () => events.push('error'));
    let bytes = 0;
    stream.on('data', (chunk) => {
      bytes += chunk.length;
      if (bytes === chunk.length) stream.destroy(error);
    });
    const outcome = await finished(stream).then(
      () => 'finished',
      (e) => e.code ?? e.message,
    );
    assert.equal(outcome, error === undefined ? 'ERR_STREAM_PREMATURE_CLOSE' : 'enough');
    assert.deepEqual(events, error === undefined ? ['close'] : ['error', 'close']);
    assert.equal(stream.readableEnded, false);
    assert.equal(bytes, 64 << 10, 'no chunk after the destroy');
  }
  // Read to its end, it ends.
  const whole = await doc.nodeReadable(0, 200_000).toArray();
  assert.equal(Buffer.concat(whole).length, 200_000);
  doc.free();
});

test("pipeTo(writer.writableStream({ signal }), { signal }) into a full ring: an abort cancels the source and rejects with the signal's reason", async () => {
  // As the Streams standard's pipeTo says; Node's did neither when the destination heard the abort
  // after pipeTo (it listened from its first write).
  for (const source of ['a ring', 'a plain stream']) {
    const controller = new AbortController();
    const { signal } = controller;
    const into = Circular.withCapacity(4096);
    const intoReader = into.addReader();
    into.write(new Uint8Array(into.capacity)); // full: the pipe's write waits for room
    let cancelled = null;
    let from;
    let fromReader;
    let readable;
    if (source === 'a ring') {
      from = Circular.withCapacity(4096);
      fromReader = from.addReader();
      readable = fromReader.readableStream();
      from.write('abc');
    } else {
      readable = new ReadableStream({
        start: (c) => c.enqueue(new Uint8Array(3)),
        cancel: (reason) => void (cancelled = reason),
      });
    }
    const piping = readable.pipeTo(into.writableStream({ signal }), { signal });
    await new Promise((resolve) => setTimeout(resolve, 10));
    const reason = new Error('stop');
    controller.abort(reason);
    await assert.rejects(piping, (e) => e === reason, source);
    if (source === 'a ring') {
      // Cancelled, the stream freed its reader, which no longer holds the writer back.
      assert.throws(() => fromReader.slice(), { code: 'ERR_INVALID_STATE' }, 'the source ring has no reader left');
      from.free();
    } else {
      assert.equal(cancelled, reason);
    }
    assert.equal(intoReader.abortReason, 'stop');
    intoReader.free();
  }
});

test("a Node stream's signal: the writer aborts with the signal's reason, and the streams error with this package's AbortError", async () => {
  // Writer streams: the readers get the reason itself, as from writableStream({ signal }).
  for (const form of ['nodeWritable', 'writableStream']) {
    const { writer, reader, room } = smallRing();
    const controller = new AbortController();
    const stream = writer[form]({ signal: controller.signal });
    let written;
    if (form === 'nodeWritable') {
      const errored = new Promise((resolve) => stream.on('error', resolve));
      stream.write(new Uint8Array(2 * room));
      written = errored;
    } else {
      written = stream.getWriter().write(new Uint8Array(2 * room)).catch((e) => e);
    }
    await new Promise((resolve) => setTimeout(resolve, 10));
    controller.abort(new Error('shutting down'));
    const error = await written;
    assert.ok(error instanceof AbortError, form);
    assert.equal(error.code, 'ABORT_ERR');
    assert.equal(error.cause.message, 'shutting down');
    assert.equal(reader.abortReason, 'shutting down', form);
    reader.free();
  }
  // Reader streams and document streams: the same class.
  const writer = Circular.withCapacity(4096);
  const doc = VirtualBuffer.fromBytes('x'.repeat(200_000));
  for (const [what, make] of [
    ['reader.nodeReadable', (signal) => writer.addReader().nodeReadable({ signal })],
    ['doc.nodeReadable', (signal) => doc.nodeReadable(0, undefined, { signal })],
  ]) {
    for (const when of ['before', 'during']) {
      const controller = new AbortController();
      if (when === 'before') controller.abort('early');
      const stream = make(controller.signal);
      const ended = finished(stream).then(
        () => null,
        (e) => e,
      );
      stream.resume();
      if (when === 'during') {
        // At the first chunk (the document's), or while it waits for data (the ring's, empty).
        stream.once('data', () => controller.abort('late'));
        setTimeout(() => controller.abort('late'), 5);
      }
      const error = await ended;
      assert.ok(error instanceof AbortError, `${what}, ${when}: ${error}`);
      assert.equal(error.cause, when === 'before' ? 'early' : 'late');
    }
  }
  writer.free();
  doc.free();
  // A long-lived signal keeps no listener of streams that ended.
  const signal = new AbortController().signal;
  for (let i = 0; i < 50; i++) {
    const w = Circular.withCapacity(4096);
    const r = w.addReader();
    const out = r.nodeReadable({ signal });
    const into = w.nodeWritable({ signal });
    into.end('abc');
    await finished(into);
    await Readable.prototype.toArray.call(out);
  }
  const { getEventListeners } = await import('node:events');
  assert.equal(getEventListeners(signal, 'abort').length, 0);
});

test("reader.chunks(options): a reader's copies with a wait's options", async () => {
  const writer = Circular.withCapacity(4096);
  const reader = writer.addReader();
  assert.throws(() => reader.chunks({ ref: 1 }), { name: 'TypeError', code: 'ERR_INVALID_ARG_TYPE' });
  assert.throws(() => reader.chunks({ signal: {} }), { name: 'TypeError', code: 'ERR_INVALID_ARG_TYPE' });
  assert.throws(() => entry.CircularReader.prototype.chunks.call({}), { name: 'TypeError', code: 'ERR_INVALID_THIS' });
  writer.write('abc');
  const controller = new AbortController();
  const steps = reader.chunks({ signal: controller.signal });
  assert.deepEqual([...(await steps.next()).value], [97, 98, 99]);
  const waiting = steps.next();
  controller.abort('stop');
  await assert.rejects(waiting, (e) => e instanceof AbortError && e.cause === 'stop');
  // The reader is the caller's: it reads on.
  writer.write('d');
  writer.free();
  const { bytes, error } = await drain(reader);
  assert.equal(error, null);
  assert.deepEqual([...bytes], [100]);

  // Walks that end, or are left, let go of a long-lived signal.
  const { getEventListeners } = await import('node:events');
  const kept = new AbortController().signal;
  for (let i = 0; i < 100; i++) {
    const w = Circular.withCapacity(4096);
    const r = w.addReader();
    w.write('xyz');
    w.free();
    for await (const chunk of r.chunks({ signal: kept })) {
      if (i % 2 === 0) break; // left half of the time, ended the other half
      assert.equal(chunk.length, 3);
    }
    r.free();
  }
  assert.equal(getEventListeners(kept, 'abort').length, 0);
});

test('a reader stream refuses a highWaterMark of the wrong type with Node\'s own error, as a writer stream does', () => {
  const writer = Circular.withCapacity(4096);
  const reader = writer.addReader();
  for (const highWaterMark of [16n, '16', -1, NaN]) {
    let expected;
    try {
      new Readable({ highWaterMark, read() {} });
    } catch (error) {
      expected = error;
    }
    assert.throws(() => reader.nodeReadable({ highWaterMark }), { name: expected.name, code: expected.code, message: expected.message });
    assert.throws(() => writer.nodeWritable({ highWaterMark }), { name: expected.name, code: expected.code });
  }
  writer.free();
  reader.free();
});

test('the Node streams refuse a highWaterMark of null, which Readable would take for its default, and one that cannot be read', () => {
  const writer = Circular.withCapacity(4096);
  const reader = writer.addReader();
  const unreadable = {
    get highWaterMark() {
      throw new Error('boom');
    },
  };
  for (const make of [(options) => reader.nodeReadable(options), (options) => writer.nodeWritable(options)]) {
    assert.throws(() => make({ highWaterMark: null }), {
      name: 'TypeError',
      code: 'ERR_INVALID_ARG_VALUE',
      message: "The property 'options.highWaterMark' is invalid. Received null",
    });
    assert.throws(() => make(unreadable), { name: 'TypeError', code: 'ERR_INVALID_ARG_TYPE', message: 'options.highWaterMark cannot be read' });
  }
  // Refused before the stream took the reader: it still reads.
  writer.write('ok');
  assert.equal(reader.read()?.length, 2);
  writer.free();
  reader.free();
});

/** Collects garbage and turns the event loop until `done()` holds (finalizers run in later turns);
 * gives whether it did. */
async function collectedUntil(done) {
  for (let round = 0; round < 30 && !done(); round++) {
    globalThis.gc();
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  return done();
}

test('a stream or walk given a long-lived signal and then dropped is collected with its ring side, and leaves no listener', { skip: typeof globalThis.gc !== 'function' && 'needs --expose-gc' }, async () => {
  const { getEventListeners } = await import('node:events');
  const signal = new AbortController().signal;
  // Writer forms: the kept reader learns that the writer was lost.
  for (const form of ['writableStream', 'nodeWritable']) {
    const reader = await (async () => {
      const writer = Circular.withCapacity(4096);
      const kept = writer.addReader();
      if (form === 'writableStream') await writer.writableStream({ signal }).getWriter().write('x');
      else await new Promise((resolve) => writer.nodeWritable({ signal }).write('x', resolve));
      return kept;
    })();
    const lost = await collectedUntil(() => reader.abortReason !== null);
    assert.ok(lost, `${form}: the reader never saw the dropped writer go`);
    assert.match(reader.abortReason, /not freed/);
    reader.free();
  }
  // Reader forms: the kept writer gets its room back.
  for (const form of ['nodeReadable', 'chunks', 'slices']) {
    const writer = Circular.withCapacity(4096);
    const room = writer.capacity;
    await (async () => {
      const reader = writer.addReader();
      writer.write('abc');
      if (form === 'nodeReadable') await new Promise((resolve) => reader.nodeReadable({ signal }).once('data', resolve));
      else await reader[form]({ signal }).next();
    })();
    writer.write(new Uint8Array(room - 3)); // full, while the dropped reader holds its place
    const freed = await collectedUntil(() => writer.slice().length > 0);
    assert.ok(freed, `${form}: the writer is still held back by a reader dropped with its stream`);
    writer.free();
  }
  // A document stream: the listener goes with it.
  await (async () => {
    const doc = VirtualBuffer.fromBytes(new Uint8Array(300_000));
    await new Promise((resolve) => doc.nodeReadable(0, undefined, { signal }).once('data', resolve));
  })();
  assert.ok(await collectedUntil(() => getEventListeners(signal, 'abort').length === 0), 'listeners are left on the signal');
});
