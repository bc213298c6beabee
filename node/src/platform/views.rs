//! `Buffer`s over native memory, and the rule that keeps them from outliving it.
//!
//! `view()` and the ring's `slice()` hand JS an *external* `Buffer`: its bytes are the native memory
//! itself, not a copy. The external memory belongs to the `Buffer`'s `ArrayBuffer`, and everything JS
//! can make of a view (`subarray()`, `.buffer`, `new Uint8Array(view.buffer)`, a `DataView`) holds
//! that `ArrayBuffer`; so the object that owns the memory ([`Viewed`]) remembers the `ArrayBuffer` of
//! every view it handed out (see [`LiveView`] for how strongly). Before the owner lets
//! go of the memory, or lets anyone else change the bytes a view shows — `free()`, a pooled buffer's
//! `freeze()`, a ring side's `toHandle()`, `produce()` and `consume()` — it detaches those
//! `ArrayBuffer`s ([`Viewed::take`], [`Viewed::detach_views`]). A detached `ArrayBuffer` and every
//! array over it are empty: JS can no longer reach the memory, so it can be freed, reused or handed
//! to another thread at once. Node marks external buffers untransferable, so a view posted to a
//! worker (or given to `structuredClone`) is copied, never moved out of reach; the other movers of an
//! `ArrayBuffer` (`transfer()`, byte streams) are stopped in JS (`js/addon-moves.mjs`). A move that
//! gets through all the same (a mover taken before that module loaded, or another realm's) is seen at
//! the next detach: the `ArrayBuffer` is already detached. Such a view is kept listed, and its bytes
//! left alone, until its finalizer says no `ArrayBuffer` holds the memory any more
//! ([`Detach::Moved`]). Node also runs the finalizers when a worker's environment shuts down, even
//! for memory moved to an `ArrayBuffer` that was then posted to another thread; so in a worker each
//! view has a sentinel whose finalizer Node runs just before the view's, and which marks memory
//! that may have moved to be kept for good ([`ViewRecord::watch_shutdown`]).
//!
//! When the owner's JS object is garbage-collected instead, its views may still be in use (a view of a
//! temporary: `ZeroCopyBuffer.from(x).view()`). Owners whose memory can be shared then hand it to the
//! live views ([`Viewed::hand_to_views`]): each keeps a value that holds the memory (a buffer clone),
//! dropped by the view's finalizer once its `ArrayBuffer` is collected, so the memory lives exactly as
//! long as the last view. Owners that cannot be shared that way (a ring side: keeping a writer alive
//! would keep the stream open) detach their views instead.
//!
//! One native value may be shared by several JS objects (the storage of `js/addon-zero-copy.mjs`), so
//! views are filed by the JS object that asked for them ([`Viewed::view_in_group`]): freeing one of
//! those objects detaches its views only ([`Viewed::detach_group`]).
//!
//! Owners whose [`StableMemory::keep_alive`] gives a value have every view hold one from the start,
//! released by the view's finalizer or when the view is detached, whichever comes first. For the
//! other owners a failed detach (possible only while the JS environment shuts down) leaks the owner
//! rather than free memory a view could still show.
//!
//! This module knows no domain type: the domain modules implement [`StableMemory`] for theirs.
//!
//! Where the runtime forbids external buffers (Electron's V8 memory cage returns
//! `napi_no_external_buffers_allowed`) or cannot collect them safely (Deno), or when
//! `OMNIBUF_EXTERNAL_BUFFERS=0` is set in the environment, views are copies; [`external_buffers`]
//! says which mode is in use.
//!
//! V8 counts the bytes of external array buffers itself. What it cannot see is the native memory held
//! by the JS objects that wrap Rust values; [`ExternalMemory`] reports that, so that the garbage
//! collector hurries when small wrappers hold much native memory.

use std::any::Any;
use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use std::ptr;
use std::rc::Rc;
use std::sync::atomic::{AtomicU8, Ordering};

use napi::{sys, Env};

use super::ok;
use super::values::{self, Raw};

