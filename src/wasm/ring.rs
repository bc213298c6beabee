//! The byte ring for JS: `Circular.withCapacity` makes the writer, `addReader()` makes readers.
//!
//! wasm has one linear memory and no way to map it twice, so rings use the mirror-copy backend. Slices
//! are never views of wasm memory (through `.buffer` such a view reaches all of it, freed and reused
//! memory too): a reader's slice is a copy of the unread bytes in a fresh `ArrayBuffer`; a writer's
//! slice is a view of the writer's staging memory in JS (`js/guard.mjs`) as long as the free room,
//! and the guard hands what JS wrote into it to `__produceFrom`, which copies it into the ring and
//! publishes it. Nothing blocks: `slice()` returns at once (empty when there is no room or data)
//! and `sliceAsync()` returns a Promise. `sliceSync()` and the handles that move a side to another
//! thread exist for the Node addon's sake and throw here: each worker has its own wasm memory.

use std::cell::RefCell;
use std::future::{poll_fn, Future};
use std::pin::pin;
use std::rc::{Rc, Weak};
use std::task::{Context, Poll, Waker};

use js_sys::{Reflect, Uint8Array};
use wasm_bindgen::prelude::*;

use super::buffer::bytes_from_js;
use super::error::{error, index, throwable, type_error, used_up};
use crate::binding::message;
use crate::ring::asynchronous::{Circular, Reader, Writer};
use crate::ring::{RingBackend, RingError, RingOptions};

fn ring_error(e: RingError) -> JsValue {
    throwable(e.into())
}

fn no_threads(what: &str) -> JsValue {
    error(format!(
        "{what} is not available in the wasm build: each worker has its own wasm memory, so a ring \
         cannot cross threads (the Node addon can)"
    ))
}

fn no_blocking(class: &str) -> JsValue {
    error(format!("{class}.sliceSync(): the wasm build never blocks; use sliceAsync()"))
}

/// One side of a ring, shared with the futures of its pending `sliceAsync`s.
struct Side<T> {
    /// `None` once freed.
    value: Option<T>,
    /// Wakers of pending `sliceAsync`s, woken when the side is freed so that their Promises settle.
    waiting: Vec<Waker>,
}

type Shared<T> = Rc<RefCell<Side<T>>>;

fn shared<T>(value: T) -> Shared<T> {
    Rc::new(RefCell::new(Side { value: Some(value), waiting: Vec::new() }))
}

/// Frees a side: readers of a freed writer see the end, a freed reader holds nothing back.
fn close<T>(side: &Shared<T>) {
    if let Ok(mut side) = side.try_borrow_mut() {
        side.value = None;
        side.waiting.drain(..).for_each(Waker::wake);
    }
}

/// A Promise of `slice(side, cx)` once it is ready (or the side is freed).
fn slice_async<T: 'static>(
    side: Weak<RefCell<Side<T>>>,
    class: &'static str,
    mut slice: impl FnMut(&mut T, &mut Context<'_>) -> Poll<JsValue> + 'static,
) -> js_sys::Promise {
    wasm_bindgen_futures::future_to_promise(async move {
        poll_fn(|cx| {
            let Some(side) = side.upgrade() else { return Poll::Ready(Err(used_up(class, "freed"))) };
            let mut side = side.borrow_mut();
            let Some(value) = side.value.as_mut() else { return Poll::Ready(Err(used_up(class, "freed"))) };
            let outcome = slice(value, cx);
            if outcome.is_pending() && !side.waiting.iter().any(|w| w.will_wake(cx.waker())) {
                side.waiting.push(cx.waker().clone());
            }
            outcome.map(Ok)
        })
        .await
    })
}

/// The length of the writer's free room (0 when there is none): `js/guard.mjs` hands out a view of
/// that length over the writer's own staging memory in JS.
fn writer_slice(writer: &mut Writer<u8>, cx: &mut Context<'_>) -> Poll<JsValue> {
    pin!(writer.slice()).poll(cx).map(|room| JsValue::from(room.len() as f64))
}

