// Streams and async iteration over omnibuf's objects, the same in both builds and written once over
// the public API of js/index.d.ts: WHATWG streams (browsers, and Node 18+), async iterators, and for
// Node, stream.Readable and stream.Writable. An entry calls installStreams() on its classes.
//
// What each adds (js/index.d.ts has the types):
//   reader[Symbol.asyncIterator]()       copies of the ring's bytes, which the loop may keep
//   reader.chunks(options)               the same, with a wait's options ({ signal, ref })
//   reader.slices()                      the ring's slices in place, each valid until the next step
//   reader.readableStream()              a byte ReadableStream; BYOB reads copy straight from the ring
//   writer.writableStream()              a WritableStream; closing it ends the ring's stream
//   reader.nodeReadable(), writer.nodeWritable()   the same as Node streams (Node entries only)
//   doc.chunks(start, end), doc.lines(start)       a VirtualBuffer's bytes and lines, async iterated
//   doc.readableStream(start, end), doc.nodeReadable(start, end)   a VirtualBuffer range as a stream
//
// A stream hands its consumer chunks that it may keep, so the stream forms copy out of the ring once
// (into the BYOB buffer where the consumer offers one). So does the reader's own async iterator: code
// that takes any async iterable as a source (stream.pipeline(reader, file), Readable.from(reader))
// keeps chunks past the step, which an in-place slice does not outlive. slices() copies nothing.
//
// A stream ends as the ring's does: a writer freed (a writable stream closed or ended) ends the
// readers' streams after the last byte; a writer aborted (a writable stream aborted, errored or
// destroyed before its end) errors them there instead, with endOf()'s error.

import { isAborted, onAbort, signalReason } from './abort-signal.mjs';
import { coded, reasonOfError, writerAborted } from './error-code.mjs';
import { isInstance, whenReady } from './waits.mjs';

/** Bytes a VirtualBuffer stream reads at a time, and the most a ring stream copies out at once into
 * a chunk of its own (for await over a reader, the byte ReadableStream's default reads; a Node
 * Readable's chunks, by default: its highWaterMark). */
const CHUNK = 64 << 10;

/** What `take()` gives, once it holds bytes: the reader's slice or a copy of its unread bytes, or null
 * at the end of the stream (where the writer aborted, it rejects: see endOf). `waiting` are the
 * wait's options, `{ signal, ref }`: the wait for data ends when `signal` aborts (and leaves nothing
 * waiting in the ring), and keeps a Node thread alive only with `ref`. */
async function nextBytes(reader, take, waiting) {
  let bytes = take();
  while (bytes !== null && bytes.length === 0) {
    // A wait that makes no slice, then take(): the wasm build's sliceAsync() would settle with a
    // fresh copy of every unread byte, where slice() reuses the reader's staging memory.
    await reader[whenReady](waiting);
    bytes = take();
  }
  return bytes ?? endOf(reader);
}

/** The error at the end of `reader`'s stream: null after a writer that was freed (a normal end),
 * else an Error saying why the writer aborted (writerAborted()). */
function errorAtEnd(reader) {
  const reason = reader.abortReason;
  return reason === null ? null : writerAborted(reason);
}

/** What a stream over `reader` does at the end of the ring's stream: null (it ends), or throws
 * errorAtEnd's error. */
function endOf(reader) {
  const error = errorAtEnd(reader);
  if (error !== null) throw error;
  return null;
}

/** Throws the build's Error for a writer freed (or aborted, or handed on) by other means than the
 * stream that is about to end it: the stream did not end the ring's stream, and must not finish as
 * if it had. */
function stillUsable(writer) {
  void writer.capacity; // a member that throws once the writer is gone
}

/** Ends the ring's stream with `error`: the writer aborts with its message (or the value as text). A
 * writer already freed or handed on has no stream left to end. */
function abortWriter(writer, error) {
  try {
    writer.abort(reasonOf(error));
  } catch (e) {
    if (e?.code !== 'ERR_INVALID_STATE') throw e;
  }
}

/** What a writer's abort() records of a stream's error: its message (another ring's reason as it was,
 * see reasonOfError()), or the value as text. */
function reasonOf(error) {
  try {
    if (typeof error === 'string') return error;
    if (error == null) return undefined;
    if (typeof error === 'object' || typeof error === 'function') return reasonOfError(error) ?? String(error);
    return String(error);
  } catch {
    return undefined; // a revoked Proxy, a throwing getter or toString(): no reason to give
  }
}

/** The reader's next slice with data, in place, or null at the end of the stream. */
const nextSlice = (reader, waiting) => nextBytes(reader, () => reader.slice(), waiting);

/** A copy of the reader's next unread bytes (CHUNK at most, consumed), or null at the end. */
const nextChunk = (reader, waiting) => nextBytes(reader, () => reader.read(CHUNK), waiting);

/** A copy of each unread stretch of the reader (CHUNK at most), until the end of the stream; a step
 * after `signal` aborted rejects with `abortError(signal)`, data or no data, and waits keep a Node
 * thread alive with `ref`. Calls `done()` when it ends. */
