//! `BufferPool` and `PooledBuffer` for Node. The pool never blocks the event loop: `acquire` returns a
//! Promise settled from the pool's async acquire (woken on any thread), `tryAcquire` returns `null`.
//!
//! A pooled buffer is no JS object of this addon: JS holds it by a handle into a per-environment
//! table ([`Tables`], `crate::handles`), and the JS class `PooledBuffer` (`js/addon-pool.mjs`) calls
//! the functions of a handle ([`fast_members`]: plain Node-API callbacks, `platform::fast`), which
//! call [`PooledSlot`]'s methods. `poolTryAcquire` (one of them, [`try_acquire`]) and `acquire` give
//! handles. Why handles: a wrapped object costs `napi_new_instance`, `napi_wrap`, a type tag and a
//! finalizer each, microseconds per `tryAcquire()`. So does a pool, for `poolTryAcquire`: finding a
//! wrapped receiver (its type tag and its wrap, two private-property reads through V8's runtime) was
//! a third of a `tryAcquire()`.

use std::cell::RefCell;
use std::future::Future;
use std::rc::Rc;

use napi::bindgen_prelude::{Either, JavaScriptClassExt, Null, ObjectFinalize, Unknown};
use napi::{sys, Env, ValueType};
use napi_derive::napi;
use omnibuf::binding::{self, message, PoolSide};
use omnibuf::{BufferKind, BufferPool, BufferPoolSnapshot, CapacityError, PoolError, PooledBuffer};

use crate::args;
use crate::buffer::JsZeroCopyStorage;
use crate::error::{ApiError, ApiResult, OrThrow};
use crate::handles::Handles;
use crate::platform::executor::{self, WakeScope};
use crate::platform::fast::{self, Call, EnvState, Failure, Fast, Member, Target};
use crate::platform::values::{self, Raw};
use crate::platform::views::{Bytes, ExternalMemory, StableMemory, Viewed};

/// The pool described by `options`: `{ budget, classes?, maxIdle?, tenantQuotas?, defaultTenantQuota? }`.
fn pool_from_options(env: &Env, options: &Unknown<'_>) -> ApiResult<BufferPool> {
    let options = values::raw(options);
    if values::type_of(env, options) != ValueType::Object {
        return Err(message::pool_needs_options(args::value(env, options)).into());
    }
    let mut config = BufferPool::builder();
    match args::size_option(env, options, "budget")? {
        Some(budget) => config = config.budget(budget),
        None => return Err(message::budget_required().into()),
    }
    if let Some(classes) = args::option(env, options, "classes")? {
        let unreadable = || ApiError::from(message::option_unreadable("classes"));
        let len = match values::array_length(env, classes) {
            Some(len) => len,
            None if values::is_array(env, classes) => return Err(unreadable()),
            None => return Err(message::classes_not_array(args::value(env, classes)).into()),
        };
        // Element by element, stopping at the first that is no size, as the wasm build reads them:
        // the length is the caller's to claim (a sparse array, a Proxy), not a promise of numbers.
        let mut sizes = Vec::new();
        for i in 0..len {
            let v = values::array_item(env, classes, i).ok_or_else(unreadable)?;
            let n = values::number(env, v)
                .ok_or_else(|| ApiError::from(message::class_not_number(args::value(env, v))))?;
            sizes.push(args::index_from_number(n, "a class size")?);
        }
        config = config.classes(sizes);
    }
    if let Some(max_idle) = args::size_option(env, options, "maxIdle")? {
        config = config.max_idle(max_idle);
    }
    if let Some(quota) = args::size_option(env, options, "defaultTenantQuota")? {
        config = config.default_tenant_quota(quota);
    }
    if let Some(quotas) = args::option(env, options, "tenantQuotas")? {
        if values::type_of(env, quotas) != ValueType::Object {
            return Err(message::tenant_quotas_not_object(args::value(env, quotas)).into());
        }
        let entries = values::own_entries(env, quotas)
            .ok_or_else(|| ApiError::from(message::option_unreadable("tenantQuotas")))?;
        for (tenant, bytes) in entries {
            let tenant = args::text_raw(env, tenant, "tenant")?;
            let Some(bytes) = values::number(env, bytes) else {
                return Err(message::tenant_quota_not_number(&tenant, args::value(env, bytes)).into());
            };
            config = config.tenant_quota(tenant, args::index_from_number(bytes, "a tenant quota")?);
        }
    }
    // Outstanding-buffer tracking is a debugging aid of Rust builds; JS objects are tracked by the GC.
    Ok(config.track_outstanding(false).build()?)
}

