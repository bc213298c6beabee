// The types of the browser entries (js/web.mjs, and js/web-inline.mjs which re-exports it): what
// package.json's exports give outside the `node` condition for "omnibuf", "omnibuf/wasm" and
// "omnibuf/inline". They are js/index.d.ts, the API every entry shares and the whole of the Node
// entries' types, plus what only the browser entry exports: the document worker. Kept out of
// index.d.ts so that a Node program naming these fails to compile instead of finding them undefined
// at run time. (Members of the shared classes that one build lacks, such as VirtualBuffer.import() or
// nodeReadable(), stay in index.d.ts, marked in their comments: splitting a class would repeat it.)
import type {
  BytesLike,
  PlainBytes,
  VirtualBufferDocument,
  VirtualBufferOpenOptions,
  VirtualBufferSaveOptions,
  VirtualBufferStore,
  VirtualBufferStoreOptions,
  WaitOptions,
} from './index.js';

export * from './index.js';

/**
 * Browser entry only: starts a dedicated module worker that hosts VirtualBuffers (by default over OPFS,
 * see VirtualBufferStore) and resolves to its DocumentWorker, so a page can edit big documents without
 * blocking: every call is a message, bytes read are transferred (not copied), and nothing of the wasm
 * build runs on the page (no init() needed there). Errors thrown in the worker reject on the page
 * with the same class, name, message and `code`.
 *
 * The worker script is `omnibuf/document-worker` (js/document-worker.mjs), started as
 * `new Worker(new URL('./document-worker.mjs', import.meta.url), { type: 'module' })`, which vite and
 * webpack bundle. With esbuild, bundle 'omnibuf/document-worker' as an entry of its own and pass its
 * URL as `options.worker`, and the URL of omnibuf_bg.wasm (or the compiled module) as `options.wasm`.
 *
 * ```js
 * const docs = await openDocumentWorker();
 * const file = document.querySelector('input[type=file]').files[0];  // a File the user picked
 * const doc = await docs.import('big.log', file);                // read and written in the worker
 * await doc.insert(0, 'edited\n');
 * const head = await doc.read(0, Math.min(4096, doc.length));     // a Uint8Array
 * await doc.save();
 * ```
 */
export function openDocumentWorker(options?: {
  /** The store of calls that name none (default 'auto'). */
  store?: VirtualBufferStore | undefined;
  /** What the worker's init() loads, as init()'s `input` (a URL is resolved against the page). */
  wasm?: string | URL | BufferSource | WebAssembly.Module | undefined;
  /** The worker script's URL, instead of the packaged one. */
  worker?: string | URL | undefined;
}): Promise<DocumentWorker>;

/** Browser entry only: a worker made by openDocumentWorker(). Its calls run there one at a time, in
 * the order they were made, so a call made after an unsettled edit sees the edit. */
export class DocumentWorker {
  private constructor();
  /** The store calls use when they name none: 'opfs' or 'indexeddb'. */
  readonly store: 'opfs' | 'indexeddb';
  /** The Worker. Its terminate() is this object's terminate(): pending calls reject. */
  readonly worker: Worker;
  /** VirtualBuffer.open() in the worker. */
  open(name: string, options?: VirtualBufferOpenOptions & WaitOptions): Promise<WorkerVirtualBuffer>;
  /** VirtualBuffer.import() in the worker: a File or Blob is read there, a few MiB at a time. */
  import(name: string, source: Blob | BytesLike, options?: VirtualBufferOpenOptions & WaitOptions): Promise<WorkerVirtualBuffer>;
  list(options?: VirtualBufferStoreOptions & WaitOptions): Promise<VirtualBufferDocument[]>;
  deleteDocument(name: string, options?: VirtualBufferStoreOptions & WaitOptions): Promise<void>;
  exportDocument(name: string, options?: VirtualBufferStoreOptions & WaitOptions): Promise<Blob>;
  /** Ends the worker; calls not settled yet reject with an Error. A save it is running stops where
   * it is and the document keeps its last saved version, but Chromium lets a running save go on for
   * up to about 2 s first, so a save, saveAs(), import() or deleteDocument() cut off may have
   * finished (its Error says so: open the document or list() to see). The browser releases the
   * document's lock a little later: an open elsewhere right after may reject as "open in another
   * worker or tab" (try again). */
  terminate(): void;
}

/** Browser entry only: a VirtualBuffer in a DocumentWorker. Its members are VirtualBuffer's, each
 * returning a Promise (edits too), with read() resolving to a Uint8Array of its own; the getters
 * show the state after the last call that settled, and throw once free() was called. Signals work
 * as VirtualBuffer's (reads reject at once, an import only when it never started, saves and
 * deletions only refuse to start, when their signal has aborted at the call); a read or an import
 * the worker has not started when its signal aborts never runs there. Options are read on the page
 * as VirtualBuffer reads them (through getters and prototypes; one that cannot be read rejects the
 * call) and sent to the worker as plain values. */
export class WorkerVirtualBuffer {
  private constructor();
  readonly length: number;
  readonly isModified: boolean;
  readonly name: string | null;
  readonly store: 'indexeddb' | 'opfs';
  insert(offset: number, bytes: BytesLike): Promise<void>;
  delete(start: number, end: number): Promise<void>;
  replace(start: number, end: number, bytes: BytesLike): Promise<void>;
  undo(): Promise<boolean>;
  redo(): Promise<boolean>;
  read(start: number, end?: number, options?: WaitOptions): Promise<PlainBytes>;
  find(pattern: BytesLike, start?: number, end?: number, options?: WaitOptions): Promise<number | null>;
  lineCount(options?: WaitOptions): Promise<number>;
  lineToOffset(line: number, options?: WaitOptions): Promise<number>;
  offsetToLine(offset: number, options?: WaitOptions): Promise<number>;
  save(options?: VirtualBufferSaveOptions & WaitOptions): Promise<void>;
  saveAs(name: string, options?: WaitOptions): Promise<void>;
  /** Frees the buffer in the worker (and its document's lock); later calls reject. One the page
   * lets go of unfreed is freed in the worker once it is collected, later and at no set time. */
  free(): Promise<void>;
  [Symbol.asyncDispose](): Promise<void>;
  /** Bytes start..end in reads of at most 1 MiB, one after the other, as VirtualBuffer.chunks()
   * walks: a range read() would refuse rejects with read()'s error before anything is yielded, and
   * without an end (undefined or null) the walk follows the document's length (after the edits
   * called before each step). Options VirtualBuffer.chunks() would refuse at the call reject the
   * first step here, with the same error (the worker checks them); so do lines()'s. */
  chunks(start?: number, end?: number, options?: { signal?: AbortSignal | undefined }): AsyncIterableIterator<PlainBytes>;
  /** The lines from offset `start`, as VirtualBuffer.lines() gives them, read through chunks(). */
  lines(start?: number, options?: { signal?: AbortSignal | undefined }): AsyncIterableIterator<string>;
  /** Bytes start..end as a byte ReadableStream (so `new Response(stream)` and `pipeTo` work), read
   * through chunks(), as VirtualBuffer.readableStream() gives them (BYOB views wider than a byte
   * included: see there). */
  readableStream(start?: number, end?: number): ReadableStream<PlainBytes>;
}
