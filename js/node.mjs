// The Node entry of omnibuf: the napi-rs addon (a prebuilt platform package, or node/omnibuf.node
// built from source; js/addon-loader.mjs finds it). It implements js/index.d.ts over native memory. Every
// class is the addon's own except the JS classes that keep the calls made once per buffer cheap:
// ZeroCopyBuffer, over the addon's native storage (js/addon-zero-copy.mjs), whose slices never cross
// into native code, and BufferPool and PooledBuffer (js/addon-pool.mjs), whose buffers are handles into
// a native table.
import * as events from 'node:events';
import * as nodeStream from 'node:stream';
import { types } from 'node:util';
import { isMainThread } from 'node:worker_threads';
import { listenWith } from './abort-signal.mjs';
import { takePathsAsFs } from './addon-files.mjs';
import { addon } from './addon-loader.mjs';
import { definePool } from './addon-pool.mjs';
import { defineZeroCopyBuffer } from './addon-zero-copy.mjs';
import { guardAddonClasses, oncePerGlue } from './guard.mjs';
import { guardViewsAgainstMoves } from './addon-moves.mjs';
import { installStreams } from './streams.mjs';
import { BROWSER_ONLY, defineUnavailable, getterOf } from './unavailable.mjs';
import { AbortError as OwnAbortError, defineWaits, installDocumentSignals, installWaits } from './waits.mjs';

// Named apart from the classes they hold, and exported under the classes' names: a bundler that puts
// this module beside the one defining a class renames the class where the two names meet (esbuild
// made ZeroCopyBuffer2), and V8 names the class by that identifier in its own errors ("Class
// constructor ZeroCopyBuffer2 cannot be invoked without 'new'").
/** Whether view() and ring slices are Buffers over native memory (true) or copies (false: the runtime
 * forbids external buffers, as Electron does, or OMNIBUF_EXTERNAL_BUFFERS=0 asked for copies). */
export const externalBuffers = addon.externalBuffers();

/** The API's classes over the addon's, made ready (JS classes, guards, waits, streams), once per
 * addon (see oncePerGlue). */
