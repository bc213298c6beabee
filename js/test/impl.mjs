// The implementation under test, chosen by one switch: OMNIBUF_IMPL=wasm (the default: the wasm build
// in Node) or OMNIBUF_IMPL=addon (the napi-rs addon, built by node/build.mjs). Every test file imports the API
// from here, so both implementations face the same assertions.
const which = process.env.OMNIBUF_IMPL ?? 'wasm';

async function load() {
  switch (which) {
    case 'wasm':
      // The wasm build's VirtualBuffer keeps documents in IndexedDB, which Node has only by polyfill.
      if (globalThis.indexedDB === undefined) await import('fake-indexeddb/auto');
      return import('../wasm-node.mjs');
    case 'addon':
      return import('../node.mjs');
    default:
      throw new Error(`OMNIBUF_IMPL must be "wasm" or "addon", not ${JSON.stringify(which)}`);
  }
}

export const impl = which;
/** Why a test of resident memory says nothing in this run, or false: under AddressSanitizer
 * (scripts/suites/sanitizers.sh sets OMNIBUF_SANITIZER) freed memory is held back in quarantine. */
export const residentMemoryUnreliable =
  process.env.OMNIBUF_SANITIZER !== undefined && `resident memory says nothing under the ${process.env.OMNIBUF_SANITIZER} sanitizer`;
const loaded = await load();
/** The entry's module namespace, for the test of what it exports. */
export const entry = loaded;
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
  externalBuffers,
} = loaded;
/** The number of waits (acquire(), sliceAsync()) the build has pending natively: a test hook. */
export const __pendingWaits =
  loaded.__pendingWaits ??
  (() => {
    throw new Error('this build cannot count its pending waits');
  });
/** `[pending, ran]`: the VirtualBuffer work (Promises other than saves) the build has queued or running
 * natively, and how much of it has run so far: a test hook. */
export const __workCounts =
  loaded.__workCounts ??
  (() => {
    throw new Error('this build cannot count its VirtualBuffer work');
  });