/// A pool of reusable buffers with size classes, a byte budget and per-tenant quotas: the native half
/// of the JS `BufferPool` (`js/addon-pool.mjs`), which calls these methods, apart from `tryAcquire`:
/// that is `poolTryAcquire(handle, size, tenant?)` ([`fast_members`]), on a clone of the pool kept in a
/// table by [`handle`](JsBufferPool::handle), so that it needs no look-up of a wrapped object.
#[napi(js_name = "NativeBufferPool", custom_finalize)]
pub struct JsBufferPool {
    /// The pool, shared with the pending `acquire()`s, which `free()` settles (see
    /// `omnibuf::binding::PoolSide`).
    side: Rc<RefCell<PoolSide>>,
    /// The clone in the table of pools, until freed or collected.
    handle: u64,
}

impl JsBufferPool {
    /// Runs `f` on the pool, or gives the error of a freed one.
    fn live<R>(&self, f: impl FnOnce(&BufferPool) -> R) -> ApiResult<R> {
        Ok(f(self.side.borrow().pool()?))
    }
}

impl ObjectFinalize for JsBufferPool {
    fn finalize(self, env: Env) -> napi::Result<()> {
        // A pending acquire() keeps its pool reachable (js/waits.mjs); one that reached the native
        // method some other way settles as on free() rather than waiting on a pool nobody holds.
        if let Ok(mut side) = self.side.try_borrow_mut() {
            side.free();
        }
        forget_pool(&env, self.handle);
        Ok(())
    }
}

/// `tryAcquire(size, tenant?)` on raw arguments (`tenant` is `None` when missing) and the pool of its
/// handle (`None` once freed): a buffer now, `None` when there is no room. A freed pool says so before
/// the arguments are looked at, as in the wasm build.
pub(crate) fn try_acquire(
    env: &Env,
    pool: impl FnOnce() -> Option<BufferPool>,
    size: sys::napi_value,
    tenant: Option<sys::napi_value>,
) -> ApiResult<Option<PooledSlot>> {
    let pool = pool().ok_or_else(|| ApiError::used_up("BufferPool", "freed"))?;
    let size = args::index_raw(env, size, "size")?;
    let tenant = tenant.map(|t| args::text_raw(env, t, "tenant")).transpose()?;
    let result = binding::try_acquire(&pool, size, tenant.as_deref());
    match result {
        Ok(buffer) => Ok(Some(PooledSlot::new(env, buffer))),
        Err(PoolError::WouldBlock { .. }) => Ok(None),
        Err(e) => Err(ApiError::from(e)),
    }
}

#[napi]
impl JsBufferPool {
    /// `options`: `{ budget, classes?, maxIdle?, tenantQuotas?: { name: bytes }, defaultTenantQuota? }`.
    #[napi(constructor, catch_unwind)]
    pub fn new(env: &Env, options: Unknown<'_>) -> napi::Result<Self> {
        // Not an `Option`: napi-rs would make `null` `None`, and the error would say "got undefined".
        let pool = pool_from_options(env, &options).or_throw(env)?;
        let handle = remember_pool(env, pool.clone()).or_throw(env)?;
        Ok(JsBufferPool { side: PoolSide::new(pool), handle })
    }

    /// The handle of the pool for `poolTryAcquire`.
    #[napi(getter, catch_unwind)]
    pub fn handle(&self) -> f64 {
        self.handle as f64
    }

    /// The budget: most bytes checked out at once.
    #[napi(getter, catch_unwind)]
    pub fn budget(&self, env: &Env) -> napi::Result<f64> {
        Ok(self.live(BufferPool::budget).or_throw(env)? as f64)
    }

    /// The class sizes, smallest first.
    #[napi(getter, catch_unwind)]
    pub fn classes(&self, env: &Env) -> napi::Result<Vec<f64>> {
        let classes = self.live(BufferPool::classes).or_throw(env)?;
        Ok(classes.into_iter().map(|c| c.size() as f64).collect())
    }

    // `tryAcquire(size, tenant?)`, the handle of a buffer now or `null`, is `poolTryAcquire` of
    // [`fast_members`], on [`try_acquire`].

