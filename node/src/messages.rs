//! The binding core's errors as JS error objects (made, not thrown) and its index check, for the
//! addon's JS layers (`js/guard.mjs`, `js/addon-zero-copy.mjs`, `js/addon-pool.mjs`): the mistakes
//! they catch in JS are worded, and made, here, from the one table the Rust side throws from.

use napi::bindgen_prelude::Unknown;
use napi::Env;
use omnibuf::binding::{self, message};

use crate::error::{ApiError, OrThrow};
use crate::platform::values::{self, Raw};

/// The error numbered `which` in the binding core's table (`omnibuf::binding::message::by_number`),
/// as a JS error object of its class with its message and `code`, for the addon's JS layers
/// (`js/guard.mjs`, `js/addon-zero-copy.mjs`, `js/addon-pool.mjs`): the mistakes they catch in JS are
/// worded, and made, here, as those caught in Rust and as the wasm build's `__bindingError` makes
/// them. Non-strings count as empty strings.
#[napi_derive::napi(js_name = "__bindingError", catch_unwind)]
#[cfg_attr(test, allow(dead_code))] // test builds register no exports
pub fn binding_error(
    env: &Env,
    which: Unknown<'_>,
    a: Unknown<'_>,
    b: Unknown<'_>,
    c: Unknown<'_>,
    got: Unknown<'_>,
) -> napi::Result<Raw> {
    let text = |v: &Unknown<'_>| values::string(env, values::raw(v)).unwrap_or_default();
    let got = crate::args::value(env, values::raw(&got));
    let number = values::number(env, values::raw(&which))
        .filter(|n| n.fract() == 0.0 && (0.0..=f64::from(u32::MAX)).contains(n));
    let error = match number.and_then(|n| message::by_number(n as u32, &text(&a), &text(&b), &text(&c), got))
    {
        Some(e) => ApiError::from(e),
        None => ApiError::error("no such binding message"),
    };
    made(env, &error)
}

/// `value` as a byte offset or size named `what` (the check of `crate::args::index`): the number when
/// it is one, else the check's `TypeError` or `RangeError` is thrown. The addon's JS classes test the
/// common case themselves and call this only when that test fails, so that the error, and its
/// wording, come from the one table.
#[napi_derive::napi(js_name = "__checkIndex", catch_unwind)]
#[cfg_attr(test, allow(dead_code))] // test builds register no exports
pub fn check_index(env: &Env, value: Unknown<'_>, what: Unknown<'_>) -> napi::Result<f64> {
    let what = values::string(env, values::raw(&what)).unwrap_or_default();
    Ok(crate::args::index(env, &value, &what).or_throw(env)? as f64)
}

/// The `RangeError` of a range `start .. end` that does not fit a buffer of `len` bytes (the core's
/// `SliceError`), as a JS error object, for the addon's JS classes.
#[napi_derive::napi(js_name = "__outOfBounds", catch_unwind)]
#[cfg_attr(test, allow(dead_code))] // test builds register no exports
pub fn out_of_bounds(env: &Env, start: f64, end: f64, len: f64) -> napi::Result<Raw> {
    // The JS side passes checked integers; anything else is clamped rather than trusted.
    let n =
        |x: f64| if x.is_finite() && x >= 0.0 { x.min(binding::MAX_SAFE_INTEGER as f64) as u64 } else { 0 };
    made(env, &ApiError::from(message::out_of_bounds(n(start), n(end), n(len))))
}

/// `error` as a JS error object (not thrown).
#[cfg_attr(test, allow(dead_code))]
fn made(env: &Env, error: &ApiError) -> napi::Result<Raw> {
    values::error_object(env, error.class, &error.message, error.code)
        .map(Raw)
        .ok_or_else(|| napi::Error::from_reason(error.message.clone()))
}
