//! The core's tests compiled to wasm32 and run in headless Chromium by `wasm-bindgen-test-runner`
//! (through chromedriver; the runner picks it up from `CHROMEDRIVER`).
#![cfg(target_arch = "wasm32")]

wasm_bindgen_test::wasm_bindgen_test_configure!(run_in_browser);

mod shared;

// IndexedDB runs in the real browser only (Node has none).
#[path = "browser_only/indexed_db.rs"]
mod indexed_db;

// OPFS documents on the main thread: refused with a typed error (they run in tests/worker.rs).
#[path = "browser_only/opfs_main_thread.rs"]
mod opfs_main_thread;
