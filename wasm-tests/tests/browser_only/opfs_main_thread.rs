//! OPFS documents on the page's main thread, where sync access handles do not exist: a typed error
//! that says so, not a JS exception, whether or not the document exists; the calls that need no
//! handle (list, export, delete) work.

use omnibuf::vbuf::opfs::{self, OpfsBuffer, OpfsError};
use omnibuf::vbuf::{ImportSource, VirtualBufferOptions};
use wasm_bindgen_test::wasm_bindgen_test;

#[wasm_bindgen_test]
async fn opfs_documents_need_a_dedicated_worker() {
    match opfs::import("main-thread", ImportSource::Bytes(b"x")).await {
        Err(OpfsError::NotInWorker) => {}
        other => panic!("expected NotInWorker, got {other:?}"),
    }
}

#[wasm_bindgen_test]
async fn opening_needs_a_dedicated_worker_whether_or_not_the_document_exists() {
    match OpfsBuffer::open("main-thread-never-imported", VirtualBufferOptions::default()).await {
        Err(OpfsError::NotInWorker) => {}
        other => panic!("expected NotInWorker, got {:?}", other.map(|_| ())),
    }
    match opfs::import("main-thread-import", ImportSource::Bytes(b"x")).await {
        Err(OpfsError::NotInWorker) => {}
        other => panic!("expected NotInWorker, got {other:?}"),
    }
    // Refused before any file was made: the page lists no such document.
    let names: Vec<String> = opfs::list().await.unwrap().into_iter().map(|(name, _)| name).collect();
    assert!(!names.iter().any(|n| n.starts_with("main-thread")), "{names:?}");
}
