//! [`ByteIterator`], which follows edits, and [`Chunks`], which reads one version.

use std::mem::ManuallyDrop;
use std::ops::RangeBounds;
use std::sync::atomic::{AtomicU64, Ordering};
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
    // Why two parts: the compiler keeps the iterator of a user's `while let Some(b) = it.next()` loop
    // in registers only if no call ever gets the iterator's address; and to the optimiser, the
    // step's relaxed atomic load may change any memory, so whatever stays in memory is reloaded each
    // step. Held in memory, each step stored the position, loaded it back and waited for that store,
    // which more than halved the speed of byte iteration. So the fast path reads the plain-value
    // `Cursor` alone, and all that needs a lock, a drop or an `Arc` lives behind one heap pointer,
    // which the slow paths get, with the cursor by value.
    cursor: Cursor,
    /// Never taken except by `drop`.
    state: ManuallyDrop<Box<IterState>>,
}

/// The part of a [`ByteIterator`] a step reads: plain values, copied in and out of the slow paths.
///
/// The loaded chunk is kept as pointers, so that a step is one comparison and one increment: the
/// position is derived from them when asked for.
// `repr(C)` because the field order matters: with `start_pos` beside `seen`, the compiler kept the
// two in one vector register and unpacked `seen` on every step.
#[derive(Clone, Copy)]
#[repr(C)]
struct Cursor {
    /// The byte `next` returns: in `start..=end`.
    at: *const u8,
    /// The snapshot's version (`IterState::snapshot.version`).
    seen: u64,
    /// The end of the loaded chunk (see `start`).
    end: *const u8,
    /// The buffer's current version. Invariant: points into `IterState::inner`, which keeps it alive.
    version: *const AtomicU64,
    /// The loaded chunk is `start..end`, and holds the positions from `start_pos` on. Invariant: the
    /// bytes of `IterState::chunk`, which keeps them alive (empty when no chunk is loaded).
    start: *const u8,
    start_pos: u64,
}

/// The part of a [`ByteIterator`] the slow paths use.
struct IterState {
    inner: Arc<Inner>,
    snapshot: Snapshot,
    chunk: ZeroCopyBuffer,
    bias: Bias,
    error: Option<VbufError>,
}

// SAFETY: the cursor's raw pointers only point into the `Arc<Inner>` and the `ZeroCopyBuffer` that
// `state` owns, which are `Send + Sync`; the pointed-to bytes are never written while the chunk view
// exists, and the version is an atomic. So the iterator may move to and be shared with another thread
// as its parts could.
unsafe impl Send for ByteIterator {}
// SAFETY: as above; `&ByteIterator` allows no access at all.
unsafe impl Sync for ByteIterator {}

impl Cursor {
    /// A cursor at `pos` of the snapshot at `seen`, with no chunk loaded.
    fn unloaded(pos: u64, seen: u64, version: &AtomicU64) -> Cursor {
        let none = std::ptr::NonNull::<u8>::dangling().as_ptr().cast_const();
        Cursor { at: none, start: none, end: none, start_pos: pos, seen, version }
    }

    /// Whether nobody edited the buffer since the snapshot.
    #[inline]
    fn is_current(&self) -> bool {
        // Relaxed is enough: a changed value only sends us to the lock, which orders everything; an
        // edit made by this thread, or one that happens-before this call, is always seen.
        // SAFETY: `version` points into the `Inner` that the iterator's `Arc` keeps alive.
        unsafe { (*self.version).load(Ordering::Relaxed) == self.seen }
    }

    /// The position of the byte `next` returns.
    #[inline]
    fn pos(&self) -> u64 {
        self.start_pos + (self.at.addr() - self.start.addr()) as u64
    }

    /// Moves to `pos`, keeping the chunk if it holds `pos` (or ends there).
    fn seek(self, pos: u64) -> Cursor {
        let offset = pos.wrapping_sub(self.start_pos);
        if offset <= (self.end.addr() - self.start.addr()) as u64 {
            // SAFETY: `offset` is at most the chunk's length, so the result is in `start..=end`.
            Cursor { at: unsafe { self.start.add(offset as usize) }, ..self }
        } else {
            Cursor { at: self.start, end: self.start, start_pos: pos, ..self }
        }
    }

    /// This cursor at `pos`, showing `chunk`, which starts at `chunk_pos` and holds `pos`.
    fn with_chunk(self, chunk: &ZeroCopyBuffer, chunk_pos: u64, pos: u64) -> Cursor {
        let bytes = chunk.as_ptr_range();
        Cursor { start: bytes.start, end: bytes.end, start_pos: chunk_pos, ..self }.seek(pos)
    }

