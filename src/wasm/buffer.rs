//! `ZeroCopyBuffer`, `BufferMut` and `BufferKind` for JS.

use js_sys::{Reflect, Uint8Array};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;

use super::error::{offset, optional_offset, optional_string, string, throwable, used_up};
use crate::binding::message;
use crate::{BufferKind, BufferMut, ZeroCopyBuffer};

/// Bytes from JS: a string (UTF-8) or a `Uint8Array`, copied (wasm can only address its own memory).
///
/// The JS side (`js/guard.mjs`, `bytesArg`) has already turned every other kind of bytes (an
/// `ArrayBuffer`, any typed array or `DataView`, detached ones too) into a fresh `Uint8Array` that
/// only this call sees, using the built-in getters rather than the object's own properties: nothing
/// read here can run the caller's code or throw. Anything else is a `TypeError`.
pub(crate) fn bytes_from_js(value: &JsValue, what: &str) -> Result<(Vec<u8>, bool), JsValue> {
    if let Some(text) = value.dyn_ref::<js_sys::JsString>() {
        // A long string is encoded into JS memory first (see `utf8_in_js`); a short one goes the
        // glue's way, straight into wasm memory, which costs a fifth as much: the little it asks
        // for fails only when wasm memory is full to its last bytes (index.d.ts says what then).
        let encoded = if text.length() < LONG_STRING { None } else { utf8_in_js(text).transpose()? };
        let bytes = match encoded {
            Some(utf8) => copy_of(&utf8)?,
            None => String::from(text).into_bytes(),
        };
        return Ok((bytes, true));
    }
    match value.dyn_ref::<Uint8Array>() {
        Some(array) => Ok((copy_of(array)?, false)),
        None => Err(throwable(message::not_bytes(what, super::error::value(value)))),
    }
}

/// A copy of `array` in wasm memory, or a `RangeError` where it has no room (see [`append_from_js`]).
fn copy_of(array: &Uint8Array) -> Result<Vec<u8>, JsValue> {
    let mut bytes = Vec::new();
    append_from_js(&mut bytes, array)?;
    Ok(bytes)
}

/// Strings of at least this many UTF-16 units are encoded by [`utf8_in_js`].
const LONG_STRING: u32 = 64 << 10;

thread_local! {
    /// One `TextEncoder` and its `encode` for [`utf8_in_js`]; `None` where the scope has none.
    static ENCODER: Option<(JsValue, js_sys::Function)> = {
        let class = Reflect::get(&js_sys::global(), &"TextEncoder".into()).ok()?.dyn_into::<js_sys::Function>().ok()?;
        let encoder = Reflect::construct(&class, &js_sys::Array::new()).ok()?;
        let encode = Reflect::get(&encoder, &"encode".into()).ok()?.dyn_into::<js_sys::Function>().ok()?;
        Some((encoder, encode))
    };
}

/// The UTF-8 of `text`, encoded into JS memory (`None` where there is no `TextEncoder`). Its bytes
/// then reach wasm memory as any other bytes do, through a reservation that fails with a
/// `RangeError` ([`append_from_js`]): as a Rust `String`, they would be allocated by wasm-bindgen's
/// glue, whose allocation traps when wasm memory has no room, and a trap leaves the object being
/// called borrowed for good.
fn utf8_in_js(text: &js_sys::JsString) -> Option<Result<Uint8Array, JsValue>> {
    ENCODER.with(|encoder| {
        let (encoder, encode) = encoder.as_ref()?;
        Some(encode.call1(encoder, text).and_then(|utf8| utf8.dyn_into::<Uint8Array>()))
    })
}

/// Appends a copy of `array` to `bytes`, straight from JS memory; a `RangeError`, with `bytes` as
/// it was, where wasm memory cannot hold that many more (rather than the allocator's abort, a trap).
pub(crate) fn append_from_js(bytes: &mut Vec<u8>, array: &Uint8Array) -> Result<(), JsValue> {
    let n = length_of(array)?;
    bytes.try_reserve(n).map_err(|_| throwable(message::cannot_allocate(n as u64)))?;
    let start = bytes.len();
    bytes.resize(start + n, 0);
    array.copy_to(&mut bytes[start..]);
    Ok(())
}

