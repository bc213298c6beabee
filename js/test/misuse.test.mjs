// The same misuse gives the same error class and message in both builds. Each row of the table is a
// misuse and the exact error it must give (whether thrown, or a rejected Promise for the members that
// return one); the suite runs against each build (OMNIBUF_IMPL), so the two agree with each other by
// agreeing with the table. The texts come from the binding core's one table (src/binding/message.rs)
// and the core's own errors. After each misuse the objects involved must still work. Every error also
// carries the Node-style `code` of its kind (expectedCode).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import {
  entry,
  impl,
  ZeroCopyBuffer,
  BufferMut,
  BufferKind,
  BufferPool,
  PooledBuffer,
  Circular,
  CircularWriter,
  CircularReader,
  VirtualBuffer,
} from './impl.mjs';

const MAX = 9007199254740991;
const getter = (cls, name) => Object.getOwnPropertyDescriptor(cls.prototype, name).get;
const zcb = () => ZeroCopyBuffer.from('abc');
const pool = () => new BufferPool({ budget: 4096, classes: [16, 4096] });
const writer = () => Circular.withCapacity(64);
const vb = () => VirtualBuffer.fromBytes('one\ntwo\n');

/** An ArrayBuffer that was transferred away (detached): length 0 from then on. */
function detached() {
  const buffer = new ArrayBuffer(8);
  structuredClone(buffer, { transfer: [buffer] });
  return buffer;
}

/** A reader of a ring into which `bytes` were written. */
const readerWith = (bytes) => {
  const w = writer();
  const r = w.addReader();
  w.write(bytes);
  return r;
};

/** A bare SharedArrayBuffer of `length` bytes of "two\n". */
const shared = (length = 4) => {
  const buffer = new SharedArrayBuffer(length);
  new Uint8Array(buffer).set(new TextEncoder().encode('two\n').subarray(0, length));
  return buffer;
};

const freed = (make) => {
  const o = make();
  o.free();
  return o;
};

/** The Error of a freed object of `cls`. */
const freedError = (cls) => `this ${cls} was freed and cannot be used any more`;
const pooled = () => pool().tryAcquire(16);
const reader = () => writer().addReader();

const LONE = 'must be well-formed Unicode, got a string with a lone surrogate';

