//! The Node.js addon of omnibuf: the JS API of `js/index.d.ts` over Node-API, with napi-rs.
//!
//! Classes: `ZeroCopyStorage` (the native half of the JS `ZeroCopyBuffer`), `BufferMut`, `BufferKind`
//! (module `buffer`), `NativeBufferPool` (the native half of the JS `BufferPool`) and the functions of
//! a pooled buffer's handle (`pool`, `handles`), the byte ring `Circular`, `CircularWriter`,
//! `CircularReader` (`ring`), and `VirtualBuffer` (`vbuf`). The same semantics as the wasm build
//! (`src/wasm/` of the core crate): the same argument checks, error classes and messages, from the
//! binding core's table (`omnibuf::binding`). What differs is underneath: views are `Buffer`s over
//! native memory rather than copies or views of wasm memory, rings are double-mapped where the system
//! allows, and a ring side can block in a worker or move to another thread.
//!
//! Nothing panics across the boundary: every export napi-rs makes runs under `catch_unwind` (a panic
//! becomes a JS `Error`), as does every member `platform::fast` installs, and bad input is a
//! `TypeError` or `RangeError` before it reaches the core. (Outside them: the module-exports hook,
//! `install_fast_paths`, which runs once at load, before any JS input; and the finalizers Node calls
//! as objects are collected, which only let go of what the objects held.) The raw Node-API calls, and so the
//! addon's unsafe code, are in `platform`; the domain modules only vouch for their memory with
//! `unsafe impl StableMemory`, and `vbuf` chooses `FileBackend::mapped` when JS asks for the mapped
//! backend, whose hazard `js/index.d.ts` states. `platform` knows no domain type: these
//! modules register their members into it (`install_fast_paths`).
//!
//! Load it through `js/node.mjs`, which adds `[Symbol.dispose]` and the main-thread check of
//! `sliceSync()`, and defines the JS classes `ZeroCopyBuffer` (`js/addon-zero-copy.mjs`), `BufferPool`
//! and `PooledBuffer` (`js/addon-pool.mjs`) over this addon's native halves; `node node/build.mjs`
//! builds it.

mod args;
mod buffer;
mod error;
mod handles;
mod messages;
mod platform;
mod pool;
mod ring;
mod vbuf;

use napi::Env;
use napi_derive::napi;

/// Whether views are external `Buffer`s over native memory (`true`) or copies (`false`: the runtime
/// forbids external buffers, as Electron does, or is Deno, or `OMNIBUF_EXTERNAL_BUFFERS=0` asked for
/// copies).
#[napi(js_name = "externalBuffers", catch_unwind)]
pub fn external_buffers(env: &Env) -> bool {
    platform::views::external_buffers(env)
}

/// Runs when the module loads, after napi-rs has defined the classes: installs the members JS calls
/// once per buffer as plain Node-API callbacks (`platform::fast`), with the pool's handle tables as
/// each environment's state.
#[napi(module_exports)]
pub fn install_fast_paths(env: &Env, exports: napi::bindgen_prelude::Object<'_>) -> napi::Result<()> {
    use napi::JsValue;
    let mut members = buffer::fast_members::<pool::Tables>();
    members.extend(pool::fast_members());
    platform::fast::install(env, exports.raw(), pool::Tables::default(), &members)
}

/// `__cancelWait(id, reason)`: for `js/waits.mjs`, when a wait's `AbortSignal` aborts: drops the
/// pending wait `id` (a ticket's `id`) and rejects its Promise with `reason`. Returns whether it was
/// still pending.
#[napi(js_name = "__cancelWait", catch_unwind)]
pub fn cancel_wait(env: &Env, id: f64, reason: napi::bindgen_prelude::Unknown<'_>) -> bool {
    let id = if id.fract() == 0.0 && (1.0..9_007_199_254_740_992.0).contains(&id) {
        id as u64
    } else {
        return false;
    };
    platform::executor::cancel(env, id, platform::values::Raw(platform::values::raw(&reason)))
}

/// `__pendingWaits()`: how many waits (`acquire`, `sliceAsync`) of this thread are pending, a test
/// hook: an aborted wait leaves none behind.
#[napi(js_name = "__pendingWaits", catch_unwind)]
pub fn pending_waits(env: &Env) -> f64 {
    platform::executor::pending(env) as f64
}

/// `__cancelWork(id)`: for `js/waits.mjs`, when the `AbortSignal` of a VirtualBuffer Promise aborts:
/// takes the work `id` (a ticket's `id`) out of the thread pool's queue if no thread has started it,
/// so that it never runs. Returns whether it did (`false`: running, done, or no such work).
#[napi(js_name = "__cancelWork", catch_unwind)]
pub fn cancel_work(env: &Env, id: f64) -> bool {
    if id.fract() == 0.0 && (1.0..9_007_199_254_740_992.0).contains(&id) {
        platform::work::cancel(env, id as u64)
    } else {
        false
    }
}

/// `__workCounts()`: `[pending, ran]`, the VirtualBuffer work of this thread that is queued or running,
/// and how much ran its computation so far; a test hook: work cancelled before it started never runs
/// and is not pending.
#[napi(js_name = "__workCounts", catch_unwind)]
pub fn work_counts(env: &Env) -> Vec<f64> {
    vec![platform::work::pending(env) as f64, platform::work::ran(env) as f64]
}

/// `__onMainThread()`: called by `js/node.mjs` on the process's main thread, whose views need no
/// check when their environment shuts down (see `platform::views`).
#[napi(js_name = "__onMainThread", catch_unwind)]
pub fn on_main_thread() {
    platform::views::on_main_thread()
}
