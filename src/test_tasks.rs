//! Tasks for the unit tests of the async waits: their wakers count wake-ups, panic as the waker of a
//! broken executor does, or make each clone an allocation of its own.

use std::mem::MaybeUninit;
use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use std::sync::{Arc, Mutex};
use std::task::{RawWaker, RawWakerVTable, Wake, Waker};

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

/// A task whose waker makes every clone an allocation of its own, as a bridge between executors may:
/// no two live clones have the same data address, and a clone's address tells nothing of its task.
/// Wake-ups are counted.
pub(crate) struct BoxingTask {
    wakes: AtomicUsize,
    /// Whether a dropped clone's memory is kept until the task goes: then every clone has an address
    /// never seen before. Otherwise it is freed, and the allocator may hand the address to the next
    /// clone made, of this task or of another.
    keep_freed: bool,
    /// The memory of the clones dropped, kept (with `keep_freed`) as allocations of their own.
    #[allow(clippy::vec_box)]
    freed: Mutex<Vec<Box<BoxedClone>>>,
}

/// What a [`BoxingTask`] waker's data points to: a reference to the task, taken out when the clone
/// is dropped.
type BoxedClone = MaybeUninit<Arc<BoxingTask>>;

impl BoxingTask {
    /// A task and its waker.
    pub(crate) fn with_waker(keep_freed: bool) -> (Arc<Self>, Waker) {
        let task = Arc::new(BoxingTask { wakes: AtomicUsize::new(0), keep_freed, freed: Mutex::default() });
        // SAFETY: `raw_waker` makes data that `VTABLE`'s functions take, as they expect it.
        let waker = unsafe { Waker::from_raw(raw_waker(task.clone())) };
        (task, waker)
    }

    /// How many times it was woken.
    pub(crate) fn wakes(&self) -> usize {
        self.wakes.load(SeqCst)
    }
}

static VTABLE: RawWakerVTable = RawWakerVTable::new(clone_boxed, wake_boxed, wake_boxed_by_ref, drop_boxed);

fn raw_waker(task: Arc<BoxingTask>) -> RawWaker {
    RawWaker::new(Box::into_raw(Box::new(MaybeUninit::new(task))).cast_const().cast(), &VTABLE)
}

/// The task of a live clone's `data`.
///
/// # Safety
/// `data` must be the data of a clone `raw_waker` made and `drop_boxed` has not ended.
unsafe fn task_of_boxed<'a>(data: *const ()) -> &'a Arc<BoxingTask> {
    // SAFETY: per the caller, `data` points to a live box whose task is initialised until its drop.
    unsafe { (*data.cast::<BoxedClone>()).assume_init_ref() }
}

unsafe fn clone_boxed(data: *const ()) -> RawWaker {
    // SAFETY: the waker's vtable functions are called with its live data only.
    raw_waker(unsafe { task_of_boxed(data) }.clone())
}

unsafe fn wake_boxed(data: *const ()) {
    // SAFETY: `wake` takes a live clone and ends it, as dropping it would.
    unsafe {
        wake_boxed_by_ref(data);
        drop_boxed(data);
    }
}

unsafe fn wake_boxed_by_ref(data: *const ()) {
    // SAFETY: the waker's vtable functions are called with its live data only.
    unsafe { task_of_boxed(data) }.wakes.fetch_add(1, SeqCst);
}

unsafe fn drop_boxed(data: *const ()) {
    // SAFETY: `data` is a live clone's box, made by `Box::into_raw` in `raw_waker`; dropping the clone
    // ends it, so nothing reads it after.
    let boxed = unsafe { Box::from_raw(data.cast_mut().cast::<BoxedClone>()) };
    // SAFETY: the task was put in at the clone's making and is taken out only here, once.
    let task = unsafe { boxed.assume_init_read() };
    if task.keep_freed {
        task.freed.lock().unwrap().push(boxed);
    }
    drop(task);
}
