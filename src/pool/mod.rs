//! The buffer pool: size classes, a byte budget with backpressure, per-tenant quotas, reuse.
//!
//! A [`BufferPool`] hands out writable [`PooledBuffer`]s from fixed size classes ([`PoolClass`]). The
//! *budget* bounds the bytes checked out at once; a request that would go over it waits (blocking,
//! with a timeout, or as a future) or fails at once (`try_acquire`). A request that could never fit —
//! larger than the budget, or than its tenant's quota — fails at once instead of waiting forever.
//! Waiters are served first come, first served within their class, and none is ever left asleep when
//! room frees up (the protocol is in the `budget` module's docs and checked with loom). A waiter that
//! only its own tenant's quota holds back waits for its tenant's buffers, and holds up no one else.
//!
//! Released memory is reused: it goes to a small per-thread cache, then to the class's shared free
//! list, and back to the system allocator only above the idle mark (`max_idle`) or on
//! [`trim`](BufferPool::trim). A frozen buffer's memory returns when its last view drops, on any
//! thread. Dropping the last pool handle frees all idle memory, in every thread's cache too; buffers
//! still out stay valid and their memory is freed when they drop.
//!
//! ```
//! use std::time::Duration;
//! use omnibuf::{BufferPool, PoolError};
//!
//! let pool = BufferPool::builder().classes([4096, 65536]).budget(65536 + 4096).build().unwrap();
//! let big = pool.acquire(60_000).unwrap();           // a 64 KiB buffer
//! let small = pool.try_acquire(100).unwrap();         // a 4 KiB one: the budget is now full
//! assert!(matches!(pool.try_acquire(1), Err(PoolError::WouldBlock { .. })));
//! assert!(matches!(
//!     pool.acquire_timeout(1, Duration::from_millis(5)),
//!     Err(PoolError::TimedOut { .. })
//! ));
//! drop(small);
//! let again = pool.try_acquire(1).unwrap();           // room again
//! # drop((big, again));
//! ```

// The files depend one way; no pool file but the tests imports this root one:
//   this file (BufferPool, Tenant, Acquire, BufferPoolConfig::build)
//     -> `pooled` (PooledBuffer) -> `thread_cache` (the thread-local fast path)
//     -> `shared` (the pool's state and its `Block`s) -> `thread_slot` (a thread's lease, counters and
//        idle blocks, and the registry through which the pool reaches them) -> `block_stack` (a stack
//        its holder synchronises, generic: a leaf);
//   on the side, `snapshot` -> `shared`, and `outstanding` -> `config` -> `budget` -> `error` (a leaf),
//   which `thread_slot` uses too (the budget reaches the leases through a trait it defines).
mod block_stack;
mod budget;
mod config;
mod error;
mod outstanding;
mod pooled;
mod shared;
mod snapshot;
mod thread_cache;
mod thread_slot;

#[cfg(all(test, loom))]
mod loom_tests;
#[cfg(all(test, not(loom)))]
mod tests;

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use budget::{Request, TenantState};
use pooled::Checkout;
use shared::{Block, Shared};
use thread_cache::Reserved;

#[cfg(target_arch = "wasm32")]
pub(crate) use config::check_classes;
pub use config::{BufferPoolConfig, PoolClass, DEFAULT_CLASSES, MAX_CLASSES, MAX_THREAD_CACHE_BLOCKS};
pub use error::{CapacityError, PoolError};
pub use outstanding::OutstandingBuffer;
pub use pooled::PooledBuffer;
pub use snapshot::{BufferPoolSnapshot, ClassSnapshot, TenantSnapshot};

use crate::platform::time::{Duration, Instant};

/// A pool of reusable buffers with size classes, a byte budget and per-tenant quotas.
///
/// Cloning gives another handle to the same pool. See the [module docs](self) for the model.
///
/// ```
/// use omnibuf::BufferPool;
///
/// let pool = BufferPool::new(8 << 20).unwrap(); // default classes, 8 MiB budget
/// let mut buf = pool.acquire(1500).unwrap();
/// buf.extend_from_slice(b"packet");
/// let frozen = buf.freeze();
/// let view = frozen.slice(0..3);
/// drop(frozen);
/// assert_eq!(pool.snapshot().in_use_bytes, 4096); // the view keeps the memory out
/// drop(view);
/// assert_eq!(pool.snapshot().in_use_bytes, 0);
/// ```
#[derive(Clone)]
pub struct BufferPool {
    handle: Arc<Handle>,
}

