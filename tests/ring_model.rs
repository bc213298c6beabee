//! Model-based property test of the ring: random produce and consume steps by one writer and several
//! readers (some added late, some dropped), on both backends, checked after every step against a
//! `VecDeque` per reader.

use std::collections::VecDeque;

use omnibuf::ring::{double_mapping_available, nonblocking::Circular, RingBackend, RingOptions};
use proptest::prelude::*;

#[derive(Debug, Clone)]
enum Op {
    Produce(usize),
    Consume { reader: usize, n: usize },
    AddReader,
    DropReader(usize),
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        4 => (0usize..300).prop_map(Op::Produce),
        4 => (any::<usize>(), 0usize..300).prop_map(|(reader, n)| Op::Consume { reader, n }),
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
                writer.produce(n);
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
    for (r, model) in readers.iter_mut() {
        // What is left (possibly over several looks), then the end.
        let mut rest = Vec::new();
        while let Some(items) = r.slice() {
            prop_assert!(!items.is_empty(), "an empty slice before the end");
            rest.extend_from_slice(items);
            let n = items.len();
            r.consume(n);
        }
        prop_assert_eq!(rest, model.iter().copied().collect::<Vec<_>>());
    }
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
}
