// Promises of js/index.d.ts about buffers, kinds and pools that no other test held both builds to:
// BufferKind's names and their limits, [Symbol.dispose] as free(), what every member does after
// free() or freeze(), the edges of ZeroCopyBuffer and BufferMut (empty buffers, splits at 0 and at
// the length, defaults), the pool's defaults, idle memory and default quota, and the life of pooled
// buffers once their pool is freed. Each assertion is something index.d.ts says; where it says a
// bound (maxIdle, the 4 cached blocks), the test checks the bound, not what a build keeps today.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { ZeroCopyBuffer, BufferMut, BufferKind, BufferPool, PooledBuffer, __pendingWaits } from './impl.mjs';
import { collect } from './collect.mjs';

const text = (bytes) => new TextDecoder().decode(bytes);
const sha256 = (data) => new Uint8Array(createHash('sha256').update(data).digest());

/** The Error of misuse a freed (or frozen) object gives: an Error, not a TypeError or RangeError. */
const stateError = (cls, state) => (e) => {
  assert.equal(e?.constructor, Error, `${e?.name}: ${e?.message}`);
  assert.equal(e.code, 'ERR_INVALID_STATE', e.message);
  assert.match(e.message, new RegExp(`${cls} was ${state}`));
  return true;
};

// ---- BufferKind -------------------------------------------------------------------------------

// The built-in kinds as index.d.ts lists them, read from it so the test follows the documented order.
const declaredKinds = readFileSync(new URL('../index.d.ts', import.meta.url), 'utf8').match(/built-in \(([^)]*)\)/)[1];
const BUILT_IN = [...declaredKinds.matchAll(/"([^"]+)"/g)].map((m) => m[1]);

test('BufferKind.names() lists the built-in kinds first, in the documented order, registered ones after', () => {
  assert.ok(BUILT_IN.length >= 14 && BUILT_IN[0] === 'raw', `read from index.d.ts: ${BUILT_IN}`);
  assert.deepEqual(BufferKind.names().slice(0, BUILT_IN.length), BUILT_IN);
  const mine = ['promises-kind-a', 'promises-kind-b'];
  for (const name of mine) assert.equal(BufferKind.register(name), name);
  const names = BufferKind.names();
  assert.deepEqual(names.slice(0, BUILT_IN.length), BUILT_IN, 'registering moves no built-in');
  for (const name of mine) assert.ok(names.indexOf(name) >= BUILT_IN.length, `${name} after the built-ins`);
  assert.equal(new Set(names).size, names.length, 'each kind once');
});

test('BufferKind.register counts UTF-8 bytes: 64 are taken, 65 refused', () => {
  // 32 × "é" is 32 characters but 64 bytes; 33 × "é" is 66 bytes. The limit is in bytes, not characters.
  for (const name of ['x'.repeat(64), 'é'.repeat(32), '\u{1F600}'.repeat(16)]) {
    assert.equal(BufferKind.register(name), name);
    assert.ok(BufferKind.has(name));
    assert.equal(ZeroCopyBuffer.from('x', name).kind, name, 'and it can be used');
  }
  for (const name of ['x'.repeat(65), 'é'.repeat(33), '\u{1F600}'.repeat(17)]) {
    assert.throws(() => BufferKind.register(name), { name: 'TypeError', code: 'ERR_INVALID_ARG_VALUE' }, `${Buffer.byteLength(name)} bytes`);
    assert.ok(!BufferKind.has(name), 'a refused name is not registered');
  }
});

test('BufferKind.register refuses whitespace and control characters anywhere in a name', () => {
  // Not only ASCII space: tab, line feed, no-break space, line separator, and NUL (a control character).
  for (const bad of ['\t', '\n', '\u00a0', '\u2028', '\u0000']) {
    for (const name of [`a${bad}b`, `${bad}ab`, `ab${bad}`]) {
      assert.throws(() => BufferKind.register(name), { name: 'TypeError', code: 'ERR_INVALID_ARG_VALUE' }, JSON.stringify(name));
      assert.ok(!BufferKind.has(name), JSON.stringify(name));
    }
  }
});

test('re-registering a built-in kind returns its name and adds nothing', () => {
  const before = BufferKind.names();
  for (const name of BUILT_IN) assert.equal(BufferKind.register(name), name);
  assert.deepEqual(BufferKind.names(), before);
});

