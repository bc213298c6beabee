//! The browser's document store: virtual-buffer documents kept in IndexedDB as blocks plus one
//! metadata record each.
//!
//! Database `omnibuf` (version 1) has two object stores:
//! - `documents`: one [`DocumentMeta`] per document, keyed by its name;
//! - `blocks`: the bytes of each block, keyed by `[name, id]`.
//!
//! A version of a document is its metadata record: the block table (ids and lengths, in order), the
//! next free block id and a generation number. Blocks are never changed once written. A save writes
//! the blocks it needs under fresh ids and then, in **one** transaction, the last of them and the new
//! metadata record, so the stored document is the old or the new version whatever happens (a crash, a
//! closed tab, a full quota): IndexedDB commits a transaction whole or not at all. Blocks the new
//! version no longer uses are listed as garbage in it and deleted by [`collect_garbage`] once no
//! buffer of the origin reads a version that may use them ([`VersionInUse`]), together with blocks
//! left by a save or import that never committed (their ids are at or past the record's next id).
//! Deleting a document that buffers still read leaves a tombstone record in its place (see
//! [`DocumentMeta::deleted`]), which holds those blocks as garbage.
//!
//! Writers of one document take turns: an import, save, delete or garbage collection holds the
//! document's [`DocumentLock`] from reading the record to its commit, and every function here that
//! changes a document takes that lock. So the record a writer read stays the stored one until it
//! commits (in contexts with Web Locks), the fresh ids it picks past the record's next id are its
//! own, and the blocks past the next id that a garbage collection finds belong to no live writer.
//!
//! Transactions commit on their own when control returns to the event loop with nothing pending, so
//! nothing here awaits anything but the transaction's own requests while it is open; file reads and
//! other work happen between transactions.

use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use std::ops::Range;

use js_sys::{Array, Float64Array, Function, Object, Promise, Reflect, Uint32Array, Uint8Array};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;
use web_sys::{
    DomException, Event, IdbDatabase, IdbFactory, IdbKeyRange, IdbObjectStore, IdbOpenDbRequest, IdbRequest,
    IdbTransaction, IdbTransactionMode,
};

use super::web_lock::{held_names, SharedWebLock, WebLock};
use crate::platform::persistence::{BlockLayer, BlockTable, PersistenceError};
use crate::{BufferKind, ZeroCopyBuffer};

const DATABASE: &str = "omnibuf";
const VERSION: u32 = 1;
const DOCUMENTS: &str = "documents";
const BLOCKS: &str = "blocks";
/// The layout of a metadata record; a record of another format is refused, not misread.
const FORMAT: f64 = 1.0;
/// The largest integer a JS number holds exactly (2^53 - 1): ids and counts stay at or below it.
const MAX_SAFE_INTEGER: f64 = 9_007_199_254_740_991.0;

/// What can go wrong with the document store (public as `vbuf::StoreError`).
///
/// ```no_run
/// # async fn demo() {
/// use omnibuf::vbuf::{StoreError, StoredBuffer, StoredError};
///
/// if let Err(StoredError::Store(StoreError::QuotaExceeded(_))) = StoredBuffer::delete("old").await {
///     // The origin's storage is full.
/// }
/// # }
/// ```
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    /// There is no `indexedDB` in this context (an old browser, a sandboxed frame, Node without a polyfill).
    #[error("IndexedDB is not available here")]
    Unavailable,
    /// Another tab or worker holds the database open at an older version and does not close it.
    #[error(
        "the omnibuf database is blocked by another tab or worker that has it open; close it and try again"
    )]
    Blocked,
    /// The browser refused to store more.
    #[error("the storage quota is exhausted: {0}; nothing was changed")]
    QuotaExceeded(String),
    /// No document of that name.
    #[error("there is no document named {0:?}")]
    NotFound(String),
    /// The stored document changed since this buffer opened or last saved it.
    #[error("document {name:?} was changed in storage since it was opened (by another tab?); save with force to overwrite it")]
    Changed {
        /// The document.
        name: String,
    },
    /// The transaction was aborted before it committed (explicitly, or by the browser).
    #[error("the transaction was aborted: {0}; the stored document is unchanged")]
    Aborted(String),
    /// The `File` or `Blob` being imported could not be read (a file the user picked that was
    /// changed or deleted since): no failure of the store, which is unchanged.
    #[error("the File or Blob to import could not be read, so nothing was imported: {0}")]
    SourceUnreadable(String),
    /// Any other failure of IndexedDB.
    #[error("IndexedDB failed: {0}")]
    Failed(String),
    /// The stored content is inconsistent, or a read needed bytes that are not there.
    #[error(transparent)]
    Persistence(#[from] PersistenceError),
    /// The module's memory cannot grow to hold a block being loaded (a read of a range about as large
    /// as the memory left needs all its blocks at once): read the range in parts.
    #[error("cannot allocate {bytes} bytes for a block loaded from IndexedDB")]
    OutOfMemory {
        /// The block's size.
        bytes: u64,
    },
}

impl StoreError {
    fn from_dom(error: Option<DomException>, what: &str) -> StoreError {
        match error {
            // (Chromium's message for a transaction over the quota is empty: the call names itself.)
            Some(e) if e.name() == "QuotaExceededError" => StoreError::QuotaExceeded(match e.message() {
                message if message.is_empty() => what.to_string(),
                message => format!("{what}: {message}"),
            }),
            Some(e) if e.name() == "AbortError" => StoreError::Aborted(format!("{what}: {}", e.message())),
            Some(e) => StoreError::Failed(format!("{what}: {}: {}", e.name(), e.message())),
            None => StoreError::Aborted(what.to_string()),
        }
    }

