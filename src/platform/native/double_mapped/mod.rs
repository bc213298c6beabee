//! [`DoubleMappedBuffer`]: `len` bytes of memory that also appear at `[len, 2·len)`.
//!
//! A write at offset `i` is visible at `i + len` and the other way round, so a region that runs past
//! the end of the buffer is still one contiguous slice: the building block of a ring whose every read
//! and write is a single slice, also across the wrap.

use std::io;
use std::ptr::NonNull;

#[cfg(target_os = "linux")]
#[path = "linux.rs"]
mod os;
#[cfg(target_os = "macos")]
#[path = "macos.rs"]
mod os;
#[cfg(windows)]
#[path = "windows.rs"]
mod os;

/// How a double-mapped ring's memory is mapped ([`RingOptions::map_options`](crate::ring::RingOptions::map_options)).
///
/// ```
/// # #[cfg(target_os = "linux")] {
/// use omnibuf::ring::{sync::Circular, MapOptions, RingBackend, RingOptions};
///
/// let map = MapOptions::default().huge_pages(true); // used when available, silently not otherwise
/// let options = RingOptions::default().backend(RingBackend::DoubleMapped).map_options(map);
/// let writer = Circular::with_options::<u8>(1 << 20, &options).unwrap();
/// assert_eq!(writer.capacity(), 1 << 20);
/// assert_eq!(writer.backend(), RingBackend::DoubleMapped);
/// # }
/// ```
#[derive(Debug, Clone, Default)]
pub struct MapOptions {
    pub(crate) huge_pages: bool,
    pub(crate) lock_memory: bool,
    pub(crate) inherit_on_fork: bool,
}

impl MapOptions {
    /// Back the memory with huge pages when the system has them and the size is a multiple of the
    /// huge page size; fall back to normal pages silently otherwise (Linux; ignored elsewhere).
    ///
    /// ```
    /// # #[cfg(target_os = "linux")] {
    /// use omnibuf::ring::{sync::Circular, MapOptions, RingBackend, RingOptions};
    ///
    /// // 2 MiB is a multiple of the usual huge page; without huge pages the ring is made all the same.
    /// let map = MapOptions::default().huge_pages(true);
    /// let options = RingOptions::default().backend(RingBackend::DoubleMapped).map_options(map);
    /// let writer = Circular::with_options::<u8>(2 << 20, &options).unwrap();
    /// assert_eq!(writer.capacity(), 2 << 20);
    /// # }
    /// ```
    pub fn huge_pages(mut self, on: bool) -> Self {
        self.huge_pages = on;
        self
    }

    /// Lock the memory so it is never swapped out (`mlock`, failing when over `RLIMIT_MEMLOCK`; on
    /// Windows `VirtualLock`, failing past the working set's minimum).
    ///
    /// ```
    /// # #[cfg(target_os = "linux")] {
    /// use omnibuf::ring::{sync::Circular, MapOptions, RingBackend, RingError, RingMemoryError, RingOptions};
    ///
    /// let map = MapOptions::default().lock_memory(true);
    /// let options = RingOptions::default().backend(RingBackend::DoubleMapped).map_options(map);
    /// match Circular::with_options::<u8>(4096, &options) {
    ///     Ok(writer) => assert_eq!(writer.backend(), RingBackend::DoubleMapped),
    ///     // Over RLIMIT_MEMLOCK the ring is refused, not made unlocked.
    ///     Err(e) => assert!(matches!(e, RingError::Memory(RingMemoryError::Map(_)))),
    /// }
    /// # }
    /// ```
    pub fn lock_memory(mut self, on: bool) -> Self {
        self.lock_memory = on;
        self
    }

    /// Let a forked child inherit the mapping. Off by default, and then the ring's memory is not in a
    /// forked child at all: a child that touches the ring (a read, a write, or the drop of items
    /// that need dropping) faults.
    ///
    /// On, the child maps the same memory as the parent: shared, not copied. A ring is still no
    /// pipe between the two processes: its positions live in ordinary memory, which the child gets
    /// a copy of, so neither process sees the other's reads and writes, and what either writes
    /// lands in bytes the other still counts as its own. Turn it on only for a child that must be
    /// able to touch the ring's memory and uses the ring on one side of the fork only: one that
    /// reads what the ring held when it forked while the parent writes no more, or one that drops
    /// a ring of items with a `Drop` before it execs.
    ///
    /// ```
    /// # #[cfg(target_os = "linux")] {
    /// use omnibuf::ring::{sync::Circular, MapOptions, RingBackend, RingOptions};
    ///
    /// // A forked child may touch this ring's memory; the two processes still share no positions.
    /// let map = MapOptions::default().inherit_on_fork(true);
    /// let options = RingOptions::default().backend(RingBackend::DoubleMapped).map_options(map);
    /// let writer = Circular::with_options::<u8>(4096, &options).unwrap();
    /// assert_eq!(writer.backend(), RingBackend::DoubleMapped);
    /// # }
    /// ```
    pub fn inherit_on_fork(mut self, on: bool) -> Self {
        self.inherit_on_fork = on;
        self
    }
}

