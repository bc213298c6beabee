// init() in Chromium, each case in a page of its own that loads js/web.mjs itself (the wasm glue keeps
// what it loaded for the page's life): null as input left out, and a failure to load. A module that
// is not omnibuf's, once its glue has instantiated it, cannot be replaced in that page: a retry must
// reject saying so, not resolve over a module without omnibuf's functions. Needs the wasm build
// (scripts/build-wasm.sh) and Chromium (js/chromium.mjs).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ISOLATION_HEADERS, serve } from '../../scripts/serve-web.mjs';
import { chromiumMissing as skip, launchChromium } from '../chromium.mjs';

/** Evaluates `fn()` in an empty page of the served repository's origin (no script has loaded
 * omnibuf there) and returns what it returns. `isolated: false` serves the page without
 * cross-origin isolation, where only the single-thread build loads. */
async function inBlankPage(fn, { isolated = true } = {}) {
  const { url, server } = await serve(0, { isolated });
  const browser = await launchChromium();
  try {
    const page = await browser.newPage();
    const blank = new URL('/blank.html', url).href;
    const headers = isolated ? ISOLATION_HEADERS : {};
    await page.route(blank, (route) => route.fulfill({ contentType: 'text/html', headers, body: '<!doctype html><title>blank</title>' }));
    await page.goto(blank);
    return await page.evaluate(fn);
  } finally {
    await browser.close();
    server.close();
  }
}

for (const isolated of [false, true]) {
  const where = isolated ? 'a cross-origin isolated page' : 'a page';
  test(`init(null) loads as init() does, on ${where}`, { skip, timeout: 60_000 }, async () => {
    const out = await inBlankPage(async () => {
      const { init, ZeroCopyBuffer, threaded } = await import('/js/web.mjs');
      await init(null);
      return { length: ZeroCopyBuffer.from('null is left out').length, threaded };
    }, { isolated });
    assert.deepEqual(out, { length: 16, threaded: isolated });
  });
}

test('a module that is not omnibuf\'s fails init(), and so does every retry, saying why', { skip, timeout: 60_000 }, async () => {
  const out = await inBlankPage(async () => {
    const { init, ZeroCopyBuffer } = await import('/js/web.mjs');
    const outcome = async (promise) => {
      try {
        await promise;
        return 'resolved';
      } catch (e) {
        return e.message;
      }
    };
    // The smallest valid module: it instantiates against any imports and exports nothing.
    const empty = new Uint8Array([0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00]);
    const first = await outcome(init(empty));
    const retry = await outcome(init());
    const use = await outcome((async () => ZeroCopyBuffer.from('x'))());
    return { first, retry, use };
  }, { isolated: false });
  assert.match(out.first, /^omnibuf: the wasm module did not load: /);
  assert.match(out.retry, /^omnibuf: the wasm module did not load: the module loaded is not omnibuf_bg\.wasm, .*load the page again/);
  assert.match(out.use, /init\(\)/); // not loaded: the calls still say to await init()
});

test('a failed fetch is retried: a later init() loads the module', { skip, timeout: 60_000 }, async () => {
  const out = await inBlankPage(async () => {
    const { init, ZeroCopyBuffer } = await import('/js/web.mjs');
    let first;
    try {
      await init('/pkg/web/no-such-file.wasm');
    } catch (e) {
      first = e.message;
    }
    await init();
    return { first, length: ZeroCopyBuffer.from('again').length };
  }, { isolated: false });
  assert.match(out.first, /404/);
  assert.equal(out.length, 5);
});
