//! The waits of the bindings' `sliceAsync()`: what a pending operation leaves registered with the JS
//! object it waits on, and how it is taken back out, the same in both adapters.
//!
//! A side of a ring held by a JS object (an adapter's own type, behind `Rc<RefCell<…>>` because the
//! object and its pending operations share it) keeps the wakers of its pending operations in
//! [`Waiters`], so that freeing the side can settle their Promises. Each operation holds a
//! [`Registration`]: it polls the side through it, and dropping it (the operation settled, or was
//! cancelled) takes its waker out of the side's list and out of the ring, so that a cancelled wait
//! leaves nothing behind.

use std::cell::RefCell;
use std::collections::hash_map::Entry;
use std::collections::{BTreeMap, HashMap};
use std::future::Future;
use std::rc::{Rc, Weak};
use std::task::{Context, Poll, RawWakerVTable, Waker};

use super::BindingResult;

/// The wakers of one side's pending operations, each once.
///
/// ```
/// use std::task::Waker;
/// use omnibuf::binding::Waiters;
///
/// let mut waiters = Waiters::default();
/// waiters.add(Waker::noop());
/// waiters.add(Waker::noop()); // the same waker: kept once
/// assert_eq!(waiters.len(), 1);
/// waiters.wake_all();
/// assert_eq!(waiters.len(), 0);
/// ```
#[derive(Default, Debug)]
pub struct Waiters {
    /// The wakers in the order they came (woken in that order), by their number.
    wakers: BTreeMap<u64, Waker>,
    /// Each waker's number, by what `Waker::will_wake` compares: its data and vtable pointers. A
    /// side may have tens of thousands of waits pending: adding and taking one out stays cheap.
    numbers: HashMap<(*const (), *const RawWakerVTable), u64>,
    next: u64,
}

impl Waiters {
    /// Adds `waker`, unless one that wakes the same task is there already.
    pub fn add(&mut self, waker: &Waker) {
        let waker = waker.clone();
        if let Entry::Vacant(entry) = self.numbers.entry(identity(&waker)) {
            entry.insert(self.next);
            self.wakers.insert(self.next, waker);
            self.next += 1;
        }
    }

    /// Takes out the waker that wakes the same task as `waker`.
    pub fn remove(&mut self, waker: &Waker) {
        if let Some(number) = self.numbers.remove(&identity(&waker.clone())) {
            self.wakers.remove(&number);
        }
    }

    /// Wakes every waker, oldest first, and empties the list: the side is going away.
    pub fn wake_all(&mut self) {
        self.numbers.clear();
        std::mem::take(&mut self.wakers).into_values().for_each(Waker::wake);
    }

    /// How many wakers are registered.
    pub fn len(&self) -> usize {
        self.wakers.len()
    }

    /// Whether none is.
    pub fn is_empty(&self) -> bool {
        self.wakers.is_empty()
    }
}

/// What makes two wakers wake the same task, as `Waker::will_wake` compares them, of a clone: a
/// waker made by `Waker::from` need not compare equal to its clones (under Miri it does not), while
/// clones of one another do, so the list keys and looks up clones only.
fn identity(waker: &Waker) -> (*const (), *const RawWakerVTable) {
    (waker.data(), waker.vtable())
}

/// A side that pending operations wait on: an adapter's type for one side of a ring.
///
/// ```
/// use std::task::Waker;
/// use omnibuf::binding::{WaitSide, Waiters};
///
/// struct Side {
///     waiters: Waiters,
/// }
///
/// impl WaitSide for Side {
///     fn waiters(&mut self) -> &mut Waiters {
///         &mut self.waiters
///     }
///     fn forget_waker(&self, _waker: &Waker) {} // a ring side would take it out of the ring
/// }
/// ```
pub trait WaitSide {
    /// The wakers of the side's pending operations.
    fn waiters(&mut self) -> &mut Waiters;

    /// Takes `waker` out of what the side waits on (the ring), if the side still has that.
    fn forget_waker(&self, waker: &Waker);
}

