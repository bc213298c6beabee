//! `find` and `rfind` of a byte pattern, across chunk boundaries.
//!
//! Each chunk is searched in place with `memchr::memmem`. A match that straddles chunks is found in a
//! small seam buffer: the last `pattern.len() - 1` bytes seen so far followed by the first
//! `pattern.len() - 1` bytes of the next chunk. The seam only reports matches that start before the
//! new chunk (forward) or end after the old one (backward), so no match is reported twice and the
//! first one found is the first in the content.

use std::ops::RangeBounds;

use memchr::memmem;

use super::buffer::VirtualBuffer;
use super::error::VbufError;

impl VirtualBuffer {
    /// Offset of the first occurrence of `pattern` inside `range`, if any. An empty pattern matches at
    /// the range's start.
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
        let chunks = self.chunks(range)?;
        let start = chunks.front_position();
        if pattern.is_empty() {
            return Ok(Some(start));
        }
        let finder = memmem::Finder::new(pattern);
        let keep = pattern.len() - 1;
        let mut tail: Vec<u8> = Vec::with_capacity(2 * keep);
        let mut pos = start; // offset of the next chunk
        for chunk in chunks {
            let chunk = chunk?;
            if !tail.is_empty() {
                let before = tail.len();
                tail.extend_from_slice(&chunk[..keep.min(chunk.len())]);
                if let Some(i) = finder.find(&tail).filter(|&i| i < before) {
                    return Ok(Some(pos - before as u64 + i as u64));
                }
                tail.truncate(before);
            }
            if let Some(i) = finder.find(&chunk) {
                return Ok(Some(pos + i as u64));
            }
            tail.extend_from_slice(&chunk[chunk.len().saturating_sub(keep)..]);
            tail.drain(..tail.len().saturating_sub(keep));
            pos += chunk.len() as u64;
        }
        Ok(None)
    }

    /// Offset of the last occurrence of `pattern` inside `range`, if any. An empty pattern matches at
    /// the range's end.
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
        // `head` holds the first bytes of what was searched so far (the content after the chunk).
        let mut head: Vec<u8> = Vec::with_capacity(2 * keep);
        let mut end_pos = end; // offset just past the next chunk (going backwards)
        while let Some(chunk) = chunks.next_back() {
            let chunk = chunk?;
            let chunk_start = end_pos - chunk.len() as u64;
            if !head.is_empty() {
                let lead = keep.min(chunk.len());
                let mut seam = chunk[chunk.len() - lead..].to_vec();
                seam.extend_from_slice(&head);
                if let Some(i) = finder.rfind(&seam).filter(|&i| i + pattern.len() > lead) {
                    return Ok(Some(end_pos - lead as u64 + i as u64));
                }
            }
            if let Some(i) = finder.rfind(&chunk) {
                return Ok(Some(chunk_start + i as u64));
            }
            let mut new_head = chunk[..keep.min(chunk.len())].to_vec();
            new_head.extend_from_slice(&head);
            new_head.truncate(keep);
            head = new_head;
            end_pos = chunk_start;
        }
        Ok(None)
    }
}
