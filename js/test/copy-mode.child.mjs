// Run by addon-views.test.mjs with OMNIBUF_EXTERNAL_BUFFERS=0: the addon's copying mode, as under
// Electron. (Loaded on its own by the test runner too: then it has nothing to check.)
import assert from 'node:assert/strict';

if (process.env.OMNIBUF_EXTERNAL_BUFFERS === '0') {
  const { ZeroCopyBuffer, BufferPool, Circular, externalBuffers } = await import('../node.mjs');
  assert.equal(externalBuffers, false);
  const b = ZeroCopyBuffer.from('copy');
  const v = b.view();
  v[0] = 0;
  assert.equal(Buffer.from(b.bytes()).toString(), 'copy', 'a view is a copy');
  assert.equal(b.view().toString(), 'copy', 'each view() is a copy of its own (copies are not reused)');
  const s = b.slice(1, 3);
  const sv = s.view();
  assert.equal(sv.toString(), 'op', "a slice's view is a copy of its bytes");
  s.free();
  b.free();
  assert.equal(v.length, 4, 'a copy is not detached');
  assert.equal(sv.toString(), 'op');
  const pool = new BufferPool({ budget: 4096, classes: [4096] });
  const p = pool.tryAcquire(1);
  p.append('pooled');
  assert.equal(p.view().toString(), 'pooled');
  p.view()[0] = 0;
  assert.equal(p.view().toString(), 'pooled', 'each pooled view() is a copy of its own');
  p.freeze().free();
  const w = Circular.withCapacity(4096);
  const r = w.addReader();
  assert.equal(w.write('through the ring'), 16, 'write() works where slices are copies');
  assert.equal(r.slice().toString(), 'through the ring');
  r.consume(16);
  w.free();
  assert.equal(r.slice(), null);
  console.log('copies: ok');
}