    fn from_js(value: JsValue, what: &str) -> StoreError {
        match value.dyn_into::<DomException>() {
            Ok(e) => StoreError::from_dom(Some(e), what),
            Err(other) => StoreError::Failed(format!(
                "{what}: {}",
                other
                    .dyn_ref::<js_sys::Error>()
                    .map(|e| String::from(e.message()))
                    .or_else(|| other.as_string())
                    .unwrap_or_else(|| format!("{other:?}"))
            )),
        }
    }
}

/// The metadata record of one version of a document.
///
/// ```no_run
/// # async fn demo() -> Result<(), omnibuf::vbuf::StoreError> {
/// use omnibuf::testing::indexed_db;
///
/// if let Some(meta) = indexed_db::read_meta("notes.txt").await? {
///     assert_eq!(meta.name, "notes.txt");
///     assert!(meta.table.ids().iter().all(|&id| id < meta.next_id)); // committed blocks only
/// }
/// # Ok(()) }
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct DocumentMeta {
    /// The document's name.
    pub name: String,
    /// Its blocks, in order.
    pub table: BlockTable,
    /// The size of the blocks an import writes (later blocks are at most this long).
    pub block_size: u32,
    /// The id the next new block gets; blocks at or past it belong to no committed version.
    pub next_id: u64,
    /// Counts the versions: every import or save of the document adds one.
    pub generation: u64,
    /// Drawn at random when the document is created (stored under a name that has none) and kept by
    /// its later versions. A document deleted and created again under the same name has another,
    /// so its generations and block ids, which start again, are not taken for the old one's.
    pub lineage: u64,
    /// A tombstone: the document was deleted while buffers still read some of its blocks. It has no
    /// blocks of its own and is no document to reads, lists and opens; it keeps the next id, so
    /// that no id is used twice under the name, and the blocks still read, as garbage.
    pub deleted: bool,
    /// Blocks of earlier versions that this one no longer uses, to be deleted once no buffer reads
    /// a version that may use them.
    pub garbage: Vec<GarbageBlock>,
}

/// A fresh [`DocumentMeta::lineage`]: a random integer below 2^53, so that JS holds it exactly.
pub fn new_lineage() -> u64 {
    (js_sys::Math::random() * MAX_SAFE_INTEGER) as u64
}

/// A block of earlier versions of a document that its current version no longer uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GarbageBlock {
    /// The block's id.
    pub id: u64,
    /// The generation of the first version without it: only versions before it may use it.
    pub dropped_at: u64,
}

impl DocumentMeta {
    /// Whether `self` and `other` are the same version of the same document (not just of the same
    /// name).
    pub fn same_version(&self, other: &DocumentMeta) -> bool {
        (self.lineage, self.generation) == (other.lineage, other.generation)
    }

    /// The record a `get` of the documents store gave: `None` for no record.
    fn from_stored(record: &JsValue) -> Result<Option<DocumentMeta>, StoreError> {
        if record.is_undefined() {
            return Ok(None);
        }
        DocumentMeta::from_js(record).map(Some)
    }

    fn to_js(&self) -> JsValue {
        let record = Object::new();
        let set = |key: &str, value: JsValue| {
            Reflect::set(&record, &key.into(), &value).expect("setting a property of a plain object");
        };
        let ids: Vec<f64> = self.table.ids().iter().map(|&id| id as f64).collect();
        let garbage: Vec<f64> = self.garbage.iter().map(|g| g.id as f64).collect();
        let dropped_at: Vec<f64> = self.garbage.iter().map(|g| g.dropped_at as f64).collect();
        set("format", FORMAT.into());
        set("name", self.name.as_str().into());
        set("length", (self.table.len() as f64).into());
        set("blockSize", self.block_size.into());
        set("ids", Float64Array::from(&ids[..]).into());
        set("lens", Uint32Array::from(self.table.lens()).into());
        set("nextId", (self.next_id as f64).into());
        set("generation", (self.generation as f64).into());
        set("lineage", (self.lineage as f64).into());
        set("deleted", self.deleted.into());
        set("garbage", Float64Array::from(&garbage[..]).into());
        set("garbageDroppedAt", Float64Array::from(&dropped_at[..]).into());
        record.into()
    }