    /// The byte at the position, stepping past it, if the chunk holds it.
    #[inline]
    fn next(&mut self) -> Option<u8> {
        if self.at == self.end {
            return None;
        }
        // SAFETY: `start <= at < end`, and `start..end` are the bytes of the chunk view the iterator's
        // state holds; one past `at` is at most `end`.
        unsafe {
            let byte = *self.at;
            self.at = self.at.add(1);
            Some(byte)
        }
    }

    /// The byte before the position, stepping onto it, if the chunk holds it.
    #[inline]
    fn prev(&mut self) -> Option<u8> {
        if self.at == self.start {
            return None;
        }
        // SAFETY: `start < at <= end`, so `at - 1` is a byte of the chunk view the state holds.
        unsafe {
            self.at = self.at.sub(1);
            Some(*self.at)
        }
    }

    /// A step within the chunk.
    #[inline]
    fn take(&mut self, step: Step) -> Option<u8> {
        match step {
            Step::Next => self.next(),
            Step::Prev => self.prev(),
        }
    }
}

/// Which way a step goes.
#[derive(Clone, Copy)]
enum Step {
    Next,
    Prev,
}

impl IterState {
    /// Maps `c` through the edits made since its snapshot, and moves to the current snapshot.
    fn catch_up(&mut self, c: Cursor) -> Cursor {
        let mut state = lock(&self.inner.state);
        let (pos, _) = state.log.catch_up(self.snapshot.version, c.pos(), self.bias);
        self.snapshot = state.snapshot();
        self.chunk = ZeroCopyBuffer::new();
        Cursor::unloaded(pos, self.snapshot.version, &self.inner.version)
    }

    /// A step that the fast path could not take: catches up with edits, loads the chunk the step
    /// needs, and takes it. Returns the byte stepped over, and the cursor after the step.
    #[cold]
    #[inline(never)]
    fn step(&mut self, mut c: Cursor, step: Step) -> (Option<u8>, Cursor) {
        if !c.is_current() {
            c = self.catch_up(c);
        }
        if let Some(byte) = c.take(step) {
            return (Some(byte), c);
        }
        let pos = c.pos();
        let at = match step {
            Step::Next => pos,
            Step::Prev if pos == 0 => return (None, c),
            Step::Prev => pos - 1,
        };
        match self.snapshot.chunk_at(&self.inner.store, at) {
            Ok(Some((chunk, chunk_pos))) => {
                self.chunk = chunk;
                let mut c = c.with_chunk(&self.chunk, chunk_pos, pos);
                let byte = c.take(step);
                debug_assert!(byte.is_some(), "the loaded chunk holds the byte");
                (byte, c)
            }
            Ok(None) => (None, c),
            Err(e) => {
                self.error = Some(e);
                (None, c)
            }
        }
    }
}

impl VirtualBuffer {
    /// A [`ByteIterator`] at `pos`; fails with [`VbufError::OutOfRange`] past the length. Nothing is
    /// read until the first `next`.
    ///
    /// ```
    /// use omnibuf::vbuf::VirtualBuffer;
    ///
    /// let buf = VirtualBuffer::from_bytes(b"abcdef".to_vec());
    /// let it = buf.iter_at(3).unwrap();
    /// assert_eq!(it.collect::<Vec<u8>>(), b"def");
    /// assert!(buf.iter_at(7).is_err()); // past the end
    /// ```
    pub fn iter_at(&self, pos: u64) -> Result<ByteIterator, VbufError> {
        let mut state = lock(&self.inner.state);
        let len = state.tree.len();
        if pos > len {
            return Err(VbufError::OutOfRange { start: pos, end: pos, len });
        }
        state.log.register();
        let iter_state = Box::new(IterState {
            inner: self.inner.clone(),
            snapshot: state.snapshot(),
            chunk: ZeroCopyBuffer::new(),
            bias: Bias::default(),
            error: None,
        });
        let cursor = Cursor::unloaded(pos, iter_state.snapshot.version, &iter_state.inner.version);
        Ok(ByteIterator { cursor, state: ManuallyDrop::new(iter_state) })
    }

