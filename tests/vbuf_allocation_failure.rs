//! An insert whose add-buffer block cannot be allocated fails with `AllocationFailed` and changes
//! nothing: not the content, not the add buffer (no bytes left that no piece names, no block sealed
//! that no piece names), and the next inserts work. In the wasm build the same allocation failing
//! was a trap that left the document unusable and its memory held for good.
//!
//! The test's own allocator refuses allocations of chosen sizes while it is armed: it runs in a
//! binary of its own, with one test, so that no other thread allocates those sizes meanwhile.

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};

use omnibuf::vbuf::{VbufError, VirtualBuffer, VirtualBufferOptions};

/// Allocations of this many bytes are counted, and refused once `ALLOWED` of them were made.
static REFUSED_SIZE: AtomicUsize = AtomicUsize::new(0);
static ALLOWED: AtomicUsize = AtomicUsize::new(0);

struct Refusing;

impl Refusing {
    fn refuses(size: usize) -> bool {
        size == REFUSED_SIZE.load(SeqCst)
            && ALLOWED.fetch_update(SeqCst, SeqCst, |n| n.checked_sub(1)).is_err()
    }
}

// SAFETY: every call goes to `System` unchanged, or returns null, which `GlobalAlloc` allows for a
// request that cannot be met.
unsafe impl GlobalAlloc for Refusing {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        if Self::refuses(layout.size()) {
            return std::ptr::null_mut();
        }
        // SAFETY: the caller's layout, passed on.
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: `ptr` came from `System` with this layout.
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        if Self::refuses(new_size) {
            return std::ptr::null_mut();
        }
        // SAFETY: the caller's block and sizes, passed on.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static ALLOCATOR: Refusing = Refusing;

/// Refuses allocations of `size` bytes after `allowed` more of them, until `disarm()`.
fn arm(size: usize, allowed: usize) {
    ALLOWED.store(allowed, SeqCst);
    REFUSED_SIZE.store(size, SeqCst);
}

fn disarm() {
    REFUSED_SIZE.store(0, SeqCst);
}

/// A block size no other allocation of the test is likely to have.
const BLOCK: usize = (1 << 20) + 12_345;

/// Bytes `n` long, different for each `seed`, so that a stale block would show.
fn pattern(n: usize, seed: u8) -> Vec<u8> {
    (0..n).map(|i| (i % 251) as u8 ^ seed).collect()
}

#[test]
fn an_insert_whose_block_cannot_be_allocated_changes_nothing() {
    let options = VirtualBufferOptions { block_size: BLOCK, ..VirtualBufferOptions::default() };
    let buf = VirtualBuffer::from_bytes_with(b"base".to_vec(), options).unwrap();
    buf.insert(4, b"abc").unwrap();
    let mut model = b"baseabc".to_vec();
    let before = buf.stats();

    // Part-way: two blocks are filled and sealed, the third cannot be had.
    let big = pattern(3 * BLOCK + 5, 1);
    arm(BLOCK, 2);
    let err = buf.insert(2, &big).unwrap_err();
    disarm();
    assert!(matches!(err, VbufError::AllocationFailed { bytes, .. } if bytes == BLOCK as u64), "{err}");
    assert_eq!(err.to_string(), format!("cannot allocate {BLOCK} bytes for inserted bytes"));
    // Before any block is sealed: the tail block (3 bytes in 4 KiB) cannot grow to 10,003 bytes.
    arm(10_003, 0);
    let err = buf.insert(0, &pattern(10_000, 2)).unwrap_err();
    disarm();
    assert!(matches!(err, VbufError::AllocationFailed { bytes: 10_000, .. }), "{err}");

    assert_unchanged(&buf, &model, &before);

    // Before anything changes: the copy of the tail block, kept in case a sealed block must be
    // taken back, cannot be had. (A tail of 7,777 bytes: an allocation size nothing else here makes.)
    let tail = pattern(7_777 - 3, 3);
    buf.insert(1, &tail).unwrap();
    model.splice(1..1, tail.iter().copied());
    let before = buf.stats();
    arm(7_777, 0);
    let err = buf.insert(0, &pattern(BLOCK, 4)).unwrap_err();
    disarm();
    assert!(matches!(err, VbufError::AllocationFailed { bytes: 7_777, .. }), "{err}");

    assert_unchanged(&buf, &model, &before);

    // Memory back: the same inserts work, and undo and redo see only them.
    buf.insert(2, &big).unwrap();
    model.splice(2..2, big.iter().copied());
    let small = pattern(10_000, 2);
    buf.insert(0, &small).unwrap();
    model.splice(0..0, small.iter().copied());
    buf.check_invariants();
    assert_eq!(buf.read(..).unwrap(), model[..]);
    assert!(buf.undo() && buf.undo() && buf.undo() && buf.undo());
    assert_eq!(buf.read(..).unwrap(), b"base"[..]);
    assert!(buf.redo() && buf.redo() && buf.redo() && buf.redo());
    assert_eq!(buf.read(..).unwrap(), model[..]);
}

/// The content is `model`, and the add buffer, the history and the pieces are as `before` showed.
fn assert_unchanged(buf: &VirtualBuffer, model: &[u8], before: &omnibuf::vbuf::VirtualBufferStats) {
    buf.check_invariants();
    assert_eq!(buf.read(..).unwrap(), model[..]);
    let after = buf.stats();
    assert_eq!(
        (after.inserted_bytes, after.unsaved_in_memory_bytes, after.undo_len, after.pieces),
        (before.inserted_bytes, before.unsaved_in_memory_bytes, before.undo_len, before.pieces)
    );
}
