// The browser entry of omnibuf: the wasm-bindgen build with init() and the same guards as the wasm
// build in Node. It implements js/index.d.ts. Two builds (scripts/build-wasm.sh):
// - pkg/web-threads, over one shared WebAssembly.Memory, where the page is cross-origin isolated
//   (SharedArrayBuffer exists): a ring's sides cross threads (toHandle()/fromHandle()), slices are
//   views of the ring's memory, and sliceSync() blocks dedicated workers;
// - pkg/web, single-thread, everywhere else: the same API, except that a ring stays on its thread.
// `threaded` says which one this thread loaded.
import initSingle, * as single from '../pkg/web/omnibuf.js';
import initThreads, { initSync as initThreadsSync } from '../pkg/web-threads/omnibuf.js';
import * as threads from '../pkg/web-threads/omnibuf.js';
import { guardClasses } from './guard.mjs';
import { installStreams } from './streams.mjs';

/** Whether this thread uses the threaded build: only where memory can be shared with other threads. */
export const threaded = globalThis.crossOriginIsolated === true && typeof SharedArrayBuffer === 'function';

const wasm = threaded ? threads : single;
const initWasm = threaded ? initThreads : initSingle;

export const {
  ZeroCopyBuffer,
  BufferMut,
  BufferKind,
  BufferPool,
  PooledBuffer,
  Circular,
  CircularWriter,
  CircularReader,
  VirtualBuffer,
} = wasm;

/** The wasm build's views are copies, never views of wasm memory (see js/index.d.ts). */
export const externalBuffers = false;

let ready = null;

/** Whether `input` is what toHandle() returned (or any object carrying a module and a memory). */
const isHandle = (input) =>
  input !== null && typeof input === 'object' && input.module instanceof WebAssembly.Module &&
  input.memory instanceof WebAssembly.Memory;

/**
 * Loads and instantiates the wasm module; every other call needs it done. `input` is where the module
 * comes from: a URL (a string or URL object) of omnibuf_bg.wasm, a Response or a Promise of one (as
 * from fetch()), the module's bytes (an ArrayBuffer or typed array), or a compiled WebAssembly.Module.
 * Without it, the .wasm file beside the build's omnibuf.js is fetched. In a thread that received a
 * ring's handle, `init(handle)` instantiates the sender's module over the sender's memory, which
 * CircularReader/CircularWriter.fromHandle(handle) need. Calling init() again returns the same
 * Promise; after a failure, the next call tries again.
 */
export function init(input) {
  ready ??= (async () => {
    const source = await input;
    if (isHandle(source)) {
      if (!threaded) throw new Error(noIsolation('init(handle)'));
      await initWasm({ module_or_path: source.module, memory: source.memory });
    } else {
      await initWasm(source === undefined ? undefined : { module_or_path: source });
    }
  })().catch((e) => {
    ready = null;
    throw new Error(`omnibuf: the wasm module did not load: ${e?.message ?? e}`, { cause: e });
  });
  return ready;
}

/** init(handle) at once, for threads that cannot wait for a Promise (an AudioWorklet's constructor):
 * the threaded build only. */
export function initSync(handle) {
  if (!threaded || !isHandle(handle)) throw new Error(noIsolation('initSync(handle)'));
  initThreadsSync({ module: handle.module, memory: handle.memory });
}

function noIsolation(what) {
  return `omnibuf: ${what} needs the threaded build, which needs cross-origin isolation: serve the page ` +
    'with the headers `Cross-Origin-Opener-Policy: same-origin` and `Cross-Origin-Embedder-Policy: ' +
    'require-corp` (crossOriginIsolated is false here)';
}

guardClasses(
  [ZeroCopyBuffer, BufferMut, BufferKind, BufferPool, PooledBuffer, Circular, CircularWriter, CircularReader, VirtualBuffer],
  wasm.__bindingError,
  { inPlaceRings: threaded },
);

installStreams({ CircularReader, CircularWriter, VirtualBuffer });
