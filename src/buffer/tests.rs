//! Unit tests of the buffer module. The first group is the seed module's own tests, ported; the rest
//! cover what was added. Model-based property tests live in `tests/buffer_model.rs`.

use super::*;
use std::sync::Arc;

// ── the seed's tests ───────────────────────────────────────────────────────────────────────────────

#[test]
fn from_bytes_roundtrip() {
    let b = ZeroCopyBuffer::from_bytes(vec![1, 2, 3], BufferKind::raw());
    assert_eq!(b.len(), 3);
    assert_eq!(b.as_slice(), &[1, 2, 3]);
    assert_eq!(b.kind(), BufferKind::raw());
}

#[test]
fn clone_shares_storage() {
    let b = ZeroCopyBuffer::from_bytes(vec![0u8; 1024], BufferKind::raw());
    let c = b.clone();
    assert_eq!(b.sharers(), 2);
    assert_eq!(c.sharers(), 2);
    drop(c);
    assert_eq!(b.sharers(), 1);
}

#[test]
fn slice_shares_storage_and_preserves_kind() {
    let b = ZeroCopyBuffer::from_bytes(vec![10, 20, 30, 40], BufferKind::pcm16());
    let s = b.slice(1..3);
    assert_eq!(s.as_slice(), &[20, 30]);
    assert_eq!(s.kind(), BufferKind::pcm16());
    assert_eq!(b.sharers(), 2);
}

#[test]
fn slice_out_of_range_panics() {
    let b = ZeroCopyBuffer::from_bytes(vec![1, 2, 3], BufferKind::raw());
    let result = std::panic::catch_unwind(|| {
        let _ = b.slice(0..10);
    });
    assert!(result.is_err());
}

#[test]
fn retag_leaves_original_kind() {
    let b = ZeroCopyBuffer::from_bytes(vec![1, 2, 3], BufferKind::raw());
    let j = b.retag(BufferKind::jpeg());
    assert_eq!(b.kind(), BufferKind::raw());
    assert_eq!(j.kind(), BufferKind::jpeg());
    assert!(b.sharers() >= 2);
}

#[test]
fn buffer_mut_freeze_reuses_allocation() {
    let mut bm = BufferMut::with_capacity(1024, BufferKind::raw());
    bm.extend_from_slice(b"hello ");
    bm.extend_from_slice(b"world");
    let frozen = bm.freeze();
    assert_eq!(frozen.as_slice(), b"hello world");
    assert_eq!(frozen.len(), 11);
}

#[test]
fn sha256_computes_on_visible_slice_only() {
    let b = ZeroCopyBuffer::from_bytes(vec![b'a', b'b', b'c', b'd'], BufferKind::raw());
    let s = b.slice(1..3);
    let reference = ZeroCopyBuffer::from_bytes(b"bc".to_vec(), BufferKind::raw());
    assert_eq!(s.sha256(), reference.sha256());
}

#[test]
fn tenant_tag_propagates_through_clone_and_slice() {
    let b = ZeroCopyBuffer::from_bytes(vec![0u8; 16], BufferKind::raw()).with_tenant("alpha");
    let c = b.clone();
    assert_eq!(c.tenant_id(), Some("alpha"));
    let s = b.slice(0..4);
    assert_eq!(s.tenant_id(), Some("alpha"));
}

// ── added behaviour ────────────────────────────────────────────────────────────────────────────────

#[test]
fn freeze_keeps_the_allocation_even_below_capacity() {
    let mut bm = BufferMut::with_capacity(1024, BufferKind::raw());
    bm.extend_from_slice(b"short");
    let before = bm.as_slice().as_ptr();
    let frozen = bm.freeze();
    assert_eq!(frozen.as_ptr(), before, "freeze must not copy or reallocate");
}

#[test]
fn from_bytes_of_a_vec_does_not_copy() {
    let v = vec![9u8; 100];
    let ptr = v.as_ptr();
    let b = ZeroCopyBuffer::from_bytes(v, BufferKind::raw());
    assert_eq!(b.as_ptr(), ptr);
    let a: Arc<[u8]> = Arc::from(&b"shared"[..]);
    let ptr = a.as_ptr();
    assert_eq!(ZeroCopyBuffer::from_arc(a, BufferKind::raw()).as_ptr(), ptr);
}