    fn from_js(record: &JsValue) -> Result<DocumentMeta, StoreError> {
        let corrupt = |what: &str| StoreError::Persistence(PersistenceError::Corrupt(what.to_string()));
        let get = |key: &str| Reflect::get(record, &key.into()).unwrap_or(JsValue::UNDEFINED);
        let number = |key: &str| get(key).as_f64().ok_or_else(|| corrupt(&format!("metadata without {key}")));
        // Records are data another tab, an older version or a user's devtools may have written:
        // every number is checked to be what it stands for instead of cast as it comes.
        let count = |value: f64, what: &str| {
            (value.is_finite() && value >= 0.0 && value.fract() == 0.0 && value <= MAX_SAFE_INTEGER)
                .then_some(value as u64)
                .ok_or_else(|| corrupt(&format!("metadata whose {what} is {value}, not a count")))
        };
        let integer = |key: &str| count(number(key)?, key);
        if number("format")? != FORMAT {
            return Err(corrupt("metadata of an unknown format"));
        }
        let ids = get("ids").dyn_into::<Float64Array>().map_err(|_| corrupt("metadata without block ids"))?;
        let lens =
            get("lens").dyn_into::<Uint32Array>().map_err(|_| corrupt("metadata without block lengths"))?;
        let garbage =
            get("garbage").dyn_into::<Float64Array>().map_err(|_| corrupt("metadata without garbage"))?;
        let counts = |array: Float64Array, what: &str| -> Result<Vec<u64>, StoreError> {
            array.to_vec().into_iter().map(|value| count(value, what)).collect()
        };
        let ids = counts(ids, "block id")?;
        let generation = integer("generation")?;
        let garbage_ids = counts(garbage, "garbage id")?;
        // Records written before versions in use were tracked lack it: their garbage counts as
        // dropped by the current version, the latest it can have been.
        let dropped_at = match get("garbageDroppedAt") {
            missing if missing.is_undefined() => vec![generation; garbage_ids.len()],
            array => counts(
                array
                    .dyn_into()
                    .map_err(|_| corrupt("metadata whose garbage generations are not numbers"))?,
                "garbage generation",
            )?,
        };
        if dropped_at.len() != garbage_ids.len() {
            return Err(corrupt("metadata whose garbage ids and generations differ in number"));
        }
        let table = BlockTable::new(ids, lens.to_vec())?;
        let block_size = u32::try_from(integer("blockSize")?)
            .ok()
            .filter(|&size| size > 0)
            .ok_or_else(|| corrupt("metadata whose block size is not in 1..2^32"))?;
        let meta = DocumentMeta {
            name: get("name").as_string().ok_or_else(|| corrupt("metadata without a name"))?,
            block_size,
            next_id: integer("nextId")?,
            generation,
            // Records written before lineages were kept have none: they count as one lineage.
            lineage: match get("lineage") {
                missing if missing.is_undefined() => 0,
                _ => integer("lineage")?,
            },
            deleted: get("deleted").as_bool().unwrap_or(false),
            garbage: garbage_ids
                .into_iter()
                .zip(dropped_at)
                .map(|(id, dropped_at)| GarbageBlock { id, dropped_at })
                .collect(),
            table,
        };
        if integer("length")? != meta.table.len() {
            return Err(corrupt("metadata whose length is not the sum of its blocks"));
        }
        Ok(meta)
    }
}

thread_local! {
    /// The open connection, shared by every call on this thread (a page or a worker).
    static DATABASE_CONNECTION: RefCell<Option<IdbDatabase>> = const { RefCell::new(None) };
    /// The generations of each document that buffers of this thread read (see [`VersionInUse`]).
    static VERSIONS_IN_USE: RefCell<HashMap<String, Vec<u64>>> = RefCell::new(HashMap::new());
    /// Write transactions to let through before one fails as if the quota were exhausted (tests).
    static QUOTA_FAULT: Cell<Option<usize>> = const { Cell::new(None) };
}

/// The right to write document `name`: held by one writer at a time in the whole origin (every tab
/// and worker, where the browser has Web Locks; see `web_lock`). The functions that change the store
/// take it, so that no two writers pick the same fresh block ids, and a garbage collection never
/// deletes the blocks a save is still writing.
pub struct DocumentLock {
    name: String,
    _lock: WebLock,
}

impl DocumentLock {
    /// Waits for the lock of document `name` (the Web Lock `omnibuf:indexeddb:<name>`).
    pub async fn acquire(name: &str) -> DocumentLock {
        let lock = WebLock::acquire(&format!("indexeddb:{name}")).await;
        DocumentLock { name: name.to_string(), _lock: lock }
    }

    /// The document it is the lock of.
    pub fn name(&self) -> &str {
        &self.name
    }
}

/// A mark that a buffer reads version `generation` of a document, held as long as it lives: a garbage
/// collection, on this thread or in another tab, leaves the blocks that version may use. Where there
/// are Web Locks it is the shared lock `omnibuf:indexeddb-version:<name>#<generation>`.
///
/// Marked only for a version that is current when its mark is in place (checked after marking: see
/// `StoredBuffer::open`), or that its marker just committed under the document's lock, so that a
/// garbage collection, which runs under that lock, never misses a mark that could still matter.
#[derive(Debug)]
pub struct VersionInUse {
    name: String,
    generation: u64,
    _shared: Option<SharedWebLock>,
}

impl VersionInUse {
    /// Marks version `generation` of document `name` as in use.
    pub async fn mark(name: &str, generation: u64) -> VersionInUse {
        VERSIONS_IN_USE.with(|v| v.borrow_mut().entry(name.to_string()).or_default().push(generation));
        // Made first, so that a wait given up takes the mark of this thread back.
        let mut mark = VersionInUse { name: name.to_string(), generation, _shared: None };
        mark._shared = Some(SharedWebLock::acquire(&format!("{VERSION_LOCK}{name}#{generation}")).await);
        mark
    }
}

impl Drop for VersionInUse {
    fn drop(&mut self) {
        let last_here = VERSIONS_IN_USE.with(|v| {
            let mut versions = v.borrow_mut();
            let Some(in_use) = versions.get_mut(&self.name) else { return false };
            if let Some(at) = in_use.iter().position(|&g| g == self.generation) {
                in_use.swap_remove(at);
            }
            let last = in_use.is_empty();
            if last {
                versions.remove(&self.name);
            }
            last
        });
        let let_go = self._shared.take().and_then(SharedWebLock::release);
        if last_here {
            // The last reader here of a deleted document may have been the one keeping its blocks.
            wasm_bindgen_futures::spawn_local(collect_if_deleted(self.name.clone(), let_go));
        }
    }
}

/// Collects the garbage of document `name` if it is a tombstone, once `let_go` (a version lock let
/// go of) has settled.
async fn collect_if_deleted(name: String, let_go: Option<Promise>) {
    if let Some(let_go) = let_go {
        let _ = JsFuture::from(let_go).await;
    }
    if let Ok(Some(record)) = read_any_record(&name).await {
        if record.deleted {
            let _ = collect_garbage(&DocumentLock::acquire(&name).await).await;
        }
    }
}

/// Names of the shared locks that mark versions in use start with it (after `omnibuf:`).
const VERSION_LOCK: &str = "indexeddb-version:";

