// End to end: rings across browser threads in headless Chromium (the threaded build, pkg/web-threads),
// on a page served with the cross-origin isolation headers. Every reader checks each byte of the test
// stream (js/e2e/rings/pattern.mjs) in order as it reads, and its checksum at the end; the rings are
// small, so the stream goes round many times and slices cross the end of the ring. Without the headers
// the page loads the single-thread build, whose toHandle() says what to serve.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { serve } from '../../scripts/serve-web.mjs';
import { chromiumMissing as skip, launchChromium } from '../chromium.mjs';

let browser;
before(async () => {
  if (!skip) browser = await launchChromium();
});
after(() => browser?.close());

/** A page of the ring tests on a server with (or without) the isolation headers. */
async function ringsPage(isolated) {
  const { origin, server } = await serve(0, { isolated });
  const page = await browser.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(e));
  await page.goto(`${origin}/js/e2e/rings/index.html`);
  await page.waitForSelector('body[data-ready="true"]', { state: 'attached' });
  return { page, errors, close: async () => { await page.close(); server.close(); } };
}

/** Checks that each reader got all `total` bytes, in order, and a normal end. */
function assertDelivered(result, total, readers) {
  assert.equal(result.tallies.length, readers);
  for (const [i, t] of result.tallies.entries()) {
    assert.equal(t.firstWrong, -1, `reader ${i}: byte ${t.firstWrong} is wrong`);
    assert.equal(t.bytes, total, `reader ${i}: every byte arrived`);
    assert.equal(t.checksum, result.expected, `reader ${i}: the checksum of the stream`);
    assert.ok(t.acrossEnd > 0, `reader ${i}: some slices went across the end of the ring (${t.slices} slices)`);
    assert.equal(t.abortReason, null, `reader ${i}: a writer freed ends the stream without a reason`);
  }
}

test('page → workers: three readers in workers (sliceSync) and one on the page (sliceAsync)', { skip, timeout: 120_000 }, async () => {
  const { page, errors, close } = await ringsPage(true);
  try {
    assert.equal(await page.evaluate(() => window.omnibufRings.threaded), true, 'the isolated page loads the threaded build');
    const total = 3_000_000;
    const result = await page.evaluate((total) =>
      window.omnibufRings.scenario({ capacity: 4096, total, chunk: 1000, writerIn: 'page', workerReaders: 3, pageReaders: 1 }), total);
    assertDelivered(result, total, 4);
    assert.deepEqual(errors, []);
  } finally {
    await close();
  }
});

test('worker → workers: the writer blocks in sliceSync in its worker, readers in theirs, one on the page', { skip, timeout: 120_000 }, async () => {
  const { page, errors, close } = await ringsPage(true);
  try {
    const total = 3_000_000;
    const result = await page.evaluate((total) =>
      window.omnibufRings.scenario({ capacity: 4096, total, chunk: 777, writerIn: 'worker', workerReaders: 2, pageReaders: 1 }), total);
    assertDelivered(result, total, 3);
    assert.equal(result.wrote.sent, total);
    assert.equal(result.wrote.threaded, true);
    assert.deepEqual(errors, []);
  } finally {
    await close();
  }
});

test('a writer in a worker that aborts: every reader, in workers and on the page, gets every byte, then the reason', { skip, timeout: 120_000 }, async () => {
  const { page, errors, close } = await ringsPage(true);
  try {
    const total = 1_000_003;
    const result = await page.evaluate((total) =>
      window.omnibufRings.scenario({
        capacity: 4096, total, chunk: 777, writerIn: 'worker', workerReaders: 2, pageReaders: 1, pageStreams: 1,
        abortWith: 'the producer gave up',
      }), total);
    assert.equal(result.tallies.length, 4);
    for (const [i, t] of result.tallies.entries()) {
      assert.equal(t.firstWrong, -1, `reader ${i}: byte ${t.firstWrong} is wrong`);
      assert.equal(t.bytes, total, `reader ${i}: every byte arrived`);
      assert.equal(t.checksum, result.expected, `reader ${i}: the checksum of the stream`);
    }
    // The raw readers (two workers, the page) see the end and the reason; the stream errors.
    assert.deepEqual(result.tallies.slice(0, 3).map((t) => t.abortReason), Array(3).fill('the producer gave up'));
    assert.deepEqual(result.tallies[3].error, {
      code: 'ECONNABORTED',
      message: "the ring's writer aborted: the producer gave up",
    });
    assert.deepEqual(errors, []);
  } finally {
    await close();
  }
});

