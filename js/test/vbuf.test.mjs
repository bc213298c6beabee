// VirtualBuffer: open generated content, edit, read, search, query lines, undo, save and reopen.
// The same assertions run against both implementations, over their own storage: files for the Node
// addon (a path names a file), IndexedDB documents for the wasm build (a name names a document; in
// Node through the fake-indexeddb polyfill that impl.mjs installs). What only one storage has (file
// backends, FIFOs, documents changed by another tab) has tests of its own below.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, chownSync, existsSync, linkSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, statSync, truncateSync, unlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { constants } from 'node:buffer';
import { join, resolve, toNamespacedPath } from 'node:path';
import { readFile } from 'node:fs/promises';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { impl, VirtualBuffer, ZeroCopyBuffer } from './impl.mjs';
import { occupyThreadPool } from './thread-pool.mjs';

const addonOnly = impl === 'addon' ? false : 'files: the addon only (the wasm build stores documents in IndexedDB)';
const wasmOnly = impl === 'wasm' ? false : 'IndexedDB documents: the wasm build only (the addon opens files)';
/** `path` as the addon passes it to the system, and so as its errors name it: on Windows absolute
 * and with the `\\?\` prefix, as Node's fs passes paths there. */
const asOpened = (path) => (process.platform === 'win32' ? toNamespacedPath(resolve(path)) : path);
const text = (zcb) => new TextDecoder().decode(zcb.bytes());

/** A temp directory removed after `body`. A failure to remove it (Windows cannot while a file in it
 * is open) fails the test only when `body` did not: then `body`'s own error is the one reported. */
async function inTempDir(body) {
  const dir = mkdtempSync(join(tmpdir(), 'omnibuf-vbuf-'));
  let failed = true;
  try {
    await body(dir);
    failed = false;
  } finally {
    try {
      rmSync(dir, { recursive: true, force: true, maxRetries: 3 });
    } catch (e) {
      if (!failed) throw e;
    }
  }
}

let documents = 0;

/** Where the implementation under test keeps content: `put` stores content under a fresh id (a file
 * path or a document name) and returns it, `get(id, as)` reads what is stored under an id (as text,
 * or as 'bytes'). */
async function withStorage(body) {
  if (impl === 'addon') {
    await inTempDir((dir) =>
      body({
        id: (name) => join(dir, name),
        put: async (name, content) => {
          writeFileSync(join(dir, name), content);
          return join(dir, name);
        },
        get: async (path, as = 'text') => (as === 'bytes' ? readFileSync(path) : readFileSync(path, 'utf8')),
      }),
    );
    return;
  }
  const prefix = `test-${process.pid}-${++documents}-`;
  await body({
    id: (name) => prefix + name,
    put: async (name, content, options) => {
      (await VirtualBuffer.import(prefix + name, content, options)).free();
      return prefix + name;
    },
    get: async (name, as = 'text') => {
      const blob = await VirtualBuffer.exportDocument(name);
      return as === 'bytes' ? new Uint8Array(await blob.arrayBuffer()) : blob.text();
    },
  });
}

/** 2000 numbered lines, about 30 KiB: several cache blocks with the small block size used below. */
function generatedLines() {
  const lines = [];
  for (let i = 0; i < 2000; i++) lines.push(`line ${String(i).padStart(5, '0')} of the generated file`);
  return lines.join('\n') + '\n';
}

test('reads, walks and a save running together may need more than cacheBudget: each gets its bytes', async () => {
  await withStorage(async (storage) => {
    const MiB = 1 << 20;
    const model = Buffer.alloc(4 * MiB);
    for (let i = 0; i < model.length; i++) model[i] = 97 + ((i * 7 + (i >> 12)) % 26);
    const options = { blockSize: 4096, cacheBudget: 256 << 10 };
    const path = await storage.put('overcommitted.txt', model, options);
    const doc = await VirtualBuffer.open(path, options);
    const readChecked = async (start, end) => {
      const part = await doc.read(start, end);
      assert.ok(Buffer.from(part.bytes()).equals(model.subarray(start, end)), `${start}..${end}`);
      part.free();
    };
    const walkChecked = async (start, end) => {
      let at = start;
      for await (const chunk of doc.chunks(start, end)) {
        assert.ok(Buffer.from(chunk).equals(model.subarray(at, at + chunk.length)), `walk at ${at}`);
        at += chunk.length;
      }
      assert.equal(at, end);
    };
    // Each read needs four times the budget; together they need sixteen. Each awaits storage while
    // the others load, and what they load must not evict what another is about to read.
    await Promise.all([0, 1, 2, 3].map((i) => readChecked(i * MiB, (i + 1) * MiB)));
    await Promise.all([readChecked(0, 3 * MiB), walkChecked(MiB, 4 * MiB), readChecked(2 * MiB + 5, 4 * MiB - 5)]);
    // A save beside walks: everything the save copies stays loaded until it is copied.
    for (let e = 0; e < 20; e++) doc.insert(Math.floor(((e + 0.5) * model.length) / 20), 'edit\n');
    const edited = Buffer.from((await doc.read(0, doc.length)).bytes());
    const walks = [0, 1, 2, 3].map(async (i) => {
      const parts = [];
      for await (const chunk of doc.chunks(i * MiB, (i + 1) * MiB)) parts.push(Buffer.from(chunk));
      assert.ok(Buffer.concat(parts).equals(edited.subarray(i * MiB, (i + 1) * MiB)), `walk ${i} during the save`);
    });
    await Promise.all([doc.save(), ...walks]);
    assert.equal(doc.isModified, false);
    assert.ok(Buffer.from(await storage.get(path, 'bytes')).equals(edited), 'the saved document');
    doc.free();
  });
});

test('open, edit, read, find, lines, undo, save, reopen', async () => {
  await withStorage(async (storage) => {
    const original = generatedLines();
    const path = await storage.put('big.txt', original, { blockSize: 4096 });
    const vb = await VirtualBuffer.open(path, { blockSize: 4096, cacheBudget: 16384 });
    assert.ok(vb instanceof VirtualBuffer);
    assert.equal(vb.length, original.length);
    assert.equal(vb.isModified, false);

    // Reads across block boundaries match the file.
    const read = await vb.read(4000, 9000);
    assert.ok(read instanceof ZeroCopyBuffer);
    assert.equal(text(read), original.slice(4000, 9000));
    assert.equal(text(await vb.read(original.length - 10)), original.slice(-10), 'end defaults to the length');

    // Lines.
    assert.equal(await vb.lineCount(), 2001, '2000 line feeds: the last line is empty');
    const lineLength = original.indexOf('\n') + 1;
    assert.equal(await vb.lineToOffset(1234), 1234 * lineLength);
    assert.equal(await vb.offsetToLine(1234 * lineLength + 3), 1234);

    // Edits are synchronous; reads, searches and line queries see them.
    vb.insert(0, 'HEADER\n');
    vb.replace(7, 11, 'LINE');
    vb.delete(vb.length - lineLength, vb.length);
    let expected = 'HEADER\n' + 'LINE' + original.slice(4, original.length - lineLength);
    assert.equal(vb.length, expected.length);
    assert.equal(vb.isModified, true);
    assert.equal(text(await vb.read(0, 40)), expected.slice(0, 40));
    assert.equal(await vb.lineCount(), 2001);
    assert.equal(await vb.find('line 01999'), null, 'the deleted line is gone');
    assert.equal(await vb.find('line 01998'), expected.indexOf('line 01998'));
    assert.equal(await vb.find(new TextEncoder().encode('00010 of')), expected.indexOf('00010 of'));
    assert.equal(await vb.find('line', 8), expected.indexOf('line', 8), 'from start');
    assert.equal(await vb.find('LINE 00000', 0, 16), null, 'a match must end inside start..end');
    assert.equal(await vb.find('LINE 00000', 0, 17), 7);

    // Undo and redo.
    assert.equal(vb.undo(), true);
    expected = 'HEADER\n' + 'LINE' + original.slice(4);
    assert.equal(vb.length, expected.length);
    assert.equal(vb.undo(), true);
    assert.equal(vb.redo(), true);
    assert.equal(text(await vb.read(0, 11)), 'HEADER\nLINE');

    // Save and reopen.
    await vb.save();
    assert.equal(vb.isModified, false);
    // Undo and redo leave the saved content and come back to it, as in an editor.
    assert.equal(vb.undo(), true);
    assert.equal(vb.isModified, true);
    assert.equal(vb.redo(), true);
    assert.equal(vb.isModified, false);
    assert.equal(await storage.get(path), expected);
    const again = await VirtualBuffer.open(path);
    assert.equal(again.length, expected.length);
    assert.equal(text(await again.read(0, again.length)), expected);
    again.free();

    // Editing after a save and saving again writes on top of the saved file.
    vb.insert(vb.length, 'tail');
    await vb.save();
    assert.equal(await storage.get(path), expected + 'tail');
    vb.free();
  });
});

