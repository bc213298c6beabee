//! Nothing to see: this crate exists for its wasm32 test suites, `tests/node.rs` and
//! `tests/browser.rs`, which share their bodies in `tests/shared/`.
