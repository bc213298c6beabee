// The wasm build's JS layer over wasm-bindgen's generated classes: what has to happen in JS before a
// call reaches Rust, and the view rules that need JS objects (see js/index.d.ts, "Views").
//
// - Receivers: a method called with `this` of another class (or an object that wraps no Rust value,
//   such as Object.create(X.prototype)) is a TypeError; the generated glue would use that object's
//   pointer as its own, corrupting wasm memory. Using a freed object is an Error; free() twice does
//   nothing. The messages come from the binding core's one table (src/binding/message.rs), through
//   the wasm export __bindingError, so they read as the Node addon's.
// - Bytes arguments are turned into a fresh Uint8Array (or left a string) here, with the built-in
//   getters of ArrayBuffer, the typed arrays and DataView, never the object's own properties: once a
//   call is in Rust, wasm-bindgen holds a borrow of `this`, and a JS exception thrown through Rust
//   (a detached buffer, a throwing getter, a Proxy) would leave that borrow held for good, the object
//   unusable and a pooled buffer's budget lost. Anything that is not bytes reaches Rust as a value of
//   its type with nothing of the caller's in it, which Rust refuses with the TypeError of the table.
// - Views are never views of wasm memory (any of them reaches all of it, freed and reused memory too,
//   through `.buffer`): Rust returns copies, and the writable ones are written back here:
//   PooledBuffer.view() at the buffer's next call, CircularWriter.slice() by produce().

import { reasonOfError } from './error-code.mjs';

const { apply } = Reflect;
const U8 = Uint8Array;
const TypedArray = Object.getPrototypeOf(Uint8Array);
const getter = (proto, name) => Object.getOwnPropertyDescriptor(proto, name).get;
const typedBuffer = getter(TypedArray.prototype, 'buffer');
const typedOffset = getter(TypedArray.prototype, 'byteOffset');
const typedLength = getter(TypedArray.prototype, 'byteLength');
const dataViewBuffer = getter(DataView.prototype, 'buffer');
const dataViewOffset = getter(DataView.prototype, 'byteOffset');
const dataViewLength = getter(DataView.prototype, 'byteLength');
const arrayBufferLength = getter(ArrayBuffer.prototype, 'byteLength');
const sharedBufferLength =
  typeof SharedArrayBuffer === 'function' ? getter(SharedArrayBuffer.prototype, 'byteLength') : null;
const typedSet = TypedArray.prototype.set;
const typedSubarray = TypedArray.prototype.subarray;
const typedCopyWithin = TypedArray.prototype.copyWithin;
const typedFill = TypedArray.prototype.fill;
const isView = ArrayBuffer.isView;
/** WeakMap's get and set as functions of the map, safe from a program that replaces them. */
const weakMapGet = Function.prototype.call.bind(WeakMap.prototype.get);
const weakMapSet = Function.prototype.call.bind(WeakMap.prototype.set);
const encoder = new TextEncoder();
const encode = TextEncoder.prototype.encode;
const encodeInto = TextEncoder.prototype.encodeInto;
/** Characters past which a string that write() takes is encoded here, only what fits (see fitting):
 * the glue's copy of a string into wasm memory walks it in JS, a character at a time. */
const LONG_STRING = 1 << 10;
const BlobClass = typeof Blob === 'function' ? Blob : null;

/** [buffer, byteOffset, byteLength] of a genuine ArrayBuffer, SharedArrayBuffer, typed array or
 * DataView (read through the built-in getters: a detached one has length 0), else null. */
function region(value) {
  if (isView(value)) {
    try {
      return [apply(typedBuffer, value, []), apply(typedOffset, value, []), apply(typedLength, value, [])];
    } catch {
      // not a typed array: a DataView
    }
    let buffer;
    try {
      buffer = apply(dataViewBuffer, value, []);
    } catch {
      return null;
    }
    try {
      return [buffer, apply(dataViewOffset, value, []), apply(dataViewLength, value, [])];
    } catch {
      // A DataView over a detached buffer, or past the end of a shrunk one: no bytes, as a typed
      // array's there (and as the addon reads it).
      return [buffer, 0, 0];
    }
  }
  try {
    return [value, 0, apply(arrayBufferLength, value, [])];
  } catch {
    // not an ArrayBuffer
  }
  if (sharedBufferLength !== null) {
    try {
      return [value, 0, apply(sharedBufferLength, value, [])];
    } catch {
      // not a SharedArrayBuffer either
    }
  }
  return null;
}

/** A bytes argument as Rust may read it: a string as it is, any bytes as a fresh Uint8Array over the
 * same memory (made here, so it has no own properties, getters or traps of the caller's: Rust copies
 * out of it). Anything else is refused by Rust's TypeError, which says what was expected and what it
 * got: a primitive goes as it is, another object as a fresh one of its type (a Proxy's traps must
 * not run once the call is in Rust). */
