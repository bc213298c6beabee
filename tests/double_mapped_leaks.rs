//! Creating and dropping thousands of double-mapped buffers leaves no file descriptor and no mapping
//! behind. Its own test binary (its own process), so that no other test's allocations move the counts.
#![cfg(target_os = "linux")]

use omnibuf::platform::native::DoubleMappedBuffer;

fn count(dir_or_file: &str) -> usize {
    if dir_or_file.ends_with("fd") {
        std::fs::read_dir(dir_or_file).unwrap().count()
    } else {
        std::fs::read_to_string(dir_or_file).unwrap().lines().count()
    }
}

#[test]
fn thousands_of_buffers_leave_nothing_behind() {
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
