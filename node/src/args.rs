//! Checked arguments: sizes, names, kinds and bytes from JS values, with the errors the API promises.
//!
//! A thin adapter over the binding core (`omnibuf::binding`), which holds the checks and the wording
//! both JS builds share: here a `napi_value` becomes a [`Value`] and the core's error an [`ApiError`].

use napi::bindgen_prelude::Unknown;
use napi::{sys, Env, ValueType};
use omnibuf::binding::{self, message, Value};
use omnibuf::BufferKind;

use crate::error::{ApiError, ApiResult};
use crate::platform::values;

/// What a value of the current call is, for the core's checks.
pub(crate) fn value(env: &Env, raw: sys::napi_value) -> Value {
    use ValueType::*;
    match values::type_of(env, raw) {
        Undefined => Value::Undefined,
        Null => Value::Null,
        Boolean => Value::Boolean,
        Number => values::number(env, raw).map_or(Value::Object, Value::Number),
        String => Value::String,
        Symbol => Value::Symbol,
        Function => Value::Function,
        BigInt => Value::BigInt,
        _ => Value::Object,
    }
}

/// A byte offset or size: an integer in `0 ..= Number.MAX_SAFE_INTEGER`.
pub(crate) fn index(env: &Env, value: &Unknown<'_>, what: &str) -> ApiResult<usize> {
    index_raw(env, values::raw(value), what)
}

/// [`index`] on a raw value of the current call.
pub(crate) fn index_raw(env: &Env, raw: sys::napi_value, what: &str) -> ApiResult<usize> {
    Ok(binding::index(value(env, raw), what)?)
}

/// A ring's capacity: [`index`], and at least 1 (`binding::capacity`).
pub(crate) fn capacity(env: &Env, value: &Unknown<'_>) -> ApiResult<usize> {
    Ok(binding::capacity(self::value(env, values::raw(value)), "capacity")?)
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
    Ok(binding::index(Value::Number(n), what)?)
}

/// A string argument: a name or a path, so well-formed (`binding::name`).
pub(crate) fn text(env: &Env, value: &Unknown<'_>, what: &str) -> ApiResult<String> {
    text_raw(env, values::raw(value), what)
}

/// [`text`] on a raw value of the current call.
pub(crate) fn text_raw(env: &Env, value: sys::napi_value, what: &str) -> ApiResult<String> {
    let text =
        values::string(env, value).ok_or_else(|| message::not_a_string(what, self::value(env, value)))?;
    Ok(binding::name(text, || values::well_formed(env, value), what)?)
}

/// A file's path (`what`): a string as [`text`] takes it, neither empty nor with a NUL character
/// (`binding::path`, as the wasm build checks a document's name).
pub(crate) fn path(env: &Env, value: &Unknown<'_>, what: &str) -> ApiResult<String> {
    Ok(binding::path(text(env, value, what)?, what)?)
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
    BufferKind::lookup(name).ok_or_else(|| message::unknown_kind(name).into())
}

/// Bytes from JS, copied: a typed array, `DataView`, `ArrayBuffer`, or a string (UTF-8). The flag says
/// whether it was a string.
pub(crate) fn bytes(env: &Env, value: &Unknown<'_>, what: &str) -> ApiResult<(Vec<u8>, bool)> {
    bytes_raw(env, values::raw(value), what)
}

/// [`bytes`] on a raw value of the current call.
pub(crate) fn bytes_raw(env: &Env, raw: sys::napi_value, what: &str) -> ApiResult<(Vec<u8>, bool)> {
    let (copy, is_string) = match values::utf8(env, raw) {
        Some(text) => (text, true),
        None => (values::bytes(env, raw).ok_or_else(|| message::not_bytes(what, value(env, raw)))?, false),
    };
    let copy = copy.map_err(|n| message::cannot_allocate(n as u64))?;
    Ok((copy, is_string))
}

