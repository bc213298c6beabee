//! Windows: a placeholder reservation split in two, each half replaced by a view of one section.
//!
//! `VirtualAlloc2(MEM_RESERVE | MEM_RESERVE_PLACEHOLDER)` reserves `2·len` bytes as a placeholder;
//! `VirtualFree(MEM_RELEASE | MEM_PRESERVE_PLACEHOLDER)` splits it into two placeholders; two
//! `MapViewOfFile3(MEM_REPLACE_PLACEHOLDER)` calls map the same pagefile-backed section into them. The
//! range is never free, so there is no race (unlike reserve-free-map with retries). Needs Windows 10
//! 1803 or later: the two calls are looked up when first needed, not imported, so that a program
//! that links this crate still starts on an older Windows, where rings use mirror-copy memory.
//!
//! Tested under Wine (`scripts/test.sh`), not on Windows itself. Wine 8.0 has `VirtualAlloc2` and
//! `MapViewOfFile3` but refuses `MEM_RESERVE_PLACEHOLDER` (`ERROR_INVALID_PARAMETER`), so there the
//! first call fails, nothing is left allocated, and the probe picks mirror-copy memory; the views
//! after it have not run anywhere yet. Every error names the call that failed.

use std::ffi::c_void;
use std::io;
use std::ptr::{null, null_mut, NonNull};
use std::sync::OnceLock;

use windows_sys::Win32::Foundation::{CloseHandle, HANDLE, INVALID_HANDLE_VALUE};
use windows_sys::Win32::System::LibraryLoader::{GetModuleHandleW, GetProcAddress};
use windows_sys::Win32::System::Memory::{
    CreateFileMappingW, UnmapViewOfFile, VirtualFree, VirtualLock, MEMORY_MAPPED_VIEW_ADDRESS,
    MEM_EXTENDED_PARAMETER, MEM_PRESERVE_PLACEHOLDER, MEM_RELEASE, MEM_REPLACE_PLACEHOLDER, MEM_RESERVE,
    MEM_RESERVE_PLACEHOLDER, PAGE_NOACCESS, PAGE_READWRITE, VIRTUAL_ALLOCATION_TYPE,
};
use windows_sys::Win32::System::SystemInformation::{GetSystemInfo, SYSTEM_INFO};
use windows_sys::Win32::System::Threading::GetCurrentProcess;

use super::MapOptions;

pub(super) struct Mapping {
    pub(super) base: NonNull<u8>,
    pub(super) len: usize,
}

/// `VirtualAlloc2`, as `windows-sys` declares it.
type VirtualAlloc2 = unsafe extern "system" fn(
    HANDLE,
    *const c_void,
    usize,
    VIRTUAL_ALLOCATION_TYPE,
    u32,
    *mut MEM_EXTENDED_PARAMETER,
    u32,
) -> *mut c_void;

/// `MapViewOfFile3`, as `windows-sys` declares it.
type MapViewOfFile3 = unsafe extern "system" fn(
    HANDLE,
    HANDLE,
    *const c_void,
    u64,
    usize,
    VIRTUAL_ALLOCATION_TYPE,
    u32,
    *mut MEM_EXTENDED_PARAMETER,
    u32,
) -> MEMORY_MAPPED_VIEW_ADDRESS;

/// The placeholder calls, from `kernelbase.dll` (in every process; `kernel32.dll` forwards to it),
/// found once; `Unsupported` on a Windows without them.
fn placeholder_calls() -> io::Result<(VirtualAlloc2, MapViewOfFile3)> {
    static CALLS: OnceLock<Option<(VirtualAlloc2, MapViewOfFile3)>> = OnceLock::new();
    let calls = CALLS.get_or_init(|| {
        let module: Vec<u16> = "kernelbase.dll\0".encode_utf16().collect();
        // SAFETY: a NUL-terminated name; the module is never unloaded, so its handle stays valid.
        let module = unsafe { GetModuleHandleW(module.as_ptr()) };
        if module.is_null() {
            return None;
        }
        // SAFETY: NUL-terminated names of exports of a loaded module.
        let (alloc, map) = unsafe {
            (
                GetProcAddress(module, c"VirtualAlloc2".as_ptr().cast())?,
                GetProcAddress(module, c"MapViewOfFile3".as_ptr().cast())?,
            )
        };
        // SAFETY: these exports have exactly the signatures above (Microsoft's, as `windows-sys`
        // declares them); only the pointer's type changes.
        unsafe {
            Some((
                std::mem::transmute::<unsafe extern "system" fn() -> isize, VirtualAlloc2>(alloc),
                std::mem::transmute::<unsafe extern "system" fn() -> isize, MapViewOfFile3>(map),
            ))
        }
    });
    calls.ok_or_else(|| {
        io::Error::new(
            io::ErrorKind::Unsupported,
            "VirtualAlloc2 and MapViewOfFile3 need Windows 10 1803 or later",
        )
    })
}