    /// A Promise of the handle of a buffer of at least `size` bytes, resolved once the budget has room
    /// (first come, first served within a size class). Requests that can never be served reject with
    /// a `RangeError`; freeing the pool first rejects with its `Error`. `ticket` (from
    /// `js/waits.mjs`): `{ ref }` in, the wait's `id` out, which `__cancelWait` takes to drop the
    /// wait (it leaves the pool's queue; budget that reached it goes on to the next waiter or back).
    #[napi(catch_unwind)]
    pub fn acquire(
        &self,
        env: &Env,
        size: Unknown<'_>,
        tenant: Option<Unknown<'_>>,
        ticket: Option<Unknown<'_>>,
    ) -> napi::Result<Raw> {
        let request = (|| {
            // A freed pool rejects with its own error before the arguments are looked at, as in the
            // wasm build.
            self.live(|_| ())?;
            let size = args::index(env, &size, "size")?;
            let tenant = tenant
                .filter(|t| {
                    !matches!(values::type_of(env, values::raw(t)), ValueType::Undefined | ValueType::Null)
                })
                .map(|t| args::text(env, &t, "tenant"))
                .transpose()?;
            Ok(Box::pin(binding::acquire(&self.side, size, tenant.as_deref())?))
        })();
        let (keep_alive, ticket) = match args::wait_ticket(env, ticket.as_ref()) {
            Ok(t) => t,
            Err(e) => return crate::platform::work::rejected(env, e),
        };
        let mut request: ApiResult<_> = request;
        let (promise, id) = executor::spawn(
            env,
            Box::new(move |env, cx| {
                let acquire = match &mut request {
                    Ok(acquire) => acquire,
                    Err(e) => return std::task::Poll::Ready(Err(e.clone())),
                };
                acquire.as_mut().poll(cx).map(|outcome| {
                    let buffer = outcome?;
                    pooled_handle(env, PooledSlot::new(env, buffer))
                })
            }),
            keep_alive,
        )?;
        args::set_wait_id(env, ticket, id);
        Ok(promise)
    }

    /// Memory, waiting and high-water marks now, per class and per tenant, as a plain object.
    #[napi(catch_unwind)]
    pub fn snapshot(&self, env: &Env) -> napi::Result<PoolSnapshot> {
        Ok(PoolSnapshot::from(&self.live(BufferPool::snapshot).or_throw(env)?))
    }

    /// Returns idle memory to the allocator, and leased budget to the pool; returns the bytes freed.
    #[napi(catch_unwind)]
    pub fn trim(&self, env: &Env) -> napi::Result<f64> {
        Ok(self.live(BufferPool::trim).or_throw(env)? as f64)
    }

