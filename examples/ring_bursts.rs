//! Single `u64` items through a non-blocking ring next to rtrb, in bursts of 64 pushes then 64 pops
//! on one thread: the case "one u64 at a time, 1 thread, bursts of 64" of the comparison benchmark,
//! timed so that a busy machine does not spoil it.
//!
//! - `ring_bursts` lets the two rings take turns, sample by sample, and keeps each one's fastest
//!   sample: one that no other process interrupted, which load makes rarer but not slower. It prints
//!   the ratio of the fastest samples; run it a few times.
//! - `ring_bursts (omnibuf|rtrb) BURSTS` runs that many bursts through one ring, for counting
//!   instructions under callgrind: run two lengths and divide the difference by the extra items.
//!
//! ```text
//! cargo run --release --example ring_bursts
//! valgrind --tool=callgrind target/release/examples/ring_bursts omnibuf 1000
//! ```

use std::hint::black_box;
use std::time::Instant;

use omnibuf::ring::nonblocking;

const BURST: u64 = 64;
const BURSTS_PER_SAMPLE: u64 = 16;
const SAMPLES: usize = 20_000;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.as_slice() {
        [] => compare(),
        [ring, count] => {
            let count: u64 = count.parse().expect("BURSTS is a number");
            match ring.as_str() {
                "omnibuf" => count_ours(count),
                "rtrb" => count_theirs(count),
                _ => panic!("usage: ring_bursts [(omnibuf|rtrb) BURSTS]"),
            }
        }
        _ => panic!("usage: ring_bursts [(omnibuf|rtrb) BURSTS]"),
    }
}

fn count_ours(count: u64) {
    let mut writer = nonblocking::Circular::with_capacity::<u64>(4096).unwrap();
    let mut reader = writer.add_reader();
    for _ in 0..count.div_ceil(BURSTS_PER_SAMPLE) {
        bursts(|item| writer.push(item).unwrap(), || reader.pop().unwrap());
    }
}

fn count_theirs(count: u64) {
    let (mut producer, mut consumer) = rtrb::RingBuffer::<u64>::new(4096);
    for _ in 0..count.div_ceil(BURSTS_PER_SAMPLE) {
        bursts(|item| producer.push(item).unwrap(), || consumer.pop().unwrap());
    }
}

/// The two rings side by side, by fastest samples.
fn compare() {
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
