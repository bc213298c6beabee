//! Property test: both backends behave the same for every sequence of calls.
//!
//! One random sequence of writer and reader calls — slices written in odd sub-ranges, produced in
//! random splits (so a slice crossing the end is published in steps on either side of it), re-sliced
//! before all of it is produced, produced past what was written, tags at any offset, single-item
//! pushes and pops, readers consuming in random splits, added and dropped — runs against a ring on
//! each backend and against a model of ring memory: one array of slots, which every slice sees from
//! its first slot on, modulo the capacity (what double mapping gives by construction). Every
//! writer slice, reader slice (with its tags), pop and error is checked against the model, and the
//! two backends' records against each other. Where double mapping is unavailable (Miri, Wine) the
//! mirror is still checked against the model.
//!
//! In the library (not `tests/`) so that Miri runs it, with few cases.

use proptest::prelude::*;

use super::nonblocking::{Circular, Reader, Writer};
use super::{double_mapping_available, PopError, RingBackend, RingOptions};

/// A size from `raw`: often one of the edges (0, 1, `max - 1`, `max`), otherwise any up to `max`.
fn pick(raw: u32, max: usize) -> usize {
    match raw % 8 {
        0 => 0,
        1 => 1.min(max),
        2 => max.saturating_sub(1),
        3 => max,
        _ => (raw as usize / 8) % (max + 1),
    }
}

#[derive(Debug, Clone)]
enum Op {
    /// Takes the writer's slice and writes fresh values into part of it.
    Write {
        from: u32,
        len: u32,
    },
    /// Produces some of the free slots (written or not) with tags at some of their offsets.
    Produce {
        n: u32,
        tags: Vec<u32>,
    },
    /// Single-item pushes.
    Push(u32),
    /// One reader looks at its slice (with tags) and consumes some of it.
    Consume {
        reader: usize,
        n: u32,
    },
    /// Single-item pops by one reader.
    Pop {
        reader: usize,
        n: u32,
    },
    AddReader,
    DropReader(usize),
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        4 => (any::<u32>(), any::<u32>()).prop_map(|(from, len)| Op::Write { from, len }),
        4 => (any::<u32>(), proptest::collection::vec(any::<u32>(), 0..4))
            .prop_map(|(n, tags)| Op::Produce { n, tags }),
        1 => (0u32..6).prop_map(Op::Push),
        5 => (any::<usize>(), any::<u32>()).prop_map(|(reader, n)| Op::Consume { reader, n }),
        1 => (any::<usize>(), 0u32..6).prop_map(|(reader, n)| Op::Pop { reader, n }),
        1 => Just(Op::AddReader),
        1 => any::<usize>().prop_map(Op::DropReader),
    ]
}

/// What one reader of the model has: its position and the tags it holds, ascending.
struct ModelReader {
    position: u64,
    tags: Vec<(u64, u32)>,
}

/// Ring memory as double mapping gives it: `slots[position % capacity]`, seen by every slice.
struct Model {
    slots: Vec<u32>,
    position: u64,
    readers: Vec<ModelReader>,
}

impl Model {
    fn slot(&self, position: u64) -> u32 {
        self.slots[(position % self.slots.len() as u64) as usize]
    }

    fn run(&self, from: u64, len: usize) -> Vec<u32> {
        (0..len as u64).map(|i| self.slot(from + i)).collect()
    }

    fn free(&self) -> usize {
        let cap = self.slots.len();
        self.readers.iter().map(|r| cap - (self.position - r.position) as usize).min().unwrap_or(cap)
    }

    fn advance_writer(&mut self, n: usize, tags: &[(usize, u32)]) {
        for reader in &mut self.readers {
            reader.tags.extend(tags.iter().map(|&(offset, tag)| (self.position + offset as u64, tag)));
            reader.tags.sort_by_key(|&(position, _)| position); // stable: equal offsets keep their order
        }
        self.position += n as u64;
    }

    fn consume(&mut self, i: usize, n: usize) {
        let reader = &mut self.readers[i];
        reader.position += n as u64;
        let position = reader.position;
        reader.tags.retain(|&(p, _)| p >= position);
    }
}

/// What a run saw, step by step: the two backends' records must be equal.
#[derive(Debug, PartialEq)]
enum Seen {
    WriterSlice(Vec<u32>),
    Produced(bool),
    Pushed(bool),
    ReaderSlice(Vec<u32>, Vec<(usize, u32)>),
    Consumed(bool),
    Popped(Result<u32, PopError>),
}

