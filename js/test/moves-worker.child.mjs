// Run by moves.test.mjs as a worker (workerData.what: 'buffer', 'slice' or 'pooled'): moves the memory
// of one view out of its ArrayBuffer with a mover the entry does not know, posts the moved bytes to
// the main thread, and ends. Node calls the finalizers of a worker's external buffers when the
// worker's environment shuts down, whether or not their memory moved first; the moved bytes must stay
// readable on the main thread all the same. With workerData.move false it keeps the view where it is
// and posts nothing: that memory must be freed when the worker ends. (Loaded outside a worker, it
// does nothing.)
import { isMainThread, parentPort, workerData } from 'node:worker_threads';
import * as web from 'node:stream/web';

if (!isMainThread && workerData?.what) {
  // Taken before the entry loads, as a mover the addon's JS layer does not know.
  const unguardedEnqueue = web.ReadableByteStreamController.prototype.enqueue;
  const { BufferPool, Circular, ZeroCopyBuffer } = await import('./impl.mjs');
  const size = workerData.size ?? 1 << 20;
  const fill = 0xaa;
  let view;
  let owners;
  switch (workerData.what) {
    case 'buffer': {
      const buffer = ZeroCopyBuffer.from(new Uint8Array(size).fill(fill));
      view = buffer.view();
      owners = [buffer];
      break;
    }
    case 'slice': {
      const writer = Circular.withCapacity(size);
      const reader = writer.addReader();
      writer.write(new Uint8Array(size).fill(fill));
      view = reader.slice();
      owners = [writer, reader];
      break;
    }
    case 'pooled': {
      const pool = new BufferPool({ budget: 2 * size, classes: [size] });
      const buffer = pool.tryAcquire(size);
      buffer.append(new Uint8Array(size).fill(fill));
      view = buffer.view();
      owners = [pool, buffer];
      break;
    }
  }
  globalThis.owners = [owners, view]; // alive until the worker's environment shuts down
  if (workerData.move === false) {
    parentPort.postMessage(null);
  } else {
    const stream = new web.ReadableStream({
      type: 'bytes',
      start(controller) {
        Reflect.apply(unguardedEnqueue, controller, [view]);
        controller.close();
      },
    });
    const { value: moved } = await stream.getReader().read();
    parentPort.postMessage({ moved, fill }, [moved.buffer]);
  }
  if (workerData.exit === 'terminate') await new Promise(() => setInterval(() => {}, 1000));
}
