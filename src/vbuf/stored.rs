//! [`StoredBuffer`]: a virtual buffer over a document in the browser's IndexedDB (wasm32 only).
//!
//! IndexedDB is asynchronous and the [`VirtualBuffer`] reads synchronously, so the stored buffer loads
//! what a call needs first and then runs the synchronous call: [`read`](StoredBuffer::read) loads the
//! blocks under the range, [`find`](StoredBuffer::find) and the line queries scan in windows of
//! [`SCAN_WINDOW`] bytes, each loaded before it is read, so memory stays bounded by the cache budget
//! whatever the document's size. The line queries keep what their scan found (a [`LineIndex`]) until
//! the next edit: until then a query reads at most [`LINE_CHECKPOINT`] bytes. Edits are synchronous
//! and in memory ([`buffer`](StoredBuffer::buffer)).
//! [`save`](StoredBuffer::save) writes the blocks that changed and commits the new version in one
//! transaction (see `platform::wasm::indexed_db`).
//!
//! Everything here runs on one thread (a page or a worker): the futures are not `Send`.

use std::cell::RefCell;
use std::collections::{HashMap, HashSet};
use std::ops::{Bound, RangeBounds};
use std::rc::Rc;
use std::sync::Arc;

use super::buffer::{recipe, resolve};
use super::error::VbufError;
use super::options::VirtualBufferOptions;
use super::snapshot::Snapshot;
use super::tree::{Piece, SourceId, ADD_SOURCE};
use super::turns::Turns;
use super::VirtualBuffer;
use crate::platform::persistence::{
    BlockLayer, BlockSpan, BlockTable, BlockWriter, PersistenceError, PersistenceLayer, PinnedBlocks,
    SavePiece,
};
use crate::platform::wasm::indexed_db::{
    self, CommitFault, DocumentLock, DocumentMeta, GarbageBlock, StoreError, VersionInUse,
};
use crate::ZeroCopyBuffer;

/// Bytes scanned per step by `find` and the line queries, each step loaded before it is read.
pub const SCAN_WINDOW: u64 = 4 << 20;
/// Bytes between two checkpoints of a [`LineIndex`]: the most a line query reads once it is built.
const LINE_CHECKPOINT: u64 = 64 << 10;
/// The try of a line query from which it counts a snapshot of one version, which edits do not move;
/// the tries before it read the content as it is, and start again when an edit comes while they
/// load what they read.
const EDITS_MET: usize = 3;
/// How many times a read loads again when what it loaded is not what the content needs by then,
/// after an edit or a save came during the load (see [`Retries`]).
const RELOADS_AFTER_CHANGES: usize = 100;
/// The same when neither came.
const RELOADS_UNEXPLAINED: usize = 4;
/// Bytes of new blocks gathered before a long import or save writes them (in their own transaction).
const WRITE_BATCH: usize = 8 << 20;
/// Blocks loaded per transaction when a save copies parts of blocks.
const LOAD_BATCH: usize = 64;

/// Errors of a [`StoredBuffer`].
///
/// ```no_run
/// # async fn demo() {
/// use omnibuf::vbuf::{StoreError, StoredBuffer, StoredError, VirtualBufferOptions};
///
/// match StoredBuffer::open("missing", VirtualBufferOptions::default()).await {
///     Err(StoredError::Store(StoreError::NotFound(name))) => assert_eq!(name, "missing"),
///     other => panic!("{other:?}"),
/// }
/// # }
/// ```
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StoredError {
    /// The document store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The buffer refused the call (a bad range, a line past the end).
    #[error(transparent)]
    Buffer(#[from] VbufError),
    /// `save` of a buffer that has no document (made from bytes): use `save_as`.
    #[error("this buffer has no document to save to; use saveAs(name)")]
    NoDocument,
    /// Edits or saves came during every load of a read or a scan, `tries` times: it stopped.
    #[error(
        "the content changed during each of {tries} loads of what this call reads (edits or saves \
             kept coming)"
    )]
    KeptChanging {
        /// The loads tried.
        tries: usize,
    },
}

impl From<PersistenceError> for StoredError {
    fn from(e: PersistenceError) -> Self {
        StoredError::Buffer(VbufError::Persistence(e))
    }
}

