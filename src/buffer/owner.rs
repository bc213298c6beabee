//! What keeps the memory behind a [`ZeroCopyBuffer`](super::ZeroCopyBuffer) alive.
//!
//! Every view holds a reference-counted owner. The owner may be a `Vec<u8>` (heap), a pooled block that
//! goes back to its [`BufferPool`](crate::BufferPool) when dropped, a memory map, or anything else that
//! hands out a stable byte slice. The last view's drop drops the owner.

/// Memory that can back a [`ZeroCopyBuffer`](super::ZeroCopyBuffer).
///
/// Implemented for every `AsRef<[u8]> + Send + Sync + 'static` type. The contract a custom owner must
/// keep: `as_ref` returns the same bytes, at the same address, for as long as the owner lives. The
/// buffer reads through a pointer taken once, when it is built, and never asks again. Every safe owner
/// keeps this: the owner sits behind an `Arc` and is never mutated.
///
/// ```
/// use omnibuf::{BufferKind, ZeroCopyBuffer};
///
/// struct Frame { pixels: Vec<u8> }
/// impl AsRef<[u8]> for Frame {
///     fn as_ref(&self) -> &[u8] { &self.pixels }
/// }
///
/// let buf = ZeroCopyBuffer::from_owner(Frame { pixels: vec![7; 64] }, BufferKind::raw());
/// assert_eq!(buf.len(), 64);
/// ```
pub trait BufferOwner: Send + Sync + 'static {
    /// The bytes this owner keeps alive.
    ///
    /// ```
    /// use omnibuf::BufferOwner;
    ///
    /// let frame: Vec<u8> = vec![1, 2, 3];
    /// assert_eq!(frame.owned_bytes(), &[1, 2, 3]); // every `AsRef<[u8]>` owner is one
    /// ```
    fn owned_bytes(&self) -> &[u8];
}

impl<T: AsRef<[u8]> + Send + Sync + 'static> BufferOwner for T {
    fn owned_bytes(&self) -> &[u8] {
        self.as_ref()
    }
}