// ---- [Symbol.dispose] is free() ---------------------------------------------------------------

test('[Symbol.dispose] frees a ZeroCopyBuffer, BufferMut and PooledBuffer as free() does', () => {
  const b = ZeroCopyBuffer.from('abc');
  const s = b.slice(1);
  assert.equal(b.sharers, 2);
  s[Symbol.dispose]();
  assert.equal(b.sharers, 1, 'the disposed sharer no longer counts');
  assert.throws(() => s.length, stateError('ZeroCopyBuffer', 'freed'));
  assert.equal(text(b.bytes()), 'abc', 'the other sharer is whole');
  b.free();

  const m = new BufferMut(4);
  m.append('ab');
  m[Symbol.dispose]();
  assert.throws(() => m.length, stateError('BufferMut', 'freed'));

  const pool = new BufferPool({ budget: 8192, classes: [4096] });
  const p = pool.tryAcquire(1);
  assert.equal(pool.snapshot().inUseBytes, 4096);
  p[Symbol.dispose]();
  assert.equal(pool.snapshot().inUseBytes, 0, 'the memory went back to the pool');
  assert.throws(() => p.length, stateError('PooledBuffer', 'freed'));
  pool.free();
});

test('disposing a BufferPool rejects its pending acquire()s with the Error free() gives them', async () => {
  const pending = async (release) => {
    const pool = new BufferPool({ budget: 4096, classes: [4096] });
    const held = pool.tryAcquire(1);
    const waiting = pool.acquire(1);
    release(pool);
    const error = await waiting.then(
      () => assert.fail('resolved'),
      (e) => e,
    );
    assert.throws(() => pool.budget, stateError('BufferPool', 'freed'));
    held.append('still mine'); // a buffer already out stays valid
    held.free();
    return error;
  };
  const disposed = await pending((pool) => pool[Symbol.dispose]());
  const freed = await pending((pool) => pool.free());
  assert.ok(stateError('BufferPool', 'freed')(disposed));
  assert.match(disposed.message, /^this BufferPool was freed/);
  assert.deepEqual([disposed.constructor, disposed.code, disposed.message], [freed.constructor, freed.code, freed.message]);
  assert.equal(__pendingWaits(), 0, 'nothing left waiting');
});

test('BufferKind has [Symbol.dispose] beside free(), and both check their receiver', () => {
  // BufferKind has no instances to free (register() returns a name), so what is left to check is
  // that the member exists and is a member of the class like free().
  assert.equal(typeof BufferKind.prototype.free, 'function');
  assert.equal(typeof BufferKind.prototype[Symbol.dispose], 'function');
  for (const member of [BufferKind.prototype.free, BufferKind.prototype[Symbol.dispose]]) {
    assert.throws(() => member.call({}), { name: 'TypeError', code: 'ERR_INVALID_THIS' });
  }
});

// ---- After free() and freeze() -----------------------------------------------------------------

// Arguments a live object would take, so that only the state can be wrong.
const GOOD_ARGS = {
  withTenant: ['t'],
  retag: ['raw'],
  slice: [0],
  splitTo: [0],
  splitOff: [0],
  equals: [ZeroCopyBuffer.from('a')],
  append: ['x'],
  freeze: [],
  tryAcquire: [1],
  acquire: [1],
};

// The members index.d.ts declares: the prototype must have at least these (so the enumeration below
// cannot silently test nothing), and may have more.
const DECLARED = {
  ZeroCopyBuffer: ['length', 'kind', 'tenant', 'sharers', 'withTenant', 'retag', 'slice', 'splitTo', 'splitOff', 'sha256', 'equals', 'view', 'bytes'],
  BufferMut: ['length', 'capacity', 'append', 'freeze'],
  BufferPool: ['budget', 'classes', 'tryAcquire', 'acquire', 'snapshot', 'trim'],
  PooledBuffer: ['length', 'capacity', 'tenant', 'append', 'view', 'freeze'],
};

/** The prototype's members other than free() and [Symbol.dispose] (and the builds' __ internals),
 * each as a function to call on an object. */
