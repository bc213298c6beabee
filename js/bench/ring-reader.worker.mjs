// The reading side of the two-thread ring benchmark (js/bench/run.mjs), run in a worker.
//
// The main thread asks for a number of 64 KiB chunks through a small shared control block, writes them,
// and spins until this worker says it has read them all: the whole exchange stays synchronous, so it
// fits the harness's `run(ops)` like every other case. Control block (Int32Array over a
// SharedArrayBuffer): [0] request number (-1: stop), [1] chunks asked for, [2] last request done.
import { parentPort, workerData } from 'node:worker_threads';

export const REQUEST = 0;
export const CHUNKS = 1;
export const DONE = 2;

/** Reads `bytes` bytes from an omnibuf reader, waiting in the worker with sliceSync(). */
function readOmnibuf(reader, bytes) {
  let got = 0;
  while (got < bytes) {
    const view = reader.sliceSync(1000);
    if (view === null) throw new Error('the ring ended before the chunks asked for were read');
    const n = Math.min(view.length, bytes - got);
    reader.consume(n);
    got += n;
  }
}

/** Reads `bytes` bytes from a ringbuf.js ring into `out`, polling (it has no blocking wait). */
function readRingbufJs(ring, out, bytes) {
  let got = 0;
  while (got < bytes) got += ring.pop(out, Math.min(out.length, bytes - got));
}

if (parentPort !== null) {
  const { kind, chunk, control } = workerData;
  const ctl = new Int32Array(control);
  let read;
  let close;
  if (kind === 'addon') {
    const { CircularReader } = await import('../node.mjs');
    const reader = CircularReader.fromHandle(workerData.handle);
    read = (bytes) => readOmnibuf(reader, bytes);
    close = () => reader.free();
  } else {
    const { RingBuffer } = await import('ringbuf.js');
    const ring = new RingBuffer(workerData.storage, Uint8Array);
    const out = new Uint8Array(chunk);
    read = (bytes) => readRingbufJs(ring, out, bytes);
    close = () => {};
  }
  parentPort.postMessage('ready');
  let seen = 0;
  for (;;) {
    Atomics.wait(ctl, REQUEST, seen);
    seen = Atomics.load(ctl, REQUEST);
    if (seen < 0) break;
    read(Atomics.load(ctl, CHUNKS) * chunk);
    Atomics.store(ctl, DONE, seen);
  }
  close();
}
