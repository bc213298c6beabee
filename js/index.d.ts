// The JS API of omnibuf: the one definition that the browser entry (wasm-bindgen) and the Node entry
// (napi-rs addon) both implement, with the same semantics as the Rust crate in JS naming.
//
// Built: ZeroCopyBuffer, BufferMut, BufferKind, BufferPool, PooledBuffer, the byte ring (Circular,
// CircularWriter, CircularReader) and VirtualBuffer, implemented twice: by the wasm build (the browser
// entry, js/web.mjs, and the same build in Node, run by the test suite) and by the Node addon
// (package.json's `node` export, js/node.mjs), both passing the same suite (js/test). Where the
// targets differ, a member says so: a VirtualBuffer opens files with the addon and IndexedDB documents
// in the wasm build (in the browser; in Node, "omnibuf/wasm" needs an IndexedDB polyfill such as
// fake-indexeddb); init() loads something in the browser only; handles and blocking waits exist in the
// addon and in the browser's threaded build (cross-origin isolated pages, see `threaded`) only.
//
// Entries: this file is the whole of the Node entries' types (package.json's `node` conditions, as
// scripts/pack.mjs copies it to dist/index.d.mts and dist/index.d.cts), so it declares no class,
// function or constant they lack at run time. Members marked "Browser only" are the one exception:
// the addon's VirtualBuffer has them only to say so (VirtualBuffer.import, list(), deleteDocument()
// and exportDocument() reject, readInto() throws, an Error with code
// ERR_FEATURE_UNAVAILABLE_ON_PLATFORM; `name` and `store` are undefined), while "omnibuf/wasm" in
// Node has them all. So `typeof VirtualBuffer.list === 'function'` holds in every entry: to tell
// whether the documents are files, look at the entry imported (or at that error's code). js/browser.d.ts types the browser entries: all of this
// plus the document worker (openDocumentWorker()); js/worklet.d.ts types "omnibuf/worklet" (the
// ring's classes and readInto()). An entry evaluated again over the same glue or addon (imported
// under another URL, or re-run by a test runner's module registry) gives the same classes and
// AbortError as the first time; "omnibuf" and "omnibuf/worklet" in one worker share the ring's.
//
// Conventions:
// - Sizes and offsets are non-negative integers up to Number.MAX_SAFE_INTEGER (in both builds, so
//   offsets into a document go past 4 GiB in wasm too): anything but a number, or a non-integer,
//   throws a TypeError (nothing is coerced: '1', true and null are TypeErrors, except that an
//   optional argument given as undefined or null counts as left out, though these types, as
//   TypeScript's optional parameters do, name undefined only; a member of an options object is left
//   out only as undefined, and null there is a TypeError), a negative or
//   out-of-range value a RangeError. Sizes and offsets within memory (of a buffer, a ring, a pool's
//   requests) of 2 ** 32 or more, which the wasm build's memory cannot hold, are refused there with
//   the RangeError the addon gives for them, naming the limit met (the buffer's length, the room
//   free, the largest class, "too large"), once every argument's type is checked; a BufferMut's
//   capacity there is memory that cannot be allocated, as a smaller one may be, and a pool class of
//   more than 2 ** 31 - 1 bytes (the largest allocation there) is an invalid configuration (a
//   TypeError, ERR_INVALID_ARG_VALUE: BufferPoolOptions.classes), where the addon takes it. `new` of a class marked `private constructor`, and a member
//   called with `this` of another class, throw a TypeError. Every error is a JS exception, of the
//   same class in both builds; nothing aborts the process. Errors of misuse have the same message in
//   both builds and also carry a Node-style `code`: ERR_INVALID_ARG_TYPE (a wrong type), ERR_INVALID_ARG_VALUE (an
//   unusable value, such as an unknown kind, or a name or path holding a lone surrogate, which
//   UTF-8 cannot hold: as U+FFFD it would name something else), ERR_OUT_OF_RANGE (every RangeError but one: ERR_BUFFER_TOO_LARGE, as Node's own, for a
//   view() or bytes() longer than the runtime's largest Buffer, 4 GiB in Node 20), ERR_INVALID_THIS (a
//   wrong receiver), ERR_ILLEGAL_CONSTRUCTOR, ERR_INVALID_STATE (an object freed or handed on, or a
//   call this thread or page does not allow: sliceSync() where nothing may block, toHandle() on a page
//   that is not cross-origin isolated), ERR_FEATURE_UNAVAILABLE_ON_PLATFORM (a member only another
//   entry serves, a ring backend this system lacks). Errors of the world (I/O, storage) have none,
//   but for a system's I/O failure (the addon's files, a ring's memory), which has the code Node's
//   fs gives it (ENOENT, EACCES, EPERM, EISDIR, EMFILE, ENOSPC, EIO, ...; none where Node's fs says
//   UNKNOWN, as for Linux's EDQUOT). Their message says what failed in that build's storage (a file,
//   an IndexedDB document), so it is not the same in both.
// - Objects hold native or wasm memory: call free() (or use `using`, via [Symbol.dispose]) when done.
//   Using an object after free() throws an Error that says so, before any of the call's arguments or
//   options is looked at (a Promise member rejects with it; a stream or walk over it errors or
//   rejects at its first read or step, so the options of a stream form, which it checks at the call,
//   are looked at first: a bad one is its TypeError there); free() twice does nothing. A builder (BufferMut,
//   PooledBuffer) after freeze() throws such an Error too, but after its arguments are checked: a
//   bad argument is its TypeError first, in both builds.
//   A writable stream whose writer was freed or aborted by other means errors at its end rather
//   than finish as if it had ended the ring's stream. Objects the program drops are freed by the
//   garbage collector: the addon tells V8 how much native memory each holds (for a
//   file's VirtualBuffer, the block cache its reads may fill), so it collects them in time; V8 does not weigh wasm memory, so the wasm build's dropped
//   objects may be freed long after, while wasm memory (at most 4 GiB) grows: call free() there.
//   What a call asks of wasm memory in proportion to its input (bytes, strings, copies out) fails
//   with a RangeError when that memory cannot give it. With the memory full to its last bytes,
//   though, even a call that needs a few (a snapshot, a slice) can fail with the allocator's
//   RuntimeError ("unreachable"), which leaves the object it was called on unusable.
//   A stream or walk listens to its signal only while it is reachable. However many calls share a
//   signal, it holds one 'abort' listener of this package (none once they are all done): no
//   MaxListenersExceededWarning, where Node's own APIs warn past ten. In Node that listener runs
//   even where another calls stopImmediatePropagation() (events.addAbortListener, Node 18.18 and
//   20.5 on), as Node's own APIs' do; a page has no such listener: there, don't stop an abort.
// - Bytes passed in (Uint8Array, ArrayBuffer, any typed array, or a string as UTF-8) are copied.
// - Bytes handed out are Uint8Arrays. Many of the addon's are Buffers (a subclass): its views and ring
//   slices, a reader's read() and the chunks of its iterators; copies such as bytes() and sha256() are
//   plain Uint8Arrays in both builds, and the wasm build's are all plain, also in Node. Code meant for
//   both builds uses what Uint8Array has: `new TextDecoder().decode(chunk)`, not `chunk.toString()`.
//   Mind slice(), which Buffer overrides: Buffer's slice() is a view of the same memory (as
//   subarray()), not Uint8Array's copy, so a view's or a ring slice's `.slice()` in the addon is
//   detached with it. A copy that works in both builds: `new Uint8Array(view)` (or
//   `Uint8Array.prototype.slice.call(view)`).
//   (Node's Readable streams make every chunk a Buffer, so nodeReadable() gives Buffers in both.)
//   All are over an ArrayBuffer, typed PlainBytes, but for ring slices (see PlainBytes).
// - view() and ring slices return the bytes in place, never a copy where the runtime allows:
//   - Node (the addon): a Buffer over native memory (an external buffer), whose ArrayBuffer owns that
//     memory. The lifetime rule covers everything made of a view: subarrays, `.buffer`,
//     `new Uint8Array(view.buffer)`, DataViews, Buffer.from(view.buffer). When the object lets go of
//     the memory (free(), freeze(), toHandle()) or lets someone else change it (a writer's produce()
//     and write(), a reader's consume()), it detaches the view's ArrayBuffer first: every array over
//     it is then empty, so nothing kept shows freed, reused or overwritten memory. Take a new slice()
//     after produce() or consume(). Node's own calls treat a detached view as any detached buffer:
//     some throw a TypeError (buf.fill(), Buffer.concat() on most versions), and a Writable that
//     queued one writes nothing of it. A view of an object the program merely dropped (no free()) keeps
//     the memory for as long as its ArrayBuffer lives; a ring slice is detached when its side is
//     collected. structuredClone and postMessage copy a view: the copy is independent. Asked to
//     transfer it, Node 18 and 20 copy it too, and Node 22 on throws a DataCloneError. The other
//     movers of an ArrayBuffer would take a view's memory out of reach of the detaching, so the
//     addon stops them: ArrayBuffer.prototype.transfer() and transferToFixedLength() (where the
//     runtime has them), a BYOB reader's read(view) and a BYOB request's respondWithNewView(view)
//     throw (or reject with) a TypeError (ERR_INVALID_STATE) for a view; a byte stream's
//     controller.enqueue(view) enqueues a copy. Should a view's memory move all the same (a mover
//     taken before omnibuf loaded, or another realm's), the bytes stay as they are until the moved
//     memory is collected: a ZeroCopyBuffer's memory lives on; a ring side's produce(), consume(),
//     read(), write() and toHandle(), and a PooledBuffer's freeze(), throw an Error
//     (ERR_INVALID_STATE) rather than let those bytes be reused (the PooledBuffer is then given up,
//     as free() gives it up, and says it was freed); and a PooledBuffer freed then
//     never gives its memory back to the pool. When a worker ends with such a move behind it (its
//     result may have been posted to a thread that lives on), the moved memory is kept for good:
//     the ring side, the pooled block or the buffer is never freed. Detaching cannot stop a read that Node
//     already handed to its thread pool or the kernel (fs.write, socket.write, zlib with a view):
//     wait for such a call to finish before free(), freeze(), produce() or consume(), or pass it
//     bytes(), a copy. Repeated view() calls of one object return new Buffers over the memory of one
//     native view (a pooled buffer's: until append() changes its length), all detached together.
//     A reader's slice is in place only while the ring has one reader (readers moved to a handle
//     count until freed); while it has several, each reader's slice is a copy of its own, taken when
//     called, so that no reader can change what another reads (a reader added while another holds
//     a slice starts past that slice's bytes, so the slice stays in place). Where the runtime
//     forbids external buffers (Electron), views are copies instead: see `externalBuffers`.
//     Node keeps about 300 bytes of bookkeeping per external Buffer until the event loop's next turn
//     after the view is detached or collected: a run that takes many views without yielding to the
//     event loop (a synchronous loop, or a producer and a consumer on one thread, whose waits settle
//     each other in microtasks) holds that much per view until it yields; a million slices, 300 MB.
//     reader.slices() yields every 256 steps. A ring slice over ring memory is kept (so that it can
//     be detached) until the side's next produce(), write(), consume(), read() or readInto(), or
//     free(), even once the program dropped it; so slice() (and sliceAsync()) give the last slice
//     again while it shows the same bytes (nothing published, taken or arrived since), as the wasm
//     build does: peeking at an incomplete message on every event keeps one slice, not one per peek.
//   - The browser's threaded build (see `threaded`), ring slices only: views of the shared memory its
//     rings live in, which a SharedArrayBuffer cannot be made to forget. That memory holds no buffers,
//     pools or documents (they come from the single-thread module), but every ring of every thread
//     of the page, and the ring module's own state: its static data, its heap (the rings' positions
//     and lists of waiting tasks among it) and its threads' stacks. A slice's `.buffer` reaches all of
//     it: every ring's bytes, those of freed rings (and of rings made since in their place) included,
//     and a slice kept past produce(), consume() or free() shows what is written there later. What is
//     written through it outside the slice's own bytes, or into it once it is stale, lands there: in
//     bytes already handed to readers, in another ring, or in the module's state, which a stray write
//     breaks for every ring of the page (a call that never returns, an error with a garbled message),
//     as a stray pointer would in native code. Write only inside a slice, and only within its step;
//     give anything else a copy (`new Uint8Array(slice)`), or read with read(), readInto() or the streams,
//     which copy.
//   - The wasm build otherwise (the browser, and wasm in Node): never a view of wasm memory, since any
//     such view reaches all of it through `.buffer`, freed memory that other objects reuse included. view()
//     and the view() of what VirtualBuffer.read() gives are copies in a fresh ArrayBuffer, taken when
//     called: safe to keep, transfer or write to; they never change and never show another object's
//     bytes. A reader's slice() and sliceAsync() are copies in the reader's staging memory, which its
//     consume(), read(), readInto() and free(), and its next slice() or sliceAsync(), detach (as the addon's
//     calls detach its slices over ring memory, while the ring has one reader): they never show other
//     bytes, nor does their `.buffer` past them (what earlier slices left there is cleared); copy what
//     must outlive the next slice. While the last one still shows the unread bytes exactly (nothing consumed or arrived since, nothing written into it), the next
//     is that same slice: two waits settled together get one slice, not one each with the first
//     detached (so one that transfers it, which these copies allow, empties it for the other). The writable views are such copies too, written back by a call: what is written
//     into the last PooledBuffer.view() reaches the buffer at its next view() or freeze() (the calls
//     that read its bytes); what is written into the last CircularWriter.slice() (or sliceAsync()) is copied into
//     the ring by produce(n), its first n bytes, and the rest of it stays the room's start, as over
//     ring memory: the next slice() is that same slice while the room has not moved, and otherwise
//     starts with that rest; write() puts its bytes over the slice's start. produce() and write()
//     detach the slices handed out, as the addon's do (write() once it has read its bytes, which may
//     be a view of one), and so do free() and abort(): a view of a writer's slice is empty after
//     any of them. Writes after a PooledBuffer's free() or freeze(), or into an older view, reach nothing. Such a view's ArrayBuffer is its own memory:
//     transferring it (postMessage or structuredClone with `transfer`) takes what was written with
//     it, where the addon's transfer copies or is refused; produce(n) of a slice moved away is then an Error
//     (ERR_INVALID_STATE), and what was written into a PooledBuffer.view() moved away reaches nothing. A view costs a copy of its bytes
//     (`npm run bench:wasm-views` times it).
//   Write only to the views meant for writing (PooledBuffer.view(), CircularWriter.slice()): their
//   memory is this object's alone until freeze()/produce() detaches them. The other views are read-only
//   by contract (V8 in Node 20 has no read-only ArrayBuffer). In Node a write to one can never crash
//   the process nor reach bytes another owner or thread uses: a VirtualBuffer read is a copy of its
//   own (made on the thread pool, never a view of a file mapping or of the buffer's cache, so neither
//   the file, later reads nor save() see it); a ZeroCopyBuffer's bytes are never read off the JS
//   thread (sha256(), equals() and bytes() run on it); a reader's slice is detached before its bytes
//   can be reused, and is a copy whenever another reader could read them. What such a write does
//   change is what that ZeroCopyBuffer, the ZeroCopyBuffers sliced or derived from it and their views
//   read (and, for the slice of a ring's only reader, what that reader reads): do not write them.
//   bytes() returns a copy that is always safe to keep.
// - The realm's built-ins are taken to be the platform's. A replacement that only passes calls on
//   (an instrumentation's wrapper of Promise.prototype.then, EventTarget or WeakMap) changes
//   nothing, but code that replaces typed arrays' methods or getters, TextEncoder or TextDecoder,
//   DataView's setters or Function.prototype.call/apply after this package loaded is trusted as
//   this package is: in the wasm build wasm-bindgen's glue calls them with views of the whole of
//   wasm memory (so such code can read or change any object's bytes), and one that throws or lies
//   during a call can leave the object it was made on unusable (the wasm build's "recursive use",
//   "unreachable") or, in either build, a wait running that its Promise no longer reports. Names
//   added to Object.prototype are read through an options object as any inherited member (as
//   Node's own options are), never through the objects this package makes for itself.

