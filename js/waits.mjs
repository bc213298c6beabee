// Waits the program can cancel and that let a Node process exit, the same in both builds: the
// `{ signal, ref }` options of BufferPool.acquire() and of the ring's sliceAsync() (js/index.d.ts).
//
// Each build's native method takes a ticket, `{ ref, id }`: it reads `ref` (the addon references its
// wake-up channel while a wait with `ref` is pending; the wasm build holds nothing of the event loop,
// so for it `holdLoop` keeps a timer while such a wait is pending) and writes the wait's `id`, which
// `cancelWait(id, reason)` takes when the signal aborts: the build drops the native wait there and
// then (the pool's queue and the ring no longer hold it) and rejects its Promise with `reason`.
//
// VirtualBuffer's Promises (disk or IndexedDB work) take a ticket `{ id }` too, as the last argument
// of the native method, when they have a signal: `cancelWork(id)` takes the work out of the build's
// queue if it has not started (it then never runs); work already under way runs to its end and what
// it gives is freed. Saves and deletions take none (see cancellableWork).
//
// The rejection is Node's AbortError, as `timers/promises` and `fs/promises` give it: an Error named
// "AbortError" with code ABORT_ERR and the signal's reason as its `cause`; the one class below, in
// the browser too. Messages come from the binding core's table (src/binding/message.rs) through
// `makeError(number, ...)`.

import { isAborted, isSignal, onAbort, signalReason } from './abort-signal.mjs';
import { coded } from './error-code.mjs';

/** Node's AbortError (Node does not export its class): what an aborted wait rejects with. */
export class AbortError extends Error {
  constructor(message = 'The operation was aborted', options = undefined) {
    super(message, options);
    this.code = 'ABORT_ERR';
    this.name = 'AbortError';
  }
}

/** `value instanceof cls`, false where instanceof throws (a revoked Proxy). */
export function isInstance(value, cls) {
  try {
    return value instanceof cls;
  } catch {
    return false;
  }
}

/** `start()`'s Promise, or a rejected one with what it throws: a method that returns a Promise
 * rejects, never throws, in both builds (one build's method may throw where the other's rejects). */
const promiseOf = (start, ...args) => {
  try {
    return Promise.resolve(start(...args));
  } catch (error) {
    return Promise.reject(error);
  }
};

/**
 * The wait helpers of one build. `makeError(which, a, b, c, got)` makes the binding core's error
 * number `which` (`got`: the value given, for the messages that say what they got);
 * `cancelWait(id, reason)` cancels a native wait; `cancelWork(id)` cancels VirtualBuffer work that has
 * not started (returns whether it did); `holdLoop`, for a build whose waits hold nothing of the event
 * loop (wasm in Node), keeps the loop alive while a wait with `ref` is pending.
 */
