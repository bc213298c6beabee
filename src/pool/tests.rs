//! Unit tests of the pool. The model-based property test is `tests/pool_model.rs`; the loom model of
//! the waiting protocol is `loom_tests.rs`.

use super::*;
use std::sync::mpsc;
use std::thread;
use std::time::Duration;

fn pool(classes: &[usize], budget: usize) -> BufferPool {
    BufferPool::builder().classes(classes.iter().copied()).budget(budget).build().unwrap()
}

#[test]
fn requests_go_to_the_smallest_class_that_holds_them() {
    let p = pool(&[4096, 65536], 1 << 20);
    assert_eq!(p.try_acquire(0).unwrap().capacity(), 4096);
    assert_eq!(p.try_acquire(4096).unwrap().capacity(), 4096);
    assert_eq!(p.try_acquire(4097).unwrap().capacity(), 65536);
    assert_eq!(
        p.try_acquire(65537).unwrap_err(),
        PoolError::NoClassFits { requested: 65537, largest: 65536 }
    );
    assert_eq!(p.classes(), vec![PoolClass::new(4096), PoolClass::new(65536)]);
    assert_eq!(format!("{:?}", PoolClass::new(65536)), "PoolClass(64 KiB)");
}

#[test]
fn impossible_requests_fail_at_once_instead_of_waiting_forever() {
    let p = BufferPool::builder()
        .classes([4096, 65536])
        .budget(8192)
        .tenant_quota("small", 4096)
        .build()
        .unwrap();
    assert_eq!(p.acquire(10_000).unwrap_err(), PoolError::ExceedsBudget { class_size: 65536, budget: 8192 });
    assert!(matches!(p.tenant("small").acquire(5000), Err(PoolError::ExceedsBudget { .. })));
    let big_for_tenant =
        BufferPool::builder().classes([4096, 8192]).budget(1 << 20).tenant_quota("t", 4096).build().unwrap();
    assert_eq!(
        big_for_tenant.tenant("t").acquire(5000).unwrap_err(),
        PoolError::ExceedsQuota { tenant: "t".into(), class_size: 8192, quota: 4096 }
    );
}

#[test]
fn bad_configurations_are_refused() {
    for config in [
        BufferPool::builder().classes([]),
        BufferPool::builder().classes([0, 16]),
        BufferPool::builder().classes([16, 16]),
        BufferPool::builder().classes([4096]).budget(100),
        // Each thread's first acquire would make room for that many per class: refused at build,
        // not a capacity-overflow panic or an aborted allocation then.
        BufferPool::builder().thread_cache_blocks(MAX_THREAD_CACHE_BLOCKS + 1),
        BufferPool::builder().thread_cache_blocks(usize::MAX),
    ] {
        assert!(matches!(config.build(), Err(PoolError::InvalidConfig(_))));
    }
    let most = BufferPool::builder().classes([16]).budget(64).thread_cache_blocks(MAX_THREAD_CACHE_BLOCKS);
    drop(most.build().unwrap().acquire(1).unwrap());
    // Unsorted classes are fine.
    assert!(BufferPool::builder().classes([65536, 4096]).build().is_ok());
}

#[test]
fn released_memory_is_reused() {
    let p = pool(&[4096], 1 << 20);
    let first = p.acquire(10).unwrap();
    let ptr = first.as_slice().as_ptr();
    drop(first);
    assert_eq!(p.acquire(10).unwrap().as_slice().as_ptr(), ptr, "thread cache reuse");

    let shared_only = BufferPool::builder().classes([4096]).thread_cache_blocks(0).build().unwrap();
    let first = shared_only.acquire(10).unwrap();
    let ptr = first.as_slice().as_ptr();
    drop(first);
    assert_eq!(shared_only.snapshot().idle_bytes, 4096);
    assert_eq!(shared_only.acquire(10).unwrap().as_slice().as_ptr(), ptr, "free list reuse");
}

#[test]
fn idle_memory_stays_under_its_mark_and_trims() {
    let p = BufferPool::builder()
        .classes([4096])
        .budget(1 << 20)
        .max_idle(3 * 4096)
        .thread_cache_blocks(0)
        .build()
        .unwrap();
    let bufs: Vec<_> = (0..10).map(|_| p.acquire(1).unwrap()).collect();
    drop(bufs);
    assert_eq!(p.snapshot().idle_bytes, 3 * 4096);
    assert_eq!(p.trim_to(4096), 2 * 4096);
    assert_eq!(p.trim(), 4096);
    assert_eq!(p.snapshot().idle_bytes, 0);
}