/// The bytes a view shows: read-only by contract, meant to be written by JS, or copied.
pub(crate) enum Bytes<'a> {
    /// JS should only read these (a frozen buffer, the slice of a ring's only reader). V8 has no
    /// read-only `ArrayBuffer`, so JS can write them all the same: only bytes in writable memory,
    /// which no other thread reads while the view is attached and no other owner than the JS objects
    /// sharing the value sees, may be handed out this way (a mapped file or a shared cache may not:
    /// the domain module copies those first, or picks [`Bytes::Copied`]).
    Shared(&'a [u8]),
    /// JS writes these (a pooled buffer, the writer's free slots).
    Writable(&'a mut [u8]),
    /// JS gets a copy of these, its own, in a new `Buffer`: bytes that others read too, so a write
    /// into a view over them would reach those others (the slice of one of several readers).
    Copied(&'a [u8]),
}

/// Memory that stays where it is for as long as its owner lives, so a view may point into it.
///
/// Implemented by the domain modules for the values they hand out views of.
///
/// # Safety
/// The bytes of every [`Bytes`] picked from a value must stay allocated, and not move, until that
/// value is dropped; and while a value [`keep_alive`](StableMemory::keep_alive) returned lives, even
/// after the owner is dropped.
pub(crate) unsafe trait StableMemory {
    /// A value that keeps the memory alive on its own, if the owner can make one cheaply: a view then
    /// holds one from the start, and can outlive the owner's JS object.
    fn keep_alive(&self) -> Option<Box<dyn Any + Send>> {
        None
    }
}

const MODE_UNKNOWN: u8 = 0;
const MODE_EXTERNAL: u8 = 1;
const MODE_COPY: u8 = 2;
static MODE: AtomicU8 = AtomicU8::new(MODE_UNKNOWN);

/// Whether views are external buffers over native memory (`true`) or copies (`false`). Decided once
/// per process: `OMNIBUF_EXTERNAL_BUFFERS=0` asks for copies, and so does Deno ([`is_deno`]);
/// otherwise a probe asks the runtime.
pub(crate) fn external_buffers(env: &Env) -> bool {
    match MODE.load(Ordering::Relaxed) {
        MODE_EXTERNAL => return true,
        MODE_COPY => return false,
        _ => {}
    }
    let allowed = std::env::var_os("OMNIBUF_EXTERNAL_BUFFERS").is_none_or(|v| v != "0")
        && !is_deno(env)
        && probe(env);
    MODE.store(if allowed { MODE_EXTERNAL } else { MODE_COPY }, Ordering::Relaxed);
    allowed
}

/// Whether the runtime is Deno (`process.versions.deno`, as Node-compatible code tells it). Deno's
/// Node-API (2.9) aborts the process when a finalizer deletes a weak reference, as a view's
/// finalizer does here ([`ViewRecord`]), so a program that lets views be collected would die there.
fn is_deno(env: &Env) -> bool {
    let mut global = ptr::null_mut();
    // SAFETY: `global` is a valid out-pointer, filled for the current call.
    if !ok(unsafe { sys::napi_get_global(env.raw(), &mut global) }) {
        return false;
    }
    let versions = values::property(env, global, "process").and_then(|p| values::property(env, p, "versions"));
    versions
        .and_then(|v| values::property(env, v, "deno"))
        .is_some_and(|deno| values::type_of(env, deno) == napi::ValueType::String)
}

/// Whether the runtime accepts an external buffer.
fn probe(env: &Env) -> bool {
    static BYTE: [u8; 1] = [0];
    let mut result = ptr::null_mut();
    // SAFETY: the byte is static, so it outlives the buffer; no finalizer is needed for it. The
    // buffer is never handed to JS (it is garbage as soon as this call returns), so nothing writes it.
    let status = unsafe {
        sys::napi_create_external_buffer(
            env.raw(),
            1,
            BYTE.as_ptr().cast_mut().cast(),
            None,
            ptr::null_mut(),
            &mut result,
        )
    };
    ok(status)
}

thread_local! {
    /// Whether views made on this thread get the check at shutdown ([`ViewRecord::watch_shutdown`]).
    /// Not on the main thread: its environment shuts down only as the process ends, after every
    /// worker's, so no other thread is left to show moved memory.
    static CHECK_AT_SHUTDOWN: Cell<bool> = const { Cell::new(true) };
}

/// Tells this module that the calling thread is the process's main thread (see
/// [`CHECK_AT_SHUTDOWN`]).
pub(crate) fn on_main_thread() {
    CHECK_AT_SHUTDOWN.set(false);
}

/// What the listing of one view, its finalizer and its check at shutdown share: alive until the
/// last of them lets go of it, or for good if the memory may still show somewhere.
struct ViewRecord {
    /// A value that keeps the view's memory alive on its own, if the view holds one.
    keep: RefCell<Option<Box<dyn Any + Send>>>,
    /// A reference to the view's `ArrayBuffer`: the object that owns the external memory. Everything
    /// JS can make of a view (`subarray()`, `.buffer`, `new Uint8Array(view.buffer)`, a `DataView`)
    /// holds this `ArrayBuffer`, not the `Buffer`; so it is the `ArrayBuffer` that must be detached.
    /// Weak when the view holds its memory (`keep`): JS may drop it, and the memory lives until the
    /// view's finalizer. Strong otherwise, while the view is listed: a collected `ArrayBuffer`
    /// could not tell whether its memory had been moved into another one first. Null once deleted
    /// (by a detach, or by the finalizer), or if it could not be made.
    array_buffer: Cell<sys::napi_ref>,
    /// Whether this module detached the `ArrayBuffer`: no `ArrayBuffer` shows the memory any more.
    detached: Cell<bool>,
    /// Whether the view's finalizer ran and let go of the memory: no `ArrayBuffer` holds it any more.
    finalized: Cell<bool>,
    /// A strong reference to the view's sentinel (see [`watch_shutdown`](Self::watch_shutdown)),
    /// null when there is none or the view needs it no more.
    sentinel: Cell<sys::napi_ref>,
    /// Set by the sentinel's check when an `ArrayBuffer` this module does not know may still show
    /// the memory as the environment shuts down: the view's finalizer then keeps it for good.
    keep_for_good: Cell<bool>,
}

impl ViewRecord {
    fn new(keep: Option<Box<dyn Any + Send>>) -> Self {
        ViewRecord {
            keep: RefCell::new(keep),
            array_buffer: Cell::new(ptr::null_mut()),
            detached: Cell::new(false),
            finalized: Cell::new(false),
            sentinel: Cell::new(ptr::null_mut()),
            keep_for_good: Cell::new(false),
        }
    }

    /// Whether the view holds a value that keeps its memory alive on its own.
    fn holds_its_own(&self) -> bool {
        self.keep.borrow().is_some()
    }

    /// Drops the value that kept the memory alive, if any.
    fn release(&self) {
        let kept = self.keep.borrow_mut().take();
        drop(kept);
    }

    fn delete_reference(&self, env: sys::napi_env) {
        delete(env, self.array_buffer.replace(ptr::null_mut()));
    }

    /// Lets the sentinel be collected: the view needs no check at shutdown any more.
    fn let_go_of_sentinel(&self, env: sys::napi_env) {
        delete(env, self.sentinel.replace(ptr::null_mut()));
    }

    /// Gives the view a sentinel: a one-byte external buffer, made just after the view and held
    /// until the view needs it no more, whose finalizer is the check at shutdown
    /// ([`sentinel_finalized`]). When a worker ends, Node detaches the `ArrayBuffer` of every
    /// external buffer still alive and calls its finalizer, newest first, whether or not the
    /// memory was moved into another `ArrayBuffer` first (one that may have been posted to a
    /// thread that lives on); so the sentinel's finalizer runs just before the view's, while the
    /// view's `ArrayBuffer` is as JS left it. (Node-API's cleanup hooks run after every buffer's.)
    fn watch_shutdown(self: &Rc<Self>, env: &Env) {
        static BYTE: [u8; 1] = [0];
        if !CHECK_AT_SHUTDOWN.get() {
            return;
        }
        let hint = Box::into_raw(Box::new(self.clone()));
        let mut buffer = ptr::null_mut();
        // SAFETY: the byte is static, and never written (nothing hands the sentinel to JS). The
        // finalizer takes `hint` back exactly once; Node-API takes it unless it refuses external
        // buffers, which it did not for the view just made.
        let status = unsafe {
            sys::napi_create_external_buffer(
                env.raw(),
                1,
                BYTE.as_ptr().cast_mut().cast(),
                Some(sentinel_finalized),
                hint.cast(),
                &mut buffer,
            )
        };
        if ok(status) {
            self.sentinel.set(reference(env, buffer, 1).unwrap_or(ptr::null_mut()));
        } else {
            values::clear_exception(env);
        }
    }
}

/// Deletes a reference unless it is null.
fn delete(env: sys::napi_env, reference: sys::napi_ref) {
    if !reference.is_null() {
        // SAFETY: every reference this module deletes was created in this environment, and is
        // deleted once: its holder has just taken it out (`Cell::replace`).
        unsafe { sys::napi_delete_reference(env, reference) };
    }
}

/// The finalizer of a view's sentinel ([`ViewRecord::watch_shutdown`]). Still held, the sentinel
/// was finalized because the environment shuts down: unless this module detached the view's
/// `ArrayBuffer`, or that `ArrayBuffer` is still attached, its memory may have moved out of reach
/// and is kept for good.
unsafe extern "C" fn sentinel_finalized(
    env: sys::napi_env,
    _data: *mut std::ffi::c_void,
    hint: *mut std::ffi::c_void,
) {
    // SAFETY: `hint` is the `Box<Rc<ViewRecord>>` leaked in `ViewRecord::watch_shutdown`; Node-API
    // calls this once.
    let record = unsafe { Box::from_raw(hint.cast::<Rc<ViewRecord>>()) };
    let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        let sentinel = record.sentinel.replace(ptr::null_mut());
        if sentinel.is_null() {
            return; // let go of: collected as garbage
        }
        delete(env, sentinel);
        if record.detached.get() || record.finalized.get() {
            return;
        }
        let env = Env::from_raw(env);
        let reference = record.array_buffer.get();
        let attached =
            !reference.is_null() && referent(&env, reference).is_some_and(|ab| !is_detached(&env, ab));
        record.keep_for_good.set(!attached);
    }));
}

