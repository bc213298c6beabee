//! Which document store a `VirtualBuffer` call uses (`options.store`), and the OPFS side of the JS
//! class: a buffer bound to an OPFS document, and OPFS errors as JS errors.
//!
//! - `'indexeddb'` (the default): IndexedDB, on the page and in every kind of worker, so that a name
//!   names the same document wherever it is opened.
//! - `'opfs'`: the Origin Private File System through sync access handles; only in a dedicated worker
//!   (elsewhere the call rejects with an Error that says so).
//! - `'auto'`: OPFS where sync access handles exist (a dedicated worker of a browser that has them),
//!   IndexedDB elsewhere. The worker proxy (`js/document-worker.mjs`) passes it by default.

use std::cell::RefCell;

use js_sys::Reflect;
use wasm_bindgen::prelude::*;

use super::error::{choice_option, error, throwable};
use crate::binding::{self, BindingError, ERR_INVALID_ARG_VALUE};
use crate::platform::wasm::opfs::{self, OpfsError};
use crate::vbuf::turns::Turns;
use crate::vbuf::{PersistenceError, VbufError, VirtualBuffer};

/// A document store.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Store {
    IndexedDb,
    Opfs,
}

/// Whether this thread has OPFS sync access handles (only dedicated workers of browsers that have
/// them do).
fn has_sync_access_handles() -> bool {
    let global = js_sys::global();
    let has = |name: &str| Reflect::has(&global, &name.into()).unwrap_or(false);
    has("FileSystemSyncAccessHandle") && has("WorkerGlobalScope") && !has("SharedWorkerGlobalScope")
}

/// The store `options.store` picks (`options` may be `undefined` or `null`).
pub(crate) fn store_option(options: &JsValue) -> Result<Store, JsValue> {
    if !options.is_object() {
        return Ok(Store::IndexedDb);
    }
    Ok(match choice_option(options, "store", &binding::STORES)? {
        Some("opfs") => Store::Opfs,
        Some("auto") if has_sync_access_handles() => Store::Opfs,
        _ => Store::IndexedDb,
    })
}

/// An OPFS error as the JS error a call rejects with, its message starting with `context`.
pub(crate) fn opfs_error(e: OpfsError, context: &str) -> JsValue {
    match e {
        // The caller's mistakes: the core's message alone, as the IndexedDB store and the Node addon
        // word them.
        OpfsError::Buffer(
            e @ (VbufError::OutOfRange { .. }
            | VbufError::NoSuchLine { .. }
            | VbufError::AllocationFailed { .. }),
        ) => throwable(BindingError::from(e)),
        OpfsError::InvalidName(_) => {
            throwable(BindingError::type_error(format!("{context}: {e}")).with_code(ERR_INVALID_ARG_VALUE))
        }
        // The name the IndexedDB store gives a full quota too: refused at once, or by a write of a
        // save or import (the stored document is unchanged either way).
        OpfsError::QuotaExceeded(_) => quota_exceeded(format!("{context}: {e}")),
        OpfsError::Buffer(VbufError::Persistence(PersistenceError::Io(ref io)))
            if io.kind() == std::io::ErrorKind::StorageFull =>
        {
            quota_exceeded(format!("{context}: {e}; the stored document is unchanged"))
        }
        _ => error(format!("{context}: {e}")),
    }
}

/// An Error named `QuotaExceededError`, with `message`.
fn quota_exceeded(message: String) -> JsValue {
    let js = error(message);
    let _ = Reflect::set(&js, &"name".into(), &"QuotaExceededError".into());
    js
}

/// A buffer bound to an OPFS document of this worker: reads and edits are synchronous; a save
/// prepares files first, so it is asynchronous.
#[derive(Debug)]
pub(crate) struct OpfsDoc {
    pub(crate) buffer: VirtualBuffer,
    name: RefCell<String>,
    /// A save that starts while another runs waits for it.
    save_turns: Turns,
}

impl OpfsDoc {
    pub(crate) fn new(buffer: opfs::OpfsBuffer) -> OpfsDoc {
        let name = RefCell::new(buffer.name().to_string());
        OpfsDoc { buffer: buffer.buffer().clone(), name, save_turns: Turns::default() }
    }

    pub(crate) fn name(&self) -> String {
        self.name.borrow().clone()
    }

    /// Saves to its document (see `OpfsBuffer::save`).
    pub(crate) async fn save(&self, force: bool, context: &str) -> Result<(), JsValue> {
        let _turn = self.save_turns.take().await;
        opfs::save(&self.buffer, &self.name(), force).await.map_err(|e| opfs_error(e, context))
    }

    /// Saves as document `name`; later saves go there.
    pub(crate) async fn save_as(&self, name: &str, context: &str) -> Result<(), JsValue> {
        let _turn = self.save_turns.take().await;
        opfs::save_as(&self.buffer, name).await.map_err(|e| opfs_error(e, context))?;
        *self.name.borrow_mut() = name.to_string();
        Ok(())
    }
}
