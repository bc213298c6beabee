#!/usr/bin/env -S node --expose-gc
// What the wasm build's view rule costs (js/index.d.ts, "Views"): its views are copies in a fresh
// ArrayBuffer and its writable views are written back by a call, where they used to be views of wasm
// memory. Times, per operation, view() of a ZeroCopyBuffer (64 B and 64 KiB), view() of a pooled
// 4 KiB buffer followed by a call on it (the write-back), and a 64 KiB chunk through a 1 MiB ring by
// slices (fill the writer's slice, produce, read the reader's slice, consume) and by write().
//
//   npm run bench:wasm-views                       this checkout's wasm build
//   npm run bench:wasm-views -- OTHER/js/wasm-node.mjs   and another checkout's, side by side
import { fileURLToPath, pathToFileURL } from 'node:url';
import { resolve } from 'node:path';
import { compare, formatNs } from './harness.mjs';

if (globalThis.indexedDB === undefined) await import('fake-indexeddb/auto');
const builds = [['this checkout', fileURLToPath(new URL('../wasm-node.mjs', import.meta.url))]];
for (const path of process.argv.slice(2)) builds.push([path, resolve(path)]);

const CHUNK = 64 * 1024;
const chunk = new Uint8Array(CHUNK).fill(7);
const rows = [];
for (const [name, path] of builds) {
  const api = await import(pathToFileURL(path).href);
  const small = api.ZeroCopyBuffer.from(new Uint8Array(64));
  const large = api.ZeroCopyBuffer.from(new Uint8Array(CHUNK));
  const pool = new api.BufferPool({ budget: 1 << 20, classes: [4096] });
  const pooled = pool.tryAcquire(4096);
  pooled.append(new Uint8Array(4096));
  const w = api.Circular.withCapacity(1 << 20);
  const r = w.addReader();
  let sink = 0;
  const results = await compare([
    { name: 'ZeroCopyBuffer.view() 64 B', run: (ops) => { for (let i = 0; i < ops; i++) sink += small.view()[0]; } },
    { name: 'ZeroCopyBuffer.view() 64 KiB', run: (ops) => { for (let i = 0; i < ops; i++) sink += large.view()[0]; } },
    { name: 'PooledBuffer.view() 4 KiB + length', run: (ops) => { for (let i = 0; i < ops; i++) { pooled.view()[0] = i; sink += pooled.length; } } },
    {
      name: 'ring 64 KiB by slices',
      run: (ops) => {
        for (let i = 0; i < ops; i++) {
          const room = w.slice();
          room.set(chunk);
          w.produce(CHUNK);
          const data = r.slice();
          sink += data[0];
          r.consume(data.length);
        }
      },
    },
    {
      name: 'ring 64 KiB by write()',
      run: (ops) => {
        for (let i = 0; i < ops; i++) {
          w.write(chunk);
          const data = r.slice();
          sink += data[0];
          r.consume(data.length);
        }
      },
    },
  ]);
  for (const [c, ns] of results) rows.push([name, c, ns]);
  if (sink === -1) console.log('');
}
console.log('| build | case | per operation |\n|---|---|---|');
for (const [build, c, ns] of rows) console.log(`| ${build} | ${c} | ${formatNs(ns)} |`);
