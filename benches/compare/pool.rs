//! The buffer pool vs the system allocator and frozen-core's `BufPool`; mimalloc for information.

use std::alloc::{GlobalAlloc, Layout};
use std::hint::black_box;

use frozen_core::bufpool::{BufPool, BufPoolCfg};
use frozen_core::utils::BufferSize;
use omnibuf::BufferPool;

use crate::harness::{Goal, Harness, Timing};

/// Acquire + release pairs per call in the threaded cases.
const BATCH: u64 = 20_000;

pub fn run(h: &mut Harness) {
    if !h.wants("pool") {
        return;
    }
    eprintln!("pool:");
    let pool = BufferPool::builder().budget(1 << 30).track_outstanding(false).build().unwrap();
    // frozen-core's largest buffer unit is 16 KiB: a 64 KiB allocation is four contiguous units.
    let frozen = BufPool::new(BufPoolCfg { buffer_size: BufferSize::S16384, max_memory: 1 << 30 });
    let frozen_4k = BufPool::new(BufPoolCfg { buffer_size: BufferSize::S4096, max_memory: 1 << 30 });

    for (label, size) in [("4 KiB", 4096usize), ("64 KiB", 65536)] {
        let o = h.time(&format!("BufferPool acquire + release {label}"), 0, || {
            drop(black_box(pool.acquire(black_box(size)).unwrap()))
        });
        let sys = h.time(&format!("Vec::with_capacity + drop {label}"), 0, || {
            drop(black_box(Vec::<u8>::with_capacity(black_box(size))))
        });
        let fc = if size == 4096 {
            h.time(&format!("frozen_core BufPool allocate(1) + drop {label}"), 0, || {
                drop(black_box(frozen_4k.allocate(black_box(1))))
            })
        } else {
            h.time(&format!("frozen_core BufPool allocate(4) + drop {label}"), 0, || {
                drop(black_box(frozen.allocate(black_box(4))))
            })
        };
        let mi = h.time(&format!("mimalloc alloc + free {label}"), 0, || mimalloc_pair(black_box(size)));
        let case = format!("acquire + release {label}, 1 thread");
        h.compare("pool", &case, &o, "system allocator", &sys, Goal::TimeRatioAtMost(0.5));
        h.compare("pool", &case, &o, "frozen_core BufPool", &fc, Goal::TimeRatioAtMost(0.2));
        h.compare("pool", &case, &o, "mimalloc", &mi, Goal::None);
    }

    // Two threads contending on one pool vs one thread: throughput per op.
    for (label, size) in [("4 KiB", 4096usize), ("64 KiB", 65536)] {
        let one = threaded(h, &format!("BufferPool {label}, 1 thread"), 1, || {
            drop(black_box(pool.acquire(black_box(size)).unwrap()))
        });
        let two = threaded(h, &format!("BufferPool {label}, 2 threads"), 2, || {
            drop(black_box(pool.acquire(black_box(size)).unwrap()))
        });
        let sys_two = threaded(h, &format!("Vec::with_capacity {label}, 2 threads"), 2, || {
            drop(black_box(Vec::<u8>::with_capacity(black_box(size))))
        });
        let mi_two =
            threaded(h, &format!("mimalloc {label}, 2 threads"), 2, || mimalloc_pair(black_box(size)));
        let case = format!("acquire + release {label}, 2 threads");
        // At least 1.5x one thread's throughput: time per op at most 1/1.5 of one thread's.
        h.compare("pool", &case, &two, "omnibuf, 1 thread", &one, Goal::TimeRatioAtMost(1.0 / 1.5));
        h.compare("pool", &case, &two, "system allocator, 2 threads", &sys_two, Goal::None);
        h.compare("pool", &case, &two, "mimalloc, 2 threads", &mi_two, Goal::None);
    }
}

/// One allocation of `size` bytes from mimalloc and its release, as `Vec::with_capacity` + drop does
/// with the global allocator. mimalloc is called directly rather than installed as the global
/// allocator, so that every other row keeps the system allocator.
fn mimalloc_pair(size: usize) {
    let layout = Layout::from_size_align(size, 1).expect("a small size is a valid layout");
    // SAFETY: `layout` has a non-zero size (every caller passes a class size); the pointer is freed
    // once, with the layout it was allocated with, and never read or written.
    unsafe {
        let ptr = mimalloc::MiMalloc.alloc(layout);
        assert!(!ptr.is_null(), "mimalloc could not allocate {size} bytes");
        mimalloc::MiMalloc.dealloc(black_box(ptr), layout);
    }
}

/// Time per operation when `threads` threads each run `BATCH` operations at once.
fn threaded(h: &mut Harness, name: &str, threads: u64, op: impl Fn() + Sync) -> Timing {
    h.time(name, 0, || {
        std::thread::scope(|s| {
            for _ in 0..threads {
                s.spawn(|| {
                    for _ in 0..BATCH {
                        op();
                    }
                });
            }
        })
    })
    .per_op(BATCH * threads)
}
