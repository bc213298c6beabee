// The browser entry of omnibuf: the wasm-bindgen build with init() and the same guards as the wasm
// build in Node. It implements js/index.d.ts. Two builds (scripts/build-wasm.sh):
// - pkg/web, single-thread: every class, everywhere;
// - pkg/web-threads, over one shared WebAssembly.Memory: where the page is cross-origin isolated
//   (SharedArrayBuffer exists), the ring's classes come from it: a ring's sides cross threads
//   (toHandle()/fromHandle()), slices are views of the ring's memory, and sliceSync() blocks
//   dedicated workers. The other classes stay the single-thread build's there too: the threaded
//   build's futures are woken through Atomics.waitAsync, whose promise settles in a later task, and an
//   IndexedDB transaction commits as soon as a task ends with no request pending.
// `threaded` says whether this thread's rings are the threaded build's.
import initSingle, * as single from '../pkg/web/omnibuf.js';
import initThreads, { initSync as initThreadsSync } from '../pkg/web-threads/omnibuf_threads.js';
import * as threads from '../pkg/web-threads/omnibuf_threads.js';
import { startCustody } from './custody.mjs';
import { constructBranded, guardClasses, oncePerGlue } from './guard.mjs';
import { installStreams } from './streams.mjs';
import { NODE_ONLY, defineUnavailable, getterOf } from './unavailable.mjs';
import { AbortError as OwnAbortError, defineWaits, installDocumentSignals, installWaits } from './waits.mjs';

// A VirtualBuffer in a dedicated worker (OPFS there), driven from the page without blocking it.
export { openDocumentWorker, DocumentWorker, WorkerVirtualBuffer } from './document-proxy.mjs';

/** Whether this thread uses the threaded build: only where memory can be shared with other threads. */
export const threaded = globalThis.crossOriginIsolated === true && typeof SharedArrayBuffer === 'function';

/** The wasm build's views are copies, never views of wasm memory (see js/index.d.ts). */
export const externalBuffers = false;

/** Whether `input` is what toHandle() returned (or any object carrying a module and a memory). */
const isHandle = (input) =>
  input !== null && typeof input === 'object' && input.module instanceof WebAssembly.Module &&
  input.memory instanceof WebAssembly.Memory;

/** A check, for the glue that loads `file`, that the exports it instantiated are omnibuf's. A glue
 * keeps the first module it instantiated, whatever it was, and gives it again to every later call: a
 * wrong one (given as `input`, or served in the place of `file`) whose start failed would otherwise
 * make the next init() resolve over a module that has none of omnibuf's functions. */
const ours = (file) => (exports) => {
  if (typeof exports?.zerocopybuffer_from !== 'function') {
    throw new Error(
      `the module loaded is not ${file}, and this thread keeps the first module it loaded: load the page again ` +
        `(or start the worker again), and give init() ${file} (or nothing)`,
    );
  }
};

/** The Error of `what` (init(handle) or initSync(handle)) where the page is not cross-origin isolated,
 * coded as toHandle()'s there. */
function noIsolation(what) {
  const message =
    `omnibuf: ${what} needs the threaded build, which needs cross-origin isolation: serve the page ` +
    'with the headers `Cross-Origin-Opener-Policy: same-origin` and `Cross-Origin-Embedder-Policy: ' +
    'require-corp` (crossOriginIsolated is false here)';
  return Object.assign(new Error(message), { code: 'ERR_INVALID_STATE' });
}

/** What init() without a handle loads the rings module over: a memory of the thread's own. */
const OWN_MEMORY = Symbol('own memory');

/** The Error of `what` given a ring's handle in a thread whose rings module an earlier init() loaded
 * over another memory (its own, or another handle's): the handle's rings could not be reached. */
function otherMemoryLoaded(what) {
  const message =
    `omnibuf: ${what}: this thread already loaded the rings module over another wasm memory (an earlier ` +
    'init()); a thread that takes rings by handle must call init(handle) before any other init()';
  return Object.assign(new Error(message), { code: 'ERR_INVALID_STATE' });
}

/** What a call of `what` before its module is instantiated throws: an Error that names init(). */
const notLoaded = (what) =>
  Object.assign(new Error(`omnibuf: ${what} needs the wasm module, which init() loads: await init() first`), {
    code: 'ERR_INVALID_STATE',
  });

// The static members that return a Promise (they reject rather than throw).
const ASYNC_STATICS = new Set(['open', 'import', 'list', 'deleteDocument', 'exportDocument']);

/** `cls` as exported (`className`: its API name, which a bundler may have renamed): its constructor
 * and static members check first that its module is loaded (`isLoaded()`; an object of the class
 * can only exist once it is, so its methods need no check), and `new` brands the object it makes
 * (constructBranded). */
