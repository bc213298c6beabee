//! The state every handle, buffer and thread cache of one pool shares, and the [`Block`]s of memory
//! it hands out.
//!
//! A block carries a reference to this state and this state reaches the blocks idle in thread caches,
//! so the two types live in one file. The thread cache (`thread_cache`) builds on this file, not the
//! other way round: what needs a thread's cache (the release path, emptying the caller's cache on
//! trim) is done there or handed in.

use std::collections::HashMap;
use std::mem::ManuallyDrop;
use std::ptr::NonNull;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use super::budget::{reserve_up_to, Budget, Request, TenantState};
use super::config::BufferPoolConfig;
use super::error::PoolError;
use super::outstanding::Outstanding;
use super::thread_slot::{Registry, ThreadSlot};

/// A block of pool memory: a vector whose capacity is exactly its class's size.
///
/// It carries its own strong reference to the pool, from the moment it is allocated until it is freed,
/// so that checking a block out of a thread cache and back in needs no reference-count traffic.
/// Its class is not stored: whoever holds a block knows it (a request, or a per-class list).
pub(crate) struct Block {
    pub(crate) mem: Vec<u8>,
    pub(crate) pool: Arc<Shared>,
}

/// A [`Block`] idle in a thread slot, reduced to the address of its memory: the one word that the
/// fast path moves in and out of the slot's stacks (see `block_stack`). Its pool and its class, from
/// which the rest of the block is rebuilt, are those of the slot and the stack it is in.
///
/// It owns what the block owned, its memory and its strong reference to the pool, but has no
/// destructor: it must be turned back into a block ([`IdleBlock::into_block`]) to free either. The
/// slots that hold idle blocks hand every one back before they go (`thread_slot`).
pub(crate) struct IdleBlock(NonNull<u8>);

// SAFETY: an idle block owns its memory and a strong reference to the pool, both of which may move
// between threads (`Vec<u8>` and `Arc<Shared>` are `Send`); the pointer is never shared.
unsafe impl Send for IdleBlock {}

impl Block {
    /// The block in its idle form.
    #[inline(always)]
    pub(crate) fn into_idle(self) -> IdleBlock {
        let mut mem = ManuallyDrop::new(self.mem);
        // The reference moves into the idle block: `into_block` takes it back.
        let _ = Arc::into_raw(self.pool);
        IdleBlock(NonNull::new(mem.as_mut_ptr()).expect("a vector's pointer is never null"))
    }
}

impl IdleBlock {
    /// The block again, empty.
    ///
    /// # Safety
    /// `pool` is the block's pool, as [`Arc::as_ptr`] gives it (its provenance covers the reference
    /// count), and `class_size` the size of the block's class.
    #[inline(always)]
    pub(crate) unsafe fn into_block(self, pool: *const Shared, class_size: usize) -> Block {
        Block {
            // SAFETY: the memory was a vector's of capacity `class_size` (`Shared::new_block`), which
            // this idle block owns; length 0 needs no initialised bytes.
            mem: unsafe { Vec::from_raw_parts(self.0.as_ptr(), 0, class_size) },
            // SAFETY: `into_idle` kept the block's strong reference, which this takes back, once.
            pool: unsafe { Arc::from_raw(pool) },
        }
    }
}

pub(crate) struct Shared {
    /// Unique for the life of the process; names this pool in thread caches.
    pub(crate) id: u64,
    pub(crate) class_sizes: Box<[usize]>,
    pub(crate) budget: Budget,
    /// Idle blocks per class (no pool reference: that would be a cycle).
    idle: Box<[Mutex<Vec<Vec<u8>>>]>,
    /// A `crate::sync` atomic because it is bounded with the budget's `reserve_up_to`.
    idle_bytes: crate::sync::AtomicUsize,
    max_idle: usize,
    /// The slot of every thread that has used the pool and is still running (its leases and idle
    /// blocks). The budget reaches the same registry to take leases back. One lock, so that a
    /// snapshot sees each thread's figures exactly once.
    pub(crate) threads: Arc<Registry<IdleBlock>>,
    tenants: Mutex<HashMap<Arc<str>, Arc<TenantState>>>,
    tenant_quotas: HashMap<Arc<str>, usize>,
    default_tenant_quota: usize,
    pub(crate) outstanding: Option<Outstanding>,
    closed: AtomicBool,
}

