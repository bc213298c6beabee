// The addon's ZeroCopyBuffer: a JS class over the native storage (node/src/buffer.rs,
// `ZeroCopyStorage`), so that the calls made once per buffer never cross into native code.
//
// Why: a native object per slice costs Node-API's price for an object that wraps native memory
// (napi_new_instance, napi_wrap, a type tag, a weak handle and a finalizer per object) plus a
// Node-API call for every member: about two microseconds per slice() + free(), against well under a
// hundred nanoseconds for Buffer.subarray (docs/performance.md, "Where the addon's per-call
// time went").
//
// How: a ZeroCopyBuffer is a range (start..end) of a *storage*: the native object holding all the
// bytes it was made from, with a count of the JS ZeroCopyBuffers sharing it that were not freed.
// slice(), splitTo() and splitOff() make a new JS object over the same storage (count + 1); free()
// counts it down, and the last free() frees the native storage at once (so pooled memory goes back to
// its pool then). A storage whose sharers are dropped without free() needs nothing from this module:
// once no JS object references it, the native object's own finalizer releases the bytes.
//
// The members that need the bytes call the storage with the range: view(), bytes(), sha256(),
// equals(). Each view belongs to the JS object that made it (by a group number the storage files it
// under), so free() of one sharer detaches its views and nobody else's. Everything that makes a
// ZeroCopyBuffer natively (ZeroCopyBuffer.from, BufferMut.freeze, PooledBuffer.freeze,
// VirtualBuffer.read, withTenant, retag) returns a storage, which `wrap` makes a ZeroCopyBuffer of.
//
// Small buffers (up to 4 KiB) made by ZeroCopyBuffer.from() keep their bytes in JS, in a Uint8Array
// copied here, until a member needs a native storage: view(), withTenant() and retag() move them into
// one then (once per storage; the JS copy is let go). Why: Node-API frees what it keeps for a native
// object only in a task after the garbage collector found it, never during a synchronous loop, so a
// million ZeroCopyBuffer.from(64 bytes).free() in one loop held hundreds of MiB until the loop ended
// (issue 12). A Uint8Array's memory is the collector's own. length, kind, tenant, sharers, slice(),
// bytes(), sha256() and equals() of such a buffer never leave JS. Whatever this module cannot take
// with certainty (an unusual argument, a kind it has not seen registered) goes to the native
// ZeroCopyStorage.from(), whose checks and errors are the API's.
//
// Repeated view() calls of one object share one native view: it keeps its last view (over all of its
// bytes, while they are in place) and hands out new Buffers over that view's memory. Why: Node frees
// what it keeps for each Buffer over native memory only in a task after the Buffer is gone (never
// during a synchronous loop), so a million view() calls in one loop held hundreds of MiB until it
// ended. The view is let go when the object's range changes (splitTo, splitOff) or it is freed (which
// detaches it, and so every Buffer handed out over it). Views that are copies (external buffers not
// allowed) are not kept: a copy is the caller's own.
//
// Arguments are checked here only as far as telling the usual case apart costs nothing (an integer
// in range); anything else goes to the addon's __checkIndex, and every error is made by the binding
// core's one table (__bindingError, __outOfBounds: src/binding/message.rs), so this file words none.
// A receiver of another class gets a TypeError; a freed object gives its Error before any of its
// arguments is looked at, as in the wasm build (whose guard checks that before the call).
import { createHash } from 'node:crypto';
import { types } from 'node:util';

/** The numbers of the binding core's table (src/binding/message.rs, by_number). */
const WRONG_RECEIVER = 0;
const USED_UP = 1;
const NOT_INSTANCE = 2;
const NO_CONSTRUCTOR = 3;

/** Bytes up to this many stay in JS. */
const SMALL_BUFFER = 4096;

// The engine's own accessors, so that an argument's own properties cannot change what is copied.
const getter = (prototype, name) => Object.getOwnPropertyDescriptor(prototype, name).get;
const TypedArrayPrototype = Object.getPrototypeOf(Uint8Array.prototype);
const typedArrayBuffer = getter(TypedArrayPrototype, 'buffer');
const typedArrayOffset = getter(TypedArrayPrototype, 'byteOffset');
const typedArrayLength = getter(TypedArrayPrototype, 'byteLength');
const dataViewBuffer = getter(DataView.prototype, 'buffer');
const dataViewOffset = getter(DataView.prototype, 'byteOffset');
const dataViewLength = getter(DataView.prototype, 'byteLength');
const arrayBufferLength = getter(ArrayBuffer.prototype, 'byteLength');
const encoder = new TextEncoder();

