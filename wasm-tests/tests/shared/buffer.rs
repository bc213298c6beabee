//! Zero-copy buffers on wasm32: storage sharing, slicing, splitting, freezing, kinds, hashing, tenants.

use omnibuf::{BufferKind, BufferKindRegistry, BufferMut, SliceError, ZeroCopyBuffer};
use wasm_bindgen_test::wasm_bindgen_test;

#[wasm_bindgen_test]
fn clone_shares_storage() {
    let b = ZeroCopyBuffer::from_bytes(vec![7u8; 1024], BufferKind::raw());
    let c = b.clone();
    assert_eq!(b.sharers(), 2);
    assert_eq!(c.as_ptr(), b.as_ptr(), "a clone points at the same bytes");
    drop(c);
    assert_eq!(b.sharers(), 1);
}

#[wasm_bindgen_test]
fn from_bytes_does_not_copy_a_vec() {
    let v = vec![9u8; 100];
    let ptr = v.as_ptr();
    assert_eq!(ZeroCopyBuffer::from_bytes(v, BufferKind::raw()).as_ptr(), ptr);
}

#[wasm_bindgen_test]
fn slice_shares_storage_and_keeps_kind() {
    let b = ZeroCopyBuffer::from_bytes((0u8..100).collect::<Vec<_>>(), BufferKind::pcm16());
    let s = b.slice(10..20);
    assert_eq!(s.as_ptr(), b.as_ptr().wrapping_add(10));
    assert_eq!(s.kind(), BufferKind::pcm16());
    assert_eq!(b.sharers(), 2);
    assert_eq!(&s.slice(5..)[..], &[15, 16, 17, 18, 19]);
}

#[wasm_bindgen_test]
#[should_panic(expected = "range 2..7 is out of bounds for a buffer of 3 bytes")]
fn slice_out_of_range_panics() {
    let b = ZeroCopyBuffer::from_static(b"abc", BufferKind::raw());
    let _ = b.slice(2..7);
}

#[wasm_bindgen_test]
fn try_slice_reports_the_bad_range() {
    let b = ZeroCopyBuffer::from_static(b"abcd", BufferKind::raw());
    #[allow(clippy::reversed_empty_ranges)] // a reversed range is what this test gives it
    let reversed = 3..2;
    assert_eq!(b.try_slice(reversed), Err(SliceError { start: 3, end: 2, len: 4 }));
    assert_eq!(b.try_slice(0..5), Err(SliceError { start: 0, end: 5, len: 4 }));
    assert_eq!(b.try_slice(4..4).unwrap().len(), 0);
    assert_eq!(b.try_slice(1..3).unwrap(), *"bc");
}

#[wasm_bindgen_test]
fn split_to_and_split_off() {
    let mut b = ZeroCopyBuffer::from_bytes(b"0123456789".to_vec(), BufferKind::text());
    let head = b.split_to(3);
    assert_eq!((&head[..], &b[..]), (&b"012"[..], &b"3456789"[..]));
    let tail = b.split_off(4);
    assert_eq!((&b[..], &tail[..]), (&b"3456"[..], &b"789"[..]));
    assert_eq!(tail.kind(), BufferKind::text());
    assert_eq!(b.sharers(), 3);
    assert!(b.try_split_to(5).is_err());
    assert_eq!(&b[..], b"3456", "a failed split leaves the buffer unchanged");
}

#[wasm_bindgen_test]
fn buffer_mut_freezes_without_copying() {
    let mut bm = BufferMut::with_capacity(1024, BufferKind::raw());
    bm.extend_from_slice(b"hello ");
    bm.extend_from_slice(b"world");
    let before = bm.as_slice().as_ptr();
    let frozen = bm.freeze();
    assert_eq!(frozen, *"hello world");
    assert_eq!(frozen.as_ptr(), before, "freeze must not copy, even below capacity");
}

#[wasm_bindgen_test]
fn built_in_kinds_and_the_registry() {
    assert_eq!(BufferKind::raw().name(), "raw");
    assert_eq!(BufferKind::jpeg().name(), "jpeg");
    assert_ne!(BufferKind::raw(), BufferKind::jpeg());
    assert!(BufferKind::pcm16().is_builtin());

    let a = BufferKind::register("wasm-test-kind").unwrap();
    let b = BufferKindRegistry::global().register("wasm-test-kind").unwrap();
    assert_eq!(a, b, "registering a name twice gives the same kind");
    assert!(!a.is_builtin());
    assert_eq!(a.name(), "wasm-test-kind");
    assert_eq!(BufferKind::lookup("wasm-test-kind"), Some(a));
    assert_eq!(BufferKind::lookup("never-registered-on-wasm"), None);

    let b = ZeroCopyBuffer::from_static(b"x", BufferKind::raw());
    assert_eq!(b.retag(a).kind(), a);
    assert_eq!(b.kind(), BufferKind::raw(), "retag leaves the original alone");
}

#[wasm_bindgen_test]
fn sha256_of_a_known_vector() {
    fn hex(digest: [u8; 32]) -> String {
        digest.iter().map(|b| format!("{b:02x}")).collect()
    }
    // FIPS 180-2, appendix B.1: SHA-256("abc").
    const ABC: &str = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";
    let b = ZeroCopyBuffer::from_bytes(b"xabcx".to_vec(), BufferKind::raw());
    assert_eq!(hex(b.slice(1..4).sha256()), ABC, "the hash covers the visible bytes only");
    assert_ne!(hex(b.sha256()), ABC);
}

#[wasm_bindgen_test]
fn tenant_propagates_through_clone_slice_and_freeze() {
    let b = ZeroCopyBuffer::from_bytes(vec![0u8; 16], BufferKind::raw()).with_tenant("alpha");
    assert_eq!(b.clone().tenant_id(), Some("alpha"));
    assert_eq!(b.slice(0..4).tenant_id(), Some("alpha"));
    assert_eq!(ZeroCopyBuffer::from_static(b"", BufferKind::raw()).tenant_id(), None);

    let mut m = BufferMut::new(BufferKind::json()).with_tenant("beta");
    m.extend_from_slice(b"{}");
    let f = m.freeze();
    assert_eq!((f.tenant_id(), f.kind()), (Some("beta"), BufferKind::json()));
}

#[wasm_bindgen_test]
fn bytes_round_trip_is_zero_copy() {
    let b = ZeroCopyBuffer::from_bytes(b"payload".to_vec(), BufferKind::raw());
    let as_bytes = bytes::Bytes::from(b.clone());
    assert_eq!(as_bytes.as_ptr(), b.as_ptr());
    assert_eq!(ZeroCopyBuffer::from(as_bytes).as_ptr(), b.as_ptr());
}

#[wasm_bindgen_test]
fn the_platform_clock_works() {
    // std::time::Instant::now() panics on wasm32; the crate's clock, which dates the buffers a pool
    // tracks, must not.
    let pool = omnibuf::BufferPool::builder().track_outstanding(true).build().unwrap();
    let held = pool.try_acquire(64).unwrap();
    let out = pool.outstanding().expect("tracking is on");
    assert_eq!(out.len(), 1);
    assert!(out[0].age < std::time::Duration::from_secs(3600));
    drop(held);
}
