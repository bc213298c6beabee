// Streams in Chromium: bytes piped through a ring with pipeTo (a WritableStream in, a byte
// ReadableStream out, read with a BYOB reader), checked end to end, and a VirtualBuffer range turned
// into a Response; aborts; the renderer's memory while a pipe runs into a ring's backpressure.
// OMNIBUF_STREAM_MIB sets how much goes through the ring (default 32, and at least 256 for the
// memory test; 1024 for the 1 GiB run). Needs the wasm build (scripts/build-wasm.sh) and Chromium
// (js/chromium.mjs); the memory test, Linux's /proc.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { serve } from '../../scripts/serve-web.mjs';
import { chromiumMissing as skip, launchChromium } from '../chromium.mjs';

const MIB = Number(process.env.OMNIBUF_STREAM_MIB ?? 32);

/** Evaluates `fn(arg)` in a page of the served repository in headless Chromium and returns what it
 * returns; fails on any uncaught error there. The page is cross-origin isolated (the threaded build's
 * rings) unless `isolated` is false. */
async function inPage(fn, arg, { isolated = true } = {}) {
  const { url, server } = await serve(0, { isolated });
  const browser = await launchChromium();
  try {
    const page = await browser.newPage();
    const errors = [];
    page.on('pageerror', (e) => errors.push(e));
    await page.goto(url);
    const out = await page.evaluate(fn, arg);
    assert.deepEqual(errors, []);
    return out;
  } finally {
    await browser.close();
    server.close();
  }
}

test(`pipeTo ${MIB} MiB through a ring in Chromium; a document range as a Response`, { skip, timeout: 600_000 }, async () => {
  const result = await inPage(async (mib) => {
    const { init, Circular, VirtualBuffer } = await import('/js/web.mjs');
    await init();
    const CHUNK = 64 << 10;
    const chunks = (mib << 20) / CHUNK;
    // A running checksum over position and value, on both sides: a lost, doubled or moved chunk shows.
    const mix = (sum, bytes, at) => {
      for (let i = 0; i < bytes.length; i += 997) sum = (Math.imul(sum ^ bytes[i], 16777619) + at + i) >>> 0;
      return sum;
    };
    let sent = 2166136261;
    const source = new ReadableStream({
      pull(controller) {
        if (this.i === chunks) return controller.close();
        const bytes = new Uint8Array(CHUNK);
        for (let j = 0; j < CHUNK; j += 997) bytes[j] = (this.i * 31 + j) & 0xff;
        sent = mix(sent, bytes, this.i * CHUNK);
        this.i++;
        controller.enqueue(bytes);
      },
      i: 0,
    });
    const writer = Circular.withCapacity(1 << 20);
    const readable = writer.addReader().readableStream();
    const start = performance.now();
    const piping = source.pipeTo(writer.writableStream());
    const byob = readable.getReader({ mode: 'byob' });
    let received = 2166136261;
    let total = 0;
    let buffer = new ArrayBuffer(CHUNK);
    // The checksum needs each chunk's bytes at their positions: collect whole chunks first.
    let pending = new Uint8Array(0);
    for (;;) {
      const { value, done } = await byob.read(new Uint8Array(buffer));
      if (done) break;
      const joined = new Uint8Array(pending.length + value.length);
      joined.set(pending);
      joined.set(value, pending.length);
      let offset = 0;
      for (; joined.length - offset >= CHUNK; offset += CHUNK) {
        received = mix(received, joined.subarray(offset, offset + CHUNK), total);
        total += CHUNK;
      }
      pending = joined.slice(offset);
      buffer = value.buffer;
    }
    await piping;
    const ms = performance.now() - start;

    const doc = VirtualBuffer.fromBytes(new TextEncoder().encode('hello, streams\nsecond line\n'));
    const text = await new Response(doc.readableStream(7, 14)).text();
    const lines = [];
    for await (const line of doc.lines()) lines.push(line);
    doc.free();
    return { sent, received, total, leftover: pending.length, ms, text, lines };
  }, MIB);
  assert.equal(result.leftover, 0);
  assert.equal(result.total, MIB << 20);
  assert.equal(result.received, result.sent, 'the bytes arrived in order');
  assert.equal(result.text, 'streams');
  assert.deepEqual(result.lines, ['hello, streams', 'second line']);
  console.log(`# ${MIB} MiB through the ring with pipeTo in Chromium: ${result.ms.toFixed(0)} ms`);
});

