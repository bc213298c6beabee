// A dedicated worker of the ring tests: claims a ring side from a handle and writes or reads the test
// stream (pattern.mjs) with sliceSync(), which blocks this worker; posts its tally when done. A
// writer given `abortWith` ends the stream with abort(abortWith) instead of free(); a reader's tally
// says why its stream ended (abortReason).
import { init, threaded, CircularReader, CircularWriter } from '../../web.mjs';
import { count, fill, tally } from './pattern.mjs';

self.onmessage = async ({ data }) => {
  try {
    const { handle, role, total, chunk } = data;
    await init(handle);
    if (role === 'writer') {
      const writer = CircularWriter.fromHandle(handle);
      let sent = 0;
      while (sent < total) {
        const room = writer.sliceSync();
        const n = Math.min(room.length, chunk, total - sent);
        fill(room.subarray(0, n), sent);
        writer.produce(n);
        sent += n;
      }
      if (data.abortWith === undefined) writer.free();
      else writer.abort(data.abortWith);
      self.postMessage({ threaded, sent });
    } else {
      const reader = CircularReader.fromHandle(handle);
      const t = tally();
      for (;;) {
        const slice = reader.sliceSync();
        if (slice === null) break;
        count(t, slice, data.capacity);
        reader.consume(slice.length);
      }
      t.abortReason = reader.abortReason;
      reader.free();
      self.postMessage({ threaded, ...t });
    }
  } catch (e) {
    self.postMessage({ error: `${e?.name}: ${e?.message}` });
  }
};
