//! A task that waits on a ring while no memory can be had for the wake-up list is not lost and
//! does not take the process down. The list is changed under a lock that the threaded wasm build
//! spins on, where a failed allocation traps with the lock held (every thread that takes it next
//! spins for good); natively it aborts. Now a task the list has no room for is woken at once to poll
//! again, and a side that goes leaves an entry it has no room to take out for the next change to
//! wake for nothing.
//!
//! The test's own allocator refuses every allocation of the thread that armed it, while armed: it
//! runs in a binary of its own, so that nothing else is refused.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::future::Future;
use std::pin::pin;
use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use std::sync::Arc;
use std::task::{Context, Poll, Wake, Waker};

use omnibuf::ring::asynchronous::Circular;

thread_local! {
    /// Whether this thread's allocations are refused (`const`: reading it never allocates).
    static REFUSING: Cell<bool> = const { Cell::new(false) };
}

struct Refusing;

// SAFETY: every call goes to `System` unchanged, or returns null, which `GlobalAlloc` allows for a
// request that cannot be met.
unsafe impl GlobalAlloc for Refusing {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        if REFUSING.with(Cell::get) {
            return std::ptr::null_mut();
        }
        // SAFETY: the caller's layout, passed on.
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: `ptr` came from `System` with this layout.
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        if REFUSING.with(Cell::get) {
            return std::ptr::null_mut();
        }
        // SAFETY: the caller's block and sizes, passed on.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static ALLOCATOR: Refusing = Refusing;

/// `f()` with every allocation of this thread refused.
fn refusing<R>(f: impl FnOnce() -> R) -> R {
    REFUSING.with(|r| r.set(true));
    let result = f();
    REFUSING.with(|r| r.set(false));
    result
}

/// A waker that counts its wakes (its clones are `Arc` clones: they allocate nothing).
#[derive(Default)]
struct Counting(AtomicUsize);

impl Wake for Counting {
    fn wake(self: Arc<Self>) {
        self.0.fetch_add(1, SeqCst);
    }
}

fn counting() -> (Arc<Counting>, Waker) {
    let counter = Arc::new(Counting::default());
    (counter.clone(), Waker::from(counter))
}

#[test]
fn a_wait_the_wake_up_list_has_no_room_for_polls_again_and_is_woken_once_it_has() {
    let mut writer = Circular::with_capacity::<u8>(4096).unwrap();
    let mut reader = writer.add_reader();
    let (wakes, waker) = counting();
    let mut cx = Context::from_waker(&waker);
    {
        let mut waiting = pin!(reader.slice());
        // The list is empty, so registering the task needs memory.
        assert!(refusing(|| waiting.as_mut().poll(&mut cx)).is_pending());
        assert_eq!(wakes.0.load(SeqCst), 1, "woken at once, to poll again");
        // With memory back, the same wait registers, and the writer's change wakes it.
        assert!(waiting.as_mut().poll(&mut cx).is_pending());
        assert_eq!(wakes.0.load(SeqCst), 1, "registered: not woken again until a change");
        writer.try_slice()[..3].copy_from_slice(b"abc");
        writer.produce(3);
        assert_eq!(wakes.0.load(SeqCst), 2, "the change woke the registered task");
        assert!(matches!(waiting.as_mut().poll(&mut cx), Poll::Ready(Some(b"abc"))));
    }
    reader.consume(3);

    // The writer's own wait for room, through a reader a whole ring behind.
    writer.try_slice().fill(1);
    writer.produce(4096);
    let (room_wakes, room_waker) = counting();
    let mut room_cx = Context::from_waker(&room_waker);
    {
        let mut waiting = pin!(writer.slice());
        assert!(refusing(|| waiting.as_mut().poll(&mut room_cx)).is_pending());
        assert_eq!(room_wakes.0.load(SeqCst), 1);
        assert!(waiting.as_mut().poll(&mut room_cx).is_pending());
    }
    reader.consume(4096);
    assert_eq!(room_wakes.0.load(SeqCst), 2, "the reader's consume woke the writer's task");
    assert_eq!(writer.try_slice().len(), 4096);
}

#[test]
fn a_side_that_goes_without_room_to_take_its_entry_out_leaves_it_for_the_next_change() {
    let mut writer = Circular::with_capacity::<u8>(4096).unwrap();
    let mut staying = writer.add_reader();
    let mut going = writer.add_reader();
    let (going_wakes, going_waker) = counting();
    let (staying_wakes, staying_waker) = counting();
    assert!(pin!(going.slice()).poll(&mut Context::from_waker(&going_waker)).is_pending());
    // The going reader's entry would be carried out of the list, to be dropped outside its lock:
    // with no memory for that, it stays.
    refusing(|| drop(going));
    assert!(pin!(staying.slice()).poll(&mut Context::from_waker(&staying_waker)).is_pending());
    writer.try_slice()[0] = 7;
    writer.produce(1);
    assert_eq!(staying_wakes.0.load(SeqCst), 1, "the staying reader's task is woken");
    assert!(going_wakes.0.load(SeqCst) <= 1, "a stale entry is woken at most once, for nothing");
    // The list's count of waiters is still its count of entries: the next waits work.
    staying.consume(1);
    assert!(pin!(staying.slice()).poll(&mut Context::from_waker(&staying_waker)).is_pending());
    writer.try_slice()[0] = 8;
    writer.produce(1);
    assert_eq!(staying_wakes.0.load(SeqCst), 2);
    assert_eq!(staying.try_slice(), Some(&[8u8][..]));
}
