//! Lines on top of bytes: counts, line ↔ offset, and a [`LineIterator`].
//!
//! A line ends at LF; a CR right before the LF belongs to the terminator (CRLF), also when the two
//! bytes fall in different chunks. A buffer with `n` LFs has `n + 1` lines (the last may be empty).
//!
//! The index is lazy and layered so that the byte logic knows nothing of it:
//! - per source, a `LineTable` (module `line_table`) of LF counts per block, built by one memchr scan on the first line
//!   query (the only long step; it reports progress and can be cancelled);
//! - per tree node, a cached LF count, filled on demand from the tables and the add buffer. An edit
//!   resets only the nodes it changed, so after an edit a line query recounts one path.

use std::collections::BTreeSet;
use std::sync::{Arc, Mutex};

use super::buffer::{lock, VirtualBuffer};
use super::error::VbufError;
use super::line_table::{self, count_lf, LineTable, Progress};
use super::snapshot::Snapshot;
use super::store::{piece_chunk, source, Source, Store};
use super::tree::{Node, Piece, ADD_SOURCE};

/// The error for line counts that no longer agree with the bytes they were counted from, naming the
/// first of `sources` that reports a change.
fn index_out_of_date(sources: &[Source]) -> VbufError {
    line_table::index_out_of_date(sources.iter().map(|s| &*s.layer))
}

/// Line-index work over one snapshot.
struct Lines<'a> {
    snapshot: &'a Snapshot,
    store: &'a Mutex<Store>,
}

