//! The browser entry's JS API: wasm-bindgen exports of the classes in `js/index.d.ts`.
//!
//! Compiled for wasm32 only. Each class wraps the Rust type of the same name (`VirtualBuffer` wraps
//! a stored buffer: IndexedDB's, or OPFS's in a dedicated worker). Bad input never panics across the
//! boundary: offsets and sizes arrive as JS numbers and go through the binding core's checks
//! (`crate::binding::args`: `TypeError` for a non-integer, `RangeError` for a negative or out-of-range
//! value), and Rust errors become the JS class, message and `code` the binding core gives them
//! (`crate::binding::BindingError`, thrown by `error::throwable`), as in the addon.
//!
//! The classes: `ZeroCopyBuffer`, `BufferMut`, `BufferKind`, `BufferPool`, `PooledBuffer`, the byte
//! ring (`Circular`, `CircularWriter`, `CircularReader`), and `VirtualBuffer` over documents in
//! IndexedDB or OPFS.
//!
//! The module is private: its items are exported to JS by wasm-bindgen, which needs no Rust path to
//! them, and they are documented (with examples) for JS users in `js/index.d.ts`. Rust programs use
//! the crate's own types.

mod buffer;
#[cfg(target_feature = "atomics")]
mod custody;
mod error;
mod pool;
mod ring;
#[cfg(target_feature = "atomics")]
mod shared;
mod store;
#[cfg(target_feature = "atomics")]
mod threads;
mod vbuf;
mod wait;
mod work;

use wasm_bindgen::prelude::*;

/// Runs once the module is instantiated (on each thread that instantiates it): makes the globals
/// that calls would otherwise make on first use. A call that first needs one when wasm memory is
/// full to its last bytes would trap part-way through its making, and a global left half made
/// stays broken for the module's life, long after the memory came back.
#[wasm_bindgen(start)]
fn start() {
    crate::BufferKindRegistry::global();
}

/// An error from the binding core's table of messages (`crate::binding::message::by_number`), for
/// `js/guard.mjs`, so that the mistakes it catches in JS are worded as the addon words them.
#[wasm_bindgen(js_name = __bindingError)]
pub fn binding_error(which: u32, a: &JsValue, b: &JsValue, c: &JsValue, got: &JsValue) -> JsValue {
    let text = |v: &JsValue| v.as_string().unwrap_or_default();
    match crate::binding::message::by_number(which, &text(a), &text(b), &text(c), error::value(got)) {
        Some(e) => error::throwable(e),
        None => error::error(format!("no binding message number {which}")),
    }
}
