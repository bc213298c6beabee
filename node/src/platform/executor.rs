//! Promises settled by Rust futures on the JS thread, woken from any thread.
//!
//! [`spawn`] takes a poll function (a future's `poll`, in effect), polls it once at once, and returns a
//! Promise. While it is pending, its waker may be called from any thread (a pool release in a
//! finalizer, a ring reader in a worker); the waker queues the operation's id on a Node-API
//! threadsafe function, whose callback runs on the JS thread, polls again and settles the Promise
//! when the poll is ready. No thread blocks and no thread is spawned.
//!
//! One executor per JS environment (the main thread and each worker have their own), created on first
//! use. Its threadsafe function keeps the event loop alive while an operation that asked for it
//! (`keep_alive`, the JS `{ ref: true }`) is pending, as pending I/O does; the others let the process
//! exit when nothing else keeps it alive (their wake-up, from whichever thread, still arrives through
//! the loop while it runs).
//!
//! A wake-up from the JS thread itself inside a [`WakeScope`] (the calls that make room, data or
//! budget: a ring's `consume()` and `produce()`, a pooled buffer's `free()`) skips the threadsafe
//! function: the call queues a microtask that polls the operation, so its Promise settles in this
//! turn's microtasks instead of a turn of the event loop later, and still after the code that made
//! the call (an abort right after a `free()` is in time, as in the wasm build).
//!
//! [`cancel`] drops a pending operation (its future: a pool wait leaves the queue, a ring wait lets go
//! of its waker) and rejects its Promise with the value JS gives, for an `AbortSignal`. When the
//! environment shuts down, pending operations are dropped and wakers become no-ops: they check, under
//! a lock, that the threadsafe function still exists.

use std::cell::RefCell;
use std::collections::HashMap;
use std::ffi::c_void;
use std::ptr;
use std::sync::{Arc, Mutex, PoisonError};
use std::task::{Context, Poll, Wake, Waker};

use napi::{sys, Env, ValueType};

use super::ok;
use super::values::{self, error_object, Raw};
use crate::error::ApiError;

/// One poll of an operation: ready with the value to resolve with, or the error to reject with.
pub(crate) type PollFn = Box<dyn FnMut(&Env, &mut Context<'_>) -> Poll<Result<Raw, ApiError>>>;

struct Operation {
    deferred: sys::napi_deferred,
    poll: PollFn,
    waker: Waker,
    /// Whether it keeps the event loop alive while pending.
    keep_alive: bool,
}

/// The threadsafe function wakers call; `None` once it is gone.
struct WakeTarget {
    tsfn: Mutex<Option<Tsfn>>,
    /// The environment's JS thread.
    thread: std::thread::ThreadId,
    /// Wake-ups sent from the JS thread itself and not yet run: the function stays referenced until
    /// they are, or an unref'd loop with nothing else to do would exit with them queued (a wait
    /// served by a `free()` on the same thread would never settle). Wake-ups from other threads
    /// need not: the sending thread keeps the process alive until the loop takes them.
    in_flight: std::sync::atomic::AtomicUsize,
}

#[derive(Clone, Copy)]
struct Tsfn(sys::napi_threadsafe_function);

// SAFETY: a threadsafe function is made to be called from any thread; `WakeTarget` guards its lifetime.
unsafe impl Send for Tsfn {}

struct OperationWaker {
    target: Arc<WakeTarget>,
    id: u64,
    /// The `napi_env` of the environment, used only on its thread.
    env: usize,
}

impl Wake for OperationWaker {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        // `HELD` is per thread and holds only its own environment's wake-ups: a wake-up from any
        // other thread finds no scope there and takes the loop.
        if !hold_for_scope(self.env, self.id) {
            send_through_loop(&self.target, self.env, self.id);
        }
    }
}