#[test]
fn thread_cache_is_reported_and_flushed_by_trim() {
    let p = pool(&[4096], 1 << 20);
    drop(p.acquire(1).unwrap());
    let snap = p.snapshot();
    assert_eq!((snap.cached_bytes, snap.idle_bytes), (4096, 0));
    assert_eq!(snap.classes[0].cached_bytes, 4096);
    assert_eq!(p.trim(), 4096);
    assert_eq!(p.snapshot().cached_bytes, 0);
}

#[test]
fn trim_counts_everything_it_frees() {
    let p = BufferPool::builder().classes([4096, 65536]).budget(1 << 20).max_idle(65536).build().unwrap();
    let held: Vec<_> = (0..4).map(|_| p.acquire(65536).unwrap()).chain([p.acquire(1).unwrap()]).collect();
    drop(held); // 4 x 64 KiB + 4 KiB now sit in this thread's cache
    assert_eq!(p.snapshot().cached_bytes, 4 * 65536 + 4096);
    assert_eq!(p.trim(), 4 * 65536 + 4096);
    let snap = p.snapshot();
    assert_eq!((snap.cached_bytes, snap.idle_bytes), (0, 0));
}

#[test]
fn trim_gives_the_budget_of_leases_back_to_every_thread() {
    let p = BufferPool::builder().classes([4096, 65536]).budget(1 << 20).build().unwrap();
    drop((p.acquire(1).unwrap(), p.acquire(65536).unwrap()));
    let other = p.clone();
    thread::spawn(move || drop(other.acquire(1).unwrap())).join().unwrap();
    let before = p.snapshot();
    assert!(before.leased_bytes > 0, "{before:?}");
    p.trim();
    let after = p.snapshot();
    assert_eq!((after.in_use_bytes, after.leased_bytes, after.reserved_bytes), (0, 0, 0), "{after:?}");
    assert!(after.classes.iter().all(|c| c.leased_bytes == 0), "{after:?}");
    // The thread's next acquire and release lease again, as before.
    drop(p.acquire(1).unwrap());
    assert_eq!(p.snapshot().reserved_bytes, p.snapshot().leased_bytes);
}

#[test]
fn a_thread_that_ends_gives_its_cache_back() {
    let p = BufferPool::builder().classes([4096]).max_idle(1 << 20).build().unwrap();
    let p2 = p.clone();
    thread::spawn(move || drop(p2.acquire(1).unwrap())).join().unwrap();
    let snap = p.snapshot();
    assert_eq!((snap.cached_bytes, snap.idle_bytes), (0, 4096));
}

#[test]
fn try_acquire_refuses_when_full_and_counts_it() {
    let p = pool(&[4096], 8192);
    let a = p.try_acquire(1).unwrap();
    let b = p.try_acquire(1).unwrap();
    assert_eq!(p.try_acquire(1).unwrap_err(), PoolError::WouldBlock { class_size: 4096 });
    assert_eq!(p.snapshot().classes[0].refusals, 1);
    drop(a);
    let c = p.try_acquire(1).unwrap();
    drop((b, c));
    assert_eq!(p.snapshot().in_use_bytes, 0);
    assert_eq!(p.snapshot().high_water_bytes, 8192);
}

#[test]
fn blocked_acquire_wakes_when_room_frees_up() {
    let p = pool(&[4096], 4096);
    let held = p.acquire(1).unwrap();
    let p2 = p.clone();
    let waiter = thread::spawn(move || p2.acquire(1).map(|b| b.capacity()));
    // `waits` counts a request once it is really queued (`waiting` also counts one being queued).
    while p.snapshot().classes[0].waits == 0 {
        thread::yield_now();
    }
    drop(held);
    assert_eq!(waiter.join().unwrap(), Ok(4096));
    let class = &p.snapshot().classes[0];
    assert_eq!((class.waits, class.waiting, class.in_use_bytes), (1, 0, 0));
}

#[test]
fn waiters_of_a_class_are_served_in_arrival_order() {
    let p = pool(&[4096], 4096);
    let mut held = Some(p.acquire(1).unwrap());
    let (tx, rx) = mpsc::channel();
    let mut handles = Vec::new();
    for i in 0..4 {
        let (p2, tx) = (p.clone(), tx.clone());
        handles.push(thread::spawn(move || {
            let buf = p2.acquire(1).unwrap();
            tx.send(i).unwrap();
            thread::sleep(Duration::from_millis(1));
            drop(buf);
        }));
        // Wait until this waiter is queued before starting the next one.
        while p.snapshot().waiting < i + 1 {
            thread::yield_now();
        }
    }
    drop(held.take());
    handles.into_iter().for_each(|h| h.join().unwrap());
    let order: Vec<usize> = rx.try_iter().collect();
    assert_eq!(order, vec![0, 1, 2, 3]);
}

