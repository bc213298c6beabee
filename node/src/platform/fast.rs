//! The calls JS makes once per buffer, as plain Node-API callbacks: the `ZeroCopyStorage`'s `view()`,
//! `length`, `sharers` and `free()` (which the JS `ZeroCopyBuffer` of `js/addon-zero-copy.mjs` calls; its
//! `slice()` and `free()` stay in JS), and the functions of handles that the JS `BufferPool` and
//! `PooledBuffer` of `js/addon-pool.mjs` call (`poolTryAcquire`, `pooledLength`, `pooledFree`, ...).
//! [`install`] puts them on the class prototype (in place of the napi-rs members of the same names)
//! and on the module's exports when the module loads.
//!
//! Why: napi-rs (3.16) wraps every method call in bookkeeping that guards Rust borrows against
//! re-entrant JS: a process-wide, mutex-protected hash map of live borrows, thread-local scope stacks
//! and heap allocations, per call. It makes each returned object through a per-thread map of wrapped
//! objects, with a boxed closure and an `Arc` per object (removed again by the finalizer). On this
//! project's VM that was most of the cost of a call: a getter took about as long as six of Node's own
//! `subarray()` calls.
//!
//! These callbacks do what the generated ones do, without that bookkeeping: they check the receiver's
//! class by the type tag napi-rs stamps on every instance (and throw a `TypeError` for another
//! receiver), convert arguments with the same checks and messages (`crate::args`), run under
//! `catch_unwind`, and throw the same errors. The borrow guard is not needed: none of them runs JS while
//! it holds a reference to a receiver or the handle table (they read numbers, strings and bytes, which
//! runs no JS, and make external Buffers, which runs none either).
//!
//! Pooled buffers are not wrapped objects: a wrapped object costs `napi_new_instance`, `napi_wrap`, a
//! type tag and a finalizer each, microseconds per `tryAcquire()`. They live in a table per JS
//! environment ([`EnvData`], `crate::handles`), and JS holds a number. So does a pool, for
//! `poolTryAcquire`: finding a wrapped receiver (its type tag and its wrap, two private-property reads
//! through V8's runtime) was a third of a `tryAcquire()`. The tables are the `data` of every callback
//! defined here and the environment's instance data (for the napi-rs methods that need them:
//! `acquire()`, the pool's constructor and `free()`); a cleanup hook lets go of what is left in them
//! when the environment goes away.
//!
//! This leans on one napi-rs detail that is public but hidden: its type tags (`TypeTag`). A napi-rs
//! upgrade has to be checked against this module; the JS tests that call these members on other
//! receivers would catch a change.

use std::cell::RefCell;
use std::ffi::{c_void, CStr};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::ptr;

use napi::bindgen_prelude::{JavaScriptClassExt, JsError, TypeTag};
use napi::{sys, Env, Status, ValueType};
use omnibuf::{BufferKind, BufferPool};

use super::ok;
use super::values::{self, Raw};
use crate::args;
use crate::error::{ApiError, ApiResult};
use crate::handles::Handles;
use crate::pool::PooledSlot;

/// What this module keeps for one JS environment: `data` of every callback [`install`] defines, and
/// the environment's instance data. Freed by an environment cleanup hook ([`drop_env_data`]).
struct EnvData {
    /// The environment, for the cleanup hook (which Node-API calls without one).
    env: sys::napi_env,
    /// The pooled buffers JS holds, by handle.
    pooled: RefCell<Handles<PooledSlot>>,
    /// A clone of each live pool, by the handle its JS object holds.
    pools: RefCell<Handles<BufferPool>>,
}

/// A class whose instances a fast path reads: its JS name and type tag.
pub(crate) trait Class: TypeTag + 'static {
    const NAME: &'static str;
}

/// One call: its receiver, its first `N` arguments (`undefined` where not passed) and the callback's
/// data.
struct Call<const N: usize> {
    this: sys::napi_value,
    args: [sys::napi_value; N],
    data: *const EnvData,
}

