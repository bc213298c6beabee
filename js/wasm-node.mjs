// The wasm build, loaded in Node (built by scripts/build-wasm.sh into pkg/node/). The shared test suite
// runs against it; the Node entry proper is the napi-rs addon (js/node.mjs). Its VirtualBuffer stores
// documents in IndexedDB, which Node lacks: install a polyfill (such as fake-indexeddb) to use it.
import { createRequire } from 'node:module';
import * as events from 'node:events';
import * as nodeStream from 'node:stream';
import { isMainThread } from 'node:worker_threads';
import { listenWith } from './abort-signal.mjs';
import { constructible, guardClasses, oncePerGlue } from './guard.mjs';
import { installStreams } from './streams.mjs';
import { AbortError as OwnAbortError, defineWaits, installDocumentSignals, installWaits } from './waits.mjs';

const { apply } = Reflect;
/** What the build's sliceSync(), toHandle() and fromHandle() are told for "a Node worker, where the
 * addon would serve this" (`IN_NODE` in src/wasm/ring.rs). */
const IN_NODE = 'node';

const require = createRequire(import.meta.url);
let wasm;
try {
  wasm = require('../pkg/node/omnibuf.js');
} catch (e) {
  // Missing: the glue, or the module it reads. Anything else (no memory for the module's instance,
  // a module that does not compile) is said as it is.
  const missing = e?.code === 'MODULE_NOT_FOUND' || e?.code === 'ENOENT';
  throw missing
    ? new Error('omnibuf: the wasm build is missing (pkg/node); in a clone of the repository, run `bash scripts/build-wasm.sh` first', { cause: e })
    : new Error(`omnibuf: the wasm build failed to load: ${e?.message ?? e}`, { cause: e });
}

export const {
  ZeroCopyBuffer,
  BufferKind,
  PooledBuffer,
  Circular,
  CircularWriter,
  CircularReader,
  VirtualBuffer,
} = wasm;

/** The wasm build's views are copies, never views of wasm memory (see js/index.d.ts). */
export const externalBuffers = false;

// The glue's classes made ready (guarded, with waits and streams) once per glue (see oncePerGlue):
// the AbortError is the one their waits reject with; the classes JS constructs are exported as
// ones whose `new` brands what it makes (js/guard.mjs, constructible).
export const { AbortError, BufferMut, BufferPool } = oncePerGlue(ZeroCopyBuffer, 'wasm-node', () => {
  const { BufferMut, BufferPool } = wasm;
  guardClasses(
    { ZeroCopyBuffer, BufferMut, BufferKind, BufferPool, PooledBuffer, Circular, CircularWriter, CircularReader, VirtualBuffer },
    wasm.__bindingError,
  );

  // Waits take { signal, ref } (js/waits.mjs): cancelled in wasm (__cancelWait); a wasm Promise holds
  // nothing of the event loop, so a timer does while a wait with `ref` is pending. VirtualBuffer work
  // aborted before it starts never runs (__cancelWork).
  // The package's abort listeners run whatever other listeners of a signal do (js/abort-signal.mjs).
  listenWith(events.addAbortListener);
  const waits = defineWaits({
    makeError: wasm.__bindingError,
    cancelWait: wasm.__cancelWait,
    cancelWork: wasm.__cancelWork,
    holdLoop: true,
  });
  installWaits({ BufferPool, CircularWriter, CircularReader }, waits);

  // This build never blocks: on the main thread it refuses sliceSync() in the addon's words (js/node.mjs),
  // told where it is as the addon is; in a worker, saying that the addon's blocks there. Nor do its
  // rings cross threads: toHandle() and fromHandle() say so in Node's terms, not in the browser's
  // (where the threaded build would).
  const here = isMainThread ? "the main thread's event loop" : IN_NODE;
  const replace = (target, member) => {
    const [name] = Object.keys(member);
    Object.defineProperty(target, name, { value: member[name], writable: true, configurable: true });
  };
  for (const cls of [CircularWriter, CircularReader]) {
    const { sliceSync, toHandle } = cls.prototype;
    const { fromHandle } = cls;
    replace(cls.prototype, {
      sliceSync(timeoutMs) {
        return apply(sliceSync, this, [timeoutMs, here]);
      },
    });
    replace(cls.prototype, {
      toHandle() {
        return apply(toHandle, this, [IN_NODE]);
      },
    });
    replace(cls, {
      fromHandle(handle) {
        return apply(fromHandle, this, [handle, IN_NODE]);
      },
    });
  }
  installDocumentSignals(VirtualBuffer, waits);
  installStreams({ CircularReader, CircularWriter, VirtualBuffer }, waits, nodeStream);
  return { AbortError: OwnAbortError, BufferMut: constructible(BufferMut), BufferPool: constructible(BufferPool) };
});

// What the browser entry needs first and Node's do not (js/index.d.ts), so that code written for every
// entry runs here unchanged: the module loaded with this one. Its rings stay on their thread.
// One settled Promise, as the browser entry's init() gives the same one to every call.
const initialized = Promise.resolve();
export const init = () => initialized;
export const initSync = () => {};
export const threaded = false;

/** The number of waits pending in wasm (a test hook). */
export const __pendingWaits = wasm.__pendingWaits;
/** `[pending, ran]`: VirtualBuffer work not settled, and how much has started (a test hook). */
export const __workCounts = () => Array.from(wasm.__workCounts());
