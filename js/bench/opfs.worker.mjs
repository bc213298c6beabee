// The worker side of js/bench/opfs.mjs: a raw OPFS sync access handle and our VirtualBuffer on OPFS,
// measured in the same dedicated worker. Each message { op, ... } is answered with { ms, ... } or
// { error }.
import { init, VirtualBuffer } from '../web.mjs';

const RAW_DIR = 'omnibuf-bench-raw';
const BATCH = 8 << 20;

async function rawFile(name, create) {
  const root = await navigator.storage.getDirectory();
  const dir = await root.getDirectoryHandle(RAW_DIR, { create: true });
  return dir.getFileHandle(name, { create });
}

/** The same offsets on both sides: a small LCG over 4 KiB-aligned-or-not positions. */
function offsets(count, length, seed) {
  const out = new Float64Array(count);
  let x = seed >>> 0;
  for (let i = 0; i < count; i++) {
    x = (Math.imul(x, 1664525) + 1013904223) >>> 0;
    const y = (Math.imul(x ^ (x >>> 15), 2246822519) >>> 0) / 4294967296;
    out[i] = Math.floor(y * (length - 4096));
  }
  return out;
}

const ops = {
  /** The file written as a user would without us: 8 MiB slices of the Blob through one handle. */
  async rawWrite({ blob }) {
    const dir = await (await navigator.storage.getDirectory()).getDirectoryHandle(RAW_DIR, { create: true });
    await dir.removeEntry('raw.bin').catch(() => {});
    const start = performance.now();
    const handle = await (await rawFile('raw.bin', true)).createSyncAccessHandle();
    for (let at = 0; at < blob.size; at += BATCH) {
      const bytes = new Uint8Array(await blob.slice(at, Math.min(blob.size, at + BATCH)).arrayBuffer());
      let done = 0;
      while (done < bytes.length) done += handle.write(bytes.subarray(done), { at: at + done });
    }
    handle.flush();
    handle.close();
    return { ms: performance.now() - start };
  },
  async ourImport({ blob, name }) {
    await VirtualBuffer.deleteDocument(name, { store: 'opfs' });
    const start = performance.now();
    const doc = await VirtualBuffer.import(name, blob, { store: 'opfs' });
    doc.free();
    return { ms: performance.now() - start };
  },
  async rawReads({ count, seed }) {
    const handle = await (await rawFile('raw.bin', false)).createSyncAccessHandle();
    const at = offsets(count, handle.getSize(), seed);
    const dst = new Uint8Array(4096);
    let sum = 0;
    const start = performance.now();
    for (let i = 0; i < count; i++) {
      // A new array per read, as a caller that keeps what it read needs (ours returns one too).
      const out = new Uint8Array(4096);
      handle.read(out, { at: at[i] });
      sum += out[i & 4095];
    }
    const ms = performance.now() - start;
    dst[0] = sum;
    handle.close();
    return { ms, perRead: ms / count };
  },
  async ourReads({ name, count, seed }) {
    const doc = await VirtualBuffer.open(name, { store: 'opfs' });
    const at = offsets(count, doc.length, seed);
    let sum = 0;
    const start = performance.now();
    for (let i = 0; i < count; i++) {
      const buffer = await doc.read(at[i], at[i] + 4096);
      const out = buffer.bytes();
      buffer.free();
      sum += out[i & 4095];
    }
    const ms = performance.now() - start;
    doc.free();
    return { ms, perRead: ms / count, sum };
  },
  async ourReadsInto({ name, count, seed }) {
    const doc = await VirtualBuffer.open(name, { store: 'opfs' });
    const at = offsets(count, doc.length, seed);
    let sum = 0;
    const start = performance.now();
    for (let i = 0; i < count; i++) {
      // A new array per read, as in the raw case.
      const out = new Uint8Array(4096);
      doc.readInto(at[i], out);
      sum += out[i & 4095];
    }
    const ms = performance.now() - start;
    doc.free();
    return { ms, perRead: ms / count, sum };
  },
  /** The same 4 KiB again and again: the system's cache holds it, so what remains is mostly the
   * call's own cost (the Promise, the ZeroCopyBuffer, bytes(), free()). */
  async ourHits({ name, count }) {
    const doc = await VirtualBuffer.open(name, { store: 'opfs' });
    (await doc.read(8192, 12288)).free();
    const start = performance.now();
    for (let i = 0; i < count; i++) {
      const buffer = await doc.read(8192, 12288);
      buffer.bytes();
      buffer.free();
    }
    const ms = performance.now() - start;
    doc.free();
    return { ms, perRead: ms / count };
  },
  async cleanup({ name }) {
    await VirtualBuffer.deleteDocument(name, { store: 'opfs' });
    const root = await navigator.storage.getDirectory();
    await root.removeEntry(RAW_DIR, { recursive: true }).catch(() => {});
    return {};
  },
};

self.onmessage = async ({ data }) => {
  try {
    await init();
    self.postMessage(await ops[data.op](data));
  } catch (e) {
    self.postMessage({ error: `${e?.name}: ${e?.message}` });
  }
};