/// Reads the receiver, arguments and data of a call.
///
/// # Safety
/// `env` and `info` must be those Node-API passed to the running callback.
unsafe fn call_info<const N: usize>(env: sys::napi_env, info: sys::napi_callback_info) -> Option<Call<N>> {
    let mut argc = N;
    let mut args = [ptr::null_mut(); N];
    let mut this = ptr::null_mut();
    let mut data = ptr::null_mut();
    // SAFETY: the caller passes this callback's `env` and `info`; `args` has room for `argc` values
    // (Node-API fills those not passed with `undefined`), and the other out-pointers are valid locals.
    let status =
        unsafe { sys::napi_get_cb_info(env, info, &mut argc, args.as_mut_ptr(), &mut this, &mut data) };
    ok(status).then_some(Call { this, args, data: data.cast_const().cast() })
}

/// The native object behind `this` if it is an instance of `T`, by the type tag napi-rs (and
/// [`new_instance`]) stamp on every instance right after wrapping it.
fn receiver<T: Class>(env: &Env, this: sys::napi_value, member: &str) -> ApiResult<*mut T> {
    let mut tagged = false;
    let mut native = ptr::null_mut();
    // SAFETY: `this` is the receiver of the current call; out-pointers are valid locals. The tag is
    // only ever stamped on objects wrapping a `T` (napi-rs keys tags by the Rust class).
    let found = unsafe {
        ok(sys::napi_check_object_type_tag(env.raw(), this, &T::type_tag(), &mut tagged))
            && tagged
            && ok(sys::napi_unwrap(env.raw(), this, &mut native))
    };
    if found && !native.is_null() {
        return Ok(native.cast());
    }
    // A receiver that is not an object (`undefined`, `null`) leaves a pending exception behind.
    values::clear_exception(env);
    Err(ApiError::type_error(format!(
        "{name}.{member}: called on an object that is not a {name}",
        name = T::NAME
    )))
}

/// `value` as a missing optional argument (`undefined` or `null`, as napi-rs reads `Option`), or not.
fn optional(env: &Env, value: sys::napi_value) -> Option<sys::napi_value> {
    match values::type_of(env, value) {
        ValueType::Undefined | ValueType::Null => None,
        _ => Some(value),
    }
}

/// Runs a fast path: its result, or its error thrown (`ApiError`s with their class, napi-rs errors
/// and panics as plain `Error`s, as napi-rs throws them).
fn run(env: sys::napi_env, body: impl FnOnce(&Env) -> Result<sys::napi_value, Failure>) -> sys::napi_value {
    let wrapped = Env::from_raw(env);
    let outcome = catch_unwind(AssertUnwindSafe(|| body(&wrapped)));
    let error = match outcome {
        Ok(Ok(value)) => return value,
        Ok(Err(Failure::Api(e))) => e.throw(&wrapped),
        Ok(Err(Failure::Napi(e))) => e,
        Err(_) => napi::Error::from_reason("omnibuf: a panic in the addon (a bug); the call did nothing"),
    };
    if error.status != Status::PendingException {
        // SAFETY: `env` is the current callback's.
        unsafe { JsError::from(error).throw_into(env) };
    }
    ptr::null_mut()
}

/// Why a fast path failed.
enum Failure {
    Api(ApiError),
    Napi(napi::Error),
}

impl From<ApiError> for Failure {
    fn from(e: ApiError) -> Self {
        Failure::Api(e)
    }
}

impl From<napi::Error> for Failure {
    fn from(e: napi::Error) -> Self {
        Failure::Napi(e)
    }
}

/// A number, as napi-rs returns an `f64`.
fn number(env: &Env, n: f64) -> Result<sys::napi_value, Failure> {
    let mut value = ptr::null_mut();
    // SAFETY: `value` is a valid out-pointer.
    if ok(unsafe { sys::napi_create_double(env.raw(), n, &mut value) }) {
        Ok(value)
    } else {
        Err(napi::Error::from_reason("could not create a number").into())
    }
}

