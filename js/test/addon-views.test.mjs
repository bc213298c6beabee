// The addon's views: Buffers over native memory (no copies), detached when their owner lets go of the
// memory, kept valid when the owner is merely dropped, copied (never moved) by postMessage, and plain
// copies where external buffers are not allowed (OMNIBUF_EXTERNAL_BUFFERS=0, as in Electron).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { MessageChannel, receiveMessageOnPort } from 'node:worker_threads';
import { collect } from './collect.mjs';
import { impl } from './impl.mjs';

const skip = impl !== 'addon' && 'addon only';
const api = impl === 'addon' ? await import('../node.mjs') : {};

test('views are Buffers over the native memory, detached on free()', { skip }, () => {
  const { ZeroCopyBuffer, externalBuffers } = api;
  assert.equal(externalBuffers, process.env.OMNIBUF_EXTERNAL_BUFFERS !== '0');
  const b = ZeroCopyBuffer.from('shared');
  const one = b.view();
  const two = b.slice(0).view();
  assert.ok(Buffer.isBuffer(one));
  one[0] = 'S'.charCodeAt(0); // (views of frozen bytes are for reading; this only proves sharing)
  assert.equal(two.toString(), 'Shared', 'both views show the same memory');
  const keep = b.slice(1, 3);
  b.free();
  assert.equal(one.length, 0, 'the freed object detached its view');
  assert.equal(two.toString(), 'Shared', "another object's view is not affected");
  assert.equal(keep.view().toString(), 'ha');
});

test('a pooled view is written in place and detached by freeze()', { skip }, () => {
  const pool = new api.BufferPool({ budget: 8192, classes: [4096] });
  const p = pool.tryAcquire(10);
  p.append('abc');
  const view = p.view();
  view[1] = 'X'.charCodeAt(0);
  const frozen = p.freeze('text');
  assert.equal(view.length, 0, 'detached: the PooledBuffer cannot be used after freeze');
  assert.equal(Buffer.from(frozen.bytes()).toString(), 'aXc', 'the write went to the pooled memory');
  frozen.free();
  assert.equal(pool.snapshot().inUseBytes, 0, 'and the memory is back in the pool at once');
});

test('a view outlives its dropped owner and keeps the memory', { skip }, async () => {
  const pool = new api.BufferPool({ budget: 4096, classes: [4096] });
  const make = () => {
    const p = pool.tryAcquire(4);
    p.append('kept');
    return [p.view(), api.ZeroCopyBuffer.from('also kept').view()];
  };
  const [pooled, plain] = make();
  await collect(5);
  assert.equal(pooled.toString(), 'kept');
  assert.equal(plain.toString(), 'also kept');
  assert.equal(pool.tryAcquire(1), null, 'the view still holds the pooled memory');
});

test('postMessage copies a view; it never moves native memory away', { skip }, () => {
  const b = api.ZeroCopyBuffer.from('posted');
  const view = b.view();
  const { port1, port2 } = new MessageChannel();
  port1.postMessage(view);
  try {
    port1.postMessage(view, [view.buffer]);
  } catch {
    // refusing the transfer is fine too
  }
  const first = receiveMessageOnPort(port2).message;
  view[0] = 'P'.charCodeAt(0);
  assert.equal(Buffer.from(first).toString(), 'posted', 'a copy');
  assert.equal(view.toString(), 'Posted', 'the original view is still attached');
  receiveMessageOnPort(port2);
  port1.close();
  b.free();
});

