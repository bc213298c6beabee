// Clear errors for the two mistakes wasm-bindgen's generated classes report unclearly: using an
// object after free() ("null pointer passed to rust") and passing an object of the wrong class
// ("expected instance of X", a plain Error where the API promises a TypeError).

/** Wraps every method and getter of each class so that those two mistakes say what happened. */
export function guardClasses(classes) {
  for (const cls of classes) {
    const proto = cls.prototype;
    for (const [name, desc] of Object.entries(Object.getOwnPropertyDescriptors(proto))) {
      if (name === 'constructor' || name === 'free') continue;
      if (typeof desc.value === 'function') {
        Object.defineProperty(proto, name, { ...desc, value: guarded(cls.name, name, desc.value) });
      } else if (desc.get) {
        Object.defineProperty(proto, name, { ...desc, get: guarded(cls.name, name, desc.get) });
      }
    }
    // Symbol.dispose is an alias of free(): keep it pointing at the real one.
  }
  return classes;
}

function guarded(className, member, fn) {
  return function (...args) {
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
  };
}
