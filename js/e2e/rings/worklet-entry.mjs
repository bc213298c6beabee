// A dedicated worker that loads "omnibuf/worklet" (js/worklet.mjs) and nothing else, as an
// AudioWorklet does: claims a ring's writer and reader from their handles, calls the members that
// entry lacks (each should say so), reads with readInto(), and posts what happened.
import { initSync, readInto, CircularReader, CircularWriter } from '../../worklet.mjs';

/** What `f()` throws: the error's name, code and message, or null. */
function failure(f) {
  try {
    f();
    return null;
  } catch (e) {
    return { name: e?.name, code: e?.code, message: e?.message };
  }
}

self.onmessage = ({ data: { writerHandle, readerHandle } }) => {
  initSync(writerHandle);
  const writer = CircularWriter.fromHandle(writerHandle);
  const reader = CircularReader.fromHandle(readerHandle);
  const lacking = {
    readableStream: failure(() => reader.readableStream()),
    slices: failure(() => reader.slices()),
    chunks: failure(() => reader.chunks()),
    asyncIterator: failure(() => reader[Symbol.asyncIterator]()),
    nodeReadable: failure(() => reader.nodeReadable()),
    writableStream: failure(() => writer.writableStream()),
    nodeWritable: failure(() => writer.nodeWritable()),
    wrongReceiver: failure(() => CircularReader.prototype.slices.call({})),
  };
  // The ring's own members still work.
  writer.write(new TextEncoder().encode('in the worklet'));
  const target = new Uint8Array(32);
  const n = readInto(reader, target);
  const read = new TextDecoder().decode(target.subarray(0, n));
  // A reader moved to a handle is gone, for readInto() as for its own members.
  reader.toHandle();
  const moved = { slice: failure(() => reader.slice()), readInto: failure(() => readInto(reader, target)) };
  writer.free();
  reader.free();
  const freed = failure(() => readInto(reader, target));
  self.postMessage({ lacking, read, moved, freed });
};
