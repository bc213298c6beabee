//! Browser platform code (wasm32).
//!
//! Not built yet: the IndexedDB block store and the browser glue arrive with the browser target (see
//! `DESIGN.md`). Nothing here is used by the crate today.
