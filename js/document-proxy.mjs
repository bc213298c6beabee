// The page side of a VirtualBuffer that lives in a dedicated worker (js/document-worker.mjs), where
// OPFS documents are read and written through sync access handles without blocking the page. Every
// call is a message; results come back as messages (bytes read are transferred, not copied), and an
// error thrown in the worker is thrown here again with the same class, name, message and `code`.
// Arguments go as the build's own checks see them: bytes as fresh views (bytesArg: one over a
// detached buffer is no bytes, where a clone would fail), options read here (splitSignal).
// No wasm runs on the page: init() is not needed for this.
//
// Signals: an AbortSignal cannot cross to the worker, so the page keeps it and sends `{ cancel: id }`
// when it aborts; the worker skips a call it has not started (and answers `{ id, cancelled: true }`).
// The three kinds of call behave as VirtualBuffer's (js/waits.mjs, cancellableWork): a read rejects at
// once (a buffer an open gives later is freed in the worker); an import rejects only when the worker
// skipped it; save, saveAs and deleteDocument only refuse to start.
import { isAborted, isSignal, onAbort, signalReason } from './abort-signal.mjs';
import { coded } from './error-code.mjs';
import { bytesArg } from './guard.mjs';
import { byteStreamOf, isRange, linesOf } from './streams.mjs';
import { AbortError } from './waits.mjs';

/** The classes an error from the worker is rebuilt as. */
const ERROR_CLASSES = { Error, TypeError, RangeError };

function rebuild({ kind, name, message, code }) {
  let e;
  if (kind === 'DOMException' && typeof DOMException === 'function') {
    e = new DOMException(message, name);
  } else {
    e = new (ERROR_CLASSES[kind] ?? Error)(message);
    if (e.name !== name) e.name = name;
  }
  return code === undefined ? e : coded(e, code);
}

/** `bytes` (a string, or a Uint8Array from bytesArg), copied if it views a SharedArrayBuffer: the
 * worker reads what a message gives it later, and an import takes the bytes as they are when called. */
function unsharedBytes(bytes) {
  const shared = typeof SharedArrayBuffer === 'function' && bytes?.buffer instanceof SharedArrayBuffer;
  return shared ? bytes.slice() : bytes;
}

/** openDocumentWorker()'s options: left out as undefined or null, else an object (as VirtualBuffer's
 * options are; its words, which the page has no wasm to make). */
function workerOptions(options) {
  if (options === undefined || options === null) return {};
  if (typeof options === 'object') return options;
  const got = typeof options === 'number' ? String(options) : `a ${typeof options}`;
  throw coded(new TypeError(`options must be an object, got ${got}`), 'ERR_INVALID_ARG_TYPE');
}

/** The worker's script as bundlers see it: a literal `new URL(..., import.meta.url)` inside
 * `new Worker(...)`, so vite and webpack bundle it as a worker entry. */
function defaultWorker() {
  return new Worker(new URL('./document-worker.mjs', import.meta.url), { type: 'module' });
}

/** The AbortError of an aborted `signal`, as the builds make it (with the class's own message: the
 * page has no wasm to ask the binding core's table). */
const abortError = (signal) => new AbortError(undefined, { cause: signalReason(signal) });

/** The options the worker's calls read (VirtualBuffer's: js/index.d.ts), besides `signal`. */
const OPTION_KEYS = ['backend', 'blockSize', 'cacheBudget', 'spillThreshold', 'undoLimit', 'store', 'force'];

/** `options` split into its AbortSignal and the rest, which goes to the worker: a signal cannot be
 * cloned, and a structured clone would keep only own properties, where VirtualBuffer reads options
 * through getters and prototypes as JS does. So each option is read here, once, and sent as a plain
 * value (left out when undefined, as a member of an options object left out is). A `signal` that is
 * not an AbortSignal stays in the rest, for the worker's VirtualBuffer to refuse with its own error.
 * Throws the TypeError the builds give for an option that cannot be read (a throwing getter, a
 * revoked Proxy). */
