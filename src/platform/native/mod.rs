//! Native (Linux, macOS, Windows) platform code.
//!
//! Built: [`DoubleMappedBuffer`], the double-mapped memory under the ring. Not built yet: the
//! memory-mapped persistence layer of the virtual buffer (see `DESIGN.md`).

#[cfg(any(target_os = "linux", target_os = "macos", windows))]
mod double_mapped;

#[cfg(any(target_os = "linux", target_os = "macos", windows))]
pub use double_mapped::{DoubleMappedBuffer, MapOptions};
