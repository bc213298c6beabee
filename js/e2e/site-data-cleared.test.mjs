// The site's data cleared while a page has documents open (DevTools' "Clear site data", a
// Clear-Site-Data header): Chromium closes the page's IndexedDB connection under it. The documents
// are gone; the next calls open a new connection and work, in headless Chromium through the package's
// browser entry. Needs the wasm build (scripts/build-wasm.sh) and Chromium (js/chromium.mjs).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { serve } from '../../scripts/serve-web.mjs';
import { chromiumMissing as skip, launchChromium } from '../chromium.mjs';

test('after the site data is cleared under an open page, the next calls reconnect', { skip, timeout: 120_000 }, async () => {
  const { url, server } = await serve(0);
  const browser = await launchChromium();
  try {
    const page = await browser.newPage();
    const errors = [];
    page.on('pageerror', (e) => errors.push(e));
    await page.goto(url);
    await page.evaluate(async () => {
      globalThis.omnibuf = await import('/js/web.mjs');
      await omnibuf.init();
      (await omnibuf.VirtualBuffer.import('before.txt', 'stored before')).free();
      globalThis.doc = await omnibuf.VirtualBuffer.open('before.txt');
    });
    const cdp = await page.context().newCDPSession(page);
    await cdp.send('Storage.clearDataForOrigin', { origin: new URL(url).origin, storageTypes: 'indexeddb' });
    // The command returns before the clearing ends; calls made meanwhile may be aborted by it (an
    // error, as any work the clearing cuts short). The next calls are those after it.
    await page.waitForFunction(async () => (await indexedDB.databases()).length === 0, null, { timeout: 30_000, polling: 50 });
    const after = await page.evaluate(async () => {
      const text = async (doc) => new TextDecoder().decode((await doc.read(0, doc.length)).bytes());
      const listed = (await omnibuf.VirtualBuffer.list()).map((d) => d.name);
      (await omnibuf.VirtualBuffer.import('after.txt', 'stored after')).free();
      const reopened = await omnibuf.VirtualBuffer.open('after.txt');
      const content = await text(reopened);
      reopened.free();
      const missing = await omnibuf.VirtualBuffer.open('before.txt').then(
        () => 'opened',
        (e) => e.message,
      );
      doc.free();
      return { listed, content, missing };
    });
    assert.deepEqual(after.listed, [], 'the cleared documents are gone');
    assert.equal(after.content, 'stored after');
    assert.match(after.missing, /before\.txt/);
    assert.deepEqual(errors, []);
  } finally {
    await browser.close();
    server.close();
  }
});

// Chromium may close the connection under a transaction without firing its `complete` or `abort`:
// a wait for either would never end, and an import's document lock would stay held.
test('work under way when the site data is cleared settles, and leaves no lock held', { skip, timeout: 300_000 }, async () => {
  const { url, server } = await serve(0);
  const browser = await launchChromium();
  try {
    // The clear at several points of an import of 48 MiB and a read of every block of another document.
    for (const delay of [40, 80, 120, 200]) {
      const page = await browser.newPage();
      const errors = [];
      page.on('pageerror', (e) => errors.push(e));
      await page.goto(url);
      await page.evaluate(async () => {
        globalThis.omnibuf = await import('/js/web.mjs');
        await omnibuf.init();
        (await omnibuf.VirtualBuffer.import('read.bin', new Uint8Array(24 << 20).fill(10), { blockSize: 1 << 20 })).free();
        const reading = await omnibuf.VirtualBuffer.open('read.bin', { cacheBudget: 1 << 20 });
        const settled = (promise) =>
          promise.then(
            (value) => (value?.free?.(), 'resolved'),
            (e) => `rejected: ${e.message}`,
          );
        globalThis.outcomes = {};
        settled(omnibuf.VirtualBuffer.import('doc.bin', new Blob([new Uint8Array(48 << 20).fill(120)]), { blockSize: 1 << 20 })).then((o) => (outcomes.import = o));
        settled(reading.lineCount()).then((o) => {
          outcomes.read = o;
          reading.free();
        });
      });
      await new Promise((resolve) => setTimeout(resolve, delay));
      const cdp = await page.context().newCDPSession(page);
      await cdp.send('Storage.clearDataForOrigin', { origin: new URL(url).origin, storageTypes: 'indexeddb' });
      await page.waitForFunction(() => outcomes.import !== undefined && outcomes.read !== undefined, null, { timeout: 30_000, polling: 50 });
      // The document's lock is free again: the next import of the name goes through.
      const after = await page.evaluate(async () => {
        const doc = await omnibuf.VirtualBuffer.import('doc.bin', 'again');
        const length = doc.length;
        doc.free();
        // The documents' write locks (a buffer's mark of the version it reads, released as it is
        // freed, is another lock).
        const held = (await navigator.locks.query()).held.map((lock) => lock.name);
        return { length, held: held.filter((name) => name.startsWith('omnibuf:indexeddb:')) };
      });
      assert.deepEqual(after, { length: 5, held: [] }, `cleared after ${delay} ms`);
      assert.deepEqual(errors, []);
      await page.close();
    }
  } finally {
    await browser.close();
    server.close();
  }
});

// Chromium's sync access handle of a file cleared underneath reports nonsense counts (a read of -4
// bytes as 2^32 - 4) and leaves the buffer as it was: an OPFS document must fail its reads, not show
// the zeros of that buffer as its content.
test('an OPFS document whose files were cleared fails its reads instead of showing zeros', { skip, timeout: 120_000 }, async () => {
  const { url, server } = await serve(0);
  const browser = await launchChromium();
  try {
    const page = await browser.newPage();
    await page.goto(url);
    await page.evaluate(async () => {
      const { openDocumentWorker } = await import('/js/web.mjs');
      globalThis.docs = await openDocumentWorker();
      const lines = Array.from({ length: 3000 }, (_, i) => `line ${String(i).padStart(5, '0')}\n`);
      globalThis.doc = await docs.import('kept.txt', lines.join(''));
    });
    const cdp = await page.context().newCDPSession(page);
    await cdp.send('Storage.clearDataForOrigin', { origin: new URL(url).origin, storageTypes: 'file_systems' });
    const outcomes = await page.evaluate(async () => {
      const outcome = (promise) =>
        promise.then(
          (value) => ({ value: value instanceof Uint8Array ? new TextDecoder().decode(value) : value }),
          (e) => ({ error: e.message }),
        );
      // Until the clearing has reached the worker's open handle, reads may still see the file.
      for (const deadline = Date.now() + 30_000; Date.now() < deadline; ) {
        const read = await outcome(doc.read(19_998, 20_009));
        if (read.value !== 'line 01818\n') return { read, find: await outcome(doc.find('line 02999')) };
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      return 'the reads still saw the file after 30 s';
    });
    for (const [what, outcome] of Object.entries(outcomes)) {
      assert.match(outcome.error ?? `gave ${JSON.stringify(outcome.value)}`, /was the site's data cleared\?/, what);
    }
    await page.evaluate(() => docs.terminate());
  } finally {
    await browser.close();
    server.close();
  }
});
