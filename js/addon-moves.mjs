// The addon's views may not be moved. A view's ArrayBuffer is the native memory itself, and the addon
// detaches that ArrayBuffer, the one it made, before the memory is freed or reused
// (node/src/platform/views.rs). JS can move an ArrayBuffer's memory into a new ArrayBuffer, detaching
// the old one: the addon cannot know the new one, which would go on showing the memory after it was
// freed or handed to someone else (a crash, or another object's bytes). Node refuses or copies such
// moves in postMessage and structuredClone (it marks external buffers untransferable), but not in:
//
// - ArrayBuffer.prototype.transfer() and transferToFixedLength() (Node 22 on): refused, a TypeError;
// - a byte stream's controller.enqueue(view): it gets a copy of the view instead, which is its own;
// - a BYOB reader's read(view) and a BYOB request's respondWithNewView(view): refused, a TypeError
//   (a read into a copy would leave the view, a ring slice about to be produced, unfilled).
//
// To know a view's ArrayBuffer from any other, the members that hand out views file it in a WeakSet.
import * as web from 'node:stream/web';
import { coded } from './error-code.mjs';

const { apply } = Reflect;
const TypedArray = Object.getPrototypeOf(Uint8Array);
const getter = (proto, name) => Object.getOwnPropertyDescriptor(proto, name).get;
const typedBuffer = getter(TypedArray.prototype, 'buffer');
const dataViewBuffer = getter(DataView.prototype, 'buffer');

/** The ArrayBuffer under a typed array or DataView (by the built-in getters), else undefined. */
function bufferOf(value) {
  if (!ArrayBuffer.isView(value)) return undefined;
  try {
    return apply(typedBuffer, value, []);
  } catch {
    return apply(dataViewBuffer, value, []);
  }
}

function refusal(what) {
  return coded(
    new TypeError(`${what}: this ArrayBuffer is the memory of an omnibuf view and cannot be moved; copy it (new Uint8Array(view)) instead`),
    'ERR_INVALID_STATE',
  );
}

/** Replaces `proto[name]` by `make(original)`, keeping the property's attributes and the name. */
function replace(proto, name, make) {
  const descriptor = Object.getOwnPropertyDescriptor(proto, name);
  if (descriptor === undefined || typeof descriptor.value !== 'function') return;
  const original = descriptor.value;
  const replacement = make(original);
  Object.defineProperty(replacement, 'name', { value: original.name });
  Object.defineProperty(proto, name, { ...descriptor, value: replacement });
}

/** Files the ArrayBuffer of every view that `classes`' members hand out, and makes the movers above
 * refuse or copy those ArrayBuffers. */
export function guardViewsAgainstMoves({ ZeroCopyBuffer, PooledBuffer, CircularWriter, CircularReader }) {
  const viewBuffers = new WeakSet();
  const isView = (value) => {
    const buffer = bufferOf(value);
    return buffer !== undefined && viewBuffers.has(buffer);
  };
  const track = (view) => {
    if (view !== null && view.byteLength > 0) viewBuffers.add(view.buffer);
    return view;
  };
  const tracking = (cls, names, wrap) => {
    for (const name of names) {
      replace(cls.prototype, name, (original) => function (...args) {
        return wrap(apply(original, this, args));
      });
    }
  };
  tracking(ZeroCopyBuffer, ['view'], track);
  tracking(PooledBuffer, ['view'], track);
  for (const cls of [CircularWriter, CircularReader]) {
    tracking(cls, ['slice', 'sliceSync'], track);
    tracking(cls, ['sliceAsync'], (promise) => promise.then(track));
  }

  for (const name of ['transfer', 'transferToFixedLength']) {
    replace(ArrayBuffer.prototype, name, (move) => function (...args) {
      if (viewBuffers.has(this)) throw refusal(`ArrayBuffer.prototype.${name}`);
      return apply(move, this, args);
    });
  }
  replace(web.ReadableByteStreamController.prototype, 'enqueue', (enqueue) => function (chunk) {
    // A copy in a Uint8Array: what a byte stream's default reader hands out anyway.
    return apply(enqueue, this, [isView(chunk) ? new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength).slice() : chunk]);
  });
  replace(web.ReadableStreamBYOBReader.prototype, 'read', (read) => function (view, ...rest) {
    if (isView(view)) return Promise.reject(refusal('ReadableStreamBYOBReader.read'));
    return apply(read, this, [view, ...rest]);
  });
  replace(web.ReadableStreamBYOBRequest.prototype, 'respondWithNewView', (respond) => function (view) {
    if (isView(view)) throw refusal('ReadableStreamBYOBRequest.respondWithNewView');
    return apply(respond, this, [view]);
  });
}
