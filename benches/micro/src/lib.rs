//! Micro-benchmarks of buffers, the pool and the ring that compile natively and to wasm32, so that the
//! same work can be timed in both (`js/bench/wasm-vs-native.mjs` runs them natively, in Node and in
//! headless Chromium, and prints the ratios). The ring uses the mirror-copy backend everywhere (wasm
//! has no other), with the double-mapped one as an extra native row.
//!
//! Each case is timed in samples of about 20 ms, after a warm-up; the result is the median time per
//! operation.

use std::hint::black_box;

// std::time::Instant::now() panics on wasm32; web-time is std's clock natively, performance.now() there.
use omnibuf::ring::{nonblocking, RingBackend, RingOptions};
use omnibuf::{BufferKind, BufferMut, BufferPool, ZeroCopyBuffer};
use web_time::Instant;

const SAMPLES: usize = 11;
const SAMPLE_SECONDS: f64 = 0.02;

/// One result: the case and its median nanoseconds per operation.
pub struct Row {
    /// What was timed.
    pub case: &'static str,
    /// Median nanoseconds per operation.
    pub ns_per_op: f64,
}

/// Operations per call of a case's body. wasm engines compile a function again, optimized, only for
/// its later calls (there is no on-stack replacement), so a body that looped over a whole sample in one
/// call would run its baseline code throughout.
const BATCH: u64 = 64;

/// Times `op` (`op(k)` does `k` operations): finds a number of batches that lasts about a sample,
/// warms up, then returns the median nanoseconds per operation over the samples.
fn time(mut op: impl FnMut(u64)) -> f64 {
    let mut sample = |batches: u64| {
        let start = Instant::now();
        for _ in 0..batches {
            op(BATCH);
        }
        start.elapsed().as_secs_f64()
    };
    let mut batches = 1u64;
    loop {
        let secs = sample(batches);
        if secs >= SAMPLE_SECONDS / 4.0 || batches >= 1 << 24 {
            batches = ((batches as f64) * SAMPLE_SECONDS / secs.max(1e-9)).max(1.0) as u64;
            break;
        }
        batches *= 4;
    }
    for _ in 0..3 {
        sample(batches);
    }
    let mut per_op: Vec<f64> =
        (0..SAMPLES).map(|_| sample(batches) * 1e9 / (batches * BATCH) as f64).collect();
    per_op.sort_by(f64::total_cmp);
    per_op[SAMPLES / 2]
}

/// Writes `chunk`-byte chunks through a 1 MiB ring and reads them back, on one thread.
fn ring_round_trip(backend: RingBackend, chunk: usize) -> f64 {
    let options = RingOptions::default().backend(backend);
    let mut writer = nonblocking::Circular::with_options::<u8>(1 << 20, &options).expect("a 1 MiB ring");
    let mut reader = writer.add_reader();
    let data = vec![7u8; chunk];
    time(|n| {
        for _ in 0..n {
            // A slice may be shorter than all the room or data there is (positions are cached), so
            // both sides loop until the chunk is through.
            let mut written = 0;
            while written < chunk {
                let room = writer.slice();
                let k = room.len().min(chunk - written);
                room[..k].copy_from_slice(&data[written..written + k]);
                writer.produce(k);
                written += k;
            }
            let mut read = 0;
            while read < chunk {
                let got = reader.slice().expect("the writer is alive");
                let k = got.len();
                black_box(got.last());
                reader.consume(k);
                read += k;
            }
        }
    }) / chunk as f64
        * 64.0 // reported per 64 bytes moved, so that chunk sizes compare
}

/// Runs every case. Native-only rows (the double-mapped ring) are left out on wasm.
pub fn run() -> Vec<Row> {
    let mut rows = Vec::new();
    let buffer = ZeroCopyBuffer::from_bytes(vec![1u8; 1024], BufferKind::raw());
    rows.push(Row {
        case: "ZeroCopyBuffer clone + drop",
        ns_per_op: time(|n| (0..n).for_each(|_| drop(black_box(buffer.clone())))),
    });
    rows.push(Row {
        case: "ZeroCopyBuffer slice + drop",
        ns_per_op: time(|n| (0..n).for_each(|i| drop(black_box(buffer.slice((i % 64) as usize..512))))),
    });
    let piece = [3u8; 32];
    rows.push(Row {
        case: "BufferMut 32 appends of 32 B + freeze",
        ns_per_op: time(|n| {
            for _ in 0..n {
                let mut b = BufferMut::with_capacity(1024, BufferKind::raw());
                for _ in 0..32 {
                    b.extend_from_slice(&piece);
                }
                drop(black_box(b.freeze()));
            }
        }),
    });
    let pool = BufferPool::builder().classes([4096, 65536]).budget(64 << 20).build().expect("a valid pool");
    for (case, size) in [("pool acquire + release, 4 KiB", 4096), ("pool acquire + release, 64 KiB", 65536)] {
        rows.push(Row {
            case,
            ns_per_op: time(|n| (0..n).for_each(|_| drop(black_box(pool.try_acquire(size).expect("room"))))),
        });
    }
    rows.push(Row {
        case: "sha256 of 1 KiB",
        ns_per_op: time(|n| {
            (0..n).for_each(|_| {
                black_box(buffer.sha256());
            })
        }),
    });
    for (case, chunk) in [
        ("ring (mirror-copy), 64 B chunks, per 64 B", 64),
        ("ring (mirror-copy), 4 KiB chunks, per 64 B", 4096),
    ] {
        rows.push(Row { case, ns_per_op: ring_round_trip(RingBackend::MirrorCopy, chunk) });
    }
    if omnibuf::ring::double_mapping_available() {
        for (case, chunk) in [
            ("ring (double-mapped), 64 B chunks, per 64 B", 64),
            ("ring (double-mapped), 4 KiB chunks, per 64 B", 4096),
        ] {
            rows.push(Row { case, ns_per_op: ring_round_trip(RingBackend::DoubleMapped, chunk) });
        }
    }
    rows
}

/// The rows as JSON: `[{"case": "...", "nsPerOp": 12.3}, ...]`.
pub fn run_json() -> String {
    let rows: Vec<String> =
        run().iter().map(|r| format!("{{\"case\":\"{}\",\"nsPerOp\":{:.3}}}", r.case, r.ns_per_op)).collect();
    format!("[{}]", rows.join(","))
}

/// The wasm entry: the same as [`run_json`].
#[cfg(target_arch = "wasm32")]
#[wasm_bindgen::prelude::wasm_bindgen(js_name = runJson)]
pub fn run_json_wasm() -> String {
    run_json()
}
