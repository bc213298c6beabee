//! Bytes from a producer task to a consumer task through tokio's I/O traits: our async byte ring vs
//! `tokio::io::duplex` with a buffer of the same size, on a two-worker runtime, for three sizes of
//! that buffer (the ratio moves with it: how far the reader trails the writer decides whether the
//! bytes it copies out still sit in the other core's cache).
//!
//! Both sides do the same work: the producer `write_all`s chunks of one buffer, the consumer `read`s
//! into its own buffer until the end of the stream. A further row has our consumer read the ring's own
//! memory through `AsyncBufRead` (no copy out), for information.
//!
//! Each size runs with two placements of the tasks, which change the ratio more than anything the
//! ring does: the producer in `block_on` on the caller's thread and the consumer spawned (the two
//! always on two threads, each parking and waking the other), and both spawned (the runtime may run
//! them one after the other on one worker, where a wake-up costs no thread switch and both transports
//! are bound by their two copies).

use std::time::{Duration, Instant};

use omnibuf::ring::asynchronous::Circular;
use tokio::io::{AsyncBufReadExt, AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};

use crate::harness::{Goal, Harness};

/// The sizes of both pipes' buffers; the quick run takes the middle one only.
const PIPES: [usize; 3] = [256 << 10, 1 << 20, 4 << 20];
/// The size of each write and of the consumer's read buffer.
const CHUNK: usize = 64 << 10;

pub fn run(h: &mut Harness) {
    if !h.wants("tokio") {
        return;
    }
    eprintln!("tokio:");
    let total: usize = if h.quick() { 64 << 20 } else { 1 << 30 };
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).build().unwrap();
    let pipes = if h.quick() { &PIPES[1..2] } else { &PIPES[..] };
    for &pipe in pipes {
        for placement in Placement::ALL {
            compare(h, &runtime, total, pipe, placement);
        }
    }
}

/// One size of pipe with one placement of the tasks: ours against the peer, and ours in place.
fn compare(
    h: &mut Harness,
    runtime: &tokio::runtime::Runtime,
    total: usize,
    pipe: usize,
    placement: Placement,
) {
    let case = format!("{} MiB through a {} KiB pipe, 64 KiB chunks, {placement}", total >> 20, pipe >> 10);
    if !h.wants_case(&case) {
        return;
    }
    let (ours, duplex) = h.time_runs_alternating(
        ("omnibuf ring (AsyncRead)", || runtime.block_on(through_ring(total, pipe, placement, false))),
        ("tokio::io::duplex", || runtime.block_on(through_duplex(total, pipe, placement))),
        total as u64,
        5,
    );
    let in_place = h.time_runs("omnibuf ring (AsyncBufRead, no copy out)", total as u64, 5, || {
        runtime.block_on(through_ring(total, pipe, placement, true))
    });
    h.compare("tokio", &case, &ours, "tokio::io::duplex", &duplex, Goal::TimeRatioAtMost(0.5));
    let in_place_case = format!("{case}, reader in place");
    h.compare("tokio", &in_place_case, &in_place, "tokio::io::duplex", &duplex, Goal::None);
}

/// Where the producer runs; the consumer is always spawned.
#[derive(Clone, Copy)]
enum Placement {
    /// In the future given to `block_on`, on the caller's thread.
    Caller,
    /// Spawned too, on the runtime's workers.
    Spawned,
}

impl Placement {
    const ALL: [Placement; 2] = [Placement::Caller, Placement::Spawned];
}

impl std::fmt::Display for Placement {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Placement::Caller => "producer in block_on",
            Placement::Spawned => "both tasks spawned",
        })
    }
}

/// Runs `producer` as `placement` says, then waits for `consumer`, which must count `total` bytes.
async fn run_pair(
    placement: Placement,
    producer: impl std::future::Future<Output = ()> + Send + 'static,
    consumer: tokio::task::JoinHandle<usize>,
    total: usize,
) {
    match placement {
        Placement::Caller => producer.await,
        Placement::Spawned => tokio::spawn(producer).await.unwrap(),
    }
    assert_eq!(consumer.await.unwrap(), total);
}

async fn through_ring(total: usize, pipe: usize, placement: Placement, in_place: bool) -> Duration {
    let mut writer = Circular::with_capacity::<u8>(pipe).unwrap();
    let mut reader = writer.add_reader();
    let start = Instant::now();
    let consumer = tokio::spawn(async move {
        if in_place {
            let mut received = 0;
            loop {
                let n = reader.fill_buf().await.unwrap().len();
                if n == 0 {
                    return received;
                }
                received += n;
                reader.consume(n);
            }
        } else {
            consume(&mut reader).await
        }
    });
    run_pair(placement, async move { produce(&mut writer, total).await }, consumer, total).await;
    start.elapsed()
}

async fn through_duplex(total: usize, pipe: usize, placement: Placement) -> Duration {
    let (mut writer, mut reader) = tokio::io::duplex(pipe);
    let start = Instant::now();
    let consumer = tokio::spawn(async move { consume(&mut reader).await });
    run_pair(placement, async move { produce(&mut writer, total).await }, consumer, total).await;
    start.elapsed()
}

async fn produce(writer: &mut (impl AsyncWrite + Unpin), total: usize) {
    let chunk = vec![0x5a_u8; CHUNK];
    for _ in 0..total / CHUNK {
        writer.write_all(&chunk).await.unwrap();
    }
}

async fn consume(reader: &mut (impl AsyncRead + Unpin)) -> usize {
    let mut buf = vec![0u8; CHUNK];
    let mut received = 0;
    loop {
        let n = reader.read(&mut buf).await.unwrap();
        if n == 0 {
            return received;
        }
        received += n;
    }
}