/// The finalizer of an external buffer: drops its hold on the memory, unless that memory may still
/// show in an `ArrayBuffer` that outlives the view's environment ([`sentinel_finalized`]).
unsafe extern "C" fn finalize_view(
    env: sys::napi_env,
    _data: *mut std::ffi::c_void,
    hint: *mut std::ffi::c_void,
) {
    // SAFETY: `hint` is the `Box<Rc<ViewRecord>>` leaked in `Viewed::view_in_group`; Node-API calls
    // this once, when no ArrayBuffer holds the memory any more (or the environment goes away).
    let record = unsafe { Box::from_raw(hint.cast::<Rc<ViewRecord>>()) };
    if record.keep_for_good.get() {
        // Never finalized, to the listing: an owner without a value of its own never frees the
        // memory either (`detach_listed`).
        std::mem::forget(record);
        return;
    }
    // Never unwind into Node: what the view kept (a buffer clone, a frozen pooled block going back to
    // its pool) is dropped under `catch_unwind`.
    let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        record.finalized.set(true);
        record.let_go_of_sentinel(env);
        record.delete_reference(env);
        record.release();
    }));
}

/// A view handed out and not yet known to be collected.
struct LiveView {
    record: Rc<ViewRecord>,
    /// Whether the `ArrayBuffer` was found detached by someone else: its memory was moved into an
    /// `ArrayBuffer` this module does not know (see [`detach`]), which only the view's finalizer can
    /// tell is gone.
    moved: bool,
}

