// The Node entry of omnibuf: the napi-rs addon (a prebuilt platform package, or node/omnibuf.node
// built from source; js/addon-loader.mjs finds it). It implements js/index.d.ts over native memory. Every
// class is the addon's own except the JS classes that keep the calls made once per buffer cheap:
// ZeroCopyBuffer, over the addon's native storage (js/addon-zero-copy.mjs), whose slices never cross
// into native code, and BufferPool and PooledBuffer (js/addon-pool.mjs), whose buffers are handles into
// a native table.
import { isMainThread } from 'node:worker_threads';
import { addon } from './addon-loader.mjs';
import { definePool } from './addon-pool.mjs';
import { defineZeroCopyBuffer } from './addon-zero-copy.mjs';

const zeroCopy = defineZeroCopyBuffer(addon.ZeroCopyStorage);
export const ZeroCopyBuffer = zeroCopy.ZeroCopyBuffer;
const wrap = zeroCopy.wrap;
export const { BufferPool, PooledBuffer } = definePool(addon, wrap);

export const {
  BufferMut,
  BufferKind,
  Circular,
  CircularWriter,
  CircularReader,
  VirtualBuffer,
} = addon;

/** Whether view() and ring slices are Buffers over native memory (true) or copies (false: the runtime
 * forbids external buffers, as Electron does, or OMNIBUF_EXTERNAL_BUFFERS=0 asked for copies). */
export const externalBuffers = addon.externalBuffers();

// The native methods that make a ZeroCopyBuffer return its storage: these wrap it. (Every method of
// node/src that returns a `JsZeroCopyStorage`, apart from those the JS classes call themselves:
// the storage's own, and pooledFreeze.)
const replace = (cls, methods) => {
  for (const [name, value] of Object.entries(Object.getOwnPropertyDescriptors(methods))) {
    Object.defineProperty(cls.prototype, name, { ...Object.getOwnPropertyDescriptor(cls.prototype, name), ...value });
  }
};
const { freeze: bufferMutFreeze } = BufferMut.prototype;
const { read: virtualRead } = VirtualBuffer.prototype;
replace(BufferMut, {
  freeze() {
    return wrap(bufferMutFreeze.call(this));
  },
});
replace(VirtualBuffer, {
  read(start, end) {
    return virtualRead.call(this, start, end).then(wrap);
  },
});

const dispose = Symbol.dispose ?? Symbol.for('nodejs.dispose');
for (const cls of [ZeroCopyBuffer, BufferMut, BufferKind, BufferPool, PooledBuffer, Circular, CircularWriter, CircularReader, VirtualBuffer]) {
  Object.defineProperty(cls.prototype, dispose, { value: cls.prototype.free, writable: true, configurable: true });
}

// A blocking wait on the main thread would stall every callback, timer and Promise of the process.
if (isMainThread) {
  for (const cls of [CircularWriter, CircularReader]) {
    Object.defineProperty(cls.prototype, 'sliceSync', {
      value() {
        throw new Error(`${cls.name}.sliceSync() would block the main thread's event loop: use sliceAsync() here, or sliceSync() in a worker`);
      },
      writable: true,
      configurable: true,
    });
  }
}
