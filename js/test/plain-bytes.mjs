// The kinds of bytes js/index.d.ts types PlainBytes: over an ArrayBuffer in every build, never shared
// memory, which Blob, Response and crypto.subtle refuse. Shared by js/test/view-rules.test.mjs (both
// Node builds) and the page of js/e2e/rings-threads.test.mjs (both builds of the page: the threaded
// one keeps its rings in shared memory).

/** The name of each kind of PlainBytes that `api` (a build's module) hands out over anything but an
 * ArrayBuffer: none, where the types hold. */
export async function plainBytesOverSharedMemory({ BufferPool, Circular, VirtualBuffer, ZeroCopyBuffer }) {
  const shared = [];
  const check = (label, bytes) => {
    if (Object.prototype.toString.call(bytes.buffer) !== '[object ArrayBuffer]') shared.push(label);
  };
  const eachChunk = async (label, stream) => {
    const reader = stream.getReader();
    for (let step = await reader.read(); !step.done; step = await reader.read()) check(label, step.value);
  };

  const buffer = ZeroCopyBuffer.from('plain bytes');
  for (const name of ['view', 'bytes', 'sha256']) check(`ZeroCopyBuffer.${name}()`, buffer[name]());
  buffer.free();
  const pooled = await new BufferPool({ budget: 4096, classes: [64] }).acquire(16);
  pooled.append('pooled');
  check('PooledBuffer.view()', pooled.view());
  pooled.free();

  const writer = Circular.withCapacity(4096);
  const readers = Array.from({ length: 4 }, () => writer.addReader());
  writer.write('ring bytes');
  writer.free();
  check('CircularReader.read()', readers[0].read(4));
  for await (const chunk of readers[1]) check('for await over a reader', chunk);
  for await (const chunk of readers[2].chunks()) check('CircularReader.chunks()', chunk);
  await eachChunk('CircularReader.readableStream()', readers[3].readableStream());
  readers[0].free();

  const doc = VirtualBuffer.fromBytes('a document');
  for await (const chunk of doc.chunks()) check('VirtualBuffer.chunks()', chunk);
  await eachChunk('VirtualBuffer.readableStream()', doc.readableStream());
  doc.free();
  return shared;
}
