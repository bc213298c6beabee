//! [`BufferMut`]: a growable builder that freezes into a [`ZeroCopyBuffer`] without copying.

use std::io;
use std::ops::{Deref, DerefMut};
use std::sync::Arc;

use super::zero_copy::BytePreview;
use super::{BufferKind, ZeroCopyBuffer};

/// A growable byte buffer for data that is still arriving; [`freeze`](Self::freeze) turns it into an
/// immutable [`ZeroCopyBuffer`] without copying the bytes.
///
/// Freezing never reallocates, not even when the length is below the capacity: the spare capacity
/// stays with the frozen storage. Call [`shrink_to_fit`](Self::shrink_to_fit) first when that memory
/// matters more than the copy.
///
/// ```
/// use std::io::Write;
/// use omnibuf::{BufferKind, BufferMut};
///
/// let mut b = BufferMut::with_capacity(1024, BufferKind::text());
/// b.extend_from_slice(b"hello ");
/// write!(b, "world {}", 42).unwrap();
/// let frozen = b.freeze();
/// assert_eq!(frozen, b"hello world 42"[..]);
/// assert_eq!(frozen.kind(), BufferKind::text());
/// ```
#[derive(Clone, Default, PartialEq, Eq)]
pub struct BufferMut {
    bytes: Vec<u8>,
    kind: BufferKind,
    tenant: Option<Arc<str>>,
}

/// Shows kind, tenant, length, capacity and the first 32 bytes as an escaped byte string, as
/// [`ZeroCopyBuffer`]'s `Debug` does: a builder of megabytes prints one short line.
///
/// ```
/// use omnibuf::{BufferKind, BufferMut};
///
/// let mut b = BufferMut::with_capacity(1 << 20, BufferKind::raw());
/// b.extend_from_slice(&vec![b'x'; 1 << 20]);
/// let shown = format!("{b:?}");
/// assert!(shown.len() < 160 && shown.contains("len: 1048576"));
/// ```
impl std::fmt::Debug for BufferMut {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut d = f.debug_struct("BufferMut");
        d.field("kind", &self.kind.name()).field("len", &self.bytes.len());
        d.field("capacity", &self.bytes.capacity());
        if let Some(tenant) = &self.tenant {
            d.field("tenant", tenant);
        }
        d.field("bytes", &BytePreview(&self.bytes)).finish()
    }
}

impl BufferMut {
    /// An empty builder that allocates nothing until written.
    ///
    /// ```
    /// use omnibuf::{BufferKind, BufferMut};
    ///
    /// let b = BufferMut::new(BufferKind::json());
    /// assert!(b.is_empty());
    /// assert_eq!(b.capacity(), 0);
    /// assert_eq!(b.kind(), BufferKind::json());
    /// ```
    #[inline]
    pub fn new(kind: BufferKind) -> Self {
        Self::from_vec(Vec::new(), kind)
    }

    /// An empty builder with room for `capacity` bytes.
    ///
    /// # Panics
    ///
    /// As `Vec`'s `with_capacity`: when the capacity would pass `isize::MAX` bytes (and a failed allocation
    /// aborts the process).
    ///
    /// ```
    /// use omnibuf::{BufferKind, BufferMut};
    ///
    /// let b = BufferMut::with_capacity(4096, BufferKind::raw());
    /// assert_eq!(b.len(), 0);
    /// assert!(b.capacity() >= 4096);
    /// ```
    #[inline]
    pub fn with_capacity(capacity: usize, kind: BufferKind) -> Self {
        Self::from_vec(Vec::with_capacity(capacity), kind)
    }

    /// A builder that starts with the bytes (and capacity) of `bytes`.
    ///
    /// ```
    /// use omnibuf::{BufferKind, BufferMut};
    ///
    /// let mut v = Vec::with_capacity(64);
    /// v.extend_from_slice(b"abc");
    /// let b = BufferMut::from_vec(v, BufferKind::text());
    /// assert_eq!(b.as_slice(), b"abc");
    /// assert!(b.capacity() >= 64);
    /// ```
    #[inline]
    pub fn from_vec(bytes: Vec<u8>, kind: BufferKind) -> Self {
        BufferMut { bytes, kind, tenant: None }
    }

