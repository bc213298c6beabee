//! `ZeroCopyBuffer`, `BufferMut` and `BufferKind` for Node.

use napi::bindgen_prelude::{ObjectFinalize, Uint8Array, Unknown};
use napi::{sys, Env};
use napi_derive::napi;
use omnibuf::{BufferKind, BufferKindRegistry, BufferMut, ZeroCopyBuffer};

use crate::args;
use crate::error::{ApiError, ApiResult, OrThrow};
use crate::platform::fast;
use crate::platform::values::{self, Raw};
use crate::platform::views::{Bytes, ExternalMemory, Viewed};

/// An immutable view over shared bytes; `slice`, `splitTo`, `splitOff`, `withTenant` and `retag`
/// share the memory. `view()` is a `Buffer` over it (see `js/index.d.ts`).
#[napi(js_name = "ZeroCopyBuffer", custom_finalize)]
pub struct JsZeroCopyBuffer {
    inner: Viewed<ZeroCopyBuffer>,
    memory: ExternalMemory,
}

impl JsZeroCopyBuffer {
    pub(crate) fn new(env: &Env, buffer: ZeroCopyBuffer) -> Self {
        let mut memory = ExternalMemory::default();
        memory.set(env, buffer.len());
        JsZeroCopyBuffer { inner: Viewed::new(buffer), memory }
    }

    fn live(&self) -> ApiResult<&ZeroCopyBuffer> {
        self.inner.get().ok_or_else(|| ApiError::used_up("ZeroCopyBuffer", "freed"))
    }

    fn live_mut(&mut self) -> ApiResult<&mut ZeroCopyBuffer> {
        self.inner.get_mut().ok_or_else(|| ApiError::used_up("ZeroCopyBuffer", "freed"))
    }

    /// Splits with `split` at a checked offset; the part split off becomes a new object.
    fn split(
        &mut self,
        env: &Env,
        at: Unknown<'_>,
        split: impl FnOnce(&mut ZeroCopyBuffer, usize) -> Result<ZeroCopyBuffer, omnibuf::SliceError>,
    ) -> napi::Result<JsZeroCopyBuffer> {
        let at = args::index(env, &at, "at").or_throw(env)?;
        let buffer = self.live_mut().or_throw(env)?;
        let part = split(buffer, at).map_err(ApiError::range_error).or_throw(env)?;
        let rest = buffer.len();
        self.memory.set(env, rest);
        Ok(JsZeroCopyBuffer::new(env, part))
    }
}

// What the napi-rs methods and the fast paths (`platform::fast`) share.
impl JsZeroCopyBuffer {
    /// `length`.
    pub(crate) fn len_checked(&self) -> ApiResult<usize> {
        Ok(self.live()?.len())
    }

    /// `slice(start, end?)` on raw arguments (`end` is `None` when missing).
    pub(crate) fn slice_raw(
        &self,
        env: &Env,
        start: sys::napi_value,
        end: Option<sys::napi_value>,
    ) -> ApiResult<JsZeroCopyBuffer> {
        let start = args::index_raw(env, start, "start")?;
        let buffer = self.live()?;
        let end = match end {
            Some(end) => args::index_raw(env, end, "end")?,
            None => buffer.len(),
        };
        let part = buffer.try_slice(start..end).map_err(ApiError::range_error)?;
        Ok(JsZeroCopyBuffer::new(env, part))
    }
}

impl fast::Class for JsZeroCopyBuffer {
    const NAME: &'static str = "ZeroCopyBuffer";
}

impl ObjectFinalize for JsZeroCopyBuffer {
    fn finalize(mut self, env: Env) -> napi::Result<()> {
        // Views of a buffer the program dropped stay valid: each holds a clone.
        self.inner.hand_to_views(&env, |buffer| buffer);
        self.memory.clear(&env);
        Ok(())
    }
}

#[napi]
impl JsZeroCopyBuffer {
    /// Copies `bytes` (a `Uint8Array`, `ArrayBuffer`, typed array, or a string as UTF-8) into a new
    /// buffer of kind `kind` (`"raw"`, or `"text"` for a string, when not given).
    #[napi(catch_unwind)]
    pub fn from(env: &Env, bytes: Unknown<'_>, kind: Option<Unknown<'_>>) -> napi::Result<JsZeroCopyBuffer> {
        let (bytes, is_text) = args::bytes(env, &bytes, "bytes").or_throw(env)?;
        let fallback = if is_text { BufferKind::text() } else { BufferKind::raw() };
        let kind = args::kind(env, kind.as_ref(), fallback).or_throw(env)?;
        Ok(JsZeroCopyBuffer::new(env, ZeroCopyBuffer::from_bytes(bytes, kind)))
    }

    /// Visible length in bytes.
    #[napi(getter, catch_unwind)]
    pub fn length(&self, env: &Env) -> napi::Result<f64> {
        Ok(self.len_checked().or_throw(env)? as f64)
    }

