//! loom models of the ring's index protocol (`core.rs`), on mirror-copy memory (loom cannot map).
//!
//! Run with `RUSTFLAGS="--cfg loom" cargo test --release --lib loom`. loom runs the real code under
//! every interleaving (and the weak orderings its atomics allow): if the writer could reuse a slot
//! before a reader read it, or a reader could see a slot before it was written, some interleaving would
//! hand a reader a wrong value and the assertions below would fail.

use super::{generic, nonblocking, sync, PopError, RingBackend, RingOptions};
use crate::sync::{Arc, AtomicBool, Ordering::*};
use loom::thread;

fn mirror() -> RingOptions {
    RingOptions::default().backend(RingBackend::MirrorCopy)
}

/// Every interleaving with at most three preemptions: these models spin (the non-blocking flavour
/// yields in a loop), which unbounded exploration cannot finish; bugs of this kind show up within a
/// few preemptions.
fn model(f: impl Fn() + Sync + Send + 'static) {
    let mut builder = loom::model::Builder::new();
    builder.preemption_bound = Some(3);
    builder.max_branches = 100_000;
    builder.check(f);
}

#[test]
fn loom_a_reader_sees_every_item_in_order_through_a_two_slot_ring() {
    model(|| {
        let mut writer = nonblocking::Circular::with_options::<u32>(2, &mirror()).unwrap();
        let mut reader = writer.add_reader();
        let consumer = thread::spawn(move || {
            let mut expected = 0u32;
            while let Some(items) = reader.slice() {
                if items.is_empty() {
                    thread::yield_now();
                    continue;
                }
                let first = items[0];
                assert_eq!(first, expected, "an item was lost, doubled or overwritten unread");
                expected += 1;
                reader.consume(1);
            }
            expected
        });
        for i in 0..3u32 {
            loop {
                let room = writer.slice();
                if let Some(slot) = room.first_mut() {
                    *slot = i;
                    break;
                }
                thread::yield_now();
            }
            writer.produce(1);
        }
        drop(writer);
        assert_eq!(consumer.join().unwrap(), 3, "the reader drains everything before the end");
    });
}

#[test]
fn loom_a_reader_that_sees_the_end_of_an_aborted_stream_sees_why() {
    // The reason is recorded before the writer closes: a reader can never take an aborted stream for
    // a finished one, nor miss an item published before the abort.
    model(|| {
        let mut writer = nonblocking::Circular::with_options::<u32>(2, &mirror()).unwrap();
        let mut reader = writer.add_reader();
        let consumer = thread::spawn(move || {
            let mut seen = 0;
            while let Some(items) = reader.slice() {
                let n = items.len();
                seen += n;
                if n == 0 {
                    thread::yield_now();
                }
                reader.consume(n);
            }
            assert_eq!(
                reader.abort_reason(),
                Some("failed"),
                "the end of an aborted stream without a reason"
            );
            seen
        });
        writer.push(7).unwrap();
        writer.abort("failed");
        assert_eq!(consumer.join().unwrap(), 1, "the reader drains everything before the end");
    });
}

#[test]
fn loom_pushes_and_pops_keep_every_item_in_order_through_a_two_slot_ring() {
    // The single-item path: the writer looks at the reader only when its view shows no room, the
    // reader at the writer only when its view shows nothing. Three items through two slots make the
    // writer wait for the reader (and reuse a slot) at least once.
    model(|| {
        let mut writer = nonblocking::Circular::with_options::<u32>(2, &mirror()).unwrap();
        let mut reader = writer.add_reader();
        let consumer = thread::spawn(move || {
            let mut expected = 0u32;
            loop {
                match reader.pop() {
                    Ok(x) => {
                        assert_eq!(x, expected, "an item was lost, doubled or overwritten unread");
                        expected += 1;
                    }
                    Err(PopError::Empty) => thread::yield_now(),
                    Err(PopError::Finished) => return expected,
                }
            }
        });
        for i in 0..3u32 {
            while writer.push(i).is_err() {
                thread::yield_now();
            }
        }
        drop(writer);
        assert_eq!(consumer.join().unwrap(), 3, "the reader drains everything before the end");
    });
}