/// Closes the pool when the last `BufferPool` clone drops. Buffers, thread caches and pending
/// futures hold the shared state, not this.
struct Handle {
    shared: Arc<Shared>,
}

impl Drop for Handle {
    fn drop(&mut self) {
        self.shared.close();
    }
}

impl std::fmt::Debug for BufferPool {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BufferPool")
            .field("classes", &self.classes())
            .field("budget", &self.budget())
            .field("reserved", &self.shared().budget.reserved())
            .finish()
    }
}

enum Mode {
    Try,
    Wait(Option<Instant>),
}

impl BufferPool {
    /// A pool with the default classes ([`DEFAULT_CLASSES`]) and a budget of `budget` bytes. Fails
    /// with [`PoolError::InvalidConfig`] when `budget` is less than the smallest class (4 KiB) or
    /// more than half the address space.
    ///
    /// ```
    /// use omnibuf::{pool::DEFAULT_CLASSES, BufferPool};
    ///
    /// let pool = BufferPool::new(16 << 20).unwrap();
    /// assert_eq!(pool.budget(), 16 << 20);
    /// assert_eq!(pool.classes().len(), DEFAULT_CLASSES.len());
    /// assert!(BufferPool::new(1000).is_err()); // not even one 4 KiB buffer fits
    /// ```
    pub fn new(budget: usize) -> Result<BufferPool, PoolError> {
        Self::builder().budget(budget).build()
    }

    /// Starts a configuration; finish it with [`BufferPoolConfig::build`].
    ///
    /// ```
    /// use omnibuf::BufferPool;
    ///
    /// let pool = BufferPool::builder().classes([256]).budget(1024).build().unwrap();
    /// assert_eq!(pool.acquire(1).unwrap().capacity(), 256);
    /// ```
    pub fn builder() -> BufferPoolConfig {
        BufferPoolConfig::default()
    }

    /// A pool from a configuration; fails as [`BufferPoolConfig::build`] does.
    ///
    /// ```
    /// use omnibuf::{BufferPool, BufferPoolConfig};
    ///
    /// let config: BufferPoolConfig = BufferPool::builder().budget(1 << 20);
    /// let pool = BufferPool::with_config(config.clone()).unwrap();
    /// let other = BufferPool::with_config(config).unwrap(); // one configuration, two pools
    /// assert_eq!((pool.budget(), other.budget()), (1 << 20, 1 << 20));
    /// ```
    pub fn with_config(config: BufferPoolConfig) -> Result<BufferPool, PoolError> {
        let config = config.validated()?;
        Ok(BufferPool { handle: Arc::new(Handle { shared: Arc::new(Shared::new(config)) }) })
    }

    fn shared(&self) -> &Arc<Shared> {
        &self.handle.shared
    }

    /// The budget: most bytes checked out at once.
    ///
    /// ```
    /// use omnibuf::BufferPool;
    ///
    /// assert_eq!(BufferPool::new(1 << 20).unwrap().budget(), 1 << 20);
    /// ```
    pub fn budget(&self) -> usize {
        self.shared().budget.limit
    }

    /// The size classes, smallest first.
    ///
    /// ```
    /// use omnibuf::{BufferPool, PoolClass};
    ///
    /// let pool = BufferPool::builder().classes([8192, 512]).build().unwrap();
    /// assert_eq!(pool.classes(), [PoolClass::new(512), PoolClass::new(8192)]); // sorted
    /// ```
    pub fn classes(&self) -> Vec<PoolClass> {
        self.shared().class_sizes.iter().map(|&s| PoolClass::new(s)).collect()
    }

    /// The class a request of `size` bytes is served from, if any holds it.
    ///
    /// ```
    /// use omnibuf::{BufferPool, PoolClass};
    ///
    /// let pool = BufferPool::builder().classes([512, 8192]).build().unwrap();
    /// assert_eq!(pool.class_for(512), Some(PoolClass::new(512)));
    /// assert_eq!(pool.class_for(513), Some(PoolClass::new(8192)));
    /// assert_eq!(pool.class_for(8193), None);
    /// ```
    pub fn class_for(&self, size: usize) -> Option<PoolClass> {
        let shared = self.shared();
        shared.class_of(size).ok().map(|(_, class_size)| PoolClass::new(class_size))
    }

