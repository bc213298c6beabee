//! Model-based property test of the pool: random acquires, writes, freezes, view clones and drops,
//! checked after every step against a simple model of what should be checked out.

use omnibuf::{BufferPool, PoolError, PooledBuffer, ZeroCopyBuffer};
use proptest::prelude::*;

const CLASSES: [usize; 3] = [64, 256, 1024];
const BUDGET: usize = 4 * 1024;
const QUOTA: usize = 1024;

#[derive(Debug, Clone)]
enum Op {
    TryAcquire { size: usize, tenant: bool },
    Write { which: usize, byte: u8, len: usize },
    Freeze { which: usize },
    CloneView { which: usize },
    DropBuffer { which: usize },
    DropView { which: usize },
    Trim,
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        3 => (0usize..1100, any::<bool>()).prop_map(|(size, tenant)| Op::TryAcquire { size, tenant }),
        2 => (any::<usize>(), any::<u8>(), 0usize..80).prop_map(|(which, byte, len)| Op::Write { which, byte, len }),
        1 => any::<usize>().prop_map(|which| Op::Freeze { which }),
        1 => any::<usize>().prop_map(|which| Op::CloneView { which }),
        2 => any::<usize>().prop_map(|which| Op::DropBuffer { which }),
        2 => any::<usize>().prop_map(|which| Op::DropView { which }),
        1 => Just(Op::Trim),
    ]
}

/// What the model keeps for each live buffer: its class size, tenant flag and expected contents.
struct Live {
    buf: PooledBuffer,
    class: usize,
    tenant: bool,
    contents: Vec<u8>,
}

/// A frozen buffer's views share one checkout; the model counts the checkout until the last view drops.
struct Frozen {
    views: Vec<ZeroCopyBuffer>,
    class: usize,
    tenant: bool,
    contents: Vec<u8>,
}

fn class_of(size: usize) -> Option<usize> {
    CLASSES.iter().copied().find(|&c| c >= size)
}

proptest! {
    // 256 cases by default; PROPTEST_CASES=N for a longer soak.
    #![proptest_config(ProptestConfig::default())]

    #[test]
    fn pool_matches_the_model(ops in proptest::collection::vec(op(), 1..120)) {
        let pool = BufferPool::builder()
            .classes(CLASSES)
            .budget(BUDGET)
            .tenant_quota("t", QUOTA)
            .build()
            .unwrap();
        let tenant = pool.tenant("t");
        let mut live: Vec<Live> = Vec::new();
        let mut frozen: Vec<Frozen> = Vec::new();

        for op in ops {
            match op {
                Op::TryAcquire { size, tenant: for_tenant } => {
                    let in_use: usize = live.iter().map(|l| l.class).chain(frozen.iter().map(|f| f.class)).sum();
                    let tenant_use: usize = live.iter().filter(|l| l.tenant).map(|l| l.class)
                        .chain(frozen.iter().filter(|f| f.tenant).map(|f| f.class)).sum();
                    let result = if for_tenant { tenant.try_acquire(size) } else { pool.try_acquire(size) };
                    match class_of(size) {
                        None => prop_assert!(matches!(result, Err(PoolError::NoClassFits { .. })), "{:?}", result),
                        Some(c) if for_tenant && c > QUOTA => prop_assert!(matches!(result, Err(PoolError::ExceedsQuota { .. })), "{:?}", result),
                        Some(c) => {
                            let fits = in_use + c <= BUDGET && (!for_tenant || tenant_use + c <= QUOTA);
                            if fits {
                                let buf = result.unwrap();
                                prop_assert_eq!(buf.capacity(), c);
                                prop_assert!(buf.is_empty());
                                live.push(Live { buf, class: c, tenant: for_tenant, contents: Vec::new() });
                            } else {
                                prop_assert!(matches!(result, Err(PoolError::WouldBlock { class_size }) if class_size == c), "{:?}", result);
                            }
                        }
                    }
                }
                Op::Write { which, byte, len } if !live.is_empty() => {
                    let i = which % live.len();
                    let l = &mut live[i];
                    let data = vec![byte; len];
                    let fits = l.contents.len() + len <= l.class;
                    prop_assert_eq!(l.buf.try_extend_from_slice(&data).is_ok(), fits);
                    if fits {
                        l.contents.extend_from_slice(&data);
                    }
                    prop_assert_eq!(&l.buf[..], &l.contents[..]);
                }
                Op::Freeze { which } if !live.is_empty() => {
                    let l = live.swap_remove(which % live.len());
                    let view = l.buf.freeze();
                    prop_assert_eq!(&view[..], &l.contents[..]);
                    prop_assert_eq!(view.tenant_id(), l.tenant.then_some("t"));
                    frozen.push(Frozen { views: vec![view], class: l.class, tenant: l.tenant, contents: l.contents });
                }
                Op::CloneView { which } if !frozen.is_empty() => {
                    let i = which % frozen.len();
                    let f = &mut frozen[i];
                    let half = f.contents.len() / 2;
                    let view = f.views[0].slice(half..);
                    prop_assert_eq!(&view[..], &f.contents[half..]);
                    f.views.push(view);
                }
                Op::DropBuffer { which } if !live.is_empty() => {
                    live.swap_remove(which % live.len());
                }
                Op::DropView { which } if !frozen.is_empty() => {
                    let i = which % frozen.len();
                    frozen[i].views.pop();
                    if frozen[i].views.is_empty() {
                        frozen.swap_remove(i);
                    }
                }
                Op::Trim => {
                    pool.trim();
                    prop_assert_eq!(pool.snapshot().idle_bytes, 0);
                }
                _ => {}
            }

            // The pool's books agree with the model after every step.
            let snap = pool.snapshot();
            let expected: usize = live.iter().map(|l| l.class).chain(frozen.iter().map(|f| f.class)).sum();
            prop_assert_eq!(snap.in_use_bytes, expected);
            prop_assert!(snap.in_use_bytes <= BUDGET);
            for class in &snap.classes {
                let size = class.class.size();
                let n = live.iter().filter(|l| l.class == size).count() + frozen.iter().filter(|f| f.class == size).count();
                prop_assert_eq!(class.in_use_bytes, n * size);
                prop_assert!(class.high_water_bytes >= class.in_use_bytes);
            }
            let tenant_expected: usize = live.iter().filter(|l| l.tenant).map(|l| l.class)
                .chain(frozen.iter().filter(|f| f.tenant).map(|f| f.class)).sum();
            let t = snap.tenants.iter().find(|t| t.tenant == "t").unwrap();
            prop_assert_eq!(t.in_use_bytes, tenant_expected);
            prop_assert!(snap.idle_bytes <= BUDGET / 4, "idle memory above the default mark");
            for f in &frozen {
                for v in &f.views {
                    prop_assert!(f.contents.ends_with(&v[..]));
                }
            }
        }
        drop(live);
        drop(frozen);
        prop_assert_eq!(pool.snapshot().in_use_bytes, 0);
    }
}