test('fromBytes and saveAs', async () => {
  await withStorage(async (storage) => {
    const vb = VirtualBuffer.fromBytes('hello world');
    vb.replace(0, 5, 'goodbye');
    const path = storage.id('out.txt');
    await vb.saveAs(path);
    assert.equal(await storage.get(path), 'goodbye world');
    vb.insert(vb.length, '!');
    await vb.save();
    assert.equal(await storage.get(path), 'goodbye world!', 'later saves go to the saveAs target');
    const reopened = await VirtualBuffer.open(path);
    assert.equal(text(await reopened.read(8, 14)), 'world!');
    reopened.free();
    vb[Symbol.dispose ?? Symbol.for('nodejs.dispose')]();
    assert.throws(() => vb.length, /freed/);
  });
});

test("save()'s options are read before the buffer is: a getter that edits or frees it does the same in both builds", async () => {
  await withStorage(async (storage) => {
    const path = await storage.put('getter.txt', 'hello');
    const vb = await VirtualBuffer.open(path);
    vb.insert(5, '!');
    await vb.save({
      get force() {
        vb.insert(0, '>'); // taken, as any edit made before the call
        return false;
      },
    });
    assert.equal(await storage.get(path), '>hello!', 'the save has the edit its option made');
    assert.equal(vb.isModified, false);
    await assert.rejects(
      vb.save({
        get force() {
          vb.free();
          return true;
        },
      }),
      { code: 'ERR_INVALID_STATE', message: /VirtualBuffer was freed/ },
    );
    assert.throws(() => vb.length, { code: 'ERR_INVALID_STATE' });
    // An option that cannot be read is still the build's own TypeError, as a value of a wrong type is.
    const other = await VirtualBuffer.open(path);
    await assert.rejects(other.save({ get force() { throw new Error('no'); } }), { name: 'TypeError', code: 'ERR_INVALID_ARG_TYPE', message: 'options.force cannot be read' });
    await assert.rejects(other.save({ force: 1 }), { name: 'TypeError', code: 'ERR_INVALID_ARG_TYPE' });
    await assert.rejects(other.save(5), { name: 'TypeError', message: 'options must be an object, got 5' });
    other.free();
  });
});

test('saves called while one runs wait their turn, each resolving', async () => {
  await withStorage(async (storage) => {
    const path = await storage.put('turns.txt', 'v0');
    const vb = await VirtualBuffer.open(path);
    vb.replace(0, 2, 'v1');
    const elsewhere = storage.id('turns-copy.txt');
    const saves = [vb.save(), vb.save({ force: true }), vb.saveAs(elsewhere), vb.save()];
    const outcomes = await Promise.allSettled(saves);
    assert.deepEqual(outcomes.map((o) => o.reason ?? o.status), ['fulfilled', 'fulfilled', 'fulfilled', 'fulfilled']);
    assert.equal(await storage.get(path), 'v1');
    assert.equal(await storage.get(elsewhere), 'v1');
    vb.replace(0, 2, 'v2');
    await vb.save();
    assert.equal(await storage.get(elsewhere), 'v2', 'later saves go to the saveAs target');
    assert.equal(await storage.get(path), 'v1');
    vb.free();
  });
});

test('reads and line queries made while a save runs, after an undo across an earlier save, settle with the content', async () => {
  // Small blocks and cache: each read loads, and a save that ends during its loads lets go of
  // versions that the content read at the read's start (the wasm build once panicked here, and
  // leaked "not loaded from storage yet" after a few saves).
  await withStorage(async (storage) => {
    let model = 'abc\n'.repeat(60_000);
    const path = await storage.put('undo-save.txt', model, { blockSize: 512 });
    const vb = await VirtualBuffer.open(path, { blockSize: 512, cacheBudget: 4096 });
    for (let round = 0; round < 8; round++) {
      const before = model;
      vb.delete(100_000, 200_000);
      await vb.save();
      assert.equal(vb.undo(), true);
      vb.insert(0, 'q');
      model = 'q' + before;
      const save = vb.save();
      const read = vb.read(0);
      const lines = vb.lineCount();
      const line = vb.offsetToLine(model.length - 1);
      assert.equal(text(await read), model, `round ${round}`);
      assert.equal(await lines, model.split('\n').length, `round ${round}`);
      assert.equal(await line, model.split('\n').length - 2, `round ${round}`);
      await save;
      assert.equal(await storage.get(path), model, `round ${round}`);
    }
    vb.free();
  });
});

test('of two buffers of one document saved at once, at most one save succeeds, and the document holds its content', async () => {
  await withStorage(async (storage) => {
    for (let round = 0; round < 20; round++) {
      const path = await storage.put(`rivals-${round}.txt`, 'orig');
      const [first, second] = [await VirtualBuffer.open(path), await VirtualBuffer.open(path)];
      first.insert(0, 'first ');
      second.insert(0, 'second ');
      const [a, b] = await Promise.allSettled([first.save(), second.save()]);
      const stored = await storage.get(path);
      assert.notDeepEqual([a.status, b.status], ['fulfilled', 'fulfilled'], `round ${round}: both saved; the document holds ${stored}`);
      const saved = a.status === 'fulfilled' ? 'first orig' : b.status === 'fulfilled' ? 'second orig' : 'orig';
      assert.equal(stored, saved);
      first.free();
      second.free();
    }
  });
});

test("a system's I/O failure has the code Node's fs gives it, beside the system's words", { skip: addonOnly }, async () => {
  await inTempDir(async (dir) => {
    const missing = join(dir, 'missing.txt');
    await assert.rejects(VirtualBuffer.open(missing), (e) => {
      assert.equal(e.constructor, Error);
      assert.equal(e.code, 'ENOENT');
      // What was done to which file, once: the system's words say it.
      assert.ok(e.message.startsWith(`opening ${asOpened(missing)}: `), e.message);
      assert.equal(e.message.split(missing).length, 2, e.message);
      return true;
    });
    const file = join(dir, 'a-file');
    writeFileSync(file, 'x');
    const doc = VirtualBuffer.fromBytes('content');
    // A path under a file: ENOTDIR where the system says so (Windows finds no such path: ENOENT).
    const underAFile = join(file, 'under-a-file.txt');
    await assert.rejects(doc.saveAs(underAFile), (e) => {
      assert.equal(e.code, process.platform === 'win32' ? 'ENOENT' : 'ENOTDIR');
      assert.equal(e.message.split(underAFile).length, 2, e.message);
      return true;
    });
    // A failure that is no system's has no code.
    await doc.saveAs(join(dir, 'saved.txt'));
    writeFileSync(join(dir, 'saved.txt'), 'changed underneath');
    doc.insert(0, 'more ');
    await assert.rejects(doc.save(), (e) => e.code === undefined && /changed in place/.test(e.message));
    doc.free();
  });
});

test("a system's failure the Rust standard library leaves uncategorized has Node's code too (EMFILE)", { skip: addonOnly || (process.platform === 'win32' && 'ulimit: a Unix shell') }, async () => {
  await inTempDir(async (dir) => {
    const file = join(dir, 'a-file');
    writeFileSync(file, 'x');
    // In a child with few descriptors: open files until the system refuses one, then ask the addon to
    // open one more. Its error has the code Node's fs gave the same refusal.
    const script = `
      import { openSync, closeSync } from 'node:fs';
      const { VirtualBuffer } = await import(${JSON.stringify(new URL('../node.mjs', import.meta.url).href)});
      const file = ${JSON.stringify(file)};
      const open = [];
      let fsCode;
      for (;;) {
        try { open.push(openSync(file)); } catch (e) { fsCode = e.code; break; }
      }
      const ours = await VirtualBuffer.open(file).then((vb) => { vb.free(); return 'opened'; }, (e) => [e.name, e.code]);
      for (const fd of open) closeSync(fd);
      console.log(JSON.stringify([fsCode, ours]));`;
    const child = spawnSync('sh', ['-c', 'ulimit -Sn 256 && exec "$0" --input-type=module -e "$1"', process.execPath, script], { encoding: 'utf8', timeout: 60_000 });
    assert.equal(child.status, 0, child.stderr);
    assert.deepEqual(JSON.parse(child.stdout), ['EMFILE', ['Error', 'EMFILE']]);
  });
});

