// The addon's BufferPool and PooledBuffer. A PooledBuffer is a JS class holding a handle, a number,
// into a per-environment table of the addon (node/src/handles.rs, kept by node/src/platform/fast.rs),
// rather than a native object.
//
// Why: a native object per buffer costs Node-API's price for an object that wraps native memory
// (napi_new_instance, napi_wrap, a type tag, a weak handle and a finalizer per object): microseconds
// per tryAcquire() + free(), where Buffer.allocUnsafe takes about one (docs/performance.md,
// "Where the addon's per-call time went"). A number costs nothing to make.
//
// How: the addon's poolTryAcquire() and NativeBufferPool.acquire() give a handle, which a new
// PooledBuffer holds. BufferPool is a JS class over the NativeBufferPool too, so that tryAcquire()
// reaches the pool by a handle as well. Every member of a PooledBuffer is one call of a plain function
// of the addon with the handle (pooledLength, pooledView, pooledFree, ...). free() and freeze() give the
// handle back at once; a buffer the program drops is given back by a FinalizationRegistry
// (pooledRelease), which leaves its views valid, as the native finalizer did. A buffer is registered
// when the microtasks of the task that made it run, unless it was freed by then (see `waiting` below),
// and unregistered when it is freed or frozen after.
//
// Once freed or frozen, an object remembers which, and says so; the handle 0, which no buffer has,
// lets the addon check a call's arguments all the same. As in the wasm build, a frozen buffer gives a
// bad argument's error first and a freed one its own: where the addon refuses the arguments of a
// freed buffer, that error gives way to the freed one (on the error path only, so a call that works
// does no more than it did). Every error is made by the binding core's one table (the addon's
// __bindingError: src/binding/message.rs), so this file words none.
//
// Repeated view() calls of one buffer share one native view until the buffer's length changes (as
// js/addon-zero-copy.mjs does, and for the same reason: Node frees what it keeps for each Buffer over
// native memory only after the current task).

import { sharedAsViews } from './guard.mjs';

const MAKE = Symbol('PooledBuffer');

/** The numbers of the binding core's table (src/binding/message.rs, by_number). */
const WRONG_RECEIVER = 0;
const USED_UP = 1;
const NO_CONSTRUCTOR = 3;

/**
 * The addon's BufferPool and PooledBuffer classes, over the addon's NativeBufferPool and the handle
 * functions of `addon`. `wrapStorage` makes a ZeroCopyBuffer of what freeze() gives.
 */
