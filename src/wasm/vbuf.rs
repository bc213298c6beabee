//! `VirtualBuffer` for JS: documents in IndexedDB or, in a dedicated worker, in OPFS (or bytes in
//! memory), edited synchronously, read, searched and saved through Promises.
//!
//! The same class as the Node addon's, where a path names a file; here a name names a document in the
//! origin's IndexedDB or OPFS (`options.store`, see `store`). `import()`, `list()`, `deleteDocument()`
//! and `exportDocument()` manage documents.
//!
//! The Promises that only read (all but the saves and `deleteDocument()`) take the JS layer's ticket
//! as their last argument: aborted before they start, they never run (`work`). An OPFS document's
//! reads are synchronous: their Promise is settled when it is returned, with nothing left to cancel.

use std::ops::Bound;
use std::rc::Rc;

use js_sys::{Array, Object, Promise, Reflect};
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::future_to_promise;

use super::buffer::{bytes_from_js, JsZeroCopyBuffer};
use super::error::{choice_option, error, offset, option, path, throwable, type_error, value};
use super::store::{opfs_error, store_option, OpfsDoc, Store};
use super::work;
use crate::binding::{self, message, BindingError};
use crate::platform::wasm::indexed_db::StoreError;
use crate::platform::wasm::opfs::{self, OpfsBuffer};
use crate::vbuf::{ImportSource, StoredBuffer, StoredError, VbufError, VirtualBuffer, VirtualBufferOptions};

fn stored_error(e: StoredError, context: &str) -> JsValue {
    let message = format!("{context}: {e}");
    match e {
        // The caller's mistake: the core's message alone, as the Node addon words it.
        StoredError::Buffer(
            e @ (VbufError::OutOfRange { .. }
            | VbufError::NoSuchLine { .. }
            | VbufError::AllocationFailed { .. }),
        ) => throwable(BindingError::from(e)),
        // A read too large for the memory left: a RangeError, as a copy too large for one allocation.
        StoredError::Store(StoreError::OutOfMemory { .. }) => throwable(BindingError::range_error(message)),
        // Asked of a buffer that has no document yet: a misuse of its state, as a freed one's.
        StoredError::NoDocument => {
            throwable(BindingError::error(message).with_code(binding::ERR_INVALID_STATE))
        }
        StoredError::Store(StoreError::QuotaExceeded(_)) => {
            // A DOMException-like name lets callers tell a full quota from other failures.
            let e = error(message);
            let _ = Reflect::set(&e, &"name".into(), &"QuotaExceededError".into());
            e
        }
        _ => error(message),
    }
}

/// The options of `open()` and `import()`: `{ backend?, store?, blockSize?, cacheBudget?,
/// spillThreshold?, undoLimit? }` (sizes in bytes), `undefined` or `null` for the defaults. Read in
/// that order, the addon's, and checked and worded as it checks them (the binding core's checks and
/// table), so that of two bad options both builds name the same one. `backend` and
/// `spillThreshold` only the addon uses: checked, then ignored.
fn open_options(options: &JsValue) -> Result<(VirtualBufferOptions, Store), JsValue> {
    let mut tuning = VirtualBufferOptions::default();
    if options.is_undefined() || options.is_null() {
        return Ok((tuning, Store::IndexedDb));
    }
    if !options.is_object() {
        return Err(throwable(message::options_not_object(value(options))));
    }
    choice_option(options, "backend", &binding::FILE_BACKENDS)?;
    let store = store_option(options)?;
    let mut spill_threshold = 0;
    for (key, field) in [
        ("blockSize", &mut tuning.block_size),
        ("cacheBudget", &mut tuning.cache_budget),
        ("spillThreshold", &mut spill_threshold),
        ("undoLimit", &mut tuning.undo_limit),
    ] {
        let v = option(options, key)?;
        if v.is_undefined() {
            continue;
        }
        let n = value(&v);
        if !matches!(n, binding::Value::Number(_)) {
            return Err(throwable(message::option_not_number(key, n)));
        }
        // Bounds, as in the addon: above what wasm memory holds they bound nothing more.
        *field = match key {
            "blockSize" => binding::block_size(n, key),
            _ => binding::limit(n, key),
        }
        .map_err(throwable)?;
    }
    Ok((tuning, store))
}