    /// The content kind's name.
    #[napi(getter, catch_unwind)]
    pub fn kind(&self, env: &Env) -> napi::Result<String> {
        Ok(self.live().or_throw(env)?.kind().name().to_owned())
    }

    /// The tenant tag, or `undefined`.
    #[napi(getter, catch_unwind)]
    pub fn tenant(&self, env: &Env) -> napi::Result<Raw> {
        values::string_or_undefined(env, self.live().or_throw(env)?.tenant_id())
    }

    /// How many views share the storage.
    #[napi(getter, catch_unwind)]
    pub fn sharers(&self, env: &Env) -> napi::Result<f64> {
        Ok(self.live().or_throw(env)?.sharers() as f64)
    }

    /// A view of the same bytes tagged with `tenant`.
    #[napi(js_name = "withTenant", catch_unwind)]
    pub fn with_tenant(&self, env: &Env, tenant: Unknown<'_>) -> napi::Result<JsZeroCopyBuffer> {
        let tenant = args::text(env, &tenant, "tenant").or_throw(env)?;
        let buffer = self.live().or_throw(env)?.clone().with_tenant(tenant);
        Ok(JsZeroCopyBuffer::new(env, buffer))
    }

    /// A view of the same bytes with kind `kind`.
    #[napi(catch_unwind)]
    pub fn retag(&self, env: &Env, kind: Unknown<'_>) -> napi::Result<JsZeroCopyBuffer> {
        let kind = args::kind(env, Some(&kind), BufferKind::raw()).or_throw(env)?;
        let buffer = self.live().or_throw(env)?.retag(kind);
        Ok(JsZeroCopyBuffer::new(env, buffer))
    }

    /// A view of bytes `start .. end` (`end` defaults to the length); `RangeError` when out of bounds.
    #[napi(catch_unwind)]
    pub fn slice(
        &self,
        env: &Env,
        start: Unknown<'_>,
        end: Option<Unknown<'_>>,
    ) -> napi::Result<JsZeroCopyBuffer> {
        self.slice_raw(env, values::raw(&start), end.as_ref().map(values::raw)).or_throw(env)
    }

    /// Splits off and returns bytes `0 .. at`; this buffer keeps the rest.
    #[napi(js_name = "splitTo", catch_unwind)]
    pub fn split_to(&mut self, env: &Env, at: Unknown<'_>) -> napi::Result<JsZeroCopyBuffer> {
        self.split(env, at, ZeroCopyBuffer::try_split_to)
    }

    /// Splits off and returns bytes `at ..`; this buffer keeps `0 .. at`.
    #[napi(js_name = "splitOff", catch_unwind)]
    pub fn split_off(&mut self, env: &Env, at: Unknown<'_>) -> napi::Result<JsZeroCopyBuffer> {
        self.split(env, at, ZeroCopyBuffer::try_split_off)
    }

    /// SHA-256 of the visible bytes (32 bytes).
    #[napi(catch_unwind)]
    pub fn sha256(&self, env: &Env) -> napi::Result<Uint8Array> {
        Ok(Uint8Array::from(self.live().or_throw(env)?.sha256().to_vec()))
    }

    /// Whether `other` (a `ZeroCopyBuffer`) holds the same bytes.
    #[napi(catch_unwind)]
    pub fn equals(&self, env: &Env, other: Unknown<'_>) -> napi::Result<bool> {
        let mine = self.live().or_throw(env)?;
        let Some(other) = values::instance::<JsZeroCopyBuffer>(env, &other) else {
            return Err(ApiError::type_error("equals: other must be a ZeroCopyBuffer").throw(env));
        };
        Ok(mine == other.live().or_throw(env)?)
    }

    /// The bytes in place, as a `Buffer` over native memory (a copy where external buffers are not
    /// allowed). Detached (empty) once this object is freed; if the program drops this object instead,
    /// the view stays valid on its own. Do not write to it.
    #[napi(catch_unwind)]
    pub fn view(&mut self, env: &Env) -> napi::Result<Raw> {
        self.live().or_throw(env)?;
        let view = self.inner.view(env, |b| Some(Bytes::Shared(b.as_slice())))?;
        Ok(view.expect("checked live, and a buffer always has bytes to show"))
    }

    /// A copy of the bytes, safe to keep.
    #[napi(catch_unwind)]
    pub fn bytes(&self, env: &Env) -> napi::Result<Uint8Array> {
        Ok(Uint8Array::from(self.live().or_throw(env)?.to_vec()))
    }

    /// Releases this view now (other views of the same bytes stay valid); later calls throw.
    #[napi(catch_unwind)]
    pub fn free(&mut self, env: &Env) {
        self.inner.take(env);
        self.memory.clear(env);
    }
}

