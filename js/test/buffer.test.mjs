import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { ZeroCopyBuffer, BufferMut, BufferKind, impl } from './impl.mjs';
import { collect } from './collect.mjs';

const bytes = (...b) => new Uint8Array(b);

test('from copies, view and bytes show the content', () => {
  const src = bytes(1, 2, 3, 4);
  const b = ZeroCopyBuffer.from(src);
  src[0] = 99; // the buffer holds a copy
  assert.equal(b.length, 4);
  assert.equal(b.kind, 'raw');
  assert.deepEqual([...b.view()], [1, 2, 3, 4]);
  assert.deepEqual([...b.bytes()], [1, 2, 3, 4]);
  assert.equal(ZeroCopyBuffer.from('héllo').kind, 'text');
  assert.equal(ZeroCopyBuffer.from('héllo').length, 6, 'strings are UTF-8');
  assert.deepEqual([...ZeroCopyBuffer.from(new Uint16Array([0x0201]).buffer).bytes()], [1, 2]);
  assert.deepEqual([...ZeroCopyBuffer.from(new Uint16Array([0x0403, 0x0201]).subarray(1)).bytes()], [1, 2]);
});

test('slices share storage and keep kind and tenant', () => {
  const b = ZeroCopyBuffer.from(bytes(10, 20, 30, 40), 'pcm16').withTenant('alpha');
  const s = b.slice(1, 3);
  assert.deepEqual([...s.bytes()], [20, 30]);
  assert.equal(s.kind, 'pcm16');
  assert.equal(s.tenant, 'alpha');
  assert.ok(b.sharers >= 2);
  assert.equal(b.slice(2).length, 2, 'end defaults to the length');
  const j = b.retag('jpeg');
  assert.equal(j.kind, 'jpeg');
  assert.equal(b.kind, 'pcm16');
});

test('split_to and split_off', () => {
  const b = ZeroCopyBuffer.from('0123456789');
  const head = b.splitTo(3);
  const tail = b.splitOff(4);
  assert.equal(new TextDecoder().decode(head.bytes()), '012');
  assert.equal(new TextDecoder().decode(b.bytes()), '3456');
  assert.equal(new TextDecoder().decode(tail.bytes()), '789');
});

test('bad ranges and numbers are RangeErrors and TypeErrors, and change nothing', () => {
  const b = ZeroCopyBuffer.from(bytes(1, 2, 3));
  assert.throws(() => b.slice(2, 7), { name: 'RangeError', message: /2\.\.7 is out of bounds for a buffer of 3 bytes/ });
  assert.throws(() => b.slice(2, 1), RangeError);
  assert.throws(() => b.slice(-1), RangeError);
  assert.throws(() => b.slice(1.5), TypeError);
  assert.throws(() => b.slice('x'), TypeError);
  assert.throws(() => b.slice(NaN), TypeError);
  assert.throws(() => b.splitTo(4), RangeError);
  assert.equal(b.length, 3);
  assert.throws(() => ZeroCopyBuffer.from(42), TypeError);
  assert.throws(() => ZeroCopyBuffer.from({}), TypeError);
  assert.throws(() => ZeroCopyBuffer.from(bytes(1), 'no-such-kind'), TypeError);
  assert.throws(() => b.equals({}), TypeError);
});

test('sha256 matches node:crypto over the visible bytes', () => {
  const b = ZeroCopyBuffer.from('xabcx').slice(1, 4);
  const expected = createHash('sha256').update('abc').digest();
  assert.deepEqual(Buffer.from(b.sha256()), expected);
});

test('equality is by content', () => {
  const a = ZeroCopyBuffer.from('same');
  const b = ZeroCopyBuffer.from('xsamex', 'jpeg').slice(1, 5);
  assert.ok(a.equals(b));
  assert.ok(!a.equals(ZeroCopyBuffer.from('other')));
});

test('BufferMut appends and freezes', () => {
  const m = new BufferMut(16, 'json');
  m.append('{"n":');
  m.append(bytes(0x31, 0x7d));
  assert.equal(m.length, 7);
  assert.ok(m.capacity >= 16);
  const f = m.freeze();
  assert.equal(new TextDecoder().decode(f.bytes()), '{"n":1}');
  assert.equal(f.kind, 'json');
  assert.throws(() => m.append('x'), /BufferMut was frozen/);
  assert.throws(() => m.freeze(), /BufferMut was frozen/);
  assert.throws(() => new BufferMut(-1), RangeError);
  assert.throws(() => new BufferMut(1, 'nope'), TypeError);
});

