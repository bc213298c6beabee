//! [`VirtualBuffer`]: the handle, its edits, reads, undo and save.

use std::collections::HashSet;
use std::ops::{Bound, RangeBounds};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, OnceLock, Weak};

use super::edit_log::{Edit, EditLog};
use super::error::VbufError;
use super::history::{Change, ContentId, History};
use super::options::{VirtualBufferOptions, VirtualBufferStats};
use super::snapshot::Snapshot;
use super::store::{piece_chunk, source, Source, Sources, Store};
use super::tree::{Piece, SourceId, Tree, ADD_SOURCE};
use crate::platform::persistence::{
    MemoryPersistence, PersistenceError, PersistenceLayer, SaveOptions, SavePiece,
};
use crate::ZeroCopyBuffer;

/// A byte buffer that edits content larger than memory: a file is opened without reading it, edits
/// are recorded in a piece tree, reads load only what they touch through a bounded cache, and save
/// writes the result atomically.
///
/// The handle is cheap to clone and thread-safe: clones share one buffer, and edits made through any
/// clone are seen by all, including live [`ByteIterator`](super::ByteIterator)s, which adjust their
/// position.
///
/// ```
/// use omnibuf::vbuf::VirtualBuffer;
///
/// let buf = VirtualBuffer::from_bytes(b"hello world".to_vec());
/// buf.replace(0..5, b"goodbye").unwrap();
/// buf.insert(buf.len(), b"!").unwrap();
/// assert_eq!(buf.read(..).unwrap(), b"goodbye world!"[..]);
/// assert_eq!(buf.find(b"world", ..).unwrap(), Some(8));
/// assert!(buf.undo());
/// assert_eq!(buf.read(..).unwrap(), b"goodbye world"[..]);
/// ```
#[derive(Clone)]
pub struct VirtualBuffer {
    pub(crate) inner: Arc<Inner>,
}

impl std::fmt::Debug for VirtualBuffer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let state = lock(&self.inner.state);
        f.debug_struct("VirtualBuffer")
            .field("len", &state.tree.len())
            .field("version", &state.log.version())
            .field("modified", &state.is_modified())
            .finish()
    }
}

pub(crate) struct Inner {
    pub(crate) state: Mutex<State>,
    pub(crate) store: Mutex<Store>,
    /// The edit log's version, readable without the lock: iterators compare it on every step.
    pub(crate) version: AtomicU64,
    /// Serialises saves, which run without the state lock.
    pub(crate) save_lock: Mutex<()>,
    /// The content whose pieces' sources all have their line tables (`lines`): its version and its
    /// sources, which a save replaces (the `Weak` keeps their address from being reused). A line
    /// query of that content need not look at its pieces for a source without one.
    pub(crate) tables_ready: Mutex<Option<(u64, Weak<Vec<Source>>)>>,
}

pub(crate) struct State {
    pub(crate) tree: Tree,
    pub(crate) sources: Sources,
    /// The source holding the last saved content; save copies its unchanged runs.
    base: SourceId,
    pub(crate) log: EditLog,
    history: History,
    /// The content last saved (or opened), as the history knows it.
    saved_content: ContentId,
}

impl State {
    fn is_modified(&self) -> bool {
        self.history.content() != self.saved_content
    }

    pub(crate) fn snapshot(&self) -> Snapshot {
        Snapshot {
            tree: self.tree.clone(),
            sources: self.sources.clone(),
            version: self.log.version(),
            content: self.history.content(),
        }
    }

    /// The sources the buffer still reads: the base, and those the tree or the undo and redo stacks
    /// point into (`ADD_SOURCE` among them when they do).
    fn sources_read(&self) -> HashSet<SourceId> {
        let pieces = self.tree.pieces_in(0, self.tree.len());
        pieces.iter().map(|piece| piece.source).chain(self.history.sources()).chain([self.base]).collect()
    }
}