impl Lines<'_> {
    fn table(&self, id: u32) -> &LineTable {
        source(&self.snapshot.sources, id).lines.get().expect("tables are built before counting")
    }

    /// Builds the tables of every source a piece points into, reporting progress.
    fn ensure_tables(&self, progress: Progress<'_>) -> Result<(), VbufError> {
        // Every source has its table (the rule once the first count built them): no piece to look at.
        if self.snapshot.sources.iter().all(|src| src.lines.get().is_some()) {
            return Ok(());
        }
        let mut ids = BTreeSet::new();
        self.snapshot.tree.for_each_piece(0, self.snapshot.len(), &mut |p, _| {
            if p.source != ADD_SOURCE {
                ids.insert(p.source);
            }
            true
        });
        let missing: Vec<u32> =
            ids.into_iter().filter(|&id| source(&self.snapshot.sources, id).lines.get().is_none()).collect();
        let total = missing.iter().map(|&id| source(&self.snapshot.sources, id).len).sum();
        let block = lock(self.store).block_size() as u64;
        let mut done = 0;
        for id in missing {
            let src = source(&self.snapshot.sources, id);
            let table = LineTable::build(&*src.layer, src.len, block, &mut done, total, progress)?;
            let _ = src.lines.set(Arc::new(table));
        }
        Ok(())
    }

    /// LFs in `0..offset` of source `id`: its table's count of the whole blocks before, and the rest
    /// counted in the block, read through the cache unless the source is mapped (the pieces that
    /// many edits cut from one block share one read of it).
    fn source_lfs_before(&self, id: u32, offset: u64) -> Result<u64, VbufError> {
        let src = source(&self.snapshot.sources, id);
        let table = self.table(id);
        if src.layer.is_mapped() {
            return table.before(&*src.layer, offset);
        }
        let index = offset / table.block();
        let whole = table.before_block(index).ok_or_else(|| index_out_of_date(std::slice::from_ref(src)))?;
        let partial = (offset - index * table.block()) as usize;
        if partial == 0 {
            return Ok(whole);
        }
        let block = lock(self.store).source_block(id, src, index)?;
        let bytes = block.get(..partial).ok_or_else(|| index_out_of_date(std::slice::from_ref(src)))?;
        Ok(whole + count_lf(bytes))
    }

    /// LFs in a piece.
    fn piece_lfs(&self, piece: Piece) -> Result<u64, VbufError> {
        if piece.source == ADD_SOURCE {
            let mut count = 0;
            let mut at = 0;
            while at < piece.len {
                let (chunk, start) = piece_chunk(self.store, &self.snapshot.sources, piece, at)?;
                count += count_lf(&chunk);
                at = start + chunk.len() as u64;
            }
            return Ok(count);
        }
        let src = source(&self.snapshot.sources, piece.source);
        let (to_end, to_start) = (
            self.source_lfs_before(piece.source, piece.offset + piece.len)?,
            self.source_lfs_before(piece.source, piece.offset)?,
        );
        // Each count reads its partial block (from the cache, or the mapping): counts taken across
        // an external change can disagree.
        to_end.checked_sub(to_start).ok_or_else(|| index_out_of_date(std::slice::from_ref(src)))
    }

    /// LFs under a node, cached in the node.
    fn node_lfs(&self, node: &Node) -> Result<u64, VbufError> {
        if let Some(n) = node.cached_newlines() {
            return Ok(n);
        }
        let mut n = 0;
        match node.pieces() {
            Some(pieces) => {
                for &p in pieces {
                    n += self.piece_lfs(p)?;
                }
            }
            None => {
                for child in node.children() {
                    n += self.node_lfs(child)?;
                }
            }
        }
        node.cache_newlines(n);
        Ok(n)
    }

    /// LFs in `0..offset`.
    fn lfs_before(&self, offset: u64) -> Result<u64, VbufError> {
        let mut node = self.snapshot.tree.root();
        let (mut base, mut count) = (0, 0);
        loop {
            if let Some(pieces) = node.pieces() {
                for &p in pieces {
                    if offset <= base + p.len {
                        return Ok(count + self.piece_lfs(p.sub(0, offset - base))?);
                    }
                    count += self.piece_lfs(p)?;
                    base += p.len;
                }
                return Ok(count);
            }
            let children = node.children();
            let mut next = &children[children.len() - 1];
            for child in children {
                if offset <= base + child.len() {
                    next = child;
                    break;
                }
                count += self.node_lfs(child)?;
                base += child.len();
            }
            node = next;
        }
    }

    /// Where line `line` (0-based) starts, of content with `lfs` LFs in all.
    fn start_of(&self, line: u64, lfs: u64) -> Result<u64, VbufError> {
        if line > lfs {
            return Err(VbufError::NoSuchLine { line, lines: lfs + 1 });
        }
        if line == 0 {
            return Ok(0);
        }
        Ok(self.nth_lf(line)? + 1)
    }

    /// Offset of the `nth` LF (1-based); the caller checks that it exists.
    fn nth_lf(&self, mut nth: u64) -> Result<u64, VbufError> {
        let mut node = self.snapshot.tree.root();
        let mut base = 0;
        loop {
            if let Some(pieces) = node.pieces() {
                for &p in pieces {
                    let here = self.piece_lfs(p)?;
                    if nth <= here {
                        return Ok(base + self.nth_in_piece(p, nth)?);
                    }
                    nth -= here;
                    base += p.len;
                }
                // The node's cached count said the leaf holds it; a recount from the bytes disagrees.
                return Err(index_out_of_date(&self.snapshot.sources));
            }
            let mut next = None;
            for child in node.children() {
                let here = self.node_lfs(child)?;
                if nth <= here {
                    next = Some(child);
                    break;
                }
                nth -= here;
                base += child.len();
            }
            node = next.ok_or_else(|| index_out_of_date(&self.snapshot.sources))?;
        }
    }

    /// Offset within the piece of its `nth` LF.
    fn nth_in_piece(&self, piece: Piece, nth: u64) -> Result<u64, VbufError> {
        if piece.source != ADD_SOURCE {
            let src = source(&self.snapshot.sources, piece.source);
            let table = self.table(piece.source);
            let abs = table.nth(
                &*src.layer,
                src.len,
                piece.offset,
                self.source_lfs_before(piece.source, piece.offset)? + nth,
            )?;
            if abs >= piece.offset + piece.len {
                return Err(index_out_of_date(std::slice::from_ref(src)));
            }
            return Ok(abs - piece.offset);
        }
        // The add buffer is this process's own memory and side file: its bytes never change, so
        // the count the caller took from them holds. Checked all the same, as it costs nothing.
        let mut left = nth;
        let mut at = 0;
        while at < piece.len {
            let (chunk, start) = piece_chunk(self.store, &self.snapshot.sources, piece, at)?;
            let here = count_lf(&chunk);
            if left <= here {
                if let Some(i) = memchr::memchr_iter(b'\n', &chunk).nth((left - 1) as usize) {
                    return Ok(start + i as u64);
                }
                break;
            }
            left -= here;
            at = start + chunk.len() as u64;
        }
        Err(index_out_of_date(&self.snapshot.sources))
    }
}

