//! The virtual buffer on wasm32 over an in-memory layer: edits, reads across tiny blocks, iterators that
//! follow edits, lines, search, undo and save. (No side file on wasm: inserted text stays in memory.)

use omnibuf::vbuf::{VbufError, VirtualBuffer, VirtualBufferOptions};
use wasm_bindgen_test::wasm_bindgen_test;

#[wasm_bindgen_test]
fn edits_reads_iterators_lines_undo_and_save_work_on_wasm() {
    let buf =
        VirtualBuffer::from_bytes_with(b"one\ntwo\r\nthree".to_vec(), VirtualBufferOptions::tiny()).unwrap();
    let mut it = buf.iter_at(4).unwrap();
    buf.insert(0, b"zero\n").unwrap();
    assert_eq!(it.next(), Some(b't'), "the iterator followed the insert before it");
    assert_eq!(it.position(), 10);
    buf.replace(9..12, b"TWO").unwrap();
    assert_eq!(buf.read(..).unwrap(), b"zero\none\nTWO\r\nthree"[..]);
    assert_eq!(buf.line_count().unwrap(), 4);
    assert_eq!(buf.line_to_offset(3).unwrap(), 14);
    assert_eq!(buf.find(b"\r\nth", ..).unwrap(), Some(12));
    assert!(buf.undo());
    assert_eq!(buf.read(..).unwrap(), b"zero\none\ntwo\r\nthree"[..]);
    buf.save().unwrap();
    assert!(!buf.is_modified());
    assert!(matches!(buf.read(0..100), Err(VbufError::OutOfRange { .. })));
}
