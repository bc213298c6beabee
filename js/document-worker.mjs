// The worker side of openDocumentWorker() (js/document-proxy.mjs): a module worker that hosts
// VirtualBuffers, by default over OPFS (store 'auto': OPFS where sync access handles exist, which is
// every dedicated worker of a browser that has them; IndexedDB elsewhere), and runs the page's calls.
//
// Protocol (private to the two files): the page posts { init: { wasm, store, standIns } } once, which
// this worker answers with { ready: true, store } or { ready: false, error }; then
// { id, op, handle, args, standIns } (standIns: where a function or symbol argument was, see
// withStandIns), each answered with { id, ok: true, value, state } or { id, ok: false, error, state }.
// Messages run one at a time, in the order they came, so a call the page makes after another (an
// edit, then a read) sees the first one's effect without awaiting it.
// `state` is the buffer's length, isModified, name and store after the call, for the proxy's getters.
// Bytes read are moved to the page (transferred), not copied. `{ cancel: id }` (its signal aborted):
// a call not started yet is skipped, answered with { id, cancelled: true }.
import { withStandIns } from './document-proxy.mjs';
import { init, VirtualBuffer } from './web.mjs';

/** Buffers by handle. A freed one stays (freed): calls on it throw the class's own error. */
const buffers = new Map();
let nextHandle = 1;
let defaultStore = 'auto';

/** An error as plain data: its class, name, message and code, rebuilt on the page. */
function describe(e) {
  if (!(e instanceof Error) && !(typeof DOMException === 'function' && e instanceof DOMException)) {
    return { kind: 'Error', name: 'Error', message: String(e) };
  }
  const kind =
    e instanceof TypeError ? 'TypeError' : e instanceof RangeError ? 'RangeError' : e instanceof Error ? 'Error' : 'DOMException';
  return { kind, name: e.name, message: e.message, code: e.code };
}

const state = (doc) => ({ length: doc.length, isModified: doc.isModified, name: doc.name ?? null, store: doc.store });

function adopt(doc) {
  const handle = nextHandle++;
  buffers.set(handle, doc);
  return { handle, ...state(doc) };
}

/** The options with the worker's default store, unless they name one (a `store` left undefined
 * names none: the page sends no undefined option, but a program may post its own calls). */
function withStore(options) {
  if (options === undefined || options === null) return { store: defaultStore };
  if (typeof options !== 'object') return options; // refused by the call, with its own message
  return options.store !== undefined ? options : { ...options, store: defaultStore };
}

/** The stores a DocumentWorker's `store` option names. */
const STORES = ['auto', 'opfs', 'indexeddb'];

/** Runs one message; returns [value, transfer list, buffer state or undefined]. */
async function run(op, handle, args) {
  switch (op) {
    case 'open':
      return [adopt(await VirtualBuffer.open(args[0], withStore(args[1]))), []];
    case 'import':
      return [adopt(await VirtualBuffer.import(args[0], args[1], withStore(args[2]))), []];
    case 'list':
      return [await VirtualBuffer.list(withStore(args[0])), []];
    case 'deleteDocument':
      return [await VirtualBuffer.deleteDocument(args[0], withStore(args[1])), []];
    case 'exportDocument':
      return [await VirtualBuffer.exportDocument(args[0], withStore(args[1])), []];
    default:
      break;
  }
  const doc = buffers.get(handle);
  if (op === 'free') {
    doc?.free();
    return [undefined, []];
  }
  const method = VirtualBuffer.prototype[op];
  if (doc === undefined || typeof method !== 'function' || op === 'constructor') {
    throw new Error(`omnibuf document worker: no call ${op} on buffer ${handle}`);
  }
  if (op === 'chunks' || op === 'lines') {
    // The page walks through read()s: here the walk is only made, which checks its options as
    // VirtualBuffer's own walk does (an error names the member), and dropped unstarted.
    Reflect.apply(method, doc, args);
    return [undefined, [], state(doc)];
  }
  let value = await Reflect.apply(method, doc, args);
  let transfer = [];
  if (op === 'read') {
    // A copy of the bytes in an ArrayBuffer of its own, moved to the page.
    const bytes = value.bytes();
    value.free();
    value = bytes;
    transfer = [bytes.buffer];
  }
  return [value, transfer, state(doc)];
}

let queue = Promise.resolve();
/** Calls the page cancelled before they started; and the last call started (calls start in the
 * order of their ids, so a cancel of an id up to it comes too late and is not kept). */
const cancelled = new Set();
let lastStarted = 0;

async function handle({ id, op, handle: target, args, standIns }) {
  if (cancelled.delete(id)) {
    self.postMessage({ id, cancelled: true });
    return;
  }
  if (id > lastStarted) lastStarted = id;
  try {
    const [value, transfer, after] = await run(op, target, withStandIns(args, standIns));
    self.postMessage({ id, ok: true, value, state: after }, transfer);
  } catch (e) {
    const doc = buffers.get(target);
    let after;
    try {
      after = doc === undefined ? undefined : state(doc);
    } catch {
      after = undefined; // freed
    }
    self.postMessage({ id, ok: false, error: describe(e), state: after });
  }
}

self.onmessage = ({ data }) => {
  if (data?.init !== undefined) {
    const { wasm } = data.init;
    const [store = 'auto'] = withStandIns([data.init.store], data.init.standIns);
    init(wasm ?? undefined)
      // A store that is none of them (null too, as a member of an options object left out only as
      // undefined) gets the error every call naming it would: VirtualBuffer's own, before any I/O.
      .then(() => (STORES.includes(store) ? undefined : VirtualBuffer.list({ store })))
      .then(
        () => {
          defaultStore = store === 'auto' ? (typeof FileSystemSyncAccessHandle === 'function' ? 'opfs' : 'indexeddb') : store;
          self.postMessage({ ready: true, store: defaultStore });
        },
        (e) => self.postMessage({ ready: false, error: describe(e) }),
      );
    return;
  }
  if (data?.cancel !== undefined) {
    if (data.cancel > lastStarted) cancelled.add(data.cancel);
    return;
  }
  queue = queue.then(() => handle(data));
};
