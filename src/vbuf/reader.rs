//! [`Reader`]: one version of a [`VirtualBuffer`] as `std::io::Read`, `BufRead` and `Seek`.

use std::io::{self, BufRead, Read, Seek, SeekFrom};
use std::sync::Arc;

use super::buffer::{Inner, VirtualBuffer};
use super::snapshot::Snapshot;
use crate::ZeroCopyBuffer;

/// The content of a [`VirtualBuffer`] as it was when the reader was made, as a seekable byte stream:
/// [`Read`], [`BufRead`] (whose buffer is the buffer's own chunk, a zero-copy view where the source
/// allows) and [`Seek`]. Later edits, through any handle, do not affect it, so it can be handed to
/// code that expects a file (`io::copy`, a decompressor, a parser) while the buffer is edited.
///
/// Seeking past the end is allowed, as on a file: reads there return `Ok(0)`. A read error of the
/// persistence layer (a file that shrank underneath, a failing disk) is an `io::Error` whose inner
/// error is the [`VbufError`](super::VbufError).
///
/// The version is the buffer's, not the disk's: what another program writes into the file in place
/// (not replacing it) may show in what the reader reads, as in every read of the buffer (the bytes
/// are read where they lie: see `VirtualBuffer::open`); a file replaced under its path does not.
///
/// ```
/// use std::io::{BufRead, Read, Seek, SeekFrom};
/// use omnibuf::vbuf::VirtualBuffer;
///
/// let buf = VirtualBuffer::from_bytes(b"first\nsecond\nthird\n".to_vec());
/// let mut reader = buf.reader();
/// buf.insert(0, b"edited later\n").unwrap(); // the reader keeps its version
///
/// let mut line = String::new();
/// reader.read_line(&mut line).unwrap();
/// assert_eq!(line, "first\n");
/// reader.seek(SeekFrom::End(-6)).unwrap();
/// let mut rest = String::new();
/// reader.read_to_string(&mut rest).unwrap();
/// assert_eq!(rest, "third\n");
/// ```
pub struct Reader {
    inner: Arc<Inner>,
    snapshot: Snapshot,
    /// The position of the next byte read.
    position: u64,
    /// The chunk that held the position when last read, and where it starts.
    chunk: ZeroCopyBuffer,
    chunk_start: u64,
}

impl VirtualBuffer {
    /// A reader of the content as it is now, from its start (see [`Reader`]).
    ///
    /// ```
    /// use std::io::Read;
    /// use omnibuf::vbuf::VirtualBuffer;
    ///
    /// let buf = VirtualBuffer::from_bytes(b"hello".to_vec());
    /// let mut reader = buf.reader();
    /// buf.insert(0, b"later: ").unwrap();
    /// let mut all = String::new();
    /// reader.read_to_string(&mut all).unwrap();
    /// assert_eq!(all, "hello"); // the content as it was when the reader was made
    /// ```
    pub fn reader(&self) -> Reader {
        Reader {
            inner: self.inner.clone(),
            snapshot: self.snapshot(),
            position: 0,
            chunk: ZeroCopyBuffer::new(),
            chunk_start: 0,
        }
    }
}

impl Reader {
    /// The length of the version this reader reads.
    ///
    /// ```
    /// use omnibuf::vbuf::VirtualBuffer;
    ///
    /// let buf = VirtualBuffer::from_bytes(b"12345".to_vec());
    /// let reader = buf.reader();
    /// buf.delete(..).unwrap();
    /// assert_eq!((reader.len(), buf.len()), (5, 0));
    /// ```
    pub fn len(&self) -> u64 {
        self.snapshot.len()
    }

    /// Whether the version this reader reads is empty.
    ///
    /// ```
    /// use omnibuf::vbuf::VirtualBuffer;
    ///
    /// let buf = VirtualBuffer::from_bytes(Vec::new());
    /// let reader = buf.reader();
    /// buf.insert(0, b"later").unwrap();
    /// assert!(reader.is_empty());
    /// assert!(!buf.reader().is_empty());
    /// ```
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The bytes of the current chunk from the position on, after loading the chunk that holds the
    /// position if the current one does not.
    fn fill(&mut self) -> io::Result<&[u8]> {
        if self.position >= self.len() {
            return Ok(&[]);
        }
        let in_chunk = self.position.checked_sub(self.chunk_start).filter(|&o| o < self.chunk.len() as u64);
        let offset = match in_chunk {
            Some(offset) => offset,
            None => {
                let Some((chunk, start)) =
                    self.snapshot.chunk_at(&self.inner.store, self.position).map_err(io::Error::other)?
                else {
                    return Ok(&[]);
                };
                (self.chunk, self.chunk_start) = (chunk, start);
                self.position - start
            }
        };
        Ok(&self.chunk[offset as usize..])
    }
}

