// The browser entry of omnibuf: the wasm-bindgen build (pkg/web, built by scripts/build-wasm.sh) with
// init() and the same guards as the wasm build in Node. It implements js/index.d.ts.
import initWasm, * as wasm from '../pkg/web/omnibuf.js';
import { guardClasses } from './guard.mjs';
import { installStreams } from './streams.mjs';

// A VirtualBuffer in a dedicated worker (OPFS there), driven from the page without blocking it.
export { openDocumentWorker, DocumentWorker, WorkerVirtualBuffer } from './document-proxy.mjs';

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

/**
 * Loads and instantiates the wasm module; every other call needs it done. `input` is where the module
 * comes from: a URL (a string or URL object) of omnibuf_bg.wasm, a Response or a Promise of one (as
 * from fetch()), the module's bytes (an ArrayBuffer or typed array), or a compiled WebAssembly.Module.
 * Without it, the .wasm file beside pkg/web/omnibuf.js is fetched. Calling init() again returns the
 * same Promise; after a failure, the next call tries again.
 */
export function init(input) {
  ready ??= (async () => {
    const source = await input;
    await initWasm(source === undefined ? undefined : { module_or_path: source });
  })().catch((e) => {
    ready = null;
    throw new Error(`omnibuf: the wasm module did not load: ${e?.message ?? e}`, { cause: e });
  });
  return ready;
}

guardClasses(
  [ZeroCopyBuffer, BufferMut, BufferKind, BufferPool, PooledBuffer, Circular, CircularWriter, CircularReader, VirtualBuffer],
  wasm.__bindingError,
);

installStreams({ CircularReader, CircularWriter, VirtualBuffer });
