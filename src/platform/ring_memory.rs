//! Ring memory: `capacity` bytes that can also be read and written at `[capacity, 2·capacity)`.
//!
//! Two backends give the ring the same contiguous view:
//! - **double-mapped**: one memory object mapped twice, back to back (`DoubleMappedBuffer`, native targets); the
//!   second image is the first by construction;
//! - **mirror copy**: an ordinary allocation of `2·capacity` bytes. The writer calls
//!   `RingMemory::publish` after filling a region, which copies what it wrote in one image into the
//!   other. Portable: wasm always uses it, Miri checks it, and native code falls back to it when a
//!   one-time probe finds double mapping unavailable (no memfd, a seccomp filter, a sandbox).
//!
//! Capacity is rounded up to whole items, and for double mapping to the mapping granularity as well
//! (the least common multiple of the two); `RingMemory::capacity` says what was granted.

use std::fmt;
use std::ptr::NonNull;

#[cfg(not(target_arch = "wasm32"))]
use super::native::{DoubleMappedBuffer, MapOptions};

/// Which memory is under a ring.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RingBackend {
    /// One memory object mapped twice: no copies.
    DoubleMapped,
    /// An ordinary allocation whose writer copies the wrapped part: portable.
    MirrorCopy,
}

impl fmt::Display for RingBackend {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            RingBackend::DoubleMapped => "double-mapped",
            RingBackend::MirrorCopy => "mirror-copy",
        })
    }
}

/// Why ring memory could not be had.
#[derive(Debug, thiserror::Error)]
pub enum RingMemoryError {
    /// Items of size zero cannot be stored in a ring.
    #[error("a ring cannot hold zero-sized items")]
    ZeroSizedItem,
    /// A ring needs room for at least one item.
    #[error("a ring needs a capacity of at least one item")]
    ZeroCapacity,
    /// The size overflows, or no system could map it.
    #[error("a ring of {items} items of {item_size} bytes is too large")]
    TooLarge {
        /// Items asked for.
        items: usize,
        /// Bytes per item.
        item_size: usize,
    },
    /// Double mapping was asked for and is not available here.
    #[error("double-mapped memory is not available on this system")]
    DoubleMappingUnavailable,
    /// The operating system refused the mapping.
    #[error("mapping ring memory failed: {0}")]
    Map(#[from] std::io::Error),
}

/// How ring memory is chosen and mapped.
#[derive(Debug, Clone, Default)]
pub struct RingMemoryOptions {
    pub(crate) backend: Option<RingBackend>,
    #[cfg(not(target_arch = "wasm32"))]
    pub(crate) map: MapOptions,
}

impl RingMemoryOptions {
    /// Ask for a backend; by default the probe picks double mapping where it works.
    pub fn backend(mut self, backend: RingBackend) -> Self {
        self.backend = Some(backend);
        self
    }

