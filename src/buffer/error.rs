//! Errors of buffer operations.

/// A range that does not fit the buffer it was applied to: past its end, or ending before it starts.
///
/// Returned by the `try_` forms of slicing and splitting; the panicking forms print the same message.
///
/// ```
/// use omnibuf::{BufferKind, SliceError, ZeroCopyBuffer};
///
/// let b = ZeroCopyBuffer::from_static(b"abc", BufferKind::raw());
/// assert_eq!(b.try_slice(1..9), Err(SliceError { start: 1, end: 9, len: 3 }));
/// assert_eq!(
///     b.try_slice(1..9).unwrap_err().to_string(),
///     "range 1..9 is out of bounds for a buffer of 3 bytes"
/// );
/// assert_eq!(
///     b.try_slice(2..1).unwrap_err().to_string(),
///     "range 2..1 ends before it starts (a buffer of 3 bytes)"
/// );
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("{}", slice_message(*.start as u64, *.end as u64, *.len as u64))]
pub struct SliceError {
    /// First byte of the requested range (`usize::MAX` when it overflowed: an excluded start bound
    /// of `usize::MAX`).
    pub start: usize,
    /// One past the last byte of the requested range (`usize::MAX` when it overflowed).
    pub end: usize,
    /// Length of the buffer the range was applied to.
    pub len: usize,
}

/// The message of a [`SliceError`]: "ends before it starts" for a range that starts inside the buffer
/// and runs backwards, "out of bounds" for any other. In `u64`s for the bindings, which word the same
/// error for offsets past wasm32's `usize`.
pub(crate) fn slice_message(start: u64, end: u64, len: u64) -> String {
    if end < start && start <= len {
        format!("range {start}..{end} ends before it starts (a buffer of {len} bytes)")
    } else {
        format!("range {start}..{end} is out of bounds for a buffer of {len} bytes")
    }
}

/// Resolves any `RangeBounds` against a length, or says why it does not fit.
pub(crate) fn resolve_range(
    range: impl std::ops::RangeBounds<usize>,
    len: usize,
) -> Result<std::ops::Range<usize>, SliceError> {
    use std::ops::Bound;
    let start = match range.start_bound() {
        Bound::Included(&s) => s,
        Bound::Excluded(&s) => s.saturating_add(1),
        Bound::Unbounded => 0,
    };
    let end = match range.end_bound() {
        Bound::Included(&e) => e.saturating_add(1),
        Bound::Excluded(&e) => e,
        Bound::Unbounded => len,
    };
    if start <= end && end <= len {
        Ok(start..end)
    } else {
        Err(SliceError { start, end, len })
    }
}