/// Queues the operation `id` of environment `env` on the threadsafe function of `target`, whose
/// callback polls it on the JS thread, a turn of the event loop later.
fn send_through_loop(target: &WakeTarget, env: usize, id: u64) {
    use std::sync::atomic::Ordering::Relaxed;
    let local = std::thread::current().id() == target.thread;
    let sent = {
        let tsfn = target.tsfn.lock().unwrap_or_else(PoisonError::into_inner);
        let Some(Tsfn(tsfn)) = *tsfn else { return };
        if local {
            target.in_flight.fetch_add(1, Relaxed);
        }
        // The id travels in the data pointer, shifted, its low bit saying whether it was counted
        // in `in_flight`; `run` turns it back.
        let data = ((id as usize) << 1 | local as usize) as *mut c_void;
        // SAFETY: the lock keeps `finalize_tsfn` from clearing (and Node-API from freeing) the function
        // while we call it.
        let status = unsafe {
            sys::napi_call_threadsafe_function(tsfn, data, sys::ThreadsafeFunctionCallMode::nonblocking)
        };
        if local && !ok(status) {
            target.in_flight.fetch_sub(1, Relaxed);
        }
        ok(status)
    };
    if local && sent {
        // On the JS thread: reference the function now, unless the executor is in use, which
        // then updates it itself before it returns to the loop.
        let env_handle = Env::from_raw(env as sys::napi_env);
        let _ = EXECUTORS.try_with(|executors| {
            if let Ok(mut executors) = executors.try_borrow_mut() {
                if let Some(executor) = executors.get_mut(&env) {
                    executor.keep_loop_alive(&env_handle);
                }
            }
        });
    }
}

struct Executor {
    target: Arc<WakeTarget>,
    tsfn: sys::napi_threadsafe_function,
    operations: HashMap<u64, Operation>,
    next_id: u64,
    /// How many of `operations` have `keep_alive`.
    keeping_alive: usize,
    /// The threadsafe function is referenced while operations with `keep_alive` are pending.
    referenced: bool,
    /// `globalThis.queueMicrotask`, and [`microtask`] as a JS function, for [`WakeScope`]; `None`
    /// where they could not be had (wake-ups then all take the threadsafe function).
    queue_microtask: Option<JsRef>,
    microtask: Option<JsRef>,
}

thread_local! {
    /// The executors of the environments on this thread, by `napi_env`.
    static EXECUTORS: RefCell<HashMap<usize, Executor>> = RefCell::new(HashMap::new());

    /// Wake-ups held for this thread's microtask (see [`WakeScope`]).
    static HELD: RefCell<Held> = const { RefCell::new(Held { depth: 0, env: 0, woken: Vec::new(), queued: false }) };
}

/// Wake-ups made on the JS thread inside [`WakeScope`]s, held for a microtask that polls them.
struct Held {
    /// How many scopes are open (a call made from inside another one's arguments).
    depth: usize,
    /// The environment whose operations are held (a thread has one; another one's wake-ups take the
    /// threadsafe function).
    env: usize,
    /// The operations woken, in order, not yet polled.
    woken: Vec<u64>,
    /// Whether the microtask that polls them is queued.
    queued: bool,
}

/// Holds the operation `id` of environment `env`, woken on its JS thread, for the microtask; false
/// outside a scope (the wake-up then takes the threadsafe function, as from any other thread).
fn hold_for_scope(env: usize, id: u64) -> bool {
    HELD.try_with(|held| match held.try_borrow_mut() {
        Ok(mut held) if held.depth > 0 && held.env == env => {
            held.woken.push(id);
            true
        }
        _ => false,
    })
    .unwrap_or(false)
}

/// Open for the length of a call that can wake operations of its own thread (a ring side making room
/// or data, a pooled buffer given back): their wake-ups are held, and when the outermost scope
/// closes, one microtask is queued that polls those operations and settles their Promises. That
/// spares each the round trip through the event loop that the threadsafe function costs, while the
/// Promises still settle after the JS code that made the call, as an operation woken from another
/// thread would. The microtask is queued from the call, where calling JS is allowed; a wake-up made
/// anywhere else (a finalizer) takes the threadsafe function.
pub(crate) struct WakeScope<'e> {
    env: &'e Env,
}

