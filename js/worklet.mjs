// omnibuf's rings in an AudioWorklet (`omnibuf/worklet`): the threaded build (pkg/web-threads) for
// AudioWorkletGlobalScope, which has no fetch, no TextDecoder/TextEncoder and no crossOriginIsolated.
// The page (or a worker) sends a ring side's handle through the node's processorOptions or port;
// `initSync(handle)` instantiates the handle's module over its memory at once (in the processor's
// constructor), then `CircularReader.fromHandle(handle)` claims the reader. In `process()`,
// `readInto(reader, bytes)` copies the next unread bytes into an array of yours and consumes them
// without blocking and without allocating (reader.slice() works too, but makes a view per call).
import './worklet-text.mjs';
import * as wasm from '../pkg/web-threads/omnibuf_threads.js';
import { guardClasses, madeByClass, oncePerGlue } from './guard.mjs';
import { NOT_IN_WORKLET, defineUnavailable, getterOf } from './unavailable.mjs';

/** The ring's classes (the other classes are the browser entry's, js/web.mjs). */
export const { Circular, CircularWriter, CircularReader } = wasm;

/** Always the threaded build here. */
export const threaded = true;

// The unguarded methods readInto() calls: the guard's wrappers take rest arguments (an array per call).
const unreadOffset = CircularReader.prototype.__unreadOffset;
const unreadLength = CircularReader.prototype.__unreadLength;
const consumeRaw = CircularReader.prototype.__consumeRaw;

// Once per glue: the browser entry (js/web.mjs), loaded too in a cross-origin isolated worker, guards
// the same classes.
oncePerGlue(Circular, 'rings', () =>
  guardClasses({ Circular, CircularWriter, CircularReader }, wasm.__bindingError, { inPlaceRings: true }),
);
// The stream forms and async iteration (js/streams.mjs) are not part of this entry: they exist only
// to say so (js/unavailable.mjs), unless the browser entry installed them.
defineUnavailable(CircularReader.prototype, 'CircularReader', ['readableStream', 'slices', 'chunks', Symbol.asyncIterator, 'nodeReadable'], wasm.__bindingError, NOT_IN_WORKLET, {
  brand: getterOf(CircularReader, 'abortReason'),
});
defineUnavailable(CircularWriter.prototype, 'CircularWriter', ['writableStream', 'nodeWritable'], wasm.__bindingError, NOT_IN_WORKLET, {
  brand: getterOf(CircularWriter, 'capacity'),
});

let memory = null;
let memoryToken;
let bytes = null;

/** Instantiates the module of `handle` (what toHandle() returned) over its memory, at once. */
export function initSync(handle) {
  if (handle === null || typeof handle !== 'object' || !(handle.module instanceof WebAssembly.Module) ||
      !(handle.memory instanceof WebAssembly.Memory)) {
    const message = 'initSync needs the object toHandle() returned (it carries the module and the memory)';
    throw Object.assign(new TypeError(message), { code: 'ERR_INVALID_ARG_TYPE' });
  }
  // The glue keeps the module it loaded first, whatever it is given later (as js/web.mjs says).
  if (memory !== null && handle.memoryToken !== memoryToken) {
    const message =
      'omnibuf: initSync(handle): this thread already loaded the rings module over another wasm memory (an ' +
      'earlier initSync()); a thread that takes rings by handle must call init(handle) before any other init()';
    throw Object.assign(new Error(message), { code: 'ERR_INVALID_STATE' });
  }
  wasm.initSync({ module: handle.module, memory: handle.memory });
  memory = handle.memory;
  memoryToken = handle.memoryToken;
  bytes = new Uint8Array(memory.buffer);
}

/**
 * Copies up to `target.length` unread bytes of `reader` into `target` (a Uint8Array) from index 0,
 * consumes them, and returns how many: 0 when there are none yet, -1 once the writer is gone and
 * everything was read. Never blocks; allocates nothing unless the memory grew since the last call.
 */
export function readInto(reader, target) {
  if (!madeByClass(CircularReader, reader) || reader.__wbg_ptr === 0) throw new TypeError('readInto needs a live CircularReader');
  let copied = 0;
  while (copied < target.length) {
    const length = unreadLength.call(reader);
    if (length === -1) return copied === 0 ? -1 : copied;
    // Moved to a handle (or freed meanwhile): slice() throws the error every member of it does.
    if (length === -2) reader.slice();
    if (length <= 0) break;
    const start = unreadOffset.call(reader);
    const n = Math.min(length, target.length - copied);
    // A shared memory's buffer grows under existing views without detaching them: a view made before
    // it grew may end short of ring memory allocated since.
    if (start + n > bytes.length) bytes = new Uint8Array(memory.buffer);
    for (let k = 0; k < n; k++) target[copied + k] = bytes[start + k];
    consumeRaw.call(reader, n);
    copied += n;
  }
  return copied;
}
