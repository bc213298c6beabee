//! Browser platform code (wasm32): views of wasm memory for JS.
//!
//! Not built yet: the IndexedDB block store arrives with the browser target's virtual buffer (see
//! `DESIGN.md`).

mod memory;

pub use memory::{view, view_mut};
