// A dedicated worker of the ring tests: claims a ring side from a handle and writes or reads the test
// stream (pattern.mjs) with sliceSync(), which blocks this worker; posts its tally when done. A
// writer given `abortWith` ends the stream with abort(abortWith) instead of free(); a reader's tally
// says why its stream ended (abortReason). Given `leave` (a writer) or `stopAfter` bytes (a reader), a
// side is left behind: the worker posts its progress, then blocks without freeing it. A 'forward'
// worker moves the reader it claims on to a new handle, which it posts; a 'relay' worker does so with
// a writer, keeping a reader of it.
import { init, initSync, threaded, Circular, CircularReader, CircularWriter } from '../../web.mjs';
import { count, fill, tally } from './pattern.mjs';

/** What goes wrong in `f()` (sync or async): the error's name, code and message, or null. */
async function failure(f) {
  try {
    await f();
    return null;
  } catch (e) {
    return { name: e?.name, code: e?.code, message: e?.message };
  }
}

/** A thread that ran only initSync(handle), as an AudioWorklet does: the ring's stream forms there,
 * where their errors come from the threaded build's module (the other is not loaded). Claims a writer
 * (`handle`) and a reader (`readerHandle`) of one ring, and the writer of another (`secondHandle`),
 * whose writable stream's signal aborts between two writes. */
async function afterInitSync({ handle, readerHandle, secondHandle }) {
  initSync(handle);
  const writer = CircularWriter.fromHandle(handle);
  const reader = CircularReader.fromHandle(readerHandle);
  const uncaught = [];
  self.addEventListener('error', (e) => uncaught.push(e.message));
  const out = {
    abortedLoop: await failure(() => reader.slices({ signal: AbortSignal.abort() }).next()),
    badOptions: await failure(() => reader.slices({ signal: 1 })),
    wrongReceiver: await failure(() => CircularReader.prototype.readableStream.call({})),
    badChunk: await failure(() => writer.writableStream().getWriter().write(42)),
  };
  const second = CircularWriter.fromHandle(secondHandle);
  const controller = new AbortController();
  const sink = second.writableStream({ signal: controller.signal }).getWriter();
  await sink.write('first');
  controller.abort(new Error('stop now'));
  out.afterAbort = await failure(() => sink.write('second'));
  await new Promise((resolve) => setTimeout(resolve, 20));
  out.uncaught = uncaught;
  out.readerReason = reader.abortReason;
  reader.free();
  self.postMessage(out);
}

self.onmessage = async ({ data }) => {
  try {
    const { handle, role, total, chunk } = data;
    if (role === 'initSync') return await afterInitSync(data);
    await init(handle);
    if (role === 'forward') {
      // Claims a reader and moves it on at once, to a handle of its own, which it posts.
      self.postMessage({ handle: CircularReader.fromHandle(handle).toHandle() });
    } else if (role === 'relay') {
      // Claims a writer, keeps a reader of it, moves the writer on to a handle of its own, which it
      // posts, and reads to the end blocked in sliceSync().
      const writer = CircularWriter.fromHandle(handle);
      const reader = writer.addReader();
      self.postMessage({ handle: writer.toHandle() });
      const t = tally();
      for (let slice; (slice = reader.sliceSync()) !== null; reader.consume(slice.length)) count(t, slice, data.capacity);
      t.abortReason = reader.abortReason;
      reader.free();
      self.postMessage({ threaded, ...t });
    } else if (role === 'claim') {
      // Claims the reader of `handle`, frees it and says so.
      CircularReader.fromHandle(handle).free();
      self.postMessage({ claimed: true });
    } else if (role === 'churn') {
      // Makes and frees `rings` rings (a reader added to each) one after another, once the page
      // says go and while it is busy (until `signals[1]` says the loop ended): the memory each took
      // must be free again at once.
      const { memory } = handle;
      const [go, done] = [0, 1];
      self.postMessage({ ready: true });
      Atomics.wait(data.signals, go, 0);
      const start = memory.buffer.byteLength;
      let made = 0;
      let error;
      try {
        for (; made < data.rings; made++) {
          const writer = Circular.withCapacity(data.capacity);
          writer.addReader().free();
          writer.free();
        }
      } catch (e) {
        error = `${e?.name}: ${e?.message}`;
      }
      Atomics.store(data.signals, done, 1);
      self.postMessage({ made, error, grewBy: memory.buffer.byteLength - start });
    } else if (role === 'maker') {
      // Makes a side itself, never handed to it, then waits until the page terminates it: a writer
      // of its own ring (a reader of which it posts, then writes `total` bytes), or a reader it adds
      // to the writer it claims (which it moves back to the page).
      let kept;
      if (data.made === 'writer') {
        kept = Circular.withCapacity(data.capacity);
        self.postMessage({ handle: kept.addReader().toHandle() });
        const room = kept.sliceSync();
        fill(room.subarray(0, total), 0);
        kept.produce(total);
        self.postMessage({ threaded, sent: total });
      } else {
        const writer = CircularWriter.fromHandle(handle);
        kept = writer.addReader();
        self.postMessage({ handle: writer.toHandle() });
      }
      self.kept = kept;
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0);
    } else if (role === 'writer') {
      const writer = CircularWriter.fromHandle(handle);
      let sent = 0;
      while (sent < total) {
        const room = writer.sliceSync();
        const n = Math.min(room.length, chunk, total - sent);
        fill(room.subarray(0, n), sent);
        writer.produce(n);
        sent += n;
      }
      if (data.leave) {
        // Left behind: says so, then waits (for room on the full ring, or for nothing) until the page
        // terminates it.
        self.postMessage({ threaded, sent });
        if (data.leave === 'idle') Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0);
        for (;;) writer.sliceSync();
      }
      if (data.abortWith === undefined) writer.free();
      else writer.abort(data.abortWith);
      self.postMessage({ threaded, sent });
    } else {
      const reader = CircularReader.fromHandle(handle);
      const t = tally();
      for (;;) {
        const slice = reader.sliceSync();
        if (slice === null) break;
        const n = Math.min(slice.length, (data.stopAfter ?? Infinity) - t.bytes);
        count(t, slice.subarray(0, n), data.capacity);
        reader.consume(n);
        if (t.bytes === data.stopAfter) {
          // Left behind: says so, then blocks (holding its place in the ring) until the page
          // terminates it.
          self.postMessage({ threaded, ...t });
          Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0);
        }
      }
      t.abortReason = reader.abortReason;
      reader.free();
      self.postMessage({ threaded, ...t });
    }
  } catch (e) {
    self.postMessage({ error: `${e?.name}: ${e?.message}` });
  }
};