#[test]
fn fast_path_does_not_overtake_queued_waiters() {
    let p = pool(&[4096], 4096);
    let held = p.acquire(1).unwrap();
    let p2 = p.clone();
    let waiter = thread::spawn(move || p2.acquire(1).unwrap().capacity());
    while p.snapshot().waiting == 0 {
        thread::yield_now();
    }
    // Room frees and is granted to the waiter, not to a try_acquire racing it.
    drop(held);
    let _ = p.try_acquire(1);
    assert_eq!(waiter.join().unwrap(), 4096);
}

#[test]
fn a_timed_out_wait_leaves_no_trace() {
    let p = pool(&[4096], 4096);
    let held = p.acquire(1).unwrap();
    let err = p.acquire_timeout(1, Duration::from_millis(20)).unwrap_err();
    assert!(
        matches!(err, PoolError::TimedOut { class_size: 4096, waited } if waited >= Duration::from_millis(20))
    );
    let snap = p.snapshot();
    assert_eq!((snap.waiting, snap.in_use_bytes, snap.classes[0].timeouts), (0, 4096, 1));
    drop(held);
    assert!(p.try_acquire(1).is_ok(), "the timed-out waiter must not hold the room");
}

fn block_on<F: Future>(fut: F) -> F::Output {
    let mut fut = std::pin::pin!(fut);
    let thread = thread::current();
    let waker = std::task::Waker::from(Arc::new(ThreadWaker(thread)));
    let mut cx = Context::from_waker(&waker);
    loop {
        if let Poll::Ready(v) = fut.as_mut().poll(&mut cx) {
            return v;
        }
        thread::park();
    }
}

struct ThreadWaker(thread::Thread);
impl std::task::Wake for ThreadWaker {
    fn wake(self: Arc<Self>) {
        self.0.unpark();
    }
}

#[test]
fn async_acquire_waits_and_is_woken() {
    let p = pool(&[4096], 4096);
    let held = p.acquire(1).unwrap();
    let p2 = p.clone();
    let waiter = thread::spawn(move || block_on(p2.acquire_async(1)).map(|b| b.capacity()));
    while p.snapshot().waiting == 0 {
        thread::yield_now();
    }
    drop(held);
    assert_eq!(waiter.join().unwrap(), Ok(4096));
}

#[test]
fn dropping_a_pending_future_gives_up_its_place() {
    let p = pool(&[4096], 4096);
    let held = p.acquire(1).unwrap();
    let mut fut = Box::pin(p.acquire_async(1));
    let mut cx = Context::from_waker(std::task::Waker::noop());
    assert!(fut.as_mut().poll(&mut cx).is_pending());
    assert_eq!(p.snapshot().waiting, 1);
    drop(held); // grants the future's request...
    drop(fut); // ...which is given back when the future is dropped unpolled
    let snap = p.snapshot();
    assert_eq!((snap.waiting, snap.in_use_bytes), (0, 0));
    assert!(p.try_acquire(1).is_ok());
}

/// `body` on a thread of its own: a deadlock fails the test instead of hanging the suite.
fn within_seconds<R: Send + 'static>(body: impl FnOnce() -> R + Send + 'static) -> R {
    let (done, result) = mpsc::channel();
    thread::spawn(move || done.send(body()).unwrap());
    result.recv_timeout(Duration::from_secs(20)).expect("deadlocked")
}

