//! Unit tests of the ring. Model-based property tests against `VecDeque` are `tests/ring_model.rs`.

use super::*;
use crate::test_tasks::{panicking_waker, BoxingTask, CountedTask};
use std::sync::Arc;

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
fn an_async_reader_is_a_stream_of_owned_copies_of_its_slices() {
    use futures_core::{FusedStream, Stream};
    use std::future::poll_fn;
    use std::pin::Pin;

    for backend in backends() {
        let mut w = asynchronous::Circular::with_options::<u32>(64, &options(backend)).unwrap();
        let capacity = w.capacity();
        let total = if cfg!(miri) { 300u32 } else { 100_000 };
        let consumers: Vec<_> = (0..2)
            .map(|_| {
                let mut r = w.add_reader();
                std::thread::spawn(move || {
                    block_on(async move {
                        // Every item kept to the end: a copy must not change when the ring reuses
                        // its slots.
                        let mut kept = Vec::new();
                        while let Some(items) = poll_fn(|cx| Pin::new(&mut r).poll_next(cx)).await {
                            assert!(!items.is_empty() && items.len() <= capacity, "{} items", items.len());
                            kept.push(items);
                        }
                        assert_eq!(poll_fn(|cx| Pin::new(&mut r).poll_next(cx)).await, None, "the end stays");
                        assert!(r.is_terminated(), "a fused stream");
                        assert_eq!(r.size_hint(), (0, Some(0)), "no slice to come");
                        kept.concat()
                    })
                })
            })
            .collect();
        block_on(async {
            let (mut next, mut size) = (0u32, 1usize);
            while next < total {
                let room = w.slice().await;
                let n = room.len().min((total - next) as usize).min(size);
                for slot in &mut room[..n] {
                    *slot = next;
                    next += 1;
                }
                w.produce(n);
                size = size % 37 + 1;
            }
        });
        // Not over while the readers may have items left, nor while the writer may write more.
        let idle = w.add_reader();
        assert!(!idle.is_terminated());
        assert_eq!(idle.size_hint(), (0, None));
        w.close(); // the end, with the writer still alive
        assert!(idle.is_terminated(), "closed, and nothing was written since it was added");
        assert_eq!(idle.size_hint(), (0, Some(0)));
        drop(idle);
        let expected: Vec<u32> = (0..total).collect();
        for consumer in consumers {
            assert!(consumer.join().unwrap() == expected, "{backend}");
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

#[test]
fn tags_come_with_their_items_sorted_and_are_checked_first() {
    let mut w = nonblocking::Circular::with_tags::<u8, &str>(16, &RingOptions::default()).unwrap();
    let mut r = w.add_reader();
    w.slice()[..4].copy_from_slice(b"abcd");
    // Given out of order, two on one item: delivered in item order, equal offsets as given.
    w.produce_with_tags(4, &[(3, "d"), (1, "b1"), (1, "b2")]);
    let (items, tags) = r.slice_with_tags().unwrap();
    assert_eq!(items, b"abcd");
    assert_eq!(tags.iter().collect::<Vec<_>>(), [(1, &"b1"), (1, &"b2"), (3, &"d")]);
    assert_eq!(tags.get(2), Some((3, &"d")));
    assert_eq!(format!("{tags:?}"), r#"[(1, "b1"), (1, "b2"), (3, "d")]"#);
    // Shown again until consumed past, with offsets from the new start.
    r.consume(2);
    let (_, tags) = r.slice_with_tags().unwrap();
    assert_eq!(tags.iter().collect::<Vec<_>>(), [(1, &"d")]);

    // A tag outside the produced items is an error, and nothing is produced or delivered.
    let err = w.try_produce_with_tags(2, &[(0, "ok"), (2, "outside")]).unwrap_err();
    assert!(matches!(err, RingError::TagOutsideProduced { offset: 2, produced: 2 }), "{err}");
    assert_eq!(err.to_string(), "cannot attach a tag at offset 2: only 2 items are produced");
    let cap = w.capacity();
    assert!(matches!(w.try_produce_with_tags(cap, &[(0, "full")]), Err(RingError::ProduceTooMuch { .. })));
    r.consume(2);
    let (items, tags) = r.slice_with_tags().unwrap();
    assert!(items.is_empty() && tags.is_empty());
}

/// The async `slice_with_tags()` shows every item published by then, as the async `slice()` does:
/// not only those a look before the last publish saw.
#[test]
fn async_slice_with_tags_shows_all_that_is_published() {
    let mut w = asynchronous::Circular::with_tags::<u8, &str>(16, &RingOptions::default()).unwrap();
    let mut r = w.add_reader();
    assert_eq!(w.push_slice(b"ab"), 2);
    assert_eq!(block_on(r.slice_with_tags()).unwrap().0, b"ab");
    r.consume(1);
    w.try_slice()[..3].copy_from_slice(b"cde");
    w.produce_with_tags(3, &[(2, "e")]);
    let (items, tags) = block_on(r.slice_with_tags()).unwrap();
    assert_eq!(items, b"bcde");
    assert_eq!(tags.iter().collect::<Vec<_>>(), [(3, &"e")]);
}

#[test]
fn tags_are_dropped_once_every_reader_has_consumed_them_or_is_gone() {
    let token = std::sync::Arc::new(());
    let count = || std::sync::Arc::strong_count(&token) - 1;
    let mut w =
        nonblocking::Circular::with_tags::<u32, std::sync::Arc<()>>(8, &RingOptions::default()).unwrap();
    // No readers: nothing is kept.
    w.produce_with_tags(1, &[(0, token.clone())]);
    assert_eq!(count(), 0);
    let (mut fast, slow) = (w.add_reader(), w.add_reader());
    w.produce_with_tags(2, &[(0, token.clone()), (1, token.clone())]);
    assert_eq!(count(), 4, "one copy per reader");
    fast.consume(1); // takes its copies out of its inbox and drops the first
    assert_eq!(count(), 3);
    drop(slow); // its inbox is emptied at once, not when the writer next looks
    assert_eq!(count(), 1);
    w.produce_with_tags(1, &[(0, token.clone())]); // not delivered to the dropped reader
    assert_eq!(count(), 2);
    drop(w);
    fast.consume(1);
    fast.consume(1);
    assert_eq!(count(), 0);
}

#[test]
fn a_look_at_the_readers_lets_go_of_every_gone_one() {
    use super::core::{Ring, Tagging, Waking, WriterCore};
    let ring = Ring::<u64>::new(8, &RingOptions::default()).unwrap();
    let mut w = WriterCore::<u64, NoTags>::new(ring, Waking::Nobody, Tagging::Off);
    let mut readers: Vec<_> = (0..5).map(|_| w.add_reader()).collect();
    let cap = w.capacity();
    for i in 0..cap as u64 {
        w.push(i, Waking::Nobody).unwrap();
    }
    // Gone: the first, the third and the last, which a removal in place must all find.
    for i in [4, 2, 0] {
        drop(readers.remove(i));
    }
    assert_eq!(w.push(99, Waking::Nobody), Err(99), "the live ones are a ring behind");
    assert_eq!(w.readers_listed(), 2, "a push that looks lets go too");
    for r in &mut readers {
        assert_eq!(r.pop(Waking::Nobody), Ok(0));
    }
    assert_eq!(w.push(99, Waking::Nobody), Ok(()), "the gone ones do not hold the writer back");
    assert_eq!(w.free(), 0);
    assert_eq!(w.readers_listed(), 2);
}

#[test]
fn readers_that_come_and_go_are_let_go_of_even_if_the_writer_never_looks() {
    use super::core::{Ring, Tagging, Waking, WriterCore};
    let ring = Ring::<u64>::new(8, &RingOptions::default()).unwrap();
    let mut w = WriterCore::<u64, NoTags>::new(ring, Waking::Nobody, Tagging::Off);
    let _live = w.add_reader();
    let mut most = 0;
    for _ in 0..10_000 {
        drop(w.add_reader());
        most = most.max(w.readers_listed());
    }
    assert!(most <= 32, "the writer listed {most} readers for one live one");
}

#[test]
fn only_tag_types_with_values_have_tag_code() {
    use super::tags::tags_can_exist;
    assert!(!tags_can_exist::<NoTags>());
    assert!(tags_can_exist::<()>(), "a () tag still marks an item");
    assert!(tags_can_exist::<std::sync::Arc<()>>());
}

#[test]
fn a_tag_of_a_type_with_one_value_comes_with_its_item() {
    let mut w = nonblocking::Circular::with_tags::<u32, ()>(8, &RingOptions::default()).unwrap();
    let mut r = w.add_reader();
    w.slice()[..2].copy_from_slice(&[1, 2]);
    w.produce_with_tags(2, &[(0, ()), (1, ())]);
    assert_eq!(r.pop(), Ok(1), "drops the first item's tag");
    let (_, tags) = r.slice_with_tags().unwrap();
    assert_eq!((tags.len(), tags.get(0)), (1, Some((0, &()))));
}

#[test]
fn each_reader_gets_each_tag_once_across_threads() {
    for backend in backends() {
        let mut w = sync::Circular::with_tags::<u32, u32>(64, &options(backend)).unwrap();
        let total = if cfg!(miri) { 200u32 } else { 100_000 };
        let handles: Vec<_> = (0..3)
            .map(|_| {
                let mut r = w.add_reader();
                std::thread::spawn(move || {
                    let (mut items, mut tags) = (0u32, Vec::new());
                    while let Some((slice, slice_tags)) = r.slice_with_tags() {
                        for (offset, &tag) in slice_tags {
                            assert_eq!(slice[offset], tag, "a tag arrives with its item");
                            tags.push(tag);
                        }
                        items += slice.len() as u32;
                        let n = slice.len();
                        r.consume(n);
                    }
                    (items, tags)
                })
            })
            .collect();
        let mut next = 0u32;
        while next < total {
            let room = w.slice();
            let n = room.len().min((total - next) as usize).min(37);
            let mut tags = Vec::new();
            for (offset, slot) in room[..n].iter_mut().enumerate() {
                *slot = next;
                if next % 5 == 0 {
                    tags.push((offset, next));
                }
                next += 1;
            }
            w.produce_with_tags(n, &tags);
        }
        drop(w);
        let expected: Vec<u32> = (0..total).filter(|x| x % 5 == 0).collect();
        for h in handles {
            assert_eq!(h.join().unwrap(), (total, expected.clone()), "{backend}: every tag once, in order");
        }
    }
}

#[test]
fn the_generic_flavour_runs_from_notifications_alone() {
    // Each side sleeps on its own channel and runs only when its notifier says so, like a task of an
    // event loop: a lost notification would leave a side waiting forever (here: for 60 s, then fail).
    use std::sync::mpsc;
    use std::time::Duration;
    let patience = Duration::from_secs(60);
    for backend in backends() {
        let (room_tx, room_rx) = mpsc::channel();
        let mut w = generic::Circular::with_options::<u32>(16, &options(backend), move || {
            let _ = room_tx.send(());
        })
        .unwrap();
        let total = if cfg!(miri) { 100u32 } else { 50_000 };
        let handles: Vec<_> = (0..2)
            .map(|_| {
                let (data_tx, data_rx) = mpsc::channel();
                let mut r = w.add_reader(move || {
                    let _ = data_tx.send(());
                });
                std::thread::spawn(move || {
                    let mut expected = 0u32;
                    while let Some(items) = r.slice() {
                        if items.is_empty() {
                            data_rx.recv_timeout(patience).expect("the reader was never notified");
                            continue;
                        }
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
        let mut next = 0u32;
        while next < total {
            let room = w.slice();
            if room.is_empty() {
                room_rx.recv_timeout(patience).expect("the writer was never notified");
                continue;
            }
            let n = room.len().min((total - next) as usize).min(7);
            for slot in &mut room[..n] {
                *slot = next;
                next += 1;
            }
            w.produce(n);
        }
        drop(w);
        for h in handles {
            assert_eq!(h.join().unwrap(), total, "{backend}");
        }
    }
}

#[test]
fn push_gives_the_item_back_when_full_and_overwrites_with_no_readers() {
    for backend in backends() {
        let mut w = nonblocking::Circular::with_options::<u64>(16, &options(backend)).unwrap();
        let cap = w.capacity();
        // No readers: never full, as with slices.
        for i in 0..3 * cap as u64 {
            assert_eq!(w.push(i), Ok(()), "{backend}");
        }
        let mut r = w.add_reader();
        assert_eq!(r.pop(), Err(PopError::Empty), "{backend}: a new reader starts now");
        for i in 0..cap as u64 {
            assert_eq!(w.push(i), Ok(()), "{backend}");
        }
        assert_eq!(w.push(7), Err(7), "{backend}: full, the item comes back");
        assert!(w.slice().is_empty(), "{backend}");
        assert!(w.try_produce(1).is_err(), "{backend}");
        assert_eq!(r.pop(), Ok(0), "{backend}");
        assert_eq!(w.push(7), Ok(()), "{backend}: the popped slot is free again");
        // The reader's view still ends where its first pop looked; the next look, after it has
        // consumed that, finds the item pushed across the end.
        let items = r.slice().unwrap();
        assert!(items.iter().copied().eq(1..cap as u64), "{backend}");
        r.consume(cap - 1);
        assert_eq!(r.slice(), Some(&[7][..]), "{backend}");
        assert_eq!(r.pop(), Ok(7), "{backend}");
        drop(r);
        assert_eq!(w.push(8), Ok(()), "{backend}: a dropped reader holds nothing back");
    }
}

#[test]
fn pop_drops_the_tags_of_its_item() {
    let token = std::sync::Arc::new(());
    let mut w =
        nonblocking::Circular::with_tags::<u32, std::sync::Arc<()>>(8, &RingOptions::default()).unwrap();
    let mut r = w.add_reader();
    w.slice()[..2].copy_from_slice(&[1, 2]);
    w.produce_with_tags(2, &[(1, token.clone())]);
    assert_eq!(r.pop(), Ok(1));
    assert_eq!(std::sync::Arc::strong_count(&token), 2, "the second item's tag is still held");
    let (items, tags) = r.slice_with_tags().unwrap();
    assert_eq!((items, tags.len()), (&[2][..], 1), "the tag's offset follows the pop");
    assert_eq!(tags.get(0).map(|(offset, _)| offset), Some(0));
    assert_eq!(r.pop(), Ok(2));
    assert_eq!(std::sync::Arc::strong_count(&token), 1, "popped past: dropped");
}

/// Collects what a reader gets, `step` by `step` (a pop or a slice), until `step` says the end.
fn collect(
    mut step: impl FnMut(&mut Vec<u64>) -> bool + Send + 'static,
) -> std::thread::JoinHandle<Vec<u64>> {
    std::thread::spawn(move || {
        let mut got = Vec::new();
        while step(&mut got) {}
        got
    })
}

fn every_item_in_order(handles: Vec<std::thread::JoinHandle<Vec<u64>>>, total: u64) {
    for h in handles {
        let got = h.join().unwrap();
        assert_eq!(got.len() as u64, total, "none lost or doubled");
        assert!(got.iter().copied().eq(0..total), "in order");
    }
}

/// A writer that mixes `push` with `slice` + `produce` (`pushes` of every 10 items are pushed, the
/// rest produced `room` at a time) and `readers` readers that mix `pop` with `slice` + `consume` (one
/// turn in `slice_every` takes up to `take` items from a slice): every reader gets every item, in order.
macro_rules! mixed_push_pop_test {
    ($name:ident, $flavour:ident, readers: $readers:expr, pushes: $pushes:expr, room: $room:expr,
     slice_every: $every:expr, take: $take:expr) => {
        #[test]
        fn $name() {
            let total = if cfg!(miri) { 200 } else { 300_000u64 };
            for backend in backends() {
                let mut w = $flavour::Circular::with_options::<u64>(64, &options(backend)).unwrap();
                let handles: Vec<_> = (0..$readers as u64)
                    .map(|k| {
                        let mut r = w.add_reader();
                        let mut turn = k;
                        collect(move |got| {
                            turn += 1;
                            if turn % $every == 0 {
                                let Some(items) = r.slice() else { return false };
                                let n = items.len().min($take);
                                got.extend_from_slice(&items[..n]);
                                r.consume(n);
                                true
                            } else {
                                r.pop().map(|x| got.push(x)).is_some()
                            }
                        })
                    })
                    .collect();
                let mut next = 0u64;
                while next < total {
                    if next % 10 < $pushes {
                        w.push(next);
                        next += 1;
                    } else {
                        let room = w.slice();
                        let n = room.len().min($room).min((total - next) as usize);
                        for slot in &mut room[..n] {
                            *slot = next;
                            next += 1;
                        }
                        w.produce(n);
                    }
                }
                drop(w);
                every_item_in_order(handles, total);
            }
        }
    };
}

mixed_push_pop_test!(the_sync_flavour_pushes_and_pops_across_threads_mixed_with_slices, sync,
    readers: 3, pushes: 7, room: 3, slice_every: 3, take: 5);
mixed_push_pop_test!(the_lockfree_flavour_pushes_and_pops_across_threads_mixed_with_slices, lockfree,
    readers: 2, pushes: 8, room: 2, slice_every: 4, take: 3);

#[test]
fn the_nonblocking_flavour_pushes_and_pops_across_threads() {
    let total = if cfg!(miri) { 200 } else { 300_000u64 };
    for backend in backends() {
        let mut w = nonblocking::Circular::with_options::<u64>(16, &options(backend)).unwrap();
        let handles: Vec<_> = (0..2)
            .map(|_| {
                let mut r = w.add_reader();
                collect(move |got| match r.pop() {
                    Ok(x) => {
                        got.push(x);
                        true
                    }
                    Err(PopError::Empty) => {
                        std::thread::yield_now();
                        true
                    }
                    Err(PopError::Finished) => false,
                })
            })
            .collect();
        for i in 0..total {
            while w.push(i).is_err() {
                std::thread::yield_now();
            }
        }
        drop(w);
        every_item_in_order(handles, total);
    }
}

/// Issue 13: both positions 10 items before the end, 50 items written into one writer slice (which
/// crosses the end), published as `produce(20)` (crossing the end) and then `produce(30)`: the reader
/// gets all 50 as written, on every backend and in every flavour. The mirror-copy backend used to
/// copy the stale first image over the last 30 (written through the second image).
macro_rules! split_produce_across_the_end_test {
    ($name:ident, $flavour:ident, |$w:ident| $writer:expr, |$r:ident| $reader:expr,
     slice: |$ws:ident| $wslice:expr, read: |$rs:ident| $rslice:expr) => {
        #[test]
        fn $name() {
            for backend in backends() {
                let $w = &options(backend);
                let mut w = $writer;
                let cap = w.capacity();
                let mut r = {
                    let $r = &mut w;
                    $reader
                };
                fn slice_of($ws: &mut $flavour::Writer<u32>) -> &mut [u32] {
                    $wslice
                }
                fn read($rs: &mut $flavour::Reader<u32>) -> Vec<u32> {
                    $rslice
                }
                // Both positions 10 items before the end.
                slice_of(&mut w);
                w.produce(cap - 10);
                assert_eq!(read(&mut r).len(), cap - 10);
                r.consume(cap - 10);
                let room = slice_of(&mut w);
                assert!(room.len() >= 50, "{backend}");
                for (i, slot) in room[..50].iter_mut().enumerate() {
                    *slot = 1000 + i as u32;
                }
                w.produce(20);
                w.produce(30);
                let expected: Vec<u32> = (1000..1050).collect();
                let mut got = Vec::new();
                while got.len() < 50 {
                    let items = read(&mut r);
                    got.extend_from_slice(&items);
                    r.consume(items.len());
                }
                assert_eq!(got, expected, "{backend}: what the reader gets");
                drop(w);
                assert!(read(&mut r).is_empty(), "{backend}");
            }
        }
    };
}

split_produce_across_the_end_test!(a_slice_produced_in_two_steps_across_the_end_arrives_whole_nonblocking,
    nonblocking, |o| nonblocking::Circular::with_options::<u32>(100, o).unwrap(), |w| w.add_reader(),
    slice: |w| w.slice(), read: |r| r.slice().map(<[u32]>::to_vec).unwrap_or_default());
split_produce_across_the_end_test!(a_slice_produced_in_two_steps_across_the_end_arrives_whole_sync,
    sync, |o| sync::Circular::with_options::<u32>(100, o).unwrap(), |w| w.add_reader(),
    slice: |w| w.slice(), read: |r| r.slice().map(<[u32]>::to_vec).unwrap_or_default());
split_produce_across_the_end_test!(a_slice_produced_in_two_steps_across_the_end_arrives_whole_lockfree,
    lockfree, |o| lockfree::Circular::with_options::<u32>(100, o).unwrap(), |w| w.add_reader(),
    slice: |w| w.slice(), read: |r| r.slice().map(<[u32]>::to_vec).unwrap_or_default());
split_produce_across_the_end_test!(a_slice_produced_in_two_steps_across_the_end_arrives_whole_async,
    asynchronous, |o| asynchronous::Circular::with_options::<u32>(100, o).unwrap(), |w| w.add_reader(),
    slice: |w| block_on(w.slice()),
    read: |r| block_on(r.slice()).map(<[u32]>::to_vec).unwrap_or_default());
split_produce_across_the_end_test!(a_slice_produced_in_two_steps_across_the_end_arrives_whole_generic,
    generic, |o| generic::Circular::with_options::<u32>(100, o, || {}).unwrap(), |w| w.add_reader(|| {}),
    slice: |w| w.slice(), read: |r| r.slice().map(<[u32]>::to_vec).unwrap_or_default());

/// `io::Write` copies into the free slots without taking the rest of them as written (so that a later
/// slice need not copy them on mirror-copy memory), yet what an earlier slice wrote and did not
/// produce yet stays there, on both backends, as the memory it is. The reader's slice starts before
/// the end, so it reads the writer's slots through the second image.
#[test]
fn io_writes_keep_what_an_earlier_slice_wrote_past_them() {
    use std::io::Write;
    for backend in backends() {
        let mut w = sync::Circular::with_options::<u8>(100, &options(backend)).unwrap();
        let cap = w.capacity();
        let mut r = w.add_reader();
        w.produce(cap - 10);
        r.consume(cap - 10);
        w.write_all(&[9; 10]).unwrap(); // unread: the reader stays 10 before the end
        let room = w.slice();
        let written: Vec<u8> = (0..50).map(|i| i as u8 + 1).collect();
        room[..50].copy_from_slice(&written);
        w.produce(20);
        w.write_all(b"XYZ").unwrap(); // over three of the slice's slots
        w.produce(27); // the rest of what the slice wrote
        let mut expected = vec![9; 10];
        expected.extend_from_slice(&written);
        expected[30..33].copy_from_slice(b"XYZ");
        let mut got = Vec::new();
        while got.len() < 60 {
            let items = r.slice().unwrap();
            got.extend_from_slice(items);
            let n = items.len();
            r.consume(n);
        }
        assert_eq!(got, expected, "{backend}");
    }
}

/// An item aligned above the page size (issue 13).
#[derive(Clone, Copy)]
#[repr(C, align(8192))]
struct PageAligned([u8; 8192]);
// SAFETY: bytes only, no padding (the size is the alignment); every bit pattern is valid.
unsafe impl Item for PageAligned {}

/// Items aligned above the page size get aligned slots at every position, on whichever backend the
/// automatic choice takes (the mirror, where the alignment is above the mapping granularity), and on
/// the mirror when asked for; asking for double mapping is an error exactly when a mapping's start
/// cannot align them.
#[test]
fn items_aligned_above_the_page_size_get_aligned_slices() {
    use crate::platform::ring_memory::RingMemoryError;
    let align = std::mem::align_of::<PageAligned>();
    let above_mappings = align > crate::platform::native::DoubleMappedBuffer::granularity();
    let mut rings = vec![nonblocking::Circular::with_capacity::<PageAligned>(5).unwrap()];
    rings.push(nonblocking::Circular::with_options(5, &options(RingBackend::MirrorCopy)).unwrap());
    match nonblocking::Circular::with_options::<PageAligned>(5, &options(RingBackend::DoubleMapped)) {
        Ok(w) => {
            assert!(!above_mappings, "double-mapped slots that cannot be aligned");
            rings.push(w);
        }
        Err(RingError::Memory(RingMemoryError::AlignmentAboveGranularity { align: a, .. })) => {
            assert!(above_mappings && a == align);
        }
        Err(RingError::Memory(RingMemoryError::DoubleMappingUnavailable)) => {
            assert!(!double_mapping_available());
        }
        Err(e) => panic!("{e}"),
    }
    if above_mappings {
        assert_eq!(rings[0].backend(), RingBackend::MirrorCopy);
    }
    for mut w in rings {
        let backend = w.backend();
        let mut r = w.add_reader();
        let aligned = |p: *const PageAligned| p as usize % align == 0;
        // One item at a time through two laps: every slot, and slices across the end.
        for i in 0..2 * w.capacity() {
            let room = w.slice();
            assert!(aligned(room.as_ptr()), "{backend}: writer slice at {i}");
            room[0].0[0] = i as u8;
            w.produce(1);
            let items = r.slice().unwrap();
            assert!(aligned(items.as_ptr()) && items[0].0[0] == i as u8, "{backend}: reader slice at {i}");
            r.consume(1);
        }
    }
}

/// vmcircbuffer parity (issue 13): the blocking flavours' `try_slice()` returns at once — empty when
/// `slice()` would wait, `None` at the end — and shares the positions of `slice()`.
macro_rules! try_slice_test {
    ($name:ident, $flavour:ident) => {
        #[test]
        fn $name() {
            for backend in backends() {
                let mut w = $flavour::Circular::with_options::<u16>(64, &options(backend)).unwrap();
                let cap = w.capacity();
                let mut r = w.add_reader();
                assert_eq!(r.try_slice(), Some(&[][..]), "{backend}: nothing yet");
                let room = w.try_slice();
                assert_eq!(room.len(), cap, "{backend}");
                room[..3].copy_from_slice(&[1, 2, 3]);
                w.produce(cap);
                assert!(w.try_slice().is_empty(), "{backend}: full");
                assert_eq!(r.try_slice().unwrap()[..3], [1, 2, 3], "{backend}");
                r.consume(2);
                assert_eq!(w.try_slice().len(), 2, "{backend}: room again");
                w.try_slice()[..2].copy_from_slice(&[4, 5]);
                w.produce(2);
                drop(w);
                let mut rest = Vec::new();
                while let Some(items) = r.try_slice() {
                    rest.extend_from_slice(items);
                    let n = items.len();
                    r.consume(n);
                }
                assert_eq!(rest.len(), cap, "{backend}: what was left, then the end");
                assert_eq!((rest[0], &rest[cap - 2..]), (3, &[4, 5][..]), "{backend}");
                assert_eq!(r.try_slice(), None);
            }
        }
    };
}

try_slice_test!(the_sync_flavour_try_slice_never_waits, sync);
try_slice_test!(the_async_flavour_try_slice_never_waits, asynchronous);
try_slice_test!(the_lockfree_flavour_try_slice_never_waits, lockfree);

/// vmcircbuffer parity (issue 13): `Circular::new()` is the smallest ring, one granule of whole items
/// (as double mapping rounds one item), and the same on the mirror.
#[test]
fn new_makes_the_smallest_ring_on_either_backend() {
    fn check<T: Item>(new: usize) {
        let size = std::mem::size_of::<T>();
        let items = crate::platform::ring_memory::minimum_items(size);
        assert_eq!(new, items);
        let granule = crate::platform::native::DoubleMappedBuffer::granularity();
        assert_eq!(new * size % granule, 0, "whole granules");
        assert_eq!(new, granule / gcd(granule, size), "the smallest: lcm(granule, size) / size");
        let mirror =
            nonblocking::Circular::with_options::<T>(items, &options(RingBackend::MirrorCopy)).unwrap();
        assert_eq!(mirror.capacity(), new, "the mirror's is the same");
        if double_mapping_available() {
            let one =
                nonblocking::Circular::with_options::<T>(1, &options(RingBackend::DoubleMapped)).unwrap();
            assert_eq!(one.capacity(), new, "double mapping's smallest");
        }
    }
    fn gcd(a: usize, b: usize) -> usize {
        if b == 0 {
            a
        } else {
            gcd(b, a % b)
        }
    }
    check::<u8>(sync::Circular::new::<u8>().unwrap().capacity());
    check::<u64>(asynchronous::Circular::new::<u64>().unwrap().capacity());
    check::<[u8; 3]>(lockfree::Circular::new::<[u8; 3]>().unwrap().capacity());
    check::<[u64; 3]>(nonblocking::Circular::new::<[u64; 3]>().unwrap().capacity());
    check::<u32>(generic::Circular::new::<u32>(|| {}).unwrap().capacity());
}

/// A slice's tags print the first few and how many more, not all of them (issue 13: `Debug` stays
/// bounded).
#[test]
fn tags_debug_is_bounded() {
    let mut w = nonblocking::Circular::with_tags::<u8, u32>(4096, &RingOptions::default()).unwrap();
    let mut r = w.add_reader();
    let tags: Vec<(usize, u32)> = (0..1000).map(|i| (i, i as u32)).collect();
    w.produce_with_tags(1000, &tags);
    let (_, few) = r.slice_with_tags().unwrap();
    let shown = format!("{few:?}");
    assert!(shown.starts_with("[(0, 0), (1, 1), ") && shown.ends_with("(15, 15), ...984 more]"), "{shown}");
    r.consume(998);
    let (_, two) = r.slice_with_tags().unwrap();
    assert_eq!(format!("{two:?}"), "[(0, 998), (1, 999)]");
}

/// `push_slice` takes what fits and never waits, in odd amounts across the end, mixed with slices
/// produced in steps, on both backends: the reader gets every item once, in order.
#[test]
fn push_slice_takes_what_fits_and_mixes_with_slices() {
    for backend in backends() {
        let mut w = asynchronous::Circular::with_options::<u32>(100, &options(backend)).unwrap();
        let cap = w.capacity();
        let mut r = w.add_reader();
        let (mut next, mut expected, mut got) = (0u32, Vec::new(), Vec::new());
        for round in 0..(4 * cap) {
            let n = 1 + (round * 7) % 13;
            let items: Vec<u32> = (next..next + n as u32).collect();
            let taken = if round % 3 == 0 {
                // A slice written whole and produced in two steps.
                let room = block_on(w.slice());
                let k = room.len().min(n);
                room[..k].copy_from_slice(&items[..k]);
                w.produce(k / 2);
                w.produce(k - k / 2);
                k
            } else {
                w.push_slice(&items)
            };
            assert!(taken <= n);
            expected.extend_from_slice(&items[..taken]);
            next += taken as u32;
            if round % 2 == 1 {
                while let Some(s) = r.try_slice().filter(|s| !s.is_empty()) {
                    let k = s.len().min(5);
                    got.extend_from_slice(&s[..k]);
                    r.consume(k);
                }
            }
        }
        drop(w);
        while let Some(s) = block_on(r.slice()) {
            got.extend_from_slice(s);
            let k = s.len();
            r.consume(k);
        }
        assert_eq!(got, expected, "{backend}");
        assert!(expected.len() > cap, "{backend}: the test went past the end");
    }
}

/// A write copies all that fits, even where the writer's last look at the readers is out of date
/// (it trusts that look only while it leaves half the ring free): every flavour's push_slice,
/// `io::Write` and `AsyncWrite`.
#[test]
fn a_write_copies_all_that_fits_after_the_readers_moved_on() {
    use std::io::Write;
    use std::pin::Pin;
    for backend in backends() {
        let mut w = nonblocking::Circular::with_options::<u8>(64, &options(backend)).unwrap();
        let cap = w.capacity();
        let mut r = w.add_reader();
        assert_eq!(w.push_slice(&vec![1; cap / 4]), cap / 4);
        r.consume(cap / 4); // all free again; the writer's last look says three quarters
        assert_eq!(w.push_slice(&vec![2; cap + 1]), cap, "{backend}: nonblocking push_slice");

        let mut w = sync::Circular::with_options::<u8>(64, &options(backend)).unwrap();
        let mut r = w.add_reader();
        w.write_all(&vec![1; cap / 4]).unwrap();
        r.consume(cap / 4);
        assert_eq!(w.write(&vec![2; cap]).unwrap(), cap, "{backend}: io::Write");

        let mut w = asynchronous::Circular::with_options::<u8>(64, &options(backend)).unwrap();
        let mut r = w.add_reader();
        assert_eq!(w.push_slice(&vec![1; cap / 4]), cap / 4);
        r.consume(cap / 4);
        let data = vec![2; cap];
        let write =
            |cx: &mut std::task::Context<'_>| futures_io::AsyncWrite::poll_write(Pin::new(&mut w), cx, &data);
        let written = block_on(std::future::poll_fn(write)).unwrap();
        assert_eq!(written, cap, "{backend}: AsyncWrite");
    }
}

#[test]
fn an_aborted_writer_leaves_its_published_items_and_then_a_reason_in_every_flavour() {
    fn check<W, R>(
        mut writer: W,
        mut reader: R,
        push: fn(&mut W, &[u8]) -> usize,
        abort: fn(W, &str),
        read: fn(&mut R) -> Option<Vec<u8>>,
        consume: fn(&mut R, usize),
        reason: fn(&R) -> Option<&str>,
    ) {
        assert_eq!(push(&mut writer, b"abc"), 3);
        assert_eq!(reason(&reader), None);
        abort(writer, "the source failed");
        // The reason shows at once; the published items are still read before the end.
        assert_eq!(reason(&reader), Some("the source failed"));
        assert_eq!(read(&mut reader).as_deref(), Some(&b"abc"[..]));
        consume(&mut reader, 3);
        assert_eq!(read(&mut reader), None);
        assert_eq!(reason(&reader), Some("the source failed"));
    }
    macro_rules! flavour {
        ($module:ident, $now:ident) => {{
            let mut w = $module::Circular::with_capacity::<u8>(64).unwrap();
            let r = w.add_reader();
            check(
                w,
                r,
                |w, b| w.push_slice(b),
                |w, why| w.abort(why),
                |r| r.$now().map(<[u8]>::to_vec),
                |r, n| r.consume(n),
                |r| r.abort_reason(),
            );
        }};
    }
    flavour!(sync, slice);
    flavour!(nonblocking, slice);
    flavour!(lockfree, try_slice);
    flavour!(asynchronous, try_slice);
    let mut w = generic::Circular::with_capacity::<u8>(64, || {}).unwrap();
    let r = w.add_reader(|| {});
    check(
        w,
        r,
        |w, b| w.push_slice(b),
        |w, why| w.abort(why),
        |r| r.slice().map(<[u8]>::to_vec),
        |r, n| r.consume(n),
        |r| r.abort_reason(),
    );

    // A normal end has no reason, and an async writer closed before it aborts keeps its normal end.
    let mut w = asynchronous::Circular::with_capacity::<u8>(64).unwrap();
    let r = w.add_reader();
    w.close();
    w.abort("too late");
    assert_eq!(r.abort_reason(), None);
}

#[test]
fn a_writer_dropped_while_its_thread_panics_aborts_the_stream() {
    let mut w = sync::Circular::with_capacity::<u8>(64).unwrap();
    let mut r = w.add_reader();
    let producer = std::thread::spawn(move || {
        w.push_slice(b"half");
        panic!("the producer failed");
    });
    assert!(producer.join().is_err());
    assert_eq!(r.slice(), Some(&b"half"[..]));
    r.consume(4);
    assert_eq!(r.slice(), None);
    assert_eq!(r.abort_reason(), Some("the writer's thread panicked"));
}

#[test]
fn byte_readers_fail_where_an_aborted_stream_ends() {
    use std::io::{BufRead, ErrorKind, Read, Write};

    // A blocking reader on another thread: `read_to_end` gets every byte, then the error.
    let mut w = sync::Circular::with_capacity::<u8>(1).unwrap();
    let mut r = w.add_reader();
    let data: Vec<u8> = (0..if cfg!(miri) { 300u32 } else { 100_000 }).map(|i| (i % 251) as u8).collect();
    let consumer = std::thread::spawn(move || {
        let mut got = Vec::new();
        let error = r.read_to_end(&mut got).unwrap_err();
        (got, error)
    });
    w.write_all(&data).unwrap();
    w.abort("disk full");
    let (got, error) = consumer.join().unwrap();
    assert!(got == data, "the bytes before the abort");
    assert_eq!(error.kind(), ErrorKind::ConnectionAborted);
    assert_eq!(error.to_string(), "the ring's writer aborted: disk full");

    // `BufRead` fails at the end too, and a normal end stays `Ok`.
    let mut w = sync::Circular::with_capacity::<u8>(64).unwrap();
    let mut r = w.add_reader();
    w.write_all(b"line\n").unwrap();
    w.abort("cut");
    let mut line = String::new();
    assert_eq!(r.read_line(&mut line).unwrap(), 5);
    assert_eq!(r.fill_buf().unwrap_err().kind(), ErrorKind::ConnectionAborted);
    let mut r = sync::Circular::with_capacity::<u8>(64).unwrap().add_reader(); // the writer is dropped
    assert_eq!(r.fill_buf().unwrap(), b"");

    // The async byte reader (futures-io).
    use futures_io::AsyncRead;
    use std::future::poll_fn;
    use std::pin::Pin;
    let mut w = asynchronous::Circular::with_capacity::<u8>(64).unwrap();
    let mut r = w.add_reader();
    w.push_slice(b"ab");
    w.abort("gone");
    let mut buf = [0u8; 8];
    assert_eq!(block_on(poll_fn(|cx| Pin::new(&mut r).poll_read(cx, &mut buf))).unwrap(), 2);
    let error = block_on(poll_fn(|cx| Pin::new(&mut r).poll_read(cx, &mut buf))).unwrap_err();
    assert_eq!(error.kind(), ErrorKind::ConnectionAborted);
}

/// A side whose thread stopped for good (it is never dropped, never used again): its orphan ends it
/// from another thread as dropping it would have, waking whoever waits on the other side.
#[test]
fn an_orphan_ends_a_side_its_thread_left_behind() {
    // A writer left behind: a reader waiting on another thread reads what it published, then the end
    // and the reason.
    let mut w = asynchronous::Circular::with_capacity::<u8>(64).unwrap();
    let mut r = w.add_reader();
    w.push_slice(b"published");
    let orphan = w.orphan();
    let reader = std::thread::spawn(move || {
        let mut got = Vec::new();
        while let Some(data) = block_on(r.slice()) {
            got.extend_from_slice(data);
            let n = data.len();
            r.consume(n);
        }
        (got, r.abort_reason().map(str::to_owned))
    });
    orphan.end("the writer's thread stopped");
    let (got, reason) = reader.join().unwrap();
    assert_eq!(got, b"published");
    assert_eq!(reason.as_deref(), Some("the writer's thread stopped"));
    drop(w); // as its thread never would: a no-op now

    // A writer that had ended normally keeps its normal end.
    let mut w = asynchronous::Circular::with_capacity::<u8>(64).unwrap();
    let r = w.add_reader();
    let orphan = w.orphan();
    w.close();
    orphan.end("too late");
    assert_eq!(r.abort_reason(), None);

    // A reader left behind: the writer, waiting for room, is woken and holds nothing back for it.
    let mut w = asynchronous::Circular::with_capacity::<u8>(16).unwrap();
    let r = w.add_reader();
    let mut live = w.add_reader();
    let capacity = w.capacity();
    w.produce(capacity);
    let orphan = r.orphan();
    let writer = std::thread::spawn(move || block_on(async move { w.slice().await.len() }));
    live.consume(capacity); // the live reader moves on; the orphaned one still holds the ring
    std::thread::sleep(std::time::Duration::from_millis(if cfg!(miri) { 1 } else { 20 }));
    orphan.end("unused for readers");
    assert_eq!(writer.join().unwrap(), capacity);
    drop(r);
}

#[test]
fn one_task_waiting_on_two_readers_is_woken_after_forgetting_one() {
    use std::future::Future;
    use std::task::Context;

    let (task, waker) = CountedTask::with_waker();
    let mut cx = Context::from_waker(&waker);
    let mut w = asynchronous::Circular::with_capacity::<u8>(16).unwrap();
    let mut a = w.add_reader();
    let mut b = w.add_reader();
    // The task gives up on `a` (a `select!` branch that lost) and waits on `b`.
    assert!(Box::pin(a.slice()).as_mut().poll(&mut cx).is_pending());
    let mut wait_b = Box::pin(b.slice());
    assert!(wait_b.as_mut().poll(&mut cx).is_pending());
    a.forget_waker(&waker);
    w.push_slice(b"x");
    // Once, or twice where a waker's clones do not compare equal (Miri): then `a`'s stays too.
    assert!(task.wakes() >= 1, "b's wait was forgotten with a's");
    assert_eq!(block_on(wait_b).map(<[u8]>::to_vec), Some(b"x".to_vec()));
}

/// A waker whose clones each have an address of their own (a bridge between executors may box each
/// one) matches no entry it put earlier: every poll puts one more, and every change must still wake
/// the task, on either side and through each kind of wait. (The count of waiters once took one
/// entry for two, wrapped, and a later change woke nobody: the task hung.)
#[test]
fn a_task_whose_waker_clones_differ_is_woken_by_every_change() {
    use futures_io::{AsyncRead, AsyncWrite};
    use std::future::Future;
    use std::pin::Pin;
    use std::task::{Context, Poll};

    let (task, waker) = BoxingTask::with_waker(true);
    let mut cx = Context::from_waker(&waker);
    let mut w = asynchronous::Circular::with_capacity::<u8>(64).unwrap();
    let mut r = w.add_reader();
    let mut buf = [0u8; 8];
    for byte in [b"a", b"b", b"c"] {
        // Polled twice before the change, as after a spurious wake-up.
        for _ in 0..2 {
            assert!(Pin::new(&mut r).poll_read(&mut cx, &mut buf).is_pending());
        }
        let before = task.wakes();
        w.push_slice(byte);
        assert!(task.wakes() > before, "the reader's task was not woken for {byte:?}");
        assert!(matches!(Pin::new(&mut r).poll_read(&mut cx, &mut buf), Poll::Ready(Ok(1))));
    }
    for _ in 0..3 {
        for _ in 0..2 {
            assert!(Box::pin(r.slice()).as_mut().poll(&mut cx).is_pending());
        }
        let before = task.wakes();
        w.push_slice(b"x");
        assert!(task.wakes() > before, "the reader's slice() was not woken");
        r.consume(1);
    }

    // The writer, waiting for room.
    while !w.try_slice().is_empty() {
        let room = w.try_slice().len();
        w.produce(room);
    }
    for _ in 0..3 {
        for _ in 0..2 {
            assert!(Pin::new(&mut w).poll_write(&mut cx, b"y").is_pending());
        }
        let before = task.wakes();
        r.consume(1);
        assert!(task.wakes() > before, "the writer's task was not woken");
        assert!(matches!(Pin::new(&mut w).poll_write(&mut cx, b"y"), Poll::Ready(Ok(1))));
    }

    // Such a task on a reader that goes leaves the other readers' wake-ups as they were.
    let (plain, plain_waker) = CountedTask::with_waker();
    let mut other = w.add_reader();
    let mut odd = w.add_reader();
    let unread = r.try_slice().map_or(0, <[u8]>::len);
    r.consume(unread);
    assert!(Pin::new(&mut odd).poll_read(&mut cx, &mut buf).is_pending());
    drop(odd);
    for _ in 0..3 {
        assert!(Pin::new(&mut other)
            .poll_read(&mut Context::from_waker(&plain_waker), &mut buf)
            .is_pending());
        let before = plain.wakes();
        w.push_slice(b"z");
        assert!(plain.wakes() > before, "another reader's task lost its wake-up");
        assert!(matches!(
            Pin::new(&mut other).poll_read(&mut Context::from_waker(&plain_waker), &mut buf),
            Poll::Ready(Ok(1))
        ));
        r.consume(1);
    }
}

/// A task whose waker's clone lands where another task's freed clone was is not taken for that
/// task: a slice() given up without `forget_waker` and another task's wait on the same reader are
/// each woken. (Entries were once known by the address of a clone made and freed at once, which
/// the allocator hands to the next clone: the second task was taken for the first and never woken.)
#[test]
fn a_task_is_not_taken_for_another_whose_freed_clone_had_its_address() {
    use std::future::Future;
    use std::task::Context;

    let (first, first_waker) = BoxingTask::with_waker(false);
    let (second, second_waker) = BoxingTask::with_waker(false);
    let mut w = asynchronous::Circular::with_capacity::<u8>(16).unwrap();
    let mut r = w.add_reader();
    assert!(Box::pin(r.slice()).as_mut().poll(&mut Context::from_waker(&first_waker)).is_pending());
    let mut wait = Box::pin(r.slice());
    assert!(wait.as_mut().poll(&mut Context::from_waker(&second_waker)).is_pending());
    w.push_slice(b"x");
    assert!(second.wakes() >= 1, "the second task was taken for the first, and not woken");
    assert!(first.wakes() >= 1);
    assert_eq!(block_on(wait).map(<[u8]>::to_vec), Some(b"x".to_vec()));
}

/// A side dropped while its task waits lets go of the task's waker: readers that wait and go while
/// the writer is idle (clients of a broadcast that disconnect) keep no task alive.
#[test]
fn a_dropped_side_lets_go_of_its_tasks_wakers() {
    use std::future::Future;
    use std::task::Context;

    let (task, waker) = CountedTask::with_waker();
    let mut cx = Context::from_waker(&waker);
    let mut w = asynchronous::Circular::with_capacity::<u8>(16).unwrap();
    let mut kept = w.add_reader();
    assert!(Box::pin(kept.slice()).as_mut().poll(&mut cx).is_pending());
    for _ in 0..100 {
        let mut r = w.add_reader();
        assert!(Box::pin(r.slice()).as_mut().poll(&mut cx).is_pending());
        drop(r);
    }
    assert_eq!(Arc::strong_count(&task), 3, "ours, `waker`, and the kept reader's");
    // A reader waited on by several tasks, one of which gave up (forgot its waker) before the
    // reader went: every other task's waker goes with the reader.
    let others: Vec<_> = (0..3).map(|_| CountedTask::with_waker()).collect();
    let mut shared = w.add_reader();
    for (_, other) in &others {
        assert!(Box::pin(shared.slice()).as_mut().poll(&mut Context::from_waker(other)).is_pending());
    }
    shared.forget_waker(&others[1].1);
    drop(shared);
    assert!(others.iter().all(|(other, _)| Arc::strong_count(other) == 2));
    w.push_slice(b"x");
    assert!(task.wakes() >= 1, "the kept reader's wait is still woken");
    assert_eq!(Arc::strong_count(&task), 2);
    // A reader that waited before that change and goes after it: nothing of it is left to take.
    let mut late = w.add_reader();
    assert!(Box::pin(late.slice()).as_mut().poll(&mut cx).is_pending());
    w.push_slice(b"y");
    drop(late);
    assert_eq!(Arc::strong_count(&task), 2);

    // The writer's side, waiting for room, the same: its drop lets go of its waker.
    let room = w.try_slice().len();
    w.produce(room);
    assert!(Box::pin(w.slice()).as_mut().poll(&mut cx).is_pending());
    assert_eq!(Arc::strong_count(&task), 3);
    drop(w);
    assert_eq!(Arc::strong_count(&task), 2);
    drop(kept);
}

#[test]
// Under Miri a waker's clones do not compare equal (`will_wake`), so every poll registers again.
#[cfg_attr(miri, ignore)]
fn a_side_polled_again_before_a_change_holds_one_waker() {
    use std::future::Future;
    use std::task::Context;

    let (task, waker) = CountedTask::with_waker();
    let mut cx = Context::from_waker(&waker);
    let mut w = asynchronous::Circular::with_capacity::<u8>(16).unwrap();
    let mut readers: Vec<_> = (0..3).map(|_| w.add_reader()).collect();
    for _ in 0..5 {
        for r in &mut readers {
            assert!(Box::pin(r.slice()).as_mut().poll(&mut cx).is_pending());
        }
    }
    // Ours, `waker`, and one clone per waiting reader, however often each was polled.
    assert_eq!(Arc::strong_count(&task), 2 + readers.len());
    readers[1].forget_waker(&waker);
    assert_eq!(Arc::strong_count(&task), 1 + readers.len());
    // Polled again after another side's forget: still one each (readers[1] registers again).
    for r in &mut readers {
        assert!(Box::pin(r.slice()).as_mut().poll(&mut cx).is_pending());
    }
    assert_eq!(Arc::strong_count(&task), 2 + readers.len());
    // Many sides forgetting (their places freed for others): the rest still find their entries.
    let mut more: Vec<_> = (0..40).map(|_| w.add_reader()).collect();
    for r in &mut more {
        assert!(Box::pin(r.slice()).as_mut().poll(&mut cx).is_pending());
    }
    for r in &more[..30] {
        r.forget_waker(&waker);
    }
    for r in readers.iter_mut().chain(&mut more[30..]) {
        assert!(Box::pin(r.slice()).as_mut().poll(&mut cx).is_pending());
    }
    assert_eq!(Arc::strong_count(&task), 2 + readers.len() + 10);
    drop(more);
    w.push_slice(b"x");
    assert_eq!(Arc::strong_count(&task), 2, "the change woke and let go of every clone");
    assert!(task.wakes() >= 1);

    // The writer's side, waiting for room, the same.
    readers.truncate(1);
    let room = w.try_slice().len();
    w.produce(room);
    for _ in 0..5 {
        assert!(Box::pin(w.slice()).as_mut().poll(&mut cx).is_pending());
    }
    assert_eq!(Arc::strong_count(&task), 3);
    w.forget_waker(&waker);
    assert_eq!(Arc::strong_count(&task), 2);
}

/// Through the I/O traits and the `Stream` a side is polled by one caller at a time: tasks that each
/// wait once and give up (reads that time out, tasks aborted) while nothing changes leave one waker
/// in the ring, the latest task's, which alone is woken.
#[test]
fn reads_and_writes_given_up_by_many_tasks_keep_the_latest_tasks_waker_only() {
    use futures_core::Stream;
    use futures_io::{AsyncRead, AsyncWrite};
    use std::future::Future;
    use std::pin::Pin;
    use std::task::{Context, Waker};

    let tasks: Vec<_> = (0..50).map(|_| CountedTask::with_waker()).collect();
    let held = |tasks: &[(Arc<CountedTask>, Waker)]| {
        tasks.iter().filter(|(task, _)| Arc::strong_count(task) > 2).count()
    };
    let mut w = asynchronous::Circular::with_capacity::<u8>(16).unwrap();
    let mut r = w.add_reader();
    let mut buf = [0u8; 4];
    for (_, waker) in &tasks {
        let cx = &mut Context::from_waker(waker);
        assert!(Pin::new(&mut r).poll_read(cx, &mut buf).is_pending());
    }
    assert_eq!(held(&tasks), 1, "AsyncRead");
    for (_, waker) in &tasks {
        assert!(Pin::new(&mut r).poll_next(&mut Context::from_waker(waker)).is_pending());
    }
    assert_eq!(held(&tasks), 1, "Stream");
    w.push_slice(b"x");
    assert_eq!(held(&tasks), 0);
    assert_eq!(tasks.iter().map(|(task, _)| task.wakes()).sum::<usize>(), 1, "the latest task, woken once");
    assert!(tasks.last().unwrap().0.wakes() == 1);

    // The writer waiting for room, the same.
    let room = w.try_slice().len();
    w.produce(room);
    for (_, waker) in &tasks {
        assert!(Pin::new(&mut w).poll_write(&mut Context::from_waker(waker), b"y").is_pending());
    }
    assert_eq!(held(&tasks), 1, "AsyncWrite");

    // `slice()` keeps every task's waker: one side may have many operations pending (the bindings').
    let fresh: Vec<_> = (0..3).map(|_| CountedTask::with_waker()).collect();
    for (_, waker) in &fresh {
        assert!(Box::pin(w.slice()).as_mut().poll(&mut Context::from_waker(waker)).is_pending());
    }
    assert_eq!(held(&fresh), 3);
    drop(r);
    assert_eq!(held(&fresh) + held(&tasks), 0, "the room woke every one");
}

/// Tasks that take turns polling one side through `slice()` while nothing changes keep one waker
/// each, however often each polls: each finds its own entry, whichever task polled last.
#[test]
fn tasks_taking_turns_on_one_side_keep_one_waker_each() {
    use std::future::Future;
    use std::task::Context;

    let tasks: Vec<_> = (0..2).map(|_| CountedTask::with_waker()).collect();
    let mut w = asynchronous::Circular::with_capacity::<u8>(16).unwrap();
    let mut r = w.add_reader();
    for round in 0..500 {
        let (_, waker) = &tasks[round % 2];
        assert!(Box::pin(r.slice()).as_mut().poll(&mut Context::from_waker(waker)).is_pending());
    }
    // Each task's Arc: its own, its waker's, and one entry's.
    assert_eq!(tasks.iter().map(|(task, _)| Arc::strong_count(task)).collect::<Vec<_>>(), [3, 3], "reader");
    // forget_waker takes out the one entry of that task, and only it.
    r.forget_waker(&tasks[0].1);
    assert_eq!(tasks.iter().map(|(task, _)| Arc::strong_count(task)).collect::<Vec<_>>(), [2, 3]);
    w.push_slice(b"x");
    assert_eq!(
        tasks.iter().map(|(task, _)| task.wakes()).collect::<Vec<_>>(),
        [0, 1],
        "woken once, the one left"
    );

    // The writer waiting for room, the same.
    let room = w.try_slice().len();
    w.produce(room);
    for round in 0..500 {
        let (_, waker) = &tasks[round % 2];
        assert!(Box::pin(w.slice()).as_mut().poll(&mut Context::from_waker(waker)).is_pending());
    }
    assert_eq!(tasks.iter().map(|(task, _)| Arc::strong_count(task)).collect::<Vec<_>>(), [3, 3], "writer");
    drop(r);
    assert_eq!(
        tasks.iter().map(|(task, _)| Arc::strong_count(task)).collect::<Vec<_>>(),
        [2, 2],
        "the room woke both"
    );
}

/// Readers that wait and go while nothing changes leave no trail in the wait list: a reader gone
/// frees its place, the next one takes it.
#[test]
fn readers_that_wait_and_go_while_nothing_changes_keep_the_wait_list_short() {
    use super::core::{Pollers, Ring, Tagging, Waking, WriterCore};
    use std::task::Context;

    let ring = Ring::<u8>::new(16, &RingOptions::default()).unwrap();
    let mut w = WriterCore::<u8, NoTags>::new(ring, Waking::Waiters, Tagging::Off);
    let (task, waker) = CountedTask::with_waker();
    let mut cx = Context::from_waker(&waker);
    let mut kept: Vec<_> = (0..3).map(|_| w.add_reader()).collect();
    for r in &mut kept {
        assert!(r.poll_data(&mut cx, Pollers::Each, |core| core.available() > 0).is_pending());
    }
    for _ in 0..1000 {
        let mut r = w.add_reader();
        assert!(r.poll_data(&mut cx, Pollers::Each, |core| core.available() > 0).is_pending());
    }
    assert_eq!(w.data_wait_list_len(), 4, "the kept readers' places and one reused by every other");
    assert_eq!(Arc::strong_count(&task), 2 + kept.len());
    drop(kept);
    assert_eq!(Arc::strong_count(&task), 2);
}

#[test]
fn a_waker_that_panics_stops_no_other_wake_up_and_no_change() {
    use std::future::Future;
    use std::task::Context;

    for backend in backends() {
        let (task, waker) = CountedTask::with_waker();
        let broken = panicking_waker();
        let mut w = asynchronous::Circular::with_options::<u8>(16, &options(backend)).unwrap();
        let (mut first, mut second) = (w.add_reader(), w.add_reader());
        assert!(Box::pin(first.slice()).as_mut().poll(&mut Context::from_waker(&broken)).is_pending());
        assert!(Box::pin(second.slice()).as_mut().poll(&mut Context::from_waker(&waker)).is_pending());
        assert_eq!(w.push_slice(b"x"), 1, "the write returns as usual");
        assert_eq!(task.wakes(), 1, "the reader after the broken one is woken");
        assert_eq!((first.try_slice(), second.try_slice()), (Some(&b"x"[..]), Some(&b"x"[..])));

        // A writer dropped as its thread unwinds, a broken waker waiting: the readers see the abort,
        // and the process goes on.
        first.consume(1);
        second.consume(1);
        assert!(Box::pin(first.slice()).as_mut().poll(&mut Context::from_waker(&broken)).is_pending());
        assert!(Box::pin(second.slice()).as_mut().poll(&mut Context::from_waker(&waker)).is_pending());
        let producer = std::thread::spawn(move || {
            let _writer = w;
            panic!("the producer fails");
        });
        assert!(producer.join().is_err());
        assert_eq!(task.wakes(), 2);
        assert_eq!(
            (first.abort_reason(), second.abort_reason()),
            (Some(core::WRITER_PANICKED), Some(core::WRITER_PANICKED))
        );
    }
}

#[test]
fn a_tag_whose_clone_or_drop_panics_leaves_no_reader_a_wrong_tag() {
    use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering::SeqCst};
    static CLONES_LEFT: AtomicUsize = AtomicUsize::new(usize::MAX);
    static DROP_PANICS: AtomicBool = AtomicBool::new(false);
    #[derive(Debug, PartialEq)]
    struct Tag(&'static str);
    impl Clone for Tag {
        fn clone(&self) -> Self {
            if CLONES_LEFT.fetch_sub(1, SeqCst) == 0 {
                panic!("a tag that cannot be copied");
            }
            Tag(self.0)
        }
    }
    impl Drop for Tag {
        fn drop(&mut self) {
            if self.0 == "boom" && DROP_PANICS.swap(false, SeqCst) {
                panic!("a tag that cannot be dropped");
            }
        }
    }
    let tags_of = |r: &mut nonblocking::Reader<u8, Tag>| -> Vec<(usize, &'static str)> {
        let (_, tags) = r.slice_with_tags().unwrap();
        tags.iter().map(|(offset, tag)| (offset, tag.0)).collect()
    };
    let mut w = nonblocking::Circular::with_tags::<u8, Tag>(16, &RingOptions::default()).unwrap();
    let mut readers = [w.add_reader(), w.add_reader()];

    // The second reader's copy cannot be made: nothing is produced, and no reader keeps a tag.
    w.slice()[0] = b'a';
    CLONES_LEFT.store(1, SeqCst);
    let failed = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        w.produce_with_tags(1, &[(0, Tag("lost"))])
    }));
    assert!(failed.is_err());
    CLONES_LEFT.store(usize::MAX, SeqCst);
    w.produce(1);
    for r in &mut readers {
        assert_eq!(tags_of(r), []);
        r.consume(1);
    }

    // A tag whose drop panics as the reader passes it: the tags passed with it go too.
    w.slice()[..3].copy_from_slice(b"abc");
    w.produce_with_tags(3, &[(0, Tag("a")), (1, Tag("boom")), (2, Tag("c"))]);
    DROP_PANICS.store(true, SeqCst);
    let [first, second] = &mut readers;
    assert!(std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| first.consume(3))).is_err());
    second.consume(3);
    w.slice()[..2].copy_from_slice(b"de");
    w.produce_with_tags(2, &[(1, Tag("e"))]);
    for r in &mut readers {
        assert_eq!(tags_of(r), [(1, "e")]);
        r.consume(2);
    }

    // The copy of a reader gone (still on the writer's list) panics as it is dropped: the items and
    // the live readers' tags were published first, so each tag stays with its item, and the next
    // items come with none.
    drop(w.add_reader());
    w.slice()[0] = b'f';
    DROP_PANICS.store(true, SeqCst);
    let failed = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        w.produce_with_tags(1, &[(0, Tag("boom"))])
    }));
    assert!(failed.is_err());
    for r in &mut readers {
        assert_eq!(r.slice(), Some(&b"f"[..]));
        assert_eq!(tags_of(r), [(0, "boom")]);
        r.consume(1);
    }
    w.slice()[0] = b'g';
    w.produce(1);
    for r in &mut readers {
        assert_eq!(tags_of(r), []);
    }
}
