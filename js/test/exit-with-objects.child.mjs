// Run by exit.test.mjs in a child process, or as a worker's script (OMNIBUF_EXIT_CHILD=plain, or
// =waiting to leave a wait pending too): makes objects of each kind, two views of one storage among
// them, lets the event loop turn once, and ends with all of them alive, so that the environment's
// teardown finalizes them. (Loaded on its own by the test runner too: then it does nothing.)
const mode = process.env.OMNIBUF_EXIT_CHILD;

if (mode !== undefined) {
  const { BufferPool, Circular, VirtualBuffer, ZeroCopyBuffer } = await import('./impl.mjs');
  const pool = new BufferPool({ budget: 1 << 20 });
  const stored = ZeroCopyBuffer.from('hello');
  const pooled = pool.tryAcquire(64);
  pooled.append('pooled');
  const writer = Circular.withCapacity(4096);
  const reader = writer.addReader();
  writer.write('unread');
  const doc = VirtualBuffer.fromBytes('a document\n');
  globalThis.kept = [pool, stored.view(), stored.slice(1).view(), pooled, pooled.view(), writer, reader, doc];
  if (mode === 'waiting') {
    reader.consume(6);
    globalThis.kept.push(reader.sliceAsync());
  }
  await new Promise((resolve) => setTimeout(resolve, 10));
  console.log('done');
}
