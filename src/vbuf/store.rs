//! Where the bytes of pieces come from: the sources (persistence layers) and the add buffer, read in
//! blocks through the cache.
//!
//! The add buffer is append-only: an insert appends its bytes and the new piece points at them, so
//! bytes once written never change and any snapshot can read them later. The block being filled (the
//! tail) is a plain vector; a full block is frozen and handed to the cache as *dirty*. When the dirty
//! bytes pass the spill threshold, the oldest dirty blocks are written to an unnamed side file and
//! become clean cache entries that may be evicted; a later read loads them back from the side file. So
//! unsaved edits are bounded in memory like everything else. (On wasm there is no side file: the add
//! buffer stays in memory.)

use std::sync::{Arc, OnceLock};

use super::cache::{BlockKey, Cache};
use super::error::VbufError;
use super::line_table::LineTable;
use super::tree::{Piece, SourceId, ADD_SOURCE};
use crate::platform::persistence::{read_buffer_exact, MemoryPersistence, PersistenceLayer};
use crate::{BufferKind, ZeroCopyBuffer};

/// A persistence layer the buffer reads from, with what is known about it.
#[derive(Debug, Clone)]
pub(crate) struct Source {
    pub(crate) layer: Arc<dyn PersistenceLayer>,
    /// The length when the buffer took it; pieces never reach past it.
    pub(crate) len: u64,
    /// Newline counts per block, built by the first line query.
    pub(crate) lines: OnceLock<Arc<LineTable>>,
}

impl Source {
    /// What stands in for a source the buffer let go of: no piece of the buffer points into it.
    pub(crate) fn released() -> Source {
        Source { layer: released_layer(), len: 0, lines: OnceLock::new() }
    }

    pub(crate) fn is_released(&self) -> bool {
        Arc::ptr_eq(&self.layer, &released_layer())
    }
}

/// The one empty layer every released source shares.
fn released_layer() -> Arc<dyn PersistenceLayer> {
    static RELEASED: OnceLock<Arc<dyn PersistenceLayer>> = OnceLock::new();
    RELEASED.get_or_init(|| Arc::new(MemoryPersistence::new(Vec::new()))).clone()
}

/// The sources of a buffer, indexed by `SourceId - 1`. A save appends the layer over the new content;
/// older layers stay while the tree or the undo history points into them, and snapshots keep their own.
pub(crate) type Sources = Arc<Vec<Source>>;

pub(crate) fn source(sources: &Sources, id: SourceId) -> &Source {
    &sources[id as usize - 1]
}

/// Chunks of mapped sources are views, not copies, so they can be larger than a cache block.
const MAPPED_CHUNK: u64 = 4 << 20;

/// The least memory the add buffer's tail block takes when it grows (or its block size, if smaller).
const MIN_TAIL: usize = 4 << 10;

/// Memory and I/O behind the pieces: the cache and the add buffer.
#[derive(Debug)]
pub(crate) struct Store {
    pub(crate) cache: Cache,
    block_size: usize,
    /// Bytes of the add buffer block being filled; `add_len - tail.len()` is its start.
    tail: Vec<u8>,
    /// A copy of `tail` as it is, made by the first read since it last grew: the reads of the pieces
    /// that point into it (a save's or a scan's, one per piece) share it.
    tail_copy: Option<ZeroCopyBuffer>,
    add_len: u64,
    #[cfg_attr(target_arch = "wasm32", allow(dead_code))] // nothing spills on wasm
    spill_threshold: usize,
    #[cfg(not(target_arch = "wasm32"))]
    side_file: Option<std::fs::File>,
    pub(crate) spilled_bytes: u64,
}

impl Store {
    pub(crate) fn new(block_size: usize, cache_budget: usize, spill_threshold: usize) -> Store {
        Store {
            cache: Cache::new(cache_budget),
            block_size,
            tail: Vec::new(),
            tail_copy: None,
            add_len: 0,
            spill_threshold,
            #[cfg(not(target_arch = "wasm32"))]
            side_file: None,
            spilled_bytes: 0,
        }
    }

    pub(crate) fn block_size(&self) -> usize {
        self.block_size
    }

    /// Bytes of the add-buffer block being filled.
    pub(crate) fn tail_len(&self) -> usize {
        self.tail.len()
    }

    /// Bytes appended to the add buffer so far.
    pub(crate) fn add_len(&self) -> u64 {
        self.add_len
    }

