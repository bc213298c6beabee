//! OPFS documents on the page's main thread, where sync access handles do not exist: a typed error
//! that says so, not a JS exception.

use omnibuf::vbuf::opfs::{self, OpfsError};
use omnibuf::vbuf::ImportSource;
use wasm_bindgen_test::wasm_bindgen_test;

#[wasm_bindgen_test]
async fn opfs_documents_need_a_dedicated_worker() {
    match opfs::import("main-thread", ImportSource::Bytes(b"x")).await {
        Err(OpfsError::NotInWorker) => {}
        other => panic!("expected NotInWorker, got {other:?}"),
    }
}