/** `length` bytes of `buffer` from `offset`, copied into a new Uint8Array. */
function copyOf(buffer, offset, length) {
  const copy = new Uint8Array(length);
  if (length > 0) copy.set(new Uint8Array(buffer, offset, length));
  return copy;
}

/**
 * A copy of `bytes` as ZeroCopyStorage.from() would take it (a string as UTF-8, a typed array's or
 * DataView's bytes, an ArrayBuffer's; a detached one empty), if it is a plain ArrayBuffer, view of one,
 * or string of at most SMALL_BUFFER bytes; else null, and the native from() decides.
 */
function smallCopy(bytes) {
  try {
    let copy = null;
    if (typeof bytes === 'string') {
      // Its UTF-8 form is never shorter than its UTF-16 length. Lone surrogates become U+FFFD, as in
      // the native conversion.
      if (bytes.length <= SMALL_BUFFER) copy = encoder.encode(bytes);
    } else if (types.isArrayBuffer(bytes)) {
      const length = arrayBufferLength.call(bytes); // 0 once detached
      if (length <= SMALL_BUFFER) copy = copyOf(bytes, 0, length);
    } else if (ArrayBuffer.isView(bytes)) {
      const dataView = types.isDataView(bytes);
      const buffer = (dataView ? dataViewBuffer : typedArrayBuffer).call(bytes);
      // A view of a detached buffer holds nothing (and a DataView's accessors throw for it).
      if (!types.isArrayBuffer(buffer)) return null; // a SharedArrayBuffer: the native from() decides
      if (arrayBufferLength.call(buffer) === 0) return new Uint8Array(0);
      const length = (dataView ? dataViewLength : typedArrayLength).call(bytes);
      const offset = (dataView ? dataViewOffset : typedArrayOffset).call(bytes);
      if (length <= SMALL_BUFFER) copy = copyOf(buffer, offset, length);
    }
    return copy !== null && copy.length <= SMALL_BUFFER ? copy : null;
  } catch {
    return null; // something unusual: the native from() decides
  }
}

/** Kind names known to be registered: the registry never forgets one. */
const knownKinds = new Set(['raw', 'text']);

/** Lets only this module call the constructor. */
const MAKE = Symbol('ZeroCopyBuffer');

/** The number of the next JS object to ask for a view (0 means "none asked yet"). */
let nextGroup = 1;

/**
 * The addon's ZeroCopyBuffer class, over the addon's ZeroCopyStorage (with BufferKind to know a kind's
 * name, and the binding core's checks and errors), and `wrap`, which makes a ZeroCopyBuffer of a
 * whole native storage.
 */
