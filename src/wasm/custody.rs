//! Who answers for a ring side handed to another browser thread when that thread ends without
//! freeing it (threaded build only).
//!
//! A terminated worker runs no code again, so its sides are never dropped, and without help the
//! other sides would wait for it for ever: a writer for room, a reader for data or the end. The help
//! is a Web Lock (js/custody.mjs), which a browser releases when the thread holding it ends:
//! - every thread that loads the module with `init()` takes a lock of its own, its *life lock*, and
//!   holds it until it ends ([`thread`], [`life_lock_held`]);
//! - a side handed over (`toHandle()`) gets a custody, and so does a side a worker makes itself
//!   (`Circular.withCapacity()`, `addReader()`: [`watched_here`]), watched by the memory's *home*:
//!   the thread that made the memory (the page, as a rule), whose event loop is free (a page may not
//!   block), unlike a worker's that blocks in `sliceSync()` ([`serve`], [`next_watch`]);
//! - the thread that claims the side marks its custody *claimed* with its thread number, if it holds
//!   its life lock; freeing the side or moving it on marks it *released* ([`Custody::release`]);
//! - once the side is claimed, the home asks for the claimer's life lock, which it gets only when the
//!   claimer ended, and gives the request up if the side is released first. Then it ends the watch
//!   ([`end_watch`]): a custody still *claimed* means the claimer ended holding the side, and the home
//!   ends it as dropping it would have ([`Orphan`]): a writer's stream aborts, a reader stops holding
//!   the writer back.
//!
//! A claimer must hold its life lock before it claims: `init()` resolves only once the lock is held,
//! whereas a lock asked for at the claim would never be granted to a worker that blocks right after,
//! as workers of rings do. A thread without a life lock (an AudioWorklet, which has no Web Locks)
//! leaves its sides *handed*, and they are never ended for it; without a home, nothing is watched.

use std::cell::Cell;
use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicI32, AtomicU32, Ordering::SeqCst};
use std::sync::{Arc, Mutex};

use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;

use super::error::throwable;
use super::shared::{insert_fallibly, push_fallibly, spin_lock, token};
use crate::binding::message;
use crate::ring::{NoTags, Orphan};

/// Handed over, and not claimed by a thread with a life lock.
const HANDED: i32 = 0;
/// Claimed by a thread with a life lock (`Custody::holder`).
const CLAIMED: i32 = 1;
/// Freed or moved on by its claimer.
const RELEASED: i32 = 2;
/// Ended by the home after its claimer ended holding it.
const RESCUED: i32 = 3;

/// The custody of one handed side: its state, which JS waits on (`Atomics.waitAsync` at its
/// address), who claimed it, and what the home does for it should that thread end.
pub(crate) struct Custody {
    state: AtomicI32,
    /// The claimer's thread number (see [`thread`]), set before the state says *claimed*.
    holder: AtomicU32,
    /// What the home ends should the claimer end holding the side; let go of at the release, since
    /// it holds the ring: the custody itself stays watched until the home gets to it, which a busy
    /// page may not for a long time, and the ring's memory must not wait for that.
    orphan: Mutex<Option<Orphan<u8, NoTags>>>,
}

impl Custody {
    /// The custody of a side parked as handle `id` (`orphan` ends it for its claimer), which the home
    /// watches, if there is one. `RangeError` where the memory is full: the tables grow fallibly,
    /// since a trap under their spin lock would leave it locked, and every thread that takes it
    /// after (the page's watch among them) would spin for ever.
    pub(crate) fn of(id: u64, orphan: Orphan<u8, NoTags>) -> Result<Arc<Custody>, JsValue> {
        let orphan = Mutex::new(Some(orphan));
        let custody = Arc::new(Custody { state: AtomicI32::new(HANDED), holder: AtomicU32::new(0), orphan });
        if HOME.load(SeqCst) {
            insert_fallibly(&WATCHED, id, custody.clone()).map_err(|(_, bytes)| table_full(bytes))?;
            if let Err(bytes) = push_fallibly(&TO_WATCH, id) {
                let unwatched = spin_lock(&WATCHED).as_mut().and_then(|t| t.remove(&id));
                drop(unwatched); // outside the lock
                return Err(table_full(bytes));
            }
            WATCHES.fetch_add(1, SeqCst);
            notify(&WATCHES);
        }
        Ok(custody)
    }

    /// The side was claimed by this thread: marks it so, if this thread holds its life lock.
    pub(crate) fn claimed(&self) {
        let thread = LIFE_LOCK.get();
        if thread != 0 {
            self.holder.store(thread, SeqCst);
            if self.state.compare_exchange(HANDED, CLAIMED, SeqCst, SeqCst).is_ok() {
                notify(&self.state);
            }
        }
    }

    /// Says the side was freed or moved on by the thread that holds it, and wakes the home.
    pub(crate) fn release(&self) {
        self.state.store(RELEASED, SeqCst);
        notify(&self.state);
        // Once released, the custody never rescues: the side's ring is not its to keep.
        let orphan = spin_lock(&self.orphan).take();
        drop(orphan); // outside the lock: the ring's last reference may go here
    }
}

