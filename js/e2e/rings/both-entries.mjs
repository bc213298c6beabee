// A dedicated worker that loads both the browser entry (js/web.mjs) and "omnibuf/worklet"
// (js/worklet.mjs), which share the threaded build's glue: its ring classes are made ready once, so
// each entry's members work on the sides the other's claimed. Posts what it read each way.
import { init, CircularReader as EntryReader } from '../../web.mjs';
import { initSync, readInto, CircularReader, CircularWriter } from '../../worklet.mjs';

self.onmessage = async ({ data: { writerHandle, readerHandle } }) => {
  initSync(writerHandle);
  await init(writerHandle);
  const writer = CircularWriter.fromHandle(writerHandle);
  const reader = EntryReader.fromHandle(readerHandle);
  writer.write(new TextEncoder().encode('one'));
  const target = new Uint8Array(8);
  const read = new TextDecoder().decode(target.subarray(0, readInto(reader, target)));
  writer.write(new TextEncoder().encode('two'));
  writer.free();
  const streamed = await new Response(reader.readableStream()).text();
  self.postMessage({ read, streamed, sameClass: reader instanceof CircularReader && reader instanceof EntryReader });
};