test('a script saved by a buffer that stays open runs (the buffer holds no handle that writes it)', { skip: addonOnly || (process.platform === 'win32' && 'ETXTBSY: Unix') }, async () => {
  await inTempDir(async (dir) => {
    const script = join(dir, 'script.sh');
    writeFileSync(script, '#!/bin/sh\nexit 3\n', { mode: 0o755 });
    for (const backend of ['positional', 'mapped']) {
      const vb = await VirtualBuffer.open(script, { backend });
      vb.replace(15, 16, '7');
      await vb.save();
      const run = spawnSync(script);
      assert.equal(run.error?.code ?? run.status, 7, `${backend}: a saved script runs while its buffer is open`);
      vb.replace(15, 16, '3');
      await vb.save();
      vb.free();
    }
  });
});

test('the mapped backend', { skip: addonOnly }, async () => {
  await inTempDir(async (dir) => {
    const path = join(dir, 'mapped.txt');
    writeFileSync(path, 'goodbye world');
    const mapped = await VirtualBuffer.open(path, { backend: 'mapped' });
    assert.equal(text(await mapped.read(8, 13)), 'world');
    mapped.free();
  });
});

// tmpfs holds sparse files of any length up to 2^63 bytes; the disks' file systems stop far sooner.
const tmpfs = '/dev/shm';

test('content longer than JS numbers count exactly is refused: a file opened, an edit', { skip: addonOnly || (!existsSync(tmpfs) && `no tmpfs at ${tmpfs} for an 8 PiB sparse file`) }, async () => {
  const max = Number.MAX_SAFE_INTEGER;
  const sparseDir = mkdtempSync(join(tmpfs, 'omnibuf-'));
  try {
    const path = join(sparseDir, 'sparse');
    // Node's own truncate() stops at the largest exact length too.
    const truncate = (size) => assert.equal(spawnSync('truncate', ['-s', String(size), path]).status, 0);
    // One byte longer than the largest exact length: refused before anything reads it.
    truncate(2n ** 53n);
    await assert.rejects(VirtualBuffer.open(path), { name: 'RangeError', message: `cannot open ${path}: the content would be 9007199254740992 bytes, more than JS numbers count exactly (${max})` });
    // The largest exact length opens; an edit that would grow it is refused and changes nothing.
    truncate(max - 1);
    const vb = await VirtualBuffer.open(path);
    vb.insert(max - 1, 'Z');
    assert.equal(vb.length, max);
    const tooLong = { name: 'RangeError', message: `the content would be 9007199254740992 bytes, more than JS numbers count exactly (${max})` };
    assert.throws(() => vb.insert(0, 'A'), tooLong);
    assert.throws(() => vb.replace(max - 1, max, 'YZ'), tooLong);
    vb.replace(max - 1, max, 'Y');
    assert.equal(vb.length, max);
    assert.equal(text(await vb.read(max - 1)), 'Y');
    vb.free();
  } finally {
    rmSync(sparseDir, { recursive: true, force: true });
  }
});

test("a read past this runtime's largest Buffer (Node 20: 4 GiB): its view() and bytes() throw a RangeError, its parts work", { skip: addonOnly || (constants.MAX_LENGTH > 2 ** 32 && 'this Node makes Buffers past 4 GiB') }, async () => {
  await inTempDir(async (dir) => {
    const path = join(dir, 'sparse');
    const size = 2 ** 32 + 16;
    writeFileSync(path, '');
    truncateSync(path, size);
    const vb = await VirtualBuffer.open(path);
    const big = await vb.read(0);
    assert.equal(big.length, size);
    const tooLarge = (what) => ({ name: 'RangeError', code: 'ERR_BUFFER_TOO_LARGE', message: `cannot make ${what} of ${size} bytes, more than this runtime's largest` });
    assert.throws(() => big.view(), tooLarge('a Buffer'));
    assert.throws(() => big.bytes(), tooLarge('a Buffer'));
    const tail = big.slice(size - 4);
    assert.deepEqual(tail.bytes(), new Uint8Array(4));
    assert.deepEqual(tail.view(), Buffer.alloc(4));
    tail.free();
    big.free();
    vb.free();
  });
});

test('bad arguments throw or reject with the right error classes', async () => {
  const vb = VirtualBuffer.fromBytes('0123456789');
  assert.throws(() => vb.insert(11, 'x'), { name: 'RangeError', message: 'offset 11 is past the end of the buffer (length 10)' });
  assert.throws(() => vb.insert(-1, 'x'), RangeError);
  assert.throws(() => vb.insert(2 ** 53, 'x'), RangeError);
  assert.throws(() => vb.insert(1.5, 'x'), TypeError);
  assert.throws(() => vb.insert('1', 'x'), TypeError);
  assert.throws(() => vb.insert(0, 42), TypeError);
  assert.throws(() => vb.delete(5, 3), RangeError);
  assert.throws(() => vb.delete(5, 11), RangeError);
  assert.throws(() => vb.replace(0, NaN, 'x'), TypeError);
  assert.equal(vb.length, 10, 'failed edits change nothing');
  assert.equal(vb.isModified, false);
  assert.throws(() => VirtualBuffer.fromBytes({}), TypeError);

  await assert.rejects(vb.read(0, 11), RangeError);
  await assert.rejects(vb.read(3, 2), RangeError);
  await assert.rejects(vb.read(0.5, 2), TypeError);
  await assert.rejects(vb.find(7), TypeError);
  await assert.rejects(vb.find('x', 0, 99), RangeError);
  await assert.rejects(vb.lineToOffset(1), { name: 'RangeError', message: /line 1 does not exist/ });
  await assert.rejects(vb.offsetToLine(11), RangeError);
  await assert.rejects(vb.save({ force: 'yes' }), TypeError);
  await assert.rejects(vb.save(3), TypeError);
  await assert.rejects(vb.saveAs(42), TypeError);
  await assert.rejects(VirtualBuffer.open(42), TypeError);
  if (impl === 'addon') await assert.rejects(VirtualBuffer.open('x', { backend: 'fast' }), TypeError);
  await assert.rejects(VirtualBuffer.open('x', { cacheBudget: -1 }), RangeError);
  await assert.rejects(VirtualBuffer.open('x', { blockSize: 0 }), RangeError);
  await assert.rejects(VirtualBuffer.open('x', 'fast'), TypeError);
  await withStorage(async (storage) => {
    const missing = storage.id('missing.txt');
    await assert.rejects(VirtualBuffer.open(missing), (e) => {
      assert.equal(e.constructor, Error);
      assert.ok(e.message.includes(missing), e.message);
      return true;
    });
  });
  if (impl === 'wasm') {
    // A buffer made from bytes has no document to save to.
    await assert.rejects(VirtualBuffer.fromBytes('x').save(), { name: 'Error', code: 'ERR_INVALID_STATE', message: /saveAs/ });
  }

  vb.free();
  vb.free(); // twice does nothing
  assert.throws(() => vb.length, { name: 'Error', message: /VirtualBuffer was freed/ });
  assert.throws(() => vb.insert(0, 'x'), /freed/);
  await assert.rejects(vb.read(0, 1), /freed/);
  await assert.rejects(vb.lineCount(), /freed/);
});