/// The error of a table that cannot grow to `bytes`: the memory is full. (Made outside the table's
/// lock: it allocates too.)
pub(crate) fn table_full(bytes: usize) -> JsValue {
    throwable(message::cannot_allocate(bytes as u64))
}

/// The byte address of `word` in the module's memory (4-aligned).
fn address(word: &AtomicI32) -> u32 {
    // wasm32 addresses are 32 bits: the cast is exact.
    word.as_ptr() as usize as u32
}

/// Wakes the JS waiting for `word` to change. Through JS's `Atomics.notify` (wasm's own notify is
/// unstable in Rust): it is rare, a few times per handle.
fn notify(word: &AtomicI32) {
    let memory: js_sys::WebAssembly::Memory = wasm_bindgen::memory().unchecked_into();
    let _ = js_sys::Atomics::notify(&js_sys::Int32Array::new(&memory.buffer()), address(word) / 4);
}

/// Whether a home watches the handed sides.
static HOME: AtomicBool = AtomicBool::new(false);
/// The watched custodies by handle id; each stays until the home ends its watch, so that the memory
/// JS waits on stays allocated while it waits.
static WATCHED: Mutex<Option<HashMap<u64, Arc<Custody>>>> = Mutex::new(None);
/// Handle ids the home has not started watching yet.
static TO_WATCH: Mutex<Vec<u64>> = Mutex::new(Vec::new());
/// Counts the ids put in `TO_WATCH`: the home waits on it.
static WATCHES: AtomicI32 = AtomicI32::new(0);
static NEXT_THREAD: AtomicU32 = AtomicU32::new(1);

thread_local! {
    /// This thread's number, once it holds its life lock.
    static LIFE_LOCK: Cell<u32> = const { Cell::new(0) };
    /// Whether this thread is the home.
    static IS_HOME: Cell<bool> = const { Cell::new(false) };
}

/// Whether a side made by this thread needs a custody of its own: a home watches, and this thread is
/// not it but holds its life lock (a worker after `init()`), so it may end holding the side.
pub(crate) fn watched_here() -> bool {
    HOME.load(SeqCst) && !IS_HOME.get() && LIFE_LOCK.get() != 0
}

fn watched(id: f64) -> Option<Arc<Custody>> {
    spin_lock(&WATCHED).as_ref()?.get(&(id as u64)).cloned()
}

/// `[number, memory token]`: a new thread number, for a thread's life lock, whose name is
/// `omnibuf ring thread <memory token>/<number>`.
#[wasm_bindgen(js_name = __custodyThread)]
pub fn thread() -> js_sys::Array {
    let number = NEXT_THREAD.fetch_add(1, SeqCst);
    [JsValue::from(number), JsValue::from(token() as f64)].into_iter().collect()
}

/// This thread holds the life lock of `thread` now: the sides it claims are watched.
#[wasm_bindgen(js_name = __custodyLifeLockHeld)]
pub fn life_lock_held(thread: u32) {
    LIFE_LOCK.set(thread);
}

/// The home, once: watches the sides handed over from now on. Returns the address of the count of
/// sides to watch, which it waits on.
#[wasm_bindgen(js_name = __custodyServe)]
pub fn serve() -> u32 {
    IS_HOME.set(true);
    HOME.store(true, SeqCst);
    address(&WATCHES)
}

/// The home: the next handle id to watch, 0 when there is none.
#[wasm_bindgen(js_name = __custodyNextWatch)]
pub fn next_watch() -> f64 {
    spin_lock(&TO_WATCH).pop().map_or(0.0, |id| id as f64)
}

/// The address of the state of the side of handle `id`, 0 when it is not watched.
#[wasm_bindgen(js_name = __custodyState)]
pub fn state(id: f64) -> u32 {
    watched(id).map_or(0, |custody| address(&custody.state))
}

/// The number of the thread that claimed the side of handle `id`, 0 when it is not claimed.
#[wasm_bindgen(js_name = __custodyHolder)]
pub fn holder(id: f64) -> u32 {
    match watched(id) {
        Some(custody) if custody.state.load(SeqCst) == CLAIMED => custody.holder.load(SeqCst),
        _ => 0,
    }
}

/// The module's memory, where JS waits on custody states.
#[wasm_bindgen(js_name = __custodyMemory)]
pub fn memory() -> JsValue {
    wasm_bindgen::memory()
}

/// The home, once the side of handle `id` was released or its claimer's life lock was granted to the
/// home: ends the watch, and ends the side if its claimer ended holding it. Returns whether it did.
#[wasm_bindgen(js_name = __custodyEndWatch)]
pub fn end_watch(id: f64) -> bool {
    let Some(custody) = spin_lock(&WATCHED).as_mut().and_then(|t| t.remove(&(id as u64))) else {
        return false;
    };
    let orphaned = custody.state.compare_exchange(CLAIMED, RESCUED, SeqCst, SeqCst).is_ok();
    if orphaned {
        // A claimed side was never released, so its orphan is still here; ended outside its lock.
        let orphan = spin_lock(&custody.orphan).take();
        if let Some(orphan) = orphan {
            orphan.end(message::LOST_WRITER);
        }
        notify(&custody.state); // the home's own wait for a release settles
    }
    orphaned
}