/// Memory of `len` bytes mapped twice, back to back: byte `i` and byte `i + len` are the same byte.
///
/// The size is rounded up to the mapping granularity ([`DoubleMappedBuffer::granularity`]: the page
/// size on Linux and macOS, 64 KiB on Windows). Fresh memory is zeroed. Slices are at most `len` bytes
/// long, so no slice contains the same byte twice; writable slices need `&mut self`.
///
/// ```
/// # #[cfg(all(target_os = "linux", feature = "testing"))] {
/// use omnibuf::testing::DoubleMappedBuffer;
///
/// let mut buf = DoubleMappedBuffer::new(4096).unwrap();
/// let len = buf.len();
/// // A write that runs past the end...
/// buf.slice_mut(len - 2, 4).copy_from_slice(b"wrap");
/// // ...lands at the start too.
/// assert_eq!(buf.slice(0, 2), b"ap");
/// assert_eq!(buf.slice(len - 2, 4), b"wrap");
/// # }
/// ```
pub struct DoubleMappedBuffer {
    mapping: os::Mapping,
}

// SAFETY: the buffer owns its mapping exclusively; reads need `&self` and writes `&mut self`, so the
// usual borrow rules keep threads apart exactly as for a `Box<[u8]>`.
unsafe impl Send for DoubleMappedBuffer {}
// SAFETY: see `Send`; `&self` methods only read.
unsafe impl Sync for DoubleMappedBuffer {}

// Miri cannot map memory twice, so the ring's tests there use mirror-copy memory only.
#[cfg_attr(miri, allow(dead_code))]
impl DoubleMappedBuffer {
    /// At least `min_len` bytes (rounded up to the granularity), mapped twice.
    ///
    /// ```
    /// # #[cfg(feature = "testing")] {
    /// use omnibuf::testing::DoubleMappedBuffer;
    ///
    /// let buf = DoubleMappedBuffer::new(1000).unwrap();
    /// assert_eq!(buf.len(), DoubleMappedBuffer::granularity()); // rounded up
    /// assert!(buf.slice(0, buf.len()).iter().all(|&b| b == 0)); // fresh memory is zeroed
    /// # }
    /// ```
    pub fn new(min_len: usize) -> io::Result<DoubleMappedBuffer> {
        Self::with_options(min_len, &MapOptions::default())
    }