    /// Drops this handle to the pool; buffers already out stay valid, and pending `acquire`s reject
    /// with the `Error` of a freed pool (as a freed ring side's `sliceAsync`s do), leaving the
    /// pool's queue and, with them, the event loop.
    #[napi(catch_unwind)]
    pub fn free(&mut self, env: &Env) {
        // The rejections settle in this turn's microtasks, after the code that called free().
        let _wakes = WakeScope::enter(env);
        if let Ok(mut side) = self.side.try_borrow_mut() {
            side.free();
        }
        forget_pool(env, self.handle);
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

// SAFETY: a pooled buffer's block has its class's fixed capacity and is never reallocated; it goes
// back to the pool only when the buffer (or, once frozen, its last clone) drops.
unsafe impl StableMemory for PooledBuffer {}

/// A writable buffer from a `BufferPool`, with its class's fixed capacity: what a handle of a JS
/// `PooledBuffer` stands for. Frozen or freed, it leaves the table (the JS side remembers which).
pub(crate) struct PooledSlot {
    inner: Viewed<PooledBuffer>,
    memory: ExternalMemory,
}

impl PooledSlot {
    fn new(env: &Env, buffer: PooledBuffer) -> Self {
        let mut memory = ExternalMemory::default();
        memory.set(env, buffer.capacity());
        PooledSlot { inner: Viewed::new(buffer), memory }
    }

    fn live(&self) -> ApiResult<&PooledBuffer> {
        // Never reached: a slot whose buffer is taken leaves the table at once.
        self.inner.get().ok_or_else(|| ApiError::used_up("PooledBuffer", "freed"))
    }

    /// Bytes written.
    pub(crate) fn len(&self) -> ApiResult<usize> {
        Ok(self.live()?.len())
    }

    /// The fixed capacity (the class size).
    pub(crate) fn capacity(&self) -> ApiResult<usize> {
        Ok(self.live()?.capacity())
    }

    /// The tenant it was acquired for, or `undefined`.
    pub(crate) fn tenant(&self, env: &Env) -> ApiResult<Raw> {
        values::string_or_undefined(env, self.live()?.tenant_id()).map_err(|e| ApiError::error(e.reason))
    }

    /// `append()`'s `RangeError` for `len` bytes that would not fit, before any is copied.
    pub(crate) fn check_room(&self, len: usize) -> ApiResult<()> {
        let available = self.live()?.remaining();
        if len > available {
            return Err(ApiError::range_error(CapacityError { needed: len, available }));
        }
        Ok(())
    }

    /// Appends a copy of `bytes` (checked by the caller); `RangeError` (and nothing written) when they
    /// do not fit.
    pub(crate) fn append(&mut self, bytes: &[u8]) -> ApiResult<()> {
        let buffer = self.inner.get_mut().ok_or_else(|| ApiError::used_up("PooledBuffer", "freed"))?;
        buffer.try_extend_from_slice(bytes).map_err(ApiError::range_error)
    }

    /// The written bytes in place, as a writable `Buffer` over the pool's memory (a copy where external
    /// buffers are not allowed). Detached (empty) once this buffer is frozen or freed; if the program
    /// drops the JS object instead, the view stays valid on its own ([`release`](Self::release)).
    pub(crate) fn view(&mut self, env: &Env) -> ApiResult<Raw> {
        self.live()?;
        let view = self
            .inner
            .view(env, |b| Some(Bytes::Writable(b.as_mut_slice())))
            .map_err(ApiError::from_platform)?;
        view.ok_or_else(|| ApiError::used_up("PooledBuffer", "freed"))
    }

    /// Turns the buffer into the storage of a `ZeroCopyBuffer` of kind `kind` without copying; its
    /// memory returns to the pool when the last view is freed.
    pub(crate) fn freeze(mut self, env: &Env, kind: BufferKind) -> ApiResult<JsZeroCopyStorage> {
        self.live()?;
        // `take` gives nothing when a view could not be detached: the buffer is then given up, its
        // memory never reused.
        let buffer = self.inner.take(env).ok_or_else(|| ApiError::moved_view("PooledBuffer.freeze"))?;
        self.memory.clear(env);
        Ok(JsZeroCopyStorage::new(env, buffer.with_kind(kind).freeze()))
    }

    /// Gives the memory back to the pool now, detaching the views.
    pub(crate) fn free(mut self, env: &Env) {
        self.inner.take(env);
        self.memory.clear(env);
    }

    /// Lets go of a buffer the program dropped (or that the environment leaves behind): views still
    /// alive stay valid, sharing it frozen, and the memory returns to the pool when the last of them is
    /// collected.
    pub(crate) fn release(mut self, env: &Env) {
        self.inner.hand_to_views(env, PooledBuffer::freeze);
        self.memory.clear(env);
    }
}

/// What the addon keeps per JS environment (`platform::fast`'s state): the pooled buffers JS holds, and
/// a clone of each live pool, by handle.
#[derive(Default)]
pub(crate) struct Tables {
    pooled: RefCell<Handles<PooledSlot>>,
    pools: RefCell<Handles<BufferPool>>,
}

impl EnvState for Tables {
    /// Lets go of the pooled buffers JS still held: their views stay valid, as when the collector finds
    /// a buffer dropped.
    fn cleanup(&self, env: &Env) {
        if let Ok(mut table) = self.pooled.try_borrow_mut() {
            for slot in table.drain() {
                slot.release(env);
            }
        }
    }
}

/// The functions of handles that `js/addon-pool.mjs` calls, as plain Node-API callbacks on the
/// module's exports (`platform::fast`).
pub(crate) fn fast_members() -> Vec<Member<Tables>> {
    let on = Target::Exports;
    vec![
        Member::method::<PoolTryAcquire>(on, c"poolTryAcquire"),
        Member::method::<PooledLength>(on, c"pooledLength"),
        Member::method::<PooledCapacity>(on, c"pooledCapacity"),
        Member::method::<PooledTenant>(on, c"pooledTenant"),
        Member::method::<PooledAppend>(on, c"pooledAppend"),
        Member::method::<PooledView>(on, c"pooledView"),
        Member::method::<PooledFreeze>(on, c"pooledFreeze"),
        Member::method::<PooledFree>(on, c"pooledFree"),
        Member::method::<PooledRelease>(on, c"pooledRelease"),
    ]
}

/// The handle of a call's argument: a JS number that can be one, else 0 (which no buffer has).
fn handle_arg(env: &Env, value: sys::napi_value) -> u64 {
    match values::number(env, value) {
        Some(n) if n.fract() == 0.0 && (0.0..9_007_199_254_740_992.0).contains(&n) => n as u64,
        _ => 0,
    }
}

/// Runs `body` on the pooled buffer of `handle`.
fn with_slot<R>(
    table: &RefCell<Handles<PooledSlot>>,
    handle: u64,
    body: impl FnOnce(&mut PooledSlot) -> ApiResult<R>,
) -> ApiResult<R> {
    let mut table = table.try_borrow_mut().map_err(|_| busy())?;
    body(table.get_mut(handle).ok_or_else(gone)?)
}

/// Takes the pooled buffer of `handle` out of the table.
fn take_slot(table: &RefCell<Handles<PooledSlot>>, handle: u64) -> ApiResult<PooledSlot> {
    table.try_borrow_mut().map_err(|_| busy())?.remove(handle).ok_or_else(gone)
}

/// A handle of no buffer: the JS side checks its own state first, so this means misuse of the
/// addon's internals.
fn gone() -> ApiError {
    ApiError::used_up("PooledBuffer", "freed")
}

fn busy() -> ApiError {
    ApiError::error("omnibuf: the pooled buffer table is in use (a re-entrant call; a bug)")
}

fn not_set_up() -> ApiError {
    ApiError::error("omnibuf: the addon is not set up in this environment")
}

/// Puts `slot` in the table of `env` and returns its handle; for `BufferPool.acquire()`, which
/// napi-rs defines.
fn pooled_handle(env: &Env, slot: PooledSlot) -> ApiResult<Raw> {
    let Some(tables) = fast::state::<Tables>(env) else {
        slot.release(env);
        return Err(not_set_up());
    };
    insert(env, &tables.pooled, slot).map(Raw)
}

/// Keeps a clone of a new pool for `poolTryAcquire` and returns its handle.
fn remember_pool(env: &Env, pool: BufferPool) -> ApiResult<u64> {
    let tables = fast::state::<Tables>(env).ok_or_else(not_set_up)?;
    let mut pools = tables.pools.try_borrow_mut().map_err(|_| busy())?;
    pools.insert(pool).map_err(|_| ApiError::error("omnibuf: cannot hold another BufferPool"))
}

/// Lets go of the clone of a pool that was freed or collected (nothing for one already gone).
fn forget_pool(env: &Env, handle: u64) {
    if let Some(tables) = fast::state::<Tables>(env) {
        // Dropping a pool runs no JS, so the table is never busy here; if it were, the clone would
        // stay until the environment goes away, which is harmless.
        let removed = tables.pools.try_borrow_mut().ok().and_then(|mut pools| pools.remove(handle));
        drop(removed);
    }
}

/// Puts `slot` in `table` and returns its handle as a JS number.
fn insert(env: &Env, table: &RefCell<Handles<PooledSlot>>, slot: PooledSlot) -> ApiResult<sys::napi_value> {
    let inserted = match table.try_borrow_mut() {
        Ok(mut table) => table.insert(slot),
        Err(_) => Err(slot),
    };
    match inserted {
        Ok(handle) => {
            fast::number(env, handle as f64).map_err(|_| ApiError::error("could not create a number"))
        }
        Err(slot) => {
            slot.release(env);
            Err(ApiError::error("omnibuf: cannot hold another pooled buffer"))
        }
    }
}

// The members. Each borrows a table only for the Rust work in the middle, never across a Node-API
// call that runs JS or makes an object of a napi-rs class.

/// `poolTryAcquire(poolHandle, size, tenant?)`: the handle of a buffer now, or `null`.
struct PoolTryAcquire;
impl Fast<Tables> for PoolTryAcquire {
    fn call(call: &Call<'_, Tables>) -> Result<sys::napi_value, Failure> {
        let env = call.env;
        let pools = &call.state.pools;
        let pool = || pools.try_borrow().ok()?.get(handle_arg(env, call.args[0])).cloned();
        let acquired = try_acquire(env, pool, call.args[1], call.optional(2))?;
        match acquired {
            Some(slot) => Ok(insert(env, &call.state.pooled, slot)?),
            None => Ok(values::null(env)?.0),
        }
    }
}

struct PooledLength;
impl Fast<Tables> for PooledLength {
    fn call(call: &Call<'_, Tables>) -> Result<sys::napi_value, Failure> {
        let length = with_slot(&call.state.pooled, handle_arg(call.env, call.args[0]), |slot| slot.len())?;
        fast::number(call.env, length as f64)
    }
}

struct PooledCapacity;
impl Fast<Tables> for PooledCapacity {
    fn call(call: &Call<'_, Tables>) -> Result<sys::napi_value, Failure> {
        let handle = handle_arg(call.env, call.args[0]);
        let capacity = with_slot(&call.state.pooled, handle, |slot| slot.capacity())?;
        fast::number(call.env, capacity as f64)
    }
}

struct PooledTenant;
impl Fast<Tables> for PooledTenant {
    fn call(call: &Call<'_, Tables>) -> Result<sys::napi_value, Failure> {
        let handle = handle_arg(call.env, call.args[0]);
        Ok(with_slot(&call.state.pooled, handle, |slot| slot.tenant(call.env))?.0)
    }
}

struct PooledView;
impl Fast<Tables> for PooledView {
    fn call(call: &Call<'_, Tables>) -> Result<sys::napi_value, Failure> {
        // Making an external Buffer and a weak reference to it run no JS.
        let handle = handle_arg(call.env, call.args[0]);
        Ok(with_slot(&call.state.pooled, handle, |slot| slot.view(call.env))?.0)
    }
}

/// `pooledAppend(handle, bytes)`; with handle 0 it only checks `bytes`, for a buffer the JS side
/// knows is gone (a frozen one's argument error comes first, as in the wasm build; for a freed one
/// the JS side throws the freed error instead).
struct PooledAppend;
impl Fast<Tables> for PooledAppend {
    fn call(call: &Call<'_, Tables>) -> Result<sys::napi_value, Failure> {
        let handle = handle_arg(call.env, call.args[0]);
        if handle != 0 {
            // Bytes that cannot fit are refused before they are copied.
            if let Some(len) = values::byte_length(call.env, call.args[1]) {
                with_slot(&call.state.pooled, handle, |slot| slot.check_room(len))?;
            }
        }
        let (bytes, _) = args::bytes_raw(call.env, call.args[1], "bytes")?;
        if handle != 0 {
            with_slot(&call.state.pooled, handle, |slot| slot.append(&bytes))?;
        }
        fast::undefined(call.env)
    }
}

/// `pooledFreeze(handle, kind?)`: the storage of the frozen `ZeroCopyBuffer`; the handle is gone
/// after. With handle 0 it only checks `kind`, as `pooledAppend` does.
struct PooledFreeze;
impl Fast<Tables> for PooledFreeze {
    fn call(call: &Call<'_, Tables>) -> Result<sys::napi_value, Failure> {
        let env = call.env;
        let kind = args::kind_raw(env, call.optional(1), BufferKind::raw())?;
        let handle = handle_arg(env, call.args[0]);
        if handle == 0 {
            return fast::undefined(env);
        }
        // Out of the table before the new object is made.
        let storage = take_slot(&call.state.pooled, handle)?.freeze(env, kind)?;
        Ok(storage.into_instance(env)?.value)
    }
}

struct PooledFree;
impl Fast<Tables> for PooledFree {
    fn call(call: &Call<'_, Tables>) -> Result<sys::napi_value, Failure> {
        // A pending acquire() of this thread that the buffer's bytes serve settles as this returns.
        let _wakes = WakeScope::enter(call.env);
        // Detaching views and dropping the buffer run no JS.
        take_slot(&call.state.pooled, handle_arg(call.env, call.args[0]))?.free(call.env);
        fast::undefined(call.env)
    }
}

/// `pooledRelease(handle)`: a buffer the program dropped (the JS side's FinalizationRegistry calls
/// it); its views stay valid. Does nothing for a handle that is gone.
struct PooledRelease;
impl Fast<Tables> for PooledRelease {
    fn call(call: &Call<'_, Tables>) -> Result<sys::napi_value, Failure> {
        let _wakes = WakeScope::enter(call.env);
        if let Ok(slot) = take_slot(&call.state.pooled, handle_arg(call.env, call.args[0])) {
            slot.release(call.env);
        }
        fast::undefined(call.env)
    }
}
