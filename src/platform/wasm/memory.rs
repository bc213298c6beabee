//! Zero-copy views of wasm linear memory for JS.
//!
//! A `Uint8Array` over wasm memory is only valid until the memory grows: `memory.grow` replaces the
//! `ArrayBuffer`, and old views silently read zeros and drop writes (they are detached, not an error).
//! So a view is created for one call and handed straight to JS, never kept on the Rust side, and the
//! JS API tells users to call `view()` again after anything that may allocate.

use js_sys::Uint8Array;

/// A `Uint8Array` over `bytes`, in place.
pub fn view(bytes: &[u8]) -> Uint8Array {
    // The view aliases `bytes`, which the caller's buffer keeps alive and unchanged while the JS object
    // that returns it lives; what JS does with it later is governed by the re-derive rule above.
    // SAFETY: nothing allocates between creating the view and handing it to JS, so no `memory.grow`
    // can detach it first.
    unsafe { Uint8Array::view(bytes) }
}

/// A `Uint8Array` over `bytes` that JS writes, in place (the same validity rule as [`view`]).
pub fn view_mut(bytes: &mut [u8]) -> Uint8Array {
    // The view aliases memory the caller lent mutably; JS writes through it only after this call has
    // returned, when no Rust reference to those bytes is in use.
    // SAFETY: nothing allocates between creating the view and handing it to JS (see `view`).
    unsafe { Uint8Array::view_mut_raw(bytes.as_mut_ptr(), bytes.len()) }
}