/// `options[key]`; `None` when it is missing (`undefined`), a `TypeError` when it cannot be read.
pub(crate) fn option(env: &Env, options: sys::napi_value, key: &str) -> ApiResult<Option<sys::napi_value>> {
    let value =
        values::property(env, options, key).ok_or_else(|| ApiError::from(message::option_unreadable(key)))?;
    Ok((values::type_of(env, value) != ValueType::Undefined).then_some(value))
}

/// `options[key]` as one of `choices` (`binding::choice`), if present.
pub(crate) fn choice_option(
    env: &Env,
    options: sys::napi_value,
    key: &str,
    choices: &[&'static str],
) -> ApiResult<Option<&'static str>> {
    let Some(raw) = option(env, options, key)? else { return Ok(None) };
    let text = values::string(env, raw);
    Ok(Some(binding::choice(key, choices, text.as_deref(), value(env, raw))?))
}

/// `options[key]` as a byte count, if present.
pub(crate) fn size_option(env: &Env, options: sys::napi_value, key: &str) -> ApiResult<Option<usize>> {
    let Some(n) = number_option(env, options, key)? else { return Ok(None) };
    Ok(Some(binding::index(n, key)?))
}

/// `options[key]` as a number for one of the core's checks, if present; a `TypeError` when it is
/// not a number.
pub(crate) fn number_option(env: &Env, options: sys::napi_value, key: &str) -> ApiResult<Option<Value>> {
    let Some(raw) = option(env, options, key)? else { return Ok(None) };
    match values::number(env, raw) {
        Some(n) => Ok(Some(Value::Number(n))),
        None => Err(message::option_not_number(key, value(env, raw)).into()),
    }
}

/// `options[key]` as a boolean, if present.
pub(crate) fn flag_option(env: &Env, options: sys::napi_value, key: &str) -> ApiResult<Option<bool>> {
    let Some(raw) = option(env, options, key)? else { return Ok(None) };
    values::boolean(env, raw)
        .map(Some)
        .ok_or_else(|| message::option_not_boolean(key, value(env, raw)).into())
}

/// A wait's ticket: the plain object `{ ref, id }` that the JS layer (`js/waits.mjs`) passes as the
/// last argument of a method that waits (`acquire`, `sliceAsync`). Returns whether the wait keeps the
/// event loop alive (`ref`, default `false`) and the object to write the wait's `id` into, for
/// `__cancelWait`. No ticket (a direct call of the addon's method): an unref'd wait without an id.
pub(crate) fn wait_ticket(
    env: &Env,
    ticket: Option<&Unknown<'_>>,
) -> ApiResult<(bool, Option<sys::napi_value>)> {
    let Some(ticket) = ticket.map(values::raw) else { return Ok((false, None)) };
    match values::type_of(env, ticket) {
        ValueType::Undefined | ValueType::Null => Ok((false, None)),
        ValueType::Object => Ok((flag_option(env, ticket, "ref")?.unwrap_or(false), Some(ticket))),
        _ => Err(message::options_not_object(value(env, ticket)).into()),
    }
}

/// Writes a wait's `id` into its ticket (see [`wait_ticket`]).
pub(crate) fn set_wait_id(env: &Env, ticket: Option<sys::napi_value>, id: u64) {
    if let Some(ticket) = ticket {
        values::set_number(env, ticket, "id", id as f64);
    }
}

/// The ticket of cancellable work (a VirtualBuffer Promise): the plain object `{ id }` that the JS
/// layer (`js/waits.mjs`) passes as the last argument, to receive the work's id for `__cancelWork`.
/// Anything else (no ticket: a direct call of the addon's method) is work nobody can cancel.
pub(crate) fn work_ticket(env: &Env, ticket: Option<&Unknown<'_>>) -> Option<sys::napi_value> {
    let ticket = ticket.map(values::raw)?;
    (values::type_of(env, ticket) == ValueType::Object).then_some(ticket)
}