// [what, misuse, class, message]; a message is an exact string.
const TABLE = [
  // Private constructors (observation 6).
  ['new ZeroCopyBuffer()', () => new ZeroCopyBuffer(), TypeError, 'ZeroCopyBuffer has no public constructor: use ZeroCopyBuffer.from()'],
  ['new PooledBuffer()', () => new PooledBuffer(), TypeError, 'PooledBuffer has no public constructor: use BufferPool.tryAcquire() or acquire()'],
  ['new BufferKind()', () => new BufferKind(), TypeError, 'BufferKind has no public constructor: use BufferKind.register()'],
  ['new Circular()', () => new Circular(), TypeError, 'Circular has no public constructor: use Circular.withCapacity()'],
  ['new CircularWriter()', () => new CircularWriter(), TypeError, 'CircularWriter has no public constructor: use Circular.withCapacity()'],
  ['new CircularReader()', () => new CircularReader(), TypeError, 'CircularReader has no public constructor: use CircularWriter.addReader()'],
  ['new VirtualBuffer()', () => new VirtualBuffer(), TypeError, 'VirtualBuffer has no public constructor: use VirtualBuffer.open(), VirtualBuffer.fromBytes() or VirtualBuffer.import()'],
  // No coercion (observation 6).
  ["slice('1')", () => zcb().slice('1'), TypeError, 'start must be an integer, got a string'],
  ['slice(0, null)', () => zcb().slice(0, null).length, null, 3],
  ['slice(true)', () => zcb().slice(true), TypeError, 'start must be an integer, got a boolean'],
  ['tryAcquire(null)', () => pool().tryAcquire(null), TypeError, 'size must be an integer, got null'],
  ["tryAcquire('16')", () => pool().tryAcquire('16'), TypeError, 'size must be an integer, got a string'],
  ['tryAcquire(16n)', () => pool().tryAcquire(16n), TypeError, 'size must be an integer, got a bigint'],
  ['produce(true)', () => writer().produce(true), TypeError, 'n must be an integer, got a boolean'],
  ["consume('0')", () => writer().addReader().consume('0'), TypeError, 'n must be an integer, got a string'],
  ["withCapacity('64')", () => Circular.withCapacity('64'), TypeError, 'capacity must be an integer, got a string'],
  ["new BufferMut('8')", () => new BufferMut('8'), TypeError, 'capacity must be an integer, got a string'],
  ['new BufferMut(Symbol())', () => new BufferMut(Symbol('s')), TypeError, 'capacity must be an integer, got a symbol'],
  ["splitTo({})", () => zcb().splitTo({}), TypeError, 'at must be an integer, got an object'],
  // Every argument's type before any range: a number past wasm32's memory (2^32, which the wasm build
  // refuses and the addon may take) does not hide a later argument's wrong type.
  ["slice(2 ** 32, 'x')", () => zcb().slice(2 ** 32, 'x'), TypeError, 'end must be an integer, got a string'],
  ['tryAcquire(2 ** 32, 5)', () => pool().tryAcquire(2 ** 32, 5), TypeError, 'tenant must be a string, got 5'],
  ['acquire(2 ** 32, 5)', () => pool().acquire(2 ** 32, 5), TypeError, 'tenant must be a string, got 5', 'reject'],
  ['new BufferMut(2 ** 32, 5)', () => new BufferMut(2 ** 32, 5), TypeError, 'kind must be a string, got 5'],
  ["new BufferMut(2 ** 32, 'nope')", () => new BufferMut(2 ** 32, 'nope'), TypeError, 'unknown buffer kind "nope": register it first with BufferKind.register'],
  ['withCapacity(2 ** 32, 5)', () => Circular.withCapacity(2 ** 32, 5), TypeError, "options must be an object, e.g. { backend: 'mirror-copy' }, got 5"],
  ["classes [2 ** 32, 'x']", () => new BufferPool({ budget: 2 ** 33, classes: [2 ** 32, 'x'] }), TypeError, 'options.classes must hold numbers, got a string'],
  ["classes [2 ** 32], maxIdle 'x'", () => new BufferPool({ budget: 2 ** 33, classes: [2 ** 32], maxIdle: 'x' }), TypeError, 'options.maxIdle must be a number, got a string'],
  // A number past wasm32's memory is refused in the words the addon uses for it (the limit it meets).
  ['slice(2 ** 32)', () => zcb().slice(2 ** 32), RangeError, 'range 4294967296..3 is out of bounds for a buffer of 3 bytes'],
  ['slice(0, 2 ** 32 + 1)', () => zcb().slice(0, 2 ** 32 + 1), RangeError, 'range 0..4294967297 is out of bounds for a buffer of 3 bytes'],
  ['splitTo(2 ** 32)', () => zcb().splitTo(2 ** 32), RangeError, 'range 0..4294967296 is out of bounds for a buffer of 3 bytes'],
  ['splitOff(2 ** 40)', () => zcb().splitOff(2 ** 40), RangeError, 'range 1099511627776..3 is out of bounds for a buffer of 3 bytes'],
  ['tryAcquire(2 ** 32)', () => pool().tryAcquire(2 ** 32), RangeError, 'no size class holds 4294967296 bytes (the largest class is 4096 bytes)'],
  ["acquire(2 ** 32, 't')", () => pool().acquire(2 ** 32, 't'), RangeError, 'no size class holds 4294967296 bytes (the largest class is 4096 bytes)', 'reject'],
  ['produce(2 ** 32)', () => Circular.withCapacity(64, { backend: 'mirror-copy' }).produce(2 ** 32), RangeError, 'cannot produce 4294967296 bytes: only 64 are free'],
  ['consume(2 ** 32 + 1)', () => readerWith('ab').consume(2 ** 32 + 1), RangeError, 'cannot consume 4294967297 bytes: only 2 are available'],
  ['withCapacity(2 ** 52)', () => Circular.withCapacity(2 ** 52), RangeError, 'a ring of 4503599627370496 × 1-byte items is too large'],
  ['classes [2 ** 32], tenantQuotas 5', () => new BufferPool({ budget: 2 ** 33, classes: [2 ** 32], tenantQuotas: 5 }), TypeError, 'options.tenantQuotas must be an object of { tenant: bytes }, got 5'],
  ["insert('1', 'x')", () => vb().insert('1', 'x'), TypeError, 'offset must be an integer, got a string'],
  ['delete(0)', () => vb().delete(0), TypeError, 'end must be an integer, got undefined'],
  // Numbers: NaN, Infinity, fractions, negative, huge (observation 8: Infinity, not inf).
  ['slice(NaN)', () => zcb().slice(NaN), TypeError, 'start must be an integer, got NaN'],
  ['slice(Infinity)', () => zcb().slice(Infinity), TypeError, 'start must be an integer, got Infinity'],
  ['slice(-Infinity)', () => zcb().slice(-Infinity), TypeError, 'start must be an integer, got -Infinity'],
  ['slice(1.5)', () => zcb().slice(1.5), TypeError, 'start must be an integer, got 1.5'],
  ['slice(-1)', () => zcb().slice(-1), RangeError, `start must be between 0 and ${MAX}, got -1`],
  ['slice(2 ** 53)', () => zcb().slice(2 ** 53), RangeError, `start must be between 0 and ${MAX}, got 9007199254740992`],
  ['slice(1e21)', () => zcb().slice(1e21), RangeError, `start must be between 0 and ${MAX}, got 1e+21`],
  ['slice(2, 7)', () => zcb().slice(2, 7), RangeError, 'range 2..7 is out of bounds for a buffer of 3 bytes'],
  ['splitOff(4)', () => zcb().splitOff(4), RangeError, 'range 4..3 is out of bounds for a buffer of 3 bytes'],
  ['slice(2, 1)', () => zcb().slice(2, 1), RangeError, 'range 2..1 ends before it starts (a buffer of 3 bytes)'],
  ['produce(-0.5)', () => writer().produce(-0.5), TypeError, 'n must be an integer, got -0.5'],
  ['consume(1)', () => writer().addReader().consume(1), RangeError, 'cannot consume 1 byte: only 0 are available'],
  // Offsets past 4 GiB are offsets, not "between 0 and 4294967295" (observation 7).
  ['insert(2 ** 32 + 1)', () => vb().insert(2 ** 32 + 1, 'x'), RangeError, 'offset 4294967297 is past the end of the buffer (length 8)'],
  ['delete(2 ** 40, 2 ** 40 + 1)', () => vb().delete(2 ** 40, 2 ** 40 + 1), RangeError, 'range 1099511627776..1099511627777 is outside the buffer (length 8)'],
  ['delete(5, 2)', () => vb().delete(5, 2), RangeError, 'range 5..2 ends before it starts (length 8)'],
  ['read(5, 2)', () => vb().read(5, 2), RangeError, 'range 5..2 ends before it starts (length 8)', 'reject'],
  ['read(2 ** 32, 2 ** 32 + 4096)', () => vb().read(2 ** 32, 2 ** 32 + 4096), RangeError, 'range 4294967296..4294971392 is outside the buffer (length 8)', 'reject'],
  ["read('0')", () => vb().read('0'), TypeError, 'start must be an integer, got a string', 'reject'],
  ['lineToOffset(-1)', () => vb().lineToOffset(-1), RangeError, `line must be between 0 and ${MAX}, got -1`, 'reject'],
  // Wrong types.
  ['ZeroCopyBuffer.from(42)', () => ZeroCopyBuffer.from(42), TypeError, 'bytes must be a string, an ArrayBuffer, a SharedArrayBuffer, a typed array or a DataView, got 42'],
  ['append(new Proxy(new Uint8Array(2), {}))', () => new BufferMut(4).append(new Proxy(new Uint8Array(2), {})), TypeError, 'bytes must be a string, an ArrayBuffer, a SharedArrayBuffer, a typed array or a DataView, got an object'],
  ["read('1')", () => writer().addReader().read('1'), TypeError, 'max must be an integer, got a string'],
  ['read(-1)', () => writer().addReader().read(-1), RangeError, `max must be between 0 and ${MAX}, got -1`],
  ["readInto('abc')", () => writer().addReader().readInto('abc'), TypeError, 'target must be an ArrayBuffer, a SharedArrayBuffer, a typed array or a DataView, got a string'],
  ['readInto(new Proxy(new Uint8Array(2), {}))', () => writer().addReader().readInto(new Proxy(new Uint8Array(2), {})), TypeError, 'target must be an ArrayBuffer, a SharedArrayBuffer, a typed array or a DataView, got an object'],
  ['withTenant(5)', () => zcb().withTenant(5), TypeError, 'tenant must be a string, got 5'],
  ['tryAcquire(1, 5)', () => pool().tryAcquire(1, 5), TypeError, 'tenant must be a string, got 5'],
  ['BufferKind.register(5)', () => BufferKind.register(5), TypeError, 'name must be a string, got 5'],
  // Names and paths with a lone surrogate, which UTF-8 cannot hold: as U+FFFD they would name
  // something else (two tenants counted as one, a file saved under another name).
  ["withTenant('t\\uD800')", () => zcb().withTenant('t\uD800'), TypeError, `tenant ${LONE}`],
  ["tryAcquire(1, '\\uDC00t')", () => pool().tryAcquire(1, '\uDC00t'), TypeError, `tenant ${LONE}`],
  ["acquire(1, 't\\uD800')", () => pool().acquire(1, 't\uD800'), TypeError, `tenant ${LONE}`, 'reject'],
  ["new BufferPool({ tenantQuotas: { 't\\uD800': 8 } })", () => new BufferPool({ budget: 64, tenantQuotas: { 't\uD800': 8 } }), TypeError, `tenant ${LONE}`],
  ["BufferKind.register('k\\uD800')", () => BufferKind.register('k\uD800'), TypeError, `name ${LONE}`],
  ["new BufferMut(1, 'k\\uD800')", () => new BufferMut(1, 'k\uD800'), TypeError, `kind ${LONE}`],
  ["VirtualBuffer.open('x\\uD800')", () => VirtualBuffer.open('x\uD800'), TypeError, `path ${LONE}`, 'reject'],
  ["saveAs('x\\uDC00')", () => vb().saveAs('x\uDC00'), TypeError, `path ${LONE}`, 'reject'],
  ["new BufferMut(1, 'nope')", () => new BufferMut(1, 'nope'), TypeError, 'unknown buffer kind "nope": register it first with BufferKind.register'],
  ["new BufferPool({ budget: '1' })", () => new BufferPool({ budget: '1' }), TypeError, 'options.budget must be a number, got a string'],
  ['new BufferPool(5)', () => new BufferPool(5), TypeError, 'BufferPool needs an options object, e.g. { budget: 1 << 20 }, got 5'],
  ['new BufferPool(null)', () => new BufferPool(null), TypeError, 'BufferPool needs an options object, e.g. { budget: 1 << 20 }, got null'],
  ['new BufferPool({})', () => new BufferPool({}), TypeError, 'options.budget is required'],
  ["new BufferPool({ classes: '16' })", () => new BufferPool({ budget: 64, classes: '16' }), TypeError, 'options.classes must be an array of sizes, got a string'],
  ["new BufferPool({ classes: [16, '32'] })", () => new BufferPool({ budget: 64, classes: [16, '32'] }), TypeError, 'options.classes must hold numbers, got a string'],
  ['new BufferPool({ tenantQuotas: 5 })', () => new BufferPool({ budget: 64, tenantQuotas: 5 }), TypeError, 'options.tenantQuotas must be an object of { tenant: bytes }, got 5'],
  ['new BufferPool({ tenantQuotas: () => {} })', () => new BufferPool({ budget: 64, tenantQuotas: () => {} }), TypeError, 'options.tenantQuotas must be an object of { tenant: bytes }, got a function'],
  ['new BufferPool({ tenantQuotas: { get t() { throw } } })', () => new BufferPool({ budget: 64, tenantQuotas: { get t() { throw new Error('no'); } } }), TypeError, 'options.tenantQuotas cannot be read'],
  ['new BufferPool({ tenantQuotas: { t: null } })', () => new BufferPool({ budget: 64, tenantQuotas: { t: null } }), TypeError, 'options.tenantQuotas.t must be a number, got null'],
  ['new BufferPool({ get classes() { throw } })', () => new BufferPool({ budget: 64, get classes() { throw new Error('no'); } }), TypeError, 'options.classes cannot be read'],
  ['new BufferPool({ budget: -1 })', () => new BufferPool({ budget: -1 }), RangeError, `budget must be between 0 and ${MAX}, got -1`],
  // A mistake in the settings is worded alike where the class is past what wasm32 can count too.
  ['new BufferPool({ budget: 16, classes: [2 ** 31] })', () => new BufferPool({ budget: 16, classes: [2 ** 31] }), TypeError, 'invalid pool configuration: the budget (16 bytes) is smaller than the smallest class (2147483648 bytes)'],
  ['withCapacity(64, { backend: 1 })', () => Circular.withCapacity(64, { backend: 1 }), TypeError, 'options.backend must be "double-mapped" or "mirror-copy", got 1'],
  // Wait options: a signal that is not an AbortSignal, a ref that is not a boolean (rejections).
  ["acquire(16, { signal: 'no' })", () => pool().acquire(16, { signal: 'no' }), TypeError, 'BufferPool.acquire: options.signal must be an AbortSignal, got a string', 'reject'],
  ['sliceAsync({ signal: {} })', () => writer().sliceAsync({ signal: {} }), TypeError, 'CircularWriter.sliceAsync: options.signal must be an AbortSignal, got an object', 'reject'],
  ['sliceAsync({ ref: 1 })', () => writer().addReader().sliceAsync({ ref: 1 }), TypeError, 'options.ref must be a boolean, got 1', 'reject'],
  ['VirtualBuffer.open(5)', () => VirtualBuffer.open(5), TypeError, 'path must be a string, got 5', 'reject'],
  // Objects of other classes, freed objects (observations 6 and 8).
  ['equals({})', () => zcb().equals({}), TypeError, 'equals: other must be a ZeroCopyBuffer, got an object'],
  ['equals(freed)', () => zcb().equals(freed(zcb)), Error, 'this ZeroCopyBuffer was freed and cannot be used any more'],
  ['equals(BufferMut)', () => zcb().equals(new BufferMut(1)), TypeError, 'equals: other must be a ZeroCopyBuffer, got an object'],
  ['freed.length', () => freed(zcb).length, Error, 'this ZeroCopyBuffer was freed and cannot be used any more'],
  ['freed pool tryAcquire', () => freed(pool).tryAcquire(1), Error, 'this BufferPool was freed and cannot be used any more'],
  ['frozen BufferMut', () => {
    const m = new BufferMut(1);
    m.freeze();
    return m.length;
  }, Error, 'this BufferMut was frozen and cannot be used any more'],
  // A freed object gives its Error before any of its arguments is looked at, whatever is wrong with
  // them (a Promise member rejects with it); a frozen builder or buffer looks at them first, in both
  // builds.
  ['freed ZeroCopyBuffer slice(-1)', () => freed(zcb).slice(-1), Error, freedError('ZeroCopyBuffer')],
  ["freed ZeroCopyBuffer slice('1')", () => freed(zcb).slice('1'), Error, freedError('ZeroCopyBuffer')],
  ['freed ZeroCopyBuffer splitTo(1.5)', () => freed(zcb).splitTo(1.5), Error, freedError('ZeroCopyBuffer')],
  ['freed ZeroCopyBuffer splitOff()', () => freed(zcb).splitOff(), Error, freedError('ZeroCopyBuffer')],
  ['freed ZeroCopyBuffer withTenant(5)', () => freed(zcb).withTenant(5), Error, freedError('ZeroCopyBuffer')],
  ["freed ZeroCopyBuffer retag('nope')", () => freed(zcb).retag('nope'), Error, freedError('ZeroCopyBuffer')],
  ['freed 8 KiB ZeroCopyBuffer retag(5)', () => freed(() => ZeroCopyBuffer.from(new Uint8Array(8192))).retag(5), Error, freedError('ZeroCopyBuffer')],
  ['freed BufferMut append(5)', () => freed(() => new BufferMut(8)).append(5), Error, freedError('BufferMut')],
  // Frozen, then freed: freed is what it says, and it says so first.
  ['frozen then freed BufferMut append(5)', () => {
    const m = new BufferMut(8);
    m.freeze();
    m.free();
    return m.append(5);
  }, Error, freedError('BufferMut')],
  ['frozen then freed PooledBuffer append(5)', () => {
    const b = pooled();
    b.freeze();
    b.free();
    return b.append(5);
  }, Error, freedError('PooledBuffer')],
  ['frozen BufferMut append(5)', () => {
    const m = new BufferMut(8);
    m.freeze();
    m.append(5);
  }, TypeError, 'bytes must be a string, an ArrayBuffer, a SharedArrayBuffer, a typed array or a DataView, got 5'],
  ['freed pool tryAcquire(-1)', () => freed(pool).tryAcquire(-1), Error, freedError('BufferPool')],
  ['freed pool tryAcquire(16, 5)', () => freed(pool).tryAcquire(16, 5), Error, freedError('BufferPool')],
  ["freed pool acquire('16')", () => freed(pool).acquire('16'), Error, freedError('BufferPool'), 'reject'],
  ['freed pool acquire(16, 5)', () => freed(pool).acquire(16, 5), Error, freedError('BufferPool'), 'reject'],
  ['freed PooledBuffer append(5)', () => freed(pooled).append(5), Error, freedError('PooledBuffer')],
  ["freed PooledBuffer freeze('nope')", () => freed(pooled).freeze('nope'), Error, freedError('PooledBuffer')],
  ['frozen PooledBuffer freeze(5)', () => {
    const b = pooled();
    b.freeze();
    b.freeze(5);
  }, TypeError, 'kind must be a string, got 5'],
  ['freed writer write(5)', () => freed(writer).write(5), Error, freedError('CircularWriter')],
  ['freed writer produce(-1)', () => freed(writer).produce(-1), Error, freedError('CircularWriter')],
  ['freed writer produce()', () => freed(writer).produce(), Error, freedError('CircularWriter')],
  ['freed writer sliceSync(-1)', () => freed(writer).sliceSync(-1), Error, freedError('CircularWriter')],
  // abort() frees the writer too: that comes before the main thread's refusal to block.
  ['aborted writer sliceSync()', () => { const w = writer(); w.abort('stop'); return w.sliceSync(); }, Error, freedError('CircularWriter')],
  ['freed reader consume(-1)', () => freed(reader).consume(-1), Error, freedError('CircularReader')],
  ["freed reader read('1')", () => freed(reader).read('1'), Error, freedError('CircularReader')],
  ["freed reader sliceSync('1')", () => freed(reader).sliceSync('1'), Error, freedError('CircularReader')],
  ["freed doc insert(-1, 'x')", () => freed(vb).insert(-1, 'x'), Error, freedError('VirtualBuffer')],
  ['freed doc insert(0, 5)', () => freed(vb).insert(0, 5), Error, freedError('VirtualBuffer')],
  ['freed doc delete(0)', () => freed(vb).delete(0), Error, freedError('VirtualBuffer')],
  ['freed doc replace(0, 1, 5)', () => freed(vb).replace(0, 1, 5), Error, freedError('VirtualBuffer')],
  ['freed doc read(-1)', () => freed(vb).read(-1), Error, freedError('VirtualBuffer'), 'reject'],
  ['freed doc find(5)', () => freed(vb).find(5), Error, freedError('VirtualBuffer'), 'reject'],
  ['freed doc lineToOffset(-1)', () => freed(vb).lineToOffset(-1), Error, freedError('VirtualBuffer'), 'reject'],
  ["freed doc offsetToLine('1')", () => freed(vb).offsetToLine('1'), Error, freedError('VirtualBuffer'), 'reject'],
  ['freed doc save({ force: 1 })', () => freed(vb).save({ force: 1 }), Error, freedError('VirtualBuffer'), 'reject'],
  ['freed doc saveAs(5)', () => freed(vb).saveAs(5), Error, freedError('VirtualBuffer'), 'reject'],
  ['freed doc chunks(-1) step', () => freed(vb).chunks(-1).next(), Error, freedError('VirtualBuffer'), 'reject'],
  // Options too: a wait's or a document call's, an aborted signal included.
  ['freed pool acquire(16, { signal: 5 })', () => freed(pool).acquire(16, { signal: 5 }), Error, freedError('BufferPool'), 'reject'],
  ['freed pool acquire(16, aborted)', () => freed(pool).acquire(16, { signal: AbortSignal.abort() }), Error, freedError('BufferPool'), 'reject'],
  ['freed reader sliceAsync({ ref: 1 })', () => freed(reader).sliceAsync({ ref: 1 }), Error, freedError('CircularReader'), 'reject'],
  ['freed writer sliceAsync(aborted)', () => freed(writer).sliceAsync({ signal: AbortSignal.abort() }), Error, freedError('CircularWriter'), 'reject'],
  ['freed doc read(0, 1, 5)', () => freed(vb).read(0, 1, 5), Error, freedError('VirtualBuffer'), 'reject'],
  ['freed doc lineCount(aborted)', () => freed(vb).lineCount({ signal: AbortSignal.abort() }), Error, freedError('VirtualBuffer'), 'reject'],
  ['ZeroCopyBuffer length of a BufferMut', () => getter(ZeroCopyBuffer, 'length').call(new BufferMut(1)), TypeError, 'ZeroCopyBuffer.length: called on an object that is not a ZeroCopyBuffer'],
  ['BufferMut length of a ZeroCopyBuffer', () => getter(BufferMut, 'length').call(zcb()), TypeError, 'BufferMut.length: called on an object that is not a BufferMut'],
  ['BufferMut.append on {}', () => BufferMut.prototype.append.call({}, 'x'), TypeError, 'BufferMut.append: called on an object that is not a BufferMut'],
  ['PooledBuffer length of {}', () => getter(PooledBuffer, 'length').call({}), TypeError, 'PooledBuffer.length: called on an object that is not a PooledBuffer'],
  ['BufferPool.tryAcquire on a ZeroCopyBuffer', () => BufferPool.prototype.tryAcquire.call(zcb(), 1), TypeError, 'BufferPool.tryAcquire: called on an object that is not a BufferPool'],
  ['CircularWriter capacity of {}', () => getter(CircularWriter, 'capacity').call({}), TypeError, 'CircularWriter.capacity: called on an object that is not a CircularWriter'],
  ['CircularReader.slice on a writer', () => CircularReader.prototype.slice.call(writer()), TypeError, 'CircularReader.slice: called on an object that is not a CircularReader'],
  ['CircularWriter.produce on undefined', () => CircularWriter.prototype.produce.call(undefined, 1), TypeError, 'CircularWriter.produce: called on an object that is not a CircularWriter'],
  ['VirtualBuffer length of {}', () => getter(VirtualBuffer, 'length').call({}), TypeError, 'VirtualBuffer.length: called on an object that is not a VirtualBuffer'],
  ['VirtualBuffer.insert on a prototype object', () => VirtualBuffer.prototype.insert.call(Object.create(VirtualBuffer.prototype), 0, 'x'), TypeError, 'VirtualBuffer.insert: called on an object that is not a VirtualBuffer'],
  ['ZeroCopyBuffer.slice on a prototype object', () => ZeroCopyBuffer.prototype.slice.call(Object.create(ZeroCopyBuffer.prototype), 0), TypeError, 'ZeroCopyBuffer.slice: called on an object that is not a ZeroCopyBuffer'],
  ['free of another class', () => BufferMut.prototype.free.call(zcb()), TypeError, 'BufferMut.free: called on an object that is not a BufferMut'],
  // An object that only looks like one of the class: a Proxy of one, or one that inherits from one.
  ['CircularWriter.write on a Proxy of a writer', () => new Proxy(writer(), {}).write('x'), TypeError, 'CircularWriter.write: called on an object that is not a CircularWriter'],
  ['CircularReader.slice on an object inheriting from a reader', () => Object.create(writer().addReader()).slice(), TypeError, 'CircularReader.slice: called on an object that is not a CircularReader'],
  ['BufferMut length of a Proxy of one', () => new Proxy(new BufferMut(1), {}).length, TypeError, 'BufferMut.length: called on an object that is not a BufferMut'],
  ['ZeroCopyBuffer.free on a Proxy of one', () => new Proxy(zcb(), {}).free(), TypeError, 'ZeroCopyBuffer.free: called on an object that is not a ZeroCopyBuffer'],
  ['BufferPool.tryAcquire on an object inheriting from a pool', () => Object.create(pool()).tryAcquire(1), TypeError, 'BufferPool.tryAcquire: called on an object that is not a BufferPool'],
  // A copy of one's own properties (a shallow clone) owns nothing: in the wasm build it would keep
  // the original's pointer, and reach whatever owns that memory after the original is freed.
  ['ZeroCopyBuffer.view on a shallow clone of one', () => Object.assign(Object.create(ZeroCopyBuffer.prototype), zcb()).view(), TypeError, 'ZeroCopyBuffer.view: called on an object that is not a ZeroCopyBuffer'],
  ['PooledBuffer.append on a shallow clone of one', () => Object.assign(Object.create(PooledBuffer.prototype), pool().tryAcquire(1)).append('x'), TypeError, 'PooledBuffer.append: called on an object that is not a PooledBuffer'],
  ['CircularWriter.free on a shallow clone of one', () => Object.assign(Object.create(CircularWriter.prototype), writer()).free(), TypeError, 'CircularWriter.free: called on an object that is not a CircularWriter'],
  ['BufferMut.length on a copy of its own property names', () => {
    const original = new BufferMut(4);
    const copy = Object.create(BufferMut.prototype);
    for (const key of Object.getOwnPropertyNames(original)) copy[key] = original[key];
    return copy.length;
  }, TypeError, 'BufferMut.length: called on an object that is not a BufferMut'],
  // A pointer saved before its object was freed, given to another object: no owner holds it then,
  // and a new object may get its memory.
  ["BufferMut.length on an object given a freed one's pointer", () => {
    const original = new BufferMut(4);
    const ptr = original.__wbg_ptr;
    original.free();
    const copy = Object.create(BufferMut.prototype);
    copy.__wbg_ptr = ptr;
    return copy.length;
  }, TypeError, 'BufferMut.length: called on an object that is not a BufferMut'],
  ["BufferPool.tryAcquire on an object given a freed one's pointer, a new pool over its memory", () => {
    const original = pool();
    const ptr = original.__wbg_ptr;
    original.free();
    const copy = Object.create(BufferPool.prototype);
    copy.__wbg_ptr = ptr;
    const next = pool();
    try {
      next.tryAcquire(1).free();
    } catch (error) {
      throw new Error(`the new pool was refused: ${error.message}`);
    }
    return copy.tryAcquire(1);
  }, TypeError, 'BufferPool.tryAcquire: called on an object that is not a BufferPool'],
  // A live object given another live one's pointer keeps its own: the wasm build ignores the
  // assignment, and in the addon the property means nothing.
  ["BufferMut.length on one given another's pointer: its own", () => {
    const other = new BufferMut(8);
    other.append('other');
    const mine = new BufferMut(8);
    mine.append('m');
    mine.__wbg_ptr = other.__wbg_ptr;
    try {
      return mine.length;
    } finally {
      if (other.length !== 5) throw new Error(`the other buffer changed: ${other.length} bytes`);
    }
  }, null, 1],
  ['ZeroCopyBuffer.view on an object given its pointer by name', () => {
    const copy = Object.create(ZeroCopyBuffer.prototype);
    copy.__wbg_ptr = zcb().__wbg_ptr; // (undefined in the addon: the same refusal)
    return copy.view();
  }, TypeError, 'ZeroCopyBuffer.view: called on an object that is not a ZeroCopyBuffer'],
  // The stream and walk members (js/streams.mjs) check their receiver when called, not at a first step.
  ['CircularReader.slices on {}', () => CircularReader.prototype.slices.call({}), TypeError, 'CircularReader.slices: called on an object that is not a CircularReader'],
  ['for await over a writer', () => CircularReader.prototype[Symbol.asyncIterator].call(writer()), TypeError, 'CircularReader.[Symbol.asyncIterator]: called on an object that is not a CircularReader'],
  ['CircularReader.readableStream on {}', () => CircularReader.prototype.readableStream.call({}), TypeError, 'CircularReader.readableStream: called on an object that is not a CircularReader'],
  ['CircularWriter.writableStream on a reader', () => CircularWriter.prototype.writableStream.call(writer().addReader()), TypeError, 'CircularWriter.writableStream: called on an object that is not a CircularWriter'],
  ['CircularWriter.nodeWritable on undefined', () => CircularWriter.prototype.nodeWritable.call(undefined), TypeError, 'CircularWriter.nodeWritable: called on an object that is not a CircularWriter'],
  ['VirtualBuffer.chunks on {}', () => VirtualBuffer.prototype.chunks.call({}), TypeError, 'VirtualBuffer.chunks: called on an object that is not a VirtualBuffer'],
  ['VirtualBuffer.lines on a ZeroCopyBuffer', () => VirtualBuffer.prototype.lines.call(zcb()), TypeError, 'VirtualBuffer.lines: called on an object that is not a VirtualBuffer'],
  // VirtualBuffer options: worded (and ranged) alike in both builds.
  ["open('nope', { blockSize: -1 })", () => VirtualBuffer.open('nope', { blockSize: -1 }), RangeError, 'blockSize must be between 1 and 4294967295, got -1', 'reject'],
  ["open('nope', { blockSize: 0 })", () => VirtualBuffer.open('nope', { blockSize: 0 }), RangeError, 'blockSize must be between 1 and 4294967295, got 0', 'reject'],
  ["open('nope', { blockSize: 2 ** 32 })", () => VirtualBuffer.open('nope', { blockSize: 2 ** 32 }), RangeError, 'blockSize must be between 1 and 4294967295, got 4294967296', 'reject'],
  ["open('nope', { cacheBudget: 1.5 })", () => VirtualBuffer.open('nope', { cacheBudget: 1.5 }), TypeError, 'cacheBudget must be an integer, got 1.5', 'reject'],
  ["open('nope', { undoLimit: -1 })", () => VirtualBuffer.open('nope', { undoLimit: -1 }), RangeError, `undoLimit must be between 0 and ${MAX}, got -1`, 'reject'],
  ["open('nope', 5)", () => VirtualBuffer.open('nope', 5), TypeError, 'options must be an object, got 5', 'reject'],
  ['save(5)', () => vb().save(5), TypeError, 'options must be an object, got 5', 'reject'],
  ['saveAs(5)', () => vb().saveAs(5), TypeError, 'path must be a string, got 5', 'reject'],
  // Optional arguments: null is none (as read(0, null) takes it).
  ["find('t', null)", () => vb().find('t', null), null, 4],
  ['read(0, null)', () => vb().read(0, null).then((b) => b.length), null, 8],
  // Bounds take any size in both builds, past what wasm memory holds too.
  ['read(2 ** 32)', () => readerWith('abc').read(2 ** 32).length, null, 3],
  ['read(MAX_SAFE_INTEGER)', () => readerWith('abc').read(MAX).length, null, 3],
  ['read(null)', () => readerWith('abc').read(null).length, null, 3],
  // A bare SharedArrayBuffer is bytes in both builds, as a view over one is.
  ['ZeroCopyBuffer.from(SharedArrayBuffer)', () => ZeroCopyBuffer.from(shared()).length, null, 4],
  ['write(SharedArrayBuffer)', () => writer().write(shared()), null, 4],
  ['BufferMut append(SharedArrayBuffer)', () => {
    const m = new BufferMut(8);
    m.append(shared());
    return m.length;
  }, null, 4],
  ['PooledBuffer append(SharedArrayBuffer)', () => {
    const b = pool().tryAcquire(16);
    b.append(shared());
    return b.length;
  }, null, 4],
  ['VirtualBuffer.fromBytes(SharedArrayBuffer)', () => VirtualBuffer.fromBytes(shared()).length, null, 4],
  ['insert(0, SharedArrayBuffer)', () => {
    const d = vb();
    d.insert(0, shared());
    return d.length;
  }, null, 12],
  ['find(SharedArrayBuffer)', () => vb().find(shared(2)), null, 4],
  ['readInto(SharedArrayBuffer)', () => readerWith('abc').readInto(shared()), null, 3],
  // Detached buffers are bytes of length 0 (observation 5).
  ['append(detached ArrayBuffer)', () => {
    const m = new BufferMut(8);
    m.append(detached());
    return m.length;
  }, null, 0],
  ['append(view of a detached buffer)', () => {
    const buffer = new ArrayBuffer(8);
    const view = new Uint16Array(buffer, 2, 2);
    structuredClone(buffer, { transfer: [buffer] });
    const m = new BufferMut(8);
    m.append(view);
    return m.length;
  }, null, 0],
];

