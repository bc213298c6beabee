//! `ZeroCopyBuffer` (its native storage), `BufferMut` and `BufferKind` for Node.

use napi::bindgen_prelude::{ObjectFinalize, Uint8Array, Unknown};
use napi::{sys, Env};
use napi_derive::napi;
use omnibuf::binding::{message, BindingError};
use omnibuf::{BufferKind, BufferKindRegistry, BufferMut, ZeroCopyBuffer};

use crate::args;
use crate::error::{ApiError, ApiResult, OrThrow};
use crate::platform::fast::{self, Call, EnvState, Failure, Fast, Member, Target};
use crate::platform::values::{self, Raw};
use crate::platform::views::{Bytes, ExternalMemory, StableMemory, Viewed};

// SAFETY: a buffer's bytes stay allocated, where they are, while any clone of it lives (the clones
// share one reference-counted owner that never moves or reallocates the bytes).
unsafe impl StableMemory for ZeroCopyBuffer {
    fn keep_alive(&self) -> Option<Box<dyn std::any::Any + Send>> {
        Some(Box::new(self.clone()))
    }
}

/// The native half of a JS `ZeroCopyBuffer`: the *storage* that `js/addon-zero-copy.mjs` shares
/// among the JS objects sliced from one another.
///
/// A JS `ZeroCopyBuffer` is a range of a storage, so that `slice()`, `splitTo()`, `splitOff()`,
/// `length` and `free()` never leave JS (a native object per slice cost microseconds: see the module
/// docs of `js/addon-zero-copy.mjs`). The methods that need the bytes take the range from JS:
/// `view(start, end, group)`, `bytes(start, end)`, `sha256(start, end)`, `equals(...)`. The JS side
/// frees the storage when its last JS sharer is freed; when they are all dropped instead, this object's
/// finalizer releases the bytes. Every method that makes a `ZeroCopyBuffer` here (`from`,
/// `withTenant`, `retag`, `BufferMut.freeze`, `PooledBuffer.freeze`, `VirtualBuffer.read`) returns a
/// storage, which the JS side wraps.
#[napi(js_name = "ZeroCopyStorage", custom_finalize)]
pub struct JsZeroCopyStorage {
    inner: Viewed<ZeroCopyBuffer>,
    memory: ExternalMemory,
}

impl JsZeroCopyStorage {
    pub(crate) fn new(env: &Env, buffer: ZeroCopyBuffer) -> Self {
        let mut memory = ExternalMemory::default();
        memory.set(env, buffer.len());
        JsZeroCopyStorage { inner: Viewed::new(buffer), memory }
    }

    fn live(&self) -> ApiResult<&ZeroCopyBuffer> {
        self.inner.get().ok_or_else(|| ApiError::used_up("ZeroCopyBuffer", "freed"))
    }

    /// Bytes `start .. end` of the storage, checked (the JS side passes ranges it has checked; a bad
    /// one is a `RangeError` all the same, never a panic).
    fn range(&self, env: &Env, start: &Unknown<'_>, end: &Unknown<'_>) -> ApiResult<ZeroCopyBuffer> {
        let (start, end) = (args::index(env, start, "start")?, args::index(env, end, "end")?);
        self.live()?.try_slice(start..end).map_err(ApiError::range_error)
    }
}

// What the napi-rs methods and the fast paths (`platform::fast`) share.
impl JsZeroCopyStorage {
    /// `length`: all of the storage's bytes.
    pub(crate) fn len_checked(&self) -> ApiResult<usize> {
        Ok(self.live()?.len())
    }

    /// `sharers`.
    pub(crate) fn sharers_checked(&self) -> ApiResult<usize> {
        Ok(self.live()?.sharers())
    }

    /// `view(start, end, group)` on raw arguments: bytes `start .. end` in place, for the JS object
    /// numbered `group`, whose views `detachViews(group)` detaches.
    pub(crate) fn view_raw(
        &mut self,
        env: &Env,
        start: sys::napi_value,
        end: sys::napi_value,
        group: sys::napi_value,
    ) -> ApiResult<Raw> {
        let start = args::index_raw(env, start, "start")?;
        let end = args::index_raw(env, end, "end")?;
        let group = args::index_raw(env, group, "group")? as u64;
        let len = self.live()?.len();
        if start > end || end > len {
            return Err(ApiError::range_error(omnibuf::SliceError { start, end, len }));
        }
        let view = self
            .inner
            .view_in_group(env, group, |b| Some(Bytes::Shared(&b.as_slice()[start..end])))
            .map_err(ApiError::from_platform)?;
        view.ok_or_else(|| ApiError::used_up("ZeroCopyBuffer", "freed"))
    }
}

impl fast::Class for JsZeroCopyStorage {
    const NAME: &'static str = "ZeroCopyStorage";
}

