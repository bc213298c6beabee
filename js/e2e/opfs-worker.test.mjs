// VirtualBuffers on OPFS in a dedicated worker, driven from the page through openDocumentWorker()
// (js/document-proxy.mjs), in headless Chromium: import, edit, save, reload the page and reopen;
// restart the browser on the same profile and reopen; a save cut off by terminating the worker leaves
// the old version, and the next open deletes what the cut-off save wrote; errors cross the proxy with
// the class, name, message and code the same calls give in the worker. Needs the wasm build
// (scripts/build-wasm.sh) and Chromium (js/chromium.mjs).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { serve } from '../../scripts/serve-web.mjs';
import { chromiumMissing as skip, launchChromium, launchPersistentChromium } from '../chromium.mjs';

/** A Chromium on a new profile on disk, for `body(context)`. (Not a new context of a launched browser:
 * such a context is off the record, and Chromium keeps its OPFS in memory, where no file grows past
 * 2 GiB.) */
async function withProfile(body) {
  const profile = mkdtempSync(join(tmpdir(), 'omnibuf-opfs-profile-'));
  const context = await launchPersistentChromium(profile);
  try {
    return await body(context);
  } finally {
    await context.close();
    rmSync(profile, { recursive: true, force: true });
  }
}

/** Opens the served page in `context` and fails the test on any uncaught error there. */
async function openPage(context, url) {
  const page = await context.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(e));
  await page.goto(url);
  return { page, errors };
}

// Runs in the page: the numbered lines the tests import, and the functions they use.
const PAGE_HELPERS = () => {
  globalThis.numbered = (count) => {
    const lines = [];
    for (let i = 0; i < count; i++) lines.push(`line ${String(i).padStart(6, '0')} of the OPFS test`);
    return lines.join('\n') + '\n';
  };
  globalThis.text = (bytes) => new TextDecoder().decode(bytes);
};

/** Serves the repository, opens its page on a new profile with the helpers above, and returns what
 * `body(page)` returns; fails on any uncaught error on the page. */
async function onServedPage(body) {
  const { url, server } = await serve(0);
  try {
    return await withProfile(async (context) => {
      const { page, errors } = await openPage(context, url);
      await page.evaluate(PAGE_HELPERS);
      const out = await body(page);
      assert.deepEqual(errors, []);
      return out;
    });
  } finally {
    server.close();
  }
}

test('through the proxy: import, edit, save, reload the page, reopen; list, export, delete', { skip, timeout: 120_000 }, async () => {
  const { url, server } = await serve(0);
  try {
    await withProfile(async (context) => {
      const { page, errors } = await openPage(context, url);
      await page.evaluate(PAGE_HELPERS);
      const first = await page.evaluate(async () => {
        const { openDocumentWorker } = await import('/js/web.mjs');
        const docs = await openDocumentWorker();
        const content = numbered(20_000);
        await docs.deleteDocument('proxy.txt');
        // A File: read in the worker, in batches.
        const doc = await docs.import('proxy.txt', new File([content], 'proxy.txt'), { blockSize: 4096 });
        const opened = { store: docs.store, docStore: doc.store, length: doc.length, modified: doc.isModified, name: doc.name };
        // Sent without awaiting the edits: the worker runs calls in order.
        doc.insert(0, 'FIRST\n');
        doc.replace(6 + 5, 6 + 11, 'LINE');
        const head = text(await doc.read(0, 40));
        const edited = { length: doc.length, modified: doc.isModified, head };
        edited.undoRedo = [await doc.undo(), await doc.redo()];
        edited.find = await doc.find('line 010000');
        edited.lines = await doc.lineCount();
        edited.lineStart = await doc.lineToOffset(2);
        await doc.save();
        edited.afterSave = { modified: doc.isModified, length: doc.length };
        edited.list = (await docs.list()).filter((d) => d.name === 'proxy.txt');
        const exported = await docs.exportDocument('proxy.txt');
        edited.exported = [exported.size, text(await exported.slice(0, 40).arrayBuffer())];
        let chunked = 0;
        for await (const chunk of doc.chunks()) chunked += chunk.length;
        edited.chunked = chunked;
        // Lines and a byte stream, as VirtualBuffer's, through the same reads.
        const lines = [];
        let lineCount = 0;
        for await (const line of doc.lines()) if (lineCount++ < 3) lines.push(line);
        edited.walkedLines = { first: lines, count: lineCount };
        edited.streamed = await new Response(doc.readableStream(0, 40)).text();
        edited.streamedAll = (await new Response(doc.readableStream()).arrayBuffer()).byteLength;
        const aborted = doc.lines(0, { signal: AbortSignal.abort() }).next().catch((e) => e.name);
        edited.abortedLines = await aborted;
        // A step after the signal aborted rejects, also where it would have been the walk's end.
        const lastStep = new AbortController();
        const shortWalk = doc.chunks(0, 10, { signal: lastStep.signal });
        await shortWalk.next();
        lastStep.abort();
        edited.abortedLastStep = await shortWalk.next().then(() => 'resolved', (e) => e.name);
        // A walk's range is checked before anything is yielded, past 1 MiB (one read) too, and its
        // default end is the length after the edits called before it.
        const big = await docs.import('proxy-big.bin', new Uint8Array(3 << 20));
        edited.badWalks = [];
        for (const args of [[0, (3 << 20) + 1], [0, '100'], [10, 5], [0, undefined, { signal: AbortSignal.abort() }]]) {
          let yielded = 0;
          try {
            for await (const chunk of big.chunks(...args)) yielded += chunk.length;
            edited.badWalks.push(['nothing thrown', yielded]);
          } catch (e) {
            edited.badWalks.push([e.name, e.code, yielded, e.message]);
          }
        }
        big.insert(0, 'unawaited');
        let walked = 0;
        for await (const chunk of big.chunks()) walked += chunk.length;
        edited.walkedAfterInsert = walked - (3 << 20);
        // Without an end the walk follows the edits made during it: a delete ends it early, an insert
        // at the end is walked too.
        const followed = [];
        for (const edit of [() => big.delete(1 << 20, 3 << 20), () => big.insert(big.length, new Uint8Array(1 << 20))]) {
          const before = big.length;
          let steps = 0;
          let bytes = 0;
          for await (const chunk of big.chunks()) {
            if (steps++ === 0) await edit();
            bytes += chunk.length;
          }
          followed.push([before, bytes, big.length]);
        }
        edited.followed = followed;
        await big.free();
        await docs.deleteDocument('proxy-big.bin');
        // saveAs: the copy gets the content, and later saves go to it.
        await docs.deleteDocument('proxy-copy.txt');
        await doc.saveAs('proxy-copy.txt');
        await doc.insert(0, 'COPY ');
        await doc.save();
        const copy = await docs.open('proxy-copy.txt');
        edited.copy = { name: doc.name, head: text(await copy.read(0, 11)), length: copy.length };
        await copy.free();
        await doc.free();
        await docs.deleteDocument('proxy-copy.txt');
        docs.terminate();
        return { opened, edited, contentLength: content.length };
      });
      const { opened, edited, contentLength } = first;
      assert.deepEqual(opened, { store: 'opfs', docStore: 'opfs', length: contentLength, modified: false, name: 'proxy.txt' });
      const expectedHead = 'FIRST\nline LINE of the OPFS test\nline 00';
      assert.equal(edited.head, expectedHead);
      const length = contentLength + 6 - 2;
      assert.equal(edited.length, length);
      assert.equal(edited.modified, true);
      assert.deepEqual(edited.undoRedo, [true, true]);
      assert.equal(edited.find, 10_000 * 29 + 4);
      assert.equal(edited.lines, 20_002);
      assert.equal(edited.lineStart, 6 + 27);
      assert.deepEqual(edited.afterSave, { modified: false, length });
      assert.deepEqual(edited.list, [{ name: 'proxy.txt', length }]);
      assert.deepEqual(edited.exported, [length, expectedHead]);
      assert.deepEqual(edited.copy, { name: 'proxy-copy.txt', head: 'COPY FIRST\n', length: length + 5 });
      assert.equal(edited.chunked, length);
      // lineCount() counts a line after the last line feed; lines() yields none there.
      assert.deepEqual(edited.walkedLines, { first: ['FIRST', 'line LINE of the OPFS test', 'line 000001 of the OPFS test'], count: 20_001 });
      assert.equal(edited.streamed, expectedHead);
      assert.equal(edited.streamedAll, length);
      assert.equal(edited.abortedLines, 'AbortError');
      assert.equal(edited.abortedLastStep, 'AbortError');
      // read()'s errors for the range as asked.
      const big = 3 << 20;
      assert.deepEqual(edited.badWalks, [
        ['RangeError', 'ERR_OUT_OF_RANGE', 0, `range 0..${big + 1} is outside the buffer (length ${big})`],
        ['TypeError', 'ERR_INVALID_ARG_TYPE', 0, 'end must be an integer, got a string'],
        ['RangeError', 'ERR_OUT_OF_RANGE', 0, `range 10..5 ends before it starts (length ${big})`],
        ['AbortError', 'ABORT_ERR', 0, 'The operation was aborted'],
      ]);
      assert.equal(edited.walkedAfterInsert, 'unawaited'.length);
      const afterInsert = big + 'unawaited'.length;
      assert.deepEqual(edited.followed, [
        [afterInsert, afterInsert - (2 << 20), afterInsert - (2 << 20)],
        [afterInsert - (2 << 20), afterInsert - (1 << 20), afterInsert - (1 << 20)],
      ]);

      // A new page (the old worker is gone): the saved version, from OPFS.
      await page.reload();
      await page.evaluate(PAGE_HELPERS);
      const reopened = await page.evaluate(async () => {
        const { openDocumentWorker } = await import('/js/web.mjs');
        const docs = await openDocumentWorker();
        const doc = await docs.open('proxy.txt');
        const out = { length: doc.length, head: text(await doc.read(0, 40)), tail: text(await doc.read(doc.length - 10)) };
        await doc.free();
        await docs.deleteDocument('proxy.txt');
        out.after = (await docs.list()).filter((d) => d.name === 'proxy.txt');
        docs.terminate();
        return out;
      });
      assert.deepEqual(reopened, { length, head: expectedHead, tail: 'OPFS test\n', after: [] });
      assert.deepEqual(errors, []);
    });
  } finally {
    server.close();
  }
});