/** The Node-style `code` each misuse's error carries, the same in both builds (src/binding/error.rs). */
function expectedCode(cls, message) {
  if (cls === RangeError) return 'ERR_OUT_OF_RANGE';
  if (cls === TypeError) {
    if (message.includes('has no public constructor')) return 'ERR_ILLEGAL_CONSTRUCTOR';
    if (message.includes('called on an object that is not')) return 'ERR_INVALID_THIS';
    if (message.startsWith('unknown buffer kind') || message.startsWith('invalid pool configuration') || message.endsWith(LONE)) {
      return 'ERR_INVALID_ARG_VALUE';
    }
    return 'ERR_INVALID_ARG_TYPE';
  }
  if (message.endsWith('cannot be used any more')) return 'ERR_INVALID_STATE';
  return undefined;
}

for (const [what, misuse, cls, expected, mode = 'throw'] of TABLE) {
  test(`misuse: ${what}`, async () => {
    if (cls === null) {
      assert.equal(await misuse(), expected, 'not an error: the same result in both builds');
      return;
    }
    let result;
    try {
      result = misuse();
    } catch (e) {
      assert.equal(mode, 'throw', `it threw (${e?.name}: ${e?.message}); it should reject`);
      assert.equal(e?.constructor, cls, `the class of ${e?.name}: ${e?.message}`);
      assert.equal(e.message, expected);
      assert.equal(e.code, expectedCode(cls, expected), `the code of ${e.message}`);
      return;
    }
    assert.equal(mode, 'reject', 'it should have thrown');
    assert.ok(result instanceof Promise, 'a Promise');
    await assert.rejects(result, (e) => {
      assert.equal(e?.constructor, cls, `the class of ${e?.name}: ${e?.message}`);
      assert.equal(e.message, expected);
      assert.equal(e.code, expectedCode(cls, expected), `the code of ${e.message}`);
      return true;
    });
  });
}