/// The oldest generation of document `name` that a buffer of this origin reads, if any does.
async fn oldest_version_in_use(name: &str) -> Option<u64> {
    let here = VERSIONS_IN_USE.with(|v| v.borrow().get(name).and_then(|g| g.iter().copied().min()));
    let elsewhere = held_names(VERSION_LOCK).await.into_iter().filter_map(|lock| {
        let (document, generation) = lock.strip_prefix(VERSION_LOCK)?.rsplit_once('#')?;
        (document == name).then(|| generation.parse::<u64>().ok()).flatten()
    });
    here.into_iter().chain(elsewhere).min()
}

/// Makes the write transaction after the next `after` ones (of `write_blocks` and `commit`, on
/// this thread) fail as an exhausted quota does: its writes are issued, then the transaction aborts
/// and the call returns [`StoreError::QuotaExceeded`]. `None` clears it. For tests: a real quota
/// cannot be made small in a test browser.
#[cfg(feature = "testing")]
///
/// ```no_run
/// # async fn demo() {
/// use omnibuf::testing::indexed_db::{self, StoreError};
/// use omnibuf::vbuf::{ImportSource, StoredBuffer, StoredError};
///
/// indexed_db::inject_quota_fault(Some(0)); // the next write fails
/// let result = StoredBuffer::import("big.log", ImportSource::Bytes(b"data"), 64 << 10).await;
/// assert!(matches!(result, Err(StoredError::Store(StoreError::QuotaExceeded(_)))));
/// indexed_db::inject_quota_fault(None);
/// # }
/// ```
pub fn inject_quota_fault(after: Option<usize>) {
    QUOTA_FAULT.with(|f| f.set(after));
}

/// Whether the write transaction starting now is the one [`inject_quota_fault`] chose.
fn quota_fault_now() -> bool {
    QUOTA_FAULT.with(|f| match f.get() {
        Some(0) => {
            f.set(None);
            true
        }
        Some(n) => {
            f.set(Some(n - 1));
            false
        }
        None => false,
    })
}

/// Aborts `tx` as the quota would, waits for the abort, and returns the quota's error.
async fn fail_as_quota(tx: &IdbTransaction, what: &str) -> Result<(), StoreError> {
    tx.abort().map_err(js_failure("aborting a transaction"))?;
    let _aborted = committed(tx, what).await;
    Err(StoreError::QuotaExceeded(format!("{what}: injected fault")))
}

fn factory() -> Result<IdbFactory, StoreError> {
    let value = Reflect::get(&js_sys::global(), &"indexedDB".into()).map_err(|_| StoreError::Unavailable)?;
    if value.is_undefined() || value.is_null() {
        return Err(StoreError::Unavailable);
    }
    Ok(value.unchecked_into())
}

/// Runs `install(resolve, reject)` to set event handlers and waits until one of them is called. The
/// handlers (closures) live until then and are dropped after.
async fn until_settled(
    install: impl FnOnce(&Function, &Function) -> Vec<Closure<dyn FnMut(Event)>>,
) -> Result<JsValue, JsValue> {
    let mut handlers = Vec::new();
    let mut install = Some(install);
    let promise = Promise::new(&mut |resolve, reject| {
        if let Some(install) = install.take() {
            handlers = install(&resolve, &reject);
        }
    });
    let outcome = JsFuture::from(promise).await;
    drop(handlers);
    outcome
}

fn handler(f: impl FnMut(Event) + 'static) -> Closure<dyn FnMut(Event)> {
    Closure::new(f)
}

/// Waits until one of two event handlers is called: `true` for the first (success), `false` for the
/// second (failure), or for the browser closing `db`, the connection the events come through. The
/// browser closes it when the site's data is cleared, and a transaction under way then may fire
/// neither its `complete` nor its `abort` (Chromium): without the `close` event the wait would never
/// end, and the document's lock would stay held. `set_ok` and `set_fail` install a handler (and
/// remove it, given `None`).
async fn first_of(
    set_ok: impl Fn(Option<&Function>),
    set_fail: impl Fn(Option<&Function>),
    db: Option<&IdbDatabase>,
) -> bool {
    if db.is_some_and(closed_by_browser) {
        return false;
    }
    // The failure handler, also listening for `close`: removed after, as the closure it calls goes.
    let mut listening: Option<Function> = None;
    let outcome = until_settled(|resolve, reject| {
        let (resolve, reject) = (resolve.clone(), reject.clone());
        let ok = handler(move |_| drop(resolve.call0(&JsValue::UNDEFINED)));
        let fail = handler(move |_| drop(reject.call0(&JsValue::UNDEFINED)));
        set_ok(Some(ok.as_ref().unchecked_ref()));
        set_fail(Some(fail.as_ref().unchecked_ref()));
        if let Some(db) = db {
            let function: &Function = fail.as_ref().unchecked_ref();
            // Adding a listener to a connection cannot fail.
            let _ = db.add_event_listener_with_callback("close", function);
            listening = Some(function.clone());
        }
        vec![ok, fail]
    })
    .await;
    set_ok(None);
    set_fail(None);
    if let (Some(db), Some(function)) = (db, listening) {
        let _ = db.remove_event_listener_with_callback("close", &function);
    }
    outcome.is_ok()
}

/// The property `database()` sets on a connection once the browser has closed it.
const CLOSED: &str = "omnibufClosedByBrowser";

/// Whether the browser closed `db` (its `close` event came: see `database()`).
fn closed_by_browser(db: &IdbDatabase) -> bool {
    Reflect::get(db, &CLOSED.into()).is_ok_and(|closed| closed.is_truthy())
}