impl LiveView {
    /// Whether the view's finalizer ran: no `ArrayBuffer` holds its memory any more, moved or not.
    fn finalized(&self) -> bool {
        self.record.finalized.get()
    }
}

/// A native value and the views of its memory that JS holds. See the module docs.
pub(crate) struct Viewed<T: StableMemory> {
    value: Option<T>,
    /// The last view [`view_again`](Self::view_again) made, until a detach: given again while it
    /// shows the same bytes.
    last: Option<LastView>,
    /// The views, filed by who asked for them (see [`view_in_group`](Self::view_in_group); 0 for
    /// owners that are one JS object), so that freeing one of many sharers costs its own views only.
    /// No group is listed without views.
    views: HashMap<u64, Vec<LiveView>>,
    /// How many views are listed, in all groups.
    listed: usize,
    /// Prune collected views when there are this many.
    prune_at: usize,
}

impl<T: StableMemory> Viewed<T> {
    pub(crate) fn new(value: T) -> Self {
        Viewed { value: Some(value), last: None, views: HashMap::new(), listed: 0, prune_at: 16 }
    }

    /// Whether views may still be alive (some listed may have been collected since).
    pub(crate) fn has_views(&self) -> bool {
        self.listed > 0
    }

    /// The value, unless it was taken.
    pub(crate) fn get(&self) -> Option<&T> {
        self.value.as_ref()
    }

    pub(crate) fn get_mut(&mut self) -> Option<&mut T> {
        self.value.as_mut()
    }