    /// The chunks of a range as zero-copy views, in order, as of now: later edits do not affect them.
    /// Each chunk lies in one piece and one cache block (of a layer read in place, a memory-mapped
    /// file or [`MemoryPersistence`](crate::vbuf::MemoryPersistence), in one window of it, up to 4
    /// MiB). A read that fails (a file truncated underneath) is the walk's last item, both ways.
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
        self.chunks_of(self.snapshot(), range)
    }

    /// [`chunks`](Self::chunks) of `snapshot`, an earlier version of this buffer's content.
    pub(crate) fn chunks_of(
        &self,
        snapshot: Snapshot,
        range: impl RangeBounds<u64>,
    ) -> Result<Chunks, VbufError> {
        let (start, end) = resolve(range, snapshot.len())?;
        Ok(Chunks { inner: self.inner.clone(), snapshot, front: start, back: end })
    }
}

impl ByteIterator {
    /// The position of the byte `next` would return, after catching up with edits.
    ///
    /// ```
    /// use omnibuf::vbuf::VirtualBuffer;
    ///
    /// let buf = VirtualBuffer::from_bytes(b"abcdef".to_vec());
    /// let mut it = buf.iter_at(4).unwrap();
    /// buf.delete(0..2).unwrap(); // before the position: it moves back by 2
    /// assert_eq!(it.position(), 2);
    /// assert_eq!(it.next(), Some(b'e'));
    /// ```
    pub fn position(&mut self) -> u64 {
        self.catch_up();
        self.cursor.pos()
    }

    /// How an insert exactly at the position moves it (default [`Bias::Before`]).
    ///
    /// ```
    /// use omnibuf::vbuf::{Bias, VirtualBuffer};
    ///
    /// let buf = VirtualBuffer::from_bytes(b"ab".to_vec());
    /// let mut it = buf.iter_at(1).unwrap();
    /// it.set_bias(Bias::After);
    /// buf.insert(1, b"123").unwrap(); // exactly at the position: it moves past the insert
    /// assert_eq!(it.position(), 4);
    /// assert_eq!(it.next(), Some(b'b'));
    /// ```
    pub fn set_bias(&mut self, bias: Bias) {
        self.state.bias = bias;
    }

    /// Moves to `pos`; fails with [`VbufError::OutOfRange`] past the length (as it is now, after
    /// catching up with edits), leaving the position where it was.
    ///
    /// ```
    /// use omnibuf::vbuf::VirtualBuffer;
    ///
    /// let buf = VirtualBuffer::from_bytes(b"abcdef".to_vec());
    /// let mut it = buf.iter_at(0).unwrap();
    /// it.seek(5).unwrap();
    /// assert_eq!(it.next(), Some(b'f'));
    /// assert!(it.seek(7).is_err());
    /// ```
    pub fn seek(&mut self, pos: u64) -> Result<(), VbufError> {
        self.catch_up();
        let len = self.state.snapshot.len();
        if pos > len {
            return Err(VbufError::OutOfRange { start: pos, end: pos, len });
        }
        self.cursor = self.cursor.seek(pos);
        Ok(())
    }

    /// The error that ended the iteration early, if one did.
    ///
    /// ```
    /// use omnibuf::vbuf::{VbufError, VirtualBuffer};
    /// # let dir = tempfile::tempdir()?;
    /// let path = dir.path().join("growing.log");
    /// std::fs::write(&path, b"0123456789")?;
    /// let buf = VirtualBuffer::open(&path)?;
    /// let mut it = buf.iter_at(0)?;
    /// std::fs::write(&path, b"01")?; // another program truncates the file
    /// assert_eq!(it.next(), None); // the read failed: the iteration ends early...
    /// assert!(matches!(it.take_error(), Some(VbufError::Persistence(_)))); // ...and says why
    /// assert!(it.take_error().is_none());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn take_error(&mut self) -> Option<VbufError> {
        self.state.error.take()
    }

    /// Steps back and returns the byte before the position; `None` at the start.
    ///
    /// ```
    /// use omnibuf::vbuf::VirtualBuffer;
    ///
    /// let buf = VirtualBuffer::from_bytes(b"abc".to_vec());
    /// let mut it = buf.iter_at(3).unwrap();
    /// assert_eq!(it.prev(), Some(b'c'));
    /// assert_eq!(it.prev(), Some(b'b'));
    /// assert_eq!(it.next(), Some(b'b')); // back where it was
    /// assert_eq!(buf.iter_at(0).unwrap().prev(), None);
    /// ```
    #[inline]
    pub fn prev(&mut self) -> Option<u8> {
        if self.cursor.at != self.cursor.start && self.cursor.is_current() {
            return self.cursor.prev();
        }
        self.slow_step(Step::Prev)
    }

    /// Maps the position through edits made since this iterator last looked.
    fn catch_up(&mut self) {
        if !self.cursor.is_current() {
            self.cursor = self.state.catch_up(self.cursor);
        }
    }

    #[inline]
    fn slow_step(&mut self, step: Step) -> Option<u8> {
        // The state is reached through its box, and the cursor goes by value: the iterator's own
        // address never leaves this inlined code (see the struct's comment).
        let state: &mut IterState = &mut self.state;
        let (byte, cursor) = state.step(self.cursor, step);
        self.cursor = cursor;
        byte
    }
}