function untilLoaded(className, cls, isLoaded) {
  for (const [name, desc] of Object.entries(Object.getOwnPropertyDescriptors(cls))) {
    if (typeof desc.value !== 'function' || name.startsWith('__') || !desc.writable) continue;
    const fn = desc.value;
    const what = `${className}.${name}()`;
    const checked = ASYNC_STATICS.has(name)
      ? function (...args) {
          return isLoaded() ? Reflect.apply(fn, this, args) : Promise.reject(notLoaded(what));
        }
      : function (...args) {
          if (!isLoaded()) throw notLoaded(what);
          return Reflect.apply(fn, this, args);
        };
    Object.defineProperty(cls, name, { ...desc, value: checked });
  }
  const exported = new Proxy(cls, {
    construct(target, args, newTarget) {
      if (!isLoaded()) throw notLoaded(`new ${className}()`);
      return constructBranded(target, args, newTarget);
    },
  });
  // So that `object.constructor === ZeroCopyBuffer` holds for the class as exported.
  Object.defineProperty(cls.prototype, 'constructor', { value: exported, writable: true, configurable: true });
  return exported;
}

/** The rest of the API: init()'s state, and the classes as exported over the glue's, made ready
 * (guarded, with waits and streams). Made once per glue (see oncePerGlue). */
