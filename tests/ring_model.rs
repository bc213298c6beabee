//! Model-based property tests of the ring: random produce and consume steps by one writer and several
//! readers (some added late, some dropped), on both backends, checked after every step against a
//! `VecDeque` per reader. The non-blocking flavour is checked for items, with single-item pushes and
//! pops interleaved with the slices; the generic flavour for items,
//! per-item tags (which arrive with their items, once per reader, and are all dropped when no reader
//! needs them) and notifications (exactly when an armed side's wait would have ended).

use std::collections::VecDeque;
use std::sync::atomic::{AtomicUsize, Ordering::Relaxed};
use std::sync::Arc;

use omnibuf::ring::{
    double_mapping_available, generic, nonblocking::Circular, PopError, RingBackend, RingOptions,
};
use proptest::prelude::*;

#[derive(Debug, Clone)]
enum Op {
    Produce(usize),
    Consume {
        reader: usize,
        n: usize,
    },
    /// `n` single-item pushes (the generic flavour, which has none, produces them as one slice).
    Push(usize),
    /// Up to `n` single-item pops by one reader (the generic flavour consumes them from a slice).
    Pop {
        reader: usize,
        n: usize,
    },
    AddReader,
    DropReader(usize),
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        4 => (0usize..300).prop_map(Op::Produce),
        4 => (any::<usize>(), 0usize..300).prop_map(|(reader, n)| Op::Consume { reader, n }),
        3 => (0usize..120).prop_map(Op::Push),
        3 => (any::<usize>(), 0usize..120).prop_map(|(reader, n)| Op::Pop { reader, n }),
        1 => Just(Op::AddReader),
        1 => any::<usize>().prop_map(Op::DropReader),
    ]
}

fn run(backend: RingBackend, ops: Vec<Op>) -> Result<(), TestCaseError> {
    let mut writer = Circular::with_options::<u32>(100, &RingOptions::default().backend(backend)).unwrap();
    let cap = writer.capacity();
    let mut next = 0u32;
    // Each live reader with the items it should see, oldest first.
    let mut readers = vec![(writer.add_reader(), VecDeque::new())];
    for op in ops {
        match op {
            Op::Produce(n) => {
                let backlog = readers.iter().map(|(_, m)| m.len()).max();
                let free = backlog.map_or(cap, |b| cap - b);
                let room = writer.slice();
                // The writer may see fewer free slots than there are (it re-reads the readers only
                // when its last look shows none), never more, and never none when there are some.
                prop_assert!(room.len() <= free);
                prop_assert_eq!(room.is_empty(), free == 0);
                let n = n.min(room.len());
                for slot in &mut room[..n] {
                    *slot = next;
                    for (_, model) in readers.iter_mut() {
                        model.push_back(next);
                    }
                    next += 1;
                }
                // Never more than is free, whatever the pushes before took (checked before anything
                // changes, so this produces nothing).
                if free < cap {
                    let too_many = writer.try_produce(free + 1);
                    prop_assert!(too_many.is_err(), "produced past the slowest reader");
                }
                writer.produce(n);
            }
            Op::Push(n) => {
                for _ in 0..n {
                    let backlog = readers.iter().map(|(_, m)| m.len()).max();
                    let free = backlog.map_or(cap, |b| cap - b);
                    // A push looks at the readers again when its view shows no room: it fails exactly
                    // when the slowest reader is a ring behind (never with no readers: it overwrites).
                    match writer.push(next) {
                        Ok(()) => {
                            prop_assert!(free > 0, "pushed over an unread item");
                            for (_, model) in readers.iter_mut() {
                                model.push_back(next);
                            }
                            next += 1;
                        }
                        Err(back) => {
                            prop_assert_eq!(back, next, "a failed push gives the item back");
                            prop_assert_eq!(free, 0, "a push failed with room");
                        }
                    }
                }
            }
            Op::Pop { reader, n } if !readers.is_empty() => {
                let i = reader % readers.len();
                let (r, model) = &mut readers[i];
                for _ in 0..n {
                    // A pop looks at the write position again when its view shows nothing: it finds
                    // the oldest unread item whenever there is one.
                    match (r.pop(), model.pop_front()) {
                        (Ok(got), Some(want)) => prop_assert_eq!(got, want),
                        (Err(PopError::Empty), None) => {}
                        (got, want) => prop_assert!(false, "pop gave {:?}, the model {:?}", got, want),
                    }
                }
            }
            Op::Consume { reader, n } if !readers.is_empty() => {
                let i = reader % readers.len();
                let (r, model) = &mut readers[i];
                let seen = r.slice().unwrap().to_vec();
                // A reader sees a prefix of what is published (it re-reads the write position only
                // when it has consumed what it saw), and something whenever anything is there.
                let expected: Vec<u32> = model.iter().copied().collect();
                prop_assert!(expected.starts_with(&seen), "{:?} is not a prefix of {:?}", seen, expected);
                prop_assert_eq!(seen.is_empty(), expected.is_empty());
                let n = n.min(seen.len());
                r.consume(n);
                model.drain(..n);
            }
            Op::AddReader => readers.push((writer.add_reader(), VecDeque::new())),
            Op::DropReader(i) if !readers.is_empty() => {
                let i = i % readers.len();
                readers.swap_remove(i);
            }
            _ => {}
        }
    }
    drop(writer);
    for (i, (r, model)) in readers.iter_mut().enumerate() {
        // What is left (possibly over several looks), then the end: by slices or, for every other
        // reader, by pops.
        let mut rest = Vec::new();
        if i % 2 == 0 {
            while let Some(items) = r.slice() {
                prop_assert!(!items.is_empty(), "an empty slice before the end");
                rest.extend_from_slice(items);
                let n = items.len();
                r.consume(n);
            }
            prop_assert_eq!(r.pop(), Err(PopError::Finished));
        } else {
            loop {
                match r.pop() {
                    Ok(x) => rest.push(x),
                    Err(e) => {
                        prop_assert_eq!(e, PopError::Finished, "empty before the end");
                        break;
                    }
                }
            }
            prop_assert_eq!(r.slice(), None);
        }
        prop_assert_eq!(rest, model.iter().copied().collect::<Vec<_>>());
    }
    Ok(())
}