/// A waker may run the pool's code: an executor that polls the woken task at once, and a waker
/// whose drop (the task's last reference gone) releases a buffer the task held. Neither may find
/// the pool's queue locked by the call that woke or dropped it.
#[test]
fn wakers_may_call_back_into_the_pool() {
    type Slot = Arc<std::sync::Mutex<Option<Pin<Box<Acquire>>>>>;
    /// Polls the future in `slot` whenever woken, on the waking thread.
    struct PollsInline {
        slot: Slot,
        got: std::sync::Mutex<Option<usize>>,
    }
    impl std::task::Wake for PollsInline {
        fn wake(self: Arc<Self>) {
            let waker = std::task::Waker::from(self.clone());
            let mut slot = self.slot.lock().unwrap();
            if let Some(fut) = slot.as_mut() {
                if let Poll::Ready(buf) = fut.as_mut().poll(&mut Context::from_waker(&waker)) {
                    *self.got.lock().unwrap() = Some(buf.unwrap().capacity());
                    *slot = None;
                }
            }
        }
    }
    let got = within_seconds(|| {
        let p = pool(&[4096], 4096);
        let held = p.acquire(1).unwrap();
        let slot: Slot = Arc::new(std::sync::Mutex::new(Some(Box::pin(p.acquire_async(1)))));
        let task = Arc::new(PollsInline { slot: slot.clone(), got: std::sync::Mutex::new(None) });
        let waker = std::task::Waker::from(task.clone());
        assert!(slot
            .lock()
            .unwrap()
            .as_mut()
            .unwrap()
            .as_mut()
            .poll(&mut Context::from_waker(&waker))
            .is_pending());
        drop(held); // grants the future, whose waker polls it at once
        let got = *task.got.lock().unwrap();
        got
    });
    assert_eq!(got, Some(4096));

    /// Holds a buffer until the last waker of it is dropped.
    struct HoldsABuffer(#[allow(dead_code)] PooledBuffer);
    impl std::task::Wake for HoldsABuffer {
        fn wake(self: Arc<Self>) {}
    }
    let snapshot = within_seconds(|| {
        let p = pool(&[4096], 8192);
        let mut fut = Box::pin(p.acquire_async(1));
        let (first, second) = (p.acquire(1).unwrap(), p.acquire(1).unwrap());
        {
            let waker = std::task::Waker::from(Arc::new(HoldsABuffer(first)));
            assert!(fut.as_mut().poll(&mut Context::from_waker(&waker)).is_pending());
        } // the pool's clone is now the waker's last
          // A poll with another waker replaces it; its drop releases `first`, which grants the future.
        let mut cx = Context::from_waker(std::task::Waker::noop());
        assert!(fut.as_mut().poll(&mut cx).is_pending());
        assert!(fut.as_mut().poll(&mut cx).is_ready());
        drop(second);
        // And a cancelled wait drops its waker the same way.
        let third = p.acquire(1).unwrap();
        let fourth = p.acquire(1).unwrap();
        let mut fut = Box::pin(p.acquire_async(1));
        let waker = std::task::Waker::from(Arc::new(HoldsABuffer(third)));
        assert!(fut.as_mut().poll(&mut Context::from_waker(&waker)).is_pending());
        drop(waker);
        drop(fut);
        drop(fourth);
        p.snapshot()
    });
    assert_eq!((snapshot.waiting, snapshot.in_use_bytes), (0, 0));
}

#[test]
fn async_errors_come_out_of_the_future() {
    let p = pool(&[4096], 4096);
    assert!(matches!(block_on(p.acquire_async(1 << 30)), Err(PoolError::NoClassFits { .. })));
}

#[test]
fn tenant_quotas_and_accounting() {
    let p = BufferPool::builder()
        .classes([4096])
        .budget(1 << 20)
        .tenant_quota("alpha", 8192)
        .default_tenant_quota(4096)
        .build()
        .unwrap();
    let alpha = p.tenant("alpha");
    let beta = p.tenant("beta");
    assert_eq!((alpha.quota(), beta.quota()), (Some(8192), Some(4096)));
    let a1 = alpha.acquire(1).unwrap();
    let a2 = alpha.try_acquire(1).unwrap();
    assert!(matches!(alpha.try_acquire(1), Err(PoolError::WouldBlock { .. })));
    let b1 = beta.try_acquire(1).unwrap();
    let snap = p.snapshot();
    let by_name = |n: &str| snap.tenants.iter().find(|t| t.tenant == n).unwrap().clone();
    assert_eq!(by_name("alpha").in_use_bytes, 8192);
    assert_eq!(by_name("alpha").refusals, 1);
    assert_eq!(by_name("beta").in_use_bytes, 4096);
    assert_eq!(snap.in_use_bytes, 3 * 4096);
    let frozen = a1.freeze();
    assert_eq!(frozen.tenant_id(), Some("alpha"));
    drop((a2, b1));
    assert_eq!(p.snapshot().tenants[0].in_use_bytes, 4096);
    drop(frozen);
    assert_eq!(p.snapshot().tenants[0].in_use_bytes, 0);
    assert_eq!(p.snapshot().tenants[0].high_water_bytes, 8192);
}

#[test]
fn a_tenant_waiting_on_its_quota_is_woken_by_its_own_release() {
    let p = BufferPool::builder().classes([4096]).budget(1 << 20).tenant_quota("a", 4096).build().unwrap();
    let a = p.tenant("a");
    let held = a.acquire(1).unwrap();
    let a2 = a.clone();
    let waiter = thread::spawn(move || a2.acquire(1).map(|_| ()));
    while p.snapshot().waiting == 0 {
        thread::yield_now();
    }
    drop(held);
    assert_eq!(waiter.join().unwrap(), Ok(()));
}

#[test]
fn frozen_views_return_memory_on_another_thread() {
    let p = pool(&[4096], 1 << 20);
    let mut buf = p.acquire(100).unwrap().with_kind(crate::BufferKind::pcm16());
    buf.extend_from_slice(&[1, 2, 3, 4]);
    let frozen = buf.freeze();
    assert_eq!(frozen.kind(), crate::BufferKind::pcm16());
    let view = frozen.slice(1..3);
    drop(frozen);
    assert_eq!(p.snapshot().in_use_bytes, 4096);
    let got = thread::spawn(move || view.to_vec()).join().unwrap();
    assert_eq!(got, [2, 3]);
    assert_eq!(p.snapshot().in_use_bytes, 0);
}

#[test]
fn dropping_the_pool_with_buffers_out_is_safe() {
    let p = BufferPool::builder().classes([4096]).track_outstanding(false).build().unwrap();
    let mut buf = p.acquire(10).unwrap();
    buf.extend_from_slice(b"still here");
    let frozen = buf.freeze();
    let other = p.acquire(10).unwrap();
    drop(p);
    assert_eq!(frozen, *"still here");
    drop(other);
    drop(frozen);
}

#[test]
fn outstanding_buffers_are_reported_with_tenant_and_class() {
    let p = BufferPool::builder().classes([4096, 65536]).track_outstanding(true).build().unwrap();
    let a = p.tenant("alpha").acquire(5000).unwrap();
    let b = p.acquire(1).unwrap();
    let out = p.outstanding().unwrap();
    assert_eq!(out.len(), 2);
    assert_eq!(out[0].tenant.as_deref(), Some("alpha"));
    assert_eq!(out[0].class, PoolClass::new(65536));
    assert_eq!(out[1].tenant, None);
    drop((a, b));
    assert!(p.outstanding().unwrap().is_empty());
    let untracked = BufferPool::builder().track_outstanding(false).build().unwrap();
    assert!(untracked.outstanding().is_none());
}

#[test]
fn pooled_buffer_writes_stay_within_capacity() {
    use std::io::Write;
    let p = pool(&[16], 1 << 10);
    let mut buf = p.acquire(16).unwrap();
    assert_eq!(buf.write(&[7; 10]).unwrap(), 10);
    assert_eq!(buf.write(&[8; 10]).unwrap(), 6, "a write takes what fits");
    assert_eq!(buf.write(&[9]).unwrap(), 0);
    assert_eq!(buf.write_all(&[9]).unwrap_err().kind(), std::io::ErrorKind::WriteZero);
    assert!(std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| buf.extend_from_slice(&[1]))).is_err());
    buf.truncate(2);
    buf.resize(4, 5);
    assert_eq!(&buf[..], &[7, 7, 5, 5]);
    buf.clear();
    assert!(buf.is_empty());
    let spare = buf.spare_capacity_mut();
    spare[0].write(42);
    // SAFETY: the first byte was just initialised, and 1 is within the capacity.
    unsafe { buf.set_len(1) };
    assert_eq!(&buf[..], &[42]);
}

