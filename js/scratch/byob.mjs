import { VirtualBuffer, impl } from '../test/impl.mjs';
const n = 200_003;
const bytes = new Uint8Array(n); for (let i = 0; i < n; i++) bytes[i] = (i * 7) % 251;
const doc = VirtualBuffer.fromBytes(bytes);
const r = doc.readableStream(3).getReader({ mode: 'byob' });
const got = [];
let size = 1;
for (;;) {
  const { value, done } = await r.read(new Uint8Array(size));
  if (done) break;
  got.push(...value);
  size = (size * 3 + 1) % 70000 + 1;
}
const ok = got.length === n - 3 && got.every((b, i) => b === bytes[i + 3]);
console.log(impl, 'byob odd sizes', ok, got.length);
doc.free();