export function bytesArg(value) {
  if (typeof value === 'string') return value;
  const r = region(value);
  if (r === null) return notBytesArg(value);
  const [buffer, offset, length] = r;
  // A detached buffer has no bytes (and refuses to be viewed).
  return length === 0 ? new U8(0) : new U8(buffer, offset, length);
}

/** What Rust gets for a `value` that is no bytes: see bytesArg. */
function notBytesArg(value) {
  if (typeof value === 'function') return () => {};
  return typeof value === 'object' && value !== null ? {} : value;
}

/** Whether `value` is a genuine SharedArrayBuffer (its built-in getter's brand check). */
function isSharedBuffer(value) {
  if (sharedBufferLength === null || typeof value !== 'object' || value === null) return false;
  try {
    apply(sharedBufferLength, value, []);
    return true;
  } catch {
    return false;
  }
}

/** `args` with each bare SharedArrayBuffer at `positions` made a Uint8Array over it, or null when
 * there is none. For the addon: Node-API reads views over a SharedArrayBuffer but not the buffer
 * itself, which the wasm build takes as bytes (bytesArg) as it takes an ArrayBuffer. */
export function sharedAsViews(args, positions) {
  let out = null;
  for (const i of positions) {
    if (i < args.length && isSharedBuffer(args[i])) {
      out ??= [...args];
      out[i] = new U8(args[i]);
    }
  }
  return out;
}

/** The first `n` bytes of a writable view handed out (all of them past its end), for bytesArg. */
function head(view, n) {
  const length = apply(typedLength, view, []);
  if (length === 0) return new U8(0);
  return apply(typedSubarray, view, [0, typeof n === 'number' && n >= 0 && n < length ? n : length]);
}

/** Which arguments of which members are bytes (static members as `static name`). */
const BYTES_ARGS = {
  ZeroCopyBuffer: { 'static from': [0] },
  BufferMut: { append: [0] },
  PooledBuffer: { append: [0], __writeBack: [0] },
  CircularWriter: { write: [0], __produceFrom: [1] },
  CircularReader: { readInto: [0] },
  VirtualBuffer: { 'static fromBytes': [0], 'static import': [1], insert: [1], replace: [2], find: [0] },
};

/** Members whose arguments JS reads first, in both builds, before the native call: what a getter of
 * an argument does (call back into the same object, free it) then happens while no native call is
 * under way, which the builds would each refuse in their own words. */
const JS_READS_ARGS = {
  'CircularWriter.abort': (args) => [abortReasonArg(args[0])],
};

/** The reason of CircularWriter.abort() for the native member: a string (an Error's message, read
 * once, here; for the Error a ring's stream ended with, that ring's reason: see reasonOfError()), or
 * what the member refuses by type (a stand-in for an object without a string message) or takes as
 * none (undefined, null). */
function abortReasonArg(reason) {
  if (reason === null || (typeof reason !== 'object' && typeof reason !== 'function')) return reason;
  let message;
  try {
    message = reasonOfError(reason);
  } catch {
    // A revoked Proxy, a throwing getter: no message.
  }
  if (message !== undefined) return message;
  return typeof reason === 'function' ? () => {} : {};
}

/** wasm-bindgen's own members of a class, left as they are. */
const WASM_BINDGEN_HELPERS = new Set(['__destroy_into_raw', '__wrap', '__unwrap']);

/** Methods that return a Promise: a mistake in calling them rejects the Promise, as in the addon,
 * rather than throwing. */
const RETURNS_PROMISE = new Set([
  'VirtualBuffer.read',
  'VirtualBuffer.find',
  'VirtualBuffer.lineCount',
  'VirtualBuffer.lineToOffset',
  'VirtualBuffer.offsetToLine',
  'VirtualBuffer.save',
  'VirtualBuffer.saveAs',
]);

/** The classes whose objects JS makes with `new` (the others' constructors refuse: their objects
 * come from static members and methods, through wasm-bindgen's `__wrap`). */
const CONSTRUCTED = new Set(['BufferMut', 'BufferPool']);

/** For each guarded class of CONSTRUCTED, what brands an object its constructor made
 * (brandInstances). */
const brandNew = new WeakMap();

/**
 * `Reflect.construct(cls, args, newTarget)`, the object made branded as one of `cls`'s: what the
 * construct trap of a class as an entry exports it calls. A constructor's assignment of its pointer
 * cannot be told from a copy's (see brandInstances), so the object brands here, once its
 * constructor has made it.
 */
export function constructBranded(cls, args, newTarget) {
  const object = Reflect.construct(cls, args, newTarget);
  weakMapGet(brandNew, cls)?.(object);
  return object;
}