    /// Tags the builder (and the buffer it freezes into) with a tenant.
    ///
    /// ```
    /// use omnibuf::{BufferKind, BufferMut};
    ///
    /// let b = BufferMut::new(BufferKind::raw()).with_tenant("customer-7");
    /// assert_eq!(b.freeze().tenant_id(), Some("customer-7"));
    /// ```
    pub fn with_tenant(mut self, tenant_id: impl Into<Arc<str>>) -> Self {
        self.tenant = Some(tenant_id.into());
        self
    }

    /// The tenant tag, if any.
    ///
    /// ```
    /// use omnibuf::{BufferKind, BufferMut};
    ///
    /// assert_eq!(BufferMut::new(BufferKind::raw()).tenant_id(), None);
    /// assert_eq!(BufferMut::new(BufferKind::raw()).with_tenant("t1").tenant_id(), Some("t1"));
    /// ```
    pub fn tenant_id(&self) -> Option<&str> {
        self.tenant.as_deref()
    }

    /// The content kind.
    ///
    /// ```
    /// use omnibuf::{BufferKind, BufferMut};
    ///
    /// assert_eq!(BufferMut::new(BufferKind::opus()).kind(), BufferKind::opus());
    /// ```
    pub fn kind(&self) -> BufferKind {
        self.kind
    }

    /// Changes the content kind.
    ///
    /// ```
    /// use omnibuf::{BufferKind, BufferMut};
    ///
    /// let mut b = BufferMut::new(BufferKind::raw());
    /// b.extend_from_slice(b"{}");
    /// b.set_kind(BufferKind::json());
    /// assert_eq!(b.freeze().kind(), BufferKind::json());
    /// ```
    pub fn set_kind(&mut self, kind: BufferKind) {
        self.kind = kind;
    }

    /// Bytes written so far.
    ///
    /// ```
    /// use omnibuf::{BufferKind, BufferMut};
    ///
    /// let mut b = BufferMut::with_capacity(100, BufferKind::raw());
    /// b.extend_from_slice(b"12345");
    /// assert_eq!(b.len(), 5);
    /// ```
    #[inline]
    pub fn len(&self) -> usize {
        self.bytes.len()
    }

    /// Whether nothing is written.
    ///
    /// ```
    /// use omnibuf::{BufferKind, BufferMut};
    ///
    /// let mut b = BufferMut::with_capacity(8, BufferKind::raw());
    /// assert!(b.is_empty());
    /// b.extend_from_slice(b"x");
    /// assert!(!b.is_empty());
    /// ```
    #[inline]
    pub fn is_empty(&self) -> bool {
        self.bytes.is_empty()
    }

    /// Bytes the builder can hold before it reallocates.
    ///
    /// ```
    /// use omnibuf::{BufferKind, BufferMut};
    ///
    /// let mut b = BufferMut::with_capacity(16, BufferKind::raw());
    /// b.extend_from_slice(b"hi");
    /// assert!(b.capacity() >= 16);
    /// assert!(b.capacity() >= b.len());
    /// ```
    #[inline]
    pub fn capacity(&self) -> usize {
        self.bytes.capacity()
    }

    /// Makes room for at least `additional` more bytes.
    ///
    /// # Panics
    ///
    /// As `Vec`'s `reserve`: when the capacity would pass `isize::MAX` bytes (and a failed allocation
    /// aborts the process).
    ///
    /// ```
    /// use omnibuf::{BufferKind, BufferMut};
    ///
    /// let mut b = BufferMut::new(BufferKind::raw());
    /// b.extend_from_slice(b"head");
    /// b.reserve(1000);
    /// assert!(b.capacity() >= 1004);
    /// assert_eq!(b.as_slice(), b"head");
    /// ```
    #[inline]
    pub fn reserve(&mut self, additional: usize) {
        self.bytes.reserve(additional);
    }