test('a writer in a worker terminated while it waits for room: the readers get every byte, then the end and why', { skip, timeout: 60_000 }, async () => {
  const { page, errors, close } = await ringsPage(true);
  try {
    const result = await page.evaluate(() => window.omnibufRings.leftBehind({ side: 'writer', capacity: 4096, chunk: 1000 }));
    assert.equal(result.wrote.sent, result.capacity, 'the worker filled the ring before it was terminated');
    for (const [i, t] of result.tallies.entries()) {
      assert.equal(t.firstWrong, -1, `reader ${i}: byte ${t.firstWrong} is wrong`);
      assert.equal(t.bytes, result.capacity, `reader ${i}: every byte written arrived`);
      assert.equal(t.checksum, result.expected, `reader ${i}: the checksum`);
    }
    const lost = 'the writer was not freed: it was garbage-collected, or its thread exited';
    assert.equal(result.tallies[0].abortReason, lost);
    assert.deepEqual(result.tallies[1].error, { code: 'ECONNABORTED', message: `the ring's writer aborted: ${lost}` });
    assert.deepEqual(errors, []);
  } finally {
    await close();
  }
});

test('a reader in a worker terminated while it holds the writer back: the writer goes on', { skip, timeout: 60_000 }, async () => {
  const { page, errors, close } = await ringsPage(true);
  try {
    const total = 200_000;
    const result = await page.evaluate((total) =>
      window.omnibufRings.leftBehind({ side: 'reader', capacity: 4096, total, chunk: 1000, stopAfter: 3000 }), total);
    assert.equal(result.left.bytes, 3000, 'the worker read its part before it was terminated');
    const [t] = result.tallies;
    assert.equal(t.firstWrong, -1, `byte ${t.firstWrong} is wrong`);
    assert.equal(t.bytes, total, 'the page reader got the whole stream');
    assert.equal(t.checksum, result.expected);
    assert.equal(t.abortReason, null, 'the page writer freed its writer: a normal end');
    assert.deepEqual(errors, []);
  } finally {
    await close();
  }
});

test('sides a worker made itself, the worker terminated: its writer ends the stream, its reader lets the writer go on', { skip, timeout: 60_000 }, async () => {
  const { page, errors, close } = await ringsPage(true);
  try {
    const made = await page.evaluate(() => window.omnibufRings.madeInWorker({ side: 'writer', capacity: 4096, chunk: 1000 }));
    const [t] = made.tallies;
    assert.equal(t.firstWrong, -1, `byte ${t.firstWrong} is wrong`);
    assert.equal(t.bytes, made.wrote.sent, 'every byte the worker wrote arrived');
    assert.equal(t.abortReason, 'the writer was not freed: it was garbage-collected, or its thread exited');

    const total = 100_000;
    const added = await page.evaluate((total) => window.omnibufRings.madeInWorker({ side: 'reader', capacity: 4096, total, chunk: 1000 }), total);
    assert.equal(added.tallies[0].bytes, total, 'the page reader got the whole stream past the lost reader');
    assert.equal(added.tallies[0].checksum, added.expected);
    assert.deepEqual(errors, []);
  } finally {
    await close();
  }
});

test('rings a worker makes and frees while the page is busy give their memory back at once', { skip, timeout: 60_000 }, async () => {
  const { page, errors, close } = await ringsPage(true);
  try {
    // 600 rings of 1 MiB (2 MiB of mirror-copy memory each): more than the 1 GiB the shared memory
    // may grow to, were each kept until the page's watch ends.
    const churned = await page.evaluate(() => window.omnibufRings.churnedInWorker({ rings: 600, capacity: 1 << 20 }));
    assert.equal(churned.error, undefined);
    assert.equal(churned.made, 600);
    assert.ok(churned.grewBy <= 64 << 20, `the shared memory grew by ${churned.grewBy} bytes`);
    assert.deepEqual(errors, []);
  } finally {
    await close();
  }
});