/** Node entry: whether view() and ring slices are Buffers over native memory (`true`) or copies
 * (`false`: the runtime forbids external buffers, as Electron does, or cannot collect them safely,
 * as Deno cannot, or the environment variable OMNIBUF_EXTERNAL_BUFFERS=0 asked for copies). Where
 * they are copies, writes to a writer's slice are lost: use CircularWriter.write() and
 * PooledBuffer.append(). The wasm build has no external buffers:
 * `false` (its views are copies written back by a call, see above). */
export const externalBuffers: boolean;

/** Bytes accepted from JS; always copied. A string is taken as UTF-8. A SharedArrayBuffer, or a view
 * over one, is read as it is when called (both builds). */
export type BytesLike = Uint8Array | ArrayBuffer | SharedArrayBuffer | ArrayBufferView | string;

/** Bytes handed out over an ArrayBuffer, never a SharedArrayBuffer, in every build: what `Blob`,
 * `Response` and `crypto.subtle` take, which refuse shared memory at run time, and in TypeScript's
 * DOM types from 5.9 on. With TypeScript 5.7 or later this is `Uint8Array<ArrayBuffer>` (a plain
 * `Uint8Array` there may be over shared memory); before, where Uint8Array is not generic, it is
 * `Uint8Array`. Ring slices are over shared
 * memory in the threaded browser build, so they are typed as plain `Uint8Array`. */
export type PlainBytes = ReturnType<Uint8Array['slice']>;

/** The content kinds, passed by name: built-in ("raw", "text", "json", "pcm16", "pcm_f32",
 * "mulaw8", "alaw8", "opus", "jpeg", "png", "webp", "gif", "h264", "mp4") and registered ones. */
export class BufferKind {
  private constructor();
  /** Registers `name` (1 to 64 bytes of UTF-8, no whitespace, control or invisible formatting characters such as U+200B; TypeError
   * otherwise) and returns it. Kinds are kept for good, up to 65,536 of them (then an Error). In the
   * addon the registry is the process's, every worker thread's too; in the wasm build each thread
   * (the page, each worker) instantiates a module of its own, with a registry of its own: a worker
   * registers the kinds it uses. */
  static register(name: string): string;
  /** Whether `name` is a known kind: false for anything else, a value of another type too (a
   * question, not a use of the name, so it throws for none). */
  static has(name: string): boolean;
  /** Every known kind, built-in ones first. */
  static names(): string[];
  free(): void;
  [Symbol.dispose](): void;
}