impl<'e> WakeScope<'e> {
    pub(crate) fn enter(env: &'e Env) -> WakeScope<'e> {
        HELD.with_borrow_mut(|held| {
            if held.depth == 0 && held.woken.is_empty() {
                held.env = key(env);
            }
            held.depth += 1;
        });
        WakeScope { env }
    }
}

impl Drop for WakeScope<'_> {
    fn drop(&mut self) {
        let queue = HELD.with_borrow_mut(|held| {
            held.depth -= 1;
            let queue = held.depth == 0 && !held.woken.is_empty() && !held.queued;
            held.queued |= queue;
            queue
        });
        if queue && !queue_microtask(self.env) {
            // No microtask (an exception is pending, or there is no queueMicrotask): the wake-ups go
            // round the event loop after all.
            let woken = HELD.with_borrow_mut(|held| {
                held.queued = false;
                std::mem::take(&mut held.woken)
            });
            let target =
                EXECUTORS.with_borrow(|executors| executors.get(&key(self.env)).map(|e| e.target.clone()));
            if let Some(target) = target {
                for id in woken {
                    send_through_loop(&target, key(self.env), id);
                }
            }
        }
    }
}

/// Polls the held operations, one batch: the scope it opens queues another microtask for what
/// their polls wake (one operation handing on to another).
fn run_held(env: &Env) {
    let _scope = WakeScope::enter(env);
    let woken = HELD.with_borrow_mut(|held| std::mem::take(&mut held.woken));
    for id in woken {
        run_operation(env, id);
    }
}

/// Queues [`microtask`] with the environment's `queueMicrotask`; false when it cannot be: none is
/// known, or an exception is pending (the call's own error, which must reach JS untouched).
fn queue_microtask(env: &Env) -> bool {
    let Some((queue, task)) = EXECUTORS.with_borrow(|executors| {
        let executor = executors.get(&key(env))?;
        Some((executor.queue_microtask?, executor.microtask?))
    }) else {
        return false;
    };
    let (mut global, mut queue_fn, mut task_fn, mut result) =
        (ptr::null_mut(), ptr::null_mut(), ptr::null_mut(), ptr::null_mut());
    let mut pending = false;
    // SAFETY: the references belong to this environment, on whose thread we run, inside a call of it
    // (a handle scope is open); out-pointers are valid locals.
    unsafe {
        if !ok(sys::napi_is_exception_pending(env.raw(), &mut pending)) || pending {
            return false;
        }
        let queued = ok(sys::napi_get_global(env.raw(), &mut global))
            && ok(sys::napi_get_reference_value(env.raw(), queue.0, &mut queue_fn))
            && ok(sys::napi_get_reference_value(env.raw(), task.0, &mut task_fn))
            && !queue_fn.is_null()
            && ok(sys::napi_call_function(env.raw(), global, queue_fn, 1, &task_fn, &mut result));
        if !queued {
            // What queueMicrotask threw, if anything, is ours, not the caller's: served anyway.
            let mut thrown = ptr::null_mut();
            sys::napi_get_and_clear_last_exception(env.raw(), &mut thrown);
        }
        queued
    }
}

/// The microtask [`WakeScope`] queues: polls the held operations.
unsafe extern "C" fn microtask(env: sys::napi_env, _info: sys::napi_callback_info) -> sys::napi_value {
    let env = Env::from_raw(env);
    HELD.with_borrow_mut(|held| held.queued = false);
    // A panic must not cross into JS; `poll_once` catches those of the polls already.
    let _ = std::panic::catch_unwind(|| run_held(&env));
    ptr::null_mut()
}

/// A reference to a JS value, kept by an [`Executor`].
#[derive(Clone, Copy)]
struct JsRef(sys::napi_ref);

