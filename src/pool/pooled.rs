//! [`PooledBuffer`]: a writable buffer checked out of a pool, and what keeps it checked out.

use std::io;
use std::mem::{ManuallyDrop, MaybeUninit};
use std::ops::{Deref, DerefMut};

use super::budget::Request;
use super::config::PoolClass;
use super::error::CapacityError;
use super::shared::Block;
use super::thread_cache;
use crate::{BufferKind, ZeroCopyBuffer};

/// One checked-out block and the bytes reserved for it. Dropping it gives both back to the pool, on
/// whatever thread that happens. Shared by [`PooledBuffer`] and by the views of a frozen one.
pub(crate) struct Checkout {
    /// Moved out only by `drop`.
    block: ManuallyDrop<Block>,
    req: Request,
    /// 0 when the pool does not track outstanding buffers.
    track_id: u64,
}

impl Checkout {
    pub(crate) fn new(block: Block, req: Request, track_id: u64) -> Checkout {
        Checkout { block: ManuallyDrop::new(block), req, track_id }
    }

    fn mem(&self) -> &Vec<u8> {
        &self.block.mem
    }

    fn mem_mut(&mut self) -> &mut Vec<u8> {
        &mut self.block.mem
    }
}

impl Drop for Checkout {
    #[inline]
    fn drop(&mut self) {
        if self.track_id != 0 {
            if let Some(outstanding) = &self.block.pool.outstanding {
                outstanding.untrack(self.track_id);
            }
        }
        // SAFETY: `drop` runs once, and nothing touches `self.block` after this.
        let block = unsafe { ManuallyDrop::take(&mut self.block) };
        thread_cache::release(block, &self.req);
    }
}

/// The frozen views read the written bytes through this.
impl AsRef<[u8]> for Checkout {
    fn as_ref(&self) -> &[u8] {
        self.mem()
    }
}

/// A writable buffer from a [`BufferPool`](super::BufferPool), with the fixed capacity of its size
/// class.
///
/// Write into it, then [`freeze`](Self::freeze) it into a [`ZeroCopyBuffer`] without copying. The
/// memory goes back to the pool when the buffer drops, or, once frozen, when the last view drops, on
/// whichever thread that is. The contents of a fresh buffer are not zeroed (that costs memory
/// bandwidth); only bytes you wrote are ever visible.
///
/// ```
/// use std::io::Write;
/// use omnibuf::{BufferKind, BufferPool};
///
/// let pool = BufferPool::new(1 << 20).unwrap();
/// let mut buf = pool.acquire(100).unwrap().with_kind(BufferKind::text());
/// assert_eq!(buf.capacity(), 4096); // the smallest default class
/// write!(buf, "hello {}", "pool").unwrap();
/// let frozen = buf.freeze();
/// assert_eq!(frozen, *"hello pool");
/// assert_eq!(pool.snapshot().in_use_bytes, 4096);
/// drop(frozen);
/// assert_eq!(pool.snapshot().in_use_bytes, 0);
/// ```
pub struct PooledBuffer {
    checkout: Checkout,
    kind: BufferKind,
}

impl PooledBuffer {
    pub(crate) fn new(checkout: Checkout) -> PooledBuffer {
        PooledBuffer { checkout, kind: BufferKind::raw() }
    }

    /// Bytes written.
    ///
    /// ```
    /// use omnibuf::BufferPool;
    ///
    /// let pool = BufferPool::new(1 << 20).unwrap();
    /// let mut buf = pool.acquire(100).unwrap();
    /// buf.extend_from_slice(b"12345");
    /// assert_eq!((buf.len(), buf.capacity()), (5, 4096));
    /// ```
    pub fn len(&self) -> usize {
        self.checkout.mem().len()
    }

