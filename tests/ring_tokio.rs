//! The async byte ring through tokio's I/O traits (feature `tokio`): every byte arrives in order
//! through `tokio::io::copy`, odd write and read sizes, several readers on other worker threads, and
//! `AsyncBufRead` reading the ring's own memory; an aborted writer fails the reads after its bytes.
#![cfg(feature = "tokio")]

use std::future::Future;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use omnibuf::ring::asynchronous::Circular;
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt};

/// `future`'s output, or a panic if it has not finished after a minute: a lost wake-up fails the test
/// instead of hanging the suite.
async fn within_a_minute<T>(future: impl Future<Output = T>) -> T {
    tokio::time::timeout(Duration::from_secs(60), future).await.expect("a wait never ended: lost wake-up?")
}

/// Deterministic bytes that do not repeat with any small period.
fn content(len: usize) -> Vec<u8> {
    let mut x = 0x9e37_79b9_7f4a_7c15u64;
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x as u8
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn copy_through_a_ring_delivers_every_byte_to_every_reader() {
    let data = content(3 << 20 | 12345);
    let mut writer = Circular::with_capacity::<u8>(64 << 10).unwrap();
    let readers: Vec<_> = (0..3)
        .map(|i| {
            let mut reader = writer.add_reader();
            tokio::spawn(async move {
                // Reads of odd sizes, so that reads end anywhere, also across the wrap.
                let mut out = Vec::new();
                let mut buf = vec![0u8; 1000 + 777 * i];
                loop {
                    let n = reader.read(&mut buf).await.unwrap();
                    if n == 0 {
                        return out;
                    }
                    out.extend_from_slice(&buf[..n]);
                }
            })
        })
        .collect();
    let mut source = &data[..];
    let copied = within_a_minute(tokio::io::copy(&mut source, &mut writer)).await.unwrap();
    writer.shutdown().await.unwrap();
    drop(writer);
    assert_eq!(copied, data.len() as u64);
    for reader in readers {
        let out = within_a_minute(reader).await.unwrap();
        assert_eq!(out.len(), data.len());
        assert!(out == data, "a reader saw other bytes than were written");
    }
}

#[tokio::test]
async fn buf_read_hands_out_the_ring_memory_and_ends_at_the_writers_drop() {
    let mut writer = Circular::with_capacity::<u8>(4096).unwrap();
    let mut reader = writer.add_reader();
    writer.write_all(b"first line\nsecond").await.unwrap();
    let ring_bytes = reader.fill_buf().await.unwrap();
    assert_eq!(ring_bytes, b"first line\nsecond");
    let at = ring_bytes.as_ptr();
    // The same memory again, not a copy, until consumed.
    assert_eq!(reader.fill_buf().await.unwrap().as_ptr(), at);
    let mut line = String::new();
    reader.read_line(&mut line).await.unwrap();
    assert_eq!(line, "first line\n");
    drop(writer);
    let mut rest = Vec::new();
    reader.read_to_end(&mut rest).await.unwrap();
    assert_eq!(rest, b"second");
    assert!(reader.fill_buf().await.unwrap().is_empty(), "empty at the end of the stream");
}

/// `consume` past what `fill_buf` gave takes what it gave, as tokio's and std's `BufReader`s do, in
/// tokio's trait, futures-io's and std's: no panic, and never a byte past what `fill_buf` showed
/// (more may be published since).
#[tokio::test]
async fn consume_past_the_buffer_takes_what_was_shown() {
    use std::pin::Pin;
    let mut writer = Circular::with_capacity::<u8>(64).unwrap();
    let mut reader = writer.add_reader();
    writer.write_all(b"abc").await.unwrap();
    assert_eq!(reader.fill_buf().await.unwrap(), b"abc");
    tokio::io::AsyncBufRead::consume(Pin::new(&mut reader), usize::MAX);
    writer.write_all(b"de").await.unwrap();
    assert_eq!(reader.fill_buf().await.unwrap(), b"de");
    futures_io::AsyncBufRead::consume(Pin::new(&mut reader), 3);
    writer.write_all(b"f").await.unwrap();
    assert_eq!(reader.fill_buf().await.unwrap(), b"f");
    // "g" is published after the last fill_buf: consuming past "f" must not take it unseen.
    writer.write_all(b"g").await.unwrap();
    tokio::io::AsyncBufRead::consume(Pin::new(&mut reader), 2);
    writer.write_all(b"h").await.unwrap();
    assert_eq!(reader.fill_buf().await.unwrap(), b"gh");
    futures_io::AsyncBufRead::consume(Pin::new(&mut reader), 2);
    writer.write_all(b"i").await.unwrap();
    futures_io::AsyncBufRead::consume(Pin::new(&mut reader), 1); // nothing shown since: takes nothing
    writer.write_all(b"j").await.unwrap();
    drop(writer);
    let mut rest = Vec::new();
    reader.read_to_end(&mut rest).await.unwrap();
    assert_eq!(rest, b"ij");

    let mut writer = omnibuf::ring::sync::Circular::with_capacity::<u8>(64).unwrap();
    let mut reader = writer.add_reader();
    std::io::Write::write_all(&mut writer, b"gh").unwrap();
    assert_eq!(std::io::BufRead::fill_buf(&mut reader).unwrap(), b"gh");
    std::io::Write::write_all(&mut writer, b"i").unwrap();
    std::io::BufRead::consume(&mut reader, 5);
    assert_eq!(std::io::BufRead::fill_buf(&mut reader).unwrap(), b"i");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_writer_waits_for_room_and_a_slow_reader_loses_nothing() {
    let data = content(1 << 20);
    let mut writer = Circular::with_capacity::<u8>(4096).unwrap();
    let mut reader = writer.add_reader();
    let consumer = tokio::spawn(async move {
        let mut out = Vec::new();
        let mut buf = [0u8; 313];
        loop {
            tokio::task::yield_now().await;
            let n = reader.read(&mut buf).await.unwrap();
            if n == 0 {
                return out;
            }
            out.extend_from_slice(&buf[..n]);
        }
    });
    // Writes larger than the ring: write_all waits for room again and again.
    within_a_minute(async {
        for chunk in data.chunks(10_000) {
            writer.write_all(chunk).await.unwrap();
        }
    })
    .await;
    drop(writer);
    assert!(within_a_minute(consumer).await.unwrap() == data);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shutdown_ends_the_stream_while_the_writer_still_exists() {
    let data = content(1 << 20 | 321);
    let mut writer = Circular::with_capacity::<u8>(16 << 10).unwrap();
    let mut reader = writer.add_reader();
    // The reader copies to EOF with tokio::io::copy on another worker: it finishes only if shutdown
    // alone (the writer is kept until the end of the test) tells it the stream ended.
    let consumer = tokio::spawn(async move {
        let mut out = Vec::new();
        let n = tokio::io::copy(&mut reader, &mut out).await.unwrap();
        assert_eq!(n as usize, out.len());
        out
    });
    let mut source = &data[..];
    within_a_minute(tokio::io::copy(&mut source, &mut writer)).await.unwrap();
    writer.shutdown().await.unwrap();
    let out = within_a_minute(consumer).await.unwrap();
    assert!(out == data, "the reader saw other bytes than were written");
    // Closed: it takes nothing more, and says so.
    let refused = writer.write(b"late").await.unwrap_err();
    assert_eq!(refused.kind(), std::io::ErrorKind::BrokenPipe);
    assert!(writer.try_produce(1).is_err());
    assert!(writer.slice().await.is_empty(), "a closed writer has no room, and does not wait for any");
    // futures-io's close means the same.
    let mut other = Circular::with_capacity::<u8>(4096).unwrap();
    let mut reader = other.add_reader();
    futures_io::AsyncWrite::poll_close(
        std::pin::Pin::new(&mut other),
        &mut std::task::Context::from_waker(std::task::Waker::noop()),
    )
    .map(Result::unwrap)
    .is_ready()
    .then_some(())
    .expect("closing never waits");
    let mut rest = Vec::new();
    within_a_minute(reader.read_to_end(&mut rest)).await.unwrap();
    assert!(rest.is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_aborted_writer_fails_a_copy_after_every_byte_it_wrote() {
    let data = content(1 << 20 | 77);
    let mut writer = Circular::with_capacity::<u8>(16 << 10).unwrap();
    let mut reader = writer.add_reader();
    // tokio::io::copy takes Ok(0) for a whole stream: an aborted one must be an error instead.
    let consumer = tokio::spawn(async move {
        let mut out = Vec::new();
        let error =
            tokio::io::copy_buf(&mut tokio::io::BufReader::new(&mut reader), &mut out).await.unwrap_err();
        (out, error)
    });
    let mut source = &data[..];
    within_a_minute(tokio::io::copy(&mut source, &mut writer)).await.unwrap();
    writer.abort("the upstream connection reset");
    let (out, error) = within_a_minute(consumer).await.unwrap();
    assert!(out == data, "the bytes written before the abort all arrive");
    assert_eq!(error.kind(), std::io::ErrorKind::ConnectionAborted);
    assert!(error.to_string().ends_with("the upstream connection reset"), "{error}");
}

/// A flag that a task spawned now on this (current-thread) runtime sets when it runs: a loop on the
/// same thread sees it set only if one of its steps returned `Pending` to let the task run.
fn another_task() -> Arc<AtomicBool> {
    let ran = Arc::new(AtomicBool::new(false));
    let flag = ran.clone();
    tokio::spawn(async move { flag.store(true, Ordering::Relaxed) });
    ran
}

/// A loop over a ring that is always ready yields to the other tasks of its thread once the task's
/// budget (128 steps) is spent, as loops over tokio's own I/O types do, so that a timeout around it
/// can fire.
#[tokio::test(flavor = "current_thread")]
async fn loops_that_never_wait_still_let_other_tasks_run() {
    const STEPS: usize = 10_000;
    // A writer without readers: every write is ready at once.
    let mut writer = Circular::with_capacity::<u8>(4096).unwrap();
    let ran = another_task();
    for _ in 0..STEPS {
        writer.write_all(b"x").await.unwrap();
        if ran.load(Ordering::Relaxed) {
            break;
        }
    }
    assert!(ran.load(Ordering::Relaxed), "writes");

    // A reader at the end of the stream: every read is ready at once, with nothing.
    let mut writer = Circular::with_capacity::<u8>(4096).unwrap();
    let mut reader = writer.add_reader();
    writer.shutdown().await.unwrap();
    let ran = another_task();
    for _ in 0..STEPS {
        assert_eq!(reader.read(&mut [0; 16]).await.unwrap(), 0);
        if ran.load(Ordering::Relaxed) {
            break;
        }
    }
    assert!(ran.load(Ordering::Relaxed), "reads");

    // Zero-length reads, ready at once whether or not bytes are there (tokio's `duplex` takes a
    // unit for them too).
    let mut writer = Circular::with_capacity::<u8>(4096).unwrap();
    let mut reader = writer.add_reader();
    writer.write_all(b"x").await.unwrap();
    let ran = another_task();
    for _ in 0..STEPS {
        assert_eq!(reader.read(&mut []).await.unwrap(), 0);
        if ran.load(Ordering::Relaxed) {
            break;
        }
    }
    assert!(ran.load(Ordering::Relaxed), "zero-length reads");

    // `fill_buf` over published bytes that are never consumed.
    let mut writer = Circular::with_capacity::<u8>(4096).unwrap();
    let mut reader = writer.add_reader();
    writer.write_all(b"kept").await.unwrap();
    let ran = another_task();
    for _ in 0..STEPS {
        assert_eq!(reader.fill_buf().await.unwrap(), b"kept");
        if ran.load(Ordering::Relaxed) {
            break;
        }
    }
    assert!(ran.load(Ordering::Relaxed), "fill_buf");

    // And a timeout around such a loop fires.
    let mut writer = Circular::with_capacity::<u8>(4096).unwrap();
    let forever = async {
        loop {
            writer.write_all(b"x").await.unwrap();
        }
    };
    assert!(tokio::time::timeout(Duration::from_millis(1), forever).await.is_err());
}
