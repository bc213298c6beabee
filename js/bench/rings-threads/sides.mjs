// The two sides of the browser ring benchmark (js/bench/rings-chromium.mjs), for omnibuf's ring and
// for ringbuf.js, on the page or in a worker. Each moves `total` bytes as messages of `chunk` bytes:
// the producer copies each message from a source array into the ring and publishes it, the consumer
// takes each message in turn (omnibuf: in place, through the slice it holds; ringbuf.js: pop() into
// an array, its only way to read) and releases it.

/** omnibuf's producer: fills the slice in place; `wait` says whether it may block (sliceSync). */
export function omnibufProduce(writer, source, total, wait) {
  const chunk = source.length;
  let room = writer.slice();
  let at = 0;
  for (let sent = 0; sent < total; sent += chunk) {
    while (room.length - at < chunk) {
      room = wait ? writer.sliceSync() : writer.slice();
      at = 0;
    }
    room.set(source, at);
    writer.produce(chunk);
    at += chunk;
  }
}

/** omnibuf's consumer: each message read in place from the slice it holds. Returns the bytes. */
export function omnibufConsume(reader, chunk, total, wait) {
  let view = reader.slice();
  let at = 0;
  let got = 0;
  let check = 0;
  while (got < total) {
    while (view.length - at < chunk) {
      view = wait ? reader.sliceSync() : reader.slice();
      at = 0;
    }
    check ^= view[at + chunk - 1];
    reader.consume(chunk);
    at += chunk;
    got += chunk;
  }
  return { got, check };
}

/** ringbuf.js's producer: push() each message, retrying while the ring is full (it cannot wait). */
export function ringbufProduce(ring, source, total) {
  const chunk = source.length;
  for (let sent = 0; sent < total; sent += chunk) {
    let pushed = 0;
    while (pushed < chunk) pushed += ring.push(pushed === 0 ? source : source.subarray(pushed));
  }
}

/** ringbuf.js's consumer: pop() each message into `out`, retrying while the ring is empty. */
export function ringbufConsume(ring, out, total) {
  const chunk = out.length;
  let got = 0;
  let check = 0;
  while (got < total) {
    let popped = 0;
    while (popped < chunk) popped += ring.pop(popped === 0 ? out : out.subarray(popped));
    check ^= out[chunk - 1];
    got += chunk;
  }
  return { got, check };
}
