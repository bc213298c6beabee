//! The platform-abstraction layer: the building blocks' only way to the operating system or the
//! browser (the bindings, `src/wasm/` and `node/`, talk to their hosts themselves).
//!
//! The building blocks (`buffer`, `pool`, `ring`, `vbuf`) reach the outside world only through this
//! module, so that they run unchanged under Miri (and their concurrency protocols under loom), and so
//! that adding a platform touches one folder. It provides the ring memory (double-mapped natively,
//! mirror copy everywhere), the clock, the barriers and copies of the hot paths, the system's errors in
//! context (with Node's names for them), and the persistence layers a virtual buffer reads its content from (files
//! natively; IndexedDB and OPFS on wasm32).

pub(crate) mod barrier;
pub(crate) mod copy;
pub(crate) mod os_error;
pub mod persistence;
pub mod ring_memory;
pub mod time;

#[cfg(not(target_arch = "wasm32"))]
pub mod native;

#[cfg(target_arch = "wasm32")]
pub mod wasm;