pub(crate) fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    // A panic while holding a lock can only come from a bug (every fallible step returns before it
    // changes anything), so the data is still consistent and there is no reason to poison every
    // other handle.
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// Resolves a range against `len`, or reports it.
pub(crate) fn resolve(range: impl RangeBounds<u64>, len: u64) -> Result<(u64, u64), VbufError> {
    // A bound one past u64::MAX is past any length: reported as u64::MAX.
    let start = match range.start_bound() {
        Bound::Included(&s) => Some(s),
        Bound::Excluded(&s) => s.checked_add(1),
        Bound::Unbounded => Some(0),
    };
    let end = match range.end_bound() {
        Bound::Included(&e) => e.checked_add(1),
        Bound::Excluded(&e) => Some(e),
        Bound::Unbounded => Some(len),
    };
    match (start, end) {
        (Some(start), Some(end)) if start <= end && end <= len => Ok((start, end)),
        (start, end) => {
            Err(VbufError::OutOfRange { start: start.unwrap_or(u64::MAX), end: end.unwrap_or(u64::MAX), len })
        }
    }
}

impl VirtualBuffer {
    /// A buffer over bytes in memory.
    ///
    /// ```
    /// use omnibuf::vbuf::VirtualBuffer;
    ///
    /// let buf = VirtualBuffer::from_bytes(b"in memory".to_vec());
    /// assert_eq!(buf.len(), 9);
    /// assert!(!buf.is_modified());
    /// ```
    pub fn from_bytes(bytes: impl Into<Vec<u8>>) -> VirtualBuffer {
        Self::from_bytes_with(bytes, VirtualBufferOptions::default()).expect("memory layers cannot fail")
    }

    /// A buffer over bytes in memory, with options. A memory layer cannot fail, so neither does this;
    /// the `Result` is [`with_layer`](Self::with_layer)'s.
    ///
    /// ```
    /// use omnibuf::vbuf::{VirtualBuffer, VirtualBufferOptions};
    ///
    /// let options = VirtualBufferOptions { undo_limit: 0, ..VirtualBufferOptions::default() };
    /// let buf = VirtualBuffer::from_bytes_with(b"abc".to_vec(), options).unwrap();
    /// buf.insert(3, b"d").unwrap();
    /// assert!(!buf.undo()); // undo is off
    /// ```
    pub fn from_bytes_with(
        bytes: impl Into<Vec<u8>>,
        options: VirtualBufferOptions,
    ) -> Result<VirtualBuffer, VbufError> {
        Self::with_layer(Arc::new(MemoryPersistence::new(bytes)), options)
    }

    /// A buffer over any persistence layer. Only the layer's length is read; when the layer cannot
    /// tell it, this fails with [`VbufError::Persistence`].
    ///
    /// ```
    /// use std::sync::Arc;
    /// use omnibuf::vbuf::{MemoryPersistence, VirtualBuffer, VirtualBufferOptions};
    ///
    /// let layer = Arc::new(MemoryPersistence::new(b"stored bytes".to_vec()));
    /// let buf = VirtualBuffer::with_layer(layer, VirtualBufferOptions::default()).unwrap();
    /// assert_eq!(buf.read(7..).unwrap(), b"bytes"[..]);
    /// ```
    pub fn with_layer(
        layer: Arc<dyn PersistenceLayer>,
        options: VirtualBufferOptions,
    ) -> Result<VirtualBuffer, VbufError> {
        let options = options.checked();
        let len = layer.len()?;
        let sources = Arc::new(vec![Source { layer, len, lines: OnceLock::new() }]);
        let tree = Tree::new(vec![Piece { source: 1, offset: 0, len }], options.tree_fanout);
        let state = State {
            tree,
            sources,
            base: 1,
            log: EditLog::default(),
            history: History::new(options.undo_limit),
            saved_content: 0,
        };
        let store = Store::new(options.block_size, options.cache_budget, options.spill_threshold);
        Ok(VirtualBuffer {
            inner: Arc::new(Inner {
                state: Mutex::new(state),
                store: Mutex::new(store),
                version: AtomicU64::new(0),
                save_lock: Mutex::new(()),
                tables_ready: Mutex::new(None),
            }),
        })
    }

    pub(crate) fn snapshot(&self) -> Snapshot {
        lock(&self.inner.state).snapshot()
    }

    /// Length in bytes.
    ///
    /// ```
    /// use omnibuf::vbuf::VirtualBuffer;
    ///
    /// let buf = VirtualBuffer::from_bytes(b"12345".to_vec());
    /// buf.delete(0..2).unwrap();
    /// assert_eq!(buf.len(), 3);
    /// ```
    pub fn len(&self) -> u64 {
        lock(&self.inner.state).tree.len()
    }

