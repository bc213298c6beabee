//! Pool configuration: size classes, budget, quotas and caching marks.
//!
//! The configuration knows nothing of the pool it describes: `BufferPoolConfig::build` is defined
//! beside `BufferPool`, in the pool's root module, so that the files depend one way.

use std::collections::HashMap;
use std::fmt;
use std::sync::Arc;

use super::budget::MAX_BUDGET;
use super::error::PoolError;

/// One size class of a [`BufferPool`]: every buffer of the class has exactly `size` bytes of capacity.
///
/// A request is served from the smallest class that holds it, so a 5,000-byte request takes a
/// 16 KiB buffer from the default classes.
///
/// [`BufferPool`]: super::BufferPool
///
/// ```
/// use omnibuf::{BufferPool, PoolClass};
///
/// let pool = BufferPool::new(1 << 20).unwrap();
/// assert_eq!(pool.class_for(5_000), Some(PoolClass::new(16 * 1024)));
/// assert_eq!(pool.class_for(2 << 20), None);
/// ```
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct PoolClass {
    size: usize,
}

impl PoolClass {
    /// A class of `size`-byte buffers.
    ///
    /// ```
    /// use omnibuf::{BufferPool, PoolClass};
    ///
    /// let pool = BufferPool::builder().classes([512, 8192]).build().unwrap();
    /// assert_eq!(pool.classes(), [PoolClass::new(512), PoolClass::new(8192)]);
    /// ```
    pub const fn new(size: usize) -> PoolClass {
        PoolClass { size }
    }

    /// Capacity of every buffer of this class, in bytes.
    ///
    /// ```
    /// use omnibuf::{BufferPool, PoolClass};
    ///
    /// assert_eq!(PoolClass::new(4096).size(), 4096);
    /// let pool = BufferPool::new(1 << 20).unwrap();
    /// assert_eq!(pool.class_for(3000).map(PoolClass::size), Some(4096));
    /// ```
    pub const fn size(self) -> usize {
        self.size
    }
}

impl fmt::Debug for PoolClass {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.size {
            s if s >= 1 << 20 && s % (1 << 20) == 0 => write!(f, "PoolClass({} MiB)", s >> 20),
            s if s >= 1 << 10 && s % (1 << 10) == 0 => write!(f, "PoolClass({} KiB)", s >> 10),
            s => write!(f, "PoolClass({s} B)"),
        }
    }
}

/// The default size classes: 4 KiB, 16 KiB, 64 KiB, 256 KiB, 1 MiB.
pub const DEFAULT_CLASSES: [usize; 5] = [4 << 10, 16 << 10, 64 << 10, 256 << 10, 1 << 20];

/// Most size classes a pool may have.
pub const MAX_CLASSES: usize = 64;

/// Most idle buffers per class a thread's cache may keep: a thread's first acquire makes room for
/// that many in every class at once.
pub const MAX_THREAD_CACHE_BLOCKS: usize = 1024;

/// How a [`BufferPool`] is set up. Built with [`BufferPool::builder`].
///
/// [`BufferPool`]: super::BufferPool
/// [`BufferPool::builder`]: super::BufferPool::builder
///
/// ```
/// use omnibuf::BufferPool;
///
/// let pool = BufferPool::builder()
///     .classes([4096, 65536])
///     .budget(16 << 20)           // at most 16 MiB checked out at once
///     .max_idle(4 << 20)          // keep at most 4 MiB idle for reuse
///     .tenant_quota("alpha", 1 << 20)
///     .default_tenant_quota(8 << 20)
///     .build()
///     .unwrap();
/// assert_eq!(pool.budget(), 16 << 20);
/// ```
#[derive(Clone, Debug)]
pub struct BufferPoolConfig {
    pub(crate) classes: Vec<usize>,
    pub(crate) budget: usize,
    pub(crate) max_idle: Option<usize>,
    pub(crate) thread_cache_blocks: usize,
    pub(crate) thread_cache_max_class: usize,
    pub(crate) tenant_quotas: HashMap<Arc<str>, usize>,
    pub(crate) default_tenant_quota: Option<usize>,
    pub(crate) track_outstanding: bool,
}