function members(proto) {
  return Reflect.ownKeys(proto)
    .filter((key) => key !== 'constructor' && key !== 'free' && key !== Symbol.dispose && !(typeof key === 'string' && key.startsWith('__')))
    .map((key) => {
      const d = Object.getOwnPropertyDescriptor(proto, key);
      return [String(key), d.get ?? d.value];
    });
}

const pool = new BufferPool({ budget: 1 << 20, classes: [4096] });
const STATES = [
  // [class, state, make one to put in that state, what]; a ZeroCopyBuffer from() of a few bytes and
  // one of many, since the addon keeps small ones in JS until a member needs them natively.
  [ZeroCopyBuffer, 'freed', () => ZeroCopyBuffer.from('abc'), 'small'],
  [ZeroCopyBuffer, 'freed', () => ZeroCopyBuffer.from(new Uint8Array(9000)), 'large'],
  [BufferMut, 'freed', () => new BufferMut(4)],
  [BufferMut, 'frozen', () => new BufferMut(4)],
  [BufferPool, 'freed', () => new BufferPool({ budget: 8192, classes: [4096] })],
  [PooledBuffer, 'freed', () => pool.tryAcquire(1)],
  [PooledBuffer, 'frozen', () => pool.tryAcquire(1)],
];

for (const [cls, state, make, what] of STATES) {
  const which = what ? `${state} ${what} ${cls.name}` : `${state} ${cls.name}`;
  test(`every member of a ${which} throws ERR_INVALID_STATE; free() and dispose then do nothing`, async () => {
    const list = members(cls.prototype);
    const names = list.map(([name]) => name);
    for (const name of DECLARED[cls.name]) assert.ok(names.includes(name), `${cls.name}.${name} is enumerated`);
    const kept = [];
    const prepare = () => {
      const o = make();
      if (state === 'frozen') kept.push(o.freeze());
      else o.free();
      return o;
    };
    for (const [name, fn] of list) {
      // A member returning a Promise (acquire()) may reject instead of throwing: both are accepted.
      await assert.rejects(async () => fn.apply(prepare(), GOOD_ARGS[name] ?? []), stateError(cls.name, state), `${cls.name}.${name}`);
    }
    const o = prepare();
    assert.equal(o.free(), undefined);
    assert.equal(o.free(), undefined, 'free() twice does nothing');
    assert.equal(o[Symbol.dispose](), undefined, 'nor does dispose after it');
    const getter = DECLARED[cls.name][0]; // length or budget
    assert.throws(() => o[getter], stateError(cls.name, 'freed'), 'and the object says it was freed');
    // What a freeze made outlives the builder's free().
    for (const frozen of kept) {
      assert.equal(frozen.length, 0);
      frozen.free();
    }
  });
}

test('free() of a frozen PooledBuffer leaves the frozen buffer and its memory alone', () => {
  const p = new BufferPool({ budget: 4096, classes: [4096] });
  const b = p.tryAcquire(1);
  b.append('z');
  const frozen = b.freeze();
  b.free();
  b[Symbol.dispose]();
  assert.equal(p.snapshot().inUseBytes, 4096, 'the frozen buffer still holds the memory');
  assert.equal(text(frozen.bytes()), 'z');
  frozen[Symbol.dispose]();
  assert.equal(p.snapshot().inUseBytes, 0);
  p.free();
});

// ---- ZeroCopyBuffer edges ----------------------------------------------------------------------

test('ZeroCopyBuffer.from: kind defaults to "raw", "text" for a string; undefined and null are the default', () => {
  assert.equal(ZeroCopyBuffer.from(new Uint8Array([1])).kind, 'raw');
  assert.equal(ZeroCopyBuffer.from(new ArrayBuffer(1)).kind, 'raw');
  assert.equal(ZeroCopyBuffer.from('x').kind, 'text');
  assert.equal(ZeroCopyBuffer.from('').kind, 'text', 'an empty string too');
  assert.equal(ZeroCopyBuffer.from(new Uint8Array([1]), undefined).kind, 'raw');
  assert.equal(ZeroCopyBuffer.from('x', undefined).kind, 'text');
  // An optional argument given as null is left out, as the suite holds elsewhere (slice(0, null),
  // tryAcquire(1, null)).
  assert.equal(ZeroCopyBuffer.from(new Uint8Array([1]), null).kind, 'raw');
  assert.equal(ZeroCopyBuffer.from('x', null).kind, 'text');
  assert.equal(ZeroCopyBuffer.from('x', 'json').kind, 'json', 'a kind given wins over the string default');
});

