//! Locks by name for the whole origin: every page, tab and worker of it. The IndexedDB store takes a
//! [`WebLock`] (exclusive) per document while it writes, so that two writers never pick the same
//! fresh block ids and a garbage collection never deletes blocks a save is still writing; and holds a
//! [`SharedWebLock`] per version a buffer reads, so that a garbage collection elsewhere can see
//! ([`held_names`]) which old blocks are still read.
//!
//! Both are Web Locks (`navigator.locks`, in every context of every current browser) named `omnibuf:`
//! plus the caller's name, so that other code of the origin can take them too, and a tab that closes
//! or crashes lets go of its own. The exclusive one is first a lock of this thread, so that where
//! there is no Web Lock to be had (an old browser, an opaque origin, Node with an IndexedDB polyfill)
//! the writers of one thread are still kept apart; without Web Locks, shared locks are marks no other
//! context sees (the store keeps marks of its own thread too).
//!
//! Exclusive locks are granted first come, first served. A wait given up (its future dropped before
//! the grant) lets go of the lock at once when it would have been granted, so it never holds up later
//! writers.

use std::cell::RefCell;
use std::collections::HashMap;

use js_sys::{Function, Object, Promise, Reflect};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;

thread_local! {
    /// The lock of this thread: per name, the Promise that settles when its last holder or waiter
    /// has let go.
    static LOCAL_TAILS: RefCell<HashMap<String, Promise>> = RefCell::new(HashMap::new());
}

/// A held lock; dropping it lets the next waiter in.
#[must_use = "the lock is let go when this is dropped"]
pub struct WebLock {
    name: String,
    /// Resolves the Promise this holder keeps pending while it holds the lock.
    release: Function,
    /// Settles when this holder and every one before it on this thread have let go.
    tail: Promise,
}

impl WebLock {
    /// Waits until the lock `name` is this caller's alone, first come, first served.
    pub async fn acquire(name: &str) -> WebLock {
        let (held, release) = pending();
        let before = LOCAL_TAILS.with(|t| t.borrow().get(name).cloned());
        let tail = match &before {
            Some(before) => chain(before, &held),
            None => held.clone(),
        };
        LOCAL_TAILS.with(|t| t.borrow_mut().insert(name.to_string(), tail.clone()));
        // Made before any wait, so that a wait given up lets go of the lock it never saw.
        let lock = WebLock { name: name.to_string(), release, tail };
        // First the lock of this thread...
        if let Some(before) = before {
            let _ = JsFuture::from(before).await;
        }
        // ...then the origin's.
        let _ = hold_web_lock(name, "exclusive", held).await;
        lock
    }
}

impl Drop for WebLock {
    fn drop(&mut self) {
        let _ = self.release.call0(&JsValue::UNDEFINED);
        // The entry goes once nobody waits behind this holder.
        LOCAL_TAILS.with(|t| {
            let mut tails = t.borrow_mut();
            if tails.get(&self.name).is_some_and(|last| Object::is(last, &self.tail)) {
                tails.remove(&self.name);
            }
        });
    }
}

/// A shared lock of the origin, held as a mark that something is in use: others see it with
/// [`held_names`]. Only where there are Web Locks (nothing is held elsewhere).
#[derive(Debug)]
#[must_use = "the lock is let go when this is dropped"]
pub struct SharedWebLock {
    release: Function,
    /// Settles once the lock is let go (the request's Promise); `None` without Web Locks.
    let_go: Option<Promise>,
}

impl SharedWebLock {
    /// Takes the shared lock `name`: at once, unless someone holds it exclusively.
    pub async fn acquire(name: &str) -> SharedWebLock {
        let (held, release) = pending();
        let mut lock = SharedWebLock { release, let_go: None };
        lock.let_go = hold_web_lock(name, "shared", held).await;
        lock
    }

