//! The synchronisation primitives the concurrency protocols are written against.
//!
//! Under `--cfg loom` these are loom's model-checked versions, so the same protocol code that ships is
//! the code loom explores. Everything else in the crate uses `std` directly, except the few counters
//! that the protocols' helpers also update.

#[cfg(loom)]
pub(crate) use loom::sync::{
    atomic::{fence, AtomicBool, AtomicU64, AtomicUsize, Ordering},
    Arc, Condvar, Mutex, MutexGuard,
};

#[cfg(not(loom))]
pub(crate) use std::sync::{
    atomic::{fence, AtomicBool, AtomicU64, AtomicUsize, Ordering},
    Arc, Condvar, Mutex, MutexGuard,
};
