// End to end: the example of examples/rings in headless Chromium: a producer worker writes a tone into
// a ring, an AudioWorklet reads it in process() and checks every sample against the tone; both sides'
// checksums and sample counts must agree. A real AudioContext: headless Chromium plays into a fake
// output device, in real time. (An OfflineAudioContext does not fit a live stream: it renders its whole
// length at once, long before the producer has written it, and then never calls process() again.)
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { serve } from '../../scripts/serve-web.mjs';
import { chromiumMissing as skip, launchChromium } from '../chromium.mjs';

let browser;
before(async () => {
  if (!skip) browser = await launchChromium({ audio: true });
});
after(() => browser?.close());

test('worker → ring → AudioWorklet: every sample arrives in order', { skip, timeout: 120_000 }, async () => {
  const { origin, server } = await serve(0);
  const page = await browser.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(e));
  try {
    await page.goto(`${origin}/examples/rings/index.html`);
    await page.waitForSelector('body[data-ready="true"]', { state: 'attached' });
    assert.equal(await page.evaluate(() => window.omnibufExample.threaded), true);
    const { sent, got } = await page.evaluate(() => window.omnibufExample.run(2));
    assert.equal(sent.samples, 2 * 48000);
    assert.equal(got.firstWrong, -1, `sample ${got.firstWrong} is not the tone's`);
    assert.equal(got.samples, sent.samples, 'every sample arrived');
    assert.equal(got.checksum, sent.checksum, 'the checksum of the bytes');
    assert.deepEqual(errors, []);
  } finally {
    await page.close();
    server.close();
  }
});
