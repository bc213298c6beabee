// The producer: claims the ring's writer, writes `seconds` of the tone into it in place (sliceSync()
// blocks this worker while the ring is full), then frees the writer, which ends the stream.
import { init, CircularWriter } from '../../js/web.mjs';
import { FNV_START, fnv, sample } from './tone.mjs';

self.onmessage = async ({ data: { handle, rate, seconds } }) => {
  try {
    await init(handle);
    const writer = CircularWriter.fromHandle(handle);
    const total = rate * seconds;
    const four = new Float32Array(1);
    const fourBytes = new Uint8Array(four.buffer);
    let k = 0;
    let checksum = FNV_START;
    while (k < total) {
      const room = writer.sliceSync();
      // Whole samples only: the ring's capacity is a multiple of 4, so every slice is too.
      const n = Math.min(room.length >> 2, total - k);
      for (let i = 0; i < n; i++, k++) {
        four[0] = sample(k, rate);
        room.set(fourBytes, i * 4);
      }
      checksum = fnv(checksum, room, n * 4);
      writer.produce(n * 4);
    }
    writer.free();
    self.postMessage({ samples: total, checksum });
  } catch (e) {
    self.postMessage({ error: `${e?.name}: ${e?.message}` });
  }
};
