//! Browser platform code (wasm32): the document stores virtual buffers persist in: IndexedDB, and
//! OPFS in dedicated workers.
//!
//! (No views of wasm memory for JS: any such view reaches all of wasm memory through `.buffer`, freed
//! memory that other objects reuse included, so the JS classes hand out copies; see `src/wasm/`.)

pub mod indexed_db;
pub mod opfs;
pub(crate) mod web_lock;

use wasm_bindgen::{JsCast, JsValue};
use web_sys::DomException;

/// A JS error's name and message.
pub(crate) fn describe(value: &JsValue) -> String {
    if let Some(e) = value.dyn_ref::<DomException>() {
        return format!("{}: {}", e.name(), e.message());
    }
    value
        .dyn_ref::<js_sys::Error>()
        .map(|e| format!("{}: {}", String::from(e.name()), String::from(e.message())))
        .or_else(|| value.as_string())
        .unwrap_or_else(|| format!("{value:?}"))
}
