//! `BufferPool` and `PooledBuffer` for Node. The pool never blocks the event loop: `acquire` returns a
//! Promise settled from the pool's async acquire (woken on any thread), `tryAcquire` returns `null`.

use std::future::Future;

use napi::bindgen_prelude::{Either, JavaScriptClassExt, Null, ObjectFinalize, Unknown};
use napi::{sys, Env, ValueType};
use napi_derive::napi;
use omnibuf::{BufferKind, BufferPool, BufferPoolSnapshot, PoolError, PooledBuffer};

use crate::args;
use crate::buffer::JsZeroCopyStorage;
use crate::error::{ApiError, ApiResult, OrThrow};
use crate::platform::values::{self, Raw};
use crate::platform::views::{Bytes, ExternalMemory, Viewed};
use crate::platform::{executor, fast};

/// The pool described by `options`: `{ budget, classes?, maxIdle?, tenantQuotas?, defaultTenantQuota? }`.
fn pool_from_options(env: &Env, options: Option<&Unknown<'_>>) -> ApiResult<BufferPool> {
    let Some(options) = options.map(values::raw).filter(|o| values::type_of(env, *o) == ValueType::Object)
    else {
        return Err(ApiError::type_error("BufferPool needs an options object, e.g. { budget: 1 << 20 }"));
    };
    let mut config = BufferPool::builder();
    match args::size_option(env, options, "budget")? {
        Some(budget) => config = config.budget(budget),
        None => return Err(ApiError::type_error("options.budget is required")),
    }
    if let Some(classes) = args::option(env, options, "classes")? {
        let items = values::array_items(env, classes)
            .ok_or_else(|| ApiError::type_error("options.classes must be an array of sizes"))?;
        let sizes = items
            .into_iter()
            .map(|v| {
                let n = values::number(env, v)
                    .ok_or_else(|| ApiError::type_error("options.classes must hold numbers"))?;
                args::index_from_number(n, "a class size")
            })
            .collect::<ApiResult<Vec<usize>>>()?;
        config = config.classes(sizes);
    }
    if let Some(max_idle) = args::size_option(env, options, "maxIdle")? {
        config = config.max_idle(max_idle);
    }
    if let Some(quota) = args::size_option(env, options, "defaultTenantQuota")? {
        config = config.default_tenant_quota(quota);
    }
    if let Some(quotas) = args::option(env, options, "tenantQuotas")? {
        let not_an_object =
            || ApiError::type_error("options.tenantQuotas must be an object of { tenant: bytes }");
        if values::type_of(env, quotas) != ValueType::Object {
            return Err(not_an_object());
        }
        for (tenant, bytes) in values::own_entries(env, quotas).ok_or_else(not_an_object)? {
            let Some(bytes) = values::number(env, bytes) else {
                return Err(ApiError::type_error(format!("options.tenantQuotas.{tenant} must be a number")));
            };
            config = config.tenant_quota(tenant, args::index_from_number(bytes, "a tenant quota")?);
        }
    }
    // Outstanding-buffer tracking is a debugging aid of Rust builds; JS objects are tracked by the GC.
    Ok(config.track_outstanding(false).build()?)
}

/// A pool of reusable buffers with size classes, a byte budget and per-tenant quotas.
#[napi(js_name = "BufferPool")]
pub struct JsBufferPool {
    /// `None` once freed.
    inner: Option<BufferPool>,
}

impl JsBufferPool {
    fn live(&self) -> ApiResult<&BufferPool> {
        self.inner.as_ref().ok_or_else(|| ApiError::used_up("BufferPool", "freed"))
    }

