//! Model-based property test of the pool: random acquires (immediate and waiting, with and without
//! tenants), writes, freezes, view clones, drops and cancelled waits, checked after every step against
//! a simple model of what should be checked out and which waiters should have been served.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll, Waker};

use omnibuf::{Acquire, BufferPool, PoolError, PooledBuffer, ZeroCopyBuffer};
use proptest::prelude::*;

const CLASSES: [usize; 3] = [64, 256, 1024];
const BUDGET: usize = 4 * 1024;
/// Tenants by number: 0 is no tenant; 1 and 2 have these quotas.
const TENANTS: [(&str, usize); 2] = [("t", 1024), ("u", 320)];

fn quota(who: usize) -> usize {
    if who == 0 {
        usize::MAX
    } else {
        TENANTS[who - 1].1
    }
}

#[derive(Debug, Clone)]
enum Op {
    TryAcquire { size: usize, who: usize },
    Wait { size: usize, who: usize },
    CancelWait { which: usize },
    Write { which: usize, byte: u8, len: usize },
    Freeze { which: usize },
    CloneView { which: usize },
    DropBuffer { which: usize },
    DropView { which: usize },
    Trim,
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        3 => (0usize..1100, 0usize..3).prop_map(|(size, who)| Op::TryAcquire { size, who }),
        2 => (0usize..1100, 0usize..3).prop_map(|(size, who)| Op::Wait { size, who }),
        1 => any::<usize>().prop_map(|which| Op::CancelWait { which }),
        2 => (any::<usize>(), any::<u8>(), 0usize..80).prop_map(|(which, byte, len)| Op::Write { which, byte, len }),
        1 => any::<usize>().prop_map(|which| Op::Freeze { which }),
        1 => any::<usize>().prop_map(|which| Op::CloneView { which }),
        2 => any::<usize>().prop_map(|which| Op::DropBuffer { which }),
        2 => any::<usize>().prop_map(|which| Op::DropView { which }),
        1 => Just(Op::Trim),
    ]
}

/// What the model keeps for each live buffer: its class size, tenant and expected contents.
struct Live {
    buf: PooledBuffer,
    class: usize,
    who: usize,
    contents: Vec<u8>,
}

/// A frozen buffer's views share one checkout; the model counts the checkout until the last view drops.
struct Frozen {
    views: Vec<ZeroCopyBuffer>,
    class: usize,
    who: usize,
    contents: Vec<u8>,
}

/// A waiting request, in arrival order; `granted` is the model's verdict, checked on the next poll.
struct Pending {
    future: Acquire,
    class: usize,
    who: usize,
    granted: bool,
}

fn class_of(size: usize) -> Option<usize> {
    CLASSES.iter().copied().find(|&c| c >= size)
}

fn poll(future: &mut Acquire) -> Poll<Result<PooledBuffer, PoolError>> {
    Pin::new(future).poll(&mut Context::from_waker(Waker::noop()))
}

/// Bytes checked out (or granted) in the model, for everyone (`who == None`) or one tenant.
fn used(live: &[Live], frozen: &[Frozen], pending: &[Pending], who: Option<usize>) -> usize {
    let counts = |w: usize| who.is_none_or(|who| who == w);
    live.iter().filter(|l| counts(l.who)).map(|l| l.class).sum::<usize>()
        + frozen.iter().filter(|f| counts(f.who)).map(|f| f.class).sum::<usize>()
        + pending.iter().filter(|p| p.granted && counts(p.who)).map(|p| p.class).sum::<usize>()
}

/// The queued requests that compete for the budget: per class, the oldest one its tenant's quota does
/// not hold back.
fn heads(live: &[Live], frozen: &[Frozen], pending: &[Pending]) -> Vec<usize> {
    CLASSES
        .iter()
        .filter_map(|&c| {
            pending.iter().position(|p| {
                !p.granted
                    && p.class == c
                    && (p.who == 0 || used(live, frozen, pending, Some(p.who)) + p.class <= quota(p.who))
            })
        })
        .collect()
}

/// The model's grant: oldest fitting head first, until none fits.
fn grant(live: &[Live], frozen: &[Frozen], pending: &mut [Pending]) {
    loop {
        let in_use = used(live, frozen, pending, None);
        let fitting =
            heads(live, frozen, pending).into_iter().filter(|&i| in_use + pending[i].class <= BUDGET).min();
        match fitting {
            Some(i) => pending[i].granted = true,
            None => return,
        }
    }
}