/// Where an import's bytes come from.
///
/// ```no_run
/// # async fn demo(file: web_sys::File) -> Result<(), omnibuf::vbuf::StoredError> {
/// use omnibuf::vbuf::{ImportSource, StoredBuffer};
///
/// StoredBuffer::import("notes.txt", ImportSource::Blob(&file), 64 << 10).await?;
/// StoredBuffer::import("empty.txt", ImportSource::Bytes(b""), 64 << 10).await?;
/// # Ok(()) }
/// ```
#[derive(Debug, Clone, Copy)]
pub enum ImportSource<'a> {
    /// Bytes in memory.
    Bytes(&'a [u8]),
    /// A `Blob` or `File`, read a batch at a time, never whole.
    Blob(&'a web_sys::Blob),
}

/// A document version a source of the buffer reads: its name and layer, and the mark that keeps
/// garbage collections off its blocks while the buffer lives.
#[derive(Debug, Clone)]
struct StoredSource {
    name: String,
    layer: Arc<BlockLayer>,
    _in_use: Rc<VersionInUse>,
}

#[derive(Debug)]
struct State {
    /// The document saves go to.
    meta: Option<DocumentMeta>,
    /// For each source of the buffer (index = source id - 1), the stored version it reads, or `None`
    /// for a source in memory or one the buffer let go of. Kept in step with the buffer's sources:
    /// every source a stored buffer gains comes from its own saves.
    sources: Vec<Option<StoredSource>>,
    /// Saves this buffer made: with the edit version, what tells a read that the content it loaded
    /// for may read other blocks now.
    saves: u64,
}

/// The tries of a read whose blocks turned out not loaded (`NotLoaded`) when it read them. That is
/// expected when an edit or a save came while they loaded: an undo may bring back pieces of other
/// blocks, and a save makes the content read the version it wrote (and may let go of the one loaded
/// for). The read then loads again, many times if it must; without a change it should not happen,
/// and a few tries end in the error.
#[derive(Default)]
struct Retries {
    after_changes: usize,
    unexplained: usize,
}

impl Retries {
    /// `Ok` to try again after `error` (a `NotLoaded`), else the error to give; `changed`: whether an
    /// edit or a save came during the try.
    fn again(&mut self, changed: bool, error: VbufError) -> Result<(), StoredError> {
        if changed {
            self.after_changes += 1;
            if self.after_changes > RELOADS_AFTER_CHANGES {
                return Err(StoredError::KeptChanging { tries: self.after_changes });
            }
        } else {
            self.unexplained += 1;
            if self.unexplained > RELOADS_UNEXPLAINED {
                return Err(error.into());
            }
        }
        Ok(())
    }
}

/// A [`VirtualBuffer`] over a document in IndexedDB (see the module docs).
///
/// ```no_run
/// # async fn demo() -> Result<(), omnibuf::vbuf::StoredError> {
/// use omnibuf::vbuf::{ImportSource, StoredBuffer, VirtualBufferOptions};
///
/// StoredBuffer::import("notes.txt", ImportSource::Bytes(b"hello"), 64 << 10).await?;
/// let doc = StoredBuffer::open("notes.txt", VirtualBufferOptions::default()).await?;
/// doc.buffer().insert(5, b" world")?;
/// assert_eq!(doc.read(0..11).await?, b"hello world"[..]);
/// doc.save(false).await?;
/// # Ok(()) }
/// ```
#[derive(Debug)]
pub struct StoredBuffer {
    buffer: VirtualBuffer,
    options: VirtualBufferOptions,
    state: RefCell<State>,
    /// What the last whole scan for line feeds found, while no edit came after it.
    lines: RefCell<Option<Rc<LineIndex>>>,
    /// A save that starts while another runs waits for it.
    save_turns: Turns,
}

/// What a line query reads: the content while it is still at the version its index counted (a read
/// gives `None` once an edit came), or, from the query's [`EDITS_MET`]th try on, a snapshot of one
/// version (a read gives `None` if a save let go of a version the snapshot reads).
enum Counted {
    Live(u64),
    Snapshot(Snapshot),
}

/// The line feeds of one version of the content, counted by a scan of all of it: the line queries
/// look here first and then read one stretch of [`LINE_CHECKPOINT`] bytes at most.
#[derive(Debug)]
struct LineIndex {
    /// The buffer's edit version the scan saw (an edit makes the index stale).
    version: u64,
    /// Line feeds in all.
    lfs: u64,
    /// `before[i]`: the line feeds in the first `i * LINE_CHECKPOINT` bytes (the last entry: in all).
    before: Vec<u64>,
}

impl StoredBuffer {
    /// A buffer of `state` over `buffer`, before any line scan or save.
    fn with_state(buffer: VirtualBuffer, options: VirtualBufferOptions, state: State) -> StoredBuffer {
        let (state, lines, save_turns) = (RefCell::new(state), RefCell::default(), Turns::default());
        StoredBuffer { buffer, options, state, lines, save_turns }
    }

    /// A buffer over bytes in memory with no document yet; [`save_as`](Self::save_as) gives it one.
    ///
    /// ```no_run
    /// # async fn demo() -> Result<(), omnibuf::vbuf::StoredError> {
    /// use omnibuf::vbuf::StoredBuffer;
    ///
    /// let doc = StoredBuffer::from_bytes(b"draft".to_vec(), Default::default())?;
    /// assert_eq!(doc.name(), None); // no document yet
    /// doc.save_as("draft.txt").await?;
    /// assert_eq!(doc.name().as_deref(), Some("draft.txt"));
    /// # Ok(()) }
    /// ```
    pub fn from_bytes(bytes: Vec<u8>, options: VirtualBufferOptions) -> Result<StoredBuffer, StoredError> {
        let options = options.checked();
        let buffer = VirtualBuffer::from_bytes_with(bytes, options)?;
        let state = State { meta: None, sources: vec![None], saves: 0 };
        Ok(StoredBuffer::with_state(buffer, options, state))
    }

    /// Opens document `name`, reading only its metadata record (and deleting the blocks its earlier
    /// versions, and saves of it that never committed, left). The block size is the document's; `options` gives the rest.
    ///
    /// Fails with [`StoreError::NotFound`] (in [`StoredError::Store`]) when there is no such document,
    /// and with the store's other errors when IndexedDB is missing or refuses.
    ///
    /// ```no_run
    /// # async fn demo() -> Result<(), omnibuf::vbuf::StoredError> {
    /// use omnibuf::vbuf::{ImportSource, StoredBuffer, VirtualBufferOptions};
    ///
    /// StoredBuffer::import("big.log", ImportSource::Bytes(&vec![b'x'; 1 << 20]), 64 << 10).await?;
    /// let doc = StoredBuffer::open("big.log", VirtualBufferOptions::default()).await?;
    /// assert_eq!((doc.buffer().len(), doc.loaded_bytes()), (1 << 20, 0)); // only the metadata was read
    /// # Ok(()) }
    /// ```
    pub async fn open(name: &str, mut options: VirtualBufferOptions) -> Result<StoredBuffer, StoredError> {
        let not_found = || StoreError::NotFound(name.into());
        let mut meta = indexed_db::read_meta(name).await?.ok_or_else(not_found)?;
        // Marked in use, and still the current version once marked: then no garbage collection can
        // have deleted its blocks, and none will while the buffer lives.
        let in_use = loop {
            let in_use = VersionInUse::mark(name, meta.generation).await;
            let now = indexed_db::read_meta(name).await?.ok_or_else(not_found)?;
            let still_current = now.same_version(&meta);
            meta = now;
            if still_current {
                break in_use;
            }
        };
        // Garbage to collect: what the record lists, and the blocks of saves that never committed.
        if !meta.garbage.is_empty() || indexed_db::has_blocks_from(name, meta.next_id).await? {
            // Waits for a writer of the document in another tab, if there is one.
            indexed_db::collect_garbage(&DocumentLock::acquire(name).await).await?;
        }
        options.block_size = meta.block_size as usize;
        // The block size divides offsets (`load_pieces`): never zero, whatever the record said.
        let options = options.checked();
        let layer = Arc::new(BlockLayer::new(meta.table.clone(), options.cache_budget));
        let buffer = VirtualBuffer::with_layer(layer.clone(), options)?;
        let source = StoredSource { name: name.to_string(), layer, _in_use: Rc::new(in_use) };
        let state = State { meta: Some(meta), sources: vec![Some(source)], saves: 0 };
        Ok(StoredBuffer::with_state(buffer, options, state))
    }

    /// Stores `source` as document `name` in blocks of `block_size` bytes, replacing a document of
    /// that name atomically: until the import commits, the old one (or none) is what is stored. A
    /// `Blob` is read a batch at a time, never whole.
    ///
    /// An import that fails (the quota, a read of the `Blob`, a document saved meanwhile) deletes
    /// the blocks it wrote before it returns the error: it leaves nothing behind.
    ///
    /// ```no_run
    /// # async fn demo(file: web_sys::File) -> Result<(), omnibuf::vbuf::StoredError> {
    /// use omnibuf::vbuf::{ImportSource, StoredBuffer};
    ///
    /// StoredBuffer::import("photo.jpg", ImportSource::Blob(&file), 256 << 10).await?;
    /// StoredBuffer::import("notes.txt", ImportSource::Bytes(b"v1"), 64 << 10).await?;
    /// StoredBuffer::import("notes.txt", ImportSource::Bytes(b"v2"), 64 << 10).await?; // replaces it
    /// let doc = StoredBuffer::open("notes.txt", Default::default()).await?;
    /// assert_eq!(doc.read(0..2).await?, b"v2"[..]);
    /// # Ok(()) }
    /// ```
    pub async fn import(name: &str, source: ImportSource<'_>, block_size: usize) -> Result<(), StoredError> {
        // Held from reading the record to the commit: the record read stays the stored one, and the
        // ids past its next id are this import's.
        let lock = DocumentLock::acquire(name).await;
        let current = indexed_db::read_record(&lock).await?;
        let block_size = block_size.clamp(1, u32::MAX as usize);
        let first_id = current.as_ref().map_or(0, |m| m.next_id);
        let mut writer = BlockWriter::new(block_size, first_id);
        let batch = WRITE_BATCH.max(block_size);
        let written: Result<(), StoredError> = async {
            match source {
                ImportSource::Bytes(bytes) => {
                    for part in bytes.chunks(batch) {
                        writer.append(part);
                        indexed_db::write_blocks(&lock, &writer.take_writes()).await?;
                    }
                }
                ImportSource::Blob(blob) => {
                    let size = blob.size();
                    let mut at = 0.0;
                    while at < size {
                        let end = (at + batch as f64).min(size);
                        writer.append(&read_blob(blob, at, end).await?);
                        indexed_db::write_blocks(&lock, &writer.take_writes()).await?;
                        at = end;
                    }
                }
            }
            Ok(())
        }
        .await;
        if let Err(e) = written {
            return Err(discard_failed(&lock, first_id..writer.next_id(), e).await);
        }
        let (table, writes, next_id) = writer.finish();
        let meta = next_version(name, current.as_ref(), table, block_size as u32, next_id);
        let expected = Some(current.map(|m| m.generation));
        if let Err(e) = indexed_db::commit(&lock, &meta, &writes, expected, CommitFault::None).await {
            return Err(discard_failed(&lock, first_id..next_id, e.into()).await);
        }
        Ok(())
    }

    /// The buffer: edits, undo and redo are synchronous and in memory.
    ///
    /// ```no_run
    /// # fn demo() -> Result<(), omnibuf::vbuf::StoredError> {
    /// use omnibuf::vbuf::StoredBuffer;
    ///
    /// let doc = StoredBuffer::from_bytes(b"abc".to_vec(), Default::default())?;
    /// doc.buffer().insert(3, b"def")?; // synchronous, in memory
    /// assert!(doc.buffer().undo());
    /// assert_eq!(doc.buffer().len(), 3);
    /// # Ok(()) }
    /// ```
    pub fn buffer(&self) -> &VirtualBuffer {
        &self.buffer
    }

    /// The name of the document saves go to, if any.
    ///
    /// ```no_run
    /// # async fn demo() -> Result<(), omnibuf::vbuf::StoredError> {
    /// use omnibuf::vbuf::{ImportSource, StoredBuffer};
    ///
    /// StoredBuffer::import("a.txt", ImportSource::Bytes(b"a"), 4096).await?;
    /// let doc = StoredBuffer::open("a.txt", Default::default()).await?;
    /// assert_eq!(doc.name().as_deref(), Some("a.txt"));
    /// doc.save_as("b.txt").await?;
    /// assert_eq!(doc.name().as_deref(), Some("b.txt")); // later saves go there
    /// # Ok(()) }
    /// ```
    pub fn name(&self) -> Option<String> {
        self.state.borrow().meta.as_ref().map(|m| m.name.clone())
    }

    /// Bytes of loaded blocks held, over every stored version this buffer reads.
    ///
    /// ```no_run
    /// # async fn demo() -> Result<(), omnibuf::vbuf::StoredError> {
    /// use omnibuf::vbuf::{ImportSource, StoredBuffer};
    ///
    /// StoredBuffer::import("data", ImportSource::Bytes(&[0; 10_000]), 4096).await?;
    /// let doc = StoredBuffer::open("data", Default::default()).await?;
    /// assert_eq!(doc.loaded_bytes(), 0);
    /// doc.read(0..10).await?; // loads the one block it needs
    /// assert_eq!(doc.loaded_bytes(), 4096);
    /// # Ok(()) }
    /// ```
    pub fn loaded_bytes(&self) -> usize {
        let state = self.state.borrow();
        state.sources.iter().flatten().map(|s| s.layer.loaded_bytes()).sum()
    }

    fn stored_source(&self, id: SourceId) -> Option<StoredSource> {
        self.state.borrow().sources.get(id as usize - 1).cloned().flatten()
    }

    /// What changes when the content may read other blocks: the edit version and the saves made.
    fn stamp(&self) -> (u64, u64) {
        (self.buffer.version(), self.state.borrow().saves)
    }

    /// Loads the blocks that `pieces` read and that are not loaded; they stay pinned (kept from
    /// eviction by other reads' loads) until the caller drops what this returns.
    async fn load_pieces(&self, pieces: &[Piece]) -> Result<Vec<PinnedBlocks>, StoredError> {
        // The buffer reads a source in whole cache blocks (of the document's block size), which after
        // a save need not line up with the stored blocks: load every stored block under them.
        let grid = self.options.block_size as u64;
        let mut wanted: HashMap<SourceId, Vec<usize>> = HashMap::new();
        for piece in pieces.iter().filter(|p| p.source != ADD_SOURCE) {
            if let Some(source) = self.stored_source(piece.source) {
                let start = piece.offset / grid * grid;
                let end = (piece.offset + piece.len).div_ceil(grid) * grid;
                wanted
                    .entry(piece.source)
                    .or_default()
                    .extend(source.layer.table().blocks_in(start, end - start));
            }
        }
        let mut pins = Vec::with_capacity(wanted.len());
        for (id, mut blocks) in wanted {
            // Gone while the sources before it loaded: a save let go of it, as nothing the buffer
            // holds reads it any more. The caller reads the content as it is now, which does not.
            let Some(source) = self.stored_source(id) else { continue };
            blocks.sort_unstable();
            blocks.dedup();
            let missing = source.layer.unloaded(blocks.iter().copied());
            pins.push(source.layer.pin(blocks));
            if missing.is_empty() {
                // Nothing to load, but what an earlier scan loaded goes back under the budget.
                source.layer.make_room(0);
            }
            for batch in missing.chunks(LOAD_BATCH) {
                indexed_db::load_blocks(&source.name, &source.layer, batch).await?;
            }
        }
        Ok(pins)
    }

    /// Loads what reading `start..end` of the current content needs.
    ///
    /// ```no_run
    /// # async fn demo() -> Result<(), omnibuf::vbuf::StoredError> {
    /// use omnibuf::vbuf::{ImportSource, StoredBuffer};
    ///
    /// StoredBuffer::import("doc", ImportSource::Bytes(b"hello world"), 4096).await?;
    /// let doc = StoredBuffer::open("doc", Default::default()).await?;
    /// doc.load(0, 5).await?;
    /// assert_eq!(doc.buffer().read(0..5)?, b"hello"[..]); // now a synchronous read works
    /// # Ok(()) }
    /// ```
    pub async fn load(&self, start: u64, end: u64) -> Result<(), StoredError> {
        self.load_pinned(start, end).await.map(drop)
    }

    /// [`load`](Self::load), keeping the blocks pinned until the caller drops what this returns.
    async fn load_pinned(&self, start: u64, end: u64) -> Result<Vec<PinnedBlocks>, StoredError> {
        let pieces = self.buffer.snapshot().tree.pieces_in(start, end);
        self.load_pieces(&pieces).await
    }

    /// Runs `read` after loading `start..end` (`end`: `None` for the end of the content as it is at
    /// each try), with the blocks pinned until it has run (so that the loads of other calls, made
    /// meanwhile, evict none of them); if an edit or a save made meanwhile needs other blocks, loads
    /// again ([`Retries`]). `read` sees the content as it is once the blocks are loaded: an edit made
    /// during the load may have changed or shortened it.
    async fn loaded<T>(
        &self,
        start: u64,
        end: Option<u64>,
        read: impl Fn(&VirtualBuffer) -> Result<T, VbufError>,
    ) -> Result<T, StoredError> {
        let mut retries = Retries::default();
        loop {
            let stamp = self.stamp();
            let end = end.unwrap_or_else(|| self.buffer.len());
            let _pinned = self.load_pinned(start, end).await?;
            match read(&self.buffer) {
                Err(e @ VbufError::Persistence(PersistenceError::NotLoaded { .. })) => {
                    retries.again(self.stamp() != stamp, e)?
                }
                other => return other.map_err(StoredError::from),
            }
        }
    }

    /// The bytes of `range` (`5..`: from 5 to the end of the content as it is when they are read): a
    /// view of a loaded block when the range lies in one, else a copy. An edit made while the blocks
    /// load is in what it reads. Fails with [`VbufError::OutOfRange`] (in [`StoredError::Buffer`])
    /// when the range is not inside the content, and with [`StoredError::Store`] when a load fails.
    ///
    /// ```no_run
    /// # async fn demo() -> Result<(), omnibuf::vbuf::StoredError> {
    /// use omnibuf::vbuf::{ImportSource, StoredBuffer};
    ///
    /// StoredBuffer::import("doc", ImportSource::Bytes(b"hello world"), 4096).await?;
    /// let doc = StoredBuffer::open("doc", Default::default()).await?;
    /// doc.buffer().insert(5, b",")?;
    /// assert_eq!(doc.read(0..12).await?, b"hello, world"[..]);
    /// assert_eq!(doc.read(7..).await?, b"world"[..]);
    /// assert!(doc.read(0..99).await.is_err());
    /// # Ok(()) }
    /// ```
    pub async fn read(&self, range: impl RangeBounds<u64>) -> Result<ZeroCopyBuffer, StoredError> {
        let (start, end) = bounds(&range);
        let range = with_bounds(start, end);
        let (from, to) = resolve(range, self.buffer.len())?;
        // Its blocks stay loaded until the copy is made: a copy larger than one allocation can be
        // (2 GiB on wasm32) is refused before anything loads.
        if isize::try_from(to - from).is_err() {
            return Err(VbufError::AllocationFailed { bytes: to - from, what: "a read" }.into());
        }
        self.loaded(start, end, |b| b.read(range)).await
    }

    /// Bytes `start..end` once they are loaded, if the content is still at `version` then (`None`
    /// when an edit came first).
    async fn read_version(
        &self,
        version: u64,
        start: u64,
        end: u64,
    ) -> Result<Option<ZeroCopyBuffer>, StoredError> {
        let edited = |b: &VirtualBuffer| b.version() != version;
        if edited(&self.buffer) {
            return Ok(None);
        }
        self.loaded(start, Some(end), |b| {
            if edited(b) {
                return Ok(None);
            }
            let end = end.min(b.len());
            Ok(Some(if start < end { b.read(start..end)? } else { ZeroCopyBuffer::new() }))
        })
        .await
    }

    /// Bytes `start..end` of `snapshot` once they are loaded (`None` when a save let go of a version
    /// the snapshot reads before its blocks loaded: they may be gone from the store).
    async fn read_snapshot(
        &self,
        snapshot: &Snapshot,
        start: u64,
        end: u64,
    ) -> Result<Option<ZeroCopyBuffer>, StoredError> {
        let _pinned = self.load_pieces(&snapshot.tree.pieces_in(start, end)).await?;
        match snapshot.read(&self.buffer.inner.store, start, end) {
            Err(VbufError::Persistence(PersistenceError::NotLoaded { .. })) => Ok(None),
            other => Ok(Some(other?)),
        }
    }

    /// Bytes `start..end` of what a line query counts (`None`: it moved on, see [`Counted`]).
    async fn read_counted(
        &self,
        counted: &Counted,
        start: u64,
        end: u64,
    ) -> Result<Option<ZeroCopyBuffer>, StoredError> {
        match counted {
            Counted::Live(version) => self.read_version(*version, start, end).await,
            Counted::Snapshot(snapshot) => self.read_snapshot(snapshot, start, end).await,
        }
    }

    /// The length of what a line query counts.
    fn counted_len(&self, counted: &Counted) -> u64 {
        match counted {
            Counted::Live(_) => self.buffer.len(),
            Counted::Snapshot(snapshot) => snapshot.len(),
        }
    }

    /// The first offset in `range` where `pattern` lies wholly inside the range, in the content as it
    /// is when the search begins (a range without an end runs to that content's end), scanning a
    /// window at a time. Edits made while windows load are not in what it searches: content that
    /// moved under a scan of the live content would be skipped or seen twice, and a pattern there in
    /// every version could be missed.
    ///
    /// ```no_run
    /// # async fn demo() -> Result<(), omnibuf::vbuf::StoredError> {
    /// use omnibuf::vbuf::StoredBuffer;
    ///
    /// let doc = StoredBuffer::from_bytes(b"one two one".to_vec(), Default::default())?;
    /// assert_eq!(doc.find(b"one", 1..11).await?, Some(8));
    /// assert_eq!(doc.find(b"one", 1..10).await?, None); // must lie wholly inside the range
    /// assert_eq!(doc.find(b"one", 1..).await?, Some(8));
    /// # Ok(()) }
    /// ```
    pub async fn find(
        &self,
        pattern: &[u8],
        range: impl RangeBounds<u64>,
    ) -> Result<Option<u64>, StoredError> {
        let (start, end) = bounds(&range);
        let overlap = pattern.len().saturating_sub(1) as u64;
        let mut retries = Retries::default();
        'search: loop {
            let stamp = self.stamp();
            let snapshot = self.buffer.snapshot();
            let (start, end) = resolve(with_bounds(start, end), snapshot.len())?;
            let mut at = start;
            loop {
                // A match starting before `at + SCAN_WINDOW` ends by `stop`.
                let stop = at.saturating_add(SCAN_WINDOW + overlap).min(end);
                let _pinned = self.load_pieces(&snapshot.tree.pieces_in(at, stop)).await?;
                match self.buffer.find_in_snapshot(snapshot.clone(), pattern, at..stop) {
                    Ok(Some(hit)) => return Ok(Some(hit)),
                    Ok(None) if stop >= end => return Ok(None),
                    Ok(None) => at += SCAN_WINDOW,
                    // A source the snapshot reads that is no longer the document's (a save came
                    // meanwhile) loads nothing: search the content as it is now.
                    Err(e @ VbufError::Persistence(PersistenceError::NotLoaded { .. })) => {
                        retries.again(self.stamp() != stamp, e)?;
                        continue 'search;
                    }
                    Err(e) => return Err(e.into()),
                }
            }
        }
    }

    /// The line index of the content as it is, and what the query reads on (of the same version):
    /// the index kept, or a new one from a scan of all of it, a window at a time, kept unless an edit
    /// came during the scan. A scan that an edit interrupts starts again. `tries` counts the tries of
    /// one query (each call, each scan): from the [`EDITS_MET`]th on, the query counts a snapshot
    /// (one version, whatever edits come; again when a save let go of a version it reads).
    async fn line_index(&self, tries: &mut usize) -> Result<(Rc<LineIndex>, Counted), StoredError> {
        loop {
            *tries += 1;
            if *tries > EDITS_MET + RELOADS_AFTER_CHANGES {
                return Err(StoredError::KeptChanging { tries: *tries - 1 });
            }
            let version = self.buffer.version();
            let counted = if *tries < EDITS_MET {
                Counted::Live(version)
            } else {
                Counted::Snapshot(self.buffer.snapshot())
            };
            let kept = self.lines.borrow().as_ref().filter(|index| index.version == version).cloned();
            if let Some(index) = kept {
                return Ok((index, counted));
            }
            let Some(index) = self.scan_lines(&counted).await? else { continue };
            let index = Rc::new(index);
            if self.buffer.version() == index.version {
                *self.lines.borrow_mut() = Some(index.clone());
            }
            return Ok((index, counted));
        }
    }

    /// The line feeds of what `counted` reads, counted a window at a time (`None` when it moved on).
    async fn scan_lines(&self, counted: &Counted) -> Result<Option<LineIndex>, StoredError> {
        let version = match counted {
            Counted::Live(version) => *version,
            Counted::Snapshot(snapshot) => snapshot.version,
        };
        let len = self.counted_len(counted);
        let (mut lfs, mut before) = (0, vec![0]);
        let mut at = 0;
        while at < len {
            let stop = (at + SCAN_WINDOW).min(len);
            let Some(window) = self.read_counted(counted, at, stop).await? else { return Ok(None) };
            // A window starts at a checkpoint: SCAN_WINDOW is a multiple of LINE_CHECKPOINT.
            for stretch in window.chunks(LINE_CHECKPOINT as usize) {
                lfs += memchr::memchr_iter(b'\n', stretch).count() as u64;
                before.push(lfs);
            }
            at = stop;
        }
        Ok(Some(LineIndex { version, lfs, before }))
    }

    /// Line feeds plus one.
    ///
    /// ```no_run
    /// # async fn demo() -> Result<(), omnibuf::vbuf::StoredError> {
    /// use omnibuf::vbuf::StoredBuffer;
    ///
    /// let doc = StoredBuffer::from_bytes(b"a\nb\nc".to_vec(), Default::default())?;
    /// assert_eq!(doc.line_count().await?, 3);
    /// # Ok(()) }
    /// ```
    pub async fn line_count(&self) -> Result<u64, StoredError> {
        Ok(self.line_index(&mut 0).await?.0.lfs + 1)
    }

    /// Offset where line `line` (0-based) starts.
    ///
    /// ```no_run
    /// # async fn demo() -> Result<(), omnibuf::vbuf::StoredError> {
    /// use omnibuf::vbuf::StoredBuffer;
    ///
    /// let doc = StoredBuffer::from_bytes(b"ab\ncd\n".to_vec(), Default::default())?;
    /// assert_eq!(doc.line_to_offset(1).await?, 3);
    /// assert!(doc.line_to_offset(3).await.is_err()); // lines 0, 1 and the empty line 2
    /// # Ok(()) }
    /// ```
    pub async fn line_to_offset(&self, line: u64) -> Result<u64, StoredError> {
        if line == 0 {
            return Ok(0);
        }
        let mut tries = 0;
        loop {
            let (index, counted) = self.line_index(&mut tries).await?;
            if line > index.lfs {
                return Err(VbufError::NoSuchLine { line, lines: index.lfs + 1 }.into());
            }
            // The stretch that holds the `line`-th line feed: the last checkpoint with fewer before it.
            let stretch = index.before.partition_point(|&lfs| lfs < line) - 1;
            let start = stretch as u64 * LINE_CHECKPOINT;
            let end = (start + LINE_CHECKPOINT).min(self.counted_len(&counted));
            // None: what the index counted moved on while the stretch loaded; try again (with a scan,
            // which counts).
            if let Some(lf) = self.nth_lf(&counted, start, end, line - index.before[stretch] - 1).await? {
                return lf
                    .map(|lf| lf + 1)
                    .ok_or(VbufError::NoSuchLine { line, lines: index.lfs + 1 }.into());
            }
        }
    }

    /// The offset of line feed `nth` (0-based) in `start..end` of what `counted` reads (`None` when
    /// it moved on), if there is one: read a little first, then more at a time (what a line query
    /// seeks is as often near the start as anywhere, and a read of content that many edits cut into
    /// pieces costs by the piece).
    async fn nth_lf(
        &self,
        counted: &Counted,
        start: u64,
        end: u64,
        mut nth: u64,
    ) -> Result<Option<Option<u64>>, StoredError> {
        let (mut at, mut step) = (start, 4 << 10);
        while at < end {
            let stop = (at + step).min(end);
            let Some(bytes) = self.read_counted(counted, at, stop).await? else { return Ok(None) };
            let lfs = memchr::memchr_iter(b'\n', &bytes).count() as u64;
            if nth < lfs {
                let lf = memchr::memchr_iter(b'\n', &bytes).nth(nth as usize).map(|i| at + i as u64);
                return Ok(Some(lf));
            }
            nth -= lfs;
            (at, step) = (stop, step * 4);
        }
        Ok(Some(None))
    }

    /// The line (0-based) that holds `offset` (at most the length).
    ///
    /// ```no_run
    /// # async fn demo() -> Result<(), omnibuf::vbuf::StoredError> {
    /// use omnibuf::vbuf::StoredBuffer;
    ///
    /// let doc = StoredBuffer::from_bytes(b"ab\ncd".to_vec(), Default::default())?;
    /// assert_eq!(doc.offset_to_line(4).await?, 1);
    /// assert!(doc.offset_to_line(6).await.is_err());
    /// # Ok(()) }
    /// ```
    pub async fn offset_to_line(&self, offset: u64) -> Result<u64, StoredError> {
        let len = self.buffer.len();
        if offset > len {
            return Err(VbufError::OutOfRange { start: offset, end: offset, len }.into());
        }
        let mut tries = 0;
        loop {
            let (index, counted) = self.line_index(&mut tries).await?;
            // An edit made meanwhile may have cut the content short of `offset`.
            let len = self.counted_len(&counted);
            if offset > len {
                return Err(VbufError::OutOfRange { start: offset, end: offset, len }.into());
            }
            let stretch = (offset / LINE_CHECKPOINT).min(index.before.len() as u64 - 1);
            let start = stretch * LINE_CHECKPOINT;
            // None: what the index counted moved on while the stretch loaded; try again (with a scan,
            // which counts).
            if let Some(bytes) = self.read_counted(&counted, start.min(offset), offset).await? {
                return Ok(index.before[stretch as usize] + memchr::memchr_iter(b'\n', &bytes).count() as u64);
            }
        }
    }

    /// Saves to the document it was opened from: the blocks that changed are written, whole blocks
    /// that did not are kept, and the new version is committed in one transaction. Refuses, changing
    /// nothing, if the stored document changed since it was opened or last saved, unless `force`.
    /// The blocks the save replaced are deleted with it, but for those a buffer of the origin may
    /// still read (one that reads an older version: this buffer's undo history, another open
    /// buffer), which a later save or open deletes once none does. A save (or
    /// [`save_as`](Self::save_as)) called while another of this buffer runs waits for it to end, and
    /// then saves the content as it is when it starts.
    ///
    /// ```no_run
    /// # async fn demo() -> Result<(), omnibuf::vbuf::StoredError> {
    /// use omnibuf::vbuf::{ImportSource, StoredBuffer, StoredError};
    ///
    /// StoredBuffer::import("doc", ImportSource::Bytes(b"v1"), 4096).await?;
    /// let doc = StoredBuffer::open("doc", Default::default()).await?;
    /// doc.buffer().replace(1.., b"2")?;
    /// StoredBuffer::import("doc", ImportSource::Bytes(b"other"), 4096).await?; // changed meanwhile
    /// assert!(doc.save(false).await.is_err()); // refused, nothing changed...
    /// doc.save(true).await?; // ...unless forced
    /// let unsaved = StoredBuffer::from_bytes(Vec::new(), Default::default())?;
    /// assert!(matches!(unsaved.save(false).await, Err(StoredError::NoDocument)));
    /// # Ok(()) }
    /// ```
    pub async fn save(&self, force: bool) -> Result<(), StoredError> {
        self.save_to(None, force, CommitFault::None).await
    }

    /// Saves to document `name` (replacing one of that name); later saves go there. Like a forced
    /// [`save`](Self::save), it does not refuse a document changed underneath.
    ///
    /// ```no_run
    /// # async fn demo() -> Result<(), omnibuf::vbuf::StoredError> {
    /// use omnibuf::vbuf::StoredBuffer;
    ///
    /// let doc = StoredBuffer::from_bytes(b"new document".to_vec(), Default::default())?;
    /// doc.save_as("new.txt").await?;
    /// assert_eq!(StoredBuffer::open("new.txt", Default::default()).await?.buffer().len(), 12);
    /// # Ok(()) }
    /// ```
    pub async fn save_as(&self, name: &str) -> Result<(), StoredError> {
        self.save_to(Some(name), true, CommitFault::None).await
    }

    /// [`save`](Self::save) with a fault injected into the commit, for tests of atomicity (the
    /// `testing` feature).
    ///
    /// ```no_run
    /// # async fn demo() -> Result<(), omnibuf::vbuf::StoredError> {
    /// use omnibuf::testing::indexed_db::{self, CommitFault};
    /// use omnibuf::vbuf::{ImportSource, StoredBuffer};
    ///
    /// StoredBuffer::import("a.txt", ImportSource::Bytes(b"old"), 64 << 10).await?;
    /// let doc = StoredBuffer::open("a.txt", Default::default()).await?;
    /// let generation = |meta: Option<indexed_db::DocumentMeta>| meta.expect("stored").generation;
    /// let before = generation(indexed_db::read_meta("a.txt").await?);
    /// doc.buffer().replace(0..3, b"new")?;
    /// assert!(doc.save_with_fault(CommitFault::AbortBeforeCommit).await.is_err());
    /// assert_eq!(generation(indexed_db::read_meta("a.txt").await?), before); // nothing committed
    /// # Ok(()) }
    /// ```
    #[cfg(feature = "testing")]
    pub async fn save_with_fault(&self, fault: CommitFault) -> Result<(), StoredError> {
        self.save_to(None, false, fault).await
    }

    /// Saves to document `name`, or without one to the document the saves before it left.
    async fn save_to(&self, name: Option<&str>, force: bool, fault: CommitFault) -> Result<(), StoredError> {
        let _turn = self.save_turns.take().await;
        let name = match name {
            Some(name) => name.to_string(),
            None => self.name().ok_or(StoredError::NoDocument)?,
        };
        let name = name.as_str();
        // Held from reading the record to the commit: the record read stays the stored one, and the
        // ids past its next id are this save's.
        let lock = DocumentLock::acquire(name).await;
        // The version this save replaces: the stored one, whatever this buffer last saw.
        let current = indexed_db::read_record(&lock).await?;
        let own = self.state.borrow().meta.clone().filter(|m| m.name == name);
        if let Some(own) = own.as_ref().filter(|_| !force) {
            if !current.as_ref().is_some_and(|current| current.same_version(own)) {
                return Err(StoreError::Changed { name: name.to_string() }.into());
            }
        }
        // Checked again in the commit, against writers of contexts without Web Locks.
        let expected = Some(current.as_ref().map(|m| m.generation));

        let (snapshot, base) = self.buffer.save_start();
        let pieces = snapshot.tree.pieces_in(0, snapshot.len());
        // Pieces of other sources are written as inserts: they must be readable now.
        let others: Vec<Piece> = pieces.iter().copied().filter(|p| p.source != base).collect();
        let pinned = self.load_pieces(&others).await?;
        let steps: Vec<SavePiece> =
            recipe(&snapshot, &self.buffer.inner.store, base).collect::<Result<_, _>>()?;
        drop(pinned); // the recipe holds what it took of them

        let block_size = current.as_ref().map_or(self.options.block_size, |m| m.block_size as usize);
        let first_id = current.as_ref().map_or(0, |m| m.next_id);
        let mut writer = BlockWriter::new(block_size, first_id);
        let base_source = self.stored_source(base);
        // Whole blocks are kept by id only within the same document (a document deleted and created
        // again under its name starts its ids again: another lineage), and only those the store still
        // holds: the stored version's and its garbage (not yet collected: that takes the lock). A
        // forced save over a version saved elsewhere may have blocks of its own base that are gone.
        let same_document =
            matches!((&own, &current), (Some(own), Some(current)) if own.lineage == current.lineage);
        let reusable: HashSet<u64> = match (&current, &base_source) {
            (Some(current), Some(source)) if same_document && source.name == name => {
                current.table.ids().iter().copied().chain(current.garbage.iter().map(|g| g.id)).collect()
            }
            _ => HashSet::new(),
        };
        let base_layer = source_layer(&snapshot, base);
        let written: Result<(), StoredError> = async {
            for step in &steps {
                match step {
                    SavePiece::Insert(bytes) => writer.append(bytes),
                    SavePiece::Copy { offset, len } => match &base_source {
                        Some(source) => {
                            self.copy_blocks(source, *offset, *len, &reusable, &lock, &mut writer).await?
                        }
                        None => copy_from_memory(&*base_layer, *offset, *len, &mut writer)?,
                    },
                }
                if writer.written_bytes() >= WRITE_BATCH {
                    indexed_db::write_blocks(&lock, &writer.take_writes()).await?;
                }
            }
            Ok(())
        }
        .await;
        if let Err(e) = written {
            return Err(discard_failed(&lock, first_id..writer.next_id(), e).await);
        }
        let (table, writes, next_id) = writer.finish();
        let meta = next_version(name, current.as_ref(), table, block_size as u32, next_id);
        if let Err(e) = indexed_db::commit(&lock, &meta, &writes, expected, fault).await {
            return Err(discard_failed(&lock, first_id..next_id, e.into()).await);
        }
        // Marked while the lock still keeps garbage collections out.
        let in_use = VersionInUse::mark(name, meta.generation).await;

        // The new version becomes the base of later saves; the blocks just written stay loaded.
        let layer = Arc::new(BlockLayer::new(meta.table.clone(), self.options.cache_budget));
        let index_of: HashMap<u64, usize> =
            meta.table.ids().iter().enumerate().map(|(i, &id)| (id, i)).collect();
        for (id, bytes) in writes {
            layer.insert_loaded(index_of[&id], bytes)?;
        }
        layer.make_room(0);
        if let Some(old) = &base_source {
            old.layer.unload();
        }
        let has_garbage = !meta.garbage.is_empty();
        {
            let mut state = self.state.borrow_mut();
            state.saves += 1;
            let released = self.buffer.adopt_saved(snapshot, layer.clone());
            state.sources.push(Some(StoredSource {
                name: name.to_string(),
                layer,
                _in_use: Rc::new(in_use),
            }));
            // Versions nothing reads any more lose their marks: their garbage can go.
            for id in released {
                state.sources[id as usize - 1] = None;
            }
            state.meta = Some(meta);
        }
        // The blocks this save replaced go now, but for those a version still in use may read (this
        // buffer's undo history, other buffers): else a buffer kept open and saved often would fill
        // the storage until the document is next opened. What stays waits for a later save or open;
        // a failure here is left to those too, the save being done. A save that replaced nothing
        // (the first of a document, one that kept every block) has nothing to collect.
        if has_garbage {
            let _ = indexed_db::collect_garbage(&lock).await;
        }
        Ok(())
    }

    /// Appends a copy of `offset..offset + len` of a stored version to `writer`, which writes the
    /// document of `lock`: blocks it covers whole are kept by id when their id is `reusable`, the rest
    /// is loaded (a batch of blocks per transaction) and written again.
    async fn copy_blocks(
        &self,
        source: &StoredSource,
        offset: u64,
        len: u64,
        reusable: &HashSet<u64>,
        lock: &DocumentLock,
        writer: &mut BlockWriter,
    ) -> Result<(), StoredError> {
        let table = source.layer.table();
        let spans: Vec<BlockSpan> = table
            .spans(offset, len)
            .map(|span| match span {
                BlockSpan::Whole(index) if !reusable.contains(&table.ids()[index]) => {
                    BlockSpan::Part { index, from: 0, to: table.lens()[index] }
                }
                other => other,
            })
            .collect();
        for batch in spans.chunks(LOAD_BATCH) {
            let needed: Vec<usize> = batch
                .iter()
                .filter_map(|s| match s {
                    BlockSpan::Part { index, .. } => Some(*index),
                    BlockSpan::Whole(_) => None,
                })
                .collect();
            let missing = source.layer.unloaded(needed.iter().copied());
            let _pinned = source.layer.pin(needed);
            indexed_db::load_blocks(&source.name, &source.layer, &missing).await?;
            for span in batch {
                match *span {
                    BlockSpan::Whole(index) => writer.reuse(table.ids()[index], table.lens()[index]),
                    BlockSpan::Part { index, from, to } => {
                        let block = source.layer.loaded_block(index).ok_or(PersistenceError::NotLoaded {
                            offset: table.block_start(index) + u64::from(from),
                            len: u64::from(to - from),
                        })?;
                        writer.append(&block[from as usize..to as usize]);
                    }
                }
            }
            if writer.written_bytes() >= WRITE_BATCH {
                indexed_db::write_blocks(lock, &writer.take_writes()).await?;
            }
        }
        Ok(())
    }

    /// Every stored document's name and length.
    ///
    /// ```no_run
    /// # async fn demo() -> Result<(), omnibuf::vbuf::StoredError> {
    /// use omnibuf::vbuf::{ImportSource, StoredBuffer};
    ///
    /// StoredBuffer::import("listed.txt", ImportSource::Bytes(b"1234"), 4096).await?;
    /// assert!(StoredBuffer::list().await?.contains(&("listed.txt".to_string(), 4)));
    /// # Ok(()) }
    /// ```
    pub async fn list() -> Result<Vec<(String, u64)>, StoredError> {
        Ok(indexed_db::list().await?)
    }

    /// Deletes document `name` and its blocks, waiting for a writer of it elsewhere. A buffer (here or
    /// in another tab) that still reads it reads on: the blocks it may read stay, out of sight of
    /// [`open`](Self::open) and [`list`](Self::list), until it goes.
    ///
    /// ```no_run
    /// # async fn demo() -> Result<(), omnibuf::vbuf::StoredError> {
    /// use omnibuf::vbuf::{ImportSource, StoredBuffer};
    ///
    /// StoredBuffer::import("old.txt", ImportSource::Bytes(b"x"), 4096).await?;
    /// StoredBuffer::delete("old.txt").await?;
    /// assert!(StoredBuffer::open("old.txt", Default::default()).await.is_err());
    /// # Ok(()) }
    /// ```
    pub async fn delete(name: &str) -> Result<(), StoredError> {
        Ok(indexed_db::delete_document(&DocumentLock::acquire(name).await).await?)
    }

    /// Document `name` as a `Blob` (for a download), read a batch of blocks at a time.
    ///
    /// ```no_run
    /// # async fn demo() -> Result<(), omnibuf::vbuf::StoredError> {
    /// use omnibuf::vbuf::{ImportSource, StoredBuffer};
    ///
    /// StoredBuffer::import("report.csv", ImportSource::Bytes(b"a,b\n1,2\n"), 4096).await?;
    /// let blob = StoredBuffer::export("report.csv").await?; // e.g. for a download link
    /// assert_eq!(blob.size(), 8.0);
    /// # Ok(()) }
    /// ```
    pub async fn export(name: &str) -> Result<web_sys::Blob, StoredError> {
        let meta = indexed_db::read_meta(name).await?.ok_or_else(|| StoreError::NotFound(name.into()))?;
        let parts = js_sys::Array::new();
        for ids in meta.table.ids().chunks(LOAD_BATCH) {
            for block in indexed_db::read_blocks(name, ids.iter().copied()).await? {
                parts.push(&js_sys::Uint8Array::from(&block[..]));
            }
        }
        web_sys::Blob::new_with_u8_array_sequence(&parts)
            .map_err(|e| StoreError::Failed(format!("making a Blob: {e:?}")).into())
    }
}

