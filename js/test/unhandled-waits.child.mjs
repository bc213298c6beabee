// Run by waits.test.mjs in a child process (OMNIBUF_UNHANDLED_CHILD=1): waits whose rejection the
// program never handles, one of each way a wait rejects, and one it does handle. Prints, as JSON, the
// label of each Promise Node reported with 'unhandledRejection' and the code of its error. (Loaded
// on its own by the test runner too: then it does nothing.)
if (process.env.OMNIBUF_UNHANDLED_CHILD !== undefined) {
  const { BufferPool, Circular } = await import('./impl.mjs');
  const labels = new Map();
  const reported = [];
  process.on('unhandledRejection', (error, promise) => reported.push([labels.get(promise) ?? 'unknown', error?.code]));
  const label = (name, promise) => labels.set(promise, name);

  const pool = new BufferPool({ budget: 4096, classes: [4096] });
  const held = pool.tryAcquire(4096);
  label('pool.acquire, signal aborted before', pool.acquire(4096, { signal: AbortSignal.abort() }));
  const controller = new AbortController();
  label('pool.acquire, aborted while waiting', pool.acquire(4096, { signal: controller.signal }));
  const emptyRing = Circular.withCapacity(4096);
  const reader = emptyRing.addReader();
  label('reader.sliceAsync, not a signal', reader.sliceAsync({ signal: 1 }));
  label('reader.sliceAsync, aborted while waiting', reader.sliceAsync({ signal: controller.signal }));
  // The same wait, handled: never reported.
  reader.sliceAsync({ signal: controller.signal }).catch(() => {});
  const fullRing = Circular.withCapacity(4096);
  fullRing.addReader();
  while (fullRing.write(new Uint8Array(fullRing.capacity)) > 0);
  label('writer.sliceAsync, writer freed while waiting', fullRing.sliceAsync());
  const otherReader = Circular.withCapacity(4096).addReader();
  label('reader.sliceAsync, reader freed while waiting', otherReader.sliceAsync());
  controller.abort();
  fullRing.free();
  otherReader.free();
  await new Promise((resolve) => setTimeout(resolve, 50));
  console.log(JSON.stringify(reported.sort()));
  held.free();
  reader.free();
  emptyRing.free();
}
