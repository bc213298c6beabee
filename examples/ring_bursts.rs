//! Single `u64` items through a non-blocking ring next to rtrb, in bursts of 64 pushes then 64 pops
//! on one thread: the case "one u64 at a time, 1 thread, bursts of 64" of the comparison benchmark,
//! timed so that a busy machine does not spoil it.
//!
//! The two rings take turns, sample by sample, and each keeps its fastest sample: one that no other
//! process interrupted, which load makes rarer but not slower. The ratio of the fastest samples is
//! printed; run it a few times.
//!
//! ```text
//! cargo run --release --example ring_bursts
//! ```

use std::hint::black_box;
use std::time::Instant;

use omnibuf::ring::nonblocking;

const BURST: u64 = 64;
const BURSTS_PER_SAMPLE: u64 = 16;
const SAMPLES: usize = 20_000;

fn main() {
    let mut writer = nonblocking::Circular::with_capacity::<u64>(4096).unwrap();
    let mut reader = writer.add_reader();
    let (mut producer, mut consumer) = rtrb::RingBuffer::<u64>::new(4096);
    let mut ours = || {
        bursts(|item| writer.push(item).unwrap(), || reader.pop().unwrap());
    };
    let mut theirs = || {
        bursts(|item| producer.push(item).unwrap(), || consumer.pop().unwrap());
    };
    let (mut our_best, mut their_best) = (f64::INFINITY, f64::INFINITY);
    for _ in 0..SAMPLES {
        our_best = our_best.min(time(&mut ours));
        their_best = their_best.min(time(&mut theirs));
    }
    println!(
        "one u64 at a time, bursts of {BURST}, fastest sample per item: omnibuf {our_best:.2} ns, \
         rtrb {their_best:.2} ns; omnibuf / rtrb {:.2}",
        our_best / their_best
    );
}

/// `BURSTS_PER_SAMPLE` bursts: `BURST` pushes, then as many pops.
#[inline(always)]
fn bursts(mut push: impl FnMut(u64), mut pop: impl FnMut() -> u64) {
    let mut sum = 0u64;
    for burst in 0..BURSTS_PER_SAMPLE {
        for i in 0..BURST {
            push(black_box(burst + i));
        }
        for _ in 0..BURST {
            sum = sum.wrapping_add(pop());
        }
    }
    black_box(sum);
}

/// Nanoseconds per item of one sample.
fn time(sample: &mut impl FnMut()) -> f64 {
    let start = Instant::now();
    sample();
    start.elapsed().as_nanos() as f64 / (BURST * BURSTS_PER_SAMPLE) as f64
}
