//! Native (Linux, macOS, Windows) platform code.
//!
//! Not built yet: the double-mapped ring memory and the memory-mapped persistence layer arrive with the
//! ring and virtual-buffer work (see `DESIGN.md`). Nothing here is used by the crate today.
