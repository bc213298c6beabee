//! Browser platform code (wasm32): views of wasm memory for JS, and the document stores virtual
//! buffers persist in: IndexedDB, and OPFS in dedicated workers.

pub mod indexed_db;
mod memory;
pub mod opfs;

pub use memory::{view, view_mut};
