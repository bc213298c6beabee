// Waits the program can cancel and that let a Node process exit, the same in both builds: the
// `{ signal, ref }` options of BufferPool.acquire() and of the ring's sliceAsync() (js/index.d.ts).
//
// Each build's native method takes a ticket, `{ ref, id }`: it reads `ref` (the addon references its
// wake-up channel while a wait with `ref` is pending; the wasm build holds nothing of the event loop,
// so for it `holdLoop` keeps a timer while such a wait is pending) and writes the wait's `id`, which
// `cancelWait(id, reason)` takes when the signal aborts: the build drops the native wait there and
// then (the pool's queue and the ring no longer hold it) and rejects its Promise with `reason`.
//
// The rejection is Node's AbortError, as `timers/promises` and `fs/promises` give it: an Error named
// "AbortError" with code ABORT_ERR and the signal's reason as its `cause`; the one class below, in
// the browser too. Messages come from the binding core's table (src/binding/message.rs) through
// `makeError(number, ...)`.

/** Node's AbortError (Node does not export its class): what an aborted wait rejects with. */
export class AbortError extends Error {
  constructor(message = 'The operation was aborted', options = undefined) {
    super(message, options);
    this.code = 'ABORT_ERR';
    this.name = 'AbortError';
  }
}

const isSignal = (value) => typeof AbortSignal === 'function' && value instanceof AbortSignal;

/**
 * The wait helpers of one build. `makeError(which, a, b, c)` makes the binding core's error number
 * `which`; `cancelWait(id, reason)` cancels a native wait; `holdLoop`, for a build whose waits hold
 * nothing of the event loop (wasm in Node), keeps the loop alive while a wait with `ref` is pending.
 */
export function defineWaits({ makeError, cancelWait, holdLoop = false }) {
  // Asked when first needed: the browser build's table is there only once init() is done.
  let abortMessage;

  /** The AbortError of an aborted `signal`. */
  const abortError = (signal) => {
    abortMessage ??= makeError(7).message;
    return new AbortError(abortMessage, { cause: signal.reason });
  };

  /** `options` of a wait, checked: `{ signal, ref }`. */
  function waitOptions(options, member) {
    if (options === undefined || options === null) return { signal: undefined, ref: false };
    if (typeof options !== 'object') throw makeError(6);
    const { signal, ref } = options;
    if (signal !== undefined && !isSignal(signal)) throw makeError(4, member);
    if (ref !== undefined && typeof ref !== 'boolean') throw makeError(5, 'ref');
    return { signal, ref: ref === true };
  }

  /** A checked `signal` option of a stream or walk (`member` names it), or undefined. */
  function signalOption(options, member) {
    return waitOptions(options, member).signal;
  }

  // The wasm build in Node: one timer keeps the loop alive while waits with `ref` are pending.
  let held = 0;
  let timer;
  const hold = (promise) => {
    if (held++ === 0) timer = setInterval(() => {}, 1 << 30);
    const release = () => {
      if (--held === 0) clearInterval(timer);
    };
    promise.then(release, release);
  };

  /**
   * Starts a wait: `start(ticket)` calls the native method with the ticket and returns its Promise.
   * Rejects at once for bad options (a TypeError) or an aborted signal (nothing starts then).
   */
  function wait(member, options, start) {
    let signal;
    let ref;
    try {
      ({ signal, ref } = waitOptions(options, member));
    } catch (e) {
      return Promise.reject(e);
    }
    if (signal?.aborted) return Promise.reject(abortError(signal));
    const ticket = { ref, id: 0 };
    const promise = start(ticket);
    if (ref && holdLoop) hold(promise);
    if (signal === undefined) return promise;
    const onAbort = () => cancelWait(ticket.id, abortError(signal));
    signal.addEventListener('abort', onAbort, { once: true });
    const done = () => signal.removeEventListener('abort', onAbort);
    promise.then(done, done);
    return promise;
  }

  /** Waits for `promise` unless `signal` aborts first (work that cannot be cancelled natively). */
  function unlessAborted(promise, signal) {
    if (!signal) return promise;
    if (signal.aborted) return Promise.reject(abortError(signal));
    return new Promise((resolve, reject) => {
      const onAbort = () => reject(abortError(signal));
      signal.addEventListener('abort', onAbort, { once: true });
      promise.then(
        (value) => {
          signal.removeEventListener('abort', onAbort);
          resolve(value);
        },
        (error) => {
          signal.removeEventListener('abort', onAbort);
          reject(error);
        },
      );
    });
  }

  return { wait, waitOptions, signalOption, abortError, unlessAborted };
}

/** Gives the waits of a build's classes their options: BufferPool.acquire(size, tenant?, options?)
 * (or acquire(size, options?)) and sliceAsync(options?) of both ring sides. */
export function installWaits({ BufferPool, CircularWriter, CircularReader }, { wait }) {
  const replace = (cls, name, value) =>
    Object.defineProperty(cls.prototype, name, { ...Object.getOwnPropertyDescriptor(cls.prototype, name), value });

  const acquire = BufferPool.prototype.acquire;
  replace(BufferPool, 'acquire', {
    acquire(size, tenant, options) {
      if (typeof tenant === 'object' && tenant !== null) {
        options = tenant;
        tenant = undefined;
      }
      return wait('BufferPool.acquire', options, (ticket) => acquire.call(this, size, tenant, ticket));
    },
  }.acquire);
  for (const cls of [CircularWriter, CircularReader]) {
    const sliceAsync = cls.prototype.sliceAsync;
    const member = `${cls.name}.sliceAsync`;
    replace(cls, 'sliceAsync', {
      sliceAsync(options) {
        return wait(member, options, (ticket) => sliceAsync.call(this, ticket));
      },
    }.sliceAsync);
  }
}
