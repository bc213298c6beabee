//! A monotonic clock that works on every target.
//!
//! `std::time::Instant::now()` panics on `wasm32-unknown-unknown`, where the browser's or Node's
//! `performance.now()` is the clock; `web-time` wraps that with the same API.

#[cfg(not(target_arch = "wasm32"))]
pub use std::time::Instant;

#[cfg(target_arch = "wasm32")]
pub use web_time::Instant;

pub use std::time::Duration;