export function defineWaits({ makeError, cancelWait, cancelWork, holdLoop = false }) {
  // Asked when first needed: the browser build's table is there only once init() is done.
  let abortMessage;

  /** The AbortError of an aborted `signal`. */
  const abortError = (signal) => {
    abortMessage ??= makeError(7).message;
    return new AbortError(abortMessage, { cause: signalReason(signal) });
  };

  /** `options[key]`, or the TypeError of an options object that cannot be read. */
  const readMember = (options, key) => {
    try {
      return options[key];
    } catch {
      throw makeError(11, key); // a throwing getter, a revoked Proxy
    }
  };

  /** `options` of a wait, checked: `{ signal, ref }`. */
  function waitOptions(options, member) {
    if (options === undefined || options === null) return { signal: undefined, ref: false };
    if (typeof options !== 'object') throw makeError(6, '', '', '', options);
    const signal = readMember(options, 'signal');
    const ref = readMember(options, 'ref');
    if (signal !== undefined && !isSignal(signal)) throw makeError(4, member, '', '', signal);
    if (ref !== undefined && typeof ref !== 'boolean') throw makeError(5, 'ref', '', '', ref);
    return { signal, ref: ref === true };
  }

  /** `options` of a Node stream factory, checked: `{ signal, ref, highWaterMark }`. Node's streams
   * check the highWaterMark itself (a TypeError, ERR_INVALID_ARG_VALUE), but take null for their
   * default: null is refused here with Node's error, as a member of an options object. */
  function nodeStreamOptions(options, member) {
    const { signal, ref } = waitOptions(options, member);
    const highWaterMark = options == null ? undefined : readMember(options, 'highWaterMark');
    if (highWaterMark === null) {
      const error = new TypeError("The property 'options.highWaterMark' is invalid. Received null");
      throw coded(error, 'ERR_INVALID_ARG_VALUE');
    }
    return { signal, ref, highWaterMark };
  }

  /** The checked `signal` of the options of a call that takes no other wait option (VirtualBuffer's
   * work, walks and streams: `member` names it), or undefined. Other members, `ref` among them, are
   * not read, as options a call does not take are not. */
  function signalOption(options, member) {
    if (options === undefined || options === null) return undefined;
    if (typeof options !== 'object') throw makeError(6, '', '', '', options);
    const signal = readMember(options, 'signal');
    if (signal !== undefined && !isSignal(signal)) throw makeError(4, member, '', '', signal);
    return signal;
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
    if (isAborted(signal)) return Promise.reject(abortError(signal));
    // Without a prototype: what the native method reads of it (`bare` too) is only what is set here,
    // whatever a program adds to Object.prototype.
    const ticket = { __proto__: null, ref, id: 0 };
    const promise = promiseOf(start, ticket);
    if (ref && holdLoop) hold(promise);
    // A wait served at the call has no id: nothing is left to cancel.
    if (signal === undefined || ticket.id === 0) return promise;
    const off = onAbort(signal, () => cancelWait(ticket.id, abortError(signal)));
    promise.then(off, off);
    return promise;
  }

  /** Waits for `promise` unless `signal` aborts first (work that cannot be cancelled natively). */
  function unlessAborted(promise, signal) {
    if (!signal) return promise;
    if (isAborted(signal)) return Promise.reject(abortError(signal));
    return new Promise((resolve, reject) => {
      const off = onAbort(signal, () => reject(abortError(signal)));
      promise.then((value) => (off(), resolve(value)), (error) => (off(), reject(error)));
    });
  }

  /**
   * Runs `start(ticket)` (a VirtualBuffer Promise: disk or IndexedDB work) unless `signal` is aborted.
   * `kind` says what an abort does once the work is called:
   * - `'read'`: rejects at once, cancels the work natively if it has not started
   *   (`cancelWork(ticket.id)`: it never runs), and `dispose`s what work already under way gives later;
   * - `'change'` (work that changes what is stored): rejects only when the work is cancelled natively
   *   before it started; work already started runs to its end and its Promise tells how that went,
   *   since an AbortError must not stand for a change that happened;
   * - `'start'`: the same for a change whose native method takes no ticket: an aborted signal keeps
   *   it from starting, and once called it runs to its end.
   */
  function cancellableWork(member, options, start, dispose, kind = 'read') {
    let signal;
    try {
      signal = signalOption(options, member);
    } catch (e) {
      return Promise.reject(e);
    }
    if (isAborted(signal)) return Promise.reject(abortError(signal));
    if (signal === undefined || kind === 'start') return promiseOf(start, undefined);
    const ticket = { __proto__: null, id: 0 };
    const promise = promiseOf(start, ticket);
    if (kind === 'change') {
      return new Promise((resolve, reject) => {
        const off = onAbort(signal, () => {
          if (ticket.id !== 0 && cancelWork?.(ticket.id)) reject(abortError(signal));
        });
        // Work cancelled natively rejects too: by then this Promise has rejected already.
        promise.then((value) => (off(), resolve(value)), (error) => (off(), reject(error)));
      });
    }
    // An abort rejects at once, cancels the work if it has not started, and marks what the work
    // gives later as nobody's, to be disposed of.
    return new Promise((resolve, reject) => {
      let abandoned = false;
      const off = onAbort(signal, () => {
        abandoned = true;
        if (ticket.id !== 0) cancelWork?.(ticket.id);
        reject(abortError(signal));
      });
      promise.then(
        (value) => {
          off();
          if (abandoned) dispose?.(value);
          else resolve(value);
        },
        (error) => {
          off();
          reject(error);
        },
      );
    });
  }

  /** The TypeError of `cls.member` called with `this` of another class. */
  const wrongReceiver = (cls, member) => makeError(0, cls, member);

  /** The TypeError of a bytes argument `what` of another type, `got` (as write() throws it). */
  const notBytes = (what, got) => makeError(10, what, '', '', got);

  return { wait, waitOptions, nodeStreamOptions, signalOption, abortError, unlessAborted, cancellableWork, wrongReceiver, notBytes };
}

