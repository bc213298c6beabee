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
    /// A range or position outside the buffer, or a range that ends before it starts. A position
    /// (an insert, a line lookup) is the range `offset..offset`, and its message names the offset.
    ///
    /// ```
    /// use omnibuf::vbuf::{VbufError, VirtualBuffer};
    ///
    /// let buf = VirtualBuffer::from_bytes(b"abc".to_vec());
    /// let message = |r: Result<(), VbufError>| r.unwrap_err().to_string();
    /// assert_eq!(message(buf.delete(2..9)), "range 2..9 is outside the buffer (length 3)");
    /// assert_eq!(message(buf.insert(9, b"!")), "offset 9 is past the end of the buffer (length 3)");
    /// assert_eq!(message(buf.delete(2..1)), "range 2..1 ends before it starts (length 3)");
    /// ```
    #[error("{}", out_of_range(*.start, *.end, *.len))]
    OutOfRange {
        /// Start of the requested range.
        start: u64,
        /// End of the requested range (exclusive).
        end: u64,
        /// The buffer's length at the time.
        len: u64,
    },
    /// A line number past the last line.
    ///
    /// ```
    /// use omnibuf::vbuf::VirtualBuffer;
    ///
    /// let buf = VirtualBuffer::from_bytes(b"one line".to_vec());
    /// let err = buf.line_to_offset(3).unwrap_err();
    /// assert_eq!(err.to_string(), "line 3 does not exist (the buffer has 1 line)");
    /// ```
    #[error("line {line} does not exist (the buffer has {lines} line{})", if *.lines == 1 { "" } else { "s" })]
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
    /// A read, or a line index, needs more memory than the system gives (or, on wasm32, than one
    /// allocation can hold: 2 GiB). Read the range in parts.
    ///
    /// ```
    /// use omnibuf::vbuf::VbufError;
    ///
    /// let err = VbufError::AllocationFailed { bytes: 1 << 40, what: "a read" };
    /// assert_eq!(err.to_string(), "cannot allocate 1099511627776 bytes for a read");
    /// ```
    #[error("cannot allocate {bytes} bytes for {what}")]
    AllocationFailed {
        /// The bytes asked for.
        bytes: u64,
        /// What they were for.
        what: &'static str,
    },
    /// An edit would make the buffer longer than a `u64` can count (only a persistence layer of
    /// your own can report a length near that).
    ///
    /// ```
    /// use omnibuf::vbuf::VbufError;
    ///
    /// let err = VbufError::TooLong { len: u64::MAX - 1, adding: 2 };
    /// assert_eq!(
    ///     err.to_string(),
    ///     "the buffer cannot grow past 18446744073709551615 bytes (it has 18446744073709551614, the edit adds 2)"
    /// );
    /// ```
    #[error("the buffer cannot grow past {} bytes (it has {len}, the edit adds {adding})", u64::MAX)]
    TooLong {
        /// The buffer's length without the range the edit replaces.
        len: u64,
        /// The bytes the edit inserts.
        adding: u64,
    },
}

/// `len` zero bytes for `what`, or [`VbufError::AllocationFailed`]: the sizes of reads and tables
/// come from callers and files, so failing to allocate them is an error to return, not a reason to
/// abort the process.
pub(crate) fn zeroed(len: u64, what: &'static str) -> Result<Vec<u8>, VbufError> {
    let failed = || VbufError::AllocationFailed { bytes: len, what };
    let size = usize::try_from(len).map_err(|_| failed())?;
    let mut bytes = Vec::new();
    bytes.try_reserve_exact(size).map_err(|_| failed())?;
    bytes.resize(size, 0);
    Ok(bytes)
}

/// The message of [`VbufError::OutOfRange`]: a range, or the one offset an empty range stands for.
fn out_of_range(start: u64, end: u64, len: u64) -> String {
    if end == u64::MAX && len == u64::MAX && start <= end {
        // Such a range is inside the buffer: what was refused had a bound one past u64::MAX, which
        // the error gives as u64::MAX.
        format!("range {start}.. reaches past offset {}, the last a buffer can have", u64::MAX)
    } else if start == end {
        format!("offset {start} is past the end of the buffer (length {len})")
    } else if end < start && start <= len {
        format!("range {start}..{end} ends before it starts (length {len})")
    } else {
        format!("range {start}..{end} is outside the buffer (length {len})")
    }
}
