//! Test bodies shared by `node.rs` and `browser.rs`: each test binary includes this module once, so
//! the same tests run in both environments.
//!
//! wasm32 builds abort on panic, so `std::panic::catch_unwind` cannot be used here; tests that expect
//! a panic use `#[should_panic]`, which the runner checks on the JS side.

mod buffer;
mod pool;
mod ring;
mod vbuf;