/// The `ZeroCopyStorage` members JS calls once per buffer, as plain Node-API callbacks
/// (`platform::fast`): the getters `length` and `sharers`, `view()` and `free()`.
pub(crate) fn fast_members<S: EnvState>() -> Vec<Member<S>> {
    let storage = Target::Prototype(c"ZeroCopyStorage");
    vec![
        Member::getter::<StorageLength>(storage, c"length"),
        Member::getter::<StorageSharers>(storage, c"sharers"),
        Member::method::<StorageView>(storage, c"view"),
        Member::method::<StorageFree>(storage, c"free"),
    ]
}

// None of these runs JS while it holds the receiver: they read numbers, make an external Buffer and a
// weak reference to it, detach array buffers and drop native memory.

struct StorageLength;
impl<S: EnvState> Fast<S> for StorageLength {
    fn call(call: &Call<'_, S>) -> Result<sys::napi_value, Failure> {
        let length = call.receiver::<JsZeroCopyStorage>("length")?.len_checked()?;
        fast::number(call.env, length as f64)
    }
}

struct StorageSharers;
impl<S: EnvState> Fast<S> for StorageSharers {
    fn call(call: &Call<'_, S>) -> Result<sys::napi_value, Failure> {
        let sharers = call.receiver::<JsZeroCopyStorage>("sharers")?.sharers_checked()?;
        fast::number(call.env, sharers as f64)
    }
}

struct StorageView;
impl<S: EnvState> Fast<S> for StorageView {
    fn call(call: &Call<'_, S>) -> Result<sys::napi_value, Failure> {
        let this = call.receiver::<JsZeroCopyStorage>("view")?;
        let [start, end, group] = call.args;
        Ok(this.view_raw(call.env, start, end, group)?.0)
    }
}

struct StorageFree;
impl<S: EnvState> Fast<S> for StorageFree {
    fn call(call: &Call<'_, S>) -> Result<sys::napi_value, Failure> {
        call.receiver::<JsZeroCopyStorage>("free")?.free(call.env);
        fast::undefined(call.env)
    }
}

impl ObjectFinalize for JsZeroCopyStorage {
    fn finalize(mut self, env: Env) -> napi::Result<()> {
        // Views of a buffer the program dropped stay valid: each holds a clone.
        self.inner.hand_to_views(&env, |buffer| buffer);
        self.memory.clear(&env);
        Ok(())
    }
}

#[napi]
impl JsZeroCopyStorage {
    /// Copies `bytes` (a `Uint8Array`, `ArrayBuffer`, typed array, or a string as UTF-8) into a new
    /// buffer of kind `kind` (`"raw"`, or `"text"` for a string, when not given).
    #[napi(catch_unwind)]
    pub fn from(env: &Env, bytes: Unknown<'_>, kind: Option<Unknown<'_>>) -> napi::Result<JsZeroCopyStorage> {
        let (bytes, is_text) = args::bytes(env, &bytes, "bytes").or_throw(env)?;
        let fallback = if is_text { BufferKind::text() } else { BufferKind::raw() };
        let kind = args::kind(env, kind.as_ref(), fallback).or_throw(env)?;
        Ok(JsZeroCopyStorage::new(env, ZeroCopyBuffer::from_bytes(bytes, kind)))
    }

    /// Length in bytes (of the whole storage).
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

    /// How many Rust values share the bytes: this storage, each live external view, and whatever
    /// else holds them (a pool, a virtual buffer's cache). The JS side adds its own sharers.
    #[napi(getter, catch_unwind)]
    pub fn sharers(&self, env: &Env) -> napi::Result<f64> {
        Ok(self.sharers_checked().or_throw(env)? as f64)
    }

    /// A storage of the same bytes tagged with `tenant`.
    #[napi(js_name = "withTenant", catch_unwind)]
    pub fn with_tenant(&self, env: &Env, tenant: Unknown<'_>) -> napi::Result<JsZeroCopyStorage> {
        let tenant = args::text(env, &tenant, "tenant").or_throw(env)?;
        let buffer = self.live().or_throw(env)?.clone().with_tenant(tenant);
        Ok(JsZeroCopyStorage::new(env, buffer))
    }

    /// A storage of the same bytes with kind `kind`.
    #[napi(catch_unwind)]
    pub fn retag(&self, env: &Env, kind: Unknown<'_>) -> napi::Result<JsZeroCopyStorage> {
        let kind = args::kind(env, Some(&kind), BufferKind::raw()).or_throw(env)?;
        let buffer = self.live().or_throw(env)?.retag(kind);
        Ok(JsZeroCopyStorage::new(env, buffer))
    }

    /// SHA-256 of bytes `start .. end` (32 bytes).
    #[napi(catch_unwind)]
    pub fn sha256(&self, env: &Env, start: Unknown<'_>, end: Unknown<'_>) -> napi::Result<Uint8Array> {
        Ok(Uint8Array::from(self.range(env, &start, &end).or_throw(env)?.sha256().to_vec()))
    }

