//! Write-back started behind a file written from front to back, so the disk works while the rest is
//! still being copied and the final sync has little left to do.

use std::fs::File;

/// Starts the write-back of each whole window of a file as soon as the writer has moved past it.
///
/// A save writes its whole file and then syncs it. Left alone, the kernel holds the dirty pages
/// until the sync and then writes them while the save waits; started a window at a time, the writing
/// overlaps the copying. The window is a few MiB: small enough that the disk starts early, large
/// enough that each start is worth its system call (docs/performance.md has the measurements that
/// chose it). Only a start: the caller still syncs, and that sync reports any error the write-back
/// met.
///
/// On systems without `sync_file_range` (all but Linux and Android) this does nothing.
pub(super) struct WriteBehind {
    /// Where the next window to start begins: every byte before it was handed to the write-back.
    started: u64,
}

impl WriteBehind {
    /// Bytes handed to the write-back at once.
    pub(super) const WINDOW: u64 = 8 << 20;

    pub(super) fn new() -> Self {
        Self { started: 0 }
    }

    /// Tells that the first `written` bytes of `file` are written: starts the write-back of the
    /// whole windows among them that were not started yet.
    pub(super) fn written_up_to(&mut self, file: &File, written: u64) {
        let end = written - written % Self::WINDOW;
        if end > self.started {
            start_write_back(file, self.started, end - self.started);
            self.started = end;
        }
    }
}

#[cfg(any(target_os = "linux", target_os = "android"))]
fn start_write_back(file: &File, offset: u64, len: u64) {
    use std::os::fd::AsRawFd;
    let (Ok(offset), Ok(len)) = (i64::try_from(offset), i64::try_from(len)) else { return };
    // SAFETY: `file` is open for the duration of the call; the call only reads its arguments. Its
    // result is ignored on purpose: starting write-back early is a hint, and an I/O error it meets
    // is reported again by the sync that follows every save.
    unsafe {
        libc::sync_file_range(file.as_raw_fd(), offset, len, libc::SYNC_FILE_RANGE_WRITE);
    }
}

#[cfg(not(any(target_os = "linux", target_os = "android")))]
fn start_write_back(_file: &File, _offset: u64, _len: u64) {}