#[test]
fn loom_the_writer_waits_for_the_slower_of_two_readers() {
    // A one-slot ring, one item, two readers that each try once to read it. Whatever they managed,
    // the writer's free slot must agree: free only when both have consumed, and never a lost item.
    model(|| {
        let mut writer = nonblocking::Circular::with_options::<u8>(1, &mirror()).unwrap();
        let readers: Vec<_> = (0..2).map(|_| writer.add_reader()).collect();
        writer.slice()[0] = 42;
        writer.produce(1);
        let handles: Vec<_> = readers
            .into_iter()
            .map(|mut reader| {
                thread::spawn(move || {
                    let items = reader.slice().unwrap();
                    assert_eq!(items, [42], "a reader sees exactly the published item");
                    reader.consume(1);
                    reader // kept alive: a dropped reader would not hold the writer back
                })
            })
            .collect();
        // While the readers run, the writer may get the slot back only once both have read it; if it
        // does, it overwrites it, and a reader that had not read yet would see 7 instead of 42.
        let reused = match writer.slice().first_mut() {
            Some(slot) => {
                *slot = 7;
                writer.produce(1);
                true
            }
            None => false,
        };
        let readers: Vec<_> = handles.into_iter().map(|h| h.join().unwrap()).collect();
        let room_after = writer.slice().len();
        assert_eq!(room_after, usize::from(!reused), "the slot is free exactly when nobody still needs it");
        drop(readers);
    });
}

#[test]
fn loom_a_slice_published_in_two_steps_across_the_end_reaches_a_concurrent_reader() {
    // Issue 13: the writer fills one slice that crosses the end (its last two slots are written
    // through the mirror's second image) and publishes it as produce(2) then produce(1), while the
    // reader reads in whatever steps it finds, consuming what it saw plus, when it can, one item it
    // has not looked at (refused unless it is published now). Every value it sees must be the one
    // written; nothing may be seen before its produce.
    model(|| {
        let mut writer = nonblocking::Circular::with_options::<u32>(4, &mirror()).unwrap();
        let mut reader = writer.add_reader();
        // Both positions one slot before the end.
        writer.produce(3);
        reader.consume(3);
        let consumer = thread::spawn(move || {
            let mut next = 10u32;
            while let Some(items) = reader.slice() {
                for &x in items {
                    assert_eq!(x, next, "a stale or unpublished slot");
                    next += 1;
                }
                let n = items.len();
                if n == 0 {
                    thread::yield_now();
                } else if reader.try_consume(n + 1).is_ok() {
                    next += 1; // published after the look: consumed unseen
                } else {
                    reader.consume(n);
                }
            }
            next
        });
        writer.slice()[..3].copy_from_slice(&[10, 11, 12]);
        writer.produce(2);
        writer.produce(1);
        drop(writer);
        assert_eq!(consumer.join().unwrap(), 13, "the reader gets to the end");
    });
}

#[test]
fn loom_a_reader_that_sees_an_item_sees_its_tags() {
    // The writer delivers tags to the reader's inbox before it publishes their items; the reader
    // collects its inbox after it sees the items. Two tagged items through a one-slot ring.
    model(|| {
        let mut writer = nonblocking::Circular::with_tags::<u32, u32>(1, &mirror()).unwrap();
        let mut reader = writer.add_reader();
        let consumer = thread::spawn(move || {
            let mut seen = 0;
            while let Some((items, tags)) = reader.slice_with_tags() {
                if items.is_empty() {
                    thread::yield_now();
                    continue;
                }
                let tags: Vec<(usize, u32)> = tags.iter().map(|(offset, tag)| (offset, *tag)).collect();
                assert_eq!(tags, [(0, items[0] * 10)], "the item's tag, and only it");
                seen += 1;
                reader.consume(1);
            }
            seen
        });
        for i in 1..=2u32 {
            loop {
                let room = writer.slice();
                if let Some(slot) = room.first_mut() {
                    *slot = i;
                    break;
                }
                thread::yield_now();
            }
            writer.produce_with_tags(1, &[(0, i * 10)]);
        }
        drop(writer);
        assert_eq!(consumer.join().unwrap(), 2);
    });
}