/** `cls` as an entry exports it when nothing else of it changes: `new` through constructBranded, and
 * `object.constructor` the class as exported. */
export function constructible(cls) {
  const exported = new Proxy(cls, { construct: constructBranded });
  Object.defineProperty(cls.prototype, 'constructor', { value: exported, writable: true, configurable: true });
  return exported;
}

/** Whether wasm-bindgen's `__wrap` is making an object now (see brandInstances). */
let wrapping = false;

/** Where each guarded class keeps its test of whether it made an object (brandInstances): on the
 * class, so that every copy of this file (loaded under another URL) finds it. */
const MADE_BY = Symbol.for('omnibuf.madeBy');

/** Whether `object` is one that `cls` (a class given to guardClasses) made, over a Rust value
 * (freed or not): for entry code that calls the unguarded members of its hot paths itself. */
export const madeByClass = (cls, object) => cls[MADE_BY]?.(object) === true;

/**
 * What `make()` returns, made once per glue class `glue` (one of the glue module's classes) and
 * entry name `entry` in this realm. An entry may be evaluated twice over one glue: imported under
 * two URLs (a query string, two bundles), re-run by a test runner's module registry over a glue the
 * runtime keeps, or two entries that share the threaded glue ("omnibuf" and "omnibuf/worklet" in one
 * worker). Wrapping its classes again would have each wrapper refuse the other's objects as
 * receivers; the second evaluation gives the first one's API instead.
 */
export function oncePerGlue(glue, entry, make) {
  const key = Symbol.for(`omnibuf.entry.${entry}`);
  if (!Object.hasOwn(glue, key)) Object.defineProperty(glue, key, { value: make() });
  return glue[key];
}

/**
 * The objects `cls` (named `name`) makes from now on, so that a receiver that only looks like one
 * is refused, as the addon refuses it: a Proxy of one, or an object that inherits from one, whose
 * `__wbg_ptr` wasm-bindgen's methods would read through to the object behind it. The objects are
 * branded (a WeakMap of the objects themselves, which holds neither a Proxy of one nor an heir).
 *
 * Only the glue's own objects brand. A copy of an object's own properties (`Object.assign(
 * Object.create(proto), obj)`, a loop over its property names, a utility library's clone, its
 * pointer saved and given to another object) must not: it would be a second owner of the Rust
 * value, reaching its memory after the first one freed it, when another object has it. So an object
 * brands while `__wrap` makes it (its pointer is fresh from Rust; `__wrap` is replaced by one that
 * says so), caught by an accessor on the prototype; and, for the classes JS constructs, when the
 * class as exported has constructed it (constructBranded).
 *
 * The pointer itself is kept here, not in the object: that prototype accessor leaves in its place an
 * accessor of the object's own that cannot be redefined (not configurable) and that takes no other
 * value than 0 (what the glue writes when it frees the object). So no assignment gives a branded
 * object another's pointer, and freezing the object (which would make a pointer kept as a property
 * read-only) does not keep free() from zeroing it. Returns the test.
 */
function brandInstances(cls, name) {
  // WeakMaps, not a private field stamped on through a base constructor that returns the object:
  // rollup (vite 7's bundler) takes such a `new` for free of side effects and drops it.
  const pointers = new WeakMap(); // every object the prototype's accessor saw -> its pointer, or 0
  const made = new WeakMap(); // the branded ones -> true
  const isMade = (object) => typeof object === 'object' && object !== null && weakMapGet(made, object) === true;
  const ownPointer = {
    get() {
      return weakMapGet(pointers, this);
    },
    set(ptr) {
      // Another value is ignored, as a write to a read-only property is outside strict code (in the
      // addon such a property means nothing, and the object keeps its own there too).
      if (ptr === 0) weakMapSet(pointers, this, 0);
    },
    enumerable: false,
    configurable: false,
  };
  if (CONSTRUCTED.has(name)) {
    brandNew.set(cls, (object) => {
      const own = Object.getOwnPropertyDescriptor(object, '__wbg_ptr');
      if (own?.get === ownPointer.get && weakMapGet(pointers, object) !== 0) weakMapSet(made, object, true);
    });
  }
  Object.defineProperty(cls.prototype, '__wbg_ptr', {
    configurable: true,
    get: () => undefined,
    set(ptr) {
      if (ptr !== 0 && wrapping) weakMapSet(made, this, true);
      weakMapSet(pointers, this, ptr);
      Object.defineProperty(this, '__wbg_ptr', ownPointer);
    },
  });
  const wrap = cls.__wrap;
  if (typeof wrap === 'function') {
    Object.defineProperty(cls, '__wrap', {
      value(ptr) {
        wrapping = true;
        try {
          return apply(wrap, this, [ptr]);
        } finally {
          wrapping = false;
        }
      },
      writable: true,
      configurable: true,
    });
  }
  Object.defineProperty(cls, MADE_BY, { value: isMade });
  return isMade;
}