impl VirtualBuffer {
    fn lines_of<R>(
        &self,
        progress: Progress<'_>,
        f: impl FnOnce(&Lines<'_>, u64) -> Result<R, VbufError>,
    ) -> Result<R, VbufError> {
        let snapshot = self.snapshot();
        let lines = Lines { snapshot: &snapshot, store: &self.inner.store };
        let content = (snapshot.version, Arc::as_ptr(&snapshot.sources));
        let ready =
            lock(&self.inner.tables_ready).as_ref().map(|(version, sources)| (*version, sources.as_ptr()));
        if ready != Some(content) {
            lines.ensure_tables(progress)?;
            *lock(&self.inner.tables_ready) = Some((snapshot.version, Arc::downgrade(&snapshot.sources)));
        }
        let total_lfs = lines.node_lfs(snapshot.tree.root())?;
        f(&lines, total_lfs)
    }

    /// Number of lines: LFs plus one. The first call on a file scans it once (memchr), and so does the
    /// first after a save (the file saved is a new one); later calls, also after edits, recount only
    /// what changed.
    ///
    /// A scan reads the content, so it fails as [`read`](Self::read) does when a read fails
    /// ([`VbufError::Persistence`], [`VbufError::SideFile`]); so do the other line methods. The index
    /// holds a count per block of each file: a block size so small that a file's counts do not fit
    /// in memory fails with [`VbufError::AllocationFailed`].
    ///
    /// ```
    /// use omnibuf::vbuf::VirtualBuffer;
    ///
    /// let buf = VirtualBuffer::from_bytes(b"one\r\ntwo\nthree".to_vec());
    /// assert_eq!(buf.line_count().unwrap(), 3);
    /// assert_eq!(buf.line_to_offset(2).unwrap(), 9);
    /// assert_eq!(buf.offset_to_line(6).unwrap(), 1);
    /// buf.insert(0, b"zero\n").unwrap();
    /// assert_eq!(buf.line_count().unwrap(), 4);
    /// ```
    pub fn line_count(&self) -> Result<u64, VbufError> {
        self.line_count_with_progress(&mut |_, _| true)
    }

    /// [`line_count`](Self::line_count), reporting the progress of the first scan: `progress` gets
    /// the bytes scanned and the total, and returning `false` from it stops the scan with
    /// [`VbufError::Cancelled`].
    ///
    /// ```
    /// use omnibuf::vbuf::{VbufError, VirtualBuffer};
    ///
    /// let buf = VirtualBuffer::from_bytes(b"a\nb\nc".to_vec());
    /// let mut reports = Vec::new();
    /// let lines = buf.line_count_with_progress(&mut |done, total| {
    ///     reports.push((done, total));
    ///     true
    /// });
    /// assert_eq!(lines.unwrap(), 3);
    /// assert_eq!(reports.last(), Some(&(5, 5))); // all 5 bytes scanned
    /// let other = VirtualBuffer::from_bytes(b"x\ny".to_vec());
    /// assert!(matches!(other.line_count_with_progress(&mut |_, _| false), Err(VbufError::Cancelled)));
    /// ```
    pub fn line_count_with_progress(&self, progress: Progress<'_>) -> Result<u64, VbufError> {
        self.lines_of(progress, |_, lfs| Ok(lfs + 1))
    }

    /// Offset where line `line` (0-based) starts; fails with [`VbufError::NoSuchLine`] past the last
    /// line.
    ///
    /// ```
    /// use omnibuf::vbuf::{VbufError, VirtualBuffer};
    ///
    /// let buf = VirtualBuffer::from_bytes(b"ab\ncd\n".to_vec());
    /// assert_eq!(buf.line_to_offset(1).unwrap(), 3);
    /// assert_eq!(buf.line_to_offset(2).unwrap(), 6); // the empty last line
    /// assert!(matches!(buf.line_to_offset(3), Err(VbufError::NoSuchLine { line: 3, lines: 3 })));
    /// ```
    pub fn line_to_offset(&self, line: u64) -> Result<u64, VbufError> {
        self.lines_of(&mut |_, _| true, |lines, lfs| lines.start_of(line, lfs))
    }

    /// The line (0-based) that holds `offset`; fails with [`VbufError::OutOfRange`] past the length.
    ///
    /// ```
    /// use omnibuf::vbuf::VirtualBuffer;
    ///
    /// let buf = VirtualBuffer::from_bytes(b"ab\ncd".to_vec());
    /// assert_eq!(buf.offset_to_line(2).unwrap(), 0); // the LF belongs to its line
    /// assert_eq!(buf.offset_to_line(3).unwrap(), 1);
    /// assert!(buf.offset_to_line(6).is_err());
    /// ```
    pub fn offset_to_line(&self, offset: u64) -> Result<u64, VbufError> {
        self.lines_of(&mut |_, _| true, |lines, _| {
            let len = lines.snapshot.len();
            if offset > len {
                return Err(VbufError::OutOfRange { start: offset, end: offset, len });
            }
            lines.lfs_before(offset)
        })
    }

    /// A [`LineIterator`] positioned before line `line`, over the content as of now; fails as
    /// [`line_to_offset`](Self::line_to_offset) does.
    ///
    /// ```
    /// use omnibuf::vbuf::VirtualBuffer;
    ///
    /// let buf = VirtualBuffer::from_bytes(b"a\r\nbb\n".to_vec());
    /// let mut lines = buf.lines(0).unwrap();
    /// let first = lines.next().unwrap().unwrap();
    /// assert_eq!((first.start, first.end, first.next), (0, 1, 3)); // CRLF is not content
    /// assert_eq!(buf.read(lines.next().unwrap().unwrap().content()).unwrap(), b"bb"[..]);
    /// assert_eq!(lines.next().unwrap().unwrap().content(), 6..6); // the empty last line
    /// assert!(lines.next().is_none());
    /// assert_eq!(lines.prev().unwrap().unwrap().number, 2);
    /// ```
    pub fn lines(&self, line: u64) -> Result<LineIterator, VbufError> {
        // The line's start and the content it walks are of one version: an edit made meanwhile on
        // another thread must not pair an offset of one with the bytes of the other.
        let (start, snapshot) = self.lines_of(&mut |_, _| true, |lines, lfs| {
            Ok((lines.start_of(line, lfs)?, lines.snapshot.clone()))
        })?;
        Ok(LineIterator { buffer: self.clone(), snapshot, number: line, start, failed: false })
    }
}

/// A line's place in the buffer.
///
/// ```
/// use omnibuf::vbuf::VirtualBuffer;
///
/// let buf = VirtualBuffer::from_bytes(b"one\r\ntwo".to_vec());
/// let first = buf.lines(0).unwrap().next().unwrap().unwrap();
/// assert_eq!((first.number, first.start, first.end, first.next), (0, 0, 3, 5)); // CRLF ends it
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Line {
    /// Line number, 0-based.
    pub number: u64,
    /// Offset of its first byte.
    pub start: u64,
    /// Offset just past its content (before the LF or CRLF).
    pub end: u64,
    /// Offset where the next line starts (past the terminator); `end` for the last line.
    pub next: u64,
}

impl Line {
    /// The content range, without the terminator; pass it to [`VirtualBuffer::read`]. A line can be
    /// longer than memory, so it is not read for you.
    ///
    /// ```
    /// use omnibuf::vbuf::VirtualBuffer;
    ///
    /// let buf = VirtualBuffer::from_bytes(b"key=value\r\n".to_vec());
    /// let line = buf.lines(0).unwrap().next().unwrap().unwrap();
    /// assert_eq!(line.content(), 0..9);
    /// assert_eq!(buf.read(line.content()).unwrap(), b"key=value"[..]);
    /// ```
    pub fn content(&self) -> std::ops::Range<u64> {
        self.start..self.end
    }
}

/// Lines of one version of a [`VirtualBuffer`], both ways: `next` returns the line after the cursor and
/// moves past it, `prev` moves back over the line before it and returns it. A step that fails (a file
/// truncated underneath) is the last item, both ways.
///
/// ```
/// use omnibuf::vbuf::VirtualBuffer;
///
/// let buf = VirtualBuffer::from_bytes(b"a\nbb\nccc".to_vec());
/// let mut lines = buf.lines(1).unwrap();
/// let second = lines.next().unwrap().unwrap();
/// assert_eq!(buf.read(second.start..second.end).unwrap(), b"bb"[..]);
/// assert_eq!(lines.next().unwrap().unwrap().number, 2);
/// assert!(lines.next().is_none());
/// ```
pub struct LineIterator {
    buffer: VirtualBuffer,
    snapshot: Snapshot,
    /// Number of the line after the cursor.
    number: u64,
    /// Offset where that line starts; past the length once the last line was returned.
    start: u64,
    /// Whether a step failed: the iterator then ends both ways (see `ended_by`).
    failed: bool,
}

impl LineIterator {
    fn store(&self) -> &Mutex<Store> {
        &self.buffer.inner.store
    }

