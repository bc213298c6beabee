//! Creating and dropping thousands of double-mapped buffers (and rings) leaves no file descriptor and no mapping
//! behind. Its own test binary (its own process), so that no other test's allocations move the counts.
// The bare double-mapped buffer is a test aid (omnibuf::testing, the `testing` feature).
#![cfg(all(target_os = "linux", feature = "testing"))]

use omnibuf::ring::{sync::Circular, RingBackend, RingOptions};
use omnibuf::testing::DoubleMappedBuffer;

fn count(dir_or_file: &str) -> usize {
    if dir_or_file.ends_with("fd") {
        std::fs::read_dir(dir_or_file).unwrap().count()
    } else {
        std::fs::read_to_string(dir_or_file).unwrap().lines().count()
    }
}

/// One test, so that nothing runs beside the counting (tests in a binary run in parallel).
#[test]
fn buffers_and_rings_leave_nothing_behind() {
    thousands_of_buffers();
    thousands_of_rings_with_readers();
}

fn thousands_of_buffers() {
    // Warm up whatever the first mapping sets up once (the allocator, the probe).
    drop(DoubleMappedBuffer::new(1).unwrap());
    let (fds, maps) = (count("/proc/self/fd"), count("/proc/self/maps"));
    for i in 0..5_000usize {
        let mut buf = DoubleMappedBuffer::new(4096 << (i % 8)).unwrap();
        let len = buf.len();
        buf.slice_mut(len - 1, 2).copy_from_slice(&[1, 2]);
        assert_eq!(buf.slice(0, 1), &[2]);
    }
    assert_eq!(count("/proc/self/fd"), fds, "file descriptors leaked");
    assert_eq!(count("/proc/self/maps"), maps, "mappings leaked");
}

fn thousands_of_rings_with_readers() {
    let options = RingOptions::default().backend(RingBackend::DoubleMapped);
    drop(Circular::with_options::<u64>(1, &options).unwrap());
    let (fds, maps) = (count("/proc/self/fd"), count("/proc/self/maps"));
    for i in 0..2_000usize {
        let mut writer = Circular::with_options::<u64>(512 << (i % 6), &options).unwrap();
        let mut reader = writer.add_reader();
        writer.slice()[0] = i as u64;
        writer.produce(1);
        assert_eq!(reader.slice().unwrap()[0], i as u64);
        reader.consume(1);
    }
    assert_eq!(count("/proc/self/fd"), fds, "file descriptors leaked");
    assert_eq!(count("/proc/self/maps"), maps, "mappings leaked");
}