test('splitTo and splitOff at 0 and at the length give an empty or a whole buffer, keeping kind and tenant', () => {
  const make = () => ZeroCopyBuffer.from('0123456789', 'json').withTenant('ten');
  const same = (b) => [b.kind, b.tenant];
  const cases = [
    // [split, at, returned bytes, bytes kept]
    ['splitTo', 0, '', '0123456789'],
    ['splitTo', 10, '0123456789', ''],
    ['splitOff', 0, '0123456789', ''],
    ['splitOff', 10, '', '0123456789'],
  ];
  for (const [split, at, returned, keeps] of cases) {
    const b = make();
    const r = b[split](at);
    assert.deepEqual([text(r.bytes()), r.length], [returned, returned.length], `${split}(${at}) returns`);
    assert.deepEqual([text(b.bytes()), b.length], [keeps, keeps.length], `${split}(${at}) keeps`);
    assert.deepEqual(same(r), ['json', 'ten']);
    assert.deepEqual(same(b), ['json', 'ten']);
    r.free();
    b.free();
  }
});

test('sha256 of an empty buffer is the SHA-256 of no bytes', () => {
  const expected = sha256('');
  assert.deepEqual(ZeroCopyBuffer.from('').sha256(), expected);
  assert.deepEqual(ZeroCopyBuffer.from(new Uint8Array(0), 'png').sha256(), expected);
  assert.deepEqual(ZeroCopyBuffer.from('abc').slice(3).sha256(), expected, 'an empty slice at the end');
});

test('equals compares bytes only: kind and tenant do not count, empty equals empty, a prefix is not equal', () => {
  assert.ok(ZeroCopyBuffer.from('ab', 'png').withTenant('x').equals(ZeroCopyBuffer.from('ab')));
  assert.ok(ZeroCopyBuffer.from('ab').withTenant('x').equals(ZeroCopyBuffer.from('ab').withTenant('y')));
  assert.ok(ZeroCopyBuffer.from('').equals(ZeroCopyBuffer.from(new Uint8Array(0), 'jpeg')));
  const ab = ZeroCopyBuffer.from('ab');
  const abc = ZeroCopyBuffer.from('abc');
  assert.equal(ab.equals(abc), false);
  assert.equal(abc.equals(ab), false);
  assert.equal(ZeroCopyBuffer.from('').equals(ab), false);
  assert.ok(ab.equals(ab), 'a buffer equals itself');
});

test('bytes() and sha256() are copies: they outlive free() and a garbage collection, and writing them changes nothing', async () => {
  // A few bytes and many: the addon keeps small buffers in JS until a member needs them natively.
  for (const content of ['keep-me', 'k'.repeat(9000)]) {
    const b = ZeroCopyBuffer.from(content);
    const bytes = b.bytes();
    const hash = b.sha256();
    const written = b.bytes();
    written[0] = 0x49; // 'I'
    assert.equal(text(b.bytes()), content, 'a write into bytes() does not reach the buffer');
    assert.equal(text(b.view()), content);
    assert.deepEqual(b.sha256(), sha256(content));
    b.free();
    await collect(3);
    assert.equal(text(bytes), content);
    assert.deepEqual(hash, sha256(content));
    assert.equal(written[0], 0x49, 'and the copy keeps what was written into it');
  }
});

// ---- BufferMut edges ---------------------------------------------------------------------------

test('new BufferMut() defaults to capacity 0 and kind "raw"; undefined and null are the defaults', () => {
  const zero = new BufferMut(0).capacity;
  const plain = new BufferMut();
  assert.deepEqual([plain.length, plain.capacity], [0, zero]);
  assert.equal(plain.freeze().kind, 'raw');
  for (const [capacity, kind] of [[undefined, undefined], [null, undefined], [0, null], [null, null]]) {
    const m = new BufferMut(capacity, kind);
    assert.deepEqual([m.length, m.capacity], [0, zero], `new BufferMut(${capacity}, ${kind})`);
    assert.equal(m.freeze().kind, 'raw', `new BufferMut(${capacity}, ${kind})`);
  }
  assert.equal(new BufferMut(undefined, 'json').freeze().kind, 'json', 'a kind with the default capacity');
});