#[wasm_bindgen]
extern "C" {
    /// A `Uint8Array` whose `length` is read as the number it is: js_sys's `length()` is a `u32`,
    /// which wraps past 2^32 - 1 elements (Node makes such arrays), and a copy of a wrapped length
    /// fails in JS, an exception through Rust that would leave the object borrowed for good.
    type LongArray;
    #[wasm_bindgen(method, getter)]
    fn length(this: &LongArray) -> f64;
}

/// `array.length`, exactly (a typed array's length is an integer of at most 2^53 - 1).
fn full_length(array: &Uint8Array) -> u64 {
    array.unchecked_ref::<LongArray>().length() as u64
}

/// How many bytes `array` holds, all of which a call may copy into wasm memory; `RangeError` ("cannot
/// allocate") past what wasm32 addresses, which no copy could hold.
pub(crate) fn length_of(array: &Uint8Array) -> Result<usize, JsValue> {
    let n = full_length(array);
    usize::try_from(n).map_err(|_| throwable(message::cannot_allocate(n)))
}

/// How many bytes of `array` a call that takes at most what fits may use: its length, or all that
/// wasm32 addresses past that (more than any room).
pub(crate) fn length_up_to_max(array: &Uint8Array) -> usize {
    usize::try_from(full_length(array)).unwrap_or(usize::MAX)
}

/// A kind by name; `undefined` gives `fallback`.
pub(crate) fn kind_from_js(name: Option<String>, fallback: BufferKind) -> Result<BufferKind, JsValue> {
    match name {
        None => Ok(fallback),
        Some(name) => BufferKind::lookup(&name).ok_or_else(|| throwable(message::unknown_kind(&name))),
    }
}

/// An immutable view over shared bytes; `slice` and `clone`-like methods share the memory.
#[wasm_bindgen(js_name = ZeroCopyBuffer)]
pub struct JsZeroCopyBuffer {
    inner: ZeroCopyBuffer,
}

#[wasm_bindgen(js_class = ZeroCopyBuffer)]
impl JsZeroCopyBuffer {
    /// Not public: `ZeroCopyBuffer.from()` and the methods that return one make them. (Without it,
    /// `new ZeroCopyBuffer()` would make an object over no Rust value.)
    #[wasm_bindgen(constructor)]
    pub fn new() -> Result<JsZeroCopyBuffer, JsValue> {
        Err(throwable(message::no_constructor("ZeroCopyBuffer")))
    }
}

impl From<ZeroCopyBuffer> for JsZeroCopyBuffer {
    fn from(inner: ZeroCopyBuffer) -> Self {
        JsZeroCopyBuffer { inner }
    }
}

impl JsZeroCopyBuffer {
    /// Bytes `start .. end` of the buffer, as offsets JS passed them, or the `RangeError` of a range
    /// out of bounds: for offsets past wasm32's `usize` too, with the numbers given, as the addon
    /// words it.
    fn range(&self, start: u64, end: u64) -> Result<std::ops::Range<usize>, JsValue> {
        let len = self.inner.len();
        if start <= end && end <= len as u64 {
            // At most `len`: a usize.
            Ok(start as usize..end as usize)
        } else {
            Err(throwable(message::out_of_bounds(start, end, len as u64)))
        }
    }
}

#[wasm_bindgen(js_class = ZeroCopyBuffer)]
impl JsZeroCopyBuffer {
    /// Copies `bytes` (a `Uint8Array`, `ArrayBuffer`, typed array, or a string as UTF-8) into a new
    /// buffer of kind `kind` (`"raw"`, or `"text"` for a string, when not given).
    pub fn from(bytes: &JsValue, kind: &JsValue) -> Result<JsZeroCopyBuffer, JsValue> {
        let (bytes, is_text) = bytes_from_js(bytes, "bytes")?;
        let fallback = if is_text { BufferKind::text() } else { BufferKind::raw() };
        Ok(ZeroCopyBuffer::from_bytes(bytes, kind_from_js(optional_string(kind, "kind")?, fallback)?).into())
    }