function splitSignal(options) {
  if (options === null || typeof options !== 'object') return [undefined, options];
  let signal;
  const rest = {};
  for (const key of ['signal', ...OPTION_KEYS]) {
    let value;
    try {
      value = options[key];
    } catch (e) {
      throw coded(new TypeError(`options.${key} cannot be read`, { cause: e }), 'ERR_INVALID_ARG_TYPE');
    }
    if (key === 'signal' && isSignal(value)) signal = value;
    else if (value !== undefined) rest[key] = value;
  }
  return [signal, rest];
}

/** `args` as they can be sent: each function or symbol (which a structured clone refuses), itself an
 * argument or a member of a plain object among them, replaced by undefined, and where each was, as
 * `[index, key or null, type]`. The worker puts a fresh value of that type back (withStandIns), so
 * that its VirtualBuffer refuses the argument with its own error, as it refuses it on the page; a
 * value deeper down that cannot be cloned is still an argument that "cannot be sent". */
function sendable(args) {
  const standIns = [];
  const unsendable = (value) => typeof value === 'function' || typeof value === 'symbol';
  const sent = args.map((arg, index) => {
    if (unsendable(arg)) {
      standIns.push([index, null, typeof arg]);
      return undefined;
    }
    if (arg === null || typeof arg !== 'object' || Object.getPrototypeOf(arg) !== Object.prototype) return arg;
    const keys = Object.keys(arg).filter((key) => unsendable(arg[key]));
    if (keys.length === 0) return arg;
    const copy = { ...arg };
    for (const key of keys) {
      standIns.push([index, key, typeof arg[key]]);
      copy[key] = undefined;
    }
    return copy;
  });
  return [sent, standIns];
}

/** `args` (as sendable sent them) with a fresh function or symbol at each of `standIns`. */
export function withStandIns(args, standIns = []) {
  for (const [index, key, type] of standIns) {
    const value = type === 'symbol' ? Symbol('sent in place of a symbol') : () => {};
    if (key === null) args[index] = value;
    else args[index][key] = value;
  }
  return args;
}

/** The Error of a WorkerVirtualBuffer's getter after free(), worded as the binding core words it. */
function freedBuffer() {
  return coded(new Error('this VirtualBuffer was freed and cannot be used any more'), 'ERR_INVALID_STATE');
}

/** Passed by this module to the constructors, which are not public. */
const PRIVATE = Symbol('omnibuf document proxy');

/** The TypeError of `new` on a class JS cannot construct, worded as the binding core words it. */
function noConstructor(cls, instead) {
  return coded(new TypeError(`${cls} has no public constructor: use ${instead}`), 'ERR_ILLEGAL_CONSTRUCTOR');
}

/** The TypeError of a member called with a `this` that is not one of its class's objects, worded
 * and coded as the binding core's (ERR_INVALID_THIS). */
function notOne(cls, member) {
  return coded(new TypeError(`${cls}.${member}: called on an object that is not a ${cls}`), 'ERR_INVALID_THIS');
}

/** Sends one call to a DocumentWorker (set by DocumentWorker's static block: its #call). */
let callWorker;
/** `buffer.#call(op, ...rest)` of a WorkerVirtualBuffer, or the rejection of a `buffer` that is none
 * (set by WorkerVirtualBuffer's static block). */
let callOn;

/** Frees in the worker each buffer the page let go of unfreed, as a VirtualBuffer collected unfreed
 * is freed: the worker's table of buffers would keep it, and its document's lock, until the worker
 * ends. (A failure, the worker ended, leaves nothing to free.) */
const collected =
  typeof FinalizationRegistry === 'function'
    ? new FinalizationRegistry(({ port, handle }) => callWorker(port, 'free', handle, []).catch(() => {}))
    : undefined;

