//! What a ring side needs to cross browser threads in the threaded build (compiled with the `atomics`
//! target feature over one shared `WebAssembly.Memory`): the table of sides parked for another thread,
//! the handles naming them, blocking waits for dedicated workers, and in-place views of ring memory.
//!
//! Every thread instantiates the same module over the same memory (`init(handle)` in js/web.mjs), so
//! Rust's statics are shared: a side parked by one thread is claimed from the same table by another,
//! as in the Node addon. A handle carries the module and the memory, which `postMessage` can clone,
//! and a token of the memory, so that a thread that instantiated a memory of its own is told so
//! instead of finding no such side. Each parked side has a custody (`super::custody`), through
//! which the memory's home ends it should the thread that claims it end holding it.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use js_sys::{Object, Reflect, Uint8Array};
use wasm_bindgen::{JsCast, JsValue};

use super::custody::Custody;
use super::error::throwable;
use super::shared::{insert_fallibly, spin_lock, token};
use crate::binding::{handle_id, message};
use crate::platform::time::Instant;
use crate::ring::asynchronous::{Reader, Writer};
use crate::ring::{NoTags, Orphan};

/// A side waiting in the table to be claimed.
pub(crate) enum Handed {
    Writer(Writer<u8>),
    Reader(Reader<u8>),
}

impl Handed {
    /// The class whose `fromHandle()` claims it.
    fn class(&self) -> &'static str {
        match self {
            Handed::Writer(_) => "CircularWriter",
            Handed::Reader(_) => "CircularReader",
        }
    }
}

/// A parked side with its custody (see `super::custody`).
type Parked = (Handed, Arc<Custody>);

/// The parked sides by handle id; `None` for a place reserved for a side not parked yet (see
/// [`Place`]).
static PARKED: Mutex<Option<HashMap<u64, Option<Parked>>>> = Mutex::new(None);
static NEXT_ID: AtomicU64 = AtomicU64::new(1);

fn set(object: &Object, key: &str, value: &JsValue) {
    // Properties of a fresh plain object: defining them cannot fail.
    let _ = Reflect::set(object, &key.into(), value);
}

/// A place in the table of parked sides, with the side's custody: made while the side is still its
/// object's, so that memory too full for the tables (which grow fallibly, see [`Custody::of`]) leaves
/// the side there, not lost.
pub(crate) struct Place {
    id: u64,
    custody: Option<Arc<Custody>>,
}

impl Place {
    /// A place for the side `orphan` ends (should its claimer end holding it), or a `RangeError` where
    /// the memory is full.
    pub(crate) fn new(orphan: Orphan<u8, NoTags>) -> Result<Place, JsValue> {
        let id = NEXT_ID.fetch_add(1, Ordering::Relaxed);
        let custody = Custody::of(id, orphan)?;
        if let Err((_, bytes)) = insert_fallibly(&PARKED, id, None) {
            custody.release();
            return Err(super::custody::table_full(bytes));
        }
        Ok(Place { id, custody: Some(custody) })
    }

    /// Parks `side` in this place and returns its handle: `{ omnibuf, id, memoryToken, module,
    /// memory }`.
    pub(crate) fn park(mut self, side: Handed, class: &str) -> JsValue {
        let custody = self.custody.take().expect("a place parks once");
        if let Some(place) = spin_lock(&PARKED).as_mut().and_then(|t| t.get_mut(&self.id)) {
            *place = Some((side, custody)); // in place: no allocation
        }
        let handle = Object::new();
        set(&handle, "omnibuf", &class.into());
        set(&handle, "id", &(self.id as f64).into());
        set(&handle, "memoryToken", &(token() as f64).into());
        set(&handle, "module", &wasm_bindgen::module());
        set(&handle, "memory", &wasm_bindgen::memory());
        handle.into()
    }
}

impl Drop for Place {
    /// A place never parked in (its side could not be taken) is given up.
    fn drop(&mut self) {
        if let Some(custody) = self.custody.take() {
            let place = spin_lock(&PARKED).as_mut().and_then(|t| t.remove(&self.id));
            drop(place);
            custody.release();
        }
    }
}

/// The custody of a side this thread just made (see `super::custody`): one of its own, claimed by
/// this thread, where a worker's end must end the side; `None` where nothing watches.
pub(crate) fn custody_of_new_side(orphan: Orphan<u8, NoTags>) -> Result<Option<Arc<Custody>>, JsValue> {
    if !super::custody::watched_here() {
        return Ok(None);
    }
    let custody = Custody::of(NEXT_ID.fetch_add(1, Ordering::Relaxed), orphan)?;
    custody.claimed();
    Ok(Some(custody))
}

/// Claims the side `handle` names, once, with its custody.
pub(crate) fn claim(handle: &JsValue, class: &str) -> Result<Parked, JsValue> {
    let malformed = || throwable(message::malformed_handle(class));
    if !handle.is_object() {
        return Err(malformed());
    }
    let get = |key: &str| Reflect::get(handle, &key.into()).map_err(|_| malformed());
    let (named, id, memory_token) = (get("omnibuf")?, get("id")?, get("memoryToken")?);
    let (Some(named), Some(id)) = (named.as_string(), id.as_f64()) else { return Err(malformed()) };
    if named != class {
        return Err(throwable(message::handle_of_other_class(&named, class)));
    }
    let Some(id) = handle_id(id) else { return Err(malformed()) };
    if memory_token.as_f64() != Some(token() as f64) {
        return Err(throwable(message::handle_of_other_memory(class)));
    }
    let mut table = spin_lock(&PARKED);
    let table = table.get_or_insert_with(HashMap::new);
    let (side, custody) = match table.get(&id).and_then(|place| place.as_ref()).map(|(side, _)| side.class())
    {
        Some(parked) if parked == class => table.remove(&id).flatten().expect("the side was just seen"),
        // An id edited into another class's handle: the side stays parked for its own handle.
        Some(parked) => return Err(throwable(message::handle_of_other_class(parked, class))),
        None => return Err(throwable(message::handle_gone())),
    };
    custody.claimed();
    Ok((side, custody))
}

/// Where this thread runs, when it must not block: `None` in a dedicated (or shared) worker.
/// Browsers refuse `Atomics.wait` on the page's main thread and in worklets; a worker global scope is
/// the one with `importScripts`.
pub(crate) fn cannot_block() -> Option<&'static str> {
    let global = js_sys::global();
    if Reflect::has(&global, &"importScripts".into()).unwrap_or(false) {
        None
    } else if Reflect::has(&global, &"document".into()).unwrap_or(false) {
        Some("the page's main thread")
    } else {
        Some("this thread (a worklet)")
    }
}

/// A deadline `timeout` milliseconds from now (none when not given).
pub(crate) fn deadline(timeout: &JsValue) -> Result<Option<Instant>, JsValue> {
    let timeout = crate::binding::timeout(super::error::value(timeout)).map_err(throwable)?;
    Ok(timeout.and_then(|timeout| Instant::now().checked_add(timeout)))
}

/// A view of `bytes` in the shared wasm memory: in place, no copy. It stays a view of that memory
/// when the memory grows (a shared memory's buffer never detaches).
pub(crate) fn view(bytes: &[u8]) -> Uint8Array {
    let memory: js_sys::WebAssembly::Memory = wasm_bindgen::memory().unchecked_into();
    // wasm32 addresses are 32 bits: both casts are exact.
    Uint8Array::new_with_byte_offset_and_length(
        &memory.buffer(),
        bytes.as_ptr() as usize as u32,
        bytes.len() as u32,
    )
}
