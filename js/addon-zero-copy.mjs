// The addon's ZeroCopyBuffer: a JS class over the native storage (node/src/buffer.rs,
// `ZeroCopyStorage`), so that the calls made once per buffer never cross into native code.
//
// Why: a native object per slice costs Node-API's price for an object that wraps native memory
// (napi_new_instance, napi_wrap, a type tag, a weak handle and a finalizer per object) plus a
// Node-API call for every member: about two microseconds per slice() + free(), against well under a
// hundred nanoseconds for Buffer.subarray (README.md, "Where the addon's per-call time went").
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
// Arguments are checked here with the checks and messages of node/src/args.rs, in the same order as
// the native methods checked them; receivers of another class get a TypeError.

/** The largest integer a JS number holds exactly (args.rs's MAX_SAFE_INTEGER). */
const MAX_SAFE_INTEGER = 9007199254740991;

/** A number as the binding core writes it in messages (src/binding/number.rs): as JS does. */
const rustNumber = String;

/** args.rs's describe_raw: a value, shortly, for an error message. */
function describe(value) {
  switch (typeof value) {
    case 'undefined':
      return 'undefined';
    case 'boolean':
      return 'a boolean';
    case 'number':
      return rustNumber(value);
    case 'string':
      return 'a string';
    case 'symbol':
      return 'a symbol';
    case 'function':
      return 'a function';
    case 'bigint':
      return 'a bigint';
    default:
      return value === null ? 'null' : 'an object';
  }
}

/** args.rs's index_raw: a byte offset, an integer in 0..=MAX_SAFE_INTEGER. */
function index(value, what) {
  if (typeof value !== 'number') {
    throw new TypeError(`${what} must be an integer, got ${describe(value)}`);
  }
  if (!Number.isInteger(value)) {
    throw new TypeError(`${what} must be an integer, got ${rustNumber(value)}`);
  }
  if (value < 0 || value > MAX_SAFE_INTEGER) {
    throw new RangeError(`${what} must be between 0 and ${MAX_SAFE_INTEGER}, got ${rustNumber(value)}`);
  }
  return value;
}

/** The core's SliceError, as a RangeError. */
const outOfBounds = (start, end, len) =>
  new RangeError(`range ${start}..${end} is out of bounds for a buffer of ${len} bytes`);

const freed = () => new Error('this ZeroCopyBuffer was freed and cannot be used any more');

const notA = (member) =>
  new TypeError(`ZeroCopyBuffer.${member}: called on an object that is not a ZeroCopyBuffer`);

/** Lets only this module call the constructor. */
const MAKE = Symbol('ZeroCopyBuffer');

/** The number of the next JS object to ask for a view (0 means "none asked yet"). */
let nextGroup = 1;

/**
 * The addon's ZeroCopyBuffer class, over `Storage` (the addon's ZeroCopyStorage), and `wrap`, which
 * makes a ZeroCopyBuffer of a whole native storage.
 */