/** A VirtualBuffer in the worker: the same members, each returning a Promise. */
export class WorkerVirtualBuffer {
  #port;
  #handle;
  #state;
  /** Whether free() was called: the calls after it reject (the worker frees the buffer first). */
  #freed = false;

  static {
    callOn = (buffer, op, ...rest) => {
      if (!WorkerVirtualBuffer.#isOne(buffer)) return Promise.reject(notOne('WorkerVirtualBuffer', op));
      return buffer.#call(op, ...rest);
    };
  }

  /** Whether `value` is one of these (made by this module's constructor). */
  static #isOne(value) {
    return typeof value === 'object' && value !== null && #state in value;
  }

  /** Not public: DocumentWorker.open() and import() make them. */
  constructor(token, port, { handle, ...state } = {}) {
    if (token !== PRIVATE) throw noConstructor('WorkerVirtualBuffer', 'DocumentWorker.open() or DocumentWorker.import()');
    this.#port = port;
    this.#handle = handle;
    this.#state = state;
    collected?.register(this, { port, handle }, this);
  }

  /** Calls `op` in the worker with `args` and then `options` (the call's last argument, if given),
   * whose signal stays here: `kind` says what it does (see the top of this file). */
  #call(op, args, options = undefined, kind = 'read') {
    let signal, rest;
    try {
      [signal, rest] = splitSignal(options);
    } catch (error) {
      return Promise.reject(error);
    }
    if (rest !== undefined) args = [...args, rest];
    const onState = (state) => {
      if (state !== undefined) this.#state = state;
    };
    return callWorker(this.#port, op, this.#handle, args, onState, signal, kind);
  }

  /** The state of `buffer` as of its last call that settled; throws for a `buffer` that is none, as
   * member `member` of VirtualBuffer does. */
  static #stateOf(buffer, member) {
    if (!WorkerVirtualBuffer.#isOne(buffer)) throw notOne('WorkerVirtualBuffer', member);
    return buffer.#state;
  }

  /** `#stateOf` for a getter, which throws once free() was called, as VirtualBuffer's getters do. */
  static #liveState(buffer, getter) {
    const state = WorkerVirtualBuffer.#stateOf(buffer, getter);
    if (buffer.#freed) throw freedBuffer();
    return state;
  }

  /** Length in bytes, as of the last call that settled. */
  get length() {
    return WorkerVirtualBuffer.#liveState(this, 'length').length;
  }
  /** Whether there are unsaved edits, as of the last call that settled. */
  get isModified() {
    return WorkerVirtualBuffer.#liveState(this, 'isModified').isModified;
  }
  /** The document saves go to. */
  get name() {
    return WorkerVirtualBuffer.#liveState(this, 'name').name;
  }
  /** Where the document lives: 'opfs' or 'indexeddb'. */
  get store() {
    return WorkerVirtualBuffer.#liveState(this, 'store').store;
  }