test('kinds register once and are looked up by name', () => {
  assert.equal(BufferKind.register('pcm24'), 'pcm24');
  assert.equal(BufferKind.register('pcm24'), 'pcm24');
  assert.ok(BufferKind.has('pcm24'));
  assert.ok(!BufferKind.has('never-registered'));
  assert.ok(BufferKind.names().includes('mulaw8'));
  assert.throws(() => BufferKind.register('has space'), TypeError);
  assert.throws(() => BufferKind.register(''), TypeError);
  assert.equal(ZeroCopyBuffer.from('x', 'pcm24').kind, 'pcm24');
});

test('using an object after free() or dispose says so', () => {
  const b = ZeroCopyBuffer.from('x');
  const s = b.slice(0, 1);
  b.free();
  assert.throws(() => b.length, { message: /ZeroCopyBuffer was freed/ });
  assert.throws(() => b.slice(0), { message: /ZeroCopyBuffer was freed/ });
  assert.equal(new TextDecoder().decode(s.bytes()), 'x', 'other views stay valid');
  s[Symbol.dispose]();
  assert.throws(() => s.bytes(), /was freed/);
});

test('slices are full ZeroCopyBuffers, and slice, view, length and free refuse another class as this', () => {
  const b = ZeroCopyBuffer.from(bytes(1, 2, 3, 4), 'raw').withTenant('t');
  const s = b.slice(1);
  assert.ok(s instanceof ZeroCopyBuffer);
  assert.equal(s.length, 3);
  assert.equal(s.kind, 'raw');
  assert.equal(s.tenant, 't');
  assert.deepEqual([...s.view()], [2, 3, 4]);
  assert.ok(s.equals(ZeroCopyBuffer.from(bytes(2, 3, 4))));
  assert.deepEqual([...s.slice(1, 2).bytes()], [3]);
  assert.deepEqual([...s.splitTo(1).bytes()], [2]);
  assert.deepEqual([...b.slice(2, undefined).bytes()], [3, 4], 'an undefined end means the length');
  assert.deepEqual([...b.slice(2, null).bytes()], [3, 4], 'so does null');
  assert.throws(() => b.slice(), { name: 'TypeError', message: /start must be an integer/ });
  assert.throws(() => b.slice(0, 'x'), { name: 'TypeError', message: /end must be an integer/ });
  assert.throws(() => b.slice(3, 2), RangeError);
  assert.throws(() => b.slice(0, 5), RangeError);
  assert.throws(() => b.slice(-1), RangeError);
  const proto = ZeroCopyBuffer.prototype;
  const length = Object.getOwnPropertyDescriptor(proto, 'length').get;
  for (const self of [{}, new BufferMut(1), undefined, null, 7]) {
    assert.throws(() => proto.slice.call(self, 0), TypeError);
    assert.throws(() => proto.view.call(self), TypeError);
    assert.throws(() => length.call(self), TypeError);
    assert.throws(() => proto.free.call(self), TypeError);
  }
  s.free();
  s.free();
  assert.throws(() => s.length, { message: /ZeroCopyBuffer was freed/ });
  assert.equal(b.length, 4, 'freeing a slice leaves its parent alone');
});

test('a random storm of bad calls throws JS exceptions and never crashes', () => {
  const values = [undefined, null, -1, 1.5, NaN, Infinity, 2 ** 53, 'x', {}, [], 0, 1, 3, 1e9];
  const b = ZeroCopyBuffer.from(bytes(1, 2, 3));
  let threw = 0;
  for (const x of values) {
    for (const y of values) {
      for (const call of [() => b.slice(x, y), () => b.retag(x), () => b.withTenant(x), () => ZeroCopyBuffer.from(x, y)]) {
        try {
          call();
        } catch (e) {
          assert.ok(e instanceof Error, `a JS Error, got ${e}`);
          threw++;
        }
      }
    }
  }
  assert.ok(threw > 0);
  assert.deepEqual([...b.bytes()], [1, 2, 3], 'the buffer is unchanged');
});

