//! The pool's budget and waiting protocol.
//!
//! # Accounting
//! One atomic word, `state`, holds the bytes *reserved* over all classes, plus a `WAITERS` flag bit.
//! A reservation is a compare-and-swap on that word that refuses to go over the budget, so the budget
//! is never exceeded, not even for an instant. A tenant's word is reserved the same way.
//!
//! # Leases
//! Reserved bytes are either in buffers that are checked out, or in a thread's *lease*: budget a
//! thread keeps after releasing a buffer, so that its next acquire of that class needs no shared
//! write. A lease lives in the thread's slot (`thread_slot.rs`), which its owner updates with plain
//! loads and stores; the shared `state` is written only when a lease is empty (a refill) or full (a
//! return). A lease holds at most a class's cap of bytes. Anyone who would wait for room first takes
//! every lease (through the slots' protocol, [`LeaseHolders`]) and returns those bytes to `state`, so
//! leased bytes never keep a request waiting.
//!
//! # Waiting
//! A request that finds no room joins the FIFO queue of its class (one line per tenant, so that a
//! head is found without looking past each request a quota holds back), under one mutex. A queued request
//! that its tenant's quota holds back (the tenant has that much checked out already) waits for its
//! tenant alone: it competes with nobody for the budget and holds up nobody. The others are *heads*:
//! a class's head is its oldest queued request that its quota does not hold back. While any head is
//! queued, the budget's `WAITERS` flag is set and the leases are empty (taken when the flag goes up):
//! the fast path reserves nothing from `state` and releases go straight back to it, so every request
//! goes through the queue and nobody overtakes a head. While a tenant has requests queued, the same
//! flag bit is set in its `in_use` word: its own fast path then reserves nothing, and its releases
//! serve the queue, so that its waiters get their quota back in order. Whoever frees room (a release,
//! a cancelled wait) grants under the mutex: the grant reserves the bytes *for* the waiter and hands
//! them over. Heads of different classes are granted oldest first, and a head that does not fit does
//! not hold up other classes; within a class, order among heads is strictly first come, first served.
//! The budget's flag is cleared when no head is left.
//!
//! # No lost wake-up
//! Checked by loom (`loom_tests.rs`); acquire/release orderings suffice, plus the slots' barriers:
//! - a release into `state` and the grant's `fetch_or(WAITERS)` act on the same word, so they are
//!   ordered in its modification order: either the grant's later look for room sees the release, or
//!   the release sees the flag and grants under the mutex;
//! - the same holds for a tenant's word: a queued request sets the tenant's flag before the grant
//!   looks at the quota, and a release of the tenant's bytes either is seen by that look or sees the
//!   flag and grants (which raises the budget's flag for a request its quota no longer holds back);
//! - a release into a lease reads `WAITERS` inside the owner's step on its slot, and deposits only
//!   when the flag is clear. A waiter sets the flag before it takes the leases, and taking a lease
//!   waits for any owner step in progress (`thread_slot.rs`): so either the step's deposit happened
//!   before the taking and is taken, or the step sees the taker (and gives its bytes to `state`), or
//!   it starts after the taking, whose release of the slot makes the flag visible to the step. A
//!   lease taken back stays empty while the flag is set.
//!
//! # Wakers run outside the lock
//! A task's waker may run any code, the pool's included: an executor that polls the woken task at
//! once (which takes the lock to see its grant), or a waker whose drop drops the task and a buffer
//! it held (which releases into the pool). So wakers the queue lets go of under the lock (a granted
//! task's, to wake; a replaced or cancelled one's, to drop) are kept in the queue and woken or
//! dropped when the lock is released ([`Locked`]). A granted task is woken after the grant is
//! visible under the lock, so a poll that comes before the wake sees it. Threads are still notified
//! under the lock (a condition variable runs no code of anyone's). A waker that panics does not stop
//! the others, nor does its panic reach the thread that released (`sync::wake_all`).

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::task::Waker;

use super::error::PoolError;
use crate::platform::time::{Duration, Instant};
use crate::sync::{
    Arc, AtomicUsize, Condvar, Mutex, MutexGuard,
    Ordering::{AcqRel, Acquire, Relaxed},
};