    /// Appends `bytes`, growing by doubling when needed.
    ///
    /// # Panics
    ///
    /// As `Vec`'s `extend_from_slice`: when the capacity would pass `isize::MAX` bytes (and a failed allocation
    /// aborts the process).
    ///
    /// ```
    /// use omnibuf::{BufferKind, BufferMut};
    ///
    /// let mut b = BufferMut::new(BufferKind::text());
    /// b.extend_from_slice(b"one ");
    /// b.extend_from_slice(b"two");
    /// assert_eq!(b.as_slice(), b"one two");
    /// ```
    #[inline]
    pub fn extend_from_slice(&mut self, bytes: &[u8]) {
        self.bytes.extend_from_slice(bytes);
    }

    /// Shortens the content to `len` bytes, keeping the capacity.
    ///
    /// ```
    /// use omnibuf::{BufferKind, BufferMut};
    ///
    /// let mut b = BufferMut::from_vec(b"hello world".to_vec(), BufferKind::text());
    /// let capacity = b.capacity();
    /// b.truncate(5);
    /// assert_eq!(b.as_slice(), b"hello");
    /// assert_eq!(b.capacity(), capacity);
    /// ```
    pub fn truncate(&mut self, len: usize) {
        self.bytes.truncate(len);
    }

    /// Removes all content, keeping the capacity.
    ///
    /// ```
    /// use omnibuf::{BufferKind, BufferMut};
    ///
    /// let mut b = BufferMut::with_capacity(32, BufferKind::raw());
    /// b.extend_from_slice(b"data");
    /// b.clear();
    /// assert!(b.is_empty());
    /// assert!(b.capacity() >= 32);
    /// ```
    pub fn clear(&mut self) {
        self.bytes.clear();
    }

    /// Gives spare capacity back to the allocator (this may copy the bytes).
    ///
    /// ```
    /// use omnibuf::{BufferKind, BufferMut};
    ///
    /// let mut b = BufferMut::with_capacity(1 << 16, BufferKind::raw());
    /// b.extend_from_slice(b"small");
    /// b.shrink_to_fit();
    /// assert!(b.capacity() < 1 << 16);
    /// assert_eq!(b.as_slice(), b"small");
    /// ```
    pub fn shrink_to_fit(&mut self) {
        self.bytes.shrink_to_fit();
    }

    /// The content written so far.
    ///
    /// ```
    /// use omnibuf::{BufferKind, BufferMut};
    ///
    /// let mut b = BufferMut::new(BufferKind::raw());
    /// b.extend_from_slice(&[1, 2, 3]);
    /// assert_eq!(b.as_slice(), &[1, 2, 3]);
    /// ```
    #[inline]
    pub fn as_slice(&self) -> &[u8] {
        &self.bytes
    }

    /// The content written so far, writable.
    ///
    /// ```
    /// use omnibuf::{BufferKind, BufferMut};
    ///
    /// let mut b = BufferMut::from_vec(b"abc".to_vec(), BufferKind::text());
    /// b.as_mut_slice().make_ascii_uppercase();
    /// assert_eq!(b.as_slice(), b"ABC");
    /// ```
    #[inline]
    pub fn as_mut_slice(&mut self) -> &mut [u8] {
        &mut self.bytes
    }

    /// The underlying vector, for APIs that fill a `Vec<u8>` directly.
    ///
    /// ```
    /// use std::io::Read;
    /// use omnibuf::{BufferKind, BufferMut};
    ///
    /// let mut b = BufferMut::new(BufferKind::raw());
    /// let mut source: &[u8] = b"read into the builder";
    /// source.read_to_end(b.as_mut_vec()).unwrap();
    /// assert_eq!(b.as_slice(), b"read into the builder");
    /// ```
    #[inline]
    pub fn as_mut_vec(&mut self) -> &mut Vec<u8> {
        &mut self.bytes
    }