test('sharers counts the buffers sharing the storage that were not freed', () => {
  const b = ZeroCopyBuffer.from(bytes(1, 2, 3, 4));
  assert.equal(b.sharers, 1);
  const s = b.slice(1, 3);
  const t = s.slice(1);
  assert.deepEqual([b.sharers, s.sharers, t.sharers], [3, 3, 3]);
  const head = b.splitTo(1);
  assert.equal(b.sharers, 4, 'a split shares the storage too');
  s.free();
  assert.deepEqual([b.sharers, t.sharers, head.sharers], [3, 3, 3]);
  s.free();
  assert.equal(b.sharers, 3, 'a second free() counts nothing');
  const other = ZeroCopyBuffer.from(bytes(1));
  assert.equal(other.sharers, 1, 'another storage is counted apart');
  for (const x of [b, t, head, other]) x.free();
});

test('sharers reads the same on every buffer made from one another, withTenant() and retag() too, and drops as one is freed or collected', async () => {
  // Small (kept in JS by the addon until it needs a native storage) and large.
  for (const size of [11, 8192]) {
    const z = ZeroCopyBuffer.from(new Uint8Array(size).fill(7));
    const all = [z];
    const same = (expected, what) => assert.deepEqual(all.map((x) => x.sharers), all.map(() => expected), `${size} bytes, ${what}`);
    all.push(z.slice(6));
    same(2, 'a slice');
    all.push(z.splitTo(5));
    same(3, 'a split');
    all.push(z.withTenant('t'));
    same(4, 'withTenant()');
    all.push(all[1].retag('raw'));
    same(5, 'retag() of the slice');
    all.push(all[3].slice(1));
    same(6, 'a slice of the tenant\'s');
    all.splice(1, 1)[0].free();
    same(5, 'the first slice freed');
    all.pop().free();
    same(4, 'the slice of the tenant\'s freed');
    // A derived one dropped without free(): counted until it is collected, as in the wasm build.
    (() => void z.retag('raw'))();
    await collect();
    same(4, 'a retag() dropped and collected');
    for (const x of all) x.free();
  }
});

test('freeing one sharer leaves the others whole', () => {
  const b = ZeroCopyBuffer.from('0123456789', 'text').withTenant('t');
  const left = b.slice(0, 5);
  const right = b.slice(5);
  const inner = right.slice(1, 3);
  left.free();
  assert.throws(() => left.bytes(), { message: /ZeroCopyBuffer was freed/ });
  assert.throws(() => left.view(), { message: /ZeroCopyBuffer was freed/ });
  b.free();
  assert.equal(new TextDecoder().decode(right.bytes()), '56789');
  assert.equal(new TextDecoder().decode(inner.view()), '67');
  assert.equal(inner.kind, 'text');
  assert.equal(inner.tenant, 't');
  assert.equal(inner.length, 2);
  assert.ok(inner.equals(ZeroCopyBuffer.from('67')));
  assert.deepEqual(Buffer.from(inner.sha256()), createHash('sha256').update('67').digest());
  right.free();
  assert.deepEqual([...inner.bytes()], [0x36, 0x37], 'the last sharer keeps the bytes');
  inner.free();
  assert.throws(() => inner.length, { message: /ZeroCopyBuffer was freed/ });
});

test('slices of slices, splits and retags address the right bytes', () => {
  const b = ZeroCopyBuffer.from('abcdefghij');
  const s = b.slice(2, 9); // cdefghi
  const head = s.splitTo(2); // cd, s = efghi
  const tail = s.splitOff(3); // ghi... s = efg, tail = hi
  const text = (x) => new TextDecoder().decode(x.bytes());
  assert.deepEqual([text(head), text(s), text(tail)], ['cd', 'efg', 'hi']);
  assert.deepEqual([head.length, s.length, tail.length], [2, 3, 2]);
  assert.equal(text(s.slice(1, 2)), 'f');
  assert.equal(text(s.retag('json').slice(2)), 'g');
  assert.equal(s.retag('json').kind, 'json');
  assert.equal(s.kind, 'text');
  assert.equal(text(tail.withTenant('x')), 'hi');
  assert.equal(tail.withTenant('x').tenant, 'x');
  assert.equal(tail.tenant, undefined);
  assert.ok(s.slice(0, 0).equals(ZeroCopyBuffer.from(new Uint8Array(0))));
  assert.equal(s.slice(3).length, 0, 'an empty slice at the end');
  assert.deepEqual([...s.slice(3).view()], []);
  assert.throws(() => s.slice(4), { name: 'RangeError', message: /range 4\.\.3 is out of bounds for a buffer of 3 bytes/ });
  assert.throws(() => s.splitTo(4), { name: 'RangeError', message: /range 0\.\.4 is out of bounds for a buffer of 3 bytes/ });
  assert.throws(() => s.splitOff(4), { name: 'RangeError', message: /range 4\.\.3 is out of bounds for a buffer of 3 bytes/ });
  assert.throws(() => s.splitTo(-1), { name: 'RangeError', message: /at must be between 0 and \d+, got -1/ });
  assert.throws(() => s.splitOff(0.5), { name: 'TypeError', message: /at must be an integer, got 0.5/ });
  assert.throws(() => s.slice(0, 2 ** 53), { name: 'RangeError', message: /end must be between 0 and \d+, got 9007199254740992/ });
  assert.equal(text(s), 'efg', 'failed calls change nothing');
});