    /// A buffer of at least `size` bytes, waiting (blocking the thread) while the budget is full.
    ///
    /// Fails at once for requests that could never be served: [`PoolError::NoClassFits`] above the
    /// largest class, [`PoolError::ExceedsBudget`] for a class larger than the budget. It fails with
    /// [`PoolError::AllocationFailed`] when the system allocator refuses the memory, and waits forever
    /// if no buffer is ever released. On `wasm32` a blocking wait is not
    /// possible on a browser's main thread; use [`acquire_async`](Self::acquire_async) or
    /// [`try_acquire`](Self::try_acquire) there.
    ///
    /// ```
    /// use omnibuf::BufferPool;
    ///
    /// let pool = BufferPool::builder().classes([4096]).budget(4096).build().unwrap();
    /// let first = pool.acquire(4096).unwrap();
    /// let releaser = std::thread::spawn(move || drop(first));
    /// let second = pool.acquire(4096).unwrap(); // waits until the other thread releases `first`
    /// releaser.join().unwrap();
    /// assert_eq!(second.capacity(), 4096);
    /// ```
    #[inline]
    pub fn acquire(&self, size: usize) -> Result<PooledBuffer, PoolError> {
        acquire(self.shared(), size, None, Mode::Wait(None))
    }

    /// Like [`acquire`](Self::acquire), but gives up with [`PoolError::TimedOut`] after `timeout`.
    /// A timeout too long for the clock to represent (such as [`Duration::MAX`]) means no deadline.
    ///
    /// ```
    /// use std::time::Duration;
    /// use omnibuf::{BufferPool, PoolError};
    ///
    /// let pool = BufferPool::builder().classes([4096]).budget(4096).build().unwrap();
    /// let held = pool.acquire_timeout(1, Duration::from_secs(1)).unwrap(); // room: no wait
    /// let err = pool.acquire_timeout(1, Duration::from_millis(1)).unwrap_err();
    /// assert!(matches!(err, PoolError::TimedOut { class_size: 4096, .. }));
    /// # drop(held);
    /// ```
    pub fn acquire_timeout(&self, size: usize, timeout: Duration) -> Result<PooledBuffer, PoolError> {
        acquire(self.shared(), size, None, Mode::Wait(deadline_after(timeout)))
    }

    /// A buffer now, or [`PoolError::WouldBlock`] when the budget is full or others are waiting for
    /// it (a waiter held back only by its own tenant's quota holds up no one else).
    ///
    /// ```
    /// use omnibuf::{BufferPool, PoolError};
    ///
    /// let pool = BufferPool::builder().classes([4096]).budget(4096).build().unwrap();
    /// let held = pool.try_acquire(100).unwrap();
    /// assert!(matches!(pool.try_acquire(100), Err(PoolError::WouldBlock { .. })));
    /// drop(held);
    /// assert!(pool.try_acquire(100).is_ok());
    /// ```
    #[inline]
    pub fn try_acquire(&self, size: usize) -> Result<PooledBuffer, PoolError> {
        acquire(self.shared(), size, None, Mode::Try)
    }

    /// A future that resolves to a buffer once the budget has room. It works with any executor;
    /// dropping it gives up its place in the queue.
    ///
    /// ```
    /// # use omnibuf::BufferPool;
    /// # fn block_on<F: std::future::Future>(f: F) -> F::Output {
    /// #     use std::task::{Context, Poll, Waker};
    /// #     let mut f = std::pin::pin!(f);
    /// #     loop { if let Poll::Ready(v) = f.as_mut().poll(&mut Context::from_waker(Waker::noop())) { return v } }
    /// # }
    /// let pool = BufferPool::new(1 << 20).unwrap();
    /// let buf = block_on(pool.acquire_async(10)).unwrap();
    /// assert_eq!(buf.capacity(), 4096);
    /// ```
    pub fn acquire_async(&self, size: usize) -> Acquire {
        Acquire::new(self.shared(), size, None)
    }

