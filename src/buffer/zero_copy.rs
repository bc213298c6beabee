//! [`ZeroCopyBuffer`]: an immutable view over shared bytes.

use std::borrow::Borrow;
use std::cmp::Ordering;
use std::fmt;
use std::hash::{Hash, Hasher};
use std::ops::{Deref, RangeBounds};
use std::ptr::NonNull;
use std::sync::Arc;

use super::error::{resolve_range, SliceError};
use super::storage::{self, OwnerVtable, Storage, Vtable};
use super::{BufferKind, BufferOwner};

/// An immutable view over a region of bytes, cheap to clone and to slice.
///
/// Clones and slices share the storage: no bytes are copied, and nothing is allocated except once, at
/// the first clone of a buffer made from a vector (a small shared header; a vector frozen and dropped
/// without being cloned never gets one). The storage is reference-counted and released when the last
/// view drops: heap memory is freed, pooled memory goes back to its [`BufferPool`](crate::BufferPool), a
/// `'static` slice is left alone.
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
    /// First visible byte. Invariant: `ptr .. ptr + len` lies inside the bytes of the storage that
    /// `storage` keeps alive (or of a `'static` slice), and those bytes are never written while a view
    /// exists.
    ptr: NonNull<u8>,
    len: usize,
    /// Keeps the storage alive: one reference to it, in the representation `vtable` knows (see
    /// `storage.rs`).
    storage: Storage,
    vtable: &'static Vtable,
    kind: BufferKind,
    tenant: Option<Arc<str>>,
}

// SAFETY: the view only reads bytes that are never mutated while shared; its storage is an owner
// (`Send + Sync`, required by `BufferOwner`) or a vector of bytes, behind a header whose count is atomic
// and which a compare-and-swap installs, so moving or sharing the view across threads is as safe as
// moving or sharing an `Arc` plus a `&[u8]` into it.
unsafe impl Send for ZeroCopyBuffer {}
// SAFETY: see `Send` above; every method takes `&self` to read immutable bytes.
unsafe impl Sync for ZeroCopyBuffer {}

// A view is immutable and every operation on it either completes or leaves it untouched, so a panic
// cannot leave one half-updated; the owner's interior (which the storage hides) is never touched.
impl std::panic::UnwindSafe for ZeroCopyBuffer {}
impl std::panic::RefUnwindSafe for ZeroCopyBuffer {}

impl ZeroCopyBuffer {
    /// An empty buffer of kind `raw`.
    ///
    /// ```
    /// use omnibuf::{BufferKind, ZeroCopyBuffer};
    ///
    /// let b = ZeroCopyBuffer::new();
    /// assert!(b.is_empty());
    /// assert_eq!(b.kind(), BufferKind::raw());
    /// ```
    pub const fn new() -> Self {
        Self::from_static(&[], BufferKind::raw())
    }

    /// Takes ownership of a byte vector without copying its bytes.
    ///
    /// Passing a `&[u8]` copies it once into a new vector; pass a `Vec<u8>` to avoid that.
    ///
    /// ```
    /// use omnibuf::{BufferKind, ZeroCopyBuffer};
    ///
    /// let v = b"{\"a\":1}".to_vec();
    /// let address = v.as_ptr();
    /// let b = ZeroCopyBuffer::from_bytes(v, BufferKind::json());
    /// assert_eq!(b.as_slice().as_ptr(), address); // the vector's own bytes
    /// assert_eq!(b.kind(), BufferKind::json());
    /// ```
    pub fn from_bytes(bytes: impl Into<Vec<u8>>, kind: BufferKind) -> Self {
        Self::from_vec(bytes.into(), kind, None)
    }