    /// Whether nothing is written.
    ///
    /// ```
    /// use omnibuf::BufferPool;
    ///
    /// let pool = BufferPool::new(1 << 20).unwrap();
    /// let mut buf = pool.acquire(100).unwrap();
    /// assert!(buf.is_empty()); // fresh buffers hold nothing, whatever their memory held before
    /// buf.extend_from_slice(b"x");
    /// assert!(!buf.is_empty());
    /// ```
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The fixed capacity: the size of the buffer's class.
    ///
    /// ```
    /// use omnibuf::BufferPool;
    ///
    /// let pool = BufferPool::builder().classes([1024, 8192]).build().unwrap();
    /// assert_eq!(pool.acquire(1).unwrap().capacity(), 1024);
    /// assert_eq!(pool.acquire(1025).unwrap().capacity(), 8192);
    /// ```
    pub fn capacity(&self) -> usize {
        self.checkout.req.size
    }

    /// Bytes of room left.
    ///
    /// ```
    /// use omnibuf::BufferPool;
    ///
    /// let pool = BufferPool::builder().classes([64]).build().unwrap();
    /// let mut buf = pool.acquire(64).unwrap();
    /// buf.extend_from_slice(&[0; 24]);
    /// assert_eq!(buf.remaining(), 40);
    /// ```
    pub fn remaining(&self) -> usize {
        self.capacity() - self.len()
    }

    /// The size class the buffer came from.
    ///
    /// ```
    /// use omnibuf::{BufferPool, PoolClass};
    ///
    /// let pool = BufferPool::new(1 << 20).unwrap();
    /// assert_eq!(pool.acquire(20_000).unwrap().class(), PoolClass::new(64 << 10));
    /// ```
    pub fn class(&self) -> PoolClass {
        PoolClass::new(self.checkout.req.size)
    }

    /// The tenant the buffer was acquired for, if any.
    ///
    /// ```
    /// use omnibuf::BufferPool;
    ///
    /// let pool = BufferPool::new(1 << 20).unwrap();
    /// assert_eq!(pool.acquire(1).unwrap().tenant_id(), None);
    /// assert_eq!(pool.tenant("a").acquire(1).unwrap().tenant_id(), Some("a"));
    /// ```
    pub fn tenant_id(&self) -> Option<&str> {
        self.checkout.req.tenant.as_ref().map(|t| &*t.name)
    }

    /// The content kind the frozen buffer will carry (`raw` unless set).
    ///
    /// ```
    /// use omnibuf::{BufferKind, BufferPool};
    ///
    /// let pool = BufferPool::new(1 << 20).unwrap();
    /// assert_eq!(pool.acquire(1).unwrap().kind(), BufferKind::raw());
    /// ```
    pub fn kind(&self) -> BufferKind {
        self.kind
    }

    /// Sets the content kind.
    ///
    /// ```
    /// use omnibuf::{BufferKind, BufferPool};
    ///
    /// let pool = BufferPool::new(1 << 20).unwrap();
    /// let mut buf = pool.acquire(100).unwrap();
    /// buf.extend_from_slice(b"\x89PNG");
    /// buf.set_kind(BufferKind::png());
    /// assert_eq!(buf.freeze().kind(), BufferKind::png());
    /// ```
    pub fn set_kind(&mut self, kind: BufferKind) {
        self.kind = kind;
    }

    /// Sets the content kind, builder style.
    ///
    /// ```
    /// use omnibuf::{BufferKind, BufferPool};
    ///
    /// let pool = BufferPool::new(1 << 20).unwrap();
    /// let buf = pool.acquire(100).unwrap().with_kind(BufferKind::pcm16());
    /// assert_eq!(buf.kind(), BufferKind::pcm16());
    /// ```
    pub fn with_kind(mut self, kind: BufferKind) -> Self {
        self.kind = kind;
        self
    }

    /// Appends `bytes`, or returns an error and writes nothing when they do not fit.
    ///
    /// ```
    /// use omnibuf::{BufferPool, CapacityError};
    ///
    /// let pool = BufferPool::builder().classes([8]).build().unwrap();
    /// let mut buf = pool.acquire(8).unwrap();
    /// buf.try_extend_from_slice(b"12345").unwrap();
    /// assert_eq!(buf.try_extend_from_slice(b"6789"), Err(CapacityError { needed: 4, available: 3 }));
    /// assert_eq!(buf.as_slice(), b"12345"); // nothing written
    /// ```
    pub fn try_extend_from_slice(&mut self, bytes: &[u8]) -> Result<(), CapacityError> {
        let available = self.remaining();
        if bytes.len() > available {
            return Err(CapacityError { needed: bytes.len(), available });
        }
        // Within capacity, so the vector does not reallocate.
        self.checkout.mem_mut().extend_from_slice(bytes);
        Ok(())
    }