/** An immutable view over shared bytes. slice/splitTo/splitOff/withTenant/retag share the memory. */
export class ZeroCopyBuffer {
  private constructor();
  /** Copies `bytes` into a new buffer; kind defaults to "raw" ("text" for a string). */
  static from(bytes: BytesLike, kind?: string): ZeroCopyBuffer;
  readonly length: number;
  readonly kind: string;
  readonly tenant: string | undefined;
  /** How many views share the storage: the ZeroCopyBuffers made from one another (slice, splitTo,
   * splitOff, withTenant, retag) that were not freed, plus whatever else holds the bytes (in Node the
   * memory of each object's live views, one for all the views one object handed out over the same
   * bytes; a VirtualBuffer's cache). For observability: a buffer the program dropped without free()
   * counts until it is collected in the browser, and in Node until the whole storage is. */
  readonly sharers: number;
  withTenant(tenant: string): ZeroCopyBuffer;
  retag(kind: string): ZeroCopyBuffer;
  /** Bytes start..end (end defaults to length); RangeError when out of bounds or decreasing. */
  slice(start: number, end?: number): ZeroCopyBuffer;
  /** Returns bytes 0..at; this buffer keeps the rest. */
  splitTo(at: number): ZeroCopyBuffer;
  /** Returns bytes at..; this buffer keeps 0..at. */
  splitOff(at: number): ZeroCopyBuffer;
  /** SHA-256 of the visible bytes. */
  sha256(): PlainBytes;
  /** Whether `other` holds the same bytes. */
  equals(other: ZeroCopyBuffer): boolean;
  /** The bytes in place (see the conventions above); read it, do not write it. */
  view(): PlainBytes;
  bytes(): PlainBytes;
  free(): void;
  [Symbol.dispose](): void;
}

/** A growable builder; freeze() turns it into a ZeroCopyBuffer without copying. */
export class BufferMut {
  constructor(capacity?: number, kind?: string);
  readonly length: number;
  readonly capacity: number;
  append(bytes: BytesLike): void;
  /** The builder cannot be used after. */
  freeze(): ZeroCopyBuffer;
  free(): void;
  [Symbol.dispose](): void;
}

export interface BufferPoolOptions {
  /** Most bytes checked out at once: at least the smallest class (a TypeError, ERR_INVALID_ARG_VALUE,
   * below it), with no upper limit. In the wasm build the pool counts at most 2 ** 31 - 1 bytes
   * (its counter's top bit flags waiters): a larger budget counts as that, so no more than about
   * 2 GiB of a wasm pool's 4 GiB memory is out at once; maxIdle and the quotas count as at most
   * the memory. `budget` and snapshot() still give them as given. */
  budget: number;
  /** Size classes in bytes (default 4 KiB, 16 KiB, 64 KiB, 256 KiB, 1 MiB). A configuration the pool
   * cannot have (classes not distinct, a budget below the smallest, in the wasm build a class above
   * 2 ** 31 - 1 bytes, the most its memory gives at once) is a TypeError, ERR_INVALID_ARG_VALUE. */
  classes?: number[] | undefined;
  /** Most bytes kept idle in the pool's shared free lists for reuse (default budget / 4). Besides
   * these, each thread that used the pool keeps up to 4 blocks of each class of at most 256 KiB
   * for itself (`cachedBytes` in snapshot()): trim() gives back both. */
  maxIdle?: number | undefined;
  tenantQuotas?: Record<string, number> | undefined;
  defaultTenantQuota?: number | undefined;
}

/** One class of a BufferPoolSnapshot (the Rust crate's `ClassSnapshot`, in JS naming). */
export interface ClassSnapshot {
  size: number;
  /** Bytes of this class checked out now. */
  inUseBytes: number;
  /** Most bytes of this class ever reserved at once: in use plus leased (see BufferPoolSnapshot). */
  highWaterBytes: number;
  /** Budget held for this class in threads' leases now: a thread keeps some budget after a buffer
   * comes back, for its next one, until trim() or another class needs it. */
  leasedBytes: number;
  /** Bytes of this class idle on the shared free list. */
  idleBytes: number;
  /** Bytes of this class idle in per-thread caches. */
  cachedBytes: number;
  /** Requests of this class waiting now. */
  waiting: number;
  /** Requests of this class that had to wait, ever (aborted ones too). */
  waits: number;
  /** Requests with a timeout that gave up: the Rust crate's timed acquires only (a JS wait has no
   * timeout; one ended by `AbortSignal.timeout()` is an abort). */
  timeouts: number;
  /** tryAcquire() calls of this class refused for lack of room. */
  refusals: number;
}

/** One tenant of a BufferPoolSnapshot: each tenant the pool has served or held back, from its first
 * request on, for the pool's life (a pool remembers every tenant name it was given: name tenants
 * from a bounded set, such as users or routes, not one per request). */
export interface TenantSnapshot {
  tenant: string;
  quota: number | null;
  /** Bytes it has checked out now. */
  inUseBytes: number;
  /** Most bytes it ever had checked out at once. */
  highWaterBytes: number;
  waits: number;
  timeouts: number;
  refusals: number;
}

/** What BufferPool.snapshot() gives: the Rust crate's `BufferPoolSnapshot`, in JS naming. */
export interface BufferPoolSnapshot {
  budget: number;
  /** Bytes checked out now. */
  inUseBytes: number;
  /** Bytes the budget counts now: in use plus leased (see ClassSnapshot). Never above `budget`. */
  reservedBytes: number;
  /** Most bytes ever reserved at once (in use plus leased, so it may exceed the most ever in use). */
  highWaterBytes: number;
  leasedBytes: number;
  /** Bytes idle on the shared free lists. */
  idleBytes: number;
  /** Bytes idle in per-thread caches (blocks given back by tenanted buffers too). */
  cachedBytes: number;
  waiting: number;
  classes: ClassSnapshot[];
  tenants: TenantSnapshot[];
}

/** Options of every wait (BufferPool.acquire(), the ring's sliceAsync(), and the ring's stream forms
 * for their waits for data or room), the same in both builds. `null` is the same as none (at run
 * time; the types take undefined, see the conventions).
 * - `signal`: an AbortSignal that cancels the wait: the wait is dropped natively (it leaves the pool's
 *   queue, and budget that reached it goes on to the next waiter or back; the ring lets go of it) and
 *   the Promise rejects with an {@link AbortError}, at once when the signal is already aborted: before
 *   the call's other arguments are looked at (an acquire() of a bad size rejects with the AbortError
 *   then; options that are no object, and a signal or ref of the wrong type, come first). Not an
 *   AbortSignal: the Promise rejects with a TypeError (ERR_INVALID_ARG_TYPE). A wait served at the
 *   call (room in the pool, data or room in the ring) holds its result then, and resolves with it
 *   even if the signal aborts right after: only a wait still pending is cancelled. A wait that
 *   another call ends (a grant, a write() or consume() that serves it, a free() of the pool or of
 *   either ring side) settles after that call (see sliceAsync()), so a signal that aborts before
 *   then, as one aborted right after that call in the same synchronous code, still wins: the
 *   AbortError, nothing granted or consumed. How many microtasks later a wait settles differs
 *   between builds: an abort queued as a microtask after that call may come before or after it.
 *   Like any Promise's, a wait's rejection that the program leaves unhandled is reported (Node's
 *   'unhandledRejection', which by default ends the process; the page's 'unhandledrejection'):
 *   catch a wait whose cancelling is expected.
 * - `ref` (Node; default `false`): whether the pending wait keeps the process alive. By default it
 *   does not: a program with nothing else to do exits, as with an unref'd timer, rather than hang on
 *   a wait nothing can satisfy (a wait awaited at a module's top level: with exit code 13, as Node
 *   gives for a top-level await left unsettled, and from Node 22 on its warning). Node's
 *   `AbortSignal.timeout()` keeps nothing alive either: a wait whose only deadline is such a signal
 *   needs `ref: true` to see it fire. A wait served from another thread (a worker) is served while that
 *   thread runs. With `ref: true` it keeps the process alive until it settles, as pending I/O does.
 *   In the browser it means nothing. A stream or loop over a ring side in a Node worker, whose other
 *   side another thread serves, needs `ref: true` (`for await (const chunk of reader.chunks({ ref:
 *   true }))`, not of `reader` itself, whose waits cannot take options): without it the worker may
 *   exit while it waits, and a writer it did not free aborts the ring's stream as it exits
 *   (CircularWriter.free()).
 * A pending wait keeps the object it waits on (the pool, the ring side) from being collected, and
 * so does a stream or walk of a reader that waits for data: one dropped unfinished keeps its reader,
 * which holds the writer back once the ring is full. Cancel such a stream, or return() such a walk
 * (`break` out of its `for await`). */
export interface WaitOptions {
  signal?: AbortSignal | undefined;
  ref?: boolean | undefined;
}