test('toHandle() with the shared memory full as its tables must grow: a RangeError, the side kept, and the page goes on', { skip, timeout: 120_000 }, async () => {
  const { page, errors, close } = await ringsPage(true);
  try {
    const out = await page.evaluate(() => window.omnibufRings.handedWithFullMemory());
    assert.equal(out.full?.name, 'RangeError', JSON.stringify(out.full));
    assert.equal(out.full.code, 'ERR_OUT_OF_RANGE');
    assert.match(out.full.message, /^cannot allocate \d+ bytes$/);
    assert.equal(out.stillKept, 0, 'the reader is still there, with nothing to read');
    assert.equal(out.moved, 'number', 'with the memory back, the reader moves to a handle');
    assert.equal(out.claimed, true);
    assert.deepEqual(errors, []);
  } finally {
    await close();
  }
});

test('a writer handed on by a worker that then blocks, lost by the worker it went to: the blocked worker\'s reader gets every byte, then the end and why', { skip, timeout: 60_000 }, async () => {
  const { page, errors, close } = await ringsPage(true);
  try {
    const total = 3000;
    const result = await page.evaluate((total) => window.omnibufRings.relayed({ capacity: 4096, total, chunk: 1000 }), total);
    assert.equal(result.wrote.sent, total);
    const [t] = result.tallies;
    assert.equal(t.firstWrong, -1, `byte ${t.firstWrong} is wrong`);
    assert.equal(t.bytes, total);
    assert.equal(t.checksum, result.expected);
    assert.equal(t.abortReason, 'the writer was not freed: it was garbage-collected, or its thread exited');
    assert.deepEqual(errors, []);
  } finally {
    await close();
  }
});

test('a reader moved on by a worker that is then terminated stays the new holder\'s', { skip, timeout: 60_000 }, async () => {
  const { page, errors, close } = await ringsPage(true);
  try {
    const total = 1_000_000;
    const result = await page.evaluate((total) => window.omnibufRings.movedOn({ capacity: 4096, total, chunk: 1000 }), total);
    assertDelivered(result, total, 1);
    assert.deepEqual(errors, []);
  } finally {
    await close();
  }
});

