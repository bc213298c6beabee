//! Native (Linux, macOS, Windows) platform code.
//!
//! Built: [`DoubleMappedBuffer`], the double-mapped memory under the ring. The virtual buffer's file
//! layer (memory-mapped or positional reads, atomic save) is with the other persistence layers, in
//! [`persistence`](crate::platform::persistence).

#[cfg(any(target_os = "linux", target_os = "macos", windows))]
mod double_mapped;

#[cfg(any(target_os = "linux", target_os = "macos", windows))]
pub use double_mapped::{DoubleMappedBuffer, MapOptions};
