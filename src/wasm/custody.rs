//! Who answers for a ring side handed to another browser thread when that thread ends without
//! freeing it (threaded build only).
//!
//! A terminated worker runs no code again, so its sides are never dropped, and without help the
//! other sides would wait for it for ever: a writer for room, a reader for data or the end. The help
//! is a Web Lock (js/custody.mjs), which a browser releases when the thread holding it ends:
//! - every thread that loads the module with `init()` takes a lock of its own, its *life lock*
//!   ([`thread`]), and holds it until it ends;
//! - the thread that claims a side marks the side's custody *claimed*, with its thread number
//!   ([`claim`]); freeing the side or moving it on marks it *released* ([`Custody::release`]);
//! - the thread that handed the side over watches it ([`watch`]): once it is claimed, the watcher
//!   asks for the claimer's life lock, which it gets only when the claimer ended, and gives the
//!   request up if the side is released first. Then it ends the watch ([`end_watch`]): a custody
//!   still *claimed* means the claimer ended holding the side, and the watcher ends it as dropping it
//!   would have ([`Orphan`]): a writer's stream aborts, a reader stops holding the writer back.
//!
//! A claimer must hold its life lock before it claims: `init()` resolves only once the lock is held,
//! whereas a lock asked for at the claim would never be granted to a worker that blocks right after
//! (in `sliceSync()`), as workers of rings do. A thread without a life lock (an AudioWorklet, which
//! has no Web Locks) leaves its sides *handed*, and a watcher never ends them.

use std::collections::HashMap;
use std::sync::atomic::{AtomicI32, AtomicU32, Ordering::SeqCst};
use std::sync::{Arc, Mutex};

use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;

use super::threads::{spin_lock, Handed};
use crate::binding::message;
use crate::ring::{NoTags, Orphan};

/// Handed over, and not claimed by a thread with a life lock.
const HANDED: i32 = 0;
/// Claimed by a thread with a life lock (`Custody::holder`).
const CLAIMED: i32 = 1;
/// Freed or moved on by its claimer.
const RELEASED: i32 = 2;
/// Ended by its watcher after its claimer ended holding it.
const RESCUED: i32 = 3;

/// The custody of one handed side: its state, which JS waits on (`Atomics.waitAsync` at
/// [`address`](Self::address)), who claimed it, and what a watcher does for it should that thread end.
pub(crate) struct Custody {
    state: AtomicI32,
    /// The claimer's thread number (see [`thread`]), set before the state says *claimed*.
    holder: AtomicU32,
    orphan: Orphan<u8, NoTags>,
}

impl Custody {
    pub(crate) fn of(side: &Handed) -> Arc<Custody> {
        let orphan = match side {
            Handed::Writer(writer) => writer.orphan(),
            Handed::Reader(reader) => reader.orphan(),
        };
        Arc::new(Custody { state: AtomicI32::new(HANDED), holder: AtomicU32::new(0), orphan })
    }

    /// Says the side was freed or moved on by the thread that holds it, and wakes its watcher.
    pub(crate) fn release(&self) {
        self.state.store(RELEASED, SeqCst);
        self.notify();
    }

    /// Wakes the JS waiting for the state to change. Through JS's `Atomics.notify` (wasm's own
    /// notify is unstable in Rust): it is rare, at most twice per handle.
    fn notify(&self) {
        let memory: js_sys::WebAssembly::Memory = wasm_bindgen::memory().unchecked_into();
        let _ = js_sys::Atomics::notify(&js_sys::Int32Array::new(&memory.buffer()), self.address() / 4);
    }

    /// The byte address of the state in the module's memory (4-aligned).
    fn address(&self) -> u32 {
        // wasm32 addresses are 32 bits: the cast is exact.
        self.state.as_ptr() as usize as u32
    }
}

/// The custodies watched by some thread, by handle id; each stays until its watcher ends it, so
/// that the memory JS waits on stays allocated while it waits.
static WATCHED: Mutex<Option<HashMap<u64, Arc<Custody>>>> = Mutex::new(None);

static NEXT_THREAD: AtomicU32 = AtomicU32::new(1);

fn watched(id: f64) -> Option<Arc<Custody>> {
    spin_lock(&WATCHED).as_ref()?.get(&(id as u64)).cloned()
}

/// A new thread number, for a thread's life lock, whose name is
/// `omnibuf ring thread <memory token>/<number>`.
#[wasm_bindgen(js_name = __custodyThread)]
pub fn thread() -> js_sys::Array {
    let number = NEXT_THREAD.fetch_add(1, SeqCst);
    [JsValue::from(number), JsValue::from(super::threads::token() as f64)].into_iter().collect()
}

/// The handing thread, right after `toHandle()`: watches the side of handle `id`. Returns the
/// address of its state, 0 when no such side is parked.
#[wasm_bindgen(js_name = __custodyWatch)]
pub fn watch(id: f64) -> u32 {
    let Some(custody) = super::threads::parked_custody(id as u64) else { return 0 };
    let address = custody.address();
    spin_lock(&WATCHED).get_or_insert_with(HashMap::new).insert(id as u64, custody);
    address
}

/// The claiming thread, holding its life lock, right after `fromHandle()`: marks the side of handle
/// `id` claimed by `thread`, if a thread watches it.
#[wasm_bindgen(js_name = __custodyClaim)]
pub fn claim(id: f64, thread: u32) {
    if let Some(custody) = watched(id) {
        custody.holder.store(thread, SeqCst);
        if custody.state.compare_exchange(HANDED, CLAIMED, SeqCst, SeqCst).is_ok() {
            custody.notify();
        }
    }
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

/// The watching thread, once the side of handle `id` was released or its claimer's life lock was
/// granted to the watcher: ends the watch, and ends the side if its claimer ended holding it.
/// Returns whether it did.
#[wasm_bindgen(js_name = __custodyEndWatch)]
pub fn end_watch(id: f64) -> bool {
    let Some(custody) = spin_lock(&WATCHED).as_mut().and_then(|t| t.remove(&(id as u64))) else {
        return false;
    };
    let orphaned = custody.state.compare_exchange(CLAIMED, RESCUED, SeqCst, SeqCst).is_ok();
    if orphaned {
        custody.orphan.end(message::LOST_WRITER);
        custody.notify(); // the watcher's own wait for a release settles
    }
    orphaned
}