/** Wraps every method and getter of each class (`classes`: each by its API name, as
 * `{ ZeroCopyBuffer, BufferMut }`); `bindingError` is the wasm build's __bindingError.
 * `inPlaceRings`: the threaded build, whose ring slices are views of the ring's shared memory (no
 * staging memory in JS). */
export function guardClasses(classes, bindingError, { inPlaceRings = false } = {}) {
  // Each class by the name it is given here, never by its `name`: a bundler renames classes
  // (esbuild's `_ZeroCopyBuffer`, vite's `ZeroCopyBuffer$2`, a minifier's `e`).
  const nameOf = new Map(Object.entries(classes).map(([name, cls]) => [cls, name]));
  const wrongReceiver = (cls, member) => bindingError(0, nameOf.get(cls), member);
  const usedUp = (cls) => bindingError(1, nameOf.get(cls), 'freed');
  /** For each class, whether an object is one it made, over a Rust value (freed or not). */
  const made = new Map([...nameOf].map(([cls, name]) => [cls, brandInstances(cls, name)]));
  const ofClass = (cls, self) => made.get(cls)(self);

  const { ZeroCopyBuffer } = classes;
  // The last view of each PooledBuffer and the last slice of each writer: written back later.
  const pooledViews = new WeakMap();
  const writerSlices = new WeakMap();
  // Each writer's slice handed out since its last produce() or write(), and each reader's since its
  // last consume(), read() or readInto(): over ring memory (the addon), slices taken meanwhile are
  // views of the same bytes, so while the bytes would be the same, slice() gives this one again.
  // (Two sliceAsync()s settled together would otherwise each detach the other's.)
  const unmovedWriterSlices = new WeakMap();
  const unmovedReaderSlices = new WeakMap();

  /** A writer slice of `length` bytes over the writer's staging memory (kept in JS, up to twice the
   * room): the slice of the same room again while the room has not moved, else a new one, starting
   * with what is left of the last one (the room's start, as over ring memory), the slices handed out
   * before detached first, so a slice kept by mistake never shows what is written into a later one.
   * The new slice starts where the rest of the last one is, while the memory reaches far enough: a
   * program producing a little of each slice moves nothing, and the rest is moved to the start only
   * once per room's worth produced. */
  const staging = new WeakMap();
  /** The writers whose staging memory the program may hold a view of: a slice was handed out since
   * the memory last moved. */
  const writerViewsOut = new WeakSet();
  const readerStaging = new WeakMap();
  /** How many bytes from its start each reader's staging memory holds of an earlier slice. */
  const readerStaged = new WeakMap();
  /** The writers that aborted: their wrapper stays (only free() lets go of it), their slices are
   * gone. */
  const abortedWriters = new WeakSet();
  /** Moves `buffer`'s memory to a new ArrayBuffer, which it returns, and so detaches `buffer` with
   * every view of it. */
  const moveAway = (buffer) => structuredClone(buffer, { transfer: [buffer] });
  /** Detaches the slices a reader handed out (views of its staging memory), moving that memory to a
   * new ArrayBuffer that the next slice will view. */
  const detachReaderSlices = (reader) => {
    const buffer = readerStaging.get(reader);
    if (buffer !== undefined && apply(arrayBufferLength, buffer, []) > 0) {
      readerStaging.set(reader, moveAway(buffer));
    }
  };
  /** Detaches the slices a writer handed out, as the addon's produce() and write() detach its slices
   * over ring memory: moves the staging memory to a new ArrayBuffer, with what the last slice left
   * of the room (for produce(n) and the next slice) at the same place in it. */
  const detachWriterSlices = (writer) => {
    if (!writerViewsOut.delete(writer)) return;
    const buffer = staging.get(writer);
    // (Memory the program transferred away is detached already: produce(n) refuses it.)
    if (buffer === undefined || apply(arrayBufferLength, buffer, []) === 0) return;
    const rest = writerSlices.get(writer);
    const restAt = rest === undefined ? 0 : apply(typedOffset, rest, []);
    const restLength = rest === undefined ? 0 : apply(typedLength, rest, []);
    const moved = moveAway(buffer);
    staging.set(writer, moved);
    if (rest !== undefined) writerSlices.set(writer, new U8(moved, restAt, restLength));
  };
  /** Lets go of a ring side's staging memory, as the addon's free() and abort() let go of ring
   * memory: every slice handed out is then empty, so none shows bytes nobody will publish or read. */
  const dropStaging = (side) => {
    for (const stagings of [staging, readerStaging]) {
      const buffer = stagings.get(side);
      stagings.delete(side);
      if (buffer !== undefined && apply(arrayBufferLength, buffer, []) > 0) moveAway(buffer);
    }
    readerStaged.delete(side);
    writerViewsOut.delete(side);
    writerSlices.delete(side);
    unmovedWriterSlices.delete(side);
    unmovedReaderSlices.delete(side);
  };
  const handOut = (writer, length) => {
    // No room: an empty view of its own, which nothing detaches (as the addon's empty slice).
    if (length === 0) return new U8(0);
    const unmoved = unmovedWriterSlices.get(writer);
    if (unmoved !== undefined && apply(typedLength, unmoved, []) === length) return unmoved;
    // What produce(n) or write() left of the last slice (read before its memory moves).
    const last = writerSlices.get(writer);
    const leftAt = last === undefined ? 0 : apply(typedOffset, last, []);
    const left = last === undefined ? 0 : Math.min(apply(typedLength, last, []), length);
    let buffer = staging.get(writer);
    // (0 also for memory the program transferred away, with a slice's buffer.)
    const size = buffer === undefined ? 0 : apply(arrayBufferLength, buffer, []);
    let at = 0;
    if (size > 0 && (leftAt + length <= size || 2 * length <= size)) {
      // Moves the memory to a new ArrayBuffer and detaches the old one, with every view of it (no
      // need where produce() or write() moved it since the last slice).
      if (writerViewsOut.has(writer)) buffer = moveAway(buffer);
      if (leftAt + length <= size) at = leftAt;
      else if (left > 0) apply(typedCopyWithin, new U8(buffer), [0, leftAt, leftAt + left]);
    } else {
      const grown = new ArrayBuffer(Math.max(2 * length, 64));
      if (left > 0) apply(typedSet, new U8(grown), [new U8(buffer, leftAt, left)]);
      if (size > 0 && writerViewsOut.has(writer)) moveAway(buffer); // detaches the old slices
      buffer = grown;
    }
    staging.set(writer, buffer);
    const room = new U8(buffer, at, length);
    writerSlices.set(writer, room);
    unmovedWriterSlices.set(writer, room);
    writerViewsOut.add(writer);
    return room;
  };

  for (const [className, cls] of Object.entries(classes)) {
    const isMade = made.get(cls);
    const bytesArgs = BYTES_ARGS[className] ?? {};
    const withBytes = (key, fn) => {
      const positions = bytesArgs[key];
      if (!positions) return fn;
      return function (...args) {
        for (const i of positions) {
          // import() reads a Blob (or File) itself, a batch at a time; it has no `this` to borrow.
          if (i < args.length && !(key === 'static import' && BlobClass !== null && args[i] instanceof BlobClass)) {
            args[i] = bytesArg(args[i]);
          }
        }
        return apply(fn, this, args);
      };
    };
    // Static members: bytes arguments only (they have no receiver to check).
    for (const [name, desc] of Object.entries(Object.getOwnPropertyDescriptors(cls))) {
      if (typeof desc.value !== 'function' || name.startsWith('__') || !bytesArgs[`static ${name}`]) continue;
      Object.defineProperty(cls, name, { ...desc, value: withBytes(`static ${name}`, desc.value) });
    }
    const proto = cls.prototype;
    const raw = Object.getOwnPropertyDescriptors(proto);
    for (const [name, desc] of Object.entries(raw)) {
      // wasm-bindgen's own helpers (__destroy_into_raw, which free() calls) stay as they are; this
      // build's internal members (__writeBack, __produceFrom) are guarded like the others.
      if (name === 'constructor' || WASM_BINDGEN_HELPERS.has(name)) continue;
      if (name === 'free') {
        const free = desc.value;
        const destroy = raw.__destroy_into_raw.value;
        const once = function () {
          if (!isMade(this)) throw wrongReceiver(cls, name);
          // Freeing twice does nothing, as in the addon.
          if (this.__wbg_ptr === 0) return;
          pooledViews.delete(this);
          dropStaging(this);
          // A ring writer ends its stream here: dropped by a finalizer instead, it aborts it.
          if (raw.__end !== undefined) apply(raw.__end.value, this, []);
          // The glue's free() takes the pointer with `this.__destroy_into_raw()`, which zeroes it and
          // takes the object off the glue's finalizer. It is given its own helper for this object,
          // not what the object would find under that name: one whose prototype was changed finds
          // none, one given a member of that name another pointer.
          const self = this;
          apply(free, { __destroy_into_raw: () => apply(destroy, self, []) }, []);
        };
        Object.defineProperty(proto, name, { ...desc, value: once });
        continue;
      }
      const fn = typeof desc.value === 'function' ? desc.value : desc.get;
      if (typeof fn !== 'function') continue;
      const inner = withBytes(name, special(cls, className, name, fn, raw) ?? fn);
      const readArgs = JS_READS_ARGS[`${className}.${name}`];
      const guardedFn = function (...args) {
        if (!isMade(this)) throw wrongReceiver(cls, name);
        // Before the next check: reading them may free the object.
        if (readArgs !== undefined) args = readArgs(args);
        // wasm-bindgen zeroes an object's pointer when it is freed (or consumed).
        if (this.__wbg_ptr === 0) throw usedUp(cls);
        return apply(inner, this, args);
      };
      const wrapped = RETURNS_PROMISE.has(`${className}.${name}`)
        ? function (...args) {
            try {
              return apply(guardedFn, this, args);
            } catch (e) {
              return Promise.reject(e);
            }
          }
        : guardedFn;
      const replacement = typeof desc.value === 'function' ? { value: wrapped } : { get: wrapped };
      Object.defineProperty(proto, name, { ...desc, ...replacement });
    }
    // Symbol.dispose is an alias of free(): point it at the guarded one.
    if (typeof Symbol.dispose === 'symbol' && Object.hasOwn(proto, Symbol.dispose)) {
      Object.defineProperty(proto, Symbol.dispose, { value: proto.free, writable: true, enumerable: false, configurable: true });
    }
  }
  return classes;

  /** A copy of the reader's unread bytes in its staging memory (kept in JS), through the build's
   * __sliceInto: the last one again while it shows them exactly (nothing consumed, nothing more
   * arrived, nothing written into it: __showsUnread), else a new one, the slices handed out before
   * detached first, so one kept by mistake never changes. The memory past the new slice is cleared of
   * what earlier slices left there: a slice's `.buffer` shows no byte the reader consumed. */
  function stagedSlice(reader, raw) {
    const unmoved = unmovedReaderSlices.get(reader);
    if (unmoved !== undefined && apply(raw.__showsUnread.value, reader, [unmoved])) return unmoved;
    const sliceInto = raw.__sliceInto.value;
    let buffer = readerStaging.get(reader);
    let staged = readerStaged.get(reader) ?? 0;
    if (buffer !== undefined) {
      buffer = apply(arrayBufferLength, buffer, []) === 0 ? undefined : moveAway(buffer);
    }
    for (;;) {
      const target = buffer === undefined ? new U8(0) : new U8(buffer);
      const n = apply(sliceInto, reader, [target]);
      if (n === null || n <= target.length) {
        const shown = n ?? 0;
        if (staged > shown) apply(typedFill, target, [0, shown, staged]);
        readerStaged.set(reader, shown);
        readerStaging.set(reader, buffer);
        if (n === null || n === 0) {
          unmovedReaderSlices.delete(reader);
          return n === null ? null : new U8(0);
        }
        const slice = new U8(buffer, 0, n);
        unmovedReaderSlices.set(reader, slice);
        return slice;
      }
      buffer = new ArrayBuffer(Math.max(n, 2 * target.length));
      staged = 0;
    }
  }

  /** write()'s arguments as the native call takes them: a long string as its UTF-8, and only the
   * first bytes that fit when it has more than the room holds (the glue would copy all of it into
   * wasm memory, which keeps that size for good, to write a ring's room of it). */
  function fitting(writer, raw, args) {
    const [bytes] = args;
    if (typeof bytes !== 'string' || bytes.length <= LONG_STRING) return args;
    const room = apply(raw.__room.value, writer, []);
    if (3 * bytes.length <= room) return [apply(encode, encoder, [bytes])];
    // Whole characters while they fit: at least `room` bytes, when there are that many.
    const encoded = new U8(room + 3);
    const { written } = apply(encodeInto, encoder, [bytes, encoded]);
    return [apply(typedSubarray, encoded, [0, Math.min(written, room)])];
  }

  /** The members with more to do than check their receiver, or undefined. */
  function special(cls, className, name, fn, raw) {
    const key = `${className}.${name}`;
    if (inPlaceRings && (className === 'CircularWriter' || className === 'CircularReader')) {
      if (key === 'CircularWriter.write') {
        return function (...args) {
          return apply(fn, this, fitting(this, raw, args));
        };
      }
      // The threaded build's slices are the ring's memory: nothing to stage. produce() and consume()
      // take the plain-number path for a valid count (the per-message cost of small messages) and
      // the full method, which throws the right error, for anything else.
      const raw_ = key === 'CircularWriter.produce' ? raw.__produceRaw : key === 'CircularReader.consume' ? raw.__consumeRaw : undefined;
      if (raw_ === undefined) return undefined;
      const plain = raw_.value;
      return function (n) {
        if (typeof n === 'number' && n >>> 0 === n && apply(plain, this, [n]) === 0) return undefined;
        return apply(fn, this, [n]);
      };
    }
    switch (key) {
      case 'ZeroCopyBuffer.equals':
        // wasm-bindgen's glue would throw through the borrow of `this` for an `other` it cannot use.
        return function (other) {
          if (!ofClass(ZeroCopyBuffer, other)) throw bindingError(2, 'equals', 'other', 'ZeroCopyBuffer', other);
          if (other.__wbg_ptr === 0) throw usedUp(ZeroCopyBuffer);
          return apply(fn, this, [other]);
        };
      case 'CircularWriter.slice':
        return function (...args) {
          return handOut(this, apply(fn, this, args));
        };
      case 'CircularWriter.sliceAsync':
        // The room as it is once the Promise settles here, not the length the native wait settled
        // with: a produce() or write() meanwhile took some of it, and detached what the addon's
        // slice would have been (the slice of a writer freed or aborted meanwhile is as empty).
        return function (...args) {
          return apply(fn, this, args).then(() =>
            this.__wbg_ptr === 0 || abortedWriters.has(this) ? new U8(0) : handOut(this, apply(raw.slice.value, this, [])),
          );
        };
      case 'CircularReader.slice':
        return function () {
          return stagedSlice(this, raw);
        };
      case 'CircularReader.sliceAsync':
        // Waits without a slice being made (the ticket's `bare`), then takes slice()'s: the bytes
        // land in the reader's staging memory rather than in a fresh copy per wait. A wait that is
        // bare already (the stream forms') settles as it is.
        return function (ticket) {
          if (ticket === null || typeof ticket !== 'object' || ticket.bare) return apply(fn, this, [ticket]);
          ticket.bare = true;
          // Settled, the wait holds its result (js/index.d.ts, WaitOptions): the end's null, or a
          // slice. A reader freed before the slice is taken gives what the addon's gives then: the
          // slice it made, emptied by the free.
          return apply(fn, this, [ticket]).then((ready) => {
            if (ready === null) return null;
            if (this.__wbg_ptr === 0) return new U8(0);
            return stagedSlice(this, raw);
          });
        };
      case 'CircularWriter.abort':
        // The writer's slices are empty once it aborted, as the addon's are: nothing will publish them.
        return function (...args) {
          apply(fn, this, args);
          abortedWriters.add(this);
          dropStaging(this);
        };
      case 'CircularWriter.produce':
        // What JS wrote into the last slice goes into the ring now; the rest of that slice stays
        // the writer's, at the room's new start, as it would be over ring memory. The slices handed
        // out are detached, as the addon's produce() detaches them (a bad `n` throws first).
        return function (n) {
          const room = writerSlices.get(this);
          if (room === undefined) {
            apply(fn, this, [n]);
            return void detachWriterSlices(this);
          }
          // The guard's own moves replace the slice kept here: a detached one was moved by the
          // program, the bytes written into it too. Better an Error than other bytes published.
          if (typeof n === 'number' && n > 0 && apply(arrayBufferLength, apply(typedBuffer, room, []), []) === 0) {
            throw bindingError(9);
          }
          // Only what is published is copied in (Rust checks `n` and refuses more than is free).
          const bytes = bytesArg(head(room, n));
          apply(raw.__produceFrom.value, this, [n, bytes]);
          unmovedWriterSlices.delete(this);
          const rest = apply(typedLength, room, []);
          writerSlices.set(this, rest === 0 ? room : apply(typedSubarray, room, [Math.min(n, rest)]));
          detachWriterSlices(this);
          return undefined;
        };
      case 'CircularWriter.write':
        // The bytes written land at the room's start, over the start of the last slice, as they
        // would over ring memory; the rest of that slice stays the room's, for produce(n). The slices
        // handed out are detached, as the addon's write() detaches them (after it read its bytes,
        // which may be one of them).
        return function (...args) {
          const written = apply(fn, this, fitting(this, raw, args));
          const room = writerSlices.get(this);
          if (room !== undefined && written > 0) {
            unmovedWriterSlices.delete(this);
            if (written >= apply(typedLength, room, [])) writerSlices.delete(this);
            else writerSlices.set(this, apply(typedSubarray, room, [written]));
          }
          detachWriterSlices(this);
          return written;
        };
      case 'CircularReader.consume':
        // The slices handed out are detached once bytes are consumed, as the addon's are (a bad `n`
        // throws first, changing nothing): a slice still whole tells its holder (a slices() loop)
        // that nobody else consumed what it shows.
        return function (...args) {
          const consumed = apply(fn, this, args);
          unmovedReaderSlices.delete(this);
          detachReaderSlices(this);
          return consumed;
        };
      case 'CircularReader.read':
        // The slices handed out are detached first, as the addon does (js/index.d.ts, read()).
        return function (...args) {
          unmovedReaderSlices.delete(this);
          detachReaderSlices(this);
          return apply(fn, this, args);
        };
      case 'CircularReader.readInto':
        // The same: a target that is one of the slices is empty by then, and refused, as the addon
        // refuses it (it would read nothing, forever). (A target that is no bytes is refused first,
        // changing nothing; bytesArg made it a Uint8Array if it is bytes.)
        return function (...args) {
          unmovedReaderSlices.delete(this);
          if (args[0] instanceof U8) {
            const had = apply(typedLength, args[0], []);
            detachReaderSlices(this);
            if (had > 0 && apply(typedLength, args[0], []) === 0) throw bindingError(13);
          }
          return apply(fn, this, args);
        };
      default:
        break;
    }
    if (className === 'PooledBuffer' && (name === 'view' || name === 'freeze')) {
      // The calls that read the buffer's bytes first write back what JS wrote into the last view()
      // (see js/index.d.ts); the others neither read nor change the bytes the view shows, and
      // writing a whole view back at each of them would make a loop of them cost a copy per step.
      return function (...args) {
        const view = pooledViews.get(this);
        if (view !== undefined) apply(raw.__writeBack.value, this, [bytesArg(view)]);
        const result = apply(fn, this, args);
        if (name === 'view') pooledViews.set(this, result);
        else if (name === 'freeze') pooledViews.delete(this);
        return result;
      };
    }
    return undefined;
  }
}