/// `undefined`.
fn undefined(env: &Env) -> Result<sys::napi_value, Failure> {
    let mut value = ptr::null_mut();
    // SAFETY: `value` is a valid out-pointer.
    if ok(unsafe { sys::napi_get_undefined(env.raw(), &mut value) }) {
        Ok(value)
    } else {
        Err(napi::Error::from_reason("could not get undefined").into())
    }
}

// The callbacks. Each borrows its receiver, or the handle table, only for the Rust work in the
// middle, never across a Node-API call that runs JS or makes an object of a napi-rs class.

unsafe extern "C" fn zero_copy_length(env: sys::napi_env, info: sys::napi_callback_info) -> sys::napi_value {
    use crate::buffer::JsZeroCopyStorage;
    run(env, |env| {
        // SAFETY: this callback's `env` and `info`.
        let call = unsafe { call_info::<0>(env.raw(), info) }.ok_or_else(bad_call)?;
        let this = receiver::<JsZeroCopyStorage>(env, call.this, "length")?;
        // SAFETY: `this` points to the live native object of the receiver (tag-checked); no other
        // reference to it is in use while this call runs (see the module docs).
        let length = unsafe { &*this }.len_checked()?;
        number(env, length as f64)
    })
}

unsafe extern "C" fn zero_copy_sharers(env: sys::napi_env, info: sys::napi_callback_info) -> sys::napi_value {
    use crate::buffer::JsZeroCopyStorage;
    run(env, |env| {
        // SAFETY: this callback's `env` and `info`.
        let call = unsafe { call_info::<0>(env.raw(), info) }.ok_or_else(bad_call)?;
        let this = receiver::<JsZeroCopyStorage>(env, call.this, "sharers")?;
        // SAFETY: as in `zero_copy_length`.
        let sharers = unsafe { &*this }.sharers_checked()?;
        number(env, sharers as f64)
    })
}

unsafe extern "C" fn zero_copy_free(env: sys::napi_env, info: sys::napi_callback_info) -> sys::napi_value {
    use crate::buffer::JsZeroCopyStorage;
    run(env, |env| {
        // SAFETY: this callback's `env` and `info`.
        let call = unsafe { call_info::<0>(env.raw(), info) }.ok_or_else(bad_call)?;
        let this = receiver::<JsZeroCopyStorage>(env, call.this, "free")?;
        // SAFETY: as in `zero_copy_length`; detaching views and dropping the buffer run no JS.
        unsafe { &mut *this }.free(env);
        undefined(env)
    })
}

unsafe extern "C" fn zero_copy_view(env: sys::napi_env, info: sys::napi_callback_info) -> sys::napi_value {
    use crate::buffer::JsZeroCopyStorage;
    run(env, |env| {
        // SAFETY: this callback's `env` and `info`.
        let call = unsafe { call_info::<3>(env.raw(), info) }.ok_or_else(bad_call)?;
        let this = receiver::<JsZeroCopyStorage>(env, call.this, "view")?;
        let [start, end, group] = call.args;
        // SAFETY: as in `zero_copy_length`; reading numbers, making an external Buffer and a weak
        // reference to it run no JS.
        Ok(unsafe { &mut *this }.view_raw(env, start, end, group)?.0)
    })
}

/// The handle table of a call's environment.
fn table<const N: usize>(call: &Call<N>) -> &RefCell<Handles<PooledSlot>> {
    // SAFETY: `data` is the `EnvData` that `install` gave this callback, alive while the environment
    // is (callbacks run only then).
    &unsafe { &*call.data }.pooled
}

/// The handle of a call's argument: a JS number that can be one, else 0 (which no buffer has).
fn handle_arg(env: &Env, value: sys::napi_value) -> u64 {
    match values::number(env, value) {
        Some(n) if n.fract() == 0.0 && (0.0..9_007_199_254_740_992.0).contains(&n) => n as u64,
        _ => 0,
    }
}

