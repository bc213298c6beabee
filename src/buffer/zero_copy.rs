//! [`ZeroCopyBuffer`]: an immutable view over shared bytes.

use std::borrow::Borrow;
use std::cmp::Ordering;
use std::fmt;
use std::hash::{Hash, Hasher};
use std::ops::{Deref, RangeBounds};
use std::ptr::NonNull;
use std::sync::Arc;

use super::error::{resolve_range, SliceError};
use super::{BufferKind, BufferOwner};

/// An immutable view over a region of bytes, cheap to clone and to slice.
///
/// Clones and slices share the storage: no bytes are copied and nothing is allocated. The storage is
/// reference-counted and released when the last view drops: heap memory is freed, pooled memory goes
/// back to its [`BufferPool`](crate::BufferPool), a `'static` slice is left alone.
///
/// Every view carries a [`BufferKind`] and an optional tenant tag, both of which clones and slices
/// inherit. Equality, ordering and hashing look at the visible bytes only.
///
/// Note that a small view keeps its whole storage alive; copy it out (`ZeroCopyBuffer::copy_from_slice`)
/// when a few bytes must outlive a large buffer.
///
/// ```
/// use omnibuf::{BufferKind, ZeroCopyBuffer};
///
/// let b = ZeroCopyBuffer::from_bytes(vec![10, 20, 30, 40], BufferKind::pcm16()).with_tenant("alpha");
/// let s = b.slice(1..3);
/// assert_eq!(s, [20u8, 30][..]);
/// assert_eq!(s.kind(), BufferKind::pcm16());
/// assert_eq!(s.tenant_id(), Some("alpha"));
/// assert_eq!(b.sharers(), 2);
/// ```
pub struct ZeroCopyBuffer {
    /// First visible byte. Invariant: `ptr .. ptr + len` lies inside the bytes of `owner` (or of a
    /// `'static` slice when `owner` is `None`), and those bytes are never written while a view exists.
    ptr: NonNull<u8>,
    len: usize,
    /// Keeps the storage alive; `None` for `'static` storage.
    owner: Option<Arc<dyn BufferOwner>>,
    kind: BufferKind,
    tenant: Option<Arc<str>>,
}

// SAFETY: the view only reads bytes that are never mutated while shared, and its owner is
// `Send + Sync` (required by `BufferOwner`), so moving or sharing the view across threads is as safe as
// moving or sharing an `Arc<dyn BufferOwner>` plus a `&[u8]` into it.
unsafe impl Send for ZeroCopyBuffer {}
// SAFETY: see `Send` above; every method takes `&self` to read immutable bytes.
unsafe impl Sync for ZeroCopyBuffer {}

// A view is immutable and every operation on it either completes or leaves it untouched, so a panic
// cannot leave one half-updated; the owner's interior (which `dyn BufferOwner` hides) is never touched.
impl std::panic::UnwindSafe for ZeroCopyBuffer {}
impl std::panic::RefUnwindSafe for ZeroCopyBuffer {}

impl ZeroCopyBuffer {
    /// An empty buffer of kind `raw`.
    pub const fn new() -> Self {
        Self::from_static(&[], BufferKind::raw())
    }

    /// Takes ownership of a byte vector without copying its bytes.
    ///
    /// Passing a `&[u8]` copies it once into a new vector; pass a `Vec<u8>` to avoid that.
    pub fn from_bytes(bytes: impl Into<Vec<u8>>, kind: BufferKind) -> Self {
        Self::from_owner(bytes.into(), kind)
    }

    /// Wraps an existing `Arc<[u8]>` without copying its bytes.
    pub fn from_arc(storage: Arc<[u8]>, kind: BufferKind) -> Self {
        Self::from_owner(storage, kind)
    }

    /// Views `'static` bytes; nothing is allocated or counted.
    ///
    /// ```
    /// use omnibuf::{BufferKind, ZeroCopyBuffer};
    /// let b = ZeroCopyBuffer::from_static(b"const", BufferKind::text());
    /// assert_eq!(&b[..], b"const");
    /// ```
    pub const fn from_static(bytes: &'static [u8], kind: BufferKind) -> Self {
        ZeroCopyBuffer {
            // A slice's pointer is never null (empty slices point at a dangling, aligned address).
            ptr: match NonNull::new(bytes.as_ptr() as *mut u8) {
                Some(p) => p,
                None => NonNull::dangling(),
            },
            len: bytes.len(),
            owner: None,
            kind,
            tenant: None,
        }
    }