/// What one pending operation leaves registered with the side `S` it waits on: its waker, in the
/// side's [`Waiters`] and in the ring. Dropped with the operation (settled, or cancelled), it takes
/// the waker out of both.
///
/// It holds the side weakly: the JS object owns the side, and freeing the object must not wait for
/// its pending operations.
///
/// ```
/// use std::cell::RefCell;
/// use std::rc::Rc;
/// use std::task::{Context, Poll, Waker};
/// use omnibuf::binding::{Registration, WaitSide, Waiters};
///
/// #[derive(Default)]
/// struct Side {
///     waiters: Waiters,
///     ready: bool,
/// }
/// impl WaitSide for Side {
///     fn waiters(&mut self) -> &mut Waiters {
///         &mut self.waiters
///     }
///     fn forget_waker(&self, _waker: &Waker) {}
/// }
///
/// let side = Rc::new(RefCell::new(Side::default()));
/// let mut registration = Registration::new(Rc::downgrade(&side));
/// let mut cx = Context::from_waker(Waker::noop());
/// let ready = |side: &mut Side, _: &mut Context<'_>| if side.ready { Poll::Ready(()) } else { Poll::Pending };
/// assert_eq!(registration.poll(&mut cx, ready), Some(Poll::Pending));
/// assert_eq!(side.borrow().waiters.len(), 1); // registered while it waits
/// drop(registration);
/// assert_eq!(side.borrow().waiters.len(), 0); // and taken back out with the operation
/// ```
pub struct Registration<S: WaitSide> {
    side: Weak<RefCell<S>>,
    /// The waker registered by the last poll that was pending; `None` once the operation settled.
    waker: Option<Waker>,
}

impl<S: WaitSide> Registration<S> {
    /// A registration with `side`, holding nothing yet.
    pub fn new(side: Weak<RefCell<S>>) -> Registration<S> {
        Registration { side, waker: None }
    }

    /// Polls `poll` on the side. Pending, the task's waker is registered with the side (`poll` has
    /// registered it with the ring); ready, a waker an earlier poll registered is taken back out of
    /// both, so that a side that serves many waits in its life keeps none of the settled ones.
    /// `None` when the side is gone (its JS object was collected).
    ///
    /// # Panics
    /// When the side is borrowed: an operation is polled by the event loop, never inside a call of
    /// its side.
    pub fn poll<R>(
        &mut self,
        cx: &mut Context<'_>,
        poll: impl FnOnce(&mut S, &mut Context<'_>) -> Poll<R>,
    ) -> Option<Poll<R>> {
        let side = self.side.upgrade()?;
        let mut side = side.borrow_mut();
        let outcome = poll(&mut side, cx);
        if outcome.is_pending() {
            side.waiters().add(cx.waker());
            self.waker = Some(cx.waker().clone());
        } else if let Some(waker) = self.waker.take() {
            side.waiters().remove(&waker);
            side.forget_waker(&waker);
        }
        Some(outcome)
    }
}

impl<S: WaitSide> Drop for Registration<S> {
    fn drop(&mut self) {
        let (Some(waker), Some(side)) = (self.waker.take(), self.side.upgrade()) else { return };
        // A side in use (the drop runs inside one of its calls) keeps the waker until its next wake.
        let Ok(mut side) = side.try_borrow_mut() else { return };
        side.waiters().remove(&waker);
        side.forget_waker(&waker);
    }
}

/// A `BufferPool` held by a JS object, shared (behind `Rc<RefCell<…>>`) with the futures of its
/// pending `acquire()`s, as a ring side is with its `sliceAsync()`s: freeing it ([`free`]) settles
/// them with the error of a freed object, as freeing a ring side settles its waits, rather than
/// leaving them to be served later by the pool nobody holds.
///
/// [`free`]: PoolSide::free
#[derive(Debug)]
pub struct PoolSide {
    /// `None` once freed.
    pool: Option<crate::BufferPool>,
    /// Wakers of pending `acquire()`s, woken when the pool is freed.
    waiting: Waiters,
}

impl WaitSide for PoolSide {
    fn waiters(&mut self) -> &mut Waiters {
        &mut self.waiting
    }