/// Deletes the blocks `ids` that a save or import of `name` wrote before it failed with `error`, and
/// returns `error`. Best effort: if the deletion fails too, the blocks stay until the document's next
/// open or save collects them (they lie at or past its next id) or it is deleted; the first error is
/// the one to report.
async fn discard_failed(lock: &DocumentLock, ids: std::ops::Range<u64>, error: StoredError) -> StoredError {
    let _ = indexed_db::discard_uncommitted(lock, ids).await;
    error
}

/// The start of `range` and its end, `None` for none (the end of the content, whatever it is by
/// the time it is read). A bound one past u64::MAX saturates to u64::MAX, past any stored document
/// (whose length a JS number gives), so it is still refused as out of range.
fn bounds(range: &impl RangeBounds<u64>) -> (u64, Option<u64>) {
    let start = match range.start_bound() {
        Bound::Included(&s) => s,
        Bound::Excluded(&s) => s.saturating_add(1),
        Bound::Unbounded => 0,
    };
    let end = match range.end_bound() {
        Bound::Included(&e) => Some(e.saturating_add(1)),
        Bound::Excluded(&e) => Some(e),
        Bound::Unbounded => None,
    };
    (start, end)
}

/// What [`bounds`] gave, as a range again.
fn with_bounds(start: u64, end: Option<u64>) -> (Bound<u64>, Bound<u64>) {
    (Bound::Included(start), end.map_or(Bound::Unbounded, Bound::Excluded))
}