export function defineZeroCopyBuffer(Storage) {
  /** Storage of an empty buffer, to check a freed object's arguments as a live one would. */
  let empty = null;
  const emptyStorage = () => (empty ??= Storage.from(new Uint8Array(0)));

  /** A native storage and the count of the JS objects sharing it that were not freed. */
  class Shared {
    constructor(native) {
      this.native = native;
      this.count = 0;
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

    /** Not public (index.d.ts): ZeroCopyBuffer.from() and the methods that return one make them. */
    constructor(token, shared, start, end) {
      if (token !== MAKE) {
        throw new TypeError('ZeroCopyBuffer has no public constructor: use ZeroCopyBuffer.from()');
      }
      shared.count++;
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
      return wrap(Storage.from(bytes, kind));
    }

    get length() {
      ZeroCopyBuffer.#live(this, 'length');
      return this.#end - this.#start;
    }

    get kind() {
      return ZeroCopyBuffer.#live(this, 'kind').native.kind;
    }

    get tenant() {
      return ZeroCopyBuffer.#live(this, 'tenant').native.tenant;
    }

    /** This storage's JS sharers that were not freed, plus the native ones other than the storage
     * itself (each live view, and whatever else holds the bytes: a pool, a virtual buffer). */
    get sharers() {
      const shared = ZeroCopyBuffer.#live(this, 'sharers');
      return shared.count + shared.native.sharers - 1;
    }

    withTenant(tenant) {
      return ZeroCopyBuffer.#derived(this, 'withTenant', (storage) => storage.withTenant(tenant));
    }

    retag(kind) {
      return ZeroCopyBuffer.#derived(this, 'retag', (storage) => storage.retag(kind));
    }

    /** The same range of the storage `derive` makes from this one's (withTenant, retag). Once freed,
     * `derive` still runs on an empty storage first, so that a bad argument's TypeError comes first. */
    static #derived(self, member, derive) {
      if (!ZeroCopyBuffer.#is(self)) throw notA(member);
      const shared = self.#shared;
      if (shared === null) {
        derive(emptyStorage()).free();
        throw freed();
      }
      return ZeroCopyBuffer.#over(new Shared(derive(shared.native)), self.#start, self.#end);
    }

    slice(start, end) {
      if (!ZeroCopyBuffer.#is(this)) throw notA('slice');
      const from = index(start, 'start');
      const shared = this.#shared;
      if (shared === null) throw freed();
      const len = this.#end - this.#start;
      // A missing end is undefined or null, as napi-rs reads an optional argument.
      const to = end === undefined || end === null ? len : index(end, 'end');
      if (from > to || to > len) throw outOfBounds(from, to, len);
      return ZeroCopyBuffer.#over(shared, this.#start + from, this.#start + to);
    }

    splitTo(at) {
      if (!ZeroCopyBuffer.#is(this)) throw notA('splitTo');
      const n = index(at, 'at');
      const shared = this.#shared;
      if (shared === null) throw freed();
      const len = this.#end - this.#start;
      if (n > len) throw outOfBounds(0, n, len);
      const head = ZeroCopyBuffer.#over(shared, this.#start, this.#start + n);
      this.#start += n;
      return head;
    }

    splitOff(at) {
      if (!ZeroCopyBuffer.#is(this)) throw notA('splitOff');
      const n = index(at, 'at');
      const shared = this.#shared;
      if (shared === null) throw freed();
      const len = this.#end - this.#start;
      if (n > len) throw outOfBounds(n, len, len);
      const tail = ZeroCopyBuffer.#over(shared, this.#start + n, this.#end);
      this.#end = this.#start + n;
      return tail;
    }

    sha256() {
      return ZeroCopyBuffer.#live(this, 'sha256').native.sha256(this.#start, this.#end);
    }

    equals(other) {
      const shared = ZeroCopyBuffer.#live(this, 'equals');
      if (!ZeroCopyBuffer.#is(other)) throw new TypeError('equals: other must be a ZeroCopyBuffer');
      const theirs = other.#shared;
      if (theirs === null) throw freed();
      return shared.native.equals(this.#start, this.#end, theirs.native, other.#start, other.#end);
    }

    view() {
      const shared = ZeroCopyBuffer.#live(this, 'view');
      if (this.#group === 0) this.#group = nextGroup++;
      return shared.native.view(this.#start, this.#end, this.#group);
    }

    bytes() {
      return ZeroCopyBuffer.#live(this, 'bytes').native.bytes(this.#start, this.#end);
    }

    /** Releases this object now: its views are detached; other objects over the same bytes stay
     * valid, and the last one freed frees the native storage. */
    free() {
      if (!ZeroCopyBuffer.#is(this)) throw notA('free');
      const shared = this.#shared;
      if (shared === null) return;
      this.#shared = null;
      if (--shared.count === 0) shared.native.free();
      else if (this.#group !== 0) shared.native.detachViews(this.#group);
    }
  }

  /** A ZeroCopyBuffer over all of `native` (a ZeroCopyStorage the addon just made). */
  function wrap(native) {
    return new ZeroCopyBuffer(MAKE, new Shared(native), 0, native.length);
  }

  return { ZeroCopyBuffer, wrap };
}
