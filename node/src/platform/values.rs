//! Reading JS values and building a few, with raw Node-API calls.
//!
//! napi-rs converts arguments itself, but a failed conversion throws a plain `Error`; the API promises a
//! `TypeError` for a wrong type and a `RangeError` for a bad number. So arguments arrive as raw values,
//! and these functions say what they hold; `crate::args` turns that into checked sizes and names.

use std::ptr;

use napi::bindgen_prelude::{
    ClassInstance, FromNapiValue, JavaScriptClassExt, JsValue, ToNapiValue, Unknown,
};
use napi::{sys, Env, ValueType};

use super::ok;
use omnibuf::binding::{copy_bytes_in_pieces, ErrorClass};

/// A JS value of the current call, handed back to JS as it is.
pub struct Raw(pub(crate) sys::napi_value);

impl ToNapiValue for Raw {
    unsafe fn to_napi_value(_env: sys::napi_env, value: Self) -> napi::Result<sys::napi_value> {
        Ok(value.0)
    }
}

/// The raw value behind an argument.
pub(crate) fn raw(value: &Unknown<'_>) -> sys::napi_value {
    value.value().value
}

/// A string, or `undefined` for `None`.
pub(crate) fn string_or_undefined(env: &Env, text: Option<&str>) -> napi::Result<Raw> {
    let mut value = ptr::null_mut();
    // SAFETY: the pointer and length describe `text`; `value` is a valid out-pointer.
    let status = unsafe {
        match text {
            Some(text) => {
                sys::napi_create_string_utf8(env.raw(), text.as_ptr().cast(), text.len() as isize, &mut value)
            }
            None => sys::napi_get_undefined(env.raw(), &mut value),
        }
    };
    if ok(status) {
        Ok(Raw(value))
    } else {
        Err(napi::Error::from_reason("could not create a string"))
    }
}

/// A Rust value (a number, `Option`, `()`) converted by napi-rs, for the settle step of a Promise.
pub(crate) fn to_js<V: ToNapiValue>(env: &Env, value: V) -> napi::Result<Raw> {
    // SAFETY: `env` is the current call's (or the completion callback's, on the JS thread).
    unsafe { V::to_napi_value(env.raw(), value) }.map(Raw)
}

/// `null`.
pub(crate) fn null(env: &Env) -> napi::Result<Raw> {
    let mut value = ptr::null_mut();
    // SAFETY: `value` is a valid out-pointer.
    if ok(unsafe { sys::napi_get_null(env.raw(), &mut value) }) {
        Ok(Raw(value))
    } else {
        Err(napi::Error::from_reason("could not get null"))
    }
}

/// A new `Buffer` of length 0.
pub(crate) fn empty_buffer(env: &Env) -> napi::Result<Raw> {
    let mut value = ptr::null_mut();
    let mut data = ptr::null_mut();
    // SAFETY: out-pointers are valid locals; a zero-length buffer has no bytes to initialise.
    if ok(unsafe { sys::napi_create_buffer(env.raw(), 0, &mut data, &mut value) }) {
        Ok(Raw(value))
    } else {
        Err(napi::Error::from_reason("could not create a Buffer"))
    }
}

/// The native object behind `value`, if it is an instance of the class `T`.
pub(crate) fn instance<'env, T>(env: &'env Env, value: &Unknown<'_>) -> Option<ClassInstance<'env, T>>
where
    T: JavaScriptClassExt + 'static,
    ClassInstance<'env, T>: FromNapiValue,
{
    if !T::instance_of(env, value).ok()? {
        return None;
    }
    // SAFETY: `value` belongs to the current call and was just checked to be an instance of `T`.
    unsafe { ClassInstance::<T>::from_napi_value(env.raw(), raw(value)) }.ok()
}

