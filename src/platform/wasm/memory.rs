//! Zero-copy views of wasm linear memory for JS.
//!
//! A `Uint8Array` over wasm memory is only valid until the memory grows: `memory.grow` replaces the
//! `ArrayBuffer`, and old views silently read zeros and drop writes (they are detached, not an error).
//! So a view is created for one call and handed straight to JS, never kept on the Rust side, and the
//! JS API tells users to call `view()` again after anything that may allocate.

use js_sys::Uint8Array;

/// A `Uint8Array` over `bytes`, in place.
pub fn view(bytes: &[u8]) -> Uint8Array {
    // SAFETY: the view aliases `bytes`, which the caller's buffer keeps alive and immutable while the
    // JS object that returned it is alive. It is created and returned without any allocation in
    // between, so it cannot be detached by a `memory.grow` before JS receives it; what JS does later
    // is governed by the documented re-derive rule above.
    unsafe { Uint8Array::view(bytes) }
}