/// Counters of one size class, alone on their cache line so that classes do not slow each other down.
#[repr(align(128))]
#[derive(Default)]
pub(crate) struct ClassCounters {
    /// Bytes of this class reserved: in checked-out buffers or in leases.
    pub(crate) reserved: AtomicUsize,
    /// Most bytes of this class ever reserved at once.
    pub(crate) high_water: AtomicUsize,
    /// Requests of this class queued right now.
    pub(crate) waiting: AtomicUsize,
    pub(crate) waits: AtomicUsize,
    pub(crate) timeouts: AtomicUsize,
    pub(crate) refusals: AtomicUsize,
}

/// A tenant's quota and counters. Shared by every buffer the tenant has checked out.
pub(crate) struct TenantState {
    pub(crate) name: std::sync::Arc<str>,
    pub(crate) quota: usize,
    /// Bytes reserved for the tenant, plus the `WAITERS` flag while requests of the tenant are queued.
    in_use: AtomicUsize,
    pub(crate) high_water: AtomicUsize,
    pub(crate) waits: AtomicUsize,
    pub(crate) timeouts: AtomicUsize,
    pub(crate) refusals: AtomicUsize,
}

impl TenantState {
    pub(crate) fn new(name: std::sync::Arc<str>, quota: usize) -> TenantState {
        TenantState {
            name,
            quota,
            in_use: AtomicUsize::new(0),
            high_water: AtomicUsize::new(0),
            waits: AtomicUsize::new(0),
            timeouts: AtomicUsize::new(0),
            refusals: AtomicUsize::new(0),
        }
    }

    /// Bytes reserved for the tenant now.
    pub(crate) fn in_use(&self) -> usize {
        self.in_use.load(Acquire) & !WAITERS
    }

    /// Whether `size` more bytes fit the quota now.
    fn quota_fits(&self, size: usize) -> bool {
        self.in_use() + size <= self.quota
    }

    /// Reserves `size` bytes of the quota if they fit. The fast path (`queued == false`) also refuses
    /// while requests of the tenant are queued, so that it never takes quota a waiter is waiting for.
    fn reserve(&self, size: usize, queued: bool) -> bool {
        let mut now = self.in_use.load(Relaxed);
        loop {
            if (!queued && now & WAITERS != 0) || (now & !WAITERS) + size > self.quota {
                return false;
            }
            match self.in_use.compare_exchange_weak(now, now + size, AcqRel, Relaxed) {
                Ok(_) => return true,
                Err(actual) => now = actual,
            }
        }
    }

    /// Gives `size` bytes back; returns whether requests of the tenant are queued.
    fn release(&self, size: usize) -> bool {
        self.in_use.fetch_sub(size, AcqRel) & WAITERS != 0
    }
}

/// One request: which class, how many bytes, for which tenant.
#[derive(Clone)]
pub(crate) struct Request {
    pub(crate) class: usize,
    pub(crate) size: usize,
    /// A plain `std` `Arc`: which tenant a request is for is data, not part of the protocol.
    pub(crate) tenant: Option<std::sync::Arc<TenantState>>,
}

/// How a queued waiter is woken.
enum Wake {
    Thread(Arc<Condvar>),
    Task(Waker),
    /// A task granted: its waker was let go of ([`Queue::let_go`]).
    Woken,
}

struct Waiter {
    request: Request,
    granted: bool,
    wake: Wake,
}

#[derive(Default)]
struct Queue {
    next_ticket: u64,
    waiters: HashMap<u64, Waiter>,
    /// Tickets still waiting, per class (see [`ClassQueue`]). Granted tickets leave these queues.
    per_class: Vec<ClassQueue>,
    /// Tickets still waiting per tenant (keyed by the tenant state's address), so that the tenant's
    /// `WAITERS` flag is cleared when its last one leaves.
    per_tenant: HashMap<usize, usize>,
    /// Wakers let go of under the lock, with whether to wake them (or only drop them): see "Wakers
    /// run outside the lock".
    let_go: Vec<(Waker, bool)>,
}

impl Queue {
    /// Lets go of `wake`, a waiter's that is no longer needed.
    fn drop_later(&mut self, wake: Wake) {
        if let Wake::Task(waker) = wake {
            self.let_go.push((waker, false));
        }
    }
}

/// The locked queue: releasing it (dropping this) wakes and drops the wakers let go of meanwhile.
struct Locked<'a> {
    guard: Option<MutexGuard<'a, Queue>>,
}