/// The JS type of `value` (`Unknown` if Node-API cannot say).
pub(crate) fn type_of(env: &Env, value: sys::napi_value) -> ValueType {
    let mut kind = 0;
    // SAFETY: `env` and `value` belong to the current call; `kind` is a valid out-pointer.
    if ok(unsafe { sys::napi_typeof(env.raw(), value, &mut kind) }) {
        ValueType::from(kind)
    } else {
        ValueType::Unknown
    }
}

/// The number `value` holds, if it is a number.
pub(crate) fn number(env: &Env, value: sys::napi_value) -> Option<f64> {
    let mut n = 0.0;
    // SAFETY: `value` belongs to the current call; `n` is a valid out-pointer. For anything but a
    // number the call fails with `napi_number_expected` (and throws nothing), so no type check first.
    ok(unsafe { sys::napi_get_value_double(env.raw(), value, &mut n) }).then_some(n)
}

/// The boolean `value` holds, if it is a boolean.
pub(crate) fn boolean(env: &Env, value: sys::napi_value) -> Option<bool> {
    if type_of(env, value) != ValueType::Boolean {
        return None;
    }
    let mut b = false;
    // SAFETY: `value` is a boolean of the current call; `b` is a valid out-pointer.
    ok(unsafe { sys::napi_get_value_bool(env.raw(), value, &mut b) }).then_some(b)
}

/// The string `value` holds, as UTF-8 (lone surrogates become U+FFFD), if it is a string.
pub(crate) fn string(env: &Env, value: sys::napi_value) -> Option<String> {
    let bytes = utf8(env, value)?.ok()?;
    // Node-API writes valid UTF-8; the lossy conversion only guards against a runtime that does not.
    Some(String::from_utf8(bytes).unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned()))
}

/// The UTF-8 of the string `value`; `None` for any other value, `Some(Err(n))` when its `n` bytes
/// cannot be allocated (a string of hundreds of MiB in a process short of memory: an error to
/// report, where an infallible allocation would abort the process).
pub(crate) fn utf8(env: &Env, value: sys::napi_value) -> Option<Result<Vec<u8>, usize>> {
    if type_of(env, value) != ValueType::String {
        return None;
    }
    let mut len = 0;
    // SAFETY: a null buffer asks for the length in bytes, written to `len`.
    if !ok(unsafe { sys::napi_get_value_string_utf8(env.raw(), value, ptr::null_mut(), 0, &mut len) }) {
        return None;
    }
    let mut bytes = Vec::new();
    if bytes.try_reserve_exact(len + 1).is_err() {
        return Some(Err(len));
    }
    bytes.resize(len + 1, 0);
    let mut written = 0;
    // SAFETY: `bytes` has room for `len` bytes and the terminating NUL Node-API writes.
    let status = unsafe {
        sys::napi_get_value_string_utf8(env.raw(), value, bytes.as_mut_ptr().cast(), len + 1, &mut written)
    };
    if !ok(status) {
        return None;
    }
    bytes.truncate(written);
    Some(Ok(bytes))
}

/// How many UTF-16 code units the string `value` holds (without looking at them); `None` for any
/// other value.
pub(crate) fn string_units(env: &Env, value: sys::napi_value) -> Option<usize> {
    if type_of(env, value) != ValueType::String {
        return None;
    }
    let mut len = 0;
    // SAFETY: a null buffer asks for the length in UTF-16 code units, written to `len`.
    ok(unsafe { sys::napi_get_value_string_utf16(env.raw(), value, ptr::null_mut(), 0, &mut len) })
        .then_some(len)
}

/// The UTF-8 of the string `value`'s first whole characters into `scratch` (lone surrogates as
/// U+FFFD, as [`string`] makes them): `max` bytes of it at least, when it has that many, and never
/// more than 3 past them. For a write that takes only what fits: the rest is never encoded.
pub(crate) fn string_prefix(
    env: &Env,
    value: sys::napi_value,
    max: usize,
    scratch: &mut Vec<u8>,
) -> Option<()> {
    // Node-API writes whole characters while they fit in the buffer less its NUL: at least `max`
    // bytes with 3 to spare (a character is 4 bytes at most).
    let size = max + 4;
    scratch.clear();
    scratch.resize(size, 0);
    let mut written = 0;
    // SAFETY: `scratch` has room for `size` bytes, the NUL included.
    let status = unsafe {
        sys::napi_get_value_string_utf8(env.raw(), value, scratch.as_mut_ptr().cast(), size, &mut written)
    };
    scratch.truncate(if ok(status) { written } else { 0 });
    ok(status).then_some(())
}

