//! Content stored as a table of blocks that an asynchronous store loads: the shape of the browser's
//! IndexedDB document store (`platform::wasm::indexed_db`), kept portable so that its logic runs and is
//! tested natively and under Miri.
//!
//! A document is a sequence of blocks, each stored under its own id; the [`BlockTable`] lists their ids
//! and lengths in order. Blocks start out the same size (the import's block size); a save reuses every
//! block it leaves whole and writes only what changed, so after saves some blocks are shorter.
//!
//! - [`BlockLayer`] is the [`PersistenceLayer`] over one version of a document. It cannot wait for
//!   storage, so the owner loads blocks into it ([`BlockLayer::missing`], [`BlockLayer::insert_loaded`])
//!   before a synchronous read needs them; a read of a block that is not loaded fails with
//!   [`PersistenceError::NotLoaded`]. Loaded blocks are kept up to a byte budget, least recently used
//!   first out, except those pinned ([`BlockLayer::pin`]): a read pins what it loads until it has
//!   read it, so that the loads of reads running beside it (each awaits storage) cannot evict it.
//! - [`BlockWriter`] turns a save recipe into the next version's table: it reuses the ids of whole
//!   blocks that a copy keeps, and packs everything else (edits, parts of blocks) into new blocks.

use std::collections::HashMap;
use std::ops::Range;
use std::sync::{Arc, Mutex};

use super::{PersistenceError, PersistenceLayer, SaveOptions, SaveRecipe};
use crate::{BufferKind, ZeroCopyBuffer};

/// The blocks of one version of a document: their ids and lengths, in order.
#[derive(Clone, PartialEq, Eq, Default)]
pub struct BlockTable {
    ids: Vec<u64>,
    lens: Vec<u32>,
    /// `starts[i]` is where block `i` begins; one more entry holds the total length.
    starts: Vec<u64>,
}

impl BlockTable {
    /// A table of blocks `ids` with lengths `lens`. Fails when the lists differ in length or a block is
    /// empty. An id may appear more than once: blocks never change, so a version may use one twice.
    pub fn new(ids: Vec<u64>, lens: Vec<u32>) -> Result<BlockTable, PersistenceError> {
        if ids.len() != lens.len() {
            return Err(PersistenceError::Corrupt(format!(
                "{} block ids but {} block lengths",
                ids.len(),
                lens.len()
            )));
        }
        if lens.contains(&0) {
            return Err(PersistenceError::Corrupt("an empty block in the table".into()));
        }
        let mut starts = Vec::with_capacity(lens.len() + 1);
        let mut at = 0u64;
        starts.push(0);
        for &len in &lens {
            at += u64::from(len);
            starts.push(at);
        }
        Ok(BlockTable { ids, lens, starts })
    }

    /// Total length in bytes.
    pub fn len(&self) -> u64 {
        *self.starts.last().unwrap_or(&0)
    }

    /// Whether the document is empty.
    #[cfg(any(test, feature = "testing"))]
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Number of blocks.
    #[cfg(any(test, feature = "testing"))]
    pub fn block_count(&self) -> usize {
        self.ids.len()
    }

    /// The ids, in order.
    pub fn ids(&self) -> &[u64] {
        &self.ids
    }

    /// The lengths, in order.
    pub fn lens(&self) -> &[u32] {
        &self.lens
    }

    /// Where block `index` begins.
    pub fn block_start(&self, index: usize) -> u64 {
        self.starts[index]
    }

    /// The byte range of block `index`.
    pub fn block_range(&self, index: usize) -> Range<u64> {
        self.starts[index]..self.starts[index + 1]
    }

    /// The indices of the blocks that hold bytes `offset..offset + len` (empty for `len == 0`).
    pub fn blocks_in(&self, offset: u64, len: u64) -> Range<usize> {
        if len == 0 || offset >= self.len() {
            return 0..0;
        }
        let end = offset.saturating_add(len).min(self.len());
        // The last block whose start is <= offset, and the first whose start is >= end.
        let first = self.starts.partition_point(|&s| s <= offset) - 1;
        let last = self.starts.partition_point(|&s| s < end);
        first..last
    }
}