#[test]
fn slices_point_into_the_same_memory() {
    let b = ZeroCopyBuffer::from_bytes((0u8..100).collect::<Vec<_>>(), BufferKind::raw());
    let s = b.slice(10..20);
    assert_eq!(s.as_ptr(), b.as_ptr().wrapping_add(10));
    let ss = s.slice(5..);
    assert_eq!(&ss[..], &[15, 16, 17, 18, 19]);
}

#[test]
fn try_slice_reports_the_bad_range() {
    let b = ZeroCopyBuffer::from_static(b"abcd", BufferKind::raw());
    #[allow(clippy::reversed_empty_ranges)] // the point of the test
    let reversed = b.try_slice(3..2);
    assert_eq!(reversed, Err(SliceError { start: 3, end: 2, len: 4 }));
    assert_eq!(b.try_slice(0..5), Err(SliceError { start: 0, end: 5, len: 4 }));
    assert_eq!(b.try_slice(..=usize::MAX).unwrap_err().end, usize::MAX);
    assert_eq!(b.try_slice(4..4).unwrap().len(), 0);
    assert_eq!(b.try_slice(..).unwrap(), b);
}

#[test]
fn panicking_slice_says_what_went_wrong() {
    let b = ZeroCopyBuffer::from_static(b"abc", BufferKind::raw());
    let err = std::panic::catch_unwind(|| b.slice(2..7)).unwrap_err();
    let msg = err.downcast_ref::<String>().unwrap();
    assert!(msg.contains("range 2..7 is out of bounds for a buffer of 3 bytes"), "{msg}");
}

#[test]
fn split_to_and_split_off() {
    let mut b = ZeroCopyBuffer::from_bytes(b"0123456789".to_vec(), BufferKind::text());
    let head = b.split_to(3);
    assert_eq!((&head[..], &b[..]), (&b"012"[..], &b"3456789"[..]));
    let tail = b.split_off(4);
    assert_eq!((&b[..], &tail[..]), (&b"3456"[..], &b"789"[..]));
    assert_eq!(head.kind(), BufferKind::text());
    assert_eq!(b.sharers(), 3);
    assert!(b.try_split_to(5).is_err());
    assert!(b.try_split_off(5).is_err());
    assert_eq!(&b[..], b"3456", "a failed split leaves the buffer unchanged");
}

#[test]
fn truncate_and_advance() {
    let mut b = ZeroCopyBuffer::from_static(b"abcdef", BufferKind::raw());
    b.advance(2);
    b.truncate(3);
    assert_eq!(&b[..], b"cde");
    b.truncate(10);
    assert_eq!(b.len(), 3);
    assert!(std::panic::catch_unwind(move || b.advance(4)).is_err());
}

#[test]
fn static_buffers_are_not_counted() {
    let b = ZeroCopyBuffer::from_static(b"static", BufferKind::raw());
    let c = b.clone();
    assert_eq!(c.sharers(), 1);
    assert_eq!(ZeroCopyBuffer::new().len(), 0);
    assert_eq!(ZeroCopyBuffer::default(), ZeroCopyBuffer::new());
}

#[test]
fn content_equality_ordering_and_hash() {
    use std::collections::HashSet;
    let a = ZeroCopyBuffer::from_bytes(b"same".to_vec(), BufferKind::raw());
    let b = ZeroCopyBuffer::from_static(b"xsamex", BufferKind::jpeg()).slice(1..5);
    assert_eq!(a, b, "equality looks at bytes, not kind or storage");
    assert!(ZeroCopyBuffer::from_static(b"a", BufferKind::raw()) < a);
    // Hash and equality look at the bytes only; the storage word's atomic (clippy's worry) never
    // changes them.
    #[allow(clippy::mutable_key_type)]
    let set: HashSet<ZeroCopyBuffer> = [a.clone()].into_iter().collect();
    assert!(set.contains(&b"same"[..]));
    assert_eq!(a, *"same");
    assert_eq!(a, b"same".to_vec());
}