impl Locked<'_> {
    /// Waits on `cv` (until `timeout`, if given), the lock released meanwhile. Nothing may be let go
    /// of when called: a task woken only after this thread wakes up could wait for good.
    fn wait_on(mut self, cv: &Condvar, timeout: Option<Duration>) -> Self {
        let guard = self.guard.take().expect("a Locked holds its guard until dropped");
        debug_assert!(guard.let_go.is_empty());
        let guard = match timeout {
            None => cv.wait(guard).unwrap_or_else(|e| e.into_inner()),
            Some(timeout) => wait_timeout(cv, guard, timeout),
        };
        Locked { guard: Some(guard) }
    }
}

impl std::ops::Deref for Locked<'_> {
    type Target = Queue;
    fn deref(&self) -> &Queue {
        self.guard.as_ref().expect("a Locked holds its guard until dropped")
    }
}

impl std::ops::DerefMut for Locked<'_> {
    fn deref_mut(&mut self) -> &mut Queue {
        self.guard.as_mut().expect("a Locked holds its guard until dropped")
    }
}

impl Drop for Locked<'_> {
    fn drop(&mut self) {
        let Some(mut guard) = self.guard.take() else { return };
        let let_go = std::mem::take(&mut guard.let_go);
        drop(guard);
        crate::sync::wake_all(let_go);
    }
}

/// The tickets of one class still waiting, in one line per tenant (see [`line_of`]), each oldest
/// first. A request held back by its quota holds back its tenant's later ones in the class (they are
/// the same size), so the class's head is the oldest first ticket of a line whose quota fits: found
/// by looking past the tenants a quota holds back, not past each of their requests.
#[derive(Default)]
struct ClassQueue {
    lines: HashMap<usize, BTreeSet<u64>>,
    /// The first ticket of each line, and the line's key.
    firsts: BTreeMap<u64, usize>,
}

impl ClassQueue {
    fn push(&mut self, line: usize, ticket: u64) {
        let tickets = self.lines.entry(line).or_default();
        if tickets.is_empty() {
            self.firsts.insert(ticket, line);
        }
        tickets.insert(ticket);
    }

    fn remove(&mut self, line: usize, ticket: u64) {
        let Some(tickets) = self.lines.get_mut(&line) else { return };
        if !tickets.remove(&ticket) {
            return;
        }
        // The line's first leaves: the next one takes its place, or the line goes.
        if self.firsts.remove(&ticket).is_some() {
            match tickets.first() {
                Some(&next) => _ = self.firsts.insert(next, line),
                None => _ = self.lines.remove(&line),
            }
        }
    }

    /// The first ticket of `line`.
    fn first_of(&self, line: usize) -> Option<u64> {
        self.lines.get(&line).and_then(|tickets| tickets.first()).copied()
    }

    /// The first tickets of the lines, oldest first.
    fn firsts(&self) -> impl Iterator<Item = u64> + '_ {
        self.firsts.keys().copied()
    }
}

fn tenant_key(tenant: &std::sync::Arc<TenantState>) -> usize {
    std::sync::Arc::as_ptr(tenant) as usize
}

/// The line of its class a request waits in: its tenant's ([`tenant_key`]), or 0 for requests
/// without one.
fn line_of(req: &Request) -> usize {
    req.tenant.as_ref().map_or(0, tenant_key)
}

/// Set in `Budget::state` while queued requests compete for the budget, and in a tenant's `in_use`
/// while requests of that tenant are queued.
const WAITERS: usize = 1 << (usize::BITS - 1);

/// Largest budget the flag bit leaves room for.
pub(crate) const MAX_BUDGET: usize = WAITERS - 1;

/// Where leased budget is kept: one lease per thread, in its slot (`thread_slot.rs`). The budget
/// takes every lease back before a request waits or is refused.
pub(crate) trait LeaseHolders: Send + Sync {
    /// Empties every lease, calling `give(class, bytes)` for what each held.
    fn take_all(&self, give: &mut dyn FnMut(usize, usize));
    /// Bytes held by all leases (a momentary reading). For the loom models' assertions.
    #[cfg(loom)]
    fn leased(&self) -> usize;
}

/// No leases at all: for budgets without thread slots (the loom models of the queue alone).
#[cfg(all(test, loom))]
pub(crate) struct NoLeases;

#[cfg(all(test, loom))]
impl LeaseHolders for NoLeases {
    fn take_all(&self, _give: &mut dyn FnMut(usize, usize)) {}
    #[cfg(loom)]
    fn leased(&self) -> usize {
        0
    }
}

