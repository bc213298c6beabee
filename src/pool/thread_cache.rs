//! What one thread holds of one pool: a lease on the budget, a few idle blocks, and its share of the
//! statistics.
//!
//! The fast path of acquire and release runs here. A thread takes budget from its lease and a block
//! from its cache, and counts the acquire in its own counters; a release puts them back. None of this
//! writes memory another thread writes, so threads do not slow each other down. The budget protocol
//! (`budget.rs`) says how leases are taken back when someone would otherwise wait.
//!
//! Idle blocks here do not hold budget (the lease does, separately), so a thread that sits on cached
//! blocks never makes another wait. Statistics count them apart (`cached_bytes`), because memory
//! hidden in thread caches is what makes other pools' statistics lie.
//!
//! The counters have a single writer, the owning thread, which updates them with a plain load and
//! store instead of a read-modify-write; a snapshot reads them from any thread. When the thread ends,
//! its counters are folded into the pool's, its lease goes back to the budget and its blocks to the
//! shared free lists.

use std::cell::RefCell;
use std::sync::atomic::{AtomicUsize, Ordering::Relaxed};
use std::sync::{Arc, Weak};

use super::budget::{Lease, Request};
use super::shared::{Block, Shared};

/// One thread's counts for one class: idle bytes cached, bytes acquired and bytes released (the last
/// two wrap; only differences of sums mean anything).
#[derive(Default)]
pub(crate) struct ClassCounts {
    pub(crate) cached: AtomicUsize,
    pub(crate) acquired: AtomicUsize,
    pub(crate) released: AtomicUsize,
}

/// One thread's counts for every class of one pool.
pub(crate) struct ThreadCounters {
    pub(crate) classes: Box<[ClassCounts]>,
}

impl ThreadCounters {
    pub(crate) fn new(classes: usize) -> ThreadCounters {
        ThreadCounters { classes: (0..classes).map(|_| ClassCounts::default()).collect() }
    }
}

/// Adds to a counter that only the calling thread writes.
#[inline]
fn bump(counter: &AtomicUsize, delta: usize) {
    counter.store(counter.load(Relaxed).wrapping_add(delta), Relaxed);
}

struct PoolCache {
    pool_id: u64,
    /// To tell whether the pool is still alive; never upgraded on the fast path.
    pool: Weak<Shared>,
    lease: Arc<Lease>,
    counters: Arc<ThreadCounters>,
    lists: Vec<Vec<Block>>,
}

#[derive(Default)]
struct ThreadCache {
    pools: Vec<PoolCache>,
}

impl Drop for ThreadCache {
    /// The thread is ending: lease, counters and blocks go back to their pools.
    fn drop(&mut self) {
        for cache in self.pools.drain(..) {
            if let Some(pool) = cache.pool.upgrade() {
                pool.retire_thread(&cache.lease, &cache.counters);
            }
            for (class, list) in cache.lists.into_iter().enumerate() {
                for block in list {
                    block.pool.store_idle(block.mem, class);
                }
            }
        }
    }
}

impl ThreadCache {
    #[inline]
    fn entry_for(&mut self, shared: &Arc<Shared>) -> &mut PoolCache {
        if let Some(i) = self.pools.iter().position(|c| c.pool_id == shared.id) {
            return &mut self.pools[i];
        }
        self.add_entry(shared)
    }

    #[cold]
    fn add_entry(&mut self, shared: &Arc<Shared>) -> &mut PoolCache {
        // Entries of pools that have been dropped hold nothing worth keeping.
        self.pools.retain(|c| c.pool.upgrade().is_some_and(|pool| !pool.is_closed()));
        let (lease, counters) = shared.register_thread();
        self.pools.push(PoolCache {
            pool_id: shared.id,
            pool: Arc::downgrade(shared),
            lease,
            counters,
            lists: (0..shared.class_sizes.len()).map(|_| Vec::new()).collect(),
        });
        self.pools.last_mut().expect("just pushed")
    }
}

thread_local! {
    static CACHE: RefCell<ThreadCache> = const { RefCell::new(ThreadCache { pools: Vec::new() }) };
}

/// The fast path of acquire: reserves `req` through this thread's lease, counts it, and takes a
/// cached block if there is one. `None`: no room (the caller waits or refuses). `Some(block)`:
/// reserved, with a block from the cache or `None` when the cache had none.
#[inline]
pub(crate) fn reserve(shared: &Arc<Shared>, req: &Request) -> Option<Option<Block>> {
    let local = CACHE.try_with(|cache| {
        let mut cache = cache.try_borrow_mut().ok()?;
        let entry = cache.entry_for(shared);
        if !shared.budget.try_reserve_leased(&entry.lease, req) {
            return Some(None);
        }
        let counts = &entry.counters.classes[req.class];
        bump(&counts.acquired, req.size);
        let block = entry.lists[req.class].pop();
        if block.is_some() {
            bump(&counts.cached, req.size.wrapping_neg());
        }
        Some(Some(block))
    });
    match local {
        Ok(Some(result)) => result,
        // No usable thread state (the thread is ending): the shared path.
        _ => shared.budget.try_reserve(req).then(|| {
            shared.count_shared(req, true);
            None
        }),
    }
}

/// Counts an acquire that did not go through [`reserve`] (it waited, or was reserved exactly).
pub(crate) fn count_acquired(shared: &Arc<Shared>, req: &Request) {
    let counted = CACHE.try_with(|cache| {
        let mut cache = cache.try_borrow_mut().ok()?;
        bump(&cache.entry_for(shared).counters.classes[req.class].acquired, req.size);
        Some(())
    });
    if !matches!(counted, Ok(Some(()))) {
        shared.count_shared(req, true);
    }
}

/// The release path: gives the budget back (into this thread's lease when nobody waits), counts
/// it, and keeps the block if the cache has room. Returns the block when it was not kept.
#[inline]
pub(crate) fn release(block: Block, req: &Request) -> Option<Block> {
    // Held outside the closure, so that a thread whose cache is already gone still gets it back.
    let mut slot = Some(block);
    let done = CACHE.try_with(|cache| {
        let mut cache = cache.try_borrow_mut().ok()?;
        let pool = &slot.as_ref()?.pool;
        let entry = cache.entry_for(pool);
        // Counted before the budget is given back, so that the counts never show more in use than
        // is reserved.
        let counts = &entry.counters.classes[req.class];
        bump(&counts.released, req.size);
        pool.budget.release_leased(&entry.lease, req);
        let cacheable =
            entry.lists[req.class].len() < pool.thread_cache_blocks[req.class] && !pool.is_closed();
        if cacheable {
            entry.lists[req.class].extend(slot.take());
            bump(&counts.cached, req.size);
        }
        Some(())
    });
    if !matches!(done, Ok(Some(()))) {
        if let Some(block) = &slot {
            block.pool.count_shared(req, false);
            block.pool.budget.release(req);
        }
    }
    slot
}

/// Takes every block this thread caches for the pool out of the cache, with its class.
pub(crate) fn take_all(shared: &Shared) -> Vec<(usize, Block)> {
    CACHE
        .try_with(|cache| {
            let Ok(mut cache) = cache.try_borrow_mut() else { return Vec::new() };
            let Some(entry) = cache.pools.iter_mut().find(|c| c.pool_id == shared.id) else {
                return Vec::new();
            };
            for c in entry.counters.classes.iter() {
                c.cached.store(0, Relaxed);
            }
            let lists = entry.lists.iter_mut().map(std::mem::take).enumerate();
            lists.flat_map(|(class, list)| list.into_iter().map(move |b| (class, b))).collect()
        })
        .unwrap_or_default()
}