    // An `Acquire` leaves the pool's queue itself when it is dropped.
    fn forget_waker(&self, _waker: &Waker) {}
}

impl PoolSide {
    /// The side of `pool`.
    pub fn new(pool: crate::BufferPool) -> Rc<RefCell<PoolSide>> {
        Rc::new(RefCell::new(PoolSide { pool: Some(pool), waiting: Waiters::default() }))
    }

    /// The pool, or the error of a freed one.
    pub fn pool(&self) -> BindingResult<&crate::BufferPool> {
        self.pool.as_ref().ok_or_else(freed)
    }

    /// Lets go of the pool and wakes the pending `acquire()`s, which then fail as freed (and leave
    /// the pool's queue). Returns the pool, if it was not freed before.
    pub fn free(&mut self) -> Option<crate::BufferPool> {
        let pool = self.pool.take();
        self.waiting.wake_all();
        pool
    }
}

fn freed() -> super::BindingError {
    super::message::used_up("BufferPool", "freed")
}

/// `tryAcquire(size, tenant?)`: a buffer of `pool` now (for `tenant`, if given), or the pool's error.
/// A request refused as impossible (no class holds it, its class is above the budget or the tenant's
/// quota) makes no tenant: the call changes nothing.
///
/// ```
/// use omnibuf::binding::try_acquire;
/// use omnibuf::BufferPool;
///
/// let pool = BufferPool::builder().budget(8192).classes([4096]).build().unwrap();
/// assert!(try_acquire(&pool, 5000, Some("t")).is_err());
/// assert!(pool.snapshot().tenants.is_empty());
/// assert_eq!(try_acquire(&pool, 10, Some("t")).unwrap().tenant_id(), Some("t"));
/// ```
pub fn try_acquire(
    pool: &crate::BufferPool,
    size: usize,
    tenant: Option<&str>,
) -> Result<crate::PooledBuffer, crate::PoolError> {
    match tenant {
        Some(name) => pool.tenant_for(name, size)?.try_acquire(size),
        None => pool.try_acquire(size),
    }
}

/// `acquire(size)` of the pool of `side` (for `tenant`, if given): a future of the buffer, which fails
/// as freed if the side is freed (or dropped) before it is served. The error of a freed side at once.
///
/// ```
/// use std::future::Future;
/// use std::pin::pin;
/// use std::task::{Context, Poll, Waker};
/// use omnibuf::binding::{acquire, PoolSide};
/// use omnibuf::BufferPool;
///
/// let side = PoolSide::new(BufferPool::builder().budget(4096).classes([4096]).build().unwrap());
/// let held = side.borrow().pool().unwrap().try_acquire(4096).unwrap();
/// let mut waiting = pin!(acquire(&side, 1, None).unwrap());
/// let mut cx = Context::from_waker(Waker::noop());
/// assert!(waiting.as_mut().poll(&mut cx).is_pending());
/// side.borrow_mut().free();
/// let Poll::Ready(Err(e)) = waiting.as_mut().poll(&mut cx) else { panic!() };
/// assert_eq!(e.message, "this BufferPool was freed and cannot be used any more");
/// # drop(held);
/// ```
pub fn acquire(
    side: &Rc<RefCell<PoolSide>>,
    size: usize,
    tenant: Option<&str>,
) -> BindingResult<PoolAcquire> {
    let acquire = {
        let side = side.borrow();
        let pool = side.pool()?;
        match tenant {
            Some(name) => pool.tenant_acquire_async(name, size),
            None => pool.acquire_async(size),
        }
    };
    Ok(PoolAcquire { registration: Registration::new(Rc::downgrade(side)), acquire })
}

/// The future of [`acquire`].
pub struct PoolAcquire {
    registration: Registration<PoolSide>,
    acquire: crate::pool::Acquire,
}

impl Future for PoolAcquire {
    type Output = BindingResult<crate::PooledBuffer>;

