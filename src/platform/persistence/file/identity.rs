//! What a file was when it was opened, to tell later whether another program changed or replaced it.

use std::fs::{File, Metadata};
use std::path::Path;
use std::time::SystemTime;

/// Size, modification time and where the file lives: device and inode on Unix, volume serial number
/// and file index on Windows. Where it lives tells a file replaced under its path (a new file renamed
/// over it, as editors save) from the same file, whatever size and time the new one has.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct FileIdentity {
    len: u64,
    /// `None` where the platform does not report modification times.
    modified: Option<SystemTime>,
    location: (u64, u64),
}

impl FileIdentity {
    /// The identity of the open `file`, whose metadata is `meta`.
    pub(super) fn of(file: &File, meta: &Metadata) -> std::io::Result<Self> {
        Ok(Self::with_location(meta, location(file, meta)?))
    }

    fn with_location(meta: &Metadata, location: (u64, u64)) -> Self {
        Self { len: meta.len(), modified: meta.modified().ok(), location }
    }

    /// The identity of the file `path` names now.
    pub(super) fn at(path: &Path) -> std::io::Result<Self> {
        #[cfg(unix)]
        {
            let meta = std::fs::metadata(path)?;
            Ok(Self::with_location(&meta, unix_location(&meta)))
        }
        #[cfg(windows)]
        {
            use std::os::windows::fs::OpenOptionsExt;
            use windows_sys::Win32::Storage::FileSystem::FILE_FLAG_BACKUP_SEMANTICS;
            // Opened for its attributes only, which no other program's sharing refuses; a directory
            // too (backup semantics), to say the file was replaced by one.
            let file = (std::fs::OpenOptions::new().access_mode(0))
                .custom_flags(FILE_FLAG_BACKUP_SEMANTICS)
                .open(path)?;
            Self::of(&file, &file.metadata()?)
        }
    }

    /// The file's length in bytes.
    pub(super) fn len(&self) -> u64 {
        self.len
    }

    /// Describes how `now` differs from `self`, or `None` when it does not. A replaced file is
    /// reported as such, even when its size and time happen to match.
    pub(super) fn difference(&self, now: &FileIdentity) -> Option<String> {
        if self.location != now.location {
            let ((was_on, was), (is_on, is)) = (self.location, now.location);
            let (number, on) = LOCATION_NAMES;
            return Some(format!(
                "the file was replaced: {number} {was} on {on} {was_on} is now {number} {is} on {on} {is_on}"
            ));
        }
        if self.len != now.len {
            return Some(format!("size {} is now {} bytes", self.len, now.len));
        }
        if self.modified != now.modified {
            return Some(format!(
                "modification time {} is now {}",
                describe_time(self.modified),
                describe_time(now.modified)
            ));
        }
        None
    }
}

/// A modification time as seconds since the Unix epoch, to the nanosecond.
fn describe_time(time: Option<SystemTime>) -> String {
    match time.map(|t| t.duration_since(SystemTime::UNIX_EPOCH)) {
        Some(Ok(since)) => format!("{}.{:09} s", since.as_secs(), since.subsec_nanos()),
        Some(Err(before)) => format!("{:.9} s before the epoch", before.duration().as_secs_f64()),
        None => "unknown".to_owned(),
    }
}

/// The names of a file's number and of what holds it, in the message of a replacement.
#[cfg(unix)]
const LOCATION_NAMES: (&str, &str) = ("inode", "device");
#[cfg(windows)]
const LOCATION_NAMES: (&str, &str) = ("file index", "volume");

#[cfg(unix)]
fn unix_location(meta: &Metadata) -> (u64, u64) {
    use std::os::unix::fs::MetadataExt;
    (meta.dev(), meta.ino())
}

#[cfg(unix)]
fn location(_file: &File, meta: &Metadata) -> std::io::Result<(u64, u64)> {
    Ok(unix_location(meta))
}

/// The volume serial number and file index of an open file (`std` has them only on nightly).
#[cfg(windows)]
fn location(file: &File, _meta: &Metadata) -> std::io::Result<(u64, u64)> {
    use std::os::windows::io::AsRawHandle;
    use windows_sys::Win32::Storage::FileSystem::{GetFileInformationByHandle, BY_HANDLE_FILE_INFORMATION};
    // SAFETY: an all-zero `BY_HANDLE_FILE_INFORMATION` is a valid value of the plain C struct.
    let mut info: BY_HANDLE_FILE_INFORMATION = unsafe { std::mem::zeroed() };
    // SAFETY: the handle is `file`'s, open for the call, and `info` is a writable struct of the
    // type the call fills.
    if unsafe { GetFileInformationByHandle(file.as_raw_handle(), &mut info) } == 0 {
        return Err(std::io::Error::last_os_error());
    }
    let index = (u64::from(info.nFileIndexHigh) << 32) | u64::from(info.nFileIndexLow);
    Ok((u64::from(info.dwVolumeSerialNumber), index))
}
