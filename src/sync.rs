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

/// The sides of an asymmetric barrier (see `platform::barrier`). loom knows no asymmetric barriers,
/// so under loom both sides are sequentially consistent fences, which order memory the way the pair
/// does.
#[cfg(not(loom))]
pub(crate) use crate::platform::barrier::{
    heavy as heavy_barrier, light_given as light_barrier, light_is_fence as light_barrier_is_fence,
};

#[cfg(loom)]
pub(crate) fn light_barrier_is_fence() -> bool {
    true
}

#[cfg(loom)]
pub(crate) fn light_barrier(_is_fence: bool) {
    fence(Ordering::SeqCst);
}

#[cfg(loom)]
pub(crate) fn heavy_barrier() {
    fence(Ordering::SeqCst);
}

#[cfg(loom)]
pub(crate) use loom::thread::yield_now;
/// Lets other threads run while one waits for another to finish a short step.
#[cfg(not(loom))]
pub(crate) use std::thread::yield_now;

/// An `UnsafeCell` that loom checks for unsynchronised access under `--cfg loom`.
#[cfg(loom)]
pub(crate) use loom::cell::UnsafeCell;

/// `std`'s `UnsafeCell` with loom's interface.
#[cfg(not(loom))]
pub(crate) struct UnsafeCell<T>(std::cell::UnsafeCell<T>);

#[cfg(not(loom))]
impl<T> UnsafeCell<T> {
    pub(crate) const fn new(value: T) -> Self {
        UnsafeCell(std::cell::UnsafeCell::new(value))
    }

    #[inline(always)]
    pub(crate) fn with_mut<R>(&self, f: impl FnOnce(*mut T) -> R) -> R {
        f(self.0.get())
    }
}

/// Wakes each waker of `wakers` (or only drops it, where its flag is false), all of them even when
/// one panics. A waker's panic is a fault of the executor that made it, not of the thread that wakes
/// it (a release, a produce, a drop): the panic hook has reported it, and it goes no further, so the
/// other tasks still get their wake-ups, the change that woke them stands, and a handle dropped
/// while its thread unwinds does not abort the process.
pub(crate) fn wake_all(wakers: impl IntoIterator<Item = (std::task::Waker, bool)>) {
    for (waker, wake) in wakers {
        let run = move || if wake { waker.wake() } else { drop(waker) };
        let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(run));
    }
}
