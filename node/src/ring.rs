//! The byte ring for Node: `Circular.withCapacity` makes the writer, `addReader()` makes readers.
//!
//! Slices are external `Buffer`s over the ring's memory, contiguous across the wrap (double-mapped
//! where the system allows, mirror-copied otherwise). Each side has three ways to get its slice:
//! `slice()` returns at once (possibly empty), `sliceAsync()` returns a Promise settled on this thread
//! when there is room or data (woken from whichever thread produced or consumed), and `sliceSync()`
//! blocks the thread (for workers; the JS entry refuses it on the main thread).
//!
//! A side can move to another thread: `toHandle()` parks it in a process-wide table and returns a
//! plain object that `postMessage` can carry; `fromHandle()` in the receiving thread claims it.
//!
//! A reader's slice is in place only while the ring has one reader. Each reader reads the same ring
//! memory, and JS can write into a view whatever the contract says, so with several readers one
//! reader's write would change what the others read: then each reader's slice is a copy of its own
//! ([`Bytes::Copied`]). The writer and its readers share a count of the readers for that
//! ([`RingWriter`], [`RingReader`]), readers parked in a handle included. A reader added while
//! another holds a slice in place starts at the write position, past every byte of that slice, and
//! the writer cannot reuse those bytes until the holder consumes them (which detaches the slice), so
//! the slice stays the holder's alone.

use std::cell::RefCell;
use std::collections::HashMap;
use std::future::Future;
use std::pin::pin;
use std::rc::Rc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, LazyLock, Mutex, PoisonError};
use std::task::{Context, Poll, Waker};
use std::time::{Duration, Instant};

use napi::bindgen_prelude::{ObjectFinalize, Unknown};
use napi::{sys, Env, ValueType};
use napi_derive::napi;
use omnibuf::binding::{self, handle_id, message, Registration, WaitSide, Waiters};
use omnibuf::ring::asynchronous::{Circular, Reader, Writer};
use omnibuf::ring::{double_mapping_available, RingBackend, RingError, RingOptions};

use crate::args;
use crate::error::{ApiError, ApiResult, OrThrow};
use crate::platform::executor::{self, WakeScope};
use crate::platform::values::{self, Raw};
use crate::platform::views::{Bytes, ExternalMemory, StableMemory, Viewed};

fn ring_error(e: RingError) -> ApiError {
    omnibuf::binding::BindingError::from(e).into()
}

/// The writer of a byte ring, with the count of its ring's readers that it shares with them.
struct RingWriter {
    writer: Writer<u8>,
    readers: Arc<AtomicUsize>,
}

impl RingWriter {
    fn new(writer: Writer<u8>) -> Self {
        RingWriter { writer, readers: Arc::new(AtomicUsize::new(0)) }
    }

    /// A new reader, counted before it exists: the count is raised before anything the writer
    /// produces after it (a release store of the write position), so a reader that has seen those
    /// bytes sees the count too.
    fn add_reader(&mut self) -> RingReader {
        self.readers.fetch_add(1, Ordering::AcqRel);
        RingReader { reader: self.writer.add_reader(), readers: self.readers.clone() }
    }
}

/// A reader of a byte ring, counted among its ring's readers for as long as it lives (in a JS object
/// or parked in a handle).
struct RingReader {
    reader: Reader<u8>,
    readers: Arc<AtomicUsize>,
}

impl Drop for RingReader {
    fn drop(&mut self) {
        self.readers.fetch_sub(1, Ordering::AcqRel);
    }
}

// SAFETY: ring memory is mapped (or allocated) once, never moved, and released only when the last of
// the writer and its readers drops; a slice picked from a side lies in it.
unsafe impl StableMemory for RingWriter {}
// SAFETY: as for the writer.
unsafe impl StableMemory for RingReader {}

/// One side of a ring held by a JS object, shared with the operations of its pending `sliceAsync`s.
struct Side<T: StableMemory> {
    viewed: Viewed<T>,
    /// Wakers of pending operations: woken when the side goes away, so that their Promises settle.
    waiting: Waiters,
    /// What happened to it once `viewed` is empty: "freed" or "moved to a handle".
    gone: &'static str,
}

impl<T: StableMemory> Side<T> {
    fn new(value: T) -> Rc<RefCell<Side<T>>> {
        Rc::new(RefCell::new(Side { viewed: Viewed::new(value), waiting: Waiters::default(), gone: "freed" }))
    }

    /// Takes the value out (detaching its slices) and settles pending operations.
    fn close(&mut self, env: &Env, how: &'static str) -> Option<T> {
        let value = self.viewed.take(env);
        // A side freed after it moved says it was freed, as the wasm build's object does once
        // free() let its wrapper go.
        if value.is_some() || how == "freed" {
            self.gone = how;
        }
        self.waiting.wake_all();
        value
    }