    /// Appends `bytes`.
    ///
    /// # Panics
    /// When they do not fit; [`try_extend_from_slice`](Self::try_extend_from_slice) returns an error
    /// instead.
    ///
    /// ```
    /// use omnibuf::BufferPool;
    ///
    /// let pool = BufferPool::new(1 << 20).unwrap();
    /// let mut buf = pool.acquire(100).unwrap();
    /// buf.extend_from_slice(b"head ");
    /// buf.extend_from_slice(b"tail");
    /// assert_eq!(buf.as_slice(), b"head tail");
    /// ```
    #[track_caller]
    pub fn extend_from_slice(&mut self, bytes: &[u8]) {
        if let Err(e) = self.try_extend_from_slice(bytes) {
            panic!("PooledBuffer::extend_from_slice: {e}");
        }
    }

    /// Sets the length to `new_len`, filling new bytes with `value`.
    ///
    /// # Panics
    /// When `new_len` exceeds the capacity.
    ///
    /// ```
    /// use omnibuf::BufferPool;
    ///
    /// let pool = BufferPool::new(1 << 20).unwrap();
    /// let mut buf = pool.acquire(100).unwrap();
    /// buf.resize(4, 0xff);
    /// buf.resize(2, 0);
    /// assert_eq!(buf.as_slice(), &[0xff, 0xff]);
    /// ```
    #[track_caller]
    pub fn resize(&mut self, new_len: usize, value: u8) {
        let capacity = self.capacity();
        assert!(
            new_len <= capacity,
            "PooledBuffer::resize: {new_len} bytes exceed the capacity of {capacity}"
        );
        self.checkout.mem_mut().resize(new_len, value);
    }

    /// Shortens the content to `len` bytes.
    ///
    /// ```
    /// use omnibuf::BufferPool;
    ///
    /// let pool = BufferPool::new(1 << 20).unwrap();
    /// let mut buf = pool.acquire(100).unwrap();
    /// buf.extend_from_slice(b"abcdef");
    /// buf.truncate(2);
    /// assert_eq!((buf.as_slice(), buf.capacity()), (&b"ab"[..], 4096));
    /// ```
    pub fn truncate(&mut self, len: usize) {
        self.checkout.mem_mut().truncate(len);
    }

    /// Removes all content.
    ///
    /// ```
    /// use omnibuf::BufferPool;
    ///
    /// let pool = BufferPool::new(1 << 20).unwrap();
    /// let mut buf = pool.acquire(100).unwrap();
    /// buf.extend_from_slice(b"reuse me");
    /// buf.clear();
    /// assert_eq!((buf.len(), buf.remaining()), (0, 4096));
    /// ```
    pub fn clear(&mut self) {
        self.checkout.mem_mut().clear();
    }

    /// The room after the written bytes, for APIs that fill memory directly. Follow with
    /// [`set_len`](Self::set_len).
    ///
    /// ```
    /// use omnibuf::BufferPool;
    ///
    /// let pool = BufferPool::builder().classes([16]).build().unwrap();
    /// let mut buf = pool.acquire(16).unwrap();
    /// buf.extend_from_slice(b"ab");
    /// let spare = buf.spare_capacity_mut();
    /// assert_eq!(spare.len(), 14);
    /// spare[0].write(b'c');
    /// // SAFETY: 3 is within the capacity, and the byte at 2 was just written.
    /// unsafe { buf.set_len(3) };
    /// assert_eq!(buf.as_slice(), b"abc");
    /// ```
    pub fn spare_capacity_mut(&mut self) -> &mut [MaybeUninit<u8>] {
        self.checkout.mem_mut().spare_capacity_mut()
    }

