//! Persistence layers: where a virtual buffer's original bytes come from and where save writes them.
//!
//! A virtual buffer never holds its whole file in memory. It asks its persistence layer for the length,
//! for positional reads of the regions it needs, and, on save, to replace the stored content with a
//! *recipe*: runs copied from the old content and inserted bytes ([`SavePiece`]). Keeping this behind a
//! trait lets the piece tree, cache and iterators run unchanged over a memory-mapped file, a
//! positional-read file, IndexedDB, or (in tests and Miri) the in-memory backend.
//!
//! Built here:
//!
//! - [`MemoryPersistence`] (every target): bytes in memory; the reference backend in tests.
//! - `FilePersistence` (Unix and Windows): a file read through positional reads
//!   (`FileBackend::Positional`, the default, which no other program can break) or through one
//!   shared memory map (`FileBackend::Mapped`, zero-copy, chosen with the `unsafe`
//!   `FileBackend::mapped` because a file truncated or rewritten underneath breaks it). It records the
//!   file's size, modification time and inode at open, so [`check_unchanged`] notices changes made by
//!   other programs, and it saves atomically: the recipe goes to a new file in the same directory, which
//!   is synced, given the original's permissions and renamed over the original. `save_recipe_as`
//!   does the same for a recipe read from any layer into any path.
//! - `FaultyPersistence` (every target, with the `testing` feature): wraps any layer and injects short
//!   reads, I/O errors, failing saves and external changes on the calls a `FaultPlan` chooses; a test
//!   aid, public as `omnibuf::testing::FaultyPersistence`.
//!
//! - `BlockLayer` (every target, used on wasm32): content stored as a table of blocks that an asynchronous store
//!   loads before reads need them, with `BlockWriter` to build the next version's table on save. The
//!   browser's IndexedDB document store (`platform::wasm::indexed_db`) is built on it.
//!
//! [`check_unchanged`]: PersistenceLayer::check_unchanged
//!
//! What users need is public as `omnibuf::vbuf::{PersistenceLayer, FilePersistence, FileBackend, …}`;
//! this module is the crate's own.

// Only the IndexedDB store (wasm32) reads through blocks; elsewhere the layer is built for its tests
// (natively and under Miri).
#[cfg_attr(not(target_arch = "wasm32"), allow(dead_code))]
mod blocks;
// The crate's own unit tests use some of the aids; the rest are for the `testing` feature's users.
#[cfg(any(test, feature = "testing"))]
#[cfg_attr(not(feature = "testing"), allow(dead_code))]
mod faulty;
#[cfg(any(unix, windows))]
mod file;
mod memory;

#[cfg(target_arch = "wasm32")]
pub(crate) use blocks::{BlockLayer, BlockSpan, BlockTable, BlockWriter, PinnedBlocks};
#[cfg(feature = "testing")]
pub use faulty::FaultPlan;
#[cfg(any(test, feature = "testing"))]
pub use faulty::{Call, FaultyPersistence, ReadCall, Trigger};
#[cfg(any(unix, windows))]
pub(crate) use file::save_recipe_as;
#[cfg(any(unix, windows))]
pub use file::{is_save_temp_file, FileBackend, FilePersistence};
pub use memory::MemoryPersistence;

use crate::ZeroCopyBuffer;