    /// A `Buffer` over the bytes `pick` selects from the value (a copy for [`Bytes::Copied`], and where
    /// external buffers are not allowed); `Ok(None)` when there is no value or `pick` returns nothing.
    pub(crate) fn view(
        &mut self,
        env: &Env,
        pick: impl FnOnce(&mut T) -> Option<Bytes<'_>>,
    ) -> napi::Result<Option<Raw>> {
        self.make_view(env, 0, false, pick)
    }

    /// [`view`](Self::view), except that the last view this made is given again while it shows the
    /// same bytes (the same memory, the same length, not detached since): a ring side peeked at again
    /// and again before it publishes or takes bytes hands out one `Buffer`, not one each, which
    /// would each be kept until the next detach.
    pub(crate) fn view_again(
        &mut self,
        env: &Env,
        pick: impl FnOnce(&mut T) -> Option<Bytes<'_>>,
    ) -> napi::Result<Option<Raw>> {
        self.make_view(env, 0, true, pick)
    }

    /// [`view`](Self::view), for the JS object `group` stands for among several that share this
    /// value: [`detach_group`](Viewed::detach_group) detaches the views of one of them.
    pub(crate) fn view_in_group(
        &mut self,
        env: &Env,
        group: u64,
        pick: impl FnOnce(&mut T) -> Option<Bytes<'_>>,
    ) -> napi::Result<Option<Raw>> {
        self.make_view(env, group, false, pick)
    }

    /// A view of what `pick` picks, for `group`: the last one again if `again` and it still shows
    /// those bytes (see [`view_again`](Self::view_again)).
    fn make_view(
        &mut self,
        env: &Env,
        group: u64,
        again: bool,
        pick: impl FnOnce(&mut T) -> Option<Bytes<'_>>,
    ) -> napi::Result<Option<Raw>> {
        let external = external_buffers(env);
        if self.listed >= self.prune_at {
            self.prune(env);
        }
        let Some(value) = self.value.as_mut() else { return Ok(None) };
        let keep = value.keep_alive();
        let holds_its_own = keep.is_some();
        let (data, len, copy) = match pick(value) {
            None => return Ok(None),
            Some(Bytes::Shared(b)) => (b.as_ptr().cast_mut(), b.len(), false),
            Some(Bytes::Writable(b)) => (b.as_mut_ptr(), b.len(), false),
            Some(Bytes::Copied(b)) => (b.as_ptr().cast_mut(), b.len(), true),
        };
        if copy || len == 0 || !external {
            // SAFETY: `data..data + len` is the picked slice, alive for the length of this call.
            return unsafe { copy_buffer(env, data, len) }.map(Some);
        }
        if again {
            if let Some(last) = self.last.as_ref().and_then(|last| last.same(env, data as usize, len)) {
                return Ok(Some(Raw(last)));
            }
        }
        let record = Rc::new(ViewRecord::new(keep));
        let hint = Box::into_raw(Box::new(record.clone()));
        let mut buffer = ptr::null_mut();
        // SAFETY: `data..data + len` is the picked slice: allocated, and not moving, while the value
        // lives (`StableMemory`). The value is dropped only after this view's ArrayBuffer is detached
        // or its finalizer ran (`take`, `detach_views`, `detach_group`), or after the view holds a
        // clone of its own (`keep`); if neither can be ensured it is never dropped (`take`, `Drop`). The
        // finalizer takes `hint` back exactly once; on failure below nobody took it.
        let status = unsafe {
            sys::napi_create_external_buffer(
                env.raw(),
                len,
                data.cast(),
                Some(finalize_view),
                hint.cast(),
                &mut buffer,
            )
        };
        if status == sys::Status::napi_no_external_buffers_allowed {
            MODE.store(MODE_COPY, Ordering::Relaxed);
            // Node-API refuses this before it takes the finalizer (and its hint).
            // SAFETY: so `hint` is still ours, and nobody else frees it.
            drop(unsafe { Box::from_raw(hint) });
            // SAFETY: as for the copy above.
            return unsafe { copy_buffer(env, data, len) }.map(Some);
        }
        if !ok(status) {
            // Any other failure comes after Node took the finalizer: it has called it already (a
            // length over the runtime's largest Buffer), or calls it once the ArrayBuffer it made,
            // which JS never sees, is collected. So `hint` is not ours to free (freeing it here was a
            // double free), and the value's memory is never read through that ArrayBuffer.
            return Err(values::too_large(env, "a Buffer", len));
        }
        // A view whose memory nothing else keeps alive is held strongly: while it is listed its
        // ArrayBuffer cannot be collected, so a detach always finds it and sees whether someone
        // else moved its memory away (a collected one would leave that unknown). One that holds its
        // memory (`keep`) is held weakly, and JS may drop it at any time.
        let array_buffer = match array_buffer_of(env, buffer) {
            Some(array_buffer) => reference(env, array_buffer, if holds_its_own { 0 } else { 1 }),
            None => None,
        };
        record.watch_shutdown(env);
        let Some(array_buffer) = array_buffer else {
            // Without a reference the view could not be detached: the value must outlive it, and is
            // never dropped (`take`, `Drop`). The Buffer is not handed out.
            self.list(group, LiveView { record, moved: false });
            return Err(napi::Error::from_reason("could not track an external Buffer"));
        };
        record.array_buffer.set(array_buffer);
        self.list(group, LiveView { record, moved: false });
        if again {
            self.forget_last(env);
            // Weak: the view is listed (and detached) as any other; this only finds it again.
            self.last = reference(env, buffer, 0).map(|buffer| LastView { data: data as usize, len, buffer });
        }
        Ok(Some(Raw(buffer)))
    }