test('a BufferMut grows past its capacity', () => {
  const m = new BufferMut(2, 'text');
  m.append(new Uint8Array([1, 2, 3, 4, 5]));
  m.append('é');
  m.append(new Uint8Array(1000).fill(7));
  assert.equal(m.length, 1007);
  assert.ok(m.capacity >= m.length, `capacity ${m.capacity}`);
  const f = m.freeze();
  const bytes = f.bytes();
  assert.deepEqual([...bytes.subarray(0, 8)], [1, 2, 3, 4, 5, 0xc3, 0xa9, 7]);
  assert.ok(bytes.subarray(7).every((x) => x === 7));
  assert.equal(f.kind, 'text');
  f.free();
});

test("append('') and an empty array change nothing; freezing an empty builder gives an empty buffer", () => {
  const m = new BufferMut(0);
  m.append('');
  m.append(new Uint8Array(0));
  m.append(new ArrayBuffer(0));
  assert.equal(m.length, 0);
  m.append('ab');
  m.append('');
  assert.equal(m.length, 2);
  assert.equal(text(m.freeze().bytes()), 'ab');
  for (const capacity of [0, 8]) {
    const empty = new BufferMut(capacity).freeze();
    assert.equal(empty.length, 0, `capacity ${capacity}`);
    assert.deepEqual([...empty.bytes()], []);
    assert.deepEqual([...empty.view()], []);
    assert.ok(empty.equals(ZeroCopyBuffer.from('')));
    empty.free();
  }
});

// ---- BufferPool --------------------------------------------------------------------------------

test('a pool without classes has the documented ones, and classes reads back a copy', () => {
  const p = new BufferPool({ budget: 1 << 22 });
  assert.deepEqual(p.classes, [4096, 16384, 65536, 262144, 1048576]);
  const classes = p.classes;
  classes.push(7);
  classes[0] = 1;
  assert.deepEqual(p.classes, [4096, 16384, 65536, 262144, 1048576], 'changing the array changes no pool');
  assert.notEqual(p.classes, p.classes, 'a new array each time');
  assert.equal(p.tryAcquire(5000).capacity, 16384, 'and they are the classes it serves');
  p.free();
});

test('idle memory stays under maxIdle (budget / 4 by default); trim() gives back idle and cached bytes', () => {
  const budget = 64 * 4096;
  for (const maxIdle of [undefined, 8192, 0]) {
    const p = new BufferPool({ budget, classes: [4096], ...(maxIdle === undefined ? {} : { maxIdle }) });
    const bufs = [];
    for (let i = 0; i < 64; i++) bufs.push(p.tryAcquire(1));
    assert.equal(p.tryAcquire(1), null, 'the budget is full');
    for (const b of bufs) b.free();
    const s = p.snapshot();
    assert.equal(s.inUseBytes, 0);
    assert.ok(s.idleBytes <= (maxIdle ?? budget / 4), `maxIdle ${maxIdle}: ${s.idleBytes} idle`);
    // Besides the idle bytes, this thread keeps up to 4 blocks of each class.
    assert.ok(s.cachedBytes <= 4 * 4096, `${s.cachedBytes} cached`);
    assert.equal(p.trim(), s.idleBytes + s.cachedBytes, 'trim() returns both');
    const after = p.snapshot();
    assert.deepEqual([after.idleBytes, after.cachedBytes], [0, 0]);
    assert.equal(p.trim(), 0, 'nothing is left to give back');
    p.free();
  }
});