/// Loaded blocks, with the budget that bounds them.
struct Loaded {
    blocks: HashMap<usize, (ZeroCopyBuffer, u64)>, // block index -> (bytes, last use)
    bytes: usize,
    budget: usize,
    clock: u64,
    /// How many [`PinnedBlocks`] hold each pinned block: eviction passes these by.
    pinned: HashMap<usize, usize>,
}

impl Loaded {
    fn get(&mut self, index: usize) -> Option<ZeroCopyBuffer> {
        self.clock += 1;
        let clock = self.clock;
        self.blocks.get_mut(&index).map(|(data, used)| {
            *used = clock;
            data.clone()
        })
    }
}

/// A [`PersistenceLayer`] over one version of a document stored in blocks (see the module docs): reads
/// see the blocks its owner has loaded.
pub struct BlockLayer {
    table: BlockTable,
    loaded: Mutex<Loaded>,
}

impl BlockLayer {
    /// A layer over `table` that keeps at most about `budget` bytes of loaded blocks.
    pub fn new(table: BlockTable, budget: usize) -> BlockLayer {
        let loaded = Loaded { blocks: HashMap::new(), bytes: 0, budget, clock: 0, pinned: HashMap::new() };
        BlockLayer { table, loaded: Mutex::new(loaded) }
    }

    /// The block table.
    pub fn table(&self) -> &BlockTable {
        &self.table
    }

    fn loaded(&self) -> std::sync::MutexGuard<'_, Loaded> {
        // Nothing panics while holding the lock, so a poisoned lock still holds consistent data.
        self.loaded.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Indices of the blocks holding `offset..offset + len` that are not loaded (for the tests).
    #[cfg(test)]
    pub fn missing(&self, offset: u64, len: u64) -> Vec<usize> {
        self.unloaded(self.table.blocks_in(offset, len))
    }

    /// Those of the blocks `indices` that are not loaded, in the same order.
    pub fn unloaded(&self, indices: impl IntoIterator<Item = usize>) -> Vec<usize> {
        let loaded = self.loaded();
        indices.into_iter().filter(|i| !loaded.blocks.contains_key(i)).collect()
    }

    /// The loaded bytes of block `index`, if loaded.
    pub fn loaded_block(&self, index: usize) -> Option<ZeroCopyBuffer> {
        self.loaded().get(index)
    }

    /// Keeps blocks `indices` (loaded or not) from eviction until the guard is dropped. A read pins
    /// the blocks it needs before it loads them and drops the guard once it has read them: the
    /// loads of other reads, made while it awaits storage, then evict other blocks. Pinned blocks
    /// may take the layer over its budget, by what the reads in flight together need.
    pub fn pin(self: &Arc<Self>, indices: Vec<usize>) -> PinnedBlocks {
        let mut loaded = self.loaded();
        for &index in &indices {
            *loaded.pinned.entry(index).or_default() += 1;
        }
        drop(loaded);
        PinnedBlocks { layer: self.clone(), indices }
    }

    /// Evicts least recently used blocks that are not pinned until `incoming` more bytes fit the
    /// budget. Call it before loading a batch, with the blocks about to be read pinned.
    pub fn make_room(&self, incoming: usize) {
        let mut loaded = self.loaded();
        if loaded.bytes + incoming <= loaded.budget {
            return;
        }
        let mut by_age: Vec<(u64, usize)> = loaded
            .blocks
            .iter()
            .filter(|(index, _)| !loaded.pinned.contains_key(index))
            .map(|(&index, (_, used))| (*used, index))
            .collect();
        by_age.sort_unstable();
        for (_, index) in by_age {
            if loaded.bytes + incoming <= loaded.budget {
                break;
            }
            if let Some((data, _)) = loaded.blocks.remove(&index) {
                loaded.bytes -= data.len();
            }
        }
    }