    /// The live value, or the error of a side freed or moved to a handle: what every member says
    /// first, before it looks at its arguments (as in the wasm build).
    fn live(&self, class: &str) -> ApiResult<&T> {
        self.viewed.get().ok_or_else(|| ApiError::used_up(class, self.gone))
    }

    /// The live value, after detaching every slice handed out so far: for `produce()`, `write()` and
    /// `consume()`, after which the bytes those slices show belong to someone else (the readers, or the
    /// writer again, maybe in another thread). A slice kept across them is empty rather than a window
    /// onto bytes that change, or that another thread reads, under it.
    fn detached(&mut self, env: &Env, class: &str) -> ApiResult<&mut T> {
        self.live(class)?;
        if !self.viewed.detach_views(env) {
            return Err(ApiError::moved_view(class));
        }
        self.viewed.get_mut().ok_or_else(|| ApiError::used_up(class, self.gone))
    }
}

/// A pending `sliceAsync()` registers with its side through the binding core's [`Registration`].
impl<T: RingSide> WaitSide for Side<T> {
    fn waiters(&mut self) -> &mut Waiters {
        &mut self.waiting
    }

    fn forget_waker(&self, waker: &Waker) {
        if let Some(value) = self.viewed.get() {
            value.forget_waker(waker);
        }
    }
}

/// What a slice call does when the ring has no room or no data.
#[derive(Clone, Copy)]
enum Wait {
    /// Return an empty slice.
    No,
    /// Block the thread, until the deadline if there is one.
    Block(Option<Instant>),
}

/// A deadline `timeout` milliseconds from now (none when not given), checked as the threaded wasm
/// build checks it (the binding core's `timeout`).
fn deadline(env: &Env, timeout: Option<&Unknown<'_>>) -> ApiResult<Option<Instant>> {
    let Some(timeout) = timeout else { return Ok(None) };
    let timeout = omnibuf::binding::timeout(args::value(env, values::raw(timeout)))?;
    Ok(timeout.and_then(|timeout| Instant::now().checked_add(timeout)))
}

/// `sliceSync()` where the thread must not block: `here` says where (`js/node.mjs` passes it on the
/// main thread), and the call is refused, after the side's own state and before its arguments, as
/// the wasm build orders them.
fn refuse_to_block(env: &Env, class: &str, here: Option<&Unknown<'_>>) -> ApiResult<()> {
    match here.and_then(|here| values::string(env, values::raw(here))) {
        Some(here) => Err(omnibuf::binding::message::no_blocking(class, &here).into()),
        None => Ok(()),
    }
}

/// A ring side as the JS API sees it.
trait RingSide: StableMemory + Sized + 'static {
    /// The JS class name.
    const CLASS: &'static str;

    /// The side's slice: `Ready(None)` at the end of the stream (readers only), `Pending` when it has
    /// to wait and `wait` says not to.
    fn pick<'a>(&'a mut self, cx: &mut Context<'_>, wait: Wait) -> Poll<Option<Bytes<'a>>>;

    /// Unregisters the waker of a wait that was given up.
    fn forget_waker(&self, waker: &Waker);
}

impl RingSide for RingWriter {
    const CLASS: &'static str = "CircularWriter";

    fn pick<'a>(&'a mut self, cx: &mut Context<'_>, wait: Wait) -> Poll<Option<Bytes<'a>>> {
        let writer = &mut self.writer;
        let room = match wait {
            Wait::No => pin!(writer.slice()).poll(cx),
            Wait::Block(deadline) => {
                omnibuf::binding::block_on(writer.slice(), deadline).map_or(Poll::Pending, Poll::Ready)
            }
        };
        room.map(|room| Some(Bytes::Writable(room)))
    }

    fn forget_waker(&self, waker: &Waker) {
        self.writer.forget_waker(waker);
    }
}

impl RingSide for RingReader {
    const CLASS: &'static str = "CircularReader";

    fn pick<'a>(&'a mut self, cx: &mut Context<'_>, wait: Wait) -> Poll<Option<Bytes<'a>>> {
        let RingReader { reader, readers } = self;
        let data = match wait {
            Wait::No => pin!(reader.slice()).poll(cx),
            Wait::Block(deadline) => {
                omnibuf::binding::block_on(reader.slice(), deadline).map_or(Poll::Pending, Poll::Ready)
            }
        };
        // Whether this is the ring's only reader, as of the bytes of the slice: asked after the slice,
        // whose end (the write position) was acquired first, so a reader added before the writer
        // produced any of these bytes is counted (see `RingWriter::add_reader`).
        let alone = readers.load(Ordering::Acquire) == 1;
        data.map(|data| data.map(|bytes| if alone { Bytes::Shared(bytes) } else { Bytes::Copied(bytes) }))
    }

    fn forget_waker(&self, waker: &Waker) {
        self.reader.forget_waker(waker);
    }
}