proptest! {
    // 256 cases by default; PROPTEST_CASES=N for a longer soak.
    #![proptest_config(ProptestConfig::default())]

    #[test]
    fn pool_matches_the_model(ops in proptest::collection::vec(op(), 1..120)) {
        let mut builder = BufferPool::builder().classes(CLASSES).budget(BUDGET);
        for (name, q) in TENANTS {
            builder = builder.tenant_quota(name, q);
        }
        let pool = builder.build().unwrap();
        let tenants = [pool.tenant(TENANTS[0].0), pool.tenant(TENANTS[1].0)];
        let mut live: Vec<Live> = Vec::new();
        let mut frozen: Vec<Frozen> = Vec::new();
        let mut pending: Vec<Pending> = Vec::new();

        for op in ops {
            match op {
                Op::TryAcquire { size, who } => {
                    let result = if who == 0 { pool.try_acquire(size) } else { tenants[who - 1].try_acquire(size) };
                    match class_of(size) {
                        None => prop_assert!(matches!(result, Err(PoolError::NoClassFits { .. })), "{:?}", result),
                        Some(c) if c > quota(who) => prop_assert!(matches!(result, Err(PoolError::ExceedsQuota { .. })), "{:?}", result),
                        Some(c) => {
                            // Queued requests come first: those competing for the budget, and the tenant's own.
                            let waiters_first = !heads(&live, &frozen, &pending).is_empty()
                                || (who != 0 && pending.iter().any(|p| p.who == who));
                            let fits = !waiters_first
                                && used(&live, &frozen, &pending, None) + c <= BUDGET
                                && (who == 0 || used(&live, &frozen, &pending, Some(who)) + c <= quota(who));
                            if fits {
                                let buf = result.unwrap();
                                prop_assert_eq!(buf.capacity(), c);
                                prop_assert!(buf.is_empty());
                                live.push(Live { buf, class: c, who, contents: Vec::new() });
                            } else {
                                prop_assert!(matches!(result, Err(PoolError::WouldBlock { class_size }) if class_size == c), "{:?}", result);
                            }
                        }
                    }
                }
                Op::Wait { size, who } => {
                    let mut future = if who == 0 { pool.acquire_async(size) } else { tenants[who - 1].acquire_async(size) };
                    match class_of(size) {
                        None => {
                            let result = poll(&mut future);
                            prop_assert!(matches!(result, Poll::Ready(Err(PoolError::NoClassFits { .. }))), "{:?}", result);
                        }
                        Some(c) if c > quota(who) => {
                            let result = poll(&mut future);
                            prop_assert!(matches!(result, Poll::Ready(Err(PoolError::ExceedsQuota { .. }))), "{:?}", result);
                        }
                        Some(c) => {
                            // Queued, then served at once if the grant would serve it.
                            pending.push(Pending { future, class: c, who, granted: false });
                        }
                    }
                }
                Op::CancelWait { which } if !pending.is_empty() => {
                    let i = which % pending.len();
                    prop_assert!(!pending[i].granted);
                    pending.remove(i);
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
                    prop_assert_eq!(view.tenant_id(), (l.who != 0).then(|| TENANTS[l.who - 1].0));
                    frozen.push(Frozen { views: vec![view], class: l.class, who: l.who, contents: l.contents });
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

            // Whatever freed room, or queued, the pool serves exactly the waiters the model does.
            grant(&live, &frozen, &mut pending);
            let mut still = Vec::new();
            for mut p in pending.drain(..) {
                match poll(&mut p.future) {
                    Poll::Ready(Ok(buf)) => {
                        prop_assert!(p.granted, "served a waiter the model keeps waiting ({} bytes, tenant {})", p.class, p.who);
                        prop_assert_eq!(buf.capacity(), p.class);
                        live.push(Live { buf, class: p.class, who: p.who, contents: Vec::new() });
                    }
                    Poll::Ready(Err(e)) => prop_assert!(false, "a waiter failed: {:?}", e),
                    Poll::Pending => {
                        prop_assert!(!p.granted, "a waiter the model serves is still waiting ({} bytes, tenant {})", p.class, p.who);
                        still.push(p);
                    }
                }
            }
            pending = still;

            // The pool's books agree with the model after every step.
            let snap = pool.snapshot();
            let expected = used(&live, &frozen, &pending, None);
            prop_assert_eq!(snap.in_use_bytes, expected);
            prop_assert!(snap.in_use_bytes <= BUDGET);
            prop_assert_eq!(snap.waiting, pending.len());
            for class in &snap.classes {
                let size = class.class.size();
                let n = live.iter().filter(|l| l.class == size).count() + frozen.iter().filter(|f| f.class == size).count();
                prop_assert_eq!(class.in_use_bytes, n * size);
                prop_assert!(class.high_water_bytes >= class.in_use_bytes);
                prop_assert_eq!(class.waiting, pending.iter().filter(|p| p.class == size).count());
            }
            for (who, (name, q)) in TENANTS.iter().enumerate() {
                let t = snap.tenants.iter().find(|t| t.tenant == *name).unwrap();
                prop_assert_eq!(t.in_use_bytes, used(&live, &frozen, &pending, Some(who + 1)));
                prop_assert!(t.in_use_bytes <= *q);
            }
            prop_assert!(snap.idle_bytes <= BUDGET / 4, "idle memory above the default mark");
            for f in &frozen {
                for v in &f.views {
                    prop_assert!(f.contents.ends_with(&v[..]));
                }
            }
        }
        drop(pending);
        drop(live);
        drop(frozen);
        let snap = pool.snapshot();
        prop_assert_eq!((snap.in_use_bytes, snap.waiting), (0, 0));
        prop_assert_eq!(snap.reserved_bytes, snap.leased_bytes, "reserved bytes beyond the leases at rest");
    }
}
