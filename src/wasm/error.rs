//! Turning bad JS input and Rust errors into JS exceptions.

use js_sys::{Error, RangeError, TypeError};
use wasm_bindgen::JsValue;

pub(crate) fn range_error(message: impl std::fmt::Display) -> JsValue {
    RangeError::new(&message.to_string()).into()
}

pub(crate) fn type_error(message: impl std::fmt::Display) -> JsValue {
    TypeError::new(&message.to_string()).into()
}

pub(crate) fn error(message: impl std::fmt::Display) -> JsValue {
    Error::new(&message.to_string()).into()
}

/// A JS number used as a byte offset or size: an integer in `0 ..= Number.MAX_SAFE_INTEGER`.
pub(crate) fn index(value: f64, what: &str) -> Result<usize, JsValue> {
    const MAX_SAFE: f64 = 9_007_199_254_740_991.0;
    if !value.is_finite() || value.fract() != 0.0 {
        return Err(type_error(format!("{what} must be an integer, got {value}")));
    }
    if !(0.0..=MAX_SAFE.min(usize::MAX as f64)).contains(&value) {
        return Err(range_error(format!("{what} must be between 0 and {}, got {value}", usize::MAX)));
    }
    Ok(value as usize)
}

/// The error for a method called on an object whose contents were handed on (frozen) or freed.
pub(crate) fn used_up(class: &str, how: &str) -> JsValue {
    error(format!("this {class} was {how} and cannot be used any more"))
}

/// A string argument, or `None` for `undefined` and `null`.
///
/// String parameters are taken as `JsValue` and checked here: wasm-bindgen's glue for a `String`
/// parameter trusts the argument to be a string, and anything else (a number, an `ArrayBuffer`) makes
/// it pass a bogus length to the allocator and corrupt wasm memory.
pub(crate) fn optional_string(value: &JsValue, what: &str) -> Result<Option<String>, JsValue> {
    if value.is_undefined() || value.is_null() {
        return Ok(None);
    }
    value.as_string().map(Some).ok_or_else(|| type_error(format!("{what} must be a string")))
}

/// A string argument that must be there.
pub(crate) fn string(value: &JsValue, what: &str) -> Result<String, JsValue> {
    optional_string(value, what)?.ok_or_else(|| type_error(format!("{what} must be a string")))
}