    /// Makes block `index` readable. Fails if the bytes do not have the block's length (the store
    /// returned something else than the table says).
    pub fn insert_loaded(&self, index: usize, data: ZeroCopyBuffer) -> Result<(), PersistenceError> {
        let Some(&want) = self.table.lens.get(index) else {
            return Err(PersistenceError::Corrupt(format!("no block {index} in the table")));
        };
        if data.len() != want as usize {
            return Err(PersistenceError::Corrupt(format!(
                "block {} holds {} bytes, the table says {want}",
                self.table.ids[index],
                data.len()
            )));
        }
        let mut loaded = self.loaded();
        loaded.clock += 1;
        let clock = loaded.clock;
        let len = data.len();
        if let Some((old, _)) = loaded.blocks.insert(index, (data, clock)) {
            loaded.bytes -= old.len();
        }
        loaded.bytes += len;
        Ok(())
    }

    /// Forgets every loaded block that is not pinned (a later read loads again): for a version that
    /// is no longer current. A pinned one stays for the read in flight that pinned it.
    pub fn unload(&self) {
        let loaded = &mut *self.loaded();
        loaded.blocks.retain(|index, _| loaded.pinned.contains_key(index));
        loaded.bytes = loaded.blocks.values().map(|(data, _)| data.len()).sum();
    }

    /// Bytes of loaded blocks held.
    pub fn loaded_bytes(&self) -> usize {
        self.loaded().bytes
    }
}

/// Blocks of a [`BlockLayer`] kept from eviction while this lives (see [`BlockLayer::pin`]).
pub struct PinnedBlocks {
    layer: Arc<BlockLayer>,
    indices: Vec<usize>,
}

impl Drop for PinnedBlocks {
    fn drop(&mut self) {
        let mut loaded = self.layer.loaded();
        for index in &self.indices {
            if let Some(holders) = loaded.pinned.get_mut(index) {
                *holders -= 1;
                if *holders == 0 {
                    loaded.pinned.remove(index);
                }
            }
        }
    }
}

impl PersistenceLayer for BlockLayer {
    fn len(&self) -> Result<u64, PersistenceError> {
        Ok(self.table.len())
    }

    fn read_at(&self, offset: u64, dst: &mut [u8]) -> Result<(), PersistenceError> {
        let len = dst.len() as u64;
        let total = self.table.len();
        if offset.checked_add(len).is_none_or(|end| end > total) {
            return Err(PersistenceError::OutOfRange { offset, len, total });
        }
        let mut loaded = self.loaded();
        let mut done = 0usize;
        for index in self.table.blocks_in(offset, len) {
            let Some(data) = loaded.get(index) else {
                return Err(PersistenceError::NotLoaded { offset, len });
            };
            let at = offset + done as u64 - self.table.block_start(index);
            let n = (data.len() - at as usize).min(dst.len() - done);
            dst[done..done + n].copy_from_slice(&data[at as usize..at as usize + n]);
            done += n;
        }
        Ok(())
    }

    /// A view of the loaded block when the range lies in one block, else a copy.
    fn read_buffer(&self, offset: u64, len: usize) -> Result<ZeroCopyBuffer, PersistenceError> {
        let blocks = self.table.blocks_in(offset, len as u64);
        if blocks.len() == 1 && offset + len as u64 <= self.table.len() {
            let Some(data) = self.loaded().get(blocks.start) else {
                return Err(PersistenceError::NotLoaded { offset, len: len as u64 });
            };
            let at = (offset - self.table.block_start(blocks.start)) as usize;
            return Ok(data.slice(at..at + len));
        }
        let mut bytes = vec![0u8; len];
        self.read_at(offset, &mut bytes)?;
        Ok(ZeroCopyBuffer::from_bytes(bytes, BufferKind::raw()))
    }

    /// Block stores save asynchronously, through their own store (in the browser, the
    /// `VirtualBuffer`'s `save()`), never through this synchronous path.
    fn save(
        &self,
        _recipe: &mut SaveRecipe<'_>,
        _options: SaveOptions,
    ) -> Result<Box<dyn PersistenceLayer>, PersistenceError> {
        Err(PersistenceError::Unsupported("a block-store document saves asynchronously through its store"))
    }
}

/// What a copy of `offset..offset + len` from a [`BlockTable`] takes from each block.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BlockSpan {
    /// All of block `index`: a save keeps the block and its id.
    Whole(usize),
    /// Bytes `from..to` (relative to the block's start) of block `index`: they must be loaded and
    /// written again.
    Part {
        /// The block.
        index: usize,
        /// Start within the block.
        from: u32,
        /// End within the block (exclusive).
        to: u32,
    },
}