impl Shared {
    pub(crate) fn new(config: BufferPoolConfig) -> Shared {
        static NEXT_ID: AtomicU64 = AtomicU64::new(1);
        let classes = config.classes.len();
        let cache_blocks = |size: usize| {
            if size <= config.thread_cache_max_class {
                config.thread_cache_blocks
            } else {
                0
            }
        };
        // A lease holds up to as many blocks of a class as the thread cache does.
        let lease_cap = config.classes.iter().map(|&size| size.saturating_mul(cache_blocks(size))).collect();
        let blocks = config.classes.iter().map(|&size| cache_blocks(size)).collect();
        // Before any thread slot is made: the slots' protocol pairs light and heavy barriers.
        crate::platform::barrier::init();
        let threads = Arc::new(Registry::new(blocks, lease_cap));
        Shared {
            id: NEXT_ID.fetch_add(1, Ordering::Relaxed),
            budget: Budget::new(config.budget, classes, threads.clone()),
            idle: (0..classes).map(|_| Mutex::new(Vec::new())).collect(),
            idle_bytes: crate::sync::AtomicUsize::new(0),
            max_idle: config.max_idle_bytes(),
            threads,
            tenants: Mutex::new(HashMap::new()),
            default_tenant_quota: config.default_tenant_quota.unwrap_or(usize::MAX),
            tenant_quotas: config.tenant_quotas,
            outstanding: config.track_outstanding.then(Outstanding::default),
            closed: AtomicBool::new(false),
            class_sizes: config.classes.into_boxed_slice(),
        }
    }

    /// The smallest class that holds `size` bytes, and its size. A linear scan: pools have a handful
    /// of classes, and the smallest ones, which the scan meets first, are the busiest.
    #[inline]
    pub(crate) fn class_of(&self, size: usize) -> Result<(usize, usize), PoolError> {
        match self.class_sizes.iter().enumerate().find(|&(_, &c)| c >= size) {
            Some((class, &class_size)) => Ok((class, class_size)),
            None => Err(self.no_class_fits(size)),
        }
    }

    #[cold]
    fn no_class_fits(&self, size: usize) -> PoolError {
        PoolError::NoClassFits {
            requested: size,
            largest: *self.class_sizes.last().expect("a pool has classes"),
        }
    }

    #[inline]
    pub(crate) fn request(
        &self,
        size: usize,
        tenant: Option<&Arc<TenantState>>,
    ) -> Result<Request, PoolError> {
        let (class, size) = self.class_of(size)?;
        // Checked before the request is built, from plain values: a request whose address is taken
        // is built in memory and copied out again, which costs more than the checks.
        self.budget.check_possible(size, tenant)?;
        Ok(Request { class, size, tenant: tenant.cloned() })
    }

    pub(crate) fn tenant(&self, name: &str) -> Arc<TenantState> {
        let mut tenants = self.tenants.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(t) = tenants.get(name) {
            return t.clone();
        }
        let quota = self.quota_of(name);
        let name: Arc<str> = Arc::from(name);
        let state = Arc::new(TenantState::new(name.clone(), quota));
        tenants.insert(name, state.clone());
        state
    }

    /// The quota tenant `name` has, or would have once made: the configuration's.
    pub(crate) fn quota_of(&self, name: &str) -> usize {
        self.tenant_quotas.get(name).copied().unwrap_or(self.default_tenant_quota)
    }

    pub(crate) fn tenants(&self) -> Vec<Arc<TenantState>> {
        let tenants = self.tenants.lock().unwrap_or_else(|e| e.into_inner());
        let mut list: Vec<_> = tenants.values().cloned().collect();
        list.sort_by(|a, b| a.name.cmp(&b.name));
        list
    }

    /// A block for a request whose bytes are already reserved and that the thread cache could not
    /// serve: from the shared free list, or else from the system allocator.
    pub(crate) fn new_block(self: &Arc<Self>, class: usize) -> Result<Block, PoolError> {
        let reused = self.idle[class].lock().unwrap_or_else(|e| e.into_inner()).pop();
        let mem = match reused {
            Some(mem) => {
                self.idle_bytes.fetch_sub(self.class_sizes[class], Ordering::Relaxed);
                mem
            }
            None => {
                let size = self.class_sizes[class];
                let mut mem = Vec::new();
                mem.try_reserve_exact(size).map_err(|_| PoolError::AllocationFailed { size })?;
                // An idle block is rebuilt with its class's size as its capacity
                // (`IdleBlock::into_block`), which must be the allocation's. It is with today's
                // allocator API; should that change, this is an error, never a wrong layout.
                if mem.capacity() != size {
                    return Err(PoolError::AllocationFailed { size });
                }
                mem
            }
        };
        Ok(Block { mem, pool: self.clone() })
    }

    /// Puts memory on the shared free list, or frees it when idle memory would go over `limit`.
    /// Returns whether it was kept.
    fn store_idle_up_to(&self, mem: Vec<u8>, class: usize, limit: usize) -> bool {
        if self.is_closed() || !reserve_up_to(&self.idle_bytes, self.class_sizes[class], limit) {
            return false; // dropping `mem` frees it
        }
        self.idle[class].lock().unwrap_or_else(|e| e.into_inner()).push(mem);
        true
    }