    /// The handle of tenant `name`, whose requests count against its quota as well as the budget.
    /// Tenants are created on first use, with the quota the configuration gives them, and kept for the
    /// pool's life (their counters stay in [`snapshot`](Self::snapshot)s): name a bounded set of
    /// tenants, not one per request.
    ///
    /// ```
    /// use omnibuf::BufferPool;
    ///
    /// let pool = BufferPool::new(1 << 20).unwrap();
    /// let buf = pool.tenant("ingest").acquire(10).unwrap();
    /// assert_eq!(buf.tenant_id(), Some("ingest"));
    /// assert_eq!(pool.snapshot().tenants[0].in_use_bytes, 4096);
    /// ```
    pub fn tenant(&self, name: &str) -> Tenant {
        Tenant { pool: self.clone(), state: self.shared().tenant(name) }
    }

    /// [`tenant`](Self::tenant)`(name)` for a request of `size` bytes, or the error that request
    /// fails with at once (no class holds it, its class is above the budget or the tenant's quota),
    /// and then no tenant is made: the bindings' `tryAcquire(size, tenant)` and `acquire(size,
    /// tenant)` are one call, and a call refused as impossible changes nothing.
    #[cfg_attr(not(any(feature = "binding", target_arch = "wasm32", test)), allow(dead_code))]
    pub(crate) fn tenant_for(&self, name: &str, size: usize) -> Result<Tenant, PoolError> {
        let shared = self.shared();
        let (_, class_size) = shared.class_of(size)?;
        shared.budget.check_possible(class_size, None)?;
        budget::check_quota(name, class_size, shared.quota_of(name))?;
        Ok(self.tenant(name))
    }

    /// [`Tenant::acquire_async`] of [`tenant_for`](Self::tenant_for)`(name, size)`: a future that
    /// fails at once, without making the tenant, where that does.
    #[cfg_attr(not(any(feature = "binding", target_arch = "wasm32", test)), allow(dead_code))]
    pub(crate) fn tenant_acquire_async(&self, name: &str, size: usize) -> Acquire {
        match self.tenant_for(name, size) {
            Ok(tenant) => tenant.acquire_async(size),
            Err(e) => Acquire { shared: self.shared().clone(), request: Some(Err(e)), ticket: None },
        }
    }

    /// Memory, waiting and high-water marks now, per class and per tenant.
    ///
    /// ```
    /// use omnibuf::BufferPool;
    ///
    /// let pool = BufferPool::new(1 << 20).unwrap();
    /// let buf = pool.acquire(5000).unwrap();
    /// let snapshot = pool.snapshot();
    /// assert_eq!((snapshot.budget, snapshot.in_use_bytes), (1 << 20, 16384));
    /// # drop(buf);
    /// ```
    pub fn snapshot(&self) -> BufferPoolSnapshot {
        snapshot::take(self.shared())
    }

    /// Returns all idle memory on the shared free lists (and in the calling thread's cache) to the
    /// system allocator. Returns the bytes freed. (Dropping the last handle frees every thread's.)
    /// The budget threads keep in leases goes back too, so that a snapshot counts only what is in
    /// use until they next release a buffer.
    ///
    /// ```
    /// use omnibuf::BufferPool;
    ///
    /// let pool = BufferPool::new(1 << 20).unwrap();
    /// drop(pool.acquire(100).unwrap()); // kept idle for reuse
    /// assert_eq!(pool.trim(), 4096);
    /// assert_eq!(pool.trim(), 0);
    /// ```
    pub fn trim(&self) -> usize {
        self.trim_to(0)
    }

    /// Like [`trim`](Self::trim), but keeps up to `keep_bytes` idle (leases go back all the same).
    ///
    /// ```
    /// use omnibuf::BufferPool;
    ///
    /// let pool = BufferPool::builder().classes([4096]).thread_cache_blocks(0).build().unwrap();
    /// let bufs: Vec<_> = (0..3).map(|_| pool.acquire(1).unwrap()).collect();
    /// drop(bufs);
    /// assert_eq!(pool.trim_to(4096), 8192); // one block stays idle
    /// assert_eq!(pool.snapshot().idle_bytes, 4096);
    /// ```
    pub fn trim_to(&self, keep_bytes: usize) -> usize {
        let shared = self.shared();
        shared.budget.return_leases();
        shared.trim(keep_bytes, thread_cache::take_all(shared))
    }

