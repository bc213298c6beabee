// The page side of a VirtualBuffer that lives in a dedicated worker (js/document-worker.mjs), where
// OPFS documents are read and written through sync access handles without blocking the page. Every
// call is a message; results come back as messages (bytes read are transferred, not copied), and an
// error thrown in the worker is thrown here again with the same class, name, message and `code`.
// No wasm runs on the page: init() is not needed for this.
import { coded } from './error-code.mjs';

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

/** The worker's script as bundlers see it: a literal `new URL(..., import.meta.url)` inside
 * `new Worker(...)`, so vite and webpack bundle it as a worker entry. */
function defaultWorker() {
  return new Worker(new URL('./document-worker.mjs', import.meta.url), { type: 'module' });
}

/** Passed by this module to the constructors, which are not public. */
const PRIVATE = Symbol('omnibuf document proxy');

/** The TypeError of `new` on a class JS cannot construct, worded as the binding core words it. */
function noConstructor(cls, instead) {
  return coded(new TypeError(`${cls} has no public constructor: use ${instead}`), 'ERR_ILLEGAL_CONSTRUCTOR');
}

/** Sends one call to a DocumentWorker (set by DocumentWorker's static block: its #call). */
let callWorker;

/** A VirtualBuffer in the worker: the same members, each returning a Promise. */
export class WorkerVirtualBuffer {
  #port;
  #handle;
  #state;

  /** Not public: DocumentWorker.open() and import() make them. */
  constructor(token, port, { handle, ...state } = {}) {
    if (token !== PRIVATE) throw noConstructor('WorkerVirtualBuffer', 'DocumentWorker.open() or DocumentWorker.import()');
    this.#port = port;
    this.#handle = handle;
    this.#state = state;
  }

  #call(op, args) {
    return callWorker(this.#port, op, this.#handle, args, (state) => {
      if (state !== undefined) this.#state = state;
    });
  }

  /** Length in bytes, as of the last call that settled. */
  get length() {
    return this.#state.length;
  }
  /** Whether there are unsaved edits, as of the last call that settled. */
  get isModified() {
    return this.#state.isModified;
  }
  /** The document saves go to. */
  get name() {
    return this.#state.name;
  }
  /** Where the document lives: 'opfs' or 'indexeddb'. */
  get store() {
    return this.#state.store;
  }

  insert(offset, bytes) {
    return this.#call('insert', [offset, bytes]);
  }
  delete(start, end) {
    return this.#call('delete', [start, end]);
  }
  replace(start, end, bytes) {
    return this.#call('replace', [start, end, bytes]);
  }
  undo() {
    return this.#call('undo', []);
  }
  redo() {
    return this.#call('redo', []);
  }
  /** Bytes start..end (default: to the end) as a Uint8Array of their own. */
  read(start, end) {
    return this.#call('read', end === undefined ? [start] : [start, end]);
  }
  find(pattern, start, end) {
    return this.#call('find', [pattern, start, end]);
  }
  lineCount() {
    return this.#call('lineCount', []);
  }
  lineToOffset(line) {
    return this.#call('lineToOffset', [line]);
  }
  offsetToLine(offset) {
    return this.#call('offsetToLine', [offset]);
  }
  save(options) {
    return this.#call('save', [options]);
  }
  saveAs(name) {
    return this.#call('saveAs', [name]);
  }
  /** Releases the buffer in the worker (and the document's lock there); later calls reject. */
  free() {
    return this.#call('free', []);
  }
  [Symbol.asyncDispose]() {
    return this.free();
  }
  /** Bytes start..end (default: everything) in reads of at most 1 MiB, one after the other. */
  async *chunks(start = 0, end = undefined, { signal } = {}) {
    const stop = end ?? this.length;
    for (let at = start; at < stop; ) {
      signal?.throwIfAborted();
      const next = Math.min(stop, at + (1 << 20));
      yield await this.read(at, next);
      at = next;
    }
  }
}

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
    worker.onmessage = ({ data }) => {
      const entry = this.#pending.get(data.id);
      if (entry === undefined) return;
      this.#pending.delete(data.id);
      entry.onState(data.state);
      if (data.ok) entry.resolve(data.value);
      else entry.reject(rebuild(data.error));
    };
    worker.onerror = (event) => {
      event.preventDefault?.();
      this.#end(new Error(`omnibuf: the document worker failed: ${event.message ?? 'an uncaught error'}`));
    };
  }

  /** The Worker itself. */
  get worker() {
    return this.#worker;
  }

  #end(error) {
    this.#ended ??= error;
    for (const entry of this.#pending.values()) entry.reject(error);
    this.#pending.clear();
  }

  #call(op, handle, args, onState = () => {}) {
    if (this.#ended !== null) return Promise.reject(this.#ended);
    return new Promise((resolve, reject) => {
      const id = this.#nextId++;
      this.#pending.set(id, { resolve, reject, onState });
      try {
        this.#worker.postMessage({ id, op, handle, args });
      } catch (e) {
        // An argument that cannot be cloned (a function, a symbol): nothing reached the worker.
        this.#pending.delete(id);
        reject(e);
      }
    });
  }

  /** VirtualBuffer.open() in the worker: resolves to a WorkerVirtualBuffer. */
  async open(name, options) {
    return new WorkerVirtualBuffer(PRIVATE, this, await this.#call('open', 0, [name, options]));
  }
  /** VirtualBuffer.import() in the worker (a File or Blob is read there, a few MiB at a time). */
  async import(name, source, options) {
    return new WorkerVirtualBuffer(PRIVATE, this, await this.#call('import', 0, [name, source, options]));
  }
  list(options) {
    return this.#call('list', 0, [options]);
  }
  deleteDocument(name, options) {
    return this.#call('deleteDocument', 0, [name, options]);
  }
  exportDocument(name, options) {
    return this.#call('exportDocument', 0, [name, options]);
  }
  /** Ends the worker at once (a save it is running stops where it is: the document keeps its last
   * saved version); pending calls reject. */
  terminate() {
    this.#worker.terminate();
    this.#end(new Error('omnibuf: the document worker was terminated'));
  }
}

/**
 * Starts a dedicated worker that hosts VirtualBuffers and resolves to a DocumentWorker, whose open(),
 * import(), list(), deleteDocument() and exportDocument() run there (see js/index.d.ts).
 * `options.store`: the store calls use when they name none ('auto' by default: OPFS where sync access
 * handles exist, else IndexedDB). `options.wasm`: what the worker's init() loads (as init()'s input;
 * a URL is resolved against the page). `options.worker`: the worker script's URL, for bundlers that do
 * not bundle `new Worker(new URL(...))` (esbuild): bundle 'omnibuf/document-worker' as its own entry.
 */
export function openDocumentWorker({ store = 'auto', wasm, worker } = {}) {
  let wasmInput = wasm;
  if (typeof wasm === 'string' || wasm instanceof URL) wasmInput = new URL(wasm, globalThis.location?.href).href;
  const w = worker === undefined ? defaultWorker() : new Worker(worker, { type: 'module' });
  return new Promise((resolve, reject) => {
    w.onmessage = ({ data }) => {
      if (data?.ready === true) resolve(new DocumentWorker(PRIVATE, w, data.store));
      else if (data?.ready === false) {
        w.terminate();
        reject(rebuild(data.error));
      }
    };
    w.onerror = (event) => {
      event.preventDefault?.();
      w.terminate();
      reject(new Error(`omnibuf: the document worker did not start: ${event.message ?? 'the script failed to load'}`));
    };
    w.postMessage({ init: { wasm: wasmInput, store } });
  });
}