impl Iterator for ByteIterator {
    type Item = u8;

    #[inline]
    fn next(&mut self) -> Option<u8> {
        // The bound first: so ordered, the compiler emits two compare-and-branch pairs and no more.
        if self.cursor.at != self.cursor.end && self.cursor.is_current() {
            return self.cursor.next();
        }
        self.slow_step(Step::Next)
    }
}

impl Drop for ByteIterator {
    #[inline]
    fn drop(&mut self) {
        // SAFETY: `state` is not used again: this is the iterator's drop.
        let state = unsafe { ManuallyDrop::take(&mut self.state) };
        // The log stops keeping edits for this iterator.
        lock(&state.inner.state).log.unregister(state.snapshot.version);
    }
}

impl std::fmt::Debug for ByteIterator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ByteIterator")
            .field("pos", &self.cursor.pos())
            .field("version", &self.cursor.seen)
            .finish()
    }
}

/// The chunks of a range of one version of a [`VirtualBuffer`], from both ends; see
/// [`VirtualBuffer::chunks`].
///
/// ```
/// use omnibuf::vbuf::VirtualBuffer;
///
/// let buf = VirtualBuffer::from_bytes(b"hello world".to_vec());
/// buf.insert(5, b",").unwrap();
/// let mut joined = Vec::new();
/// for chunk in buf.chunks(..).unwrap() {
///     joined.extend_from_slice(&chunk.unwrap());
/// }
/// assert_eq!(joined, b"hello, world");
/// ```
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

impl Chunks {
    /// Ends the walk after an error, which is its last item: a read that failed would fail again (a
    /// file truncated underneath), and a loop that skips errors would then never end.
    fn ended_by<T>(&mut self, result: Result<T, VbufError>) -> Result<T, VbufError> {
        if result.is_err() {
            self.front = self.back;
        }
        result
    }
}

impl Iterator for Chunks {
    type Item = Result<ZeroCopyBuffer, VbufError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.front >= self.back {
            return None;
        }
        let found = self.snapshot.chunk_at(&self.inner.store, self.front);
        Some(self.ended_by(found).map(|found| {
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
        let found = self.snapshot.chunk_at(&self.inner.store, self.back - 1);
        Some(self.ended_by(found).map(|found| {
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::vbuf::VirtualBufferOptions;

    /// Both ways over tiny blocks with edits from another handle in between: every chunk change and
    /// every catch-up of the cursor's raw window runs (also under Miri, which checks its pointers).
    #[test]
    fn steps_across_chunks_and_edits_like_a_vec() {
        let mut model: Vec<u8> = (0..40).collect();
        let buf = VirtualBuffer::from_bytes_with(model.clone(), VirtualBufferOptions::tiny()).unwrap();
        let other = buf.clone();
        let mut it = buf.iter_at(0).unwrap();
        let forward: Vec<u8> = it.by_ref().take(25).collect();
        assert_eq!(forward, model[..25]);

        other.insert(10, b"xyz").unwrap(); // before the position: it moves by 3
        model.splice(10..10, *b"xyz");
        other.delete(26..30).unwrap(); // covers the position 28: it moves to 26
        model.drain(26..30);
        assert_eq!(it.position(), 26);
        assert_eq!(it.next(), Some(model[26]));

        let back: Vec<u8> = std::iter::from_fn(|| it.prev()).collect();
        let expected: Vec<u8> = model[..27].iter().rev().copied().collect();
        assert_eq!(back, expected);
        assert_eq!(it.prev(), None);

        it.seek(model.len() as u64).unwrap();
        assert_eq!(it.next(), None);
        other.insert(model.len() as u64, b"!").unwrap(); // at the position, bias Before: it stays
        assert_eq!(it.next(), Some(b'!'));
        assert!(it.seek(1000).is_err());

        let moved = std::thread::spawn(move || it.prev()).join().unwrap();
        assert_eq!(moved, Some(b'!'));
        assert_eq!(buf.inner.state.lock().unwrap().log.readers(), 0, "the dropped iterator unregistered");
    }
}