/// Budget, quotas, leases and the queue of waiting requests.
pub(crate) struct Budget {
    pub(crate) limit: usize,
    /// Bytes reserved over all classes, and the `WAITERS` flag.
    state: AtomicUsize,
    pub(crate) classes: Box<[ClassCounters]>,
    /// Most bytes ever reserved at once.
    pub(crate) high_water: AtomicUsize,
    /// Every live lease, so that a waiter can take them.
    leases: std::sync::Arc<dyn LeaseHolders>,
    queue: Mutex<Queue>,
}

impl Budget {
    /// A budget of `limit` bytes over `class_count` classes, whose leases `leases` reaches.
    pub(crate) fn new(limit: usize, class_count: usize, leases: std::sync::Arc<dyn LeaseHolders>) -> Budget {
        assert!(limit <= MAX_BUDGET, "budget {limit} exceeds {MAX_BUDGET}");
        Budget {
            limit,
            state: AtomicUsize::new(0),
            classes: (0..class_count).map(|_| ClassCounters::default()).collect(),
            high_water: AtomicUsize::new(0),
            leases,
            queue: Mutex::new(Queue {
                per_class: (0..class_count).map(|_| ClassQueue::default()).collect(),
                ..Queue::default()
            }),
        }
    }

    /// Bytes reserved over all classes: checked out or leased.
    pub(crate) fn reserved(&self) -> usize {
        self.state.load(Acquire) & !WAITERS
    }

    /// Bytes held by all leases (a momentary reading). For the loom models' assertions.
    #[cfg(loom)]
    pub(crate) fn leased(&self) -> usize {
        self.leases.leased()
    }

    /// Whether the bytes of `req`, being released, may go into the releasing thread's lease rather
    /// than back to `state`: not while anyone waits (they need the room), and never a tenant's (its
    /// quota word needs a shared write anyway). The caller checks the lease's cap, and makes this
    /// check inside its slot's owner step (see "No lost wake-up").
    #[inline(always)]
    pub(crate) fn may_lease(&self, req: &Request) -> bool {
        req.tenant.is_none() && self.state.load(Acquire) & WAITERS == 0
    }

    /// Reserves the request's bytes if budget and quota allow. The fast path (`queued == false`)
    /// also refuses while anyone waits; the grant, which serves the queue, passes.
    #[inline]
    fn reserve(&self, req: &Request, queued: bool) -> bool {
        let mut state = self.state.load(Relaxed);
        loop {
            let waiters_first = !queued && state & WAITERS != 0;
            if waiters_first || (state & !WAITERS) + req.size > self.limit {
                return false;
            }
            match self.state.compare_exchange_weak(state, state + req.size, AcqRel, Relaxed) {
                Ok(_) => break,
                Err(now) => state = now,
            }
        }
        let total = (state & !WAITERS) + req.size;
        if let Some(tenant) = &req.tenant {
            if !tenant.reserve(req.size, queued) {
                // Give the bytes back. A grant (under the lock) just carries on; the fast path must
                // serve waiters its bytes may have kept out, as any release does.
                if queued {
                    self.state.fetch_sub(req.size, AcqRel);
                } else {
                    self.release_bytes(req.size);
                }
                return false;
            }
            raise(&tenant.high_water, tenant.in_use());
        }
        let class = &self.classes[req.class];
        let class_now = class.reserved.fetch_add(req.size, Relaxed) + req.size;
        raise(&class.high_water, class_now);
        raise(&self.high_water, total);
        true
    }

    /// The fast path without a lease: reserves if there is room and nobody is waiting.
    #[inline]
    pub(crate) fn try_reserve(&self, req: &Request) -> bool {
        self.reserve(req, false)
    }

    /// Like `try_reserve`, but first takes every lease back, so that leased bytes never make a
    /// request fail. For `try_acquire`, whose refusal must mean the budget is really in use.
    #[cold]
    pub(crate) fn try_reserve_exact(&self, req: &Request) -> bool {
        let _queue = self.lock();
        // Waiters come first: those competing for the budget, and the tenant's own.
        if self.state.load(Acquire) & WAITERS != 0
            || req.tenant.as_ref().is_some_and(|t| t.in_use.load(Acquire) & WAITERS != 0)
        {
            return false;
        }
        self.take_all_leases();
        // `queued`: the lock is held, so a failed tenant reservation must not take it again.
        self.reserve(req, true)
    }

