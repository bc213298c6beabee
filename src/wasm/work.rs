//! VirtualBuffer work JS can cancel before it starts: the Promises of reads, queries and `open()`.
//!
//! [`spawn`] runs a future as a Promise, as `future_to_promise` does: its first poll comes in a later
//! microtask, not during the call. Until then the work is queued, under an id written into the
//! caller's ticket (`{ id }`, made by `js/waits.mjs` when the call has an `AbortSignal`). When the
//! signal aborts, the JS layer calls `__cancelWork(id)`: work not yet polled is dropped unpolled (it
//! never runs: no IndexedDB request, no OPFS call) and its Promise rejects. Work already polled runs
//! to its end: its IndexedDB requests cannot be withdrawn, and the event handlers waiting for them
//! must live until they fire (dropping the future half-way would free closures IndexedDB still
//! calls); the JS layer frees what it gives. `__workCounts()` is a test hook.

use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll};

use wasm_bindgen::prelude::*;

use super::wait::issue_ticket;

type Boxed = Pin<Box<dyn Future<Output = Result<JsValue, JsValue>>>>;

/// Where a piece of work is.
#[derive(Clone, Copy, PartialEq)]
enum State {
    /// Spawned, not polled yet: cancelling drops it unpolled.
    Queued,
    /// Polled at least once: it runs to its end.
    Started,
    /// Cancelled while queued.
    Cancelled,
}

thread_local! {
    /// The work not settled yet, by id.
    static PENDING: RefCell<HashMap<u64, Rc<Cell<State>>>> = RefCell::new(HashMap::new());
    static NEXT_ID: Cell<u64> = const { Cell::new(0) };
    /// How many pieces of work started (were polled).
    static STARTED: Cell<u64> = const { Cell::new(0) };
}

/// The task that settles a piece of work's Promise; it leaves the table when done (or dropped).
struct Task {
    id: u64,
    state: Rc<Cell<State>>,
    future: Option<Boxed>,
}

impl Future for Task {
    type Output = Result<JsValue, JsValue>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        match self.state.get() {
            State::Cancelled => {
                // Never polled: dropping it runs none of its code.
                self.future = None;
                return Poll::Ready(Err(JsValue::UNDEFINED));
            }
            State::Queued => {
                self.state.set(State::Started);
                STARTED.with(|n| n.set(n.get() + 1));
            }
            State::Started => {}
        }
        match self.future.as_mut() {
            Some(future) => future.as_mut().poll(cx),
            None => Poll::Ready(Err(JsValue::UNDEFINED)),
        }
    }
}

impl Drop for Task {
    fn drop(&mut self) {
        let _ = PENDING.try_with(|pending| pending.borrow_mut().remove(&self.id));
    }
}

/// A Promise of `future`'s outcome that `__cancelWork` can cancel until it starts, by the id written
/// into `ticket` (an object, or `undefined` for work nobody cancels).
pub(crate) fn spawn(
    ticket: &JsValue,
    future: impl Future<Output = Result<JsValue, JsValue>> + 'static,
) -> js_sys::Promise {
    let id = issue_ticket(&NEXT_ID, ticket);
    let state = Rc::new(Cell::new(State::Queued));
    PENDING.with_borrow_mut(|pending| pending.insert(id, state.clone()));
    wasm_bindgen_futures::future_to_promise(Task { id, state, future: Some(Box::pin(future)) })
}

/// Cancels work `id` if it has not started: it will never run, and its Promise rejects (with
/// `undefined`; the JS layer has rejected its own Promise with an `AbortError` already). Returns
/// whether it did: `false` for work that started or settled.
#[wasm_bindgen(js_name = __cancelWork)]
pub fn cancel_work(id: f64) -> bool {
    let Some(state) = PENDING.with_borrow(|pending| pending.get(&(id as u64)).cloned()) else {
        return false;
    };
    if state.get() != State::Queued {
        return false;
    }
    // Its task is queued for its first poll, which sees this and drops the future unpolled.
    state.set(State::Cancelled);
    PENDING.with_borrow_mut(|pending| pending.remove(&(id as u64)));
    true
}

/// `[pending, started]`: the work not settled (cancelled work counts no more), and how much started
/// so far (a test hook: work cancelled before it starts never does).
#[wasm_bindgen(js_name = __workCounts)]
pub fn work_counts() -> Vec<f64> {
    vec![PENDING.with_borrow(|pending| pending.len()) as f64, STARTED.with(Cell::get) as f64]
}