test('every member of a ZeroCopyBuffer refuses another class as this', () => {
  const proto = ZeroCopyBuffer.prototype;
  const b = ZeroCopyBuffer.from('x');
  const members = Object.entries(Object.getOwnPropertyDescriptors(proto)).filter(
    ([name]) => name !== 'constructor' && !name.startsWith('__'),
  );
  assert.ok(members.length >= 14, `${members.length} members`);
  for (const self of [{}, new BufferMut(1), undefined, null, 7]) {
    for (const [name, d] of members) {
      const fn = d.value ?? d.get;
      assert.throws(() => fn.call(self, b), TypeError, `${String(name)} on ${String(self)}`);
    }
  }
  assert.equal(ZeroCopyBuffer.name, 'ZeroCopyBuffer');
  b.free();
});

test('what makes a ZeroCopyBuffer makes a full one', () => {
  const b = ZeroCopyBuffer.from('abc');
  const m = new BufferMut(4);
  m.append('abc');
  const made = [b, b.slice(1), b.splitOff(2), b.withTenant('t'), b.retag('json'), m.freeze()];
  for (const x of made) {
    assert.ok(x instanceof ZeroCopyBuffer);
    assert.equal(Object.getPrototypeOf(x), ZeroCopyBuffer.prototype);
    assert.ok(x.length >= 1);
    x.free();
  }
});

test('bytes too many for memory are a RangeError, not a crash; bytes a pooled buffer refuses are never copied', () => {
  // In a process of its own: the wasm build's memory, once grown, stays that size.
  const entry = new URL('./impl.mjs', import.meta.url).href;
  const script = `import { BufferMut, BufferPool, ZeroCopyBuffer, impl } from ${JSON.stringify(entry)};
    const out = [];
    const failure = (f) => { try { f(); return 'no error'; } catch (e) { return [e.name, e.code, e.message]; } };
    const huge = new Uint8Array(2 ** 31 - 1); // untouched: no memory yet
    const pool = new BufferPool({ budget: 1 << 20, classes: [4096] });
    const pooled = pool.tryAcquire(4096);
    const before = process.memoryUsage.rss();
    out.push(failure(() => pooled.append(huge)));
    out.push(process.memoryUsage.rss() - before < 256 * 2 ** 20);
    if (impl === 'wasm') {
      // 2 GiB in wasm memory, then 2 GiB more, which wasm32's 4 GiB cannot hold.
      new BufferMut().append(huge);
      const builder = new BufferMut();
      builder.append('kept');
      out.push(failure(() => builder.append(huge)));
      out.push(failure(() => ZeroCopyBuffer.from(huge)));
      builder.append('!');
      out.push(new TextDecoder().decode(builder.freeze().bytes()));
    }
    console.log(JSON.stringify(out));`;
  const child = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8', timeout: 60_000 });
  assert.equal(child.status, 0, child.stderr);
  const out = JSON.parse(child.stdout);
  const refused = ['RangeError', 'ERR_OUT_OF_RANGE', 'cannot write 2147483647 bytes into a pooled buffer with 4096 bytes of room left'];
  assert.deepEqual(out.slice(0, 2), [refused, true], 'refused, and nothing copied');
  if (impl === 'wasm') {
    const cannot = ['RangeError', 'ERR_OUT_OF_RANGE', 'cannot allocate 2147483647 bytes'];
    assert.deepEqual(out.slice(2), [cannot, cannot, 'kept!'], 'refused, and the builder kept as it was');
  }
});