/// Starts `poll` and returns a Promise of its outcome and the operation's id (for [`cancel`]). While
/// it is pending it keeps the event loop alive if `keep_alive`. See the module docs.
pub(crate) fn spawn(env: &Env, poll: PollFn, keep_alive: bool) -> napi::Result<(Raw, u64)> {
    let mut promise = ptr::null_mut();
    let mut deferred = ptr::null_mut();
    // SAFETY: out-pointers are valid locals; `env` is the current call's.
    if !ok(unsafe { sys::napi_create_promise(env.raw(), &mut deferred, &mut promise) }) {
        return Err(napi::Error::from_reason("could not create a Promise"));
    }
    let target = executor_target(env)?;
    let id = EXECUTORS.with_borrow_mut(|executors| {
        let executor = executors.get_mut(&key(env)).expect("created by executor_target");
        executor.next_id += 1;
        executor.next_id
    });
    let waker = Waker::from(Arc::new(OperationWaker { target, id, env: key(env) }));
    let operation = Operation { deferred, poll, waker, keep_alive };
    let pending = poll_once(env, operation);
    EXECUTORS.with_borrow_mut(|executors| {
        let executor = executors.get_mut(&key(env)).expect("created by executor_target");
        if let Some(operation) = pending {
            executor.keeping_alive += usize::from(operation.keep_alive);
            executor.operations.insert(id, operation);
        }
        executor.keep_loop_alive(env);
    });
    Ok((Raw(promise), id))
}

/// Cancels the pending operation `id`: drops its future and rejects its Promise with `reason`.
/// Returns whether it was pending (an operation that settled already is left as it is).
pub(crate) fn cancel(env: &Env, id: u64, reason: Raw) -> bool {
    let operation = EXECUTORS.with_borrow_mut(|executors| {
        let executor = executors.get_mut(&key(env))?;
        let operation = executor.operations.remove(&id)?;
        executor.keeping_alive -= usize::from(operation.keep_alive);
        executor.keep_loop_alive(env);
        Some(operation)
    });
    let Some(Operation { deferred, poll, .. }) = operation else { return false };
    // Outside the borrow of the executors: dropping a future may wake others (a pool wait handing
    // its turn on), which only queues their ids.
    drop(std::panic::catch_unwind(std::panic::AssertUnwindSafe(move || drop(poll))));
    EXECUTORS.with_borrow_mut(|executors| {
        if let Some(executor) = executors.get_mut(&key(env)) {
            executor.keep_loop_alive(env); // a wake-up the drop sent keeps the loop until it runs
        }
    });
    // SAFETY: the deferred was created in this environment and was not settled (its operation was
    // still pending); it is settled here, once, and dropped with the operation.
    unsafe { sys::napi_reject_deferred(env.raw(), deferred, reason.0) };
    true
}

/// How many operations of this environment are pending (a test hook: none are left behind).
pub(crate) fn pending(env: &Env) -> usize {
    EXECUTORS.with_borrow(|executors| executors.get(&key(env)).map_or(0, |e| e.operations.len()))
}

impl Executor {
    /// References the threadsafe function while operations that keep the loop alive are pending, and
    /// only then.
    fn keep_loop_alive(&mut self, env: &Env) {
        let pending =
            self.keeping_alive > 0 || self.target.in_flight.load(std::sync::atomic::Ordering::Relaxed) > 0;
        if pending != self.referenced {
            // SAFETY: the function belongs to this environment, on whose thread we run.
            unsafe {
                if pending {
                    sys::napi_ref_threadsafe_function(env.raw(), self.tsfn);
                } else {
                    sys::napi_unref_threadsafe_function(env.raw(), self.tsfn);
                }
            }
            self.referenced = pending;
        }
    }
}

fn key(env: &Env) -> usize {
    env.raw() as usize
}

