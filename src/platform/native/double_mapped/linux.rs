//! Linux: one memfd mapped twice, back to back, inside a reservation.
//!
//! 1. `memfd_create` gives an anonymous memory object: no name in any file system, nothing to unlink,
//!    nothing left behind if the process dies.
//! 2. A `PROT_NONE` mapping of twice the size reserves the address range.
//! 3. Two `MAP_FIXED | MAP_SHARED` maps of the memfd replace the two halves of the reservation. At no
//!    point is the range unmapped, so no other thread's mapping can land in a hole between the halves
//!    (the race of the munmap-then-hint approach).
//! 4. The fd is closed: the mappings keep the memory object alive.

use std::io;
use std::ptr::NonNull;

use super::MapOptions;
use crate::platform::native::{file_size_limit, within_file_size_limit};

/// The two mappings of one memory object: `[base, base + len)` and `[base + len, base + 2·len)`.
pub(super) struct Mapping {
    pub(super) base: NonNull<u8>,
    pub(super) len: usize,
}

fn last_error(what: &'static str) -> io::Error {
    crate::platform::os_error::with_context(io::Error::last_os_error(), what)
}

/// Maps `len` bytes (a multiple of the page size) twice. Huge pages are tried first when asked for,
/// and silently given up when the system has none.
pub(super) fn map(len: usize, options: &MapOptions) -> io::Result<Mapping> {
    if options.huge_pages {
        if let Ok(mapping) = map_with(len, options, libc::MFD_HUGETLB) {
            return Ok(mapping);
        }
    }
    map_with(len, options, 0)
}

fn map_with(len: usize, options: &MapOptions, extra_flags: libc::c_uint) -> io::Result<Mapping> {
    let doubled = len.checked_mul(2).ok_or_else(|| io::Error::other("ring size overflows"))?;
    // SAFETY: the name is a NUL-terminated literal; the flags are valid memfd flags.
    let fd = unsafe { libc::memfd_create(c"omnibuf-ring".as_ptr(), libc::MFD_CLOEXEC | extra_flags) };
    if fd < 0 {
        return Err(last_error("memfd_create"));
    }
    let result = map_fd(fd, len, doubled, options);
    // SAFETY: `fd` is ours and open; the mappings (if any) hold their own reference to the object.
    unsafe { libc::close(fd) };
    result
}

fn map_fd(fd: libc::c_int, len: usize, doubled: usize, options: &MapOptions) -> io::Result<Mapping> {
    let size = libc::off_t::try_from(len).map_err(|_| io::Error::other("ring size too large"))?;
    // A memfd's size counts against the file-size limit: past it `ftruncate` would raise SIGXFSZ.
    within_file_size_limit(len as u64, file_size_limit())
        .map_err(|e| crate::platform::os_error::with_context(e, "ftruncate"))?;
    // SAFETY: `fd` is an open memfd we own.
    if unsafe { libc::ftruncate(fd, size) } != 0 {
        return Err(last_error("ftruncate"));
    }
    // SAFETY: a fresh anonymous PROT_NONE mapping at an address the kernel chooses.
    let base = unsafe {
        libc::mmap(
            std::ptr::null_mut(),
            doubled,
            libc::PROT_NONE,
            libc::MAP_PRIVATE | libc::MAP_ANONYMOUS,
            -1,
            0,
        )
    };
    if base == libc::MAP_FAILED {
        return Err(last_error("mmap (reservation)"));
    }
    let unmap_all = |err| {
        // SAFETY: `base .. base + doubled` is the reservation made above, still ours.
        unsafe { libc::munmap(base, doubled) };
        err
    };
    for half in [0, len] {
        // SAFETY: `base + half .. + len` lies inside our reservation, which MAP_FIXED replaces in place;
        // the memfd is `len` bytes long.
        let got = unsafe {
            libc::mmap(
                base.cast::<u8>().add(half).cast(),
                len,
                libc::PROT_READ | libc::PROT_WRITE,
                libc::MAP_SHARED | libc::MAP_FIXED,
                fd,
                0,
            )
        };
        if got == libc::MAP_FAILED {
            return Err(unmap_all(last_error("mmap (MAP_FIXED half)")));
        }
    }
    if !options.inherit_on_fork {
        // SAFETY: advice on our own mapping. A shared mapping would otherwise be shared, not copied,
        // with a forked child.
        if unsafe { libc::madvise(base, doubled, libc::MADV_DONTFORK) } != 0 {
            return Err(unmap_all(last_error("madvise(MADV_DONTFORK)")));
        }
    }
    if options.lock_memory {
        // SAFETY: locks pages of our own mapping; both halves are the same pages.
        if unsafe { libc::mlock(base, doubled) } != 0 {
            return Err(unmap_all(last_error("mlock")));
        }
    }
    Ok(Mapping { base: NonNull::new(base.cast()).expect("mmap does not return null on success"), len })
}

/// Unmaps both halves.
pub(super) fn unmap(mapping: &Mapping) {
    // SAFETY: the range is exactly the two mappings made by `map`, and nothing refers to them any more
    // (the owner is being dropped).
    unsafe { libc::munmap(mapping.base.as_ptr().cast(), mapping.len * 2) };
}

/// The granularity mappings are rounded to.
pub(super) fn granularity() -> usize {
    // SAFETY: sysconf has no preconditions.
    let page = unsafe { libc::sysconf(libc::_SC_PAGESIZE) };
    usize::try_from(page).ok().filter(|p| *p > 0).unwrap_or(4096)
}
