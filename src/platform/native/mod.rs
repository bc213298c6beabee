//! Native (Linux, macOS, Windows) platform code.
//!
//! Built: [`DoubleMappedBuffer`], the double-mapped memory under the ring. The virtual buffer's file
//! layer (memory-mapped or positional reads, atomic save) is with the other persistence layers, in
//! [`persistence`](crate::platform::persistence).

#[cfg(any(target_os = "linux", target_os = "macos", windows))]
mod double_mapped;

#[cfg(any(target_os = "linux", target_os = "macos", windows))]
pub use double_mapped::{DoubleMappedBuffer, MapOptions};

/// The process's file-size limit in bytes (`ulimit -f`, `RLIMIT_FSIZE`), where it has one. Writing a
/// file past it raises SIGXFSZ, which ends a process that does not ignore it (Node ignores it; a
/// Rust program does not): so the ring's memory object, the virtual buffer's side file and a save
/// refuse such a write before they make it, with [`past_file_size_limit`]'s error.
#[cfg(unix)]
pub(crate) fn file_size_limit() -> Option<u64> {
    let mut limit = libc::rlimit { rlim_cur: 0, rlim_max: 0 };
    // SAFETY: `limit` is a valid out-pointer for the call.
    if unsafe { libc::getrlimit(libc::RLIMIT_FSIZE, &mut limit) } != 0
        || limit.rlim_cur == libc::RLIM_INFINITY
    {
        return None;
    }
    #[allow(clippy::useless_conversion)] // `rlim_t` is not `u64` on every Unix
    Some(u64::from(limit.rlim_cur))
}

#[cfg(not(unix))]
pub(crate) fn file_size_limit() -> Option<u64> {
    None
}

/// `Err` with the error a write to `end` bytes would give past `limit`, the file-size limit
/// ([`file_size_limit`], read once for a run of writes) (`EFBIG`, "File too large"); `Ok` where the
/// write stays within it.
pub(crate) fn within_file_size_limit(end: u64, limit: Option<u64>) -> std::io::Result<()> {
    match limit {
        Some(limit) if end > limit => Err(std::io::Error::new(
            std::io::ErrorKind::FileTooLarge,
            format!(
                "a file of {end} bytes would pass the process's file-size limit of {limit} bytes (ulimit -f)"
            ),
        )),
        _ => Ok(()),
    }
}