/// Whether the string `value` is well-formed UTF-16, as `String.prototype.isWellFormed()` says: it
/// holds no lone surrogate (which [`string`] turns into U+FFFD). `false` for any other value.
pub(crate) fn well_formed(env: &Env, value: sys::napi_value) -> bool {
    let mut len = 0;
    // SAFETY: a null buffer asks for the length in UTF-16 code units, written to `len`.
    if !ok(unsafe { sys::napi_get_value_string_utf16(env.raw(), value, ptr::null_mut(), 0, &mut len) }) {
        return false;
    }
    let mut units = vec![0u16; len + 1];
    let mut written = 0;
    // SAFETY: `units` has room for `len` code units and the terminating NUL Node-API writes.
    let status = unsafe {
        sys::napi_get_value_string_utf16(env.raw(), value, units.as_mut_ptr(), len + 1, &mut written)
    };
    units.truncate(written);
    ok(status) && char::decode_utf16(units).all(|c| c.is_ok())
}

/// A copy of the bytes of a typed array, `DataView` or `ArrayBuffer` (a detached one is empty);
/// `None` for any other value, `Some(Err(len))` when the copy's `len` bytes cannot be allocated.
pub(crate) fn bytes(env: &Env, value: sys::napi_value) -> Option<Result<Vec<u8>, usize>> {
    let (data, len) = byte_region(env, value)?;
    if data.is_null() || len == 0 {
        return Some(Ok(Vec::new()));
    }
    let mut copy = Vec::new();
    if copy.try_reserve_exact(len).is_err() {
        return Some(Err(len));
    }
    // The bytes may be a SharedArrayBuffer's, which a worker can write meanwhile: so they are read
    // with a raw copy, never through a Rust reference (which would promise they do not change), and
    // the copy holds whatever they were, as a JS copy of shared memory would.
    // SAFETY: Node-API reported `len` readable bytes at `data`, alive while the call holds the value;
    // `copy` is a new allocation with room for `len` bytes (no overlap), all written before `set_len`.
    unsafe {
        ptr::copy_nonoverlapping(data.cast::<u8>().cast_const(), copy.as_mut_ptr(), len);
        copy.set_len(len);
    }
    Some(Ok(copy))
}

/// How many bytes a typed array, `DataView` or `ArrayBuffer` holds (0 for a detached one); `None`
/// for any other value.
pub(crate) fn byte_length(env: &Env, value: sys::napi_value) -> Option<usize> {
    byte_region(env, value).map(|(_, len)| len)
}

/// A copy of at most `max` bytes from `offset` of a typed array, `DataView` or `ArrayBuffer` (a
/// detached one is empty) into `scratch`, which keeps its allocation from call to call; `None` for
/// any other value. For a write that takes only what fits, a piece at a time: the rest is never
/// copied.
pub(crate) fn bytes_into(
    env: &Env,
    value: sys::napi_value,
    offset: usize,
    max: usize,
    scratch: &mut Vec<u8>,
) -> Option<()> {
    let (data, len) = byte_region(env, value)?;
    scratch.clear();
    let n = len.saturating_sub(offset).min(max);
    if data.is_null() || n == 0 {
        return Some(());
    }
    scratch.reserve(n);
    // As in `bytes`: a raw copy, since the bytes may be a SharedArrayBuffer's.
    // SAFETY: Node-API reported `len >= offset + n` readable bytes at `data`, alive while the call
    // holds the value; `scratch` has room for `n` bytes of its own (no overlap), all written before
    // `set_len`.
    unsafe {
        copy_bytes_in_pieces(data.cast::<u8>().cast_const().add(offset), scratch.as_mut_ptr(), n);
        scratch.set_len(n);
    }
    Some(())
}