    /// Whether bytes `start .. end` equal bytes `other_start .. other_end` of `other` (a storage).
    #[napi(catch_unwind)]
    pub fn equals(
        &self,
        env: &Env,
        start: Unknown<'_>,
        end: Unknown<'_>,
        other: Unknown<'_>,
        other_start: Unknown<'_>,
        other_end: Unknown<'_>,
    ) -> napi::Result<bool> {
        let mine = self.range(env, &start, &end).or_throw(env)?;
        let Some(other) = values::instance::<JsZeroCopyStorage>(env, &other) else {
            return Err(ApiError::type_error("equals: other must be a ZeroCopyBuffer").throw(env));
        };
        Ok(mine == other.range(env, &other_start, &other_end).or_throw(env)?)
    }

    /// Bytes `start .. end` in place, as a `Buffer` over native memory (a copy where external buffers
    /// are not allowed), for the JS object numbered `group`. Detached (empty) by `detachViews(group)`
    /// or `free()`; if the program drops every sharer instead, the view stays valid on its own. Do not
    /// write to it.
    #[napi(catch_unwind)]
    pub fn view(
        &mut self,
        env: &Env,
        start: Unknown<'_>,
        end: Unknown<'_>,
        group: Unknown<'_>,
    ) -> napi::Result<Raw> {
        self.view_raw(env, values::raw(&start), values::raw(&end), values::raw(&group)).or_throw(env)
    }

    /// Detaches the views made for `group` (a JS object that was freed while others share the bytes).
    #[napi(js_name = "detachViews", catch_unwind)]
    pub fn detach_views(&mut self, env: &Env, group: Unknown<'_>) -> napi::Result<()> {
        let group = args::index(env, &group, "group").or_throw(env)? as u64;
        self.inner.detach_group(env, group);
        Ok(())
    }

    /// A copy of bytes `start .. end`, safe to keep.
    #[napi(catch_unwind)]
    pub fn bytes(&self, env: &Env, start: Unknown<'_>, end: Unknown<'_>) -> napi::Result<Raw> {
        let bytes = self.range(env, &start, &end).or_throw(env)?;
        values::uint8_array_from(env, &bytes).map_err(|e| ApiError::from_platform(e).throw(env))
    }

    /// Releases the storage now, detaching every view (the JS side calls it when its last sharer is
    /// freed); later calls throw.
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
            .map_err(|_| ApiError::from(message::cannot_allocate(capacity as u64)))
            .or_throw(env)?;
        let mut memory = ExternalMemory::default();
        memory.set(env, bytes.capacity());
        Ok(JsBufferMut { inner: Some(BufferMut::from_vec(bytes, kind)), gone: "freed", memory })
    }

    /// Appends a copy of `bytes` (a `Uint8Array`, `ArrayBuffer`, typed array or string).
    #[napi(catch_unwind)]
    pub fn append(&mut self, env: &Env, bytes: Unknown<'_>) -> napi::Result<()> {
        // As in the wasm build: a freed builder says so before it looks at `bytes`, a frozen one after.
        if self.inner.is_none() && self.gone == "freed" {
            return Err(ApiError::used_up("BufferMut", self.gone).throw(env));
        }
        let (bytes, _) = args::bytes(env, &bytes, "bytes").or_throw(env)?;
        let builder = self.live().or_throw(env)?;
        let vec = builder.as_mut_vec();
        vec.try_reserve(bytes.len())
            .map_err(|_| ApiError::from(message::cannot_allocate(bytes.len() as u64)))
            .or_throw(env)?;
        vec.extend_from_slice(&bytes);
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
    pub fn freeze(&mut self, env: &Env) -> napi::Result<JsZeroCopyStorage> {
        self.live().or_throw(env)?;
        let frozen = self.inner.take().map(BufferMut::freeze).unwrap_or_default();
        self.gone = "frozen";
        self.memory.clear(env);
        Ok(JsZeroCopyStorage::new(env, frozen))
    }

    /// Releases the builder now; later calls throw, saying it was freed (also after a freeze, as in
    /// the wasm build, where free() is the last thing that happened to it).
    #[napi(catch_unwind)]
    pub fn free(&mut self, env: &Env) {
        self.inner = None;
        self.gone = "freed";
        self.memory.clear(env);
    }
}

/// The content kinds, passed by name: built-in ones and those registered at run time.
#[napi(js_name = "BufferKind")]
pub struct JsBufferKind {}

#[napi]
impl JsBufferKind {
    /// Registers `name` (1 to 64 bytes, no whitespace, control or invisible characters) and returns
    /// it; registering twice is fine.
    #[napi(catch_unwind)]
    pub fn register(env: &Env, name: Unknown<'_>) -> napi::Result<String> {
        let name = args::text(env, &name, "name").or_throw(env)?;
        BufferKind::register(&name)
            .map(|k| k.name().to_owned())
            .map_err(|e| ApiError::from(BindingError::from(e)))
            .or_throw(env)
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
    #[napi(catch_unwind)]
    pub fn free(&self) {}
}
