//! A small per-thread stash of idle blocks, so that acquire and release on one thread take no lock.
//!
//! Each thread keeps, per pool and per size class, up to `thread_cache_blocks` idle blocks. Blocks
//! here are idle memory, not checked out: they do not count against the budget, so a thread that sits
//! on cached blocks can never make another thread wait. What the caches hold is reported separately in
//! snapshots (`cached_bytes`), because memory hidden in thread caches is what makes pool statistics lie
//! in other pools.
//!
//! The owning thread is the only writer of its counters, so it updates them with a plain load and store
//! instead of a read-modify-write; a snapshot reads them from any thread.

use std::cell::RefCell;
use std::sync::atomic::{AtomicUsize, Ordering::Relaxed};
use std::sync::{Arc, Weak};

use super::shared::{Block, Shared};

/// Idle bytes per class that one thread holds for one pool.
pub(crate) struct CacheCounters {
    pub(crate) cached_bytes: Box<[AtomicUsize]>,
}

struct PoolCache {
    pool_id: u64,
    /// To tell whether the pool is still alive; never upgraded on the fast path.
    pool: Weak<Shared>,
    lists: Vec<Vec<Block>>,
    counters: Arc<CacheCounters>,
}

impl PoolCache {
    #[inline]
    fn add(&self, class: usize, delta: isize) {
        let counter = &self.counters.cached_bytes[class];
        counter.store(counter.load(Relaxed).wrapping_add_signed(delta), Relaxed);
    }
}

#[derive(Default)]
struct ThreadCache {
    pools: Vec<PoolCache>,
}

impl Drop for ThreadCache {
    /// The thread is ending: its idle blocks go back to their pools' shared free lists.
    fn drop(&mut self) {
        for cache in self.pools.drain(..) {
            for block in cache.lists.into_iter().flatten() {
                block.pool.store_idle(block.mem, block.class);
            }
        }
    }
}

thread_local! {
    static CACHE: RefCell<ThreadCache> = const { RefCell::new(ThreadCache { pools: Vec::new() }) };
}

/// Takes an idle block of `class` from this thread's cache.
#[inline]
pub(crate) fn pop(shared: &Shared, class: usize) -> Option<Block> {
    CACHE
        .try_with(|cache| {
            let mut cache = cache.try_borrow_mut().ok()?;
            let entry = cache.pools.iter_mut().find(|c| c.pool_id == shared.id)?;
            let block = entry.lists[class].pop()?;
            entry.add(class, -(shared.class_sizes[class] as isize));
            Some(block)
        })
        .ok()
        .flatten()
}

/// Offers a released block to this thread's cache; hands it back when the cache is full (or the
/// thread is shutting down).
#[inline]
pub(crate) fn push(block: Block) -> Result<(), Block> {
    // Held outside the closure, so that a thread whose cache is already gone still gets it back.
    let mut slot = Some(block);
    let _ = CACHE.try_with(|cache| {
        let Ok(mut cache) = cache.try_borrow_mut() else { return };
        let Some(block) = slot.as_ref() else { return };
        let (class, pool) = (block.class, &block.pool);
        let (limit, size) = (pool.thread_cache_blocks, pool.class_sizes[class]);
        let entry = cache.entry_for(pool);
        if entry.lists[class].len() < limit {
            entry.lists[class].extend(slot.take());
            entry.add(class, size as isize);
        }
    });
    match slot {
        None => Ok(()),
        Some(block) => Err(block),
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
        self.pools
            .retain(|c| c.pool.upgrade().is_some_and(|pool| !pool.is_closed()));
        self.pools.push(PoolCache {
            pool_id: shared.id,
            pool: Arc::downgrade(shared),
            lists: (0..shared.class_sizes.len()).map(|_| Vec::new()).collect(),
            counters: shared.register_thread_cache(),
        });
        self.pools.last_mut().expect("just pushed")
    }
}

/// Sums what every live thread cache of a pool holds, per class.
pub(crate) fn cached_bytes(registered: &[Weak<CacheCounters>], classes: usize) -> Vec<usize> {
    let mut sums = vec![0usize; classes];
    for counters in registered.iter().filter_map(Weak::upgrade) {
        for (sum, c) in sums.iter_mut().zip(counters.cached_bytes.iter()) {
            *sum += c.load(Relaxed);
        }
    }
    sums
}

/// Takes every block this thread caches for the pool out of the cache.
pub(crate) fn take_all(shared: &Shared) -> Vec<Block> {
    CACHE
        .try_with(|cache| {
            let Ok(mut cache) = cache.try_borrow_mut() else { return Vec::new() };
            let Some(entry) = cache.pools.iter_mut().find(|c| c.pool_id == shared.id) else {
                return Vec::new();
            };
            for c in entry.counters.cached_bytes.iter() {
                c.store(0, Relaxed);
            }
            entry.lists.iter_mut().flat_map(std::mem::take).collect()
        })
        .unwrap_or_default()
}