    fn poll(self: std::pin::Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let PoolAcquire { registration, acquire } = self.get_mut();
        let outcome = registration.poll(cx, |side, cx| match side.pool {
            None => Poll::Ready(Err(freed())),
            Some(_) => std::pin::Pin::new(&mut *acquire).poll(cx).map(|r| r.map_err(Into::into)),
        });
        outcome.unwrap_or_else(|| Poll::Ready(Err(freed())))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::rc::Rc;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Arc;
    use std::task::Wake;

    /// A side whose ring is a list of wakers, as the core's rings keep theirs.
    #[derive(Default)]
    struct Side {
        waiters: Waiters,
        ring: RefCell<Vec<Waker>>,
        ready: bool,
    }

    impl WaitSide for Side {
        fn waiters(&mut self) -> &mut Waiters {
            &mut self.waiters
        }
        fn forget_waker(&self, waker: &Waker) {
            self.ring.borrow_mut().retain(|w| !w.will_wake(waker));
        }
    }

    /// Counts its wakes.
    struct Count(AtomicUsize);
    impl Wake for Count {
        fn wake(self: Arc<Self>) {
            self.0.fetch_add(1, Ordering::Relaxed);
        }
    }

    fn slice(side: &mut Side, cx: &mut Context<'_>) -> Poll<u8> {
        if side.ready {
            Poll::Ready(7)
        } else {
            side.ring.get_mut().push(cx.waker().clone());
            Poll::Pending
        }
    }

    /// Records the order of its wakes in a shared list.
    struct Named(u8, Arc<std::sync::Mutex<Vec<u8>>>);
    impl Wake for Named {
        fn wake(self: Arc<Self>) {
            self.1.lock().unwrap().push(self.0);
        }
    }

    #[test]
    fn waiters_are_kept_once_each_and_woken_oldest_first() {
        let woken = Arc::new(std::sync::Mutex::new(Vec::new()));
        // Clones of one waker (see below on `Waker::from`), as an executor polls with.
        let wakers: Vec<Waker> =
            (0..4).map(|n| Waker::from(Arc::new(Named(n, woken.clone()))).clone()).collect();
        let mut waiters = Waiters::default();
        for w in [&wakers[2], &wakers[0], &wakers[3], &wakers[1]] {
            waiters.add(w);
        }
        waiters.add(&wakers[2]);
        assert_eq!(waiters.len(), 4, "the same waker again is kept once");
        waiters.remove(&wakers[3]);
        waiters.remove(&wakers[3]);
        assert_eq!(waiters.len(), 3);
        waiters.wake_all();
        assert!(waiters.is_empty());
        assert_eq!(*woken.lock().unwrap(), [2, 0, 1], "in the order they came");
    }

    #[test]
    fn a_pending_operation_is_registered_and_dropping_it_takes_the_waker_out_of_side_and_ring() {
        let side = Rc::new(RefCell::new(Side::default()));
        let count = Arc::new(Count(AtomicUsize::new(0)));
        // `will_wake` is best effort: a waker made by `Waker::from` (or `Waker::noop`) need not compare
        // equal to its clones (under Miri it does not), while clones of one another do. So the task's
        // waker here is a clone (the addon's executor, too, polls with a clone).
        let waker = Waker::from(count.clone()).clone();
        let mut cx = Context::from_waker(&waker);
        let mut registration = Registration::new(Rc::downgrade(&side));
        assert_eq!(registration.poll(&mut cx, slice), Some(Poll::Pending));
        assert_eq!(registration.poll(&mut cx, slice), Some(Poll::Pending));
        assert_eq!(side.borrow().waiters.len(), 1, "one task, registered once");
        assert_eq!(side.borrow().ring.borrow().len(), 2);
        drop(registration);
        assert!(side.borrow().waiters.is_empty());
        assert!(side.borrow().ring.borrow().is_empty(), "the ring forgets the waker too");
        assert_eq!(count.0.load(Ordering::Relaxed), 0, "nothing is woken");
    }

    #[test]
    fn a_settled_operation_leaves_nothing_behind() {
        let side = Rc::new(RefCell::new(Side::default()));
        // Many waits of one side in turn, each pending once and then ready (a long-lived reader):
        // none may stay registered, or the side's list would grow with every wait it served.
        for task in 0..100 {
            let count = Arc::new(Count(AtomicUsize::new(0)));
            let waker = Waker::from(count).clone();
            let mut cx = Context::from_waker(&waker);
            let mut registration = Registration::new(Rc::downgrade(&side));
            side.borrow_mut().ready = false;
            assert_eq!(registration.poll(&mut cx, slice), Some(Poll::Pending));
            side.borrow_mut().ready = true;
            assert_eq!(registration.poll(&mut cx, slice), Some(Poll::Ready(7)));
            assert!(side.borrow().waiters.is_empty(), "wait {task} left its waker with the side");
            assert!(side.borrow().ring.borrow().is_empty(), "wait {task} left its waker in the ring");
            drop(registration);
        }
    }

    #[test]
    fn a_side_in_use_keeps_the_waker_and_a_side_gone_is_not_polled() {
        let side = Rc::new(RefCell::new(Side::default()));
        let mut cx = Context::from_waker(Waker::noop());
        let mut registration = Registration::new(Rc::downgrade(&side));
        assert_eq!(registration.poll(&mut cx, slice), Some(Poll::Pending));
        {
            let _in_use = side.borrow_mut();
            drop(registration); // must not panic: the side is borrowed
        }
        assert_eq!(side.borrow().waiters.len(), 1, "an in-use side keeps the waker");

        let mut registration = Registration::new(Rc::downgrade(&side));
        drop(side);
        assert_eq!(registration.poll(&mut cx, slice), None);
    }

    #[test]
    fn freeing_a_side_wakes_every_waiter_once() {
        let count = Arc::new(Count(AtomicUsize::new(0)));
        let other = Arc::new(Count(AtomicUsize::new(0)));
        let waker = Waker::from(count.clone());
        let mut waiters = Waiters::default();
        waiters.add(&waker);
        waiters.add(&waker.clone());
        waiters.add(&Waker::from(other.clone()));
        assert_eq!(waiters.len(), 2);
        waiters.wake_all();
        assert!(waiters.is_empty());
        assert_eq!(count.0.load(Ordering::Relaxed), 1);
        assert_eq!(other.0.load(Ordering::Relaxed), 1);
    }

    #[test]
    fn freeing_a_pool_fails_its_pending_acquires_and_they_leave_its_queue() {
        use crate::BufferPool;
        let pool = BufferPool::builder().budget(4096).classes([4096]).build().unwrap();
        let side = PoolSide::new(pool.clone());
        let held = pool.try_acquire(4096).unwrap();
        let count = Arc::new(Count(AtomicUsize::new(0)));
        let waker = Waker::from(count.clone()).clone();
        let mut cx = Context::from_waker(&waker);
        let mut waiting = Box::pin(acquire(&side, 1, None).unwrap());
        assert!(waiting.as_mut().poll(&mut cx).is_pending());
        assert_eq!(pool.snapshot().waiting, 1);
        assert_eq!(side.borrow().waiting.len(), 1);
        assert!(side.borrow_mut().free().is_some());
        assert_eq!(count.0.load(Ordering::Relaxed), 1, "woken by the free");
        let Poll::Ready(Err(e)) = waiting.as_mut().poll(&mut cx) else { panic!("still pending") };
        assert_eq!(e, crate::binding::message::used_up("BufferPool", "freed"));
        drop(waiting);
        assert_eq!(pool.snapshot().waiting, 0, "out of the queue");
        // The budget it waited for goes to nobody: all of it is there again.
        drop(held);
        assert!(pool.try_acquire(4096).is_ok());
        assert!(acquire(&side, 1, None).is_err(), "a freed side refuses at once");
    }

    #[test]
    fn a_served_acquire_leaves_nothing_with_the_side() {
        use crate::BufferPool;
        let side = PoolSide::new(BufferPool::builder().budget(4096).classes([4096]).build().unwrap());
        let held = side.borrow().pool().unwrap().try_acquire(4096).unwrap();
        let waker = Waker::from(Arc::new(Count(AtomicUsize::new(0)))).clone();
        let mut cx = Context::from_waker(&waker);
        let mut waiting = Box::pin(acquire(&side, 1, Some("t")).unwrap());
        assert!(waiting.as_mut().poll(&mut cx).is_pending());
        drop(held);
        let Poll::Ready(Ok(buffer)) = waiting.as_mut().poll(&mut cx) else { panic!("not served") };
        assert_eq!(buffer.tenant_id(), Some("t"));
        assert!(side.borrow().waiting.is_empty());
    }
}