    /// The edit log's version: every edit (undo and redo too) changes it.
    #[cfg_attr(not(target_arch = "wasm32"), allow(dead_code))] // the stored buffer's line index
    pub(crate) fn version(&self) -> u64 {
        self.inner.version.load(Ordering::Acquire)
    }

    /// Whether the buffer is empty.
    ///
    /// ```
    /// use omnibuf::vbuf::VirtualBuffer;
    ///
    /// let buf = VirtualBuffer::from_bytes(b"x".to_vec());
    /// assert!(!buf.is_empty());
    /// buf.delete(..).unwrap();
    /// assert!(buf.is_empty());
    /// ```
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Whether the content is not the one opened or last saved: there are edits since, and undo or
    /// redo has not brought the buffer back to that content. (An edit that happens to restore the
    /// bytes, such as typing again what was deleted, still counts as one.)
    ///
    /// ```
    /// use omnibuf::vbuf::VirtualBuffer;
    ///
    /// let buf = VirtualBuffer::from_bytes(b"text".to_vec());
    /// buf.insert(0, b"new ").unwrap();
    /// assert!(buf.is_modified());
    /// buf.save().unwrap();
    /// assert!(!buf.is_modified());
    /// buf.undo();
    /// assert!(buf.is_modified()); // "text", not the saved "new text"
    /// buf.redo();
    /// assert!(!buf.is_modified()); // back at the saved content
    /// ```
    pub fn is_modified(&self) -> bool {
        lock(&self.inner.state).is_modified()
    }

    /// Inserts `bytes` at `offset` (at most the length).
    ///
    /// Fails with [`VbufError::OutOfRange`] past the length, with [`VbufError::TooLong`] when the
    /// length would pass `u64::MAX`, and with [`VbufError::SideFile`] when
    /// the inserted bytes had to go to the side file (see
    /// [`VirtualBufferOptions::spill_threshold`](crate::vbuf::VirtualBufferOptions::spill_threshold))
    /// and writing it failed. Either way the content is unchanged.
    ///
    /// ```
    /// use omnibuf::vbuf::{VbufError, VirtualBuffer};
    ///
    /// let buf = VirtualBuffer::from_bytes(b"helloworld".to_vec());
    /// buf.insert(5, b", ").unwrap();
    /// assert_eq!(buf.read(..).unwrap(), b"hello, world"[..]);
    /// assert!(matches!(buf.insert(99, b"!"), Err(VbufError::OutOfRange { .. })));
    /// ```
    pub fn insert(&self, offset: u64, bytes: &[u8]) -> Result<(), VbufError> {
        self.replace(offset..offset, bytes)
    }

    /// Deletes a range. Fails with [`VbufError::OutOfRange`], changing nothing, when the range is
    /// not inside the buffer.
    ///
    /// ```
    /// use omnibuf::vbuf::VirtualBuffer;
    ///
    /// let buf = VirtualBuffer::from_bytes(b"keep-drop-keep".to_vec());
    /// buf.delete(4..9).unwrap();
    /// assert_eq!(buf.read(..).unwrap(), b"keep-keep"[..]);
    /// ```
    pub fn delete(&self, range: impl RangeBounds<u64>) -> Result<(), VbufError> {
        self.replace(range, &[])
    }

    /// Replaces a range by `bytes`, as one undoable edit. Fails as [`insert`](Self::insert) does, with
    /// [`VbufError::OutOfRange`] when the range is not inside the buffer.
    ///
    /// ```
    /// use omnibuf::vbuf::VirtualBuffer;
    ///
    /// let buf = VirtualBuffer::from_bytes(b"color: red".to_vec());
    /// buf.replace(7.., b"blue").unwrap();
    /// assert_eq!(buf.read(..).unwrap(), b"color: blue"[..]);
    /// assert!(buf.undo()); // one edit, undone at once
    /// assert_eq!(buf.read(..).unwrap(), b"color: red"[..]);
    /// ```
    pub fn replace(&self, range: impl RangeBounds<u64>, bytes: &[u8]) -> Result<(), VbufError> {
        let mut state = lock(&self.inner.state);
        let len = state.tree.len();
        let (start, end) = resolve(range, len)?;
        if start == end && bytes.is_empty() {
            return Ok(());
        }
        let kept = len - (end - start);
        let adding = bytes.len() as u64;
        if kept.checked_add(adding).is_none() {
            return Err(VbufError::TooLong { len: kept, adding });
        }
        let inserted =
            if bytes.is_empty() { Vec::new() } else { vec![lock(&self.inner.store).append(bytes)?] };
        let change = Change { offset: start, removed: state.tree.pieces_in(start, end), inserted };
        self.apply(&mut state, &change);
        state.history.record(change);
        Ok(())
    }