/// A growable builder that freezes into a `ZeroCopyBuffer` without copying.
#[napi(js_name = "BufferMut", custom_finalize)]
pub struct JsBufferMut {
    /// `None` once frozen or freed.
    inner: Option<BufferMut>,
    /// What happened to it: "frozen" or "freed".
    gone: &'static str,
    memory: ExternalMemory,
}

impl JsBufferMut {
    fn live(&mut self) -> ApiResult<&mut BufferMut> {
        self.inner.as_mut().ok_or_else(|| ApiError::used_up("BufferMut", self.gone))
    }
}

impl ObjectFinalize for JsBufferMut {
    fn finalize(mut self, env: Env) -> napi::Result<()> {
        self.memory.clear(&env);
        Ok(())
    }
}

#[napi]
impl JsBufferMut {
    /// An empty builder with room for `capacity` bytes (default 0) of kind `kind` (default `"raw"`).
    #[napi(constructor, catch_unwind)]
    pub fn new(env: &Env, capacity: Option<Unknown<'_>>, kind: Option<Unknown<'_>>) -> napi::Result<Self> {
        let capacity = args::index_or(env, capacity.as_ref(), 0, "capacity").or_throw(env)?;
        let kind = args::kind(env, kind.as_ref(), BufferKind::raw()).or_throw(env)?;
        let mut bytes = Vec::new();
        bytes
            .try_reserve_exact(capacity)
            .map_err(|_| ApiError::range_error(format!("cannot allocate {capacity} bytes")))
            .or_throw(env)?;
        let mut memory = ExternalMemory::default();
        memory.set(env, bytes.capacity());
        Ok(JsBufferMut { inner: Some(BufferMut::from_vec(bytes, kind)), gone: "freed", memory })
    }

    /// Appends a copy of `bytes` (a `Uint8Array`, `ArrayBuffer`, typed array or string).
    #[napi(catch_unwind)]
    pub fn append(&mut self, env: &Env, bytes: Unknown<'_>) -> napi::Result<()> {
        let (bytes, _) = args::bytes(env, &bytes, "bytes").or_throw(env)?;
        let builder = self.live().or_throw(env)?;
        builder.extend_from_slice(&bytes);
        let capacity = builder.capacity();
        self.memory.set(env, capacity);
        Ok(())
    }

    /// Bytes written so far.
    #[napi(getter, catch_unwind)]
    pub fn length(&mut self, env: &Env) -> napi::Result<f64> {
        Ok(self.live().or_throw(env)?.len() as f64)
    }

    /// Bytes it can hold before it grows.
    #[napi(getter, catch_unwind)]
    pub fn capacity(&mut self, env: &Env) -> napi::Result<f64> {
        Ok(self.live().or_throw(env)?.capacity() as f64)
    }

    /// Turns the builder into a `ZeroCopyBuffer` without copying; the builder cannot be used after.
    #[napi(catch_unwind)]
    pub fn freeze(&mut self, env: &Env) -> napi::Result<JsZeroCopyBuffer> {
        self.live().or_throw(env)?;
        let frozen = self.inner.take().map(BufferMut::freeze).unwrap_or_default();
        self.gone = "frozen";
        self.memory.clear(env);
        Ok(JsZeroCopyBuffer::new(env, frozen))
    }

    /// Releases the builder now; later calls throw.
    #[napi(catch_unwind)]
    pub fn free(&mut self, env: &Env) {
        if self.inner.take().is_some() {
            self.gone = "freed";
        }
        self.memory.clear(env);
    }
}

/// The content kinds, passed by name: built-in ones and those registered at run time.
#[napi(js_name = "BufferKind")]
pub struct JsBufferKind {}

#[napi]
impl JsBufferKind {
    /// Registers `name` (1 to 64 bytes, no whitespace) and returns it; registering twice is fine.
    #[napi(catch_unwind)]
    pub fn register(env: &Env, name: Unknown<'_>) -> napi::Result<String> {
        let name = args::text(env, &name, "name").or_throw(env)?;
        BufferKind::register(&name).map(|k| k.name().to_owned()).map_err(ApiError::type_error).or_throw(env)
    }

    /// Whether `name` is a known kind (`false` for anything but a known name).
    #[napi(catch_unwind)]
    pub fn has(env: &Env, name: Unknown<'_>) -> bool {
        values::string(env, values::raw(&name)).is_some_and(|name| BufferKind::lookup(&name).is_some())
    }

    /// Every known kind's name, built-in ones first.
    #[napi(catch_unwind)]
    pub fn names() -> Vec<String> {
        BufferKindRegistry::global().kinds().into_iter().map(|k| k.name().to_owned()).collect()
    }

    /// Nothing to release: kinds are names. Present because every class of the API has `free()`.
    #[napi]
    pub fn free(&self) {}
}