    /// Lets go of the last view [`view_again`](Self::view_again) made: its bytes are about to change
    /// hands, or it is detached.
    fn forget_last(&mut self, env: &Env) {
        if let Some(last) = self.last.take() {
            // SAFETY: the reference was created in this environment and is deleted only here.
            unsafe { sys::napi_delete_reference(env.raw(), last.buffer) };
        }
    }

    fn list(&mut self, group: u64, view: LiveView) {
        self.views.entry(group).or_default().push(view);
        self.listed += 1;
    }

    /// Detaches every view still alive, then hands the value out (`None` if it was taken before).
    pub(crate) fn take(&mut self, env: &Env) -> Option<T> {
        self.forget_last(env);
        if self.detach_views(env) {
            self.value.take()
        } else {
            // A view could not be detached: the value must outlive it, so it is never dropped.
            std::mem::forget(self.value.take());
            None
        }
    }

    /// Detaches every view still alive, keeping the value: before the value changes bytes a view
    /// shows, or lets another party (a ring's writer, another thread) change them. `false` if a
    /// view could not be detached (possible only while the JS environment shuts down): it is kept in
    /// the list, and the caller must leave the bytes alone.
    pub(crate) fn detach_views(&mut self, env: &Env) -> bool {
        self.forget_last(env);
        let mut all = true;
        let mut kept = 0;
        self.views.retain(|_, views| {
            all &= detach_listed(env, views);
            kept += views.len();
            !views.is_empty()
        });
        self.listed = kept;
        all
    }

    /// Detaches the views made for `group` (one JS object among the sharers of this value, which let
    /// go of its bytes), leaving the others' alone; `false` as for [`detach_views`](Self::detach_views).
    pub(crate) fn detach_group(&mut self, env: &Env, group: u64) -> bool {
        if group == 0 {
            self.forget_last(env);
        }
        let Some(views) = self.views.get_mut(&group) else { return true };
        let before = views.len();
        let all = detach_listed(env, views);
        self.listed -= before - views.len();
        if views.is_empty() {
            self.views.remove(&group);
        }
        all
    }

    /// Lets go of the value when its JS object is collected, leaving the views that are still alive
    /// valid: each gets a clone of `keep(value)` (unless it holds one already), which keeps the memory
    /// until the view's ArrayBuffer is collected too.
    pub(crate) fn hand_to_views<K: Any + Send + Clone>(&mut self, env: &Env, keep: impl FnOnce(T) -> K) {
        self.forget_last(env);
        let Some(value) = self.value.take() else { return };
        let keep = keep(value);
        self.listed = 0;
        for view in self.views.drain().flat_map(|(_, views)| views) {
            let mut slot = view.record.keep.borrow_mut();
            if slot.is_none() {
                *slot = Some(Box::new(keep.clone()));
                // The view holds its memory now: JS may drop it. (The record keeps the reference,
                // weak, for the check at shutdown; the finalizer deletes it.)
                weaken(env, view.record.array_buffer.get());
            }
        }
    }

