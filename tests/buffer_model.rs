//! Model-based property test of `ZeroCopyBuffer`: random slices, splits, truncations and advances,
//! checked against the same operations on a plain `Vec<u8>`.

use omnibuf::{BufferKind, ZeroCopyBuffer};
use proptest::prelude::*;

#[derive(Debug, Clone)]
enum Op {
    Slice(usize, usize),
    SplitTo(usize),
    SplitOff(usize),
    Truncate(usize),
    Advance(usize),
    Clone,
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        (0usize..80, 0usize..80).prop_map(|(a, b)| Op::Slice(a, b)),
        (0usize..80).prop_map(Op::SplitTo),
        (0usize..80).prop_map(Op::SplitOff),
        (0usize..80).prop_map(Op::Truncate),
        (0usize..80).prop_map(Op::Advance),
        Just(Op::Clone),
    ]
}

proptest! {
    // 256 cases by default; PROPTEST_CASES=N for a longer soak.
    #![proptest_config(ProptestConfig::default())]

    #[test]
    fn buffer_matches_a_vec(data in proptest::collection::vec(any::<u8>(), 0..64), ops in proptest::collection::vec(op(), 0..40)) {
        let mut buf = ZeroCopyBuffer::from_bytes(data.clone(), BufferKind::pcm16()).with_tenant("m");
        let mut model = data;
        let mut others: Vec<(ZeroCopyBuffer, Vec<u8>)> = Vec::new();
        for op in ops {
            match op {
                Op::Slice(a, b) => {
                    let ok = a <= b && b <= model.len();
                    match buf.try_slice(a..b) {
                        Ok(s) => { prop_assert!(ok); others.push((s, model[a..b].to_vec())); }
                        Err(e) => { prop_assert!(!ok); prop_assert_eq!((e.start, e.end, e.len), (a, b, model.len())); }
                    }
                }
                Op::SplitTo(at) => match buf.try_split_to(at) {
                    Ok(head) => { let rest = model.split_off(at); others.push((head, std::mem::replace(&mut model, rest))); }
                    Err(_) => prop_assert!(at > model.len()),
                },
                Op::SplitOff(at) => match buf.try_split_off(at) {
                    Ok(tail) => { let t = model.split_off(at); others.push((tail, t)); }
                    Err(_) => prop_assert!(at > model.len()),
                },
                Op::Truncate(n) => { buf.truncate(n); model.truncate(n); }
                Op::Advance(n) => {
                    if n <= model.len() { buf.advance(n); model.drain(..n); }
                }
                Op::Clone => others.push((buf.clone(), model.clone())),
            }
            prop_assert_eq!(&buf[..], &model[..]);
            prop_assert_eq!(buf.kind(), BufferKind::pcm16());
            prop_assert_eq!(buf.tenant_id(), Some("m"));
            for (view, expected) in &others {
                prop_assert_eq!(&view[..], &expected[..]);
            }
        }
        // Every view shares the one allocation.
        prop_assert_eq!(buf.sharers(), others.len() + 1);
    }
}