test('handles are claimed once, by their class; the page never blocks', { skip, timeout: 60_000 }, async () => {
  const { page, close } = await ringsPage(true);
  try {
    const out = await page.evaluate(() => window.omnibufRings.handleMisuse());
    assert.deepEqual(out.initSyncWithoutHandle, { name: 'TypeError', message: 'initSync needs the object toHandle() returned (it carries the module and the memory)' });
    assert.match(out.sliceSyncOnPage?.message, /CircularReader\.sliceSync\(\) would block the page's main thread.*sliceAsync.*or sliceSync\(\) in a dedicated worker$/);
    assert.match(out.writerSliceSyncOnPage?.message, /CircularWriter\.sliceSync\(\) would block the page's main thread/);
    assert.match(out.usedAfterMove?.message, /this CircularReader was moved to a handle/);
    for (const [i, error] of out.movedWithBadArguments.entries()) {
      assert.match(error?.message, /this Circular(Reader|Writer) was moved to a handle/, `misuse ${i}`);
    }
    assert.deepEqual(out.otherClass, { name: 'TypeError', message: 'this handle is of a CircularReader, not a CircularWriter' });
    assert.deepEqual(out.editedClass, out.otherClass);
    assert.equal(out.malformed?.name, 'TypeError');
    // In the addon's words (js/test/ring.test.mjs).
    assert.deepEqual(out.fractionalId, { name: 'TypeError', message: 'CircularReader.fromHandle needs the object toHandle() returned' });
    assert.deepEqual(out.freedAfterMove, { name: 'Error', message: 'this CircularReader was freed and cannot be used any more' });
    assert.match(out.claimedTwice?.message, /already claimed/);
    assert.equal(out.readBack, 'via handle');
  } finally {
    await close();
  }
});

test('a pending sliceAsync() of a side moved with toHandle() rejects as in the addon', { skip, timeout: 60_000 }, async () => {
  const { page, errors, close } = await ringsPage(true);
  try {
    const out = await page.evaluate(() => window.omnibufRings.movedWhileWaiting());
    const gone = (cls, how) => ({ name: 'Error', code: 'ERR_INVALID_STATE', message: `this ${cls} was ${how} and cannot be used any more` });
    // Settled without another call on the side (it does not wait for free()).
    assert.deepEqual(out.readerMoved, gone('CircularReader', 'moved to a handle'));
    assert.deepEqual(out.writerMoved, gone('CircularWriter', 'moved to a handle'));
    // Freed before the wait settled (the shape a differential fuzz run met): freed, in the addon too.
    assert.deepEqual(out.readerFreed, gone('CircularReader', 'freed'));
    assert.deepEqual(out.writerFreed, gone('CircularWriter', 'freed'));
    assert.deepEqual(errors, []);
  } finally {
    await close();
  }
});

test("a worker that ran only initSync(handle): the ring's stream forms give their own errors, and a signal aborts a writable stream", { skip, timeout: 60_000 }, async () => {
  const { page, errors, close } = await ringsPage(true);
  try {
    const out = await page.evaluate(() => window.omnibufRings.streamsAfterInitSync());
    assert.deepEqual(out.abortedLoop, { name: 'AbortError', code: 'ABORT_ERR', message: 'The operation was aborted' });
    assert.equal(out.badOptions?.name, 'TypeError');
    assert.equal(out.badOptions?.code, 'ERR_INVALID_ARG_TYPE');
    assert.equal(out.wrongReceiver?.code, 'ERR_INVALID_THIS');
    assert.deepEqual(out.badChunk, {
      name: 'TypeError',
      code: 'ERR_INVALID_ARG_TYPE',
      message: 'chunk must be a string, an ArrayBuffer, a SharedArrayBuffer, a typed array or a DataView, got 42',
    });
    assert.equal(out.afterAbort?.name, 'AbortError');
    assert.deepEqual(out.uncaught, []);
    assert.match(out.readerReason, /chunk must be/);
    assert.equal(out.secondReceived, 'first');
    assert.deepEqual(out.secondEnd, { code: 'ECONNABORTED', message: "the ring's writer aborted: stop now" });
    assert.deepEqual(errors, []);
  } finally {
    await close();
  }
});

test('the members an entry lacks say so: the Node stream forms on the page, the stream forms and async iteration in "omnibuf/worklet"', { skip, timeout: 60_000 }, async () => {
  const unavailable = (member, words) => ({ name: 'Error', code: 'ERR_FEATURE_UNAVAILABLE_ON_PLATFORM', message: `${member} ${words}` });
  const nodeOnly = (whatwg) => `is in the Node entries only: in the browser, use its WHATWG stream form, ${whatwg}`;
  for (const isolated of [true, false]) {
    const { page, errors, close } = await ringsPage(isolated);
    try {
      const out = await page.evaluate(() => window.omnibufRings.unavailableMembers());
      assert.deepEqual(out.nodeReadable, unavailable('CircularReader.nodeReadable()', nodeOnly('readableStream()')), `isolated: ${isolated}`);
      assert.deepEqual(out.nodeWritable, unavailable('CircularWriter.nodeWritable()', nodeOnly('writableStream()')));
      assert.deepEqual(out.documentNodeReadable, unavailable('VirtualBuffer.nodeReadable()', nodeOnly('readableStream()')));
      const notA = (member) => ({ name: 'TypeError', code: 'ERR_INVALID_THIS', message: `CircularReader.${member}: called on an object that is not a CircularReader` });
      assert.deepEqual(out.wrongReceiver, notA('nodeReadable'), 'the receiver first, as every member checks it');
      if (isolated) {
        const notInWorklet = 'is not in "omnibuf/worklet", which has the ring\'s own members and readInto(); the stream forms and async iteration are in the browser entry';
        assert.deepEqual(out.worklet.lacking, {
          readableStream: unavailable('CircularReader.readableStream()', notInWorklet),
          slices: unavailable('CircularReader.slices()', notInWorklet),
          chunks: unavailable('CircularReader.chunks()', notInWorklet),
          asyncIterator: unavailable('CircularReader[Symbol.asyncIterator]()', notInWorklet),
          nodeReadable: unavailable('CircularReader.nodeReadable()', notInWorklet),
          writableStream: unavailable('CircularWriter.writableStream()', notInWorklet),
          nodeWritable: unavailable('CircularWriter.nodeWritable()', notInWorklet),
          wrongReceiver: notA('slices'),
        });
        assert.equal(out.worklet.read, 'in the worklet', "the ring's own members and readInto() work there");
        const moved = { name: 'Error', code: 'ERR_INVALID_STATE', message: 'this CircularReader was moved to a handle and cannot be used any more' };
        assert.deepEqual(out.worklet.moved, { slice: moved, readInto: moved }, 'readInto() on a moved reader throws as its members do');
        assert.deepEqual(out.worklet.freed, { name: 'TypeError', code: undefined, message: 'readInto needs a live CircularReader' });
        // A worker that loads both entries: they share the threaded glue, whose classes are made ready once.
        assert.deepEqual(out.bothEntries, { read: 'one', streamed: 'two', sameClass: true });
      }
      assert.deepEqual(errors, []);
    } finally {
      await close();
    }
  }
});

test("slices(): a step whose body takes bytes from the reader takes the slice's over, in both builds of the page", { skip, timeout: 60_000 }, async () => {
  for (const isolated of [true, false]) {
    const { page, errors, close } = await ringsPage(isolated);
    try {
      assert.equal(await page.evaluate(() => window.omnibufRings.threaded), isolated);
      const out = await page.evaluate(() => window.omnibufRings.slicesTakenOver());
      assert.deepEqual(out, { seen: ['abc', 'defgh', 'fghij', 'ghijk'], left: 0 }, `isolated: ${isolated}`);
      assert.deepEqual(errors, []);
    } finally {
      await close();
    }
  }
});

test('bytes handed out, but for ring slices, are over an ArrayBuffer (PlainBytes), in both builds of the page', { skip, timeout: 60_000 }, async () => {
  for (const isolated of [true, false]) {
    const { page, errors, close } = await ringsPage(isolated);
    try {
      assert.equal(await page.evaluate(() => window.omnibufRings.threaded), isolated);
      assert.deepEqual(await page.evaluate(() => window.omnibufRings.plainBytes()), [], `isolated: ${isolated}`);
      assert.deepEqual(errors, []);
    } finally {
      await close();
    }
  }
});

test('without cross-origin isolation the single-thread build loads and toHandle() names the headers', { skip, timeout: 60_000 }, async () => {
  const { page, close } = await ringsPage(false);
  try {
    assert.equal(await page.evaluate(() => window.omnibufRings.threaded), false);
    const e = await page.evaluate(() => window.omnibufRings.handleError());
    assert.equal(e?.name, 'Error');
    assert.match(e.message, /crossOriginIsolated is false/);
    assert.match(e.message, /Cross-Origin-Opener-Policy: same-origin/);
    assert.match(e.message, /Cross-Origin-Embedder-Policy: require-corp/);
  } finally {
    await close();
  }
});

test('calls made before init() say so, in both builds of the page; the classes as exported are their objects\' constructors', { skip, timeout: 60_000 }, async () => {
  for (const isolated of [true, false]) {
    const { page, close } = await ringsPage(isolated);
    try {
      const out = await page.evaluate(() => window.omnibufRings.beforeInit);
      const said = (what) => ({
        name: 'Error',
        code: 'ERR_INVALID_STATE',
        message: `omnibuf: ${what} needs the wasm module, which init() loads: await init() first`,
      });
      assert.deepEqual(out.construct, said('new BufferMut()'), `isolated: ${isolated}`);
      assert.deepEqual(out.staticCall, said('ZeroCopyBuffer.from()'));
      assert.deepEqual(out.ring, said('Circular.withCapacity()'));
      assert.deepEqual(out.asyncStatic, said('VirtualBuffer.open()'));
      assert.equal(out.asyncStaticIsPromise, true, 'a static that returns a Promise rejects rather than throws');
      assert.deepEqual(await page.evaluate(() => window.omnibufRings.constructors()), { buffer: true, writer: true, prototype: true });
    } finally {
      await close();
    }
  }
});

test('init(handle) and initSync(handle) after an init() over another memory say so; their misuse is coded; a second handle of the same memory is fine', { skip, timeout: 60_000 }, async () => {
  const isolated = await ringsPage(true);
  const plain = await ringsPage(false);
  try {
    const out = await isolated.page.evaluate(async () => {
      const { init, Circular } = await import('/js/web.mjs');
      await init();
      const writer = Circular.withCapacity(4096);
      const handles = Array.from({ length: 5 }, () => writer.addReader().toHandle());
      const source = `
        import { init, initSync, CircularReader } from '${location.origin}/js/web.mjs';
        const describe = (e) => ({ name: e?.name, code: e?.code, message: e?.message });
        onmessage = async ({ data: { first, other, sync } }) => {
          const out = {};
          if (first === 'own') await init();
          else if (sync) initSync(first), await init(); // the rings module first, then the rest
          else await init(first);
          out.init = await init(other).then(() => 'loaded', describe);
          try { initSync(other); out.initSync = 'loaded'; } catch (e) { out.initSync = describe(e); }
          try { initSync({}); } catch (e) { out.initSyncOfNothing = describe(e); }
          try { CircularReader.fromHandle(other).free(); out.claimed = true; } catch (e) { out.claimed = describe(e); }
          postMessage(out);
        };`;
      const url = URL.createObjectURL(new Blob([source], { type: 'text/javascript' }));
      const run = (first, other, sync = false) =>
        new Promise((resolve, reject) => {
          const worker = new Worker(url, { type: 'module' });
          worker.onmessage = ({ data }) => (worker.terminate(), resolve(data));
          worker.onerror = (e) => reject(new Error(e.message));
          worker.postMessage({ first, other, sync });
        });
      const out = {
        afterOwn: await run('own', handles[0]),
        afterSameMemory: await run(handles[1], handles[2]),
        afterInitSync: await run(handles[3], handles[4], true),
      };
      writer.free();
      return out;
    });
    const otherMemory = (what) => ({
      name: 'Error',
      code: 'ERR_INVALID_STATE',
      message: `omnibuf: ${what}: this thread already loaded the rings module over another wasm memory (an earlier init()); a thread that takes rings by handle must call init(handle) before any other init()`,
    });
    assert.deepEqual(out.afterOwn.init, otherMemory('init(handle)'));
    assert.deepEqual(out.afterOwn.initSync, otherMemory('initSync(handle)'));
    assert.equal(out.afterOwn.claimed.code, 'ERR_INVALID_STATE');
    assert.deepEqual(out.afterOwn.initSyncOfNothing, {
      name: 'TypeError',
      code: 'ERR_INVALID_ARG_TYPE',
      message: 'initSync needs the object toHandle() returned (it carries the module and the memory)',
    });
    const fine = { init: 'loaded', initSync: 'loaded', initSyncOfNothing: out.afterOwn.initSyncOfNothing, claimed: true };
    assert.deepEqual(out.afterSameMemory, fine);
    assert.deepEqual(out.afterInitSync, fine);

    // Without cross-origin isolation: coded as toHandle() there, and init(handle) rejects with it as it is.
    const refused = await plain.page.evaluate(async () => {
      const { init, initSync } = await import('/js/web.mjs');
      const describe = (e) => ({ name: e?.name, code: e?.code, message: e?.message });
      const handle = { module: new WebAssembly.Module(new Uint8Array([0, 97, 115, 109, 1, 0, 0, 0])), memory: new WebAssembly.Memory({ initial: 1 }) };
      let sync;
      try {
        initSync(handle);
      } catch (e) {
        sync = describe(e);
      }
      return { sync, async: await init(handle).then(() => 'loaded', describe) };
    });
    for (const [what, e] of Object.entries(refused)) {
      assert.equal(e.code, 'ERR_INVALID_STATE', what);
      assert.match(e.message, /^omnibuf: init(Sync)?\(handle\) needs the threaded build.*crossOriginIsolated is false here/, what);
    }
  } finally {
    await isolated.close();
    await plain.close();
  }
});
