// Clear errors for the mistakes wasm-bindgen's generated classes report unclearly or not at all: using
// an object after free() ("null pointer passed to rust"), passing an object of the wrong class
// ("expected instance of X", a plain Error where the API promises a TypeError), and calling a method
// with `this` of another class (the glue would use that object's pointer as its own, corrupting wasm
// memory).

/** Wraps every method and getter of each class so that those mistakes say what happened. */
export function guardClasses(classes) {
  for (const cls of classes) {
    const proto = cls.prototype;
    for (const [name, desc] of Object.entries(Object.getOwnPropertyDescriptors(proto))) {
      // wasm-bindgen's own helpers (__destroy_into_raw, which free() calls) stay as they are.
      if (name === 'constructor' || name.startsWith('__')) continue;
      if (name === 'free') {
        // Freeing twice does nothing, as in the addon; freeing another class's object is refused.
        const free = desc.value;
        const once = function () {
          if (this.__wbg_ptr !== 0) free.call(this);
        };
        Object.defineProperty(proto, name, { ...desc, value: ofClass(cls, name, once) });
      } else if (typeof desc.value === 'function') {
        Object.defineProperty(proto, name, { ...desc, value: guarded(cls, name, desc.value) });
      } else if (desc.get) {
        Object.defineProperty(proto, name, { ...desc, get: guarded(cls, name, desc.get) });
      }
    }
    // Symbol.dispose is an alias of free(): point it at the guarded one.
    if (typeof Symbol.dispose === 'symbol' && Object.hasOwn(proto, Symbol.dispose)) {
      Object.defineProperty(proto, Symbol.dispose, { value: proto.free, writable: true, configurable: true });
    }
  }
  return classes;
}

/** `fn`, refusing a `this` of another class. */
function ofClass(cls, member, fn) {
  return function (...args) {
    if (!(this instanceof cls)) {
      throw new TypeError(`${cls.name}.${member}: called on an object that is not a ${cls.name}`);
    }
    return fn.apply(this, args);
  };
}

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

function guarded(cls, member, fn) {
  const className = cls.name;
  const guardedFn = ofClass(cls, member, function (...args) {
    // wasm-bindgen zeroes an object's pointer when it is freed (or consumed).
    if (this.__wbg_ptr === 0) {
      throw new Error(`${className}.${member}: this ${className} was freed and cannot be used any more`);
    }
    try {
      return fn.apply(this, args);
    } catch (e) {
      if (e instanceof Error && !(e instanceof TypeError) && /^expected instance of /.test(e.message)) {
        throw new TypeError(`${className}.${member}: ${e.message}`);
      }
      throw e;
    }
  });
  if (!RETURNS_PROMISE.has(`${className}.${member}`)) return guardedFn;
  return function (...args) {
    try {
      return guardedFn.apply(this, args);
    } catch (e) {
      return Promise.reject(e);
    }
  };
}
