//! Test aids (the `testing` feature): what the crate's own tests, fuzz target and browser suites use to
//! reach states that real storage and real systems produce only rarely. Programs do not need them.
//!
//! - [`FaultyPersistence`] wraps any [`PersistenceLayer`](crate::vbuf::PersistenceLayer) and makes the
//!   calls a [`FaultPlan`] chooses fail as real storage fails (short reads, I/O errors, failing saves,
//!   files changed underneath).
//! - `DoubleMappedBuffer` (Linux, macOS, Windows): the bare double-mapped memory under the ring, for
//!   tests that count the mappings and descriptors it leaves behind.
//! - `VirtualBuffer::check_invariants` (a method, under this same feature) checks the piece tree.
//!
//! ```
//! use omnibuf::testing::{Call, FaultPlan, FaultyPersistence, Trigger};
//! use omnibuf::vbuf::{MemoryPersistence, VbufError, VirtualBuffer};
//! use std::sync::Arc;
//!
//! let layer = FaultyPersistence::new(MemoryPersistence::new(b"hello".to_vec()));
//! let plan: FaultPlan = layer.plan().clone();
//! plan.io_error(Call::ReadAt, Trigger::Always, std::io::ErrorKind::Other);
//! plan.io_error(Call::ReadBuffer, Trigger::Always, std::io::ErrorKind::Other);
//! let buf = VirtualBuffer::with_layer(Arc::new(layer), Default::default()).unwrap();
//! assert!(matches!(buf.read(0..5), Err(VbufError::Persistence(_))));
//! buf.check_invariants();
//! ```

pub use crate::platform::persistence::{Call, FaultPlan, FaultyPersistence, ReadCall, Trigger};

#[cfg(any(target_os = "linux", target_os = "macos", windows))]
pub use crate::platform::native::DoubleMappedBuffer;

/// The IndexedDB document store under [`StoredBuffer`](crate::vbuf::StoredBuffer) (wasm32), as tests
/// look into it: its records and blocks as stored, a hook that fails a chosen write as an exhausted
/// quota does, and the fault a save can be made to hit
/// ([`StoredBuffer::save_with_fault`](crate::vbuf::StoredBuffer::save_with_fault)).
#[cfg(target_arch = "wasm32")]
pub mod indexed_db {
    pub use crate::platform::wasm::indexed_db::{
        inject_quota_fault, read_blocks, read_meta, stored_block_ids, CommitFault, DocumentMeta,
        GarbageBlock, StoreError,
    };
}