#[test]
fn reused_memory_never_shows_old_bytes() {
    let p = pool(&[64], 1 << 10);
    let mut buf = p.acquire(64).unwrap();
    buf.extend_from_slice(&[0xAA; 64]);
    drop(buf);
    let again = p.acquire(64).unwrap();
    assert!(again.is_empty(), "a reused buffer starts empty");
}

#[test]
fn many_threads_hammering_keep_the_books_straight() {
    let p = BufferPool::builder().classes([64, 4096]).budget(8 * 4096).build().unwrap();
    let threads: Vec<_> = (0..4)
        .map(|t| {
            let p = p.clone();
            thread::spawn(move || {
                let tenant = p.tenant(if t % 2 == 0 { "even" } else { "odd" });
                // Miri interprets every instruction: fewer rounds there still cross every path.
                for i in 0..if cfg!(miri) { 40 } else { 2_000 } {
                    let size = if i % 3 == 0 { 4000 } else { 50 };
                    let mut buf =
                        if i % 2 == 0 { tenant.acquire(size).unwrap() } else { p.acquire(size).unwrap() };
                    buf.extend_from_slice(&[t as u8; 8]);
                    let frozen = buf.freeze();
                    assert_eq!(frozen[0], t as u8);
                    let snap_budget = p.budget();
                    assert!(p.snapshot().in_use_bytes <= snap_budget);
                }
            })
        })
        .collect();
    threads.into_iter().for_each(|h| h.join().unwrap());
    let snap = p.snapshot();
    assert_eq!(snap.in_use_bytes, 0);
    assert!(snap.tenants.iter().all(|t| t.in_use_bytes == 0));
    assert!(snap.high_water_bytes <= 8 * 4096);
}

