// What a wait puts on the AbortSignal it is given: one listener per call, gone when the call settles,
// so that a signal shared by many calls (one per request, say) stays under Node's warning threshold
// of ten listeners (Node 18 and 20 warn of a leak past it).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { getEventListeners } from 'node:events';
import { VirtualBuffer } from './impl.mjs';

const listeners = (signal) => getEventListeners(signal, 'abort').length;

test('VirtualBuffer reads put one abort listener each on their signal, and take it off when they settle', async () => {
  const buffer = VirtualBuffer.fromBytes('one\ntwo\nthree');
  const { signal } = new AbortController();
  const reads = Array.from({ length: 12 }, () => buffer.read(0, 3, { signal }));
  const counts = [buffer.lineCount({ signal }), buffer.find('two', 0, undefined, { signal })];
  assert.equal(listeners(signal), 14);
  for (const read of await Promise.all(reads)) read.free();
  assert.deepEqual(await Promise.all(counts), [3, 4]);
  assert.equal(listeners(signal), 0);
  buffer.free();
});

test('an abort still rejects a VirtualBuffer read at once, and takes its listener off', async () => {
  const buffer = VirtualBuffer.fromBytes('abc');
  const controller = new AbortController();
  const read = buffer.read(0, 3, { signal: controller.signal });
  controller.abort(new Error('no longer wanted'));
  await assert.rejects(read, { name: 'AbortError' });
  assert.equal(listeners(controller.signal), 0);
  buffer.free();
});
