//! [`BufferPoolSnapshot`]: what a pool holds and has done, at one moment.

use std::sync::atomic::Ordering::SeqCst;

use super::config::PoolClass;
use super::shared::Shared;

/// A point-in-time view of a pool's memory and waiting, from [`BufferPool::snapshot`].
///
/// Memory is counted in three places, kept apart so that none hides in another:
/// - `in_use_bytes`: checked out now, counted by class size;
/// - `idle_bytes`: on the pool's shared free lists, ready for reuse (bounded by `max_idle`);
/// - `cached_bytes`: in per-thread caches, ready for reuse by those threads.
///
/// The budget bounds *reserved* bytes: those in use plus `leased_bytes`, budget that threads keep
/// after a release so that their next acquire needs no shared write. Leases are taken back whenever
/// a request would otherwise wait or be refused, so they never make a request fail. High-water marks
/// are taken on reserved bytes: never below the true peak of bytes in use, and above it by at most
/// the leases (`thread_cache_blocks` buffers per class per thread).
///
/// `reserved_bytes` is read from one atomic word and is exact. The other counters are read one after
/// another while other threads keep working, so the figures of a busy pool need not add up exactly
/// to one instant (in-use figures are capped at the reservations read in the same snapshot, so they
/// never show the impossible); at rest they are exact. A thread that ended is at rest only once its
/// thread-local destructors ran, which give its lease and cached blocks back: a `join()` waits for
/// them, while `std::thread::scope` may return before they ran for the threads it joins itself (as
/// the standard library documents), so join those explicitly before a snapshot that must be exact.
///
/// [`BufferPool::snapshot`]: super::BufferPool::snapshot
///
/// ```
/// use omnibuf::BufferPool;
///
/// let pool = BufferPool::builder().classes([4096]).budget(1 << 20).build().unwrap();
/// let t = pool.tenant("alpha");
/// let a = t.acquire(10).unwrap();
/// let b = pool.acquire(10).unwrap();
/// let snap = pool.snapshot();
/// assert_eq!(snap.in_use_bytes, 8192);
/// assert_eq!(snap.classes[0].in_use_bytes, 8192);
/// assert_eq!(snap.tenants[0].tenant, "alpha");
/// assert_eq!(snap.tenants[0].in_use_bytes, 4096);
/// drop((a, b));
/// assert_eq!(pool.snapshot().high_water_bytes, 8192);
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BufferPoolSnapshot {
    /// Most bytes that may be checked out at once.
    pub budget: usize,
    /// Bytes checked out now.
    pub in_use_bytes: usize,
    /// Bytes the budget counts now: in use plus leased. Never above `budget`.
    pub reserved_bytes: usize,
    /// Most bytes ever reserved at once (see above).
    pub high_water_bytes: usize,
    /// Budget held in threads' leases now.
    pub leased_bytes: usize,
    /// Bytes idle on the shared free lists.
    pub idle_bytes: usize,
    /// Bytes idle in per-thread caches.
    pub cached_bytes: usize,
    /// Requests waiting for budget now.
    pub waiting: usize,
    /// Per size class, smallest first.
    pub classes: Vec<ClassSnapshot>,
    /// Per tenant that has been used, by name.
    pub tenants: Vec<TenantSnapshot>,
}

/// One size class in a [`BufferPoolSnapshot`].
///
/// ```
/// use omnibuf::BufferPool;
///
/// let pool = BufferPool::builder().classes([4096]).budget(1 << 20).build().unwrap();
/// let held = pool.try_acquire(4000).unwrap();
/// let class = &pool.snapshot().classes[0];
/// assert_eq!(class.class.size(), 4096);
/// assert_eq!(class.in_use_bytes, 4096);
/// drop(held);
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClassSnapshot {
    /// The class.
    pub class: PoolClass,
    /// Bytes of this class checked out now.
    pub in_use_bytes: usize,
    /// Most bytes of this class ever reserved at once (see [`BufferPoolSnapshot`]).
    pub high_water_bytes: usize,
    /// Budget held for this class in threads' leases now.
    pub leased_bytes: usize,
    /// Bytes of this class idle on the shared free list.
    pub idle_bytes: usize,
    /// Bytes of this class idle in per-thread caches.
    pub cached_bytes: usize,
    /// Requests of this class waiting now.
    pub waiting: usize,
    /// Requests of this class that had to wait, ever.
    pub waits: usize,
    /// Timed requests of this class that gave up.
    pub timeouts: usize,
    /// `try_acquire` calls of this class refused for lack of room.
    pub refusals: usize,
}

/// One tenant in a [`BufferPoolSnapshot`].
///
/// ```
/// use omnibuf::BufferPool;
///
/// let pool = BufferPool::builder().tenant_quota("video", 1 << 20).build().unwrap();
/// let held = pool.tenant("video").try_acquire(4096).unwrap();
/// let snapshot = pool.snapshot();
/// let video = snapshot.tenants.iter().find(|t| t.tenant == "video").unwrap();
/// assert_eq!(video.quota, Some(1 << 20));
/// assert_eq!(video.in_use_bytes, held.capacity());
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TenantSnapshot {
    /// The tenant's name.
    pub tenant: String,
    /// Its quota, if it has one (`None` too for a quota of `usize::MAX`, which limits nothing).
    pub quota: Option<usize>,
    /// Bytes it has checked out now.
    pub in_use_bytes: usize,
    /// Most bytes it ever had checked out at once.
    pub high_water_bytes: usize,
    /// Its requests that had to wait, ever.
    pub waits: usize,
    /// Its timed requests that gave up.
    pub timeouts: usize,
    /// Its `try_acquire` calls refused for lack of room.
    pub refusals: usize,
}

pub(crate) fn take(shared: &Shared) -> BufferPoolSnapshot {
    let idle = shared.idle_bytes_per_class();
    let (in_use, leased, cached) = shared.in_use_leased_and_cached();
    let reserved = shared.budget.reserved();
    let classes: Vec<ClassSnapshot> = shared
        .budget
        .classes
        .iter()
        .enumerate()
        .map(|(i, c)| ClassSnapshot {
            class: PoolClass::new(shared.class_sizes[i]),
            in_use_bytes: in_use[i],
            high_water_bytes: c.high_water.load(SeqCst),
            leased_bytes: leased[i],
            idle_bytes: idle[i],
            cached_bytes: cached[i],
            waiting: c.waiting.load(SeqCst),
            waits: c.waits.load(SeqCst),
            timeouts: c.timeouts.load(SeqCst),
            refusals: c.refusals.load(SeqCst),
        })
        .collect();
    let tenants = shared
        .tenants()
        .iter()
        .map(|t| TenantSnapshot {
            tenant: t.name.to_string(),
            quota: (t.quota != usize::MAX).then_some(t.quota),
            in_use_bytes: t.in_use(),
            high_water_bytes: t.high_water.load(SeqCst),
            waits: t.waits.load(SeqCst),
            timeouts: t.timeouts.load(SeqCst),
            refusals: t.refusals.load(SeqCst),
        })
        .collect();
    BufferPoolSnapshot {
        budget: shared.budget.limit,
        in_use_bytes: classes.iter().map(|c| c.in_use_bytes).sum::<usize>().min(reserved),
        reserved_bytes: reserved,
        high_water_bytes: shared.budget.high_water.load(SeqCst),
        leased_bytes: leased.iter().sum(),
        idle_bytes: idle.iter().sum(),
        cached_bytes: cached.iter().sum(),
        waiting: classes.iter().map(|c| c.waiting).sum(),
        classes,
        tenants,
    }
}
