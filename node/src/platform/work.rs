//! Promises settled by blocking work run on the libuv thread pool.
//!
//! [`queue`] runs `compute` on a thread-pool thread (Node-API async work), so disk reads, scans and
//! saves never block the event loop, then runs `settle` on the JS thread to turn the result into a JS
//! value and settles the Promise with it. Errors reject the Promise with the class their [`ApiError`]
//! names (napi-rs's own async tasks would reject with a plain `Error`). A panic in either step becomes
//! a rejection, never an abort. Pending work keeps the event loop alive, as pending I/O does.
//!
//! Each piece of work has an id (per environment), written into the caller's ticket (`{ id }`, made
//! by `js/waits.mjs`) for [`cancel`], which takes work out of the pool's queue if no thread has started
//! it yet (`napi_cancel_async_work`): it then never runs, and its Promise rejects. Work a thread has
//! started runs to its end: a disk read or a scan cannot be stopped half-way from outside. [`pending`]
//! and [`ran`] count the work of an environment, test hooks.

use std::cell::RefCell;
use std::collections::HashMap;
use std::ffi::c_void;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::ptr;

use napi::{sys, Env};

use super::ok;
use super::values::{self, error_object, Raw};
use crate::error::{ApiError, ApiResult};

type Compute<T> = Box<dyn FnOnce() -> ApiResult<T> + Send>;
type Settle<T> = Box<dyn FnOnce(&Env, T) -> ApiResult<Raw> + Send>;

/// One queued piece of work: `compute` is taken on the pool thread, which leaves `outcome`; the rest
/// is used on the JS thread only.
struct Work<T> {
    compute: Option<Compute<T>>,
    outcome: Option<ApiResult<T>>,
    settle: Settle<T>,
    deferred: sys::napi_deferred,
    work: sys::napi_async_work,
    /// Its id among the environment's [`Jobs`].
    id: u64,
}

/// The work of one environment that has not completed, for [`cancel`] and the test hooks.
#[derive(Default)]
struct Jobs {
    /// Queued or running, by id: the handle `napi_cancel_async_work` takes. An entry leaves when its
    /// work completes, or at once when it is cancelled.
    pending: HashMap<u64, sys::napi_async_work>,
    next_id: u64,
    /// How many pieces of work ran their computation (counted when they complete).
    ran: u64,
}

thread_local! {
    /// The work of the environments on this thread, by `napi_env` (JS-thread state only).
    static JOBS: RefCell<HashMap<usize, Jobs>> = RefCell::new(HashMap::new());
}

fn key(env: &Env) -> usize {
    env.raw() as usize
}

/// Runs `compute` on the thread pool and returns a Promise of `settle(its result)`; see the module
/// docs. `ticket` (an object, when the caller can cancel) receives the work's `id` for [`cancel`].
pub(crate) fn queue<T: Send + 'static>(
    env: &Env,
    ticket: Option<sys::napi_value>,
    compute: impl FnOnce() -> ApiResult<T> + Send + 'static,
    settle: impl FnOnce(&Env, T) -> ApiResult<Raw> + Send + 'static,
) -> napi::Result<Raw> {
    let mut promise = ptr::null_mut();
    let mut deferred = ptr::null_mut();
    let mut name = ptr::null_mut();
    // The resource name async hooks and diagnostics show.
    let label = "omnibuf";
    // SAFETY: out-pointers are valid locals; the label pointer and length describe `label`; `env` is
    // the current call's.
    let created = unsafe {
        ok(sys::napi_create_string_utf8(env.raw(), label.as_ptr().cast(), label.len() as isize, &mut name))
            && ok(sys::napi_create_promise(env.raw(), &mut deferred, &mut promise))
    };
    if !created {
        return Err(napi::Error::from_reason("could not create a Promise"));
    }
    let data = Box::into_raw(Box::new(Work {
        compute: Some(Box::new(compute) as Compute<T>),
        outcome: None,
        settle: Box::new(settle),
        deferred,
        work: ptr::null_mut(),
        id: next_id(env),
    }));
    // SAFETY: `data` is a live box that `complete` takes back exactly once (and only if the work was
    // queued); `execute` and `complete` are instantiated for the same `T`; out-pointers are valid.
    unsafe {
        let mut work = ptr::null_mut();
        if ok(sys::napi_create_async_work(
            env.raw(),
            ptr::null_mut(),
            name,
            Some(execute::<T>),
            Some(complete::<T>),
            data.cast(),
            &mut work,
        )) {
            (*data).work = work;
            if ok(sys::napi_queue_async_work(env.raw(), work)) {
                let id = (*data).id;
                JOBS.with_borrow_mut(|jobs| jobs.entry(key(env)).or_default().pending.insert(id, work));
                if let Some(ticket) = ticket {
                    values::set_number(env, ticket, "id", id as f64);
                }
                return Ok(Raw(promise));
            }
            sys::napi_delete_async_work(env.raw(), work);
        }
        // Not queued: nobody else holds the box. The Promise was never returned, so it can stay
        // pending and be collected.
        drop(Box::from_raw(data));
    }
    Err(napi::Error::from_reason("could not queue work on the thread pool"))
}

/// On a thread-pool thread: runs the computation.
unsafe extern "C" fn execute<T>(_env: sys::napi_env, data: *mut c_void) {
    // SAFETY: `data` is the box of `queue`; while the work runs, only this thread touches it (the JS
    // thread waits for `complete`), and it touches only `compute` and `outcome`, which are `Send`.
    let work = unsafe { &mut *data.cast::<Work<T>>() };
    if let Some(compute) = work.compute.take() {
        work.outcome = Some(catch_unwind(AssertUnwindSafe(compute)).unwrap_or_else(|_| {
            Err(ApiError::error("omnibuf: internal error (a panic) in background work; this is a bug"))
        }));
    }
}