#[test]
fn a_tight_budget_under_contention_never_deadlocks_or_overruns() {
    // Budget for two buffers, five threads: most requests wait (some 1,500 waits a run here). Blocking, timed and async waiters,
    // tenants and leases all mix; every thread must finish and the books must balance.
    let p =
        BufferPool::builder().classes([64, 4096]).budget(2 * 4096).tenant_quota("t", 4096).build().unwrap();
    let rounds = if cfg!(miri) { 10 } else { 400 };
    let threads: Vec<_> = (0..5)
        .map(|t| {
            let p = p.clone();
            thread::spawn(move || {
                let tenant = p.tenant("t");
                let mut timeouts = 0;
                for i in 0..rounds {
                    let size = if (i + t) % 3 == 0 { 64 } else { 4096 };
                    let buf = match t {
                        0 => p.acquire(size),
                        1 => tenant.acquire(size),
                        2 => block_on(p.acquire_async(size)),
                        _ => p.acquire_timeout(size, Duration::from_micros(200)),
                    };
                    match buf {
                        Ok(mut b) => {
                            b.extend_from_slice(&[t as u8]);
                            let snap = p.snapshot();
                            assert!(snap.reserved_bytes <= 2 * 4096, "{snap:?}");
                            assert!(snap.in_use_bytes <= 2 * 4096, "{snap:?}");
                            thread::yield_now(); // hold it a moment, so that others must wait
                            if i % 2 == 0 {
                                drop(b.freeze());
                            }
                        }
                        Err(PoolError::TimedOut { .. }) => timeouts += 1,
                        Err(e) => panic!("unexpected {e}"),
                    }
                }
                timeouts
            })
        })
        .collect();
    for h in threads {
        h.join().unwrap();
    }
    let snap = p.snapshot();
    assert_eq!((snap.in_use_bytes, snap.waiting), (0, 0));
    assert!(snap.high_water_bytes <= 2 * 4096);
    assert!(snap.tenants.iter().all(|t| t.in_use_bytes == 0));
    // With everything released, the whole budget can be had again.
    let all: Vec<_> = (0..2).map(|_| p.try_acquire(4096).unwrap()).collect();
    drop(all);
}

#[test]
fn a_timeout_too_long_to_represent_means_no_deadline() {
    let p = BufferPool::builder().classes([4096]).budget(4096).tenant_quota("t", 4096).build().unwrap();
    // With room: served at once (the deadline is never needed, but computing it must not panic).
    drop(p.acquire_timeout(1, Duration::MAX).unwrap());
    drop(p.tenant("t").acquire_timeout(1, Duration::MAX).unwrap());
    // Without room: waits, with no deadline, until room frees up.
    let held = p.acquire(1).unwrap();
    let (p2, t2) = (p.clone(), p.tenant("t"));
    let waiter = thread::spawn(move || {
        let first = p2.acquire_timeout(1, Duration::MAX).map(drop);
        let second = t2.acquire_timeout(1, Duration::from_secs(u64::MAX)).map(drop);
        (first, second)
    });
    while p.snapshot().waiting == 0 {
        thread::yield_now();
    }
    drop(held);
    assert_eq!(waiter.join().unwrap(), (Ok(()), Ok(())));
}

/// Waits until `n` requests are queued.
fn until_waiting(p: &BufferPool, n: usize) {
    while p.snapshot().waiting != n {
        thread::yield_now();
    }
}