test('a browser restarted on the same profile reopens the saved document', { skip, timeout: 120_000 }, async () => {
  const profile = mkdtempSync(join(tmpdir(), 'omnibuf-opfs-profile-'));
  const { url, server } = await serve(0);
  try {
    let context = await launchPersistentChromium(profile);
    let { page, errors } = await openPage(context, url);
    await page.evaluate(PAGE_HELPERS);
    const saved = await page.evaluate(async () => {
      const { openDocumentWorker } = await import('/js/web.mjs');
      const docs = await openDocumentWorker();
      await docs.deleteDocument('restart.txt');
      const doc = await docs.import('restart.txt', numbered(5_000));
      await doc.insert(doc.length, 'the last line, saved before the restart\n');
      await doc.save();
      return { length: doc.length };
    });
    assert.deepEqual(errors, []);
    // Closed with the worker still holding the document open, as a user quits.
    await context.close();

    context = await launchPersistentChromium(profile);
    ({ page, errors } = await openPage(context, url));
    await page.evaluate(PAGE_HELPERS);
    const reopened = await page.evaluate(async () => {
      const { openDocumentWorker } = await import('/js/web.mjs');
      const docs = await openDocumentWorker();
      const doc = await docs.open('restart.txt');
      const out = { length: doc.length, tail: text(await doc.read(doc.length - 40)), head: text(await doc.read(0, 11)) };
      await doc.free();
      await docs.deleteDocument('restart.txt');
      return out;
    });
    assert.deepEqual(reopened, { length: saved.length, tail: 'the last line, saved before the restart\n', head: 'line 000000' });
    assert.deepEqual(errors, []);
    await context.close();
  } finally {
    server.close();
    rmSync(profile, { recursive: true, force: true });
  }
});

