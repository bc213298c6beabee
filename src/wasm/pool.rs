//! `BufferPool` and `PooledBuffer` for JS. The pool never blocks: `acquire` returns a Promise that
//! resolves when the budget has room, `tryAcquire` returns `null` when it has none.

use std::cell::RefCell;
use std::collections::HashMap;
use std::rc::Rc;

use js_sys::{Array, Object, Reflect};
use wasm_bindgen::prelude::*;

use super::buffer::{bytes_from_js, kind_from_js, JsZeroCopyBuffer};
use super::error::{offset, option, optional_string, string, throwable, used_up, value};
use crate::binding::{self, message, BindingError, PoolSide};
use crate::{
    pool::{check_classes, DEFAULT_CLASSES},
    BufferKind, BufferPool, BufferPoolSnapshot, CapacityError, PoolError, PooledBuffer,
};

#[wasm_bindgen]
extern "C" {
    /// `Object.entries(object)`, its getters' exceptions caught.
    #[wasm_bindgen(catch, js_namespace = Object, js_name = entries)]
    fn own_entries(object: &JsValue) -> Result<Array, JsValue>;
    /// `Array.isArray(value)`, which sees through a Proxy of an array; a revoked Proxy's exception
    /// caught.
    #[wasm_bindgen(catch, js_namespace = Array, js_name = isArray)]
    fn array_is_array(value: &JsValue) -> Result<bool, JsValue>;
}

fn pool_error(e: PoolError) -> JsValue {
    throwable(e.into())
}

/// `options[key]` as a bound in bytes (the budget, a quota), if present: any offset, as in the
/// addon. Above what wasm memory holds it bounds nothing more, but reads back as given ([`Bounds`]).
fn size_option(options: &JsValue, key: &str) -> Result<Option<u64>, JsValue> {
    let v = option(options, key)?;
    if v.is_undefined() {
        return Ok(None);
    }
    match value(&v) {
        n @ binding::Value::Number(_) => binding::offset(n, key).map(Some).map_err(throwable),
        got => Err(throwable(message::option_not_number(key, got))),
    }
}

/// The budget as the pool counts it, given the classes: at most `isize::MAX` (the top bit flags
/// waiters), more than wasm memory holds, yet never less than the smallest class unless the budget
/// given is: then the pool's own checks, in their order and words, name the budget as given, and
/// past that a class larger than `isize::MAX` (the most one allocation takes here).
fn counted_budget(budget: u64, classes: &[usize]) -> usize {
    let smallest = classes.iter().copied().min().unwrap_or(0);
    counted(budget).min((isize::MAX as usize).max(smallest))
}

/// What the pool counts of a bound in bytes: a wasm `usize` holds at most 4 GiB, more than wasm
/// memory, so a larger bound counts as all of it.
fn counted(bytes: u64) -> usize {
    usize::try_from(bytes).unwrap_or(usize::MAX)
}

/// The pool's bounds as the program gave them, which `budget` and `snapshot()` report: the pool
/// itself counts them in a wasm `usize` (see [`counted`]; a quota of `usize::MAX` is none to it), and
/// the addon reports any bound as given.
struct Bounds {
    budget: u64,
    default_quota: Option<u64>,
    quotas: HashMap<String, u64>,
}

impl Bounds {
    /// The quota of `tenant`: its own, else the default, else none.
    fn quota_of(&self, tenant: &str) -> Option<u64> {
        self.quotas.get(tenant).copied().or(self.default_quota)
    }
}

/// A pool of reusable buffers with size classes, a byte budget and per-tenant quotas.
#[wasm_bindgen(js_name = BufferPool)]
pub struct JsBufferPool {
    /// Shared with the pending `acquire()`s, which `free()` settles (see `binding::PoolSide`).
    side: Rc<RefCell<PoolSide>>,
    bounds: Bounds,
}

impl JsBufferPool {
    fn with<R>(&self, f: impl FnOnce(&BufferPool) -> R) -> Result<R, JsValue> {
        Ok(f(self.side.borrow().pool().map_err(throwable)?))
    }
}

/// `free()` (wasm-bindgen's, which drops the object) rejects the pending `acquire()`s as freeing a
/// ring side rejects its `sliceAsync()`s.
impl Drop for JsBufferPool {
    fn drop(&mut self) {
        if let Ok(mut side) = self.side.try_borrow_mut() {
            side.free();
        }
    }
}

