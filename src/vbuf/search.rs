//! `find` and `rfind` of a byte pattern, across chunk boundaries.
//!
//! A chunk of at least [`window`] bytes (four times the pattern) is searched in place with
//! `memchr::memmem`, and a match that straddles chunks is found in a small seam buffer: the last
//! `pattern.len() - 1` bytes seen so far followed by the first `pattern.len() - 1` bytes of the next
//! chunk. The seam only reports matches that start before the new chunk (forward) or end after the
//! old one (backward), so no match is reported twice and the first one found is the first in the
//! content. Smaller chunks (content that edits cut into many pieces) are gathered, with those seen
//! bytes, until they make a window, which is searched whole: a seam per small chunk would cost the
//! pattern's length per piece.

use std::ops::RangeBounds;

use memchr::memmem;

use super::buffer::VirtualBuffer;
use super::error::VbufError;
use super::iter::Chunks;
use crate::ZeroCopyBuffer;

impl VirtualBuffer {
    /// Offset of the first occurrence of `pattern` inside `range`, if any: the whole match lies in the
    /// range, in the content as it was when the call began. An empty pattern matches at the range's
    /// start. Fails with [`VbufError::OutOfRange`] when the range is not inside the buffer, and as
    /// [`read`](Self::read) does when a read fails.
    ///
    /// ```
    /// use omnibuf::vbuf::{VirtualBuffer, VirtualBufferOptions};
    ///
    /// let buf = VirtualBuffer::from_bytes_with(b"one two one two".to_vec(), VirtualBufferOptions::tiny()).unwrap();
    /// assert_eq!(buf.find(b"two", ..).unwrap(), Some(4));
    /// assert_eq!(buf.find(b"two", 5..).unwrap(), Some(12));
    /// assert_eq!(buf.rfind(b"one", ..).unwrap(), Some(8));
    /// assert_eq!(buf.find(b"three", ..).unwrap(), None);
    /// ```
    pub fn find(&self, pattern: &[u8], range: impl RangeBounds<u64>) -> Result<Option<u64>, VbufError> {
        find_in(self.chunks(range)?, pattern)
    }

    /// [`find`](Self::find) in `snapshot`, an earlier version of this buffer's content (what the
    /// IndexedDB buffer's search reads while edits go on).
    #[cfg(any(target_arch = "wasm32", test))]
    pub(crate) fn find_in_snapshot(
        &self,
        snapshot: super::snapshot::Snapshot,
        pattern: &[u8],
        range: impl RangeBounds<u64>,
    ) -> Result<Option<u64>, VbufError> {
        find_in(self.chunks_of(snapshot, range)?, pattern)
    }

    /// Offset of the last occurrence of `pattern` inside `range`, if any. An empty pattern matches at
    /// the range's end. Fails as [`find`](Self::find) does.
    ///
    /// ```
    /// use omnibuf::vbuf::VirtualBuffer;
    ///
    /// let buf = VirtualBuffer::from_bytes(b"a.b.c".to_vec());
    /// assert_eq!(buf.rfind(b".", ..).unwrap(), Some(3));
    /// assert_eq!(buf.rfind(b".", ..3).unwrap(), Some(1)); // inside the range only
    /// assert_eq!(buf.rfind(b"", ..).unwrap(), Some(5)); // empty: the range's end
    /// ```
    pub fn rfind(&self, pattern: &[u8], range: impl RangeBounds<u64>) -> Result<Option<u64>, VbufError> {
        let mut chunks = self.chunks(range)?;
        let end = chunks.back_position();
        if pattern.is_empty() {
            return Ok(Some(end));
        }
        let finder = memmem::FinderRev::new(pattern);
        let keep = pattern.len() - 1;
        let window = window(pattern);
        // Going backwards: the small chunks gathered and not searched yet (the last first), and
        // `head`, the first `keep` bytes of what was searched (a match ending in those starts before
        // them), which ends at `head_end`.
        let mut gathered: Vec<ZeroCopyBuffer> = Vec::new();
        let mut gathered_len = 0;
        let mut head: Vec<u8> = Vec::new();
        let mut head_end = end;
        while let Some(chunk) = chunks.next_back() {
            let chunk = chunk?;
            if chunk.len() < window {
                gathered_len += chunk.len();
                gathered.push(chunk);
                if gathered_len + head.len() >= window + keep {
                    let after = joined(&mut gathered, &head);
                    gathered_len = 0;
                    let after_start = head_end - after.len() as u64;
                    if let Some(i) = finder.rfind(&after) {
                        return Ok(Some(after_start + i as u64));
                    }
                    head = after[..keep].to_vec();
                    head_end = after_start + keep as u64;
                }
                continue;
            }
            // The seam: the chunk's last bytes, and what comes after them.
            let after = joined(&mut gathered, &head);
            gathered_len = 0;
            let mut seam = chunk[chunk.len() - keep..].to_vec();
            seam.extend_from_slice(&after);
            let seam_start = head_end - seam.len() as u64;
            if let Some(i) = finder.rfind(&seam) {
                return Ok(Some(seam_start + i as u64));
            }
            let chunk_start = seam_start + keep as u64 - chunk.len() as u64;
            if let Some(i) = finder.rfind(&chunk) {
                return Ok(Some(chunk_start + i as u64));
            }
            head = chunk[..keep].to_vec();
            head_end = chunk_start + keep as u64;
        }
        let after = joined(&mut gathered, &head);
        Ok(finder.rfind(&after).map(|i| head_end - after.len() as u64 + i as u64))
    }
}