/** One object of each class that free() lets go of, and what shows it was let go of besides the
 * freed error: `after()` throws unless the object's resources went back. */
function freeable() {
  const p = new BufferPool({ budget: 4096, classes: [4096] });
  const w = Circular.withCapacity(64);
  const r = w.addReader();
  w.write('abc');
  return [
    { object: ZeroCopyBuffer.from('abc') },
    { object: new BufferMut(8) },
    { object: p.tryAcquire(4096), after: () => assert.notEqual(p.tryAcquire(4096), null, 'the budget went back') },
    { object: p },
    { object: w, after: () => assert.deepEqual([r.read()?.length, r.read(), r.abortReason], [3, null, null], 'the readers read on, then see the end') },
    { object: r },
    { object: vb() },
  ];
}

test('free() and [Symbol.dispose]() let go of a frozen or sealed object, in both builds', () => {
  for (const hold of [Object.freeze, Object.seal, Object.preventExtensions]) {
    for (const how of ['free', Symbol.dispose]) {
      for (const { object, after } of freeable()) {
        const name = `${hold.name} ${object.constructor.name} ${String(how)}`;
        hold(object);
        object[how]();
        after?.();
        object[how](); // twice does nothing
        assert.throws(() => object.length ?? object.snapshot?.() ?? object.slice(), { code: 'ERR_INVALID_STATE' }, name);
      }
    }
  }
});

