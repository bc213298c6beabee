//! The errors JS sees: a class (`Error`, `TypeError`, `RangeError`) and a message, as the binding
//! core (`omnibuf::binding`) classifies and words them; this adapter throws them through Node-API.
//!
//! Methods compute an [`ApiResult`] and throw at the boundary with [`OrThrow::or_throw`]: napi-rs would
//! throw every returned error as a plain `Error`, so the right class is thrown here and napi-rs is told
//! that an exception is already pending.

use std::fmt::Display;

use napi::bindgen_prelude::Unknown;
use napi::{Env, Status};

pub(crate) use omnibuf::binding::ErrorClass;
use omnibuf::binding::{message, BindingError};

use crate::platform::values::{self, Raw};

/// An error on its way to JS.
#[derive(Debug, Clone)]
pub(crate) struct ApiError {
    pub(crate) class: ErrorClass,
    pub(crate) message: String,
    /// The error's `code` property (see `omnibuf::binding::BindingError::code`).
    pub(crate) code: Option<&'static str>,
}

pub(crate) type ApiResult<T> = Result<T, ApiError>;

impl ApiError {
    pub(crate) fn error(message: impl Display) -> Self {
        BindingError::error(message).into()
    }

    pub(crate) fn type_error(message: impl Display) -> Self {
        BindingError::type_error(message).into()
    }

    pub(crate) fn range_error(message: impl Display) -> Self {
        BindingError::range_error(message).into()
    }

    /// A method called on an object whose contents were handed on (`"frozen"`) or released
    /// (`"freed"`).
    pub(crate) fn used_up(class: &str, how: &str) -> Self {
        message::used_up(class, how).into()
    }

    /// The same error with `what` failed said first, e.g. "cannot open notes.txt: ...".
    pub(crate) fn context(self, what: impl Display) -> Self {
        ApiError { message: format!("{what}: {}", self.message), ..self }
    }

    /// Throws this error in `env`; the returned error tells napi-rs that an exception is pending.
    pub(crate) fn throw(self, env: &Env) -> napi::Error {
        let thrown = match self.class {
            ErrorClass::Error => env.throw_error(&self.message, self.code),
            ErrorClass::TypeError => env.throw_type_error(&self.message, self.code),
            ErrorClass::RangeError => env.throw_range_error(&self.message, self.code),
        };
        match thrown {
            Ok(()) => napi::Error::new(Status::PendingException, self.message),
            // Could not throw (the environment is shutting down): let napi-rs try with a plain Error.
            Err(_) => napi::Error::from_reason(self.message),
        }
    }
}

/// Throwing an [`ApiResult`]'s error in JS.
pub(crate) trait OrThrow<T> {
    fn or_throw(self, env: &Env) -> napi::Result<T>;
}

impl<T> OrThrow<T> for ApiResult<T> {
    fn or_throw(self, env: &Env) -> napi::Result<T> {
        self.map_err(|e| e.throw(env))
    }
}

impl From<BindingError> for ApiError {
    fn from(e: BindingError) -> Self {
        ApiError { class: e.class, message: e.message, code: e.code }
    }
}

impl From<omnibuf::PoolError> for ApiError {
    fn from(e: omnibuf::PoolError) -> Self {
        BindingError::from(e).into()
    }
}

impl From<omnibuf::vbuf::VbufError> for ApiError {
    fn from(e: omnibuf::vbuf::VbufError) -> Self {
        BindingError::from(e).into()
    }
}

/// The error numbered `which` in the binding core's table (`omnibuf::binding::message::by_number`),
/// as a JS error object of its class with its message and `code`, for the addon's JS layers
/// (`js/guard.mjs`, `js/addon-zero-copy.mjs`, `js/addon-pool.mjs`): the mistakes they catch in JS are
/// worded, and made, here, as those caught in Rust and as the wasm build's `__bindingError` makes
/// them. Non-strings count as empty strings.
#[napi_derive::napi(js_name = "__bindingError")]
#[cfg_attr(test, allow(dead_code))] // test builds register no exports
pub fn binding_error(
    env: &Env,
    which: Unknown<'_>,
    a: Unknown<'_>,
    b: Unknown<'_>,
    c: Unknown<'_>,
) -> napi::Result<Raw> {
    let text = |v: &Unknown<'_>| values::string(env, values::raw(v)).unwrap_or_default();
    let number = values::number(env, values::raw(&which))
        .filter(|n| n.fract() == 0.0 && (0.0..=f64::from(u32::MAX)).contains(n));
    let error = match number.and_then(|n| message::by_number(n as u32, &text(&a), &text(&b), &text(&c))) {
        Some(e) => ApiError::from(e),
        None => ApiError::error("no such binding message"),
    };
    made(env, &error)
}

/// `value` as a byte offset or size named `what` (the check of `crate::args::index`): the number when
/// it is one, else the check's `TypeError` or `RangeError` is thrown. The addon's JS classes test the
/// common case themselves and call this only when that test fails, so that the error, and its
/// wording, come from the one table.
#[napi_derive::napi(js_name = "__checkIndex")]
#[cfg_attr(test, allow(dead_code))] // test builds register no exports
pub fn check_index(env: &Env, value: Unknown<'_>, what: Unknown<'_>) -> napi::Result<f64> {
    let what = values::string(env, values::raw(&what)).unwrap_or_default();
    Ok(crate::args::index(env, &value, &what).or_throw(env)? as f64)
}

/// The `RangeError` of a range `start .. end` that does not fit a buffer of `len` bytes (the core's
/// `SliceError`), as a JS error object, for the addon's JS classes.
#[napi_derive::napi(js_name = "__outOfBounds")]
#[cfg_attr(test, allow(dead_code))] // test builds register no exports
pub fn out_of_bounds(env: &Env, start: f64, end: f64, len: f64) -> napi::Result<Raw> {
    // The JS side passes checked integers; anything else is clamped rather than trusted.
    let n = |x: f64| if x.is_finite() && x >= 0.0 { x.min(usize::MAX as f64) as usize } else { 0 };
    made(env, &ApiError::from(message::out_of_bounds(n(start), n(end), n(len))))
}

/// `error` as a JS error object (not thrown).
#[cfg_attr(test, allow(dead_code))]
fn made(env: &Env, error: &ApiError) -> napi::Result<Raw> {
    values::error_object(env, error).map(Raw).ok_or_else(|| napi::Error::from_reason(error.message.clone()))
}