    /// Visible length in bytes.
    #[wasm_bindgen(getter)]
    pub fn length(&self) -> usize {
        self.inner.len()
    }

    /// The content kind's name.
    #[wasm_bindgen(getter)]
    pub fn kind(&self) -> String {
        self.inner.kind().name().to_owned()
    }

    /// The tenant tag, or `undefined`.
    #[wasm_bindgen(getter)]
    pub fn tenant(&self) -> Option<String> {
        self.inner.tenant_id().map(str::to_owned)
    }

    /// How many views share the storage.
    #[wasm_bindgen(getter)]
    pub fn sharers(&self) -> usize {
        self.inner.sharers()
    }

    /// A view of the same bytes tagged with `tenant`.
    #[wasm_bindgen(js_name = withTenant)]
    pub fn with_tenant(&self, tenant: &JsValue) -> Result<JsZeroCopyBuffer, JsValue> {
        Ok(self.inner.clone().with_tenant(string(tenant, "tenant")?).into())
    }

    /// A view of the same bytes with kind `kind`.
    pub fn retag(&self, kind: &JsValue) -> Result<JsZeroCopyBuffer, JsValue> {
        Ok(self.inner.retag(kind_from_js(Some(string(kind, "kind")?), BufferKind::raw())?).into())
    }

    /// A view of bytes `start .. end` (`end` defaults to the length); `RangeError` when out of bounds.
    pub fn slice(&self, start: &JsValue, end: &JsValue) -> Result<JsZeroCopyBuffer, JsValue> {
        // Both types first, then the range (`range`), as in the addon.
        let (start, end) = (offset(start, "start")?, optional_offset(end, "end")?);
        let range = self.range(start, end.unwrap_or(self.inner.len() as u64))?;
        self.inner.try_slice(range).map(Into::into).map_err(|e| throwable(e.into()))
    }

    /// Splits off and returns bytes `0 .. at`; this buffer keeps the rest.
    #[wasm_bindgen(js_name = splitTo)]
    pub fn split_to(&mut self, at: &JsValue) -> Result<JsZeroCopyBuffer, JsValue> {
        let at = self.range(0, offset(at, "at")?)?.end;
        self.inner.try_split_to(at).map(Into::into).map_err(|e| throwable(e.into()))
    }

    /// Splits off and returns bytes `at ..`; this buffer keeps `0 .. at`.
    #[wasm_bindgen(js_name = splitOff)]
    pub fn split_off(&mut self, at: &JsValue) -> Result<JsZeroCopyBuffer, JsValue> {
        let at = self.range(offset(at, "at")?, self.inner.len() as u64)?.start;
        self.inner.try_split_off(at).map(Into::into).map_err(|e| throwable(e.into()))
    }

    /// SHA-256 of the visible bytes (32 bytes).
    pub fn sha256(&self) -> Vec<u8> {
        self.inner.sha256().to_vec()
    }

    /// Whether `other` holds the same bytes. (`js/guard.mjs` checks first that `other` is a live
    /// `ZeroCopyBuffer`: wasm-bindgen's glue would throw through this call's borrow of `self`.)
    pub fn equals(&self, other: &JsZeroCopyBuffer) -> bool {
        self.inner == other.inner
    }

    /// The bytes as a copy in a fresh `ArrayBuffer`. Not a view of wasm memory: any view of it
    /// reaches all of wasm memory through `.buffer`, where freed bytes are reused by other objects.
    pub fn view(&self) -> Uint8Array {
        Uint8Array::from(&self.inner[..])
    }

    /// A copy of the bytes, safe to keep: made in JS memory, as `view()`'s (a `Vec` would need as
    /// much wasm memory again, whose allocator traps when it has none).
    pub fn bytes(&self) -> Uint8Array {
        Uint8Array::from(&self.inner[..])
    }
}