test('abort in Chromium: a pipeTo into a full ring, a pool wait, a ring wait and IndexedDB work end, leaving nothing waiting', { skip, timeout: 300_000 }, async () => {
  const result = await inPage(async () => {
    const { init, BufferPool, Circular, VirtualBuffer, __pendingWaits, __workCounts } = await import('/js/web.mjs');
    await init();
    const turn = () => new Promise((resolve) => setTimeout(resolve, 0));
    const outcome = async (promise) => promise.then(() => 'resolved', (e) => `${e.name}/${e.code ?? ''}`);
    // pipeTo a source that never ends into a ring nobody reads, aborted while its write waits.
    const writer = Circular.withCapacity(64 << 10);
    const reader = writer.addReader();
    const controller = new AbortController();
    const source = new ReadableStream({ pull: (c) => c.enqueue(new Uint8Array(4096)) });
    const piping = outcome(source.pipeTo(writer.writableStream({ signal: controller.signal }), { signal: controller.signal }));
    while (__pendingWaits() === 0) await turn();
    const waitingWhilePiping = __pendingWaits();
    controller.abort();
    const pipe = await piping;
    reader.consume(reader.slice().length);
    const writerFreed = reader.slice() === null;
    // A pool wait aborted; the budget stays whole.
    const pool = new BufferPool({ budget: 4096, classes: [4096] });
    const held = pool.tryAcquire(4096);
    const stop = new AbortController();
    const acquiring = outcome(pool.acquire(4096, { signal: stop.signal }));
    await turn();
    const queued = pool.snapshot().waiting;
    stop.abort();
    const acquire = await acquiring;
    held.free();
    const whole = pool.tryAcquire(4096) !== null;
    // A reader's wait aborted.
    const quiet = Circular.withCapacity(4096).addReader();
    const halt = new AbortController();
    const reading = outcome(quiet.sliceAsync({ signal: halt.signal }));
    halt.abort();
    const read = await reading;
    // IndexedDB work aborted before it starts (its first step comes in a later microtask) never runs.
    const doc = await VirtualBuffer.import('omnibuf-e2e-cancel', 'one\ntwo\n');
    const [pending, ran] = __workCounts();
    const cut = new AbortController();
    const cutWork = [doc.read(0, 3, { signal: cut.signal }), VirtualBuffer.open('omnibuf-e2e-cancel', { signal: cut.signal })];
    cut.abort();
    const vbuf = await Promise.all(cutWork.map(outcome));
    await turn();
    const [pendingAfter, ranAfter] = __workCounts();
    await VirtualBuffer.deleteDocument('omnibuf-e2e-cancel');
    doc.free();
    return {
      waitingWhilePiping, pipe, writerFreed, queued, acquire, whole, read, left: __pendingWaits(), poolWaiting: pool.snapshot().waiting,
      vbuf, workLeft: pendingAfter - pending, workRan: ranAfter - ran,
    };
  });
  // pipeTo rejects with the signal's reason (a DOMException) or the stream's error (our AbortError).
  assert.match(result.pipe, /^AbortError\//);
  delete result.pipe;
  assert.deepEqual(result, {
    waitingWhilePiping: 1,
    writerFreed: true,
    queued: 1,
    acquire: 'AbortError/ABORT_ERR',
    whole: true,
    read: 'AbortError/ABORT_ERR',
    left: 0,
    poolWaiting: 0,
    vbuf: ['AbortError/ABORT_ERR', 'AbortError/ABORT_ERR'],
    workLeft: 0,
    workRan: 0,
  });
});

// Backpressure in Chromium. A renderer's resident memory grows by tens of MiB over a long pipe of
// fresh chunks whatever carries them (garbage waits for the collector, and the allocator keeps what
// it freed), so the source collects garbage every 16 MiB, and the ring is measured against a
// TransformStream, which holds at most a chunk or two, in the same browser: a ring that took chunks
// faster than its reader frees room would queue them and grow by the bytes piped.
const PIPED = Math.max(MIB, 256) << 20;
test(`backpressure in Chromium: piping ${PIPED >> 20} MiB through a 1 MiB ring grows the renderer by at most the ring + 32 MiB more than a TransformStream does`, { skip: skip || (existsSync('/proc/self/status') ? false : 'no /proc'), timeout: 600_000 }, async () => {
  const RING = 1 << 20;
  const { url, server } = await serve(0);
  const browser = await launchChromium({ gc: true });
  try {
    const page = await browser.newPage();
    const errors = [];
    page.on('pageerror', (e) => errors.push(e));
    await page.goto(url);
    await page.evaluate(async () => {
      const { init, Circular } = await import('/js/web.mjs');
      await init();
      globalThis.pipeThrough = async (through, total, ring) => {
        const CHUNK = 64 << 10;
        let sent = 0;
        const source = new ReadableStream({
          pull(controller) {
            if (sent === total) return controller.close();
            // Chunks let go are collected every 16 MiB: what stays is what something still holds.
            if (sent % (16 << 20) === 0) gc();
            controller.enqueue(new Uint8Array(CHUNK).fill(sent / CHUNK));
            sent += CHUNK;
          },
        });
        let writable;
        let readable;
        if (through === 'ring') {
          const writer = Circular.withCapacity(ring);
          readable = writer.addReader().readableStream();
          writable = writer.writableStream();
        } else {
          ({ readable, writable } = new TransformStream());
        }
        const piping = source.pipeTo(writable);
        let received = 0;
        for await (const chunk of readable) {
          if (chunk[0] !== Math.floor(received / CHUNK) % 256) throw new Error(`wrong byte at ${received}`);
          received += chunk.length;
        }
        await piping;
        return received;
      };
    });
    const cdp = await browser.newBrowserCDPSession();
    const { processInfo } = await cdp.send('SystemInfo.getProcessInfo');
    const renderers = processInfo.filter((p) => p.type === 'renderer').map((p) => p.id);
    const rss = () =>
      renderers.reduce((sum, pid) => {
        try {
          return sum + Number(readFileSync(`/proc/${pid}/status`, 'utf8').match(/VmRSS:\s+(\d+)/)[1]) * 1024;
        } catch {
          return sum; // a renderer that has gone
        }
      }, 0);
    /** The renderers' peak growth while `through` carries PIPED bytes, in MiB. */
    const growth = async (through) => {
      await page.evaluate(() => gc());
      const base = rss();
      let peak = base;
      const sampler = setInterval(() => (peak = Math.max(peak, rss())), 20);
      const received = await page.evaluate(([t, total, ring]) => pipeThrough(t, total, ring), [through, PIPED, RING]);
      clearInterval(sampler);
      assert.equal(received, PIPED, through);
      return (Math.max(peak, rss()) - base) / 2 ** 20;
    };
    // Each twice, alternating. The smaller growth of the ring counts, the larger of the
    // TransformStream: either may find memory that an earlier run left the allocator (a later run
    // of the same pipe often grows by nothing), and the other side of that is what the browser takes.
    const ring = [];
    const transform = [];
    for (let round = 0; round < 2; round++) {
      transform.push(await growth('transform'));
      ring.push(await growth('ring'));
    }
    const [ours, theirs] = [Math.min(...ring), Math.max(...transform)];
    console.log(`# renderer growth over ${PIPED >> 20} MiB: ring ${ring.map((m) => m.toFixed(0)).join(', ')} MiB, TransformStream ${transform.map((m) => m.toFixed(0)).join(', ')} MiB`);
    assert.deepEqual(errors, []);
    assert.ok(ours <= theirs + RING / 2 ** 20 + 32, `the ring grew the renderer by ${ours.toFixed(0)} MiB, a TransformStream by ${theirs.toFixed(0)} MiB`);
  } finally {
    await browser.close();
    server.close();
  }
});

test('a document walk in the page lets the event loop turn: a timer set before it can abort it', { skip, timeout: 120_000 }, async () => {
  const out = await inPage(async () => {
    const { init, VirtualBuffer } = await import('/js/web.mjs');
    await init();
    // In memory: every read settles in a microtask.
    const doc = VirtualBuffer.fromBytes(new Uint8Array(8 << 20).fill(10));
    const out = {};
    for (const form of ['chunks', 'lines', 'readableStream']) {
      const controller = new AbortController();
      setTimeout(() => controller.abort(new Error('timed out')), 0);
      const { signal } = controller;
      let steps = 0;
      try {
        if (form === 'readableStream') {
          const reader = doc.readableStream(0, doc.length).getReader();
          for (;;) {
            if (signal.aborted) throw signal.reason;
            const { done } = await reader.read();
            if (done) break;
            steps++;
          }
        } else {
          const walk = form === 'lines' ? doc.lines(0, { signal }) : doc.chunks(0, undefined, { signal });
          for await (const _ of walk) steps++;
        }
        out[form] = `completed after ${steps} steps`;
      } catch (e) {
        out[form] = { name: e.name, early: steps < (form === 'lines' ? 8 << 20 : 128) };
      }
    }
    doc.free();
    return out;
  });
  assert.deepEqual(out.chunks, { name: 'AbortError', early: true });
  assert.deepEqual(out.lines, { name: 'AbortError', early: true });
  assert.deepEqual(out.readableStream, { name: 'Error', early: true }, 'the timer ran while the stream was read');
});

test("a signal of another realm (a same-origin iframe's) cancels waits, as the platform's own calls take it", { skip, timeout: 120_000 }, async () => {
  const out = await inPage(async () => {
    const { init, BufferPool, Circular, VirtualBuffer } = await import('/js/web.mjs');
    await init();
    const frame = document.createElement('iframe');
    document.body.append(frame);
    const controller = new frame.contentWindow.AbortController();
    const { signal } = controller;
    const outcome = (promise) => promise.then(() => 'resolved', (e) => e.name);
    const pool = new BufferPool({ budget: 4096 });
    const held = pool.tryAcquire(4096);
    const reader = Circular.withCapacity(64).addReader();
    const doc = VirtualBuffer.fromBytes('some text');
    const waits = [outcome(pool.acquire(4096, { signal })), outcome(reader.sliceAsync({ signal }))];
    controller.abort();
    const out = {
      waits: await Promise.all(waits),
      read: await outcome(doc.read(0, 4, { signal })),
      lines: await outcome(doc.lines(0, { signal }).next()),
    };
    held.free();
    reader.free();
    doc.free();
    pool.free();
    return out;
  });
  assert.deepEqual(out, { waits: ['AbortError', 'AbortError'], read: 'AbortError', lines: 'AbortError' });
});

test("a wait's rejection the page leaves unhandled fires 'unhandledrejection', in both web builds", { skip, timeout: 120_000 }, async () => {
  for (const isolated of [false, true]) {
    const out = await inPage(
      async () => {
        const { init, threaded, BufferPool, Circular } = await import('/js/web.mjs');
        await init();
        const labels = new Map();
        const reported = [];
        addEventListener('unhandledrejection', (event) => {
          reported.push([labels.get(event.promise) ?? 'unknown', event.reason?.code]);
          event.preventDefault(); // reported here, not as the page's error
        });
        const label = (name, promise) => labels.set(promise, name);
        const pool = new BufferPool({ budget: 4096, classes: [4096] });
        const held = pool.tryAcquire(4096);
        const controller = new AbortController();
        label('pool.acquire, signal aborted before', pool.acquire(4096, { signal: AbortSignal.abort() }));
        label('pool.acquire, aborted while waiting', pool.acquire(4096, { signal: controller.signal }));
        const reader = Circular.withCapacity(4096).addReader();
        label('reader.sliceAsync, not a signal', reader.sliceAsync({ signal: 1 }));
        label('reader.sliceAsync, aborted while waiting', reader.sliceAsync({ signal: controller.signal }));
        reader.sliceAsync({ signal: controller.signal }).catch(() => {}); // handled: never reported
        const freedReader = Circular.withCapacity(4096).addReader();
        label('reader.sliceAsync, reader freed while waiting', freedReader.sliceAsync());
        freedReader.free();
        controller.abort();
        await new Promise((resolve) => setTimeout(resolve, 100));
        held.free();
        reader.free();
        return { threaded, reported: reported.sort() };
      },
      undefined,
      { isolated },
    );
    assert.deepEqual(out, {
      threaded: isolated,
      reported: [
        ['pool.acquire, aborted while waiting', 'ABORT_ERR'],
        ['pool.acquire, signal aborted before', 'ABORT_ERR'],
        ['reader.sliceAsync, aborted while waiting', 'ABORT_ERR'],
        ['reader.sliceAsync, not a signal', 'ERR_INVALID_ARG_TYPE'],
        ['reader.sliceAsync, reader freed while waiting', 'ERR_INVALID_STATE'],
      ],
    });
  }
});
