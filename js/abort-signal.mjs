// How this package reads the AbortSignals it is given: through the platform's own getters and
// EventTarget's methods (a program's own properties on a signal are not looked at, as the platform's
// calls do not look at them), and with one 'abort' listener per AbortSignal for everything of this
// package that listens to it: waits, VirtualBuffer work, streams and walks. A signal shared by many
// pending calls is ordinary use (one per request, one for a whole shutdown), and Node warns of a leak
// (MaxListenersExceededWarning) once a signal has more than ten listeners of one event. So the calls'
// callbacks hang off a single listener, which the signal keeps only while some callback is left.

/** The platform's getters of a signal's `aborted` and `reason`, and EventTarget's methods, taken once:
 * a program that replaces them later changes nothing here. (Undefined where there are no signals.) */
const { apply } = Reflect;
const getter = (proto, name) => Object.getOwnPropertyDescriptor(proto, name).get;
const abortedOf = typeof AbortSignal === 'function' ? getter(AbortSignal.prototype, 'aborted') : undefined;
const reasonOf = typeof AbortSignal === 'function' ? getter(AbortSignal.prototype, 'reason') : undefined;
const { addEventListener: addListener, removeEventListener: removeListener } = globalThis.EventTarget?.prototype ?? {};

/** Whether `value` is an AbortSignal: one made by AbortSignal's own constructors, of any realm (a
 * same-origin iframe's too, as the platform's own calls take it). A brand check, where `instanceof`
 * would take an object made with AbortSignal.prototype, whose `aborted` then throws, and refuse
 * another realm's signals. */
export function isSignal(value) {
  if (abortedOf === undefined || value === null || typeof value !== 'object') return false;
  try {
    return typeof apply(abortedOf, value, []) === 'boolean';
  } catch {
    return false;
  }
}

/** Whether `signal` (undefined, null, or a signal isSignal() took) has aborted, read with the platform's
 * own getter, as signalReason() reads the reason: an own `aborted` property put on the signal (a
 * getter that throws, or one that says false after the abort) is not looked at, as the platform's
 * calls do not look at it. */
export function isAborted(signal) {
  return signal != null && apply(abortedOf, signal, []);
}

/** The reason a signal that isSignal() took was aborted with, read with the platform's own getter: an
 * own `reason` property put on the signal (a getter that throws, or one that says anything) is not
 * looked at, as the platform's calls do not look at it. */
export function signalReason(signal) {
  try {
    return apply(reasonOf, signal, []);
  } catch {
    return undefined;
  }
}

/** Adds `listener` to `signal` for its abort, and returns its removal, with EventTarget's own methods
 * (an own `addEventListener` of the signal's is not looked at, as the platform's calls do not look
 * at it). */
const listenPlainly = (signal, listener) => {
  apply(addListener, signal, ['abort', listener, { once: true }]);
  return () => apply(removeListener, signal, ['abort', listener]);
};

/** The way `onAbort` listens: `listenPlainly`, or Node's `events.addAbortListener` (listenWith()),
 * whose listener runs even where another listener of the signal calls `stopImmediatePropagation()`,
 * as Node's own APIs' do: a program's listener must not keep a wait from its cancellation. */
let listen = listenPlainly;

/** Makes the listeners Node's `events.addAbortListener` (Node 18.18 and 20.5 on; where it, or the
 * `Symbol.dispose` its result is removed by, is missing, the plain listener stays). It reads the
 * signal's `aborted` as a property, which an own property of the signal (or a prototype put between)
 * can shadow: a getter that throws would throw out of the call that listens, and one that says true
 * would call the listener of a signal that did not abort. So a signal whose `aborted` property does
 * not say what the platform's getter says (false, for onAbort listens only then) is listened to
 * plainly. */
export function listenWith(addAbortListener) {
  if (typeof addAbortListener !== 'function' || typeof Symbol.dispose !== 'symbol') return;
  listen = (signal, listener) => {
    let aborted;
    try {
      aborted = signal.aborted;
    } catch {
      aborted = undefined;
    }
    if (aborted !== false) return listenPlainly(signal, listener);
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
  if (isAborted(signal)) return () => {};
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