    /// Mapping options for the double-mapped backend (huge pages, `mlock`, fork).
    #[cfg(not(target_arch = "wasm32"))]
    pub fn map_options(mut self, map: MapOptions) -> Self {
        self.map = map;
        self
    }
}

/// Whether double mapping works here: tried once per process, then remembered.
pub fn double_mapping_available() -> bool {
    #[cfg(any(miri, target_arch = "wasm32"))]
    {
        false
    }
    #[cfg(not(any(miri, target_arch = "wasm32")))]
    {
        static AVAILABLE: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
        *AVAILABLE.get_or_init(|| {
            // A self-test, not just a successful call: write through each image, read through the other.
            let Ok(mut buf) = DoubleMappedBuffer::new(1) else { return false };
            let len = buf.len();
            buf.slice_mut(len - 1, 2).copy_from_slice(&[0xA5, 0x5A]);
            buf.slice(0, 1) == [0x5A] && buf.slice(len - 1, 1) == [0xA5]
        })
    }
}

enum Storage {
    #[cfg(not(target_arch = "wasm32"))]
    Mapped(#[allow(dead_code)] DoubleMappedBuffer),
    /// Owned through `RingMemory::base` (allocated with this alignment); freed in `Drop`.
    Mirror { align: usize },
}

/// `capacity` bytes readable and writable as `[0, 2·capacity)`, on either backend.
pub(crate) struct RingMemory {
    base: NonNull<u8>,
    capacity: usize,
    storage: Storage,
}

// SAFETY: `RingMemory` owns its memory; concurrent access to it is governed by the ring's protocol
// (the writer owns free space, readers read published space), exactly as for a shared `Box<[u8]>`.
unsafe impl Send for RingMemory {}
// SAFETY: see `Send`.
unsafe impl Sync for RingMemory {}

impl RingMemory {
    /// Memory for at least `min_items` items of `item_size` bytes aligned to `item_align`.
    pub(crate) fn new(
        min_items: usize,
        item_size: usize,
        item_align: usize,
        options: &RingMemoryOptions,
    ) -> Result<RingMemory, RingMemoryError> {
        if item_size == 0 {
            return Err(RingMemoryError::ZeroSizedItem);
        }
        if min_items == 0 {
            return Err(RingMemoryError::ZeroCapacity);
        }
        let too_large = || RingMemoryError::TooLarge { items: min_items, item_size };
        let bytes = min_items.checked_mul(item_size).ok_or_else(too_large)?;
        let backend = match options.backend {
            Some(b) => b,
            None if double_mapping_available() => RingBackend::DoubleMapped,
            None => RingBackend::MirrorCopy,
        };
        match backend {
            RingBackend::DoubleMapped => {
                Self::double_mapped(bytes, item_size, options).map_err(|e| match e {
                    RingMemoryError::Map(io) if io.kind() == std::io::ErrorKind::InvalidInput => too_large(),
                    other => other,
                })
            }
            RingBackend::MirrorCopy => Self::mirror(bytes, item_align).ok_or_else(too_large),
        }
    }

    #[cfg(not(target_arch = "wasm32"))]
    fn double_mapped(
        bytes: usize,
        item_size: usize,
        options: &RingMemoryOptions,
    ) -> Result<RingMemory, RingMemoryError> {
        // Also under Miri, which cannot run shared mappings: the probe says no there.
        if !double_mapping_available() {
            return Err(RingMemoryError::DoubleMappingUnavailable);
        }
        // Whole pages *and* whole items: the least common multiple of the two is the step.
        let granule = lcm(DoubleMappedBuffer::granularity(), item_size)
            .ok_or(RingMemoryError::TooLarge { items: bytes / item_size, item_size })?;
        let len = bytes
            .checked_next_multiple_of(granule)
            .ok_or(RingMemoryError::TooLarge { items: bytes / item_size, item_size })?;
        let buf = DoubleMappedBuffer::with_options(len, &options.map)?;
        debug_assert_eq!(buf.len() % item_size, 0);
        Ok(RingMemory { base: buf.base(), capacity: buf.len(), storage: Storage::Mapped(buf) })
    }

    #[cfg(target_arch = "wasm32")]
    fn double_mapped(_: usize, _: usize, _: &RingMemoryOptions) -> Result<RingMemory, RingMemoryError> {
        Err(RingMemoryError::DoubleMappingUnavailable)
    }

    fn mirror(bytes: usize, item_align: usize) -> Option<RingMemory> {
        let layout = Self::mirror_layout(bytes, item_align)?;
        // SAFETY: the layout has a non-zero size (bytes >= 1 item of >= 1 byte, doubled).
        let base = NonNull::new(unsafe { std::alloc::alloc_zeroed(layout) })?;
        Some(RingMemory { base, capacity: bytes, storage: Storage::Mirror { align: layout.align() } })
    }

    /// Both images, aligned for the items and to a cache line (so the two ends do not share one).
    fn mirror_layout(bytes: usize, item_align: usize) -> Option<std::alloc::Layout> {
        let doubled = bytes.checked_mul(2)?;
        std::alloc::Layout::from_size_align(doubled, item_align.max(64)).ok()
    }

