// Rings across browser threads (the threaded build): a ring side held by a thread that ends without
// freeing it (a worker terminated, closed, or crashed) is ended for it, as freeing it would have: a
// writer's stream aborts with the reason a lost writer gets, a reader stops holding the writer back.
// A Web Lock tells that the holder ended: the browser releases a thread's locks when it ends.
// src/wasm/custody.rs has the protocol (the claims and releases are marked there); here are its locks
// and waits:
// - every thread takes its life lock in init(), which resolves once it holds it;
// - the memory's home (the thread that made it: the page, as a rule) watches every side handed over:
//   once one is claimed, it asks for the claimer's life lock, which it gets when the claimer ended,
//   and gives the request up if the side is released first; then it ends the watch, which ends the
//   side if the claimer ended holding it.
// Without Web Locks (AudioWorklets, insecure contexts) a thread takes no life lock, and a home
// watches nothing.

/** The custody states JS waits on (src/wasm/custody.rs). */
const HANDED = 0;
const CLAIMED = 1;

const locks = globalThis.navigator?.locks;
const haveLocks = typeof locks?.request === 'function' && typeof Atomics.waitAsync === 'function';

const lifeLock = (token, thread) => `omnibuf ring thread ${token}/${thread}`;

/**
 * Takes this thread's life lock, for good, right after `native` (the threaded build's module) was
 * loaded; resolves once it holds it. `home`: this thread made the memory, and watches the sides
 * handed over in it.
 */
export async function startCustody(native, { home }) {
  if (!haveLocks) return;
  const [thread, token] = native.__custodyThread();
  try {
    await new Promise((resolve, reject) => {
      locks.request(lifeLock(token, thread), () => {
        resolve();
        return new Promise(() => {}); // held until the thread ends
      }).catch(reject);
    });
  } catch {
    return; // no lock to be had here (an opaque origin): this thread's sides are not watched
  }
  native.__custodyLifeLockHeld(thread);
  if (home) serve(native, token).catch(() => {});
}

/** The home: starts a watch of each side handed over, as it comes. */
async function serve(native, token) {
  const count = native.__custodyServe();
  for (;;) {
    const seen = Atomics.load(words(native), count >> 2);
    for (let id; (id = native.__custodyNextWatch()) !== 0; ) watch(native, token, id).catch(() => {});
    await leaves(native, count, seen);
  }
}

/** The home: watches the side of handle `id` until it is released, or ends it for its claimer. */
async function watch(native, token, id) {
  const state = native.__custodyState(id);
  if (state === 0) return;
  await leaves(native, state, HANDED);
  const holder = native.__custodyHolder(id);
  if (holder !== 0) {
    const released = new AbortController();
    leaves(native, state, CLAIMED).then(() => released.abort());
    // Shared: every side a thread holds has its watch waiting for that thread's end.
    await locks.request(lifeLock(token, holder), { mode: 'shared', signal: released.signal }, () => {}).catch(() => {});
  }
  native.__custodyEndWatch(id);
}

const words = (native) => new Int32Array(native.__custodyMemory().buffer);

/** Settles once the word at byte `address` of the module's memory is no longer `value`. */
async function leaves(native, address, value) {
  for (;;) {
    const wait = Atomics.waitAsync(words(native), address >> 2, value);
    if (!wait.async) {
      if (wait.value === 'not-equal') return;
    } else {
      await wait.value;
    }
  }
}