test("the class's free() lets go of one of its objects whatever that object's prototype now is, or its own members say", () => {
  for (const change of [
    (object) => Object.setPrototypeOf(object, null),
    (object) => Object.setPrototypeOf(object, {}),
    // In the wasm build, what the glue's free() calls to take the pointer: not this object's to say.
    (object) => Object.defineProperty(object, '__destroy_into_raw', { value: () => 8 }),
  ]) {
    for (const { object, after } of freeable()) {
      const cls = object.constructor;
      change(object);
      cls.prototype.free.call(object);
      after?.();
      cls.prototype.free.call(object);
      Object.setPrototypeOf(object, cls.prototype);
      assert.throws(() => object.length ?? object.snapshot?.() ?? object.slice(), { code: 'ERR_INVALID_STATE' }, cls.name);
    }
  }
  // The other objects' memory stays theirs.
  const kept = ZeroCopyBuffer.from('kept');
  assert.equal(new TextDecoder().decode(kept.view()), 'kept');
  kept.free();
});

test('a throwing argument leaves the object usable and loses no pool budget (observation 5)', () => {
  const hostile = [
    detached(),
    ...(() => {
      // Views made before their buffer was detached.
      const buffer = new ArrayBuffer(8);
      const views = [new Uint8Array(buffer), new Float64Array(buffer), new DataView(buffer, 1)];
      structuredClone(buffer, { transfer: [buffer] });
      return views;
    })(),
    new Proxy(new Uint8Array(4), {}),
    Object.defineProperty(new Uint8Array(4), 'length', {
      get() {
        throw new Error('own length getter');
      },
    }),
    Object.defineProperty(new Float32Array(4), 'byteLength', { value: 1e12 }),
    {
      get buffer() {
        throw new Error('getter');
      },
    },
    Symbol('s'),
  ];
  const p = new BufferPool({ budget: 64, classes: [64] });
  for (const arg of hostile) {
    const m = new BufferMut(8);
    const b = p.tryAcquire(64);
    assert.notEqual(b, null, 'the budget is back');
    for (const target of [m, b]) {
      try {
        target.append(arg);
      } catch (e) {
        assert.ok(e instanceof TypeError, `a TypeError, got ${e}`);
      }
      target.append('ok');
      assert.ok(target.length >= 2, 'still usable');
    }
    b.free();
    assert.equal(m.freeze().length >= 2, true);
  }
  assert.notEqual(p.tryAcquire(64), null, 'no budget lost');
});

