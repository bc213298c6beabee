//! The byte ring for JS: `Circular.withCapacity` makes the writer, `addReader()` makes readers.
//!
//! wasm has one linear memory and no way to map it twice, so rings use the mirror-copy backend. Two
//! builds of this module:
//! - **single-thread** (the default): slices are never views of wasm memory (through `.buffer` such a
//!   view reaches all of it, freed and reused memory too): a reader's slice is a copy of the unread
//!   bytes in the reader's staging memory in JS (`js/guard.mjs`, through `__sliceInto`, and the same
//!   copy again while `__showsUnread`); a writer's slice is a view of the writer's staging memory in
//!   JS as long as the free room, and the guard hands what JS wrote into it to `__produceFrom`, which
//!   copies it into the ring and publishes it. The guard keeps both as they would be over ring
//!   memory (js/index.d.ts, "Views"). Nothing blocks, and a side cannot
//!   leave its thread: each worker has its own wasm memory.
//! - **threaded** (`target_feature = "atomics"`, one shared memory for every thread, see
//!   `super::threads`): slices are views of the ring's memory, in place; `toHandle()` parks a side for
//!   another thread of the page, `fromHandle()` claims it there (in a custody that lets the handing
//!   thread end it should the claiming thread end holding it: `super::custody`), and `sliceSync()`
//!   blocks dedicated workers. The index protocol is the core's, as in the Node addon.
//!
//! `slice()` returns at once (empty when there is no room or data) and `sliceAsync()` returns a
//! Promise, woken from whichever thread changed the ring.

use std::cell::RefCell;
use std::future::{poll_fn, Future};
use std::pin::pin;
use std::rc::{Rc, Weak};
#[cfg(target_feature = "atomics")]
use std::sync::Arc;
use std::task::{Context, Poll, Waker};

use js_sys::{Reflect, Uint8Array};
use wasm_bindgen::prelude::*;

use super::buffer::{bytes_from_js, length_up_to_max};
#[cfg(target_feature = "atomics")]
use super::custody::Custody;
use super::error::{choice_option, offset, throwable, type_error, used_up, value};
#[cfg(target_feature = "atomics")]
use super::threads::{self, Handed};
use crate::binding::{self, message, Registration, WaitSide, Waiters};
use crate::ring::asynchronous::{Circular, Reader, Writer};
use crate::ring::{RingBackend, RingError, RingOptions};

fn ring_error(e: RingError) -> JsValue {
    throwable(e.into())
}

/// `take(n)` (a side's `try_produce` or `try_consume`) of `n` bytes as JS passed the number. Past
/// wasm32's `usize` that is more than any ring holds: `take(usize::MAX)` refuses it, and the error
/// names the count asked for, as the addon's does.
fn count<T>(n: u64, take: impl FnOnce(usize) -> Result<T, RingError>) -> Result<T, JsValue> {
    let Ok(fits) = usize::try_from(n) else {
        return Err(throwable(match take(usize::MAX) {
            Err(RingError::ProduceTooMuch { free, .. }) => message::produce_too_much(n, free),
            Err(RingError::ConsumeTooMuch { available, .. }) => message::consume_too_much(n, available),
            Err(e) => e.into(),
            // Never: no ring holds `usize::MAX` bytes.
            Ok(_) => message::cannot_allocate(n),
        }));
    };
    take(fits).map_err(ring_error)
}

/// What `js/wasm-node.mjs` passes as `here` to `sliceSync()` in a worker and to `toHandle()` and
/// `fromHandle()`: in Node, where the addon would serve the call.
#[cfg(not(target_feature = "atomics"))]
const IN_NODE: &str = "node";

/// Why the single-thread build's `toHandle()`/`fromHandle()` throw: in Node (`here` is [`IN_NODE`]),
/// that the addon's rings cross threads; else what the threaded browser build needs.
#[cfg(not(target_feature = "atomics"))]
fn no_threads(what: &str, here: &JsValue) -> JsValue {
    match here.as_string().as_deref() {
        Some(IN_NODE) => throwable(message::no_handles_in_node(what)),
        _ => throwable(message::no_threads(what)),
    }
}

