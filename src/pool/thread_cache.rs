//! What one thread holds of one pool: a lease on the budget and a few idle blocks.
//!
//! The fast path of acquire and release runs here. A thread takes budget from its lease and a block
//! from its cache; a release puts them back. None of this
//! writes memory another thread writes, and none of it is an atomic read-modify-write (the protocol
//! is in `thread_slot`), so threads do not slow each other down. The budget protocol (`budget.rs`)
//! says how leases are taken back when someone would otherwise wait.
//!
//! Idle blocks here do not hold budget (the lease does, separately), so a thread that sits on cached
//! blocks never makes another wait. Statistics count them apart (`cached_bytes`), because memory
//! hidden in thread caches is what makes other pools' statistics lie.
//!
//! Nothing here counts what is checked out: the budget counts the bytes reserved per class, and the
//! bytes checked out are those reserved minus those leased (`Shared::in_use_leased_and_cached`). When the
//! thread ends, its slot is retired: lease back to the budget, blocks to the shared free lists.
//! Closing the pool
//! seals every thread's slot and frees its blocks, so that memory idle in a thread that outlives the
//! pool is freed with it.

use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};
use std::mem::ManuallyDrop;
use std::sync::{Arc, Weak};

use super::budget::Request;
use super::shared::{Block, IdleBlock, Shared};
use super::thread_slot::ThreadSlot;

pub(crate) use super::thread_slot::Reserved;

struct PoolCache {
    /// To tell whether the pool is still alive; never upgraded on the fast path.
    pool: Weak<Shared>,
    slot: Arc<ThreadSlot<IdleBlock>>,
}

/// A thread's entries, by pool id: a thread may use thousands of pools, and finding one (whenever
/// the thread switches pools) must not walk them all.
struct ThreadCache {
    pools: HashMap<u64, PoolCache, BuildHasherDefault<IdHasher>>,
    /// How many entries there may be before those of pools that are gone are dropped: twice what
    /// was left the last time, so that dropping them costs a constant per entry added (and, with
    /// few pools alive, they go soon, as does the memory their `Weak`s keep).
    prune_at: usize,
}

/// Hashes a pool id, a number the process counts up: a multiplication spreads its bits over the
/// whole word, which is all a map of such numbers needs (no key here comes from outside).
#[derive(Default)]
struct IdHasher(u64);

impl Hasher for IdHasher {
    fn write_u64(&mut self, id: u64) {
        self.0 = id.wrapping_mul(0x9e37_79b9_7f4a_7c15);
    }

    fn write(&mut self, bytes: &[u8]) {
        for &byte in bytes {
            self.write_u64(self.0.rotate_left(8) ^ u64::from(byte));
        }
    }

    fn finish(&self) -> u64 {
        self.0
    }
}

impl Drop for ThreadCache {
    /// The thread is ending: lease, counters and blocks go back to their pools.
    fn drop(&mut self) {
        // First, so that nothing finds a slot through it while (or after) the slots are retired.
        LAST.set(NO_LAST);
        for (_, cache) in self.pools.drain() {
            // A pool that is gone has no blocks here (each would hold it) and no budget to return.
            if let Some(pool) = cache.pool.upgrade() {
                pool.retire_thread(&cache.slot);
            }
        }
    }
}

impl ThreadCache {
    /// The entry of `shared`, added if there is none; it becomes [`LAST`].
    fn entry_for(&mut self, shared: &Arc<Shared>) -> &PoolCache {
        if !self.pools.contains_key(&shared.id) {
            self.add_entry(shared);
        }
        let entry = &self.pools[&shared.id];
        LAST.set((entry.pool.as_ptr(), Arc::as_ptr(&entry.slot)));
        entry
    }

    #[cold]
    fn add_entry(&mut self, shared: &Arc<Shared>) {
        if self.pools.len() >= self.prune_at {
            // Entries of pools that are gone hold nothing worth keeping. Only those: a pool that
            // is alive may be in use on this thread right now, through `LAST` (see `slot_for`).
            LAST.set(NO_LAST);
            self.pools.retain(|_, c| c.pool.strong_count() > 0);
            self.prune_at = 2 * self.pools.len();
            // The next pruning walks the map's whole capacity, not just its entries: after
            // thousands of pools have come and gone, give back what they made it grow to.
            self.pools.shrink_to(self.prune_at);
        }
        let slot = shared.register_thread();
        self.pools.insert(shared.id, PoolCache { pool: Arc::downgrade(shared), slot });
    }
}

thread_local! {
    static CACHE: RefCell<ThreadCache> = const {
        RefCell::new(ThreadCache { pools: HashMap::with_hasher(BuildHasherDefault::new()), prune_at: 0 })
    };
    /// The pool this thread used last and its slot, which `CACHE` holds: the fast path finds the
    /// slot here without borrowing `CACHE` or searching it. Without a destructor, so that reading
    /// it needs no check of whether the thread is ending.
    ///
    /// The pool is named by its address, which the fast path has at hand (no load of its id): no
    /// other pool can take that address while `LAST` holds it, because `LAST` is set from an entry
    /// of `CACHE` and cleared before any entry goes, and the entry's `Weak` keeps the pool's
    /// allocation.
    static LAST: Cell<(*const Shared, *const ThreadSlot<IdleBlock>)> = const { Cell::new(NO_LAST) };
}

const NO_LAST: (*const Shared, *const ThreadSlot<IdleBlock>) = (std::ptr::null(), std::ptr::null());