test('a save over a file changed underneath rejects, and force overwrites one replaced, never one rewritten in place', { skip: addonOnly }, async () => {
  await inTempDir(async (dir) => {
    // Another program rewrites one file in place, and replaces the other (a new file renamed over
    // it, as editors save).
    const rewrittenPath = join(dir, 'rewritten.txt');
    const replacedPath = join(dir, 'replaced.txt');
    writeFileSync(rewrittenPath, 'ours\n');
    writeFileSync(replacedPath, 'ours\n');
    const rewritten = await VirtualBuffer.open(rewrittenPath);
    const replaced = await VirtualBuffer.open(replacedPath);
    rewritten.insert(0, 'edited ');
    replaced.insert(0, 'edited ');

    writeFileSync(rewrittenPath, 'theirs, longer than ours\n');
    writeFileSync(join(dir, 'new.txt'), 'theirs\n');
    renameSync(join(dir, 'new.txt'), replacedPath);
    // Refused unforced; the file rewritten in place, which force cannot save over either, says so
    // rather than suggest force.
    for (const [vb, path, theirs, said] of [
      [rewritten, rewrittenPath, 'theirs, longer than ours\n', /changed in place since it was opened.*cannot save, forced or not/],
      [replaced, replacedPath, 'theirs\n', /changed on disk since it was opened.*save with force to overwrite it/],
    ]) {
      await assert.rejects(vb.save(), (e) => {
        assert.equal(e.constructor, Error);
        assert.match(e.message, said);
        return true;
      });
      assert.equal(readFileSync(path, 'utf8'), theirs, 'their content is intact');
      assert.equal(vb.isModified, true);
    }

    // The rewritten file's bytes the buffer had not loaded are gone: no save can write its
    // content, forced or not, nor elsewhere; none touches a file.
    await assert.rejects(rewritten.save({ force: true }), /changed in place since it was opened.*cannot save, forced or not/);
    await assert.rejects(rewritten.saveAs(join(dir, 'copy.txt')), /changed in place since it was opened/);
    assert.equal(readFileSync(rewrittenPath, 'utf8'), 'theirs, longer than ours\n');
    assert.deepEqual(readdirSync(dir).sort(), ['replaced.txt', 'rewritten.txt'], 'no copy, no temporary file');

    // The replaced file's buffer still reads the file it opened, so a forced save writes exactly
    // our content.
    await replaced.save({ force: true });
    assert.equal(readFileSync(replacedPath, 'utf8'), 'edited ours\n');
    assert.equal(replaced.isModified, false);
    rewritten.free();
    replaced.free();
  });
});

// Opening a FIFO for reading would wait for a writer to open it, for good if none does: open() sees
// that it is no regular file without waiting, and rejects. (That open() runs on the thread pool, leaving
// the event loop free, waits.test.mjs shows: with the pool occupied, it waits in the pool's queue.)
test('open of a FIFO rejects at once, without waiting for a writer', { skip: addonOnly || (process.platform === 'win32' && 'no FIFOs on Windows') }, async () => {
  await inTempDir(async (dir) => {
    const fifo = join(dir, 'fifo');
    assert.equal(spawnSync('mkfifo', [fifo]).status, 0, 'mkfifo');
    await assert.rejects(VirtualBuffer.open(fifo), { name: 'Error', message: /not a regular file/ });
    await assert.rejects(VirtualBuffer.open(fifo, { backend: 'mapped' }), { name: 'Error', message: /not a regular file/ });
  });
});

/** How many blocks IndexedDB holds, of every document. */
async function storedBlocks() {
  const db = await new Promise((ok, fail) => {
    const request = indexedDB.open('omnibuf');
    request.onsuccess = () => ok(request.result);
    request.onerror = () => fail(request.error);
  });
  try {
    return await new Promise((ok, fail) => {
      const request = db.transaction('blocks').objectStore('blocks').count();
      request.onsuccess = () => ok(request.result);
      request.onerror = () => fail(request.error);
    });
  } finally {
    db.close();
  }
}

test('a document kept open and saved often holds no more blocks than its undo history reads: a save deletes the blocks it replaced', { skip: wasmOnly }, async () => {
  const name = 'saved-often.txt';
  (await VirtualBuffer.import(name, 'x'.repeat(200_000), { blockSize: 4096 })).free();
  const imported = await storedBlocks();
  for (const undoLimit of [0, 5]) {
    const vb = await VirtualBuffer.open(name, { undoLimit });
    for (let i = 0; i < 40; i++) {
      vb.replace(i * 4096, i * 4096 + 1, 'y'); // a block of its own each time
      await vb.save();
    }
    // Each save replaced one block: what stays is the current version's, and the blocks of the
    // versions the undo history still reads (one per edit kept, and the one saved before it).
    assert.ok((await storedBlocks()) - imported <= undoLimit + 1, `undoLimit ${undoLimit}: ${(await storedBlocks()) - imported} blocks more`);
    assert.equal(text(await vb.read(0, 4097)), 'y' + 'x'.repeat(4095) + 'y');
    vb.free();
  }
  await VirtualBuffer.deleteDocument(name);
});

test('documents: import bytes and Blobs, list, export, delete', { skip: wasmOnly }, async () => {
  const name = `docs-${process.pid}`;
  const content = generatedLines();
  const vb = await VirtualBuffer.import(name, new Blob([content]), { blockSize: 1000 });
  assert.equal(vb.name, name);
  assert.equal(vb.length, content.length);
  assert.equal(text(await vb.read(990, 1010)), content.slice(990, 1010), 'a read across blocks');
  const listed = (await VirtualBuffer.list()).find((d) => d.name === name);
  assert.deepEqual(listed, { name, length: content.length });
  assert.equal(await (await VirtualBuffer.exportDocument(name)).text(), content);

  // Importing again under the same name replaces the document.
  (await VirtualBuffer.import(name, new TextEncoder().encode('short'))).free();
  assert.equal(await (await VirtualBuffer.exportDocument(name)).text(), 'short');
  await VirtualBuffer.deleteDocument(name);
  assert.equal((await VirtualBuffer.list()).some((d) => d.name === name), false);
  await assert.rejects(VirtualBuffer.open(name), /no document named/);
  await assert.rejects(VirtualBuffer.import(name, 42), TypeError);
  vb.free();
});

test('a save over a document another buffer saved rejects, and force overwrites it', { skip: wasmOnly }, async () => {
  const name = `changed-${process.pid}`;
  (await VirtualBuffer.import(name, 'ours\n')).free();
  const mine = await VirtualBuffer.open(name);
  const theirs = await VirtualBuffer.open(name);
  theirs.insert(0, 'theirs: ');
  await theirs.save();
  mine.insert(0, 'edited ');
  await assert.rejects(mine.save(), { name: 'Error', message: /changed in storage since it was opened/ });
  assert.equal(await (await VirtualBuffer.exportDocument(name)).text(), 'theirs: ours\n', 'their version is intact');
  assert.equal(mine.isModified, true);
  await mine.save({ force: true });
  assert.equal(await (await VirtualBuffer.exportDocument(name)).text(), 'edited ours\n');
  assert.equal(mine.isModified, false);
  mine.free();
  theirs.free();
  await VirtualBuffer.deleteDocument(name);
});

test('line queries against a model, across edits, undo and redo, around every 64 KiB', async () => {
  // The wasm build's documents keep a line index checkpointed every 64 KiB until the next edit; the
  // addon's count per piece. Lines here cross those checkpoints, and edits land on either side.
  let x = 0x51ed2705;
  const rand = (n) => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) % n;
  };
  const piece = (n) => Array.from({ length: n }, () => (rand(40) === 0 ? '\n' : 'abcdefgh'[rand(8)])).join('');
  let model = piece(300 << 10);
  const vb = VirtualBuffer.fromBytes(model);
  const history = [model];
  let at = 0; // where history stands (undo and redo move it)
  const lfsBefore = (offset) => {
    let n = 0;
    for (let i = model.indexOf('\n'); i !== -1 && i < offset; i = model.indexOf('\n', i + 1)) n++;
    return n;
  };
  const check = async (step) => {
    const lfs = lfsBefore(model.length);
    assert.equal(await vb.lineCount(), lfs + 1, `step ${step}: lineCount`);
    const offsets = [0, model.length, rand(model.length + 1), 65536 - 1, 65536, 65536 + 1, 131072, 262144 + 7];
    for (const offset of offsets.filter((o) => o <= model.length)) {
      assert.equal(await vb.offsetToLine(offset), lfsBefore(offset), `step ${step}: offsetToLine(${offset})`);
    }
    for (const line of [1, lfs, rand(lfs + 1), lfsBefore(65536), lfsBefore(65536) + 1].filter((l) => l >= 1 && l <= lfs)) {
      let lf = -1;
      for (let i = 0; i < line; i++) lf = model.indexOf('\n', lf + 1);
      assert.equal(await vb.lineToOffset(line), lf + 1, `step ${step}: lineToOffset(${line})`);
    }
    await assert.rejects(vb.lineToOffset(lfs + 1), { name: 'RangeError' }, `step ${step}: past the last line`);
  };
  await check('start');
  for (let step = 0; step < 40; step++) {
    const op = rand(6);
    if (op === 4 && at > 0) {
      assert.equal(vb.undo(), true);
      model = history[--at];
    } else if (op === 5 && at < history.length - 1) {
      assert.equal(vb.redo(), true);
      model = history[++at];
    } else {
      // Near a checkpoint half the time: the edits that move lines across one.
      const near = rand(2) === 0 ? Math.min(model.length, 65536 * (1 + rand(4)) + rand(64) - 32) : rand(model.length + 1);
      const start = Math.max(0, Math.min(near, model.length));
      const end = Math.min(model.length, start + rand(3) * rand(5000));
      const bytes = rand(3) === 0 ? '' : piece(1 + rand(3000));
      vb.replace(start, end, bytes);
      model = model.slice(0, start) + bytes + model.slice(end);
      history.length = at + 1;
      history.push(model);
      at++;
    }
    assert.equal(vb.length, model.length);
    // Sometimes two edits before a query, sometimes none (a query of an index kept).
    if (rand(3) !== 0) await check(step);
  }
  vb.free();
});

