// One 'abort' listener per AbortSignal for everything of this package that listens to it: waits,
// VirtualBuffer work, streams and walks. A signal shared by many pending calls is ordinary use (one
// per request, one for a whole shutdown), and Node warns of a leak (MaxListenersExceededWarning)
// once a signal has more than ten listeners of one event. So the calls' callbacks hang off a single
// listener, which the signal keeps only while some callback is left.

/** signal → `{ callbacks, listener }`: the callbacks still waiting on it (a Set keeps the order they
 * came in, as a signal runs its listeners), and the one listener that runs them. */
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
    entry = { callbacks, listener };
    waitingOn.set(signal, entry);
    signal.addEventListener('abort', listener, { once: true });
  }
  // A function of its own, so that the same callback given twice is two entries.
  const call = () => callback();
  entry.callbacks.add(call);
  return () => {
    if (!entry.callbacks.delete(call) || entry.callbacks.size > 0) return;
    if (waitingOn.get(signal) === entry) {
      waitingOn.delete(signal);
      signal.removeEventListener('abort', entry.listener);
    }
  };
}
