// A worker of the browser ring benchmark: sets up one side (omnibuf from a handle, ringbuf.js over
// the SharedArrayBuffer), says 'ready', and runs it on each 'go', answering with what it moved.
import { init, CircularReader, CircularWriter } from '../../web.mjs';
import { RingBuffer } from '/node_modules/ringbuf.js/dist/index.mjs';
import { omnibufConsume, omnibufProduce, ringbufConsume, ringbufProduce } from './sides.mjs';

let run;
self.onmessage = async ({ data }) => {
  try {
    if (data.setup) {
      const { impl, role, chunk } = data.setup;
      const source = new Uint8Array(chunk).map((_, i) => i * 7);
      if (impl === 'omnibuf') {
        await init(data.setup.handle);
        if (role === 'producer') {
          const writer = CircularWriter.fromHandle(data.setup.handle);
          run = (total) => omnibufProduce(writer, source, total, true);
        } else {
          const reader = CircularReader.fromHandle(data.setup.handle);
          run = (total) => omnibufConsume(reader, chunk, total, true);
        }
      } else {
        const ring = new RingBuffer(data.setup.storage, Uint8Array);
        const out = new Uint8Array(chunk);
        run = role === 'producer' ? (total) => ringbufProduce(ring, source, total) : (total) => ringbufConsume(ring, out, total);
      }
      self.postMessage({ ready: true });
    } else {
      self.postMessage({ done: run(data.total) ?? true });
    }
  } catch (e) {
    self.postMessage({ error: `${e?.name}: ${e?.message}` });
  }
};