/// On the JS thread, after `execute` (or instead of it, if the work was cancelled): settles the
/// Promise and frees the work.
unsafe extern "C" fn complete<T>(env: sys::napi_env, status: sys::napi_status, data: *mut c_void) {
    // SAFETY: `data` is the box of `queue`, handed back once, after `execute` finished with it.
    let work = unsafe { Box::from_raw(data.cast::<Work<T>>()) };
    let Work { outcome, settle, deferred, work: handle, id, .. } = *work;
    let env = Env::from_raw(env);
    JOBS.with_borrow_mut(|jobs| {
        if let Some(jobs) = jobs.get_mut(&key(&env)) {
            jobs.pending.remove(&id);
            jobs.ran += u64::from(outcome.is_some());
        }
    });
    let outcome = match outcome {
        Some(outcome) if ok(status) => outcome,
        _ => Err(ApiError::error("omnibuf: background work was cancelled")),
    };
    let settled = outcome.and_then(|value| {
        catch_unwind(AssertUnwindSafe(|| settle(&env, value))).unwrap_or_else(|_| {
            Err(ApiError::error("omnibuf: internal error (a panic) while settling a Promise; this is a bug"))
        })
    });
    // SAFETY: the deferred was created in this environment and is not settled yet; the work handle
    // is deleted once, after its last callback.
    unsafe {
        settle_deferred(&env, deferred, settled);
        sys::napi_delete_async_work(env.raw(), handle);
    }
}

/// A new id for work of this environment; the first use registers the cleanup of its [`Jobs`].
fn next_id(env: &Env) -> u64 {
    let (id, first) = JOBS.with_borrow_mut(|jobs| {
        let first = !jobs.contains_key(&key(env));
        let jobs = jobs.entry(key(env)).or_default();
        jobs.next_id += 1;
        (jobs.next_id, first)
    });
    if first {
        // SAFETY: the hook's argument is the env itself, which outlives its own cleanup hooks.
        unsafe { sys::napi_add_env_cleanup_hook(env.raw(), Some(drop_jobs), env.raw().cast()) };
    }
    id
}

/// The environment shuts down: forget its work (Node-API deletes what is still queued).
unsafe extern "C" fn drop_jobs(env: *mut c_void) {
    let _ = JOBS.try_with(|jobs| jobs.borrow_mut().remove(&(env as usize)));
}

/// Cancels work `id` if no thread has started it: it leaves the pool's queue and never runs, and its
/// Promise rejects (with an `Error`; the JS layer has rejected its own Promise with an `AbortError`
/// already). Returns whether it was cancelled: `false` for work that is running or done.
pub(crate) fn cancel(env: &Env, id: u64) -> bool {
    let Some(work) = JOBS.with_borrow(|jobs| jobs.get(&key(env))?.pending.get(&id).copied()) else {
        return false;
    };
    // SAFETY: `work` is pending (its entry leaves in `complete`, which deletes it, on this same thread),
    // so the handle is live; Node-API refuses (napi_generic_failure) once a thread has started it.
    let cancelled = ok(unsafe { sys::napi_cancel_async_work(env.raw(), work) });
    if cancelled {
        // `complete` still runs (with `napi_cancelled`) and settles the Promise; it counts as pending
        // no more.
        JOBS.with_borrow_mut(|jobs| jobs.get_mut(&key(env)).map(|jobs| jobs.pending.remove(&id)));
    }
    cancelled
}

/// How many pieces of work of this environment are queued or running (a test hook).
pub(crate) fn pending(env: &Env) -> usize {
    JOBS.with_borrow(|jobs| jobs.get(&key(env)).map_or(0, |jobs| jobs.pending.len()))
}

/// How many pieces of work of this environment ran their computation so far (a test hook: cancelled
/// work never does).
pub(crate) fn ran(env: &Env) -> u64 {
    JOBS.with_borrow(|jobs| jobs.get(&key(env)).map_or(0, |jobs| jobs.ran))
}

/// Resolves or rejects `deferred` with `outcome`; an error rejects with an object of its class.
///
/// # Safety
///
/// `deferred` belongs to `env` and has not been settled: this settles it, so it must not be used again.
unsafe fn settle_deferred(env: &Env, deferred: sys::napi_deferred, outcome: ApiResult<Raw>) {
    // SAFETY: the caller hands over an unsettled deferred of `env`; `reason` is a valid out-pointer.
    unsafe {
        match outcome {
            Ok(Raw(value)) => sys::napi_resolve_deferred(env.raw(), deferred, value),
            Err(error) => {
                let mut reason =
                    error_object(env, error.class, &error.message, error.code).unwrap_or(ptr::null_mut());
                if reason.is_null() {
                    sys::napi_get_undefined(env.raw(), &mut reason);
                }
                sys::napi_reject_deferred(env.raw(), deferred, reason)
            }
        };
    }
}

/// A Promise already rejected with `error`: how a Promise-returning method reports bad arguments.
pub(crate) fn rejected(env: &Env, error: ApiError) -> napi::Result<Raw> {
    let mut promise = ptr::null_mut();
    let mut deferred = ptr::null_mut();
    // SAFETY: out-pointers are valid locals; the new deferred is settled at once, exactly once.
    unsafe {
        if !ok(sys::napi_create_promise(env.raw(), &mut deferred, &mut promise)) {
            return Err(napi::Error::from_reason("could not create a Promise"));
        }
        settle_deferred(env, deferred, Err(error));
    }
    Ok(Raw(promise))
}
