use super::*;
use crate::platform::ring_memory::double_mapping_available;

/// Whether this system double-maps. Where it does not (Wine 8 has no placeholder reservations, a
/// sandbox may forbid the calls), the tests that need a mapping say so and stop, and
/// `unavailable_mapping_is_a_clear_error` checks the failure instead.
fn mapping_works(test: &str) -> bool {
    let works = double_mapping_available();
    if !works {
        eprintln!("{test}: skipped, double mapping is not available here");
    }
    works
}

#[test]
fn unavailable_mapping_is_a_clear_error() {
    if double_mapping_available() {
        return; // the other tests check the mapping
    }
    let err = DoubleMappedBuffer::new(1).unwrap_err();
    eprintln!("double mapping unavailable: {err}");
    // The message names the call that failed (there is one message per call on every system).
    let calls = [
        "memfd_create",
        "ftruncate",
        "mmap",
        "mach_vm",
        "VirtualAlloc2",
        "VirtualFree",
        "CreateFileMapping",
        "MapViewOfFile3",
    ];
    assert!(calls.iter().any(|call| err.to_string().contains(call)), "{err}");
}

#[test]
fn writes_show_through_both_halves() {
    if !mapping_works("writes_show_through_both_halves") {
        return;
    }
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
    assert!(DoubleMappedBuffer::new(usize::MAX).is_err(), "absurd sizes are errors, not panics");
    if !mapping_works("sizes_round_up_to_the_granularity") {
        return;
    }
    assert_eq!(DoubleMappedBuffer::new(g).unwrap().len(), g);
    assert_eq!(DoubleMappedBuffer::new(g + 1).unwrap().len(), 2 * g);
    assert_eq!(DoubleMappedBuffer::new(0).unwrap().len(), g);
}

#[test]
fn a_big_buffer_maps_and_aliases() {
    if !mapping_works("a_big_buffer_maps_and_aliases") {
        return;
    }
    let mut buf = DoubleMappedBuffer::new(64 << 20).unwrap();
    let len = buf.len();
    let pattern: Vec<u8> = (0..len).map(|i| (i % 251) as u8).collect();
    buf.slice_mut(len / 2, len).copy_from_slice(&pattern);
    assert_eq!(buf.slice(len / 2, len), &pattern[..]);
    assert_eq!(buf.slice(0, len / 2), &pattern[len / 2..]);
}

#[test]
fn slices_outside_the_contract_panic_with_a_message() {
    if !mapping_works("slices_outside_the_contract_panic_with_a_message") {
        return;
    }
    let buf = DoubleMappedBuffer::new(1).unwrap();
    let len = buf.len();
    let err = std::panic::catch_unwind(|| buf.slice(len, 1)).unwrap_err();
    assert!(err.downcast_ref::<String>().unwrap().contains("starts in the first half"));
    assert!(std::panic::catch_unwind(|| buf.slice(0, len + 1)).is_err());
}

#[test]
fn options_work_or_fail_cleanly() {
    if !mapping_works("options_work_or_fail_cleanly") {
        return;
    }
    let huge = DoubleMappedBuffer::with_options(4 << 20, &MapOptions::default().huge_pages(true));
    assert!(huge.is_ok(), "huge pages fall back to normal pages silently");
    // Locking may exceed RLIMIT_MEMLOCK in a container (the working set's minimum on Windows): an
    // error then, never a crash or a leak.
    match DoubleMappedBuffer::with_options(1, &MapOptions::default().lock_memory(true)) {
        Ok(mut buf) => buf.slice_mut(0, 1)[0] = 1,
        Err(e) => assert!(["mlock", "VirtualLock"].iter().any(|call| e.to_string().contains(call)), "{e}"),
    }
    let mut inherit =
        DoubleMappedBuffer::with_options(1, &MapOptions::default().inherit_on_fork(true)).unwrap();
    inherit.slice_mut(0, 1)[0] = 7;
    assert_eq!(inherit.slice(inherit.len() - 1, 2)[1], 7);
}

#[test]
fn buffers_move_between_threads() {
    if !mapping_works("buffers_move_between_threads") {
        return;
    }
    let mut buf = DoubleMappedBuffer::new(1).unwrap();
    buf.slice_mut(0, 1)[0] = 42;
    let len = buf.len();
    let seen = std::thread::spawn(move || buf.slice(len - 1, 2)[1]).join().unwrap();
    assert_eq!(seen, 42);
}
