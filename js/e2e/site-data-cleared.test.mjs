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