/** What an aborted wait, stream or walk rejects with: Node's AbortError (as `timers/promises` and
 * `fs/promises` give it), in the browser too: an Error named "AbortError", code "ABORT_ERR",
 * message "The operation was aborted", whose `cause` is the signal's reason. */
export class AbortError extends Error {
  constructor(message?: string, options?: { cause?: unknown });
  readonly name: 'AbortError';
  readonly code: 'ABORT_ERR';
}

/** A pool of reusable buffers with size classes, a byte budget and per-tenant quotas. It never
 * blocks: acquire() waits asynchronously, tryAcquire() returns null when there is no room. A pending
 * acquire() lets a Node process exit unless it was asked to keep it alive (WaitOptions.ref). */
export class BufferPool {
  /** TypeError for a missing or malformed option. */
  constructor(options: BufferPoolOptions);
  readonly budget: number;
  readonly classes: number[];
  /** A buffer now, or null when the budget or the tenant's quota is full, or while acquire()s that
   * come first are waiting (any waiting for the budget, and the same tenant's).
   * RangeError for a request that can never be served (no class holds it, or it exceeds the budget
   * or the quota). Where the budget allows a block the memory cannot give (in the wasm build, wasm
   * memory full), an Error ("the system allocator could not provide N bytes", and acquire() rejects
   * with it), nothing reserved or held: only the high-water marks, which count the bytes reserved
   * for the attempt, and a tenant's first appearance in snapshot() show it. */
  tryAcquire(size: number, tenant?: string): PooledBuffer | null;
  /** Resolves once there is room, first come first served per class; rejects with a RangeError for a
   * request that can never be served, an AbortError when `options.signal` aborts (see WaitOptions),
   * and the Error of a freed pool (ERR_INVALID_STATE) when the pool is freed first (see free(); a
   * signal that aborts right after the free(), before the wait settled, wins: see WaitOptions).
   * Unlike tryAcquire(), it is served at once when there is room for it, even while waits of other
   * classes asked before it wait for more: a steady stream of small acquire()s can keep a large one
   * waiting. A wait granted in a turn settles later in that turn: until then its signal or free()
   * can still cancel it (it rejects, and the budget goes on). Waits of different classes granted in
   * one turn may settle in another order in one build than in the other: the grants are the same. */
  acquire(size: number, tenant?: string, options?: WaitOptions): Promise<PooledBuffer>;
  acquire(size: number, options?: WaitOptions): Promise<PooledBuffer>;
  snapshot(): BufferPoolSnapshot;
  /** Returns idle memory to the allocator, and the budget leased by threads to the pool (snapshot()'s
   * leasedBytes); returns the bytes of memory freed. */
  trim(): number;
  /** Buffers already out stay valid, their memory going back as they are freed. Pending acquire()s
   * reject with the Error of a freed pool ("this BufferPool was freed ...", ERR_INVALID_STATE), as a
   * freed ring side's sliceAsync()s do, and no longer keep a Node process alive. */
  free(): void;
  [Symbol.dispose](): void;
}

/** A writable buffer from a BufferPool, with its class's fixed capacity. */
export class PooledBuffer {
  private constructor();
  readonly length: number;
  readonly capacity: number;
  readonly tenant: string | undefined;
  /** RangeError (and nothing written) when the bytes do not fit. */
  append(bytes: BytesLike): void;
  /** The written bytes in place, writable (see the conventions above); in Node it is detached when the
   * buffer is frozen or freed. */
  view(): PlainBytes;
  /** The memory returns to the pool when the last view is freed; the PooledBuffer cannot be used
   * after. */
  freeze(kind?: string): ZeroCopyBuffer;
  free(): void;
  [Symbol.dispose](): void;
}

/** Which memory is under a ring: one memory object mapped twice ("double-mapped", native only) or an
 * allocation whose writer copies the wrapped part ("mirror-copy", always in wasm). */
export type RingBackend = 'double-mapped' | 'mirror-copy';

export interface CircularOptions {
  /** Ask for a backend; by default double mapping where it works, and the mirror for a ring the
   * system cannot map for now (file descriptors used up, a file-size limit smaller than the ring). */
  backend?: RingBackend | undefined;
}

/** A ring side parked for another thread (the addon, and the browser's threaded build): a plain object
 * postMessage can carry. In the browser it also carries the module and the shared memory, for
 * init(handle) in the receiving thread (docs/browser-threads.md). Copies of it may be anywhere (a
 * message in flight, a structured clone), so nothing tells that it is lost: the side stays parked,
 * with its ring's memory, until a thread claims it or the process (the page) ends. A reader parked
 * holds the writer back; a writer parked never ends its readers' stream. Claim every handle made
 * (a worker terminated before it claimed one leaves it parked). */
export interface CircularHandle {
  readonly omnibuf: 'CircularWriter' | 'CircularReader';
  readonly id: number;
  /** The addon's: which copy of it in the process parked the side (a dependency's own copy claims
   * only its own handles). */
  readonly copyToken?: number | undefined;
  /** The browser's: which wasm memory the side lives in. */
  readonly memoryToken?: number | undefined;
  readonly module?: WebAssembly.Module | undefined;
  readonly memory?: WebAssembly.Memory | undefined;
}

/** Browser entry: whether this thread loaded the threaded build (the page is cross-origin isolated:
 * SharedArrayBuffer exists). Only then do ring sides cross threads, slices view the ring's memory in
 * place (a view of the memory of every ring of the page: see "Views" above), and sliceSync() blocks
 * dedicated workers. Node: `true` for the addon, whose rings do all
 * that, `false` for the wasm build ("omnibuf/wasm"), whose rings stay on their thread. */
export const threaded: boolean;

/** Makes byte rings: one writer, any number of readers. Every slice is one contiguous view, also
 * across the end of the ring. The writer waits for the slowest reader; with no readers it overwrites.
 * When the writer is freed, readers read what is left and then see the end (`null`); when it aborts,
 * the same end, and `abortReason` says why (CircularWriter.abort()). */
export class Circular {
  private constructor();
  /** The writer of a new ring of at least `capacity` bytes (rounded up: to whole pages on
   * double-mapped memory, natively's default where the system has it; see CircularOptions.backend).
   * RangeError for 0 or a size no system can map; TypeError for a bad option; an Error for a backend
   * this system does not have (double mapping in wasm: see doubleMappingAvailable()), with the code
   * ERR_FEATURE_UNAVAILABLE_ON_PLATFORM, and for memory the system refuses (with its code, as ENOMEM). */
  static withCapacity(capacity: number, options?: CircularOptions): CircularWriter;
  /** Whether this system can double-map ring memory (always false in wasm). */
  static doubleMappingAvailable(): boolean;
}