/// Runs `body` on the pooled buffer of `handle`.
fn with_slot<R>(
    table: &RefCell<Handles<PooledSlot>>,
    handle: u64,
    body: impl FnOnce(&mut PooledSlot) -> ApiResult<R>,
) -> ApiResult<R> {
    let mut table = table.try_borrow_mut().map_err(|_| busy())?;
    body(table.get_mut(handle).ok_or_else(gone)?)
}

/// Takes the pooled buffer of `handle` out of the table.
fn take_slot(table: &RefCell<Handles<PooledSlot>>, handle: u64) -> ApiResult<PooledSlot> {
    table.try_borrow_mut().map_err(|_| busy())?.remove(handle).ok_or_else(gone)
}

/// A handle of no buffer: the JS side checks its own state first, so this means misuse of the
/// addon's internals.
fn gone() -> ApiError {
    ApiError::used_up("PooledBuffer", "freed")
}

fn busy() -> ApiError {
    ApiError::error("omnibuf: the pooled buffer table is in use (a re-entrant call; a bug)")
}

/// The `EnvData` of `env` (its instance data), for the napi-rs methods that need a table.
fn env_data(env: &Env) -> Option<&EnvData> {
    let mut data = ptr::null_mut();
    // SAFETY: `data` is a valid out-pointer; the instance data of this environment is only ever set
    // by `install` (to its `EnvData`) and cleared by `drop_env_data`.
    let found = ok(unsafe { sys::napi_get_instance_data(env.raw(), &mut data) }) && !data.is_null();
    // SAFETY: as above: an `EnvData`, alive while the environment is (napi-rs methods run only then).
    found.then(|| unsafe { &*data.cast::<EnvData>() })
}

fn not_set_up() -> ApiError {
    ApiError::error("omnibuf: the addon is not set up in this environment")
}

/// Puts `slot` in the table of `env` and returns its handle; for `BufferPool.acquire()`, which
/// napi-rs defines.
pub(crate) fn pooled_handle(env: &Env, slot: PooledSlot) -> ApiResult<Raw> {
    let Some(data) = env_data(env) else {
        slot.release(env);
        return Err(not_set_up());
    };
    insert(env, &data.pooled, slot).map(Raw)
}

/// Keeps a clone of a new pool for `poolTryAcquire` and returns its handle.
pub(crate) fn remember_pool(env: &Env, pool: BufferPool) -> ApiResult<u64> {
    let data = env_data(env).ok_or_else(not_set_up)?;
    let mut pools = data.pools.try_borrow_mut().map_err(|_| busy())?;
    pools.insert(pool).map_err(|_| ApiError::error("omnibuf: cannot hold another BufferPool"))
}

/// Lets go of the clone of a pool that was freed or collected (nothing for one already gone).
pub(crate) fn forget_pool(env: &Env, handle: u64) {
    if let Some(data) = env_data(env) {
        // Dropping a pool runs no JS, so the table is never busy here; if it were, the clone would
        // stay until the environment goes away, which is harmless.
        let removed = data.pools.try_borrow_mut().ok().and_then(|mut pools| pools.remove(handle));
        drop(removed);
    }
}

/// Puts `slot` in `table` and returns its handle as a JS number.
fn insert(env: &Env, table: &RefCell<Handles<PooledSlot>>, slot: PooledSlot) -> ApiResult<sys::napi_value> {
    let inserted = match table.try_borrow_mut() {
        Ok(mut table) => table.insert(slot),
        Err(_) => Err(slot),
    };
    match inserted {
        Ok(handle) => number(env, handle as f64).map_err(|_| ApiError::error("could not create a number")),
        Err(slot) => {
            slot.release(env);
            Err(ApiError::error("omnibuf: cannot hold another pooled buffer"))
        }
    }
}