test('a save cut off by terminating the worker leaves the old version; the next open deletes its file', { skip, timeout: 300_000 }, async () => {
  const { url, server } = await serve(0);
  // An off-the-record context, whose OPFS Chromium keeps in memory and writes more slowly than a disk
  // profile's page cache: there a save of a few hundred MiB outlasts the grace terminate() gives, on
  // a disk profile it would take GiBs. The protocol under test is the same on both.
  const browser = await launchChromium();
  try {
    await (async (context) => {
      const { page, errors } = await openPage(context, url);
      // The save writes the whole new version, a MiB at a time, in one synchronous run of the worker.
      // Chromium lets a worker's running task go on for up to 2 s after terminate() before it stops it,
      // so the document is big enough for its save to take longer than that; the page waits for the
      // new file to start growing and then terminates the worker. Should the save still finish first
      // (a very fast disk), the document is twice as big next time.
      let outcome;
      for (let mib = 256; mib <= 512; mib *= 2) {
        outcome = await page.evaluate(async (mib) => {
          const { openDocumentWorker } = await import('/js/web.mjs');
          const MIB = 1 << 20;
          // Each MiB: its number in 4 bytes, then the same pattern (cheap to make; a MiB out of place shows).
          const body = new Uint8Array(MIB - 4);
          for (let j = 0; j < body.length; j++) body[j] = (j * 7 + (j >>> 13)) & 0xff;
          const parts = [];
          for (let m = 0; m < mib; m++) parts.push(new Uint32Array([m + 1]), body);
          const byteAt = (i) => (i % MIB < 4 ? new Uint8Array(new Uint32Array([Math.floor(i / MIB) + 1]).buffer)[i % MIB] : body[(i % MIB) - 4]);
          const length = mib * MIB;
          const directory = async () => (await (await navigator.storage.getDirectory()).getDirectoryHandle('omnibuf')).getDirectoryHandle('cut.bin');
          const files = async () => {
            const out = {};
            for await (const [name, handle] of (await directory()).entries()) out[name] = (await handle.getFile()).size;
            return out;
          };

          let docs = await openDocumentWorker();
          await docs.deleteDocument('cut.bin');
          const doc = await docs.import('cut.bin', new Blob(parts));
          const before = await files();
          // The file prepared for the next save: the empty data file.
          const spare = Object.keys(before).find((name) => name !== 'head' && before[name] === 0);
          await doc.replace(0, 3, 'NEW');
          const saving = doc.save();
          saving.catch(() => {});
          let seen = 0;
          const giveUp = performance.now() + 60_000;
          while (seen === 0 && performance.now() < giveUp) seen = (await files())[spare] ?? 0;
          docs.terminate();
          // The worker has stopped once its file stops growing.
          let cut = await files();
          for (;;) {
            await new Promise((ok) => setTimeout(ok, 500));
            const now = await files();
            if (now[spare] === cut[spare]) break;
            cut = now;
          }
          const rejected = await saving.then(() => 'resolved', (e) => e.message);

          // The browser lets go of the ended worker's locks a little later: until then the document
          // is "open in another worker".
          docs = await openDocumentWorker();
          const waited = performance.now();
          let reopened;
          for (;;) {
            try {
              reopened = await docs.open('cut.bin');
              break;
            } catch (e) {
              if (!/open in another worker/.test(e.message) || performance.now() - waited > 30_000) throw e;
              await new Promise((ok) => setTimeout(ok, 20));
            }
          }
          const lockMs = performance.now() - waited;
          const after = await files();
          let intact = reopened.length === length;
          for (let at = 0; intact === true && at < length; at += MIB) {
            const bytes = await reopened.read(at, at + 4096);
            for (let j = 0; j < bytes.length && intact === true; j += 1) if (bytes[j] !== byteAt(at + j)) intact = `at ${at + j}: ${bytes[j]}, not ${byteAt(at + j)}`;
          }
          const head = Array.from(await reopened.read(0, 3));
          await reopened.free();
          await docs.deleteDocument('cut.bin');
          docs.terminate();
          return { lockMs, length, spare, seen, cutSize: cut[spare], rejected, before, after, intact, head, expectedHead: [0, 1, 2].map(byteAt) };
        }, mib);
        if (outcome.cutSize < outcome.length) break;
        console.log(`# the save of ${mib} MiB finished before the worker ended; again with twice as much`);
      }
      console.log(`# the ended worker's locks went after ${outcome.lockMs.toFixed(0)} ms; its save had written ${outcome.cutSize} bytes`);
      // What the save wrote before the worker stopped, and how long the lock outlived it, vary.
      const { length, spare, seen, cutSize, rejected, before, after, intact, head, expectedHead } = outcome;
      assert.ok(seen > 0 && cutSize < length, `the save was cut off (its file had ${cutSize} of ${length} bytes)`);
      assert.equal(
        rejected,
        'omnibuf: the document worker was terminated during save(), which may have finished first: open the document (or list()) to see what the store holds',
      );
      assert.equal(intact, true, 'every byte of the old version reads back');
      assert.deepEqual(head, expectedHead, 'the edit of the cut-off save is not there');
      // Before: head, the imported version, the (empty) prepared file. After the reopen: the cut-off
      // save's file is gone; a new empty one is prepared for the next save.
      assert.equal(Object.keys(before).length, 3);
      assert.ok(!(spare in after), `the cut-off save's file ${spare} was deleted: ${JSON.stringify(after)}`);
      const kept = Object.keys(before).find((name) => name !== 'head' && name !== spare);
      assert.equal(after[kept], length, 'the old version is the one in force');
      assert.equal(Object.keys(after).length, 3);
      assert.deepEqual(errors, []);
    })(await browser.newContext());
  } finally {
    await browser.close();
    server.close();
  }
});

