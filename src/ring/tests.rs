//! Unit tests of the ring. Model-based property tests against `VecDeque` are `tests/ring_model.rs`.

use super::*;

fn backends() -> Vec<RingBackend> {
    if double_mapping_available() {
        vec![RingBackend::MirrorCopy, RingBackend::DoubleMapped]
    } else {
        vec![RingBackend::MirrorCopy]
    }
}

fn options(backend: RingBackend) -> RingOptions {
    RingOptions::default().backend(backend)
}

#[test]
fn a_slice_across_the_end_is_contiguous() {
    for backend in backends() {
        let mut w = nonblocking::Circular::with_options::<u32>(1000, &options(backend)).unwrap();
        let cap = w.capacity();
        let mut r = w.add_reader();
        // Move both positions near the end.
        w.produce(cap - 2);
        r.consume(cap - 2);
        let room = w.slice();
        assert_eq!(room.len(), cap, "{backend}: all slots usable, not n-1");
        for (i, slot) in room[..5].iter_mut().enumerate() {
            *slot = i as u32 + 100;
        }
        w.produce(5);
        assert_eq!(r.slice().unwrap(), &[100, 101, 102, 103, 104], "{backend}");
    }
}

#[test]
fn the_writer_waits_for_the_slowest_reader() {
    for backend in backends() {
        let mut w = nonblocking::Circular::with_options::<u8>(64, &options(backend)).unwrap();
        let cap = w.capacity();
        let mut fast = w.add_reader();
        let slow = w.add_reader();
        w.produce(cap);
        assert_eq!(w.slice().len(), 0, "{backend}: full");
        fast.consume(cap);
        assert_eq!(w.slice().len(), 0, "{backend}: still held by the slow reader");
        drop(slow);
        assert_eq!(w.slice().len(), cap, "{backend}: a dropped reader holds nothing back");
    }
}

#[test]
fn with_no_readers_the_writer_overwrites_and_new_readers_start_now() {
    let mut w = nonblocking::Circular::with_capacity::<u16>(16).unwrap();
    let cap = w.capacity();
    for _ in 0..3 {
        assert_eq!(w.slice().len(), cap);
        w.produce(cap);
    }
    let mut r = w.add_reader();
    assert_eq!(r.slice(), Some(&[][..]));
    w.slice()[0] = 7;
    w.produce(1);
    assert_eq!(r.slice(), Some(&[7][..]));
}

#[test]
fn readers_drain_after_the_writer_is_dropped() {
    let mut w = sync::Circular::with_capacity::<u64>(8).unwrap();
    let mut r = w.add_reader();
    w.slice()[..2].copy_from_slice(&[1, 2]);
    w.produce(2);
    drop(w);
    assert_eq!(r.slice(), Some(&[1, 2][..]));
    r.consume(2);
    assert_eq!(r.slice(), None);
}

#[test]
fn bad_input_is_an_error_or_a_clear_panic() {
    assert!(matches!(
        nonblocking::Circular::with_capacity::<u8>(0),
        Err(RingError::Memory(crate::platform::ring_memory::RingMemoryError::ZeroCapacity))
    ));
    assert!(matches!(nonblocking::Circular::with_capacity::<[u8; 0]>(10), Err(RingError::Memory(_))));
    assert!(nonblocking::Circular::with_capacity::<u64>(usize::MAX).is_err());
    let mut w = nonblocking::Circular::with_capacity::<u8>(16).unwrap();
    let cap = w.capacity();
    let mut r = w.add_reader();
    w.produce(cap);
    assert!(matches!(w.try_produce(1), Err(RingError::ProduceTooMuch { requested: 1, free: 0 })));
    assert!(matches!(r.try_consume(cap + 1), Err(RingError::ConsumeTooMuch { .. })));
    let msg = *std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| r.consume(cap + 1)))
        .unwrap_err()
        .downcast::<String>()
        .unwrap();
    assert!(msg.contains("only") && msg.contains("available"), "{msg}");
}

#[test]
fn two_threads_move_data_intact_through_a_small_ring() {
    for backend in backends() {
        let mut w = sync::Circular::with_options::<u32>(1024, &options(backend)).unwrap();
        let readers: Vec<_> = (0..3).map(|_| w.add_reader()).collect();
        let total: u32 = if cfg!(miri) { 600 } else { 2_000_000 };
        let handles: Vec<_> = readers
            .into_iter()
            .map(|mut r| {
                std::thread::spawn(move || {
                    let (mut expected, mut checksum) = (0u32, 0u64);
                    while let Some(items) = r.slice() {
                        for &x in items {
                            assert_eq!(x, expected, "items arrive in order, none lost or doubled");
                            expected += 1;
                            checksum = checksum.wrapping_mul(31).wrapping_add(x as u64);
                        }
                        let n = items.len();
                        r.consume(n);
                    }
                    (expected, checksum)
                })
            })
            .collect();
        let mut next = 0u32;
        let mut checksum = 0u64;
        while next < total {
            let room = w.slice();
            let n = room.len().min((total - next) as usize).min(777);
            for slot in &mut room[..n] {
                *slot = next;
                checksum = checksum.wrapping_mul(31).wrapping_add(next as u64);
                next += 1;
            }
            w.produce(n);
        }
        drop(w);
        for h in handles {
            assert_eq!(h.join().unwrap(), (total, checksum), "{backend}");
        }
    }
}