/// `poolTryAcquire(poolHandle, size, tenant?)`: the handle of a buffer now, or `null`.
unsafe extern "C" fn pool_try_acquire(env: sys::napi_env, info: sys::napi_callback_info) -> sys::napi_value {
    run(env, |env| {
        // SAFETY: this callback's `env` and `info`.
        let call = unsafe { call_info::<3>(env.raw(), info) }.ok_or_else(bad_call)?;
        // SAFETY: as in `table`.
        let pools = &unsafe { &*call.data }.pools;
        let pool = || pools.try_borrow().ok()?.get(handle_arg(env, call.args[0])).cloned();
        let tenant = optional(env, call.args[2]);
        let acquired = crate::pool::try_acquire(env, pool, call.args[1], tenant)?;
        match acquired {
            Some(slot) => Ok(insert(env, table(&call), slot)?),
            None => Ok(values::null(env)?.0),
        }
    })
}

unsafe extern "C" fn pooled_length(env: sys::napi_env, info: sys::napi_callback_info) -> sys::napi_value {
    run(env, |env| {
        // SAFETY: this callback's `env` and `info`.
        let call = unsafe { call_info::<1>(env.raw(), info) }.ok_or_else(bad_call)?;
        let length = with_slot(table(&call), handle_arg(env, call.args[0]), |slot| slot.len())?;
        number(env, length as f64)
    })
}

unsafe extern "C" fn pooled_capacity(env: sys::napi_env, info: sys::napi_callback_info) -> sys::napi_value {
    run(env, |env| {
        // SAFETY: this callback's `env` and `info`.
        let call = unsafe { call_info::<1>(env.raw(), info) }.ok_or_else(bad_call)?;
        let capacity = with_slot(table(&call), handle_arg(env, call.args[0]), |slot| slot.capacity())?;
        number(env, capacity as f64)
    })
}

unsafe extern "C" fn pooled_tenant(env: sys::napi_env, info: sys::napi_callback_info) -> sys::napi_value {
    run(env, |env| {
        // SAFETY: this callback's `env` and `info`.
        let call = unsafe { call_info::<1>(env.raw(), info) }.ok_or_else(bad_call)?;
        Ok(with_slot(table(&call), handle_arg(env, call.args[0]), |slot| slot.tenant(env))?.0)
    })
}

unsafe extern "C" fn pooled_view(env: sys::napi_env, info: sys::napi_callback_info) -> sys::napi_value {
    run(env, |env| {
        // SAFETY: this callback's `env` and `info`.
        let call = unsafe { call_info::<1>(env.raw(), info) }.ok_or_else(bad_call)?;
        // Making an external Buffer and a weak reference to it run no JS (see the module docs).
        Ok(with_slot(table(&call), handle_arg(env, call.args[0]), |slot| slot.view(env))?.0)
    })
}

/// `pooledAppend(handle, bytes)`; with handle 0 it only checks `bytes`, for a buffer the JS side
/// knows is gone (an argument's error comes first, as it always did).
unsafe extern "C" fn pooled_append(env: sys::napi_env, info: sys::napi_callback_info) -> sys::napi_value {
    run(env, |env| {
        // SAFETY: this callback's `env` and `info`.
        let call = unsafe { call_info::<2>(env.raw(), info) }.ok_or_else(bad_call)?;
        let (bytes, _) = args::bytes_raw(env, call.args[1], "bytes")?;
        let handle = handle_arg(env, call.args[0]);
        if handle != 0 {
            with_slot(table(&call), handle, |slot| slot.append(&bytes))?;
        }
        undefined(env)
    })
}

/// `pooledFreeze(handle, kind?)`: the storage of the frozen `ZeroCopyBuffer`; the handle is gone
/// after. With handle 0 it only checks `kind`, as `pooledAppend` does.
unsafe extern "C" fn pooled_freeze(env: sys::napi_env, info: sys::napi_callback_info) -> sys::napi_value {
    run(env, |env| {
        // SAFETY: this callback's `env` and `info`.
        let call = unsafe { call_info::<2>(env.raw(), info) }.ok_or_else(bad_call)?;
        let kind = args::kind_raw(env, optional(env, call.args[1]), BufferKind::raw())?;
        let handle = handle_arg(env, call.args[0]);
        if handle == 0 {
            return undefined(env);
        }
        // Out of the table before the new object is made.
        let storage = take_slot(table(&call), handle)?.freeze(env, kind)?;
        Ok(storage.into_instance(env)?.value)
    })
}