impl Read for Reader {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let available = self.fill()?;
        let n = available.len().min(buf.len());
        buf[..n].copy_from_slice(&available[..n]);
        self.consume(n);
        Ok(n)
    }
}

impl BufRead for Reader {
    /// The rest of the chunk that holds the position: the buffer's own memory, not a copy.
    fn fill_buf(&mut self) -> io::Result<&[u8]> {
        self.fill()
    }

    fn consume(&mut self, amt: usize) {
        self.position = self.position.saturating_add(amt as u64);
    }
}

impl Seek for Reader {
    fn seek(&mut self, to: SeekFrom) -> io::Result<u64> {
        let (base, delta) = match to {
            SeekFrom::Start(at) => (at, 0),
            SeekFrom::End(delta) => (self.len(), delta),
            SeekFrom::Current(delta) => (self.position, delta),
        };
        let Some(position) = base.checked_add_signed(delta) else {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!("cannot seek to {base} {delta:+}: before the start or past u64::MAX"),
            ));
        };
        self.position = position;
        Ok(position)
    }

    fn stream_position(&mut self) -> io::Result<u64> {
        Ok(self.position)
    }
}

impl std::fmt::Debug for Reader {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Reader").field("position", &self.position).field("len", &self.len()).finish()
    }
}

#[cfg(test)]
mod tests {
    use std::io::{BufRead, Read, Seek, SeekFrom};

    use crate::vbuf::{VirtualBuffer, VirtualBufferOptions};

    /// Tiny blocks and nodes, so that reads cross many chunks; inserted text stays in memory, since the
    /// side file it would spill to is out of Miri's reach.
    fn tiny_in_memory() -> VirtualBufferOptions {
        VirtualBufferOptions { spill_threshold: usize::MAX, ..VirtualBufferOptions::tiny() }
    }

    /// Reads in odd sizes and seeks of every kind over tiny blocks and many pieces, against a `Vec`.
    #[test]
    fn reads_and_seeks_like_a_cursor_over_a_vec() {
        let mut model: Vec<u8> = (0..200u32).map(|i| (i * 7) as u8).collect();
        let buf = VirtualBuffer::from_bytes_with(model.clone(), tiny_in_memory()).unwrap();
        for (at, text) in [(10u64, &b"abc"[..]), (50, b"defgh"), (0, b"ij"), (199, b"k")] {
            buf.insert(at, text).unwrap();
            model.splice(at as usize..at as usize, text.iter().copied());
        }
        buf.delete(100..120).unwrap();
        model.drain(100..120);

        let mut reader = buf.reader();
        let mut cursor = std::io::Cursor::new(model.clone());
        buf.insert(0, b"not seen by the reader").unwrap();
        assert_eq!(reader.len(), model.len() as u64);

        let seeks = [
            SeekFrom::Start(3),
            SeekFrom::Current(17),
            SeekFrom::End(-40),
            SeekFrom::Current(-5),
            SeekFrom::Start(0),
        ];
        for (round, seek) in seeks.into_iter().enumerate() {
            assert_eq!(reader.seek(seek).unwrap(), cursor.seek(seek).unwrap());
            let mut ours = vec![0u8; 1 + round * 13];
            let mut theirs = ours.clone();
            let n = reader.read(&mut ours).unwrap();
            assert!(n > 0);
            cursor.read_exact(&mut theirs[..n]).unwrap();
            assert_eq!(ours[..n], theirs[..n], "after {seek:?}");
        }
        let mut rest = Vec::new();
        reader.read_to_end(&mut rest).unwrap();
        let mut expected = Vec::new();
        cursor.read_to_end(&mut expected).unwrap();
        assert_eq!(rest, expected);
    }

