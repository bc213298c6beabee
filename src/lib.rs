//! # omnibuf
//!
//! Zero-copy buffers, a budgeted buffer pool, a circular ring and a virtual buffer, with one API for native
//! Rust programs, web pages (wasm-bindgen) and Node.js (napi-rs).
//!
//! What is built today:
//!
//! - [`ZeroCopyBuffer`]: an immutable view whose clone and slice are O(1) and share one allocation. The
//!   storage behind it may be heap memory, a `'static` slice, a buffer from a [`BufferPool`], or any owner
//!   you hand it ([`ZeroCopyBuffer::from_owner`]); the last view's drop releases it.
//! - [`BufferMut`]: a growable builder that [`freeze`](BufferMut::freeze)s into a [`ZeroCopyBuffer`]
//!   without copying.
//! - [`BufferKind`]: an O(1)-comparable content tag (`raw`, `pcm16`, `jpeg`, …) with a thread-safe
//!   registry that users extend.
//! - [`BufferPool`]: size classes, a byte budget with backpressure (block, time out, await, or fail fast),
//!   per-tenant quotas, reuse of released memory, trimming and [`BufferPoolSnapshot`] statistics.
//!
//! - [`ring`]: the circular ring, one writer and any number of readers, every slice contiguous across
//!   the wrap, on double-mapped memory (native targets) or a mirror-copy fallback
//!   ([`ring::RingBackend`]); blocking, async, lock-free, non-blocking and generic (user notifier)
//!   flavours, and per-item tags.
//! - [`vbuf`]: the virtual buffer, which edits files larger than memory: a piece tree over a
//!   [`vbuf::PersistenceLayer`] (a memory-mapped or positionally read file, memory, or your own),
//!   a bounded cache, byte iterators that follow edits, lines, undo and crash-safe save; on wasm32,
//!   `vbuf::StoredBuffer` keeps its document in the browser's IndexedDB and `vbuf::opfs` in the
//!   Origin Private File System.
//! - `wasm` (wasm32 only): the JS API of `js/index.d.ts` for buffers, kinds, the pool, the byte ring
//!   and the virtual buffer.
//!
//! The Node addon is its own crate, `node/`. With the `testing` feature, `omnibuf::testing` holds the aids
//! the crate's own tests use (fault injection, invariant checks).
//!
//! ```
//! use omnibuf::{BufferKind, BufferMut, ZeroCopyBuffer};
//!
//! let mut b = BufferMut::with_capacity(16, BufferKind::raw());
//! b.extend_from_slice(b"hello world");
//! let frozen: ZeroCopyBuffer = b.freeze();
//! let hello = frozen.slice(0..5); // shares the allocation
//! assert_eq!(&hello[..], b"hello");
//! assert_eq!(frozen.sharers(), 2);
//! ```
#![warn(missing_docs)]

// The binding core is the crate's own on wasm32 (src/wasm is its adapter) and in the unit tests; the
// Node addon, a crate of its own, turns on the `binding` feature to reach it.
#[cfg(feature = "binding")]
#[doc(hidden)]
pub mod binding;
#[cfg(all(any(target_arch = "wasm32", test), not(feature = "binding")))]
#[allow(dead_code, unused_imports)] // the checks and messages only the Node addon calls
mod binding;
pub mod buffer;
mod platform;
pub mod pool;
pub mod ring;
pub mod vbuf;

mod sync;
#[cfg(test)]
mod test_tasks;

#[cfg(feature = "testing")]
pub mod testing;

#[cfg(target_arch = "wasm32")]
mod wasm;

pub use buffer::{
    BufferKind, BufferKindRegistry, BufferMut, BufferOwner, KindError, SliceError, ZeroCopyBuffer,
};
pub use pool::{
    Acquire, BufferPool, BufferPoolConfig, BufferPoolSnapshot, CapacityError, ClassSnapshot,
    OutstandingBuffer, PoolClass, PoolError, PooledBuffer, Tenant, TenantSnapshot,
};

/// The README's Rust quick start, compiled with the doc tests so that it keeps up with the API.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
pub struct ReadmeQuickStart;