test('a save after thousands of scattered small inserts holds memory of the edits, not a block per insert', async () => {
  await withStorage(async (storage) => {
    const path = await storage.put('edited.txt', 'x'.repeat(4 << 20));
    const vb = await VirtualBuffer.open(path);
    let x = 12345;
    for (let i = 0; i < 15_000; i++) {
      x = (x * 1103515245 + 12345) % 2 ** 31;
      vb.insert(x % vb.length, 'a');
    }
    const before = process.memoryUsage.rss();
    await vb.save();
    const grownMiB = (process.memoryUsage.rss() - before) / 2 ** 20;
    console.log(`# resident memory growth of the save: ${grownMiB.toFixed(1)} MiB`);
    assert.ok(grownMiB < 64, `the save grew resident memory by ${grownMiB.toFixed(1)} MiB`);
    const saved = await storage.get(path);
    assert.equal(saved.length, (4 << 20) + 15_000);
    assert.equal(saved.split('a').length - 1, 15_000);
    vb.free();
  });
});

// Promises of js/index.d.ts about VirtualBuffer that the tests above leave out (an audit): undo and
// redo at their ends and under undoLimit, replace() as one edit, an empty pattern, lines from the
// middle of one, free() with work under way, saveAs() and isModified; and for files (the addon): a
// save that replaces the file (rename) keeping its mode, owner and group, a directory refused, a
// failed saveAs() that changes nothing, inserted text spilled to a side file.

test('undo() and redo() give false when there is nothing to undo or redo; a new edit drops what could be redone; replace() is one edit', async () => {
  const vb = VirtualBuffer.fromBytes('hello world');
  assert.equal(vb.undo(), false, 'nothing to undo');
  assert.equal(vb.redo(), false, 'nothing to redo');
  vb.replace(0, 5, 'HELLO!');
  assert.equal(text(await vb.read(0)), 'HELLO! world');
  assert.equal(vb.undo(), true);
  assert.equal(text(await vb.read(0)), 'hello world', 'one undo takes the whole replace() back');
  assert.equal(vb.undo(), false);
  assert.equal(vb.redo(), true);
  assert.equal(text(await vb.read(0)), 'HELLO! world', 'one redo makes it again');
  assert.equal(vb.redo(), false);
  vb.undo();
  vb.insert(0, '>');
  assert.equal(vb.redo(), false, 'a new edit drops the undone one');
  assert.equal(text(await vb.read(0)), '>hello world');
  vb.free();
});

test('undoLimit: 0 turns undo off; n keeps the last n edits', async () => {
  await withStorage(async (storage) => {
    const path = await storage.put('undo.txt', 'abc');
    for (const [undoLimit, expected] of [[0, '321abc'], [2, '1abc'], [undefined, 'abc']]) {
      const vb = await VirtualBuffer.open(path, { undoLimit });
      for (const digit of ['1', '2', '3']) vb.insert(0, digit);
      let undone = 0;
      while (vb.undo()) undone++;
      assert.equal(undone, { 0: 0, 2: 2, undefined: 3 }[undoLimit], `undoLimit ${undoLimit}`);
      assert.equal(text(await vb.read(0)), expected, `undoLimit ${undoLimit}`);
      vb.free();
    }
  });
});

test('line queries that edits keep meeting answer for one version of the content, never a mix', async () => {
  // Every version has one line feed, a scan window (4 MiB) in: an insert at 0 and its undo, over and
  // over, while the queries run. (The wasm build's scans once read on through such edits, counting
  // 1, 2 or 3 lines.)
  const W = 4 << 20;
  await withStorage(async ({ put }) => {
    const id = await put('mixed.txt', 'x'.repeat(W - 1) + '\n' + 'x'.repeat(W));
    for (let trial = 0; trial < 6; trial++) {
      const vb = await VirtualBuffer.open(id, { cacheBudget: 65536 });
      let done = false;
      const queries = Promise.all([vb.lineCount(), vb.lineToOffset(1), vb.offsetToLine(W + 5)]).finally(() => (done = true));
      for (let turn = 0; !done; turn++) {
        if (turn % 2 === 0) vb.insert(0, 'y');
        else vb.undo();
        await new Promise((resolve) => (turn % 3 === 0 ? setImmediate(resolve) : queueMicrotask(resolve)));
      }
      const [lines, lineStart, line] = await queries;
      assert.equal(lines, 2, `trial ${trial}`);
      assert.ok(lineStart === W || lineStart === W + 1, `trial ${trial}: line 1 starts at ${lineStart}`);
      assert.equal(line, 1, `trial ${trial}`);
      vb.free();
    }
  });
});

test("find(): an empty pattern matches at start (the buffer's start by default, and at its end too)", async () => {
  const vb = VirtualBuffer.fromBytes('0123456789');
  assert.equal(await vb.find(''), 0);
  assert.equal(await vb.find('', 4), 4);
  assert.equal(await vb.find(new Uint8Array(0), 7, 9), 7);
  assert.equal(await vb.find('', 3, 3), 3);
  assert.equal(await vb.find('', 10), 10);
  assert.equal(await vb.find('', null, null), 0);
  await assert.rejects(vb.find('', 11), RangeError);
  vb.free();
});

test('lines(start): from the middle of a line, its rest first; from the end, nothing; past it, a RangeError', async () => {
  const vb = VirtualBuffer.fromBytes('ab\ncd\nef');
  const from = async (start) => {
    const got = [];
    for await (const line of vb.lines(start)) got.push(line);
    return got;
  };
  assert.deepEqual(await from(4), ['d', 'ef']);
  assert.deepEqual(await from(3), ['cd', 'ef']);
  assert.deepEqual(await from(2), ['', 'cd', 'ef'], 'from a line feed: the empty rest of its line');
  assert.deepEqual(await from(8), []);
  await assert.rejects(from(9), { name: 'RangeError', code: 'ERR_OUT_OF_RANGE' });
  vb.free();
});

test('an edit that shortens the content while a query or a read is under way: it answers for the content of before or after; only an offset or a line the edit removed is a RangeError', {
  skip: impl === 'addon' && process.platform === 'win32' ? 'needs FIFOs to hold the thread pool' : false,
}, async () => {
  const before = 'line\n'.repeat(6000); // 30000 bytes, 6001 lines
  const after = before.slice(20000);
  await withStorage(async ({ put }) => {
    const id = await put('shrinks.txt', before, { blockSize: 4096 });
    const queries = [
      ['lineCount()', (vb) => vb.lineCount(), [6001, 2001]],
      ['offsetToLine(0)', (vb) => vb.offsetToLine(0), [0]],
      ['find("zz")', (vb) => vb.find('zz'), [null]],
      ['find("zz", 0)', (vb) => vb.find('zz', 0), [null]],
      ['read(0)', async (vb) => text(await vb.read(0)), [before, after]],
      ['read(4)', async (vb) => text(await vb.read(4)), [before.slice(4), after.slice(4)]],
      ['offsetToLine(30000)', (vb) => vb.offsetToLine(30000), [6000, 'RangeError']],
      ['lineToOffset(5999)', (vb) => vb.lineToOffset(5999), [29995, 'RangeError']],
      ['find("zz", 25000)', (vb) => vb.find('zz', 25000), [null, 'RangeError']],
    ];
    for (const [name, query, answers] of queries) {
      const vb = await VirtualBuffer.open(id, { blockSize: 4096 });
      // The addon's work waits in the thread pool's queue until after the edit; the wasm build's is
      // under way, loading blocks, when the edit comes.
      const release = impl === 'addon' ? occupyThreadPool() : async () => {};
      const answer = query(vb).catch((e) => e.name);
      await new Promise((resolve) => setImmediate(resolve));
      vb.delete(0, 20000);
      await release();
      const got = await answer;
      assert.ok(answers.includes(got), `${name} gave ${String(got).slice(0, 20)}`);
      vb.free();
    }
  });
});

