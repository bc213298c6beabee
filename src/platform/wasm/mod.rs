//! Browser platform code (wasm32): views of wasm memory for JS, and the IndexedDB document store that
//! virtual buffers persist in.

pub mod indexed_db;
mod memory;

pub use memory::{view, view_mut};
