//! Errors of the buffer pool.

use std::time::Duration;

/// Why a pool request was refused.
///
/// ```
/// use omnibuf::{BufferPool, PoolError};
///
/// let pool = BufferPool::builder().classes([4096]).budget(8192).build().unwrap();
/// assert!(matches!(pool.try_acquire(1 << 20), Err(PoolError::NoClassFits { .. })));
/// let a = pool.try_acquire(4096).unwrap();
/// let b = pool.try_acquire(4096).unwrap();
/// assert!(matches!(pool.try_acquire(10), Err(PoolError::WouldBlock { .. })));
/// # drop((a, b));
/// ```
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PoolError {
    /// The request is larger than the largest size class.
    #[error("no size class holds {requested} bytes (the largest class is {largest} bytes)")]
    NoClassFits {
        /// Bytes asked for.
        requested: usize,
        /// Size of the largest class.
        largest: usize,
    },
    /// The request's class is larger than the whole budget: it could never be served, so it is
    /// refused at once instead of waiting forever.
    #[error("a {class_size}-byte buffer can never fit the pool's budget of {budget} bytes")]
    ExceedsBudget {
        /// Size of the class the request falls in.
        class_size: usize,
        /// The pool's budget.
        budget: usize,
    },
    /// The request's class is larger than the tenant's whole quota.
    #[error("a {class_size}-byte buffer can never fit tenant {tenant:?}'s quota of {quota} bytes")]
    ExceedsQuota {
        /// The tenant.
        tenant: String,
        /// Size of the class the request falls in.
        class_size: usize,
        /// The tenant's quota.
        quota: usize,
    },
    /// `try_acquire` found no budget (or quota) free, or waiters queued ahead.
    #[error("no budget free for a {class_size}-byte buffer right now")]
    WouldBlock {
        /// Size of the class the request falls in.
        class_size: usize,
    },
    /// A timed acquire waited its whole timeout.
    #[error("timed out after {waited:?} waiting for a {class_size}-byte buffer")]
    TimedOut {
        /// Size of the class the request falls in.
        class_size: usize,
        /// How long it waited.
        waited: Duration,
    },
    /// The system allocator could not provide the memory. Nothing stays reserved; the high-water
    /// marks of the snapshot count the bytes reserved for the attempt.
    #[error("the system allocator could not provide {size} bytes")]
    AllocationFailed {
        /// Bytes asked of the allocator.
        size: usize,
    },
    /// The configuration given to the builder is not usable.
    #[error("invalid pool configuration: {0}")]
    InvalidConfig(String),
}

/// A write that does not fit a pooled buffer's fixed capacity. Nothing was written.
///
/// ```
/// use omnibuf::BufferPool;
///
/// let pool = BufferPool::builder().classes([16]).budget(16).build().unwrap();
/// let mut buf = pool.acquire(16).unwrap();
/// buf.try_extend_from_slice(&[0; 10]).unwrap();
/// let err = buf.try_extend_from_slice(&[0; 10]).unwrap_err();
/// assert_eq!((err.needed, err.available), (10, 6));
/// assert_eq!(buf.len(), 10);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("cannot write {needed} bytes into a pooled buffer with {available} bytes of room left")]
pub struct CapacityError {
    /// Bytes the write needed.
    pub needed: usize,
    /// Bytes of room that were left.
    pub available: usize,
}