/// The error of a failed wait for `what` on connection `db`: the transaction's or request's `error`,
/// or, where it has none and the browser closed the connection, that. (An explicit abort has none
/// either.)
fn failure(error: Option<DomException>, db: Option<&IdbDatabase>, what: &str) -> StoreError {
    if error.is_none() && db.is_some_and(closed_by_browser) {
        StoreError::Failed(format!(
            "{what}: the browser closed the database connection (the site's data was cleared?)"
        ))
    } else {
        StoreError::from_dom(error, what)
    }
}

/// Waits for a transaction to commit; an abort (explicit, by an error, or by the quota) is an error,
/// and so is the connection closed by the browser before either came.
async fn committed(tx: &IdbTransaction, what: &str) -> Result<(), StoreError> {
    if first_of(|f| tx.set_oncomplete(f), |f| tx.set_onabort(f), Some(&tx.db())).await {
        Ok(())
    } else {
        Err(failure(tx.error(), Some(&tx.db()), what))
    }
}

/// Waits for one request inside an open transaction and returns its result; the connection closed
/// by the browser first is an error. The continuation runs in the success event's microtasks, while
/// the transaction is still active, so more requests may follow.
async fn request(request: &IdbRequest, what: &str) -> Result<JsValue, StoreError> {
    let db = request.transaction().map(|tx| tx.db());
    if first_of(|f| request.set_onsuccess(f), |f| request.set_onerror(f), db.as_ref()).await {
        request.result().map_err(|e| StoreError::from_js(e, what))
    } else {
        Err(failure(request.error().ok().flatten(), db.as_ref(), what))
    }
}

/// The database connection, opened (and on first use created) once per thread.
async fn database() -> Result<IdbDatabase, StoreError> {
    if let Some(db) = DATABASE_CONNECTION.with(|c| c.borrow().clone()) {
        return Ok(db);
    }
    let open: IdbOpenDbRequest = factory()?
        .open_with_u32(DATABASE, VERSION)
        .map_err(|e| StoreError::from_js(e, "opening the database"))?;
    let outcome = until_settled(|resolve, reject| {
        let (resolve, reject, blocked_reject) = (resolve.clone(), reject.clone(), reject.clone());
        let success = handler(move |_| drop(resolve.call0(&JsValue::UNDEFINED)));
        let failure = handler(move |_| drop(reject.call1(&JsValue::UNDEFINED, &"failed".into())));
        let blocked = handler(move |_| drop(blocked_reject.call1(&JsValue::UNDEFINED, &"blocked".into())));
        let request = open.clone();
        let upgrade = handler(move |_| {
            // Creating the stores can only fail if they exist, which the check rules out.
            let Ok(db) = request.result() else { return };
            let db: IdbDatabase = db.unchecked_into();
            let names = db.object_store_names();
            for store in [DOCUMENTS, BLOCKS] {
                if !names.contains(store) {
                    let _ = db.create_object_store(store);
                }
            }
        });
        open.set_onsuccess(Some(success.as_ref().unchecked_ref()));
        open.set_onerror(Some(failure.as_ref().unchecked_ref()));
        open.set_onblocked(Some(blocked.as_ref().unchecked_ref()));
        open.set_onupgradeneeded(Some(upgrade.as_ref().unchecked_ref()));
        vec![success, failure, blocked, upgrade]
    })
    .await;
    open.set_onsuccess(None);
    open.set_onerror(None);
    open.set_onblocked(None);
    open.set_onupgradeneeded(None);
    if let Err(reason) = outcome {
        return Err(if reason.as_string().as_deref() == Some("blocked") {
            StoreError::Blocked
        } else {
            StoreError::from_dom(open.error().ok().flatten(), "opening the database")
        });
    }
    let db: IdbDatabase =
        open.result().map_err(|e| StoreError::from_js(e, "opening the database"))?.unchecked_into();
    // A newer version elsewhere (another tab upgrading) must not be blocked by this connection: close
    // it; the next call opens a new one. The browser closes it itself when the site's data is cleared
    // while the page is open: the next call opens a new one then too.
    let on_version_change = {
        let db = db.clone();
        Closure::<dyn FnMut(Event)>::new(move |_| {
            db.close();
            forget_connection(&db);
        })
    };
    let on_close = {
        let db = db.clone();
        Closure::<dyn FnMut(Event)>::new(move |_| {
            // Setting a property of a connection object cannot fail.
            let _ = Reflect::set(&db, &CLOSED.into(), &JsValue::TRUE);
            forget_connection(&db);
        })
    };
    db.set_onversionchange(Some(on_version_change.as_ref().unchecked_ref()));
    db.set_onclose(Some(on_close.as_ref().unchecked_ref()));
    // They live as long as the connection, which lives as long as the thread.
    on_version_change.forget();
    on_close.forget();
    DATABASE_CONNECTION.with(|c| *c.borrow_mut() = Some(db.clone()));
    Ok(db)
}

/// Lets go of `db` if it is the connection calls use, so that the next call opens a new one.
fn forget_connection(db: &IdbDatabase) {
    DATABASE_CONNECTION.with(|c| {
        let mut cached = c.borrow_mut();
        if cached.as_ref().is_some_and(|cached| JsValue::from(cached) == JsValue::from(db)) {
            cached.take();
        }
    });
}

/// A transaction over `stores` on the connection. A connection the browser closed whose `close`
/// event has not come yet refuses with an `InvalidStateError`: then it is let go of and the
/// transaction starts on a new one.
async fn transaction(stores: &[&str], write: bool) -> Result<IdbTransaction, StoreError> {
    let names: Array = stores.iter().map(|s| JsValue::from_str(s)).collect();
    let mode = if write { IdbTransactionMode::Readwrite } else { IdbTransactionMode::Readonly };
    let db = database().await?;
    match db.transaction_with_str_sequence_and_mode(&names, mode) {
        Err(e) if e.dyn_ref::<DomException>().is_some_and(|e| e.name() == "InvalidStateError") => {
            forget_connection(&db);
            database().await?.transaction_with_str_sequence_and_mode(&names, mode)
        }
        started => started,
    }
    .map_err(|e| StoreError::from_js(e, "starting a transaction"))
}

