//! Promises settled by blocking work run on the libuv thread pool.
//!
//! [`queue`] runs `compute` on a thread-pool thread (Node-API async work), so disk reads, scans and
//! saves never block the event loop, then runs `settle` on the JS thread to turn the result into a JS
//! value and settles the Promise with it. Errors reject the Promise with the class their [`ApiError`]
//! names (napi-rs's own async tasks would reject with a plain `Error`). A panic in either step becomes
//! a rejection, never an abort. Pending work keeps the event loop alive, as pending I/O does.

use std::ffi::c_void;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::ptr;

use napi::{sys, Env};

use super::ok;
use super::values::{error_object, Raw};
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
}

/// Runs `compute` on the thread pool and returns a Promise of `settle(its result)`; see the module
/// docs.
pub(crate) fn queue<T: Send + 'static>(
    env: &Env,
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
    let Work { outcome, settle, deferred, work: handle, .. } = *work;
    let env = Env::from_raw(env);
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
                let mut reason = error_object(env, &error).unwrap_or(ptr::null_mut());
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