/// A copy of a reader's unread bytes, `null` at the end of the stream.
fn reader_slice(reader: &mut Reader<u8>, cx: &mut Context<'_>) -> Poll<JsValue> {
    pin!(reader.slice()).poll(cx).map(|data| data.map_or(JsValue::NULL, |data| Uint8Array::from(data).into()))
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
        let capacity = index(capacity, "capacity")?;
        let mut ring = RingOptions::default();
        if !options.is_undefined() && !options.is_null() {
            if !options.is_object() {
                return Err(type_error("options must be an object, e.g. { backend: 'mirror-copy' }"));
            }
            let backend = Reflect::get(options, &"backend".into())
                .map_err(|_| throwable(message::option_unreadable("backend")))?;
            ring = match backend.as_string().as_deref() {
                _ if backend.is_undefined() => ring,
                Some("double-mapped") => ring.backend(RingBackend::DoubleMapped),
                Some("mirror-copy") => ring.backend(RingBackend::MirrorCopy),
                _ => return Err(type_error("options.backend must be \"double-mapped\" or \"mirror-copy\"")),
            };
        }
        let writer = Circular::with_options::<u8>(capacity, &ring).map_err(ring_error)?;
        Ok(JsCircularWriter { side: shared(writer) })
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
        f(side.value.as_mut().ok_or_else(|| used_up("CircularWriter", "freed"))?)
    }
}

impl Drop for JsCircularWriter {
    fn drop(&mut self) {
        close(&self.side);
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
        self.with(|w| Ok(JsCircularReader { side: shared(w.add_reader()) }))
    }

    /// The length of the free room, for `js/guard.mjs` to hand out a slice of that length to fill
    /// before `produce()`; 0 when the slowest reader is a whole ring behind. Returns at once.
    pub fn slice(&self) -> Result<JsValue, JsValue> {
        self.with(|w| {
            Ok(match writer_slice(w, &mut Context::from_waker(Waker::noop())) {
                Poll::Ready(room) => room,
                Poll::Pending => JsValue::from(0.0),
            })
        })
    }

    /// Throws: the wasm build never blocks.
    #[wasm_bindgen(js_name = sliceSync)]
    pub fn slice_sync(&self, _timeout_ms: &JsValue) -> Result<Uint8Array, JsValue> {
        Err(no_blocking("CircularWriter"))
    }

    /// A Promise of `slice()` once there is room.
    #[wasm_bindgen(js_name = sliceAsync)]
    pub fn slice_async(&self) -> js_sys::Promise {
        slice_async(Rc::downgrade(&self.side), "CircularWriter", writer_slice)
    }

    /// Publishes the next `n` free bytes as they are to the readers; `RangeError` if more than are
    /// free. (`js/guard.mjs` calls `__produceFrom` instead when a slice was handed out.)
    pub fn produce(&self, n: &JsValue) -> Result<(), JsValue> {
        let n = index(n, "n")?;
        self.with(|w| w.try_produce(n).map_err(ring_error))
    }

    /// Copies `bytes` (what JS wrote into the last slice, as the guard copied it out) into the free
    /// room and publishes the first `n` bytes of the room; `RangeError`, and nothing written, if `n`
    /// is more than is free.
    #[wasm_bindgen(js_name = __produceFrom)]
    pub fn produce_from(&self, n: &JsValue, bytes: &JsValue) -> Result<(), JsValue> {
        let n = index(n, "n")?;
        let (bytes, _) = bytes_from_js(bytes, "bytes")?;
        self.with(|w| {
            if let Poll::Ready(room) = pin!(w.slice()).poll(&mut Context::from_waker(Waker::noop())) {
                let copied = bytes.len().min(n).min(room.len());
                room[..copied].copy_from_slice(&bytes[..copied]);
            }
            w.try_produce(n).map_err(ring_error)
        })
    }

    /// Copies as much of `bytes` as there is room for now into the ring and publishes it; returns how
    /// many bytes that was (0 when the ring is full).
    pub fn write(&self, bytes: &JsValue) -> Result<usize, JsValue> {
        let (bytes, _) = bytes_from_js(bytes, "bytes")?;
        self.with(|w| Ok(w.push_slice(&bytes)))
    }