/** The one writer of a byte ring. */
export class CircularWriter {
  private constructor();
  /** The addon, and the browser's threaded build (after init(handle) in this thread; the
   * single-thread build throws an Error naming the COOP/COEP headers, and "omnibuf/wasm" in Node one
   * with the code ERR_FEATURE_UNAVAILABLE_ON_PLATFORM): claims a writer moved with
   * toHandle(), in any thread; each handle can be claimed once. */
  static fromHandle(handle: CircularHandle): CircularWriter;
  readonly capacity: number;
  readonly backend: RingBackend;
  /** A new reader, which sees what is produced from now on. */
  addReader(): CircularReader;
  /** The free bytes, to fill and then produce(): one writable view, returned at once; empty when the
   * slowest reader is a whole ring behind. It may be shorter than all that is free (a side looks at
   * the others again only when its last look is used up): call slice() again after produce(). What
   * it holds before the program writes is unspecified (the addon: bytes the ring held before; the
   * wasm build: zeros, or what this writer wrote into earlier slices), so produce() only bytes
   * written. */
  slice(): Uint8Array;
  /** slice() once there is room. Never blocks; in the browser the view is derived when the Promise
   * resolves: use it at once. Cancelled by `options.signal`; lets a Node process exit unless
   * `options.ref` (see WaitOptions). */
  sliceAsync(options?: WaitOptions): Promise<Uint8Array>;
  /** The addon in a worker, or the browser's threaded build in a dedicated worker: slice() after
   * blocking the thread until there is room, or until `timeoutMs` passes (then the slice is empty).
   * Throws an Error on the main thread, in worklets and in the single-thread wasm build, which never
   * block (ERR_INVALID_STATE; "omnibuf/wasm" in a Node worker, ERR_FEATURE_UNAVAILABLE_ON_PLATFORM);
   * that Error comes before `timeoutMs` is looked at, so a bad one there is not its RangeError.
   * A Node worker blocked here can still be terminated, and the process can still exit: the
   * call notices within 50 ms and throws as the thread ends. `timeoutMs`: a number of milliseconds,
   * not negative (a RangeError) nor NaN (a TypeError); Infinity, undefined or null: no timeout. */
  sliceSync(timeoutMs?: number): Uint8Array;
  /** Publishes the first `n` bytes of the slice to the readers; RangeError if more bytes than are
   * free. A slice may show fewer than are free: bytes produced past its end are published as the
   * ring's memory holds them, so write every byte produced. */
  produce(n: number): void;
  /** Copies as much of `bytes` as there is room for now and publishes it; returns how many bytes that
   * was (0 when the ring is full). */
  write(bytes: BytesLike): number;
  /** The addon, and the browser's threaded build (the single-thread build throws an Error naming the
   * COOP/COEP headers a page must serve, and "omnibuf/wasm" in Node one with the code
   * ERR_FEATURE_UNAVAILABLE_ON_PLATFORM): moves the writer into a handle for another thread; this
   * object cannot be used after. Should the thread that claims it end without freeing it (a Node
   * worker that exits; in the browser, a worker terminated or closed while idle or blocked, seen
   * through Web Locks by the page that made the memory), the stream aborts as for a lost writer. The
   * same holds for a writer a worker made itself, and a reader it added: its end ends them. */
  toHandle(): CircularHandle;
  /** Ends the stream for the readers: they read what was published, then see the end. A writer lost
   * without free() or abort() (garbage-collected, held by a Node worker that exits, or by a browser
   * worker that ends, see toHandle()) aborts the stream instead: it may have stopped half-way. */
  free(): void;
  [Symbol.dispose](): void;
  /** Ends the stream with an error and frees the writer, for a producer that failed: the readers read
   * what was published, and where they would see the end (`null`), their `abortReason` gives
   * `reason`, and their streams (slices(), `for await`, readableStream(), nodeReadable()) error
   * instead of ending. `reason`: a string; an Error, or any object with a string `message`, by that
   * message (the error another ring's stream ended with by that ring's reason, so that a chain of
   * rings joined by streams says why once); "no reason given" without one, or for an empty one
   * (so `abortReason` is never falsy once the writer aborted). Kept as UTF-8: a lone
   * surrogate becomes U+FFFD. Works across threads, as the ring does. TypeError for a reason of
   * another type; Error (ERR_INVALID_STATE) on a writer freed or handed on. */
  abort(reason?: string | Error): void;
  /** A WritableStream of byte chunks (what write() takes: Uint8Array, ArrayBuffer, SharedArrayBuffer,
   * typed arrays, DataView, strings as UTF-8, of any realm): each write resolves once all of it is in
   * the ring, so a slow reader holds the producer back. With no reader, nothing does: each write
   * resolves at once and its bytes are dropped, and a pipe from a source that never waits runs in
   * microtasks alone until it ends (the page or process does nothing else meanwhile). A chunk must
   * keep its memory until then: one
   * detached (transferred) or shrunk while its write waits (in the stream's queue or for room)
   * rejects with a TypeError (ERR_INVALID_STATE) and aborts the writer; one that grows is written
   * as long as it was when it was written to the stream. Closing it
   * frees the writer, which ends the stream for the readers. Aborting it, or a chunk it refuses (a
   * TypeError, ERR_INVALID_ARG_TYPE, which errors the stream), aborts the writer with that reason
   * (see abort()), which errors the readers' streams; a reason abort() would refuse is taken as
   * text (`String(reason)`), and none gives "the writable stream was aborted". Give
   * `pipeTo(dest, { signal })` the same `signal` here: pipeTo aborts its destination only after the
   * write in flight, which may be waiting for room; with the signal that wait ends at once (nothing
   * is left waiting). The stream listens to `signal` from its making until it ends (and before
   * pipeTo() does, so that Node's pipeTo cancels its source on an abort, as Chromium's does): when
   * it aborts, the stream errors with an AbortError and the writer aborts with the signal's reason,
   * at once (a signal aborted already: as the stream is made). So the signal ends the writer
   * whatever pipeTo's `preventAbort` says, and the chunk pipeTo had read from its source but not yet
   * written is lost with it, `preventCancel` or not. Where the destination must outlive the pipe's
   * abort, give the signal to pipeTo only (what becomes of that chunk is then pipeTo's to decide). */
  writableStream(options?: WaitOptions): WritableStream<BytesLike>;
  /** Node entries only (in the browser it throws an Error, ERR_FEATURE_UNAVAILABLE_ON_PLATFORM): the same as a stream.Writable; `end()` frees the writer (an end after the
   * writer was freed or aborted by other means errors instead, ERR_INVALID_STATE). It takes the
   * chunks a Node Writable takes (Buffer, Uint8Array, strings), which must keep their memory as
   * writableStream()'s must. Destroyed before its end (the pipeline fails, or destroy()), it ends its wait
   * for room and aborts the writer with the error (see abort()), so that the readers' streams error
   * too, and the write waiting for room fails with the stream's error, as the writes behind it do.
   * When its `signal` aborts, it is destroyed with an {@link AbortError} and the writer aborts with
   * the signal's reason, as writableStream()'s; a signal aborted already does that at the call, as
   * a Node stream given one is destroyed at once.
   * destroy() without an error leaves the stream not errored, as Writable does: the write waiting
   * for room ends without an error, the writes behind it fail (ERR_STREAM_DESTROYED). */
  nodeWritable(options?: WaitOptions & { highWaterMark?: number | undefined }): import('node:stream').Writable;
}

