//! Zero-copy buffers: [`ZeroCopyBuffer`], [`BufferMut`], [`BufferKind`] and its registry.
//!
//! Bytes that enter a program from a socket, a file or an FFI boundary land once in memory owned here;
//! from then on the program passes cheap views around ([`ZeroCopyBuffer`]: clone and slice are O(1)),
//! until a final consumer reads the slice. Each view carries a content kind ([`BufferKind`]) and an
//! optional tenant tag, and can hash its visible bytes ([`ZeroCopyBuffer::sha256`]).
//!
//! The memory behind a view is any [`BufferOwner`]: a heap vector, a pooled block from
//! [`BufferPool`](crate::BufferPool), a `'static` slice, or a type of your own.
//!
//! With the cargo feature `bytes`, buffers convert to and from the `bytes` crate's types:
//! - `ZeroCopyBuffer` → `Bytes` and `Bytes` → `ZeroCopyBuffer` wrap the other side as an owner: no byte
//!   is copied. Kind and tenant do not exist on `Bytes`; a buffer made from `Bytes` is `raw`.
//! - `BytesMut` → `ZeroCopyBuffer` freezes the `BytesMut` first (no copy).
//! - `BufferMut` → `BytesMut` hands over the vector (no copy).
//! - `ZeroCopyBuffer` is a `bytes::Buf`; `BufferMut` is a `bytes::BufMut`.
#![cfg_attr(
    feature = "bytes",
    doc = r#"
```
use bytes::{Buf, Bytes};
use omnibuf::{BufferKind, ZeroCopyBuffer};

let b = ZeroCopyBuffer::from_bytes(b"abcdef".to_vec(), BufferKind::raw());
let ptr = b.as_ptr();
let bytes = Bytes::from(b.clone());
assert_eq!(bytes.as_ptr(), ptr); // same memory

let mut buf = b;
assert_eq!(buf.get_u16(), u16::from_be_bytes(*b"ab"));
assert_eq!(buf.remaining(), 4);
```
"#
)]

mod error;
mod kind;
mod mutable;
mod owner;
mod storage;
mod zero_copy;

#[cfg(feature = "bytes")]
mod bytes_compat;

pub use error::SliceError;
#[allow(unused_imports)]
pub(crate) use error::{resolve_range, slice_message};
pub use kind::{BufferKind, BufferKindRegistry, KindError, MAX_KINDS, MAX_KIND_NAME_LEN};
pub use mutable::BufferMut;
pub use owner::BufferOwner;
pub use zero_copy::ZeroCopyBuffer;

#[cfg(test)]
mod tests;