    /// Appends `bytes` to the add buffer and returns the piece that names them. When a spill fails
    /// (the side file cannot be written) or memory for a block cannot be had, the add buffer is put
    /// back as it was: bytes no piece names would stay in memory for good, and every later insert
    /// would try to spill them first.
    pub(crate) fn append(&mut self, bytes: &[u8]) -> Result<Piece, VbufError> {
        let piece = Piece { source: ADD_SOURCE, offset: self.add_len, len: bytes.len() as u64 };
        // The tail as it was, needed only when a block is sealed and might have to be unsealed.
        let seals = self.tail.len() + bytes.len() >= self.block_size;
        let tail_before = if seals { Some(self.copy_of_tail()?) } else { None };
        let result = self.fill(bytes);
        if result.is_err() {
            self.take_back(piece.offset, tail_before);
        }
        result.map(|()| piece)
    }

    fn fill(&mut self, mut bytes: &[u8]) -> Result<(), VbufError> {
        while !bytes.is_empty() {
            let room = self.block_size - self.tail.len();
            let (now, rest) = bytes.split_at(room.min(bytes.len()));
            self.grow_tail(now.len())?;
            self.tail.extend_from_slice(now);
            self.tail_copy = None;
            self.add_len += now.len() as u64;
            bytes = rest;
            if self.tail.len() == self.block_size {
                self.seal_tail()?;
            }
        }
        Ok(())
    }

    /// Undoes a failed append: the add buffer ends at `add_len` again. Where the append sealed
    /// blocks, `tail` (the tail as it was, kept whenever the append could seal one) is its tail block
    /// again, and the sealed blocks leave the cache; the side file keeps what was spilled of them, to
    /// be written over when those blocks fill again. Where it sealed none, the tail is cut back.
    fn take_back(&mut self, add_len: u64, tail: Option<Vec<u8>>) {
        let block = self.block_size as u64;
        let first = add_len / block;
        let sealed_end = (self.add_len - self.tail.len() as u64) / block;
        for index in first..sealed_end {
            match self.cache.remove(BlockKey { source: ADD_SOURCE, index }) {
                Some(true) => {}                                   // dirty: never spilled
                _ => self.spilled_bytes -= self.block_size as u64, // spilled (and maybe evicted)
            }
        }
        debug_assert!(sealed_end == first || tail.is_some(), "an append that can seal keeps the tail");
        match tail {
            Some(tail) if sealed_end > first => self.tail = tail,
            _ => self.tail.truncate((add_len - first * block) as usize),
        }
        self.tail_copy = None;
        self.add_len = add_len;
    }

    /// A copy of the tail block, or `AllocationFailed` (nothing changed) where its memory cannot be
    /// had: a clone would abort (in wasm, trap) there.
    fn copy_of_tail(&self) -> Result<Vec<u8>, VbufError> {
        let mut copy = Vec::new();
        copy.try_reserve_exact(self.tail.len()).map_err(|_| VbufError::AllocationFailed {
            bytes: self.tail.len() as u64,
            what: "inserted bytes",
        })?;
        copy.extend_from_slice(&self.tail);
        Ok(copy)
    }

    /// Makes room in the tail block for `n` more bytes (`n` fits the block): doubling as a `Vec` does,
    /// but never past the block size, so that a full block keeps no spare capacity, and a block size
    /// far above what is inserted costs only what is inserted. Memory that cannot be had is an
    /// error, not an abort (or, in wasm, a trap that would leave the buffer unusable).
    fn grow_tail(&mut self, n: usize) -> Result<(), VbufError> {
        let needed = self.tail.len() + n;
        if needed > self.tail.capacity() {
            let target =
                needed.max(self.tail.capacity().saturating_mul(2)).max(MIN_TAIL).min(self.block_size);
            let additional = target - self.tail.len();
            (self.tail.try_reserve_exact(additional)).map_err(|_| VbufError::AllocationFailed {
                bytes: additional as u64,
                what: "inserted bytes",
            })?;
        }
        Ok(())
    }

    /// Hands the full tail block to the cache as dirty, then spills while over the threshold.
    fn seal_tail(&mut self) -> Result<(), VbufError> {
        let index = (self.add_len - 1) / self.block_size as u64;
        let full = std::mem::take(&mut self.tail);
        let key = BlockKey { source: ADD_SOURCE, index };
        self.cache.insert(key, ZeroCopyBuffer::from_bytes(full, BufferKind::raw()), true);
        self.spill_over_threshold()
    }

    #[cfg(not(target_arch = "wasm32"))]
    fn spill_over_threshold(&mut self) -> Result<(), VbufError> {
        use crate::platform::native::{file_size_limit, within_file_size_limit};
        use std::io::{Seek, SeekFrom, Write};
        while self.cache.dirty_bytes() > self.spill_threshold {
            let Some((key, data)) = self.cache.oldest_dirty() else { break };
            let file = match &mut self.side_file {
                Some(f) => f,
                None => self.side_file.insert(tempfile::tempfile().map_err(VbufError::SideFile)?),
            };
            let at = key.index * self.block_size as u64;
            within_file_size_limit(at + data.len() as u64, file_size_limit()).map_err(VbufError::SideFile)?;
            file.seek(SeekFrom::Start(at)).map_err(VbufError::SideFile)?;
            file.write_all(&data).map_err(VbufError::SideFile)?;
            self.cache.mark_clean(key);
            self.spilled_bytes += data.len() as u64;
        }
        Ok(())
    }