unsafe extern "C" fn pooled_free(env: sys::napi_env, info: sys::napi_callback_info) -> sys::napi_value {
    run(env, |env| {
        // SAFETY: this callback's `env` and `info`.
        let call = unsafe { call_info::<1>(env.raw(), info) }.ok_or_else(bad_call)?;
        // Detaching views and dropping the buffer run no JS.
        take_slot(table(&call), handle_arg(env, call.args[0]))?.free(env);
        undefined(env)
    })
}

/// `pooledRelease(handle)`: a buffer the program dropped (the JS side's FinalizationRegistry calls
/// it); its views stay valid. Does nothing for a handle that is gone.
unsafe extern "C" fn pooled_release(env: sys::napi_env, info: sys::napi_callback_info) -> sys::napi_value {
    run(env, |env| {
        // SAFETY: this callback's `env` and `info`.
        let call = unsafe { call_info::<1>(env.raw(), info) }.ok_or_else(bad_call)?;
        if let Ok(slot) = take_slot(table(&call), handle_arg(env, call.args[0])) {
            slot.release(env);
        }
        undefined(env)
    })
}

fn bad_call() -> Failure {
    napi::Error::from_reason("could not read the call's arguments").into()
}

/// A method or getter to put on a prototype, or a function to put on the exports.
struct Member {
    name: &'static CStr,
    callback: unsafe extern "C" fn(sys::napi_env, sys::napi_callback_info) -> sys::napi_value,
    getter: bool,
}

/// Puts the fast paths on the prototypes of the classes in `exports` (the module's exports, with the
/// classes napi-rs defined), replacing the generated members of the same names, and the functions of
/// a pooled buffer's handle on `exports`. Runs once per JS environment (the main thread's and each
/// worker's).
pub(crate) fn install(env: &Env, exports: sys::napi_value) -> napi::Result<()> {
    let data = Box::into_raw(Box::new(EnvData {
        env: env.raw(),
        pooled: RefCell::default(),
        pools: RefCell::default(),
    }));
    // SAFETY: `data` is freed by `drop_env_data`, once, when this environment is torn down, after
    // which no callback of it runs.
    let hooked = unsafe { sys::napi_add_env_cleanup_hook(env.raw(), Some(drop_env_data), data.cast()) };
    if !ok(hooked) {
        // SAFETY: no hook took it, and no callback has it yet.
        drop(unsafe { Box::from_raw(data) });
        return Err(napi::Error::from_reason("could not register a cleanup hook"));
    }
    // SAFETY: as above; no finalizer, since the cleanup hook frees it (and clears this first).
    if !ok(unsafe { sys::napi_set_instance_data(env.raw(), data.cast(), None, ptr::null_mut()) }) {
        return Err(napi::Error::from_reason("could not set the addon's instance data"));
    }
    let data = data.cast::<c_void>();
    let method = |name, callback| Member { name, callback, getter: false };
    let getter = |name, callback| Member { name, callback, getter: true };
    define(
        env,
        prototype(env, exports, c"ZeroCopyStorage")?,
        data,
        &[
            getter(c"length", zero_copy_length),
            getter(c"sharers", zero_copy_sharers),
            method(c"view", zero_copy_view),
            method(c"free", zero_copy_free),
        ],
    )?;
    define(
        env,
        exports,
        data,
        &[
            method(c"poolTryAcquire", pool_try_acquire),
            method(c"pooledLength", pooled_length),
            method(c"pooledCapacity", pooled_capacity),
            method(c"pooledTenant", pooled_tenant),
            method(c"pooledAppend", pooled_append),
            method(c"pooledView", pooled_view),
            method(c"pooledFreeze", pooled_freeze),
            method(c"pooledFree", pooled_free),
            method(c"pooledRelease", pooled_release),
        ],
    )
}

