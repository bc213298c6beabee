//! Members as plain Node-API callbacks, for the calls JS makes once per buffer (a `ZeroCopyStorage`'s
//! `view()`, `length`, `free()`; the functions of a pooled buffer's handle, `poolTryAcquire`, ...).
//! This module knows no domain type: a domain module describes each member as a type implementing
//! [`Fast`], and [`install`] puts them on a class prototype (in place of the napi-rs members of the
//! same names) or on the module's exports when the module loads.
//!
//! Why: napi-rs (3.16) wraps every method call in bookkeeping that guards Rust borrows against
//! re-entrant JS: a process-wide, mutex-protected hash map of live borrows, thread-local scope stacks
//! and heap allocations, per call. It makes each returned object through a per-thread map of wrapped
//! objects, with a boxed closure and an `Arc` per object (removed again by the finalizer). On this
//! project's VM that was most of the cost of a call: a getter took about as long as six of Node's own
//! `subarray()` calls.
//!
//! These callbacks do what the generated ones do, without that bookkeeping: they check the receiver's
//! class by the type tag napi-rs stamps on every instance ([`Call::receiver`], a `TypeError` for
//! another receiver), convert arguments with the same checks and messages (`crate::args`), run under
//! `catch_unwind`, and throw the same errors. The borrow guard is not needed as long as no member runs
//! JS while it holds a reference to its receiver or to the environment's state: the contract of
//! [`Fast`]. (Reading numbers, strings and bytes runs no JS; neither does making an external Buffer.)
//!
//! Per JS environment the installer hands over a state `S` ([`EnvState`]: the addon's handle tables),
//! which every member's [`Call`] can reach and the napi-rs methods find with [`state`]; a cleanup hook
//! lets go of it when the environment goes away.
//!
//! This leans on one napi-rs detail that is public but hidden: its type tags (`TypeTag`). A napi-rs
//! upgrade has to be checked against this module; the JS tests that call these members on other
//! receivers would catch a change.

use std::cell::Cell;
use std::ffi::{c_void, CStr};
use std::marker::PhantomData;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::ptr;

use napi::bindgen_prelude::{JsError, TypeTag};
use napi::{sys, Env, Status, ValueType};

use super::ok;
use super::values;
use crate::error::{ApiError, ApiResult};

/// A class whose instances a member reads: its JS name and type tag.
pub(crate) trait Class: TypeTag + 'static {
    const NAME: &'static str;
}

/// What a domain keeps per JS environment for its members (see the module docs).
pub(crate) trait EnvState: 'static {
    /// Lets go of what is left when the environment goes away (its cleanup hook, on the JS thread,
    /// before Node-API tears the environment down).
    fn cleanup(&self, env: &Env);
}

/// A member as a plain Node-API callback.
///
/// The contract that replaces napi-rs's borrow guard: `call` never runs JS (no call into a JS
/// function, no property access that may hit a getter, no object of a napi-rs class made) while it
/// holds the reference [`Call::receiver`] gave it or a borrow of the state.
pub(crate) trait Fast<S: EnvState>: 'static {
    /// The member's work: the value to return, or why it failed (thrown as an exception).
    fn call(call: &Call<'_, S>) -> Result<sys::napi_value, Failure>;
}

/// How many arguments a member reads at most; those not passed are `undefined`.
const ARGS: usize = 3;

/// One call of a member: the environment, receiver, arguments and the environment's state.
pub(crate) struct Call<'a, S> {
    pub(crate) env: &'a Env,
    this: sys::napi_value,
    /// The first arguments, `undefined` where not passed.
    pub(crate) args: [sys::napi_value; ARGS],
    pub(crate) state: &'a S,
}

impl<'a, S> Call<'a, S> {
    /// The native object behind the receiver if it is an instance of `T` (by the type tag napi-rs
    /// stamps on every instance right after wrapping it); a `TypeError` naming `member` otherwise.
    /// Once per call: two would be two mutable references to one object.
    pub(crate) fn receiver<T: Class>(&self, member: &str) -> ApiResult<&'a mut T> {
        let env = self.env;
        let mut tagged = false;
        let mut native = ptr::null_mut();
        // SAFETY: `this` is the receiver of the current call; out-pointers are valid locals. The tag is
        // only ever stamped on objects wrapping a `T` (napi-rs keys tags by the Rust class).
        let found = unsafe {
            ok(sys::napi_check_object_type_tag(env.raw(), self.this, &T::type_tag(), &mut tagged))
                && tagged
                && ok(sys::napi_unwrap(env.raw(), self.this, &mut native))
        };
        if found && !native.is_null() {
            // JS runs on this thread only, and no JS runs while the reference is held (the contract
            // of `Fast`), so no other reference to the object (a napi-rs method's, another member's)
            // is in use.
            // SAFETY: `native` is the `T` napi-rs wrapped in the receiver (tag-checked), alive while
            // the receiver is, which this call keeps alive; the reference is the only one (above).
            return Ok(unsafe { &mut *native.cast::<T>() });
        }
        // A receiver that is not an object (`undefined`, `null`) leaves a pending exception behind.
        values::clear_exception(env);
        Err(omnibuf::binding::message::wrong_receiver(T::NAME, member).into())
    }

    /// Argument `i` as a missing optional argument (`undefined` or `null`, as napi-rs reads
    /// `Option`), or not.
    pub(crate) fn optional(&self, i: usize) -> Option<sys::napi_value> {
        let value = self.args[i];
        match values::type_of(self.env, value) {
            ValueType::Undefined | ValueType::Null => None,
            _ => Some(value),
        }
    }
}