test('errors cross the proxy with the class, name, message and code they have in the worker', { skip, timeout: 120_000 }, async () => {
  const { url, server } = await serve(0);
  try {
    await withProfile(async (context) => {
      const { page, errors } = await openPage(context, url);
      const result = await page.evaluate(async () => {
        // The failing calls, as [target, method, args]: 'static' calls VirtualBuffer (or the proxy's
        // DocumentWorker), 'doc' a buffer over document "errors.txt", 'freed' one that was freed.
        const CALLS = [
          ['doc', 'read', [-1]],
          ['doc', 'read', [0, 1e6]],
          ['doc', 'read', [1.5]],
          ['doc', 'insert', [0, {}]],
          ['doc', 'insert', [99, 'x']],
          ['doc', 'delete', ['0', 1]],
          ['doc', 'lineToOffset', [500]],
          ['doc', 'save', [{ force: 1 }]],
          ['doc', 'saveAs', [42]],
          ['doc', 'saveAs', ['a/b']],
          ['freed', 'read', [0, 1]],
          ['static', 'open', ['no such document']],
          ['static', 'open', ['a/b']],
          ['static', 'open', ['errors.txt', { store: 'elsewhere' }]],
          ['static', 'open', ['errors.txt', { blockSize: 0 }]],
          ['static', 'import', ['x.txt', 42]],
          ['static', 'list', ['opfs']],
          // Walks: VirtualBuffer's throw at the call, the proxy's reject their first step.
          ['doc', 'chunks', [0, 1, { signal: 1 }]],
          ['doc', 'lines', [0, { signal: null }]],
          ['doc', 'chunks', [5, 1]],
        ];
        const describe = (e) => ({ class: e?.constructor?.name, name: e?.name, message: e?.message, code: e?.code });
        const runAll = async (statics, open) => {
          const doc = await open('errors.txt');
          const freed = await open('errors.txt');
          await freed.free();
          const out = [];
          for (const [target, method, args] of CALLS) {
            const self = target === 'static' ? statics : target === 'doc' ? doc : freed;
            try {
              const value = await self[method](...args);
              if (method === 'chunks' || method === 'lines') await value.next();
              out.push('no error');
            } catch (e) {
              out.push(describe(e));
            }
          }
          await doc.free();
          return out;
        };

        // Directly in a worker of the page's origin.
        const origin = location.origin;
        const source = `
          import { init, VirtualBuffer } from '${origin}/js/web.mjs';
          const CALLS = ${JSON.stringify(CALLS)};
          const describe = ${describe.toString()};
          const runAll = ${runAll.toString()};
          await init();
          await VirtualBuffer.import('errors.txt', 'one line\\nand another\\n', { store: 'opfs' });
          const statics = {
            open: (name, options) => VirtualBuffer.open(name, { store: 'opfs', ...options }),
            import: (name, source, options) => VirtualBuffer.import(name, source, { store: 'opfs', ...options }),
            list: (options) => VirtualBuffer.list(options),
          };
          postMessage(await runAll(statics, (name) => statics.open(name)));`;
        const worker = new Worker(URL.createObjectURL(new Blob([source], { type: 'text/javascript' })), { type: 'module' });
        const direct = await new Promise((ok, fail) => {
          worker.onmessage = ({ data }) => ok(data);
          worker.onerror = (e) => fail(new Error(e.message));
        });
        worker.terminate();

        // Through the proxy (whose default store is OPFS here).
        const { openDocumentWorker, DocumentWorker, WorkerVirtualBuffer } = await import('/js/web.mjs');
        const docs = await openDocumentWorker();
        const proxied = await runAll(docs, (name) => docs.open(name));
        await docs.deleteDocument('errors.txt');
        docs.terminate();
        const constructors = [];
        for (const cls of [DocumentWorker, WorkerVirtualBuffer]) {
          try {
            new cls();
          } catch (e) {
            constructors.push(describe(e));
          }
        }
        // Members called on an object that is not one of the class's: a member that returns a
        // Promise rejects, a getter or a walk throws, as VirtualBuffer's members do.
        const receivers = [];
        for (const [cls, member] of [
          [WorkerVirtualBuffer, 'read'],
          [WorkerVirtualBuffer, 'free'],
          [WorkerVirtualBuffer, 'length'],
          [WorkerVirtualBuffer, 'chunks'],
          [WorkerVirtualBuffer, 'lines'],
          [WorkerVirtualBuffer, 'readableStream'],
          [DocumentWorker, 'open'],
          [DocumentWorker, 'list'],
          [DocumentWorker, 'worker'],
          [DocumentWorker, 'terminate'],
        ]) {
          const property = Object.getOwnPropertyDescriptor(cls.prototype, member);
          try {
            const value = property.get ? property.get.call({}) : property.value.call({}, 0, 1);
            receivers.push(value instanceof Promise ? await value.then(() => 'resolved', (e) => ['rejects', describe(e)]) : 'no error');
          } catch (e) {
            receivers.push(['throws', describe(e)]);
          }
        }
        return { direct, proxied, constructors, receivers };
      });
      assert.equal(result.direct.length, 20);
      assert.ok(result.direct.every((e) => e !== 'no error'), JSON.stringify(result.direct));
      assert.deepEqual(result.proxied, result.direct);
      // A few by name, so that a change of wording elsewhere cannot make both sides wrong alike.
      assert.deepEqual(result.proxied[0], { class: 'RangeError', name: 'RangeError', message: 'start must be between 0 and 9007199254740991, got -1', code: 'ERR_OUT_OF_RANGE' });
      assert.equal(result.proxied[10].code, 'ERR_INVALID_STATE');
      assert.deepEqual(result.proxied[11], { class: 'Error', name: 'Error', message: 'VirtualBuffer.open("no such document"): there is no document named "no such document"', code: undefined });
      assert.equal(result.proxied[13].code, 'ERR_INVALID_ARG_VALUE');
      assert.deepEqual(result.proxied[17], {
        class: 'TypeError',
        name: 'TypeError',
        message: 'VirtualBuffer.chunks: options.signal must be an AbortSignal, got 1',
        code: 'ERR_INVALID_ARG_TYPE',
      });
      assert.match(result.proxied[18].message, /^VirtualBuffer\.lines: options\.signal must be an AbortSignal/);
      const notOne = (how, cls, member) => [how, { class: 'TypeError', name: 'TypeError', message: `${cls}.${member}: called on an object that is not a ${cls}`, code: 'ERR_INVALID_THIS' }];
      assert.deepEqual(result.receivers, [
        notOne('rejects', 'WorkerVirtualBuffer', 'read'),
        notOne('rejects', 'WorkerVirtualBuffer', 'free'),
        notOne('throws', 'WorkerVirtualBuffer', 'length'),
        notOne('throws', 'WorkerVirtualBuffer', 'chunks'),
        notOne('throws', 'WorkerVirtualBuffer', 'lines'),
        notOne('throws', 'WorkerVirtualBuffer', 'readableStream'),
        notOne('rejects', 'DocumentWorker', 'open'),
        notOne('rejects', 'DocumentWorker', 'list'),
        notOne('throws', 'DocumentWorker', 'worker'),
        notOne('throws', 'DocumentWorker', 'terminate'),
      ]);
      assert.deepEqual(result.constructors, [
        { class: 'TypeError', name: 'TypeError', message: 'DocumentWorker has no public constructor: use openDocumentWorker()', code: 'ERR_ILLEGAL_CONSTRUCTOR' },
        {
          class: 'TypeError',
          name: 'TypeError',
          message: 'WorkerVirtualBuffer has no public constructor: use DocumentWorker.open() or DocumentWorker.import()',
          code: 'ERR_ILLEGAL_CONSTRUCTOR',
        },
      ]);
      assert.deepEqual(errors, []);
    });
  } finally {
    server.close();
  }
});

test('readInto: an OPFS document in its worker reads at once, edits included; other documents say read()', { skip, timeout: 120_000 }, async () => {
  const { url, server } = await serve(0);
  try {
    await withProfile(async (context) => {
      const { page, errors } = await openPage(context, url);
      const result = await page.evaluate(async () => {
        const source = `
          import { init, VirtualBuffer } from '${location.origin}/js/web.mjs';
          const describe = (e) => ({ class: e?.constructor?.name, message: e?.message, code: e?.code });
          const attempt = (f) => { try { f(); return 'no error'; } catch (e) { return describe(e); } };
          await init();
          const doc = await VirtualBuffer.import('into.txt', 'hello, readInto', { store: 'opfs' });
          doc.insert(0, '>> ');
          const target = new Uint8Array(9);
          const out = { n: doc.readInto(3, target), text: new TextDecoder().decode(target) };
          out.pastEnd = attempt(() => doc.readInto(doc.length - 2, new Uint8Array(4)));
          out.notArray = attempt(() => doc.readInto(0, [1, 2]));
          out.badStart = attempt(() => doc.readInto(-1, new Uint8Array(1)));
          // A target over a detached buffer is no bytes: 0 read, and the buffer frees (and lets go
          // of its document, which is deleted below).
          const detached = new Uint8Array(4);
          structuredClone(detached.buffer, { transfer: [detached.buffer] });
          out.detached = attempt(() => { if (doc.readInto(0, detached) !== 0) throw new Error('bytes read'); });
          const memory = VirtualBuffer.fromBytes('abc');
          out.memory = attempt(() => memory.readInto(0, new Uint8Array(1)));
          memory.free();
          doc.free();
          await VirtualBuffer.deleteDocument('into.txt', { store: 'opfs' });
          postMessage(out);`;
        const worker = new Worker(URL.createObjectURL(new Blob([source], { type: 'text/javascript' })), { type: 'module' });
        const out = await new Promise((ok, fail) => {
          worker.onmessage = ({ data }) => ok(data);
          worker.onerror = (e) => fail(new Error(e.message));
        });
        worker.terminate();
        return out;
      });
      assert.equal(result.n, 9);
      assert.equal(result.text, 'hello, re');
      assert.equal(result.pastEnd.class, 'RangeError', JSON.stringify(result.pastEnd));
      assert.deepEqual(result.notArray, { class: 'TypeError', message: 'VirtualBuffer.readInto: target must be a Uint8Array, got an object', code: 'ERR_INVALID_ARG_TYPE' });
      assert.equal(result.badStart.code, 'ERR_OUT_OF_RANGE');
      assert.equal(result.detached, 'no error');
      assert.equal(result.memory.class, 'Error');
      assert.match(result.memory.message, /readInto\(\) reads OPFS documents.*use read\(\)/);
      assert.deepEqual(errors, []);
    });
  } finally {
    server.close();
  }
});