    #[test]
    fn past_the_end_reads_nothing_and_before_the_start_is_an_error() {
        let buf = VirtualBuffer::from_bytes(b"abc".to_vec());
        let mut reader = buf.reader();
        assert_eq!(reader.seek(SeekFrom::Start(10)).unwrap(), 10);
        assert_eq!(reader.read(&mut [0u8; 4]).unwrap(), 0);
        assert!(reader.fill_buf().unwrap().is_empty());
        let error = reader.seek(SeekFrom::Current(-11)).unwrap_err();
        assert_eq!(error.kind(), std::io::ErrorKind::InvalidInput);
        assert_eq!(reader.stream_position().unwrap(), 10, "a failed seek leaves the position");
        reader.seek(SeekFrom::End(-1)).unwrap();
        assert_eq!(reader.fill_buf().unwrap(), b"c");
    }

    proptest::proptest! {
        // No failure file: it needs the working directory, which Miri hides.
        #![proptest_config(proptest::prelude::ProptestConfig {
            failure_persistence: None,
            ..proptest::prelude::ProptestConfig::default()
        })]

        /// Any edits, then any mix of reads (odd sizes, through `read` and `fill_buf`) and seeks:
        /// the reader gives what `io::Cursor` gives over the same bytes.
        #[test]
        fn matches_a_cursor_after_any_edits(
            len in 0usize..300,
            edits in proptest::collection::vec((0u64..400, 0usize..20, proptest::bool::ANY), 0..12),
            ops in proptest::collection::vec((0u8..4, 0i64..400), 1..40),
        ) {
            let mut model: Vec<u8> = (0..len).map(|i| (i * 31 % 251) as u8).collect();
            let buf = VirtualBuffer::from_bytes_with(model.clone(), tiny_in_memory()).unwrap();
            for (at, n, insert) in edits {
                let at = at.min(model.len() as u64);
                if insert {
                    let text: Vec<u8> = (0..n as u8).map(|b| b.wrapping_mul(17)).collect();
                    buf.insert(at, &text).unwrap();
                    model.splice(at as usize..at as usize, text);
                } else {
                    let end = (at + n as u64).min(model.len() as u64);
                    buf.delete(at..end).unwrap();
                    model.drain(at as usize..end as usize);
                }
            }
            let mut reader = buf.reader();
            let mut cursor = std::io::Cursor::new(model);
            for (op, arg) in ops {
                match op {
                    0 => {
                        let mut ours = vec![0u8; arg as usize % 37];
                        let mut theirs = ours.clone();
                        let n = reader.read(&mut ours).unwrap();
                        let m = cursor.read(&mut theirs).unwrap();
                        // A read may stop at a chunk's end: compare what ours gave, then catch up.
                        proptest::prop_assert!(n <= m || m == 0 && n == 0);
                        proptest::prop_assert_eq!(&ours[..n], &theirs[..n]);
                        cursor.seek(SeekFrom::Current(n as i64 - m as i64)).unwrap();
                    }
                    1 => {
                        let ours = reader.fill_buf().unwrap().to_vec();
                        let theirs = cursor.fill_buf().unwrap();
                        proptest::prop_assert!(theirs.starts_with(&ours));
                        proptest::prop_assert_eq!(ours.is_empty(), theirs.is_empty());
                        let n = (arg as usize).min(ours.len());
                        reader.consume(n);
                        cursor.consume(n);
                    }
                    2 => {
                        let to = SeekFrom::Current(arg - 200);
                        let (ours, theirs) = (reader.seek(to), cursor.seek(to));
                        proptest::prop_assert_eq!(ours.is_ok(), theirs.is_ok());
                        if let (Ok(a), Ok(b)) = (ours, theirs) {
                            proptest::prop_assert_eq!(a, b);
                        }
                    }
                    _ => {
                        let to = SeekFrom::End(-(arg % 50));
                        let (ours, theirs) = (reader.seek(to), cursor.seek(to));
                        proptest::prop_assert_eq!(ours.is_ok(), theirs.is_ok());
                    }
                }
                proptest::prop_assert_eq!(reader.stream_position().unwrap(), cursor.position());
            }
        }
    }
}