/// Errors from a persistence layer.
///
/// ```
/// use omnibuf::vbuf::{MemoryPersistence, PersistenceError, PersistenceLayer};
///
/// let layer = MemoryPersistence::new(b"abc".to_vec());
/// let mut dst = [0u8; 4];
/// let err = layer.read_at(0, &mut dst).unwrap_err();
/// assert!(matches!(err, PersistenceError::OutOfRange { offset: 0, len: 4, total: 3 }));
/// ```
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum PersistenceError {
    /// A read asked for bytes past the end of the stored content.
    #[error("read of {len} bytes at offset {offset} is past the end (length {total})")]
    OutOfRange {
        /// Requested start offset.
        offset: u64,
        /// Requested length.
        len: u64,
        /// Current length of the content.
        total: u64,
    },
    /// The storage returned fewer bytes than it holds by its own account: typically a file truncated
    /// underneath the buffer by another program.
    #[error("short read: {got} of {wanted} bytes at offset {offset} (was the file truncated underneath?)")]
    ShortRead {
        /// Start offset of the read.
        offset: u64,
        /// Bytes asked for.
        wanted: u64,
        /// Bytes the storage delivered.
        got: u64,
    },
    /// The stored content changed since it was opened (another program wrote, replaced or truncated
    /// the file). Save refuses unless forced.
    #[error("{what} changed on disk since it was opened ({detail}); save with force to overwrite it")]
    ExternallyChanged {
        /// What changed, e.g. the path of the file.
        what: String,
        /// Which property changed: size, modification time or inode.
        detail: String,
    },
    /// The file a layer reads was changed in place since it was opened (it kept its inode; its
    /// size or modification time moved, which a mere `touch` does too): the bytes a save would copy
    /// from it may be gone, so no save that copies from it can write the buffer's content, forced
    /// or not (see [`check_intact`](PersistenceLayer::check_intact)). A save whose content needs
    /// none of its bytes (all of it retyped) still goes through.
    #[error(
        "{what} was changed in place since it was opened ({detail}; its metadata cannot tell a \
         rewrite from a touch): the bytes this save would copy from it may be gone, so it cannot \
         save, forced or not"
    )]
    RewrittenInPlace {
        /// What changed, e.g. the path of the file.
        what: String,
        /// Which property changed: size or modification time.
        detail: String,
    },
    /// The bytes are stored but not loaded: a layer over asynchronous storage (the browser's
    /// IndexedDB) must load them before a synchronous read can see them.
    #[error("{len} bytes at offset {offset} are not loaded from storage yet")]
    NotLoaded {
        /// Start offset of the read.
        offset: u64,
        /// Length of the read.
        len: u64,
    },
    /// The stored content is inconsistent (a block table that does not add up, a block of the wrong
    /// length).
    #[error("stored content is corrupt: {0}")]
    Corrupt(String),
    /// This layer cannot do what was asked (for example `save` on a read-only layer).
    #[error("not supported by this persistence layer: {0}")]
    Unsupported(&'static str),
    /// The underlying storage failed. This crate's layers say what they were doing and on what (a
    /// path, an offset) in the error's message, and keep the system's error as its source; this
    /// variant adds nothing to either (it is transparent), so a chain of causes shows each once.
    #[error(transparent)]
    Io(#[from] std::io::Error),
}

/// `layer.read_buffer(offset, len)`, if what it gives has that length. Chunk arithmetic and line
/// counts rely on it, and a layer may be code outside this crate: one that gives another length gets
/// [`PersistenceError::ShortRead`], not a panic or a wrong answer further on.
pub(crate) fn read_buffer_exact(
    layer: &dyn PersistenceLayer,
    offset: u64,
    len: usize,
) -> Result<ZeroCopyBuffer, PersistenceError> {
    let data = layer.read_buffer(offset, len)?;
    if data.len() == len {
        return Ok(data);
    }
    Err(PersistenceError::ShortRead { offset, wanted: len as u64, got: data.len() as u64 })
}

/// One step of a save recipe: the new content is the concatenation of its pieces, in order.
///
/// ```
/// use omnibuf::vbuf::SavePiece;
/// use omnibuf::{BufferKind, ZeroCopyBuffer};
///
/// let recipe = [
///     SavePiece::Copy { offset: 0, len: 5 },
///     SavePiece::Insert(ZeroCopyBuffer::from_static(b"!", BufferKind::raw())),
/// ];
/// assert_eq!(recipe.iter().map(SavePiece::len).sum::<u64>(), 6);
/// ```
#[derive(Debug, Clone)]
pub enum SavePiece {
    /// `len` bytes copied from the layer's *current* content at `offset`.
    Copy {
        /// Start offset in the layer's current content.
        offset: u64,
        /// Number of bytes.
        len: u64,
    },
    /// Bytes that are not in the current content (edits).
    Insert(ZeroCopyBuffer),
}

impl SavePiece {
    /// Number of bytes this piece contributes.
    ///
    /// ```
    /// use omnibuf::vbuf::SavePiece;
    /// use omnibuf::{BufferKind, ZeroCopyBuffer};
    ///
    /// assert_eq!(SavePiece::Copy { offset: 100, len: 7 }.len(), 7);
    /// assert_eq!(SavePiece::Insert(ZeroCopyBuffer::from_static(b"abc", BufferKind::raw())).len(), 3);
    /// ```
    pub fn len(&self) -> u64 {
        match self {
            SavePiece::Copy { len, .. } => *len,
            SavePiece::Insert(bytes) => bytes.len() as u64,
        }
    }

    /// Whether the piece contributes no bytes.
    ///
    /// ```
    /// use omnibuf::vbuf::SavePiece;
    ///
    /// assert!(SavePiece::Copy { offset: 5, len: 0 }.is_empty());
    /// assert!(!SavePiece::Copy { offset: 5, len: 1 }.is_empty());
    /// ```
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// The recipe a save writes: pieces produced one by one, so that a recipe over a huge file never has
/// to sit in memory whole. An `Err` item aborts the save and leaves the stored content untouched.
pub type SaveRecipe<'a> = dyn Iterator<Item = Result<SavePiece, PersistenceError>> + 'a;

/// How a save treats a stored content that changed underneath.
///
/// ```
/// use omnibuf::vbuf::{SaveOptions, VirtualBuffer};
///
/// let buf = VirtualBuffer::from_bytes(b"draft".to_vec());
/// buf.insert(0, b"final ").unwrap();
/// // `force` saves even over content another program changed since it was opened.
/// buf.save_with(SaveOptions { force: true }).unwrap();
/// assert!(!buf.is_modified());
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SaveOptions {
    /// Overwrite even if [`PersistenceLayer::check_unchanged`] reports an external change.
    pub force: bool,
}

/// Storage for the content of a virtual buffer.
///
/// Implementations are shared between threads (iterators read from other threads), hence
/// `Send + Sync`; `read_at` takes `&self`.
///
/// ```
/// use omnibuf::vbuf::{MemoryPersistence, PersistenceLayer, SaveOptions, SavePiece};
/// use omnibuf::{BufferKind, ZeroCopyBuffer};
///
/// let p = MemoryPersistence::new(b"hello world".to_vec());
/// let mut dst = [0u8; 5];
/// p.read_at(6, &mut dst).unwrap();
/// assert_eq!(&dst, b"world");
///
/// // Save "hello, world": copy "hello", insert ",", copy " world".
/// let recipe = vec![
///     Ok(SavePiece::Copy { offset: 0, len: 5 }),
///     Ok(SavePiece::Insert(ZeroCopyBuffer::from_static(b",", BufferKind::raw()))),
///     Ok(SavePiece::Copy { offset: 5, len: 6 }),
/// ];
/// let saved = p.save(&mut recipe.into_iter(), SaveOptions::default()).unwrap();
/// assert_eq!(saved.read_buffer(0, 12).unwrap(), b"hello, world"[..]);
/// ```
pub trait PersistenceLayer: Send + Sync + std::fmt::Debug {
    /// Current length of the stored content in bytes.
    ///
    /// ```
    /// use omnibuf::vbuf::{MemoryPersistence, PersistenceLayer};
    ///
    /// assert_eq!(MemoryPersistence::new(vec![0; 42]).len().unwrap(), 42);
    /// ```
    fn len(&self) -> Result<u64, PersistenceError>;

    /// Whether the stored content is empty.
    ///
    /// ```
    /// use omnibuf::vbuf::{MemoryPersistence, PersistenceLayer};
    ///
    /// assert!(MemoryPersistence::new(Vec::new()).is_empty().unwrap());
    /// assert!(!MemoryPersistence::new(vec![1]).is_empty().unwrap());
    /// ```
    fn is_empty(&self) -> Result<bool, PersistenceError> {
        Ok(self.len()? == 0)
    }

    /// Fills `dst` with the bytes at `offset..offset + dst.len()`.
    ///
    /// Fills the whole destination or fails: [`PersistenceError::OutOfRange`] if the range extends past
    /// [`len`](Self::len), [`PersistenceError::ShortRead`] if the storage delivers fewer bytes.
    ///
    /// ```
    /// use omnibuf::vbuf::{MemoryPersistence, PersistenceError, PersistenceLayer};
    ///
    /// let layer = MemoryPersistence::new(b"0123456789".to_vec());
    /// let mut dst = [0u8; 3];
    /// layer.read_at(4, &mut dst).unwrap();
    /// assert_eq!(&dst, b"456");
    /// assert!(matches!(layer.read_at(8, &mut dst), Err(PersistenceError::OutOfRange { total: 10, .. })));
    /// ```
    fn read_at(&self, offset: u64, dst: &mut [u8]) -> Result<(), PersistenceError>;

    /// Reads `len` bytes at `offset` as a buffer. Mapped layers return a zero-copy view of the
    /// mapping; the default reads into a new heap buffer.
    ///
    /// ```
    /// use omnibuf::vbuf::{MemoryPersistence, PersistenceLayer};
    ///
    /// let layer = MemoryPersistence::new(b"0123456789".to_vec());
    /// assert_eq!(layer.read_buffer(2, 3).unwrap(), b"234"[..]);
    /// assert!(layer.read_buffer(8, 3).is_err());
    /// ```
    fn read_buffer(&self, offset: u64, len: usize) -> Result<ZeroCopyBuffer, PersistenceError> {
        let mut bytes = vec![0u8; len];
        self.read_at(offset, &mut bytes)?;
        Ok(ZeroCopyBuffer::from_bytes(bytes, crate::BufferKind::raw()))
    }

    /// Whether [`read_buffer`](Self::read_buffer) is a zero-copy view that costs no heap memory, so a
    /// virtual buffer need not keep what it reads in its own cache.
    ///
    /// ```
    /// use omnibuf::vbuf::{FileBackend, FilePersistence, PersistenceLayer};
    /// # let dir = tempfile::tempdir()?;
    /// let path = dir.path().join("f");
    /// std::fs::write(&path, b"bytes")?;
    /// assert!(!FilePersistence::open(&path, FileBackend::Positional)?.is_mapped());
    /// // SAFETY: nothing else knows of this temporary directory, so no other program changes the file.
    /// assert!(FilePersistence::open(&path, unsafe { FileBackend::mapped() })?.is_mapped());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    fn is_mapped(&self) -> bool {
        false
    }

    /// Whether a read of a range inside one piece should go straight to the layer into memory of its
    /// own, past the buffer's block cache: true where a read is a cheap synchronous call that the
    /// system caches anyway (OPFS sync access handles), so reading a whole block and keeping it costs
    /// more than it saves.
    ///
    /// ```
    /// use omnibuf::vbuf::{MemoryPersistence, PersistenceLayer};
    ///
    /// // Only OPFS sync access handles (wasm32) bypass the buffer's block cache.
    /// assert!(!MemoryPersistence::new(b"abc".to_vec()).reads_directly());
    /// ```
    fn reads_directly(&self) -> bool {
        false
    }

    /// Checks that the stored content is still what this layer opened. File layers compare size,
    /// modification time and inode and return [`PersistenceError::ExternallyChanged`] on a difference.
    ///
    /// ```
    /// use omnibuf::vbuf::{FileBackend, FilePersistence, PersistenceError, PersistenceLayer};
    /// # let dir = tempfile::tempdir()?;
    /// let path = dir.path().join("watched");
    /// std::fs::write(&path, b"v1")?;
    /// let file = FilePersistence::open(&path, FileBackend::Positional)?;
    /// file.check_unchanged()?;
    /// std::fs::write(&path, b"version 2")?;
    /// assert!(matches!(file.check_unchanged(), Err(PersistenceError::ExternallyChanged { .. })));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    fn check_unchanged(&self) -> Result<(), PersistenceError> {
        Ok(())
    }

    /// Checks that the content this layer reads is still the content it opened, whatever its path
    /// names now. A file another program replaced (a new file renamed over the path) still is: this
    /// layer reads the old file. One rewritten in place is not (its size or modification time
    /// moved), and gives [`PersistenceError::RewrittenInPlace`]: the bytes that pieces over this
    /// layer stand for may be gone, so no save may copy from it, forced or not. What metadata
    /// cannot show goes unseen: a rewrite of the same size whose modification time is set back
    /// (`touch -r`), or one through a shared mapping whose pages were already dirty when the layer
    /// opened the file (the kernel moves the time only at the first write fault).
    ///
    /// ```
    /// use omnibuf::vbuf::{FileBackend, FilePersistence, PersistenceError, PersistenceLayer};
    /// # let dir = tempfile::tempdir()?;
    /// let path = dir.path().join("watched");
    /// std::fs::write(&path, b"v1")?;
    /// let file = FilePersistence::open(&path, FileBackend::Positional)?;
    /// std::fs::write(dir.path().join("new"), b"version 2")?;
    /// std::fs::rename(dir.path().join("new"), &path)?; // replaced: this layer reads the old file
    /// file.check_intact()?;
    /// # let file = FilePersistence::open(&path, FileBackend::Positional)?;
    /// std::fs::write(&path, b"version 3")?; // rewritten in place
    /// assert!(matches!(file.check_intact(), Err(PersistenceError::RewrittenInPlace { .. })));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    fn check_intact(&self) -> Result<(), PersistenceError> {
        Ok(())
    }

    /// Replaces the stored content with `recipe`, atomically: afterwards the storage holds the whole
    /// old or the whole new content, never a mix, and a failed save leaves the old content untouched.
    ///
    /// Returns a layer over the new content. `self` stays readable at its old content, so pieces
    /// that still point into it (undo history, live iterators) stay valid.
    ///
    /// Unless `options.force`, refuses with [`PersistenceError::ExternallyChanged`] when
    /// [`check_unchanged`](Self::check_unchanged) fails.
    ///
    /// ```
    /// use omnibuf::vbuf::{MemoryPersistence, PersistenceError, PersistenceLayer, SaveOptions, SavePiece};
    ///
    /// let old = MemoryPersistence::new(b"abcdef".to_vec());
    /// let (def, abc) = (SavePiece::Copy { offset: 3, len: 3 }, SavePiece::Copy { offset: 0, len: 3 });
    /// let recipe = vec![Ok(def), Ok(abc)];
    /// let new = old.save(&mut recipe.into_iter(), SaveOptions::default()).unwrap();
    /// assert_eq!(new.read_buffer(0, 6).unwrap(), b"defabc"[..]);
    /// assert_eq!(old.read_buffer(0, 6).unwrap(), b"abcdef"[..]); // the old layer reads the old content
    /// let failing = vec![Err(PersistenceError::Unsupported("example"))];
    /// assert!(old.save(&mut failing.into_iter(), SaveOptions::default()).is_err());
    /// ```
    fn save(
        &self,
        recipe: &mut SaveRecipe<'_>,
        options: SaveOptions,
    ) -> Result<Box<dyn PersistenceLayer>, PersistenceError>;

    /// The file this layer reads, if it reads one: used for `save_as` of the same kind of layer and
    /// in messages.
    ///
    /// ```
    /// use omnibuf::vbuf::{FileBackend, FilePersistence, MemoryPersistence, PersistenceLayer};
    /// # let dir = tempfile::tempdir()?;
    /// let path = dir.path().join("named");
    /// std::fs::write(&path, b"")?;
    /// assert_eq!(FilePersistence::open(&path, FileBackend::Positional)?.path(), Some(path.as_path()));
    /// assert_eq!(MemoryPersistence::new(Vec::new()).path(), None);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    fn path(&self) -> Option<&std::path::Path> {
        None
    }

    /// Appends the `len` bytes at `offset` to `dst`, at its current position: how a save writes the
    /// recipe's [`SavePiece::Copy`] runs.
    ///
    /// The default reads through [`read_buffer`](Self::read_buffer) (mapped layers) or
    /// [`read_at`](Self::read_at) in chunks of 1 MiB and writes them. File layers override it to let
    /// the kernel copy between the files (`copy_file_range` on Linux). Fails like `read_at` when the
    /// range is out of bounds or the storage delivers fewer bytes; bytes already written stay written.
    ///
    /// ```
    /// use std::io::{Seek, SeekFrom};
    /// use omnibuf::vbuf::{MemoryPersistence, PersistenceLayer};
    ///
    /// let layer = MemoryPersistence::new(b"0123456789".to_vec());
    /// let mut file = tempfile::tempfile().unwrap();
    /// layer.copy_range_to_file(2, 3, &mut file).unwrap();
    /// layer.copy_range_to_file(8, 2, &mut file).unwrap(); // appended at the file's position
    /// file.seek(SeekFrom::Start(0)).unwrap();
    /// assert_eq!(std::io::read_to_string(&file).unwrap(), "23489");
    /// assert!(layer.copy_range_to_file(9, 5, &mut file).is_err());
    /// ```
    #[cfg(not(target_arch = "wasm32"))]
    fn copy_range_to_file(
        &self,
        offset: u64,
        len: u64,
        dst: &mut std::fs::File,
    ) -> Result<(), PersistenceError> {
        copy_range_by_reading(self, offset, len, dst)
    }

    /// Where the first byte at or after `offset` that may not be zero lies, or `end` when every byte
    /// of `offset..end` is known to be zero: a save leaves such a run a hole in the new file, unwritten,
    /// instead of copying it a piece at a time.
    ///
    /// The default knows no holes: it gives `offset`. File layers on Linux ask the file system
    /// (`SEEK_DATA`), so that the holes of a sparse file cost a save nothing however long they are.
    ///
    /// ```
    /// use omnibuf::vbuf::{MemoryPersistence, PersistenceLayer};
    ///
    /// let layer = MemoryPersistence::new(vec![0; 100]);
    /// assert_eq!(layer.next_data(10, 100).unwrap(), 10); // zeros in memory are still data
    /// ```
    #[cfg(not(target_arch = "wasm32"))]
    fn next_data(&self, offset: u64, end: u64) -> Result<u64, PersistenceError> {
        let _ = end;
        Ok(offset)
    }
}