#[test]
fn debug_is_readable_and_bounded() {
    let b = ZeroCopyBuffer::from_bytes(b"hi\n\xff".to_vec(), BufferKind::text()).with_tenant("t1");
    assert_eq!(
        format!("{b:?}"),
        r#"ZeroCopyBuffer { kind: "text", len: 4, tenant: "t1", bytes: b"hi\n\xff" }"#
    );
    let long = ZeroCopyBuffer::from_bytes(vec![b'a'; 100], BufferKind::raw());
    let shown = format!("{long:?}");
    assert!(shown.ends_with("...\" }") || shown.contains("\"..."), "{shown}");
    assert!(shown.len() < 120, "{shown}");
}

#[test]
fn custom_owner_is_dropped_with_the_last_view() {
    use std::sync::atomic::{AtomicUsize, Ordering};
    static DROPS: AtomicUsize = AtomicUsize::new(0);
    struct Owned(Vec<u8>);
    impl AsRef<[u8]> for Owned {
        fn as_ref(&self) -> &[u8] {
            &self.0
        }
    }
    impl Drop for Owned {
        fn drop(&mut self) {
            DROPS.fetch_add(1, Ordering::SeqCst);
        }
    }
    let b = ZeroCopyBuffer::from_owner(Owned(vec![1, 2, 3]), BufferKind::raw());
    let s = b.slice(1..);
    drop(b);
    assert_eq!(DROPS.load(Ordering::SeqCst), 0);
    let moved = std::thread::spawn(move || s.to_vec()).join().unwrap();
    assert_eq!(moved, [2, 3]);
    assert_eq!(DROPS.load(Ordering::SeqCst), 1);
}

#[test]
fn conversions() {
    assert_eq!(ZeroCopyBuffer::from(String::from("s")).kind(), BufferKind::text());
    assert_eq!(ZeroCopyBuffer::from("s").kind(), BufferKind::text());
    assert_eq!(ZeroCopyBuffer::from(vec![1u8]).kind(), BufferKind::raw());
    assert_eq!(ZeroCopyBuffer::from(vec![1u8].into_boxed_slice()), vec![1u8]);
    assert_eq!(Vec::from(ZeroCopyBuffer::from(&b"v"[..])), b"v");
    let frozen: ZeroCopyBuffer = BufferMut::from_vec(vec![4, 5], BufferKind::png()).into();
    assert_eq!(frozen.kind(), BufferKind::png());
}

#[test]
fn buffer_mut_write_and_tenant() {
    use std::io::Write;
    let mut b = BufferMut::new(BufferKind::json()).with_tenant("beta");
    write!(b, "{{\"n\":{}}}", 1).unwrap();
    b.extend([b' ']);
    b.as_mut_slice()[0] = b'{';
    assert_eq!(b.tenant_id(), Some("beta"));
    let f = b.freeze();
    assert_eq!(f, *"{\"n\":1} ");
    assert_eq!(f.tenant_id(), Some("beta"));
    assert_eq!(f.kind(), BufferKind::json());
}

#[test]
fn views_are_send_and_sync() {
    fn check<T: Send + Sync>() {}
    check::<ZeroCopyBuffer>();
    check::<BufferMut>();
}

#[cfg(feature = "bytes")]
#[test]
fn bytes_round_trips_are_zero_copy() {
    use bytes::{BufMut, Bytes, BytesMut};
    let b = ZeroCopyBuffer::from_bytes(b"payload".to_vec(), BufferKind::raw());
    let as_bytes = Bytes::from(b.clone());
    assert_eq!(as_bytes.as_ptr(), b.as_ptr());
    let back = ZeroCopyBuffer::from(as_bytes.clone());
    assert_eq!(back.as_ptr(), b.as_ptr());
    let mut bm = BytesMut::with_capacity(16);
    bm.put_slice(b"xyz");
    let ptr = bm.as_ptr();
    assert_eq!(ZeroCopyBuffer::from(bm).as_ptr(), ptr);

    let mut ours = BufferMut::with_capacity(8, BufferKind::raw());
    ours.put_u32(0xdead_beef);
    ours.put_slice(b"!");
    assert_eq!(&ours[..], b"\xde\xad\xbe\xef!");
    let ptr = ours.as_ptr();
    let theirs = BytesMut::from(ours);
    assert_eq!(theirs.as_ptr(), ptr);
}

// ── frozen vectors: no header until the first clone (issue 16) ───────────────────────────────────────