/// A notifier that raises a flag; `wait` lowers it, yielding until it is raised.
fn flag() -> (Arc<AtomicBool>, impl Fn() + Send + Sync + 'static) {
    let raised = Arc::new(AtomicBool::new(false));
    let raiser = raised.clone();
    (raised, move || raiser.store(true, Release))
}

fn wait(flag: &AtomicBool) {
    // Spins on loads only, lowering the flag once it is seen raised: loom explores a spin of reads
    // cheaply, while a write per turn (a bare `swap`) makes every turn a new branch.
    while !(flag.load(Acquire) && flag.swap(false, Acquire)) {
        thread::yield_now();
    }
}

#[test]
fn loom_the_generic_flavour_never_loses_a_notification() {
    // Each side, finding nothing, waits for its notifier alone. If an arming could miss the change
    // that races with it, some interleaving would leave a side waiting forever and loom would fail.
    model(|| {
        let (room, room_notifier) = flag();
        let mut writer = generic::Circular::with_options::<u32>(1, &mirror(), room_notifier).unwrap();
        let (data, data_notifier) = flag();
        let mut reader = writer.add_reader(data_notifier);
        let consumer = thread::spawn(move || {
            let mut sum = 0;
            while let Some(items) = reader.slice() {
                match items.first() {
                    Some(&x) => {
                        sum += x;
                        reader.consume(1);
                    }
                    None => wait(&data),
                }
            }
            sum
        });
        for i in 1..=2u32 {
            loop {
                if let Some(slot) = writer.slice().first_mut() {
                    *slot = i;
                    break;
                }
                wait(&room);
            }
            writer.produce(1);
        }
        drop(writer);
        assert_eq!(consumer.join().unwrap(), 3);
    });
}

#[test]
fn loom_the_blocking_flavour_wakes_every_sleeping_side() {
    // Both sides block on the condition variable (`Wakeup::wait_until`), which a change notifies only
    // while a thread sleeps on it. Were that count ever behind, some interleaving would leave a side
    // asleep for good, and loom would report the deadlock.
    model(|| {
        let mut writer = sync::Circular::with_options::<u32>(1, &mirror()).unwrap();
        let mut reader = writer.add_reader();
        let consumer = thread::spawn(move || {
            let mut got = Vec::new();
            while let Some(items) = reader.slice() {
                got.push(items[0]);
                reader.consume(1);
            }
            got
        });
        for i in 0..2u32 {
            writer.slice()[0] = i;
            writer.produce(1);
        }
        drop(writer);
        assert_eq!(consumer.join().unwrap(), [0, 1]);
    });
}

#[test]
fn loom_the_blocking_flavour_wakes_each_of_two_sleeping_readers() {
    // Two threads asleep on one condition variable at once: were the count of them a mere flag,
    // the first to wake would clear it, a change would skip the notify, and the other would sleep on.
    model(|| {
        let mut writer = sync::Circular::with_options::<u32>(1, &mirror()).unwrap();
        let readers: Vec<_> = (0..2).map(|_| writer.add_reader()).collect();
        let consumers: Vec<_> = readers
            .into_iter()
            .map(|mut reader| {
                thread::spawn(move || {
                    let mut got = Vec::new();
                    while let Some(items) = reader.slice() {
                        got.push(items[0]);
                        reader.consume(1);
                    }
                    got
                })
            })
            .collect();
        writer.slice()[0] = 7;
        writer.produce(1);
        drop(writer);
        for consumer in consumers {
            assert_eq!(consumer.join().unwrap(), [7]);
        }
    });
}