/// The side's slice as a `Buffer` (`null` at the end of the stream); `Pending` when there is no room
/// or data (and `wait` does not wait).
fn slice<T: RingSide>(
    side: &mut Side<T>,
    env: &Env,
    cx: &mut Context<'_>,
    wait: Wait,
) -> Poll<ApiResult<Raw>> {
    if let Err(gone) = side.live(T::CLASS) {
        return Poll::Ready(Err(gone));
    }
    let mut pending = false;
    let view = side.viewed.view_again(env, |value| match value.pick(cx, wait) {
        Poll::Ready(bytes) => bytes,
        Poll::Pending => {
            pending = true;
            None
        }
    });
    if pending {
        return Poll::Pending;
    }
    Poll::Ready(match view {
        Ok(Some(buffer)) => Ok(buffer),
        Ok(None) => values::null(env).map_err(ApiError::from_platform),
        Err(e) => Err(ApiError::from_platform(e)),
    })
}

/// `slice()` (`wait` = `No`) and `sliceSync()`: an empty `Buffer` when there is nothing yet.
fn slice_now<T: RingSide>(side: &RefCell<Side<T>>, env: &Env, wait: Wait) -> napi::Result<Raw> {
    let mut cx = Context::from_waker(Waker::noop());
    match slice(&mut side.borrow_mut(), env, &mut cx, wait) {
        Poll::Ready(outcome) => outcome.or_throw(env),
        Poll::Pending => values::empty_buffer(env),
    }
}

/// `sliceSync()`: the side's state first, then whether this thread may block (`here`, see
/// [`refuse_to_block`]), then the timeout, as the wasm build orders them.
fn slice_sync<T: RingSide>(
    side: &RefCell<Side<T>>,
    env: &Env,
    timeout_ms: Option<&Unknown<'_>>,
    here: Option<&Unknown<'_>>,
) -> napi::Result<Raw> {
    side.borrow().live(T::CLASS).or_throw(env)?;
    refuse_to_block(env, T::CLASS, here).or_throw(env)?;
    let deadline = deadline(env, timeout_ms).or_throw(env)?;
    // Blocked in stretches, asking between them whether the thread is being stopped: Node stops a
    // worker (terminate(), or the process exiting) by asking its JS to end, which a thread parked
    // here would never see, and the stopper waits for the thread: the process could not exit.
    let mut cx = Context::from_waker(Waker::noop());
    loop {
        let stretch = Instant::now() + STOP_CHECK;
        let until = deadline.map_or(stretch, |deadline| deadline.min(stretch));
        match slice(&mut side.borrow_mut(), env, &mut cx, Wait::Block(Some(until))) {
            Poll::Ready(outcome) => return outcome.or_throw(env),
            Poll::Pending if deadline.is_some_and(|deadline| Instant::now() >= deadline) => {
                return values::empty_buffer(env)
            }
            Poll::Pending if !values::can_run_js(env) => {
                return Err(ApiError::error("the thread is stopping").throw(env))
            }
            Poll::Pending => {}
        }
    }
}

/// How long `sliceSync()` stays parked before it asks whether its thread is being stopped: the most a
/// `worker.terminate()` or a process exit waits for a worker blocked there.
const STOP_CHECK: Duration = Duration::from_millis(50);

/// Ready with `true` once the side has room or data (or the end of the stream), without making a
/// slice: the wait of the stream forms, which copy with `write()` and `readInto()` (see
/// [`slice_async`]).
fn ready<T: RingSide>(side: &mut Side<T>, env: &Env, cx: &mut Context<'_>) -> Poll<ApiResult<Raw>> {
    let gone = side.gone;
    let Some(value) = side.viewed.get_mut() else {
        return Poll::Ready(Err(ApiError::used_up(T::CLASS, gone)));
    };
    match value.pick(cx, Wait::No) {
        Poll::Pending => Poll::Pending,
        Poll::Ready(_) => Poll::Ready(values::to_js(env, true).map_err(|e| ApiError::error(e.reason))),
    }
}

/// `sliceAsync()`: a Promise settled once `slice()` has something (or the side goes away). A ticket
/// with `bare: true` (set only by `js/waits.mjs` for the stream forms) settles with `true` instead
/// of a slice.
fn slice_async<T: RingSide>(
    side: &Rc<RefCell<Side<T>>>,
    env: &Env,
    ticket: Option<&Unknown<'_>>,
) -> napi::Result<Raw> {
    let (keep_alive, ticket) = match args::wait_ticket(env, ticket) {
        Ok(t) => t,
        Err(e) => return crate::platform::work::rejected(env, e),
    };
    let bare = match ticket.map(|t| args::flag_option(env, t, "bare")).transpose() {
        Ok(bare) => bare.flatten().unwrap_or(false),
        Err(e) => return crate::platform::work::rejected(env, e),
    };
    // Dropped with the operation (settled, or cancelled by `__cancelWait`), it takes the operation's
    // waker out of the side and the ring, so a cancelled wait leaves nothing behind in the ring.
    let mut registration = Registration::new(Rc::downgrade(side));
    let (promise, id) = executor::spawn(
        env,
        Box::new(move |env, cx| {
            registration
                .poll(cx, |side, cx| if bare { ready(side, env, cx) } else { slice(side, env, cx, Wait::No) })
                .unwrap_or_else(|| Poll::Ready(Err(ApiError::used_up(T::CLASS, "freed"))))
        }),
        keep_alive,
    )?;
    args::set_wait_id(env, ticket, id);
    Ok(promise)
}