/// Cleanup hook: lets go of the pooled buffers JS still held (their views stay valid, as when the
/// collector finds a buffer dropped) and frees the `EnvData` of an environment that is going away.
unsafe extern "C" fn drop_env_data(data: *mut c_void) {
    // SAFETY: `data` is the box `install` leaked, and the hook runs once.
    let data = unsafe { Box::from_raw(data.cast::<EnvData>()) };
    // Cleanup hooks run before Node-API tears the environment down (hooks run in reverse order of
    // registration, and Node-API's own was registered first), so its references are still valid.
    let env = Env::from_raw(data.env);
    // Never unwind into Node.
    let _ = catch_unwind(AssertUnwindSafe(|| {
        if let Ok(mut table) = data.pooled.try_borrow_mut() {
            for slot in table.drain() {
                slot.release(&env);
            }
        }
    }));
    // SAFETY: the environment is still valid (see above); nothing reads the instance data after.
    unsafe { sys::napi_set_instance_data(data.env, ptr::null_mut(), None, ptr::null_mut()) };
}

/// `exports[name]`, the constructor of a class.
fn class(env: &Env, exports: sys::napi_value, name: &CStr) -> napi::Result<sys::napi_value> {
    let mut ctor = ptr::null_mut();
    // SAFETY: `exports` is the module's exports object in this call; `name` is NUL-terminated.
    if ok(unsafe { sys::napi_get_named_property(env.raw(), exports, name.as_ptr(), &mut ctor) }) {
        Ok(ctor)
    } else {
        Err(napi::Error::from_reason(format!("the class {name:?} is not exported")))
    }
}

/// `exports[name].prototype`.
fn prototype(env: &Env, exports: sys::napi_value, name: &CStr) -> napi::Result<sys::napi_value> {
    let ctor = class(env, exports, name)?;
    let mut prototype = ptr::null_mut();
    // SAFETY: `ctor` is a function of this call; the key is NUL-terminated.
    if ok(unsafe { sys::napi_get_named_property(env.raw(), ctor, c"prototype".as_ptr(), &mut prototype) }) {
        Ok(prototype)
    } else {
        Err(napi::Error::from_reason(format!("{name:?} has no prototype")))
    }
}

/// Defines `members` on `target` (a prototype, or the exports) as napi-rs defines members: enumerable
/// and configurable, methods writable and named.
fn define(env: &Env, target: sys::napi_value, data: *mut c_void, members: &[Member]) -> napi::Result<()> {
    let failed = || napi::Error::from_reason("could not define the addon's fast paths");
    let mut descriptors = Vec::with_capacity(members.len());
    for m in members {
        let mut descriptor = sys::napi_property_descriptor {
            utf8name: m.name.as_ptr(),
            name: ptr::null_mut(),
            method: None,
            getter: None,
            setter: None,
            value: ptr::null_mut(),
            attributes: sys::PropertyAttributes::enumerable | sys::PropertyAttributes::configurable,
            data,
        };
        if m.getter {
            descriptor.getter = Some(m.callback);
        } else {
            // A function of its own rather than `method`, which would leave it without a name.
            let mut function = ptr::null_mut();
            // SAFETY: the name is a static C string of the given length; `data` outlives the
            // environment's use of it (see `install`); `function` is a valid out-pointer.
            let status = unsafe {
                sys::napi_create_function(
                    env.raw(),
                    m.name.as_ptr(),
                    m.name.count_bytes() as isize,
                    Some(m.callback),
                    data,
                    &mut function,
                )
            };
            if !ok(status) {
                return Err(failed());
            }
            descriptor.value = function;
            descriptor.attributes |= sys::PropertyAttributes::writable;
        }
        descriptors.push(descriptor);
    }
    // SAFETY: `target` is an object of this call; the descriptors' names are static C strings and
    // their callbacks and data outlive the environment's use of them (see `install`).
    let status =
        unsafe { sys::napi_define_properties(env.raw(), target, descriptors.len(), descriptors.as_ptr()) };
    if ok(status) {
        Ok(())
    } else {
        Err(failed())
    }
}
