// The producer of the streams benchmarks' in-place rows, in Node (js/bench/streams.mjs) and in the
// page (js/bench/streams-chromium.mjs imports it from the served tree): no Node-only API.

/** Sends `total` bytes of `pattern` repeated through `writer` in place: fills all its free bytes (a
 * pattern's length at most per copy), publishes them, and so on; then ends the stream. */
export async function produceInPlace(writer, pattern, total) {
  for (let sent = 0; sent < total; ) {
    let free = writer.slice();
    if (free.length === 0) free = await writer.sliceAsync();
    const end = Math.min(free.length, total - sent);
    for (let i = 0; i < end; ) {
      const at = (sent + i) % pattern.length;
      const n = Math.min(end - i, pattern.length - at);
      free.set(pattern.subarray(at, at + n), i);
      i += n;
    }
    writer.produce(end);
    sent += end;
  }
  writer.free();
}