/// A process-wide table of ring sides on their way to another thread.
enum Handed {
    Writer(RingWriter),
    Reader(RingReader),
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

static HANDED: LazyLock<Mutex<HashMap<u64, Handed>>> = LazyLock::new(|| Mutex::new(HashMap::new()));
static NEXT_HANDLE: AtomicU64 = AtomicU64::new(1);

/// This copy of the addon's mark on its handles. Another copy loaded in the process (a dependency's
/// own) numbers its handles from 1 too, so an id alone could name a side of ours. Random for each
/// load, and below 2^53, so that a JS number holds it whole.
static COPY_TOKEN: LazyLock<u64> = LazyLock::new(|| {
    use std::hash::{BuildHasher, RandomState};
    RandomState::new().hash_one(std::process::id()) >> 11
});

/// A ring side parked for another thread: a plain object that `postMessage` can carry.
#[napi(object)]
pub struct CircularHandle {
    /// `"CircularWriter"` or `"CircularReader"`.
    pub omnibuf: String,
    /// The key in this process's table of parked sides.
    pub id: f64,
    /// Which copy of the addon parked it ([`COPY_TOKEN`]).
    pub copy_token: f64,
}

fn park(side: Handed, class: &str) -> CircularHandle {
    let id = NEXT_HANDLE.fetch_add(1, Ordering::Relaxed);
    HANDED.lock().unwrap_or_else(PoisonError::into_inner).insert(id, side);
    CircularHandle { omnibuf: class.to_owned(), id: id as f64, copy_token: *COPY_TOKEN as f64 }
}

/// Claims the side a handle names.
fn claim(env: &Env, handle: &Unknown<'_>, class: &str) -> ApiResult<Handed> {
    let raw = values::raw(handle);
    let malformed = || ApiError::from(message::malformed_handle(class));
    if values::type_of(env, raw) != ValueType::Object {
        return Err(malformed());
    }
    let named = values::property(env, raw, "omnibuf").and_then(|v| values::string(env, v));
    let id = values::property(env, raw, "id").and_then(|v| values::number(env, v));
    let (Some(named), Some(id)) = (named, id) else { return Err(malformed()) };
    if named != class {
        return Err(message::handle_of_other_class(&named, class).into());
    }
    let id = handle_id(id).ok_or_else(malformed)?;
    let copy = values::property(env, raw, "copyToken").and_then(|v| values::number(env, v));
    if copy != Some(*COPY_TOKEN as f64) {
        return Err(message::handle_gone().into());
    }
    let mut handed = HANDED.lock().unwrap_or_else(PoisonError::into_inner);
    match handed.get(&id).map(Handed::class) {
        Some(parked) if parked == class => Ok(handed.remove(&id).expect("the side was just seen")),
        // An id edited into another class's handle: the side stays parked for its own handle.
        Some(parked) => Err(message::handle_of_other_class(parked, class).into()),
        None => Err(message::handle_gone().into()),
    }
}

/// Makes rings: one writer, any number of readers.
#[napi(js_name = "Circular")]
pub struct JsCircular {}

#[napi]
impl JsCircular {
    /// The writer of a new byte ring of at least `capacity` bytes (rounded up to whole pages).
    /// `options.backend` asks for `"double-mapped"` or `"mirror-copy"` memory.
    #[napi(js_name = "withCapacity", catch_unwind)]
    pub fn with_capacity(
        env: &Env,
        capacity: Unknown<'_>,
        options: Option<Unknown<'_>>,
    ) -> napi::Result<JsCircularWriter> {
        let capacity = args::capacity(env, &capacity).or_throw(env)?;
        let options = ring_options(env, options.as_ref()).or_throw(env)?;
        let writer = Circular::with_options::<u8>(capacity, &options).map_err(ring_error).or_throw(env)?;
        Ok(JsCircularWriter::new(env, RingWriter::new(writer)))
    }

    /// Whether this system can double-map ring memory (else rings use the mirror-copy backend).
    #[napi(js_name = "doubleMappingAvailable", catch_unwind)]
    pub fn double_mapping_available() -> bool {
        double_mapping_available()
    }