fn store(tx: &IdbTransaction, name: &str) -> Result<IdbObjectStore, StoreError> {
    tx.object_store(name).map_err(|e| StoreError::from_js(e, "opening an object store"))
}

fn block_key(name: &str, id: u64) -> JsValue {
    Array::of2(&name.into(), &(id as f64).into()).into()
}

/// Keys of the blocks of `name` with ids `from` and up.
fn blocks_from(name: &str, from: u64) -> Result<JsValue, StoreError> {
    let upper = Array::of2(&name.into(), &f64::INFINITY.into());
    IdbKeyRange::bound(&block_key(name, from), &upper)
        .map(JsValue::from)
        .map_err(|e| StoreError::from_js(e, "a key range"))
}

fn js_failure(what: &'static str) -> impl Fn(JsValue) -> StoreError {
    move |e| StoreError::from_js(e, what)
}

/// The metadata of `name`, or `None` if there is no such document.
///
/// ```no_run
/// # async fn demo() -> Result<(), omnibuf::vbuf::StoreError> {
/// use omnibuf::testing::indexed_db;
///
/// assert!(indexed_db::read_meta("never stored").await?.is_none());
/// # Ok(()) }
/// ```
pub async fn read_meta(name: &str) -> Result<Option<DocumentMeta>, StoreError> {
    Ok(read_any_record(name).await?.filter(|meta| !meta.deleted))
}

/// The record of the document, a tombstone included: what a writer replaces.
pub async fn read_record(lock: &DocumentLock) -> Result<Option<DocumentMeta>, StoreError> {
    read_any_record(lock.name()).await
}

async fn read_any_record(name: &str) -> Result<Option<DocumentMeta>, StoreError> {
    let tx = transaction(&[DOCUMENTS], false).await?;
    DocumentMeta::from_stored(&stored_record(&store(&tx, DOCUMENTS)?, name).await?)
}

/// The record of `name` in `documents` as stored (`undefined` for none), read in its transaction.
async fn stored_record(documents: &IdbObjectStore, name: &str) -> Result<JsValue, StoreError> {
    let get = documents.get(&name.into()).map_err(js_failure("reading metadata"))?;
    request(&get, "reading metadata").await
}

/// Every document's name and length, by name.
pub async fn list() -> Result<Vec<(String, u64)>, StoreError> {
    let tx = transaction(&[DOCUMENTS], false).await?;
    let all = store(&tx, DOCUMENTS)?.get_all().map_err(js_failure("listing documents"))?;
    let records: Array = request(&all, "listing documents").await?.unchecked_into();
    let mut documents = Vec::new();
    for record in records.iter() {
        let meta = DocumentMeta::from_js(&record)?;
        if !meta.deleted {
            documents.push((meta.name, meta.table.len()));
        }
    }
    Ok(documents)
}

/// Loads blocks `indices` of `layer` (a version of `name`) into it, in one transaction. The caller
/// pins what it needs ([`BlockLayer::pin`]) first: making room evicts only blocks nobody pinned.
pub async fn load_blocks(name: &str, layer: &BlockLayer, indices: &[usize]) -> Result<(), StoreError> {
    if indices.is_empty() {
        return Ok(());
    }
    let table = layer.table();
    let incoming = indices.iter().map(|&i| table.lens()[i] as usize).sum();
    layer.make_room(incoming);
    let blocks = read_blocks(name, indices.iter().map(|&i| table.ids()[i])).await?;
    for (&index, bytes) in indices.iter().zip(blocks) {
        layer.insert_loaded(index, bytes)?;
    }
    Ok(())
}

/// The bytes of blocks `ids` of `name`, in one transaction.
///
/// ```no_run
/// # async fn demo() -> Result<(), omnibuf::vbuf::StoreError> {
/// use omnibuf::testing::indexed_db;
///
/// let meta = indexed_db::read_meta("notes.txt").await?.expect("stored");
/// let blocks = indexed_db::read_blocks("notes.txt", meta.table.ids().iter().copied()).await?;
/// let stored: usize = blocks.iter().map(|b| b.len()).sum();
/// assert_eq!(stored as u64, meta.table.len());
/// # Ok(()) }
/// ```
pub async fn read_blocks(
    name: &str,
    ids: impl Iterator<Item = u64>,
) -> Result<Vec<ZeroCopyBuffer>, StoreError> {
    let tx = transaction(&[BLOCKS], false).await?;
    let blocks = store(&tx, BLOCKS)?;
    let mut requests = Vec::new();
    for id in ids {
        requests.push((id, blocks.get(&block_key(name, id)).map_err(js_failure("reading a block"))?));
    }
    committed(&tx, "reading blocks").await?;
    requests
        .into_iter()
        .map(|(id, get)| {
            let value = get.result().map_err(js_failure("reading a block"))?;
            let bytes = value.dyn_into::<Uint8Array>().map_err(|_| {
                PersistenceError::Corrupt(format!("block {id} of document {name:?} is missing"))
            })?;
            Ok(ZeroCopyBuffer::from_bytes(copy_in(&bytes)?, BufferKind::raw()))
        })
        .collect()
}

/// A copy of `bytes` in the module's memory, or [`StoreError::OutOfMemory`]: `to_vec()` would abort
/// the module (every object on the page with it) when the memory cannot grow.
fn copy_in(bytes: &Uint8Array) -> Result<Vec<u8>, StoreError> {
    let len = bytes.length() as usize;
    let mut copy = Vec::new();
    copy.try_reserve_exact(len).map_err(|_| StoreError::OutOfMemory { bytes: len as u64 })?;
    bytes.copy_to_uninit(&mut copy.spare_capacity_mut()[..len]);
    // SAFETY: `copy_to_uninit` initialised the first `len` bytes of the spare capacity (it panics
    // when the lengths differ, and they are equal here).
    unsafe { copy.set_len(len) };
    Ok(copy)
}