/**
 * The rejection a call on `object` gets before it looks at its arguments, or undefined: the member's
 * TypeError (`wrong()`) for a receiver that is not of `cls` (a revoked Proxy too, or an object made
 * with its prototype, which `brand`, a getter of the build's, refuses), and the Error of an object
 * freed or handed on, which `brand` throws.
 */
function refusal(object, cls, brand, wrong) {
  if (!isInstance(object, cls)) return Promise.reject(wrong());
  try {
    Reflect.apply(brand, object, []);
    return undefined;
  } catch (error) {
    return Promise.reject(error?.code === 'ERR_INVALID_THIS' ? wrong() : error);
  }
}

/**
 * `options` with the `keys` a build would read of them while it holds the receiver (save()'s
 * `force`) read here instead, once, into a plain object. A getter that calls back into the buffer
 * then runs before the build holds it, the same in both builds (read by the build, it ran while the
 * buffer was held: the addon refused its call, the wasm build took it). A key whose getter throws
 * gets a getter that throws again, so the build words the error as before. Anything but an object
 * goes on as it is, for the build to refuse.
 */
function readHere(options, keys) {
  if (options === null || typeof options !== 'object') return options;
  const read = { __proto__: null };
  for (const key of keys) {
    try {
      read[key] = options[key];
    } catch (error) {
      Object.defineProperty(read, key, {
        get() {
          throw error;
        },
      });
    }
  }
  return read;
}

/**
 * Gives VirtualBuffer's Promise methods a `signal` (js/index.d.ts): open(path, options),
 * import(name, source, options), read(start, end?, options?), find(pattern, start?, end?, options?),
 * lineCount(options?), lineToOffset(line, options?), offsetToLine(offset, options?),
 * save(options?), saveAs(path, options?), and the browser's list(options?),
 * deleteDocument(name, options?), exportDocument(name, options?). Reads reject at once when the
 * signal aborts: the native work is cancelled if it has not started, and what work under way gives
 * later is freed. An import rejects only when it is cancelled before it started; saves and deletions
 * only refuse to start.
 *
 * The native methods take the ticket (cancellableWork) as one more argument: after `options` for the
 * members with options of their own, in place of the options for the others (read(start, end,
 * ticket), lineCount(ticket), open(path, options, ticket)).
 */