    /// Gives back bytes reserved for `req` and serves waiters that now fit.
    #[inline]
    pub(crate) fn release(&self, req: &Request) {
        // A tenant's waiter may be held back by its quota alone: the tenant's flag says to serve it.
        let tenant_waiting = req.tenant.as_ref().is_some_and(|t| t.release(req.size));
        self.classes[req.class].reserved.fetch_sub(req.size, Relaxed);
        // Last, so that a waiter woken by it sees the class and tenant counters already lowered.
        if self.state.fetch_sub(req.size, AcqRel) & WAITERS != 0 || tenant_waiting {
            self.grant_now();
        }
    }

    /// Returns `bytes` of `class` that a lease held to `state` (the thread is done with the pool, or
    /// the pool is closing).
    pub(crate) fn return_leased(&self, class: usize, bytes: usize) {
        if bytes > 0 {
            self.classes[class].reserved.fetch_sub(bytes, Relaxed);
            self.release_bytes(bytes);
        }
    }

    /// Takes every thread's lease back into `state` (a trim): the budget counts only what is in use
    /// until threads lease again, on their next releases. Taken under the lock as a `try_acquire`
    /// takes them; anyone waiting had the leases taken already, so this frees no room for them.
    pub(crate) fn return_leases(&self) {
        let _queue = self.lock();
        self.take_all_leases();
    }

    /// Takes every lease back into `state`. Called with the queue locked, by whoever is about to
    /// wait or refuse; grants nothing itself (the caller does).
    fn take_all_leases(&self) {
        self.leases.take_all(&mut |class, bytes| {
            self.classes[class].reserved.fetch_sub(bytes, Relaxed);
            self.state.fetch_sub(bytes, AcqRel);
        });
    }

    #[inline]
    fn release_bytes(&self, size: usize) {
        if self.state.fetch_sub(size, AcqRel) & WAITERS != 0 {
            self.grant_now();
        }
    }

    #[cold]
    fn grant_now(&self) {
        let mut queue = self.lock();
        self.grant(&mut queue);
    }

    /// Refuses requests that could never be served, so that they fail instead of waiting forever.
    #[inline]
    pub(crate) fn check_possible(
        &self,
        size: usize,
        tenant: Option<&std::sync::Arc<TenantState>>,
    ) -> Result<(), PoolError> {
        if size <= self.limit && tenant.is_none() {
            return Ok(());
        }
        self.check_possible_slow(size, tenant)
    }

    #[cold]
    fn check_possible_slow(
        &self,
        size: usize,
        tenant: Option<&std::sync::Arc<TenantState>>,
    ) -> Result<(), PoolError> {
        if size > self.limit {
            return Err(PoolError::ExceedsBudget { class_size: size, budget: self.limit });
        }
        match tenant {
            Some(t) => check_quota(&t.name, size, t.quota),
            None => Ok(()),
        }
    }

    /// Counts a `try_acquire` that found no room.
    pub(crate) fn count_refusal(&self, req: &Request) {
        self.classes[req.class].refusals.fetch_add(1, Relaxed);
        if let Some(t) = &req.tenant {
            t.refusals.fetch_add(1, Relaxed);
        }
    }

