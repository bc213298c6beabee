//! Ring memory: `capacity` bytes that can also be read and written at `[capacity, 2·capacity)`.
//!
//! Two backends give the ring the same contiguous view:
//! - **double-mapped**: one memory object mapped twice, back to back (`DoubleMappedBuffer`, native targets); the
//!   second image is the first by construction;
//! - **mirror copy**: an ordinary allocation of `2·capacity` bytes. The writer calls
//!   `RingMemory::publish` after filling a region, which copies what it wrote in one image into the
//!   other. Portable: wasm always uses it, Miri checks it, and native code falls back to it when a
//!   probe finds double mapping unavailable (no memfd, a seccomp filter, a sandbox), and for a ring
//!   of the default choice that cannot be mapped for want of something the mirror does not need.
//!
//! Capacity is rounded up to whole items, and for double mapping to the mapping granularity as well
//! (the least common multiple of the two); `RingMemory::capacity` says what was granted. Every slot is
//! aligned for the items: a mapping starts on a granule, so items aligned to more than that are
//! refused double mapping ([`RingMemoryError::AlignmentAboveGranularity`]) and the automatic choice
//! gives them the mirror, which is allocated with their alignment.

use std::fmt;
use std::ptr::NonNull;

#[cfg(not(target_arch = "wasm32"))]
use super::native::{DoubleMappedBuffer, MapOptions};

/// Which memory is under a ring.
///
/// ```
/// use omnibuf::ring::{nonblocking::Circular, RingBackend, RingOptions};
///
/// let options = RingOptions::default().backend(RingBackend::MirrorCopy);
/// let writer = Circular::with_options::<u8>(4096, &options).unwrap();
/// assert_eq!(writer.backend(), RingBackend::MirrorCopy);
/// ```
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
///
/// ```
/// use omnibuf::ring::{nonblocking::Circular, RingError, RingMemoryError};
///
/// let err = Circular::with_capacity::<u8>(0).err().unwrap();
/// assert!(matches!(err, RingError::Memory(RingMemoryError::ZeroCapacity)));
/// ```
#[derive(Debug, thiserror::Error)]
pub enum RingMemoryError {
    /// Items of size zero cannot be stored in a ring.
    #[error("a ring cannot hold zero-sized items")]
    ZeroSizedItem,
    /// A ring needs room for at least one item.
    #[error("a ring needs a capacity of at least one item")]
    ZeroCapacity,
    /// The size overflows, is more than any system can map, or is more than this system can provide
    /// (its address space or its limits are smaller).
    #[error("a ring of {items} × {item_size}-byte items is too large")]
    TooLarge {
        /// Items asked for.
        items: usize,
        /// Bytes per item.
        item_size: usize,
    },
    /// Double mapping was asked for and is not available here.
    #[error("double-mapped memory is not available on this system")]
    DoubleMappingUnavailable,
    /// Double mapping was asked for items aligned to more than the mapping granularity (the page
    /// size; 64 KiB on Windows), which is all a mapping's start is aligned to. Mirror-copy memory
    /// takes such items (and is what the automatic choice picks for them).
    #[error("items aligned to {align} bytes cannot be double-mapped: mappings are aligned to {granularity}")]
    AlignmentAboveGranularity {
        /// The items' alignment.
        align: usize,
        /// The alignment of every mapping.
        granularity: usize,
    },
    /// The operating system refused the mapping.
    #[error("mapping ring memory failed: {0}")]
    Map(#[from] std::io::Error),
}

/// How ring memory is chosen and mapped (public as `ring::RingOptions`).
///
/// ```
/// use omnibuf::ring::{double_mapping_available, sync::Circular, RingBackend, RingOptions};
///
/// // The default takes double mapping where this system offers it.
/// let writer = Circular::with_options::<u32>(1024, &RingOptions::default()).unwrap();
/// let expected = if double_mapping_available() { RingBackend::DoubleMapped } else { RingBackend::MirrorCopy };
/// assert_eq!(writer.backend(), expected);
/// ```
#[derive(Debug, Clone, Default)]
pub struct RingMemoryOptions {
    pub(crate) backend: Option<RingBackend>,
    #[cfg(not(target_arch = "wasm32"))]
    pub(crate) map: MapOptions,
}

impl RingMemoryOptions {
    /// Ask for a backend; by default the probe picks double mapping where it works.
    ///
    /// ```
    /// use omnibuf::ring::{sync::Circular, RingBackend, RingOptions};
    ///
    /// let options = RingOptions::default().backend(RingBackend::MirrorCopy);
    /// let writer = Circular::with_options::<u8>(100, &options).unwrap();
    /// assert_eq!(writer.backend(), RingBackend::MirrorCopy);
    /// ```
    pub fn backend(mut self, backend: RingBackend) -> Self {
        self.backend = Some(backend);
        self
    }

