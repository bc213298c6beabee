// Rings across browser threads (the threaded build): a ring side held by a thread that ends without
// freeing it (a worker terminated, closed, or crashed) is ended by the thread that handed it over, as
// freeing it would have: a writer's stream aborts with the reason a lost writer gets, a reader stops
// holding the writer back. A Web Lock tells that the holder ended: the browser releases a thread's
// locks when it ends. src/wasm/custody.rs has the protocol; here are its locks and waits.
//
// - init() takes this thread's life lock and resolves once it holds it (holdLifeLock);
// - fromHandle() marks the side claimed by this thread;
// - toHandle() watches the side it hands over: once claimed, the watcher asks for the claimer's life
//   lock, which it gets when the claimer ended, and gives the request up if the side is released
//   first; then it ends the watch, which ends the side if the claimer ended holding it.
// Without Web Locks (AudioWorklets, insecure contexts) a thread neither watches nor claims so.

/** The custody states JS waits on (src/wasm/custody.rs). */
const HANDED = 0;
const CLAIMED = 1;

const locks = globalThis.navigator?.locks;
const haveLocks = typeof locks?.request === 'function' && typeof Atomics.waitAsync === 'function';

const lifeLock = (token, thread) => `omnibuf ring thread ${token}/${thread}`;

/** This thread's number, once it holds its life lock. */
let thisThread = 0;

/**
 * Takes this thread's life lock, for good: `native` is the threaded build's module, just loaded.
 * Resolves once the lock is held (at once without Web Locks).
 */
export async function holdLifeLock(native) {
  if (!haveLocks || thisThread !== 0) return;
  const [thread, token] = native.__custodyThread();
  try {
    await new Promise((resolve, reject) => {
      locks.request(lifeLock(token, thread), () => {
        resolve();
        return new Promise(() => {}); // held until the thread ends
      }).catch(reject);
    });
    thisThread = thread;
  } catch {
    // No lock to be had here (an opaque origin): this thread's sides are not watched.
  }
}

/**
 * Wraps `toHandle()` and `fromHandle()` of the threaded build's ring classes. `native` is that
 * build's module (its `__custody*` exports).
 */
export function installCustody({ CircularWriter, CircularReader }, native) {
  if (!haveLocks) return;

  /** Settles once the custody state at byte `address` of the module's memory is no longer `state`. */
  async function leaves(address, state) {
    for (;;) {
      const wait = Atomics.waitAsync(new Int32Array(native.__custodyMemory().buffer), address >> 2, state);
      if (!wait.async) {
        if (wait.value === 'not-equal') return;
      } else {
        await wait.value;
      }
    }
  }

  /** The handing thread: watches the side of a fresh handle. */
  async function watch({ id, memoryToken }) {
    const address = native.__custodyWatch(id);
    if (address === 0) return;
    await leaves(address, HANDED);
    const holder = native.__custodyHolder(id);
    if (holder !== 0) {
      const released = new AbortController();
      leaves(address, CLAIMED).then(() => released.abort());
      // Shared: every side a thread holds has its watcher waiting for that thread's end.
      await locks.request(lifeLock(memoryToken, holder), { mode: 'shared', signal: released.signal }, () => {}).catch(() => {});
    }
    native.__custodyEndWatch(id);
  }

  for (const cls of [CircularWriter, CircularReader]) {
    const { toHandle } = cls.prototype;
    const { fromHandle } = cls;
    const wrapped = {
      toHandle() {
        const handle = toHandle.call(this);
        watch(handle).catch(() => {});
        return handle;
      },
      fromHandle(handle) {
        // What the claim reads, read once: a handle whose getters answer differently each time must
        // not name one side to the claim and another to the custody.
        let fields = handle;
        try {
          if (handle !== null && typeof handle === 'object') {
            fields = { omnibuf: handle.omnibuf, id: handle.id, memoryToken: handle.memoryToken };
          }
        } catch {
          // The native claim reads the handle again and says it is malformed.
        }
        const side = fromHandle.call(this, fields);
        if (thisThread !== 0) native.__custodyClaim(fields.id, thisThread);
        return side;
      },
    };
    Object.defineProperty(cls.prototype, 'toHandle', { value: wrapped.toHandle, writable: true, configurable: true });
    Object.defineProperty(cls, 'fromHandle', { value: wrapped.fromHandle, writable: true, configurable: true });
  }
}
