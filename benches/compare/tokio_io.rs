//! Bytes from a producer task to a consumer task through tokio's I/O traits: our async byte ring vs
//! `tokio::io::duplex` with a buffer of the same size, on a two-worker runtime, for three sizes of
//! that buffer (the ratio moves with it: how far the reader trails the writer decides whether the
//! bytes it copies out still sit in the other core's cache).
//!
//! Both sides do the same work: the producer `write_all`s chunks of one buffer, the consumer `read`s
//! into its own buffer until the end of the stream. A third row has our consumer read the ring's own
//! memory through `AsyncBufRead` (no copy out), for information.

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
        let case = format!("{} MiB through a {} KiB pipe, 64 KiB chunks", total >> 20, pipe >> 10);
        let (ours, duplex) = h.time_runs_alternating(
            ("omnibuf ring (AsyncRead)", || runtime.block_on(through_ring(total, pipe, false))),
            ("tokio::io::duplex", || runtime.block_on(through_duplex(total, pipe))),
            total as u64,
            5,
        );
        let in_place = h.time_runs("omnibuf ring (AsyncBufRead, no copy out)", total as u64, 5, || {
            runtime.block_on(through_ring(total, pipe, true))
        });
        h.compare("tokio", &case, &ours, "tokio::io::duplex", &duplex, Goal::TimeRatioAtMost(0.5));
        h.compare(
            "tokio",
            &format!("{case}, reader in place"),
            &in_place,
            "tokio::io::duplex",
            &duplex,
            Goal::None,
        );
    }
}

async fn through_ring(total: usize, pipe: usize, in_place: bool) -> Duration {
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
    produce(&mut writer, total).await;
    drop(writer);
    assert_eq!(consumer.await.unwrap(), total);
    start.elapsed()
}

async fn through_duplex(total: usize, pipe: usize) -> Duration {
    let (mut writer, mut reader) = tokio::io::duplex(pipe);
    let start = Instant::now();
    let consumer = tokio::spawn(async move { consume(&mut reader).await });
    produce(&mut writer, total).await;
    drop(writer);
    assert_eq!(consumer.await.unwrap(), total);
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
