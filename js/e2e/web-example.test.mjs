// End to end: the browser example (examples/web) in headless Chromium, driven with playwright-core.
// Imports a generated file, edits a page, saves, reloads the page, and checks the edit is there; then
// an import that exceeds the storage quota is reported on the page and leaves the document intact.
// Needs the wasm build (scripts/build-wasm.sh) and Chromium (js/chromium.mjs); scripts/test.sh
// provides both.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { serve } from '../../scripts/serve-web.mjs';
import { chromiumMissing as skip, launchChromium } from '../chromium.mjs';

test('import a file, edit a page, save, reload: the edit is there; a full quota loses nothing', { skip, timeout: 120_000 }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'omnibuf-e2e-'));
  const { url, server } = await serve(0);
  const browser = await launchChromium();
  try {
    // About 3 MiB of numbered lines: many blocks and pages.
    const lines = [];
    for (let i = 0; i < 100_000; i++) lines.push(`line ${String(i).padStart(6, '0')} of the test file`);
    const content = lines.join('\n') + '\n';
    const file = join(dir, 'e2e-input.txt');
    writeFileSync(file, content);

    const context = await browser.newContext();
    const page = await context.newPage();
    // A quota of 12 MiB for the page's origin (Chromium applies it to storage opened afterwards):
    // room for the test file and its saves, not for the 16 MiB import below.
    const cdp = await context.newCDPSession(page);
    await cdp.send('Storage.overrideQuotaForOrigin', { origin: new URL(url).origin, quotaSize: 12 << 20 });
    const errors = [];
    page.on('pageerror', (e) => errors.push(e));
    await page.goto(url);
    await page.waitForSelector('body[data-ready="true"]');

    await page.setInputFiles('#file', file);
    await page.waitForFunction(() => document.getElementById('info').textContent.startsWith('e2e-input.txt'));
    assert.match(await page.textContent('#info'), new RegExp(`${content.length.toLocaleString('en-US')} bytes`));
    assert.equal(await page.inputValue('#text'), content.slice(0, 4096), 'the first page shows');

    // Page 3, edited and saved.
    await page.fill('#page', '3');
    await page.dispatchEvent('#page', 'change');
    await page.waitForFunction((expected) => document.getElementById('text').value === expected, content.slice(8192, 12288));
    const edited = 'EDITED BY THE END-TO-END TEST\n' + content.slice(8192, 12288);
    await page.fill('#text', edited);
    await page.click('#apply');
    await page.waitForFunction(() => document.getElementById('modified').textContent === 'unsaved edits');
    await page.click('#save');
    await page.waitForFunction(() => document.getElementById('status').textContent.startsWith('saved'));

    // A reload opens the document again from IndexedDB.
    await page.reload();
    await page.waitForSelector('body[data-ready="true"]');
    await page.waitForFunction(() => document.getElementById('info').textContent.startsWith('e2e-input.txt'));
    await page.fill('#page', '3');
    await page.dispatchEvent('#page', 'change');
    await page.waitForFunction(() => document.getElementById('text').value.startsWith('EDITED BY THE END-TO-END TEST'));
    const expectedLength = content.length + 'EDITED BY THE END-TO-END TEST\n'.length;
    assert.match(await page.textContent('#info'), new RegExp(`${expectedLength.toLocaleString('en-US')} bytes`));
    assert.equal(await page.textContent('#modified'), '');

    // A full quota: an import that does not fit fails with a clear error, and loses nothing.
    const tooBig = join(dir, 'too-big.bin');
    // Random bytes: Chromium compresses what IndexedDB stores, and a run of one byte would fit.
    writeFileSync(tooBig, randomBytes(16 << 20));
    await page.setInputFiles('#file', tooBig);
    await page.waitForFunction(() => /^opened|Error/.test(document.getElementById('status').textContent), null, { timeout: 60_000 });
    assert.match(await page.textContent('#status'), /^QuotaExceededError: .*quota/);
    // Chromium's own message for it is empty: the error names the step instead of leaving a blank.
    assert.doesNotMatch(await page.textContent('#status'), /exhausted: ;/);
    await page.reload();
    await page.waitForSelector('body[data-ready="true"]');
    await page.waitForFunction(() => document.getElementById('info').textContent.startsWith('e2e-input.txt'));
    assert.match(await page.textContent('#info'), new RegExp(`${expectedLength.toLocaleString('en-US')} bytes`), 'the document is intact');
    assert.doesNotMatch(await page.textContent('#documents'), /too-big/, 'the failed import left no document');

    // The stats panel runs the ring and the pool.
    assert.match(await page.textContent('#stats'), /mirror-copy/);
    assert.deepEqual(errors, [], 'no uncaught errors on the page');
    await context.close();
  } finally {
    await browser.close();
    server.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
