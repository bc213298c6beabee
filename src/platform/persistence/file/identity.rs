//! What a file was when it was opened, to tell later whether another program changed or replaced it.

use std::fs::Metadata;
use std::time::SystemTime;

/// Size, modification time and, on Unix, device and inode of a file.
///
/// Windows has no stable file index in `std`, so there a replacement is seen only through its size
/// or modification time.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct FileIdentity {
    len: u64,
    /// `None` where the platform does not report modification times.
    modified: Option<SystemTime>,
    #[cfg(unix)]
    device_and_inode: (u64, u64),
}

impl FileIdentity {
    pub(super) fn of(meta: &Metadata) -> Self {
        Self {
            len: meta.len(),
            modified: meta.modified().ok(),
            #[cfg(unix)]
            device_and_inode: {
                use std::os::unix::fs::MetadataExt;
                (meta.dev(), meta.ino())
            },
        }
    }

    /// The file's length in bytes.
    pub(super) fn len(&self) -> u64 {
        self.len
    }

    /// Describes how `now` differs from `self`, or `None` when it does not. A replaced file is
    /// reported as such, even when its size and time happen to match.
    pub(super) fn difference(&self, now: &FileIdentity) -> Option<String> {
        #[cfg(unix)]
        if self.device_and_inode != now.device_and_inode {
            let ((dev, ino), (now_dev, now_ino)) = (self.device_and_inode, now.device_and_inode);
            return Some(format!(
                "the file was replaced: inode {ino} on device {dev} is now inode {now_ino} on device {now_dev}"
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