#[test]
fn a_tenant_at_its_quota_does_not_hold_up_other_tenants() {
    let p =
        BufferPool::builder().classes([4096]).budget(64 * 4096).tenant_quota("alpha", 4096).build().unwrap();
    let alpha = p.tenant("alpha");
    let held = alpha.acquire(1).unwrap();
    let a2 = alpha.clone();
    let blocked = thread::spawn(move || a2.acquire(1).map(|b| b.tenant_id().map(str::to_owned)));
    until_waiting(&p, 1);
    // 63 blocks free: other tenants and tenant-less requests are served, by every way of asking.
    let beta = p.tenant("beta");
    let b1 = beta.try_acquire(1).expect("beta is not held up by alpha's quota");
    let b2 = beta.acquire_timeout(1, Duration::from_secs(60)).expect("beta waits for nobody");
    let b3 = block_on(beta.acquire_async(1)).unwrap();
    let plain = p.try_acquire(1).unwrap();
    // Alpha's own requests still queue behind alpha's waiter.
    assert!(matches!(alpha.try_acquire(1), Err(PoolError::WouldBlock { .. })));
    assert_eq!(p.snapshot().waiting, 1);
    drop(held);
    assert_eq!(blocked.join().unwrap(), Ok(Some("alpha".to_owned())));
    drop((b1, b2, b3, plain));
    let snap = p.snapshot();
    assert_eq!((snap.in_use_bytes, snap.waiting, snap.reserved_bytes - snap.leased_bytes), (0, 0, 0));
}

#[test]
fn a_waiter_freed_from_its_quota_competes_for_the_budget_in_order() {
    // Alpha (quota 8 KiB) holds 4 KiB and waits for 8 KiB: its quota holds it back. Beta then fills the
    // budget. When alpha's 4 KiB come back, the waiter needs budget, and requests arriving after it
    // must not take that budget first.
    let p = BufferPool::builder()
        .classes([4096, 8192])
        .budget(12288)
        .tenant_quota("alpha", 8192)
        .build()
        .unwrap();
    let alpha = p.tenant("alpha");
    let beta = p.tenant("beta");
    let a1 = alpha.acquire(1).unwrap();
    let a2 = alpha.clone();
    let waiter = thread::spawn(move || a2.acquire(8192).map(|b| b.capacity()));
    until_waiting(&p, 1);
    let b8 = beta.try_acquire(8192).unwrap(); // the budget is full now
    drop(a1); // the waiter's quota fits; the budget (4 KiB free) does not
    assert_eq!(p.snapshot().waiting, 1);
    assert!(
        matches!(beta.try_acquire(1), Err(PoolError::WouldBlock { .. })),
        "a later request overtook the waiter"
    );
    assert!(matches!(p.try_acquire(1), Err(PoolError::WouldBlock { .. })));
    drop(b8);
    assert_eq!(waiter.join().unwrap(), Ok(8192));
    assert_eq!(p.snapshot().in_use_bytes, 0);
}

#[test]
fn closing_the_pool_frees_blocks_cached_by_other_threads() {
    let p = BufferPool::builder().classes([4096, 256 << 10]).budget(1 << 20).build().unwrap();
    let shared = Arc::downgrade(p.shared());
    let (go, wait_go) = mpsc::channel::<()>();
    let (cached, wait_cached) = mpsc::channel::<()>();
    let p2 = p.clone();
    let worker = thread::spawn(move || {
        drop(p2.acquire(200 << 10).unwrap()); // a 256 KiB block into this thread's cache
        drop(p2.acquire(1).unwrap());
        drop(p2);
        cached.send(()).unwrap();
        wait_go.recv().unwrap(); // stay alive, cache and all, until the main thread has looked
    });
    wait_cached.recv().unwrap();
    assert_eq!(p.snapshot().cached_bytes, (256 << 10) + 4096);
    drop(p);
    // Every block holds the pool's shared state: none is left once the blocks are freed.
    assert_eq!(shared.strong_count(), 0, "blocks stayed allocated in the worker's cache");
    go.send(()).unwrap();
    worker.join().unwrap();
}

#[test]
fn a_thread_using_the_pool_while_it_closes_leaves_nothing_behind() {
    let p = BufferPool::builder().classes([4096]).budget(1 << 20).track_outstanding(false).build().unwrap();
    let shared = Arc::downgrade(p.shared());
    let workers: Vec<_> = (0..2)
        .map(|_| {
            let p2 = p.clone();
            thread::spawn(move || {
                for _ in 0..50 {
                    let bufs: Vec<_> = (0..3).map(|_| p2.acquire(1).unwrap()).collect();
                    drop(bufs);
                }
                // Buffers that outlive the pool handle are released after the close.
                let late = p2.acquire(1).unwrap();
                drop(p2);
                late
            })
        })
        .collect();
    drop(p);
    let late: Vec<_> = workers.into_iter().map(|w| w.join().unwrap()).collect();
    drop(late);
    assert_eq!(shared.strong_count(), 0);
}