  insert(offset, bytes) {
    return callOn(this, 'insert', [offset, bytesArg(bytes)]);
  }
  delete(start, end) {
    return callOn(this, 'delete', [start, end]);
  }
  replace(start, end, bytes) {
    return callOn(this, 'replace', [start, end, bytesArg(bytes)]);
  }
  undo() {
    return callOn(this, 'undo', []);
  }
  redo() {
    return callOn(this, 'redo', []);
  }
  /** Bytes start..end (default: to the end) as a Uint8Array of their own. */
  read(start, end, options) {
    return callOn(this, 'read', [start, end], options);
  }
  find(pattern, start, end, options) {
    return callOn(this, 'find', [bytesArg(pattern), start, end], options);
  }
  lineCount(options) {
    return callOn(this, 'lineCount', [], options);
  }
  lineToOffset(line, options) {
    return callOn(this, 'lineToOffset', [line], options);
  }
  offsetToLine(offset, options) {
    return callOn(this, 'offsetToLine', [offset], options);
  }
  save(options) {
    return callOn(this, 'save', [], options, 'start');
  }
  saveAs(name, options) {
    return callOn(this, 'saveAs', [name], options, 'start');
  }
  /** Releases the buffer in the worker (and the document's lock there); later calls reject. */
  free() {
    if (WorkerVirtualBuffer.#isOne(this)) {
      this.#freed = true;
      collected?.unregister(this);
    }
    return callOn(this, 'free', []);
  }
  [Symbol.asyncDispose]() {
    return WorkerVirtualBuffer.prototype.free.call(this);
  }
  /** Bytes start..end in reads of at most 1 MiB, one after the other, as VirtualBuffer.chunks()
   * walks (js/streams.mjs): a bad range rejects with read()'s error before anything is yielded, and
   * without an end the walk follows the document's length, as of the step's last settled call.
   * Options VirtualBuffer.chunks() would refuse reject the first step with its error (the worker
   * checks them: the page has no wasm to word them). */
  chunks(start = undefined, end = undefined, options = undefined) {
    WorkerVirtualBuffer.#stateOf(this, 'chunks');
    return this.#walk('chunks', [0, 0], start, end, options);
  }
  /** The walk of chunks(), whose options are checked in the worker as `member`'s, called with
   * `checkArgs` and then them. */
  async *#walk(member, checkArgs, start, end, options) {
    // Left out, as undefined or null (js/index.d.ts): from the start.
    start ??= 0;
    const most = 1 << 20;
    // The check settles after the edits called before, so that the length is theirs. read() checks
    // its arguments before it reads anything: a range it refuses gives its own error at no cost.
    await this.#call(member, checkArgs, options);
    if (!isRange(this, start, end)) await this.read(start, end, options);
    const [signal] = splitSignal(options);
    let at = start;
    for (;;) {
      const to = Math.min(at + most, end ?? this.length);
      let part;
      try {
        part = await this.read(at, to, options);
      } catch (error) {
        // Without an end, an edit that shortened the document before the read ran ends the walk there.
        if (end != null || error?.code !== 'ERR_OUT_OF_RANGE') throw error;
        if (at >= this.length) return;
        continue;
      }
      if (part.length > 0) yield part;
      // A step after `signal` aborted rejects, the last one too (no read is left to reject it).
      if (isAborted(signal)) throw abortError(signal);
      at = to;
      if (at >= (end ?? this.length)) return;
    }
  }
  /** The lines from offset `start`, as VirtualBuffer.lines() gives them, read through chunks(). */
  lines(start = undefined, options = undefined) {
    WorkerVirtualBuffer.#stateOf(this, 'lines');
    // A step after free() rejects with the error of a read then, though its line was read before.
    const whenFreed = () => (this.#freed ? this.read(0, 0) : undefined);
    return linesOf(this.#walk('lines', [0], start, undefined, options), splitSignal(options)[0], abortError, whenFreed);
  }
  /** Bytes start..end as a byte ReadableStream, read through chunks(). */
  readableStream(start = undefined, end = undefined) {
    WorkerVirtualBuffer.#stateOf(this, 'readableStream');
    return byteStreamOf(() => this.chunks(start, end));
  }
}

/** The calls that change what the store holds. */
const STORE_CHANGES = new Set(['save', 'saveAs', 'import', 'deleteDocument']);

/** A dedicated worker that hosts VirtualBuffers (see openDocumentWorker). */
export class DocumentWorker {
  #worker;
  #pending = new Map();
  #nextId = 1;
  #ended = null;
  /** The store the worker uses when a call names none: 'opfs' or 'indexeddb'. */
  store;

  static {
    callWorker = (port, ...args) => port.#call(...args);
  }

  /** Not public: openDocumentWorker() makes them. */
  constructor(token, worker, store) {
    if (token !== PRIVATE) throw noConstructor('DocumentWorker', 'openDocumentWorker()');
    this.#worker = worker;
    this.store = store;
    // The Worker is public (`worker`): ended through its own terminate(), it takes the pending calls
    // with it as this.terminate() does, instead of leaving them pending for ever.
    const documents = this;
    Object.defineProperty(worker, 'terminate', {
      value: {
        terminate() {
          if (this === worker) return documents.terminate();
          return Reflect.apply(Worker.prototype.terminate, this, []); // called on another Worker
        },
      }.terminate,
      writable: true,
      configurable: true,
    });
    worker.onmessage = ({ data }) => this.#answer(data);
    worker.onerror = (event) => {
      event.preventDefault?.();
      this.#end(new Error(`omnibuf: the document worker failed: ${event.message ?? 'an uncaught error'}`));
    };
  }

  /** Whether `value` is one of these (made by this module's constructor). */
  static #isOne(value) {
    return typeof value === 'object' && value !== null && #worker in value;
  }

  /** Throws the TypeError of a `worker` that is not a DocumentWorker, as member `member` would. */
  static #check(worker, member) {
    if (!DocumentWorker.#isOne(worker)) throw notOne('DocumentWorker', member);
  }

  /** The Worker itself. */
  get worker() {
    DocumentWorker.#check(this, 'worker');
    return this.#worker;
  }

  /** Rejects every pending call with `error`, and every later one. A call that changes the store may
   * have finished before the worker ended (Chromium lets a running task go on after terminate()):
   * its error says so. */
  #end(error) {
    this.#ended ??= error;
    for (const { op, reject, done } of this.#pending.values()) {
      done?.(); // its signal's listener
      if (!STORE_CHANGES.has(op)) reject(error);
      else reject(new Error(`${error.message} during ${op}(), which may have finished first: open the document (or list()) to see what the store holds`));
    }
    this.#pending.clear();
  }

  /** Posts `op` on buffer `handle` (0: none) with `args`; `signal` and `kind` as the top of this file
   * says. */
  #call(op, handle, args, onState = () => {}, signal = undefined, kind = 'read') {
    if (this.#ended !== null) return Promise.reject(this.#ended);
    if (isAborted(signal)) return Promise.reject(abortError(signal));
    return new Promise((resolve, reject) => {
      const id = this.#nextId++;
      const entry = { op, resolve, reject, onState, aborted: false };
      this.#pending.set(id, entry);
      try {
        const [sent, standIns] = sendable(args);
        this.#worker.postMessage({ id, op, handle, args: sent, standIns });
      } catch (e) {
        // Nothing reached the worker. An argument that cannot be cloned (deep inside an object: a
        // function, a symbol, a WeakMap) is of a type the worker's VirtualBuffer would refuse;
        // anything else (a getter of the caller's that threw while the message was copied) is the
        // caller's own error.
        this.#pending.delete(id);
        if (e?.name !== 'DataCloneError') return reject(e);
        const message = `${op}: an argument cannot be sent to the document worker (${e.message})`;
        reject(coded(new TypeError(message, { cause: e }), 'ERR_INVALID_ARG_TYPE'));
        return;
      }
      if (signal === undefined || kind === 'start') return;
      entry.done = onAbort(signal, () => {
        this.#worker.postMessage({ cancel: id });
        if (kind === 'read') {
          entry.aborted = true;
          reject(abortError(signal));
        } else {
          entry.abortError = abortError(signal); // given only if the worker skips the call
        }
      });
    });
  }

  /** A worker's answer to call `data.id`. */
  #answer(data) {
    const entry = this.#pending.get(data.id);
    if (entry === undefined) return;
    this.#pending.delete(data.id);
    entry.done?.();
    entry.onState(data.state);
    if (data.cancelled) entry.reject(entry.abortError);
    else if (entry.aborted) {
      // Rejected when its signal aborted: a buffer it opened after all is freed.
      if (data.ok && data.value?.handle !== undefined) this.#worker.postMessage({ id: 0, op: 'free', handle: data.value.handle, args: [] });
    } else if (data.ok) entry.resolve(data.value);
    else entry.reject(rebuild(data.error));
  }

  /** VirtualBuffer.open() in the worker: resolves to a WorkerVirtualBuffer. */
  async open(name, options) {
    DocumentWorker.#check(this, 'open');
    const [signal, rest] = splitSignal(options);
    return new WorkerVirtualBuffer(PRIVATE, this, await this.#call('open', 0, [name, rest], undefined, signal));
  }
  /** VirtualBuffer.import() in the worker (a File or Blob is read there, a few MiB at a time). */
  async import(name, source, options) {
    DocumentWorker.#check(this, 'import');
    const [signal, rest] = splitSignal(options);
    const sent = typeof Blob === 'function' && source instanceof Blob ? source : unsharedBytes(bytesArg(source));
    const value = await this.#call('import', 0, [name, sent, rest], undefined, signal, 'change');
    return new WorkerVirtualBuffer(PRIVATE, this, value);
  }
  async list(options) {
    DocumentWorker.#check(this, 'list');
    const [signal, rest] = splitSignal(options);
    return this.#call('list', 0, [rest], undefined, signal);
  }
  async deleteDocument(name, options) {
    DocumentWorker.#check(this, 'deleteDocument');
    const [signal, rest] = splitSignal(options);
    return this.#call('deleteDocument', 0, [name, rest], undefined, signal, 'start');
  }
  async exportDocument(name, options) {
    DocumentWorker.#check(this, 'exportDocument');
    const [signal, rest] = splitSignal(options);
    return this.#call('exportDocument', 0, [name, rest], undefined, signal);
  }
  /** Ends the worker at once (a save it is running stops where it is, after the grace the browser
   * gives a running task: the document keeps its last saved version, or this one); pending calls
   * reject. */
  terminate() {
    DocumentWorker.#check(this, 'terminate');
    Worker.prototype.terminate.call(this.#worker);
    this.#end(new Error('omnibuf: the document worker was terminated'));
  }
}

/**
 * Starts a dedicated worker that hosts VirtualBuffers and resolves to a DocumentWorker, whose open(),
 * import(), list(), deleteDocument() and exportDocument() run there (see js/browser.d.ts).
 * `options.store`: the store calls use when they name none ('auto' by default: OPFS where sync access
 * handles exist, else IndexedDB). `options.wasm`: what the worker's init() loads (as init()'s input;
 * a URL is resolved against the page). `options.worker`: the worker script's URL, for bundlers that do
 * not bundle `new Worker(new URL(...))` (esbuild): bundle 'omnibuf/document-worker' as its own entry.
 */
export function openDocumentWorker(options) {
  let store, wasm, worker;
  try {
    ({ store, wasm, worker } = workerOptions(options));
    if (typeof wasm === 'string' || wasm instanceof URL) wasm = new URL(wasm, globalThis.location?.href).href;
    // A URL that does not parse or is of another origin: the Worker constructor's own error.
    worker = worker === undefined ? defaultWorker() : new Worker(worker, { type: 'module' });
  } catch (e) {
    return Promise.reject(e);
  }
  return new Promise((resolve, reject) => {
    worker.onmessage = ({ data }) => {
      if (data?.ready === true) resolve(new DocumentWorker(PRIVATE, worker, data.store));
      else if (data?.ready === false) {
        worker.terminate();
        reject(rebuild(data.error));
      }
    };
    worker.onerror = (event) => {
      event.preventDefault?.();
      worker.terminate();
      reject(new Error(`omnibuf: the document worker did not start: ${event.message ?? 'the script failed to load'}`));
    };
    try {
      const [[sentStore], standIns] = sendable([store]);
      worker.postMessage({ init: { wasm, store: sentStore, standIns } });
    } catch (e) {
      worker.terminate(); // `wasm` cannot be sent
      reject(e);
    }
  });
}