function makeApi() {
  const zeroCopy = defineZeroCopyBuffer(addon);
  const ZeroCopyBufferClass = zeroCopy.ZeroCopyBuffer;
  const wrap = zeroCopy.wrap;
  const { BufferPool: BufferPoolClass, PooledBuffer: PooledBufferClass } = definePool(addon, wrap);

  // Receivers of another class and private constructors get the binding core's TypeErrors (js/guard.mjs).
  const guarded = guardAddonClasses(
    {
      BufferMut: addon.BufferMut,
      BufferKind: addon.BufferKind,
      Circular: addon.Circular,
      CircularWriter: addon.CircularWriter,
      CircularReader: addon.CircularReader,
      VirtualBuffer: addon.VirtualBuffer,
    },
    addon.__bindingError,
    ['BufferKind', 'Circular', 'CircularWriter', 'CircularReader', 'VirtualBuffer'],
  );
  const { BufferMut, BufferKind, Circular, CircularWriter, CircularReader } = guarded;
  const guardedVirtualBuffer = guarded.VirtualBuffer;

  // The main thread's environment ends with the process, after every worker's: its views need no check
  // at shutdown for memory moved to another thread (node/src/platform/views.rs).
  if (isMainThread) addon.__onMainThread();

  // The native methods that make a ZeroCopyBuffer return its storage: these wrap it. (Every method of
  // node/src that returns a `JsZeroCopyStorage`, apart from those the JS classes call themselves:
  // the storage's own, and pooledFreeze.)
  const replace = (cls, methods) => {
    for (const [name, { value }] of Object.entries(Object.getOwnPropertyDescriptors(methods))) {
      Object.defineProperty(cls.prototype, name, { ...Object.getOwnPropertyDescriptor(cls.prototype, name), value });
    }
  };
  const { freeze: bufferMutFreeze } = BufferMut.prototype;
  const { read: virtualRead } = guardedVirtualBuffer.prototype;
  replace(BufferMut, {
    freeze() {
      return wrap(bufferMutFreeze.call(this));
    },
  });
  replace(guardedVirtualBuffer, {
    read(start, end, ticket) {
      return virtualRead.call(this, start, end, ticket).then(wrap);
    },
  });

  // Waits take { signal, ref } (js/waits.mjs); the addon cancels them natively and references its
  // wake-up channel only for waits with `ref`. VirtualBuffer work an aborted signal finds still in the
  // thread pool's queue leaves it (__cancelWork).
  // The package's abort listeners run whatever other listeners of a signal do (js/abort-signal.mjs).
  listenWith(events.addAbortListener);
  const waits = defineWaits({ makeError: addon.__bindingError, cancelWait: addon.__cancelWait, cancelWork: addon.__cancelWork });
  installWaits({ BufferPool: BufferPoolClass, CircularWriter, CircularReader }, waits);
  // napi-rs makes static methods read-only: the class exported is the same class with its own open().
  const VirtualBuffer = installDocumentSignals(guardedVirtualBuffer, waits);
  {
    // fromBytes() takes a bare SharedArrayBuffer too, as a view over one (which is all Node-API reads),
    // as ZeroCopyBuffer.from() does; defined on the exported class, whose static members are its own.
    const { fromBytes } = guardedVirtualBuffer;
    Object.defineProperty(VirtualBuffer, 'fromBytes', {
      value: {
        fromBytes(bytes) {
          return fromBytes(types.isSharedArrayBuffer(bytes) ? new Uint8Array(bytes) : bytes);
        },
      }.fromBytes,
      writable: true,
      configurable: true,
    });
  }
  // File paths taken as Node's fs takes them (js/addon-files.mjs).
  takePathsAsFs(VirtualBuffer);
  // The browser-only members exist here only to say so (js/unavailable.mjs).
  {
    const stores = ['import', 'list', 'deleteDocument', 'exportDocument'];
    defineUnavailable(VirtualBuffer, 'VirtualBuffer', stores, addon.__bindingError, BROWSER_ONLY, { async: true });
    defineUnavailable(VirtualBuffer.prototype, 'VirtualBuffer', ['readInto'], addon.__bindingError, BROWSER_ONLY, {
      brand: getterOf(VirtualBuffer, 'isModified'),
    });
  }

  const dispose = Symbol.dispose ?? Symbol.for('nodejs.dispose');
  for (const cls of [ZeroCopyBufferClass, BufferMut, BufferKind, BufferPoolClass, PooledBufferClass, Circular, CircularWriter, CircularReader, VirtualBuffer]) {
    Object.defineProperty(cls.prototype, dispose, { value: cls.prototype.free, writable: true, configurable: true });
  }

  // A blocking wait on the main thread would stall every callback, timer and Promise of the process:
  // told where it is, the native sliceSync() refuses (after a side freed or moved has said so, and
  // before it looks at its argument, as the wasm build orders them). In a worker it is told nothing,
  // whatever else the caller passes.
  const blockingRefusedHere = isMainThread ? "the main thread's event loop" : undefined;
  for (const cls of [CircularWriter, CircularReader]) {
    const { sliceSync } = cls.prototype;
    replace(cls, {
      sliceSync(timeoutMs) {
        return sliceSync.call(this, timeoutMs, blockingRefusedHere);
      },
    });
  }

  // Views of native memory may not be moved where the addon could not detach them (js/addon-moves.mjs).
  if (externalBuffers) guardViewsAgainstMoves({ ZeroCopyBuffer: ZeroCopyBufferClass, PooledBuffer: PooledBufferClass, CircularWriter, CircularReader });

  installStreams({ CircularReader, CircularWriter, VirtualBuffer }, waits, nodeStream);
  return {
    ZeroCopyBuffer: ZeroCopyBufferClass,
    BufferMut,
    BufferKind,
    BufferPool: BufferPoolClass,
    PooledBuffer: PooledBufferClass,
    Circular,
    CircularWriter,
    CircularReader,
    VirtualBuffer,
    // The AbortError the waits installed here reject with (another copy of js/waits.mjs has its own).
    AbortError: OwnAbortError,
  };
}

// Exported under aliases: a module-scope binding named as a class would have the CommonJS build's
// bundler rename the class itself (`ZeroCopyBuffer2`), a name V8's own errors then show.
const api = oncePerGlue(addon.BufferMut, 'node', makeApi);
const {
  ZeroCopyBuffer: ZeroCopyBufferExport,
  BufferMut: BufferMutExport,
  BufferKind: BufferKindExport,
  BufferPool: BufferPoolExport,
  PooledBuffer: PooledBufferExport,
  Circular: CircularExport,
  CircularWriter: CircularWriterExport,
  CircularReader: CircularReaderExport,
  VirtualBuffer: VirtualBufferExport,
  AbortError: AbortErrorExport,
} = api;
export {
  ZeroCopyBufferExport as ZeroCopyBuffer,
  BufferMutExport as BufferMut,
  BufferKindExport as BufferKind,
  BufferPoolExport as BufferPool,
  PooledBufferExport as PooledBuffer,
  CircularExport as Circular,
  CircularWriterExport as CircularWriter,
  CircularReaderExport as CircularReader,
  VirtualBufferExport as VirtualBuffer,
  AbortErrorExport as AbortError,
};

// What the browser entry needs first and Node's do not (js/index.d.ts), so that code written for every
// entry runs here unchanged: nothing to load, and rings cross threads (addon handles).
// One settled Promise, as the browser entry's init() gives the same one to every call.
const initialized = Promise.resolve();
export const init = () => initialized;
export const initSync = () => {};
export const threaded = true;

/** The number of waits pending natively on this thread (a test hook). */
export const __pendingWaits = addon.__pendingWaits;
/** `[pending, ran]`: VirtualBuffer work of this thread queued or running, and how much has run (a
 * test hook). */
export const __workCounts = addon.__workCounts;
