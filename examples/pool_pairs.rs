//! Acquire + release pairs of one pool next to allocate + free pairs of the system allocator and
//! mimalloc, for two kinds of measurement that a busy machine does not spoil:
//!
//! - `pool_pairs (pool|malloc) SIZE PAIRS` runs `PAIRS` pairs, for counting instructions under
//!   callgrind (`scripts/pool-instructions.sh` runs two loop lengths and divides the difference);
//! - `pool_pairs min SIZE` times many short samples of each and prints the fastest sample's time per
//!   pair: a sample that no other process interrupted, which load makes rarer but not slower.
//!
//! ```text
//! cargo run --release --example pool_pairs -- pool 4096 200000
//! cargo run --release --example pool_pairs -- min 65536
//! ```

use std::alloc::{GlobalAlloc, Layout};
use std::hint::black_box;
use std::time::Instant;

use omnibuf::BufferPool;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let usage = "usage: pool_pairs (pool|malloc) SIZE PAIRS | pool_pairs min SIZE";
    let (what, size) = match args.as_slice() {
        [what, size, ..] => (what.as_str(), size.parse::<usize>().expect(usage)),
        _ => panic!("{usage}"),
    };
    // As the benchmark (`benches/compare/pool.rs`) sets it up.
    let pool = BufferPool::builder().budget(1 << 30).track_outstanding(false).build().unwrap();
    let pool_pair = || drop(black_box(pool.acquire(black_box(size)).unwrap()));
    let malloc_pair = || drop(black_box(Vec::<u8>::with_capacity(black_box(size))));
    let mimalloc_pair = || {
        let layout = Layout::from_size_align(size, 1).expect("a valid layout");
        // SAFETY: `layout` has a non-zero size; the pointer is freed once, with the layout it was
        // allocated with, and never read or written.
        unsafe {
            let ptr = mimalloc::MiMalloc.alloc(layout);
            assert!(!ptr.is_null());
            mimalloc::MiMalloc.dealloc(black_box(ptr), layout);
        }
    };
    match what {
        "min" => {
            let pool_ns = fastest(pool_pair);
            let malloc_ns = fastest(malloc_pair);
            let mimalloc_ns = fastest(mimalloc_pair);
            println!(
                "{size} bytes, fastest sample per pair: pool {pool_ns:.2} ns, malloc {malloc_ns:.2} ns, \
                 mimalloc {mimalloc_ns:.2} ns; pool / malloc {:.2}, pool / mimalloc {:.2}",
                pool_ns / malloc_ns,
                pool_ns / mimalloc_ns
            );
        }
        "pool" | "malloc" => {
            let pairs: u64 = args.get(2).and_then(|p| p.parse().ok()).expect(usage);
            for _ in 0..pairs {
                if what == "pool" {
                    pool_pair()
                } else {
                    malloc_pair()
                }
            }
        }
        _ => panic!("{usage}"),
    }
}

/// The fastest of many short samples, in nanoseconds per call of `op`.
fn fastest(op: impl Fn()) -> f64 {
    const CALLS: u32 = 2_000;
    for _ in 0..CALLS * 10 {
        op(); // warm up
    }
    (0..2_000)
        .map(|_| {
            let start = Instant::now();
            for _ in 0..CALLS {
                op();
            }
            start.elapsed().as_nanos() as f64 / f64::from(CALLS)
        })
        .fold(f64::INFINITY, f64::min)
}