    /// Lets go of the lock; the Promise settles once others no longer see it held.
    pub fn release(mut self) -> Option<Promise> {
        let _ = self.release.call0(&JsValue::UNDEFINED);
        self.let_go.take()
    }
}

impl Drop for SharedWebLock {
    fn drop(&mut self) {
        let _ = self.release.call0(&JsValue::UNDEFINED);
    }
}

/// The names (without `omnibuf:`) of the locks held in the origin that start with `prefix`; none
/// where there are no Web Locks.
pub async fn held_names(prefix: &str) -> Vec<String> {
    let Some((locks, _)) = web_locks() else { return Vec::new() };
    let snapshot = async {
        let query: Function = Reflect::get(&locks, &"query".into())?.dyn_into()?;
        let snapshot = JsFuture::from(query.call0(&locks)?.dyn_into::<Promise>()?).await?;
        Reflect::get(&snapshot, &"held".into())?.dyn_into::<js_sys::Array>()
    };
    let Ok(held) = snapshot.await else { return Vec::new() };
    let prefix = format!("omnibuf:{prefix}");
    held.iter()
        .filter_map(|lock| Reflect::get(&lock, &"name".into()).ok()?.as_string())
        .filter_map(|name| {
            name.strip_prefix("omnibuf:").filter(|_| name.starts_with(&prefix)).map(str::to_string)
        })
        .collect()
}

/// Requests the Web Lock `omnibuf:<name>` in `mode`, to be held until `held` settles, waits for the
/// grant, and returns the request's Promise, which settles once the lock is let go. Returns at once
/// where there is no Web Lock to be had.
async fn hold_web_lock(name: &str, mode: &str, held: Promise) -> Option<Promise> {
    let (locks, request) = web_locks()?;
    let (granted, grant) = pending();
    let on_grant = grant.clone();
    let callback = Closure::once_into_js(move |_lock: JsValue| -> JsValue {
        let _ = on_grant.call0(&JsValue::UNDEFINED);
        held.into()
    });
    let options = Object::new();
    let _ = Reflect::set(&options, &"mode".into(), &mode.into());
    let requested = request.call3(&locks, &format!("omnibuf:{name}").into(), &options, &callback);
    // Its Promise settles when the lock is let go, or rejects when there is none to be had (an
    // opaque origin): then this goes on without it.
    let requested = requested.and_then(|p| p.dyn_into::<Promise>()).ok()?;
    let settled = on_rejection(&requested, &grant).ok()?.dyn_into::<Promise>().ok()?;
    let _ = JsFuture::from(granted).await;
    Some(settled)
}

/// A Promise and the function that resolves it.
fn pending() -> (Promise, Function) {
    // The executor runs before `new` returns, so the placeholder never stays.
    let mut resolve: Function = JsValue::UNDEFINED.unchecked_into();
    let promise = Promise::new(&mut |res, _rej| resolve = res);
    (promise, resolve)
}

/// A Promise that resolves once `first` and `second` have (neither of them rejects).
fn chain(first: &Promise, second: &Promise) -> Promise {
    Promise::all(&js_sys::Array::of2(first, second))
}

/// `promise.catch(handler)` with a function made in JS (js_sys's takes a Rust closure).
fn on_rejection(promise: &Promise, handler: &Function) -> Result<JsValue, JsValue> {
    let catch: Function = Reflect::get(promise, &"catch".into())?.dyn_into()?;
    catch.call1(promise, handler)
}

/// `navigator.locks` in this context and its `request` method, if it has them.
fn web_locks() -> Option<(JsValue, Function)> {
    let navigator = Reflect::get(&js_sys::global(), &"navigator".into()).ok()?;
    if !navigator.is_object() {
        return None;
    }
    let locks = Reflect::get(&navigator, &"locks".into()).ok()?;
    if !locks.is_object() {
        return None;
    }
    let request = Reflect::get(&locks, &"request".into()).ok()?.dyn_into::<Function>().ok()?;
    Some((locks, request))
}