async function* readerChunks(reader, { signal, ref }, abortError, done = () => {}) {
  const waiting = { signal, ref };
  try {
    for (;;) {
      if (isAborted(signal)) throw abortError(signal);
      const chunk = await nextChunk(reader, waiting);
      if (chunk === null) return;
      yield chunk;
    }
  } finally {
    done();
  }
}

/** How many steps a walk over a reader's slices takes between turns of Node's event loop. A producer
 * on the walk's thread and the walk serve each other's waits in microtasks, so without a turn they
 * would run to the end without one: timers and I/O would wait, and so would Node's release of each
 * slice's bookkeeping (see index.d.ts, "Views"), which it does at the loop's next turn. */
const STEPS_PER_TURN = 256;

/** A Promise settled at the event loop's next turn (a task, after timers and I/O that are due, not a
 * microtask): setImmediate in Node, a MessageChannel message elsewhere (a setTimeout(0) nested
 * deeply enough waits 4 ms). */
const eventLoopTurn = (() => {
  if (typeof setImmediate === 'function') return () => new Promise((resolve) => setImmediate(resolve));
  const waiting = [];
  let channel; // made at the first turn, not by loading the module
  return () =>
    new Promise((resolve) => {
      if (channel === undefined) {
        channel = new MessageChannel();
        channel.port1.onmessage = () => waiting.shift()?.();
      }
      waiting.push(resolve);
      channel.port2.postMessage(null);
    });
})();
/** The turn a walk over a reader's slices takes every STEPS_PER_TURN steps: in Node only, whose
 * release of each slice's bookkeeping waits for it. */
const nextTurn = typeof setImmediate === 'function' ? eventLoopTurn : undefined;

/** The reader's slices in place, each consumed when the loop asks for the next one or leaves; a step
 * after `signal` aborted rejects with `abortError(signal)`; waits keep a Node thread alive with `ref`. An async generator: its steps run in turn
 * (a next() called before the last one settled waits for it, so no slice is shown twice), and leaving
 * the loop runs the `finally`, which also calls `done()`. */
async function* readerSlices(reader, { signal, ref }, abortError, done) {
  const waiting = { signal, ref };
  let shown = 0;
  let takesAtShow = 0;
  /** Consumes the slice shown, unless the loop's body took bytes from the reader meanwhile
   * (consume(), read(), readInto()) and so took the slice's over: the loop must not consume bytes
   * after them that nobody saw. Counted, not told by the slice: a take detaches the slices handed
   * out only where they are the ring's memory and this reader's alone (not a copy, as in the addon
   * with several readers, nor the threaded browser build's shared memory). */
  const consumeShown = () => {
    if (takesOf(reader) === takesAtShow) reader.consume(shown);
    shown = 0;
  };
  try {
    for (let step = 1; ; step++) {
      if (step % STEPS_PER_TURN === 0) await nextTurn?.();
      if (isAborted(signal)) throw abortError(signal);
      const slice = await nextSlice(reader, waiting);
      if (slice === null) return;
      shown = slice.length;
      takesAtShow = takesOf(reader);
      yield slice;
      consumeShown();
    }
  } finally {
    try {
      if (shown > 0) consumeShown();
    } catch (error) {
      // A loop that freed the reader (or moved it to a handle) and then left has nothing left to
      // consume.
      if (error?.code !== 'ERR_INVALID_STATE') throw error;
    } finally {
      done();
    }
  }
}

/** How many calls took bytes from each reader (see countTakes). */
const takes = new WeakMap();
const takesOf = (reader) => takes.get(reader) ?? 0;

/** Counts the calls of `CircularReader` that take bytes from a reader (consume(), read(), readInto()),
 * for readerSlices(); a call that throws took nothing. */
function countTakes(CircularReader) {
  const counted = (method) =>
    function (arg) {
      const result = method.call(this, arg);
      takes.set(this, takesOf(this) + 1);
      return result;
    };
  for (const name of ['consume', 'read', 'readInto']) {
    const descriptor = Object.getOwnPropertyDescriptor(CircularReader.prototype, name);
    const method = descriptor.value;
    // Its own name and length, as the build's member has them.
    const wrapper = Object.defineProperties(counted(method), {
      name: { value: name },
      length: { value: method.length },
    });
    Object.defineProperty(CircularReader.prototype, name, { ...descriptor, value: wrapper });
  }
}

/** Forgets the callback a collected target left on a signal (see onAbortWeakly). */
const forgetCallback = new FinalizationRegistry((off) => off());

/**
 * Calls `abort(target)` when `signal` aborts, unless `target` was collected by then: the signal
 * holds `target` weakly, so that a stream or walk the program drops (with its ring side or document,
 * native or wasm memory) does not live as long as a long-lived signal, and the callback goes when
 * the target does. `abort` must hold nothing of the target's (it is the signal's). Returns
 * `release()`, which forgets the callback at once.
 */
function onAbortWeakly(signal, target, abort) {
  const ref = new WeakRef(target);
  const off = onAbort(signal, () => {
    const alive = ref.deref();
    if (alive !== undefined) abort(alive);
  });
  const token = {};
  forgetCallback.register(target, off, token);
  return () => {
    off();
    forgetCallback.unregister(token);
  };
}

/** `stop` (an AbortController), made to abort with the same reason when `signal` (if any) does.
 * `release()` lets go of `signal`. */