    /// First LF at or after `from`.
    fn next_lf(&self, from: u64) -> Result<Option<u64>, VbufError> {
        let mut pos = from;
        while let Some((chunk, start)) = self.snapshot.chunk_at(self.store(), pos)? {
            let skip = (pos - start) as usize;
            if let Some(i) = memchr::memchr(b'\n', &chunk[skip..]) {
                return Ok(Some(pos + i as u64));
            }
            pos = start + chunk.len() as u64;
        }
        Ok(None)
    }

    /// Last LF before `before`.
    fn prev_lf(&self, before: u64) -> Result<Option<u64>, VbufError> {
        let mut end = before;
        while end > 0 {
            let (chunk, start) = self.snapshot.chunk_at(self.store(), end - 1)?.expect("end <= len");
            if let Some(i) = memchr::memrchr(b'\n', &chunk[..(end - start) as usize]) {
                return Ok(Some(start + i as u64));
            }
            end = start;
        }
        Ok(None)
    }

    /// The content end of a line whose LF is at `lf`: before a CR that precedes it.
    fn content_end(&self, line_start: u64, lf: u64) -> Result<u64, VbufError> {
        if lf > line_start {
            let mut b = [0u8];
            self.snapshot.read_into(self.store(), lf - 1, &mut b)?;
            if b[0] == b'\r' {
                return Ok(lf - 1);
            }
        }
        Ok(lf)
    }

