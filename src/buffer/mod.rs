//! Zero-copy buffers: [`ZeroCopyBuffer`], [`BufferMut`], [`BufferKind`] and its registry.
//!
//! Bytes that enter a program from a socket, a file or an FFI boundary land once in memory owned here;
//! from then on the program passes cheap views around ([`ZeroCopyBuffer`]: clone and slice are O(1)),
//! until a final consumer reads the slice. Each view carries a content kind ([`BufferKind`]) and an
//! optional tenant tag, and can hash its visible bytes ([`ZeroCopyBuffer::sha256`]).
//!
//! The memory behind a view is any [`BufferOwner`]: a heap vector, a pooled block from
//! [`BufferPool`](crate::BufferPool), a `'static` slice, or a type of your own.

mod error;
mod kind;
mod mutable;
mod owner;
mod storage;
mod zero_copy;

#[cfg(feature = "bytes")]
mod bytes_compat;

#[allow(unused_imports)]
pub(crate) use error::resolve_range;
pub use error::SliceError;
pub use kind::{BufferKind, BufferKindRegistry, KindError, MAX_KINDS, MAX_KIND_NAME_LEN};
pub use mutable::BufferMut;
pub use owner::BufferOwner;
pub use zero_copy::ZeroCopyBuffer;

#[cfg(test)]
mod tests;