function follow(signal, stop = new AbortController()) {
  if (isAborted(signal)) stop.abort(signalReason(signal));
  const release = signal !== undefined && !isAborted(signal) ? onAbortWeakly(signal, stop, (s) => s.abort(signalReason(signal))) : () => {};
  return { stop, release };
}

/**
 * The generator `walk(signal, done)` makes, whose return() and throw() also end a wait under way: a
 * generator's own wait for the step in flight, and a step waiting for data that never comes would
 * hold them (and whoever awaits them: a destroyed Readable.from(reader), and so an aborted pipeline)
 * for ever. `signal` aborts when `outer` does or either is called; a step it ends rejects with an
 * AbortError. The walk follows `outer` from its first step, and its generator calls `done()` when it
 * ends, which lets go of `outer` again: a long-lived signal would otherwise keep a callback for each
 * walk, one never stepped (whose `finally` never runs) included.
 */
function endable(walk, outer) {
  const stop = new AbortController();
  let following = null;
  const generator = walk(stop.signal, () => following?.release());
  const next = generator.next.bind(generator);
  generator.next = (value) => {
    following ??= follow(outer, stop);
    return next(value);
  };
  for (const name of ['return', 'throw']) {
    const end = generator[name].bind(generator);
    generator[name] = (value) => {
      following ??= { release() {} }; // a walk ended before its first step follows nothing after
      stop.abort();
      return end(value);
    };
  }
  return generator;
}

/** Copies the reader's next unread bytes into `target` and consumes them, waiting for data (with the
 * wait's options `waiting`) when there is none yet; resolves to how many, or -1 at the end of the
 * stream (rejects there if the writer aborted). */
async function readInto(reader, target, waiting) {
  let n = reader.readInto(target);
  while (n === 0) {
    await reader[whenReady](waiting);
    n = reader.readInto(target);
  }
  if (n === -1) endOf(reader);
  return n;
}

/** Copies all of `bytes` into the ring, waiting for room (with the wait's options `waiting`) as often
 * as it takes: `length` bytes, by default as many as it had at the call (a stream's chunk: as many as
 * it had when it was written to the stream), from `offset` on (the first `offset` written already).
 * Its memory must stay meanwhile: should it be detached (transferred) or shrunk before all is
 * written, the rest is gone, and the write rejects with a TypeError instead of passing for whole. */
async function writeAll(writer, bytes, waiting, length = bytes.length, offset = 0) {
  while (offset < length) {
    if (bytes.length < length) throw chunkChanged();
    const n = writer.write(offset === 0 && bytes.length === length ? bytes : bytes.subarray(offset, length));
    offset += n;
    if (n === 0) await writer[whenReady](waiting);
  }
}

/** The TypeError of a chunk whose memory went while its write waited for room. */
function chunkChanged() {
  return coded(new TypeError('a chunk was detached or shrunk before all of it was written into the ring'), 'ERR_INVALID_STATE');
}

/** The `byteLength` getters of ArrayBuffer and SharedArrayBuffer: each works on its kind of buffer,
 * whichever realm made it, and throws on anything else (where `instanceof` sees only this realm's). */
const bufferLengthGetters = [globalThis.ArrayBuffer, globalThis.SharedArrayBuffer]
  .filter((cls) => typeof cls === 'function')
  .map((cls) => Object.getOwnPropertyDescriptor(cls.prototype, 'byteLength').get);

/** Whether `value` is an ArrayBuffer or a SharedArrayBuffer, of any realm. */
function isArrayBuffer(value) {
  return bufferLengthGetters.some((get) => {
    try {
      get.call(value);
      return true;
    } catch {
      return false;
    }
  });
}

/** The byte length of `chunk` (a view, an ArrayBuffer or a SharedArrayBuffer) as it is now, or
 * undefined for anything else (a string, whose bytes cannot go). */
const chunkLength = (chunk) => (typeof chunk === 'object' && chunk !== null ? asBytes(chunk)?.length : undefined);

/** The getters of a view's buffer, byteOffset and byteLength: a typed array's, then a DataView's.
 * They read the view itself, of whichever realm, where its own properties (a `length` set on it, a
 * Proxy) could say anything. */
const viewGetters = [Object.getPrototypeOf(Uint8Array.prototype), DataView.prototype].map((proto) =>
  ['buffer', 'byteOffset', 'byteLength'].map((name) => Object.getOwnPropertyDescriptor(proto, name).get),
);

/** `[buffer, byteOffset, byteLength]` of a view (ArrayBuffer.isView), as its getters give them. */
function viewParts(view) {
  const [ofTypedArray, ofDataView] = viewGetters;
  let getters = ofTypedArray;
  try {
    getters[0].call(view);
  } catch {
    getters = ofDataView;
  }
  return getters.map((get) => get.call(view));
}

/** `chunk` as bytes, as write() takes it: a fresh Uint8Array over the bytes of a view (as many as it
 * has at the call, whatever properties of its own say), an ArrayBuffer or a SharedArrayBuffer;
 * strings as UTF-8; null for anything else. */