    /// Views the bytes of any [`BufferOwner`]: a memory map, a pooled block, a `bytes::Bytes`, a type of
    /// your own. The owner is dropped when the last view drops.
    pub fn from_owner(owner: impl BufferOwner, kind: BufferKind) -> Self {
        Self::from_shared_owner(Arc::new(owner), kind)
    }

    /// Views the bytes of an owner that is already behind an `Arc`.
    pub(crate) fn from_shared_owner(owner: Arc<dyn BufferOwner>, kind: BufferKind) -> Self {
        let bytes = owner.owned_bytes();
        ZeroCopyBuffer {
            ptr: NonNull::from(bytes).cast(),
            len: bytes.len(),
            owner: Some(owner),
            kind,
            tenant: None,
        }
    }

    /// Copies `bytes` into a new heap buffer.
    pub fn copy_from_slice(bytes: &[u8], kind: BufferKind) -> Self {
        Self::from_bytes(bytes.to_vec(), kind)
    }

    /// Tags the buffer with its owning tenant, for pool accounting and observability.
    pub fn with_tenant(mut self, tenant_id: impl Into<Arc<str>>) -> Self {
        self.tenant = Some(tenant_id.into());
        self
    }

    pub(crate) fn set_tenant(&mut self, tenant: Option<Arc<str>>) {
        self.tenant = tenant;
    }

    /// The tenant this buffer is tagged with, if any.
    pub fn tenant_id(&self) -> Option<&str> {
        self.tenant.as_deref()
    }

    /// The visible length in bytes.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether no bytes are visible.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The content kind.
    pub fn kind(&self) -> BufferKind {
        self.kind
    }

    /// A view of the same bytes with another kind (e.g. `raw` → `jpeg` after format detection). The
    /// original view keeps its kind.
    ///
    /// ```
    /// use omnibuf::{BufferKind, ZeroCopyBuffer};
    /// let raw = ZeroCopyBuffer::from_static(b"\xff\xd8\xff", BufferKind::raw());
    /// let jpeg = raw.retag(BufferKind::jpeg());
    /// assert_eq!((raw.kind(), jpeg.kind()), (BufferKind::raw(), BufferKind::jpeg()));
    /// ```
    pub fn retag(&self, kind: BufferKind) -> Self {
        let mut view = self.clone();
        view.kind = kind;
        view
    }

    /// The visible bytes.
    #[inline]
    pub fn as_slice(&self) -> &[u8] {
        // SAFETY: by the struct invariant `ptr .. ptr + len` lies inside bytes that `owner` (or the
        // 'static lifetime) keeps alive for at least as long as `self`, and nobody writes them while
        // a view exists.
        unsafe { std::slice::from_raw_parts(self.ptr.as_ptr(), self.len) }
    }

    /// A view of `range` of this buffer, sharing its storage.
    ///
    /// # Panics
    /// When the range is out of bounds or decreasing; [`try_slice`](Self::try_slice) returns an error
    /// instead.
    ///
    /// ```
    /// use omnibuf::{BufferKind, ZeroCopyBuffer};
    /// let b = ZeroCopyBuffer::from_static(b"hello world", BufferKind::text());
    /// assert_eq!(b.slice(6..), b"world"[..]);
    /// assert_eq!(b.slice(..=4), b"hello"[..]);
    /// ```
    #[inline]
    #[track_caller]
    pub fn slice(&self, range: impl RangeBounds<usize>) -> Self {
        match self.try_slice(range) {
            Ok(view) => view,
            Err(e) => panic!("ZeroCopyBuffer::slice: {e}"),
        }
    }

    /// A view of `range` of this buffer, or an error when the range does not fit.
    #[inline]
    pub fn try_slice(&self, range: impl RangeBounds<usize>) -> Result<Self, SliceError> {
        let range = resolve_range(range, self.len)?;
        Ok(self.subview(range.start, range.end - range.start))
    }