    /// Like [`new`](Self::new), with options.
    ///
    /// ```
    /// # #[cfg(feature = "testing")] {
    /// use omnibuf::ring::MapOptions;
    /// use omnibuf::testing::DoubleMappedBuffer;
    ///
    /// let buf = DoubleMappedBuffer::with_options(1, &MapOptions::default().huge_pages(true)).unwrap();
    /// assert_eq!(buf.len() % DoubleMappedBuffer::granularity(), 0);
    /// assert!(DoubleMappedBuffer::with_options(usize::MAX, &MapOptions::default()).is_err());
    /// # }
    /// ```
    pub fn with_options(min_len: usize, options: &MapOptions) -> io::Result<DoubleMappedBuffer> {
        let granularity = Self::granularity();
        let len =
            min_len.max(1).checked_next_multiple_of(granularity).filter(|l| *l <= isize::MAX as usize / 2);
        let len = len.ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "ring size too large"))?;
        Ok(DoubleMappedBuffer { mapping: os::map(len, options)? })
    }

    /// The size every mapping is rounded up to.
    ///
    /// ```
    /// # #[cfg(feature = "testing")] {
    /// use omnibuf::testing::DoubleMappedBuffer;
    ///
    /// let granule = DoubleMappedBuffer::granularity(); // the page size; 64 KiB on Windows
    /// assert!(granule.is_power_of_two() && granule >= 4096);
    /// assert_eq!(DoubleMappedBuffer::new(granule + 1).unwrap().len(), 2 * granule);
    /// # }
    /// ```
    pub fn granularity() -> usize {
        os::granularity()
    }

    /// The size of one half: the buffer's capacity in bytes.
    ///
    /// ```
    /// # #[cfg(feature = "testing")] {
    /// use omnibuf::testing::DoubleMappedBuffer;
    ///
    /// let granule = DoubleMappedBuffer::granularity();
    /// assert_eq!(DoubleMappedBuffer::new(3 * granule).unwrap().len(), 3 * granule);
    /// # }
    /// ```
    pub fn len(&self) -> usize {
        self.mapping.len
    }

    /// Never true: a mapping has at least one page.
    ///
    /// ```
    /// # #[cfg(feature = "testing")] {
    /// use omnibuf::testing::DoubleMappedBuffer;
    ///
    /// assert!(!DoubleMappedBuffer::new(0).unwrap().is_empty()); // even 0 bytes map a whole granule
    /// # }
    /// ```
    #[cfg(feature = "testing")]
    pub fn is_empty(&self) -> bool {
        false
    }

    /// The start of the first half; the second starts `len()` bytes later.
    ///
    /// ```
    /// # #[cfg(feature = "testing")] {
    /// use omnibuf::testing::DoubleMappedBuffer;
    ///
    /// let buf = DoubleMappedBuffer::new(1).unwrap();
    /// assert_eq!(buf.slice(0, 1).as_ptr(), buf.as_ptr());
    /// assert_eq!(buf.slice(buf.len() - 1, 2).as_ptr(), buf.as_ptr().wrapping_add(buf.len() - 1));
    /// # }
    /// ```
    pub fn as_ptr(&self) -> *const u8 {
        self.mapping.base.as_ptr()
    }

    /// Like [`as_ptr`](Self::as_ptr), for writing.
    ///
    /// ```
    /// # #[cfg(feature = "testing")] {
    /// use omnibuf::testing::DoubleMappedBuffer;
    ///
    /// let mut buf = DoubleMappedBuffer::new(1).unwrap();
    /// let len = buf.len();
    /// // SAFETY: byte `len` is in the second half of the mapping, which is `2 * len` bytes long.
    /// unsafe { buf.as_mut_ptr().add(len).write(42) };
    /// assert_eq!(buf.slice(0, 1), [42]); // the second half is the first
    /// # }
    /// ```
    pub fn as_mut_ptr(&mut self) -> *mut u8 {
        self.mapping.base.as_ptr()
    }

    pub(crate) fn base(&self) -> NonNull<u8> {
        self.mapping.base
    }

    /// `len` bytes from `start`, which may run past the end of the first half.
    ///
    /// # Panics
    /// When `start >= self.len()` or `len > self.len()`.
    ///
    /// ```
    /// # #[cfg(feature = "testing")] {
    /// use omnibuf::testing::DoubleMappedBuffer;
    ///
    /// let mut buf = DoubleMappedBuffer::new(1).unwrap();
    /// let len = buf.len();
    /// buf.slice_mut(0, 2).copy_from_slice(b"hi");
    /// assert_eq!(buf.slice(len - 1, 3), [0, b'h', b'i']); // across the end, in one slice
    /// # }
    /// ```
    #[track_caller]
    pub fn slice(&self, start: usize, len: usize) -> &[u8] {
        self.check(start, len);
        // SAFETY: `start + len <= 2·self.len()`, inside the double mapping, which lives as long as
        // `self`; the bytes are initialised (zero-filled by the OS, then written through `&mut self`).
        unsafe { std::slice::from_raw_parts(self.as_ptr().add(start), len) }
    }

    /// `len` writable bytes from `start`, which may run past the end of the first half.
    ///
    /// # Panics
    /// When `start >= self.len()` or `len > self.len()`.
    ///
    /// ```
    /// # #[cfg(feature = "testing")] {
    /// use omnibuf::testing::DoubleMappedBuffer;
    ///
    /// let mut buf = DoubleMappedBuffer::new(1).unwrap();
    /// let len = buf.len();
    /// buf.slice_mut(len - 3, 6).copy_from_slice(b"abcdef");
    /// assert_eq!(buf.slice(0, 3), b"def");
    /// # }
    /// ```
    #[track_caller]
    pub fn slice_mut(&mut self, start: usize, len: usize) -> &mut [u8] {
        self.check(start, len);
        // SAFETY: as in `slice`; `&mut self` makes this the only live reference, and `len <= self.len()`
        // means the slice never contains the same byte at two addresses.
        unsafe { std::slice::from_raw_parts_mut(self.as_mut_ptr().add(start), len) }
    }

    #[track_caller]
    fn check(&self, start: usize, len: usize) {
        let cap = self.len();
        assert!(
            start < cap && len <= cap,
            "DoubleMappedBuffer: a slice starts in the first half ({start} < {cap}) and is at most {cap} bytes long ({len})"
        );
    }
}

impl Drop for DoubleMappedBuffer {
    fn drop(&mut self) {
        os::unmap(&self.mapping);
    }
}

impl std::fmt::Debug for DoubleMappedBuffer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DoubleMappedBuffer").field("len", &self.len()).finish()
    }
}

#[cfg(all(test, not(miri)))]
mod tests;