    /// Throws: a wasm ring cannot move to another thread.
    #[wasm_bindgen(js_name = toHandle)]
    pub fn to_handle(&self) -> Result<JsValue, JsValue> {
        Err(no_threads("CircularWriter.toHandle()"))
    }

    /// Throws: a wasm ring cannot move to another thread.
    #[wasm_bindgen(js_name = fromHandle)]
    pub fn from_handle(_handle: &JsValue) -> Result<JsCircularWriter, JsValue> {
        Err(no_threads("CircularWriter.fromHandle()"))
    }
}

/// One reader of a byte ring.
#[wasm_bindgen(js_name = CircularReader)]
pub struct JsCircularReader {
    side: Shared<Reader<u8>>,
}

impl Drop for JsCircularReader {
    fn drop(&mut self) {
        close(&self.side);
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
        let mut side = self.side.borrow_mut();
        let reader = side.value.as_mut().ok_or_else(|| used_up("CircularReader", "freed"))?;
        Ok(match reader_slice(reader, &mut Context::from_waker(Waker::noop())) {
            Poll::Ready(data) => data,
            Poll::Pending => Uint8Array::new_with_length(0).into(),
        })
    }

    /// What `js/guard.mjs` makes `slice()` of: copies the unread bytes into `target` (a `Uint8Array`
    /// the guard made over the reader's staging memory) when they fit, and returns how many there
    /// are (the guard grows its memory and asks again when they did not fit), or `null` once the
    /// writer is gone and everything was read.
    #[wasm_bindgen(js_name = __sliceInto)]
    pub fn slice_into(&self, target: &JsValue) -> Result<JsValue, JsValue> {
        let target: &Uint8Array =
            target.dyn_ref().ok_or_else(|| type_error("target must be a Uint8Array"))?;
        let mut side = self.side.borrow_mut();
        let reader = side.value.as_mut().ok_or_else(|| used_up("CircularReader", "freed"))?;
        let data = match pin!(reader.slice()).poll(&mut Context::from_waker(Waker::noop())) {
            Poll::Pending => return Ok(JsValue::from(0.0)),
            Poll::Ready(None) => return Ok(JsValue::NULL),
            Poll::Ready(Some(data)) => data,
        };
        let n = data.len();
        if n <= target.length() as usize {
            target.subarray(0, n as u32).copy_from(data);
        }
        Ok(JsValue::from(n as f64))
    }

    /// Throws: the wasm build never blocks.
    #[wasm_bindgen(js_name = sliceSync)]
    pub fn slice_sync(&self, _timeout_ms: &JsValue) -> Result<JsValue, JsValue> {
        Err(no_blocking("CircularReader"))
    }

    /// A Promise of `slice()` once there is data (or `null` at the end).
    #[wasm_bindgen(js_name = sliceAsync)]
    pub fn slice_async(&self) -> js_sys::Promise {
        slice_async(Rc::downgrade(&self.side), "CircularReader", reader_slice)
    }

    /// Marks the first `n` bytes of the slice as read; `RangeError` if more than are available.
    pub fn consume(&self, n: &JsValue) -> Result<(), JsValue> {
        let n = index(n, "n")?;
        let mut side = self.side.borrow_mut();
        let reader = side.value.as_mut().ok_or_else(|| used_up("CircularReader", "freed"))?;
        reader.try_consume(n).map_err(ring_error)
    }

    /// Throws: a wasm ring cannot move to another thread.
    #[wasm_bindgen(js_name = toHandle)]
    pub fn to_handle(&self) -> Result<JsValue, JsValue> {
        Err(no_threads("CircularReader.toHandle()"))
    }

    /// Throws: a wasm ring cannot move to another thread.
    #[wasm_bindgen(js_name = fromHandle)]
    pub fn from_handle(_handle: &JsValue) -> Result<JsCircularReader, JsValue> {
        Err(no_threads("CircularReader.fromHandle()"))
    }
}
