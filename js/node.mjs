// The Node entry of omnibuf: the napi-rs addon (node/omnibuf.node, built from source by
// node/build.mjs, which `npm install` runs). It implements js/index.d.ts over native memory.
import { createRequire } from 'node:module';
import { isMainThread } from 'node:worker_threads';

const require = createRequire(import.meta.url);
let addon;
try {
  addon = require('../node/omnibuf.node');
} catch (e) {
  throw new Error('omnibuf: the Node addon is missing or does not load; build it with `node node/build.mjs`', {
    cause: e,
  });
}

export const {
  ZeroCopyBuffer,
  BufferMut,
  BufferKind,
  BufferPool,
  PooledBuffer,
  Circular,
  CircularWriter,
  CircularReader,
  VirtualBuffer,
} = addon;

/** Whether view() and ring slices are Buffers over native memory (true) or copies (false: the runtime
 * forbids external buffers, as Electron does, or OMNIBUF_EXTERNAL_BUFFERS=0 asked for copies). */
export const externalBuffers = addon.externalBuffers();

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