    /// Forgets views whose ArrayBuffer JS has dropped (only views that hold their memory are held
    /// weakly, and such memory lives until the view's finalizer), and views whose finalizer ran.
    fn prune(&mut self, env: &Env) {
        let mut kept = 0;
        self.views.retain(|_, views| {
            views.retain(|view| {
                if view.finalized() {
                    return false;
                }
                let reference = view.record.array_buffer.get();
                if reference.is_null() || referent(env, reference).is_some() {
                    return true;
                }
                view.record.delete_reference(env.raw());
                false
            });
            kept += views.len();
            !views.is_empty()
        });
        self.listed = kept;
        self.prune_at = (kept * 2).max(16);
    }
}

impl<T: StableMemory> Drop for Viewed<T> {
    fn drop(&mut self) {
        // Reached without `take` only if the owner was dropped without its environment (it never is in
        // this crate); views might still show the memory, so it must not be freed.
        if self.listed > 0 {
            std::mem::forget(self.value.take());
        }
    }
}

/// The last view [`Viewed::view_again`] made: where its bytes are, and its `Buffer`, weakly.
struct LastView {
    data: usize,
    len: usize,
    buffer: sys::napi_ref,
}

impl LastView {
    /// The `Buffer`, if it is a view of `data..data + len` still: not collected, and not detached
    /// (by a detach this module made, or by someone who moved its memory: both leave it empty).
    fn same(&self, env: &Env, data: usize, len: usize) -> Option<sys::napi_value> {
        if (self.data, self.len) != (data, len) {
            return None;
        }
        referent(env, self.buffer).filter(|&buffer| values::byte_length(env, buffer) == Some(len))
    }
}

/// Detaches the listed `views` that are still alive, forgetting them and those JS dropped; `false`
/// if one could not be detached (possible only while the JS environment shuts down) or was moved out
/// of reach and may still be alive: it stays listed, and the caller must leave the bytes alone.
fn detach_listed(env: &Env, views: &mut Vec<LiveView>) -> bool {
    let mut all = true;
    views.retain_mut(|view| {
        if view.finalized() {
            // No ArrayBuffer holds the memory any more (Node also detaches the ArrayBuffers of
            // external buffers, and calls their finalizers, when its environment shuts down).
            return false;
        }
        if !view.record.array_buffer.get().is_null() && !view.moved {
            match detach(env, &view.record) {
                Detach::Detached => {
                    view.record.release();
                    return false;
                }
                // Only a view that holds its memory is held weakly: its finalizer lets go of it,
                // not this (its memory may have moved to an ArrayBuffer that still lives).
                Detach::Collected => return false,
                Detach::Moved => view.moved = true,
                Detach::Failed => {}
            }
        }
        // Still reachable. A view that holds memory of its own (a buffer clone) can be forgotten:
        // its memory lives until its finalizer lets go of it. Any other must stay, and the bytes
        // with it.
        let holds_its_own = view.record.holds_its_own();
        all &= holds_its_own;
        !holds_its_own
    });
    all
}

/// The `ArrayBuffer` under a `Buffer` just made.
fn array_buffer_of(env: &Env, buffer: sys::napi_value) -> Option<sys::napi_value> {
    let (mut kind, mut length, mut offset) = (0, 0, 0);
    let (mut data, mut array_buffer) = (ptr::null_mut(), ptr::null_mut());
    // SAFETY: `buffer` is a `Buffer` (a Uint8Array) of the current call; out-pointers are valid locals.
    let status = unsafe {
        sys::napi_get_typedarray_info(
            env.raw(),
            buffer,
            &mut kind,
            &mut length,
            &mut data,
            &mut array_buffer,
            &mut offset,
        )
    };
    (ok(status) && !array_buffer.is_null()).then_some(array_buffer)
}

/// A reference to `value`: weak for a `count` of 0, strong for 1.
fn reference(env: &Env, value: sys::napi_value, count: u32) -> Option<sys::napi_ref> {
    let mut reference = ptr::null_mut();
    // SAFETY: `value` is an object of the current call; `reference` is a valid out-pointer.
    let status = unsafe { sys::napi_create_reference(env.raw(), value, count, &mut reference) };
    (ok(status) && !reference.is_null()).then_some(reference)
}

/// Makes a strong reference (a count of 1) weak.
fn weaken(env: &Env, reference: sys::napi_ref) {
    if !reference.is_null() {
        let mut count = 0;
        // SAFETY: `reference` was created in this environment and not deleted; `count` is a valid
        // out-pointer.
        unsafe { sys::napi_reference_unref(env.raw(), reference, &mut count) };
    }
}