impl Default for BufferPoolConfig {
    fn default() -> Self {
        BufferPoolConfig {
            classes: DEFAULT_CLASSES.to_vec(),
            budget: 64 << 20,
            max_idle: None,
            thread_cache_blocks: 4,
            thread_cache_max_class: 256 << 10,
            tenant_quotas: HashMap::new(),
            default_tenant_quota: None,
            track_outstanding: cfg!(debug_assertions),
        }
    }
}

impl BufferPoolConfig {
    /// The size classes, in bytes (any order; duplicates are refused). Default: [`DEFAULT_CLASSES`].
    ///
    /// ```
    /// use omnibuf::{BufferPool, PoolError};
    ///
    /// let pool = BufferPool::builder().classes([65536, 1024]).build().unwrap();
    /// assert_eq!(pool.acquire(1000).unwrap().capacity(), 1024);
    /// let twice = BufferPool::builder().classes([1024, 1024]).build();
    /// assert!(matches!(twice, Err(PoolError::InvalidConfig(_))));
    /// ```
    pub fn classes(mut self, sizes: impl IntoIterator<Item = usize>) -> Self {
        self.classes = sizes.into_iter().collect();
        self
    }

    /// Most bytes checked out at once, counted by class size. A request that would go over it waits
    /// (or fails, for `try_acquire`). Default: 64 MiB.
    ///
    /// ```
    /// use omnibuf::{BufferPool, PoolError};
    ///
    /// let pool = BufferPool::builder().classes([4096]).budget(8192).build().unwrap();
    /// let (a, b) = (pool.try_acquire(1).unwrap(), pool.try_acquire(1).unwrap());
    /// assert!(matches!(pool.try_acquire(1), Err(PoolError::WouldBlock { class_size: 4096 })));
    /// # drop((a, b));
    /// ```
    pub fn budget(mut self, bytes: usize) -> Self {
        self.budget = bytes;
        self
    }

    /// Most bytes kept idle in the pool's free lists for reuse; released buffers beyond it go back to
    /// the system allocator. Default: a quarter of the budget.
    ///
    /// ```
    /// use omnibuf::BufferPool;
    ///
    /// let pool =
    ///     BufferPool::builder().classes([4096]).max_idle(4096).thread_cache_blocks(0).build().unwrap();
    /// let (a, b) = (pool.acquire(1).unwrap(), pool.acquire(1).unwrap());
    /// drop((a, b));
    /// assert_eq!(pool.snapshot().idle_bytes, 4096); // the second one went back to the allocator
    /// ```
    pub fn max_idle(mut self, bytes: usize) -> Self {
        self.max_idle = Some(bytes);
        self
    }

    /// How many idle buffers per class each thread keeps at hand, so that acquire and release on one
    /// thread touch no lock. 0 turns the per-thread cache off. Default: 4; at most
    /// [`MAX_THREAD_CACHE_BLOCKS`] (`build` refuses more).
    ///
    /// ```
    /// use omnibuf::BufferPool;
    ///
    /// let pool = BufferPool::builder().thread_cache_blocks(0).build().unwrap();
    /// drop(pool.acquire(100).unwrap());
    /// let snapshot = pool.snapshot();
    /// assert_eq!((snapshot.cached_bytes, snapshot.idle_bytes), (0, 4096)); // on the shared list
    /// ```
    pub fn thread_cache_blocks(mut self, blocks: usize) -> Self {
        self.thread_cache_blocks = blocks;
        self
    }

    /// Largest class the per-thread cache holds; larger buffers always go through the shared free
    /// lists. Default: 256 KiB.
    ///
    /// ```
    /// use omnibuf::BufferPool;
    ///
    /// let pool = BufferPool::builder().classes([4096, 65536]).thread_cache_max_class(4096).build().unwrap();
    /// drop(pool.acquire(60_000).unwrap()); // above the mark: not cached in this thread
    /// let snapshot = pool.snapshot();
    /// assert_eq!((snapshot.cached_bytes, snapshot.idle_bytes), (0, 65536));
    /// ```
    pub fn thread_cache_max_class(mut self, bytes: usize) -> Self {
        self.thread_cache_max_class = bytes;
        self
    }