/// Copies the first bytes of `source` into a typed array, `DataView` or `ArrayBuffer` from its
/// start, as many as it holds; returns how many (0 for a detached one), `None` for any other value.
/// `source` must not lie in the target's memory.
pub(crate) fn copy_into(env: &Env, target: sys::napi_value, source: &[u8]) -> Option<usize> {
    let (data, len) = byte_region(env, target)?;
    let n = if data.is_null() { 0 } else { len.min(source.len()) };
    if n > 0 {
        // A raw copy, as JS could write the target (maybe from another thread) meanwhile.
        // SAFETY: Node-API reported at least `n` writable bytes at `data`, alive while the call holds
        // the value; `source` has `n` readable bytes, elsewhere (the caller's promise).
        unsafe { copy_bytes_in_pieces(source.as_ptr(), data.cast::<u8>(), n) };
    }
    Some(n)
}

/// The error for bytes that Node-API would not make into a `Buffer` or `ArrayBuffer` of `len` bytes:
/// a length over the runtime's largest (4 GiB in Node 20), for all this layer asks for. Node's own
/// pending `RangeError` is dropped for this one, which names the length; its status, `InvalidArg`,
/// marks it for the domain code to throw as a `RangeError` (`ApiError::from_platform`).
pub(crate) fn too_large(env: &Env, what: &str, len: usize) -> napi::Error {
    clear_exception(env);
    napi::Error::new(
        napi::Status::InvalidArg,
        format!("cannot make {what} of {len} bytes, more than this runtime's largest"),
    )
}

/// A new `Buffer` holding a copy of `source`.
pub(crate) fn buffer_from(env: &Env, source: &[u8]) -> napi::Result<Raw> {
    let mut value = ptr::null_mut();
    let mut data = ptr::null_mut();
    // SAFETY: `data` and `value` are valid out-pointers; Node-API allocates `source.len()` bytes.
    let status = unsafe { sys::napi_create_buffer(env.raw(), source.len(), &mut data, &mut value) };
    if !ok(status) {
        return Err(too_large(env, "a Buffer", source.len()));
    }
    if !source.is_empty() {
        // SAFETY: the new Buffer's `source.len()` bytes at `data` are ours to write, apart from `source`.
        unsafe { copy_bytes_in_pieces(source.as_ptr(), data.cast::<u8>(), source.len()) };
    }
    Ok(Raw(value))
}

/// A new `Uint8Array` (not a `Buffer`) holding a copy of `source`: a `Buffer`'s memory, seen through a
/// plain `Uint8Array`. Made as a `Buffer` first because Node-API refuses a `Buffer` too long for the
/// runtime with an error, where `napi_create_typedarray` stops the process; Node-API gives a `Buffer`
/// an `ArrayBuffer` of its own, of exactly its length.
pub(crate) fn uint8_array_from(env: &Env, source: &[u8]) -> napi::Result<Raw> {
    let Raw(buffer) = buffer_from(env, source)?;
    let (mut kind, mut len, mut data) = (sys::TypedarrayType::uint8_array, 0, ptr::null_mut());
    let (mut array_buffer, mut offset, mut array) = (ptr::null_mut(), 0, ptr::null_mut());
    // SAFETY: `buffer` is a `Buffer` of this call, so a typed array; the out-pointers are valid
    // locals; the new array covers the `len` bytes the `Buffer` covers, which its `ArrayBuffer` holds.
    let made = unsafe {
        ok(sys::napi_get_typedarray_info(
            env.raw(),
            buffer,
            &mut kind,
            &mut len,
            &mut data,
            &mut array_buffer,
            &mut offset,
        )) && ok(sys::napi_create_typedarray(
            env.raw(),
            sys::TypedarrayType::uint8_array,
            len,
            array_buffer,
            offset,
            &mut array,
        ))
    };
    if !made {
        clear_exception(env);
        return Err(napi::Error::from_reason("could not make a Uint8Array"));
    }
    Ok(Raw(array))
}