/// Why the single-thread build's `sliceSync()` throws: where the caller says the thread must not
/// block (`js/wasm-node.mjs` on Node's main thread, as the addon is told), the addon's words for it;
/// in a Node worker ([`IN_NODE`]), that the addon's `sliceSync()` blocks there; else that this build
/// never blocks.
#[cfg(not(target_feature = "atomics"))]
fn no_blocking(class: &str, here: &JsValue) -> JsValue {
    match here.as_string().as_deref() {
        Some(IN_NODE) => throwable(message::never_blocks_in_node(class)),
        Some(here) => throwable(message::no_blocking(class, here)),
        None => throwable(message::never_blocks(class)),
    }
}

/// One side of a ring, shared with the futures of its pending `sliceAsync`s.
struct Side<T> {
    /// `None` once freed or moved to a handle.
    value: Option<T>,
    /// What happened to `value` once it is `None`: "freed" or "moved to a handle".
    gone: &'static str,
    /// Wakers of pending `sliceAsync`s, woken when the side is freed so that their Promises settle.
    waiting: Waiters,
    /// A side claimed from a handle, or made by a watched worker: its custody, released when the side
    /// is freed or moved on.
    #[cfg(target_feature = "atomics")]
    custody: Option<Arc<Custody>>,
}

type Shared<T> = Rc<RefCell<Side<T>>>;

fn shared<T>(value: T) -> Shared<T> {
    Rc::new(RefCell::new(Side {
        value: Some(value),
        gone: "freed",
        waiting: Waiters::default(),
        #[cfg(target_feature = "atomics")]
        custody: None,
    }))
}

/// A side claimed from a handle, in the custody the handle came with.
#[cfg(target_feature = "atomics")]
fn claimed<T>(value: T, custody: Arc<Custody>) -> Shared<T> {
    let side = shared(value);
    side.borrow_mut().custody = Some(custody);
    side
}

/// A writer this thread just made: in the threaded build, in a custody of its own where a worker's
/// end must end it (`threads::custody_of_new_side`), as a side claimed from a handle is.
fn new_writer(writer: Writer<u8>) -> Result<Shared<Writer<u8>>, JsValue> {
    #[cfg(target_feature = "atomics")]
    if let Some(custody) = threads::custody_of_new_side(writer.orphan())? {
        return Ok(claimed(writer, custody));
    }
    Ok(shared(writer))
}

/// A reader this thread just added: as [`new_writer`].
fn new_reader(reader: Reader<u8>) -> Result<Shared<Reader<u8>>, JsValue> {
    #[cfg(target_feature = "atomics")]
    if let Some(custody) = threads::custody_of_new_side(reader.orphan())? {
        return Ok(claimed(reader, custody));
    }
    Ok(shared(reader))
}

/// Takes the value out of a side, settles its pending Promises, and ends the value with `end` (a
/// writer dropped ends the stream for its readers, a reader dropped holds nothing back); then
/// releases the side's custody, if it has one.
fn close<T>(side: &Shared<T>, end: impl FnOnce(T)) {
    let Ok(mut side) = side.try_borrow_mut() else { return };
    side.waiting.wake_all();
    let value = side.value.take();
    #[cfg(target_feature = "atomics")]
    let custody = side.custody.take();
    drop(side); // `end` may wake tasks of this side's waits, which borrow it
    if let Some(value) = value {
        end(value);
    }
    #[cfg(target_feature = "atomics")]
    if let Some(custody) = custody {
        custody.release();
    }
}

/// Takes the value out of a side for a handle; the side's pending Promises reject as they would on
/// `free()`, and later calls say where the value went.
#[cfg(target_feature = "atomics")]
fn take<T>(side: &Shared<T>, class: &str) -> Result<T, JsValue> {
    let mut side = side.try_borrow_mut().map_err(|_| used_up(class, "freed"))?;
    let gone = side.gone;
    let value = side.value.take().ok_or_else(|| used_up(class, gone))?;
    side.gone = "moved to a handle";
    side.waiting.wake_all();
    if let Some(custody) = side.custody.take() {
        custody.release(); // the new handle has a custody of its own
    }
    Ok(value)
}

/// A ring side whose waits can be given up.
trait RingSide: 'static {
    fn forget_waker(&self, waker: &Waker);
}

impl RingSide for Writer<u8> {
    fn forget_waker(&self, waker: &Waker) {
        Writer::forget_waker(self, waker);
    }
}