fn put_blocks(
    blocks: &IdbObjectStore,
    name: &str,
    writes: &[(u64, ZeroCopyBuffer)],
) -> Result<(), StoreError> {
    for (id, bytes) in writes {
        blocks
            .put_with_key(&Uint8Array::from(&bytes[..]), &block_key(name, *id))
            .map_err(js_failure("writing a block"))?;
    }
    Ok(())
}

/// Writes blocks that no committed version uses yet (ids at or past the stored record's next id), in
/// one transaction: the part of a long save or import that comes before its commit.
pub async fn write_blocks(lock: &DocumentLock, writes: &[(u64, ZeroCopyBuffer)]) -> Result<(), StoreError> {
    let name = lock.name();
    if writes.is_empty() {
        return Ok(());
    }
    let tx = transaction(&[BLOCKS], true).await?;
    put_blocks(&store(&tx, BLOCKS)?, name, writes)?;
    if quota_fault_now() {
        return fail_as_quota(&tx, "writing blocks").await;
    }
    committed(&tx, "writing blocks").await
}

/// Deletes the blocks of the document with ids in `ids` that its stored version does not use: the
/// fresh blocks of a save or import that failed before its commit. (Under the lock no other writer
/// can have used them; ids of the stored version stay all the same, should a writer of another
/// context without Web Locks have committed them.)
pub async fn discard_uncommitted(lock: &DocumentLock, ids: Range<u64>) -> Result<(), StoreError> {
    let name = lock.name();
    if ids.is_empty() {
        return Ok(());
    }
    let tx = transaction(&[DOCUMENTS, BLOCKS], true).await?;
    let record = DocumentMeta::from_stored(&stored_record(&store(&tx, DOCUMENTS)?, name).await?)?;
    let mut used: Vec<u64> = record
        .map_or(Vec::new(), |meta| meta.table.ids().iter().copied().filter(|id| ids.contains(id)).collect());
    used.sort_unstable();
    used.dedup();
    let blocks = store(&tx, BLOCKS)?;
    // The runs of `ids` between the used ones, each deleted with one key range.
    let mut from = ids.start;
    for end in used.into_iter().chain([ids.end]) {
        if from < end {
            let range = IdbKeyRange::bound_with_lower_open_and_upper_open(
                &block_key(name, from),
                &block_key(name, end),
                false,
                true,
            )
            .map_err(js_failure("a key range"))?;
            blocks.delete(&range).map_err(js_failure("deleting blocks"))?;
        }
        from = end.saturating_add(1);
    }
    committed(&tx, "deleting the blocks of a failed write").await
}

/// The ids of every block stored for `name`, committed or not, in order. For tests of what failed
/// writes leave.
///
/// ```no_run
/// # async fn demo() -> Result<(), omnibuf::vbuf::StoreError> {
/// use omnibuf::testing::indexed_db;
///
/// let meta = indexed_db::read_meta("notes.txt").await?.expect("stored");
/// let ids = indexed_db::stored_block_ids("notes.txt").await?;
/// assert!(meta.table.ids().iter().all(|id| ids.contains(id))); // and maybe blocks of no version
/// # Ok(()) }
/// ```
#[cfg(feature = "testing")]
pub async fn stored_block_ids(name: &str) -> Result<Vec<u64>, StoreError> {
    let tx = transaction(&[BLOCKS], false).await?;
    let keys = store(&tx, BLOCKS)?
        .get_all_keys_with_key(&blocks_from(name, 0)?)
        .map_err(js_failure("listing blocks"))?;
    let keys: Array = request(&keys, "listing blocks").await?.unchecked_into();
    Ok(keys
        .iter()
        .filter_map(|key| key.dyn_into::<Array>().ok()?.get(1).as_f64())
        .map(|id| id as u64)
        .collect())
}

/// Whether blocks of `name` are stored at or past `next_id`, the next id of its record: blocks of a
/// save or import that never committed (its tab closed, its worker terminated) or of one writing now.
pub async fn has_blocks_from(name: &str, next_id: u64) -> Result<bool, StoreError> {
    let tx = transaction(&[BLOCKS], false).await?;
    let count = store(&tx, BLOCKS)?
        .count_with_key(&blocks_from(name, next_id)?)
        .map_err(js_failure("counting blocks"))?;
    Ok(request(&count, "counting blocks").await?.as_f64().is_some_and(|n| n > 0.0))
}

/// A fault to inject into the store's commit (through
/// [`StoredBuffer::save_with_fault`](crate::vbuf::StoredBuffer::save_with_fault)), for tests of atomicity.
///
/// ```no_run
/// # async fn demo(doc: omnibuf::vbuf::StoredBuffer) {
/// use omnibuf::testing::indexed_db::CommitFault;
///
/// doc.buffer().insert(0, b"x").unwrap();
/// assert!(doc.save_with_fault(CommitFault::AbortBeforeCommit).await.is_err());
/// assert!(doc.buffer().is_modified()); // nothing was committed
/// # }
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum CommitFault {
    /// No fault.
    #[default]
    None,
    /// Abort the transaction after all its writes were issued, before it commits.
    #[cfg_attr(not(feature = "testing"), allow(dead_code))]
    AbortBeforeCommit,
}