    /// `tryAcquire(size, tenant?)` on raw arguments (`tenant` is `None` when missing); shared by the
    /// napi-rs method and the fast path (`platform::fast`).
    pub(crate) fn try_acquire_raw(
        &self,
        env: &Env,
        size: sys::napi_value,
        tenant: Option<sys::napi_value>,
    ) -> ApiResult<Option<JsPooledBuffer>> {
        let size = args::index_raw(env, size, "size")?;
        let tenant = tenant.map(|t| args::text_raw(env, t, "tenant")).transpose()?;
        let pool = self.live()?;
        let result = match &tenant {
            Some(name) => pool.tenant(name).try_acquire(size),
            None => pool.try_acquire(size),
        };
        match result {
            Ok(buffer) => Ok(Some(JsPooledBuffer::new(env, buffer))),
            Err(PoolError::WouldBlock { .. }) => Ok(None),
            Err(e) => Err(ApiError::from(e)),
        }
    }
}

impl fast::Class for JsBufferPool {
    const NAME: &'static str = "BufferPool";
}

impl fast::Class for JsPooledBuffer {
    const NAME: &'static str = "PooledBuffer";
}

#[napi]
impl JsBufferPool {
    /// `options`: `{ budget, classes?, maxIdle?, tenantQuotas?: { name: bytes }, defaultTenantQuota? }`.
    #[napi(constructor, catch_unwind)]
    pub fn new(env: &Env, options: Option<Unknown<'_>>) -> napi::Result<Self> {
        Ok(JsBufferPool { inner: Some(pool_from_options(env, options.as_ref()).or_throw(env)?) })
    }

    /// The budget: most bytes checked out at once.
    #[napi(getter, catch_unwind)]
    pub fn budget(&self, env: &Env) -> napi::Result<f64> {
        Ok(self.live().or_throw(env)?.budget() as f64)
    }

    /// The class sizes, smallest first.
    #[napi(getter, catch_unwind)]
    pub fn classes(&self, env: &Env) -> napi::Result<Vec<f64>> {
        Ok(self.live().or_throw(env)?.classes().into_iter().map(|c| c.size() as f64).collect())
    }

    /// A buffer of at least `size` bytes now, or `null` when the budget (or the tenant's quota) is
    /// full. Requests that can never be served throw a `RangeError`.
    #[napi(js_name = "tryAcquire", catch_unwind)]
    pub fn try_acquire(
        &self,
        env: &Env,
        size: Unknown<'_>,
        tenant: Option<Unknown<'_>>,
    ) -> napi::Result<Option<JsPooledBuffer>> {
        self.try_acquire_raw(env, values::raw(&size), tenant.as_ref().map(values::raw)).or_throw(env)
    }

    /// A Promise of a buffer of at least `size` bytes, resolved once the budget has room (first come,
    /// first served within a size class). Requests that can never be served reject with a `RangeError`.
    #[napi(catch_unwind)]
    pub fn acquire(&self, env: &Env, size: Unknown<'_>, tenant: Option<Unknown<'_>>) -> napi::Result<Raw> {
        let request = (|| {
            let size = args::index(env, &size, "size")?;
            let tenant = tenant.map(|t| args::text(env, &t, "tenant")).transpose()?;
            let pool = self.live()?;
            Ok(Box::pin(match &tenant {
                Some(name) => pool.tenant(name).acquire_async(size),
                None => pool.acquire_async(size),
            }))
        })();
        let mut request: ApiResult<_> = request;
        executor::spawn(
            env,
            Box::new(move |env, cx| {
                let acquire = match &mut request {
                    Ok(acquire) => acquire,
                    Err(e) => return std::task::Poll::Ready(Err(e.clone())),
                };
                acquire.as_mut().poll(cx).map(|outcome| {
                    let buffer = outcome.map_err(ApiError::from)?;
                    let instance =
                        JsPooledBuffer::new(env, buffer).into_instance(env).map_err(ApiError::error)?;
                    Ok(Raw(instance.value))
                })
            }),
        )
    }

    /// Memory, waiting and high-water marks now, per class and per tenant, as a plain object.
    #[napi(catch_unwind)]
    pub fn snapshot(&self, env: &Env) -> napi::Result<PoolSnapshot> {
        Ok(PoolSnapshot::from(&self.live().or_throw(env)?.snapshot()))
    }

