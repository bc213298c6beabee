//! Reads and copies at explicit offsets, which leave the descriptor's file position alone, so that
//! any number of threads can read through one descriptor at once.

use std::fs::File;
use std::io::ErrorKind;

use crate::platform::persistence::PersistenceError;

/// Fills `dst` from `file` at `offset`, looping over partial reads. A file that ends early (it was
/// truncated underneath) gives [`PersistenceError::ShortRead`].
pub(super) fn read_exact_at(file: &File, offset: u64, dst: &mut [u8]) -> Result<(), PersistenceError> {
    let mut got = 0;
    while got < dst.len() {
        match read_once_at(file, &mut dst[got..], offset + got as u64) {
            Ok(0) => {
                return Err(PersistenceError::ShortRead {
                    offset,
                    wanted: dst.len() as u64,
                    got: got as u64,
                });
            }
            Ok(n) => got += n,
            Err(e) if e.kind() == ErrorKind::Interrupted => {}
            Err(e) => return Err(e.into()),
        }
    }
    Ok(())
}

#[cfg(unix)]
fn read_once_at(file: &File, dst: &mut [u8], offset: u64) -> std::io::Result<usize> {
    std::os::unix::fs::FileExt::read_at(file, dst, offset)
}

#[cfg(windows)]
fn read_once_at(file: &File, dst: &mut [u8], offset: u64) -> std::io::Result<usize> {
    // Moves the handle's file pointer as a side effect; nothing here uses that pointer.
    std::os::windows::fs::FileExt::seek_read(file, dst, offset)
}

/// Copies `len` bytes of `src` at `offset` to `dst` at its current position with `copy_file_range`,
/// which keeps the data in the kernel (and shares blocks on file systems with reflinks).
///
/// Returns how many bytes it copied: all of them, or fewer when the kernel cannot copy between these
/// two files (old kernels across file systems, some file systems), so the caller copies the rest by
/// reading and writing. Real failures (no space, I/O errors) are errors; a source that ends early is
/// [`PersistenceError::ShortRead`].
#[cfg(target_os = "linux")]
pub(super) fn copy_file_range_all(
    src: &File,
    offset: u64,
    len: u64,
    dst: &mut File,
) -> Result<u64, PersistenceError> {
    use std::os::fd::AsRawFd;
    // One call copies at most this much, so that the request always fits in `size_t` and `loff_t`.
    const MAX_STEP: u64 = 1 << 30;

    let mut copied = 0;
    while copied < len {
        // The kernel's `loff_t` (glibc's `off64_t`, musl's `off_t`) is 64-bit and signed.
        let mut src_offset = i64::try_from(offset + copied).map_err(|_| PersistenceError::OutOfRange {
            offset,
            len,
            total: i64::MAX as u64,
        })?;
        let step = (len - copied).min(MAX_STEP) as usize;
        // SAFETY: both descriptors are open for the duration of the call (borrowed `File`s);
        // `src_offset` is a valid, exclusively borrowed 64-bit offset the kernel reads and advances
        // (leaving `src`'s file position alone); the null output offset tells the kernel to write
        // at `dst`'s file position and advance it, like `write`.
        let n = unsafe {
            libc::copy_file_range(
                src.as_raw_fd(),
                &mut src_offset,
                dst.as_raw_fd(),
                std::ptr::null_mut(),
                step,
                0,
            )
        };
        match n {
            0 => return Err(PersistenceError::ShortRead { offset, wanted: len, got: copied }),
            n if n > 0 => copied += n as u64,
            _ => {
                let error = std::io::Error::last_os_error();
                match error.raw_os_error() {
                    Some(libc::EINTR) => {}
                    // The kernel or file system cannot copy between these files: fall back.
                    Some(libc::ENOSYS | libc::EXDEV | libc::EOPNOTSUPP | libc::EINVAL | libc::EPERM) => {
                        return Ok(copied);
                    }
                    _ => return Err(error.into()),
                }
            }
        }
    }
    Ok(copied)
}

/// Where `src`'s next data at or after `at` starts, and where the hole after it starts (its end, or
/// the file's): `None` when only a hole is left from `at` on. A file system that cannot tell holes
/// from data reports the rest of the file as data.
#[cfg(target_os = "linux")]
pub(super) fn next_data(src: &File, at: u64) -> Result<Option<(u64, u64)>, PersistenceError> {
    use std::os::fd::AsRawFd;
    let seek = |whence, from: u64| -> std::io::Result<Option<u64>> {
        let from = i64::try_from(from).map_err(|_| std::io::Error::from(std::io::ErrorKind::InvalidInput))?;
        // SAFETY: `src` is open for the call; `lseek` only moves its file position, which nothing
        // of this layer reads (its reads and copies give their offsets).
        let to = unsafe { libc::lseek(src.as_raw_fd(), from, whence) };
        match u64::try_from(to) {
            Ok(to) => Ok(Some(to)),
            Err(_) => match std::io::Error::last_os_error() {
                // No data at or after `from`.
                e if e.raw_os_error() == Some(libc::ENXIO) => Ok(None),
                e => Err(e),
            },
        }
    };
    let data = match seek(libc::SEEK_DATA, at) {
        Ok(Some(data)) => data,
        Ok(None) => return Ok(None),
        // No `SEEK_DATA` here: all of it is data.
        Err(e) if e.raw_os_error() == Some(libc::EINVAL) => return Ok(Some((at, u64::MAX))),
        Err(e) => return Err(e.into()),
    };
    // There is a hole at the end of every file, so this finds one.
    let hole = seek(libc::SEEK_HOLE, data)?.unwrap_or(u64::MAX);
    Ok(Some((data, hole)))
}
