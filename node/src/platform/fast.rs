//! The calls JS makes once per buffer — the `ZeroCopyStorage`'s `view()`, `length` and `free()`
//! (which the JS `ZeroCopyBuffer` of `js/addon-zero-copy.mjs` calls; its `slice()` and `free()` stay
//! in JS), `BufferPool.tryAcquire()`, `PooledBuffer`'s `view()`, `length`, `capacity` and `free()` — as
//! plain Node-API callbacks, put on the class prototypes in place of the napi-rs ones when the module
//! loads ([`install`]).
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
//! it holds a reference to a receiver (they read numbers and strings, which runs no JS, and make
//! external Buffers and objects of this addon's classes, whose constructor runs no JS either).
//!
//! Objects made here are what napi-rs makes: created by the class constructor napi-rs defined (told,
//! as napi-rs's own factories tell it, that a factory calls it), wrapped with `napi_wrap` and stamped
//! with the class's type tag, so every napi-rs method accepts them; their finalizer drops the native
//! value through the class's `ObjectFinalize`, as napi-rs's does. They are not entered in napi-rs's
//! map of wrapped objects, which only its `Reference<T>` reads (this crate makes none).
//!
//! This leans on napi-rs details that are public but hidden: the factory flag
//! (`napi::__private::___CALL_FROM_FACTORY`) and its type tags (`TypeTag`). A napi-rs upgrade has to be
//! checked against this module; the JS tests that use objects made here with every other member, and
//! call these members on other receivers, would catch a change of either.

use std::ffi::{c_void, CStr};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::ptr;

use napi::bindgen_prelude::{JsError, ObjectFinalize, TypeTag};
use napi::{sys, Env, Status, ValueType};

use super::ok;
use super::values;
use crate::error::{ApiError, ApiResult};

/// The constructors this module makes objects with, for one JS environment: `data` of every callback
/// [`install`] defines. Freed by an environment cleanup hook.
struct Classes {
    pooled_buffer: sys::napi_ref,
}

/// A class whose instances a fast path reads: its JS name and type tag.
pub(crate) trait Class: TypeTag + ObjectFinalize + 'static {
    const NAME: &'static str;
}

