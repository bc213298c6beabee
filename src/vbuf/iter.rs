//! [`ByteIterator`], which follows edits, and [`Chunks`], which reads one version.

use std::ops::RangeBounds;
use std::sync::atomic::Ordering;
use std::sync::Arc;

use super::buffer::{lock, resolve, Inner, VirtualBuffer};
use super::edit_log::Bias;
use super::error::VbufError;
use super::snapshot::Snapshot;
use crate::ZeroCopyBuffer;

/// A cursor over the bytes of a [`VirtualBuffer`] that moves both ways and follows edits.
///
/// It reads through a snapshot, one chunk at a time, so a step costs an index into the current chunk
/// plus one relaxed load that tells whether anyone edited the buffer. When someone did (through any
/// handle, on any thread), the iterator maps its position through the edits it missed: a delete that
/// covers the position moves it to the delete's start, an insert exactly at the position moves it by
/// its [`Bias`]. Edits are kept for it in the buffer's edit log until it catches up or drops.
///
/// `next` returns the byte at the position and advances; `prev` steps back and returns that byte. A
/// read error ends the iteration; [`take_error`](Self::take_error) tells it apart from the end.
///
/// ```
/// use omnibuf::vbuf::VirtualBuffer;
///
/// let buf = VirtualBuffer::from_bytes(b"hello world".to_vec());
/// let mut it = buf.iter_at(6).unwrap();
/// assert_eq!(it.next(), Some(b'w'));
/// buf.delete(0..6).unwrap(); // "world": the iterator follows
/// assert_eq!(it.position(), 1);
/// assert_eq!(it.next(), Some(b'o'));
/// assert_eq!(it.prev(), Some(b'o'));
/// assert_eq!(it.prev(), Some(b'w'));
/// assert_eq!(it.prev(), None);
/// ```
pub struct ByteIterator {
    inner: Arc<Inner>,
    snapshot: Snapshot,
    /// Position of the byte `next` returns.
    pos: u64,
    bias: Bias,
    chunk: ZeroCopyBuffer,
    chunk_start: u64,
    error: Option<VbufError>,
}

impl VirtualBuffer {
    /// A [`ByteIterator`] at `pos` (at most the length).
    pub fn iter_at(&self, pos: u64) -> Result<ByteIterator, VbufError> {
        let mut state = lock(&self.inner.state);
        let len = state.tree.len();
        if pos > len {
            return Err(VbufError::OutOfRange { start: pos, end: pos, len });
        }
        state.log.register();
        Ok(ByteIterator {
            inner: self.inner.clone(),
            snapshot: state.snapshot(),
            pos,
            bias: Bias::default(),
            chunk: ZeroCopyBuffer::new(),
            chunk_start: 0,
            error: None,
        })
    }

    /// The chunks of a range as zero-copy views, in order, as of now: later edits do not affect them.
    /// Each chunk lies in one piece and one cache block.
    ///
    /// ```
    /// use omnibuf::vbuf::VirtualBuffer;
    ///
    /// let buf = VirtualBuffer::from_bytes(b"abcdefgh".to_vec());
    /// buf.insert(4, b"XY").unwrap();
    /// let chunks: Vec<_> = buf.chunks(2..8).unwrap().map(|c| c.unwrap()).collect();
    /// assert_eq!(chunks, [&b"cd"[..], &b"XY"[..], &b"ef"[..]]);
    /// ```
    pub fn chunks(&self, range: impl RangeBounds<u64>) -> Result<Chunks, VbufError> {
        let snapshot = self.snapshot();
        let (start, end) = resolve(range, snapshot.len())?;
        Ok(Chunks { inner: self.inner.clone(), snapshot, front: start, back: end })
    }
}

impl ByteIterator {
    /// The position of the byte `next` would return, after catching up with edits.
    pub fn position(&mut self) -> u64 {
        self.catch_up();
        self.pos
    }

    /// How an insert exactly at the position moves it (default [`Bias::Before`]).
    pub fn set_bias(&mut self, bias: Bias) {
        self.bias = bias;
    }

    /// Moves to `pos` (at most the length).
    pub fn seek(&mut self, pos: u64) -> Result<(), VbufError> {
        self.catch_up();
        let len = self.snapshot.len();
        if pos > len {
            return Err(VbufError::OutOfRange { start: pos, end: pos, len });
        }
        self.pos = pos;
        Ok(())
    }

