//! The adapter between JS values and the binding core (`crate::binding`): a `JsValue` becomes a
//! [`Value`] for the core's checks, and a [`BindingError`] becomes the JS exception it names.
//!
//! Nothing here calls JS code that can throw: a JS exception that unwinds through a Rust frame skips
//! the frame's drops, and wasm-bindgen's borrow of `self` is one of them, which would leave the object
//! "recursively used" (unusable, its memory and pool budget never given back). Type checks are
//! `typeof`, `instanceof` (which wasm-bindgen's glue runs in a try/catch) and `Reflect` calls (which
//! return a `Result`).

use js_sys::{Error, RangeError, TypeError};
use wasm_bindgen::{JsCast, JsValue};

use crate::binding::{self, message, BindingError, ErrorClass, Value};

/// The JS exception for a core error, with its `code` property when it has one.
pub(crate) fn throwable(e: BindingError) -> JsValue {
    let error: JsValue = match e.class {
        ErrorClass::Error => Error::new(&e.message).into(),
        ErrorClass::TypeError => TypeError::new(&e.message).into(),
        ErrorClass::RangeError => RangeError::new(&e.message).into(),
    };
    if let Some(code) = e.code {
        // A property set on a fresh error object: cannot fail (Reflect.set returns false at worst).
        let _ = js_sys::Reflect::set(&error, &"code".into(), &code.into());
    }
    error
}

pub(crate) fn type_error(message: impl std::fmt::Display) -> JsValue {
    throwable(BindingError::type_error(message))
}

pub(crate) fn error(message: impl std::fmt::Display) -> JsValue {
    throwable(BindingError::error(message))
}

/// What a JS value is, for the core's checks (no conversion, nothing that can throw).
pub(crate) fn value(v: &JsValue) -> Value {
    if let Some(n) = v.as_f64() {
        Value::Number(n)
    } else if v.is_undefined() {
        Value::Undefined
    } else if v.is_null() {
        Value::Null
    } else if v.as_bool().is_some() {
        Value::Boolean
    } else if v.is_string() {
        Value::String
    } else if v.is_symbol() {
        Value::Symbol
    } else if v.is_function() {
        Value::Function
    } else if v.is_bigint() {
        Value::BigInt
    } else {
        Value::Object
    }
}

/// A size or offset (an offset into a document, past 4 GiB on wasm32 too): an integer in
/// `0 ..= Number.MAX_SAFE_INTEGER`. No coercion: `"1"`, `true`, `null` are `TypeError`s. A member
/// takes every argument's type so before any range within wasm memory (`binding::within_memory`).
pub(crate) fn offset(v: &JsValue, what: &str) -> Result<u64, JsValue> {
    binding::offset(value(v), what).map_err(throwable)
}

/// [`offset`], or `None` for a missing (`undefined` or `null`) argument.
pub(crate) fn optional_offset(v: &JsValue, what: &str) -> Result<Option<u64>, JsValue> {
    if v.is_undefined() || v.is_null() {
        return Ok(None);
    }
    offset(v, what).map(Some)
}

/// The error for a method called on an object whose contents were handed on (frozen) or freed.
pub(crate) fn used_up(class: &str, how: &str) -> JsValue {
    throwable(message::used_up(class, how))
}

/// A string argument, or `None` for `undefined` and `null`.
///
/// String parameters are taken as `JsValue` and checked here: wasm-bindgen's glue for a `String`
/// parameter trusts the argument to be a string, and anything else (a number, an `ArrayBuffer`) makes
/// it pass a bogus length to the allocator and corrupt wasm memory.
pub(crate) fn optional_string(v: &JsValue, what: &str) -> Result<Option<String>, JsValue> {
    if v.is_undefined() || v.is_null() {
        return Ok(None);
    }
    string(v, what).map(Some)
}

/// A string argument that must be there: a name or a path, so well-formed (`binding::name`).
pub(crate) fn string(v: &JsValue, what: &str) -> Result<String, JsValue> {
    let text = v.as_string().ok_or_else(|| throwable(message::not_a_string(what, value(v))))?;
    binding::name(text, || v.unchecked_ref::<js_sys::JsString>().is_valid_utf16(), what).map_err(throwable)
}

/// A document's name or path (`what`): a string as [`string`] takes it, neither empty nor with a NUL
/// character (`binding::path`, as the Node addon checks a file's path).
pub(crate) fn path(v: &JsValue, what: &str) -> Result<String, JsValue> {
    string(v, what).and_then(|text| binding::path(text, what).map_err(throwable))
}

/// `options[key]`, `undefined` when it is missing; a `TypeError` when it cannot be read (a throwing
/// getter, a Proxy's trap), as the addon's `args::option` says.
pub(crate) fn option(options: &JsValue, key: &str) -> Result<JsValue, JsValue> {
    js_sys::Reflect::get(options, &key.into()).map_err(|_| throwable(message::option_unreadable(key)))
}

/// `options[key]` as one of `choices` (`binding::choice`), if present.
pub(crate) fn choice_option(
    options: &JsValue,
    key: &str,
    choices: &[&'static str],
) -> Result<Option<&'static str>, JsValue> {
    let v = option(options, key)?;
    if v.is_undefined() {
        return Ok(None);
    }
    binding::choice(key, choices, v.as_string().as_deref(), value(&v)).map(Some).map_err(throwable)
}
