//! Waits JS can cancel: the Promises of `BufferPool.acquire()` and the ring's `sliceAsync()`.
//!
//! [`spawn`] runs a future as a Promise, as `future_to_promise` does: a future ready at once settles
//! the Promise then; one still pending is kept in a table under an id, which `spawn` writes into the
//! wait's ticket (`{ ref, id }`, made by `js/waits.mjs`). When the wait's
//! `AbortSignal` aborts, the JS layer calls `__cancelWait(id, reason)`: the future is dropped at once
//! (a pool wait leaves the queue, and budget that reached it goes on; a ring wait lets go of its
//! waker) and the Promise rejects with `reason`. `__pendingWaits()` counts the table, a test hook.
//! (Keeping a Node process alive for `{ ref: true }` is the JS layer's: a wasm Promise holds nothing
//! of the event loop.)

use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Wake, Waker};

use js_sys::Reflect;
use wasm_bindgen::prelude::*;

type Boxed = Pin<Box<dyn Future<Output = Result<JsValue, JsValue>>>>;

/// One pending wait, shared by the table and the Promise's task.
struct Wait {
    /// The future, until it is done or cancelled.
    future: RefCell<Option<Boxed>>,
    /// What to reject with, once cancelled.
    cancelled: RefCell<Option<JsValue>>,
    /// The one waker the future is polled with, in [`spawn`] and then by the task (see [`Forward`]).
    waker: Waker,
    forward: Arc<Forward>,
}

/// The waker of a wait's future: it wakes the task that polled the future last. The future is polled
/// first in [`spawn`], before it has a task, and then by its task; with one waker for both, what the
/// future registered it with (the pool's queue, the ring, the side's list) holds one waker for the
/// whole wait, never a stale one beside it.
struct Forward(Mutex<Target>);

/// Whom a [`Forward`] wakes.
#[derive(Default)]
struct Target {
    /// The task, from its first poll on.
    task: Option<Waker>,
    /// Whether a wake came before the task was there: its first poll is then the one to serve it.
    woken_before: bool,
}

impl Forward {
    /// In the threaded build by spinning (`super::shared::spin_lock`): a ring's writer in a worker
    /// wakes a wait of the page, whose thread takes the lock too and may never wait on a futex (the
    /// browser refuses `memory.atomic.wait32` there). It is held for a clone of a waker.
    fn target(&self) -> std::sync::MutexGuard<'_, Target> {
        #[cfg(target_feature = "atomics")]
        return super::shared::spin_lock(&self.0);
        #[cfg(not(target_feature = "atomics"))]
        self.0.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

impl Wake for Forward {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        // Woken outside the lock.
        let task = {
            let mut target = self.target();
            target.woken_before |= target.task.is_none();
            target.task.clone()
        };
        if let Some(task) = task {
            task.wake();
        }
    }
}

thread_local! {
    static WAITS: RefCell<HashMap<u64, Rc<Wait>>> = RefCell::new(HashMap::new());
    static NEXT_ID: Cell<u64> = const { Cell::new(0) };
}

/// The task that settles a wait's Promise; it leaves the table when done (or dropped).
struct Task {
    id: u64,
    wait: Rc<Wait>,
}

impl Future for Task {
    type Output = Result<JsValue, JsValue>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        if let Some(reason) = self.wait.cancelled.borrow_mut().take() {
            return Poll::Ready(Err(reason));
        }
        {
            let mut target = self.wait.forward.target();
            let first = target.task.is_none();
            if !target.task.as_ref().is_some_and(|w| w.will_wake(cx.waker())) {
                target.task = Some(cx.waker().clone());
            }
            // The task's first poll runs where spawn() queued it, which may be before the tasks of
            // earlier waits that the same change woke since: serving this wait there would settle a
            // later wait on a side before an earlier one. So it polls nothing (spawn() did), and a
            // wake that came meanwhile queues the task again, behind those, in the order the waits
            // were made, as the addon settles them.
            if first {
                if std::mem::take(&mut target.woken_before) {
                    cx.waker().wake_by_ref();
                }
                return Poll::Pending;
            }
        }
        // Taken out while polled: a poll that reaches JS cannot find it borrowed.
        let Some(mut future) = self.wait.future.borrow_mut().take() else {
            return Poll::Ready(Err(JsValue::UNDEFINED)); // cancelled without a reason
        };
        match future.as_mut().poll(&mut Context::from_waker(&self.wait.waker)) {
            Poll::Ready(outcome) => Poll::Ready(outcome),
            Poll::Pending => {
                *self.wait.future.borrow_mut() = Some(future);
                Poll::Pending
            }
        }
    }
}

impl Drop for Task {
    fn drop(&mut self) {
        let _ = WAITS.try_with(|waits| waits.borrow_mut().remove(&self.id));
    }
}

/// The next id of `counter`, written into `ticket` as its `id` (`ticket`: an object the JS layer made,
/// or `undefined` for work nobody can cancel). For the waits here and the work of `work.rs`.
pub(crate) fn issue_ticket(counter: &'static std::thread::LocalKey<Cell<u64>>, ticket: &JsValue) -> u64 {
    let id = counter.with(|next| {
        next.set(next.get() + 1);
        next.get()
    });
    if ticket.is_object() {
        // A plain object the JS layer made: setting a property cannot throw.
        let _ = Reflect::set(ticket, &"id".into(), &JsValue::from(id as f64));
    }
    id
}

/// A Promise of `future`'s outcome, cancellable by the id written into `ticket` (an object, or
/// `undefined` for a wait nobody can cancel).
///
/// The future is polled once here: a wait served at the call (room in the pool, data in the ring)
/// settles its Promise with what it got and takes no id, so that an abort right after the call finds
/// nothing to cancel, as in the addon, whose executor polls at once too. Only a wait still pending
/// gets an id and a place in the table.
pub(crate) fn spawn(
    ticket: &JsValue,
    future: impl Future<Output = Result<JsValue, JsValue>> + 'static,
) -> js_sys::Promise {
    let forward = Arc::new(Forward(Mutex::new(Target::default())));
    let waker = Waker::from(forward.clone());
    let mut future: Boxed = Box::pin(future);
    match future.as_mut().poll(&mut Context::from_waker(&waker)) {
        Poll::Ready(Ok(value)) => return js_sys::Promise::resolve(&value),
        Poll::Ready(Err(error)) => return js_sys::Promise::reject(&error),
        Poll::Pending => {}
    }
    let id = issue_ticket(&NEXT_ID, ticket);
    let wait =
        Rc::new(Wait { future: RefCell::new(Some(future)), cancelled: RefCell::new(None), waker, forward });
    WAITS.with_borrow_mut(|waits| waits.insert(id, wait.clone()));
    wasm_bindgen_futures::future_to_promise(Task { id, wait })
}

/// Cancels the pending wait `id`: drops its future now and rejects its Promise with `reason`. Returns
/// whether it was pending.
#[wasm_bindgen(js_name = __cancelWait)]
pub fn cancel_wait(id: f64, reason: JsValue) -> bool {
    let Some(wait) = WAITS.with_borrow_mut(|waits| waits.remove(&(id as u64))) else { return false };
    // Dropped outside the table's borrow: a pool wait's drop may wake the next waiter.
    drop(wait.future.borrow_mut().take());
    *wait.cancelled.borrow_mut() = Some(reason);
    wait.waker.wake_by_ref();
    true
}

/// How many waits are pending (a test hook: an aborted wait leaves none behind).
#[wasm_bindgen(js_name = __pendingWaits)]
pub fn pending_waits() -> usize {
    WAITS.with_borrow(|waits| waits.len())
}