/// The layer of source `id` in a snapshot.
fn source_layer(snapshot: &Snapshot, id: SourceId) -> Arc<dyn PersistenceLayer> {
    super::store::source(&snapshot.sources, id).layer.clone()
}

/// Appends a copy from a layer in memory, a MiB at a time.
fn copy_from_memory(
    layer: &dyn PersistenceLayer,
    offset: u64,
    len: u64,
    writer: &mut BlockWriter,
) -> Result<(), StoredError> {
    let mut done = 0;
    while done < len {
        let n = (len - done).min(1 << 20) as usize;
        writer.append(&layer.read_buffer(offset + done, n)?);
        done += n as u64;
    }
    Ok(())
}

/// The record of the version after `current` (or of a new document).
fn next_version(
    name: &str,
    current: Option<&DocumentMeta>,
    table: BlockTable,
    block_size: u32,
    next_id: u64,
) -> DocumentMeta {
    let generation = current.map_or(1, |m| m.generation + 1);
    // A document created (again, over a tombstone) draws a lineage of its own.
    let lineage = current.filter(|m| !m.deleted).map_or_else(indexed_db::new_lineage, |m| m.lineage);
    // The blocks of `current` and its garbage that the new version does not use (a forced save may
    // use blocks `current` listed as garbage).
    let mut garbage = Vec::new();
    if let Some(current) = current {
        let kept: HashSet<u64> = table.ids().iter().copied().collect();
        let dropped_now = current.table.ids().iter().map(|&id| GarbageBlock { id, dropped_at: generation });
        let mut seen = HashSet::new();
        garbage.extend(
            current
                .garbage
                .iter()
                .copied()
                .chain(dropped_now)
                .filter(|g| !kept.contains(&g.id) && seen.insert(g.id)),
        );
    }
    DocumentMeta {
        name: name.to_string(),
        table,
        block_size,
        next_id,
        generation,
        lineage,
        deleted: false,
        garbage,
    }
}

/// Bytes `start..end` of a Blob.
async fn read_blob(blob: &web_sys::Blob, start: f64, end: f64) -> Result<Vec<u8>, StoreError> {
    let failed = |e: wasm_bindgen::JsValue| StoreError::SourceUnreadable(crate::platform::wasm::describe(&e));
    let part = blob.slice_with_f64_and_f64(start, end).map_err(failed)?;
    let buffer = wasm_bindgen_futures::JsFuture::from(part.array_buffer()).await.map_err(failed)?;
    Ok(js_sys::Uint8Array::new(&buffer).to_vec())
}