    /// Sets the length after bytes were written through [`spare_capacity_mut`](Self::spare_capacity_mut).
    ///
    /// # Safety
    /// `new_len` must be at most the capacity, and the bytes up to it must be initialised.
    ///
    /// ```
    /// use omnibuf::BufferPool;
    ///
    /// let pool = BufferPool::builder().classes([16]).build().unwrap();
    /// let mut buf = pool.acquire(16).unwrap();
    /// let spare = buf.spare_capacity_mut();
    /// let filled: Vec<u8> = (1..=4).collect();
    /// for (slot, byte) in spare.iter_mut().zip(&filled) {
    ///     slot.write(*byte);
    /// }
    /// // SAFETY: 4 is within the capacity, and the first 4 bytes were just written.
    /// unsafe { buf.set_len(4) };
    /// assert_eq!(buf.as_slice(), &[1, 2, 3, 4]);
    /// ```
    pub unsafe fn set_len(&mut self, new_len: usize) {
        // SAFETY: forwarded from the caller: `new_len <= capacity` and the bytes are initialised.
        unsafe { self.checkout.mem_mut().set_len(new_len) }
    }

    /// The written bytes.
    ///
    /// ```
    /// use omnibuf::BufferPool;
    ///
    /// let pool = BufferPool::new(1 << 20).unwrap();
    /// let mut buf = pool.acquire(100).unwrap();
    /// buf.extend_from_slice(&[1, 2, 3]);
    /// assert_eq!(buf.as_slice(), &[1, 2, 3]); // only what was written, never the stale rest
    /// ```
    pub fn as_slice(&self) -> &[u8] {
        self.checkout.mem()
    }

    /// The written bytes, writable.
    ///
    /// ```
    /// use omnibuf::BufferPool;
    ///
    /// let pool = BufferPool::new(1 << 20).unwrap();
    /// let mut buf = pool.acquire(100).unwrap();
    /// buf.extend_from_slice(b"abc");
    /// buf.as_mut_slice().reverse();
    /// assert_eq!(buf.as_slice(), b"cba");
    /// ```
    pub fn as_mut_slice(&mut self) -> &mut [u8] {
        self.checkout.mem_mut()
    }

    /// Turns the buffer into an immutable [`ZeroCopyBuffer`] without copying; the memory returns to
    /// the pool when the last view drops. Kind and tenant carry over.
    ///
    /// ```
    /// use omnibuf::{BufferKind, BufferPool};
    ///
    /// let pool = BufferPool::new(1 << 20).unwrap();
    /// let mut buf = pool.tenant("t").acquire(100).unwrap().with_kind(BufferKind::text());
    /// buf.extend_from_slice(b"frozen");
    /// let frozen = buf.freeze();
    /// assert_eq!((frozen.kind(), frozen.tenant_id()), (BufferKind::text(), Some("t")));
    /// let view = frozen.slice(..3);
    /// drop(frozen);
    /// assert_eq!(pool.snapshot().in_use_bytes, 4096); // the view keeps the memory checked out
    /// drop(view);
    /// assert_eq!(pool.snapshot().in_use_bytes, 0);
    /// ```
    pub fn freeze(self) -> ZeroCopyBuffer {
        let PooledBuffer { checkout, kind } = self;
        let tenant = checkout.req.tenant.as_ref().map(|t| t.name.clone());
        let mut frozen = ZeroCopyBuffer::from_owner(checkout, kind);
        frozen.set_tenant(tenant);
        frozen
    }
}

impl Deref for PooledBuffer {
    type Target = [u8];
    fn deref(&self) -> &[u8] {
        self.as_slice()
    }
}

impl DerefMut for PooledBuffer {
    fn deref_mut(&mut self) -> &mut [u8] {
        self.as_mut_slice()
    }
}

impl AsRef<[u8]> for PooledBuffer {
    fn as_ref(&self) -> &[u8] {
        self.as_slice()
    }
}

impl io::Write for PooledBuffer {
    /// Writes what fits; returns `Ok(0)` when the buffer is full (so `write_all` reports `WriteZero`).
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = buf.len().min(self.remaining());
        self.checkout.mem_mut().extend_from_slice(&buf[..n]);
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl std::fmt::Debug for PooledBuffer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PooledBuffer")
            .field("class", &self.class())
            .field("len", &self.len())
            .field("kind", &self.kind)
            .field("tenant", &self.tenant_id())
            .finish()
    }
}
