//! Tests that need a dedicated worker (OPFS sync access handles exist only there), run in headless
//! Chromium by `wasm-bindgen-test-runner` inside a worker it starts.
#![cfg(target_arch = "wasm32")]

wasm_bindgen_test::wasm_bindgen_test_configure!(run_in_dedicated_worker);

#[path = "worker_only/opfs.rs"]
mod opfs;