impl BlockTable {
    /// How a copy of `offset..offset + len` splits over the blocks (the range must lie inside).
    pub fn spans(&self, offset: u64, len: u64) -> impl Iterator<Item = BlockSpan> + '_ {
        let end = offset + len;
        self.blocks_in(offset, len).map(move |index| {
            let range = self.block_range(index);
            let from = offset.max(range.start) - range.start;
            let to = end.min(range.end) - range.start;
            if from == 0 && to == range.end - range.start {
                BlockSpan::Whole(index)
            } else {
                // Both are within one block, whose length is a u32.
                BlockSpan::Part { index, from: from as u32, to: to as u32 }
            }
        })
    }
}

/// Builds the block table of a new version: whole blocks are kept by id ([`reuse`](Self::reuse)),
/// other bytes ([`append`](Self::append)) are packed into new blocks of at most the block size under
/// fresh ids.
pub struct BlockWriter {
    block_size: usize,
    next_id: u64,
    pending: Vec<u8>,
    ids: Vec<u64>,
    lens: Vec<u32>,
    writes: Vec<(u64, ZeroCopyBuffer)>,
    written_bytes: usize,
}

impl BlockWriter {
    /// A writer of blocks of at most `block_size` bytes (at least 1, at most `u32::MAX`), giving new
    /// blocks ids from `next_id` on.
    pub fn new(block_size: usize, next_id: u64) -> BlockWriter {
        let block_size = block_size.clamp(1, u32::MAX as usize);
        BlockWriter {
            block_size,
            next_id,
            pending: Vec::new(),
            ids: Vec::new(),
            lens: Vec::new(),
            writes: Vec::new(),
            written_bytes: 0,
        }
    }

    /// Keeps the existing block `id` of `len` bytes as the next block (an empty one adds nothing).
    pub fn reuse(&mut self, id: u64, len: u32) {
        if len == 0 {
            return;
        }
        self.flush_pending();
        self.ids.push(id);
        self.lens.push(len);
    }

    /// Appends bytes that go into new blocks.
    pub fn append(&mut self, mut bytes: &[u8]) {
        while !bytes.is_empty() {
            let room = self.block_size - self.pending.len();
            let (now, rest) = bytes.split_at(room.min(bytes.len()));
            self.pending.extend_from_slice(now);
            bytes = rest;
            if self.pending.len() == self.block_size {
                self.flush_pending();
            }
        }
    }

    fn flush_pending(&mut self) {
        if self.pending.is_empty() {
            return;
        }
        let id = self.next_id;
        self.next_id += 1;
        let data = std::mem::take(&mut self.pending);
        self.ids.push(id);
        self.lens.push(data.len() as u32);
        self.written_bytes += data.len();
        self.writes.push((id, ZeroCopyBuffer::from_bytes(data, BufferKind::raw())));
    }

    /// The id the next new block gets: the new blocks so far have the ids from the one given to
    /// [`new`](Self::new) up to this one (excluded), which is what a failed save must delete.
    pub fn next_id(&self) -> u64 {
        self.next_id
    }

    /// Bytes of new blocks made so far and not yet taken by [`take_writes`](Self::take_writes).
    pub fn written_bytes(&self) -> usize {
        self.written_bytes
    }

    /// The new blocks completed so far, to store them before the writer finishes (their ids are
    /// final). Bytes still pending are not among them.
    pub fn take_writes(&mut self) -> Vec<(u64, ZeroCopyBuffer)> {
        self.written_bytes = 0;
        std::mem::take(&mut self.writes)
    }

    /// The new version's table, the new blocks not yet taken, and the next unused id.
    pub fn finish(mut self) -> (BlockTable, Vec<(u64, ZeroCopyBuffer)>, u64) {
        self.flush_pending();
        let table = BlockTable::new(self.ids, self.lens).expect("one length per id, and no block is empty");
        (table, self.writes, self.next_id)
    }
}

// Debug output stays a line long whatever the document's size: counts and totals, never the block
// lists or their bytes.

impl std::fmt::Debug for BlockTable {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BlockTable")
            .field("blocks", &self.ids.len())
            .field("len", &self.starts.last())
            .finish()
    }
}