fn run(backend: RingBackend, capacity: usize, ops: &[Op]) -> Result<Vec<Seen>, TestCaseError> {
    let options = RingOptions::default().backend(backend);
    let mut writer: Writer<u32, u32> = Circular::with_tags(capacity, &options).unwrap();
    prop_assert_eq!(writer.capacity(), capacity);
    prop_assert_eq!(writer.backend(), backend);
    let mut readers: Vec<Reader<u32, u32>> = vec![writer.add_reader()];
    let mut model = Model {
        slots: vec![0; capacity],
        position: 0,
        readers: vec![ModelReader { position: 0, tags: Vec::new() }],
    };
    let mut seen = Vec::new();
    let mut next = 1u32; // fresh values (ring memory starts zeroed)
    for op in ops {
        match op {
            Op::Write { from, len } => {
                let free = model.free();
                let room = writer.slice();
                // Never more than is free, never nothing when something is.
                prop_assert!(room.len() <= free && room.is_empty() == (free == 0));
                // The writer sees the ring as it is, its own earlier writes included.
                prop_assert_eq!(&room[..], &model.run(model.position, room.len())[..], "{}: writer", backend);
                seen.push(Seen::WriterSlice(room.to_vec()));
                let from = pick(*from, room.len());
                let len = pick(*len, room.len() - from);
                for (i, slot) in room[from..from + len].iter_mut().enumerate() {
                    *slot = next;
                    let cap = model.slots.len() as u64;
                    model.slots[((model.position + (from + i) as u64) % cap) as usize] = next;
                    next += 1;
                }
            }
            Op::Produce { n, tags } => {
                let free = model.free();
                // Sometimes one more than is free: refused, nothing changes.
                let n = if n % 16 == 15 { free + 1 } else { pick(*n, free) };
                let tags: Vec<(usize, u32)> = tags
                    .iter()
                    .filter(|_| n > 0)
                    .map(|&t| {
                        next += 1;
                        (t as usize % n, next)
                    })
                    .collect();
                let produced = writer.try_produce_with_tags(n, &tags).is_ok();
                prop_assert_eq!(produced, n <= free, "{}: produce({}) with {} free", backend, n, free);
                if produced {
                    model.advance_writer(n, &tags);
                }
                seen.push(Seen::Produced(produced));
            }
            Op::Push(k) => {
                for _ in 0..*k {
                    let free = model.free();
                    let pushed = writer.push(next).is_ok();
                    prop_assert_eq!(pushed, free > 0, "{}: push", backend);
                    if pushed {
                        let cap = model.slots.len() as u64;
                        model.slots[(model.position % cap) as usize] = next;
                        model.advance_writer(1, &[]);
                        next += 1;
                    }
                    seen.push(Seen::Pushed(pushed));
                }
            }
            Op::Consume { reader, n } if !readers.is_empty() => {
                let i = reader % readers.len();
                let m = &model.readers[i];
                let available = (model.position - m.position) as usize;
                let (items, tags) = readers[i].slice_with_tags().unwrap();
                prop_assert!(items.len() <= available && items.is_empty() == (available == 0));
                prop_assert_eq!(items, &model.run(m.position, items.len())[..], "{}: reader {}", backend, i);
                let end = m.position + items.len() as u64;
                let expected: Vec<(usize, u32)> = m
                    .tags
                    .iter()
                    .filter(|&&(p, _)| p < end)
                    .map(|&(p, tag)| ((p - m.position) as usize, tag))
                    .collect();
                let tags: Vec<(usize, u32)> = tags.iter().map(|(offset, &tag)| (offset, tag)).collect();
                prop_assert_eq!(&tags, &expected, "{}: reader {}'s tags", backend, i);
                // Mostly what the slice showed; sometimes all that is published (which the reader may
                // not have seen yet) or one more (refused, nothing changes).
                let n = match n % 16 {
                    15 => available + 1,
                    14 => available,
                    _ => pick(*n / 16, items.len()),
                };
                seen.push(Seen::ReaderSlice(items.to_vec(), tags));
                let consumed = readers[i].try_consume(n).is_ok();
                prop_assert_eq!(consumed, n <= available, "{}: consume({}) of {}", backend, n, available);
                if consumed {
                    model.consume(i, n);
                }
                seen.push(Seen::Consumed(consumed));
            }
            Op::Pop { reader, n } if !readers.is_empty() => {
                let i = reader % readers.len();
                for _ in 0..*n {
                    let m = &model.readers[i];
                    let expected = if m.position < model.position {
                        Ok(model.slot(m.position))
                    } else {
                        Err(PopError::Empty)
                    };
                    let got = readers[i].pop();
                    prop_assert_eq!(got, expected, "{}: reader {} pops", backend, i);
                    if got.is_ok() {
                        model.consume(i, 1);
                    }
                    seen.push(Seen::Popped(got));
                }
            }
            Op::AddReader => {
                readers.push(writer.add_reader());
                model.readers.push(ModelReader { position: model.position, tags: Vec::new() });
            }
            Op::DropReader(reader) if !readers.is_empty() => {
                let i = reader % readers.len();
                drop(readers.remove(i));
                model.readers.remove(i);
            }
            _ => {}
        }
    }
    Ok(seen)
}

proptest! {
    // 256 cases by default (PROPTEST_CASES=N for a longer soak); Miri runs few (scripts/test.sh).
    #![proptest_config(ProptestConfig { failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn every_call_sequence_sees_the_same_ring_on_both_backends(
        ops in proptest::collection::vec(op(), 1..if cfg!(miri) { 40 } else { 120 })
    ) {
        // A small ring: many laps in few steps (and few steps under Miri).
        run(RingBackend::MirrorCopy, 23, &ops)?;
        if double_mapping_available() {
            // The mapping's capacity (whole pages) for both, so that they take the same steps.
            let capacity = Circular::with_options::<u32>(1, &RingOptions::default().backend(RingBackend::DoubleMapped))
                .unwrap()
                .capacity();
            let mapped = run(RingBackend::DoubleMapped, capacity, &ops)?;
            let mirrored = run(RingBackend::MirrorCopy, capacity, &ops)?;
            prop_assert!(mapped == mirrored, "the backends saw different rings");
        }
    }
}