export function installDocumentSignals(original, { cancellableWork, wrongReceiver }) {
  const free = (value) => value?.free?.();
  // Static methods that cannot be redefined (napi-rs makes them read-only) are defined on a class
  // that is the same in every other way: the same prototype (so instanceof and every method hold,
  // and an instance's `constructor` is this class), the original's static members copied, `new` and a
  // call refused as the original refuses them. Returned, to be exported instead. The original is
  // not reachable from it (not its prototype, not the prototype's `constructor`): its statics are
  // the unwrapped ones, which would skip what the wrappers add (signals, js/addon-files.mjs's checks).
  const frozen = (name) => {
    const d = Object.getOwnPropertyDescriptor(original, name);
    return d !== undefined && !d.configurable && !d.writable;
  };
  let VirtualBuffer = original;
  if (['open', 'import', 'list', 'deleteDocument', 'exportDocument'].some(frozen)) {
    VirtualBuffer = function VirtualBuffer(...args) {
      if (new.target === undefined) return original(...args); // refused there, as a call
      return Reflect.construct(original, args, new.target);
    };
    VirtualBuffer.prototype = original.prototype;
    Object.defineProperty(original.prototype, 'constructor', { value: VirtualBuffer, writable: true, configurable: true });
    for (const name of Reflect.ownKeys(original)) {
      if (['length', 'name', 'prototype', 'arguments', 'caller'].includes(name)) continue;
      const d = Object.getOwnPropertyDescriptor(original, name);
      Object.defineProperty(VirtualBuffer, name, { ...d, ...('value' in d ? { writable: true } : {}), configurable: true });
    }
  }
  const lengthOf = Object.getOwnPropertyDescriptor(VirtualBuffer.prototype, 'length').get;
  // [name, static?, index of the options argument, dispose, kind (cancellableWork), options read
  // here rather than by the build (readHere)]
  const members = [
    ['open', true, 1, free],
    ['import', true, 2, free, 'change'],
    ['list', true, 0],
    ['deleteDocument', true, 1, undefined, 'start'],
    ['exportDocument', true, 1],
    ['read', false, 2, free],
    ['find', false, 3],
    ['lineCount', false, 0],
    ['lineToOffset', false, 1],
    ['offsetToLine', false, 1],
    ['save', false, 0, undefined, 'start', ['force']],
    ['saveAs', false, 1, undefined, 'start'],
  ];
  for (const [name, isStatic, at, dispose, kind, readKeys] of members) {
    const target = isStatic ? VirtualBuffer : VirtualBuffer.prototype;
    const descriptor = Object.getOwnPropertyDescriptor(target, name);
    if (typeof descriptor?.value !== 'function') continue; // not in this build
    const original = descriptor.value;
    const member = `VirtualBuffer.${name}`;
    // Options of their own (open, import, save; the browser's list, deleteDocument, exportDocument
    // with their `store`) go on to the build as they are, `signal` and all.
    const passOptions = ['open', 'import', 'save', 'list', 'deleteDocument', 'exportDocument'].includes(name);
    const slot = passOptions ? at + 1 : at;
    const wrapped = {
      [name](...args) {
        // The receiver first, as every other member checks it, and a freed buffer's Error before
        // the options are looked at (the build's own checks come only after them).
        const refused = isStatic ? undefined : refusal(this, VirtualBuffer, lengthOf, () => wrongReceiver('VirtualBuffer', name));
        if (refused !== undefined) return refused;
        // Anything there but undefined or null is options: a TypeError unless it is an object.
        const options = args[at];
        if (!passOptions && at < args.length) args.length = at;
        else if (readKeys !== undefined && at < args.length) args[at] = readHere(options, readKeys);
        const start = (ticket) => {
          if (ticket === undefined) return Reflect.apply(original, this, args);
          const withTicket = Array.from({ length: slot }, (_, i) => args[i]);
          withTicket.push(ticket);
          return Reflect.apply(original, this, withTicket);
        };
        return cancellableWork(member, options, start, dispose, kind);
      },
    }[name];
    Object.defineProperty(target, name, { ...descriptor, value: wrapped });
  }
  return VirtualBuffer;
}

/** The method, on both ring sides, that the stream forms wait with: `side[whenReady]({ signal, ref })`
 * settles once there is room or data (or the end), as sliceAsync({ signal, ref }) would, with a value
 * not to be used: the stream forms copy with write() and readInto(), so the builds skip making the slice
 * where they can (the ticket's `bare`: the addon's sides and the wasm reader). */
export const whenReady = Symbol('omnibuf.whenReady');