    /// Buffers checked out and not yet released, oldest first, with tenant, class and age; `None` when
    /// the pool does not track them (see [`BufferPoolConfig::track_outstanding`]).
    ///
    /// ```
    /// use omnibuf::{BufferPool, PoolClass};
    ///
    /// let pool = BufferPool::builder().track_outstanding(true).build().unwrap();
    /// let leaked = pool.tenant("parser").acquire(5000).unwrap();
    /// let out = pool.outstanding().unwrap();
    /// assert_eq!((out[0].tenant.as_deref(), out[0].class), (Some("parser"), PoolClass::new(16384)));
    /// drop(leaked);
    /// assert!(pool.outstanding().unwrap().is_empty());
    /// ```
    pub fn outstanding(&self) -> Option<Vec<OutstandingBuffer>> {
        self.shared().outstanding.as_ref().map(|o| o.list())
    }
}

impl BufferPoolConfig {
    /// Checks the configuration and builds the pool. Fails with [`PoolError::InvalidConfig`], whose
    /// message says which rule was broken: no class, more than [`MAX_CLASSES`], a class of 0 bytes,
    /// two equal classes, a class above `isize::MAX` bytes, a budget below the smallest class or
    /// above half the address space, or a thread cache above [`MAX_THREAD_CACHE_BLOCKS`] buffers.
    ///
    /// ```
    /// use omnibuf::{BufferPool, PoolError};
    ///
    /// let pool = BufferPool::builder().classes([512, 4096]).budget(1 << 20).build().unwrap();
    /// assert_eq!(pool.class_for(100).unwrap().size(), 512);
    /// let refused = BufferPool::builder().classes([4096, 4096]).build();
    /// assert!(matches!(refused, Err(PoolError::InvalidConfig(_))));
    /// ```
    pub fn build(self) -> Result<BufferPool, PoolError> {
        BufferPool::with_config(self)
    }
}

/// A tenant's handle on a [`BufferPool`]: the same ways to acquire, counted against the tenant's quota
/// as well as the pool's budget. Buffers acquired through it carry the tenant's name.
///
/// ```
/// use omnibuf::{BufferPool, PoolError};
///
/// let pool = BufferPool::builder().classes([4096]).tenant_quota("alpha", 4096).build().unwrap();
/// let alpha = pool.tenant("alpha");
/// let buf = alpha.try_acquire(100).unwrap();
/// assert_eq!(buf.tenant_id(), Some("alpha"));
/// assert!(matches!(alpha.try_acquire(100), Err(PoolError::WouldBlock { .. }))); // quota full
/// assert!(pool.tenant("beta").try_acquire(100).is_ok()); // others are not held up
/// # drop(buf);
/// ```
#[derive(Clone)]
pub struct Tenant {
    pool: BufferPool,
    state: Arc<TenantState>,
}

impl std::fmt::Debug for Tenant {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Tenant").field("name", &self.name()).field("quota", &self.quota()).finish()
    }
}

impl Tenant {
    /// The tenant's name.
    ///
    /// ```
    /// use omnibuf::BufferPool;
    ///
    /// assert_eq!(BufferPool::new(1 << 20).unwrap().tenant("video").name(), "video");
    /// ```
    pub fn name(&self) -> &str {
        &self.state.name
    }

    /// The tenant's quota, if it has one. A quota of `usize::MAX` bytes limits nothing and reads back
    /// as `None`.
    ///
    /// ```
    /// use omnibuf::BufferPool;
    ///
    /// let pool = BufferPool::builder().tenant_quota("capped", 1 << 16).build().unwrap();
    /// assert_eq!(pool.tenant("capped").quota(), Some(1 << 16));
    /// assert_eq!(pool.tenant("free").quota(), None);
    /// ```
    pub fn quota(&self) -> Option<usize> {
        (self.state.quota != usize::MAX).then_some(self.state.quota)
    }

    /// The pool this tenant draws from.
    ///
    /// ```
    /// use omnibuf::BufferPool;
    ///
    /// let pool = BufferPool::new(1 << 20).unwrap();
    /// let tenant = pool.tenant("t");
    /// assert_eq!(tenant.pool().budget(), pool.budget());
    /// ```
    pub fn pool(&self) -> &BufferPool {
        &self.pool
    }