test('byte inputs of 2^32 bytes and more: a RangeError or what fits, never a length taken modulo 2^32', () => {
  // In a process of its own: a 4 GiB array (untouched, so it costs address space only).
  const entry = new URL('./impl.mjs', import.meta.url).href;
  const script = `import { BufferMut, BufferPool, Circular, ZeroCopyBuffer, impl } from ${JSON.stringify(entry)};
    const failure = (f) => { try { f(); return 'no error'; } catch (e) { return [e.name, e.code, e.message]; } };
    const huge = new Uint8Array(2 ** 32);
    const out = {};
    const pool = new BufferPool({ budget: 1 << 20, classes: [4096] });
    const pooled = pool.tryAcquire(4096);
    out.pooled = failure(() => pooled.append(huge));
    pooled.append('ok');
    out.pooledAfter = pooled.length;
    pooled.free();
    out.inUse = pool.snapshot().inUseBytes;
    const writer = Circular.withCapacity(4096);
    const reader = writer.addReader();
    out.written = writer.write(huge);
    out.read = reader.readInto(new Uint8Array(2 ** 32));
    if (impl === 'wasm') {
      // The addon copies them (4 GiB each); wasm32's memory cannot hold them.
      out.from = failure(() => ZeroCopyBuffer.from(huge));
      const builder = new BufferMut();
      builder.append('kept');
      out.append = failure(() => builder.append(huge));
      builder.append('!');
      out.builder = new TextDecoder().decode(builder.freeze().bytes());
    }
    console.log(JSON.stringify(out));`;
  const child = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8', timeout: 120_000 });
  assert.equal(child.status, 0, child.stderr);
  const out = JSON.parse(child.stdout);
  const cannot = ['RangeError', 'ERR_OUT_OF_RANGE', 'cannot allocate 4294967296 bytes'];
  const noRoom = ['RangeError', 'ERR_OUT_OF_RANGE', 'cannot write 4294967296 bytes into a pooled buffer with 4096 bytes of room left'];
  assert.deepEqual(out.pooled, impl === 'wasm' ? cannot : noRoom);
  assert.equal(out.pooledAfter, 2, 'the pooled buffer is as it was, and usable');
  assert.equal(out.inUse, 0, 'and free() gave its block back');
  assert.equal(out.written, 4096, 'write() takes what fits');
  assert.equal(out.read, 4096);
  if (impl === 'wasm') {
    assert.deepEqual([out.from, out.append, out.builder], [cannot, cannot, 'kept!']);
  }
});

test('wasm memory full to its end: strings and bytes() are a RangeError or JS memory, never a trap that leaves an object unusable', { skip: impl !== 'wasm' && 'the wasm build only' }, () => {
  // In a process of its own: the wasm build's memory, once grown, stays that size.
  const entry = new URL('./impl.mjs', import.meta.url).href;
  const script = `import { BufferMut, BufferPool, ZeroCopyBuffer } from ${JSON.stringify(entry)};
    const failure = (f) => { try { f(); return 'no error'; } catch (e) { return [e.name, e.code, e.message]; } };
    const big = ZeroCopyBuffer.from(new Uint8Array(64 << 20).fill(7));
    const pool = new BufferPool({ budget: 1 << 30, classes: [16 << 20] });
    const builder = new BufferMut();
    builder.append('kept');
    // Fill wasm memory: 256 MiB pieces, then 1 MiB ones, until it has no room for one.
    const fillers = [];
    for (const size of [256 << 20, 1 << 20]) {
      const piece = new Uint8Array(size);
      for (;;) {
        try { fillers.push(ZeroCopyBuffer.from(piece)); } catch { break; }
      }
    }
    const out = [
      failure(() => builder.append('y'.repeat(64 << 20))),
      failure(() => ZeroCopyBuffer.from('z'.repeat(64 << 20))),
      big.bytes().length,
      big.view().length,
      // A block the budget allows and the memory cannot give: an Error, as in the addon.
      failure(() => pool.tryAcquire(1)),
      await pool.acquire(1).then(() => 'resolved', (e) => [e.name, e.code, e.message]),
      pool.snapshot().inUseBytes,
    ];
    builder.append('!');
    out.push(new TextDecoder().decode(builder.freeze().bytes()));
    for (const filler of fillers) filler.free();
    big.free();
    out.push(ZeroCopyBuffer.from('usable').length, pool.tryAcquire(1).capacity);
    console.log(JSON.stringify(out));`;
  const child = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8', timeout: 120_000 });
  assert.equal(child.status, 0, child.stderr);
  const cannot = ['RangeError', 'ERR_OUT_OF_RANGE', `cannot allocate ${64 << 20} bytes`];
  const noBlock = ['Error', null, `the system allocator could not provide ${16 << 20} bytes`];
  const out = JSON.parse(child.stdout);
  // (JSON has no undefined: a missing code reads as null.)
  assert.deepEqual(out, [cannot, cannot, 64 << 20, 64 << 20, noBlock, noBlock, 0, 'kept!', 6, 16 << 20]);
});