/**
 * The Node addon's napi-rs classes (BufferMut, BufferKind, the ring, VirtualBuffer), guarded as the
 * wasm build's are, for the same class and message: a receiver of another class is the table's
 * TypeError (napi-rs would say "Failed to unwrap ..." in a plain Error, or V8 "Illegal invocation"),
 * and `new` of a class without a public constructor is the table's TypeError (napi-rs: a plain Error).
 * A bare SharedArrayBuffer passed as bytes, which Node-API cannot read, is passed again as a
 * Uint8Array over it (sharedAsViews): the native checks refuse it before they change anything.
 * These checks cost nothing on the way in: they run only once the native call has thrown (or, for
 * the Promise members, which reject rather than throw, a SharedArrayBuffer is looked for first;
 * JS_READS_ARGS's members read their arguments first in both builds).
 * `bindingError` is the addon's __bindingError (as the wasm build's: it makes the error of the binding
 * core's table); `privateConstructors` names the classes JS cannot construct. Returns the classes to
 * export by name.
 */
export function guardAddonClasses(classes, bindingError, privateConstructors) {
  const out = {};
  for (const [className, cls] of Object.entries(classes)) {
    const proto = cls.prototype;
    for (const [name, desc] of Object.entries(Object.getOwnPropertyDescriptors(proto))) {
      if (name === 'constructor') continue;
      const fn = typeof desc.value === 'function' ? desc.value : desc.get;
      if (typeof fn !== 'function') continue;
      const bytesAt = BYTES_ARGS[className]?.[name];
      const rejects = bytesAt !== undefined && RETURNS_PROMISE.has(`${className}.${name}`);
      const readArgs = JS_READS_ARGS[`${className}.${name}`];
      const wrapped = function (...args) {
        if (rejects) args = sharedAsViews(args, bytesAt) ?? args;
        if (readArgs !== undefined) {
          // The receiver first, as the wasm build's guard checks it.
          if (!(this instanceof cls)) throw bindingError(0, className, name);
          args = readArgs(args);
        }
        try {
          return apply(fn, this, args);
        } catch (e) {
          if (!(this instanceof cls) || isUnwrapFailure(e)) throw bindingError(0, className, name);
          const shared = bytesAt === undefined ? null : sharedAsViews(args, bytesAt);
          if (shared !== null) return apply(fn, this, shared);
          throw e;
        }
      };
      const replacement = typeof desc.value === 'function' ? { value: wrapped } : { get: wrapped };
      // Not enumerable, as a JS class's members and the wasm build's are (napi-rs makes some so):
      // a `for...in` over an object sees the same names in both builds.
      Object.defineProperty(proto, name, { ...desc, ...replacement, enumerable: false });
    }
    // Called without `new`, napi-rs would make the receiver (even globalThis) an instance: refused with
    // the TypeError the engine gives for a JS class, as the wasm build's classes are.
    const traps = {
      apply() {
        throw bindingError(12, className);
      },
    };
    if (privateConstructors.includes(className)) {
      traps.construct = () => {
        throw bindingError(3, className);
      };
    }
    out[className] = new Proxy(cls, traps);
  }
  return out;
}

/** napi-rs's and V8's words for a receiver that wraps no object of the class. */
function isUnwrapFailure(e) {
  return (
    e instanceof Error &&
    (/^Failed to (unwrap|recover) /.test(e.message) || (e instanceof TypeError && e.message === 'Illegal invocation'))
  );
}