test('typed arrays with own length or byteLength properties are read by their real bytes', () => {
  const lying = Object.defineProperty(new Uint8Array([1, 2, 3]), 'length', { value: 1 });
  assert.deepEqual([...ZeroCopyBuffer.from(lying).bytes()], [1, 2, 3]);
  const big = Object.defineProperty(new Uint16Array([0x0201]), 'byteLength', { value: 1e12 });
  assert.deepEqual([...ZeroCopyBuffer.from(big).bytes()], [1, 2]);
});

test('members are not enumerable, as a JS class\'s are: for...in over an object sees nothing of the API, in both builds', () => {
  const w = writer();
  const objects = [zcb(), new BufferMut(4), pool(), pool().tryAcquire(16), w, w.addReader(), vb()];
  const classes = [ZeroCopyBuffer, BufferMut, BufferKind, BufferPool, PooledBuffer, Circular, CircularWriter, CircularReader, VirtualBuffer];
  for (const object of [...objects, ...classes]) {
    const seen = [];
    for (const key in object) seen.push(key);
    assert.deepEqual(seen, [], object.name ?? object.constructor.name);
    assert.deepEqual(Object.keys(object), [], object.name ?? object.constructor.name);
  }
});

test(`private constructors stay private, and instanceof still works (${impl})`, () => {
  const w = Circular.withCapacity(64);
  assert.ok(w instanceof CircularWriter);
  assert.ok(w.addReader() instanceof CircularReader);
  assert.ok(VirtualBuffer.fromBytes('x') instanceof VirtualBuffer);
  assert.ok(ZeroCopyBuffer.from('x') instanceof ZeroCopyBuffer);
  w.free();
});

test('a class called without new is a TypeError, and makes nothing of the receiver', () => {
  const classes = { ZeroCopyBuffer, BufferMut, BufferKind, BufferPool, PooledBuffer, Circular, CircularWriter, CircularReader, VirtualBuffer };
  for (const [name, cls] of Object.entries(classes)) {
    const receiver = {};
    assert.throws(() => cls(), { name: 'TypeError', message: `Class constructor ${name} cannot be invoked without 'new'` });
    assert.throws(() => cls.call(receiver, 8), { name: 'TypeError', message: /without 'new'/ }, name);
    assert.equal(receiver instanceof cls, false, name);
  }
  assert.equal(globalThis instanceof BufferMut, false);
});

test('bytes over a detached or shrunk buffer are no bytes, whatever view shows them', async () => {
  /** `make(buffer)`, then its buffer detached. */
  const detached = (make = (buffer) => buffer) => {
    const buffer = new ArrayBuffer(8);
    const bytes = make(buffer);
    structuredClone(buffer, { transfer: [buffer] });
    return bytes;
  };
  const cases = [detached(), detached((b) => new Uint8Array(b)), detached((b) => new DataView(b))];
  // A view past the end of a resizable buffer that shrank (Node 20 on: Node 18 has none).
  if (ArrayBuffer.prototype.resize) {
    const shrunk = new ArrayBuffer(4, { maxByteLength: 8 });
    cases.push(new DataView(shrunk, 2, 2));
    shrunk.resize(1);
  }
  for (const bytes of cases) {
    assert.equal(ZeroCopyBuffer.from(bytes).length, 0);
    const m = new BufferMut(4);
    m.append(bytes);
    assert.equal(m.length, 0);
    const w = writer();
    w.addReader();
    assert.equal(w.write(bytes), 0);
    const stream = w.writableStream().getWriter();
    await stream.write(bytes);
    await stream.close();
  }
});

test("wait options that cannot be read are the options' TypeError, as the constructors' are", async () => {
  const throwing = { get signal() { throw new Error('boom'); } };
  const { proxy: revoked, revoke } = Proxy.revocable({}, {});
  revoke();
  const unreadable = { name: 'TypeError', code: 'ERR_INVALID_ARG_TYPE', message: 'options.signal cannot be read' };
  for (const options of [throwing, revoked]) {
    await assert.rejects(pool().acquire(16, options), unreadable);
    const w = writer();
    await assert.rejects(w.addReader().sliceAsync(options), unreadable);
    await assert.rejects(vb().read(0, 1, options), unreadable);
    w.free();
  }
  assert.throws(() => new BufferPool({ get budget() { throw new Error('boom'); } }), { ...unreadable, message: 'options.budget cannot be read' });
});

test("a VirtualBuffer call reads only the options it takes: a `ref` there is not its option, and not checked", async () => {
  const doc = vb();
  const options = { ref: 1, highWaterMark: 'x' };
  assert.equal((await doc.read(0, 2, options)).length, 2);
  assert.equal(await doc.lineCount(options), 3);
  assert.equal(await doc.offsetToLine(0, options), 0);
  assert.equal((await doc.chunks(0, undefined, options).next()).value.length, 8);
  assert.equal((await doc.lines(0, options).next()).done, false);
  // Wait options are the rings' and the pool's: there `ref` is checked.
  await assert.rejects(writer().addReader().sliceAsync({ ref: 1 }), { name: 'TypeError', message: 'options.ref must be a boolean, got 1' });
  doc.free();
});

test('a path (or document name) that names nothing is refused before any I/O', async () => {
  const doc = vb();
  for (const [path, why] of [['', 'not be empty'], ['a\0b', 'not contain a NUL character']]) {
    const refused = { name: 'TypeError', code: 'ERR_INVALID_ARG_VALUE', message: `path must ${why}` };
    await assert.rejects(async () => doc.saveAs(path), refused);
    await assert.rejects(async () => VirtualBuffer.open(path), refused);
  }
  assert.equal(doc.length, 8, 'the buffer is untouched');
  doc.free();
});

test('a class size that cannot be read is the options\' TypeError', () => {
  const classes = [16];
  Object.defineProperty(classes, 0, { get() { throw new Error('boom'); } });
  assert.throws(() => new BufferPool({ budget: 64, classes }), { name: 'TypeError', code: 'ERR_INVALID_ARG_TYPE', message: 'options.classes cannot be read' });
});

test('classes given as a Proxy of an array (a reactive store\'s) are read through it, as Array.isArray sees it, in both builds', () => {
  const pool = new BufferPool({ budget: 1 << 16, classes: new Proxy([64, 4096], {}) });
  assert.deepEqual(pool.classes, [64, 4096]);
  pool.free();
  const unreadable = { name: 'TypeError', code: 'ERR_INVALID_ARG_TYPE', message: 'options.classes cannot be read' };
  const throwing = new Proxy([64], { get() { throw new Error('trap'); } });
  assert.throws(() => new BufferPool({ budget: 64, classes: throwing }), unreadable);
  const { proxy: revoked, revoke } = Proxy.revocable([64], {});
  revoke();
  assert.throws(() => new BufferPool({ budget: 64, classes: revoked }), unreadable);
  // A length the caller claims is no promise of numbers: the first element that is none is refused,
  // at once (the addon once reserved room for the whole length first, and a huge one killed it).
  const noNumber = { name: 'TypeError', code: 'ERR_INVALID_ARG_TYPE', message: 'options.classes must hold numbers, got undefined' };
  const claimsMuch = new Proxy([], { get: (target, key) => (key === 'length' ? 1e12 : target[key]) });
  assert.throws(() => new BufferPool({ budget: 64, classes: claimsMuch }), noNumber);
  const sparse = [];
  sparse.length = 2 ** 32 - 1;
  assert.throws(() => new BufferPool({ budget: 64, classes: sparse }), noNumber);
  // Not an array however it looks: refused as one, in the same words.
  const notArray = new Proxy({ length: 1, 0: 64 }, {});
  assert.throws(() => new BufferPool({ budget: 64, classes: notArray }), { name: 'TypeError', message: /^options\.classes must be an array/ });
});