/** One reader of a byte ring. */
export class CircularReader {
  private constructor();
  /** The addon, and the browser's threaded build (after init(handle) in this thread; the
   * single-thread build throws an Error naming the COOP/COEP headers, and "omnibuf/wasm" in Node one
   * with the code ERR_FEATURE_UNAVAILABLE_ON_PLATFORM): claims a reader moved with
   * toHandle(), in any thread; each handle can be claimed once. */
  static fromHandle(handle: CircularHandle): CircularReader;
  /** The unread bytes as one view, returned at once: empty when there are none yet, `null` once the
   * writer is gone and everything was read. It holds what was published by the call; what comes
   * after, the next slice() shows (after consume(), or again at once). Read it, do not write it. In place (Node) only while this is the ring's
   * only reader; with several readers a copy of its own (see "Views" above). */
  slice(): Uint8Array | null;
  /** slice() once there is data or the end. Never blocks. Cancelled by `options.signal`; lets a Node
   * process exit unless `options.ref` (see WaitOptions). A wait settles after the write that wakes
   * it: in microtasks after it in the addon, in the single-thread wasm build, and in the browser's
   * threaded build for a write made on the reader's own thread; a write made on another thread
   * wakes it in a later task (Atomics.waitAsync). A wait that finds the new bytes consumed by then
   * (another call on this reader ran first: read(), say, right after the write) waits on for more,
   * in every build; a slice it resolved with is detached by a later consume() or read() as any. */
  sliceAsync(options?: WaitOptions): Promise<Uint8Array | null>;
  /** The addon in a worker, or the browser's threaded build in a dedicated worker: slice() after
   * blocking the thread until there is data or the end, or until `timeoutMs` passes (then the slice
   * is empty). Throws an Error on the main thread, in worklets and in the single-thread wasm build.
   * That Error and its code, `timeoutMs`, and a Node worker ended while blocked here, as for
   * CircularWriter.sliceSync(). */
  sliceSync(timeoutMs?: number): Uint8Array | null;
  /** Marks the first `n` bytes of the slice as read; RangeError if more bytes than are unread (a
   * slice may show fewer: those past its end are skipped unseen). */
  consume(n: number): void;
  /** A copy of the unread bytes, `max` at most (all of them without it, or null; any size, in both
   * builds), consumed, at once: memory of its own (a Buffer in the addon), kept as long as wanted:
   * what a Node Readable over the ring pushes. Empty when there are none yet (wait with
   * sliceAsync()), `null` once the writer is gone and everything was read. Detaches the slices
   * handed out before that are in place, as consume() does (a slice that is a copy of its own, see
   * slice(), stays as it is). */
  read(max?: number): PlainBytes | null;
  /** Copies up to `target.byteLength` unread bytes into `target` from its start and consumes them,
   * at once: one copy, and no view made (what the byte ReadableStream reads with). Returns how many: 0 when
   * there are none yet (wait with sliceAsync()) or `target` is empty, -1 once the writer is gone and
   * everything was read. Detaches the slices handed out before that are in place, as read() does.
   * TypeError for a target that is not bytes, and (ERR_INVALID_ARG_VALUE) for one of this reader's
   * own slices, which that detaching would leave empty: nothing is read then, but the slice is
   * detached all the same (the threaded browser build's slices, which nothing detaches, are read
   * into as any memory; so is a slice that is a copy of its own in the addon). */
  readInto(target: ArrayBufferView | ArrayBuffer | SharedArrayBuffer): number;
  /** The addon, and the browser's threaded build (the single-thread build throws an Error naming the
   * COOP/COEP headers, and "omnibuf/wasm" in Node one with the code
   * ERR_FEATURE_UNAVAILABLE_ON_PLATFORM): moves the reader into a handle for another thread. Until claimed, it holds
   * the writer back like any reader. This object cannot be used after. Should the thread that claims
   * it end without freeing it (as for CircularWriter.toHandle()), it stops holding the writer back. */
  toHandle(): CircularHandle;
  /** Stops reading: the reader no longer holds the writer back. */
  free(): void;
  [Symbol.dispose](): void;
  /** Why the writer aborted (CircularWriter.abort(), or a writable stream over it that failed), once
   * it has; null while it writes and after a normal end. Where slice() and read() give null, it tells
   * an aborted stream from a finished one. The stream forms below check it for you: where the
   * writer aborted, they error with an Error (code ECONNABORTED, as a connection the other end gave
   * up; message "the ring's writer aborted: " and the reason) after the last byte, instead of
   * ending. */
  readonly abortReason: string | null;
  /** `for await (const chunk of reader)`: the bytes as copies of at most 64 KiB each, consumed as they
   * are copied (as read() gives them): memory of their own, which the loop may keep. So the reader is
   * a source for anything that takes an async iterable, such as `stream.pipeline(reader, file)` or
   * `Readable.from(reader)`, which keep chunks past the step. Ends when the writer is freed and
   * everything was read (see abortReason for a writer that aborted). The iterator's return() and throw() (as a destroyed `Readable.from(reader)`
   * calls them) end a wait for data under way, whose step then rejects with an AbortError.
   * `stream.pipeline(reader, file, { signal })` cannot reach a wait under way (Node's pipeline never
   * ends an async iterable source), so it settles only once data or the end comes: to abort a pipe
   * from an idle ring at once, give it `reader.nodeReadable({ signal })` or `Readable.from(reader)`
   * (the same holds for the `signal` of a Readable's own helpers, `toArray({ signal })`, `map()` and
   * the like, over an idle `nodeReadable()`: give the signal to nodeReadable()). Unlike slices(), this
   * loop, chunks() and the stream forms let the event loop turn only when they wait: with the
   * producer on the same thread and the ring never empty, timers wait for the loop, as in a Node
   * pipeline of in-memory streams.
   * For a loop without copies, use slices(); for a wait's options (a `signal`, or `ref` in a Node
   * worker), chunks(). */
  [Symbol.asyncIterator](): AsyncIterableIterator<PlainBytes>;
  /** The same copies as `for await (const chunk of reader)`, with a wait's options: a step after
   * `signal` aborted, or one waiting for data when it aborts, rejects with an {@link AbortError};
   * `ref` keeps a Node thread alive while a step waits (see WaitOptions). */
  chunks(options?: WaitOptions): AsyncIterableIterator<PlainBytes>;
  /** `for await (const slice of reader.slices())`: the slices in place, without a copy; each one is
   * consumed when the loop asks for the next (or leaves), so use it inside its step only (do not hand
   * it to a stream or keep it: then it is detached, or, where it is a copy (in the addon with several
   * readers, see "Views" above), it keeps the bytes it showed, and in the threaded browser build it
   * shows other bytes). A step whose body consumes or reads from the reader itself (consume(),
   * read(), readInto()) takes the slice's bytes over: the loop then consumes none of them, and its
   * next step starts where the body left off, in every build. Ends
   * when the writer is freed and everything was read (see abortReason). Steps run in turn, as an async generator's. A
   * loop that frees the reader may still leave (break). A step after `signal` aborted, or a wait it
   * ends, rejects with an AbortError; return() and throw() end a wait under way too. The loop
   * listens to `signal` from its first step until it ends. In Node the loop lets the event loop turn
   * every 256 steps: with a producer on its own thread, whose waits and the loop's settle each other
   * in microtasks, timers and I/O would otherwise wait for the whole stream, and so would Node's
   * release of each slice's bookkeeping (see "Views" above). */
  slices(options?: WaitOptions): AsyncIterableIterator<Uint8Array>;
  /** The bytes as a byte ReadableStream: each read copies out of the ring once, straight into the
   * reader's buffer for BYOB reads. The stream owns the reader: it frees the reader at its end (the
   * ring's stream ended, or errored) and when cancelled, which also ends a pending wait for data
   * (cancel one you stop reading: see WaitOptions).
   * Of the options, `ref` applies; `signal` is checked (a TypeError if not an AbortSignal) but not
   * followed: cancel() is this stream's signal. Where the writer aborted, the stream errors after
   * the last byte, with two exceptions the Streams standard makes for every byte stream: a BYOB
   * read into a view of elements wider than a byte (or with `min`) holds the bytes short of a whole
   * read, which go with the error; and a `Response` over the stream reports the error as its own
   * (Chromium: a TypeError, "Failed to fetch"). The first holds at a normal end too: a stream whose
   * length is no multiple of such a view's element size ends in a TypeError ("Cannot close while
   * responding", Chromium), the last bytes with it; read such streams with a Uint8Array. As a
   * source of Node's `stream.pipeline(stream, dest, { signal })`, it is not cancelled when `signal`
   * aborts while `dest` has room (Node's pipeline, any web ReadableStream; Node 18 to 26): the pipe
   * settles once data or the end comes; give a Node pipe `nodeReadable({ signal })`, and a web pipe
   * `pipeTo(dest, { signal })`. */
  readableStream(options?: WaitOptions): ReadableStream<PlainBytes>;
  /** Node entries only (in the browser it throws an Error, ERR_FEATURE_UNAVAILABLE_ON_PLATFORM): the bytes as a stream.Readable of Buffers (copies of the ring's slices, as a
   * Readable keeps its chunks). It owns the reader, ends when the writer is freed, and is destroyed
   * with an AbortError when `signal` aborts (or destroyed otherwise), which ends its wait for data.
   * Where the writer aborted, it ends as at a normal end (every byte, a short last read(n), a
   * decoder's last characters) but errors where it would emit 'end', and never ends (readableEnded
   * stays false). So a consumer that finishes at 'end' does not (readline keeps a last line without
   * a line feed), and, like any source error, the error tears a pipeline down at once, a stage still
   * busy with the last chunk too; `pipeline(reader, ...)` (the reader's own async iterator) raises
   * it only when the next chunk is asked for. `highWaterMark` (default 65536) is checked as Readable
   * checks it, with its error (a TypeError, ERR_INVALID_ARG_VALUE), null too, which Readable would
   * take for its default; the same holds for nodeWritable()'s. Each chunk is memory of its own
   * until the collector takes it, as any copying stream's: the ring bounds what is held, but a
   * process's resident memory also counts spent chunks not yet collected. V8 collects them by its
   * own pacing, after some tens of MiB on Node 18 and 24 (`js/bench/streams.mjs` shows the peak
   * beside PassThrough's). */
  nodeReadable(options?: WaitOptions & { highWaterMark?: number | undefined }): import('node:stream').Readable;
}

/** Browser entry: loads the wasm module, which every other call needs (before it has settled, a
 * constructor or static member throws an Error with code ERR_INVALID_STATE that says to await
 * init(); those that return a Promise reject with it). `input` is where it comes
 * from: a URL (string or URL) of omnibuf_bg.wasm (exported as "omnibuf/omnibuf_bg.wasm" for
 * bundlers), a Response or a Promise of one (from fetch()), the module's bytes, or a compiled
 * WebAssembly.Module; without it (or with null), the .wasm file beside the entry is fetched. Calling it
 * again returns the same Promise; after a failure (an Error saying why) the next call tries again,
 * except after a module that is not omnibuf's was instantiated: the page keeps it, and every later
 * call rejects saying to load the page again. On a cross-origin
 * isolated page the threaded build's module is loaded too, from omnibuf_threads_bg.wasm beside the
 * entry's glue (beside the bundle where a bundler does not emit it; exported as
 * "omnibuf/omnibuf_threads_bg.wasm"). A ring's handle must be a thread's first init(): given
 * after an init() without one (or with a handle of another wasm memory), it rejects with an Error
 * with code ERR_INVALID_STATE, as it does where the page is not cross-origin isolated. Node's entries
 * have nothing to load: it resolves at once, so that code written for every entry runs there too. */
export function init(
  input?: string | URL | Response | Promise<Response> | BufferSource | WebAssembly.Module | CircularHandle,
): Promise<void>;

/** Browser entries: init(handle) at once, for a thread that received a ring's handle and cannot wait
 * (an AudioWorklet's constructor; there, import "omnibuf/worklet"). The threaded build only; it throws
 * the Errors init(handle) rejects with, and a TypeError (ERR_INVALID_ARG_TYPE) for what is no handle.
 * Node's entries: does nothing (an addon handle needs no loading). */
export function initSync(handle: CircularHandle): void;

/** Options of VirtualBuffer.open() and VirtualBuffer.import(). Sizes are in bytes. An option one
 * build has no use for ("Node addon only", "Browser only") is still checked by it, as the other
 * build checks it, then ignored: a call one build refuses, the other refuses too. */
export interface VirtualBufferOpenOptions {
  /** Node addon only. How the file is read. "positional" (the default) reads with positional reads: a file another
   * program truncates gives an Error, never a crash; one it rewrites in place gives what the reads
   * find, the blocks cached before beside bytes read after (check it with save(), which refuses a
   * changed file, or open it again). "mapped" memory-maps it: reads of unedited text
   * skip the block cache (read() still returns a copy of its own: see the conventions above), but a
   * truncation underneath kills the process (SIGBUS); use it only for files nobody else changes while
   * they are open. */
  backend?: 'positional' | 'mapped' | undefined;
  /** Size of a cache block (default 64 KiB; 1 to 4294967295, a RangeError otherwise). In the
   * browser, the size of the blocks import() stores; open() uses the document's own. */
  blockSize?: number | undefined;
  /** Most bytes of file blocks kept in memory (default 64 MiB), apart from what the last read
   * loaded, which stays even when the budget is smaller: of a file, one block; of the wasm build's
   * IndexedDB documents, every block the read loaded. A read needing more than the budget still gets
   * its bytes, and reads running together keep what each needs until it has it (IndexedDB
   * documents), so the cache may hold more while they run. */
  cacheBudget?: number | undefined;
  /** Node addon only: most bytes of inserted text kept only in memory before the oldest go to an
   * unnamed side file (default 16 MiB), apart from the block still being filled (up to blockSize
   * more). */
  spillThreshold?: number | undefined;
  /** Most edits kept for undo (default 100,000; 0 turns undo off). */
  undoLimit?: number | undefined;
  /** Cancels the open (see VirtualBuffer's signals). */
  signal?: AbortSignal | undefined;
  /** Browser only: where the document lives (see VirtualBufferStore). */
  store?: VirtualBufferStore | undefined;
}