    /// Bytes in one image: the ring's capacity.
    pub(crate) fn capacity(&self) -> usize {
        self.capacity
    }

    pub(crate) fn backend(&self) -> RingBackend {
        match self.storage {
            #[cfg(not(target_arch = "wasm32"))]
            Storage::Mapped(_) => RingBackend::DoubleMapped,
            Storage::Mirror { .. } => RingBackend::MirrorCopy,
        }
    }

    /// The start of the memory; `2·capacity` bytes are addressable from it.
    #[inline]
    pub(crate) fn base(&self) -> NonNull<u8> {
        self.base
    }

    /// Makes both images agree on `[offset, offset + len)` after the writer wrote it through either.
    /// A no-op for double-mapped memory.
    ///
    /// # Safety
    /// `offset < capacity` and `len <= capacity`, and the caller has exclusive access to that region
    /// and to its other image (no reader may be reading them).
    #[inline]
    pub(crate) unsafe fn publish(&self, offset: usize, len: usize) {
        if !matches!(self.storage, Storage::Mirror { .. }) || len == 0 {
            return;
        }
        let cap = self.capacity;
        debug_assert!(offset < cap && len <= cap);
        let base = self.base.as_ptr();
        // The part written in the first image, copied to the second.
        let first = len.min(cap - offset);
        // SAFETY: `offset .. offset + first` lies in `[0, cap)` and its image `+ cap` in `[cap, 2cap)`:
        // disjoint, inside the allocation, and exclusively ours by the caller's contract.
        unsafe { std::ptr::copy_nonoverlapping(base.add(offset), base.add(offset + cap), first) };
        // The part that ran past the end (written in the second image), copied to the start.
        let wrapped = len - first;
        // SAFETY: `cap .. cap + wrapped` and `0 .. wrapped` are disjoint (wrapped < cap), inside the
        // allocation, and exclusively ours by the caller's contract.
        unsafe { std::ptr::copy_nonoverlapping(base.add(cap), base, wrapped) };
    }
}

impl Drop for RingMemory {
    // On wasm the mirror is the only kind of storage.
    #[cfg_attr(target_arch = "wasm32", allow(irrefutable_let_patterns))]
    fn drop(&mut self) {
        if let Storage::Mirror { align } = self.storage {
            let layout =
                Self::mirror_layout(self.capacity, align).expect("the layout was valid when allocated");
            // SAFETY: `base` was allocated in `mirror` with exactly this layout, and is freed only here.
            unsafe { std::alloc::dealloc(self.base.as_ptr(), layout) };
        }
    }
}

#[cfg(not(target_arch = "wasm32"))]
fn gcd(mut a: usize, mut b: usize) -> usize {
    while b != 0 {
        (a, b) = (b, a % b);
    }
    a
}

#[cfg(not(target_arch = "wasm32"))]
fn lcm(a: usize, b: usize) -> Option<usize> {
    (a / gcd(a, b)).checked_mul(b)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Writes `data` at `offset` through the writer's view and publishes it.
    fn write(mem: &RingMemory, offset: usize, data: &[u8]) {
        // SAFETY: one thread owns the whole memory in this test; `offset < cap`, `data.len() <= cap`.
        unsafe {
            std::ptr::copy_nonoverlapping(data.as_ptr(), mem.base().as_ptr().add(offset), data.len());
            mem.publish(offset, data.len());
        }
    }

    /// Reads `len` bytes at `offset` through the reader's view.
    fn read(mem: &RingMemory, offset: usize, len: usize) -> Vec<u8> {
        // SAFETY: inside `[0, 2·cap)`, and no writer runs at the same time in this test.
        unsafe { std::slice::from_raw_parts(mem.base().as_ptr().add(offset), len).to_vec() }
    }

    fn backends() -> Vec<RingBackend> {
        if double_mapping_available() {
            vec![RingBackend::MirrorCopy, RingBackend::DoubleMapped]
        } else {
            vec![RingBackend::MirrorCopy]
        }
    }

    #[test]
    fn both_images_agree_after_publish_on_every_backend() {
        for backend in backends() {
            let mem = RingMemory::new(100, 1, 1, &RingMemoryOptions::default().backend(backend)).unwrap();
            assert_eq!(mem.backend(), backend);
            let cap = mem.capacity();
            write(&mem, cap - 3, b"abcdef");
            assert_eq!(read(&mem, cap - 3, 6), b"abcdef", "{backend}: one contiguous slice across the end");
            assert_eq!(read(&mem, 0, 3), b"def", "{backend}: the wrapped part is at the start");
            write(&mem, 1, b"XY");
            assert_eq!(read(&mem, cap + 1, 2), b"XY", "{backend}: the start is visible past the end");
        }
    }

    #[test]
    fn capacity_is_whole_items_and_granules() {
        let mirror =
            RingMemory::new(10, 3, 1, &RingMemoryOptions::default().backend(RingBackend::MirrorCopy))
                .unwrap();
        assert_eq!(mirror.capacity(), 30, "the mirror needs no rounding");
        if double_mapping_available() {
            let mapped =
                RingMemory::new(10, 3, 1, &RingMemoryOptions::default().backend(RingBackend::DoubleMapped))
                    .unwrap();
            let granule = DoubleMappedBuffer::granularity();
            assert_eq!(mapped.capacity() % 3, 0);
            assert_eq!(mapped.capacity() % granule, 0);
            assert_eq!(mapped.capacity(), 3 * granule, "lcm(granularity, 3)");
        }
    }

    #[test]
    fn mirror_memory_is_aligned_for_the_items() {
        let mem = RingMemory::new(3, 16, 16, &RingMemoryOptions::default().backend(RingBackend::MirrorCopy))
            .unwrap();
        assert_eq!(mem.base().as_ptr() as usize % 64, 0);
    }

    #[test]
    fn bad_sizes_are_errors() {
        let opts = RingMemoryOptions::default();
        assert!(matches!(RingMemory::new(1, 0, 1, &opts), Err(RingMemoryError::ZeroSizedItem)));
        assert!(matches!(RingMemory::new(0, 8, 8, &opts), Err(RingMemoryError::ZeroCapacity)));
        assert!(matches!(RingMemory::new(usize::MAX, 8, 8, &opts), Err(RingMemoryError::TooLarge { .. })));
        let mirror = opts.clone().backend(RingBackend::MirrorCopy);
        assert!(matches!(
            RingMemory::new(usize::MAX / 2, 1, 1, &mirror),
            Err(RingMemoryError::TooLarge { .. })
        ));
    }

    #[test]
    fn random_writes_keep_the_mirror_consistent() {
        // A model check of `publish`: after any sequence of writes, reading `len` bytes at any
        // `offset < cap` gives what the last writes put at those positions modulo `cap`.
        let mem = RingMemory::new(61, 1, 1, &RingMemoryOptions::default().backend(RingBackend::MirrorCopy))
            .unwrap();
        let cap = mem.capacity();
        let mut model = vec![0u8; cap];
        let mut seed = 0x9E37_79B9_u32;
        let mut next = || {
            seed ^= seed << 13;
            seed ^= seed >> 17;
            seed ^= seed << 5;
            seed as usize
        };
        for round in 0..if cfg!(miri) { 50 } else { 2_000 } {
            let (offset, len) = (next() % cap, next() % (cap + 1));
            let data: Vec<u8> = (0..len).map(|i| (round + i) as u8).collect();
            write(&mem, offset, &data);
            for (i, b) in data.iter().enumerate() {
                model[(offset + i) % cap] = *b;
            }
            let (ro, rl) = (next() % cap, next() % (cap + 1));
            let expected: Vec<u8> = (0..rl).map(|i| model[(ro + i) % cap]).collect();
            assert_eq!(read(&mem, ro, rl), expected, "round {round}");
        }
    }
}