    /// Splits off and returns the bytes `[0, at)`; `self` keeps `[at, len)`.
    ///
    /// # Panics
    /// When `at > len`; [`try_split_to`](Self::try_split_to) returns an error instead.
    ///
    /// ```
    /// use omnibuf::{BufferKind, ZeroCopyBuffer};
    /// let mut b = ZeroCopyBuffer::from_static(b"headbody", BufferKind::raw());
    /// let head = b.split_to(4);
    /// assert_eq!((&head[..], &b[..]), (&b"head"[..], &b"body"[..]));
    /// ```
    #[track_caller]
    pub fn split_to(&mut self, at: usize) -> Self {
        match self.try_split_to(at) {
            Ok(head) => head,
            Err(e) => panic!("ZeroCopyBuffer::split_to: {e}"),
        }
    }

    /// Like [`split_to`](Self::split_to), but returns an error when `at > len`.
    pub fn try_split_to(&mut self, at: usize) -> Result<Self, SliceError> {
        let head = self.try_slice(..at)?;
        *self = self.subview(at, self.len - at);
        Ok(head)
    }

    /// Splits off and returns the bytes `[at, len)`; `self` keeps `[0, at)`.
    ///
    /// # Panics
    /// When `at > len`; [`try_split_off`](Self::try_split_off) returns an error instead.
    #[track_caller]
    pub fn split_off(&mut self, at: usize) -> Self {
        match self.try_split_off(at) {
            Ok(tail) => tail,
            Err(e) => panic!("ZeroCopyBuffer::split_off: {e}"),
        }
    }

    /// Like [`split_off`](Self::split_off), but returns an error when `at > len`.
    pub fn try_split_off(&mut self, at: usize) -> Result<Self, SliceError> {
        let tail = self.try_slice(at..)?;
        self.len = at;
        Ok(tail)
    }

    /// Shortens the view to `len` bytes; does nothing when it is already shorter.
    pub fn truncate(&mut self, len: usize) {
        self.len = self.len.min(len);
    }

    /// Drops the first `cnt` bytes from the view.
    ///
    /// # Panics
    /// When `cnt > len`.
    #[track_caller]
    pub fn advance(&mut self, cnt: usize) {
        assert!(
            cnt <= self.len,
            "ZeroCopyBuffer::advance: cannot advance {cnt} bytes past the end of a buffer of {} bytes",
            self.len
        );
        *self = self.subview(cnt, self.len - cnt);
    }

    /// How many views share this buffer's storage. For observability only: another thread may clone
    /// or drop a view at any moment. `'static` storage is not counted and reports 1.
    pub fn sharers(&self) -> usize {
        self.owner.as_ref().map_or(1, Arc::strong_count)
    }

    /// SHA-256 of the visible bytes. Not cached.
    ///
    /// ```
    /// use omnibuf::{BufferKind, ZeroCopyBuffer};
    /// let b = ZeroCopyBuffer::from_static(b"xabcx", BufferKind::raw());
    /// assert_eq!(b.slice(1..4).sha256(), ZeroCopyBuffer::from_static(b"abc", BufferKind::raw()).sha256());
    /// ```
    pub fn sha256(&self) -> [u8; 32] {
        use sha2::{Digest, Sha256};
        Sha256::digest(self.as_slice()).into()
    }

    /// Copies the visible bytes into a new vector.
    pub fn to_vec(&self) -> Vec<u8> {
        self.as_slice().to_vec()
    }

    /// `len` bytes starting `offset` bytes into this view; the caller has checked the bounds.
    #[inline]
    fn subview(&self, offset: usize, len: usize) -> Self {
        debug_assert!(offset + len <= self.len);
        ZeroCopyBuffer {
            // SAFETY: `offset <= self.len`, so the result stays inside (or one past the end of) the
            // bytes this view already covers.
            ptr: unsafe { self.ptr.add(offset) },
            len,
            owner: self.owner.clone(),
            kind: self.kind,
            tenant: self.tenant.clone(),
        }
    }
}

impl Clone for ZeroCopyBuffer {
    /// O(1): bumps the storage's reference count.
    #[inline]
    fn clone(&self) -> Self {
        ZeroCopyBuffer {
            ptr: self.ptr,
            len: self.len,
            owner: self.owner.clone(),
            kind: self.kind,
            tenant: self.tenant.clone(),
        }
    }
}

impl Default for ZeroCopyBuffer {
    fn default() -> Self {
        Self::new()
    }
}