/// Polls `operation`; settles its Promise and returns `None` when it is ready.
fn poll_once(env: &Env, mut operation: Operation) -> Option<Operation> {
    let waker = operation.waker.clone();
    let mut cx = Context::from_waker(&waker);
    let outcome =
        match std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| (operation.poll)(env, &mut cx))) {
            Ok(Poll::Pending) => return Some(operation),
            Ok(Poll::Ready(outcome)) => outcome,
            Err(_) => Err(ApiError::error("omnibuf: internal error (a panic) while waiting; this is a bug")),
        };
    // SAFETY: the deferred was created in this environment and is settled exactly once, here.
    unsafe {
        match outcome {
            Ok(Raw(value)) => sys::napi_resolve_deferred(env.raw(), operation.deferred, value),
            Err(error) => {
                let mut reason =
                    error_object(env, error.class, &error.message, error.code).unwrap_or(ptr::null_mut());
                if reason.is_null() {
                    sys::napi_get_undefined(env.raw(), &mut reason);
                }
                sys::napi_reject_deferred(env.raw(), operation.deferred, reason)
            }
        }
    };
    None
}

/// The wake target of this environment's executor, creating the executor on first use.
fn executor_target(env: &Env) -> napi::Result<Arc<WakeTarget>> {
    if let Some(target) =
        EXECUTORS.with_borrow(|executors| executors.get(&key(env)).map(|e| e.target.clone()))
    {
        return Ok(target);
    }
    let target = Arc::new(WakeTarget {
        tsfn: Mutex::new(None),
        thread: std::thread::current().id(),
        in_flight: std::sync::atomic::AtomicUsize::new(0),
    });
    let mut name = ptr::null_mut();
    let mut tsfn = ptr::null_mut();
    let label = "omnibuf wake-up";
    let finalize_data = Arc::into_raw(target.clone()).cast_mut();
    // SAFETY: no JS function (the callback `run` does the work); the finalize data is an `Arc` leaked
    // for `finalize_tsfn`, which takes it back once; out-pointers are valid locals.
    let created = unsafe {
        ok(sys::napi_create_string_utf8(env.raw(), label.as_ptr().cast(), label.len() as isize, &mut name))
            && ok(sys::napi_create_threadsafe_function(
                env.raw(),
                ptr::null_mut(),
                ptr::null_mut(),
                name,
                0,
                1,
                finalize_data.cast(),
                Some(finalize_tsfn),
                ptr::null_mut(),
                Some(run),
                &mut tsfn,
            ))
    };
    if !created {
        // SAFETY: Node-API did not take the finalize data.
        drop(unsafe { Arc::from_raw(finalize_data) });
        return Err(napi::Error::from_reason("could not create the wake-up channel for Promises"));
    }
    // SAFETY: the function was just created in this environment; the hook's argument is the env itself,
    // which outlives its own cleanup hooks.
    unsafe {
        sys::napi_unref_threadsafe_function(env.raw(), tsfn);
        sys::napi_add_env_cleanup_hook(env.raw(), Some(drop_executor), env.raw().cast());
    }
    *target.tsfn.lock().unwrap_or_else(PoisonError::into_inner) = Some(Tsfn(tsfn));
    let (queue_microtask, microtask) = microtask_refs(env);
    let executor = Executor {
        target: target.clone(),
        tsfn,
        operations: HashMap::new(),
        next_id: 0,
        keeping_alive: 0,
        referenced: false,
        queue_microtask,
        microtask,
    };
    EXECUTORS.with_borrow_mut(|executors| executors.insert(key(env), executor));
    Ok(target)
}

