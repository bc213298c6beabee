//! The core's tests compiled to wasm32 and run in Node by `wasm-bindgen-test-runner`.
#![cfg(target_arch = "wasm32")]

// No `wasm_bindgen_test_configure!`: Node is the runner's default.

mod shared;
