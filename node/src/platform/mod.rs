//! The addon's FFI layer: the raw Node-API calls that napi-rs does not make the way omnibuf needs
//! them. It knows no domain type (no buffer, pool, ring or virtual buffer): the domain modules of the
//! addon implement its traits for their values and register their members into it.
//!
//! - [`values`]: reading sizes, strings and bytes out of JS values without napi-rs's own conversion
//!   errors (which are plain `Error`s where the API promises `TypeError`s), building error objects, and
//!   handing a raw value back to JS.
//! - [`views`]: external `Buffer`s over native memory (of any value a domain module vouches for with
//!   `StableMemory`), whose `ArrayBuffer`s the owner detaches when it lets go of the memory, with a
//!   copying fallback where the runtime forbids external buffers.
//! - [`fast`]: members as plain Node-API callbacks, without napi-rs's per-call bookkeeping; domain
//!   modules describe them (`Fast`) and the module's exports hook installs them with a per-environment
//!   state.
//! - [`executor`]: Promises settled by Rust futures on the JS thread, woken from any thread.
//! - [`work`]: Promises settled by blocking work (disk reads, saves) run on the libuv thread pool.
//!
//! Apart from the `unsafe impl`s of `views::StableMemory` in the domain modules (promises about their
//! memory, each with its reason), all unsafe code of the addon is here. Every `napi_value` used here
//! belongs to the handle scope of the call that passed it in; every `napi_env` is the one of the
//! current call (or of the callback Node-API is running).

pub(crate) mod executor;
pub(crate) mod fast;
pub(crate) mod values;
pub(crate) mod views;
pub(crate) mod work;

use napi::sys;

/// Whether a Node-API call succeeded.
fn ok(status: sys::napi_status) -> bool {
    status == sys::Status::napi_ok
}
