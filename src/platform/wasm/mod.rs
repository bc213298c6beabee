//! Browser platform code (wasm32): the document stores virtual buffers persist in: IndexedDB, and
//! OPFS in dedicated workers.
//!
//! (No views of wasm memory for JS: any such view reaches all of wasm memory through `.buffer`, freed
//! memory that other objects reuse included, so the JS classes hand out copies; see `src/wasm/`.)

pub mod indexed_db;
pub mod opfs;
pub(crate) mod web_lock;