impl std::fmt::Debug for BlockLayer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let loaded = self.loaded.lock().map(|l| (l.blocks.len(), l.bytes, l.budget)).ok();
        f.debug_struct("BlockLayer")
            .field("table", &self.table)
            .field("loaded (blocks, bytes, budget)", &loaded)
            .finish()
    }
}

impl std::fmt::Debug for BlockWriter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BlockWriter")
            .field("block_size", &self.block_size)
            .field("next_id", &self.next_id)
            .field("pending", &self.pending.len())
            .field("blocks", &self.ids.len())
            .field("writes", &self.writes.len())
            .field("written_bytes", &self.written_bytes)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn debug_stays_short_for_any_size() {
        let mut writer = BlockWriter::new(1 << 20, 0);
        writer.append(&vec![7u8; (3 << 20) + 12345]);
        let table = BlockTable::new((0..10_000).collect(), vec![4096; 10_000]).unwrap();
        let layer = BlockLayer::new(table.clone(), 1 << 20);
        for shown in [format!("{writer:?}"), format!("{table:?}"), format!("{layer:?}")] {
            assert!(shown.len() < 200, "{} characters: {}", shown.len(), &shown[..200]);
        }
        assert_eq!(format!("{table:?}"), "BlockTable { blocks: 10000, len: Some(40960000) }");
    }

    use super::*;
    use crate::platform::persistence::SavePiece;
    use proptest::prelude::*;

    fn layer_over(content: &[u8], lens: &[u32]) -> BlockLayer {
        let ids = (0..lens.len() as u64).map(|i| i * 3 + 1).collect();
        let layer = BlockLayer::new(BlockTable::new(ids, lens.to_vec()).unwrap(), usize::MAX);
        for i in 0..lens.len() {
            let r = layer.table().block_range(i);
            let data = ZeroCopyBuffer::copy_from_slice(
                &content[r.start as usize..r.end as usize],
                BufferKind::raw(),
            );
            layer.insert_loaded(i, data).unwrap();
        }
        layer
    }

    /// Block lengths that add up to `total`.
    fn split(total: usize, cuts: &[usize]) -> Vec<u32> {
        let mut points: Vec<usize> =
            cuts.iter().map(|c| c % (total + 1)).filter(|&c| c > 0 && c < total).collect();
        points.sort_unstable();
        points.dedup();
        let mut lens = Vec::new();
        let mut at = 0;
        for p in points.into_iter().chain([total]) {
            lens.push((p - at) as u32);
            at = p;
        }
        lens.retain(|&l| l > 0);
        lens
    }

    #[test]
    fn table_rejects_inconsistent_input() {
        assert!(BlockTable::new(vec![1], vec![]).is_err());
        assert_eq!(BlockTable::new(vec![1, 1], vec![2, 2]).unwrap().len(), 4, "a block used twice");
        assert!(BlockTable::new(vec![1], vec![0]).is_err());
        assert!(BlockTable::new(vec![], vec![]).unwrap().is_empty());
    }

    #[test]
    fn blocks_in_finds_every_block_a_range_touches() {
        let t = BlockTable::new(vec![1, 2, 3], vec![4, 1, 4]).unwrap();
        assert_eq!(t.blocks_in(0, 4), 0..1);
        assert_eq!(t.blocks_in(3, 2), 0..2);
        assert_eq!(t.blocks_in(4, 1), 1..2);
        assert_eq!(t.blocks_in(4, 2), 1..3);
        assert_eq!(t.blocks_in(8, 100), 2..3);
        assert_eq!(t.blocks_in(9, 1), 0..0);
        assert_eq!(t.blocks_in(2, 0), 0..0);
    }

    #[test]
    fn eviction_keeps_the_budget_and_spares_what_is_pinned() {
        let t = BlockTable::new(vec![1, 2, 3], vec![4, 4, 4]).unwrap();
        let layer = Arc::new(BlockLayer::new(t, 8));
        let block = || ZeroCopyBuffer::copy_from_slice(b"abcd", BufferKind::raw());
        layer.insert_loaded(0, block()).unwrap();
        layer.insert_loaded(1, block()).unwrap();
        layer.loaded_block(0); // block 1 is now the least recently used
        layer.make_room(4);
        assert_eq!(layer.missing(0, 12), vec![1, 2]);
        layer.insert_loaded(2, block()).unwrap();
        // Two reads pin block 0; one pins block 2 too.
        let first = layer.pin(vec![0, 2]);
        let second = layer.pin(vec![0]);
        layer.make_room(4);
        assert_eq!(layer.missing(0, 12), vec![1], "pinned blocks stay, even over the budget");
        assert_eq!(layer.loaded_bytes(), 8);
        drop(first);
        layer.make_room(4);
        assert_eq!(layer.missing(0, 12), vec![1, 2], "block 0 is still pinned by the second read");
        drop(second);
        layer.make_room(8);
        assert_eq!(layer.loaded_bytes(), 0, "nothing is pinned any more");
        assert!(layer.insert_loaded(1, ZeroCopyBuffer::copy_from_slice(b"abc", BufferKind::raw())).is_err());
    }

    #[test]
    fn unload_keeps_what_reads_in_flight_pinned() {
        let t = BlockTable::new(vec![1, 2, 3], vec![4, 4, 4]).unwrap();
        let layer = Arc::new(BlockLayer::new(t, 12));
        for index in 0..3 {
            layer.insert_loaded(index, ZeroCopyBuffer::copy_from_slice(b"abcd", BufferKind::raw())).unwrap();
        }
        let read = layer.pin(vec![1]);
        layer.unload();
        assert_eq!(layer.missing(0, 12), vec![0, 2]);
        assert_eq!(layer.loaded_bytes(), 4);
        drop(read);
        layer.unload();
        assert_eq!((layer.missing(0, 12), layer.loaded_bytes()), (vec![0, 1, 2], 0));
    }

    #[test]
    fn reads_out_of_range_and_unloaded_fail() {
        let layer = layer_over(b"0123456789", &[3, 3, 4]);
        let mut dst = [0u8; 4];
        assert!(matches!(layer.read_at(8, &mut dst), Err(PersistenceError::OutOfRange { .. })));
        layer.read_at(2, &mut dst).unwrap();
        assert_eq!(&dst, b"2345");
        assert_eq!(layer.read_buffer(3, 3).unwrap(), b"345"[..]);
        let cold = BlockLayer::new(layer.table().clone(), 100);
        assert!(matches!(cold.read_buffer(3, 3), Err(PersistenceError::NotLoaded { .. })));
        assert!(cold.save(&mut std::iter::empty(), SaveOptions::default()).is_err());
    }

    /// What a save through a BlockWriter does, as the browser's store does it.
    fn save_through_writer(
        base: &BlockLayer,
        recipe: &[SavePiece],
        block_size: usize,
    ) -> (BlockTable, Vec<(u64, ZeroCopyBuffer)>) {
        let next = base.table().ids().iter().max().map_or(0, |m| m + 1);
        let mut w = BlockWriter::new(block_size, next);
        let mut writes = Vec::new();
        for piece in recipe {
            match piece {
                SavePiece::Copy { offset, len } => {
                    for span in base.table().spans(*offset, *len) {
                        match span {
                            BlockSpan::Whole(i) => w.reuse(base.table().ids()[i], base.table().lens()[i]),
                            BlockSpan::Part { index, from, to } => {
                                let data = base.loaded_block(index).unwrap();
                                w.append(&data[from as usize..to as usize]);
                            }
                        }
                    }
                }
                SavePiece::Insert(bytes) => w.append(bytes),
            }
            if w.written_bytes() > 2 * block_size {
                writes.extend(w.take_writes());
            }
        }
        let (table, rest, _) = w.finish();
        writes.extend(rest);
        (table, writes)
    }

    proptest! {
        // No regression file: under Miri (which runs these) the file system is out of reach.
        #![proptest_config(ProptestConfig { failure_persistence: None, ..ProptestConfig::default() })]

        /// A save through the writer gives the recipe's content, keeps every whole block it copies,
        /// and writes no block larger than the block size.
        #[test]
        fn writer_matches_the_recipe(
            content in proptest::collection::vec(any::<u8>(), 1..200),
            cuts in proptest::collection::vec(any::<usize>(), 0..12),
            steps in proptest::collection::vec((any::<bool>(), any::<u16>(), any::<u16>(), 0usize..20), 0..12),
            block_size in 1usize..40,
        ) {
            let lens = split(content.len(), &cuts);
            let base = layer_over(&content, &lens);
            let mut recipe = Vec::new();
            let mut expected = Vec::new();
            for (copy, a, b, n) in steps {
                if copy {
                    let start = a as usize % content.len();
                    let len = b as usize % (content.len() - start + 1);
                    expected.extend_from_slice(&content[start..start + len]);
                    recipe.push(SavePiece::Copy { offset: start as u64, len: len as u64 });
                } else {
                    let bytes: Vec<u8> = (0..n as u8).collect();
                    expected.extend_from_slice(&bytes);
                    recipe.push(SavePiece::Insert(ZeroCopyBuffer::from_bytes(bytes, BufferKind::raw())));
                }
            }
            let (table, writes) = save_through_writer(&base, &recipe, block_size);
            prop_assert_eq!(table.len(), expected.len() as u64);
            let written: HashMap<u64, ZeroCopyBuffer> = writes.into_iter().collect();
            let mut got = Vec::new();
            for (i, &id) in table.ids().iter().enumerate() {
                if let Some(data) = written.get(&id) {
                    prop_assert!(data.len() <= block_size);
                    prop_assert!(!base.table().ids().contains(&id), "new blocks get fresh ids");
                    got.extend_from_slice(data);
                } else {
                    let old = base.table().ids().iter().position(|&o| o == id).expect("a reused id");
                    prop_assert_eq!(base.table().lens()[old], table.lens()[i]);
                    got.extend_from_slice(&base.loaded_block(old).unwrap());
                }
            }
            prop_assert_eq!(got, expected);
        }
    }

    #[test]
    fn table_finds_the_blocks_of_a_range() {
        let table = BlockTable::new(vec![7, 3, 9], vec![4, 2, 4]).unwrap();
        assert_eq!(table.len(), 10);
        assert_eq!(table.blocks_in(3, 2), 0..2); // bytes 3..5 lie in the first two blocks
        assert_eq!(table.block_start(2), 6);
    }

    #[test]
    fn layer_reads_only_what_is_loaded() {
        let layer = BlockLayer::new(BlockTable::new(vec![1, 2], vec![5, 6]).unwrap(), 1 << 20);
        assert_eq!(layer.missing(3, 4), vec![0, 1]);
        layer.insert_loaded(0, ZeroCopyBuffer::copy_from_slice(b"hello", BufferKind::raw())).unwrap();
        let mut dst = [0u8; 4];
        assert!(matches!(layer.read_at(3, &mut dst), Err(PersistenceError::NotLoaded { .. })));
        layer.insert_loaded(1, ZeroCopyBuffer::copy_from_slice(b" world", BufferKind::raw())).unwrap();
        layer.read_at(3, &mut dst).unwrap();
        assert_eq!(&dst, b"lo w");
    }

    #[test]
    fn spans_split_a_range_into_whole_and_partial_blocks() {
        let table = BlockTable::new(vec![1, 2, 3], vec![4, 4, 4]).unwrap();
        let spans: Vec<_> = table.spans(2, 8).collect();
        assert_eq!(
            spans,
            [
                BlockSpan::Part { index: 0, from: 2, to: 4 },
                BlockSpan::Whole(1),
                BlockSpan::Part { index: 2, from: 0, to: 2 },
            ]
        );
    }

    #[test]
    fn writer_keeps_reused_blocks_and_packs_new_bytes() {
        let mut w = BlockWriter::new(4, 100);
        w.append(b"abcdef"); // one full new block (id 100), two bytes pending
        w.reuse(7, 4); // the pending bytes become block 101, then block 7 is kept
        w.append(b"xy");
        let (table, writes, next_id) = w.finish();
        assert_eq!(table.ids(), [100, 101, 7, 102]);
        assert_eq!(table.lens(), [4, 2, 4, 2]);
        assert_eq!(writes.iter().map(|(id, _)| *id).collect::<Vec<_>>(), [100, 101, 102]);
        assert_eq!(next_id, 103);
    }
}
