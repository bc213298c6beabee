//! An insert whose spill to the side file fails changes nothing: not the content, and not the add
//! buffer either (no bytes left behind that no piece names, no memory that grows with each retry),
//! and inserts work again once the side file can be made.
//!
//! One test in its own binary, because it points `TMPDIR` (where the side file is made) at a folder
//! that does not exist, and no other test may look at it meanwhile.
#![cfg(not(target_arch = "wasm32"))]

use omnibuf::vbuf::{VbufError, VirtualBuffer, VirtualBufferOptions};

#[test]
fn a_failed_spill_leaves_the_buffer_as_it_was() {
    let options =
        VirtualBufferOptions { block_size: 4096, spill_threshold: 0, ..VirtualBufferOptions::default() };
    let buf = VirtualBuffer::from_bytes_with(b"base".to_vec(), options).unwrap();
    let mut model = b"base".to_vec();
    // Under a block: nothing is sealed, nothing spills.
    buf.insert(4, b"0123456789").unwrap();
    model.extend_from_slice(b"0123456789");
    let before = buf.stats();

    let real_tmp = std::env::temp_dir();
    std::env::set_var("TMPDIR", real_tmp.join("omnibuf-no-such-folder-for-the-side-file"));
    // Odd sizes and places: one that ends a block exactly, one that seals several.
    for (i, size) in [4086, 4096, 3 * 4096 + 7, 1 << 20].into_iter().cycle().take(40).enumerate() {
        let at = (i as u64 * 3) % (buf.len() + 1);
        match buf.insert(at, &vec![b'x'; size]) {
            Err(VbufError::SideFile(_)) => {}
            other => panic!("insert of {size} bytes with no side file: {other:?}"),
        }
    }
    let after = buf.stats();
    assert_eq!(buf.read(..).unwrap(), model);
    assert_eq!(after.inserted_bytes, before.inserted_bytes);
    assert_eq!(after.unsaved_in_memory_bytes, before.unsaved_in_memory_bytes);
    assert_eq!(after.spilled_bytes, 0);
    // Smaller inserts still go into the tail block, which needs no side file.
    buf.insert(0, b"<").unwrap();
    model.insert(0, b'<');

    std::env::set_var("TMPDIR", &real_tmp);
    let big: Vec<u8> = (0..3 * 4096 + 5).map(|i| (i % 251) as u8).collect();
    buf.insert(7, &big).unwrap();
    model.splice(7..7, big.iter().copied());
    buf.insert(buf.len(), &big[..4096]).unwrap();
    model.extend_from_slice(&big[..4096]);
    assert_eq!(buf.read(..).unwrap(), model);
    let last = buf.stats();
    assert_eq!(last.inserted_bytes, before.inserted_bytes + 1 + big.len() as u64 + 4096);
    assert!(last.spilled_bytes > 0 && last.unsaved_in_memory_bytes < 4096);
}