#[test]
fn an_idle_block_keeps_its_memory_and_its_reference_to_the_pool() {
    let p = pool(&[4096, 65536], 1 << 20);
    let shared = p.shared().clone();
    let before = Arc::strong_count(&shared);
    let mut block = shared.new_block(1).unwrap();
    block.mem.extend_from_slice(b"written");
    let (addr, capacity) = (block.mem.as_ptr(), block.mem.capacity());
    assert_eq!((Arc::strong_count(&shared), capacity), (before + 1, 65536));
    let idle = block.into_idle();
    assert_eq!(Arc::strong_count(&shared), before + 1, "the idle form gave up the block's reference");
    // SAFETY: the block is this pool's, of its class 1 (64 KiB).
    let block = unsafe { idle.into_block(Arc::as_ptr(&shared), 65536) };
    assert_eq!((block.mem.as_ptr(), block.mem.capacity(), block.mem.len()), (addr, capacity, 0));
    assert_eq!(Arc::strong_count(&shared), before + 1);
    drop(block);
    assert_eq!(Arc::strong_count(&shared), before, "the block's reference was not given back");
}

#[test]
fn each_new_pool_on_a_thread_gets_its_own_thread_cache() {
    // Pools made and dropped one after another on one thread, as a server making one per request
    // would: the allocator tends to give each the address of the one before. Each must find its own
    // slot, never the sealed slot of an earlier pool (where the block would not be cached).
    for _ in 0..50 {
        let p = pool(&[4096], 1 << 20);
        drop(p.acquire(1).unwrap());
        assert_eq!(p.snapshot().cached_bytes, 4096);
    }
}

#[test]
fn a_thread_keeps_entries_for_about_the_pools_it_still_uses() {
    let short_lived = if cfg!(miri) { 40 } else { 2_000 };
    let alive = if cfg!(miri) { 20 } else { 300 };
    // A thread of its own, so that other tests' pools are not in its cache.
    thread::spawn(move || {
        let kept = pool(&[64], 1024);
        drop(kept.try_acquire(1).unwrap());
        for _ in 0..short_lived {
            let p = pool(&[64], 1024);
            drop(p.try_acquire(1).unwrap());
            drop(kept.try_acquire(1).unwrap());
        }
        // `kept`, the last short-lived pool, and at most as many gone ones before the next pruning.
        assert!(thread_cache::entries() <= 4, "{} entries for 2 pools", thread_cache::entries());

        // Many pools alive at once, used in turn: each has one entry, found again.
        let many: Vec<BufferPool> = (0..alive).map(|_| pool(&[64], 1024)).collect();
        for _ in 0..2 {
            for p in &many {
                let b = p.try_acquire(1).unwrap();
                assert_eq!(p.snapshot().in_use_bytes, 64);
                drop(b);
            }
        }
        let entries = thread_cache::entries();
        assert!(
            (alive + 1..=2 * (alive + 2)).contains(&entries),
            "{entries} entries for {} pools",
            alive + 1
        );
        drop(many);
        for _ in 0..4 {
            drop(pool(&[64], 1024).try_acquire(1).unwrap());
        }
        assert!(thread_cache::entries() <= 2 * (alive + 2));
    })
    .join()
    .unwrap();
}

#[test]
fn a_waker_that_panics_stops_no_other_grant_and_no_release() {
    use crate::test_tasks::{panicking_waker, CountedTask};

    let p = pool(&[4096], 8192);
    let (a, b) = (p.acquire(1).unwrap(), p.acquire(1).unwrap());
    let (task, waker) = CountedTask::with_waker();
    let broken = panicking_waker();
    let mut first = Box::pin(p.acquire_async(1));
    let mut second = Box::pin(p.acquire_async(1));
    assert!(first.as_mut().poll(&mut Context::from_waker(&broken)).is_pending());
    assert!(second.as_mut().poll(&mut Context::from_waker(&waker)).is_pending());
    drop(a); // grants `first`, whose waker panics: the release returns as usual
    drop(b);
    assert_eq!(task.wakes(), 1, "the next grant still wakes its task");
    let mut cx = Context::from_waker(std::task::Waker::noop());
    let (Poll::Ready(Ok(x)), Poll::Ready(Ok(y))) =
        (first.as_mut().poll(&mut cx), second.as_mut().poll(&mut cx))
    else {
        panic!("both were granted");
    };
    drop((x, y));
    assert_eq!((p.snapshot().in_use_bytes, p.snapshot().waiting), (0, 0));
}