    /// Puts memory on the shared free list, or frees it when idle memory is at its mark.
    pub(crate) fn store_idle(&self, mem: Vec<u8>, class: usize) {
        self.store_idle_up_to(mem, class, self.max_idle);
    }

    /// A slot for the lease, idle blocks and counts of a thread that starts using the pool (sealed
    /// from the start if the pool is closed: a closed pool's thread caches keep nothing).
    pub(crate) fn register_thread(&self) -> Arc<ThreadSlot<IdleBlock>> {
        self.threads.register()
    }

    /// A thread is done with the pool: its lease goes back to the budget, its blocks to the shared
    /// free lists.
    pub(crate) fn retire_thread(self: &Arc<Self>, slot: &Arc<ThreadSlot<IdleBlock>>) {
        let out = self.threads.retire(slot);
        for (class, bytes) in out.leased.into_iter().enumerate() {
            self.budget.return_leased(class, bytes);
        }
        for (class, block) in self.blocks(out.blocks) {
            self.store_idle(block.mem, class);
        }
    }

    /// Idle blocks taken out of thread slots, as blocks again, with their class.
    pub(crate) fn blocks(self: &Arc<Self>, idle: Vec<(usize, IdleBlock)>) -> Vec<(usize, Block)> {
        let pool = Arc::as_ptr(self);
        idle.into_iter()
            // SAFETY: the blocks come from this pool's slots, each from the stack of its class.
            .map(|(class, block)| (class, unsafe { block.into_block(pool, self.class_sizes[class]) }))
            .collect()
    }

    /// Per class: bytes checked out now, bytes leased, and bytes idle in thread caches.
    ///
    /// What is checked out is not counted as it happens (that would cost the fast path a count on
    /// each side): it is what the budget has reserved for the class minus what the leases hold.
    /// Exact at rest; while threads work, a momentary reading, never above the class's reservation.
    pub(crate) fn in_use_leased_and_cached(&self) -> (Vec<usize>, Vec<usize>, Vec<usize>) {
        let (leased, blocks) = self.threads.leased_and_cached();
        let in_use = self
            .budget
            .classes
            .iter()
            .zip(&leased)
            .map(|(c, leased)| c.reserved.load(Ordering::SeqCst).saturating_sub(*leased))
            .collect();
        let cached = blocks.iter().zip(self.class_sizes.iter()).map(|(n, size)| n * size).collect();
        (in_use, leased, cached)
    }

    pub(crate) fn idle_bytes_per_class(&self) -> Vec<usize> {
        self.idle
            .iter()
            .zip(self.class_sizes.iter())
            .map(|(list, size)| list.lock().unwrap_or_else(|e| e.into_inner()).len() * size)
            .collect()
    }

    /// Frees idle memory until at most `keep` bytes stay on the shared free lists. `from_cache`, the
    /// blocks taken out of the calling thread's cache (`thread_cache::take_all`), go to the free lists
    /// first, or are freed. Returns the bytes freed.
    pub(crate) fn trim(&self, keep: usize, from_cache: Vec<(usize, Block)>) -> usize {
        let mut freed = 0;
        for (class, block) in from_cache {
            if !self.store_idle_up_to(block.mem, class, keep.min(self.max_idle)) {
                freed += self.class_sizes[class];
            }
        }
        // Largest classes first: they return the most memory per block.
        for (class, list) in self.idle.iter().enumerate().rev() {
            let size = self.class_sizes[class];
            let mut list = list.lock().unwrap_or_else(|e| e.into_inner());
            while self.idle_bytes.load(Ordering::Relaxed) > keep && list.pop().is_some() {
                self.idle_bytes.fetch_sub(size, Ordering::Relaxed);
                freed += size;
            }
        }
        freed
    }

    pub(crate) fn is_closed(&self) -> bool {
        self.closed.load(Ordering::Acquire)
    }

    /// The last pool handle is gone: free idle memory now, in every thread's cache too, and free every
    /// block as it comes back. Every thread's slot is sealed (see `thread_slot`), so none keeps a
    /// block from now on.
    pub(crate) fn close(self: &Arc<Self>) {
        self.closed.store(true, Ordering::Release);
        let out = self.threads.seal_all();
        for (class, bytes) in out.leased.into_iter().enumerate() {
            self.budget.return_leased(class, bytes);
        }
        // Dropping the blocks frees them (nothing is kept once the pool is closed).
        drop(self.blocks(out.blocks));
        // The calling thread's cache was sealed with the others: it has no blocks to hand in.
        self.trim(0, Vec::new());
        if let Some(outstanding) = &self.outstanding {
            outstanding.report_at_close();
        }
    }
}