#[test]
fn a_frozen_vector_keeps_its_allocation_and_counts_views_once_shared() {
    // Spare capacity stays with the frozen storage and is freed with it (Miri checks the free's size).
    let mut bm = BufferMut::with_capacity(100, BufferKind::json()).with_tenant("t");
    bm.extend_from_slice(b"0123456789");
    let first = bm.as_ptr();
    let mut b = bm.freeze();
    assert_eq!((b.as_ptr(), b.sharers(), b.tenant_id()), (first, 1, Some("t")));
    b.truncate(4); // the unique state survives truncation: the pointer still is the allocation's start
    assert_eq!(b.sharers(), 1);
    let c = b.clone(); // promotes
    assert_eq!((b.sharers(), c.sharers(), &c[..]), (2, 2, &b"0123"[..]));
    let tail = c.slice(2..);
    assert_eq!((tail.sharers(), tail.kind(), &tail[..]), (3, BufferKind::json(), &b"23"[..]));
    drop(b);
    drop(c);
    assert_eq!(tail.sharers(), 1);
    // The last view (not the first) frees the vector.
    assert_eq!(std::thread::spawn(move || tail.to_vec()).join().unwrap(), b"23");
}

#[test]
fn a_unique_view_advanced_or_split_first_still_frees_from_the_start() {
    let mut b = ZeroCopyBuffer::from_bytes(b"abcdefgh".to_vec(), BufferKind::raw());
    b.advance(3); // moves the pointer: promotes first
    assert_eq!((&b[..], b.sharers()), (&b"defgh"[..], 1));
    let mut c = ZeroCopyBuffer::from(String::from("head:body"));
    let head = c.split_to(5);
    drop(c);
    assert_eq!((&head[..], head.kind()), (&b"head:"[..], BufferKind::text()));
    let boxed = ZeroCopyBuffer::from(vec![1u8, 2, 3].into_boxed_slice());
    assert_eq!(boxed.slice(1..2), [2u8][..]);
}

#[test]
fn an_unallocated_vector_freezes_and_counts_like_any_other() {
    let b = BufferMut::new(BufferKind::png()).with_tenant("t").freeze();
    assert_eq!((b.len(), b.kind(), b.tenant_id(), b.sharers()), (0, BufferKind::png(), Some("t"), 1));
    let c = b.clone();
    assert_eq!((c.len(), c.sharers(), b.sharers()), (0, 2, 2));
    let mut emptied = BufferMut::with_capacity(8, BufferKind::raw());
    emptied.extend_from_slice(b"x");
    emptied.clear();
    let e = emptied.freeze(); // allocated but empty: still freed when dropped
    assert_eq!((e.len(), e.clone().sharers()), (0, 2));
}

#[test]
fn threads_cloning_a_unique_view_at_once_agree_on_one_header() {
    // Every thread's first clone of the same unique view races to promote it; the loser must join
    // the winner's count, else a view would free the bytes under another (Miri flags the use after
    // free, and the counts below come out wrong).
    for round in 0..8 {
        let b = ZeroCopyBuffer::from_bytes(vec![round as u8; 64], BufferKind::raw());
        let clones: Vec<ZeroCopyBuffer> = std::thread::scope(|s| {
            let handles: Vec<_> = (0..3).map(|_| s.spawn(|| b.clone())).collect();
            handles.into_iter().map(|h| h.join().unwrap()).collect()
        });
        assert_eq!(b.sharers(), 4);
        drop(b);
        let mut clones = clones.into_iter();
        let last = clones.next().unwrap();
        std::thread::scope(|s| {
            for c in clones {
                s.spawn(move || assert_eq!(c[63], round as u8));
            }
        });
        assert_eq!((last.sharers(), last[0]), (1, round as u8));
    }
}

#[test]
fn an_owner_whose_bytes_panic_is_dropped_not_leaked() {
    use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
    static DROPPED: AtomicUsize = AtomicUsize::new(0);
    struct Broken;
    impl BufferOwner for Broken {
        fn owned_bytes(&self) -> &[u8] {
            panic!("an owner that cannot say where its bytes are");
        }
    }
    impl Drop for Broken {
        fn drop(&mut self) {
            DROPPED.fetch_add(1, SeqCst);
        }
    }
    let made = std::panic::catch_unwind(|| ZeroCopyBuffer::from_owner(Broken, BufferKind::raw()));
    assert!(made.is_err());
    assert_eq!(DROPPED.load(SeqCst), 1);
}
