// One 'abort' listener per AbortSignal for everything of this package that listens to it: waits,
// VirtualBuffer work, streams and walks. A signal shared by many pending calls is ordinary use (one
// per request, one for a whole shutdown), and Node warns of a leak (MaxListenersExceededWarning)
// once a signal has more than ten listeners of one event. So the calls' callbacks hang off a single
// listener, which the signal keeps only while some callback is left.

/** Adds `listener` to `signal` for its abort, and returns its removal. In Node, the entries hand in
 * `events.addAbortListener` (listenWith()), whose listener runs even where another listener of the
 * signal calls `stopImmediatePropagation()`, as Node's own APIs' do: a program's listener must not
 * keep a wait from its cancellation. */
let listen = (signal, listener) => {
  signal.addEventListener('abort', listener, { once: true });
  return () => signal.removeEventListener('abort', listener);
};

/** Makes the listeners Node's `events.addAbortListener` (Node 18.18 and 20.5 on; where it, or the
 * `Symbol.dispose` its result is removed by, is missing, the plain listener stays). */
export function listenWith(addAbortListener) {
  if (typeof addAbortListener !== 'function' || typeof Symbol.dispose !== 'symbol') return;
  listen = (signal, listener) => {
    const disposable = addAbortListener(signal, listener);
    return () => disposable[Symbol.dispose]();
  };
}

/** signal → `{ callbacks, forget }`: the callbacks still waiting on it (a Set keeps the order they
 * came in, as a signal runs its listeners), and the removal of the one listener that runs them. */
const waitingOn = new WeakMap();

/**
 * Calls `callback()` once when `signal` aborts, unless `off()` (returned) was called before. A
 * callback that throws does not keep the others from running: its error is reported as a listener's
 * would be (uncaught, in a microtask). A signal that has aborted already never calls it, as it never
 * calls a listener added then: check `signal.aborted` first.
 */
export function onAbort(signal, callback) {
  if (signal.aborted) return () => {};
  let entry = waitingOn.get(signal);
  if (entry === undefined) {
    const callbacks = new Set();
    const listener = () => {
      waitingOn.delete(signal);
      for (const call of callbacks) {
        try {
          call();
        } catch (error) {
          queueMicrotask(() => {
            throw error;
          });
        }
      }
      callbacks.clear();
    };
    entry = { callbacks, forget: listen(signal, listener) };
    waitingOn.set(signal, entry);
  }
  // A function of its own, so that the same callback given twice is two entries.
  const call = () => callback();
  entry.callbacks.add(call);
  return () => {
    if (!entry.callbacks.delete(call) || entry.callbacks.size > 0) return;
    if (waitingOn.get(signal) === entry) {
      waitingOn.delete(signal);
      entry.forget();
    }
  };
}