    /// Returns idle memory to the allocator; returns the bytes freed.
    #[napi(catch_unwind)]
    pub fn trim(&self, env: &Env) -> napi::Result<f64> {
        Ok(self.live().or_throw(env)?.trim() as f64)
    }

    /// Drops this handle to the pool; buffers already out stay valid and pending `acquire`s are still
    /// served as memory comes back.
    #[napi(catch_unwind)]
    pub fn free(&mut self) {
        self.inner = None;
    }
}

/// `BufferPool.snapshot()`.
#[napi(object)]
pub struct PoolSnapshot {
    pub budget: f64,
    pub in_use_bytes: f64,
    pub reserved_bytes: f64,
    pub high_water_bytes: f64,
    pub leased_bytes: f64,
    pub idle_bytes: f64,
    pub cached_bytes: f64,
    pub waiting: f64,
    pub classes: Vec<PoolClassSnapshot>,
    pub tenants: Vec<PoolTenantSnapshot>,
}

/// One size class of a [`PoolSnapshot`].
#[napi(object)]
pub struct PoolClassSnapshot {
    pub size: f64,
    pub in_use_bytes: f64,
    pub high_water_bytes: f64,
    pub leased_bytes: f64,
    pub idle_bytes: f64,
    pub cached_bytes: f64,
    pub waiting: f64,
    pub waits: f64,
    pub timeouts: f64,
    pub refusals: f64,
}

/// One tenant of a [`PoolSnapshot`].
#[napi(object)]
pub struct PoolTenantSnapshot {
    pub tenant: String,
    /// `null` when the tenant has no quota.
    pub quota: Either<f64, Null>,
    pub in_use_bytes: f64,
    pub high_water_bytes: f64,
    pub waits: f64,
    pub timeouts: f64,
    pub refusals: f64,
}

impl From<&BufferPoolSnapshot> for PoolSnapshot {
    fn from(s: &BufferPoolSnapshot) -> Self {
        let n = |v: usize| v as f64;
        PoolSnapshot {
            budget: n(s.budget),
            in_use_bytes: n(s.in_use_bytes),
            reserved_bytes: n(s.reserved_bytes),
            high_water_bytes: n(s.high_water_bytes),
            leased_bytes: n(s.leased_bytes),
            idle_bytes: n(s.idle_bytes),
            cached_bytes: n(s.cached_bytes),
            waiting: n(s.waiting),
            classes: s
                .classes
                .iter()
                .map(|c| PoolClassSnapshot {
                    size: n(c.class.size()),
                    in_use_bytes: n(c.in_use_bytes),
                    high_water_bytes: n(c.high_water_bytes),
                    leased_bytes: n(c.leased_bytes),
                    idle_bytes: n(c.idle_bytes),
                    cached_bytes: n(c.cached_bytes),
                    waiting: n(c.waiting),
                    waits: n(c.waits),
                    timeouts: n(c.timeouts),
                    refusals: n(c.refusals),
                })
                .collect(),
            tenants: s
                .tenants
                .iter()
                .map(|t| PoolTenantSnapshot {
                    tenant: t.tenant.to_string(),
                    quota: t.quota.map_or(Either::B(Null), |q| Either::A(n(q))),
                    in_use_bytes: n(t.in_use_bytes),
                    high_water_bytes: n(t.high_water_bytes),
                    waits: n(t.waits),
                    timeouts: n(t.timeouts),
                    refusals: n(t.refusals),
                })
                .collect(),
        }
    }
}

/// A writable buffer from a `BufferPool`, with its class's fixed capacity.
#[napi(js_name = "PooledBuffer", custom_finalize)]
pub struct JsPooledBuffer {
    inner: Viewed<PooledBuffer>,
    /// What happened to it once `inner` is empty: "frozen" or "freed".
    gone: &'static str,
    memory: ExternalMemory,
}

impl JsPooledBuffer {
    fn new(env: &Env, buffer: PooledBuffer) -> Self {
        let mut memory = ExternalMemory::default();
        memory.set(env, buffer.capacity());
        JsPooledBuffer { inner: Viewed::new(buffer), gone: "freed", memory }
    }

