//! Tasks for the unit tests of the async waits: their wakers count wake-ups, or panic as the waker of
//! a broken executor does.

use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use std::sync::Arc;
use std::task::{Wake, Waker};

/// A task whose wake-ups are counted; its `Arc`'s count tells how many wakers are alive.
pub(crate) struct CountedTask(pub(crate) AtomicUsize);

impl Wake for CountedTask {
    fn wake(self: Arc<Self>) {
        self.0.fetch_add(1, SeqCst);
    }
}

impl CountedTask {
    /// A task and its waker.
    pub(crate) fn with_waker() -> (Arc<Self>, Waker) {
        let task = Arc::new(CountedTask(AtomicUsize::new(0)));
        let waker = Waker::from(task.clone());
        (task, waker)
    }

    /// How many times it was woken.
    pub(crate) fn wakes(&self) -> usize {
        self.0.load(SeqCst)
    }
}

/// The waker of a task whose executor panics when it is woken.
pub(crate) fn panicking_waker() -> Waker {
    struct Panics;
    impl Wake for Panics {
        fn wake(self: Arc<Self>) {
            panic!("a broken executor's waker");
        }
    }
    Waker::from(Arc::new(Panics))
}