/// Whether `value` is a typed array, `DataView` or `ArrayBuffer`.
pub(crate) fn is_bytes(env: &Env, value: sys::napi_value) -> bool {
    byte_region(env, value).is_some()
}

/// Where the bytes of a typed array, `DataView` or `ArrayBuffer` are, and how many.
fn byte_region(env: &Env, value: sys::napi_value) -> Option<(*mut std::ffi::c_void, usize)> {
    let env = env.raw();
    let (mut is_typed, mut is_view, mut is_buffer) = (false, false, false);
    let mut data = ptr::null_mut();
    // SAFETY: `env` and `value` belong to the current call, every out-pointer is a valid local, and each
    // info call is made only for the kind of value it accepts.
    unsafe {
        if ok(sys::napi_is_typedarray(env, value, &mut is_typed)) && is_typed {
            let (mut kind, mut length, mut offset) = (0, 0, 0);
            let mut buffer = ptr::null_mut();
            if !ok(sys::napi_get_typedarray_info(
                env,
                value,
                &mut kind,
                &mut length,
                &mut data,
                &mut buffer,
                &mut offset,
            )) {
                return None;
            }
            return Some((data, length * element_size(kind)));
        }
        if ok(sys::napi_is_dataview(env, value, &mut is_view)) && is_view {
            let (mut length, mut offset) = (0, 0);
            let mut buffer = ptr::null_mut();
            if !ok(sys::napi_get_dataview_info(env, value, &mut length, &mut data, &mut buffer, &mut offset))
            {
                return None;
            }
            return Some((data, length));
        }
        if ok(sys::napi_is_arraybuffer(env, value, &mut is_buffer)) && is_buffer {
            let mut length = 0;
            if !ok(sys::napi_get_arraybuffer_info(env, value, &mut data, &mut length)) {
                return None;
            }
            return Some((data, length));
        }
    }
    None
}

/// Bytes per element of a typed array kind.
#[allow(non_upper_case_globals)] // Node-API's names
fn element_size(kind: sys::napi_typedarray_type) -> usize {
    use sys::TypedarrayType::*;
    match kind {
        int8_array | uint8_array | uint8_clamped_array => 1,
        int16_array | uint16_array => 2,
        int32_array | uint32_array | float32_array => 4,
        // float64, bigint64, biguint64, and any kind added later that is 8 bytes wide.
        _ => 8,
    }
}

/// `object[key]`; `None` when it cannot be read (a throwing getter leaves no exception pending).
pub(crate) fn property(env: &Env, object: sys::napi_value, key: &str) -> Option<sys::napi_value> {
    let key = std::ffi::CString::new(key).ok()?;
    let mut value = ptr::null_mut();
    // SAFETY: `object` belongs to the current call and `key` is NUL-terminated.
    if ok(unsafe { sys::napi_get_named_property(env.raw(), object, key.as_ptr(), &mut value) }) {
        Some(value)
    } else {
        clear_exception(env);
        None
    }
}

/// Sets `object[key] = n`; `false` when it cannot be set (a frozen object leaves no exception
/// pending).
pub(crate) fn set_number(env: &Env, object: sys::napi_value, key: &str, n: f64) -> bool {
    let Ok(key) = std::ffi::CString::new(key) else { return false };
    let mut value = ptr::null_mut();
    // SAFETY: `object` belongs to the current call, `key` is NUL-terminated, `value` a valid
    // out-pointer that the second call reads only once the first filled it.
    let set = unsafe {
        ok(sys::napi_create_double(env.raw(), n, &mut value))
            && ok(sys::napi_set_named_property(env.raw(), object, key.as_ptr(), value))
    };
    if !set {
        clear_exception(env);
    }
    set
}