    /// Applies a change to the tree and publishes it: the edit log entries and the new version are
    /// written under the same lock as the tree, so nobody sees one without the other.
    fn apply(&self, state: &mut State, change: &Change) {
        let (offset, removed, inserted) = (change.offset, change.removed_len(), change.inserted_len());
        state.tree.splice(offset, offset + removed, &change.inserted);
        if removed > 0 {
            state.log.push(Edit::Delete { offset, len: removed });
        }
        if inserted > 0 {
            state.log.push(Edit::Insert { offset, len: inserted });
        }
        self.inner.version.store(state.log.version(), Ordering::Release);
    }

    /// Undoes the last edit; `false` when there is nothing to undo.
    ///
    /// ```
    /// use omnibuf::vbuf::VirtualBuffer;
    ///
    /// let buf = VirtualBuffer::from_bytes(b"a".to_vec());
    /// buf.insert(1, b"b").unwrap();
    /// assert!(buf.undo());
    /// assert_eq!(buf.read(..).unwrap(), b"a"[..]);
    /// assert!(!buf.undo()); // nothing left to undo
    /// ```
    pub fn undo(&self) -> bool {
        let mut state = lock(&self.inner.state);
        let Some(change) = state.history.undo() else { return false };
        self.apply(&mut state, &change);
        true
    }

    /// Redoes the last undone edit; `false` when there is nothing to redo.
    ///
    /// ```
    /// use omnibuf::vbuf::VirtualBuffer;
    ///
    /// let buf = VirtualBuffer::from_bytes(b"a".to_vec());
    /// buf.insert(1, b"b").unwrap();
    /// buf.undo();
    /// assert!(buf.redo());
    /// assert_eq!(buf.read(..).unwrap(), b"ab"[..]);
    /// assert!(!buf.redo());
    /// ```
    pub fn redo(&self) -> bool {
        let mut state = lock(&self.inner.state);
        let Some(change) = state.history.redo() else { return false };
        self.apply(&mut state, &change);
        true
    }

    /// Reads a range: a zero-copy view when it lies in one chunk, else a copy.
    ///
    /// Fails with [`VbufError::OutOfRange`] when the range is not inside the buffer, and with
    /// [`VbufError::Persistence`] when the layer's read fails (a file truncated underneath gives
    /// [`PersistenceError::ShortRead`](crate::vbuf::PersistenceError::ShortRead)), with
    /// [`VbufError::SideFile`] when inserted bytes cannot be read back from the side file, and with
    /// [`VbufError::AllocationFailed`] when a range that spans chunks is too large to copy.
    ///
    /// ```
    /// use omnibuf::vbuf::VirtualBuffer;
    ///
    /// let buf = VirtualBuffer::from_bytes(b"0123456789".to_vec());
    /// buf.insert(5, b"-").unwrap();
    /// assert_eq!(buf.read(3..8).unwrap(), b"34-56"[..]); // across two pieces: a copy
    /// assert_eq!(buf.read(..3).unwrap(), b"012"[..]); // inside one: a view
    /// assert!(buf.read(5..20).is_err());
    /// ```
    pub fn read(&self, range: impl RangeBounds<u64>) -> Result<ZeroCopyBuffer, VbufError> {
        let snapshot = self.snapshot();
        let (start, end) = resolve(range, snapshot.len())?;
        snapshot.read(&self.inner.store, start, end)
    }