test('addon, memory short: copying a large argument is a RangeError, never an abort of the process', { skip: (impl !== 'addon' && 'the addon only (the wasm build: wasm memory full, above)') || (process.env.OMNIBUF_SANITIZER !== undefined && 'a sanitizer reserves more address space than the limit leaves') }, () => {
  // In a process of its own, limited to 3.5 GB of address space: the 1.5 GiB argument fits, a second
  // copy of it does not.
  const entry = new URL('./impl.mjs', import.meta.url).href;
  const script = `const { BufferMut, VirtualBuffer, ZeroCopyBuffer } = await import(${JSON.stringify(entry)});
    const failure = (f) => { try { f(); return 'no error'; } catch (e) { return [e.name, e.code, e.message]; } };
    const big = new Uint8Array(1.5 * 2 ** 30);
    const builder = new BufferMut();
    builder.append('kept');
    const doc = VirtualBuffer.fromBytes('doc');
    const out = [
      failure(() => ZeroCopyBuffer.from(big)),
      failure(() => builder.append(big)),
      failure(() => VirtualBuffer.fromBytes(big)),
      failure(() => doc.insert(3, big)),
    ];
    builder.append('!');
    out.push(new TextDecoder().decode(builder.freeze().bytes()), doc.length);
    console.log(JSON.stringify(out));`;
  const child = spawnSync('/bin/sh', ['-c', 'ulimit -v 3500000 && exec "$0" --input-type=module -e "$1"', process.execPath, script], { encoding: 'utf8', timeout: 120_000 });
  assert.equal(child.status, 0, `${child.stderr} (signal ${child.signal})`);
  const cannot = ['RangeError', 'ERR_OUT_OF_RANGE', `cannot allocate ${1.5 * 2 ** 30} bytes`];
  assert.deepEqual(JSON.parse(child.stdout), [cannot, cannot, cannot, cannot, 'kept!', 3]);
});

test('wasm memory full to its last bytes: a call that traps leaves the kinds usable once memory is back', { skip: impl !== 'wasm' && 'the wasm build only' }, () => {
  // In a process of its own: the wasm build's memory, once grown, stays that size. The kinds' table
  // is made when the module starts: made on first use instead, a first use that trapped left it half
  // made, and every kind call after trapped too.
  const entry = new URL('./impl.mjs', import.meta.url).href;
  const script = `import { BufferKind, ZeroCopyBuffer } from ${JSON.stringify(entry)};
    const fillers = [];
    for (const size of [256 << 20, 16 << 20, 1 << 20, 1 << 16, 1 << 12, 256, 16, 1]) {
      const piece = new Uint8Array(size);
      for (;;) {
        try { fillers.push(ZeroCopyBuffer.from(piece)); } catch { break; }
      }
    }
    try { BufferKind.names(); } catch {} // may trap: memory is full to its last bytes
    for (const filler of fillers) filler.free();
    console.log(JSON.stringify([BufferKind.has('raw'), ZeroCopyBuffer.from('x', 'jpeg').kind, (BufferKind.register('later'), BufferKind.has('later'))]));`;
  const child = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8', timeout: 120_000 });
  assert.equal(child.status, 0, child.stderr);
  assert.deepEqual(JSON.parse(child.stdout), [true, 'jpeg', true]);
});

test('wasm build that cannot be instantiated (address space limited): the error says so, not that the build is missing', { skip: (impl !== 'wasm' && 'the wasm build only') || (process.env.OMNIBUF_SANITIZER !== undefined && 'a sanitizer reserves more address space than the limit leaves') }, () => {
  const entry = new URL('../wasm-node.mjs', import.meta.url).href;
  const script = `try { await import(${JSON.stringify(entry)}); console.log('loaded'); } catch (e) { console.log(e.message); }`;
  const child = spawnSync('/bin/sh', ['-c', 'ulimit -v 4000000 && exec "$0" --input-type=module -e "$1"', process.execPath, script], { encoding: 'utf8', timeout: 60_000 });
  assert.equal(child.status, 0, child.stderr);
  // Where the limit leaves room for wasm memory after all, it loads: nothing to say then.
  if (child.stdout.trim() !== 'loaded') assert.match(child.stdout, /^omnibuf: the wasm build failed to load: .*(memory|Memory)/);
});