/// Whether `value` is an array (a Proxy of one too).
pub(crate) fn is_array(env: &Env, value: sys::napi_value) -> bool {
    is_plain_array(env, value) || array_is_array(env, value)
}

/// Whether `value` is an `Array` itself (`napi_is_array`, which a Proxy of one is not).
fn is_plain_array(env: &Env, value: sys::napi_value) -> bool {
    let mut is_array = false;
    // SAFETY: `value` belongs to the current call; `is_array` is a valid out-pointer.
    ok(unsafe { sys::napi_is_array(env.raw(), value, &mut is_array) }) && is_array
}

/// What `Array.isArray(value)` says, which sees through a Proxy (a reactive store's array), as the
/// wasm build's test does. A revoked Proxy, which makes it throw, counts as an array whose elements
/// cannot be read.
fn array_is_array(env: &Env, value: sys::napi_value) -> bool {
    let env_raw = env.raw();
    let (mut global, mut array, mut test, mut result) =
        (ptr::null_mut(), ptr::null_mut(), ptr::null_mut(), ptr::null_mut());
    let mut answer = false;
    // SAFETY: every value belongs to the current call and every out-pointer is a valid local; each
    // call is made only once the one before it succeeded.
    let called = unsafe {
        ok(sys::napi_get_global(env_raw, &mut global))
            && ok(sys::napi_get_named_property(env_raw, global, c"Array".as_ptr(), &mut array))
            && ok(sys::napi_get_named_property(env_raw, array, c"isArray".as_ptr(), &mut test))
            && ok(sys::napi_call_function(env_raw, array, test, 1, &value, &mut result))
            && ok(sys::napi_get_value_bool(env_raw, result, &mut answer))
    };
    if !called {
        clear_exception(env);
        return true;
    }
    answer
}

/// The elements of an array (or of a Proxy of one, read through its traps); `None` if `value` is not
/// an array, or one of them cannot be read (a throwing getter, a Proxy's trap: [`is_array`] tells
/// the two apart). For arrays the caller made (property names): one a user passes may claim any
/// length, so read it with [`array_length`] and [`array_item`], stopping at the first bad element.
pub(crate) fn array_items(env: &Env, value: sys::napi_value) -> Option<Vec<sys::napi_value>> {
    let len = array_length(env, value)?;
    (0..len).map(|i| array_item(env, value, i)).collect()
}

/// The length of an array (or of a Proxy of one, as its `length` reads); `None` if `value` is not an
/// array or its length cannot be read.
pub(crate) fn array_length(env: &Env, value: sys::napi_value) -> Option<u32> {
    let env_raw = env.raw();
    let mut len = 0u32;
    if is_plain_array(env, value) {
        // SAFETY: `value` belongs to the current call; `len` is a valid out-pointer.
        if !ok(unsafe { sys::napi_get_array_length(env_raw, value, &mut len) }) {
            clear_exception(env);
            return None;
        }
    } else if is_array(env, value) {
        // A Proxy: its `length` as the wasm build reads it (a number, else none).
        let mut length = ptr::null_mut();
        let mut n = 0f64;
        // SAFETY: `value` belongs to the current call; `length` and `n` are valid out-pointers.
        if !ok(unsafe { sys::napi_get_named_property(env_raw, value, c"length".as_ptr(), &mut length) }) {
            clear_exception(env);
            return None;
        }
        // SAFETY: as above; a `length` that is not a number fails the call and leaves `n` at 0.
        let _ = unsafe { sys::napi_get_value_double(env_raw, length, &mut n) };
        len = n as u32;
    } else {
        return None;
    }
    Some(len)
}

/// Element `index` of an array (or of a Proxy of one); `None` if it cannot be read (a throwing
/// getter, a Proxy's trap).
pub(crate) fn array_item(env: &Env, value: sys::napi_value, index: u32) -> Option<sys::napi_value> {
    let mut item = ptr::null_mut();
    // SAFETY: `value` belongs to the current call and `item` is a valid out-pointer; a getter or trap
    // may throw, which fails the call and is cleared below.
    if !ok(unsafe { sys::napi_get_element(env.raw(), value, index, &mut item) }) {
        clear_exception(env);
        return None;
    }
    Some(item)
}