    #[cfg(target_arch = "wasm32")]
    fn spill_over_threshold(&mut self) -> Result<(), VbufError> {
        Ok(())
    }

    /// Block `index` of the add buffer.
    fn add_block(&mut self, index: u64) -> Result<ZeroCopyBuffer, VbufError> {
        let block = self.block_size as u64;
        let tail_index = (self.add_len - self.tail.len() as u64) / block;
        if index == tail_index && !self.tail.is_empty() {
            // The tail is still growing; readers get a copy of what is there, one per change of it.
            let tail = &self.tail;
            let copy = self
                .tail_copy
                .get_or_insert_with(|| ZeroCopyBuffer::copy_from_slice(tail, BufferKind::raw()));
            return Ok(copy.clone());
        }
        let key = BlockKey { source: ADD_SOURCE, index };
        if let Some(data) = self.cache.get(key) {
            return Ok(data);
        }
        self.read_spilled(index)
    }

    #[cfg(not(target_arch = "wasm32"))]
    fn read_spilled(&mut self, index: u64) -> Result<ZeroCopyBuffer, VbufError> {
        use std::io::{Read, Seek, SeekFrom};
        let file =
            self.side_file.as_mut().expect("an add block that is neither cached nor the tail was spilled");
        let mut bytes = vec![0; self.block_size];
        file.seek(SeekFrom::Start(index * self.block_size as u64)).map_err(VbufError::SideFile)?;
        file.read_exact(&mut bytes).map_err(VbufError::SideFile)?;
        let data = ZeroCopyBuffer::from_bytes(bytes, BufferKind::raw());
        self.cache.insert(BlockKey { source: ADD_SOURCE, index }, data.clone(), false);
        Ok(data)
    }

    #[cfg(target_arch = "wasm32")]
    fn read_spilled(&mut self, _index: u64) -> Result<ZeroCopyBuffer, VbufError> {
        unreachable!("nothing spills on wasm")
    }

    /// Block `index` of a source read through the cache.
    pub(crate) fn source_block(
        &mut self,
        id: SourceId,
        source: &Source,
        index: u64,
    ) -> Result<ZeroCopyBuffer, VbufError> {
        let key = BlockKey { source: id, index };
        if let Some(data) = self.cache.get(key) {
            return Ok(data);
        }
        let start = index * self.block_size as u64;
        let len = (source.len - start).min(self.block_size as u64) as usize;
        let data = read_buffer_exact(&*source.layer, start, len)?;
        self.cache.insert(key, data.clone(), false);
        Ok(data)
    }
}

/// The chunk of `piece` that holds the piece's byte `at`: the piece clipped to one cache block (or, for
/// mapped sources, to a larger aligned window), as a zero-copy view. Returns the chunk and the offset in
/// the piece where it starts.
///
/// A cache miss reads its block while holding the store's lock, so other readers and inserts wait for
/// that one block read; mapped sources never take the lock.
pub(crate) fn piece_chunk(
    store: &std::sync::Mutex<Store>,
    sources: &Sources,
    piece: Piece,
    at: u64,
) -> Result<(ZeroCopyBuffer, u64), VbufError> {
    debug_assert!(at < piece.len);
    let offset = piece.offset + at;
    let mapped =
        (piece.source != ADD_SOURCE).then(|| source(sources, piece.source)).filter(|s| s.layer.is_mapped());
    if let Some(src) = mapped {
        let window_start = (offset / MAPPED_CHUNK * MAPPED_CHUNK).max(piece.offset);
        let window_end = ((offset / MAPPED_CHUNK + 1) * MAPPED_CHUNK).min(piece.offset + piece.len);
        let len = (window_end - window_start) as usize;
        let data = read_buffer_exact(&*src.layer, window_start, len)?;
        return Ok((data, window_start - piece.offset));
    }
    let mut store = store.lock().unwrap_or_else(|e| e.into_inner());
    let block = store.block_size as u64;
    let index = offset / block;
    let data = if piece.source == ADD_SOURCE {
        store.add_block(index)?
    } else {
        store.source_block(piece.source, source(sources, piece.source), index)?
    };
    let block_start = index * block;
    let from = piece.offset.max(block_start);
    let to = (piece.offset + piece.len).min(block_start + data.len() as u64);
    Ok((data.slice((from - block_start) as usize..(to - block_start) as usize), from - piece.offset))
}