function makeApi() {
  const { ZeroCopyBuffer, BufferMut, BufferKind, BufferPool, PooledBuffer, VirtualBuffer } = single;
  const { Circular, CircularWriter, CircularReader } = threaded ? threads : single;

  let ready = null;
  // Which modules are instantiated: the single-thread one by init(), the threaded one by init() or
  // initSync(handle). Before that, the glue's calls fail with a TypeError that names its internals.
  const loaded = { single: false, threads: false };
  // The memory the rings module is loaded (or being loaded) over: OWN_MEMORY by init(), a handle's
  // memoryToken by init(handle) or initSync(handle); undefined before.
  let threadsFrom;
  // The Errors of init()'s misuse, which it rejects with as they are (not as a module that did not load).
  const misuses = new WeakSet();
  const misuse = (e) => (misuses.add(e), e);

  /**
   * Loads and instantiates the wasm module; every other call needs it done. `input` is where the module
   * comes from: a URL (a string or URL object) of omnibuf_bg.wasm, a Response or a Promise of one (as
   * from fetch()), the module's bytes (an ArrayBuffer or typed array), or a compiled WebAssembly.Module.
   * Without it, pkg/web/omnibuf_bg.wasm is fetched. Where `threaded`, the threaded build's module is
   * loaded too (pkg/web-threads/omnibuf_threads_bg.wasm, fetched beside its glue: beside the bundle,
   * where a bundler such as esbuild does not emit it), over a new shared memory; in a
   * thread that received a ring's handle, `init(handle)` instantiates the sender's module over the
   * sender's memory instead, which CircularReader/CircularWriter.fromHandle(handle) need. Calling init()
   * again returns the same Promise; after a failure, the next call tries again (see ours()).
   *
   * `embedded` is omnibuf/inline's (js/web-inline.mjs): a function that returns the single-thread
   * module's bytes, used instead of fetching them when `input` names no module (nothing, or a handle).
   */
  function init(input, embedded) {
    // A handle given after an init(): refused as the first init(handle) would be, and a handle of
    // another memory than the one loaded (or being loaded) too, whose rings are out of reach.
    if (ready !== null && isHandle(input)) {
      if (!threaded) return Promise.reject(noIsolation('init(handle)'));
      if (input.memoryToken !== threadsFrom) return Promise.reject(otherMemoryLoaded('init(handle)'));
    }
    ready ??= (async () => {
      const source = await input;
      const handle = isHandle(source) ? source : undefined;
      if (handle !== undefined && !threaded) throw misuse(noIsolation('init(handle)'));
      // (An initSync(handle) before has loaded the rings module already, which the glue keeps.)
      threadsFrom ??= handle === undefined ? OWN_MEMORY : handle.memoryToken;
      // null, as undefined, is `input` left out (the conventions of index.d.ts).
      const singleModule = source == null || handle !== undefined ? embedded?.() : source;
      await Promise.all([
        initSingle(singleModule == null ? undefined : { module_or_path: singleModule }).then(ours('omnibuf_bg.wasm')),
        threaded &&
          initThreads(handle === undefined ? undefined : { module_or_path: handle.module, memory: handle.memory })
            .catch((e) => {
              // A thread's start allocates its stack and TLS in the shared memory, which the threads
              // that ended before it left allocated (docs/browser-threads.md).
              if (handle === undefined || !(e instanceof WebAssembly.RuntimeError)) throw e;
              throw new Error(`${e.message} (the shared memory may be full: each worker that loaded the rings module leaves its stack in it when it ends; reuse workers)`, { cause: e });
            })
            .then(ours('omnibuf_threads_bg.wasm'))
            .then(() => startCustody(threads, { home: handle === undefined })),
      ]);
      loaded.single = true;
      loaded.threads = threaded;
    })().catch((e) => {
      ready = null;
      if (!loaded.threads) threadsFrom = undefined;
      if (misuses.has(e)) throw e;
      throw new Error(`omnibuf: the wasm module did not load: ${e?.message ?? e}`, { cause: e });
    });
    return ready;
  }

  /** The threaded build's init(handle) at once, for a thread that cannot wait for a Promise and uses
   * rings only (an AudioWorklet's constructor; there, js/worklet.mjs is the entry). */
  function initSync(handle) {
    if (!threaded) throw noIsolation('initSync(handle)');
    if (!isHandle(handle)) {
      const message = 'initSync needs the object toHandle() returned (it carries the module and the memory)';
      throw Object.assign(new TypeError(message), { code: 'ERR_INVALID_ARG_TYPE' });
    }
    // The glue keeps the module it loaded first, whatever it is given later.
    if (threadsFrom !== undefined && handle.memoryToken !== threadsFrom) throw otherMemoryLoaded('initSync(handle)');
    initThreadsSync({ module: handle.module, memory: handle.memory });
    threadsFrom = handle.memoryToken;
    loaded.threads = true;
  }

  if (threaded) {
    guardClasses({ ZeroCopyBuffer, BufferMut, BufferKind, BufferPool, PooledBuffer, VirtualBuffer }, single.__bindingError);
    // Once per glue: "omnibuf/worklet" (js/worklet.mjs) guards the same classes.
    oncePerGlue(Circular, 'rings', () =>
      guardClasses({ Circular, CircularWriter, CircularReader }, threads.__bindingError, { inPlaceRings: true }),
    );
  } else {
    guardClasses(
      { ZeroCopyBuffer, BufferMut, BufferKind, BufferPool, PooledBuffer, Circular, CircularWriter, CircularReader, VirtualBuffer },
      single.__bindingError,
    );
  }

  // Waits take { signal, ref } (js/waits.mjs), cancelled in wasm (__cancelWait); `ref` means nothing
  // in a page.
  // A wait is cancelled in the module that started it (each numbers its own), so where the rings are
  // the threaded build's, their waits are that module's.
  const waits = defineWaits({ makeError: single.__bindingError, cancelWait: single.__cancelWait, cancelWork: single.__cancelWork });
  const ringWaits = threaded ? defineWaits({ makeError: threads.__bindingError, cancelWait: threads.__cancelWait }) : waits;
  installWaits({ BufferPool }, waits);
  installWaits({ CircularWriter, CircularReader }, ringWaits);
  installDocumentSignals(VirtualBuffer, waits);

  // Each class's streams with its own module's helpers: a thread that ran only initSync(handle) has
  // the threaded build's module and not the other.
  installStreams({ CircularReader, CircularWriter }, ringWaits);
  installStreams({ VirtualBuffer }, waits);
  // The Node stream forms exist here only to say so (js/unavailable.mjs), each with its module's error.
  {
    const ringError = threaded ? threads.__bindingError : single.__bindingError;
    // [class, its API name, the member, its module's errors, a getter that checks the receiver]
    const standIns = [
      [CircularReader, 'CircularReader', 'nodeReadable', ringError, 'abortReason'],
      [CircularWriter, 'CircularWriter', 'nodeWritable', ringError, 'capacity'],
      [VirtualBuffer, 'VirtualBuffer', 'nodeReadable', single.__bindingError, 'length'],
    ];
    for (const [cls, name, member, bindingError, brand] of standIns) {
      defineUnavailable(cls.prototype, name, [member], bindingError, NODE_ONLY, { brand: getterOf(cls, brand) });
    }
  }

  const singleLoaded = () => loaded.single;
  const ringsLoaded = () => (threaded ? loaded.threads : loaded.single);
  return {
    init,
    initSync,
    // The AbortError the waits installed here reject with (another copy of js/waits.mjs has its own).
    AbortError: OwnAbortError,
    ZeroCopyBuffer: untilLoaded('ZeroCopyBuffer', ZeroCopyBuffer, singleLoaded),
    BufferMut: untilLoaded('BufferMut', BufferMut, singleLoaded),
    BufferKind: untilLoaded('BufferKind', BufferKind, singleLoaded),
    BufferPool: untilLoaded('BufferPool', BufferPool, singleLoaded),
    PooledBuffer: untilLoaded('PooledBuffer', PooledBuffer, singleLoaded),
    VirtualBuffer: untilLoaded('VirtualBuffer', VirtualBuffer, singleLoaded),
    Circular: untilLoaded('Circular', Circular, ringsLoaded),
    CircularWriter: untilLoaded('CircularWriter', CircularWriter, ringsLoaded),
    CircularReader: untilLoaded('CircularReader', CircularReader, ringsLoaded),
  };
}

export const {
  init,
  initSync,
  AbortError,
  ZeroCopyBuffer,
  BufferMut,
  BufferKind,
  BufferPool,
  PooledBuffer,
  VirtualBuffer,
  Circular,
  CircularWriter,
  CircularReader,
} = oncePerGlue(single.ZeroCopyBuffer, 'web', makeApi);
/** The number of waits pending in wasm, in both modules (a test hook). */
export const __pendingWaits = () => single.__pendingWaits() + (threaded ? threads.__pendingWaits() : 0);
/** `[pending, ran]`: VirtualBuffer work not settled, and how much has started (a test hook). */
export const __workCounts = () => Array.from(single.__workCounts());