/// Makes `meta` the document's current version, writing the last blocks `writes` in the same
/// transaction. With `expected_generation`, refuses with [`StoreError::Changed`] (and writes nothing)
/// unless the stored record is at that generation (or absent when it is `None` inside).
pub async fn commit(
    lock: &DocumentLock,
    meta: &DocumentMeta,
    writes: &[(u64, ZeroCopyBuffer)],
    expected_generation: Option<Option<u64>>,
    fault: CommitFault,
) -> Result<(), StoreError> {
    debug_assert_eq!(lock.name(), meta.name, "the lock of another document");
    let tx = transaction(&[DOCUMENTS, BLOCKS], true).await?;
    let documents = store(&tx, DOCUMENTS)?;
    if let Some(expected) = expected_generation {
        let stored = DocumentMeta::from_stored(&stored_record(&documents, &meta.name).await?)?
            .map(|record| record.generation);
        if stored != expected {
            tx.abort().map_err(js_failure("aborting a transaction"))?;
            return Err(StoreError::Changed { name: meta.name.clone() });
        }
    }
    put_blocks(&store(&tx, BLOCKS)?, &meta.name, writes)?;
    documents
        .put_with_key(&meta.to_js(), &meta.name.as_str().into())
        .map_err(js_failure("writing metadata"))?;
    if quota_fault_now() {
        return fail_as_quota(&tx, &format!("saving {:?}", meta.name)).await;
    }
    if fault == CommitFault::AbortBeforeCommit {
        tx.abort().map_err(js_failure("aborting a transaction"))?;
    }
    committed(&tx, &format!("saving {:?}", meta.name)).await
}

/// Deletes the blocks no version of the document uses: the garbage its record lists that no version
/// in use (see [`VersionInUse`]) may use, and blocks at or past its next id (left by a save or import
/// that never committed: under the lock, none is being written). A tombstone left with no garbage
/// goes too.
pub async fn collect_garbage(lock: &DocumentLock) -> Result<(), StoreError> {
    let name = lock.name();
    // Asked before the transaction, which would commit while this waits. Under the lock no version
    // older than the current one can come into use meanwhile (see `VersionInUse`).
    let oldest_in_use = oldest_version_in_use(name).await;
    let tx = transaction(&[DOCUMENTS, BLOCKS], true).await?;
    let documents = store(&tx, DOCUMENTS)?;
    let record = DocumentMeta::from_stored(&stored_record(&documents, name).await?)?;
    let blocks = store(&tx, BLOCKS)?;
    match record {
        Some(meta) => collect(&documents, &blocks, name, meta, oldest_in_use)?,
        None => {
            blocks.delete(&blocks_from(name, 0)?).map_err(js_failure("deleting blocks"))?;
        }
    }
    committed(&tx, "collecting garbage").await
}

/// Deletes a document, in one transaction: its record and blocks, but for the blocks that buffers
/// still read (see [`VersionInUse`]), which stay under a tombstone until they are collected.
/// Deleting a missing document does nothing; deleting one whose record does not add up deletes it
/// whole.
pub async fn delete_document(lock: &DocumentLock) -> Result<(), StoreError> {
    let name = lock.name();
    let oldest_in_use = oldest_version_in_use(name).await;
    let tx = transaction(&[DOCUMENTS, BLOCKS], true).await?;
    let documents = store(&tx, DOCUMENTS)?;
    let record = stored_record(&documents, name).await?;
    let blocks = store(&tx, BLOCKS)?;
    match DocumentMeta::from_stored(&record) {
        Ok(Some(meta)) => {
            let generation = meta.generation + 1;
            let dropped = meta.table.ids().iter().map(|&id| GarbageBlock { id, dropped_at: generation });
            let tombstone = DocumentMeta {
                table: BlockTable::default(),
                generation,
                deleted: true,
                garbage: meta.garbage.iter().copied().chain(dropped).collect(),
                ..meta
            };
            collect(&documents, &blocks, name, tombstone, oldest_in_use)?;
        }
        // No record, or one that does not add up: nothing to keep.
        Ok(None) | Err(_) => {
            documents.delete(&name.into()).map_err(js_failure("deleting metadata"))?;
            blocks.delete(&blocks_from(name, 0)?).map_err(js_failure("deleting blocks"))?;
        }
    }
    committed(&tx, &format!("deleting {name:?}")).await
}

/// Deletes the blocks of `meta` (the record of document `name`; keys come from `name`, whatever the
/// record says) that no version in use may use (all of its garbage when there is no
/// version in use, `oldest_in_use` being `None`) and those at or past its next id, and writes what is
/// left of the record (nothing, for a tombstone left with no garbage).
fn collect(
    documents: &IdbObjectStore,
    blocks: &IdbObjectStore,
    name: &str,
    mut meta: DocumentMeta,
    oldest_in_use: Option<u64>,
) -> Result<(), StoreError> {
    // A version in use at generation r may use a block dropped at d only if r < d.
    let (free, kept): (Vec<GarbageBlock>, _) = std::mem::take(&mut meta.garbage)
        .into_iter()
        .partition(|g| oldest_in_use.is_none_or(|oldest| g.dropped_at <= oldest));
    meta.garbage = kept;
    for garbage in free {
        blocks.delete(&block_key(name, garbage.id)).map_err(js_failure("deleting a block"))?;
    }
    blocks.delete(&blocks_from(name, meta.next_id)?).map_err(js_failure("deleting blocks"))?;
    if meta.deleted && meta.garbage.is_empty() {
        // Nothing of the document is read any more: every block of the name goes.
        documents.delete(&name.into()).map_err(js_failure("deleting metadata"))?;
        blocks.delete(&blocks_from(name, 0)?).map_err(js_failure("deleting blocks"))?;
    } else {
        documents.put_with_key(&meta.to_js(), &name.into()).map_err(js_failure("writing metadata"))?;
    }
    Ok(())
}