/** Browser only: the document store of a VirtualBuffer call.
 * - 'indexeddb' (the default of VirtualBuffer's own calls): IndexedDB, on the page and in any worker,
 *   so a name names the same document wherever it is opened.
 * - 'opfs': the Origin Private File System, read and written through sync access handles, which exist
 *   only in dedicated workers: elsewhere open() and import() reject with an Error saying so, before
 *   they look for the document. list(), exportDocument() and deleteDocument() need no handle and
 *   work on the page too (a delete still respects the locks below). Faster than
 *   IndexedDB for big documents (`npm run bench:opfs`). A document open in one worker is locked:
 *   opening, saving over or deleting it in another worker or tab rejects with an Error saying it is
 *   "open in another worker or tab" until it is freed there; deleting it in the worker that has it
 *   open rejects too ("open in this worker"), where IndexedDB lets its open buffers read on. list()
 *   and exportDocument() take no lock: they see documents open anywhere. In an off-the-record (incognito) window
 *   Chromium keeps OPFS in memory, where a file stops at 2 GiB: a bigger import or save rejects with
 *   an Error and changes nothing.
 * - 'auto' (the default of openDocumentWorker()): 'opfs' where sync access handles exist, else
 *   'indexeddb'.
 * Names of OPFS documents: 1 to 200 bytes, no '/', '\\' or NUL, not '.' or '..' (a TypeError with code
 * ERR_INVALID_ARG_VALUE otherwise). An unknown store is a TypeError with code ERR_INVALID_ARG_VALUE. */
export type VirtualBufferStore = 'indexeddb' | 'opfs' | 'auto';

/** Browser only: options of VirtualBuffer.list(), deleteDocument() and exportDocument(). */
export interface VirtualBufferStoreOptions {
  store?: VirtualBufferStore | undefined;
  /** Cancels the call (see VirtualBuffer's signals). */
  signal?: AbortSignal | undefined;
}

/** A stored document, as VirtualBuffer.list() gives it (browser). */
export interface VirtualBufferDocument {
  name: string;
  /** Length in bytes. */
  length: number;
}

export interface VirtualBufferSaveOptions {
  /** Overwrite the file (in the browser: the document) even if it changed since it was opened or
   * last saved (in the browser: another tab or buffer saved it). The unedited parts are read from the
   * file the buffer opened, which a replacement (a new file renamed over it, as editors save) leaves
   * as it was. A file changed in place (the same file, its size or modification time moved; a mere
   * touch looks the same) may have lost any of the bytes the buffer would copy from it (saves copy
   * unedited parts from the file, not from what the buffer has read): a save that would copy any
   * unedited part, forced or not, or to another path with saveAs(), rejects, changing nothing. A
   * change is seen by the file's identity, size and modification time, so only as finely as the file
   * system keeps times: a rewrite in place that keeps the size within one tick of its clock (ramfs;
   * ext4 before Linux 6.13, whose times move once per timer tick; many network file systems) goes
   * unseen, as a touch that sets the old time does. Forced, a save writes where the path leads
   * now: a path replaced by a symbolic link to another file replaces that file. */
  force?: boolean | undefined;
  /** Keeps the save from starting when aborted already; a save under way is not stopped. */
  signal?: AbortSignal | undefined;
}

/**
 * A byte buffer for editing files larger than memory: opening reads nothing, edits are recorded as
 * pieces, reads load only what they touch through a bounded cache, and save() writes the result
 * atomically (a new file renamed over the old one: on Unix with its mode, owner and group as far as
 * the saver may keep them, and on Linux its access ACL; on Windows the new file takes its
 * directory's inherited rights, so an ACL set on the file alone is not kept).
 *
 * In the browser the content lives in IndexedDB or OPFS instead of a file (`options.store`). In
 * IndexedDB a document is fixed-size blocks
 * plus one metadata record. open(name) reads only the record; reads load the blocks they need; save()
 * writes the blocks that changed and commits the new record with the last of them in one transaction,
 * so after a crash or a closed tab the document is the old or the new version, never a mix. Writers
 * of one document take turns across tabs and workers (the Web Lock `omnibuf:indexeddb:<name>`): an
 * import, save or deleteDocument (or an open that deletes blocks old versions left) waits for one
 * running elsewhere. Blocks a save replaced are deleted by that save, but for those a buffer of the
 * origin may still read, which a later save or open deletes once none does: while any buffer reads
 * a version older than the save (its undo history counts; free() buffers you are done with), every
 * block replaced since that version stays. Those of a save that never committed (its tab closed
 * mid-save) go at the next save or open. Tabs see what each other's buffers read through Web Locks:
 * in a browser without them (before 2022), a save or open may delete blocks a buffer of another tab
 * still reads, whose reads then fail. find()
 * and the line queries scan a window of 4 MiB at a time, so memory stays bounded by the cache budget.
 * In OPFS (dedicated workers only) a document is one file per version plus a header of two
 * checksummed records: reads go straight to the file; save() and import() write the new version to a
 * new file, flush it, then switch the header to it, so a crash or a terminated worker leaves the old
 * version, and the next open deletes the files such a save left. Offsets go past 4 GiB.
 *
 * Offsets and line numbers are integers (TypeError otherwise) from 0 up to the length, or the last
 * line (RangeError beyond, and for anything above Number.MAX_SAFE_INTEGER). Edits are synchronous.
 * Everything that may touch the disk (or IndexedDB) returns a Promise, which rejects (never throws)
 * on bad arguments too; in Node it runs on the libuv thread pool. It sees the content as it is when
 * the work runs, so an edit made before the Promise settles may or may not be in its result (the
 * wasm build loads what it reads first, and loads again when an edit or save came meanwhile; after
 * a hundred such loads in a row it rejects with an Error saying the content kept changing).
 *
 * Every Promise method takes an AbortSignal (`options.signal`, or a last `options` argument). When
 * it aborts, a read (open, read, find, the line queries, list, exportDocument) rejects at once
 * with an AbortError. Work not started yet is cancelled natively and never runs: in Node, work still
 * waiting in the libuv thread pool's queue leaves it; in the wasm build, work not yet begun (it begins
 * in a microtask after the call) is dropped. Work already under way (a disk read on a pool thread,
 * IndexedDB requests sent) cannot be stopped: it finishes in the background and what it gives is
 * freed. A change never rejects with an AbortError once it has started, so that an AbortError never
 * stands for a change that happened: an import rejects only when it is cancelled before it started
 * (in the same way), and runs to its end otherwise; save, saveAs and deleteDocument only refuse to
 * start when the signal is already aborted. */