    /// Mapping options for the double-mapped backend (huge pages, `mlock`, fork). A mirror-copy
    /// ring asked for by [`backend`](Self::backend) has none of them; with
    /// [`lock_memory`](MapOptions::lock_memory), the default choice never makes one: where double
    /// mapping is not to be had (or the items are aligned above a mapping's start), the ring is
    /// refused rather than made unlocked.
    ///
    /// ```
    /// # #[cfg(target_os = "linux")] {
    /// use omnibuf::ring::{double_mapping_available, sync::Circular, MapOptions, RingBackend, RingOptions};
    ///
    /// let options = RingOptions::default().map_options(MapOptions::default().huge_pages(true));
    /// let writer = Circular::with_options::<u8>(4096, &options).unwrap();
    /// assert_eq!(writer.backend() == RingBackend::DoubleMapped, double_mapping_available());
    /// # }
    /// ```
    #[cfg(not(target_arch = "wasm32"))]
    pub fn map_options(mut self, map: MapOptions) -> Self {
        self.map = map;
        self
    }

    /// Whether the memory is to be locked (`mlock`).
    fn locks_memory(&self) -> bool {
        #[cfg(not(target_arch = "wasm32"))]
        return self.map.lock_memory;
        #[cfg(target_arch = "wasm32")]
        return false;
    }
}

/// Whether double mapping works here: tried until a try says yes or no for good, then remembered. A
/// try that ran short of something the process may have again later (file descriptors, memory,
/// mappings, room under its file-size limit) says no for now only.
///
/// ```
/// use omnibuf::ring::{double_mapping_available, RingBackend, RingOptions};
///
/// // Ask for the fast backend only where it works; the default makes the same choice.
/// let backend = if double_mapping_available() { RingBackend::DoubleMapped } else { RingBackend::MirrorCopy };
/// let options = RingOptions::default().backend(backend);
/// # let _ = options;
/// ```
pub fn double_mapping_available() -> bool {
    double_mapping().is_ok()
}

/// `Ok` where double mapping works; [`RingMemoryError::DoubleMappingUnavailable`] where it does not,
/// for the process's life; or [`RingMemoryError::Map`] with the error of a self-test that ran short
/// of something, which the next call tries again.
fn double_mapping() -> Result<(), RingMemoryError> {
    #[cfg(any(miri, target_arch = "wasm32"))]
    {
        Err(RingMemoryError::DoubleMappingUnavailable)
    }
    #[cfg(not(any(miri, target_arch = "wasm32")))]
    {
        use std::sync::atomic::{AtomicU8, Ordering::Relaxed};
        const UNKNOWN: u8 = 0;
        const WORKS: u8 = 1;
        const DOES_NOT: u8 = 2;
        // A fact about the system: threads that race to learn it learn the same.
        static KNOWN: AtomicU8 = AtomicU8::new(UNKNOWN);
        let works = match KNOWN.load(Relaxed) {
            WORKS => true,
            DOES_NOT => false,
            _ => {
                // A self-test, not just a successful call: write through each image, read through the other.
                let works = match DoubleMappedBuffer::new(1) {
                    Ok(mut buf) => {
                        let len = buf.len();
                        buf.slice_mut(len - 1, 2).copy_from_slice(&[0xA5, 0x5A]);
                        buf.slice(0, 1) == [0x5A] && buf.slice(len - 1, 1) == [0xA5]
                    }
                    Err(e) if !says_for_good(&e) => return Err(RingMemoryError::Map(e)),
                    Err(_) => false,
                };
                KNOWN.store(if works { WORKS } else { DOES_NOT }, Relaxed);
                works
            }
        };
        if works {
            Ok(())
        } else {
            Err(RingMemoryError::DoubleMappingUnavailable)
        }
    }
}

/// Whether a mapping call's failure says double mapping cannot work in this process: no such call,
/// a sandbox that refuses it, arguments this system does not take. Anything else is a lack of
/// something the process may have again.
#[cfg(not(any(miri, target_arch = "wasm32")))]
fn says_for_good(e: &std::io::Error) -> bool {
    use std::io::ErrorKind::*;
    matches!(e.kind(), Unsupported | PermissionDenied | InvalidInput)
}

/// The items in the smallest ring worth having: one mapping granule (the page size; 64 KiB on Windows;
/// 4 KiB on wasm, which maps nothing), rounded up to whole items as double mapping rounds it (the
/// least common multiple of the two). The same on both backends, so that a default ring does not
/// shrink to a few items where the mirror is used.
pub(crate) fn minimum_items(item_size: usize) -> usize {
    #[cfg(not(target_arch = "wasm32"))]
    let granularity = DoubleMappedBuffer::granularity();
    #[cfg(target_arch = "wasm32")]
    let granularity = 4096;
    // An item too large for the least common multiple to exist is a ring of one item (which the
    // memory then refuses as too large, on either backend).
    lcm(granularity, item_size.max(1)).map_or(1, |bytes| bytes / item_size.max(1))
}

/// Whether items of this alignment need more than a mapping's start gives (see
/// [`RingMemoryError::AlignmentAboveGranularity`]).
fn aligned_above_mappings(item_align: usize) -> bool {
    #[cfg(not(target_arch = "wasm32"))]
    {
        item_align > DoubleMappedBuffer::granularity()
    }
    #[cfg(target_arch = "wasm32")]
    {
        let _ = item_align;
        false // no mappings
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

/// The most address space any system gives a process: 2^56 bytes on 64-bit systems (x86-64 and
/// RISC-V with 57-bit addresses, half of them the kernel's), all of it on smaller ones.
#[cfg(target_pointer_width = "64")]
const LARGEST_ADDRESS_SPACE: usize = 1 << 56;
#[cfg(not(target_pointer_width = "64"))]
const LARGEST_ADDRESS_SPACE: usize = usize::MAX;

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
        // Either backend takes twice the bytes (two images, or one mapped twice). Past what any
        // system can map that is too large, whichever backend is asked for and whether or not this
        // system double-maps: the answer must not depend on which error is looked for first.
        if bytes > LARGEST_ADDRESS_SPACE / 2 {
            return Err(too_large());
        }
        let chosen = options.backend.is_none();
        let backend = match options.backend {
            Some(b) => b,
            // Only double-mapped memory is locked: where it cannot be had, the ring is refused (as
            // `double_mapping()` or the mapping says why), not made a mirror that is not locked.
            None if options.locks_memory() => {
                double_mapping()?;
                RingBackend::DoubleMapped
            }
            None if double_mapping_available() && !aligned_above_mappings(item_align) => {
                RingBackend::DoubleMapped
            }
            None => RingBackend::MirrorCopy,
        };
        match backend {
            RingBackend::DoubleMapped => {
                let mapped = Self::double_mapped(bytes, item_size, item_align, options);
                // Chosen here, a ring the system cannot map for want of something the mirror does
                // not need (a file descriptor, room under the file-size limit, mappings) is a
                // mirror; not where the memory must be locked, which the mirror is not.
                let mapped = match mapped {
                    Err(RingMemoryError::Map(e)) if chosen && !options.locks_memory() => {
                        Self::mirror(bytes, item_align).ok_or(RingMemoryError::Map(e))
                    }
                    other => other,
                };
                mapped.map_err(|e| match e {
                    // A size the system cannot map is too large, as one the mirror cannot allocate
                    // is; with locked memory, running out may instead mean the lock limit.
                    RingMemoryError::Map(io)
                        if io.kind() == std::io::ErrorKind::InvalidInput
                            || (io.kind() == std::io::ErrorKind::OutOfMemory && !options.locks_memory()) =>
                    {
                        too_large()
                    }
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
        item_align: usize,
        options: &RingMemoryOptions,
    ) -> Result<RingMemory, RingMemoryError> {
        // A mapping starts on a granule: slots of items aligned to more would be misaligned (and a
        // `&[T]` over them undefined behaviour). Reserving more and aligning the start inside would
        // need its own code for each of the three systems' mapping calls, for an alignment rarely
        // asked for and that the mirror serves; so such items are refused here and the automatic
        // choice takes the mirror for them.
        if aligned_above_mappings(item_align) {
            return Err(RingMemoryError::AlignmentAboveGranularity {
                align: item_align,
                granularity: DoubleMappedBuffer::granularity(),
            });
        }
        // Also under Miri, which cannot run shared mappings: the probe says no there. A probe that
        // ran short of something says what.
        double_mapping()?;
        // Whole pages *and* whole items: the least common multiple of the two is the step.
        let granule = lcm(DoubleMappedBuffer::granularity(), item_size)
            .ok_or(RingMemoryError::TooLarge { items: bytes / item_size, item_size })?;
        let len = bytes
            .checked_next_multiple_of(granule)
            .ok_or(RingMemoryError::TooLarge { items: bytes / item_size, item_size })?;
        let buf = DoubleMappedBuffer::with_options(len, &options.map)?;
        debug_assert_eq!(buf.len() % item_size, 0);
        debug_assert_eq!(buf.base().as_ptr() as usize % item_align, 0);
        Ok(RingMemory { base: buf.base(), capacity: buf.len(), storage: Storage::Mapped(buf) })
    }

    #[cfg(target_arch = "wasm32")]
    fn double_mapped(
        _: usize,
        _: usize,
        _: usize,
        _: &RingMemoryOptions,
    ) -> Result<RingMemory, RingMemoryError> {
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

    /// Makes both images agree on the slots under `[view, view + len)` of the contiguous view, taking
    /// their contents from there: the part in the first image is copied to the second, the part in the
    /// second to the first. The writer calls it with the range it wrote through, which is in the
    /// second image for slots that a slice crossing the end reached there. A no-op for double-mapped
    /// memory, where the two images are one.
    ///
    /// # Safety
    /// `view + len <= 2·capacity` and `len <= capacity`, and the caller has exclusive access to those
    /// slots in both images (no reader may be reading them).
    #[inline]
    pub(crate) unsafe fn publish(&self, view: usize, len: usize) {
        if !matches!(self.storage, Storage::Mirror { .. }) || len == 0 {
            return;
        }
        let cap = self.capacity;
        debug_assert!(view + len <= 2 * cap && len <= cap);
        let base = self.base.as_ptr();
        // The part in the first image, copied to the second.
        let first = len.min(cap.saturating_sub(view));
        if first > 0 {
            // SAFETY: `view .. view + first` lies in `[0, cap)` (`first > 0` only when `view < cap`)
            // and its image `+ cap` in `[cap, 2cap)`: disjoint, inside the allocation, and exclusively
            // ours by the caller's contract.
            unsafe { std::ptr::copy_nonoverlapping(base.add(view), base.add(view + cap), first) };
        }
        // The part in the second image, copied to the first.
        let second = len - first;
        if second > 0 {
            // `>= cap`: the first part ends at the end of the first image.
            let from = view + first;
            // `len <= cap`, so these are other slots than the first part's.
            // SAFETY: `from .. from + second` lies in `[cap, 2cap)` (caller: `view + len <= 2cap`), its
            // image `from - cap ..` in `[0, cap)`: disjoint, in the allocation, ours by the contract.
            unsafe { std::ptr::copy_nonoverlapping(base.add(from), base.add(from - cap), second) };
        }
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

fn gcd(mut a: usize, mut b: usize) -> usize {
    while b != 0 {
        (a, b) = (b, a % b);
    }
    a
}

fn lcm(a: usize, b: usize) -> Option<usize> {
    (a / gcd(a, b)).checked_mul(b)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Writes `data` at `offset` of the view (either image) and publishes it.
    fn write(mem: &RingMemory, offset: usize, data: &[u8]) {
        // SAFETY: one thread owns the whole memory in this test; `offset + data.len() <= 2·cap`,
        // `data.len() <= cap`.
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
            write(&mem, cap + 2, b"Z");
            assert_eq!(read(&mem, 0, 3), b"dXZ", "{backend}: written through the second image");
            write(&mem, cap - 1, b"uv");
            write(&mem, cap + 1, b"w");
            assert_eq!(read(&mem, cap - 1, 4), b"uvwZ", "{backend}: later writes win in either image");
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
    fn the_minimum_ring_is_one_granule_of_whole_items_on_both_backends() {
        for (size, align) in [(1, 1), (8, 8), (3, 1), (24, 8), (4096, 1)] {
            let items = minimum_items(size);
            let mirror = RingMemory::new(
                items,
                size,
                align,
                &RingMemoryOptions::default().backend(RingBackend::MirrorCopy),
            )
            .unwrap();
            assert_eq!(mirror.capacity() % size, 0);
            assert_eq!(mirror.capacity(), lcm(DoubleMappedBuffer::granularity(), size).unwrap());
            if double_mapping_available() {
                let options = RingMemoryOptions::default().backend(RingBackend::DoubleMapped);
                let one = RingMemory::new(1, size, align, &options).unwrap();
                assert_eq!(
                    mirror.capacity(),
                    one.capacity(),
                    "the double mapping's smallest, {size}-byte items"
                );
            }
        }
    }

    #[test]
    fn mirror_memory_is_aligned_for_the_items() {
        let mem = RingMemory::new(3, 16, 16, &RingMemoryOptions::default().backend(RingBackend::MirrorCopy))
            .unwrap();
        assert_eq!(mem.base().as_ptr() as usize % 64, 0);
    }

    #[test]
    fn items_aligned_above_a_mapping_get_aligned_mirror_memory_or_an_error() {
        // Larger than any system's mapping granularity (64 KiB on Windows).
        let align = 1 << 17;
        let auto = RingMemory::new(3, align, align, &RingMemoryOptions::default()).unwrap();
        assert_eq!(auto.backend(), RingBackend::MirrorCopy, "the automatic choice takes the mirror");
        assert_eq!(auto.base().as_ptr() as usize % align, 0);
        let asked = RingMemoryOptions::default().backend(RingBackend::DoubleMapped);
        // Memory to be locked is double-mapped memory: the default choice does not give the mirror.
        #[cfg(not(target_arch = "wasm32"))]
        let locked = RingMemoryOptions::default().map_options(MapOptions::default().lock_memory(true));
        #[cfg(not(target_arch = "wasm32"))]
        let asked = [asked, locked];
        #[cfg(target_arch = "wasm32")]
        let asked = [asked];
        for options in asked {
            match RingMemory::new(3, align, align, &options) {
                Err(RingMemoryError::AlignmentAboveGranularity { align: a, granularity }) => {
                    assert_eq!(a, align);
                    assert!(granularity < align);
                }
                // Where this system cannot double-map at all, that is what the locked ring hears.
                Err(RingMemoryError::DoubleMappingUnavailable) if options.locks_memory() => {}
                Err(e) => panic!("another error: {e}"),
                Ok(mem) => panic!("{} memory for items aligned to {align}", mem.backend()),
            }
        }
    }

    #[test]
    fn bad_sizes_are_errors() {
        let opts = RingMemoryOptions::default();
        assert!(matches!(RingMemory::new(1, 0, 1, &opts), Err(RingMemoryError::ZeroSizedItem)));
        assert!(matches!(RingMemory::new(0, 8, 8, &opts), Err(RingMemoryError::ZeroCapacity)));
        assert!(matches!(RingMemory::new(usize::MAX, 8, 8, &opts), Err(RingMemoryError::TooLarge { .. })));
        // More than any address space holds (2^60 bytes, twice over), asked of each backend:
        // refused as too large, before anything is allocated, and so also where this system
        // cannot double-map.
        #[cfg(target_pointer_width = "64")]
        for backend in [RingBackend::DoubleMapped, RingBackend::MirrorCopy] {
            let got = RingMemory::new(1 << 60, 1, 1, &opts.clone().backend(backend));
            assert!(matches!(got, Err(RingMemoryError::TooLarge { .. })), "{backend}: {:?}", got.err());
        }
        let mirror = opts.clone().backend(RingBackend::MirrorCopy);
        assert!(matches!(
            RingMemory::new(usize::MAX / 2, 1, 1, &mirror),
            Err(RingMemoryError::TooLarge { .. })
        ));
    }

    #[test]
    fn random_writes_keep_the_mirror_consistent() {
        // A model check of `publish`: after any sequence of writes through either image (the writer
        // writes through the second one where its slice runs past the end), reading `len` bytes at
        // any `offset < cap` gives what the last writes put at those positions modulo `cap`.
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
            let offset = next() % (2 * cap);
            let len = next() % (cap.min(2 * cap - offset) + 1);
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