const encoder = new TextEncoder();
function asBytes(chunk) {
  if (typeof chunk === 'string') return encoder.encode(chunk);
  const isView = ArrayBuffer.isView(chunk);
  if (!isView && !isArrayBuffer(chunk)) return null;
  try {
    return isView ? new Uint8Array(...viewParts(chunk)) : new Uint8Array(chunk);
  } catch {
    // Over a detached buffer, or past the end of a shrunk one: no bytes, as the sides' write() reads it.
    return new Uint8Array(0);
  }
}

/** Whether `view` is a Buffer or Uint8Array of those classes themselves with no property of its own
 * that could misstate its bytes: what it says of them is what its getters say. */
function plainBytes(view) {
  const proto = Object.getPrototypeOf(view);
  return (
    (proto === Uint8Array.prototype || proto === globalThis.Buffer?.prototype) &&
    !Object.hasOwn(view, 'length') &&
    !Object.hasOwn(view, 'byteLength') &&
    !Object.hasOwn(view, 'byteOffset') &&
    !Object.hasOwn(view, 'buffer')
  );
}

/** The errors destroyOnAbort() destroys streams with: a stream's destroy() tells by them that its
 * signal aborted it. */
const signalAborts = new WeakSet();

/** Destroys the Node stream `stream` with this module's AbortError when `signal` aborts (at once if it
 * has), as a stream given `signal` as an option is destroyed with Node's own (and, as there, the
 * stream lets go of the signal once `finished` says it is done, which also listens for its errors).
 * The signal holds the stream weakly (onAbortWeakly). */
function destroyOnAbort(stream, { signal, abortError, finished }) {
  if (signal === undefined) return stream;
  const abort = (target) => {
    const error = abortError(signal);
    signalAborts.add(error);
    target.destroy(error);
  };
  if (isAborted(signal)) abort(stream);
  else finished(stream, onAbortWeakly(signal, stream, abort));
  return stream;
}

/** Whether start..end (end null or undefined: the rest) is a range of `doc` (anything with a
 * `length`) that read() takes. */
export function isRange(doc, start, end) {
  const offset = (n) => Number.isSafeInteger(n) && n >= 0;
  return offset(start) && start <= doc.length && (end == null || (offset(end) && start <= end && end <= doc.length));
}

/** A VirtualBuffer's bytes start..end as copies of at most CHUNK bytes each; without a `start` (null
 * or undefined) from 0. Without an `end` (null or undefined, as read() takes them) the walk goes on
 * to the end of the document as it is at each step.
 * A bad range rejects before anything is yielded, with read()'s error; a step after `signal` aborted
 * rejects with `abortError(signal)`. */
async function* documentChunks(doc, start, end = undefined, signal = undefined, abortError = undefined) {
  // Left out, as undefined or null (js/index.d.ts): from the start.
  start ??= 0;
  // read() checks its arguments before it reads anything, so a range it refuses costs nothing to try:
  // the walk hands out no part of a range it then refuses, and takes no '100' for 100.
  if (!isRange(doc, start, end)) (await doc.read(start, end, { signal })).free();
  let at = start;
  for (let step = 0; ; step++) {
    // A turn of the event loop before each read but the first: a read served from memory (the wasm
    // build's, of cached blocks) settles in a microtask, and a walk of such reads alone would keep
    // timers (an AbortSignal.timeout()) and I/O waiting until its end.
    if (step > 0) await eventLoopTurn();
    const to = Math.min(at + CHUNK, end ?? doc.length);
    let part;
    try {
      // An abort rejects the read at once; the build frees what the read gives later.
      part = await doc.read(at, to, { signal });
    } catch (error) {
      // A read sees the document as it is when it runs: without an end, one that an edit made
      // meanwhile shortened goes on to the end the document has now.
      if (end != null || error?.code !== 'ERR_OUT_OF_RANGE') throw error;
      if (at >= doc.length) return;
      continue;
    }
    try {
      if (part.length > 0) yield part.bytes();
    } finally {
      part.free();
    }
    // A step after `signal` aborted rejects, the last one too (no read is left to reject it).
    if (isAborted(signal)) throw abortError(signal);
    at = to;
    if (at >= (end ?? doc.length)) return;
  }
}

/** A VirtualBuffer's lines from `start` (see linesOf). */
const documentLines = (doc, start, signal, abortError) =>
  linesOf(documentChunks(doc, start, undefined, signal, abortError), signal, abortError, () =>
    freedDocuments.has(doc) ? doc.read(0, 0) : undefined,
  );

/** The documents freed (by free() or its dispose alias; see trackFrees): a line walk looks each step
 * up here. It yields many lines per read, and asking the build at every line would cost about as
 * much as the walk. */
const freedDocuments = new WeakSet();

/** Makes `VirtualBuffer`'s free() (and the dispose symbols that alias it) note the documents it
 * frees in `freedDocuments`. */
function trackFrees(VirtualBuffer) {
  const proto = VirtualBuffer.prototype;
  const free = proto.free;
  const tracked = {
    free() {
      const result = Reflect.apply(free, this, []);
      freedDocuments.add(this); // a VirtualBuffer: free() refuses anything else
      return result;
    },
  }.free;
  for (const key of ['free', Symbol.dispose, Symbol.for('nodejs.dispose')]) {
    if (key !== undefined && Object.hasOwn(proto, key) && proto[key] === free) {
      Object.defineProperty(proto, key, { ...Object.getOwnPropertyDescriptor(proto, key), value: tracked });
    }
  }
}