test('a stream form or document call on an object that only shares the prototype is refused at the call', async () => {
  const forms = {
    CircularReader: [CircularReader, ['chunks', 'slices', 'readableStream', 'nodeReadable', Symbol.asyncIterator]],
    CircularWriter: [CircularWriter, ['writableStream', 'nodeWritable']],
    VirtualBuffer: [VirtualBuffer, ['chunks', 'lines', 'readableStream', 'nodeReadable']],
  };
  for (const [className, [cls, members]] of Object.entries(forms)) {
    const impostor = Object.create(cls.prototype);
    for (const member of members) {
      const name = typeof member === 'symbol' ? `[${member.description}]` : member;
      if (typeof cls.prototype[member] !== 'function') continue; // not in this build
      assert.throws(() => cls.prototype[member].call(impostor), {
        name: 'TypeError',
        code: 'ERR_INVALID_THIS',
        message: `${className}.${name}: called on an object that is not a ${className}`,
      });
    }
  }
  // The receiver before the arguments, as every member checks them.
  await assert.rejects(VirtualBuffer.prototype.save.call({}, 0), { code: 'ERR_INVALID_THIS', message: /^VirtualBuffer.save: / });
  // The waits and document calls, and the addon's browser-only stand-in, name themselves too.
  const calls = [
    [BufferPool, 'BufferPool', 'acquire', [16]],
    [CircularReader, 'CircularReader', 'sliceAsync', []],
    [CircularWriter, 'CircularWriter', 'sliceAsync', []],
    [VirtualBuffer, 'VirtualBuffer', 'read', [0, 1]],
    [VirtualBuffer, 'VirtualBuffer', 'lineCount', []],
    [VirtualBuffer, 'VirtualBuffer', 'save', []],
    [VirtualBuffer, 'VirtualBuffer', 'readInto', [0, new Uint8Array(1)]],
  ];
  for (const [cls, className, member, args] of calls) {
    const refused = { name: 'TypeError', code: 'ERR_INVALID_THIS', message: `${className}.${member}: called on an object that is not a ${className}` };
    if (member === 'readInto' && impl === 'wasm') continue; // the wasm build's own member: in vbuf.test.mjs
    const call = () => cls.prototype[member].call(Object.create(cls.prototype), ...args);
    if (member === 'readInto') assert.throws(call, refused);
    else await assert.rejects(call(), refused);
  }
});

test("open()'s and import()'s options one build ignores are checked by both alike", async () => {
  const cases = [
    [{ spillThreshold: -1 }, { name: 'RangeError', code: 'ERR_OUT_OF_RANGE', message: /spillThreshold must be between 0 and/ }],
    [{ backend: 5 }, { name: 'TypeError', code: 'ERR_INVALID_ARG_TYPE', message: 'options.backend must be "positional" or "mapped", got 5' }],
    [{ backend: 'fast' }, { name: 'TypeError', code: 'ERR_INVALID_ARG_VALUE', message: /options.backend must be/ }],
    [{ store: 'nope' }, { name: 'TypeError', code: 'ERR_INVALID_ARG_VALUE', message: 'options.store must be "indexeddb" or "opfs" or "auto", got "nope"' }],
    [{ get store() { throw new Error('boom'); } }, { name: 'TypeError', code: 'ERR_INVALID_ARG_TYPE', message: 'options.store cannot be read' }],
    // Of two bad options, both builds name the same: they read backend, store, blockSize,
    // cacheBudget, spillThreshold, undoLimit in that order.
    [{ blockSize: 0, store: 'x' }, { name: 'TypeError', code: 'ERR_INVALID_ARG_VALUE', message: 'options.store must be "indexeddb" or "opfs" or "auto", got "x"' }],
    [{ undoLimit: -1, spillThreshold: 'x' }, { name: 'TypeError', code: 'ERR_INVALID_ARG_TYPE', message: /^options\.spillThreshold must be/ }],
    [{ get undoLimit() { throw new Error('boom'); }, get cacheBudget() { throw new Error('boom'); } }, { name: 'TypeError', message: 'options.cacheBudget cannot be read' }],
  ];
  for (const [options, refused] of cases) await assert.rejects(VirtualBuffer.open('never-opened.txt', options), refused);
  // import(), in the build that has it (the browser's documents; the addon's only says it is browser
  // only), takes the same options: refused, it stores nothing.
  if (impl === 'addon') return;
  for (const [options, refused] of cases) await assert.rejects(VirtualBuffer.import('never-imported.txt', 'text', options), refused);
  assert.deepEqual((await VirtualBuffer.list()).filter((doc) => doc.name === 'never-imported.txt'), []);
});