/// The first match of `pattern` in what `chunks` walk (see [`VirtualBuffer::find`]).
fn find_in(chunks: Chunks, pattern: &[u8]) -> Result<Option<u64>, VbufError> {
    let start = chunks.front_position();
    if pattern.is_empty() {
        return Ok(Some(start));
    }
    let finder = memmem::Finder::new(pattern);
    let keep = pattern.len() - 1;
    let window = window(pattern);
    // The content's bytes from `tail_start` not searched yet, after the last `keep` bytes that
    // were (a match starting in those ends in the bytes after them).
    let mut tail: Vec<u8> = Vec::with_capacity(window + keep);
    let mut tail_start = start;
    for chunk in chunks {
        let chunk = chunk?;
        if chunk.len() < window {
            tail.extend_from_slice(&chunk);
            if tail.len() >= window + keep {
                if let Some(i) = finder.find(&tail) {
                    return Ok(Some(tail_start + i as u64));
                }
                tail_start += keep_last(&mut tail, keep);
            }
            continue;
        }
        // The seam: what is gathered, and the chunk's first bytes.
        let before = tail.len();
        tail.extend_from_slice(&chunk[..keep]);
        if let Some(i) = finder.find(&tail).filter(|&i| i < before) {
            return Ok(Some(tail_start + i as u64));
        }
        tail.truncate(before);
        let chunk_start = tail_start + before as u64;
        if let Some(i) = finder.find(&chunk) {
            return Ok(Some(chunk_start + i as u64));
        }
        tail.clear();
        tail.extend_from_slice(&chunk[chunk.len() - keep..]);
        tail_start = chunk_start + (chunk.len() - keep) as u64;
    }
    Ok(finder.find(&tail).map(|i| tail_start + i as u64))
}

/// The least chunk searched in place for `pattern`: four times its length, so that the seams before
/// such chunks cost a quarter of their bytes at most.
fn window(pattern: &[u8]) -> usize {
    4 * pattern.len()
}

/// Drops all but the last `keep` bytes of `tail`; returns how many it dropped.
fn keep_last(tail: &mut Vec<u8>, keep: usize) -> u64 {
    let dropped = tail.len() - keep;
    tail.drain(..dropped);
    dropped as u64
}

/// The chunks `gathered` going backwards (the last first), in the content's order, then `head`;
/// empties `gathered`.
fn joined(gathered: &mut Vec<ZeroCopyBuffer>, head: &[u8]) -> Vec<u8> {
    let mut bytes = Vec::with_capacity(gathered.iter().map(|c| c.len()).sum::<usize>() + head.len());
    for chunk in gathered.drain(..).rev() {
        bytes.extend_from_slice(&chunk);
    }
    bytes.extend_from_slice(head);
    bytes
}

#[cfg(test)]
mod tests {
    use crate::vbuf::{VirtualBuffer, VirtualBufferOptions};

    #[test]
    fn a_search_of_a_snapshot_sees_that_version_whatever_edits_came_since() {
        let buf =
            VirtualBuffer::from_bytes_with(b"aaaaXYZ".repeat(50), VirtualBufferOptions::tiny()).unwrap();
        let snapshot = buf.snapshot();
        buf.insert(0, b"XYZ").unwrap();
        buf.delete(7..14).unwrap();
        assert_eq!(buf.find(b"XYZ", ..).unwrap(), Some(0));
        assert_eq!(buf.find_in_snapshot(snapshot.clone(), b"XYZ", ..).unwrap(), Some(4));
        assert_eq!(buf.find_in_snapshot(snapshot.clone(), b"XYZ", 5..).unwrap(), Some(11));
        // Its range is checked against the snapshot's length.
        assert!(buf.find_in_snapshot(snapshot, b"XYZ", 345..350).is_ok());
        assert!(buf.find_in_snapshot(buf.snapshot(), b"XYZ", 345..350).is_err());
    }
}