/** How many lines a line walk yields between turns of the event loop. */
const LINES_PER_TURN = 1024;

/** The longest line a line walk makes a string of, in UTF-16 units: V8's longest string (Node's
 * buffer.constants.MAX_STRING_LENGTH, 2 ** 29 - 24), the least of the engines'. */
const MAX_LINE_LENGTH = 2 ** 29 - 24;

/** The Error of a line longer than `max` characters (Node's code for a string too long). */
function lineTooLong(max) {
  const message = `a line is longer than ${max} characters, the longest string a line walk makes: walk its bytes with chunks()`;
  return coded(new Error(message), 'ERR_STRING_TOO_LONG');
}

/** The lines of the UTF-8 text in `chunks` (an async iterable of Uint8Array), as strings without
 * their line feed (nor a CR before it). A U+FEFF is content like any other (read() gives it too), at
 * the start as anywhere. A step after `signal` aborted rejects with `abortError(signal)`; so does one
 * after the source went, with what `whenGone()` rejects with (it returns undefined while the source
 * is there): lines decoded from a read made before are not handed out after it. A line longer than
 * `maxLength` UTF-16 units fails its step with an Error ERR_STRING_TOO_LONG. */
export async function* linesOf(chunks, signal, abortError, whenGone = () => undefined, maxLength = MAX_LINE_LENGTH) {
  const decoder = new TextDecoder('utf-8', { ignoreBOM: true });
  // The line not ended yet, in pieces: a line of many chunks is joined once, not once per chunk.
  // A line longer than a string can be is refused as it grows past that, not once it is all held.
  let pieces = [];
  let pending = 0;
  const add = (piece) => {
    pending += piece.length;
    if (pending > maxLength) throw lineTooLong(maxLength);
    pieces.push(piece);
  };
  const line = () => {
    if (isAborted(signal)) throw abortError(signal);
    const text = pieces.join('');
    pieces = [];
    pending = 0;
    return text;
  };
  let count = 0;
  for await (const chunk of chunks) {
    const text = decoder.decode(chunk, { stream: true });
    let from = 0;
    for (let lf = text.indexOf('\n'); lf !== -1; lf = text.indexOf('\n', from)) {
      add(text.slice(from, lf));
      from = lf + 1;
      // Many lines come of one read, each step a microtask: a turn of the event loop every so many
      // lets timers (a signal's timeout) and I/O in.
      if (++count % LINES_PER_TURN === 0) await eventLoopTurn();
      const ended = line();
      // Awaited only once the source went: an await per line would cost a turn of the microtasks.
      const going = whenGone();
      if (going !== undefined) await going;
      yield ended.endsWith('\r') ? ended.slice(0, -1) : ended;
    }
    if (from < text.length) add(text.slice(from));
  }
  add(decoder.decode());
  const last = line();
  const going = whenGone();
  if (going !== undefined) await going;
  if (last !== '') yield last;
  if (isAborted(signal)) throw abortError(signal); // a step after the last line's
}

/** A byte ReadableStream over an async source of Uint8Array chunks that the stream may keep. */
export function byteStreamOf(chunks) {
  let iterator;
  return new ReadableStream({
    type: 'bytes',
    start() {
      iterator = chunks();
    },
    async pull(controller) {
      const { value, done } = await iterator.next();
      if (done) {
        controller.close();
        controller.byobRequest?.respond(0);
        return;
      }
      const request = controller.byobRequest;
      if (request && request.view.byteLength >= value.length) {
        request.view.set(value);
        request.respond(value.length);
      } else {
        controller.enqueue(value);
      }
    },
    async cancel(reason) {
      await iterator.return(reason);
    },
  });
}

/**
 * Adds the stream and iteration methods to the classes of one build. `waits` are the build's wait
 * helpers (js/waits.mjs: the signal checks and AbortErrors). `node` is `node:stream` in the Node
 * entries (for nodeReadable/nodeWritable) and absent in the browser.
 */