/** Gives the waits of a build's classes their options: BufferPool.acquire(size, tenant?, options?)
 * (or acquire(size, options?)) and sliceAsync(options?) of both ring sides. Each class is optional:
 * the browser's threaded build brings only the ring's. */
export function installWaits(classes, { wait, wrongReceiver }) {
  const { BufferPool, CircularWriter, CircularReader } = classes;
  // Each class by its API name, never its `name`, which a bundler may have changed.
  const nameOf = new Map(Object.entries(classes).map(([name, cls]) => [cls, name]));
  const replace = (cls, name, value) =>
    Object.defineProperty(cls.prototype, name, { ...Object.getOwnPropertyDescriptor(cls.prototype, name), value });
  // A pending wait keeps the object it waits on alive, as a pending file operation keeps its handle:
  // otherwise collecting an object nobody else refers to would free it and end the wait someone
  // awaits. The set holds it until the wait settles: that the build holds its Promise is not
  // enough everywhere (Bun collected such objects, in both builds). The program gets the Promise of
  // the reaction that lets go, which settles as the wait does: a reaction marks its own Promise's
  // rejection handled, so a rejection the program leaves unhandled must come from one it holds, to
  // be reported as any other (Node ends the process for it by default). Each wait adds an entry of
  // its own, not the object: an object may have several waits, and the first to settle must not let
  // go of it for the others.
  const waiting = new Set();
  const keepAlive = (object, promise) => {
    const entry = { object };
    waiting.add(entry);
    return promise.then(
      (value) => (waiting.delete(entry), value),
      (error) => {
        waiting.delete(entry);
        throw error;
      },
    );
  };
  // A receiver of another class rejects with the table's TypeError, whatever it is (a revoked Proxy
  // too, on which the build's own check would throw the engine's error). An object freed (or handed
  // on) rejects with its Error before the options are looked at, as every member's arguments are:
  // a getter of the build's says which.
  const brandGetters = new Map(
    [
      [BufferPool, 'budget'],
      [CircularWriter, 'capacity'],
      [CircularReader, 'abortReason'],
    ]
      .filter(([cls]) => cls !== undefined)
      .map(([cls, name]) => [cls, Object.getOwnPropertyDescriptor(cls.prototype, name).get]),
  );
  const waitOf = (cls, member, object, start) => {
    const refused = refusal(object, cls, brandGetters.get(cls), () => wrongReceiver(nameOf.get(cls), member));
    return refused ?? keepAlive(object, start());
  };

  const acquire = BufferPool?.prototype.acquire;
  if (BufferPool) replace(BufferPool, 'acquire', {
    acquire(size, tenant, options) {
      // acquire(size, options): an object where the tenant goes is the options, unless options
      // follow it (then it is a tenant of the wrong type, which acquire() refuses).
      if (typeof tenant === 'object' && tenant !== null && options === undefined) {
        options = tenant;
        tenant = undefined;
      }
      return waitOf(BufferPool, 'acquire', this, () =>
        wait('BufferPool.acquire', options, (ticket) => acquire.call(this, size, tenant, ticket)),
      );
    },
  }.acquire);
  for (const cls of [CircularWriter, CircularReader].filter(Boolean)) {
    const sliceAsync = cls.prototype.sliceAsync;
    const member = `${nameOf.get(cls)}.sliceAsync`;
    replace(cls, 'sliceAsync', {
      sliceAsync(options) {
        return waitOf(cls, 'sliceAsync', this, () => wait(member, options, (ticket) => sliceAsync.call(this, ticket)));
      },
    }.sliceAsync);
    Object.defineProperty(cls.prototype, whenReady, {
      value(options) {
        return waitOf(cls, 'sliceAsync', this, () =>
          wait(member, options, (ticket) => sliceAsync.call(this, Object.assign(ticket, { bare: true }))),
        );
      },
      writable: true,
      configurable: true,
    });
  }
}