    /// Most bytes `tenant` may have checked out at once (`usize::MAX`: no limit, as for a tenant
    /// without a quota).
    ///
    /// ```
    /// use omnibuf::{BufferPool, PoolError};
    ///
    /// let pool = BufferPool::builder().classes([4096]).tenant_quota("small", 4096).build().unwrap();
    /// assert_eq!(pool.tenant("small").quota(), Some(4096));
    /// assert!(matches!(pool.tenant("small").try_acquire(5000), Err(PoolError::NoClassFits { .. })));
    /// let held = pool.tenant("small").try_acquire(10).unwrap();
    /// assert!(matches!(pool.tenant("small").try_acquire(10), Err(PoolError::WouldBlock { .. })));
    /// # drop(held);
    /// ```
    pub fn tenant_quota(mut self, tenant: impl Into<Arc<str>>, bytes: usize) -> Self {
        self.tenant_quotas.insert(tenant.into(), bytes);
        self
    }

    /// The quota of tenants without one of their own. Default: none (only the pool's budget).
    ///
    /// ```
    /// use omnibuf::BufferPool;
    ///
    /// let config = BufferPool::builder().tenant_quota("big", 1 << 20).default_tenant_quota(8192);
    /// let pool = config.build().unwrap();
    /// assert_eq!(pool.tenant("anyone").quota(), Some(8192));
    /// assert_eq!(pool.tenant("big").quota(), Some(1 << 20));
    /// assert_eq!(BufferPool::new(1 << 20).unwrap().tenant("anyone").quota(), None);
    /// ```
    pub fn default_tenant_quota(mut self, bytes: usize) -> Self {
        self.default_tenant_quota = Some(bytes);
        self
    }

    /// Whether to record every checked-out buffer (tenant, class, time) so that
    /// [`BufferPool::outstanding`] can report buffers never released. Default: on in debug builds.
    ///
    /// ```
    /// use omnibuf::BufferPool;
    ///
    /// let tracked = BufferPool::builder().track_outstanding(true).build().unwrap();
    /// let held = tracked.acquire(10).unwrap();
    /// assert_eq!(tracked.outstanding().unwrap().len(), 1);
    /// let untracked = BufferPool::builder().track_outstanding(false).build().unwrap();
    /// assert!(untracked.outstanding().is_none());
    /// # drop(held);
    /// ```
    ///
    /// [`BufferPool::outstanding`]: super::BufferPool::outstanding
    pub fn track_outstanding(mut self, on: bool) -> Self {
        self.track_outstanding = on;
        self
    }

    /// Sorts the classes and checks every setting.
    pub(crate) fn validated(mut self) -> Result<Self, PoolError> {
        let bad = |msg: String| Err(PoolError::InvalidConfig(msg));
        self.classes.sort_unstable();
        let sizes: Vec<u64> = self.classes.iter().map(|&size| size as u64).collect();
        check_classes(self.budget as u64, &sizes)?;
        if self.budget > MAX_BUDGET {
            return bad(format!("the budget cannot exceed {MAX_BUDGET} bytes"));
        }
        if self.thread_cache_blocks > MAX_THREAD_CACHE_BLOCKS {
            return bad(format!("a thread may cache at most {MAX_THREAD_CACHE_BLOCKS} buffers per class"));
        }
        Ok(self)
    }

    pub(crate) fn max_idle_bytes(&self) -> usize {
        self.max_idle.unwrap_or(self.budget / 4)
    }
}

/// The checks of the size classes, `sorted` smallest first, with the `budget`, on sizes as given: a
/// binding whose numbers can exceed `usize` (the wasm build's) makes them before it narrows the sizes,
/// so a class too large for the target gets the error it gets on every target where it does not fit.
pub(crate) fn check_classes(budget: u64, sorted: &[u64]) -> Result<(), PoolError> {
    let bad = |msg: String| Err(PoolError::InvalidConfig(msg));
    let (Some(&smallest), Some(&largest)) = (sorted.first(), sorted.last()) else {
        return bad("at least one size class is needed".into());
    };
    if sorted.len() > MAX_CLASSES {
        return bad(format!("at most {MAX_CLASSES} size classes are allowed"));
    }
    if smallest == 0 {
        return bad("a size class of 0 bytes is not allowed".into());
    }
    if sorted.windows(2).any(|w| w[0] == w[1]) {
        return bad("size classes must be distinct".into());
    }
    // Before the limits of the target, which differ between targets: the same mistake gets the same
    // error on each.
    if budget < smallest {
        return bad(format!(
            "the budget ({budget} bytes) is smaller than the smallest class ({smallest} bytes)"
        ));
    }
    if largest > isize::MAX as u64 {
        return bad(format!("a size class cannot exceed {} bytes", isize::MAX));
    }
    Ok(())
}