export class VirtualBuffer {
  private constructor();
  /** Opens the file at `path` (in the wasm build: the stored document of that name) without reading
   * it. In the addon `path` may also be a `file:` URL, as fs takes one (saveAs() too). Rejects with
   * an Error naming it when it cannot be opened, a TypeError or RangeError for bad options, and a
   * RangeError for a file longer than Number.MAX_SAFE_INTEGER bytes (8 PiB), whose length and
   * offsets JS numbers could not count exactly. On Windows a path goes to the system as Node's fs
   * passes it there: made absolute and given the `\\?\` prefix (path.toNamespacedPath), so a name
   * ending in a dot or a space, or a device's name such as `NUL`, is the file fs finds, and errors
   * name that full path. saveAs() takes its path in the same way, so there a trailing separator is
   * dropped as path.resolve() drops it (`saveAs('dir\\new\\')` writes the file `new`), where other
   * systems refuse such a path with EISDIR. Under Node's permission model (`--permission`), the
   * addon loads only with `--allow-addons` (the import throws an Error with code
   * ERR_DLOPEN_DISABLED otherwise), and open() needs fs's read access to the file, save() and
   * saveAs() its write access to the file and its directory (where a save writes the new version
   * first): refused, they reject with the error fs gives (code ERR_ACCESS_DENIED, with `permission`
   * and `resource`). A save() called while a saveAs() runs is checked for the file the buffer had
   * at the call. */
  static open(path: string | URL, options?: VirtualBufferOpenOptions): Promise<VirtualBuffer>;
  /** Browser only: stores `source` as document `name` (replacing one of that name atomically) and
   * opens it. A File or Blob is read a few MiB at a time, never whole; bytes and text too, from a
   * Blob of them made at the call (wasm memory never holds all of them). Rejects with a TypeError for a
   * source of another type, and with an Error whose name is "QuotaExceededError" when the storage
   * is full (nothing is changed then). */
  static import(name: string, source: Blob | BytesLike, options?: VirtualBufferOpenOptions): Promise<VirtualBuffer>;
  /** Browser only: the stored documents, by name. */
  static list(options?: VirtualBufferStoreOptions): Promise<VirtualBufferDocument[]>;
  /** Browser only: deletes a stored document and its blocks (nothing happens if there is none).
   * A buffer of it that is still open (in any tab) reads on: the blocks it may read stay, out of
   * sight of open() and list(), until it is freed. */
  static deleteDocument(name: string, options?: VirtualBufferStoreOptions): Promise<void>;
  /** Browser only: a stored document as a Blob, e.g. for a download. */
  static exportDocument(name: string, options?: VirtualBufferStoreOptions): Promise<Blob>;
  /** A buffer over a copy of `bytes`, in memory; saveAs() gives it a file. */
  static fromBytes(bytes: BytesLike): VirtualBuffer;
  readonly length: number;
  /** Whether the content is not the one opened or last saved: there are edits since, and undo() or
   * redo() has not come back to that content (an edit that restores the bytes still counts). */
  readonly isModified: boolean;
  /** Browser only: the document saves go to, or null for a buffer from fromBytes() not saved yet. */
  readonly name?: string | null;
  /** Browser only: where the document lives ('indexeddb' also for a buffer from fromBytes()). */
  readonly store?: 'indexeddb' | 'opfs';
  /** Inserts a copy of `bytes` at `offset`. Throws a RangeError, changing nothing, for an offset past
   * the length or an edit (this or replace()) that would make the content longer than
   * Number.MAX_SAFE_INTEGER bytes. */
  insert(offset: number, bytes: BytesLike): void;
  /** Deletes bytes start..end. */
  delete(start: number, end: number): void;
  /** Replaces bytes start..end by a copy of `bytes`, as one undoable edit. */
  replace(start: number, end: number, bytes: BytesLike): void;
  /** Bytes start..end (end left out: the length when the work runs, which sees the content as it
   * is then, so an edit made after the call may lengthen or shorten what it reads). In Node a copy
   * of its own (see "Views" above); in the wasm build, where the range lies in one chunk (a cache
   * block, inserted text) the result shares that memory inside wasm, and is a copy otherwise (its
   * views are copies either way). RangeError when the copy cannot be allocated. */
  read(start: number, end?: number, options?: { signal?: AbortSignal | undefined }): Promise<ZeroCopyBuffer>;
  /** Browser only, OPFS documents in the dedicated worker that holds them: copies `target.length`
   * bytes from `start` into `target` at once (no Promise, no object) and returns how many; the fast
   * path for many small reads. RangeError past the end; any other document throws an Error (use
   * read()). */
  readInto(start: number, target: Uint8Array): number;
  /** Offset of the first occurrence of `pattern` lying wholly inside start..end (default: the whole
   * buffer, as it is when the work runs; `start` and `end` undefined or null are the defaults, as for
   * read()), or null. An empty
   * pattern matches at `start`. */
  find(pattern: BytesLike, start?: number, end?: number, options?: { signal?: AbortSignal | undefined }): Promise<number | null>;
  /** Line feeds plus one. The first line query scans the content once; later ones are quick (in the
   * wasm build's IndexedDB documents, until the next edit: the first query after one scans again). */
  lineCount(options?: { signal?: AbortSignal | undefined }): Promise<number>;
  /** Offset where line `line` (0-based) starts; RangeError past the last line. */
  lineToOffset(line: number, options?: { signal?: AbortSignal | undefined }): Promise<number>;
  /** The line (0-based) that holds `offset`. */
  offsetToLine(offset: number, options?: { signal?: AbortSignal | undefined }): Promise<number>;
  /** Undoes the last edit; false when there is nothing to undo. */
  undo(): boolean;
  /** Redoes the last undone edit; false when there is nothing to redo. */
  redo(): boolean;
  /** Saves to the file it came from (a buffer from fromBytes() has none: its content stays in memory;
   * in the wasm build such a save rejects: use saveAs()).
   * Rejects with an Error, changing nothing, if the file changed on disk since it was opened or last
   * saved, unless `options.force`: of two buffers of one file saved at once, one succeeds and the
   * other rejects. A save (or saveAs()) called while another of this buffer runs
   * waits for it to end, then saves to where that one left the buffer. What a save writes is the
   * content as it is when its work starts, so edits made after the call (while an earlier save runs)
   * may be in it; `isModified` says whether the file has them all. The path is followed as the
   * system follows it: a symbolic link there is kept, and the file it points to is replaced. */
  save(options?: VirtualBufferSaveOptions): Promise<void>;
  /** Saves to the file at `path` (in the browser: the document of that name), replacing any there,
   * as save() replaces its own; later saves go there. A buffer open over the file replaced finds it
   * changed: its save() then rejects unless forced. */
  saveAs(path: string | URL, options?: { signal?: AbortSignal | undefined }): Promise<void>;
  /** Releases this handle; work already started finishes. */
  free(): void;
  [Symbol.dispose](): void;
  /** Bytes start..end as copies of at most 64 KiB each, read one after the other as the loop asks;
   * each read sees the content as it is then. Without `end` (undefined or null, as read() takes it)
   * the walk goes on to the end of the document as it is at each step, so edits made during the loop
   * move its end; with one, a step past the document's length then rejects with a RangeError. A range
   * read() would refuse rejects (with read()'s error) before anything is yielded, as do lines(),
   * readableStream() and nodeReadable() for theirs; options of the wrong type (and a receiver of
   * another class) throw at the call, as for every walk and stream form. A step after `signal`
   * aborted rejects with an AbortError, the last one too, as does one whose read is under way when
   * it aborts (the read finishes in the background, and is dropped). The walk lets the event loop
   * turn between reads (lines() also every 1024 lines), so timers and a signal's timeout come in
   * even where reads are served from memory. */
  chunks(start?: number, end?: number, options?: { signal?: AbortSignal | undefined }): AsyncIterableIterator<PlainBytes>;
  /** The lines from offset `start`, decoded as UTF-8, without their LF (nor a CR before it; a CR
   * elsewhere is content, where Node's readline would end a line there: lines() ends lines where the
   * line queries count them). As Node's readline, an LF at the very end ends the last line and
   * starts none: "a\nb\n" yields "a" and "b", an empty document nothing (lineCount(), which counts
   * line feeds plus one, says 3 and 1). A U+FEFF (a byte order mark) is content, kept wherever it
   * is, as read() gives it. Bytes that are not UTF-8 (and a `start` inside a character) come out
   * as U+FFFD, as TextDecoder gives them. Like chunks(), it reads 64 KiB at a time by offset, each
   * read seeing the content as it is then: an edit made during the loop before the bytes it has
   * read shifts what it reads next, so lines come twice or not at all. Walk one version by making
   * no edit until the loop ends. A step after `signal` aborted rejects with an AbortError. A line
   * longer than 2 ** 29 - 24 characters (V8's longest string) fails its step with an Error,
   * code ERR_STRING_TOO_LONG, once the walk has read that much of it, never holding more. */
  lines(start?: number, options?: { signal?: AbortSignal | undefined }): AsyncIterableIterator<string>;
  /** Bytes start..end as a byte ReadableStream (so `new Response(stream)` and `pipeTo` work). A
   * range read() would refuse errors the stream with read()'s error at its first read; a Response
   * over it reports that as an error of its own (Chromium: a TypeError, "Failed to fetch"). As for
   * a reader's readableStream(), a BYOB read into a view of elements wider than a byte cannot take
   * a range whose length is no multiple of their size: the stream ends in a TypeError ("Cannot close
   * while responding", Chromium), the last bytes with it; read such ranges with a Uint8Array. */
  readableStream(start?: number, end?: number): ReadableStream<PlainBytes>;
  /** Node entries only (in the browser it throws an Error, ERR_FEATURE_UNAVAILABLE_ON_PLATFORM): bytes start..end as a stream.Readable, which reads a chunk of 64 KiB ahead
   * (its highWaterMark), as fs.createReadStream() does; destroyed part-way, it closes without 'end'
   * (finished() rejects with ERR_STREAM_PREMATURE_CLOSE), as that does too. Node's streams (18 to
   * 24) have one gap, which this one and a ring reader's nodeReadable() share with any Readable: one
   * destroyed without an error after it gave its last chunk, but before 'end' (its destination slow
   * to take that chunk), counts as finished, and a pipeline() from it never settles. Stop a pipeline
   * with its `signal`, or destroy the stream with an error. */
  nodeReadable(start?: number, end?: number, options?: { signal?: AbortSignal | undefined }): import('node:stream').Readable;
}

/** Test hooks, not API (they may change without notice): how many waits (sliceAsync, acquire, the
 * walks' and streams' waits) are pending natively or in wasm, which an abort or a free() must bring
 * back down; and `[pending, started]`, the VirtualBuffer work not yet settled and how much has begun
 * (work cancelled before it began never does). The test suite checks with them that nothing is left
 * waiting. */
export function __pendingWaits(): number;
export function __workCounts(): [number, number];