impl Deref for ZeroCopyBuffer {
    type Target = [u8];
    #[inline]
    fn deref(&self) -> &[u8] {
        self.as_slice()
    }
}

impl AsRef<[u8]> for ZeroCopyBuffer {
    fn as_ref(&self) -> &[u8] {
        self.as_slice()
    }
}

impl Borrow<[u8]> for ZeroCopyBuffer {
    fn borrow(&self) -> &[u8] {
        self.as_slice()
    }
}

impl PartialEq for ZeroCopyBuffer {
    fn eq(&self, other: &Self) -> bool {
        self.as_slice() == other.as_slice()
    }
}

impl Eq for ZeroCopyBuffer {}

impl PartialOrd for ZeroCopyBuffer {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for ZeroCopyBuffer {
    fn cmp(&self, other: &Self) -> Ordering {
        self.as_slice().cmp(other.as_slice())
    }
}

impl Hash for ZeroCopyBuffer {
    /// Hashes like `[u8]`, so a `HashSet<ZeroCopyBuffer>` can be queried with a `&[u8]`.
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.as_slice().hash(state)
    }
}

impl PartialEq<[u8]> for ZeroCopyBuffer {
    fn eq(&self, other: &[u8]) -> bool {
        self.as_slice() == other
    }
}

impl PartialEq<&[u8]> for ZeroCopyBuffer {
    fn eq(&self, other: &&[u8]) -> bool {
        self.as_slice() == *other
    }
}

impl PartialEq<Vec<u8>> for ZeroCopyBuffer {
    fn eq(&self, other: &Vec<u8>) -> bool {
        self.as_slice() == other.as_slice()
    }
}

impl PartialEq<str> for ZeroCopyBuffer {
    fn eq(&self, other: &str) -> bool {
        self.as_slice() == other.as_bytes()
    }
}

impl fmt::Debug for ZeroCopyBuffer {
    /// Shows kind, tenant, length and the first 32 bytes as an escaped byte string.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut d = f.debug_struct("ZeroCopyBuffer");
        d.field("kind", &self.kind.name()).field("len", &self.len);
        if let Some(tenant) = &self.tenant {
            d.field("tenant", tenant);
        }
        d.field("bytes", &BytePreview(self.as_slice())).finish()
    }
}

/// The first bytes of a buffer as an escaped byte string (`b"..."`), with `...` after it when there
/// are more: what the buffers' `Debug` shows, so that printing a large buffer stays short.
pub(super) struct BytePreview<'a>(pub(super) &'a [u8]);

impl fmt::Debug for BytePreview<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        const SHOWN: usize = 32;
        let shown = &self.0[..self.0.len().min(SHOWN)];
        f.write_str("b\"")?;
        for c in shown.iter().flat_map(|b| std::ascii::escape_default(*b)) {
            fmt::Write::write_char(f, char::from(c))?;
        }
        f.write_str("\"")?;
        if self.0.len() > SHOWN {
            f.write_str("...")?;
        }
        Ok(())
    }
}

impl From<Vec<u8>> for ZeroCopyBuffer {
    /// Raw bytes, no copy.
    fn from(bytes: Vec<u8>) -> Self {
        Self::from_bytes(bytes, BufferKind::raw())
    }
}

impl From<Box<[u8]>> for ZeroCopyBuffer {
    /// Raw bytes, no copy.
    fn from(bytes: Box<[u8]>) -> Self {
        Self::from_owner(bytes, BufferKind::raw())
    }
}

impl From<String> for ZeroCopyBuffer {
    /// Text, no copy.
    fn from(text: String) -> Self {
        Self::from_owner(text, BufferKind::text())
    }
}

impl From<&'static [u8]> for ZeroCopyBuffer {
    /// Raw bytes, no copy.
    fn from(bytes: &'static [u8]) -> Self {
        Self::from_static(bytes, BufferKind::raw())
    }
}

impl From<&'static str> for ZeroCopyBuffer {
    /// Text, no copy.
    fn from(text: &'static str) -> Self {
        Self::from_static(text.as_bytes(), BufferKind::text())
    }
}

impl From<ZeroCopyBuffer> for Vec<u8> {
    /// Copies the visible bytes.
    fn from(buf: ZeroCopyBuffer) -> Self {
        buf.to_vec()
    }
}