/// The object behind a weak reference, unless it was collected.
fn referent(env: &Env, reference: sys::napi_ref) -> Option<sys::napi_value> {
    let mut value = ptr::null_mut();
    // SAFETY: `reference` was created in this environment and not deleted.
    let status = unsafe { sys::napi_get_reference_value(env.raw(), reference, &mut value) };
    (ok(status) && !value.is_null()).then_some(value)
}

/// What [`detach`] did.
enum Detach {
    /// The `ArrayBuffer` was attached, and is detached now: JS cannot reach the memory through any
    /// `ArrayBuffer`. The reference is deleted.
    Detached,
    /// The `ArrayBuffer` was collected (only views that hold their memory are held weakly). The
    /// reference is deleted.
    Collected,
    /// The `ArrayBuffer` was detached by someone else: its memory was moved to a new `ArrayBuffer`
    /// (`transfer()`, a byte stream: js/addon-moves.mjs stops those it knows), which may still show
    /// it. The reference is kept.
    Moved,
    /// It could not be detached (the JS environment is shutting down). The reference is kept.
    Failed,
}

/// Detaches the view's `ArrayBuffer` and deletes the reference, unless it was moved away or could
/// not be detached.
fn detach(env: &Env, record: &ViewRecord) -> Detach {
    let outcome = match referent(env, record.array_buffer.get()) {
        None => Detach::Collected,
        // This module deletes the reference of every ArrayBuffer it detaches: one found detached
        // was detached by someone else.
        Some(array_buffer) if is_detached(env, array_buffer) => return Detach::Moved,
        // A stopping environment (a worker being terminated, whose finalizers still run) makes V8
        // refuse the detach, and Node 20's `napi_detach_arraybuffer` stops the process on that
        // refusal instead of returning it: ask first.
        Some(_) if !values::can_run_js(env) => return Detach::Failed,
        // SAFETY: `array_buffer` is the live `ArrayBuffer` of an external view, in this environment.
        // External array buffers are detachable (nothing but this module detaches them with a key).
        Some(array_buffer) if ok(unsafe { sys::napi_detach_arraybuffer(env.raw(), array_buffer) }) => {
            record.detached.set(true);
            record.let_go_of_sentinel(env.raw());
            Detach::Detached
        }
        Some(_) => return Detach::Failed,
    };
    record.delete_reference(env.raw());
    outcome
}

/// Whether an `ArrayBuffer` is detached (`false` if that cannot be told).
fn is_detached(env: &Env, array_buffer: sys::napi_value) -> bool {
    let mut detached = false;
    // SAFETY: `array_buffer` is a live `ArrayBuffer` of the current call; `detached` is a valid
    // out-pointer.
    let status = unsafe { sys::napi_is_detached_arraybuffer(env.raw(), array_buffer, &mut detached) };
    ok(status) && detached
}

/// A `Buffer` holding a copy of `len` bytes at `data`.
///
/// # Safety
/// `data..data + len` must be readable for the duration of the call.
unsafe fn copy_buffer(env: &Env, data: *const u8, len: usize) -> napi::Result<Raw> {
    let mut buffer = ptr::null_mut();
    let mut copy = ptr::null_mut();
    // SAFETY: the caller vouches for the source bytes; Node-API copies them into a new Buffer.
    let status = unsafe { sys::napi_create_buffer_copy(env.raw(), len, data.cast(), &mut copy, &mut buffer) };
    if ok(status) {
        Ok(Raw(buffer))
    } else {
        Err(values::too_large(env, "a Buffer", len))
    }
}

/// Native memory held by a JS object, reported to V8 (`napi_adjust_external_memory`) so that the
/// garbage collector weighs the object by it.
#[derive(Default)]
pub(crate) struct ExternalMemory {
    reported: i64,
}

impl ExternalMemory {
    /// Reports `bytes` as what the object holds now.
    pub(crate) fn set(&mut self, env: &Env, bytes: usize) {
        let bytes = i64::try_from(bytes).unwrap_or(i64::MAX);
        if bytes != self.reported && env.adjust_external_memory(bytes - self.reported).is_ok() {
            self.reported = bytes;
        }
    }

    /// Reports that the object holds nothing any more.
    pub(crate) fn clear(&mut self, env: &Env) {
        self.set(env, 0);
    }
}