test('offsets past 4 GiB cross the proxy and reach the file (a sparse 5 GiB document)', { skip, timeout: 120_000 }, async () => {
  const { url, server } = await serve(0);
  try {
    await withProfile(async (context) => {
      const { page, errors } = await openPage(context, url);
      const result = await page.evaluate(async () => {
        const LENGTH = 5 * 2 ** 30 + 7;
        const PAST = 2 ** 32 + 5;
        // The document is made by hand, as the OPFS store lays one out (src/platform/wasm/opfs): a data
        // file, here sparse (writing 5 GiB would take minutes), and a header whose record names it,
        // version 1 in the second slot. No import writes that much in a test of this suite.
        const source = `
          const enc = (s) => new TextEncoder().encode(s);
          const root = await (await navigator.storage.getDirectory()).getDirectoryHandle('omnibuf', { create: true });
          await root.removeEntry('sparse.bin', { recursive: true }).catch(() => {});
          const dir = await root.getDirectoryHandle('sparse.bin', { create: true });
          const data = await (await dir.getFileHandle('d0123456789abcdef', { create: true })).createSyncAccessHandle();
          data.truncate(${LENGTH});
          data.write(enc('past 4 GiB'), { at: ${PAST} });
          data.write(enc('the end'), { at: ${LENGTH - 7} });
          data.flush();
          data.close();
          const record = new Uint8Array(40);
          record.set(enc('OMNIBUF1'));
          const view = new DataView(record.buffer);
          view.setBigUint64(8, 1n, true);
          view.setBigUint64(16, 0x0123456789abcdefn, true);
          view.setBigUint64(24, ${LENGTH}n, true);
          record.set(new Uint8Array(await crypto.subtle.digest('SHA-256', record.subarray(0, 32))).subarray(0, 8), 32);
          const head = await (await dir.getFileHandle('head', { create: true })).createSyncAccessHandle();
          head.write(record, { at: 64 });
          head.flush();
          head.close();
          postMessage('made');`;
        const maker = new Worker(URL.createObjectURL(new Blob([source], { type: 'text/javascript' })), { type: 'module' });
        await new Promise((ok, fail) => {
          maker.onmessage = ok;
          maker.onerror = (e) => fail(new Error(e.message));
        });
        maker.terminate();

        const { openDocumentWorker } = await import('/js/web.mjs');
        const docs = await openDocumentWorker();
        const doc = await docs.open('sparse.bin');
        const text = (bytes) => new TextDecoder().decode(bytes);
        const out = { length: doc.length, past: text(await doc.read(PAST, PAST + 10)), end: text(await doc.read(LENGTH - 7)) };
        out.zeros = Array.from(await doc.read(PAST - 3, PAST));
        await doc.insert(PAST, '>>');
        out.edited = [doc.length, text(await doc.read(PAST, PAST + 12))];
        out.found = await doc.find('the end', LENGTH - 100);
        await doc.delete(PAST, PAST + 2);
        out.undone = [doc.length, text(await doc.read(PAST, PAST + 10))];
        try {
          await doc.read(LENGTH - 1, LENGTH + 1);
        } catch (e) {
          out.beyond = [e.constructor.name, e.message];
        }
        await doc.free();
        await docs.deleteDocument('sparse.bin');
        docs.terminate();
        return out;
      });
      const LENGTH = 5 * 2 ** 30 + 7;
      assert.deepEqual(result, {
        length: LENGTH,
        past: 'past 4 GiB',
        end: 'the end',
        zeros: [0, 0, 0],
        edited: [LENGTH + 2, '>>past 4 GiB'],
        found: LENGTH - 7 + 2,
        undone: [LENGTH, 'past 4 GiB'],
        beyond: ['RangeError', `range ${LENGTH - 1}..${LENGTH + 1} is outside the buffer (length ${LENGTH})`],
      });
      assert.deepEqual(errors, []);
    });
  } finally {
    server.close();
  }
});

test('signals through the proxy: a call the worker has not started never runs; a started import runs to its end', { skip, timeout: 120_000 }, async () => {
  const { url, server } = await serve(0);
  try {
    await withProfile(async (context) => {
      const { page, errors } = await openPage(context, url);
      await page.evaluate(PAGE_HELPERS);
      const result = await page.evaluate(async () => {
        const { openDocumentWorker } = await import('/js/web.mjs');
        const docs = await openDocumentWorker();
        const NAMES = ['signal-big.txt', 'signal-queued.txt', 'signal-late.txt'];
        for (const name of NAMES) await docs.deleteDocument(name);
        const stored = async (name) => (await docs.list()).some((d) => d.name === name);
        const outcome = (p) => p.then(() => 'resolved', (e) => `${e.name} ${e.code} ${e.cause?.message}`);
        const out = {};

        // A big import keeps the worker busy: the calls after it wait in its queue.
        let bigDone = false;
        const big = docs.import('signal-big.txt', new Blob([numbered(200_000)]), { blockSize: 65536 });
        big.then(() => (bigDone = true));
        const controller = new AbortController();
        const queuedImport = docs.import('signal-queued.txt', new TextEncoder().encode('never'), { signal: controller.signal });
        const queuedOpen = docs.open('no such document', { signal: controller.signal });
        const queuedList = docs.list({ signal: controller.signal });
        controller.abort(new Error('stop'));
        out.reads = [await outcome(queuedOpen), await outcome(queuedList), bigDone];
        out.queuedImport = await outcome(queuedImport);
        const doc = await big;
        out.queuedStored = await stored('signal-queued.txt');

        // Reads on a buffer: aborted before the call, or while queued behind an edit.
        out.early = await outcome(doc.read(0, 10, { signal: AbortSignal.abort(new Error('no')) }));
        const c2 = new AbortController();
        const edit = doc.insert(0, 'x');
        const reading = doc.read(0, 10, { signal: c2.signal });
        c2.abort(new Error('late'));
        out.queuedRead = await outcome(reading);
        await edit;
        out.after = text(await doc.read(0, 5, { signal: new AbortController().signal }));
        out.badSignal = await doc.read(0, 1, { signal: 'no' }).then(() => 'resolved', (e) => `${e.constructor.name} ${e.code}`);
        await doc.free();

        // Aborted at different moments of a big import: resolved with the document stored, or an
        // AbortError with nothing stored, never an AbortError for a document that was stored.
        out.late = [];
        for (const delay of [0, 1, 5, 20, 100]) {
          const c = new AbortController();
          const importing = docs.import('signal-late.txt', new Blob([numbered(100_000)]), { signal: c.signal });
          await new Promise((r) => setTimeout(r, delay));
          c.abort(new Error('late'));
          const got = await importing.then((d) => d.free().then(() => 'resolved'), (e) => e.name);
          const has = await stored('signal-late.txt');
          out.late.push(got === 'resolved' ? has : !has);
          if (has) await docs.deleteDocument('signal-late.txt');
        }
        await docs.deleteDocument('signal-big.txt');
        docs.terminate();
        return out;
      });
      assert.deepEqual(result, {
        reads: ['AbortError ABORT_ERR stop', 'AbortError ABORT_ERR stop', false],
        queuedImport: 'AbortError ABORT_ERR stop',
        queuedStored: false,
        early: 'AbortError ABORT_ERR no',
        queuedRead: 'AbortError ABORT_ERR late',
        after: 'xline',
        badSignal: 'TypeError ERR_INVALID_ARG_TYPE',
        late: [true, true, true, true, true],
      });
      assert.deepEqual(errors, []);
    });
  } finally {
    server.close();
  }
});