/// One call: its receiver, its first `N` arguments (`undefined` where not passed) and the callback's
/// data.
struct Call<const N: usize> {
    this: sys::napi_value,
    args: [sys::napi_value; N],
    classes: *const Classes,
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
    ok(status).then_some(Call { this, args, classes: data.cast_const().cast() })
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

/// A new JS instance of `T` wrapping `value`, made by the class constructor behind `ctor`.
fn new_instance<T: Class>(env: &Env, ctor: sys::napi_ref, value: T) -> napi::Result<sys::napi_value> {
    let env_raw = env.raw();
    let mut constructor = ptr::null_mut();
    let mut object = ptr::null_mut();
    // SAFETY: `ctor` is a reference made by `install` in this environment, deleted only when the
    // environment goes away; out-pointers are valid locals. napi-rs's constructor makes a bare instance
    // when its factory flag is set (as napi-rs's own factories set it, and reset it right after).
    let made = unsafe {
        if !ok(sys::napi_get_reference_value(env_raw, ctor, &mut constructor)) || constructor.is_null() {
            false
        } else {
            napi::__private::___CALL_FROM_FACTORY.with(|f| f.set(true));
            let status = sys::napi_new_instance(env_raw, constructor, 0, ptr::null(), &mut object);
            napi::__private::___CALL_FROM_FACTORY.with(|f| f.set(false));
            ok(status)
        }
    };
    if !made {
        return Err(napi::Error::from_reason(format!("could not make a {}", T::NAME)));
    }
    let native = Box::into_raw(Box::new(value));
    // SAFETY: `object` is the new instance, wrapped by nothing yet; `native` is a leaked box that the
    // finalizer takes back exactly once (Node-API calls it once, when the object is collected or the
    // environment goes away).
    if !ok(unsafe {
        sys::napi_wrap(env_raw, object, native.cast(), Some(finalize::<T>), ptr::null_mut(), ptr::null_mut())
    }) {
        // SAFETY: the wrap failed, so nothing else owns `native`.
        drop(unsafe { Box::from_raw(native) });
        return Err(napi::Error::from_reason(format!("could not wrap a {}", T::NAME)));
    }
    // SAFETY: `object` is the instance just made and wrapped in this call.
    if !ok(unsafe { sys::napi_type_tag_object(env_raw, object, &T::type_tag()) }) {
        let mut unwrapped = ptr::null_mut();
        // SAFETY: as above; removing the wrap hands `native` back without running the finalizer.
        if ok(unsafe { sys::napi_remove_wrap(env_raw, object, &mut unwrapped) }) {
            // SAFETY: `unwrapped` is `native`, no longer owned by the object.
            drop(unsafe { Box::from_raw(unwrapped.cast::<T>()) });
        }
        return Err(napi::Error::from_reason(format!("could not tag a {}", T::NAME)));
    }
    Ok(object)
}

/// The finalizer of objects made by [`new_instance`]: the class's own `ObjectFinalize`, then the drop.
unsafe extern "C" fn finalize<T: Class>(env: sys::napi_env, data: *mut c_void, _hint: *mut c_void) {
    // SAFETY: `data` is the box leaked by `new_instance`, and Node-API calls this once.
    let value = unsafe { Box::from_raw(data.cast::<T>()) };
    // Never unwind into Node; a failed finalize has nothing to report to.
    let _ = catch_unwind(AssertUnwindSafe(|| value.finalize(Env::from_raw(env))));
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

// The callbacks. Each borrows its receiver only for the Rust work in the middle, never across a
// Node-API call that makes an object.

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

unsafe extern "C" fn pool_try_acquire(env: sys::napi_env, info: sys::napi_callback_info) -> sys::napi_value {
    use crate::pool::JsBufferPool;
    run(env, |env| {
        // SAFETY: this callback's `env` and `info`.
        let call = unsafe { call_info::<2>(env.raw(), info) }.ok_or_else(bad_call)?;
        let this = receiver::<JsBufferPool>(env, call.this, "tryAcquire")?;
        let tenant = optional(env, call.args[1]);
        // SAFETY: as in `zero_copy_length`; the reference ends before the new object is made.
        let acquired = unsafe { &*this }.try_acquire_raw(env, call.args[0], tenant)?;
        match acquired {
            Some(buffer) => {
                // SAFETY: `classes` is the data `install` gave this callback, alive while the
                // environment is.
                let ctor = unsafe { &*call.classes }.pooled_buffer;
                Ok(new_instance(env, ctor, buffer)?)
            }
            None => Ok(values::null(env)?.0),
        }
    })
}

unsafe extern "C" fn pooled_length(env: sys::napi_env, info: sys::napi_callback_info) -> sys::napi_value {
    use crate::pool::JsPooledBuffer;
    run(env, |env| {
        // SAFETY: this callback's `env` and `info`.
        let call = unsafe { call_info::<0>(env.raw(), info) }.ok_or_else(bad_call)?;
        let this = receiver::<JsPooledBuffer>(env, call.this, "length")?;
        // SAFETY: as in `zero_copy_length`.
        let length = unsafe { &*this }.len_checked()?;
        number(env, length as f64)
    })
}

unsafe extern "C" fn pooled_free(env: sys::napi_env, info: sys::napi_callback_info) -> sys::napi_value {
    use crate::pool::JsPooledBuffer;
    run(env, |env| {
        // SAFETY: this callback's `env` and `info`.
        let call = unsafe { call_info::<0>(env.raw(), info) }.ok_or_else(bad_call)?;
        let this = receiver::<JsPooledBuffer>(env, call.this, "free")?;
        // SAFETY: as in `zero_copy_free`.
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

unsafe extern "C" fn pooled_view(env: sys::napi_env, info: sys::napi_callback_info) -> sys::napi_value {
    use crate::pool::JsPooledBuffer;
    run(env, |env| {
        // SAFETY: this callback's `env` and `info`.
        let call = unsafe { call_info::<0>(env.raw(), info) }.ok_or_else(bad_call)?;
        let this = receiver::<JsPooledBuffer>(env, call.this, "view")?;
        // SAFETY: as in `zero_copy_view`.
        Ok(unsafe { &mut *this }.view(env)?.0)
    })
}

unsafe extern "C" fn pooled_capacity(env: sys::napi_env, info: sys::napi_callback_info) -> sys::napi_value {
    use crate::pool::JsPooledBuffer;
    run(env, |env| {
        // SAFETY: this callback's `env` and `info`.
        let call = unsafe { call_info::<0>(env.raw(), info) }.ok_or_else(bad_call)?;
        let this = receiver::<JsPooledBuffer>(env, call.this, "capacity")?;
        // SAFETY: as in `zero_copy_length`.
        let capacity = unsafe { &*this }.capacity_checked()?;
        number(env, capacity as f64)
    })
}

fn bad_call() -> Failure {
    napi::Error::from_reason("could not read the call's arguments").into()
}

/// A method or getter to put on a prototype.
struct Member {
    name: &'static CStr,
    callback: unsafe extern "C" fn(sys::napi_env, sys::napi_callback_info) -> sys::napi_value,
    getter: bool,
}

/// Puts the fast paths on the prototypes of the classes in `exports` (the module's exports, with the
/// classes napi-rs defined), replacing the generated members of the same names. Runs once per JS
/// environment (the main thread's and each worker's).
pub(crate) fn install(env: &Env, exports: sys::napi_value) -> napi::Result<()> {
    let classes = Box::new(Classes {
        pooled_buffer: constructor_ref(env, exports, c"PooledBuffer")?,
    });
    let classes = Box::into_raw(classes);
    // SAFETY: `classes` is freed by `drop_classes`, once, when this environment is torn down, after
    // which no callback of it runs.
    let hooked = unsafe { sys::napi_add_env_cleanup_hook(env.raw(), Some(drop_classes), classes.cast()) };
    if !ok(hooked) {
        // SAFETY: no hook took it, and no callback has it yet.
        drop(unsafe { Box::from_raw(classes) });
        return Err(napi::Error::from_reason("could not register a cleanup hook"));
    }
    let data = classes.cast::<c_void>();
    let method = |name, callback| Member { name, callback, getter: false };
    let getter = |name, callback| Member { name, callback, getter: true };
    define(
        env,
        exports,
        c"ZeroCopyStorage",
        data,
        &[
            getter(c"length", zero_copy_length),
            method(c"view", zero_copy_view),
            method(c"free", zero_copy_free),
        ],
    )?;
    define(env, exports, c"BufferPool", data, &[method(c"tryAcquire", pool_try_acquire)])?;
    define(
        env,
        exports,
        c"PooledBuffer",
        data,
        &[
            getter(c"length", pooled_length),
            getter(c"capacity", pooled_capacity),
            method(c"view", pooled_view),
            method(c"free", pooled_free),
        ],
    )
}

/// Cleanup hook: frees the `Classes` of an environment that is going away.
unsafe extern "C" fn drop_classes(data: *mut c_void) {
    // SAFETY: `data` is the box `install` leaked, and the hook runs once.
    let classes = unsafe { Box::from_raw(data.cast::<Classes>()) };
    // The references die with the environment; nothing to delete one by one.
    drop(classes);
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

/// A strong reference to the constructor `exports[name]`.
fn constructor_ref(env: &Env, exports: sys::napi_value, name: &CStr) -> napi::Result<sys::napi_ref> {
    let ctor = class(env, exports, name)?;
    let mut reference = ptr::null_mut();
    // SAFETY: `ctor` belongs to this call; the reference lives as long as the environment.
    if ok(unsafe { sys::napi_create_reference(env.raw(), ctor, 1, &mut reference) }) {
        Ok(reference)
    } else {
        Err(napi::Error::from_reason("could not reference a class constructor"))
    }
}

/// Defines `members` on `exports[name].prototype` as napi-rs defined them: enumerable and
/// configurable, methods writable and named.
fn define(
    env: &Env,
    exports: sys::napi_value,
    name: &CStr,
    data: *mut c_void,
    members: &[Member],
) -> napi::Result<()> {
    let ctor = class(env, exports, name)?;
    let mut prototype = ptr::null_mut();
    // SAFETY: `ctor` is a function of this call; the key is NUL-terminated.
    if !ok(unsafe { sys::napi_get_named_property(env.raw(), ctor, c"prototype".as_ptr(), &mut prototype) }) {
        return Err(napi::Error::from_reason(format!("{name:?} has no prototype")));
    }
    let failed = || napi::Error::from_reason(format!("could not define the fast paths of {name:?}"));
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
    // SAFETY: `prototype` is an object of this call; the descriptors' names are static C strings and
    // their callbacks and data outlive the environment's use of them (see `install`).
    let status =
        unsafe { sys::napi_define_properties(env.raw(), prototype, descriptors.len(), descriptors.as_ptr()) };
    if ok(status) {
        Ok(())
    } else {
        Err(failed())
    }
}
