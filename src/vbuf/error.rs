//! [`VbufError`]: what can go wrong in a virtual buffer.

use crate::platform::persistence::PersistenceError;

/// Errors from a [`VirtualBuffer`](super::VirtualBuffer). A failed call changes nothing.
///
/// ```
/// use omnibuf::vbuf::{VbufError, VirtualBuffer};
///
/// let buf = VirtualBuffer::from_bytes(b"abc".to_vec());
/// assert!(matches!(buf.delete(2..9), Err(VbufError::OutOfRange { len: 3, .. })));
/// assert_eq!(buf.read(..).unwrap(), b"abc"[..]); // unchanged
/// ```
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum VbufError {
    /// A range or position outside the buffer.
    #[error("range {start}..{end} is outside the buffer (length {len})")]
    OutOfRange {
        /// Start of the requested range.
        start: u64,
        /// End of the requested range (exclusive).
        end: u64,
        /// The buffer's length at the time.
        len: u64,
    },
    /// A line number past the last line.
    #[error("line {line} does not exist (the buffer has {lines} lines)")]
    NoSuchLine {
        /// The requested line (0-based).
        line: u64,
        /// The buffer's line count.
        lines: u64,
    },
    /// The persistence layer failed (read, save, or an external change).
    #[error(transparent)]
    Persistence(#[from] PersistenceError),
    /// The side file that holds spilled edits failed.
    #[error("side file for unsaved edits failed: {0}")]
    SideFile(std::io::Error),
    /// A long scan was cancelled by its progress callback.
    #[error("cancelled by the progress callback")]
    Cancelled,
}
