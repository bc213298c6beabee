//! Persistence layers: where a virtual buffer's original bytes come from.
//!
//! Design note: a virtual buffer never holds its whole file in memory; it asks its persistence layer
//! for the length and for positional reads of the regions it needs. Keeping this behind a trait lets
//! the piece tree, cache and iterators run unchanged over a memory-mapped file, a positional-read
//! file, IndexedDB, or (in tests, Miri and loom) the in-memory backend below.
//!
//! Status: only the trait's read side and the in-memory backend are built. The native file backends
//! (mmap, pread), the save path and the IndexedDB backend are **not built yet**.

mod memory;

pub use memory::MemoryPersistence;

/// Errors from a persistence layer.
#[derive(Debug, thiserror::Error)]
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
    /// The underlying storage failed.
    #[error("persistence I/O error: {0}")]
    Io(#[from] std::io::Error),
}

/// Storage for the original content of a virtual buffer.
///
/// Implementations must make `read_at` fill the whole destination or return an error: a short read
/// is reported as an error, never silently returned as fewer bytes.
pub trait PersistenceLayer {
    /// Current length of the stored content in bytes.
    fn len(&self) -> Result<u64, PersistenceError>;

    /// Whether the stored content is empty.
    fn is_empty(&self) -> Result<bool, PersistenceError> {
        Ok(self.len()? == 0)
    }

    /// Fills `dst` with the bytes at `offset..offset + dst.len()`.
    ///
    /// Returns [`PersistenceError::OutOfRange`] if that range extends past the end.
    fn read_at(&self, offset: u64, dst: &mut [u8]) -> Result<(), PersistenceError>;
}