export function installStreams(classes, waits, node) {
  const { CircularReader, CircularWriter, VirtualBuffer } = classes;
  // Each class by its API name, never its `name`, which a bundler may have changed.
  const nameOf = new Map(Object.entries(classes).map(([name, cls]) => [cls, name]));
  const { waitOptions, nodeStreamOptions, signalOption, abortError, wrongReceiver, notBytes } = waits;
  /** `chunk` as bytes, or the TypeError write() throws for it. */
  const chunkBytes = (chunk) => {
    const bytes = asBytes(chunk);
    if (bytes === null) throw notBytes('chunk', chunk);
    return bytes;
  };
  // Each method checks its receiver when called, as the builds' own members do: one that would only
  // fail at its first step or read would return a walk or stream that errors later instead. An
  // object made with the prototype (Object.create) passes instanceof but has no native object: a
  // getter of the build's, which checks that, tells. (An object freed meanwhile is a failure of that
  // step or read, as a bad range is a walk's: the getter's other errors are left to them.)
  const brandGetters = { CircularReader: 'abortReason', CircularWriter: 'capacity', VirtualBuffer: 'length' };
  const define = (cls, methods) => {
    if (cls === undefined) return;
    const brand = Object.getOwnPropertyDescriptor(cls.prototype, brandGetters[nameOf.get(cls)])?.get;
    const isOne = (value) => {
      if (!isInstance(value, cls)) return false;
      try {
        Reflect.apply(brand, value, []);
        return true;
      } catch (e) {
        return e?.code !== 'ERR_INVALID_THIS';
      }
    };
    for (const name of Reflect.ownKeys(methods)) {
      const method = methods[name];
      const member = typeof name === 'symbol' ? `[${name.description}]` : name;
      const checked = {
        [name](...args) {
          if (!isOne(this)) throw wrongReceiver(nameOf.get(cls), member);
          return method.apply(this, args);
        },
      }[name];
      Object.defineProperty(cls.prototype, name, { value: checked, writable: true, configurable: true });
    }
  };

  if (CircularReader !== undefined) countTakes(CircularReader);
  define(CircularReader, {
    [Symbol.asyncIterator]() {
      return endable((signal) => readerChunks(this, { signal, ref: false }, abortError));
    },

    chunks(options) {
      const { signal: outer, ref } = waitOptions(options, 'CircularReader.chunks');
      return endable((signal, done) => readerChunks(this, { signal, ref }, abortError, done), outer);
    },

    slices(options) {
      const { signal: outer, ref } = waitOptions(options, 'CircularReader.slices');
      return endable((signal, done) => readerSlices(this, { signal, ref }, abortError, done), outer);
    },

    readableStream(options) {
      const { ref } = waitOptions(options, 'CircularReader.readableStream');
      const reader = this;
      // Cancelling the stream ends a pull's wait for data too (nothing is left waiting in the ring).
      const cancelled = new AbortController();
      const waiting = { signal: cancelled.signal, ref };
      /** One pull. One copy out of the ring either way: into the BYOB reader's buffer, or into a
       * chunk of its own, sized to what there is (an automatically allocated buffer would be CHUNK
       * bytes however few it got, and a consumer keeping small chunks would keep all of it). At the
       * end of the ring's stream, the reader is freed before the stream closes, so that a consumer
       * who sees the end finds it freed, whichever reader it used. */
      const pullInto = async (controller) => {
        const request = controller.byobRequest;
        if (request === null) {
          const chunk = await nextChunk(reader, waiting);
          if (chunk === null) {
            reader.free();
            controller.close();
            return;
          }
          // The stream takes the chunk's ArrayBuffer over: one the chunk alone views.
          const whole = chunk.byteOffset === 0 && chunk.byteLength === chunk.buffer.byteLength;
          controller.enqueue(whole ? chunk : new Uint8Array(chunk));
          return;
        }
        const n = await readInto(reader, request.view, waiting);
        if (n === -1) {
          reader.free();
          controller.close();
          request.respond(0);
          return;
        }
        request.respond(n);
      };
      // The stream owns the reader: its end, whichever way it comes, frees it (the ring's memory
      // would otherwise wait for the reader's object to be collected).
      return new ReadableStream({
        type: 'bytes',
        async pull(controller) {
          try {
            await pullInto(controller);
          } catch (error) {
            reader.free();
            throw error;
          }
        },
        cancel() {
          cancelled.abort();
          reader.free();
        },
      });
    },
  });

  define(CircularWriter, {
    writableStream(options) {
      const writer = this;
      const { signal, ref } = waitOptions(options, 'CircularWriter.writableStream');
      // A write waiting for room ends when the stream is aborted (the controller's signal: its abort())
      // or when `signal` aborts. pipeTo(dest, { signal }) aborts the destination only once its write in
      // flight has finished, so a pipe into a full ring needs the same signal here to end at once. The
      // stream follows `signal` from the start, so that it hears an abort before pipeTo() does, which
      // listens from its call: Node 20's pipeTo, told by a destination that errors after its own
      // abort steps began, ends with that error and leaves the source uncancelled. (The signal holds
      // the stream weakly: one dropped unwritten is collected with its callback.)
      const stop = new AbortController();
      const waiting = { signal: stop.signal, ref };
      let following = null;
      // Whether the stream's own abort() ended the wait: its sink's abort(reason) then aborts the
      // writer, with the reason as given (a wait's AbortError would stand for a missing one).
      let abortedByStream = false;
      // The end of the stream, whichever way it comes: closed, the writer is freed and the readers
      // see the end; aborted, or errored by a chunk it refuses or a wait that failed, the writer
      // aborts and the readers' streams error. Readers waiting for more wake either way.
      const close = () => {
        following?.release();
        stillUsable(writer);
        writer.free();
      };
      const fail = (error) => {
        following?.release();
        abortWriter(writer, error);
      };
      // Each chunk's length when it was written to the stream (the strategy sizes it then), in order,
      // so that one detached or shrunk while it waits in the stream's queue fails as one that goes
      // while its own write waits for room does, instead of passing for whole. By write, not by
      // chunk: the same array may be queued twice, and detached in between. (The stream sizes a
      // chunk before it refuses it for a stream closing or errored, but then it writes nothing more:
      // the sink's writes take their lengths in the order they were sized.)
      const writtenLengths = [];
      const strategy = {
        highWaterMark: 1,
        size(chunk) {
          writtenLengths.push(chunkLength(chunk));
          return 1;
        },
      };
      return new WritableStream({
        start(controller) {
          // The stream's own signal: no other stream listens to it.
          controller.signal.addEventListener(
            'abort',
            () => {
              abortedByStream = true;
              stop.abort(controller.signal.reason);
            },
            { once: true },
          );
          // `signal` aborted (already, or later): the stream errors then and there, and the readers
          // get its reason, as a Node Writable given that signal is destroyed.
          stop.signal.addEventListener(
            'abort',
            () => {
              if (abortedByStream) return;
              fail(stop.signal.reason);
              controller.error(abortError(stop.signal));
            },
            { once: true },
          );
          following = follow(signal, stop);
        },
        async write(chunk) {
          const length = writtenLengths.shift();
          try {
            const bytes = chunkBytes(chunk);
            await writeAll(writer, bytes, waiting, length ?? bytes.length);
          } catch (error) {
            // A wait ended by an abort: the abort has told the readers (with its own reason).
            if (!stop.signal.aborted) fail(error);
            throw error;
          }
        },
        close() {
          close();
        },
        abort(reason) {
          stop.abort(reason);
          fail(reason ?? 'the writable stream was aborted');
        },
      }, strategy);
    },
  });

  if (VirtualBuffer !== undefined) trackFrees(VirtualBuffer);
  define(VirtualBuffer, {
    chunks(start, end, options) {
      const signal = signalOption(options, 'VirtualBuffer.chunks');
      return documentChunks(this, start, end, signal, abortError);
    },
    lines(start, options) {
      const signal = signalOption(options, 'VirtualBuffer.lines');
      return documentLines(this, start, signal, abortError);
    },
    readableStream(start, end) {
      return byteStreamOf(() => documentChunks(this, start, end));
    },
  });

  if (!node) return;
  const { Readable, Writable, finished } = node;

  define(CircularReader, {
    nodeReadable(options) {
      const { signal, ref, highWaterMark } = nodeStreamOptions(options, 'CircularReader.nodeReadable');
      const reader = this;
      // The most bytes a chunk copies: set once Readable has checked the highWaterMark.
      let most;
      // Whether a read waits for data: Readable calls read() again only after a push.
      let waiting = false;
      // Destroying the stream (its signal aborts, or the pipeline fails) ends a read's wait for data.
      const destroyed = new AbortController();
      const wait = { signal: destroyed.signal, ref };
      // The error of a writer that aborted: the stream ends as at a normal end (push(null): its
      // consumer gets every byte it holds, a short read(n), the last characters of a decoder), and
      // errors with it where it would emit 'end' (see stream.emit below).
      let endError = null;
      const readMore = () => {
        if (!waiting && !stream.destroyed) stream.read(0);
      };
      const stream = new Readable({
        highWaterMark: highWaterMark ?? CHUNK,
        read() {
          if (waiting || this.destroyed) return;
          // Readable keeps what it is given until its consumer reads it: each push is a copy of its
          // own, made straight from the ring. One push per call, made at once when there is data:
          // Readable asks again as long as it wants more.
          const chunk = reader.read(most);
          if (chunk === null) {
            endError = errorAtEnd(reader);
            return void this.push(null);
          }
          if (chunk.length > 0) {
            const before = this.readableLength;
            this.push(chunk);
            // A chunk that is only part of a character, which the stream's decoder (setEncoding)
            // holds back, adds nothing; pushed from within Readable's own read(0) in its look for
            // more (maybeReadMore), that read takes it for no data and stops looking, and nothing
            // would call read() again. So the look goes on from here, a tick later. (The length
            // also stays the same when Readable hands the chunk straight to a 'data' listener: the
            // read(0) then just looks again.)
            if (this.readableEncoding !== null && this.readableLength === before) process.nextTick(readMore);
            return;
          }
          waiting = true;
          reader[whenReady](wait)
            .then(() => {
              waiting = false;
              this._read();
            })
            .catch((error) => this.destroy(error));
        },
        destroy(error, callback) {
          destroyed.abort(error);
          reader.free();
          callback(error);
        },
      });
      // Readable emits 'end' once its consumer has taken every byte after push(null); where the
      // writer aborted, the stream errors there instead (destroying it sooner would drop the chunks
      // it holds: its async iterator gives none of them). Readable has marked the stream ended, and
      // 'end' emitted, just before it emits it: unmarked, readableEnded stays false, and pipe() and
      // finished() see a stream that did not end (also one its consumer destroyed meanwhile).
      const emit = stream.emit;
      stream.emit = function (event, ...args) {
        if (event !== 'end' || endError === null) return emit.call(this, event, ...args);
        const state = this._readableState;
        state.ended = false;
        state.endEmitted = false;
        this.destroy(endError);
        return false;
      };
      // As fs.ReadStream reads: at most highWaterMark bytes per chunk. A fresh chunk below malloc's
      // mmap threshold (128 KiB) reuses freed memory; a bigger one maps new pages, and faults them in
      // for its copy, every time. (read() takes any safe integer; Readable takes larger ones too.)
      const checked = stream.readableHighWaterMark;
      most = checked > 0 ? Math.min(checked, Number.MAX_SAFE_INTEGER) : CHUNK;
      return destroyOnAbort(stream, { signal, abortError, finished });
    },
  });

  define(CircularWriter, {
    nodeWritable(options) {
      const { signal, ref, highWaterMark } = nodeStreamOptions(options, 'CircularWriter.nodeWritable');
      const writer = this;
      // Destroying the stream (its signal aborts, or the pipeline fails) ends a write's wait for room.
      const destroyed = new AbortController();
      const waiting = { signal: destroyed.signal, ref };
      // Whether end() got through: a stream destroyed before (with an error or without) aborts the
      // ring's stream, so that its readers do not take what they got for all of it.
      let ended = false;
      // How destroy() ended the stream: with an error (the stream's), or none.
      let destroyedWith;
      // The length of each chunk given to write() or end(), in order (undefined for a string). What
      // write() below gets is a Buffer Writable made over the chunk's memory, which is empty once that
      // memory is detached: without the length given, a chunk detached while it waits in Writable's
      // queue would pass for an empty one. Writable hands the chunks on one at a time, in order.
      const givenLengths = [];
      const stream = new Writable({
        highWaterMark: highWaterMark ?? CHUNK,
        decodeStrings: true,
        write(chunk, _encoding, callback) {
          // A write that fails calls back in the next tick: Writable, told of an error at once, goes
          // on to write the next chunk it holds before it errors.
          const refuse = (error) => process.nextTick(callback, error);
          const length = chunk.length;
          if (length < (givenLengths.shift() ?? 0)) return refuse(chunkChanged());
          // A chunk that fits goes in at once, and Writable takes the callback made at once as the
          // end of the write (no Promise, no turn of the event loop); the rest waits for room. The
          // write may detach the chunk (the addon's write() detaches the writer's slices, of which
          // the chunk may be a view), so its length is the one taken before.
          let n;
          try {
            n = writer.write(chunk);
          } catch (error) {
            return refuse(error);
          }
          if (n === length) return callback();
          // A wait destroy() ended fails with the stream's error, as Writable fails the writes
          // queued behind it (not with the wait's AbortError); destroyed without an error, it is no
          // error of the stream: Writable then fails the writes behind it (ERR_STREAM_DESTROYED)
          // and keeps `errored` null.
          const failed = (error) => callback(destroyedWith === undefined ? error : destroyedWith.error);
          writeAll(writer, chunk, waiting, length, n).then(() => callback(), failed);
        },
        final(callback) {
          ended = true;
          try {
            stillUsable(writer);
          } catch (error) {
            return callback(error);
          }
          writer.free(); // the readers see the end of the stream
          callback();
        },
        destroy(error, callback) {
          destroyedWith = { error };
          destroyed.abort(error);
          // Aborted by `signal`: the writer aborts with the signal's reason, as writableStream()'s
          // does, not with the AbortError that stands for it.
          if (!ended) {
            abortWriter(writer, signalAborts.has(error) ? signalReason(signal) : error ?? 'the writable stream was destroyed before its end');
          }
          callback(error);
        },
      });
      for (const name of ['write', 'end']) {
        const method = stream[name];
        stream[name] = function (chunk, ...rest) {
          // end() and end(callback) give no chunk.
          const given = chunk !== undefined && chunk !== null && typeof chunk !== 'function';
          // A view goes on as a Uint8Array over its bytes as write() reads them: Writable would take
          // a view's byteLength and buffer from properties of its own, which can say anything. (A
          // Buffer or Uint8Array as it comes, the common case, goes on as it is; an empty one may be
          // over a detached buffer, which Writable takes for no bytes in a Buffer and throws V8's
          // TypeError for in a Uint8Array, so it goes on as an empty Uint8Array of its own.)
          const view = ArrayBuffer.isView(chunk);
          if (view && (!plainBytes(chunk) || chunk.length === 0)) chunk = asBytes(chunk);
          if (given) givenLengths.push(view ? chunk.length : chunkLength(chunk));
          try {
            return Reflect.apply(method, this, [chunk, ...rest]);
          } catch (error) {
            if (given) givenLengths.pop(); // refused (Writable's TypeError): nothing was queued
            throw error;
          }
        };
      }
      return destroyOnAbort(stream, { signal, abortError, finished });
    },
  });

  define(VirtualBuffer, {
    nodeReadable(start, end, options) {
      const signal = signalOption(options, 'VirtualBuffer.nodeReadable');
      const chunks = documentChunks(this, start, end, signal, abortError);
      // Not Readable.from(chunks): a stream it makes, destroyed part-way, still emits 'end' in Node
      // 20 (its walk's return() reads as the walk's end), and finished() takes it for whole. Here a
      // chunk or the end that comes once the stream is destroyed goes nowhere, as fs.ReadStream's.
      const stream = new Readable({
        // As fs.ReadStream: one read of CHUNK bytes ahead.
        highWaterMark: CHUNK,
        read() {
          chunks.next().then(
            ({ value, done }) => {
              if (!this.destroyed) this.push(done ? null : value);
            },
            (error) => this.destroy(error),
          );
        },
        destroy(error, callback) {
          // Ends the walk (after its read under way, whose part it frees).
          chunks.return().then(
            () => callback(error),
            () => callback(error),
          );
        },
      });
      return destroyOnAbort(stream, { signal, abortError, finished });
    },
  });
}