export function defineZeroCopyBuffer(addon) {
  const { ZeroCopyStorage: Storage, BufferKind, __bindingError: bindingError, __checkIndex: checkIndex } = addon;
  const outOfBounds = addon.__outOfBounds;
  /** Whether views are over native memory (else copies, which are not kept). */
  const keepViews = addon.externalBuffers();

  /** A byte offset: an integer in 0 ..= Number.MAX_SAFE_INTEGER, else the core's error. */
  const index = (value, what) => (Number.isSafeInteger(value) && value >= 0 ? value : checkIndex(value, what));
  const freed = () => bindingError(USED_UP, 'ZeroCopyBuffer', 'freed');
  const notA = (member) => bindingError(WRONG_RECEIVER, 'ZeroCopyBuffer', member);

  /** What `sharers` counts across the storages made from one another (withTenant() and retag()
   * make a native storage of their own over the same bytes): `objects`, their JS ZeroCopyBuffers
   * not freed, and `storages`, their native storages not freed, each of which the native count of
   * sharers holds once. A storage's record collected with objects never freed takes those out
   * (`gone`), as the wasm build's objects leave its count when their finalizer runs. */
  class Family {
    objects = 0;
    storages = 0;
  }
  const gone = new FinalizationRegistry(({ family, own }) => {
    family.objects -= own.objects;
    if (own.storage) family.storages--;
  });

  /** A storage and the count of the JS objects sharing it that were not freed. The storage is native
   * (`native`), or, for a small buffer until it needs a native one, a Uint8Array (`bytes`) and the
   * name of its kind. A storage made from another, and the other, belong to a Family (`family`,
   * null for most storages, which are alone: joining costs a registration). */
  class Shared {
    constructor(native, bytes = null, kind = null) {
      this.native = native;
      this.bytes = bytes;
      this.kind = kind;
      this.count = 0;
      this.family = null;
      /** This record's part of the family's counts (held by the registry, which cannot hold this). */
      this.own = null;
    }

    /** Joins `family` with the objects and the storage this record has. */
    join(family) {
      this.family = family;
      this.own = { objects: this.count, storage: this.native !== null };
      family.objects += this.count;
      if (this.own.storage) family.storages++;
      gone.register(this, { family, own: this.own });
    }

    /** One more JS object over this storage. */
    add() {
      this.count++;
      if (this.family !== null) {
        this.own.objects++;
        this.family.objects++;
      }
    }

    /** One JS object less over this storage, freed: the last one frees the storage (true). */
    remove() {
      this.count--;
      if (this.family !== null) {
        this.own.objects--;
        this.family.objects--;
      }
      if (this.count > 0) return false;
      if (this.native !== null) {
        this.native.free();
        if (this.family !== null) {
          this.own.storage = false;
          this.family.storages--;
        }
      }
      this.bytes = null;
      return true;
    }

    /** How many objects share the bytes: see ZeroCopyBuffer's `sharers`. */
    sharers() {
      if (this.native === null) return this.count;
      if (this.family === null) return this.count + this.native.sharers - 1;
      return this.family.objects + this.native.sharers - this.family.storages;
    }

    /** A storage of its own over the same bytes, made by `derive` from this one's native storage,
     * in this one's family. */
    derived(derive) {
      const made = new Shared(derive(this.toNative()));
      if (this.family === null) this.join(new Family());
      made.join(this.family);
      return made;
    }

    /** The native storage, made from the JS bytes the first time it is needed (before any family:
     * only a storage that has its native one is derived from). */
    toNative() {
      if (this.native === null) {
        this.native = Storage.from(this.bytes, this.kind);
        this.bytes = null;
      }
      return this.native;
    }

    /** Bytes `start..end`: a view of the JS bytes, or a copy of the native ones. */
    range(start, end) {
      return this.native === null ? this.bytes.subarray(start, end) : this.native.bytes(start, end);
    }
  }

  class ZeroCopyBuffer {
    /** The Shared record, or null once this object is freed. */
    #shared;
    /** This object's bytes within the storage. */
    #start;
    #end;
    /** The number the storage files this object's views under; 0 until it asks for one. */
    #group = 0;
    /** Its last view, over bytes #start..#end, handed out only through new Buffers over its memory;
     * null when there is none to reuse (see the module docs). */
    #view = null;

    /** Not public (index.d.ts): ZeroCopyBuffer.from() and the methods that return one make them. */
    constructor(token, shared, start, end) {
      if (token !== MAKE) throw bindingError(NO_CONSTRUCTOR, 'ZeroCopyBuffer');
      shared.add();
      this.#shared = shared;
      this.#start = start;
      this.#end = end;
    }

    /** Whether `value` is a ZeroCopyBuffer (freed or not). */
    static #is(value) {
      return typeof value === 'object' && value !== null && #shared in value;
    }

    /** The Shared record of `self`: a TypeError for another class, an Error once freed. */
    static #live(self, member) {
      if (!ZeroCopyBuffer.#is(self)) throw notA(member);
      const shared = self.#shared;
      if (shared === null) throw freed();
      return shared;
    }

    /** A new ZeroCopyBuffer over bytes start..end of the storage of `shared`. */
    static #over(shared, start, end) {
      return new ZeroCopyBuffer(MAKE, shared, start, end);
    }

    static from(bytes, kind) {
      // A bare SharedArrayBuffer is bytes, as a view over one is; Node-API reads only the view.
      if (typeof bytes === 'object' && types.isSharedArrayBuffer(bytes)) bytes = new Uint8Array(bytes);
      const defaultKind = kind === undefined || kind === null;
      if (defaultKind || knownKinds.has(kind) || (typeof kind === 'string' && BufferKind.has(kind))) {
        const small = smallCopy(bytes);
        if (small !== null) {
          if (!defaultKind) knownKinds.add(kind);
          const name = defaultKind ? (typeof bytes === 'string' ? 'text' : 'raw') : kind;
          return new ZeroCopyBuffer(MAKE, new Shared(null, small, name), 0, small.length);
        }
      }
      return wrap(Storage.from(bytes, kind));
    }

    get length() {
      ZeroCopyBuffer.#live(this, 'length');
      return this.#end - this.#start;
    }

    get kind() {
      const shared = ZeroCopyBuffer.#live(this, 'kind');
      return shared.native === null ? shared.kind : shared.native.kind;
    }

    get tenant() {
      const shared = ZeroCopyBuffer.#live(this, 'tenant');
      return shared.native === null ? undefined : shared.native.tenant;
    }

    /** The JS sharers not freed of this storage and of those made from one another with it
     * (withTenant(), retag()), plus the native ones other than those storages (each live view, and
     * whatever else holds the bytes: a pool, a virtual buffer). */
    get sharers() {
      return ZeroCopyBuffer.#live(this, 'sharers').sharers();
    }

    withTenant(tenant) {
      return ZeroCopyBuffer.#derived(this, 'withTenant', (storage) => storage.withTenant(tenant));
    }

    retag(kind) {
      return ZeroCopyBuffer.#derived(this, 'retag', (storage) => storage.retag(kind));
    }

    /** The same range of the storage `derive` makes from this one's (withTenant, retag). */
    static #derived(self, member, derive) {
      const shared = ZeroCopyBuffer.#live(self, member);
      return ZeroCopyBuffer.#over(shared.derived(derive), self.#start, self.#end);
    }

    slice(start, end) {
      if (!ZeroCopyBuffer.#is(this)) throw notA('slice');
      const shared = this.#shared;
      if (shared === null) throw freed();
      const from = index(start, 'start');
      const len = this.#end - this.#start;
      // A missing end is undefined or null, as napi-rs reads an optional argument.
      const to = end === undefined || end === null ? len : index(end, 'end');
      if (from > to || to > len) throw outOfBounds(from, to, len);
      return ZeroCopyBuffer.#over(shared, this.#start + from, this.#start + to);
    }

    splitTo(at) {
      if (!ZeroCopyBuffer.#is(this)) throw notA('splitTo');
      const shared = this.#shared;
      if (shared === null) throw freed();
      const n = index(at, 'at');
      const len = this.#end - this.#start;
      if (n > len) throw outOfBounds(0, n, len);
      const head = ZeroCopyBuffer.#over(shared, this.#start, this.#start + n);
      this.#start += n;
      this.#view = null;
      return head;
    }

    splitOff(at) {
      if (!ZeroCopyBuffer.#is(this)) throw notA('splitOff');
      const shared = this.#shared;
      if (shared === null) throw freed();
      const n = index(at, 'at');
      const len = this.#end - this.#start;
      if (n > len) throw outOfBounds(n, len, len);
      const tail = ZeroCopyBuffer.#over(shared, this.#start + n, this.#end);
      this.#end = this.#start + n;
      this.#view = null;
      return tail;
    }

    sha256() {
      const shared = ZeroCopyBuffer.#live(this, 'sha256');
      if (shared.native !== null) return shared.native.sha256(this.#start, this.#end);
      const digest = createHash('sha256').update(shared.bytes.subarray(this.#start, this.#end)).digest();
      return new Uint8Array(digest);
    }

    equals(other) {
      const shared = ZeroCopyBuffer.#live(this, 'equals');
      if (!ZeroCopyBuffer.#is(other)) throw bindingError(NOT_INSTANCE, 'equals', 'other', 'ZeroCopyBuffer', other);
      const theirs = other.#shared;
      if (theirs === null) throw freed();
      if (shared.native !== null && theirs.native !== null) {
        return shared.native.equals(this.#start, this.#end, theirs.native, other.#start, other.#end);
      }
      if (this.#end - this.#start !== other.#end - other.#start) return false;
      const mine = shared.range(this.#start, this.#end);
      return Buffer.compare(mine, theirs.range(other.#start, other.#end)) === 0;
    }

    view() {
      const shared = ZeroCopyBuffer.#live(this, 'view');
      const kept = this.#view;
      // (A view detached natively has length 0: never reused.)
      if (kept !== null && kept.length !== 0) return kept.subarray(0);
      if (this.#group === 0) this.#group = nextGroup++;
      const view = shared.toNative().view(this.#start, this.#end, this.#group);
      if (!keepViews || view.length === 0) return view;
      this.#view = view;
      return view.subarray(0);
    }

    bytes() {
      const shared = ZeroCopyBuffer.#live(this, 'bytes');
      if (shared.native !== null) return shared.native.bytes(this.#start, this.#end);
      return new Uint8Array(shared.bytes.subarray(this.#start, this.#end));
    }

    /** Releases this object now: its views are detached; other objects over the same bytes stay
     * valid, and the last one freed frees the native storage. */
    free() {
      if (!ZeroCopyBuffer.#is(this)) throw notA('free');
      const shared = this.#shared;
      if (shared === null) return;
      this.#shared = null;
      this.#view = null;
      if (!shared.remove() && this.#group !== 0) shared.native?.detachViews(this.#group);
    }
  }

  /** A ZeroCopyBuffer over all of `native` (a ZeroCopyStorage the addon just made). */
  function wrap(native) {
    return new ZeroCopyBuffer(MAKE, new Shared(native), 0, native.length);
  }

  return { ZeroCopyBuffer, wrap };
}