/// References to `globalThis.queueMicrotask` and to [`microtask`] as a JS function, each `None` when
/// it could not be made. They live as long as the environment (its teardown frees them).
fn microtask_refs(env: &Env) -> (Option<JsRef>, Option<JsRef>) {
    let reference = |value: sys::napi_value| {
        let mut reference = ptr::null_mut();
        // SAFETY: `value` is a live value of this environment; the out-pointer is a valid local.
        let made = !value.is_null()
            && ok(unsafe { sys::napi_create_reference(env.raw(), value, 1, &mut reference) });
        made.then_some(JsRef(reference))
    };
    let (mut global, mut queue, mut task) = (ptr::null_mut(), ptr::null_mut(), ptr::null_mut());
    let name = "omnibufWakeUps";
    // SAFETY: called on the environment's thread inside one of its calls; out-pointers are valid
    // locals; the property name is a NUL-terminated literal.
    unsafe {
        if !(ok(sys::napi_get_global(env.raw(), &mut global))
            && ok(sys::napi_get_named_property(env.raw(), global, c"queueMicrotask".as_ptr(), &mut queue)))
        {
            queue = ptr::null_mut();
        }
        if !ok(sys::napi_create_function(
            env.raw(),
            name.as_ptr().cast(),
            name.len() as isize,
            Some(microtask),
            ptr::null_mut(),
            &mut task,
        )) {
            task = ptr::null_mut();
        }
    }
    if !queue.is_null() && values::type_of(env, queue) != ValueType::Function {
        queue = ptr::null_mut();
    }
    (reference(queue), reference(task))
}

/// The threadsafe function's callback, on the JS thread: polls the operation `data` names.
unsafe extern "C" fn run(
    env: sys::napi_env,
    _js_callback: sys::napi_value,
    _context: *mut c_void,
    data: *mut c_void,
) {
    if env.is_null() {
        return; // the function is being torn down
    }
    let env = Env::from_raw(env);
    let id = (data as usize >> 1) as u64;
    if data as usize & 1 == 1 {
        EXECUTORS.with_borrow(|executors| {
            if let Some(executor) = executors.get(&key(&env)) {
                executor.target.in_flight.fetch_sub(1, std::sync::atomic::Ordering::Relaxed);
            }
        });
    }
    run_operation(&env, id);
}

/// Polls the operation `id` (settling its Promise when it is ready), if it is still pending.
fn run_operation(env: &Env, id: u64) {
    let Some(operation) = EXECUTORS.with_borrow_mut(|executors| {
        let executor = executors.get_mut(&key(env))?;
        let operation = executor.operations.remove(&id);
        if operation.is_none() {
            executor.keep_loop_alive(env);
        }
        operation
    }) else {
        return; // woken again after it settled (or was cancelled)
    };
    let keep_alive = operation.keep_alive;
    let pending = poll_once(env, operation);
    EXECUTORS.with_borrow_mut(|executors| {
        if let Some(executor) = executors.get_mut(&key(env)) {
            match pending {
                Some(operation) => {
                    executor.operations.insert(id, operation);
                }
                None => executor.keeping_alive -= usize::from(keep_alive),
            }
            executor.keep_loop_alive(env);
        }
    });
}

/// Node-API frees the threadsafe function: wakers must not call it any more.
unsafe extern "C" fn finalize_tsfn(_env: sys::napi_env, data: *mut c_void, _hint: *mut c_void) {
    // SAFETY: `data` is the `Arc` leaked in `executor_target`; Node-API finalizes once.
    let target = unsafe { Arc::from_raw(data.cast::<WakeTarget>().cast_const()) };
    *target.tsfn.lock().unwrap_or_else(PoisonError::into_inner) = None;
}

/// The environment shuts down: drop its pending operations and silence their wakers.
unsafe extern "C" fn drop_executor(env: *mut c_void) {
    let key = env as usize;
    let executor = EXECUTORS.try_with(|executors| executors.borrow_mut().remove(&key)).ok().flatten();
    if let Some(executor) = executor {
        *executor.target.tsfn.lock().unwrap_or_else(PoisonError::into_inner) = None;
        // The operations' futures drop here (a pool wait leaves its queue); their Promises go with the
        // environment.
        drop(executor);
    }
}