    fn live(&self) -> ApiResult<&PooledBuffer> {
        self.inner.get().ok_or_else(|| ApiError::used_up("PooledBuffer", self.gone))
    }

    /// `length` (shared with the fast path).
    pub(crate) fn len_checked(&self) -> ApiResult<usize> {
        Ok(self.live()?.len())
    }

    /// `capacity` (shared with the fast path).
    pub(crate) fn capacity_checked(&self) -> ApiResult<usize> {
        Ok(self.live()?.capacity())
    }
}

impl ObjectFinalize for JsPooledBuffer {
    fn finalize(mut self, env: Env) -> napi::Result<()> {
        // Views of a buffer the program dropped stay valid: they share it, frozen, and the memory
        // returns to the pool when the last of them is collected.
        self.inner.hand_to_views(&env, PooledBuffer::freeze);
        self.memory.clear(&env);
        Ok(())
    }
}

#[napi]
impl JsPooledBuffer {
    /// Bytes written.
    #[napi(getter, catch_unwind)]
    pub fn length(&self, env: &Env) -> napi::Result<f64> {
        Ok(self.len_checked().or_throw(env)? as f64)
    }

    /// The fixed capacity (the class size).
    #[napi(getter, catch_unwind)]
    pub fn capacity(&self, env: &Env) -> napi::Result<f64> {
        Ok(self.capacity_checked().or_throw(env)? as f64)
    }

    /// The tenant it was acquired for, or `undefined`.
    #[napi(getter, catch_unwind)]
    pub fn tenant(&self, env: &Env) -> napi::Result<Raw> {
        values::string_or_undefined(env, self.live().or_throw(env)?.tenant_id())
    }

    /// Appends a copy of `bytes`; `RangeError` (and nothing written) when they do not fit.
    #[napi(catch_unwind)]
    pub fn append(&mut self, env: &Env, bytes: Unknown<'_>) -> napi::Result<()> {
        let (bytes, _) = args::bytes(env, &bytes, "bytes").or_throw(env)?;
        let gone = self.gone;
        let buffer =
            self.inner.get_mut().ok_or_else(|| ApiError::used_up("PooledBuffer", gone)).or_throw(env)?;
        buffer.try_extend_from_slice(&bytes).map_err(ApiError::range_error).or_throw(env)
    }

    /// The written bytes in place, as a writable `Buffer` over the pool's memory (a copy where external
    /// buffers are not allowed). Detached (empty) once this buffer is frozen or freed; if the program
    /// drops this object instead, the view stays valid on its own.
    #[napi(catch_unwind)]
    pub fn view(&mut self, env: &Env) -> napi::Result<Raw> {
        self.live().or_throw(env)?;
        let view = self.inner.view(env, |b| Some(Bytes::Writable(b.as_mut_slice())))?;
        Ok(view.expect("checked live"))
    }

    /// Turns the buffer into a `ZeroCopyBuffer` of kind `kind` (default `"raw"`) without copying; its
    /// memory returns to the pool when the last view is freed. This object cannot be used after.
    #[napi(catch_unwind)]
    pub fn freeze(&mut self, env: &Env, kind: Option<Unknown<'_>>) -> napi::Result<JsZeroCopyStorage> {
        let kind = args::kind(env, kind.as_ref(), BufferKind::raw()).or_throw(env)?;
        self.live().or_throw(env)?;
        let buffer =
            self.inner.take(env).ok_or_else(|| ApiError::used_up("PooledBuffer", self.gone)).or_throw(env)?;
        self.gone = "frozen";
        self.memory.clear(env);
        Ok(JsZeroCopyStorage::new(env, buffer.with_kind(kind).freeze()))
    }

    /// Gives the memory back to the pool now; later calls throw.
    #[napi(catch_unwind)]
    pub fn free(&mut self, env: &Env) {
        self.inner.take(env);
        self.memory.clear(env);
    }
}