    /// Nothing to release: `Circular` only makes rings. Present because every class has `free()`.
    #[napi(catch_unwind)]
    pub fn free(&self) {}
}

fn ring_options(env: &Env, options: Option<&Unknown<'_>>) -> ApiResult<RingOptions> {
    let ring = RingOptions::default();
    let Some(options) = options else { return Ok(ring) };
    let raw = values::raw(options);
    if values::type_of(env, raw) != ValueType::Object {
        return Err(message::ring_options_not_object(args::value(env, raw)).into());
    }
    Ok(match args::choice_option(env, raw, "backend", &binding::RING_BACKENDS)? {
        Some("double-mapped") => ring.backend(RingBackend::DoubleMapped),
        Some(_) => ring.backend(RingBackend::MirrorCopy),
        None => ring,
    })
}

/// The one writer of a byte ring.
#[napi(js_name = "CircularWriter", custom_finalize)]
pub struct JsCircularWriter {
    side: Rc<RefCell<Side<RingWriter>>>,
    memory: ExternalMemory,
}

impl JsCircularWriter {
    fn new(env: &Env, writer: RingWriter) -> Self {
        let mut memory = ExternalMemory::default();
        memory.set(env, writer.writer.capacity());
        JsCircularWriter { side: Side::new(writer), memory }
    }

    /// Runs `f` on the live writer.
    fn with<R>(&self, env: &Env, f: impl FnOnce(&mut RingWriter) -> ApiResult<R>) -> napi::Result<R> {
        let mut side = self.side.borrow_mut();
        let gone = side.gone;
        let writer = side.viewed.get_mut().ok_or_else(|| ApiError::used_up("CircularWriter", gone));
        writer.and_then(f).or_throw(env)
    }
}

impl ObjectFinalize for JsCircularWriter {
    /// Garbage-collected, or its environment (a worker) is torn down: a writer still here was neither
    /// freed nor aborted, so its stream did not end as its producer meant it to.
    fn finalize(mut self, env: Env) -> napi::Result<()> {
        let writer = self.side.borrow_mut().close(&env, "freed");
        self.memory.clear(&env);
        if let Some(writer) = writer {
            writer.writer.abort(omnibuf::binding::message::LOST_WRITER);
        }
        Ok(())
    }
}

#[napi]
impl JsCircularWriter {
    /// The capacity in bytes, after rounding.
    #[napi(getter, catch_unwind)]
    pub fn capacity(&self, env: &Env) -> napi::Result<f64> {
        self.with(env, |w| Ok(w.writer.capacity() as f64))
    }

    /// The memory under the ring: `"double-mapped"` or `"mirror-copy"`.
    #[napi(getter, catch_unwind)]
    pub fn backend(&self, env: &Env) -> napi::Result<String> {
        self.with(env, |w| Ok(w.writer.backend().to_string()))
    }

    /// A new reader, which sees what is produced from now on.
    #[napi(js_name = "addReader", catch_unwind)]
    pub fn add_reader(&self, env: &Env) -> napi::Result<JsCircularReader> {
        let reader = self.with(env, |w| Ok(w.add_reader()))?;
        Ok(JsCircularReader::new(reader))
    }

    /// The free bytes as one writable `Buffer` over the ring; empty when the slowest reader is a
    /// whole ring behind. Returns at once.
    #[napi(catch_unwind)]
    pub fn slice(&self, env: &Env) -> napi::Result<Raw> {
        slice_now(&self.side, env, Wait::No)
    }

    /// Like `slice()`, but blocks the thread until there is room (or `timeoutMs` passes: then the
    /// slice is empty). For workers; the main thread must use `sliceAsync()` (see
    /// [`refuse_to_block`]). A writer gone says so first.
    #[napi(js_name = "sliceSync", catch_unwind)]
    pub fn slice_sync(
        &self,
        env: &Env,
        timeout_ms: Option<Unknown<'_>>,
        here: Option<Unknown<'_>>,
    ) -> napi::Result<Raw> {
        slice_sync(&self.side, env, timeout_ms.as_ref(), here.as_ref())
    }

    /// A Promise of `slice()` once there is room, settled on this thread without blocking it.
    #[napi(js_name = "sliceAsync", catch_unwind)]
    pub fn slice_async(&self, env: &Env, ticket: Option<Unknown<'_>>) -> napi::Result<Raw> {
        slice_async(&self.side, env, ticket.as_ref())
    }

    /// Publishes the first `n` bytes of the slice to the readers; `RangeError` if more than are free.
    /// Detaches the slices handed out so far.
    #[napi(catch_unwind)]
    pub fn produce(&self, env: &Env, n: Unknown<'_>) -> napi::Result<()> {
        let _wakes = WakeScope::enter(env);
        let mut side = self.side.borrow_mut();
        // `n` is checked after the side's state and before the slices are detached.
        side.live("CircularWriter").or_throw(env)?;
        let n = args::index(env, &n, "n").or_throw(env)?;
        // More than is free is refused before the slices are detached too: a call refused changes
        // nothing (as in the wasm build).
        if let Some(w) = side.viewed.get_mut() {
            binding::check_produce(&mut w.writer, n).map_err(ring_error).or_throw(env)?;
        }
        let writer = side.detached(env, "CircularWriter");
        writer.and_then(|w| w.writer.try_produce(n).map_err(ring_error)).or_throw(env)
    }