/// This thread's slot for `shared`; `None` when the thread has no usable cache (it is ending, or
/// the cache is borrowed further up this thread's stack).
///
/// A reference, not a call of a closure: a closure that the cold path takes too makes the fast path
/// build its environment in memory on every call.
///
/// The slot stays while the caller holds `shared`, or a block of it, which the reference's lifetime
/// says: the pool is alive, so its entry in `CACHE` stays (entries go only when their pool is gone,
/// or when the thread ends), even if the caller runs other code of the pool on this thread while it
/// uses the slot (a waker that a release wakes).
#[inline(always)]
fn slot_for(shared: &Arc<Shared>) -> Option<&ThreadSlot<IdleBlock>> {
    let (pool, last) = LAST.get();
    let slot = if std::ptr::eq(pool, Arc::as_ptr(shared)) { last } else { slot_slowly(shared) };
    // SAFETY: `slot` is null or names a slot that an entry of `CACHE` holds (an `Arc`): `LAST` is
    // set from the entry and cleared before any entry goes (`add_entry`, `ThreadCache::drop`), and
    // `slot_slowly` returns the entry's. The entry stays while `shared` is borrowed (above).
    unsafe { slot.as_ref() }
}

#[cold]
#[inline(never)]
fn slot_slowly(shared: &Arc<Shared>) -> *const ThreadSlot<IdleBlock> {
    let slot = CACHE.try_with(|cache| {
        let mut cache = cache.try_borrow_mut().ok()?;
        Some(Arc::as_ptr(&cache.entry_for(shared).slot))
    });
    // The borrow of `CACHE` ends here: the slot's user may find the slot through `LAST` again.
    slot.ok().flatten().unwrap_or(std::ptr::null())
}

/// The fast path of acquire: reserves `req` through this thread's lease and takes a
/// cached block if there is one (in its idle form: see [`IdleBlock`]).
#[inline]
pub(crate) fn reserve(shared: &Arc<Shared>, req: &Request) -> Reserved<IdleBlock> {
    if let Some(slot) = slot_for(shared) {
        // Requests of tenants never use leases (their quota word needs a shared write anyway).
        if req.tenant.is_none() {
            // SAFETY: `req` is a request of `shared` (its class from `Shared::class_of`), and the
            // slot is `shared`'s, which has one entry per class of the pool.
            let reserved = unsafe { slot.take_leased(req.class, req.size) };
            if !matches!(reserved, Reserved::No) {
                return reserved;
            }
        }
        return reserve_from_budget(shared, Some(slot), req);
    }
    reserve_from_budget(shared, None, req)
}

/// [`reserve`] when the lease could not serve `req`: from the budget, with a block from `slot` if it
/// has one (there is no slot when the thread is ending). Out of line, so that the fast path keeps
/// the request's fields in registers instead of building it in memory.
#[cold]
#[inline(never)]
fn reserve_from_budget(
    shared: &Shared,
    slot: Option<&ThreadSlot<IdleBlock>>,
    req: &Request,
) -> Reserved<IdleBlock> {
    if !shared.budget.try_reserve(req) {
        return Reserved::No;
    }
    match slot.and_then(|slot| slot.pop(req.class)) {
        Some(block) => Reserved::BytesAndBlock(block),
        None => Reserved::Bytes,
    }
}

/// A checked-out block comes back: its budget to this thread's lease or the pool, its memory to
/// this thread's cache, the shared free list, or the allocator.
#[inline]
pub(crate) fn release(block: Block, req: &Request) {
    let pool = Arc::as_ptr(&block.pool);
    let idle = block.into_idle();
    // The pool's handle, borrowed from the strong reference that `idle` holds until the slot keeps
    // it; nothing below uses `shared` once it is kept (`ThreadSlot::put`), and this handle is never
    // dropped, so the reference is not given back twice.
    // SAFETY: `pool` is from `Arc::as_ptr`, and the pool is alive while `idle` is not kept.
    let shared = ManuallyDrop::new(unsafe { Arc::from_raw(pool) });
    let refused = match slot_for(&shared) {
        // SAFETY: the request is the block's, made by the block's pool, whose slot this is.
        Some(slot) => unsafe { slot.put(req, &shared.budget, idle) },
        // No usable thread state (the thread is ending): the shared path.
        None => {
            shared.budget.release(req);
            Err(idle)
        }
    };
    if let Err(idle) = refused {
        // SAFETY: `pool` is the block's pool, from `Arc::as_ptr`, and the request's size its class's.
        let block = unsafe { idle.into_block(pool, req.size) };
        block.pool.store_idle(block.mem, req.class);
    }
}

/// Takes every block this thread caches for the pool out of the cache, with its class (for
/// [`Shared::trim`]).
pub(crate) fn take_all(shared: &Arc<Shared>) -> Vec<(usize, Block)> {
    let idle = CACHE
        .try_with(|cache| {
            let Ok(cache) = cache.try_borrow() else { return Vec::new() };
            match cache.pools.get(&shared.id) {
                Some(entry) => shared.threads.take_blocks(&entry.slot),
                None => Vec::new(),
            }
        })
        .unwrap_or_default();
    shared.blocks(idle)
}

/// How many pools this thread's cache has entries for, those gone included (for tests).
#[cfg(test)]
pub(crate) fn entries() -> usize {
    CACHE.with(|cache| cache.borrow().pools.len())
}
