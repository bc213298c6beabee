//! An insert whose spill to the side file fails changes nothing: not the content, and not the add
//! buffer either (no bytes left behind that no piece names, no memory that grows with each retry,
//! nothing counted as spilled that was taken back), and inserts work again once the side file can
//! be written.
//!
//! One test in its own binary, run in two ways, one after the other: it points `TMPDIR` (where the
//! side file is made) at a folder that does not exist, which no other test may see meanwhile, and it
//! runs itself again under a file-size limit (`ulimit -f`, with SIGXFSZ at its default, which ends
//! the process: the side file must refuse to grow past the limit, not run into it), where the side
//! file takes a few blocks and then refuses more.
#![cfg(unix)]

use std::process::Command;

use omnibuf::vbuf::{VbufError, VirtualBuffer, VirtualBufferOptions};

const BLOCK: usize = 4096;
/// Set in the run under the file-size limit.
const LIMITED: &str = "OMNIBUF_TEST_SPILL_UNDER_A_FILE_SIZE_LIMIT";
const TEST: &str = "a_failed_spill_leaves_the_buffer_as_it_was";

fn options() -> VirtualBufferOptions {
    VirtualBufferOptions {
        block_size: BLOCK,
        spill_threshold: 0,
        cache_budget: BLOCK,
        ..VirtualBufferOptions::default()
    }
}

/// Bytes `n` long, different for each `seed`, so that a stale block would show.
fn pattern(n: usize, seed: u8) -> Vec<u8> {
    (0..n).map(|i| (i % 251) as u8 ^ seed).collect()
}

#[test]
fn a_failed_spill_leaves_the_buffer_as_it_was() {
    if std::env::var_os(LIMITED).is_some() {
        return spill_failing_part_way();
    }
    // `ulimit -f 16` is 8 or 16 KiB, as the shell counts blocks: two or four of ours fit the side file.
    let output = Command::new("/bin/sh")
        .args(["-c", r#"ulimit -f 16 && exec "$0" "$@""#])
        .arg(std::env::current_exe().unwrap())
        .args(["--exact", TEST, "--nocapture"])
        .env(LIMITED, "1")
        .output()
        .expect("run the test under a file-size limit");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success() && stdout.contains("1 passed"),
        "{stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    spill_with_no_side_file();
}

/// The side file takes a block, then a six-block insert spills what fits and fails: what it spilled
/// is taken back with the rest, and the next inserts that fit work.
fn spill_failing_part_way() {
    let buf = VirtualBuffer::from_bytes_with(b"base".to_vec(), options()).unwrap();
    let mut model = b"base".to_vec();
    let first = pattern(BLOCK, 1);
    buf.insert(2, &first).unwrap();
    model.splice(2..2, first);
    let before = buf.stats();
    assert_eq!(before.spilled_bytes, BLOCK as u64);
    for seed in 2..6 {
        match buf.insert(3, &pattern(6 * BLOCK + 5, seed)) {
            Err(VbufError::SideFile(e)) => assert_eq!(e.kind(), std::io::ErrorKind::FileTooLarge, "{e}"),
            other => panic!("an insert past the file-size limit: {other:?}"),
        }
        let after = buf.stats();
        assert_eq!(buf.read(..).unwrap(), model);
        assert_eq!(
            (after.spilled_bytes, after.inserted_bytes, after.unsaved_in_memory_bytes),
            (before.spilled_bytes, before.inserted_bytes, before.unsaved_in_memory_bytes),
        );
    }
    // What fits the tail block needs no side file.
    buf.insert(0, b"<").unwrap();
    model.insert(0, b'<');
    assert!(buf.undo());
    assert!(buf.redo());
    assert_eq!(buf.read(..).unwrap(), model);
}

/// No side file can be made at all: every insert that would spill fails, the content, the memory
/// and the counts stay, and once the file can be made the same inserts work.
fn spill_with_no_side_file() {
    let buf = VirtualBuffer::from_bytes_with(b"base".to_vec(), options()).unwrap();
    let mut model = b"base".to_vec();
    // Under a block: nothing is sealed, nothing spills.
    buf.insert(4, b"0123456789").unwrap();
    model.extend_from_slice(b"0123456789");
    let before = buf.stats();

    let real_tmp = std::env::temp_dir();
    std::env::set_var("TMPDIR", real_tmp.join("omnibuf-no-such-folder-for-the-side-file"));
    // Odd sizes and places: one that ends a block exactly, one that seals several.
    for (i, size) in [BLOCK - 10, BLOCK, 3 * BLOCK + 7, 1 << 20].into_iter().cycle().take(40).enumerate() {
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
    let big = pattern(3 * BLOCK + 5, 7);
    buf.insert(7, &big).unwrap();
    model.splice(7..7, big.iter().copied());
    buf.insert(buf.len(), &big[..BLOCK]).unwrap();
    model.extend_from_slice(&big[..BLOCK]);
    assert_eq!(buf.read(..).unwrap(), model);
    let last = buf.stats();
    assert_eq!(last.inserted_bytes, before.inserted_bytes + 1 + big.len() as u64 + BLOCK as u64);
    assert!(last.spilled_bytes > 0 && last.unsaved_in_memory_bytes < BLOCK);
}