    /// Copies as much of `bytes` as there is room for now into the ring and publishes it; returns how
    /// many bytes that was (0 when the ring is full). The way to write where slices are copies.
    #[napi(catch_unwind)]
    pub fn write(&self, env: &Env, bytes: Unknown<'_>) -> napi::Result<f64> {
        let _wakes = WakeScope::enter(env);
        let raw = values::raw(&bytes);
        if values::string_units(env, raw).is_some_and(|units| units > LONG_STRING) {
            return self.write_long_string(env, raw);
        }
        if values::type_of(env, raw) == ValueType::String {
            let (bytes, _) = args::bytes(env, &bytes, "bytes").or_throw(env)?;
            return self.push(env, &bytes);
        }
        self.write_bytes(env, raw)
    }

    /// Moves the writer into a handle that `postMessage` can carry to a worker, where
    /// `CircularWriter.fromHandle` takes it back. This object cannot be used after.
    #[napi(js_name = "toHandle", catch_unwind)]
    pub fn move_to_handle(&mut self, env: &Env) -> napi::Result<CircularHandle> {
        self.with(env, |_| Ok(()))?;
        let writer = self.side.borrow_mut().close(env, "moved to a handle");
        self.memory.clear(env);
        let writer = writer.ok_or_else(|| ApiError::moved_view("CircularWriter.toHandle")).or_throw(env)?;
        Ok(park(Handed::Writer(writer), "CircularWriter"))
    }

    /// The writer a handle carries; each handle can be claimed once.
    #[napi(js_name = "fromHandle", catch_unwind)]
    pub fn from_handle(env: &Env, handle: Unknown<'_>) -> napi::Result<JsCircularWriter> {
        match claim(env, &handle, "CircularWriter").or_throw(env)? {
            Handed::Writer(writer) => Ok(JsCircularWriter::new(env, writer)),
            Handed::Reader(_) => unreachable!("claim checks the class"),
        }
    }

    /// Ends the stream with an error and drops the writer: readers read what was published, and
    /// where the end would be, their `abortReason` gives `reason` (a string, an Error's message, or
    /// "no reason given"), and their streams error.
    #[napi(catch_unwind)]
    pub fn abort(&mut self, env: &Env, reason: Option<Unknown<'_>>) -> napi::Result<()> {
        self.with(env, |_| Ok(()))?;
        let reason = abort_reason(env, reason.as_ref()).or_throw(env)?;
        let _wakes = WakeScope::enter(env);
        let writer = self.side.borrow_mut().close(env, "freed");
        self.memory.clear(env);
        if let Some(writer) = writer {
            writer.writer.abort(&reason);
        }
        Ok(())
    }

    /// Drops the writer: readers read what is left, then see the end of the stream.
    #[napi(catch_unwind)]
    pub fn free(&mut self, env: &Env) {
        let _wakes = WakeScope::enter(env);
        drop(self.side.borrow_mut().close(env, "freed"));
        self.memory.clear(env);
    }
}

/// The reason of `abort(reason)` (see `binding::abort_reason`).
fn abort_reason(env: &Env, reason: Option<&Unknown<'_>>) -> ApiResult<String> {
    let Some(reason) = reason.map(values::raw) else { return Ok(omnibuf::binding::NO_REASON.into()) };
    Ok(omnibuf::binding::abort_reason(args::value(env, reason), values::string(env, reason))?)
}

impl JsCircularWriter {
    /// Copies as much of `bytes` as there is room for into the ring, after detaching the slices
    /// handed out so far; returns how many bytes that was.
    fn push(&self, env: &Env, bytes: &[u8]) -> napi::Result<f64> {
        let mut side = self.side.borrow_mut();
        let writer = side.detached(env, "CircularWriter");
        writer.map(|w| w.writer.push_slice(bytes) as f64).or_throw(env)
    }

    /// `write()` of bytes. They are copied out of JS memory first (a raw copy: they may be a view of
    /// this very ring, or shared with another thread), a piece at a time, until a piece does not fit
    /// whole or a capacity's worth is written (a ring without readers takes every piece whole, but
    /// its room, as `slice()` gives it, is the capacity): the bytes copied are the bytes written,
    /// and one piece more at most. While the writer's slices are out the bytes may be one of them,
    /// which publishing the first piece detaches: then that piece is all that can be written, the
    /// capacity. A writer gone says so here, before the bytes are looked at, as in the wasm build (a
    /// string is always bytes: `push` says it for one).
    fn write_bytes(&self, env: &Env, raw: sys::napi_value) -> napi::Result<f64> {
        let (capacity, piece) = {
            let side = self.side.borrow();
            let capacity = side.live("CircularWriter").or_throw(env)?.writer.capacity();
            (capacity, if side.viewed.has_views() { capacity } else { WRITE_PIECE })
        };
        with_scratch(|scratch| {
            let mut written = 0;
            loop {
                let wanted = piece.min(capacity - written);
                values::bytes_into(env, raw, written, wanted, scratch)
                    .ok_or_else(|| not_bytes(env, raw))
                    .or_throw(env)?;
                let n = self.push(env, scratch)? as usize;
                written += n;
                if n < wanted || written == capacity {
                    return Ok(written as f64);
                }
            }
        })
    }