impl RingSide for Reader<u8> {
    fn forget_waker(&self, waker: &Waker) {
        Reader::forget_waker(self, waker);
    }
}

/// A pending `sliceAsync()` registers with its side through the binding core's [`Registration`].
impl<T: RingSide> WaitSide for Side<T> {
    fn waiters(&mut self) -> &mut Waiters {
        &mut self.waiting
    }

    fn forget_waker(&self, waker: &Waker) {
        if let Some(value) = self.value.as_ref() {
            value.forget_waker(waker);
        }
    }
}

/// A Promise of `slice(side, cx)` once it is ready (or the side is freed), cancellable through
/// `ticket` (see `super::wait`).
fn slice_async<T: RingSide>(
    side: Weak<RefCell<Side<T>>>,
    class: &'static str,
    ticket: &JsValue,
    mut slice: impl FnMut(&mut T, &mut Context<'_>) -> Poll<JsValue> + 'static,
) -> js_sys::Promise {
    // Dropped with the wait (settled, or cancelled by `__cancelWait`), it takes the waker out of the
    // side and the ring.
    let mut registration = Registration::new(side);
    super::wait::spawn(ticket, async move {
        poll_fn(|cx| {
            let outcome = registration.poll(cx, |side, cx| match side.value.as_mut() {
                Some(value) => slice(value, cx).map(Ok),
                None => Poll::Ready(Err(used_up(class, side.gone))),
            });
            outcome.unwrap_or_else(|| Poll::Ready(Err(used_up(class, "freed"))))
        })
        .await
    })
}

/// The writer's free room as JS sees it: single-thread, its length (0 when there is none), for
/// `js/guard.mjs` to hand out a view of that length over the writer's own staging memory in JS;
/// threaded, a view of the room itself.
fn room(room: &mut [u8]) -> JsValue {
    #[cfg(target_feature = "atomics")]
    return threads::view(room).into();
    #[cfg(not(target_feature = "atomics"))]
    JsValue::from(room.len() as f64)
}

/// A reader's unread bytes as JS sees them: single-thread, a copy; threaded, a view in place.
fn unread(data: &[u8]) -> JsValue {
    #[cfg(target_feature = "atomics")]
    return threads::view(data).into();
    #[cfg(not(target_feature = "atomics"))]
    Uint8Array::from(data).into()
}

fn writer_slice(writer: &mut Writer<u8>, cx: &mut Context<'_>) -> Poll<JsValue> {
    pin!(writer.slice()).poll(cx).map(room)
}

/// A reader's unread bytes (see [`unread`]), `null` at the end of the stream.
fn reader_slice(reader: &mut Reader<u8>, cx: &mut Context<'_>) -> Poll<JsValue> {
    pin!(reader.slice()).poll(cx).map(|data| data.map_or(JsValue::NULL, unread))
}

/// Makes rings: one writer, any number of readers.
#[wasm_bindgen(js_name = Circular)]
pub struct JsCircular;

#[wasm_bindgen(js_class = Circular)]
impl JsCircular {
    /// Not public: `Circular.withCapacity()` makes rings.
    #[wasm_bindgen(constructor)]
    pub fn new() -> Result<JsCircular, JsValue> {
        Err(throwable(message::no_constructor("Circular")))
    }

    /// The writer of a new byte ring of at least `capacity` bytes. `options.backend` may ask for
    /// `"mirror-copy"` (the only one in wasm).
    #[wasm_bindgen(js_name = withCapacity)]
    pub fn with_capacity(capacity: &JsValue, options: &JsValue) -> Result<JsCircularWriter, JsValue> {
        // The options' types before the capacity's size, as in the addon.
        let capacity = binding::capacity_number(value(capacity), "capacity").map_err(throwable)?;
        let mut ring = RingOptions::default();
        if !options.is_undefined() && !options.is_null() {
            if !options.is_object() {
                return Err(throwable(message::ring_options_not_object(value(options))));
            }
            ring = match choice_option(options, "backend", &binding::RING_BACKENDS)? {
                Some("double-mapped") => ring.backend(RingBackend::DoubleMapped),
                Some(_) => ring.backend(RingBackend::MirrorCopy),
                None => ring,
            };
        }
        // Past wasm32's usize: too large, as a ring the memory cannot give is.
        let capacity = usize::try_from(capacity).map_err(|_| throwable(message::ring_too_large(capacity)))?;
        let writer = Circular::with_options::<u8>(capacity, &ring).map_err(ring_error)?;
        Ok(JsCircularWriter { side: new_writer(writer)? })
    }

    /// Whether ring memory can be double-mapped here: never in wasm.
    #[wasm_bindgen(js_name = doubleMappingAvailable)]
    pub fn double_mapping_available() -> bool {
        crate::ring::double_mapping_available()
    }
}

/// The one writer of a byte ring.
#[wasm_bindgen(js_name = CircularWriter)]
pub struct JsCircularWriter {
    side: Shared<Writer<u8>>,
}

impl JsCircularWriter {
    fn with<R>(&self, f: impl FnOnce(&mut Writer<u8>) -> Result<R, JsValue>) -> Result<R, JsValue> {
        let mut side = self.side.borrow_mut();
        let gone = side.gone;
        f(side.value.as_mut().ok_or_else(|| used_up("CircularWriter", gone))?)
    }
}

impl Drop for JsCircularWriter {
    /// `free()` ended the stream before (js/guard.mjs calls `__end` first), so a writer still here is
    /// dropped by a finalizer: it was lost, neither freed nor aborted.
    fn drop(&mut self) {
        close(&self.side, |writer| writer.abort(message::LOST_WRITER));
    }
}

#[wasm_bindgen(js_class = CircularWriter)]
impl JsCircularWriter {
    /// Not public: `Circular.withCapacity()` makes writers.
    #[wasm_bindgen(constructor)]
    pub fn new() -> Result<JsCircularWriter, JsValue> {
        Err(throwable(message::no_constructor("CircularWriter")))
    }

    /// The capacity in bytes.
    #[wasm_bindgen(getter)]
    pub fn capacity(&self) -> Result<usize, JsValue> {
        self.with(|w| Ok(w.capacity()))
    }

    /// The memory under the ring: `"mirror-copy"`.
    #[wasm_bindgen(getter)]
    pub fn backend(&self) -> Result<String, JsValue> {
        self.with(|w| Ok(w.backend().to_string()))
    }

    /// A new reader, which sees what is produced from now on.
    #[wasm_bindgen(js_name = addReader)]
    pub fn add_reader(&self) -> Result<JsCircularReader, JsValue> {
        self.with(|w| Ok(JsCircularReader { side: new_reader(w.add_reader())? }))
    }

    /// The free room (single-thread: its length; threaded: a view of it), empty when the slowest
    /// reader is a whole ring behind. Returns at once.
    pub fn slice(&self) -> Result<JsValue, JsValue> {
        self.with(|w| Ok(room(w.try_slice())))
    }

    /// Single-thread: throws, that build never blocks (`here`: see `no_blocking`). Threaded:
    /// `slice()` once there is room, blocking this dedicated worker until then (or until
    /// `timeoutMs`: then the slice is empty).
    #[wasm_bindgen(js_name = sliceSync)]
    pub fn slice_sync(&self, timeout_ms: &JsValue, here: &JsValue) -> Result<JsValue, JsValue> {
        #[cfg(not(target_feature = "atomics"))]
        {
            // A side gone says so first, as in every member.
            let _ = timeout_ms;
            self.with(|_| Ok(()))?;
            Err(no_blocking("CircularWriter", here))
        }
        #[cfg(target_feature = "atomics")]
        {
            // The thread says itself whether it may block (`threads::cannot_block`).
            let _ = here;
            self.with(|w| {
                if let Some(here) = threads::cannot_block() {
                    return Err(throwable(message::blocks_in_workers_only("CircularWriter", here)));
                }
                let deadline = threads::deadline(timeout_ms)?;
                let waited = crate::binding::block_on(w.slice(), deadline).is_some();
                Ok(room(if waited { w.try_slice() } else { &mut [] }))
            })
        }
    }

    /// A Promise of `slice()` once there is room.
    #[wasm_bindgen(js_name = sliceAsync)]
    pub fn slice_async(&self, ticket: &JsValue) -> js_sys::Promise {
        slice_async(Rc::downgrade(&self.side), "CircularWriter", ticket, writer_slice)
    }

    /// Publishes the next `n` free bytes as they are to the readers; `RangeError` if more than are
    /// free. (`js/guard.mjs` calls `__produceFrom` instead when a slice was handed out.)
    pub fn produce(&self, n: &JsValue) -> Result<(), JsValue> {
        // The side first, its arguments then (in every member): a side moved to a handle says so.
        self.with(|w| count(offset(n, "n")?, |n| w.try_produce(n)))
    }

    /// `produce(n)` for the threaded build's guard, in plain numbers (a `Result` reaches JS as an
    /// array, a `&JsValue` through the glue's table): 0 when published, -1 where `produce(n)` would
    /// throw (nothing changed; the guard then calls it for the error).
    #[cfg(target_feature = "atomics")]
    #[wasm_bindgen(js_name = __produceRaw)]
    pub fn produce_raw(&self, n: u32) -> i32 {
        self.with(|w| Ok(w.try_produce(n as usize).map_or(-1, |()| 0))).unwrap_or(-1)
    }

    /// Copies `bytes` (what JS wrote into the last slice, as the guard copied it out) into the free
    /// room and publishes the first `n` bytes of the room; `RangeError`, and nothing written, if `n`
    /// is more than is free.
    #[wasm_bindgen(js_name = __produceFrom)]
    pub fn produce_from(&self, n: &JsValue, bytes: &JsValue) -> Result<(), JsValue> {
        self.with(|w| {
            let n = offset(n, "n")?;
            // Straight from the JS array into the room: no copy in between.
            let bytes: &Uint8Array =
                bytes.dyn_ref().ok_or_else(|| throwable(message::not_bytes("bytes", value(bytes))))?;
            count(n, |n| {
                if let Poll::Ready(room) = pin!(w.slice()).poll(&mut Context::from_waker(Waker::noop())) {
                    let copied = length_up_to_max(bytes).min(n).min(room.len());
                    bytes.subarray(0, copied as u32).copy_to(&mut room[..copied]);
                }
                w.try_produce(n)
            })
        })
    }

    /// Copies as much of `bytes` as there is room for now into the ring and publishes it; returns how
    /// many bytes that was (0 when the ring is full).
    pub fn write(&self, bytes: &JsValue) -> Result<usize, JsValue> {
        self.with(|w| {
            // Straight from the JS array into the room: a copy of the whole array first would cost as
            // much as the array however little fits, and a stream writing a large chunk into a small
            // ring a bit at a time would copy it over and over (and keep wasm memory that large).
            if let Some(array) = bytes.dyn_ref::<Uint8Array>() {
                return Ok(w.push_with(length_up_to_max(array), |room| {
                    array.subarray(0, room.len() as u32).copy_to(room)
                }));
            }
            Ok(w.push_slice(&bytes_from_js(bytes, "bytes")?.0))
        })
    }

    /// How many bytes `write()` would take now (for `js/guard.mjs`, which encodes only that much of
    /// a long string).
    #[wasm_bindgen(js_name = __room)]
    pub fn room(&self) -> Result<f64, JsValue> {
        self.with(|w| Ok(w.free_slots() as f64))
    }

    /// What `free()` does first (js/guard.mjs): ends the stream normally, so that only a finalizer
    /// drops a writer that is still here.
    #[wasm_bindgen(js_name = __end)]
    pub fn end(&self) {
        close(&self.side, drop);
    }

    /// Ends the stream with an error and frees the writer: readers read what was published, and
    /// where the end would be, their `abortReason` gives `reason` (a string, an Error's message, or
    /// "no reason given"), and their streams error.
    pub fn abort(&self, reason: &JsValue) -> Result<(), JsValue> {
        self.with(|_| Ok(()))?;
        let reason = binding::abort_reason(value(reason), reason.as_string()).map_err(throwable)?;
        close(&self.side, |writer| writer.abort(&reason));
        Ok(())
    }

    /// Threaded: moves the writer into a handle that `postMessage` can carry to another thread of
    /// the page (it holds the module and the shared memory too), where `init(handle)` and then
    /// `CircularWriter.fromHandle(handle)` take it back; this object cannot be used after.
    /// Single-thread: throws, saying what the threaded build needs (`here`: see `no_threads`).
    #[wasm_bindgen(js_name = toHandle)]
    pub fn to_handle(&self, here: &JsValue) -> Result<JsValue, JsValue> {
        #[cfg(not(target_feature = "atomics"))]
        return Err(no_threads("CircularWriter.toHandle()", here));
        #[cfg(target_feature = "atomics")]
        {
            let _ = here;
            let place = threads::Place::new(self.with(|w| Ok(w.orphan()))?)?;
            Ok(place.park(Handed::Writer(take(&self.side, "CircularWriter")?), "CircularWriter"))
        }
    }

    /// The writer a handle carries; each handle can be claimed once (threaded build only; the
    /// single-thread build throws, `here` as for `toHandle`).
    #[wasm_bindgen(js_name = fromHandle)]
    pub fn from_handle(handle: &JsValue, here: &JsValue) -> Result<JsCircularWriter, JsValue> {
        #[cfg(not(target_feature = "atomics"))]
        {
            let _ = handle;
            Err(no_threads("CircularWriter.fromHandle()", here))
        }
        #[cfg(target_feature = "atomics")]
        {
            let _ = here;
            match threads::claim(handle, "CircularWriter")? {
                (Handed::Writer(writer), custody) => Ok(JsCircularWriter { side: claimed(writer, custody) }),
                (Handed::Reader(_), _) => Err(throwable(message::handle_gone())),
            }
        }
    }
}

/// One reader of a byte ring.
#[wasm_bindgen(js_name = CircularReader)]
pub struct JsCircularReader {
    side: Shared<Reader<u8>>,
}

impl JsCircularReader {
    fn with<R>(&self, f: impl FnOnce(&mut Reader<u8>) -> Result<R, JsValue>) -> Result<R, JsValue> {
        let mut side = self.side.borrow_mut();
        let gone = side.gone;
        f(side.value.as_mut().ok_or_else(|| used_up("CircularReader", gone))?)
    }
}

impl Drop for JsCircularReader {
    fn drop(&mut self) {
        close(&self.side, drop);
    }
}

#[wasm_bindgen(js_class = CircularReader)]
impl JsCircularReader {
    /// Not public: `CircularWriter.addReader()` makes readers.
    #[wasm_bindgen(constructor)]
    pub fn new() -> Result<JsCircularReader, JsValue> {
        Err(throwable(message::no_constructor("CircularReader")))
    }

    /// A copy of the unread bytes (empty when there are none yet), or `null` once
    /// the writer is gone and everything was read. Returns at once.
    pub fn slice(&self) -> Result<JsValue, JsValue> {
        self.with(|reader| Ok(reader.try_slice().map_or(JsValue::NULL, unread)))
    }

    /// What `js/guard.mjs` makes `slice()` of: copies the unread bytes into `target` (a `Uint8Array`
    /// the guard made over the reader's staging memory) when they fit, and returns how many there
    /// are (the guard grows its memory and asks again when they did not fit), or `null` once the
    /// writer is gone and everything was read.
    #[wasm_bindgen(js_name = __sliceInto)]
    pub fn slice_into(&self, target: &JsValue) -> Result<JsValue, JsValue> {
        self.with(|reader| {
            let target: &Uint8Array =
                target.dyn_ref().ok_or_else(|| type_error("target must be a Uint8Array"))?;
            let Some(data) = reader.try_slice() else { return Ok(JsValue::NULL) };
            let n = data.len();
            if n > 0 && n <= target.length() as usize {
                target.subarray(0, n as u32).copy_from(data);
            }
            Ok(JsValue::from(n as f64))
        })
    }

    /// Whether `target` (a slice `js/guard.mjs` handed out before, with nothing consumed since) still
    /// shows exactly the unread bytes: then the guard gives it again instead of a new copy, which
    /// would detach it (so two waits settled together get the same slice, as over ring memory). A
    /// slice the program wrote into, or one that more bytes arrived after, does not.
    #[wasm_bindgen(js_name = __showsUnread)]
    pub fn shows_unread(&self, target: &JsValue) -> Result<bool, JsValue> {
        self.with(|reader| {
            let target: &Uint8Array =
                target.dyn_ref().ok_or_else(|| type_error("target must be a Uint8Array"))?;
            let Some(data) = reader.try_slice() else { return Ok(false) };
            if data.is_empty() || data.len() != target.length() as usize {
                return Ok(false);
            }
            // Piece by piece through a buffer on the stack: no copy of the whole slice in wasm memory.
            let mut piece = [0u8; 4096];
            for (i, chunk) in data.chunks(piece.len()).enumerate() {
                let start = (i * piece.len()) as u32;
                let seen = &mut piece[..chunk.len()];
                target.subarray(start, start + chunk.len() as u32).copy_to(seen);
                if seen != chunk {
                    return Ok(false);
                }
            }
            Ok(true)
        })
    }

    /// A copy of the unread bytes, `max` at most (all of them without it), consumed: a
    /// `Uint8Array` of its own (in both builds), empty when there are none yet, or `null` once the
    /// writer is gone and everything was read.
    pub fn read(&self, max: &JsValue) -> Result<JsValue, JsValue> {
        self.with(|reader| {
            // An upper bound: any offset, as in the addon, however much less wasm memory holds.
            let max = if max.is_undefined() || max.is_null() {
                usize::MAX
            } else {
                crate::binding::limit(super::error::value(max), "max").map_err(throwable)?
            };
            let Some(data) = reader.try_slice() else { return Ok(JsValue::NULL) };
            let n = data.len().min(max);
            let copy = Uint8Array::from(&data[..n]);
            reader.try_consume(n).map_err(ring_error)?;
            Ok(copy.into())
        })
    }

    /// Copies up to `target.length` unread bytes into `target` (`js/guard.mjs` makes it a fresh
    /// `Uint8Array` over the memory of any typed array, `DataView` or `ArrayBuffer`) from its start
    /// and consumes them; returns how many: 0 when there are none yet (or `target` is empty), -1 once
    /// the writer is gone and everything was read.
    #[wasm_bindgen(js_name = readInto)]
    pub fn read_into(&self, target: &JsValue) -> Result<f64, JsValue> {
        self.with(|reader| {
            let target: &Uint8Array = target
                .dyn_ref()
                .ok_or_else(|| throwable(message::not_writable_bytes("target", value(target))))?;
            let Some(data) = reader.try_slice() else { return Ok(-1.0) };
            let n = data.len().min(length_up_to_max(target));
            if n == 0 {
                return Ok(0.0);
            }
            target.subarray(0, n as u32).copy_from(&data[..n]);
            reader.try_consume(n).map_err(ring_error)?;
            Ok(n as f64)
        })
    }

    /// Single-thread: throws, that build never blocks (`here`: see `no_blocking`). Threaded:
    /// `slice()` once there is data or the end, blocking this dedicated worker until then (or until
    /// `timeoutMs`: then the slice is empty).
    #[wasm_bindgen(js_name = sliceSync)]
    pub fn slice_sync(&self, timeout_ms: &JsValue, here: &JsValue) -> Result<JsValue, JsValue> {
        #[cfg(not(target_feature = "atomics"))]
        {
            // A side gone says so first, as in every member.
            let _ = timeout_ms;
            self.with(|_| Ok(()))?;
            Err(no_blocking("CircularReader", here))
        }
        #[cfg(target_feature = "atomics")]
        {
            // The thread says itself whether it may block (`threads::cannot_block`).
            let _ = here;
            self.with(|r| {
                if let Some(here) = threads::cannot_block() {
                    return Err(throwable(message::blocks_in_workers_only("CircularReader", here)));
                }
                let deadline = threads::deadline(timeout_ms)?;
                if crate::binding::block_on(r.slice(), deadline).is_none() {
                    return Ok(Uint8Array::new_with_length(0).into());
                }
                Ok(r.try_slice().map_or(JsValue::NULL, unread))
            })
        }
    }

    /// A Promise of `slice()` once there is data (or `null` at the end). A ticket with `bare: true`
    /// (set by `js/waits.mjs` for the stream forms, which read with `readInto()`, and by
    /// `js/guard.mjs`, which copies into the reader's staging memory) settles with `true` instead of
    /// data, without copying the unread bytes for a slice nobody takes.
    #[wasm_bindgen(js_name = sliceAsync)]
    pub fn slice_async(&self, ticket: &JsValue) -> js_sys::Promise {
        let side = Rc::downgrade(&self.side);
        // A plain object the JS layer made: reading a property cannot throw.
        let bare = ticket.is_object()
            && Reflect::get(ticket, &"bare".into()).ok().and_then(|b| b.as_bool()).unwrap_or(false);
        if bare {
            let ready = |reader: &mut Reader<u8>, cx: &mut Context<'_>| {
                pin!(reader.slice())
                    .poll(cx)
                    .map(|data| if data.is_some() { JsValue::TRUE } else { JsValue::NULL })
            };
            return slice_async(side, "CircularReader", ticket, ready);
        }
        slice_async(side, "CircularReader", ticket, reader_slice)
    }

    /// Why the writer aborted (`CircularWriter.abort()`), once it has: `null` while it writes and
    /// after a normal end. Where `slice()` and `read()` give `null`, it tells an aborted stream from
    /// a finished one.
    #[wasm_bindgen(getter, js_name = abortReason)]
    pub fn abort_reason(&self) -> Result<JsValue, JsValue> {
        // `null`, not the `undefined` an `Option` would become.
        self.with(|r| Ok(r.abort_reason().map_or(JsValue::NULL, JsValue::from_str)))
    }

    /// Marks the first `n` bytes of the slice as read; `RangeError` if more than are available.
    pub fn consume(&self, n: &JsValue) -> Result<(), JsValue> {
        self.with(|reader| count(offset(n, "n")?, |n| reader.try_consume(n)))
    }

    /// For `js/worklet.mjs`'s `readInto()`, which must not allocate: where the unread bytes start in
    /// the shared memory (0 when there are none). Plain numbers in and out: a `Result` would reach
    /// JS as an array.
    #[cfg(target_feature = "atomics")]
    #[wasm_bindgen(js_name = __unreadOffset)]
    pub fn unread_offset(&self) -> u32 {
        self.with(|r| Ok(r.try_slice().map_or(0, |data| data.as_ptr() as usize as u32))).unwrap_or(0)
    }

    /// For `readInto()`: how many unread bytes `__unreadOffset()` starts, -1 at the end of the
    /// stream, -2 when this reader was freed or moved.
    #[cfg(target_feature = "atomics")]
    #[wasm_bindgen(js_name = __unreadLength)]
    pub fn unread_length(&self) -> i32 {
        let length = |r: &mut Reader<u8>| {
            Ok(r.try_slice().map_or(-1, |data| data.len().min(i32::MAX as usize) as i32))
        };
        self.with(length).unwrap_or(-2)
    }

    /// For `readInto()` and the threaded build's guard: `consume(n)`, returning 0, or -1 where
    /// `consume(n)` would throw (nothing changed).
    #[cfg(target_feature = "atomics")]
    #[wasm_bindgen(js_name = __consumeRaw)]
    pub fn consume_raw(&self, n: u32) -> i32 {
        self.with(|r| Ok(r.try_consume(n as usize).map_or(-1, |()| 0))).unwrap_or(-1)
    }

    /// Threaded: moves the reader into a handle for another thread of the page (see
    /// `CircularWriter.toHandle`). Until claimed, it holds the writer back like any reader; this
    /// object cannot be used after. Single-thread: throws, saying what the threaded build needs
    /// (`here`: see `no_threads`).
    #[wasm_bindgen(js_name = toHandle)]
    pub fn to_handle(&self, here: &JsValue) -> Result<JsValue, JsValue> {
        #[cfg(not(target_feature = "atomics"))]
        return Err(no_threads("CircularReader.toHandle()", here));
        #[cfg(target_feature = "atomics")]
        {
            let _ = here;
            let place = threads::Place::new(self.with(|r| Ok(r.orphan()))?)?;
            Ok(place.park(Handed::Reader(take(&self.side, "CircularReader")?), "CircularReader"))
        }
    }

    /// The reader a handle carries; each handle can be claimed once (threaded build only; the
    /// single-thread build throws, `here` as for `toHandle`).
    #[wasm_bindgen(js_name = fromHandle)]
    pub fn from_handle(handle: &JsValue, here: &JsValue) -> Result<JsCircularReader, JsValue> {
        #[cfg(not(target_feature = "atomics"))]
        {
            let _ = handle;
            Err(no_threads("CircularReader.fromHandle()", here))
        }
        #[cfg(target_feature = "atomics")]
        {
            let _ = here;
            match threads::claim(handle, "CircularReader")? {
                (Handed::Reader(reader), custody) => Ok(JsCircularReader { side: claimed(reader, custody) }),
                (Handed::Writer(_), _) => Err(throwable(message::handle_gone())),
            }
        }
    }
}