test('a document open in one worker: another lists and exports it; deleting it is refused in both, each saying where; the proxy walks from a null start', { skip, timeout: 120_000 }, async () => {
  await onServedPage(async (page) => {
    const out = await page.evaluate(async () => {
      const { openDocumentWorker } = await import('/js/web.mjs');
      const holder = await openDocumentWorker();
      const other = await openDocumentWorker();
      const refused = (promise) => promise.then(() => 'deleted', (e) => e.message);
      await holder.deleteDocument('held.txt');
      const held = await holder.import('held.txt', 'held open\n');
      const result = {
        listed: (await other.list()).filter((d) => d.name === 'held.txt'),
        exported: text(await (await other.exportDocument('held.txt')).arrayBuffer()),
        deleteHere: await refused(holder.deleteDocument('held.txt')),
        deleteThere: await refused(other.deleteDocument('held.txt')),
        stillReads: text(await held.read(0, 4)),
      };
      // The proxy's walks take a null start as left out, as VirtualBuffer's do.
      result.nullStart = '';
      for await (const chunk of held.chunks(null)) result.nullStart += text(chunk);
      for await (const line of held.lines(null)) result.nullStart += `|${line}`;
      result.nullStart += `|${await new Response(held.readableStream(null)).text()}`;
      // A line walk whose buffer is freed between its steps rejects at the next one, though the
      // lines after were read before.
      await held.insert(0, 'one\ntwo\nthree\n');
      const lines = held.lines();
      result.firstLine = (await lines.next()).value;
      const freed = held.free();
      result.afterFree = await lines.next().then(({ value }) => `yielded ${value}`, (e) => e.code);
      await freed;
      result.deletedOnceFreed = await refused(other.deleteDocument('held.txt'));
      result.listedAfter = (await other.list()).filter((d) => d.name === 'held.txt');
      holder.terminate();
      other.terminate();
      return result;
    });
    assert.deepEqual(out.listed, [{ name: 'held.txt', length: 10 }]);
    assert.equal(out.exported, 'held open\n');
    assert.match(out.deleteHere, /document "held\.txt" is open in this worker: free its buffers, then try again/);
    assert.match(out.deleteThere, /is open in another worker or tab/);
    assert.equal(out.stillReads, 'held');
    assert.equal(out.nullStart, 'held open\n|held open|held open\n');
    assert.equal(out.firstLine, 'one');
    assert.equal(out.afterFree, 'ERR_INVALID_STATE');
    assert.equal(out.deletedOnceFreed, 'deleted');
    assert.deepEqual(out.listedAfter, []);
  });
});

test('listing and exporting a document another worker keeps saving: every call succeeds and exports one whole version', { skip, timeout: 180_000 }, async () => {
  await onServedPage(async (page) => {
    const out = await page.evaluate(async () => {
      const { openDocumentWorker } = await import('/js/web.mjs');
      const saver = await openDocumentWorker();
      const reader = await openDocumentWorker();
      await saver.deleteDocument('saved-often.txt');
      // Versions "v000 …" to "v059 …", each a whole 64 KiB: an export that mixed two would show it.
      const version = (i) => `v${String(i).padStart(3, '0')} `.repeat(1 << 14).slice(0, 1 << 16);
      const doc = await saver.import('saved-often.txt', version(0));
      let saving = true;
      const saves = (async () => {
        for (let i = 1; i < 60; i++) {
          await doc.replace(0, doc.length, version(i));
          await doc.save();
        }
        saving = false;
      })();
      const seen = { lists: 0, exports: 0, failures: [], mixed: 0 };
      while (saving) {
        try {
          const listed = (await reader.list()).find((d) => d.name === 'saved-often.txt');
          if (listed?.length === 1 << 16) seen.lists += 1;
          else seen.failures.push(`listed ${JSON.stringify(listed)}`);
          const exported = text(await (await reader.exportDocument('saved-often.txt')).arrayBuffer());
          if (exported === version(Number(exported.slice(1, 4)))) seen.exports += 1;
          else seen.mixed += 1;
        } catch (e) {
          seen.failures.push(e.message);
        }
      }
      await saves;
      await doc.free();
      await saver.deleteDocument('saved-often.txt');
      saver.terminate();
      reader.terminate();
      return seen;
    });
    console.log(`# ${out.lists} lists and ${out.exports} exports while the other worker saved 59 times`);
    assert.deepEqual(out.failures, []);
    assert.equal(out.mixed, 0, 'every export is one whole version');
    assert.ok(out.exports > 0 && out.lists > 0);
  });
});

test('a full quota: an OPFS import, save or saveAs() rejects with a QuotaExceededError, changes nothing, and frees what it wrote at once', { skip, timeout: 180_000 }, async () => {
  const out = await onServedPage(async (page) => {
    const cdp = await page.context().newCDPSession(page);
    await cdp.send('Storage.overrideQuotaForOrigin', { origin: new URL(page.url()).origin, quotaSize: 24 << 20 });
    await page.reload();
    await page.evaluate(PAGE_HELPERS);
    return page.evaluate(async () => {
      const { openDocumentWorker } = await import('/js/web.mjs');
      const docs = await openDocumentWorker({ store: 'opfs' });
      const failure = (e) => ({ name: e.name, message: e.message });
      const usage = async () => (await navigator.storage.estimate()).usage;
      const out = {};
      const base = await usage();
      out.import = await docs.import('big.bin', new Blob([new Uint8Array(40 << 20).fill(1)])).then(() => 'imported', failure);
      out.afterImport = (await usage()) - base;
      out.listed = (await docs.list()).map((d) => d.name);
      const doc = await docs.import('small.bin', new Uint8Array(1 << 20).fill(2));
      await doc.insert(0, new Uint8Array(40 << 20).fill(3));
      const stored = await usage();
      out.save = await doc.save().then(() => 'saved', failure);
      out.afterSave = (await usage()) - stored;
      out.saveAs = await doc.saveAs('copy.bin').then(() => 'saved', failure);
      out.afterSaveAs = (await usage()) - stored;
      await doc.free();
      const reopened = await docs.open('small.bin');
      out.reopened = { length: reopened.length, first: (await reopened.read(0, 1))[0] };
      await reopened.free();
      docs.terminate();
      return out;
    });
  });
  const quota = { name: 'QuotaExceededError', message: /QuotaExceededError.*the stored document is unchanged/ };
  assert.deepEqual({ name: out.import.name }, { name: quota.name }, out.import.message);
  assert.match(out.import.message, quota.message);
  for (const call of ['save', 'saveAs']) {
    assert.deepEqual({ name: out[call].name }, { name: quota.name }, out[call].message);
    assert.match(out[call].message, quota.message);
  }
  assert.deepEqual(out.listed, [], 'the import stored nothing');
  assert.deepEqual(out.reopened, { length: 1 << 20, first: 2 }, 'the save left the old version');
  // What the failed writes took is free again before any open cleans up (a page's estimate is
  // rounded and padded: well under the 40 MiB that was written is enough).
  assert.ok(out.afterImport < 4 << 20, `the import's file still takes ${out.afterImport} bytes`);
  assert.ok(out.afterSave < 4 << 20, `the save's file still takes ${out.afterSave} bytes`);
  assert.ok(out.afterSaveAs < 4 << 20, `saveAs()'s file still takes ${out.afterSaveAs} bytes`);
});