    /// `write()` of a string over [`LONG_STRING`] characters: only the UTF-8 that fits is made (an
    /// encoding of all of it would cost as much as the string, however little fits); the same bytes,
    /// cut wherever the room ends.
    fn write_long_string(&self, env: &Env, raw: sys::napi_value) -> napi::Result<f64> {
        let room = self.side.borrow_mut().detached(env, "CircularWriter").map(|w| w.writer.try_slice().len());
        let room = room.or_throw(env)?;
        with_scratch(|scratch| {
            values::string_prefix(env, raw, room, scratch)
                .ok_or_else(|| not_bytes(env, raw))
                .or_throw(env)?;
            self.push(env, &scratch[..scratch.len().min(room)])
        })
    }
}

/// `write()`'s error for an argument that is no bytes.
fn not_bytes(env: &Env, raw: sys::napi_value) -> ApiError {
    message::not_bytes("bytes", args::value(env, raw)).into()
}

/// Runs `body` on [`SCRATCH`], which keeps [`SCRATCH_KEPT`] bytes of memory at most after it.
fn with_scratch<R>(body: impl FnOnce(&mut Vec<u8>) -> R) -> R {
    SCRATCH.with_borrow_mut(|scratch| {
        let out = body(scratch);
        if scratch.capacity() > SCRATCH_KEPT {
            *scratch = Vec::new();
        }
        out
    })
}

thread_local! {
    /// What `write()` copies the bytes (or encodes the string) into on their way to the ring.
    static SCRATCH: RefCell<Vec<u8>> = const { RefCell::new(Vec::new()) };
}

/// The most bytes `write()` copies out of JS memory at once while the writer has no slices out: a
/// piece that stays in the cache on its way into the ring.
const WRITE_PIECE: usize = 64 << 10;

/// The most memory [`SCRATCH`] keeps between writes.
const SCRATCH_KEPT: usize = 4 << 20;

/// Characters past which `write()` encodes only the UTF-8 of a string that fits (js/guard.mjs has
/// the wasm build's own).
const LONG_STRING: usize = 1 << 16;

/// One reader of a byte ring.
#[napi(js_name = "CircularReader", custom_finalize)]
pub struct JsCircularReader {
    side: Rc<RefCell<Side<RingReader>>>,
}

impl JsCircularReader {
    fn new(reader: RingReader) -> Self {
        JsCircularReader { side: Side::new(reader) }
    }
}

impl ObjectFinalize for JsCircularReader {
    fn finalize(self, env: Env) -> napi::Result<()> {
        self.side.borrow_mut().close(&env, "freed");
        Ok(())
    }
}

#[napi]
impl JsCircularReader {
    /// The unread bytes as one `Buffer` over the ring while this is the ring's only reader, else a
    /// copy of them (empty when there are none yet), or `null` once the writer is gone and everything
    /// was read. Returns at once. Do not write to it.
    #[napi(catch_unwind)]
    pub fn slice(&self, env: &Env) -> napi::Result<Raw> {
        slice_now(&self.side, env, Wait::No)
    }

    /// Like `slice()`, but blocks the thread until there is data or the end (or `timeoutMs` passes:
    /// then the slice is empty). For workers; the main thread must use `sliceAsync()` (see
    /// [`refuse_to_block`]). A reader gone says so first.
    #[napi(js_name = "sliceSync", catch_unwind)]
    pub fn slice_sync(
        &self,
        env: &Env,
        timeout_ms: Option<Unknown<'_>>,
        here: Option<Unknown<'_>>,
    ) -> napi::Result<Raw> {
        slice_sync(&self.side, env, timeout_ms.as_ref(), here.as_ref())
    }

    /// A Promise of `slice()` once there is data (or `null` at the end), settled on this thread
    /// without blocking it.
    #[napi(js_name = "sliceAsync", catch_unwind)]
    pub fn slice_async(&self, env: &Env, ticket: Option<Unknown<'_>>) -> napi::Result<Raw> {
        slice_async(&self.side, env, ticket.as_ref())
    }

    /// Marks the first `n` bytes of the slice as read; `RangeError` if more than are available.
    /// Detaches the slices handed out so far: the writer may overwrite what they showed.
    #[napi(catch_unwind)]
    pub fn consume(&self, env: &Env, n: Unknown<'_>) -> napi::Result<()> {
        let _wakes = WakeScope::enter(env);
        let mut side = self.side.borrow_mut();
        // `n` is checked after the side's state and before the slices are detached.
        side.live("CircularReader").or_throw(env)?;
        let n = args::index(env, &n, "n").or_throw(env)?;
        let reader = side.detached(env, "CircularReader");
        reader.and_then(|r| r.reader.try_consume(n).map_err(ring_error)).or_throw(env)
    }