#[wasm_bindgen(js_class = BufferPool)]
impl JsBufferPool {
    /// `options`: `{ budget, classes?, maxIdle?, tenantQuotas?: { name: bytes }, defaultTenantQuota? }`.
    #[wasm_bindgen(constructor)]
    pub fn new(options: &JsValue) -> Result<JsBufferPool, JsValue> {
        if !options.is_object() {
            return Err(throwable(message::pool_needs_options(value(options))));
        }
        let mut config = BufferPool::builder();
        let Some(budget) = size_option(options, "budget")? else {
            return Err(throwable(message::budget_required()));
        };
        let mut bounds = Bounds { budget, default_quota: None, quotas: HashMap::new() };
        // Numbers until every option is read: a class too large for wasm memory is refused after
        // every option's type, as the addon refuses none.
        let mut sizes: Vec<u64> = DEFAULT_CLASSES.iter().map(|&size| size as u64).collect();
        let classes = option(options, "classes")?;
        if !classes.is_undefined() {
            // Each element read as JS would, so that a throwing getter or a Proxy's trap (a revoked
            // Proxy's too, on which `Array.isArray` throws) is the option's error, not an exception
            // thrown through this frame.
            let unreadable = || throwable(message::option_unreadable("classes"));
            if !array_is_array(&classes).map_err(|_| unreadable())? {
                return Err(throwable(message::classes_not_array(value(&classes))));
            }
            let length = Reflect::get(&classes, &"length".into()).map_err(|_| unreadable())?;
            sizes = (0..length.as_f64().unwrap_or(0.0) as u32)
                .map(|i| Reflect::get_u32(&classes, i).map_err(|_| unreadable()))
                .map(|v| {
                    v.and_then(|v| v.as_f64().ok_or_else(|| throwable(message::class_not_number(value(&v)))))
                })
                .map(|n| {
                    n.and_then(|n| {
                        binding::offset(binding::Value::Number(n), "a class size").map_err(throwable)
                    })
                })
                .collect::<Result<_, _>>()?;
        }
        if let Some(max_idle) = size_option(options, "maxIdle")? {
            config = config.max_idle(counted(max_idle));
        }
        if let Some(quota) = size_option(options, "defaultTenantQuota")? {
            config = config.default_tenant_quota(counted(quota));
            bounds.default_quota = Some(quota);
        }
        let quotas = option(options, "tenantQuotas")?;
        if !quotas.is_undefined() {
            // `typeof` "object", as the addon checks: a null-prototype record too, a function not.
            if !quotas.is_object() {
                return Err(throwable(message::tenant_quotas_not_object(value(&quotas))));
            }
            let entries =
                own_entries(&quotas).map_err(|_| throwable(message::option_unreadable("tenantQuotas")))?;
            for entry in entries.iter() {
                let entry: Array = entry.unchecked_into();
                let tenant = string(&entry.get(0), "tenant")?;
                let bytes = entry.get(1);
                let Some(bytes) = bytes.as_f64() else {
                    return Err(throwable(message::tenant_quota_not_number(&tenant, value(&bytes))));
                };
                let quota =
                    binding::offset(binding::Value::Number(bytes), "a tenant quota").map_err(throwable)?;
                config = config.tenant_quota(tenant.as_str(), counted(quota));
                bounds.quotas.insert(tenant, quota);
            }
        }
        // A class too large for wasm memory is the configuration error of a class too large for
        // the target, checked after the mistakes every target refuses alike (as the core checks).
        sizes.sort_unstable();
        check_classes(budget, &sizes).map_err(pool_error)?;
        let sizes: Vec<usize> =
            sizes.into_iter().map(|size| usize::try_from(size).unwrap_or(usize::MAX)).collect();
        config = config.budget(counted_budget(budget, &sizes)).classes(sizes);
        // No thread can block in a page, and outstanding-buffer tracking is a debugging aid.
        config
            .track_outstanding(false)
            .build()
            .map(|pool| JsBufferPool { side: PoolSide::new(pool), bounds })
            .map_err(pool_error)
    }

    /// The budget: most bytes checked out at once, as given.
    #[wasm_bindgen(getter)]
    pub fn budget(&self) -> Result<f64, JsValue> {
        // A number of at most `Number.MAX_SAFE_INTEGER` (`binding::offset`): exact as an f64.
        self.with(|_| self.bounds.budget as f64)
    }

    /// The class sizes, smallest first.
    #[wasm_bindgen(getter)]
    pub fn classes(&self) -> Result<Array, JsValue> {
        self.with(|pool| pool.classes().into_iter().map(|c| JsValue::from(c.size() as f64)).collect())
    }

