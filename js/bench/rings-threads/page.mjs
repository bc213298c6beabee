// The page of the browser ring benchmark (js/bench/rings-chromium.mjs): one case per call, each
// implementation's runs alternating, times in milliseconds.
import { init, threaded, Circular } from '../../web.mjs';
import { RingBuffer } from '/node_modules/ringbuf.js/dist/index.mjs';
import { omnibufProduce, ringbufProduce } from './sides.mjs';

const RING = 1 << 20;

function worker(setup) {
  const w = new Worker(new URL('./worker.mjs', import.meta.url), { type: 'module' });
  const next = () =>
    new Promise((resolve, reject) => {
      w.onmessage = ({ data }) => (data.error ? reject(new Error(data.error)) : resolve(data));
      w.onerror = (e) => reject(new Error(`bench worker: ${e.message}`));
    });
  const ready = next();
  w.postMessage({ setup });
  return { ready, run: (total) => { const done = next(); w.postMessage({ total }); return done; }, stop: () => w.terminate() };
}

/** The producer and the consumer of one implementation: `run(total)` moves `total` bytes once. */
async function sides(impl, from, chunk) {
  const source = new Uint8Array(chunk).map((_, i) => i * 7);
  let producer;
  let consumer;
  if (impl === 'omnibuf') {
    const writer = Circular.withCapacity(RING);
    consumer = worker({ impl, role: 'consumer', chunk, handle: writer.addReader().toHandle() });
    producer = from === 'page'
      ? { ready: null, run: async (total) => omnibufProduce(writer, source, total, false), stop: () => writer.free() }
      : worker({ impl, role: 'producer', chunk, handle: writer.toHandle() });
  } else {
    const storage = RingBuffer.getStorageForCapacity(RING, Uint8Array);
    consumer = worker({ impl, role: 'consumer', chunk, storage });
    if (from === 'page') {
      const ring = new RingBuffer(storage, Uint8Array);
      producer = { ready: null, run: async (total) => ringbufProduce(ring, source, total), stop: () => {} };
    } else {
      producer = worker({ impl, role: 'producer', chunk, storage });
    }
  }
  await Promise.all([producer.ready, consumer.ready]);
  return {
    async run(total) {
      const start = performance.now();
      const done = consumer.run(total);
      await producer.run(total);
      const { done: result } = await done;
      const ms = performance.now() - start;
      if (result.got !== total) throw new Error(`${impl}: ${result.got} of ${total} bytes arrived`);
      return ms;
    },
    stop() {
      producer.stop();
      consumer.stop();
    },
  };
}

/** `runs` timed runs of each implementation, alternating, after one warm-up run each. */
async function bench({ from, chunk, total, runs }) {
  const ours = await sides('omnibuf', from, chunk);
  const theirs = await sides('ringbuf.js', from, chunk);
  const times = { omnibuf: [], 'ringbuf.js': [] };
  await ours.run(total);
  await theirs.run(total);
  for (let i = 0; i < runs; i++) {
    times.omnibuf.push(await ours.run(total));
    times['ringbuf.js'].push(await theirs.run(total));
  }
  ours.stop();
  theirs.stop();
  return times;
}

window.ringBench = { bench, threaded };
await init();
document.body.dataset.ready = 'true';