/// The object's own enumerable string-keyed properties, as (name, value) pairs: each name a string.
pub(crate) fn own_entries(
    env: &Env,
    object: sys::napi_value,
) -> Option<Vec<(sys::napi_value, sys::napi_value)>> {
    let mut names = ptr::null_mut();
    // SAFETY: `object` is an object of the current call; `names` is a valid out-pointer.
    let status = unsafe {
        sys::napi_get_all_property_names(
            env.raw(),
            object,
            sys::KeyCollectionMode::own_only,
            sys::KeyFilter::enumerable | sys::KeyFilter::skip_symbols,
            sys::KeyConversion::numbers_to_strings,
            &mut names,
        )
    };
    if !ok(status) {
        clear_exception(env);
        return None;
    }
    let mut entries = Vec::new();
    for name in array_items(env, names)? {
        let mut value = ptr::null_mut();
        // SAFETY: `object` and `name` belong to the current call; `value` is a valid out-pointer.
        if !ok(unsafe { sys::napi_get_property(env.raw(), object, name, &mut value) }) {
            clear_exception(env);
            return None;
        }
        entries.push((name, value));
    }
    Some(entries)
}

/// Whether this thread's JS may still run: `false` once its environment is stopping (a worker being
/// terminated, the process exiting), which another thread may decide while this one is blocked in a
/// native call. Node-API refuses calls that may run JS from then on, before they touch the engine; a
/// property read of a fresh object is one such call, and runs no JS of anyone's.
pub(crate) fn can_run_js(env: &Env) -> bool {
    let mut object = ptr::null_mut();
    let mut value = ptr::null_mut();
    // SAFETY: out-pointers are valid locals; the key is NUL-terminated; the object is ours, a plain
    // one without getters.
    unsafe {
        ok(sys::napi_create_object(env.raw(), &mut object))
            && ok(sys::napi_get_named_property(env.raw(), object, c"stopping".as_ptr(), &mut value))
    }
}

/// Drops a pending exception left by a failed call, so that the error we throw is the one JS sees.
pub(crate) fn clear_exception(env: &Env) {
    let mut pending = false;
    let mut exception = ptr::null_mut();
    // SAFETY: out-pointers are valid locals; clearing with nothing pending is a no-op.
    unsafe {
        if ok(sys::napi_is_exception_pending(env.raw(), &mut pending)) && pending {
            sys::napi_get_and_clear_last_exception(env.raw(), &mut exception);
        }
    }
}

/// A JS error object of `class`, with `message` and (when given) a `code` property.
pub(crate) fn error_object(
    env: &Env,
    class: ErrorClass,
    message: &str,
    code: Option<&str>,
) -> Option<sys::napi_value> {
    let env = env.raw();
    let string = |text: &str| {
        let mut value = ptr::null_mut();
        // SAFETY: the pointer and length describe `text`; the out-pointer is a valid local.
        let status = unsafe {
            sys::napi_create_string_utf8(env, text.as_ptr().cast(), text.len() as isize, &mut value)
        };
        ok(status).then_some(value)
    };
    let message = string(message)?;
    // A null code makes Node-API leave the `code` property out.
    let code = match code {
        Some(code) => string(code)?,
        None => ptr::null_mut(),
    };
    let mut object = ptr::null_mut();
    // SAFETY: `code` and `message` are values of this call's scope (or a null code); the out-pointer
    // is a valid local.
    let status = unsafe {
        match class {
            ErrorClass::Error => sys::napi_create_error(env, code, message, &mut object),
            ErrorClass::TypeError => sys::napi_create_type_error(env, code, message, &mut object),
            ErrorClass::RangeError => sys::napi_create_range_error(env, code, message, &mut object),
        }
    };
    ok(status).then_some(object)
}