test('reads with their end left out, queued among edits that shorten and lengthen the content, never fail', async () => {
  // In the addon the reads run on the thread pool while the edits run here: a read that took the
  // length and then read apart saw the content shrink between the two.
  const vb = VirtualBuffer.fromBytes(new Uint8Array(100).fill(97));
  const fifty = new Uint8Array(50).fill(98);
  const reads = [];
  for (let i = 0; i < 2000; i++) {
    for (let k = 0; k < 4; k++) reads.push(vb.read(0).then((bytes) => bytes.length, (e) => e.message));
    for (let j = 0; j < 100; j++) {
      vb.delete(50, 100);
      vb.insert(50, fifty);
    }
  }
  const failed = (await Promise.all(reads)).filter((got) => typeof got === 'string');
  assert.deepEqual(failed.slice(0, 3), []);
  vb.free();
});

test('free() lets work already started finish: a read under way still resolves with its bytes', async () => {
  const vb = VirtualBuffer.fromBytes(new Uint8Array(100_000).fill(120));
  const reading = vb.read(10, 90_010);
  const counting = vb.lineCount();
  vb.free();
  const part = await reading;
  assert.equal(part.length, 90_000);
  assert.ok(part.bytes().every((b) => b === 120));
  part.free();
  assert.equal(await counting, 1);
  assert.throws(() => vb.length, { code: 'ERR_INVALID_STATE' });
});

test('saveAs() is a save: isModified goes false, and the file (or document) it came from stays as it was', async () => {
  await withStorage(async (storage) => {
    const path = await storage.put('source.txt', 'source\n');
    const vb = await VirtualBuffer.open(path);
    vb.insert(0, 'edited ');
    assert.equal(vb.isModified, true);
    const copy = storage.id('copy.txt');
    await vb.saveAs(copy);
    assert.equal(vb.isModified, false);
    assert.equal(await storage.get(copy), 'edited source\n');
    assert.equal(await storage.get(path), 'source\n');
    vb.free();
  });
});

test('save() of a buffer from fromBytes() (the addon) resolves and keeps its content in memory; nothing is written', { skip: addonOnly }, async () => {
  await inTempDir(async (dir) => {
    const vb = VirtualBuffer.fromBytes('in memory');
    vb.insert(0, 'only ');
    const cwd = process.cwd();
    process.chdir(dir);
    try {
      await vb.save();
    } finally {
      process.chdir(cwd);
    }
    assert.equal(text(await vb.read(0)), 'only in memory');
    assert.deepEqual(readdirSync(dir), [], 'no file anywhere it could have gone');
    vb.free();
  });
});

const posixFiles = addonOnly || (process.platform === 'win32' && 'POSIX modes, owners and hard links');

test('save() writes a new file and renames it over the old one: a hard link to the old file keeps the old content, no temporary file is left', { skip: posixFiles }, async () => {
  await inTempDir(async (dir) => {
    const path = join(dir, 'doc.txt');
    writeFileSync(path, 'old content\n');
    linkSync(path, join(dir, 'old-link.txt'));
    const before = statSync(path).ino;
    const vb = await VirtualBuffer.open(path);
    vb.insert(0, 'new ');
    await vb.save();
    assert.equal(readFileSync(path, 'utf8'), 'new old content\n');
    assert.notEqual(statSync(path).ino, before, 'another file, renamed over the old one');
    assert.equal(readFileSync(join(dir, 'old-link.txt'), 'utf8'), 'old content\n', 'the old file was not written into');
    assert.deepEqual(readdirSync(dir).sort(), ['doc.txt', 'old-link.txt']);
    vb.free();
  });
});

test('save() keeps the file\'s mode, and (where the saver may set them) its owner and group', { skip: posixFiles }, async () => {
  await inTempDir(async (dir) => {
    const path = join(dir, 'kept.txt');
    writeFileSync(path, 'x');
    chmodSync(path, 0o640);
    const root = process.getuid?.() === 0;
    if (root) chownSync(path, 1234, 5678);
    const { uid, gid } = statSync(path);
    const vb = await VirtualBuffer.open(path);
    vb.insert(1, 'y');
    await vb.save();
    const after = statSync(path);
    assert.equal((after.mode & 0o7777).toString(8), '640');
    assert.deepEqual([after.uid, after.gid], [uid, gid]);
    chmodSync(path, 0o604); // a mode changed while the buffer is open: the next save keeps that one
    vb.insert(0, 'z');
    await vb.save();
    assert.equal((statSync(path).mode & 0o7777).toString(8), '604');
    assert.equal(readFileSync(path, 'utf8'), 'zxy');
    vb.free();
  });
});

test('open() or saveAs() of a directory rejects with an Error saying it is not a regular file, naming it, with EISDIR as Node\'s fs', { skip: addonOnly }, async () => {
  await inTempDir(async (dir) => {
    const isDir = (e) => {
      assert.equal(e.constructor, Error);
      assert.ok(e.message.includes(dir), e.message);
      assert.match(e.message, /a directory, not a regular file/);
      assert.equal(e.code, 'EISDIR');
      return true;
    };
    for (const backend of ['positional', 'mapped']) {
      await assert.rejects(VirtualBuffer.open(dir, { backend }), isDir);
    }
    const doc = VirtualBuffer.fromBytes('content');
    await assert.rejects(doc.saveAs(dir), isDir);
    // A new name ending in a separator names a directory too: refused before anything is written.
    // (Windows drops the separator, as Node's fs does there: see the next test.)
    if (process.platform !== 'win32') {
      await assert.rejects(doc.saveAs(`${join(dir, 'new')}/`), (e) => e.code === 'EISDIR' && /the path ends in a separator, so it names a directory/.test(e.message));
    }
    assert.deepEqual(readdirSync(dir), []);
    doc.free();
  });
});

test("Windows: a path names the file Node's fs names (a name ending in a dot or a space, a device's name, a trailing separator)", { skip: addonOnly || (process.platform !== 'win32' && 'Win32 path rules') }, async () => {
  await inTempDir(async (dir) => {
    // Win32's own rules would drop the dot and open a.txt; fs keeps it.
    writeFileSync(join(dir, 'a.txt'), 'plain');
    writeFileSync(join(dir, 'a.txt.'), 'with a dot');
    const dotted = await VirtualBuffer.open(join(dir, 'a.txt.'));
    assert.equal(text(await dotted.read(0)), 'with a dot');
    dotted.free();
    await assert.rejects(VirtualBuffer.open(join(dir, 'a.txt ')), { code: 'ENOENT' });
    // Saved where fs then finds it: a name ending in a dot, a device's name, one given with a
    // trailing separator.
    for (const [given, name] of [['saved.txt.', 'saved.txt.'], ['aux.txt', 'aux.txt'], ['NUL', 'NUL'], ['sep.txt\\', 'sep.txt']]) {
      const doc = VirtualBuffer.fromBytes(given);
      await doc.saveAs(join(dir, given));
      assert.equal(readFileSync(join(dir, name), 'utf8'), given);
      doc.free();
    }
  });
});

test('a saveAs() that fails changes nothing: the buffer stays modified, and later saves go where they went', { skip: addonOnly }, async () => {
  await inTempDir(async (dir) => {
    const path = join(dir, 'first.txt');
    writeFileSync(path, 'first');
    const vb = await VirtualBuffer.open(path);
    vb.insert(5, '!');
    for (const target of [join(dir, 'missing', 'x.txt'), dir]) {
      await assert.rejects(vb.saveAs(target), (e) => {
        assert.equal(e.constructor, Error);
        assert.ok(e.message.includes(target), e.message);
        return true;
      });
      assert.equal(vb.isModified, true);
    }
    assert.deepEqual(readdirSync(dir), ['first.txt'], 'no file, no temporary file');
    await vb.save();
    assert.equal(readFileSync(path, 'utf8'), 'first!', 'the next save goes to the file it came from');
    vb.free();
  });
});

