//! macOS: allocate twice the size, then remap the first half over the second.
//!
//! `mach_vm_allocate` reserves and backs `2·len` bytes; `mach_vm_remap` with `VM_FLAGS_FIXED |
//! VM_FLAGS_OVERWRITE` and `copy = false` makes the second half share the first half's memory. We own
//! the whole range throughout, so no other mapping can slip in between. No file, no name.
//! Type-checked in CI; not run there (no macOS machine).

use std::io;
use std::ptr::NonNull;

use mach2::kern_return::{
    KERN_INVALID_ARGUMENT, KERN_NOT_SUPPORTED, KERN_NO_ACCESS, KERN_NO_SPACE, KERN_PROTECTION_FAILURE,
    KERN_RESOURCE_SHORTAGE, KERN_SUCCESS,
};
use mach2::traps::mach_task_self;
use mach2::vm::{mach_vm_allocate, mach_vm_deallocate, mach_vm_inherit, mach_vm_remap};
use mach2::vm_inherit::VM_INHERIT_NONE;
use mach2::vm_inherit::VM_INHERIT_SHARE;
use mach2::vm_prot::vm_prot_t;
use mach2::vm_statistics::{VM_FLAGS_ANYWHERE, VM_FLAGS_FIXED, VM_FLAGS_OVERWRITE};
use mach2::vm_types::mach_vm_address_t;

use super::MapOptions;

pub(super) struct Mapping {
    pub(super) base: NonNull<u8>,
    pub(super) len: usize,
}

/// The error of a Mach call, of the kind the same failure has on the other systems: the ring's
/// memory tells a size too large (`OutOfMemory`, `InvalidInput`) and a refusal that lasts
/// (`PermissionDenied`, `Unsupported`) from a want that may pass by these kinds.
fn kern_error(what: &str, code: i32) -> io::Error {
    let kind = match code {
        KERN_NO_SPACE | KERN_RESOURCE_SHORTAGE => io::ErrorKind::OutOfMemory,
        KERN_INVALID_ARGUMENT => io::ErrorKind::InvalidInput,
        KERN_PROTECTION_FAILURE | KERN_NO_ACCESS => io::ErrorKind::PermissionDenied,
        KERN_NOT_SUPPORTED => io::ErrorKind::Unsupported,
        _ => io::ErrorKind::Other,
    };
    io::Error::new(kind, format!("{what} failed with kern_return_t {code}"))
}

pub(super) fn map(len: usize, options: &MapOptions) -> io::Result<Mapping> {
    let doubled = len.checked_mul(2).ok_or_else(|| io::Error::other("ring size overflows"))?;
    let mut base: mach_vm_address_t = 0;
    // SAFETY: allocates fresh memory in our own task at an address the kernel chooses.
    let code = unsafe { mach_vm_allocate(mach_task_self(), &mut base, doubled as u64, VM_FLAGS_ANYWHERE) };
    if code != KERN_SUCCESS {
        return Err(kern_error("mach_vm_allocate", code));
    }
    let mut second = base + len as u64;
    let (mut cur, mut max): (vm_prot_t, vm_prot_t) = (0, 0);
    let inherit = if options.inherit_on_fork { VM_INHERIT_SHARE } else { VM_INHERIT_NONE };
    // SAFETY: remaps our own first half over our own second half (FIXED | OVERWRITE, shared not
    // copied); both lie inside the allocation above.
    let code = unsafe {
        mach_vm_remap(
            mach_task_self(),
            &mut second,
            len as u64,
            0,
            VM_FLAGS_FIXED | VM_FLAGS_OVERWRITE,
            mach_task_self(),
            base,
            0,
            &mut cur,
            &mut max,
            inherit,
        )
    };
    let mapping = Mapping { base: NonNull::new(base as *mut u8).expect("allocation is not null"), len };
    if code != KERN_SUCCESS || second != base + len as u64 {
        unmap(&mapping);
        return Err(kern_error("mach_vm_remap", code));
    }
    // The remap set the second half's inheritance only; the first keeps `mach_vm_allocate`'s, which
    // copies it into a forked child. Both halves alike, so that a child has neither (off) or shares
    // both with the parent (on), as on Linux: a copy of one half and the other shared would not be
    // one memory seen twice.
    // SAFETY: changes how our own allocation (both halves) passes to forked children; no access.
    let code = unsafe { mach_vm_inherit(mach_task_self(), base, doubled as u64, inherit) };
    if code != KERN_SUCCESS {
        unmap(&mapping);
        return Err(kern_error("mach_vm_inherit", code));
    }
    if options.lock_memory {
        // SAFETY: locks pages of our own mapping.
        if unsafe { libc::mlock(base as *const libc::c_void, doubled) } != 0 {
            // Read errno before `unmap` can change it; name the call, as the other errors do.
            let e = io::Error::last_os_error();
            unmap(&mapping);
            return Err(crate::platform::os_error::with_context(e, "mlock"));
        }
    }
    // Huge pages: macOS has no user-controlled large pages for this kind of mapping; the option is
    // ignored, as documented.
    Ok(mapping)
}

pub(super) fn unmap(mapping: &Mapping) {
    // SAFETY: deallocates exactly the range `map` allocated (both halves), which nothing uses any more.
    unsafe {
        mach_vm_deallocate(
            mach_task_self(),
            mapping.base.as_ptr() as mach_vm_address_t,
            (mapping.len * 2) as u64,
        )
    };
}

pub(super) fn granularity() -> usize {
    // SAFETY: sysconf has no preconditions. (16 KiB on Apple silicon, 4 KiB on Intel Macs.)
    let page = unsafe { libc::sysconf(libc::_SC_PAGESIZE) };
    usize::try_from(page).ok().filter(|p| *p > 0).unwrap_or(16384)
}