/// The tag of an item: its value, and a share of a token whose count tells how many tags are alive.
#[derive(Clone, Debug)]
struct Tag(u32, #[allow(dead_code)] Arc<()>);

/// Every third item is tagged.
fn tagged(item: u32) -> bool {
    item % 3 == 0
}

/// Counts a side's notifications.
fn counter() -> (Arc<AtomicUsize>, impl Fn() + Send + Sync + 'static) {
    let count = Arc::new(AtomicUsize::new(0));
    let counting = count.clone();
    (count, move || {
        counting.fetch_add(1, Relaxed);
    })
}

/// A reader of the generic flavour with what it should see and how often it should have been notified.
struct GenericReader {
    reader: generic::Reader<u32, Tag>,
    items: VecDeque<u32>,
    notified: Arc<AtomicUsize>,
    expected_notifications: usize,
    armed: bool,
}

fn run_generic(backend: RingBackend, ops: Vec<Op>) -> Result<(), TestCaseError> {
    let token = Arc::new(());
    let options = RingOptions::default().backend(backend);
    let (writer_notified, notifier) = counter();
    let mut writer = generic::Circular::with_tags::<u32, Tag>(100, &options, notifier).unwrap();
    let (mut writer_expected, mut writer_armed) = (0, false);
    let cap = writer.capacity();
    let mut next = 0u32;
    let add_reader = |writer: &mut generic::Writer<u32, Tag>| {
        let (notified, notifier) = counter();
        let reader = writer.add_reader(notifier);
        GenericReader { reader, items: VecDeque::new(), notified, expected_notifications: 0, armed: false }
    };
    let mut readers = vec![add_reader(&mut writer)];
    // Dropped readers' counters: a dropped reader is never notified again.
    let mut gone: Vec<(Arc<AtomicUsize>, usize)> = Vec::new();
    for op in ops {
        let op = match op {
            Op::Push(n) => Op::Produce(n),
            Op::Pop { reader, n } => Op::Consume { reader, n },
            op => op,
        };
        match op {
            Op::Produce(n) => {
                let backlog = readers.iter().map(|r| r.items.len()).max();
                let free = backlog.map_or(cap, |b| cap - b);
                let room = writer.slice();
                prop_assert!(room.len() <= free);
                prop_assert_eq!(room.is_empty(), free == 0);
                // An empty slice arms the writer's notifier.
                writer_armed |= room.is_empty();
                let n = n.min(room.len());
                let mut tags = Vec::new();
                for (offset, slot) in room[..n].iter_mut().enumerate() {
                    *slot = next;
                    if tagged(next) {
                        tags.push((offset, Tag(next, token.clone())));
                    }
                    for r in readers.iter_mut() {
                        r.items.push_back(next);
                    }
                    next += 1;
                }
                writer.produce_with_tags(n, &tags);
                if n > 0 {
                    for r in readers.iter_mut().filter(|r| r.armed) {
                        r.armed = false;
                        r.expected_notifications += 1;
                    }
                }
            }
            Op::Consume { reader, n } if !readers.is_empty() => {
                let i = reader % readers.len();
                let r = &mut readers[i];
                let (seen, tags) = r.reader.slice_with_tags().unwrap();
                let expected: Vec<u32> = r.items.iter().copied().collect();
                prop_assert!(expected.starts_with(seen), "{:?} is not a prefix of {:?}", seen, expected);
                prop_assert_eq!(seen.is_empty(), expected.is_empty());
                // The tags are exactly those of the tagged items in the slice, at their offsets.
                let got: Vec<(usize, u32)> = tags.iter().map(|(offset, tag)| (offset, tag.0)).collect();
                let want: Vec<(usize, u32)> =
                    seen.iter().enumerate().filter(|(_, &x)| tagged(x)).map(|(o, &x)| (o, x)).collect();
                // Every way of reading them agrees: the queue behind them may lie in two parts.
                let by_index: Vec<(usize, u32)> =
                    (0..tags.len()).map(|k| tags.get(k).unwrap()).map(|(o, t)| (o, t.0)).collect();
                let mut backwards: Vec<(usize, u32)> = tags.iter().rev().map(|(o, t)| (o, t.0)).collect();
                backwards.reverse();
                prop_assert_eq!(tags.get(tags.len()).map(|(o, _)| o), None);
                prop_assert_eq!(&by_index, &want);
                prop_assert_eq!(&backwards, &want);
                prop_assert_eq!(got, want);
                r.armed |= seen.is_empty();
                let n = n.min(seen.len());
                r.reader.consume(n);
                r.items.drain(..n);
                if n > 0 && writer_armed {
                    writer_armed = false;
                    writer_expected += 1;
                }
            }
            Op::AddReader => readers.push(add_reader(&mut writer)),
            Op::DropReader(i) if !readers.is_empty() => {
                let r = readers.swap_remove(i % readers.len());
                gone.push((r.notified.clone(), r.expected_notifications));
                drop(r);
                if writer_armed {
                    writer_armed = false;
                    writer_expected += 1;
                }
            }
            _ => {}
        }
        // Each reader holds one copy of the tag of each tagged item it has not consumed; nothing else
        // holds a tag (the writer's own were dropped after `produce_with_tags`).
        let live: usize = readers.iter().map(|r| r.items.iter().filter(|&&x| tagged(x)).count()).sum();
        prop_assert_eq!(Arc::strong_count(&token) - 1, live, "tags alive");
        prop_assert_eq!(writer_notified.load(Relaxed), writer_expected, "writer notifications");
        for r in &readers {
            prop_assert_eq!(r.notified.load(Relaxed), r.expected_notifications, "reader notifications");
        }
        for (notified, expected) in &gone {
            prop_assert_eq!(notified.load(Relaxed), *expected, "a dropped reader was notified");
        }
    }
    drop(writer);
    for r in readers.iter_mut() {
        // The writer's end wakes the readers that were waiting for data.
        let expected = r.expected_notifications + usize::from(r.armed);
        prop_assert_eq!(r.notified.load(Relaxed), expected);
        let mut rest = Vec::new();
        while let Some((items, tags)) = r.reader.slice_with_tags() {
            prop_assert!(!items.is_empty(), "an empty slice before the end");
            prop_assert_eq!(tags.len(), items.iter().filter(|&&x| tagged(x)).count());
            rest.extend_from_slice(items);
            let n = items.len();
            r.reader.consume(n);
        }
        prop_assert_eq!(rest, r.items.iter().copied().collect::<Vec<_>>());
        prop_assert_eq!(r.notified.load(Relaxed), expected, "no notification after the end");
    }
    drop(readers);
    prop_assert_eq!(Arc::strong_count(&token), 1, "tags outlived their readers");
    Ok(())
}

proptest! {
    // 256 cases by default; PROPTEST_CASES=N for a longer soak.
    #![proptest_config(ProptestConfig::default())]

    #[test]
    fn ring_matches_a_vecdeque_per_reader(ops in proptest::collection::vec(op(), 1..150)) {
        run(RingBackend::MirrorCopy, ops.clone())?;
        if double_mapping_available() {
            run(RingBackend::DoubleMapped, ops)?;
        }
    }

    #[test]
    fn generic_ring_with_tags_matches_a_model_per_reader(ops in proptest::collection::vec(op(), 1..150)) {
        run_generic(RingBackend::MirrorCopy, ops.clone())?;
        if double_mapping_available() {
            run_generic(RingBackend::DoubleMapped, ops)?;
        }
    }
}