    fn step_forward(&mut self) -> Result<Option<Line>, VbufError> {
        let len = self.snapshot.len();
        if self.start > len {
            return Ok(None);
        }
        let start = self.start;
        let line = match self.next_lf(start)? {
            Some(lf) => Line { number: self.number, start, end: self.content_end(start, lf)?, next: lf + 1 },
            None => Line { number: self.number, start, end: len, next: len },
        };
        self.start = if line.next == len && line.end == len { len + 1 } else { line.next };
        self.number += 1;
        Ok(Some(line))
    }

    fn step_back(&mut self) -> Result<Option<Line>, VbufError> {
        if self.number == 0 {
            return Ok(None);
        }
        let len = self.snapshot.len();
        if self.start == 0 {
            // Only line 0 starts at 0: the numbers, counted from the bytes when the iterator was
            // made, no longer agree with the bytes read since.
            return Err(index_out_of_date(&self.snapshot.sources));
        }
        // The line before the cursor ends at the LF just before `start`, or at the end of the content.
        let (end_lf, next) = if self.start > len { (None, len) } else { (Some(self.start - 1), self.start) };
        let search_before = end_lf.unwrap_or(len);
        let start = self.prev_lf(search_before)?.map_or(0, |lf| lf + 1);
        let end = match end_lf {
            Some(lf) => self.content_end(start, lf)?,
            None => len,
        };
        self.number -= 1;
        self.start = start;
        Ok(Some(Line { number: self.number, start, end, next }))
    }

    /// Moves back over the previous line and returns it; `None` before the first line, and after an
    /// error, which ends the iterator both ways (see [`LineIterator`]).
    ///
    /// ```
    /// use omnibuf::vbuf::VirtualBuffer;
    ///
    /// let buf = VirtualBuffer::from_bytes(b"one\ntwo\nthree".to_vec());
    /// let mut lines = buf.lines(2).unwrap(); // before "three"
    /// let two = lines.prev().unwrap().unwrap();
    /// assert_eq!((two.number, buf.read(two.content()).unwrap()), (1, b"two"[..].into()));
    /// assert_eq!(lines.prev().unwrap().unwrap().number, 0);
    /// assert!(lines.prev().is_none());
    /// ```
    pub fn prev(&mut self) -> Option<Result<Line, VbufError>> {
        if self.failed {
            return None;
        }
        let step = self.step_back();
        self.ended_by(step).transpose()
    }

    /// Ends the iterator after an error, which is its last item: a read that failed would fail
    /// again (a file truncated underneath), and a loop that skips errors would then never end.
    fn ended_by(&mut self, step: Result<Option<Line>, VbufError>) -> Result<Option<Line>, VbufError> {
        if step.is_err() {
            self.failed = true;
        }
        step
    }
}

impl Iterator for LineIterator {
    type Item = Result<Line, VbufError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.failed {
            return None;
        }
        let step = self.step_forward();
        self.ended_by(step).transpose()
    }
}

impl std::fmt::Debug for LineIterator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LineIterator").field("number", &self.number).field("start", &self.start).finish()
    }
}