    fn lock(&self) -> Locked<'_> {
        // The queue is consistent at every point where a panic could happen (none is expected: no user
        // code runs under this lock), so a poisoned lock is still usable.
        Locked { guard: Some(self.queue.lock().unwrap_or_else(|e| e.into_inner())) }
    }

    /// Queues `req` behind the waiters of its class and serves the queue; returns the ticket, or
    /// `None` when the request was granted at once.
    fn enqueue(&self, queue: &mut Queue, req: &Request, wake: Wake) -> Option<u64> {
        // Before the grant below looks at the quota: see "No lost wake-up". The grant raises the
        // budget's flag (and takes the leases) unless the request is held by its quota.
        if let Some(t) = &req.tenant {
            t.in_use.fetch_or(WAITERS, AcqRel);
            *queue.per_tenant.entry(tenant_key(t)).or_default() += 1;
        }
        self.classes[req.class].waiting.fetch_add(1, Relaxed);
        let ticket = queue.next_ticket;
        queue.next_ticket += 1;
        // A line holds requests of one size (its class's), which `head` relies on.
        debug_assert!(queue.per_class[req.class].first_of(line_of(req)).is_none_or(|first| queue.waiters
            [&first]
            .request
            .size
            == req.size));
        queue.per_class[req.class].push(line_of(req), ticket);
        queue.waiters.insert(ticket, Waiter { request: req.clone(), granted: false, wake });
        self.grant(queue);
        if queue.waiters[&ticket].granted {
            queue.waiters.remove(&ticket);
            return None;
        }
        self.classes[req.class].waits.fetch_add(1, Relaxed);
        if let Some(t) = &req.tenant {
            t.waits.fetch_add(1, Relaxed);
        }
        Some(ticket)
    }

    /// Serves the queue: grants, oldest first, every request that fits, until none does. A request
    /// its tenant's quota holds back is passed over and holds up nobody; among the others, each
    /// class is served in order (its first such request is its head). The budget's `WAITERS` flag is
    /// set while a head is queued and cleared when none is.
    fn grant(&self, queue: &mut Queue) {
        loop {
            if !self.any_head(queue) {
                self.state.fetch_and(!WAITERS, AcqRel);
                return;
            }
            // Before looking for room: see "No lost wake-up". When the flag goes up here (a head
            // just arrived, or its quota just freed up), leased bytes are taken back first, so that
            // they let no later head overtake an earlier one.
            if self.state.fetch_or(WAITERS, AcqRel) & WAITERS == 0 {
                self.take_all_leases();
            }
            let Some(ticket) = self.oldest_fitting_head(queue) else { return };
            let waiter = queue.waiters.get_mut(&ticket).expect("queued tickets have waiters");
            // While `WAITERS` is set only grants reserve, and room only grows between the check and
            // here; should that ever not hold, the head simply stays queued.
            if !self.reserve(&waiter.request, true) {
                return;
            }
            waiter.granted = true;
            let req = waiter.request.clone();
            if let Wake::Thread(cv) = &waiter.wake {
                cv.notify_one();
            } else if let Wake::Task(waker) = std::mem::replace(&mut waiter.wake, Wake::Woken) {
                queue.let_go.push((waker, true));
            }
            self.leave_queue(queue, ticket, &req);
        }
    }

    /// A class's head: its oldest queued request that its tenant's quota does not hold back.
    fn head(&self, queue: &Queue, class: usize) -> Option<u64> {
        let quota_fits = |ticket: &u64| {
            let req = &queue.waiters[ticket].request;
            req.tenant.as_ref().is_none_or(|t| t.quota_fits(req.size))
        };
        queue.per_class[class].firsts().find(quota_fits)
    }

    fn any_head(&self, queue: &Queue) -> bool {
        (0..queue.per_class.len()).any(|class| self.head(queue, class).is_some())
    }

    fn oldest_fitting_head(&self, queue: &Queue) -> Option<u64> {
        (0..queue.per_class.len())
            .filter_map(|class| self.head(queue, class))
            .filter(|t| self.reserved() + queue.waiters[t].request.size <= self.limit)
            .min()
    }

    /// A request leaves the queues (granted or cancelled); its ticket's waiter entry stays for whoever
    /// removes it.
    fn leave_queue(&self, queue: &mut Queue, ticket: u64, req: &Request) {
        queue.per_class[req.class].remove(line_of(req), ticket);
        self.classes[req.class].waiting.fetch_sub(1, Relaxed);
        if let Some(t) = &req.tenant {
            let key = tenant_key(t);
            let left = queue.per_tenant.get_mut(&key).expect("a queued tenant request is counted");
            *left -= 1;
            if *left == 0 {
                queue.per_tenant.remove(&key);
                t.in_use.fetch_and(!WAITERS, AcqRel);
            }
        }
    }

    /// Removes a ticket that is still queued or granted-but-unclaimed, giving a grant back.
    fn cancel(&self, queue: &mut Queue, ticket: u64) {
        let Some(waiter) = queue.waiters.remove(&ticket) else { return };
        queue.drop_later(waiter.wake);
        let req = waiter.request;
        if waiter.granted {
            self.classes[req.class].reserved.fetch_sub(req.size, Relaxed);
            if let Some(t) = &req.tenant {
                t.release(req.size);
            }
            self.state.fetch_sub(req.size, AcqRel);
        } else {
            self.leave_queue(queue, ticket, &req);
        }
        // The freed grant or the departed head may let others in (and the queue may now be empty).
        self.grant(queue);
    }

    /// Blocks the calling thread until `req` is reserved (`true`), or until `deadline` (`false`).
    pub(crate) fn wait(&self, req: &Request, deadline: Option<Instant>) -> bool {
        let cv = Arc::new(Condvar::new());
        let mut queue = self.lock();
        let Some(ticket) = self.enqueue(&mut queue, req, Wake::Thread(cv.clone())) else {
            return true;
        };
        loop {
            if queue.waiters[&ticket].granted {
                queue.waiters.remove(&ticket);
                return true;
            }
            if !queue.let_go.is_empty() {
                // Tasks this thread's enqueue granted (or let go of) are woken before it sleeps.
                drop(queue);
                queue = self.lock();
                continue;
            }
            queue = match deadline {
                None => queue.wait_on(&cv, None),
                Some(deadline) => {
                    let now = Instant::now();
                    if now >= deadline {
                        self.record_timeout(req);
                        self.cancel(&mut queue, ticket);
                        return false;
                    }
                    queue.wait_on(&cv, Some(deadline - now))
                }
            };
        }
    }

    fn record_timeout(&self, req: &Request) {
        self.classes[req.class].timeouts.fetch_add(1, Relaxed);
        if let Some(t) = &req.tenant {
            t.timeouts.fetch_add(1, Relaxed);
        }
    }

    /// Asynchronous waiting, one poll at a time: queues the request on the first poll, then reports
    /// whether it was granted. Returns `Ready(())` once the bytes are reserved for the caller.
    pub(crate) fn poll_wait(&self, req: &Request, ticket: &mut Option<u64>, waker: &Waker) -> bool {
        let mut queue = self.lock();
        match *ticket {
            None => match self.enqueue(&mut queue, req, Wake::Task(waker.clone())) {
                None => true,
                Some(t) => {
                    *ticket = Some(t);
                    false
                }
            },
            Some(t) => {
                let waiter = queue.waiters.get_mut(&t).expect("a live future's ticket stays queued");
                if waiter.granted {
                    queue.waiters.remove(&t);
                    *ticket = None;
                    return true;
                }
                if !matches!(&waiter.wake, Wake::Task(w) if w.will_wake(waker)) {
                    let old = std::mem::replace(&mut waiter.wake, Wake::Task(waker.clone()));
                    queue.drop_later(old);
                }
                false
            }
        }
    }

    /// Drops a pending asynchronous wait (its future was dropped).
    pub(crate) fn cancel_wait(&self, ticket: u64) {
        let mut queue = self.lock();
        self.cancel(&mut queue, ticket);
    }
}