    /// A buffer of at least `size` bytes now, or `null` when the budget (or the tenant's quota) is
    /// full. Requests that can never be served throw a `RangeError`.
    #[wasm_bindgen(js_name = tryAcquire)]
    pub fn try_acquire(&self, size: &JsValue, tenant: &JsValue) -> Result<JsValue, JsValue> {
        // Both types first, then the size past wasm memory (`request_size`), as in the addon.
        let size = offset(size, "size")?;
        let tenant = optional_string(tenant, "tenant")?;
        let result = self.with(|pool| {
            request_size(pool, size).map(|size| binding::try_acquire(pool, size, tenant.as_deref()))
        })??;
        match result {
            Ok(buf) => Ok(JsPooledBuffer { inner: Some(buf) }.into()),
            // `null`, as the API says (wasm-bindgen would turn `None` into `undefined`).
            Err(PoolError::WouldBlock { .. }) => Ok(JsValue::NULL),
            Err(e) => Err(pool_error(e)),
        }
    }

    /// A Promise of a buffer of at least `size` bytes, resolved once the budget has room (first come,
    /// first served within a size class). Requests that can never be served reject with a `RangeError`.
    /// `ticket`: the wait's `{ ref, id }` from `js/waits.mjs`, for `__cancelWait` (see `super::wait`).
    /// Rejects with the `Error` of a freed pool when the pool is freed first.
    pub fn acquire(&self, size: &JsValue, tenant: &JsValue, ticket: &JsValue) -> js_sys::Promise {
        let future = offset(size, "size").and_then(|size| {
            let tenant = optional_string(tenant, "tenant")?;
            let size = self.with(|pool| request_size(pool, size))??;
            binding::acquire(&self.side, size, tenant.as_deref()).map_err(throwable)
        });
        super::wait::spawn(ticket, async move {
            let buf = future?.await.map_err(throwable)?;
            Ok(JsPooledBuffer { inner: Some(buf) }.into())
        })
    }

    /// Memory, waiting and high-water marks now, per class and per tenant, as a plain object.
    pub fn snapshot(&self) -> Result<Object, JsValue> {
        snapshot_to_js(&self.with(BufferPool::snapshot)?, &self.bounds)
    }

    /// Returns idle memory to the allocator, and leased budget to the pool; returns the bytes freed.
    pub fn trim(&self) -> Result<usize, JsValue> {
        self.with(BufferPool::trim)
    }
}

/// A request's size within wasm memory: past its `usize`, more than any class holds, refused in the
/// addon's words (which name the largest class).
fn request_size(pool: &BufferPool, size: u64) -> Result<usize, JsValue> {
    usize::try_from(size).map_err(|_| {
        let largest = pool.classes().last().map_or(0, |class| class.size());
        throwable(message::no_class_holds(size, largest))
    })
}

fn set(object: &Object, key: &str, value: impl Into<JsValue>) -> Result<(), JsValue> {
    Reflect::set(object, &key.into(), &value.into()).map(|_| ())
}

/// `s` as a plain object, with the bounds as given.
fn snapshot_to_js(s: &BufferPoolSnapshot, bounds: &Bounds) -> Result<Object, JsValue> {
    let n = |v: usize| v as f64;
    let out = Object::new();
    set(&out, "budget", bounds.budget as f64)?;
    for (key, value) in [
        ("inUseBytes", s.in_use_bytes),
        ("reservedBytes", s.reserved_bytes),
        ("highWaterBytes", s.high_water_bytes),
        ("leasedBytes", s.leased_bytes),
        ("idleBytes", s.idle_bytes),
        ("cachedBytes", s.cached_bytes),
        ("waiting", s.waiting),
    ] {
        set(&out, key, n(value))?;
    }
    let classes = Array::new();
    for c in &s.classes {
        let o = Object::new();
        for (key, value) in [
            ("size", c.class.size()),
            ("inUseBytes", c.in_use_bytes),
            ("highWaterBytes", c.high_water_bytes),
            ("leasedBytes", c.leased_bytes),
            ("idleBytes", c.idle_bytes),
            ("cachedBytes", c.cached_bytes),
            ("waiting", c.waiting),
            ("waits", c.waits),
            ("timeouts", c.timeouts),
            ("refusals", c.refusals),
        ] {
            set(&o, key, n(value))?;
        }
        classes.push(&o);
    }
    set(&out, "classes", classes)?;
    let tenants = Array::new();
    for t in &s.tenants {
        let o = Object::new();
        set(&o, "tenant", t.tenant.as_str())?;
        set(&o, "quota", bounds.quota_of(&t.tenant).map_or(JsValue::NULL, |q| (q as f64).into()))?;
        for (key, value) in [
            ("inUseBytes", t.in_use_bytes),
            ("highWaterBytes", t.high_water_bytes),
            ("waits", t.waits),
            ("timeouts", t.timeouts),
            ("refusals", t.refusals),
        ] {
            set(&o, key, n(value))?;
        }
        tenants.push(&o);
    }
    set(&out, "tenants", tenants)?;
    Ok(out)
}