    /// Fills `dst` with the bytes at `offset..offset + dst.len()`. Fails as [`read`](Self::read)
    /// does; on an error `dst` may hold part of the bytes.
    ///
    /// ```
    /// use omnibuf::vbuf::VirtualBuffer;
    ///
    /// let buf = VirtualBuffer::from_bytes(b"header:payload".to_vec());
    /// let mut dst = [0u8; 7];
    /// buf.read_into(7, &mut dst).unwrap();
    /// assert_eq!(&dst, b"payload");
    /// assert!(buf.read_into(10, &mut dst).is_err()); // past the end
    /// ```
    pub fn read_into(&self, offset: u64, dst: &mut [u8]) -> Result<(), VbufError> {
        let snapshot = self.snapshot();
        // An end past u64::MAX is reported as u64::MAX, as resolve() reports it.
        let Some(end) = offset.checked_add(dst.len() as u64) else {
            return Err(VbufError::OutOfRange { start: offset, end: u64::MAX, len: snapshot.len() });
        };
        let (start, _) = resolve(offset..end, snapshot.len())?;
        snapshot.read_into(&self.inner.store, start, dst)
    }

    /// Checks whether the stored content changed underneath since it was opened or saved (another
    /// program wrote, replaced or truncated the file): `Err(Persistence(ExternallyChanged))` if so.
    ///
    /// ```
    /// use omnibuf::vbuf::{PersistenceError, VbufError, VirtualBuffer};
    /// # let dir = tempfile::tempdir()?;
    /// let path = dir.path().join("shared.txt");
    /// std::fs::write(&path, b"original")?;
    /// let buf = VirtualBuffer::open(&path)?;
    /// buf.check_for_external_changes()?;
    /// std::fs::write(&path, b"rewritten by another program")?;
    /// let err = buf.check_for_external_changes().unwrap_err();
    /// assert!(matches!(err, VbufError::Persistence(PersistenceError::ExternallyChanged { .. })));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn check_for_external_changes(&self) -> Result<(), VbufError> {
        let layer = {
            let state = lock(&self.inner.state);
            source(&state.sources, state.base).layer.clone()
        };
        Ok(layer.check_unchanged()?)
    }

    /// Saves the content to the persistence layer it came from, atomically (see
    /// [`PersistenceLayer::save`]); refuses if the stored content changed underneath.
    ///
    /// ```
    /// use omnibuf::vbuf::VirtualBuffer;
    /// # let dir = tempfile::tempdir()?;
    /// let path = dir.path().join("todo.txt");
    /// std::fs::write(&path, b"- write docs\n")?;
    /// let buf = VirtualBuffer::open(&path)?;
    /// buf.insert(buf.len(), b"- test them\n")?;
    /// buf.save()?;
    /// assert_eq!(std::fs::read(&path)?, b"- write docs\n- test them\n");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn save(&self) -> Result<(), VbufError> {
        self.save_with(SaveOptions::default())
    }

    /// Saves with options, e.g. `force` to overwrite a file changed underneath. Forcing writes over
    /// a file another program replaced (as editors save: a new file renamed over the path), whose
    /// old content this buffer still reads. It cannot copy from one changed in place (its size or
    /// modification time moved while it kept its inode; a mere `touch` looks the same): the bytes
    /// this buffer had not loaded may be gone, so a save that needs any of them fails, changing
    /// nothing, with [`PersistenceError::RewrittenInPlace`](crate::vbuf::PersistenceError). A change
    /// is seen by the file's identity, size and modification time, so only as finely as the file
    /// system keeps times: a rewrite in place that keeps the size within one tick of its clock
    /// (ramfs; ext4 before Linux 6.13; many network file systems) goes unseen.
    ///
    /// Edits may go on while the save runs; the saved content is the one at the start of the save. A
    /// failed save changes nothing: the stored content and the buffer's edits are intact. One error
    /// comes after the change: a file replaced whose directory could not then be synced (a failing
    /// disk; the message says so). The new content is in place but may not survive a power loss, and
    /// the buffer, which still counts the old file as its base, refuses its next save as a change
    /// underneath unless forced.
    ///
    /// ```
    /// use omnibuf::vbuf::{SaveOptions, VirtualBuffer};
    /// # let dir = tempfile::tempdir()?;
    /// let path = dir.path().join("config");
    /// std::fs::write(&path, b"a=1")?;
    /// let buf = VirtualBuffer::open(&path)?;
    /// buf.replace(2.., b"2")?;
    /// std::fs::write(dir.path().join("new"), b"a=100")?;
    /// std::fs::rename(dir.path().join("new"), &path)?; // replaced underneath
    /// assert!(buf.save().is_err()); // refused...
    /// buf.save_with(SaveOptions { force: true })?; // ...unless forced
    /// assert_eq!(std::fs::read(&path)?, b"a=2");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn save_with(&self, options: SaveOptions) -> Result<(), VbufError> {
        let _one_save_at_a_time = lock(&self.inner.save_lock);
        let (snapshot, base) = self.save_start();
        let base_layer = source(&snapshot.sources, base).layer.clone();
        // A change underneath that `force` would not get past either (a file rewritten in place that
        // this save copies from) says so now, rather than as a change that `force` overwrites.
        if !options.force && base_layer.check_unchanged().is_err() && copies_from(&snapshot, base) {
            base_layer.check_intact()?;
        }
        let new_layer: Arc<dyn PersistenceLayer> = {
            let mut recipe = recipe(&snapshot, &self.inner.store, base);
            Arc::from(base_layer.save(&mut recipe, options)?)
        };
        self.adopt_saved(snapshot, new_layer);
        Ok(())
    }

    /// The snapshot a save writes, and the source its unchanged runs are copied from.
    pub(crate) fn save_start(&self) -> (Snapshot, SourceId) {
        let state = lock(&self.inner.state);
        (state.snapshot(), state.base)
    }

    /// Makes `layer`, which holds the content of `snapshot`, the base of later saves. If nothing was
    /// edited meanwhile, the tree becomes one piece over it, so the next save copies it whole.
    ///
    /// Then lets go of the sources that neither the tree nor the undo and redo stacks read any more
    /// (snapshots and iterators keep their own): an earlier version's file handle (and the disk
    /// space of a replaced file) or stored version goes as soon as nothing can reach it. Returns the
    /// ids let go.
    ///
    /// Cannot fail: the save is done by now, and a failure here would report it failed.
    pub(crate) fn adopt_saved(&self, snapshot: Snapshot, layer: Arc<dyn PersistenceLayer>) -> Vec<SourceId> {
        let len = snapshot.len();
        let mut state = lock(&self.inner.state);
        let mut sources: Vec<Source> = state.sources.to_vec();
        sources.push(Source { layer, len, lines: OnceLock::new() });
        let id = sources.len() as SourceId;
        state.base = id;
        // The content saved is the snapshot's, whatever was edited meanwhile: undo back to it, and
        // the buffer is unmodified again.
        state.saved_content = snapshot.content;
        if state.log.version() == snapshot.version {
            state.tree = Tree::new(vec![Piece { source: id, offset: 0, len }], state.tree.max());
        }
        let read = state.sources_read();
        let mut released = Vec::new();
        for (index, source) in sources.iter_mut().enumerate() {
            let source_id = index as SourceId + 1;
            if !read.contains(&source_id) && !source.is_released() {
                *source = Source::released();
                released.push(source_id);
            }
        }
        state.sources = Arc::new(sources);
        drop(state);
        let mut store = lock(&self.inner.store);
        for &source in &released {
            store.cache.forget_source(source);
        }
        released
    }

    /// Counters of what the buffer holds.
    ///
    /// ```
    /// use omnibuf::vbuf::VirtualBuffer;
    ///
    /// let buf = VirtualBuffer::from_bytes(b"abc".to_vec());
    /// buf.insert(3, b"def").unwrap();
    /// buf.undo();
    /// let stats = buf.stats();
    /// assert_eq!((stats.len, stats.undo_len, stats.redo_len), (3, 0, 1));
    /// ```
    pub fn stats(&self) -> VirtualBufferStats {
        let state = lock(&self.inner.state);
        let store = lock(&self.inner.store);
        VirtualBufferStats {
            len: state.tree.len(),
            pieces: state.tree.piece_count(),
            cached_bytes: store.cache.clean_bytes(),
            unsaved_in_memory_bytes: store.cache.dirty_bytes() + store.tail_len(),
            spilled_bytes: store.spilled_bytes,
            inserted_bytes: store.add_len(),
            edit_log_len: state.log.len(),
            live_iterators: state.log.readers(),
            undo_len: state.history.undo_len(),
            redo_len: state.history.redo_len(),
            versions_held: state.sources.iter().filter(|s| !s.is_released()).count(),
            cache_hits: store.cache.counters.hits,
            cache_misses: store.cache.counters.misses,
            cache_evictions: store.cache.counters.evictions,
        }
    }

    /// Checks the piece tree's invariants, and that no piece of the content or the undo history points
    /// into a version a save let go of; panics on a violation. A test aid (the `testing` feature):
    /// the model tests and the fuzz target call it after every operation.
    ///
    /// ```
    /// use omnibuf::vbuf::VirtualBuffer;
    ///
    /// let buf = VirtualBuffer::from_bytes(b"hello".to_vec());
    /// buf.insert(5, b" world").unwrap();
    /// buf.check_invariants();
    /// ```
    #[cfg(feature = "testing")]
    pub fn check_invariants(&self) {
        let state = lock(&self.inner.state);
        state.tree.check_invariants();
        assert_eq!(self.inner.version.load(Ordering::Relaxed), state.log.version());
        // No piece of the content or the undo history points into a version a save let go of.
        for id in state.sources_read() {
            assert!(
                id == super::tree::ADD_SOURCE || !source(&state.sources, id).is_released(),
                "source {id} was let go"
            );
        }
    }
}