    /// Wraps an existing `Arc<[u8]>` without copying its bytes.
    ///
    /// ```
    /// use std::sync::Arc;
    /// use omnibuf::{BufferKind, ZeroCopyBuffer};
    ///
    /// let shared: Arc<[u8]> = Arc::from(&b"shared"[..]);
    /// let b = ZeroCopyBuffer::from_arc(shared.clone(), BufferKind::raw());
    /// assert_eq!(b.as_slice().as_ptr(), shared.as_ptr());
    /// assert_eq!(Arc::strong_count(&shared), 2); // the buffer holds one reference
    /// ```
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
            storage: storage::static_storage(),
            vtable: &storage::STATIC,
            kind,
            tenant: None,
        }
    }

    /// Views the bytes of any [`BufferOwner`]: a memory map, a pooled block, a `bytes::Bytes`, a type of
    /// your own. The owner is dropped when the last view drops.
    ///
    /// ```
    /// use std::sync::atomic::{AtomicBool, Ordering};
    /// use omnibuf::{BufferKind, ZeroCopyBuffer};
    ///
    /// static DROPPED: AtomicBool = AtomicBool::new(false);
    /// struct Frame(Vec<u8>);
    /// impl AsRef<[u8]> for Frame { fn as_ref(&self) -> &[u8] { &self.0 } }
    /// impl Drop for Frame { fn drop(&mut self) { DROPPED.store(true, Ordering::SeqCst) } }
    ///
    /// let b = ZeroCopyBuffer::from_owner(Frame(vec![1, 2, 3, 4]), BufferKind::raw());
    /// let tail = b.slice(2..);
    /// drop(b);
    /// assert!(!DROPPED.load(Ordering::SeqCst)); // `tail` still shares the owner
    /// drop(tail);
    /// assert!(DROPPED.load(Ordering::SeqCst));
    /// ```
    pub fn from_owner(owner: impl BufferOwner, kind: BufferKind) -> Self {
        Self::from_typed_owner(owner, kind)
    }

    /// Views the bytes of an owner of a known type.
    fn from_typed_owner<T: BufferOwner>(owner: T, kind: BufferKind) -> Self {
        let (storage, ptr, len) = storage::owner_storage(owner);
        ZeroCopyBuffer { ptr, len, storage, vtable: OwnerVtable::<T>::VTABLE, kind, tenant: None }
    }

    /// Takes a vector without allocating anything: the shared header is made on the first clone
    /// (see `storage.rs`).
    #[inline]
    pub(super) fn from_vec(bytes: Vec<u8>, kind: BufferKind, tenant: Option<Arc<str>>) -> Self {
        let mut bytes = std::mem::ManuallyDrop::new(bytes);
        let (len, cap) = (bytes.len(), bytes.capacity());
        // A pointer taken from the `Vec` itself, so that it may free the allocation later (an
        // unallocated vector's pointer is dangling but not null, and freeing it frees nothing).
        let ptr = NonNull::new(bytes.as_mut_ptr()).unwrap_or(NonNull::dangling());
        ZeroCopyBuffer {
            ptr,
            len,
            storage: storage::unique_vec_storage(cap),
            vtable: &storage::VEC,
            kind,
            tenant,
        }
    }

    /// Copies `bytes` into a new heap buffer.
    ///
    /// ```
    /// use omnibuf::{BufferKind, ZeroCopyBuffer};
    ///
    /// let big = ZeroCopyBuffer::from_bytes(vec![0u8; 1 << 20], BufferKind::raw());
    /// let header = ZeroCopyBuffer::copy_from_slice(&big[..16], BufferKind::raw());
    /// assert_eq!(header.len(), 16);
    /// assert_eq!(big.sharers(), 1); // the copy does not keep the megabyte alive
    /// ```
    pub fn copy_from_slice(bytes: &[u8], kind: BufferKind) -> Self {
        Self::from_bytes(bytes.to_vec(), kind)
    }

    /// Tags the buffer with its owning tenant, for pool accounting and observability.
    ///
    /// ```
    /// use omnibuf::{BufferKind, ZeroCopyBuffer};
    ///
    /// let b = ZeroCopyBuffer::from_static(b"abc", BufferKind::raw()).with_tenant("acme");
    /// assert_eq!(b.slice(1..).tenant_id(), Some("acme")); // views inherit it
    /// ```
    pub fn with_tenant(mut self, tenant_id: impl Into<Arc<str>>) -> Self {
        self.tenant = Some(tenant_id.into());
        self
    }

    pub(crate) fn set_tenant(&mut self, tenant: Option<Arc<str>>) {
        self.tenant = tenant;
    }

    /// The tenant this buffer is tagged with, if any.
    ///
    /// ```
    /// use omnibuf::{BufferKind, ZeroCopyBuffer};
    ///
    /// let b = ZeroCopyBuffer::from_static(b"abc", BufferKind::raw());
    /// assert_eq!(b.tenant_id(), None);
    /// assert_eq!(b.with_tenant("t2").tenant_id(), Some("t2"));
    /// ```
    pub fn tenant_id(&self) -> Option<&str> {
        self.tenant.as_deref()
    }

    /// The visible length in bytes.
    ///
    /// ```
    /// use omnibuf::{BufferKind, ZeroCopyBuffer};
    ///
    /// let b = ZeroCopyBuffer::from_static(b"hello", BufferKind::text());
    /// assert_eq!(b.len(), 5);
    /// assert_eq!(b.slice(1..3).len(), 2);
    /// ```
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether no bytes are visible.
    ///
    /// ```
    /// use omnibuf::{BufferKind, ZeroCopyBuffer};
    ///
    /// let b = ZeroCopyBuffer::from_static(b"ab", BufferKind::raw());
    /// assert!(!b.is_empty());
    /// assert!(b.slice(1..1).is_empty());
    /// ```
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The content kind.
    ///
    /// ```
    /// use omnibuf::{BufferKind, ZeroCopyBuffer};
    ///
    /// let b = ZeroCopyBuffer::from_static(b"\x89PNG", BufferKind::png());
    /// assert_eq!(b.kind(), BufferKind::png());
    /// assert_eq!(b.slice(1..).kind(), BufferKind::png()); // slices keep the kind
    /// ```
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
    ///
    /// ```
    /// use omnibuf::{BufferKind, ZeroCopyBuffer};
    ///
    /// let b = ZeroCopyBuffer::from_bytes(vec![1, 2, 3, 4], BufferKind::raw());
    /// let tail = b.slice(2..);
    /// assert_eq!(tail.as_slice(), &[3, 4]);
    /// assert_eq!(tail.as_slice().as_ptr(), b.as_slice()[2..].as_ptr()); // same memory
    /// ```
    #[inline]
    pub fn as_slice(&self) -> &[u8] {
        // SAFETY: by the struct invariant `ptr .. ptr + len` lies inside bytes that `storage` (or the
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
    ///
    /// ```
    /// use omnibuf::{BufferKind, SliceError, ZeroCopyBuffer};
    ///
    /// let b = ZeroCopyBuffer::from_static(b"abcdef", BufferKind::raw());
    /// assert_eq!(b.try_slice(2..4).unwrap(), b"cd"[..]);
    /// assert_eq!(b.try_slice(4..10), Err(SliceError { start: 4, end: 10, len: 6 }));
    /// ```
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
    ///
    /// ```
    /// use omnibuf::{BufferKind, ZeroCopyBuffer};
    ///
    /// let mut b = ZeroCopyBuffer::from_static(b"abc", BufferKind::raw());
    /// assert!(b.try_split_to(4).is_err());
    /// assert_eq!(b, b"abc"[..]); // unchanged after the error
    /// assert_eq!(b.try_split_to(1).unwrap(), b"a"[..]);
    /// assert_eq!(b, b"bc"[..]);
    /// ```
    pub fn try_split_to(&mut self, at: usize) -> Result<Self, SliceError> {
        let head = self.try_slice(..at)?;
        *self = self.subview(at, self.len - at);
        Ok(head)
    }

    /// Splits off and returns the bytes `[at, len)`; `self` keeps `[0, at)`.
    ///
    /// # Panics
    /// When `at > len`; [`try_split_off`](Self::try_split_off) returns an error instead.
    ///
    /// ```
    /// use omnibuf::{BufferKind, ZeroCopyBuffer};
    ///
    /// let mut b = ZeroCopyBuffer::from_static(b"headbody", BufferKind::raw());
    /// let body = b.split_off(4);
    /// assert_eq!((&b[..], &body[..]), (&b"head"[..], &b"body"[..]));
    /// ```
    #[track_caller]
    pub fn split_off(&mut self, at: usize) -> Self {
        match self.try_split_off(at) {
            Ok(tail) => tail,
            Err(e) => panic!("ZeroCopyBuffer::split_off: {e}"),
        }
    }

    /// Like [`split_off`](Self::split_off), but returns an error when `at > len`.
    ///
    /// ```
    /// use omnibuf::{BufferKind, ZeroCopyBuffer};
    ///
    /// let mut b = ZeroCopyBuffer::from_static(b"abc", BufferKind::raw());
    /// assert!(b.try_split_off(5).is_err());
    /// assert_eq!(b.try_split_off(2).unwrap(), b"c"[..]);
    /// assert_eq!(b, b"ab"[..]);
    /// ```
    pub fn try_split_off(&mut self, at: usize) -> Result<Self, SliceError> {
        let tail = self.try_slice(at..)?;
        self.len = at;
        Ok(tail)
    }

    /// Shortens the view to `len` bytes; does nothing when it is already shorter.
    ///
    /// ```
    /// use omnibuf::{BufferKind, ZeroCopyBuffer};
    ///
    /// let mut b = ZeroCopyBuffer::from_static(b"abcdef", BufferKind::raw());
    /// b.truncate(3);
    /// assert_eq!(b, b"abc"[..]);
    /// b.truncate(10); // longer than the view: nothing happens
    /// assert_eq!(b.len(), 3);
    /// ```
    pub fn truncate(&mut self, len: usize) {
        self.len = self.len.min(len);
    }

    /// Drops the first `cnt` bytes from the view.
    ///
    /// # Panics
    /// When `cnt > len`.
    ///
    /// ```
    /// use omnibuf::{BufferKind, ZeroCopyBuffer};
    ///
    /// let mut b = ZeroCopyBuffer::from_static(b"\x00\x03abc", BufferKind::raw());
    /// b.advance(2); // skip a 2-byte length prefix
    /// assert_eq!(b, b"abc"[..]);
    /// ```
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
    ///
    /// ```
    /// use omnibuf::{BufferKind, ZeroCopyBuffer};
    ///
    /// let b = ZeroCopyBuffer::from_bytes(vec![0; 8], BufferKind::raw());
    /// assert_eq!(b.sharers(), 1);
    /// let view = b.slice(..4);
    /// assert_eq!(b.sharers(), 2);
    /// drop(view);
    /// assert_eq!(b.sharers(), 1);
    /// ```
    pub fn sharers(&self) -> usize {
        storage::sharers(&self.storage)
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
    ///
    /// ```
    /// use omnibuf::{BufferKind, ZeroCopyBuffer};
    ///
    /// let b = ZeroCopyBuffer::from_static(b"abcd", BufferKind::raw());
    /// assert_eq!(b.slice(1..3).to_vec(), vec![b'b', b'c']);
    /// ```
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
            storage: self.clone_storage(),
            vtable: self.vtable,
            kind: self.kind,
            tenant: self.tenant.clone(),
        }
    }

    /// Another reference to the storage, for a new view of it.
    #[inline]
    fn clone_storage(&self) -> Storage {
        // SAFETY: `storage` is a reference in the representation `vtable` is for, and `ptr` is this
        // view's first byte, which is what the vector representation's clone needs (see `storage.rs`).
        Storage::new(unsafe { storage::clone_view(&self.storage, self.vtable, self.ptr) })
    }
}

impl Drop for ZeroCopyBuffer {
    #[inline]
    fn drop(&mut self) {
        // SAFETY: the view's reference, in the representation `vtable` is for, given up once; `ptr` is
        // the view's first byte (see `clone_storage`).
        unsafe { storage::drop_view(&mut self.storage, self.vtable, self.ptr) }
    }
}

impl Clone for ZeroCopyBuffer {
    /// O(1): bumps the storage's reference count.
    #[inline]
    fn clone(&self) -> Self {
        ZeroCopyBuffer {
            ptr: self.ptr,
            len: self.len,
            storage: self.clone_storage(),
            vtable: self.vtable,
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
        Self::from_vec(bytes.into_vec(), BufferKind::raw(), None)
    }
}

impl From<String> for ZeroCopyBuffer {
    /// Text, no copy.
    fn from(text: String) -> Self {
        Self::from_vec(text.into_bytes(), BufferKind::text(), None)
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
