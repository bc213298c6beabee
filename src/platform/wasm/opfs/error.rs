//! What can go wrong with the OPFS document store, and how a JS failure becomes one of those errors: a
//! leaf of the store's modules, which all report through it.

use wasm_bindgen::{JsCast, JsValue};
use web_sys::DomException;

use crate::platform::persistence::PersistenceError;
use crate::platform::wasm::describe;
use crate::vbuf::VbufError;

/// What can go wrong with the OPFS document store.
///
/// ```no_run
/// # async fn demo() {
/// use omnibuf::vbuf::opfs::{OpfsBuffer, OpfsError};
///
/// match OpfsBuffer::open("missing.txt", Default::default()).await {
///     Err(OpfsError::NotFound(name)) => assert_eq!(name, "missing.txt"),
///     Err(OpfsError::NotInWorker) => { /* on a page's main thread: open it in a dedicated worker */ }
///     other => panic!("{other:?}"),
/// }
/// # }
/// ```
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum OpfsError {
    /// There is no OPFS here (`navigator.storage.getDirectory` is missing: an old browser, Node).
    #[error("the Origin Private File System is not available here")]
    Unavailable,
    /// Sync access handles exist only in dedicated workers.
    #[error("OPFS documents are read through sync access handles, which exist only in dedicated workers")]
    NotInWorker,
    /// The name cannot name a document.
    #[error("{0:?} cannot name a document: use 1 to 200 bytes, no '/', '\\' or NUL, not \".\" or \"..\"")]
    InvalidName(String),
    /// No document of that name.
    #[error("there is no document named {0:?}")]
    NotFound(String),
    /// Another worker or tab has the file open (OPFS's exclusive lock).
    #[error("{0} is open in another worker or tab; close it there and try again")]
    Locked(String),
    /// A buffer of this worker has the document open, which deleting it needs closed.
    #[error("document {0:?} is open in this worker: free its buffers, then try again")]
    OpenHere(String),
    /// The browser refused to store more.
    #[error("the storage quota is exhausted: {0}; the stored document is unchanged")]
    QuotaExceeded(String),
    /// The `File` or `Blob` being imported could not be read (a file the user picked that was
    /// changed or deleted since): no failure of the store, which is unchanged.
    #[error("the File or Blob to import could not be read, so nothing was imported: {0}")]
    SourceUnreadable(String),
    /// Any other failure of OPFS.
    #[error("OPFS failed: {0}")]
    Failed(String),
    /// The buffer or the layer failed (a read, a save).
    #[error(transparent)]
    Buffer(#[from] VbufError),
}

impl From<PersistenceError> for OpfsError {
    fn from(e: PersistenceError) -> Self {
        OpfsError::Buffer(VbufError::Persistence(e))
    }
}

impl OpfsError {
    pub(super) fn from_js(value: JsValue, what: &str) -> OpfsError {
        match value.dyn_ref::<DomException>().map(|e| e.name()) {
            Some(name) if name == "NoModificationAllowedError" => OpfsError::Locked(what.to_string()),
            Some(name) if name == "QuotaExceededError" => OpfsError::QuotaExceeded(describe(&value)),
            _ => OpfsError::Failed(format!("{what}: {}", describe(&value))),
        }
    }

    pub(super) fn is_not_found(value: &JsValue) -> bool {
        value.dyn_ref::<DomException>().is_some_and(|e| e.name() == "NotFoundError")
    }
}