    /// Gives up the builder and returns its bytes.
    ///
    /// ```
    /// use omnibuf::{BufferKind, BufferMut};
    ///
    /// let mut b = BufferMut::new(BufferKind::raw());
    /// b.extend_from_slice(b"xyz");
    /// assert_eq!(b.into_vec(), b"xyz".to_vec());
    /// ```
    #[inline]
    pub fn into_vec(self) -> Vec<u8> {
        self.bytes
    }

    /// Turns the builder into an immutable buffer. The bytes are not copied and the allocation is not
    /// resized; kind and tenant carry over.
    ///
    /// ```
    /// use omnibuf::{BufferKind, BufferMut};
    ///
    /// let mut b = BufferMut::with_capacity(64, BufferKind::text()).with_tenant("t");
    /// b.extend_from_slice(b"frozen");
    /// let address = b.as_slice().as_ptr();
    /// let frozen = b.freeze();
    /// assert_eq!(frozen.as_slice().as_ptr(), address); // not copied
    /// assert_eq!((frozen.kind(), frozen.tenant_id()), (BufferKind::text(), Some("t")));
    /// ```
    #[inline]
    pub fn freeze(self) -> ZeroCopyBuffer {
        ZeroCopyBuffer::from_vec(self.bytes, self.kind, self.tenant)
    }
}

impl Deref for BufferMut {
    type Target = [u8];
    fn deref(&self) -> &[u8] {
        &self.bytes
    }
}

impl DerefMut for BufferMut {
    fn deref_mut(&mut self) -> &mut [u8] {
        &mut self.bytes
    }
}

impl AsRef<[u8]> for BufferMut {
    fn as_ref(&self) -> &[u8] {
        &self.bytes
    }
}

impl AsMut<[u8]> for BufferMut {
    fn as_mut(&mut self) -> &mut [u8] {
        &mut self.bytes
    }
}

impl Extend<u8> for BufferMut {
    fn extend<I: IntoIterator<Item = u8>>(&mut self, iter: I) {
        self.bytes.extend(iter);
    }
}

impl<'a> Extend<&'a u8> for BufferMut {
    fn extend<I: IntoIterator<Item = &'a u8>>(&mut self, iter: I) {
        self.bytes.extend(iter);
    }
}

impl io::Write for BufferMut {
    #[inline]
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.bytes.extend_from_slice(buf);
        Ok(buf.len())
    }

    #[inline]
    fn write_all(&mut self, buf: &[u8]) -> io::Result<()> {
        self.bytes.extend_from_slice(buf);
        Ok(())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl From<BufferMut> for ZeroCopyBuffer {
    fn from(b: BufferMut) -> Self {
        b.freeze()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_is_readable_and_bounded() {
        let mut small = BufferMut::with_capacity(16, BufferKind::text()).with_tenant("t1");
        small.extend_from_slice(b"hi\n\xff");
        assert_eq!(
            format!("{small:?}"),
            r#"BufferMut { kind: "text", len: 4, capacity: 16, tenant: "t1", bytes: b"hi\n\xff" }"#
        );
        // What the issue saw: a 1 MiB builder printed every byte (5 MB of text).
        let big = BufferMut::from_vec(vec![0xAB; 1 << 20], BufferKind::raw());
        for shown in [format!("{big:?}"), format!("{big:#?}")] {
            assert!(shown.len() < 300, "{shown}");
            assert!(shown.contains(&format!("b\"{}\"...", r"\xab".repeat(32))), "{shown}");
        }
        // Exactly 32 bytes: all shown, nothing elided.
        let exact = BufferMut::from_vec(vec![b'a'; 32], BufferKind::raw());
        assert!(format!("{exact:?}").ends_with(&format!("b\"{}\" }}", "a".repeat(32))));
    }
}