#[test]
fn the_lockfree_flavour_moves_data_intact_to_several_readers() {
    let mut w = lockfree::Circular::with_capacity::<u64>(256).unwrap();
    let total = if cfg!(miri) { 120 } else { 500_000u64 };
    let handles: Vec<_> = (0..2)
        .map(|_| {
            let mut r = w.add_reader();
            std::thread::spawn(move || {
                let mut expected = 0u64;
                while let Some(items) = r.slice() {
                    for &x in items {
                        assert_eq!(x, expected);
                        expected += 1;
                    }
                    let n = items.len();
                    r.consume(n);
                }
                expected
            })
        })
        .collect();
    let mut next = 0u64;
    while next < total {
        let room = w.slice();
        let n = room.len().min((total - next) as usize).min(100);
        for slot in &mut room[..n] {
            *slot = next;
            next += 1;
        }
        w.produce(n);
    }
    drop(w);
    for h in handles {
        assert_eq!(h.join().unwrap(), total);
    }
}

/// A minimal executor: polls on this thread, parks until woken.
fn block_on<F: std::future::Future>(future: F) -> F::Output {
    struct Unpark(std::thread::Thread);
    impl std::task::Wake for Unpark {
        fn wake(self: std::sync::Arc<Self>) {
            self.0.unpark();
        }
    }
    let waker = std::task::Waker::from(std::sync::Arc::new(Unpark(std::thread::current())));
    let mut cx = std::task::Context::from_waker(&waker);
    let mut future = std::pin::pin!(future);
    loop {
        if let std::task::Poll::Ready(v) = future.as_mut().poll(&mut cx) {
            return v;
        }
        std::thread::park();
    }
}

#[test]
fn the_async_flavour_streams_to_several_readers_in_order() {
    for backend in backends() {
        let mut w = asynchronous::Circular::with_options::<u32>(64, &options(backend)).unwrap();
        let total = if cfg!(miri) { 300u32 } else { 200_000 };
        let handles: Vec<_> = (0..2)
            .map(|_| {
                let mut r = w.add_reader();
                std::thread::spawn(move || {
                    block_on(async move {
                        let mut expected = 0u32;
                        while let Some(items) = r.slice().await {
                            for &x in items {
                                assert_eq!(x, expected);
                                expected += 1;
                            }
                            let n = items.len();
                            r.consume(n);
                        }
                        expected
                    })
                })
            })
            .collect();
        block_on(async {
            let mut next = 0u32;
            while next < total {
                let room = w.slice().await;
                let n = room.len().min((total - next) as usize).min(50);
                for slot in &mut room[..n] {
                    *slot = next;
                    next += 1;
                }
                w.produce(n);
            }
        });
        drop(w);
        for h in handles {
            assert_eq!(h.join().unwrap(), total, "{backend}");
        }
    }
}

#[test]
fn async_byte_rings_are_futures_io_streams() {
    use futures_io::{AsyncRead, AsyncWrite};
    use std::future::poll_fn;
    use std::pin::Pin;

    let mut w = asynchronous::Circular::with_capacity::<u8>(1).unwrap();
    let mut r = w.add_reader();
    let data: Vec<u8> = (0..if cfg!(miri) { 300u32 } else { 100_000 }).map(|i| (i % 253) as u8).collect();
    let expected = data.clone();
    let consumer = std::thread::spawn(move || {
        block_on(async move {
            let (mut got, mut buf) = (Vec::new(), [0u8; 97]);
            loop {
                let n = poll_fn(|cx| Pin::new(&mut r).poll_read(cx, &mut buf)).await.unwrap();
                if n == 0 {
                    return got;
                }
                got.extend_from_slice(&buf[..n]);
            }
        })
    });
    block_on(async {
        let mut rest = &data[..];
        while !rest.is_empty() {
            let n = poll_fn(|cx| Pin::new(&mut w).poll_write(cx, rest)).await.unwrap();
            rest = &rest[n..];
        }
    });
    drop(w);
    assert_eq!(consumer.join().unwrap(), expected);
}