/// A growable builder that freezes into a `ZeroCopyBuffer` without copying.
#[wasm_bindgen(js_name = BufferMut)]
pub struct JsBufferMut {
    /// `None` once frozen.
    inner: Option<BufferMut>,
}

impl JsBufferMut {
    fn live(&mut self) -> Result<&mut BufferMut, JsValue> {
        self.inner.as_mut().ok_or_else(|| used_up("BufferMut", "frozen"))
    }
}

#[wasm_bindgen(js_class = BufferMut)]
impl JsBufferMut {
    /// An empty builder with room for `capacity` bytes (default 0) of kind `kind` (default `"raw"`).
    #[wasm_bindgen(constructor)]
    pub fn new(capacity: &JsValue, kind: &JsValue) -> Result<JsBufferMut, JsValue> {
        let capacity = optional_offset(capacity, "capacity")?.unwrap_or(0);
        let kind = kind_from_js(optional_string(kind, "kind")?, BufferKind::raw())?;
        let mut bytes = Vec::new();
        // Past wasm32's usize, more than the memory gives, as a smaller capacity may be.
        usize::try_from(capacity)
            .ok()
            .and_then(|n| bytes.try_reserve_exact(n).ok())
            .ok_or_else(|| throwable(message::cannot_allocate(capacity)))?;
        Ok(JsBufferMut { inner: Some(BufferMut::from_vec(bytes, kind)) })
    }

    /// Appends a copy of `bytes` (a `Uint8Array`, `ArrayBuffer`, typed array or string).
    pub fn append(&mut self, bytes: &JsValue) -> Result<(), JsValue> {
        // The argument first, then the state, as in every member.
        if let Some(array) = bytes.dyn_ref::<Uint8Array>() {
            return append_from_js(self.live()?.as_mut_vec(), array);
        }
        let (bytes, _) = bytes_from_js(bytes, "bytes")?;
        let vec = self.live()?.as_mut_vec();
        vec.try_reserve(bytes.len()).map_err(|_| throwable(message::cannot_allocate(bytes.len() as u64)))?;
        vec.extend_from_slice(&bytes);
        Ok(())
    }

    /// Bytes written so far.
    #[wasm_bindgen(getter)]
    pub fn length(&mut self) -> Result<usize, JsValue> {
        Ok(self.live()?.len())
    }

    /// Bytes it can hold before it grows.
    #[wasm_bindgen(getter)]
    pub fn capacity(&mut self) -> Result<usize, JsValue> {
        Ok(self.live()?.capacity())
    }

    /// Turns the builder into a `ZeroCopyBuffer` without copying; the builder cannot be used after.
    pub fn freeze(&mut self) -> Result<JsZeroCopyBuffer, JsValue> {
        self.live()?;
        Ok(self.inner.take().expect("checked live").freeze().into())
    }
}

/// The content kinds: built-in ones and those registered at run time. Kinds are passed by name.
#[wasm_bindgen(js_name = BufferKind)]
pub struct JsBufferKind;

#[wasm_bindgen(js_class = BufferKind)]
impl JsBufferKind {
    /// Not public: kinds are passed by name.
    #[wasm_bindgen(constructor)]
    pub fn new() -> Result<JsBufferKind, JsValue> {
        Err(throwable(message::no_constructor("BufferKind")))
    }

    /// Registers `name` (1 to 64 bytes, no whitespace, control or invisible characters) and returns
    /// it; registering twice is fine.
    pub fn register(name: &JsValue) -> Result<String, JsValue> {
        BufferKind::register(&string(name, "name")?)
            .map(|k| k.name().to_owned())
            .map_err(|e| throwable(e.into()))
    }

    /// Whether `name` is a known kind.
    pub fn has(name: &JsValue) -> bool {
        name.as_string().is_some_and(|name| BufferKind::lookup(&name).is_some())
    }

    /// Every known kind's name, built-in ones first.
    pub fn names() -> Vec<String> {
        crate::BufferKindRegistry::global().kinds().into_iter().map(|k| k.name().to_owned()).collect()
    }
}