/// The portable body of [`PersistenceLayer::copy_range_to_file`]: reads chunks and writes them.
#[cfg(not(target_arch = "wasm32"))]
pub(crate) fn copy_range_by_reading<L: PersistenceLayer + ?Sized>(
    source: &L,
    offset: u64,
    len: u64,
    dst: &mut std::fs::File,
) -> Result<(), PersistenceError> {
    use std::io::Write;
    const CHUNK: u64 = 1 << 20;

    // Checked up front so that a bad range fails before anything is written.
    check_copy(source, offset, len)?;
    let mut scratch = Vec::new();
    let mut done = 0;
    while done < len {
        let at = offset + done;
        // CHUNK fits in usize on every target this compiles for.
        let n = (len - done).min(CHUNK) as usize;
        if source.is_mapped() {
            dst.write_all(&source.read_buffer(at, n)?)?;
        } else {
            scratch.resize(n, 0);
            source.read_at(at, &mut scratch)?;
            dst.write_all(&scratch)?;
        }
        done += n as u64;
    }
    Ok(())
}

/// Checks that a recipe's `Copy { offset, len }` lies in `source` (an empty one too), before
/// anything is read or allocated for it: `OutOfRange` otherwise, as `read_at` fails.
pub(crate) fn check_copy<L: PersistenceLayer + ?Sized>(
    source: &L,
    offset: u64,
    len: u64,
) -> Result<(), PersistenceError> {
    let total = source.len()?;
    match offset.checked_add(len) {
        Some(end) if end <= total => Ok(()),
        _ => Err(PersistenceError::OutOfRange { offset, len, total }),
    }
}

/// Collects a recipe into one vector, reading `Copy` pieces from `source`. Used by in-memory layers
/// and as the reference in tests.
pub(crate) fn collect_recipe(
    source: &dyn PersistenceLayer,
    recipe: &mut SaveRecipe<'_>,
) -> Result<Vec<u8>, PersistenceError> {
    let mut out = Vec::new();
    for piece in recipe {
        match piece? {
            SavePiece::Copy { offset, len } => {
                check_copy(source, offset, len)?;
                let start = out.len();
                let too_large = || std::io::Error::from(std::io::ErrorKind::OutOfMemory);
                let len = usize::try_from(len).map_err(|_| too_large())?;
                out.try_reserve(len).map_err(|_| too_large())?;
                out.resize(start + len, 0);
                source.read_at(offset, &mut out[start..])?;
            }
            SavePiece::Insert(bytes) => out.extend_from_slice(&bytes),
        }
    }
    Ok(out)
}
