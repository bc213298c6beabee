//! Checked arguments: sizes, names, kinds and bytes from JS values, with the errors the API promises
//! (`TypeError` for a wrong type or a non-integer, `RangeError` for a negative or too large number).

use napi::bindgen_prelude::Unknown;
use napi::{sys, Env, ValueType};
use omnibuf::BufferKind;

use crate::error::{ApiError, ApiResult};
use crate::platform::values;

/// Largest integer a JS number holds exactly.
const MAX_SAFE_INTEGER: f64 = 9_007_199_254_740_991.0;

/// A byte offset or size: an integer in `0 ..= Number.MAX_SAFE_INTEGER`.
pub(crate) fn index(env: &Env, value: &Unknown<'_>, what: &str) -> ApiResult<usize> {
    index_raw(env, values::raw(value), what)
}

/// [`index`] on a raw value of the current call.
pub(crate) fn index_raw(env: &Env, value: sys::napi_value, what: &str) -> ApiResult<usize> {
    match values::number(env, value) {
        Some(n) => index_from_number(n, what),
        None => {
            Err(ApiError::type_error(format!("{what} must be an integer, got {}", describe_raw(env, value))))
        }
    }
}

/// Like [`index`], with `fallback` for a missing (`undefined` or `null`) argument.
pub(crate) fn index_or(
    env: &Env,
    value: Option<&Unknown<'_>>,
    fallback: usize,
    what: &str,
) -> ApiResult<usize> {
    value.map_or(Ok(fallback), |v| index(env, v, what))
}

/// The check of [`index`] on a number.
pub(crate) fn index_from_number(n: f64, what: &str) -> ApiResult<usize> {
    if !n.is_finite() || n.fract() != 0.0 {
        return Err(ApiError::type_error(format!("{what} must be an integer, got {n}")));
    }
    if !(0.0..=MAX_SAFE_INTEGER.min(usize::MAX as f64)).contains(&n) {
        return Err(ApiError::range_error(format!(
            "{what} must be between 0 and {MAX_SAFE_INTEGER}, got {n}"
        )));
    }
    Ok(n as usize)
}

/// A string argument.
pub(crate) fn text(env: &Env, value: &Unknown<'_>, what: &str) -> ApiResult<String> {
    text_raw(env, values::raw(value), what)
}

/// [`text`] on a raw value of the current call.
pub(crate) fn text_raw(env: &Env, value: sys::napi_value, what: &str) -> ApiResult<String> {
    values::string(env, value).ok_or_else(|| {
        ApiError::type_error(format!("{what} must be a string, got {}", describe_raw(env, value)))
    })
}

/// A kind by name; a missing argument gives `fallback`.
pub(crate) fn kind(env: &Env, value: Option<&Unknown<'_>>, fallback: BufferKind) -> ApiResult<BufferKind> {
    kind_raw(env, value.map(values::raw), fallback)
}

/// [`kind`] on a raw value of the current call.
pub(crate) fn kind_raw(
    env: &Env,
    value: Option<sys::napi_value>,
    fallback: BufferKind,
) -> ApiResult<BufferKind> {
    let Some(value) = value else { return Ok(fallback) };
    kind_named(&text_raw(env, value, "kind")?)
}

pub(crate) fn kind_named(name: &str) -> ApiResult<BufferKind> {
    BufferKind::lookup(name).ok_or_else(|| {
        ApiError::type_error(format!(
            "unknown buffer kind {name:?}: register it first with BufferKind.register"
        ))
    })
}

/// Bytes from JS, copied: a typed array, `DataView`, `ArrayBuffer`, or a string (UTF-8). The flag says
/// whether it was a string.
pub(crate) fn bytes(env: &Env, value: &Unknown<'_>, what: &str) -> ApiResult<(Vec<u8>, bool)> {
    bytes_raw(env, values::raw(value), what)
}

/// [`bytes`] on a raw value of the current call.
pub(crate) fn bytes_raw(env: &Env, raw: sys::napi_value, what: &str) -> ApiResult<(Vec<u8>, bool)> {
    if let Some(text) = values::string(env, raw) {
        return Ok((text.into_bytes(), true));
    }
    values::bytes(env, raw).map(|b| (b, false)).ok_or_else(|| {
        ApiError::type_error(format!(
            "{what} must be a Uint8Array, an ArrayBuffer, a typed array or a string"
        ))
    })
}

/// `options[key]`; `None` when it is missing (`undefined`), a `TypeError` when it cannot be read.
pub(crate) fn option(env: &Env, options: sys::napi_value, key: &str) -> ApiResult<Option<sys::napi_value>> {
    let value = values::property(env, options, key)
        .ok_or_else(|| ApiError::type_error(format!("options.{key} cannot be read")))?;
    Ok((values::type_of(env, value) != ValueType::Undefined).then_some(value))
}

/// `options[key]` as a byte count, if present.
pub(crate) fn size_option(env: &Env, options: sys::napi_value, key: &str) -> ApiResult<Option<usize>> {
    let Some(value) = option(env, options, key)? else { return Ok(None) };
    match values::number(env, value) {
        Some(n) => index_from_number(n, key).map(Some),
        None => Err(ApiError::type_error(format!("options.{key} must be a number"))),
    }
}

/// `options[key]` as a boolean, if present.
pub(crate) fn flag_option(env: &Env, options: sys::napi_value, key: &str) -> ApiResult<Option<bool>> {
    let Some(value) = option(env, options, key)? else { return Ok(None) };
    values::boolean(env, value)
        .map(Some)
        .ok_or_else(|| ApiError::type_error(format!("options.{key} must be a boolean")))
}

/// A short description of a value of the current call, for an error message.
pub(crate) fn describe_raw(env: &Env, raw: sys::napi_value) -> String {
    use ValueType::*;
    match values::type_of(env, raw) {
        Undefined => "undefined".into(),
        Null => "null".into(),
        Boolean => "a boolean".into(),
        Number => values::number(env, raw).map_or("a number".into(), |n| n.to_string()),
        String => "a string".into(),
        Symbol => "a symbol".into(),
        Function => "a function".into(),
        BigInt => "a bigint".into(),
        _ => "an object".into(),
    }
}