/// Runs `body` with the buffer as a Promise, cancellable before it starts by `ticket`'s id (`work`);
/// a rejection carries `context`.
fn promise<F, Fut>(ticket: &JsValue, buffer: Rc<StoredBuffer>, context: &'static str, body: F) -> Promise
where
    F: FnOnce(Rc<StoredBuffer>) -> Fut + 'static,
    Fut: std::future::Future<Output = Result<JsValue, StoredError>> + 'static,
{
    work::spawn(ticket, async move { body(buffer).await.map_err(|e| stored_error(e, context)) })
}

/// Runs a synchronous read of an OPFS buffer as a settled Promise; a rejection carries `context`.
fn opfs_promise(
    doc: &OpfsDoc,
    context: &'static str,
    body: impl FnOnce(&VirtualBuffer) -> Result<JsValue, VbufError>,
) -> Promise {
    let result = body(&doc.buffer).map_err(|e| opfs_error(e.into(), context));
    match result {
        Ok(v) => Promise::resolve(&v),
        Err(e) => Promise::reject(&e),
    }
}

/// The document a buffer is over.
enum Doc {
    /// IndexedDB, or bytes in memory.
    Stored(Rc<StoredBuffer>),
    /// OPFS (in a dedicated worker).
    Opfs(Rc<OpfsDoc>),
}

/// A buffer over a document in IndexedDB or OPFS (or over bytes in memory) that edits in memory and
/// loads only what it reads.
#[wasm_bindgen(js_name = VirtualBuffer)]
pub struct JsVirtualBuffer {
    inner: Doc,
}

impl JsVirtualBuffer {
    fn buffer(&self) -> &VirtualBuffer {
        match &self.inner {
            Doc::Stored(stored) => stored.buffer(),
            Doc::Opfs(doc) => &doc.buffer,
        }
    }

    /// The range of checked `start` and `end` arguments: `start..end`, or `start..` for an `end`
    /// left out (the length when the work runs, which sees the content as it is then).
    fn range(start: &JsValue, end: &JsValue) -> Result<(Bound<u64>, Bound<u64>), JsValue> {
        let start = offset(start, "start")?;
        let end = if end.is_undefined() || end.is_null() {
            Bound::Unbounded
        } else {
            Bound::Excluded(offset(end, "end")?)
        };
        Ok((Bound::Included(start), end))
    }

    fn edit(&self, result: Result<(), VbufError>, what: &str) -> Result<(), JsValue> {
        result.map_err(|e| stored_error(e.into(), what))
    }

    fn opfs(buffer: OpfsBuffer) -> JsVirtualBuffer {
        JsVirtualBuffer { inner: Doc::Opfs(Rc::new(OpfsDoc::new(buffer))) }
    }

    fn stored(buffer: StoredBuffer) -> JsVirtualBuffer {
        JsVirtualBuffer { inner: Doc::Stored(Rc::new(buffer)) }
    }
}

/// The store of a static call's optional `options` argument.
fn static_store(options: &JsValue) -> Result<Store, JsValue> {
    if !(options.is_undefined() || options.is_null() || options.is_object()) {
        return Err(throwable(message::options_not_object(value(options))));
    }
    store_option(options)
}

#[wasm_bindgen(js_class = VirtualBuffer)]
impl JsVirtualBuffer {
    /// Not public: `open()`, `import()` and `fromBytes()` make them.
    #[wasm_bindgen(constructor)]
    pub fn new() -> Result<JsVirtualBuffer, JsValue> {
        Err(throwable(message::no_constructor("VirtualBuffer")))
    }

    /// Opens the stored document `name`, reading only its metadata; resolves to the buffer. Rejects
    /// with an Error when there is no such document or IndexedDB fails. `ticket`: see `work`.
    pub fn open(name: &JsValue, options: &JsValue, ticket: &JsValue) -> Promise {
        // "path", as the Node addon calls it (js/index.d.ts): in the browser, the document's name.
        let args = path(name, "path").and_then(|name| Ok((name, open_options(options)?)));
        work::spawn(ticket, async move {
            let (name, (tuning, store)) = args?;
            let context = format!("VirtualBuffer.open({name:?})");
            let opened = match store {
                Store::IndexedDb => JsVirtualBuffer::stored(
                    StoredBuffer::open(&name, tuning).await.map_err(|e| stored_error(e, &context))?,
                ),
                Store::Opfs => JsVirtualBuffer::opfs(
                    OpfsBuffer::open(&name, tuning).await.map_err(|e| opfs_error(e, &context))?,
                ),
            };
            Ok(opened.into())
        })
    }

    /// Stores `source` (a `File`, `Blob`, `Uint8Array`, `ArrayBuffer` or string) as document `name`,
    /// replacing one of that name atomically, and resolves to the buffer opened over it. A `File` or
    /// `Blob` is read a batch at a time, never whole. `options.blockSize` sets the block size.
    /// `ticket`: see `work`.
    pub fn import(name: &JsValue, source: &JsValue, options: &JsValue, ticket: &JsValue) -> Promise {
        let args = (|| {
            let name = path(name, "name")?;
            let (tuning, store) = open_options(options)?;
            // A Blob is read in batches. So are bytes and text, as a Blob of them made now (later
            // changes to the array do not count): a copy of all of them in wasm memory would keep
            // wasm memory that large for good.
            let blob = match source.dyn_ref::<web_sys::Blob>() {
                Some(blob) => blob.clone(),
                None if source.is_string() => {
                    web_sys::Blob::new_with_u8_array_sequence(&js_sys::Array::of1(source))?
                }
                None if source.is_instance_of::<js_sys::Uint8Array>() => {
                    let bytes = source.unchecked_ref::<js_sys::Uint8Array>();
                    // A Blob refuses a view of shared memory (a SharedArrayBuffer): a copy of its
                    // bytes as they are now instead.
                    let part: JsValue = if bytes.buffer().is_instance_of::<js_sys::ArrayBuffer>() {
                        bytes.clone().into()
                    } else {
                        bytes.slice(0, bytes.length()).into()
                    };
                    web_sys::Blob::new_with_u8_array_sequence(&js_sys::Array::of1(&part))?
                }
                None => {
                    return Err(type_error(
                        "source must be a File, a Blob, a Uint8Array, an ArrayBuffer or a string",
                    ))
                }
            };
            Ok::<_, JsValue>((name, tuning, store, blob))
        })();
        work::spawn(ticket, async move {
            let (name, tuning, store, blob) = args?;
            let context = format!("VirtualBuffer.import({name:?})");
            let source = ImportSource::Blob(&blob);
            let imported = match store {
                Store::IndexedDb => {
                    StoredBuffer::import(&name, source, tuning.block_size)
                        .await
                        .map_err(|e| stored_error(e, &context))?;
                    let buffer =
                        StoredBuffer::open(&name, tuning).await.map_err(|e| stored_error(e, &context))?;
                    JsVirtualBuffer::stored(buffer)
                }
                Store::Opfs => {
                    opfs::import(&name, source).await.map_err(|e| opfs_error(e, &context))?;
                    let buffer =
                        OpfsBuffer::open(&name, tuning).await.map_err(|e| opfs_error(e, &context))?;
                    JsVirtualBuffer::opfs(buffer)
                }
            };
            Ok(imported.into())
        })
    }

    /// A buffer over a copy of `bytes` (a `Uint8Array`, `ArrayBuffer`, typed array or string), in
    /// memory; `saveAs(name)` stores it.
    #[wasm_bindgen(js_name = fromBytes)]
    pub fn from_bytes(bytes: &JsValue) -> Result<JsVirtualBuffer, JsValue> {
        let (bytes, _) = bytes_from_js(bytes, "bytes")?;
        let buffer = StoredBuffer::from_bytes(bytes, VirtualBufferOptions::default())
            .map_err(|e| stored_error(e, "VirtualBuffer.fromBytes"))?;
        Ok(JsVirtualBuffer::stored(buffer))
    }

    /// The stored documents of `options.store`: a Promise of `[{ name, length }]`, by name.
    /// `ticket`: see `work`.
    pub fn list(options: &JsValue, ticket: &JsValue) -> Promise {
        let store = static_store(options);
        work::spawn(ticket, async move {
            let context = "VirtualBuffer.list";
            let documents = match store? {
                Store::IndexedDb => StoredBuffer::list().await.map_err(|e| stored_error(e, context))?,
                Store::Opfs => opfs::list().await.map_err(|e| opfs_error(e, context))?,
            };
            let out = Array::new();
            for (name, len) in documents {
                let entry = Object::new();
                Reflect::set(&entry, &"name".into(), &name.into())?;
                Reflect::set(&entry, &"length".into(), &(len as f64).into())?;
                out.push(&entry);
            }
            Ok(out.into())
        })
    }

    /// Deletes stored document `name` and all its blocks (nothing happens if there is none).
    #[wasm_bindgen(js_name = deleteDocument)]
    pub fn delete_document(name: &JsValue, options: &JsValue) -> Promise {
        let args = path(name, "name").and_then(|name| Ok((name, static_store(options)?)));
        future_to_promise(async move {
            let (name, store) = args?;
            let context = format!("VirtualBuffer.deleteDocument({name:?})");
            match store {
                Store::IndexedDb => {
                    StoredBuffer::delete(&name).await.map_err(|e| stored_error(e, &context))?
                }
                Store::Opfs => opfs::delete(&name).await.map_err(|e| opfs_error(e, &context))?,
            }
            Ok(JsValue::UNDEFINED)
        })
    }

    /// Stored document `name` as a `Blob`, e.g. for a download. `ticket`: see `work`.
    #[wasm_bindgen(js_name = exportDocument)]
    pub fn export_document(name: &JsValue, options: &JsValue, ticket: &JsValue) -> Promise {
        let args = path(name, "name").and_then(|name| Ok((name, static_store(options)?)));
        work::spawn(ticket, async move {
            let (name, store) = args?;
            let context = format!("VirtualBuffer.exportDocument({name:?})");
            let blob = match store {
                Store::IndexedDb => {
                    StoredBuffer::export(&name).await.map_err(|e| stored_error(e, &context))?
                }
                Store::Opfs => opfs::export(&name).await.map_err(|e| opfs_error(e, &context))?,
            };
            Ok(blob.into())
        })
    }

    /// Length in bytes.
    #[wasm_bindgen(getter)]
    pub fn length(&self) -> f64 {
        self.buffer().len() as f64
    }

    /// Whether the content is not the one opened or last saved (`VirtualBuffer::is_modified`).
    #[wasm_bindgen(getter, js_name = isModified)]
    pub fn is_modified(&self) -> bool {
        self.buffer().is_modified()
    }

    /// The document saves go to, or `null` for a buffer made from bytes and not saved yet (a
    /// `JsValue`: an `Option` would be `undefined`).
    #[wasm_bindgen(getter)]
    pub fn name(&self) -> JsValue {
        let name = match &self.inner {
            Doc::Stored(stored) => stored.name(),
            Doc::Opfs(doc) => Some(doc.name()),
        };
        name.map_or(JsValue::NULL, JsValue::from)
    }

    /// Where the document lives: `"indexeddb"` (also for a buffer made from bytes) or `"opfs"`.
    #[wasm_bindgen(getter)]
    pub fn store(&self) -> String {
        match &self.inner {
            Doc::Stored(_) => "indexeddb".into(),
            Doc::Opfs(_) => "opfs".into(),
        }
    }

    /// Inserts a copy of `bytes` at `offset`.
    pub fn insert(&self, at: &JsValue, bytes: &JsValue) -> Result<(), JsValue> {
        let at = offset(at, "offset")?;
        let (bytes, _) = bytes_from_js(bytes, "bytes")?;
        self.edit(self.buffer().insert(at, &bytes), "VirtualBuffer.insert")
    }

    /// Deletes bytes `start..end`.
    pub fn delete(&self, start: &JsValue, end: &JsValue) -> Result<(), JsValue> {
        let (start, end) = (offset(start, "start")?, offset(end, "end")?);
        self.edit(self.buffer().delete(start..end), "VirtualBuffer.delete")
    }

    /// Replaces bytes `start..end` by a copy of `bytes`, as one undoable edit.
    pub fn replace(&self, start: &JsValue, end: &JsValue, bytes: &JsValue) -> Result<(), JsValue> {
        let (start, end) = (offset(start, "start")?, offset(end, "end")?);
        let (bytes, _) = bytes_from_js(bytes, "bytes")?;
        self.edit(self.buffer().replace(start..end, &bytes), "VirtualBuffer.replace")
    }

    /// Undoes the last edit; false when there is nothing to undo.
    pub fn undo(&self) -> bool {
        self.buffer().undo()
    }

    /// Redoes the last undone edit; false when there is nothing to redo.
    pub fn redo(&self) -> bool {
        self.buffer().redo()
    }

    /// A Promise of bytes `start..end` (`end` left out: the length when the bytes are read), loading
    /// the blocks they need.
    pub fn read(&self, start: &JsValue, end: &JsValue, ticket: &JsValue) -> Result<Promise, JsValue> {
        let range = Self::range(start, end)?;
        let js = |bytes| <JsZeroCopyBuffer as From<crate::ZeroCopyBuffer>>::from(bytes).into();
        Ok(match &self.inner {
            Doc::Stored(stored) => {
                promise(ticket, stored.clone(), "VirtualBuffer.read", move |b| async move {
                    Ok(js(b.read(range).await?))
                })
            }
            Doc::Opfs(doc) => opfs_promise(doc, "VirtualBuffer.read", |b| Ok(js(b.read(range)?))),
        })
    }

    /// OPFS documents, in the dedicated worker that holds them: reads `target.length` bytes from
    /// `start` into `target` at once (no Promise, no object made) and returns how many. The fast path
    /// for many small reads; any other document rejects it with an Error (use `read()`).
    #[wasm_bindgen(js_name = readInto)]
    pub fn read_into(&self, start: &JsValue, target: &JsValue) -> Result<f64, JsValue> {
        let Doc::Opfs(doc) = &self.inner else {
            return Err(throwable(message::read_into_needs_opfs()));
        };
        let start = offset(start, "start")?;
        let Some(target) = target.dyn_ref::<js_sys::Uint8Array>() else {
            return Err(throwable(message::not_instance(
                "VirtualBuffer.readInto",
                "target",
                "Uint8Array",
                value(target),
            )));
        };
        // `read` (not `read_into`): a range inside one piece goes straight to the file, past the
        // block cache (see `PersistenceLayer::reads_directly`).
        let end = start.saturating_add(u64::from(target.length()));
        let bytes =
            doc.buffer.read(start..end).map_err(|e| opfs_error(e.into(), "VirtualBuffer.readInto"))?;
        // Nothing to copy into an empty target: one over a detached buffer (length 0) would have
        // `set` throw, through this call, leaving the buffer borrowed for good (its free() refused,
        // its document's lock held).
        if !bytes.is_empty() {
            target.copy_from(&bytes);
        }
        Ok(bytes.len() as f64)
    }

    /// A Promise of the offset of the first `pattern` wholly inside `start..end` (default: everything),
    /// or `null`.
    pub fn find(
        &self,
        pattern: &JsValue,
        start: &JsValue,
        end: &JsValue,
        ticket: &JsValue,
    ) -> Result<Promise, JsValue> {
        let (pattern, _) = bytes_from_js(pattern, "pattern")?;
        // Optional: `null` is none, as for `end` (and as the addon takes it).
        let start = if start.is_undefined() || start.is_null() { &JsValue::from(0) } else { start };
        let range = Self::range(start, end)?;
        let js = |hit: Option<u64>| hit.map_or(JsValue::NULL, |at| (at as f64).into());
        Ok(match &self.inner {
            Doc::Stored(stored) => {
                promise(ticket, stored.clone(), "VirtualBuffer.find", move |b| async move {
                    Ok(js(b.find(&pattern, range).await?))
                })
            }
            Doc::Opfs(doc) => opfs_promise(doc, "VirtualBuffer.find", |b| Ok(js(b.find(&pattern, range)?))),
        })
    }

    /// A Promise of the number of lines: line feeds plus one.
    #[wasm_bindgen(js_name = lineCount)]
    pub fn line_count(&self, ticket: &JsValue) -> Promise {
        match &self.inner {
            Doc::Stored(stored) => {
                promise(ticket, stored.clone(), "VirtualBuffer.lineCount", |b| async move {
                    Ok((b.line_count().await? as f64).into())
                })
            }
            Doc::Opfs(doc) => {
                opfs_promise(doc, "VirtualBuffer.lineCount", |b| Ok((b.line_count()? as f64).into()))
            }
        }
    }

    /// A Promise of the offset where line `line` (0-based) starts; RangeError past the last line.
    #[wasm_bindgen(js_name = lineToOffset)]
    pub fn line_to_offset(&self, line: &JsValue, ticket: &JsValue) -> Result<Promise, JsValue> {
        let line = offset(line, "line")?;
        Ok(match &self.inner {
            Doc::Stored(stored) => {
                promise(ticket, stored.clone(), "VirtualBuffer.lineToOffset", move |b| async move {
                    Ok((b.line_to_offset(line).await? as f64).into())
                })
            }
            Doc::Opfs(doc) => opfs_promise(doc, "VirtualBuffer.lineToOffset", |b| {
                Ok((b.line_to_offset(line)? as f64).into())
            }),
        })
    }

    /// A Promise of the line (0-based) that holds `offset`.
    #[wasm_bindgen(js_name = offsetToLine)]
    pub fn offset_to_line(&self, at: &JsValue, ticket: &JsValue) -> Result<Promise, JsValue> {
        let at = offset(at, "offset")?;
        Ok(match &self.inner {
            Doc::Stored(stored) => {
                promise(ticket, stored.clone(), "VirtualBuffer.offsetToLine", move |b| async move {
                    Ok((b.offset_to_line(at).await? as f64).into())
                })
            }
            Doc::Opfs(doc) => {
                opfs_promise(doc, "VirtualBuffer.offsetToLine", |b| Ok((b.offset_to_line(at)? as f64).into()))
            }
        })
    }

    /// Saves to the document it came from, atomically; rejects, changing nothing, if the stored
    /// document changed since it was opened or last saved, unless `options.force`.
    pub fn save(&self, options: &JsValue) -> Result<Promise, JsValue> {
        let force = if options.is_undefined() || options.is_null() {
            false
        } else if options.is_object() {
            let force = option(options, "force")?;
            if force.is_undefined() {
                false
            } else {
                force
                    .as_bool()
                    .ok_or_else(|| throwable(message::option_not_boolean("force", value(&force))))?
            }
        } else {
            return Err(throwable(message::options_not_object(value(options))));
        };
        Ok(match &self.inner {
            Doc::Stored(stored) => {
                promise(&JsValue::UNDEFINED, stored.clone(), "VirtualBuffer.save", move |b| async move {
                    b.save(force).await?;
                    Ok(JsValue::UNDEFINED)
                })
            }
            Doc::Opfs(doc) => {
                let doc = doc.clone();
                future_to_promise(async move {
                    doc.save(force, "VirtualBuffer.save").await?;
                    Ok(JsValue::UNDEFINED)
                })
            }
        })
    }

    /// Saves to document `name` (replacing one of that name); later saves go there.
    #[wasm_bindgen(js_name = saveAs)]
    pub fn save_as(&self, name: &JsValue) -> Result<Promise, JsValue> {
        // "path", as for open().
        let name = path(name, "path")?;
        Ok(match &self.inner {
            Doc::Stored(stored) => {
                promise(&JsValue::UNDEFINED, stored.clone(), "VirtualBuffer.saveAs", move |b| async move {
                    b.save_as(&name).await?;
                    Ok(JsValue::UNDEFINED)
                })
            }
            Doc::Opfs(doc) => {
                let doc = doc.clone();
                future_to_promise(async move {
                    doc.save_as(&name, "VirtualBuffer.saveAs").await?;
                    Ok(JsValue::UNDEFINED)
                })
            }
        })
    }
}