test("the proxy: arguments that cannot be cloned are VirtualBuffer's TypeErrors, options are read as VirtualBuffer reads them; the Worker's own terminate() rejects pending calls as terminate() does", { skip, timeout: 120_000 }, async () => {
  const out = await onServedPage(async (page) =>
    page.evaluate(async () => {
      const { openDocumentWorker } = await import('/js/web.mjs');
      const failure = (e) => ({ name: e.name, code: e.code, message: e.message });
      const docs = await openDocumentWorker();
      const out = {
        // A function or a symbol, which a structured clone refuses, gets VirtualBuffer's error for its
        // type, as an argument or an option; a value deeper down cannot be sent.
        badSource: await docs.import('f', Symbol('s')).then(() => 'imported', failure),
        functionOption: await docs.open('f', { blockSize: () => 1 }).then(() => 'opened', failure),
        deepOption: await docs.open('f', { blockSize: { f() {} } }).then(() => 'opened', failure),
        // An object that is no bytes goes as VirtualBuffer's argument checks see it: their error.
        objectSource: await docs.import('f', { fn() {} }).then(() => 'imported', failure),
        badOption: await docs.open('f', { store: Symbol('opfs') }).then(() => 'opened', failure),
      };
      // Options are read on the page as VirtualBuffer reads them: one that cannot be read rejects
      // the call with the TypeError VirtualBuffer gives (its cause the getter's own error), never
      // throws; one inherited from a prototype is read; a store left undefined names none.
      const throwing = { get store() { throw new RangeError('mine'); } };
      out.ownError = await docs.open('f', throwing).then(() => 'opened', failure);
      out.inherited = await docs.import('f', 'abc', Object.create({ blockSize: 0 })).then(() => 'imported', failure);
      const undefinedStore = await docs.import('u.txt', 'abc', { store: undefined });
      out.undefinedStore = undefinedStore.store;
      try {
        out.signalGetter = await undefinedStore.read(0, 1, { get signal() { throw new Error('mine'); } }).then(() => 'read', failure);
      } catch (e) {
        out.signalGetter = { threw: failure(e) };
      }
      // Bytes over a detached buffer are no bytes, as VirtualBuffer takes them: nothing inserted,
      // an empty pattern found at the start.
      const detached = new Uint8Array(4);
      structuredClone(detached.buffer, { transfer: [detached.buffer] });
      out.detached = await undefinedStore
        .insert(1, detached)
        .then(() => undefinedStore.find(detached, 2))
        .then(async (at) => [at, text(await undefinedStore.read(0))], failure);
      out.functionBytes = await undefinedStore.insert(0, () => {}).then(() => 'inserted', failure);
      // Only real functions and symbols are stood in for: an object is the object it is.
      const lookalike = { 'omnibuf:stand-in': 'function', standIn: 'function' };
      out.lookalike = [
        await undefinedStore.read(lookalike).then(() => 'read', failure),
        await docs.open('f', { blockSize: lookalike }).then(() => 'opened', failure),
      ];
      out.symbolOffset = await undefinedStore.read(Symbol('at')).then(() => 'read', failure);
      // Getters after free() throw, as VirtualBuffer's do.
      const freeing = undefinedStore.free();
      try {
        out.lengthAfterFree = undefinedStore.length;
      } catch (e) {
        out.lengthAfterFree = failure(e);
      }
      await freeing;
      await docs.deleteDocument('u.txt');
      // A store no call could name is refused at the start, with the error each call would give.
      out.bogusStore = await openDocumentWorker({ store: 'bogus' }).then(() => 'started', failure);
      out.nullStore = await openDocumentWorker({ store: null }).then(() => 'started', failure);
      out.symbolStore = await openDocumentWorker({ store: Symbol('opfs') }).then(() => 'started', failure);
      // The Worker's terminate() called on another Worker ends that one, not the documents'.
      const other = new Worker(URL.createObjectURL(new Blob(['onmessage = () => postMessage(1)'], { type: 'text/javascript' })));
      docs.worker.terminate.call(other);
      out.listedAfterOther = await docs.list().then(() => 'listed', failure);
      const doc = await docs.import('big.txt', numbered(200_000));
      const pending = doc.lineCount().then(() => 'counted', failure);
      docs.worker.terminate();
      out.pending = await pending;
      out.after = await doc.read(0, 1).then(() => 'read', failure);
      out.listAfter = await docs.list().then(() => 'listed', failure);
      return out;
    }),
  );
  const source = { name: 'TypeError', code: 'ERR_INVALID_ARG_TYPE', message: 'source must be a File, a Blob, a Uint8Array, an ArrayBuffer or a string' };
  assert.deepEqual(out.badSource, source);
  assert.deepEqual(out.objectSource, source);
  assert.deepEqual(out.functionOption, { name: 'TypeError', code: 'ERR_INVALID_ARG_TYPE', message: 'options.blockSize must be a number, got a function' });
  assert.equal(out.deepOption.code, 'ERR_INVALID_ARG_TYPE');
  assert.match(out.deepOption.message, /^open: an argument cannot be sent to the document worker/);
  assert.deepEqual(out.functionBytes, {
    name: 'TypeError',
    code: 'ERR_INVALID_ARG_TYPE',
    message: 'bytes must be a string, an ArrayBuffer, a SharedArrayBuffer, a typed array or a DataView, got a function',
  });
  assert.deepEqual(out.lookalike, [
    { name: 'TypeError', code: 'ERR_INVALID_ARG_TYPE', message: 'start must be an integer, got an object' },
    { name: 'TypeError', code: 'ERR_INVALID_ARG_TYPE', message: 'options.blockSize must be a number, got an object' },
  ]);
  assert.deepEqual(out.symbolOffset, { name: 'TypeError', code: 'ERR_INVALID_ARG_TYPE', message: 'start must be an integer, got a symbol' });
  assert.deepEqual({ name: out.badOption.name, code: out.badOption.code }, { name: 'TypeError', code: 'ERR_INVALID_ARG_TYPE' });
  assert.deepEqual(out.ownError, { name: 'TypeError', code: 'ERR_INVALID_ARG_TYPE', message: 'options.store cannot be read' });
  assert.deepEqual(out.inherited, { name: 'RangeError', code: 'ERR_OUT_OF_RANGE', message: 'blockSize must be between 1 and 4294967295, got 0' });
  assert.equal(out.undefinedStore, 'opfs', "the worker's store");
  assert.deepEqual(out.detached, [2, 'abc']);
  assert.deepEqual(out.signalGetter, { name: 'TypeError', code: 'ERR_INVALID_ARG_TYPE', message: 'options.signal cannot be read' });
  assert.deepEqual(out.lengthAfterFree, { name: 'Error', code: 'ERR_INVALID_STATE', message: 'this VirtualBuffer was freed and cannot be used any more' });
  const stores = 'options.store must be "indexeddb" or "opfs" or "auto"';
  assert.deepEqual(out.bogusStore, { name: 'TypeError', code: 'ERR_INVALID_ARG_VALUE', message: `${stores}, got "bogus"` });
  assert.deepEqual(out.nullStore, { name: 'TypeError', code: 'ERR_INVALID_ARG_TYPE', message: `${stores}, got null` });
  assert.deepEqual(out.symbolStore, { name: 'TypeError', code: 'ERR_INVALID_ARG_TYPE', message: `${stores}, got a symbol` });
  assert.equal(out.listedAfterOther, 'listed');
  const terminated = { name: 'Error', code: undefined, message: 'omnibuf: the document worker was terminated' };
  // lineCount() does not change the store: it rejects with the plain message (or it counted first).
  assert.ok(out.pending === 'counted' || JSON.stringify(out.pending) === JSON.stringify(terminated), JSON.stringify(out.pending));
  assert.deepEqual(out.after, terminated);
  assert.deepEqual(out.listAfter, terminated);
});