/// A block of `class_size` bytes against tenant `name`'s `quota`: `ExceedsQuota` above it, which no
/// release can ever change.
pub(crate) fn check_quota(name: &str, class_size: usize, quota: usize) -> Result<(), PoolError> {
    if class_size > quota {
        return Err(PoolError::ExceedsQuota { tenant: name.to_string(), class_size, quota });
    }
    Ok(())
}

/// Raises a high-water mark to `value`. The load first keeps the common case (no new high) free of
/// read-modify-write traffic.
fn raise(mark: &AtomicUsize, value: usize) {
    if value > mark.load(Relaxed) {
        mark.fetch_max(value, Relaxed);
    }
}

/// Adds `size` to `counter` unless that takes it past `limit`.
pub(crate) fn reserve_up_to(counter: &AtomicUsize, size: usize, limit: usize) -> bool {
    let mut now = counter.load(Relaxed);
    loop {
        if now + size > limit {
            return false;
        }
        match counter.compare_exchange_weak(now, now + size, AcqRel, Relaxed) {
            Ok(_) => return true,
            Err(actual) => now = actual,
        }
    }
}

#[cfg(not(loom))]
fn wait_timeout<'a>(cv: &Condvar, guard: MutexGuard<'a, Queue>, timeout: Duration) -> MutexGuard<'a, Queue> {
    cv.wait_timeout(guard, timeout).unwrap_or_else(|e| e.into_inner()).0
}

/// loom has no timed waits; a model that uses a deadline sees an untimed wait, which is the harder
/// case for the protocol (it must be woken).
#[cfg(loom)]
fn wait_timeout<'a>(cv: &Condvar, guard: MutexGuard<'a, Queue>, _timeout: Duration) -> MutexGuard<'a, Queue> {
    cv.wait(guard).unwrap()
}