/// A writable buffer from a `BufferPool`, with its class's fixed capacity.
#[wasm_bindgen(js_name = PooledBuffer)]
pub struct JsPooledBuffer {
    /// `None` once frozen.
    inner: Option<PooledBuffer>,
}

impl JsPooledBuffer {
    fn live_ref(&self) -> Result<&PooledBuffer, JsValue> {
        self.inner.as_ref().ok_or_else(|| used_up("PooledBuffer", "frozen"))
    }

    fn live(&mut self) -> Result<&mut PooledBuffer, JsValue> {
        self.inner.as_mut().ok_or_else(|| used_up("PooledBuffer", "frozen"))
    }
}

#[wasm_bindgen(js_class = PooledBuffer)]
impl JsPooledBuffer {
    /// Not public: `BufferPool.tryAcquire()` and `acquire()` make them.
    #[wasm_bindgen(constructor)]
    pub fn new() -> Result<JsPooledBuffer, JsValue> {
        Err(throwable(message::no_constructor("PooledBuffer")))
    }

    /// Bytes written.
    #[wasm_bindgen(getter)]
    pub fn length(&mut self) -> Result<usize, JsValue> {
        Ok(self.live()?.len())
    }

    /// The fixed capacity (the class size).
    #[wasm_bindgen(getter)]
    pub fn capacity(&mut self) -> Result<usize, JsValue> {
        Ok(self.live()?.capacity())
    }

    /// The tenant it was acquired for, or `undefined`.
    #[wasm_bindgen(getter)]
    pub fn tenant(&mut self) -> Result<Option<String>, JsValue> {
        Ok(self.live()?.tenant_id().map(str::to_owned))
    }

    /// Appends a copy of `bytes`; `RangeError` (and nothing written) when they do not fit.
    pub fn append(&mut self, bytes: &JsValue) -> Result<(), JsValue> {
        let refused = |e: CapacityError| throwable(BindingError::range_error(e));
        // The argument first, then the state, as in every member.
        if let Some(array) = bytes.dyn_ref::<js_sys::Uint8Array>() {
            let buffer = self.live()?;
            // Straight from the JS array into the buffer, once it is known to fit: bytes that do not
            // fit are never copied (into wasm memory, which would keep that size for good).
            let (needed, available) = (super::buffer::length_of(array)?, buffer.remaining());
            if needed > available {
                return Err(refused(CapacityError { needed, available }));
            }
            let start = buffer.len();
            buffer.resize(start + needed, 0);
            array.copy_to(&mut buffer.as_mut_slice()[start..]);
            return Ok(());
        }
        let (bytes, _) = bytes_from_js(bytes, "bytes")?;
        self.live()?.try_extend_from_slice(&bytes).map_err(refused)
    }

    /// The written bytes as a copy in a fresh `ArrayBuffer` (never a view of wasm memory, whose
    /// freed bytes other objects reuse). `js/guard.mjs` writes what JS wrote into it back with
    /// `__writeBack` at the buffer's next call.
    pub fn view(&self) -> Result<js_sys::Uint8Array, JsValue> {
        Ok(js_sys::Uint8Array::from(&self.live_ref()?[..]))
    }

    /// Writes `bytes` (a `Uint8Array` the guard copied out of the last `view()`) over the first of
    /// the written bytes; the rest of them, and the length, stay as they are.
    #[wasm_bindgen(js_name = __writeBack)]
    pub fn write_back(&mut self, bytes: &JsValue) -> Result<(), JsValue> {
        let bytes: &js_sys::Uint8Array =
            bytes.dyn_ref().ok_or_else(|| throwable(message::not_bytes("bytes", value(bytes))))?;
        let written: &mut [u8] = self.live()?;
        let n = super::buffer::length_up_to_max(bytes).min(written.len());
        // Straight from the JS array into the buffer: no copy in between.
        bytes.subarray(0, n as u32).copy_to(&mut written[..n]);
        Ok(())
    }

    /// Turns the buffer into a `ZeroCopyBuffer` of kind `kind` (default `"raw"`) without copying; its
    /// memory returns to the pool when the last view is freed.
    pub fn freeze(&mut self, kind: &JsValue) -> Result<JsZeroCopyBuffer, JsValue> {
        let kind = kind_from_js(optional_string(kind, "kind")?, BufferKind::raw())?;
        self.live()?;
        Ok(self.inner.take().expect("checked live").with_kind(kind).freeze().into())
    }
}