    /// [`BufferPool::acquire`] for this tenant: it waits while either the tenant's quota or the pool's
    /// budget is full, and fails at once with [`PoolError::ExceedsQuota`] for a class larger than the
    /// tenant's whole quota.
    ///
    /// ```
    /// use omnibuf::BufferPool;
    ///
    /// let pool = BufferPool::builder().classes([4096]).tenant_quota("t", 4096).build().unwrap();
    /// let tenant = pool.tenant("t");
    /// let first = tenant.acquire(1).unwrap();
    /// let releaser = std::thread::spawn(move || drop(first));
    /// let second = tenant.acquire(1).unwrap(); // waits for its own quota, not the pool's budget
    /// releaser.join().unwrap();
    /// assert_eq!(second.tenant_id(), Some("t"));
    /// ```
    #[inline]
    pub fn acquire(&self, size: usize) -> Result<PooledBuffer, PoolError> {
        acquire(self.pool.shared(), size, Some(&self.state), Mode::Wait(None))
    }

    /// [`BufferPool::acquire_timeout`] for this tenant; fails as [`acquire`](Self::acquire) does, or
    /// with [`PoolError::TimedOut`].
    ///
    /// ```
    /// use std::time::Duration;
    /// use omnibuf::{BufferPool, PoolError};
    ///
    /// let pool = BufferPool::builder().classes([4096]).tenant_quota("t", 4096).build().unwrap();
    /// let held = pool.tenant("t").acquire(1).unwrap();
    /// let err = pool.tenant("t").acquire_timeout(1, Duration::from_millis(1)).unwrap_err();
    /// assert!(matches!(err, PoolError::TimedOut { .. }));
    /// assert!(pool.acquire_timeout(1, Duration::from_millis(1)).is_ok()); // the pool has room
    /// # drop(held);
    /// ```
    pub fn acquire_timeout(&self, size: usize, timeout: Duration) -> Result<PooledBuffer, PoolError> {
        acquire(self.pool.shared(), size, Some(&self.state), Mode::Wait(deadline_after(timeout)))
    }

    /// [`BufferPool::try_acquire`] for this tenant; fails as [`acquire`](Self::acquire) does, or with
    /// [`PoolError::WouldBlock`] when the quota or the budget has no room now.
    ///
    /// ```
    /// use omnibuf::{BufferPool, PoolError};
    ///
    /// let pool = BufferPool::builder().classes([4096]).tenant_quota("t", 4096).build().unwrap();
    /// let tenant = pool.tenant("t");
    /// let held = tenant.try_acquire(1).unwrap();
    /// assert!(matches!(tenant.try_acquire(1), Err(PoolError::WouldBlock { .. })));
    /// # drop(held);
    /// ```
    pub fn try_acquire(&self, size: usize) -> Result<PooledBuffer, PoolError> {
        acquire(self.pool.shared(), size, Some(&self.state), Mode::Try)
    }

    /// [`BufferPool::acquire_async`] for this tenant.
    ///
    /// ```
    /// use omnibuf::BufferPool;
    /// # fn block_on<F: std::future::Future>(f: F) -> F::Output {
    /// #     use std::task::{Context, Poll, Waker};
    /// #     let mut f = std::pin::pin!(f);
    /// #     loop {
    /// #         let cx = &mut Context::from_waker(Waker::noop());
    /// #         if let Poll::Ready(v) = f.as_mut().poll(cx) { return v }
    /// #     }
    /// # }
    ///
    /// let pool = BufferPool::new(1 << 20).unwrap();
    /// let buf = block_on(pool.tenant("t").acquire_async(10)).unwrap();
    /// assert_eq!((buf.capacity(), buf.tenant_id()), (4096, Some("t")));
    /// ```
    pub fn acquire_async(&self, size: usize) -> Acquire {
        Acquire::new(self.pool.shared(), size, Some(&self.state))
    }
}

/// The instant `timeout` from now, or `None` (no deadline) when the clock cannot represent it: a wait
/// that long is a wait without end.
fn deadline_after(timeout: Duration) -> Option<Instant> {
    Instant::now().checked_add(timeout)
}

#[inline]
fn acquire(
    shared: &Arc<Shared>,
    size: usize,
    tenant: Option<&Arc<TenantState>>,
    mode: Mode,
) -> Result<PooledBuffer, PoolError> {
    let req = shared.request(size, tenant)?;
    // Kept apart from `req`, whose address the calls below take: the checkout is then built from
    // these values instead of a copy of `req`, whose 16-byte loads of fields just stored as 8-byte
    // words would stall (store-to-load forwarding).
    let (class, size) = (req.class, req.size);
    let block = match thread_cache::reserve(shared, &req) {
        // SAFETY: the block is from this pool's slot, from the stack of the request's class.
        Reserved::BytesAndBlock(idle) => unsafe { idle.into_block(Arc::as_ptr(shared), size) },
        Reserved::Bytes => new_block(shared, &req)?,
        Reserved::No => {
            reserve_slowly(shared, &req, mode)?;
            new_block(shared, &req)?
        }
    };
    Ok(check_out(shared, Request { class, size, tenant: req.tenant }, block))
}