test("repeated view() calls share one view's memory, and follow the object's bytes", { skip }, async () => {
  const b = api.ZeroCopyBuffer.from('0123456789abcdef');
  const first = b.view();
  const second = b.view();
  assert.notEqual(first, second, 'a new Buffer each time');
  assert.equal(first.buffer, second.buffer, 'over the same memory');
  assert.ok(Buffer.isBuffer(second));
  const head = b.splitTo(4);
  assert.equal(b.view().toString(), '456789abcdef', 'after splitTo the view shows the bytes left');
  assert.equal(b.view().buffer.byteLength, 12, 'and nothing beyond them, through .buffer either');
  assert.equal(head.view().toString(), '0123');
  const tail = b.splitOff(8);
  assert.equal(b.view().toString(), '456789ab');
  const kept = [b.view(), b.view().subarray(2), new Uint8Array(b.view().buffer)];
  await collect(2);
  b.free();
  for (const k of kept) assert.equal(k.length, 0, 'free() detaches every view handed out');
  assert.equal(first.length, 0, 'the views taken before the splits too');
  assert.equal(tail.view().toString(), 'cdef', "another object's views are its own");
  assert.equal(head.view().toString(), '0123');
  head.free();
  tail.free();

  const pool = new api.BufferPool({ budget: 4096, classes: [4096] });
  const p = pool.tryAcquire(16);
  p.append('abc');
  const v1 = p.view();
  p.view()[0] = 'A'.charCodeAt(0);
  assert.equal(v1.toString(), 'Abc', 'two views of a pooled buffer share its memory');
  p.append('de');
  assert.equal(p.view().toString(), 'Abcde', 'after append() a view shows the new length');
  assert.equal(v1.toString(), 'Abc', 'an older view keeps its own length');
  const v2 = p.view();
  p.free();
  assert.deepEqual([v1.length, v2.length], [0, 0], 'free() detaches them all');
  const q = pool.tryAcquire(16);
  q.append('QQ');
  const v3 = q.view();
  const frozen = q.freeze();
  assert.equal(v3.length, 0, 'freeze() detaches too');
  assert.equal(frozen.view().toString(), 'QQ');
  frozen.free();
  pool.free();
});

test('ring slices are views of the ring, detached by produce(), consume() and free()', { skip }, () => {
  const w = api.Circular.withCapacity(4096);
  const r = w.addReader();
  const room = w.slice();
  room.write('direct');
  w.produce(6);
  assert.equal(room.length, 0, 'the published bytes are out of the writer\'s reach');
  const data = r.slice();
  const again = r.slice();
  assert.equal(data.toString(), 'direct');
  data[0] = 'D'.charCodeAt(0); // (read-only by contract; here it only proves there is no copy in between)
  assert.equal(again.toString(), 'Direct');
  r.consume(1);
  assert.equal(data.length, 0, 'consumed: the writer may overwrite it');
  assert.equal(again.length, 0);
  const rest = r.slice();
  assert.equal(rest.toString(), 'irect');
  r.free();
  assert.equal(rest.length, 0);
  const last = w.slice();
  w.free();
  assert.equal(last.length, 0);
});

test('a view longer than the largest Buffer is an Error, not a crash', { skip }, () => {
  // A ring of more than 4 GiB (address space, not memory, until written): its writer's slice is longer
  // than Node 20's largest Buffer. Node calls the view's finalizer itself when it refuses the length;
  // the addon freed its hint once more (found by the random-call fuzz, seeds 37 and 59: a double free).
  const w = api.Circular.withCapacity(2 ** 32 + 1);
  let room;
  try {
    room = w.slice();
  } catch (e) {
    assert.ok(e instanceof Error && /Buffer of \d+ bytes/.test(e.message), String(e));
  }
  if (room !== undefined) assert.ok(room.length > 2 ** 32, 'a runtime whose Buffers are this long makes one');
  assert.ok(w.capacity > 2 ** 32, 'the writer is still usable');
  w.free();
});

test('with OMNIBUF_EXTERNAL_BUFFERS=0 views are copies and everything still works', { skip }, () => {
  const child = spawnSync(process.execPath, [fileURLToPath(new URL('./copy-mode.child.mjs', import.meta.url))], {
    encoding: 'utf8',
    env: { ...process.env, OMNIBUF_EXTERNAL_BUFFERS: '0' },
    timeout: 60_000,
  });
  assert.equal(child.status, 0, child.stderr);
  assert.equal(child.stdout.trim(), 'copies: ok');
});