test("the JS layers over the builds word no error of their own: the binding core's table makes them", () => {
  // The addon's JS classes (and the guard both builds use) test the common case themselves and, when
  // that test fails, ask the core for the error (__bindingError, __checkIndex, __outOfBounds), so the
  // table above can only hold because both builds read one table. A message or an error object made
  // in these files would be a second copy of it.
  for (const file of ['addon-zero-copy.mjs', 'addon-pool.mjs', 'guard.mjs']) {
    const source = readFileSync(new URL(`../${file}`, import.meta.url), 'utf8');
    const made = source.match(/new (Type|Range)?Error\(|\bcoded\(|cannot be used any more|called on an object that is not|has no public constructor|must be an integer|out of bounds/g);
    assert.equal(made, null, `${file} makes or words errors itself: ${made}`);
  }
});

test('sliceSync(-1) is a RangeError, as every negative number', { skip: impl === 'wasm' && 'the wasm build in Node never blocks' }, async () => {
  // In a worker: the main thread refuses to block before it looks at the argument.
  const { Worker } = await import('node:worker_threads');
  const impl = new URL('./impl.mjs', import.meta.url).href;
  const worker = new Worker(
    `const { parentPort } = require('node:worker_threads');
    import(${JSON.stringify(impl)}).then(({ Circular }) => {
      const w = Circular.withCapacity(64);
      const r = w.addReader();
      w.write('x'); // sliceSync(null), no timeout, returns at once
      const caught = (f) => { try { f(); return null; } catch (e) { return { name: e.name, code: e.code, message: e.message }; } };
      parentPort.postMessage([caught(() => r.sliceSync(-1)), caught(() => r.sliceSync('1')), caught(() => r.sliceSync(null))]);
    });`,
    { eval: true },
  );
  const [negative, string, none] = await new Promise((resolve, reject) => worker.once('message', resolve).once('error', reject));
  await worker.terminate();
  assert.deepEqual(negative, { name: 'RangeError', code: 'ERR_OUT_OF_RANGE', message: 'timeout must be a non-negative number of milliseconds, got -1' });
  assert.deepEqual(string, { name: 'TypeError', code: 'ERR_INVALID_ARG_TYPE', message: 'timeout must be a non-negative number of milliseconds, got a string' });
  assert.equal(none, null, 'null is no timeout');
});

test('a ring side moved to a handle gives that Error before any argument check', { skip: impl === 'wasm' && 'the wasm build in Node has no handles' }, () => {
  const moved = (cls, make, misuse) => {
    const side = make();
    const handle = side.toHandle();
    assert.throws(() => misuse(side), {
      name: 'Error',
      code: 'ERR_INVALID_STATE',
      message: `this ${cls.name} was moved to a handle and cannot be used any more`,
    });
    cls.fromHandle(handle).free();
  };
  moved(CircularWriter, writer, (w) => w.write(5));
  moved(CircularWriter, writer, (w) => w.produce(-1));
  moved(CircularWriter, writer, (w) => w.sliceSync(-1));
  const keep = writer();
  const addReader = () => keep.addReader();
  moved(CircularReader, addReader, (r) => r.consume(-1));
  moved(CircularReader, addReader, (r) => r.read('1'));
  moved(CircularReader, addReader, (r) => r.sliceSync('1'));
  keep.free();
});

test('a sliceAsync() served at the call resolves even if its signal aborts right after', async () => {
  const reader = readerWith('abc');
  const controller = new AbortController();
  const waiting = reader.sliceAsync({ signal: controller.signal });
  controller.abort();
  assert.equal((await waiting).length, 3);
});

test('the entry exports what js/index.d.ts declares, and test hooks named __*, nothing else', () => {
  const declared = new Set(
    [...readFileSync(new URL('../index.d.ts', import.meta.url), 'utf8').matchAll(/^export (?:declare )?(?:class|const|function) (\w+)/gm)].map((m) => m[1]),
  );
  const undeclared = Object.keys(entry).filter((name) => !declared.has(name) && !name.startsWith('__'));
  assert.deepEqual(undeclared, []);
  // Both ways: index.d.ts types the Node entries, so a name it declares that they lack would compile
  // and be undefined at run time (the browser entries' own names are js/browser.d.ts's).
  const missing = [...declared].filter((name) => !(name in entry));
  assert.deepEqual(missing, []);
});

test("the browser entry's first calls run in Node too: init() resolves at once, initSync() does nothing, threaded says whether rings cross threads", async () => {
  assert.equal(await entry.init(), undefined);
  assert.equal(await entry.init(new URL('file:///nothing.wasm')), undefined);
  assert.equal(entry.init(), entry.init(), 'the same Promise, as the browser entry gives');
  assert.equal(entry.initSync(), undefined);
  assert.equal(entry.threaded, impl === 'addon');
  const writer = Circular.withCapacity(64);
  if (entry.threaded) writer.toHandle();
  else assert.throws(() => writer.toHandle());
  writer.free();
});

test('a ring larger than the system can map is a RangeError on every backend, as one past wasm32 is', () => {
  // 2^47 bytes, twice over when double-mapped: more than a 64-bit process's address space and far
  // more than wasm memory. The addon's message says the ring is too large, the wasm build's that the
  // capacity is past what it can count.
  for (const options of [undefined, { backend: 'double-mapped' }, { backend: 'mirror-copy' }]) {
    if (impl !== 'addon' && options !== undefined) continue;
    assert.throws(
      () => Circular.withCapacity(2 ** 47, options),
      (e) => e.constructor === RangeError && e.code === 'ERR_OUT_OF_RANGE' && /too large|between 1 and/.test(e.message),
      JSON.stringify(options),
    );
  }
});

test('a value of the right type that cannot be used is ERR_INVALID_ARG_VALUE, and a handle claimed again ERR_INVALID_STATE', async () => {
  const backends = 'options.backend must be "double-mapped" or "mirror-copy"';
  const cases = [
    [() => BufferKind.register(''), TypeError, 'ERR_INVALID_ARG_VALUE'],
    [() => BufferKind.register('x'.repeat(65)), TypeError, 'ERR_INVALID_ARG_VALUE'],
    [() => BufferKind.register('a b'), TypeError, 'ERR_INVALID_ARG_VALUE'],
    // Names that print alike must be alike: no zero-width space, byte order mark, bidi override.
    [() => BufferKind.register('a\u200Bb'), TypeError, 'ERR_INVALID_ARG_VALUE'],
    [() => BufferKind.register('\uFEFFpcm16'), TypeError, 'ERR_INVALID_ARG_VALUE'],
    [() => BufferKind.register('gpj\u202Eexe'), TypeError, 'ERR_INVALID_ARG_VALUE'],
    [() => Circular.withCapacity(64, { backend: 'nope' }), TypeError, 'ERR_INVALID_ARG_VALUE', `${backends}, got "nope"`],
    [() => Circular.withCapacity(64, { backend: 1 }), TypeError, 'ERR_INVALID_ARG_TYPE', `${backends}, got 1`],
  ];
  if (impl === 'addon') {
    const w = Circular.withCapacity(64);
    const handle = w.addReader().toHandle();
    const back = CircularReader.fromHandle(structuredClone(handle));
    // A reader's handle whose class was edited: refused for the class of what it names, which it
    // leaves to its own handle.
    const parked = w.addReader().toHandle();
    assert.throws(() => CircularWriter.fromHandle({ ...parked, omnibuf: 'CircularWriter' }), {
      name: 'TypeError',
      code: 'ERR_INVALID_ARG_VALUE',
      message: 'this handle is of a CircularReader, not a CircularWriter',
    });
    CircularReader.fromHandle(parked).free();
    cases.push(
      [() => CircularWriter.fromHandle(handle), TypeError, 'ERR_INVALID_ARG_VALUE', 'this handle is of a CircularReader, not a CircularWriter'],
      [() => CircularReader.fromHandle(handle), Error, 'ERR_INVALID_STATE', "this handle was already claimed, or this copy of omnibuf never made it (a handle of another process's copy, or of a dependency's own copy in this one, is that copy's to claim)"],
    );
    for (const [misuse, cls, code, message] of cases) {
      assert.throws(misuse, (e) => e.constructor === cls && e.code === code && (message === undefined || e.message === message));
    }
    const files = 'options.backend must be "positional" or "mapped"';
    const path = new URL(import.meta.url).pathname;
    await assert.rejects(VirtualBuffer.open(path, { backend: 'bogus' }), { name: 'TypeError', code: 'ERR_INVALID_ARG_VALUE', message: `${files}, got "bogus"` });
    await assert.rejects(VirtualBuffer.open(path, { backend: 5 }), { name: 'TypeError', code: 'ERR_INVALID_ARG_TYPE', message: `${files}, got 5` });
    back.free();
    w.free();
    return;
  }
  for (const [misuse, cls, code, message] of cases) {
    assert.throws(misuse, (e) => e.constructor === cls && e.code === code && (message === undefined || e.message === message));
  }
});

test('a VirtualBuffer made from bytes has no name: null (the wasm build; the addon has no names)', { skip: impl === 'addon' && 'browser only (js/index.d.ts)' }, () => {
  const doc = VirtualBuffer.fromBytes('x');
  assert.equal(doc.name, null);
  doc.free();
});

/** Uses `api` as a program would: a ring, a buffer, a pool wait cancelled by a signal, a document's
 * lines; objects made through `other` (another evaluation of an entry) go through `api` too. */
async function usedAlongside(api, other) {
  const writer = api.Circular.withCapacity(64);
  const reader = writer.addReader();
  writer.write('hi');
  assert.deepEqual([...reader.read()], [104, 105]);
  const bytes = other.ZeroCopyBuffer.from('abc');
  assert.ok(bytes instanceof api.ZeroCopyBuffer);
  assert.equal(api.ZeroCopyBuffer.prototype.slice.call(bytes, 1).length, 2);
  const pool = new api.BufferPool({ budget: 4096, classes: [4096] });
  const held = await pool.acquire(10);
  // (Not AbortSignal.timeout(), whose timer would not keep Node running for the browser entry's wait.)
  const controller = new AbortController();
  setTimeout(() => controller.abort(), 5);
  await assert.rejects(pool.acquire(10, { signal: controller.signal }), other.AbortError);
  held.free();
  const doc = api.VirtualBuffer.fromBytes('a\nb\n');
  const lines = [];
  for await (const line of doc.lines()) lines.push(line);
  assert.deepEqual(lines, ['a', 'b']);
  for (const o of [writer, reader, bytes, pool, doc]) o.free();
}

test('an entry evaluated again over the same glue (imported under another URL) gives the same API, and wraps nothing twice', async () => {
  const file = impl === 'addon' ? '../node.mjs' : '../wasm-node.mjs';
  const again = await import(new URL(`${file}?again`, import.meta.url));
  // The same glue (or addon): the same classes, made ready once.
  for (const name of ['ZeroCopyBuffer', 'BufferPool', 'Circular', 'VirtualBuffer', 'AbortError']) {
    assert.equal(again[name], entry[name], name);
  }
  await usedAlongside(entry, again);
  await usedAlongside(again, entry);
});

test('the browser entry evaluated twice over its glue gives one API (in Node, over the module given as bytes)', { skip: impl === 'addon' && 'the wasm build' }, async () => {
  const first = await import(new URL('../web.mjs?first', import.meta.url));
  const second = await import(new URL('../web.mjs?second', import.meta.url));
  for (const name of ['init', 'ZeroCopyBuffer', 'Circular', 'CircularReader', 'AbortError']) {
    assert.equal(second[name], first[name], name);
  }
  await second.init(readFileSync(new URL('../../pkg/web/omnibuf_bg.wasm', import.meta.url)));
  await usedAlongside(first, second);
  await usedAlongside(second, first);
});
