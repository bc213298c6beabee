//! [`VirtualBufferOptions`] and [`VirtualBufferStats`].

/// Tuning of a [`VirtualBuffer`](super::VirtualBuffer).
///
/// ```
/// use omnibuf::vbuf::{VirtualBuffer, VirtualBufferOptions};
///
/// let options = VirtualBufferOptions { cache_budget: 8 << 20, ..VirtualBufferOptions::default() };
/// let buf = VirtualBuffer::from_bytes_with(b"hello".to_vec(), options).unwrap();
/// assert_eq!(buf.len(), 5);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct VirtualBufferOptions {
    /// Size of a cache block and of an add-buffer block, in bytes (default 64 KiB). Reads of files
    /// that are not memory-mapped load whole blocks.
    pub block_size: usize,
    /// Most bytes of clean (re-readable) blocks kept in memory (default 64 MiB), apart from what the
    /// last read loaded: that stays even when the budget is smaller. Of a file, that is the block
    /// read last, so the cache may hold up to one block more (a budget of 0 keeps one block); of a
    /// document in IndexedDB, every block the read loaded.
    pub cache_budget: usize,
    /// Most bytes of inserted text kept only in memory, apart from the block still being filled;
    /// past it, the oldest full blocks are written to an unnamed side file (default 16 MiB). So up
    /// to one block more stays in memory (a threshold of 0 spills each block once it is full). Not
    /// applied on wasm, which has no side file.
    pub spill_threshold: usize,
    /// Most edits kept for undo; the oldest are forgotten (default 100,000; 0 turns undo off).
    pub undo_limit: usize,
    /// Most entries per piece-tree node (default 16, at least 4).
    pub tree_fanout: usize,
}

impl Default for VirtualBufferOptions {
    fn default() -> Self {
        VirtualBufferOptions {
            block_size: 64 << 10,
            cache_budget: 64 << 20,
            spill_threshold: 16 << 20,
            undo_limit: 100_000,
            tree_fanout: 16,
        }
    }
}

impl VirtualBufferOptions {
    /// Tiny blocks, cache and nodes, so that a few bytes of input cross every boundary: block edges,
    /// cache eviction, spilling and tree splits. For tests.
    ///
    /// ```
    /// use omnibuf::vbuf::{VirtualBuffer, VirtualBufferOptions};
    ///
    /// let buf = VirtualBuffer::from_bytes_with(b"0123456789".to_vec(), VirtualBufferOptions::tiny()).unwrap();
    /// buf.insert(5, b"abcdefgh").unwrap();
    /// assert_eq!(buf.read(..).unwrap(), b"01234abcdefgh56789"[..]);
    /// ```
    pub fn tiny() -> Self {
        VirtualBufferOptions {
            block_size: 4,
            cache_budget: 16,
            spill_threshold: 8,
            undo_limit: 1000,
            tree_fanout: 4,
        }
    }

    pub(crate) fn checked(mut self) -> Self {
        self.block_size = self.block_size.max(1);
        self.tree_fanout = self.tree_fanout.max(4);
        self
    }
}

/// What a [`VirtualBuffer`](super::VirtualBuffer) holds, from
/// [`VirtualBuffer::stats`](super::VirtualBuffer::stats).
///
/// ```
/// use omnibuf::vbuf::VirtualBuffer;
///
/// let buf = VirtualBuffer::from_bytes(b"hello".to_vec());
/// buf.insert(5, b" world").unwrap();
/// let stats = buf.stats();
/// assert_eq!(stats.len, 11);
/// assert_eq!(stats.inserted_bytes, 6);
/// assert_eq!(stats.undo_len, 1);
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct VirtualBufferStats {
    /// Content length in bytes.
    pub len: u64,
    /// Pieces in the piece tree.
    pub pieces: usize,
    /// Bytes of re-readable blocks in the cache.
    pub cached_bytes: usize,
    /// Bytes of inserted text held only in memory (full blocks not yet spilled, plus the block being
    /// filled).
    pub unsaved_in_memory_bytes: usize,
    /// Bytes of inserted text written to the side file.
    pub spilled_bytes: u64,
    /// Bytes ever inserted (the add buffer's length).
    pub inserted_bytes: u64,
    /// Edits kept in the log for live iterators.
    pub edit_log_len: usize,
    /// Live byte iterators.
    pub live_iterators: usize,
    /// Edits that can be undone / redone.
    pub undo_len: usize,
    /// Undone edits that can be redone.
    pub redo_len: usize,
    /// Versions the buffer still reads: the one it opened or last saved, and earlier ones that its
    /// content or undo history still points into (each holds its file open, and a replaced file
    /// its disk space). A save lets go of the others.
    pub versions_held: usize,
    /// Cache hits, misses and evictions.
    pub cache_hits: u64,
    /// See `cache_hits`.
    pub cache_misses: u64,
    /// See `cache_hits`.
    pub cache_evictions: u64,
}
