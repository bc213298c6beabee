// Streams in Chromium: bytes piped through a ring with pipeTo (a WritableStream in, a byte
// ReadableStream out, read with a BYOB reader), checked end to end, and a VirtualBuffer range turned
// into a Response. OMNIBUF_STREAM_MIB sets how much goes through the ring (default 32; 1024 for the
// 1 GiB run). Needs the wasm build (scripts/build-wasm.sh) and Chromium (js/chromium.mjs).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { serve } from '../../scripts/serve-web.mjs';
import { chromiumMissing as skip, launchChromium } from '../chromium.mjs';

const MIB = Number(process.env.OMNIBUF_STREAM_MIB ?? 32);

test(`pipeTo ${MIB} MiB through a ring in Chromium; a document range as a Response`, { skip, timeout: 600_000 }, async () => {
  const { url, server } = await serve(0);
  const browser = await launchChromium();
  try {
    const page = await browser.newPage();
    const errors = [];
    page.on('pageerror', (e) => errors.push(e));
    await page.goto(url);
    const result = await page.evaluate(async (mib) => {
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
    assert.deepEqual(errors, []);
    assert.equal(result.leftover, 0);
    assert.equal(result.total, MIB << 20);
    assert.equal(result.received, result.sent, 'the bytes arrived in order');
    assert.equal(result.text, 'streams');
    assert.deepEqual(result.lines, ['hello, streams', 'second line']);
    console.log(`# ${MIB} MiB through the ring with pipeTo in Chromium: ${result.ms.toFixed(0)} ms`);
  } finally {
    await browser.close();
    server.close();
  }
});

test('abort in Chromium: a pipeTo into a full ring, a pool wait, a ring wait and IndexedDB work end, leaving nothing waiting', { skip, timeout: 300_000 }, async () => {
  const { url, server } = await serve(0);
  const browser = await launchChromium();
  try {
    const page = await browser.newPage();
    const errors = [];
    page.on('pageerror', (e) => errors.push(e));
    await page.goto(url);
    const result = await page.evaluate(async () => {
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
    assert.deepEqual(errors, []);
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
  } finally {
    await browser.close();
    server.close();
  }
});
