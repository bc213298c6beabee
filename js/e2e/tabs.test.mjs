// Two tabs of one origin on one IndexedDB document, in headless Chromium, through the package's
// browser entry:
// - saves started together in both take turns: one saves, the other is refused, and the stored
//   document is the first one's whole;
// - a tab keeps reading the version it opened, and its undo history, after the other tab replaced
//   the document and opened it again (which collects garbage);
// - a document deleted in one tab stays readable to a buffer of it in the other.
// That garbage goes once no buffer reads it is checked in wasm-tests (block ids are not visible
// here). Needs the wasm build (scripts/build-wasm.sh) and Chromium (js/chromium.mjs).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { serve } from '../../scripts/serve-web.mjs';
import { chromiumMissing as skip, launchChromium } from '../chromium.mjs';

test('two tabs on one document: saves take turns; a tab reads the version it opened', { skip, timeout: 180_000 }, async () => {
  const { url, server } = await serve(0);
  const browser = await launchChromium();
  try {
    const context = await browser.newContext();
    const tabs = [await context.newPage(), await context.newPage()];
    const errors = [];
    for (const tab of tabs) {
      tab.on('pageerror', (e) => errors.push(e));
      await tab.goto(url);
      await tab.evaluate(async () => {
        const omnibuf = await import('/js/web.mjs');
        await omnibuf.init();
        globalThis.omnibuf = omnibuf;
        // A digest of a buffer's whole content, read a MiB at a time.
        globalThis.digest = async (buffer) => {
          const parts = [];
          for (let at = 0; at < buffer.length; at += 1 << 20) {
            const part = await buffer.read(at, Math.min(buffer.length, at + (1 << 20)));
            parts.push(part.bytes());
            part.free();
          }
          const hash = await crypto.subtle.digest('SHA-256', await new Blob(parts).arrayBuffer());
          return Array.from(new Uint8Array(hash), (b) => b.toString(16).padStart(2, '0')).join('');
        };
      });
    }
    const [a, b] = tabs;

    // 2 MiB of numbered lines in 4 KiB blocks.
    const lines = [];
    for (let i = 0; i < 70_000; i++) lines.push(`line ${String(i).padStart(6, '0')} of the document`);
    const text = lines.join('\n') + '\n';
    const sha256 = (...parts) => parts.reduce((h, part) => h.update(part), createHash('sha256')).digest('hex');
    const original = sha256(text);
    await a.evaluate(async (text) => {
      (await omnibuf.VirtualBuffer.import('tabs.txt', text, { blockSize: 4096 })).free();
    }, text);

    // Each tab opens it (with a small cache, and reads nothing: its blocks stay in IndexedDB) and
    // puts 9 MiB in front (more than a write batch, so a save writes blocks before its commit);
    // both save at once.
    const fills = [0x61, 0x62];
    await Promise.all(
      tabs.map((tab, i) =>
        tab.evaluate(async (fill) => {
          globalThis.doc = await omnibuf.VirtualBuffer.open('tabs.txt', { cacheBudget: 64 << 10 });
          doc.insert(0, new Uint8Array(9 << 20).fill(fill));
        }, fills[i]),
      ),
    );
    const expected = fills.map((fill) => sha256(Buffer.alloc(9 << 20, fill), text));
    const outcomes = await Promise.all(
      tabs.map((tab) => tab.evaluate(() => doc.save().then(() => 'saved', (e) => `${e.name}: ${e.message}`))),
    );
    const saved = outcomes.indexOf('saved');
    assert.ok(saved >= 0 && outcomes.filter((o) => o === 'saved').length === 1, `one save only: ${outcomes}`);
    assert.match(outcomes[1 - saved], /changed/i, 'the other is refused: the document changed');
    const stored = (tab) =>
      tab.evaluate(async () => {
        const doc = await omnibuf.VirtualBuffer.open('tabs.txt');
        const digest = await globalThis.digest(doc);
        doc.free();
        return digest;
      });
    assert.equal(await stored(b), expected[saved], 'the stored document is the saved one, whole');

    // The refused tab still reads the version it opened (its undo history too), after the other
    // replaced the document and opened it again, which collects garbage.
    const refused = tabs[1 - saved];
    const winner = tabs[saved];
    await winner.evaluate(async () => {
      doc.replace(0, doc.length, 'replaced\n');
      await doc.save();
      doc.free();
      const reopened = await omnibuf.VirtualBuffer.open('tabs.txt');
      reopened.free();
    });
    assert.equal(await refused.evaluate(() => globalThis.digest(doc)), expected[1 - saved]);
    assert.equal(
      await refused.evaluate(async () => {
        doc.undo();
        return globalThis.digest(doc);
      }),
      original,
      'its undo reaches the version it opened',
    );
    await refused.evaluate(() => doc.free());
    assert.equal(await stored(winner), sha256('replaced\n'));
    // A document deleted in one tab stays readable to a buffer of it in the other.
    await refused.evaluate(async () => {
      globalThis.doc = await omnibuf.VirtualBuffer.open('tabs.txt', { cacheBudget: 64 << 10 });
    });
    await winner.evaluate(() => omnibuf.VirtualBuffer.deleteDocument('tabs.txt'));
    assert.equal(await winner.evaluate(async () => (await omnibuf.VirtualBuffer.list()).some((d) => d.name === 'tabs.txt')), false);
    assert.equal(await refused.evaluate(() => globalThis.digest(doc)), sha256('replaced\n'));
    await refused.evaluate(() => doc.free());
    assert.deepEqual(errors, [], 'no uncaught errors in the tabs');
  } finally {
    await browser.close();
    server.close();
  }
});