test('spillThreshold: inserted text past it goes to a side file, and reads and saves still give every byte', { skip: addonOnly }, async () => {
  await inTempDir(async (dir) => {
    const path = join(dir, 'spilled.txt');
    writeFileSync(path, 'base');
    const openFiles = () => (process.platform === 'linux' ? readdirSync('/proc/self/fd').length : 0);
    const before = openFiles();
    const vb = await VirtualBuffer.open(path, { blockSize: 64, spillThreshold: 128 });
    let model = 'base';
    for (let i = 0; i < 2000; i++) {
      const piece = `<${i}>`;
      const at = (i * 7919) % (model.length + 1);
      vb.insert(at, piece);
      model = model.slice(0, at) + piece + model.slice(at);
    }
    // The side file is one more open file (an unnamed one: nothing appears in any directory).
    if (process.platform === 'linux') assert.ok(openFiles() > before + 1, 'a side file besides the file opened');
    assert.equal(text(await vb.read(0)), model);
    assert.equal(text(await vb.read(1000, 1200)), model.slice(1000, 1200));
    await vb.save();
    assert.equal(readFileSync(path, 'utf8'), model);
    assert.deepEqual(readdirSync(dir), ['spilled.txt']);
    vb.free();
  });
});

test('a touch looks like a change in place: save() rejects, and a forced save that would copy from the file too; one that copies nothing saves', { skip: addonOnly }, async () => {
  await inTempDir(async (dir) => {
    const path = join(dir, 'touched.txt');
    writeFileSync(path, 'content\n');
    const vb = await VirtualBuffer.open(path);
    vb.insert(0, 'edited ');
    const later = new Date(Date.now() + 60_000);
    utimesSync(path, later, later);
    for (const force of [false, true]) {
      await assert.rejects(vb.save({ force }), { name: 'Error', message: /changed in place since it was opened.*forced or not/ });
    }
    assert.equal(readFileSync(path, 'utf8'), 'content\n', 'nothing written');
    assert.deepEqual(readdirSync(dir), ['touched.txt']);
    assert.equal(vb.isModified, true);
    // Edits that leave nothing of the file: the save needs none of its bytes.
    vb.replace(0, vb.length, 'all new\n');
    await vb.save({ force: true });
    assert.equal(readFileSync(path, 'utf8'), 'all new\n');
    assert.equal(vb.isModified, false);
    vb.free();
  });
});

test('a file deleted while open: save() rejects, changing nothing; a forced save writes the content, unedited parts read from the file it opened', { skip: addonOnly }, async () => {
  await inTempDir(async (dir) => {
    const path = join(dir, 'deleted.txt');
    writeFileSync(path, 'kept bytes\n');
    const vb = await VirtualBuffer.open(path);
    vb.insert(0, '> ');
    unlinkSync(path);
    await assert.rejects(vb.save(), { name: 'Error', message: /changed on disk since it was opened.*deleted or moved away/ });
    assert.deepEqual(readdirSync(dir), [], 'nothing written');
    await vb.save({ force: true });
    assert.equal(readFileSync(path, 'utf8'), '> kept bytes\n');
    vb.free();
  });
});

test('deleteDocument(): a missing document is nothing to delete; a buffer still open on a deleted one reads on', { skip: wasmOnly }, async () => {
  await VirtualBuffer.deleteDocument(`never-stored-${process.pid}`);
  const name = `deleted-while-open-${process.pid}`;
  const content = new Uint8Array(300_000).map((_, i) => i % 251);
  (await VirtualBuffer.import(name, content, { blockSize: 4096 })).free();
  const open = await VirtualBuffer.open(name, { cacheBudget: 8192 }); // too small to hold what it reads
  await VirtualBuffer.deleteDocument(name);
  assert.equal((await VirtualBuffer.list()).some((d) => d.name === name), false, 'out of sight of list()');
  await assert.rejects(VirtualBuffer.open(name), /no document named/);
  const all = (await open.read(0)).bytes();
  assert.equal(all.length, content.length);
  assert.ok(all.every((b, i) => b === i % 251), 'every block still there for the open buffer');
  open.free();
});

test('readInto() of a document not in OPFS (IndexedDB, or from fromBytes()) throws an Error saying to use read()', { skip: wasmOnly }, async () => {
  const name = `read-into-${process.pid}`;
  const stored = await VirtualBuffer.import(name, 'stored');
  const inMemory = VirtualBuffer.fromBytes('in memory');
  for (const doc of [stored, inMemory]) {
    const target = new Uint8Array(4);
    assert.throws(() => doc.readInto(0, target), { name: 'Error', message: /use read\(\)/ });
    assert.deepEqual([...target], [0, 0, 0, 0], 'nothing copied');
    doc.free();
  }
  await VirtualBuffer.deleteDocument(name);
});

test("the browser-only members exist in the addon and say they are browser only, with Node's code", { skip: addonOnly }, async () => {
  const unavailable = (member) => ({
    name: 'Error',
    code: 'ERR_FEATURE_UNAVAILABLE_ON_PLATFORM',
    message: `VirtualBuffer.${member} is browser only: the Node addon's documents are files, opened with VirtualBuffer.open(path) ("omnibuf/wasm" has it in Node, over an IndexedDB polyfill)`,
  });
  for (const [name, args] of [['import', ['doc', 'text']], ['list', []], ['deleteDocument', ['doc']], ['exportDocument', ['doc']]]) {
    const result = VirtualBuffer[name](...args);
    assert.ok(result instanceof Promise, `${name}() returns a Promise, as in the browser`);
    await assert.rejects(result, unavailable(`${name}()`));
  }
  const doc = VirtualBuffer.fromBytes('some text');
  const target = new Uint8Array(4);
  assert.throws(() => doc.readInto(0, target), unavailable('readInto()'));
  assert.deepEqual([...target], [0, 0, 0, 0], 'nothing copied');
  assert.throws(() => doc.readInto.call({}, 0, target), { name: 'TypeError', code: 'ERR_INVALID_THIS' });
  doc.free();
  assert.throws(() => doc.readInto(0, target), { code: 'ERR_INVALID_STATE' });
});

test('the mapped backend: edits, saves and the reads and line queries after each save agree with a model', { skip: addonOnly }, async () => {
  await inTempDir(async (dir) => {
    const path = join(dir, 'mapped-model.txt');
    let model = Array.from({ length: 20_000 }, (_, i) => `line ${i}\n`).join('');
    writeFileSync(path, model);
    const vb = await VirtualBuffer.open(path, { backend: 'mapped', blockSize: 4096 });
    for (let round = 0; round < 4; round++) {
      const at = (round * 37_171) % model.length;
      vb.insert(at, `R${round}`);
      model = model.slice(0, at) + `R${round}` + model.slice(at);
      vb.delete(100, 200);
      model = model.slice(0, 100) + model.slice(200);
      await vb.save(); // a new file renamed over the one mapped
      assert.equal(readFileSync(path, 'utf8'), model, `round ${round}: the file`);
      assert.equal(text(await vb.read(0)), model, `round ${round}: read() after the save`);
      assert.equal(await vb.lineCount(), model.split('\n').length, `round ${round}: lineCount()`);
      assert.equal(await vb.find(`R${round}`), model.indexOf(`R${round}`), `round ${round}: find()`);
    }
    vb.free();
  });
});

test('wasm memory full: an insert whose blocks cannot be had is a RangeError, and the document stays as it was', { skip: wasmOnly }, () => {
  // In a process of its own: the wasm build's memory, once grown, stays that size.
  const entry = new URL('./impl.mjs', import.meta.url).href;
  const script = `import { VirtualBuffer, ZeroCopyBuffer } from ${JSON.stringify(entry)};
    const failure = (f) => { try { f(); return 'no error'; } catch (e) { return [e.name, e.code, e.message]; } };
    const doc = VirtualBuffer.fromBytes('base');
    const piece = new Uint8Array(256 << 20);
    // Fill wasm memory: 256 MiB pieces, then 16 MiB ones, until it has no room for one.
    const fillers = [];
    for (const size of [256 << 20, 16 << 20]) {
      const filler = piece.subarray(0, size);
      for (;;) {
        try { fillers.push(ZeroCopyBuffer.from(filler)); } catch { break; }
      }
    }
    // Room for the copy of the argument, not for the blocks it would fill as well.
    fillers.shift().free();
    const out = [failure(() => doc.insert(2, new Uint8Array(200 << 20).fill(1)))];
    doc.insert(4, '!');
    out.push(new TextDecoder().decode((await doc.read(0)).bytes()), doc.undo(), doc.undo());
    for (const filler of fillers) filler.free();
    doc.free();
    out.push(ZeroCopyBuffer.from(piece).length);
    console.log(JSON.stringify(out));`;
  const child = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8', timeout: 120_000 });
  assert.equal(child.status, 0, child.stderr);
  const [refused, ...rest] = JSON.parse(child.stdout);
  assert.deepEqual(refused.slice(0, 2), ['RangeError', 'ERR_OUT_OF_RANGE']);
  assert.match(refused[2], /^cannot allocate \d+ bytes for inserted bytes$/);
  assert.deepEqual(rest, ['base!', true, false, 256 << 20], 'the failed insert left no edit, and its memory came back');
});

