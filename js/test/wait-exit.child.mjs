// Run by waits.test.mjs in a child process (OMNIBUF_WAIT_CHILD=<what>:<ref|unref>): one wait that a
// timer would satisfy, where the timer does not keep the process alive on its own (unref'd). An
// unref'd wait lets the process exit before the timer fires; a ref'd one keeps it alive until the
// timer satisfies it. The stream forms over a ring side (chunks, slices, readableStream, nodeReadable,
// writableStream, nodeWritable) take the same `ref` for their waits. (Loaded on its own by the test
// runner too: then it does nothing.)
const mode = process.env.OMNIBUF_WAIT_CHILD;

if (mode !== undefined) {
  const { BufferPool, Circular } = await import('./impl.mjs');
  const [what, how] = mode.split(':');
  const options = how === 'ref' ? { ref: true } : undefined;
  let waiting;
  let satisfy;
  if (what === 'pool') {
    const pool = new BufferPool({ budget: 4096, classes: [4096] });
    const held = pool.tryAcquire(4096);
    waiting = pool.acquire(4096, options);
    satisfy = () => held.free();
  } else if (what === 'reader') {
    const writer = Circular.withCapacity(4096);
    const reader = writer.addReader();
    waiting = reader.sliceAsync(options);
    satisfy = () => writer.write('x');
  } else if (what === 'writer') {
    const writer = Circular.withCapacity(4096);
    const reader = writer.addReader();
    while (writer.write(new Uint8Array(writer.capacity)) > 0);
    waiting = writer.sliceAsync(options);
    satisfy = () => reader.consume(reader.slice().length);
  } else if (['chunks', 'slices', 'readableStream', 'nodeReadable'].includes(what)) {
    // A ring's stream forms over a reader: their wait for data.
    const writer = Circular.withCapacity(4096);
    const reader = writer.addReader();
    if (what === 'nodeReadable') {
      const stream = reader.nodeReadable(options);
      waiting = new Promise((resolve) => stream.once('data', resolve)).then(() => stream.destroy());
    } else if (what === 'readableStream') {
      waiting = reader.readableStream(options).getReader().read();
    } else {
      waiting = reader[what](options).next();
    }
    satisfy = () => {
      writer.write('x');
      writer.free();
    };
  } else if (what === 'writableStream' || what === 'nodeWritable') {
    // A writer's stream forms: their wait for room in a full ring.
    const writer = Circular.withCapacity(4096);
    const reader = writer.addReader();
    while (writer.write(new Uint8Array(writer.capacity)) > 0);
    if (what === 'writableStream') {
      waiting = writer.writableStream(options).getWriter().write('x');
    } else {
      const stream = writer.nodeWritable(options);
      waiting = new Promise((resolve) => stream.write('x', resolve));
    }
    satisfy = () => reader.consume(reader.slice().length);
  } else {
    throw new Error(`unknown wait ${what}`);
  }
  waiting.then(() => console.log('satisfied'));
  setTimeout(satisfy, 300).unref();
  process.on('exit', () => console.log('exit'));
  console.log('waiting');
}
