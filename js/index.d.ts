// The JS API of omnibuf: the one definition that the browser entry (wasm-bindgen) and the Node entry
// (napi-rs addon) both implement, with the same semantics as the Rust crate in JS naming.
//
// Built so far: ZeroCopyBuffer, BufferMut, BufferKind, BufferPool, PooledBuffer, implemented by the
// wasm build (run in Node by the test suite). Not built yet: the Node addon, the browser entry's
// init(), the ring and the virtual buffer.
//
// Conventions:
// - Sizes and offsets are non-negative integers: a non-integer throws a TypeError, a negative or
//   out-of-range value a RangeError. Every error is a JS exception; nothing aborts the process.
// - Objects hold native or wasm memory: call free() (or use `using`, via [Symbol.dispose]) when done.
//   Using an object after free(), or a builder after freeze(), throws an Error that says so.
// - Bytes passed in (Uint8Array, ArrayBuffer, any typed array, or a string as UTF-8) are copied.
// - view() returns the bytes in place. In the browser it is a view of wasm memory, valid until the
//   object is freed or wasm memory grows (any call may grow it): call view() again rather than keep
//   it. bytes() returns a copy that is always safe to keep.

/** Bytes accepted from JS; always copied. A string is taken as UTF-8. */
export type BytesLike = Uint8Array | ArrayBuffer | ArrayBufferView | string;

/** The content kinds, passed by name: built-in ("raw", "text", "json", "pcm16", "pcm_f32",
 * "mulaw8", "alaw8", "opus", "jpeg", "png", "webp", "gif", "h264", "mp4") and registered ones. */
export class BufferKind {
  private constructor();
  /** Registers `name` (1 to 64 bytes, no whitespace; TypeError otherwise) and returns it. */
  static register(name: string): string;
  /** Whether `name` is a known kind. */
  static has(name: string): boolean;
  /** Every known kind, built-in ones first. */
  static names(): string[];
  free(): void;
  [Symbol.dispose](): void;
}

/** An immutable view over shared bytes. slice/splitTo/splitOff/withTenant/retag share the memory. */
export class ZeroCopyBuffer {
  private constructor();
  /** Copies `bytes` into a new buffer; kind defaults to "raw" ("text" for a string). */
  static from(bytes: BytesLike, kind?: string): ZeroCopyBuffer;
  readonly length: number;
  readonly kind: string;
  readonly tenant: string | undefined;
  /** How many views share the storage. */
  readonly sharers: number;
  withTenant(tenant: string): ZeroCopyBuffer;
  retag(kind: string): ZeroCopyBuffer;
  /** Bytes start..end (end defaults to length); RangeError when out of bounds or decreasing. */
  slice(start: number, end?: number): ZeroCopyBuffer;
  /** Returns bytes 0..at; this buffer keeps the rest. */
  splitTo(at: number): ZeroCopyBuffer;
  /** Returns bytes at..; this buffer keeps 0..at. */
  splitOff(at: number): ZeroCopyBuffer;
  /** SHA-256 of the visible bytes. */
  sha256(): Uint8Array;
  /** Whether `other` holds the same bytes. */
  equals(other: ZeroCopyBuffer): boolean;
  view(): Uint8Array;
  bytes(): Uint8Array;
  free(): void;
  [Symbol.dispose](): void;
}

/** A growable builder; freeze() turns it into a ZeroCopyBuffer without copying. */
export class BufferMut {
  constructor(capacity?: number, kind?: string);
  readonly length: number;
  readonly capacity: number;
  append(bytes: BytesLike): void;
  /** The builder cannot be used after. */
  freeze(): ZeroCopyBuffer;
  free(): void;
  [Symbol.dispose](): void;
}

export interface BufferPoolOptions {
  /** Most bytes checked out at once. */
  budget: number;
  /** Size classes in bytes (default 4 KiB, 16 KiB, 64 KiB, 256 KiB, 1 MiB). */
  classes?: number[];
  /** Most bytes kept idle for reuse (default budget / 4). */
  maxIdle?: number;
  tenantQuotas?: Record<string, number>;
  defaultTenantQuota?: number;
}

export interface ClassSnapshot {
  size: number;
  inUseBytes: number;
  highWaterBytes: number;
  leasedBytes: number;
  idleBytes: number;
  cachedBytes: number;
  waiting: number;
  waits: number;
  timeouts: number;
  refusals: number;
}

export interface TenantSnapshot {
  tenant: string;
  quota: number | null;
  inUseBytes: number;
  highWaterBytes: number;
  waits: number;
  timeouts: number;
  refusals: number;
}

export interface BufferPoolSnapshot {
  budget: number;
  inUseBytes: number;
  reservedBytes: number;
  highWaterBytes: number;
  leasedBytes: number;
  idleBytes: number;
  cachedBytes: number;
  waiting: number;
  classes: ClassSnapshot[];
  tenants: TenantSnapshot[];
}

/** A pool of reusable buffers with size classes, a byte budget and per-tenant quotas. It never
 * blocks: acquire() waits asynchronously, tryAcquire() returns null when there is no room. */
export class BufferPool {
  /** TypeError for a missing or malformed option. */
  constructor(options: BufferPoolOptions);
  readonly budget: number;
  readonly classes: number[];
  /** A buffer now, or null when the budget or the tenant's quota is full. RangeError for a request
   * that can never be served (no class holds it, or it exceeds the budget or the quota). */
  tryAcquire(size: number, tenant?: string): PooledBuffer | null;
  /** Resolves once there is room, first come first served per class; rejects with a RangeError for a
   * request that can never be served. */
  acquire(size: number, tenant?: string): Promise<PooledBuffer>;
  snapshot(): BufferPoolSnapshot;
  /** Returns idle memory to the allocator; returns the bytes freed. */
  trim(): number;
  free(): void;
  [Symbol.dispose](): void;
}

/** A writable buffer from a BufferPool, with its class's fixed capacity. */
export class PooledBuffer {
  private constructor();
  readonly length: number;
  readonly capacity: number;
  readonly tenant: string | undefined;
  /** RangeError (and nothing written) when the bytes do not fit. */
  append(bytes: BytesLike): void;
  view(): Uint8Array;
  /** The memory returns to the pool when the last view is freed; the PooledBuffer cannot be used
   * after. */
  freeze(kind?: string): ZeroCopyBuffer;
  free(): void;
  [Symbol.dispose](): void;
}