export function definePool(addon, wrapStorage) {
  const {
    NativeBufferPool,
    poolTryAcquire,
    pooledLength,
    pooledCapacity,
    pooledTenant,
    pooledAppend,
    pooledView,
    pooledFreeze,
    pooledFree,
    pooledRelease,
    __bindingError: bindingError,
  } = addon;
  /** Whether views are over native memory (else copies, which are not kept). */
  const keepViews = addon.externalBuffers();
  const notA = (member) => bindingError(WRONG_RECEIVER, 'PooledBuffer', member);
  /** Whether the addon still holds a buffer under `handle`. */
  const handleLive = (handle) => {
    try {
      pooledLength(handle);
      return true;
    } catch {
      return false;
    }
  };
  const notAPool = (member) => bindingError(WRONG_RECEIVER, 'BufferPool', member);

  // Gives back the buffers the program dropped; their views stay valid.
  const dropped = new FinalizationRegistry(pooledRelease);

  // Registering with a FinalizationRegistry was most of the cost of a buffer in a tryAcquire() + free()
  // loop (V8's weak cells, and the hash table of unregister tokens, which unregistering keeps
  // rehashing), and a buffer freed soon after it was acquired never
  // needs it. So new buffers wait here, held strongly, and are registered by a microtask (at the latest
  // when the current task ends), or at once when this many are waiting, unless they were freed by
  // then. Holding them until then changes nothing the program can see: the registry runs its callbacks
  // in a task of their own, so it could not have given a dropped buffer back any sooner.
  const WAITING_MAX = 1024;
  let waiting = [];
  let flushQueued = false;
  /** Registers the buffers waiting (PooledBuffer's, to reach its private members). */
  let flush;

  class PooledBuffer {
    /** The handle, or 0 once frozen or freed. */
    #handle;
    /** What happened to it once the handle is 0. */
    #gone = 'freed';
    /** Whether it is registered with `dropped` (else it is in `waiting`, or gone). */
    #registered = false;
    /** Its last view while the length is what it was then, handed out only through new Buffers over
     * its memory; null when there is none to reuse. */
    #view = null;

    /** Not public (index.d.ts): BufferPool.tryAcquire() and acquire() make them. */
    constructor(token, handle) {
      if (token !== MAKE) throw bindingError(NO_CONSTRUCTOR, 'PooledBuffer');
      this.#handle = handle;
      waiting.push(this);
      if (waiting.length >= WAITING_MAX) flush();
      else if (!flushQueued) {
        flushQueued = true;
        queueMicrotask(flush);
      }
    }

    /**
     * One PooledBuffer, gone from the start, that lives as long as the class. V8 keeps the shape (map)
     * that objects with these private fields share only while one of them is alive, and when the last
     * is collected it throws away the optimized code built on that shape. A program that frees every
     * buffer it takes, the usual way, would have tryAcquire() and free() deoptimized by every full
     * collection and run slow until they were optimized again (`node --trace-deopt`: "reason: weak
     * objects"). This one object keeps the shape alive.
     */
    static #shapeKeeper;

    static {
      flush = () => {
        flushQueued = false;
        const buffers = waiting;
        waiting = [];
        for (const buffer of buffers) {
          // Unless it is gone already.
          if (buffer.#handle !== 0 && !buffer.#registered) {
            buffer.#registered = true;
            dropped.register(buffer, buffer.#handle, buffer);
          }
        }
      };
      PooledBuffer.#shapeKeeper = new PooledBuffer(MAKE, 0);
      PooledBuffer.#shapeKeeper.#leave('freed');
    }

    /** The handle of `self`, or 0 once it is gone; a TypeError for another class. */
    static #handleOf(self, member) {
      if (typeof self !== 'object' || self === null || !(#handle in self)) throw notA(member);
      return self.#handle;
    }

    /** The handle of `self`: a TypeError for another class, an Error once it is gone. */
    static #live(self, member) {
      const handle = PooledBuffer.#handleOf(self, member);
      if (handle === 0) throw self.#usedUp();
      return handle;
    }

    #usedUp() {
      return bindingError(USED_UP, 'PooledBuffer', this.#gone);
    }

    /** Gives the handle up; the object cannot be used after. */
    #leave(how) {
      this.#handle = 0;
      this.#gone = how;
      this.#view = null;
      if (this.#registered) dropped.unregister(this);
      // The last one made is the one most often freed first: it need not wait for the flush.
      else if (waiting[waiting.length - 1] === this) waiting.pop();
    }

    get length() {
      return pooledLength(PooledBuffer.#live(this, 'length'));
    }

    get capacity() {
      return pooledCapacity(PooledBuffer.#live(this, 'capacity'));
    }

    get tenant() {
      return pooledTenant(PooledBuffer.#live(this, 'tenant'));
    }

    append(bytes) {
      const handle = PooledBuffer.#handleOf(this, 'append');
      try {
        pooledAppend(handle, bytes); // with handle 0, only checks the bytes
      } catch (e) {
        if (handle === 0 && this.#gone === 'freed') throw this.#usedUp();
        // A bare SharedArrayBuffer, refused before anything was written (js/guard.mjs).
        const shared = sharedAsViews([bytes], [0]);
        if (shared === null) throw e;
        pooledAppend(handle, shared[0]);
      }
      if (handle === 0) throw this.#usedUp();
      this.#view = null; // longer now: the next view shows more
    }

    view() {
      const handle = PooledBuffer.#live(this, 'view');
      const kept = this.#view;
      // (A view detached natively has length 0: never reused.)
      if (kept !== null && kept.length !== 0) return kept.subarray(0);
      const view = pooledView(handle);
      if (!keepViews || view.length === 0) return view;
      this.#view = view;
      return view.subarray(0);
    }

    freeze(kind) {
      const handle = PooledBuffer.#handleOf(this, 'freeze');
      let storage;
      try {
        storage = pooledFreeze(handle, kind); // with handle 0, only checks the kind
      } catch (e) {
        if (handle === 0 && this.#gone === 'freed') throw this.#usedUp();
        // Refused after the addon took the buffer (a view's memory moved out of reach): it gave the
        // buffer up, as free() does. A bad kind, refused first, leaves it as it was.
        if (handle !== 0 && !handleLive(handle)) this.#leave('freed');
        throw e;
      }
      if (handle === 0) throw this.#usedUp();
      this.#leave('frozen');
      return wrapStorage(storage);
    }

    free() {
      const handle = PooledBuffer.#handleOf(this, 'free');
      if (handle === 0) {
        // Freed after a freeze: it now says it was freed, as in the wasm build.
        this.#gone = 'freed';
        return;
      }
      this.#leave('freed');
      pooledFree(handle);
    }
  }

  /** A PooledBuffer holding `handle`, or null for none (tryAcquire's "no room"). */
  const fromHandle = (handle) => (handle === null ? null : new PooledBuffer(MAKE, handle));

  // The pool itself is the addon's NativeBufferPool; this class adds tryAcquire() by the pool's
  // handle (a table look-up in the addon, where a method of the native object would look up the
  // wrapped object: two of Node-API's private-property reads, a third of the call) and makes
  // PooledBuffers of the handles the addon gives.
  class BufferPool {
    #native;
    /** The pool's handle for poolTryAcquire. */
    #handle;

    constructor(options) {
      this.#native = new NativeBufferPool(options);
      this.#handle = this.#native.handle;
    }

    /** The NativeBufferPool of `self`; a TypeError for another class. */
    static #nativeOf(self, member) {
      if (typeof self !== 'object' || self === null || !(#native in self)) throw notAPool(member);
      return self.#native;
    }

    get budget() {
      return BufferPool.#nativeOf(this, 'budget').budget;
    }

    get classes() {
      return BufferPool.#nativeOf(this, 'classes').classes;
    }

    tryAcquire(size, tenant) {
      BufferPool.#nativeOf(this, 'tryAcquire');
      return fromHandle(poolTryAcquire(this.#handle, size, tenant));
    }

    /** `ticket`: the wait's `{ ref, id }` (js/waits.mjs, which defines the public signature). */
    acquire(size, tenant, ticket) {
      return BufferPool.#nativeOf(this, 'acquire').acquire(size, tenant, ticket).then(fromHandle);
    }

    snapshot() {
      return BufferPool.#nativeOf(this, 'snapshot').snapshot();
    }

    trim() {
      return BufferPool.#nativeOf(this, 'trim').trim();
    }

    free() {
      BufferPool.#nativeOf(this, 'free').free();
    }
  }

  return { BufferPool, PooledBuffer };
}