/// Reserves `req` when the thread's lease could not: waits, or refuses at once (`Mode::Try`).
#[cold]
fn reserve_slowly(shared: &Arc<Shared>, req: &Request, mode: Mode) -> Result<(), PoolError> {
    match mode {
        Mode::Try => {
            if !shared.budget.try_reserve_exact(req) {
                shared.budget.count_refusal(req);
                return Err(PoolError::WouldBlock { class_size: req.size });
            }
        }
        Mode::Wait(deadline) => {
            let started = Instant::now();
            if !shared.budget.wait(req, deadline) {
                return Err(PoolError::TimedOut { class_size: req.size, waited: started.elapsed() });
            }
        }
    }
    Ok(())
}

/// A block for reserved bytes that the thread cache had none for; gives the bytes back when no
/// memory can be had.
fn new_block(shared: &Arc<Shared>, req: &Request) -> Result<Block, PoolError> {
    shared.new_block(req.class).inspect_err(|_| shared.budget.release(req))
}

/// Turns reserved bytes and their block into a buffer.
#[inline]
fn check_out(shared: &Arc<Shared>, req: Request, block: Block) -> PooledBuffer {
    let track_id = match &shared.outstanding {
        Some(o) => o.track(req.size, req.tenant.as_ref().map(|t| t.name.clone())),
        None => 0,
    };
    PooledBuffer::new(Checkout::new(block, req, track_id))
}

/// The future of [`BufferPool::acquire_async`] and [`Tenant::acquire_async`].
///
/// ```
/// use omnibuf::BufferPool;
/// use std::future::Future;
/// use std::pin::pin;
/// use std::task::{Context, Poll, Waker};
///
/// let pool = BufferPool::new(1 << 20).unwrap();
/// let mut acquire = pin!(pool.acquire_async(4096));
/// let mut cx = Context::from_waker(Waker::noop());
/// // There is room, so the first poll is ready.
/// let Poll::Ready(Ok(buf)) = acquire.as_mut().poll(&mut cx) else { panic!() };
/// assert!(buf.capacity() >= 4096);
/// ```
#[must_use = "futures do nothing unless polled"]
pub struct Acquire {
    shared: Arc<Shared>,
    /// The request, or why it can never be served; `None` once the future has completed.
    request: Option<Result<Request, PoolError>>,
    /// The place in the queue, once queued.
    ticket: Option<u64>,
}

impl Acquire {
    fn new(shared: &Arc<Shared>, size: usize, tenant: Option<&Arc<TenantState>>) -> Acquire {
        Acquire { request: Some(shared.request(size, tenant)), shared: shared.clone(), ticket: None }
    }
}

impl Future for Acquire {
    type Output = Result<PooledBuffer, PoolError>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.get_mut();
        let req = match this.request.take() {
            None => panic!("omnibuf::Acquire polled after it completed"),
            Some(Err(e)) => return Poll::Ready(Err(e)),
            Some(Ok(req)) => req,
        };
        let shared = &this.shared;
        if this.ticket.is_none() {
            match thread_cache::reserve(shared, &req) {
                Reserved::BytesAndBlock(idle) => {
                    // SAFETY: the block is from this pool's slot, from the stack of the request's
                    // class.
                    let block = unsafe { idle.into_block(Arc::as_ptr(shared), req.size) };
                    return Poll::Ready(Ok(check_out(shared, req, block)));
                }
                Reserved::Bytes => {
                    return Poll::Ready(new_block(shared, &req).map(|block| check_out(shared, req, block)))
                }
                Reserved::No => {}
            }
        }
        if shared.budget.poll_wait(&req, &mut this.ticket, cx.waker()) {
            Poll::Ready(new_block(shared, &req).map(|block| check_out(shared, req, block)))
        } else {
            this.request = Some(Ok(req));
            Poll::Pending
        }
    }
}

impl Drop for Acquire {
    fn drop(&mut self) {
        if let Some(ticket) = self.ticket.take() {
            self.shared.budget.cancel_wait(ticket);
        }
    }
}