/// Whether a save of `snapshot` copies any of its bytes from `base`.
fn copies_from(snapshot: &Snapshot, base: SourceId) -> bool {
    snapshot.tree.pieces_in(0, snapshot.len()).iter().any(|piece| piece.source == base && piece.len > 0)
}

/// The save recipe of a snapshot: runs of the base source are copied, everything else is read and
/// inserted. Adjacent copies are merged so that an unedited stretch is one copy however many pieces
/// it spans.
///
/// The base source is checked by the layer that copies from it. Each other source that pieces are
/// read from (an older version, through undo across a save) is checked too
/// ([`PersistenceLayer::check_intact`]): before its first piece is read, and again once every piece
/// is, so that a source rewritten in place meanwhile ends the recipe with an error instead of
/// giving bytes the buffer never held.
pub(crate) fn recipe<'a>(
    snapshot: &'a Snapshot,
    store: &'a Mutex<Store>,
    base: SourceId,
) -> impl Iterator<Item = Result<SavePiece, PersistenceError>> + 'a {
    let pieces = snapshot.tree.pieces_in(0, snapshot.len());
    let mut pieces = pieces.into_iter().peekable();
    let mut pending: Option<(Piece, u64)> = None; // a piece being inserted, and how far
    let mut read_from: Vec<SourceId> = Vec::new(); // the other sources read, checked
    let mut ended = false;
    let check = |id: SourceId| source(&snapshot.sources, id).layer.check_intact();
    std::iter::from_fn(move || {
        if let Some((piece, done)) = pending.take() {
            return Some(read_insert(store, snapshot, piece, done, &mut pending));
        }
        let Some(piece) = pieces.next() else {
            if std::mem::replace(&mut ended, true) {
                return None;
            }
            return read_from.iter().find_map(|&id| check(id).err()).map(Err);
        };
        if piece.source != base && piece.source != ADD_SOURCE && !read_from.contains(&piece.source) {
            read_from.push(piece.source);
            if let Err(e) = check(piece.source) {
                return Some(Err(e));
            }
        }
        if piece.source == base {
            let mut copy = piece;
            while let Some(next) =
                pieces.peek().filter(|n| n.source == base && n.offset == copy.offset + copy.len)
            {
                copy.len += next.len;
                pieces.next();
            }
            return Some(Ok(SavePiece::Copy { offset: copy.offset, len: copy.len }));
        }
        Some(read_insert(store, snapshot, piece, 0, &mut pending))
    })
}

/// One chunk of an inserted piece, from `done`; leaves the rest in `pending`.
fn read_insert(
    store: &Mutex<Store>,
    snapshot: &Snapshot,
    piece: Piece,
    done: u64,
    pending: &mut Option<(Piece, u64)>,
) -> Result<SavePiece, PersistenceError> {
    let (chunk, start) = piece_chunk(store, &snapshot.sources, piece, done).map_err(|e| match e {
        VbufError::Persistence(p) => p,
        VbufError::SideFile(io) => PersistenceError::Io(io),
        other => PersistenceError::Io(std::io::Error::other(other.to_string())),
    })?;
    let end = start + chunk.len() as u64;
    debug_assert_eq!(start, done);
    if end < piece.len {
        *pending = Some((piece, end));
    }
    Ok(SavePiece::Insert(chunk))
}
