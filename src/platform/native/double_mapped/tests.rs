use super::*;

#[test]
fn writes_show_through_both_halves() {
    let mut buf = DoubleMappedBuffer::new(1).unwrap();
    let len = buf.len();
    assert_eq!(len, DoubleMappedBuffer::granularity(), "rounded up to one granule");
    assert!(buf.slice(0, len).iter().all(|&b| b == 0), "fresh memory is zeroed");
    buf.slice_mut(0, 3).copy_from_slice(b"abc");
    assert_eq!(buf.slice(len - 1, 4), b"\0abc", "the start is visible after the end");
    buf.slice_mut(len - 2, 4).copy_from_slice(b"WXYZ");
    assert_eq!(buf.slice(0, 2), b"YZ", "a write across the end lands at the start");
    assert_eq!(&buf.slice(len - 2, 5)[..4], b"WXYZ");
}

#[test]
fn sizes_round_up_to_the_granularity() {
    let g = DoubleMappedBuffer::granularity();
    assert!(g.is_power_of_two());
    assert_eq!(DoubleMappedBuffer::new(g).unwrap().len(), g);
    assert_eq!(DoubleMappedBuffer::new(g + 1).unwrap().len(), 2 * g);
    assert_eq!(DoubleMappedBuffer::new(0).unwrap().len(), g);
    assert!(DoubleMappedBuffer::new(usize::MAX).is_err(), "absurd sizes are errors, not panics");
}

#[test]
fn a_big_buffer_maps_and_aliases() {
    let mut buf = DoubleMappedBuffer::new(64 << 20).unwrap();
    let len = buf.len();
    let pattern: Vec<u8> = (0..len).map(|i| (i % 251) as u8).collect();
    buf.slice_mut(len / 2, len).copy_from_slice(&pattern);
    assert_eq!(buf.slice(len / 2, len), &pattern[..]);
    assert_eq!(buf.slice(0, len / 2), &pattern[len / 2..]);
}

#[test]
fn slices_outside_the_contract_panic_with_a_message() {
    let buf = DoubleMappedBuffer::new(1).unwrap();
    let len = buf.len();
    let err = std::panic::catch_unwind(|| buf.slice(len, 1)).unwrap_err();
    assert!(err.downcast_ref::<String>().unwrap().contains("starts in the first half"));
    assert!(std::panic::catch_unwind(|| buf.slice(0, len + 1)).is_err());
}

#[test]
fn options_work_or_fail_cleanly() {
    let huge = DoubleMappedBuffer::with_options(4 << 20, &MapOptions::default().huge_pages(true));
    assert!(huge.is_ok(), "huge pages fall back to normal pages silently");
    // mlock may exceed RLIMIT_MEMLOCK in a container: an error then, never a crash or a leak.
    match DoubleMappedBuffer::with_options(1, &MapOptions::default().lock_memory(true)) {
        Ok(mut buf) => buf.slice_mut(0, 1)[0] = 1,
        Err(e) => assert!(e.to_string().contains("mlock"), "{e}"),
    }
    let mut inherit =
        DoubleMappedBuffer::with_options(1, &MapOptions::default().inherit_on_fork(true)).unwrap();
    inherit.slice_mut(0, 1)[0] = 7;
    assert_eq!(inherit.slice(inherit.len() - 1, 2)[1], 7);
}

#[test]
fn buffers_move_between_threads() {
    let mut buf = DoubleMappedBuffer::new(1).unwrap();
    buf.slice_mut(0, 1)[0] = 42;
    let len = buf.len();
    let seen = std::thread::spawn(move || buf.slice(len - 1, 2)[1]).join().unwrap();
    assert_eq!(seen, 42);
}