/// Why a member failed.
pub(crate) enum Failure {
    /// Thrown with its class and message.
    Api(ApiError),
    /// Thrown as a plain `Error`, as napi-rs throws it.
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

/// The callback Node-API calls for the member `F`: reads the call, runs `F::call` under
/// `catch_unwind` and throws its error.
unsafe extern "C" fn trampoline<S: EnvState, F: Fast<S>>(
    env: sys::napi_env,
    info: sys::napi_callback_info,
) -> sys::napi_value {
    let wrapped = Env::from_raw(env);
    let outcome = catch_unwind(AssertUnwindSafe(|| {
        let mut argc = ARGS;
        let mut args = [ptr::null_mut(); ARGS];
        let mut this = ptr::null_mut();
        let mut data = ptr::null_mut();
        // SAFETY: this callback's `env` and `info`; `args` has room for `argc` values (Node-API fills
        // those not passed with `undefined`), and the other out-pointers are valid locals.
        let status =
            unsafe { sys::napi_get_cb_info(env, info, &mut argc, args.as_mut_ptr(), &mut this, &mut data) };
        if !ok(status) || data.is_null() {
            return Err(napi::Error::from_reason("could not read the call's arguments").into());
        }
        // SAFETY: `data` is the state `install` gave this callback: a live `S` (freed only by the
        // environment's cleanup hook, after which no callback of the environment runs), only ever
        // read through shared references.
        let state = unsafe { &*data.cast_const().cast::<S>() };
        F::call(&Call { env: &wrapped, this, args, state })
    }));
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

/// A number, as napi-rs returns an `f64`.
pub(crate) fn number(env: &Env, n: f64) -> Result<sys::napi_value, Failure> {
    let mut value = ptr::null_mut();
    // SAFETY: `value` is a valid out-pointer; `env` is the current call's.
    if ok(unsafe { sys::napi_create_double(env.raw(), n, &mut value) }) {
        Ok(value)
    } else {
        Err(napi::Error::from_reason("could not create a number").into())
    }
}

/// `undefined`.
pub(crate) fn undefined(env: &Env) -> Result<sys::napi_value, Failure> {
    let mut value = ptr::null_mut();
    // SAFETY: `value` is a valid out-pointer; `env` is the current call's.
    if ok(unsafe { sys::napi_get_undefined(env.raw(), &mut value) }) {
        Ok(value)
    } else {
        Err(napi::Error::from_reason("could not get undefined").into())
    }
}

/// Where a member goes.
#[derive(Clone, Copy, PartialEq)]
pub(crate) enum Target {
    /// On the module's exports, as a function.
    Exports,
    /// On the prototype of the class exported under this name.
    Prototype(&'static CStr),
}

/// A member to install: where, its name, and its callback.
pub(crate) struct Member<S> {
    target: Target,
    name: &'static CStr,
    getter: bool,
    callback: unsafe extern "C" fn(sys::napi_env, sys::napi_callback_info) -> sys::napi_value,
    state: PhantomData<fn(&S)>,
}

impl<S: EnvState> Member<S> {
    /// A method (a named function) `F` called `name` on `target`.
    pub(crate) fn method<F: Fast<S>>(target: Target, name: &'static CStr) -> Self {
        Member { target, name, getter: false, callback: trampoline::<S, F>, state: PhantomData }
    }

    /// A getter `F` called `name` on `target`.
    pub(crate) fn getter<F: Fast<S>>(target: Target, name: &'static CStr) -> Self {
        Member { target, name, getter: true, callback: trampoline::<S, F>, state: PhantomData }
    }
}

/// What [`install`] leaves for one environment: the state and the environment, for the cleanup hook
/// (which Node-API calls without one).
struct Installed<S> {
    env: sys::napi_env,
    state: S,
}

/// Installs `members` (replacing the napi-rs members of the same names) with `state` as this
/// environment's state. Runs once per JS environment (the main thread's and each worker's), when the
/// module loads, after napi-rs has defined the classes on `exports`.
pub(crate) fn install<S: EnvState>(
    env: &Env,
    exports: sys::napi_value,
    state: S,
    members: &[Member<S>],
) -> napi::Result<()> {
    // An environment made where one of this thread's was torn down has no state until now.
    let _ = TORN_DOWN.try_with(|gone| {
        if gone.get() == env.raw() {
            gone.set(ptr::null_mut());
        }
    });
    let installed = Box::into_raw(Box::new(Installed { env: env.raw(), state }));
    // SAFETY: `installed` is freed by `uninstall::<S>`, once, when this environment is torn down,
    // after which no callback of it runs.
    let hooked = unsafe { sys::napi_add_env_cleanup_hook(env.raw(), Some(uninstall::<S>), installed.cast()) };
    if !ok(hooked) {
        // SAFETY: no hook took it, and no callback has it yet.
        drop(unsafe { Box::from_raw(installed) });
        return Err(napi::Error::from_reason("could not register a cleanup hook"));
    }
    // The state is what callbacks and `state()` see (the box's field, which does not move).
    // SAFETY: `installed` is live (see above).
    let data = unsafe { ptr::addr_of_mut!((*installed).state) }.cast::<c_void>();
    // SAFETY: as above; no finalizer, since the cleanup hook frees it (and clears this first).
    if !ok(unsafe { sys::napi_set_instance_data(env.raw(), data, None, ptr::null_mut()) }) {
        return Err(napi::Error::from_reason("could not set the addon's instance data"));
    }
    let mut targets: Vec<Target> = Vec::new();
    for member in members {
        if !targets.contains(&member.target) {
            targets.push(member.target);
        }
    }
    for target in targets {
        let object = match target {
            Target::Exports => exports,
            Target::Prototype(class) => prototype(env, exports, class)?,
        };
        let group: Vec<&Member<S>> = members.iter().filter(|m| m.target == target).collect();
        define(env, object, data, &group)?;
    }
    Ok(())
}

thread_local! {
    /// The environment of this thread whose state [`uninstall`] freed. The addon's finalizers run
    /// after that while Node tears the environment down, and must not ask Node-API for the state
    /// then: Node 20 runs them as it deletes the environment's references, the one that holds the
    /// instance data among them, so `napi_get_instance_data` may read freed memory.
    static TORN_DOWN: Cell<sys::napi_env> = const { Cell::new(ptr::null_mut()) };
}

/// Whether `env` is this thread's environment that is being torn down (see [`TORN_DOWN`]). A
/// thread that is ending counts as torn down.
fn torn_down(env: sys::napi_env) -> bool {
    TORN_DOWN.try_with(|gone| gone.get() == env).unwrap_or(true)
}

/// The state [`install`] gave this environment, for the napi-rs methods that need it; `None` before
/// the module is set up (never, in practice), once the environment is being torn down (for the
/// finalizers that run then), or if `S` is not the installed state's type.
pub(crate) fn state<S: EnvState>(env: &Env) -> Option<&S> {
    if torn_down(env.raw()) {
        return None;
    }
    let mut data = ptr::null_mut();
    // SAFETY: `data` is a valid out-pointer; the instance data of this environment is only ever set
    // by `install` (to the state of an `Installed<S>`) and cleared by `uninstall`.
    let found = ok(unsafe { sys::napi_get_instance_data(env.raw(), &mut data) }) && !data.is_null();
    // SAFETY: as above: an `S`, alive while the environment is (napi-rs methods run only then). One
    // state type is installed per addon (`crate::install_fast_paths`), which is the `S` asked for.
    found.then(|| unsafe { &*data.cast_const().cast::<S>() })
}

/// Cleanup hook: lets the state let go of what is left, then frees it.
unsafe extern "C" fn uninstall<S: EnvState>(data: *mut c_void) {
    // SAFETY: `data` is the box `install` leaked, and the hook runs once.
    let installed = unsafe { Box::from_raw(data.cast::<Installed<S>>()) };
    // Cleanup hooks run before Node-API tears the environment down (hooks run in reverse order of
    // registration, and Node-API's own was registered first), so its references are still valid.
    let env = Env::from_raw(installed.env);
    // Never unwind into Node.
    let _ = catch_unwind(AssertUnwindSafe(|| installed.state.cleanup(&env)));
    // SAFETY: the environment is still valid (see above); nothing reads the instance data after.
    unsafe { sys::napi_set_instance_data(installed.env, ptr::null_mut(), None, ptr::null_mut()) };
    let _ = TORN_DOWN.try_with(|gone| gone.set(installed.env));
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
fn define<S>(
    env: &Env,
    target: sys::napi_value,
    data: *mut c_void,
    members: &[&Member<S>],
) -> napi::Result<()> {
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
            // environment's callbacks (see `install`); `function` is a valid out-pointer.
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