pub(super) fn map(len: usize, options: &MapOptions) -> io::Result<Mapping> {
    // Huge (large) pages need SeLockMemoryPrivilege and cannot back placeholder views, and a child
    // process inherits no mapping: those options are ignored, as documented.
    let (virtual_alloc2, map_view_of_file3) = placeholder_calls()?;
    let doubled = len.checked_mul(2).ok_or_else(|| io::Error::other("ring size overflows"))?;
    // SAFETY: reserves a fresh placeholder range at an address the system chooses.
    let base = unsafe {
        virtual_alloc2(
            GetCurrentProcess(),
            null(),
            doubled,
            MEM_RESERVE | MEM_RESERVE_PLACEHOLDER,
            PAGE_NOACCESS,
            null_mut(),
            0,
        )
    };
    if base.is_null() {
        return Err(last_error("VirtualAlloc2(MEM_RESERVE_PLACEHOLDER)"));
    }
    // SAFETY: splits our own placeholder into [base, base+len) and [base+len, base+2len).
    if unsafe { VirtualFree(base, len, MEM_RELEASE | MEM_PRESERVE_PLACEHOLDER) } == 0 {
        let e = last_error("VirtualFree(MEM_PRESERVE_PLACEHOLDER)");
        // SAFETY: releases the whole placeholder we reserved.
        unsafe { VirtualFree(base, 0, MEM_RELEASE) };
        return Err(e);
    }
    let size = len as u64;
    // SAFETY: creates an anonymous, pagefile-backed section of `len` bytes.
    let section: HANDLE = unsafe {
        CreateFileMappingW(
            INVALID_HANDLE_VALUE,
            null(),
            PAGE_READWRITE,
            (size >> 32) as u32,
            size as u32,
            null(),
        )
    };
    if section.is_null() {
        let e = last_error("CreateFileMappingW");
        release_placeholders(base, len);
        return Err(e);
    }
    let mut views = [null_mut::<c_void>(); 2];
    let mut failure = None;
    for (i, view) in views.iter_mut().enumerate() {
        // SAFETY: maps the section into the i-th placeholder half, which it replaces.
        let got: MEMORY_MAPPED_VIEW_ADDRESS = unsafe {
            map_view_of_file3(
                section,
                GetCurrentProcess(),
                base.cast::<u8>().add(i * len).cast(),
                0,
                len,
                MEM_REPLACE_PLACEHOLDER,
                PAGE_READWRITE,
                null_mut(),
                0,
            )
        };
        *view = got.Value;
        if view.is_null() && failure.is_none() {
            failure = Some(last_error("MapViewOfFile3(MEM_REPLACE_PLACEHOLDER)"));
        }
    }
    // SAFETY: the views hold their own reference to the section.
    unsafe { CloseHandle(section) };
    if let Some(e) = failure {
        for (i, view) in views.iter().enumerate() {
            if view.is_null() {
                // SAFETY: this half is still a placeholder of ours.
                unsafe { VirtualFree(base.cast::<u8>().add(i * len).cast(), 0, MEM_RELEASE) };
            } else {
                // SAFETY: unmaps a view we mapped.
                unsafe { UnmapViewOfFile(MEMORY_MAPPED_VIEW_ADDRESS { Value: *view }) };
            }
        }
        return Err(e);
    }
    let mapping = Mapping { base: NonNull::new(base.cast()).expect("checked not null"), len };
    // Each view on its own (a call's range stays within one mapping): each has pages of its own in
    // the working set. Past the working set's minimum (`SetProcessWorkingSetSize`) this fails, as
    // `mlock` does past RLIMIT_MEMLOCK. Pages stay locked until unmapped.
    if options.lock_memory {
        for half in [0, len] {
            // SAFETY: locks the pages of one of our own two views, just mapped.
            if unsafe { VirtualLock(base.cast::<u8>().add(half).cast(), len) } == 0 {
                let e = last_error("VirtualLock");
                unmap(&mapping);
                return Err(e);
            }
        }
    }
    Ok(mapping)
}

fn release_placeholders(base: *mut c_void, len: usize) {
    for half in [0, len] {
        // SAFETY: each half is a placeholder we split off above.
        unsafe { VirtualFree(base.cast::<u8>().add(half).cast(), 0, MEM_RELEASE) };
    }
}

/// The last OS error, saying which call failed and keeping the OS error (and its code) as its
/// source; but a section larger than the commit limit is out of memory, as it is elsewhere.
fn last_error(call: &str) -> io::Error {
    const ERROR_COMMITMENT_LIMIT: i32 = 1455;
    let e = io::Error::last_os_error();
    match e.raw_os_error() {
        Some(ERROR_COMMITMENT_LIMIT) => io::Error::new(io::ErrorKind::OutOfMemory, format!("{call}: {e}")),
        _ => crate::platform::os_error::with_context(e, call),
    }
}

pub(super) fn unmap(mapping: &Mapping) {
    for half in [0, mapping.len] {
        // SAFETY: unmaps the two views `map` created; nothing uses them any more.
        unsafe {
            UnmapViewOfFile(MEMORY_MAPPED_VIEW_ADDRESS { Value: mapping.base.as_ptr().add(half).cast() })
        };
    }
}

pub(super) fn granularity() -> usize {
    // SAFETY: GetSystemInfo fills the struct it is given.
    let info = unsafe {
        let mut info: SYSTEM_INFO = std::mem::zeroed();
        GetSystemInfo(&mut info);
        info
    };
    (info.dwAllocationGranularity as usize).max(4096)
}