test('find() finds a pattern that every version holds while edits keep coming, in a stored document', async () => {
  await withStorage(async (storage) => {
    // 8 MB of 'a' ending in XYZ: two scan windows, each loaded (from IndexedDB in the wasm build)
    // while the program inserts a byte at the start, turn after turn, until the search settles. A
    // search over the live content saw the pattern move past its windows and gave null.
    const size = 8_000_000;
    const content = new Uint8Array(size).fill(0x61);
    content.set([0x58, 0x59, 0x5a], size - 3);
    const vb = await VirtualBuffer.open(await storage.put('moving.txt', content));
    let settled = false;
    const found = vb.find('XYZ').finally(() => (settled = true));
    let inserted = 0;
    while (!settled) {
      vb.insert(0, 'b');
      inserted++;
      await new Promise((resolve) => setImmediate(resolve));
    }
    const at = await found;
    assert.ok(at !== null && at >= size - 3 && at <= size - 3 + inserted, `found at ${at}, after ${inserted} inserts`);
    assert.equal(await vb.find('XYZ'), size - 3 + inserted, 'and where it is now, with no edit meanwhile');
    vb.free();
  });
});

// Node's permission model loads an addon only with --allow-addons, and the addon's own file I/O is
// outside its checks: the entry checks what fs would (js/addon-files.mjs).
const nodeMajor = Number(process.versions.node.split('.')[0]);
test("Node's permission model: the import says addons are off, and with --allow-addons open() and the saves are checked as fs is", {
  skip: addonOnly || (nodeMajor < 20 && 'no permission model before Node 20'),
}, async () => {
  await inTempDir(async (dir) => {
    const [readable, writable, hidden] = ['readable', 'writable', 'hidden'].map((name) => join(dir, name));
    for (const directory of [readable, writable, hidden]) mkdirSync(directory);
    writeFileSync(join(readable, 'a.txt'), 'abc');
    writeFileSync(join(hidden, 'b.txt'), 'hidden');
    const child = join(dir, 'child.mjs');
    writeFileSync(child, `
      const outcome = (promise) => promise.then(() => 'ok', (e) => [e.code, e.permission, e.resource, e.message]);
      let api;
      try {
        api = await import(${JSON.stringify(new URL('../node.mjs', import.meta.url).href)});
      } catch (e) {
        console.log(JSON.stringify({ imported: [e.code, e.message] }));
        process.exit(0);
      }
      const { VirtualBuffer } = api;
      const fs = await import('node:fs');
      const fsError = (call) => { try { call(); } catch (e) { return [e.code, e.permission, e.message]; } };
      const results = {
        fsRead: fsError(() => fs.readFileSync(${JSON.stringify(join(hidden, 'b.txt'))})),
        fsWrite: fsError(() => fs.writeFileSync(${JSON.stringify(join(readable, 'x.txt'))}, 'x')),
      };
      // No way around the checks through the class's own chain, or a has() replaced later.
      results.parentOpen = typeof Object.getPrototypeOf(VirtualBuffer).open;
      process.permission.has = () => true;
      results.openHidden = await outcome(VirtualBuffer.open(${JSON.stringify(join(hidden, 'b.txt'))}));
      const doc = await VirtualBuffer.open(${JSON.stringify(join(readable, 'a.txt'))});
      doc.insert(0, '>');
      results.saveReadOnly = await outcome(doc.save());
      results.saveAsHidden = await outcome(doc.saveAs(${JSON.stringify(join(hidden, 'c.txt'))}));
      results.saveAsWritable = await outcome(doc.saveAs(${JSON.stringify(join(writable, 'c.txt'))}));
      doc.insert(0, '>');
      results.saveWritable = await outcome(doc.save());
      doc.free();
      // A relative path names the file the addon fixed at open(), whatever the directory later.
      process.chdir(${JSON.stringify(readable)});
      const relative = await VirtualBuffer.open('a.txt');
      process.chdir(${JSON.stringify(writable)});
      relative.insert(0, '!');
      results.saveAfterChdir = await outcome(relative.save());
      relative.free();
      console.log(JSON.stringify(results));
    `);
    const packageRoot = fileURLToPath(new URL('../..', import.meta.url));
    const flags = [
      nodeMajor >= 22 ? '--permission' : '--experimental-permission',
      `--allow-fs-read=${packageRoot}`,
      `--allow-fs-read=${child}`,
      `--allow-fs-read=${readable}`,
      `--allow-fs-read=${writable}`,
      `--allow-fs-write=${writable}`,
    ];
    const run = (...more) => {
      const ran = spawnSync(process.execPath, [...flags, ...more, child], { encoding: 'utf8' });
      assert.equal(ran.status, 0, ran.stderr);
      return JSON.parse(ran.stdout);
    };
    const refused = run();
    assert.equal(refused.imported[0], 'ERR_DLOPEN_DISABLED');
    assert.match(refused.imported[1], /--allow-addons.*'omnibuf\/wasm'/);

    const results = run('--allow-addons');
    // Node's own error for the same refusal, words and all.
    const [readCode, readScope, readMessage] = results.fsRead;
    const [writeCode, writeScope, writeMessage] = results.fsWrite;
    assert.deepEqual([readCode, readScope, writeCode, writeScope], ['ERR_ACCESS_DENIED', 'FileSystemRead', 'ERR_ACCESS_DENIED', 'FileSystemWrite']);
    assert.equal(results.parentOpen, 'undefined');
    assert.deepEqual(results.openHidden, [readCode, readScope, join(hidden, 'b.txt'), readMessage]);
    assert.deepEqual(results.saveReadOnly, [writeCode, writeScope, join(readable, 'a.txt'), writeMessage]);
    assert.deepEqual(results.saveAsHidden, [writeCode, writeScope, join(hidden, 'c.txt'), writeMessage]);
    assert.deepEqual(results.saveAfterChdir, [writeCode, writeScope, join(readable, 'a.txt'), writeMessage]);
    assert.equal(results.saveAsWritable, 'ok');
    assert.equal(results.saveWritable, 'ok');
    assert.equal(readFileSync(join(writable, 'c.txt'), 'utf8'), '>>abc');
    assert.equal(readFileSync(join(readable, 'a.txt'), 'utf8'), 'abc');
    assert.deepEqual(readdirSync(hidden), ['b.txt']);
  });
});

test("a buffer's constructor is the class the package exports", async () => {
  const doc = VirtualBuffer.fromBytes('x');
  assert.equal(doc.constructor, VirtualBuffer);
  assert.ok(doc instanceof VirtualBuffer);
  doc.free();
});

test('open() and saveAs() take a file: URL as fs does, and refuse other URLs with the TypeError fs gives', { skip: addonOnly }, async () => {
  await inTempDir(async (dir) => {
    const path = join(dir, 'notes.txt');
    writeFileSync(path, 'from a URL');
    const doc = await VirtualBuffer.open(pathToFileURL(path));
    assert.equal(text(await doc.read(0)), 'from a URL');
    await doc.saveAs(pathToFileURL(join(dir, 'saved.txt')));
    assert.equal(readFileSync(join(dir, 'saved.txt'), 'utf8'), 'from a URL');
    const web = new URL('https://example.com/notes.txt');
    const fsError = await readFile(web).catch((e) => e);
    assert.equal(fsError.code, 'ERR_INVALID_URL_SCHEME');
    for (const call of [() => VirtualBuffer.open(web), () => doc.saveAs(web)]) {
      await assert.rejects(call(), { name: 'TypeError', code: fsError.code, message: fsError.message });
    }
    doc.free();
  });
});