// A Blob, which import() makes of bytes, refuses a view of shared memory: the bytes of a
// SharedArrayBuffer are taken as they are at the call, on the page and through the proxy.
test('import() takes bytes over a SharedArrayBuffer as they are at the call, on the page and through the proxy', { skip, timeout: 120_000 }, async () => {
  const got = await onServedPage((page) =>
    page.evaluate(async () => {
      const { init, openDocumentWorker, VirtualBuffer } = await import('/js/web.mjs');
      await init();
      const shared = new SharedArrayBuffer(8);
      const bytes = new Uint8Array(shared);
      bytes.set(new TextEncoder().encode('shared!!'));
      const docs = await openDocumentWorker();
      const imports = {
        'page, the buffer': () => VirtualBuffer.import('a.txt', shared),
        'page, a view': () => VirtualBuffer.import('b.txt', new Int16Array(shared, 2, 2)),
        'worker, the buffer': () => docs.import('c.txt', shared),
        'worker, a view': () => docs.import('d.txt', new Uint8Array(shared, 0, 6)),
      };
      const out = {};
      for (const [what, start] of Object.entries(imports)) {
        const pending = start();
        bytes[0] ^= 0x20; // changed after the call: not in the document
        const doc = await pending.catch((e) => e);
        bytes[0] ^= 0x20;
        if (doc instanceof Error) {
          out[what] = `${doc.name}: ${doc.message}`;
          continue;
        }
        out[what] = text(await doc.read(0, doc.length).then((read) => read.bytes?.() ?? read));
        await doc.free();
      }
      docs.terminate();
      return out;
    }),
  );
  assert.deepEqual(got, {
    'page, the buffer': 'shared!!',
    'page, a view': 'ared',
    'worker, the buffer': 'shared!!',
    'worker, a view': 'shared',
  });
});

test('a WorkerVirtualBuffer the page lets go of unfreed is freed in the worker once collected: its document opens elsewhere again', { skip, timeout: 120_000 }, async () => {
  const { url, server } = await serve(0);
  // Off the record (its OPFS in memory) for gc() on the page.
  const browser = await launchChromium({ gc: true });
  try {
    const { page, errors } = await openPage(browser, url);
    const got = await page.evaluate(async () => {
      const { openDocumentWorker } = await import('/js/web.mjs');
      const [docs, other] = await Promise.all([openDocumentWorker(), openDocumentWorker()]);
      await (await docs.import('dropped.txt', 'abc')).free();
      let opened = await docs.open('dropped.txt');
      const refused = await other.open('dropped.txt').then(
        () => 'opened',
        (e) => e.message,
      );
      opened = null; // let go of, unfreed
      let reopened = 'never';
      for (let i = 0; i < 50 && reopened !== 'opened'; i++) {
        gc();
        await new Promise((resolve) => setTimeout(resolve, 100));
        reopened = await other.open('dropped.txt').then(
          (doc) => (doc.free(), 'opened'),
          (e) => e.message,
        );
      }
      docs.terminate();
      other.terminate();
      return { refused, reopened };
    });
    assert.match(got.refused, /open in another worker or tab/);
    assert.equal(got.reopened, 'opened');
    assert.deepEqual(errors, []);
  } finally {
    await browser.close();
    server.close();
  }
});

test('openDocumentWorker(): options left out as null, refused as not an object, and every failure a rejection', { skip, timeout: 120_000 }, async () => {
  const got = await onServedPage((page) =>
    page.evaluate(async () => {
      const { openDocumentWorker } = await import('/js/web.mjs');
      const outcome = (options) => {
        let promise;
        try {
          promise = openDocumentWorker(options);
        } catch (e) {
          return `threw ${e.name}`;
        }
        return promise.then(
          (docs) => (docs.terminate(), 'started'),
          (e) => `${e.name}${typeof e.code === 'string' ? ` ${e.code}` : ''}: ${e.message}`,
        );
      };
      return {
        null: await outcome(null),
        number: await outcome(5),
        string: await outcome('opfs'),
        badUrl: (await outcome({ worker: 'http://[' })).split(':')[0],
        otherOrigin: (await outcome({ worker: 'https://example.com/worker.mjs' })).split(':')[0],
      };
    }),
  );
  assert.deepEqual(got, {
    null: 'started',
    number: 'TypeError ERR_INVALID_ARG_TYPE: options must be an object, got 5',
    string: 'TypeError ERR_INVALID_ARG_TYPE: options must be an object, got a string',
    badUrl: 'SyntaxError',
    otherOrigin: 'SecurityError',
  });
});

test('import() of a picked file deleted since says the File could not be read, not that the store failed', { skip, timeout: 120_000 }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'omnibuf-picked-'));
  const picked = join(dir, 'picked.txt');
  writeFileSync(picked, 'picked, then deleted\n');
  try {
    const got = await onServedPage(async (page) => {
      await page.evaluate(() => {
        const input = Object.assign(document.createElement('input'), { type: 'file', id: 'pick' });
        document.body.append(input);
      });
      // Through CDP, as a user's pick (playwright's setInputFiles sends small files' bytes instead):
      // the File reads the file on disk when it is read.
      const cdp = await page.context().newCDPSession(page);
      const { root } = await cdp.send('DOM.getDocument');
      const { nodeId } = await cdp.send('DOM.querySelector', { nodeId: root.nodeId, selector: '#pick' });
      await cdp.send('DOM.setFileInputFiles', { nodeId, files: [picked] });
      // Its size read: the File's note of the file, which later reads check it against.
      await page.evaluate(() => document.querySelector('#pick').files[0].size);
      rmSync(picked);
      return page.evaluate(async () => {
        const { init, openDocumentWorker, VirtualBuffer } = await import('/js/web.mjs');
        await init();
        const file = document.querySelector('#pick').files[0];
        const docs = await openDocumentWorker();
        const message = (promise) =>
          promise.then(
            () => 'imported',
            (e) => e.message,
          );
        const out = {
          indexeddb: await message(VirtualBuffer.import('picked.txt', file, { store: 'indexeddb' })),
          opfs: await message(docs.import('picked.txt', file)),
        };
        docs.terminate();
        return out;
      });
    });
    for (const [store, message] of Object.entries(got)) {
      assert.match(message, /^VirtualBuffer\.import\("picked\.txt"\): the File or Blob to import could not be read, so nothing was imported: \w+Error: /, store);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