    /// The error that ended the iteration early, if one did.
    pub fn take_error(&mut self) -> Option<VbufError> {
        self.error.take()
    }

    /// Steps back and returns the byte before the position; `None` at the start.
    pub fn prev(&mut self) -> Option<u8> {
        self.catch_up();
        let at = self.pos.checked_sub(1)?;
        let byte = self.byte_at(at)?;
        self.pos = at;
        Some(byte)
    }

    /// Maps the position through edits made since this iterator last looked.
    #[inline]
    fn catch_up(&mut self) {
        // Relaxed is enough: a changed value only sends us to the lock, which orders everything; an
        // edit made by this thread, or one that happens-before this call, is always seen.
        if self.inner.version.load(Ordering::Relaxed) != self.snapshot.version {
            self.catch_up_slow();
        }
    }

    #[cold]
    fn catch_up_slow(&mut self) {
        let mut state = lock(&self.inner.state);
        let (pos, _) = state.log.catch_up(self.snapshot.version, self.pos, self.bias);
        self.pos = pos;
        self.snapshot = state.snapshot();
        self.chunk = ZeroCopyBuffer::new();
    }

    #[inline]
    fn byte_at(&mut self, at: u64) -> Option<u8> {
        if let Some(&b) = at.checked_sub(self.chunk_start).and_then(|i| self.chunk.get(i as usize)) {
            return Some(b);
        }
        self.load_chunk(at)
    }

    #[cold]
    fn load_chunk(&mut self, at: u64) -> Option<u8> {
        match self.snapshot.chunk_at(&self.inner.store, at) {
            Ok(Some((chunk, start))) => {
                self.chunk = chunk;
                self.chunk_start = start;
                Some(self.chunk[(at - start) as usize])
            }
            Ok(None) => None,
            Err(e) => {
                self.error = Some(e);
                None
            }
        }
    }
}

impl Iterator for ByteIterator {
    type Item = u8;

    #[inline]
    fn next(&mut self) -> Option<u8> {
        self.catch_up();
        let byte = self.byte_at(self.pos)?;
        self.pos += 1;
        Some(byte)
    }
}

impl Drop for ByteIterator {
    fn drop(&mut self) {
        lock(&self.inner.state).log.unregister(self.snapshot.version);
    }
}

impl std::fmt::Debug for ByteIterator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ByteIterator")
            .field("pos", &self.pos)
            .field("version", &self.snapshot.version)
            .finish()
    }
}

/// The chunks of a range of one version of a [`VirtualBuffer`], from both ends; see
/// [`VirtualBuffer::chunks`].
pub struct Chunks {
    inner: Arc<Inner>,
    snapshot: Snapshot,
    front: u64,
    back: u64,
}

impl Chunks {
    /// Offset of the next chunk's first byte from the front.
    pub(crate) fn front_position(&self) -> u64 {
        self.front
    }

    /// Offset just past the next chunk from the back.
    pub(crate) fn back_position(&self) -> u64 {
        self.back
    }
}

impl Iterator for Chunks {
    type Item = Result<ZeroCopyBuffer, VbufError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.front >= self.back {
            return None;
        }
        Some(self.snapshot.chunk_at(&self.inner.store, self.front).map(|found| {
            let (chunk, start) = found.expect("front < back <= len");
            let from = (self.front - start) as usize;
            let to = chunk.len().min((self.back - start) as usize);
            self.front = start + to as u64;
            chunk.slice(from..to)
        }))
    }
}

impl DoubleEndedIterator for Chunks {
    fn next_back(&mut self) -> Option<Self::Item> {
        if self.front >= self.back {
            return None;
        }
        Some(self.snapshot.chunk_at(&self.inner.store, self.back - 1).map(|found| {
            let (chunk, start) = found.expect("back - 1 < len");
            let from = self.front.saturating_sub(start) as usize;
            let to = (self.back - start) as usize;
            self.back = start + from as u64;
            chunk.slice(from..to)
        }))
    }
}

impl std::fmt::Debug for Chunks {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Chunks").field("front", &self.front).field("back", &self.back).finish()
    }
}
