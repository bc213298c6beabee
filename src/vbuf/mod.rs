//! The virtual buffer: edit content larger than memory.
//!
//! A [`VirtualBuffer`] reads its content from a [`PersistenceLayer`] (a file, memory, or your own
//! storage) and never holds all of it: opening reads only the length,
//! reads load what they touch, edits are recorded as pieces, and save writes the result atomically.
//!
//! How it fits together (one concept per module):
//! - `tree`: the piece tree, a persistent B+ tree of pieces (runs of a source), with O(1) snapshots;
//! - `store` and `cache`: the sources, the append-only add buffer with its spill file, and the block
//!   cache with a byte budget, dirty tracking and LRU eviction;
//! - `edit_log`: versions and the log that lets live iterators follow edits ([`Bias`]);
//! - `history`: undo and redo;
//! - `snapshot`, `iter`, `search`: reads, [`ByteIterator`], [`Chunks`], `find`/`rfind`;
//! - `line_table` and `lines`: per source, the LF counts per block; over the tree, the lazy line index
//!   and [`LineIterator`], on top of the bytes;
//! - `buffer`: the [`VirtualBuffer`] handle that ties them together, and save;
//! - `file`: opening files and save-as (native targets);
//! - `stored`: `StoredBuffer`, a buffer over a document in the browser's IndexedDB (wasm32 only, so
//!   not linked from the docs of other targets).
//!
//! ```
//! use omnibuf::vbuf::VirtualBuffer;
//!
//! let buf = VirtualBuffer::from_bytes(b"line one\nline two\n".to_vec());
//! buf.insert(5, b"number ").unwrap();
//! assert_eq!(buf.read(0..15).unwrap(), b"line number one"[..]);
//! assert_eq!(buf.line_count().unwrap(), 3);
//! let mut it = buf.iter_at(0).unwrap();
//! assert_eq!(it.next(), Some(b'l'));
//! ```

mod buffer;
mod cache;
mod edit_log;
mod error;
#[cfg(any(unix, windows))]
mod file;
mod history;
mod iter;
mod line_table;
mod lines;
mod options;
mod reader;
mod search;
mod snapshot;
mod store;
#[cfg(target_arch = "wasm32")]
mod stored;
mod tree;
#[cfg(any(target_arch = "wasm32", test))]
pub(crate) mod turns;

#[cfg(target_arch = "wasm32")]
pub use crate::platform::wasm::indexed_db::StoreError;
pub use buffer::VirtualBuffer;
pub use edit_log::Bias;
pub use error::VbufError;
pub use iter::{ByteIterator, Chunks};
pub use line_table::Progress;
pub use lines::{Line, LineIterator};
pub use options::{VirtualBufferOptions, VirtualBufferStats};
pub use reader::Reader;
#[cfg(target_arch = "wasm32")]
pub use stored::{ImportSource, StoredBuffer, StoredError, SCAN_WINDOW};

// The persistence layers a buffer reads from and saves to (built in the platform layer).
#[cfg(any(unix, windows))]
pub use crate::platform::persistence::{is_save_temp_file, FileBackend, FilePersistence};
pub use crate::platform::persistence::{
    MemoryPersistence, PersistenceError, PersistenceLayer, SaveOptions, SavePiece, SaveRecipe,
};
/// The browser's OPFS document store (wasm32, in dedicated workers).
#[cfg(target_arch = "wasm32")]
pub use crate::platform::wasm::opfs;