test('defaultTenantQuota holds tenants without a quota of their own, and requests without a tenant not at all', async () => {
  const p = new BufferPool({ budget: 1 << 20, classes: [4096, 16384], defaultTenantQuota: 8192 });
  const a = p.tryAcquire(4096, 'other');
  const b = p.tryAcquire(4096, 'other');
  assert.ok(a && b);
  assert.equal(p.tryAcquire(1, 'other'), null, "the tenant's quota is full");
  assert.throws(() => p.tryAcquire(16384, 'other'), { name: 'RangeError', code: 'ERR_OUT_OF_RANGE' }, 'more than the quota can ever hold');
  await assert.rejects(p.acquire(16384, 'other'), { name: 'RangeError', code: 'ERR_OUT_OF_RANGE' });
  assert.throws(() => p.tryAcquire(16384, 'another'), RangeError, 'every tenant without a quota gets the default');
  // Without a tenant, no quota: past 8192 bytes, and a 16 KiB class.
  const untenanted = [p.tryAcquire(4096), p.tryAcquire(4096), p.tryAcquire(4096), p.tryAcquire(16384)];
  assert.ok(untenanted.every((x) => x !== null && x.tenant === undefined));
  for (const x of [a, b, ...untenanted]) x.free();
  assert.notEqual(p.tryAcquire(1, 'other'), null, 'the quota frees with the buffers');
  p.free();
});

test("a PooledBuffer takes bytes exactly up to its capacity; a string whose bytes cross the end is refused whole", () => {
  const p = new BufferPool({ budget: 1 << 16, classes: [16] });
  const b = p.tryAcquire(16);
  assert.equal(b.capacity, 16);
  b.append('x'.repeat(15));
  // "é" is 2 bytes with 1 left: nothing of it is written, not even its first byte.
  assert.throws(() => b.append('é'), { name: 'RangeError', code: 'ERR_OUT_OF_RANGE' });
  assert.equal(b.length, 15);
  assert.throws(() => b.append(new Uint32Array([0x01020304])), { name: 'RangeError', code: 'ERR_OUT_OF_RANGE' });
  assert.equal(b.length, 15);
  b.append('y');
  assert.equal(b.length, b.capacity, 'full to the last byte');
  b.append(''); // nothing fits, and nothing is asked
  assert.throws(() => b.append('z'), { name: 'RangeError', code: 'ERR_OUT_OF_RANGE' });
  assert.equal(text(b.freeze().bytes()), `${'x'.repeat(15)}y`);

  const whole = p.tryAcquire(16);
  whole.append(new Uint8Array(16).fill(1));
  assert.equal(whole.length, 16, 'one append of exactly the capacity');
  whole.free();
  p.free();
});

test('tryAcquire(0) gives an empty buffer of the smallest class', () => {
  const p = new BufferPool({ budget: 1 << 16, classes: [16, 64] });
  const b = p.tryAcquire(0);
  assert.deepEqual([b.length, b.capacity], [0, 16]);
  b.append(new Uint8Array(16));
  assert.equal(b.length, 16);
  b.free();
  p.free();
});

// ---- Buffers out when their pool is freed ------------------------------------------------------

test('after pool.free(), buffers already out append, view and freeze, and what they freeze reads right', async () => {
  // The pool is freed and dropped (and collected, where the collector gets to it) with buffers out.
  const [plain, tenanted, frozenBefore] = (() => {
    const p = new BufferPool({ budget: 16384, classes: [4096] });
    const a = p.tryAcquire(10);
    const t = p.tryAcquire(10, 'ten');
    const f = p.tryAcquire(10);
    a.append('abc');
    f.append('frozen-before');
    const frozen = f.freeze('text');
    p.free();
    return [a, t, frozen];
  })();
  await collect(3);
  plain.append('def');
  assert.deepEqual([plain.length, plain.capacity, plain.tenant], [6, 4096, undefined]);
  assert.equal(text(plain.view()), 'abcdef');
  tenanted.append('ten!');
  assert.equal(tenanted.tenant, 'ten');
  const f = plain.freeze('json');
  const g = tenanted.freeze();
  assert.deepEqual([text(f.bytes()), f.kind], ['abcdef', 'json']);
  assert.deepEqual([text(g.bytes()), g.tenant], ['ten!', 'ten']);
  const slices = [f.slice(1), f.slice(2, 4), f.splitOff(3), g.slice(3)];
  await collect(3);
  assert.deepEqual(slices.map((s) => text(s.bytes())), ['bcdef', 'cd', 'def', '!']);
  assert.equal(text(f.bytes()), 'abc', 'splitOff kept the head');
  assert.ok(slices[0].equals(ZeroCopyBuffer.from('bcdef')));
  assert.deepEqual(slices[1].sha256(), sha256('cd'));
  assert.equal(text(frozenBefore.slice(7).bytes()), 'before');
  for (const x of [f, g, frozenBefore, ...slices]) x.free();
});
