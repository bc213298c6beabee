//! The platform-abstraction layer: the only place that talks to the operating system or the browser.
//!
//! The building blocks (`buffer`, `pool`, `ring`, `vbuf`) reach the outside world only through this
//! module, so that they run unchanged under Miri and loom, and so that adding a platform touches one
//! folder. It provides the ring memory (double-mapped natively, mirror copy everywhere), the clock,
//! views of wasm memory for JS, and the persistence layers a virtual buffer reads its content from.

pub(crate) mod barrier;
pub(crate) mod copy;
pub mod persistence;
pub mod ring_memory;
pub mod time;

#[cfg(not(target_arch = "wasm32"))]
pub mod native;

#[cfg(target_arch = "wasm32")]
pub mod wasm;