    /// A copy of the unread bytes, `max` at most (all of them without it), consumed: a `Buffer` of
    /// its own, empty when there are none yet, or `null` once the writer is gone and everything was
    /// read. Detaches the slices handed out so far, as `consume()` does.
    #[napi(catch_unwind)]
    pub fn read(&self, env: &Env, max: Option<Unknown<'_>>) -> napi::Result<Raw> {
        let _wakes = WakeScope::enter(env);
        let mut side = self.side.borrow_mut();
        // As `consume()`: the side's state first, then `max`, then the slices detached.
        side.live("CircularReader").or_throw(env)?;
        let max = args::index_or(env, max.as_ref(), usize::MAX, "max").or_throw(env)?;
        let reader = side.detached(env, "CircularReader").or_throw(env)?;
        let Some(data) = reader.reader.try_slice() else { return values::null(env) };
        let n = data.len().min(max);
        if n == 0 {
            return values::empty_buffer(env);
        }
        let copy = values::buffer_from(env, &data[..n]).map_err(|e| ApiError::from_platform(e).throw(env))?;
        reader.reader.try_consume(n).map_err(ring_error).or_throw(env)?;
        Ok(copy)
    }

    /// Copies up to `target.length` unread bytes into `target` (a `Uint8Array`, typed array,
    /// `DataView` or `ArrayBuffer`) from its start and consumes them; returns how many: 0 when there
    /// are none yet (or `target` is empty), -1 once the writer is gone and everything was read.
    /// Detaches the slices handed out so far, as `consume()` does.
    #[napi(js_name = "readInto", catch_unwind)]
    pub fn read_into(&self, env: &Env, target: Unknown<'_>) -> napi::Result<f64> {
        let _wakes = WakeScope::enter(env);
        let mut side = self.side.borrow_mut();
        // The side's state, then the target, before anything changes: a call refused changes nothing.
        side.live("CircularReader").or_throw(env)?;
        let target = values::raw(&target);
        let not_bytes =
            || ApiError::from(message::not_writable_bytes("target", args::value(env, target))).throw(env);
        if !values::is_bytes(env, target) {
            return Err(not_bytes());
        }
        // Detached first: a target that is one of this reader's own slices is empty by then (and
        // refused: it would read nothing, forever), and the writer's room (the only other view of
        // this ring JS can hold) has no unread byte in it, so the unread bytes are never in `target`.
        let had = values::byte_length(env, target).unwrap_or(0);
        let reader = side.detached(env, "CircularReader").or_throw(env)?;
        if had > 0 && values::byte_length(env, target) == Some(0) {
            return Err(ApiError::from(message::read_into_own_slice()).throw(env));
        }
        let Some(data) = reader.reader.try_slice() else { return Ok(-1.0) };
        let Some(n) = values::copy_into(env, target, data) else { return Err(not_bytes()) };
        if n > 0 {
            reader.reader.try_consume(n).map_err(ring_error).or_throw(env)?;
        }
        Ok(n as f64)
    }

    /// Moves the reader into a handle that `postMessage` can carry to a worker, where
    /// `CircularReader.fromHandle` takes it back. Until claimed, it holds the writer back like any
    /// reader. This object cannot be used after.
    #[napi(js_name = "toHandle", catch_unwind)]
    pub fn move_to_handle(&mut self, env: &Env) -> napi::Result<CircularHandle> {
        let mut side = self.side.borrow_mut();
        side.live("CircularReader").or_throw(env)?;
        let reader = side.close(env, "moved to a handle");
        let reader = reader.ok_or_else(|| ApiError::moved_view("CircularReader.toHandle")).or_throw(env)?;
        Ok(park(Handed::Reader(reader), "CircularReader"))
    }

    /// The reader a handle carries; each handle can be claimed once.
    #[napi(js_name = "fromHandle", catch_unwind)]
    pub fn from_handle(env: &Env, handle: Unknown<'_>) -> napi::Result<JsCircularReader> {
        match claim(env, &handle, "CircularReader").or_throw(env)? {
            Handed::Reader(reader) => Ok(JsCircularReader::new(reader)),
            Handed::Writer(_) => unreachable!("claim checks the class"),
        }
    }

    /// Why the writer aborted (`CircularWriter.abort()`), once it has: `null` while it writes and
    /// after a normal end. Where `slice()` and `read()` give `null`, it tells an aborted stream from
    /// a finished one.
    #[napi(getter, js_name = "abortReason", catch_unwind)]
    pub fn abort_reason(&self, env: &Env) -> napi::Result<Option<String>> {
        let side = self.side.borrow();
        side.live("CircularReader").map(|r| r.reader.abort_reason().map(String::from)).or_throw(env)
    }

    /// Drops the reader: it no longer holds the writer back.
    #[napi(catch_unwind)]
    pub fn free(&mut self, env: &Env) {
        let _wakes = WakeScope::enter(env);
        drop(self.side.borrow_mut().close(env, "freed"));
    }
}
