//! The browser's other document store: virtual-buffer documents in the Origin Private File System,
//! read and written synchronously through `FileSystemSyncAccessHandle`s, which browsers offer only in
//! dedicated workers. Faster than IndexedDB for big documents, and a layer that reads synchronously
//! (no loading step before a read, unlike `StoredBuffer`); IndexedDB stays for where OPFS is missing.
//!
//! Layout: directory `omnibuf` of the origin's OPFS root holds one directory per document, named as
//! the document, which holds
//! - `head`: the version record, in two checksummed slots (see `header`);
//! - `d<16 hex digits>`: data files, each the whole content of one version; the record names the
//!   current one.
//!
//! Save and import write a new data file, flush it, and then write the new record into the header
//! slot the current record is not in, and flush: the commit point. A crash before it leaves the old
//! record in force; a crash during it tears only the slot being written, whose checksum then fails,
//! so the old record is still the one in force. OPFS's `move()` could replace a file by renaming, but
//! whether it atomically replaces an existing target is not specified, so the design relies only on
//! flushed writes. Data files that no record names and that no handle of this worker holds (files of
//! interrupted saves, versions replaced since) are deleted when a document is next opened or saved.
//!
//! A document open in a worker is locked against other workers: its header's and data files' handles
//! take OPFS's exclusive locks, and opening it elsewhere fails with [`OpfsError::Locked`]. [`list`]
//! and [`export`] read snapshots instead (`getFile()`), which take no lock; a save elsewhere that
//! rewrites a file under one makes them read again.
//!
//! Offsets are 64-bit; JS passes them as doubles, exact up to 2^53 ([`MAX_OFFSET`]).
//!
//! ```no_run
//! # async fn demo(file: web_sys::File) -> Result<(), omnibuf::vbuf::opfs::OpfsError> {
//! use omnibuf::vbuf::opfs;
//! use omnibuf::vbuf::{ImportSource, VirtualBufferOptions};
//!
//! // In a dedicated worker:
//! opfs::import("notes.txt", ImportSource::Blob(&file)).await?;
//! let doc = opfs::OpfsBuffer::open("notes.txt", VirtualBufferOptions::default()).await?;
//! let start = doc.buffer().read(0..5)?; // synchronous
//! doc.buffer().insert(0, b"# ")?;
//! doc.save(false).await?;
//! # Ok(()) }
//! ```

mod error;
mod files;
mod header;
mod layer;

use std::sync::Arc;

use js_sys::{Array, Reflect, Uint8Array};
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;
use web_sys::{
    Blob, DomException, FileSystemDirectoryHandle, FileSystemFileHandle, FileSystemGetDirectoryOptions,
    FileSystemRemoveOptions, StorageManager,
};

pub use error::OpfsError;
pub use files::{js_offset, SyncFile, MAX_OFFSET};
pub use layer::OpfsLayer;
#[cfg(feature = "testing")]
pub use layer::{inject_save_fault, SaveFault};

use crate::platform::persistence::{PersistenceError, SaveOptions};
use crate::platform::wasm::describe;
use crate::vbuf::{ImportSource, VirtualBuffer, VirtualBufferOptions};
use header::{data_file_id, data_file_name, Record, HEADER_LEN};
use layer::{add_spare, read_record, spare_count, write_record};

/// The directory of the OPFS root that holds the documents.
const ROOT: &str = "omnibuf";
/// The name of a document's header file.
const HEAD: &str = "head";
/// Bytes of a `Blob` read per step by an import, and per part by an export.
const IO_BATCH: usize = 8 << 20;

fn check_name(name: &str) -> Result<(), OpfsError> {
    let bad = name.is_empty()
        || name.len() > 200
        || name == "."
        || name == ".."
        || name.contains(['/', '\\', '\0']);
    if bad {
        return Err(OpfsError::InvalidName(name.to_string()));
    }
    Ok(())
}

async fn subdirectory(
    parent: &FileSystemDirectoryHandle,
    name: &str,
    create: bool,
) -> Result<Option<FileSystemDirectoryHandle>, OpfsError> {
    let options = FileSystemGetDirectoryOptions::new();
    options.set_create(create);
    match JsFuture::from(parent.get_directory_handle_with_options(name, &options)).await {
        Ok(dir) => Ok(Some(dir.unchecked_into())),
        Err(e) if !create && OpfsError::is_not_found(&e) => Ok(None),
        Err(e) => Err(OpfsError::from_js(e, &format!("opening directory {name:?}"))),
    }
}

/// The storage manager, where it gives OPFS (not in insecure contexts, nor in older browsers).
fn storage_with_opfs() -> Result<StorageManager, OpfsError> {
    let storage = Reflect::get(&js_sys::global(), &"navigator".into())
        .and_then(|navigator| Reflect::get(&navigator, &"storage".into()))
        .map_err(|_| OpfsError::Unavailable)?;
    let has_opfs = Reflect::get(&storage, &"getDirectory".into()).is_ok_and(|f| f.is_function());
    if !has_opfs {
        return Err(OpfsError::Unavailable);
    }
    Ok(storage.unchecked_into())
}

/// The directory that holds the documents.
async fn root() -> Result<FileSystemDirectoryHandle, OpfsError> {
    let storage = storage_with_opfs()?;
    let top: FileSystemDirectoryHandle = JsFuture::from(storage.get_directory())
        .await
        .map_err(|e| OpfsError::from_js(e, "opening the OPFS root"))?
        .unchecked_into();
    Ok(subdirectory(&top, ROOT, true).await?.expect("created"))
}

/// [`OpfsError::NotInWorker`] where sync access handles do not exist (anywhere but a dedicated
/// worker): what needs one says so before it looks at the document, or makes any of its files.
/// Where there is no OPFS at all (an insecure context), [`OpfsError::Unavailable`] says that first.
fn in_dedicated_worker() -> Result<(), OpfsError> {
    storage_with_opfs()?;
    match Reflect::has(&js_sys::global(), &"FileSystemSyncAccessHandle".into()) {
        Ok(true) => Ok(()),
        _ => Err(OpfsError::NotInWorker),
    }
}

async fn document_dir(name: &str, create: bool) -> Result<Option<FileSystemDirectoryHandle>, OpfsError> {
    check_name(name)?;
    subdirectory(&root().await?, name, create).await
}

fn key(document: &str, file: &str) -> String {
    format!("{document}/{file}")
}

/// A snapshot of file `name` of `dir` (`getFile()`), which, unlike a sync access handle, takes no
/// lock: documents another worker has open can be listed and exported. `None` when there is no such
/// file.
async fn snapshot(
    dir: &FileSystemDirectoryHandle,
    name: &str,
    what: &str,
) -> Result<Option<Blob>, OpfsError> {
    let handle: FileSystemFileHandle = match JsFuture::from(dir.get_file_handle(name)).await {
        Ok(handle) => handle.unchecked_into(),
        Err(e) if OpfsError::is_not_found(&e) => return Ok(None),
        Err(e) => return Err(OpfsError::from_js(e, what)),
    };
    let file = JsFuture::from(handle.get_file()).await.map_err(|e| OpfsError::from_js(e, what))?;
    Ok(Some(file.unchecked_into()))
}

/// Bytes `start..end` of a snapshot (fewer past its end), copied out of it; `None` once the file
/// changed since the snapshot was taken (a save elsewhere rewrote the header): take a new one.
async fn snapshot_bytes(
    file: &Blob,
    start: u64,
    end: u64,
    what: &str,
) -> Result<Option<Uint8Array>, OpfsError> {
    let part =
        file.slice_with_f64_and_f64(start as f64, end as f64).map_err(|e| OpfsError::from_js(e, what))?;
    match JsFuture::from(part.array_buffer()).await {
        Ok(buffer) => Ok(Some(Uint8Array::new(&buffer))),
        Err(e) if e.dyn_ref::<DomException>().is_some_and(|e| e.name() == "NotReadableError") => Ok(None),
        Err(e) => Err(OpfsError::from_js(e, what)),
    }
}

/// How many times `list()` and `export()` read a document again when a save in another worker
/// changed a file under their snapshot. Each retry follows a save that committed meanwhile.
const SNAPSHOT_TRIES: usize = 16;

/// The error once a document kept changing under every snapshot.
fn kept_changing(name: &str) -> OpfsError {
    OpfsError::Failed(format!("document {name:?} was saved again and again while it was read: try again"))
}

/// The current record of document `name` (in `dir`), read from a snapshot of its header; `None` for
/// the directory of an import that never committed.
async fn current_record(dir: &FileSystemDirectoryHandle, name: &str) -> Result<Option<Record>, OpfsError> {
    let what = format!("OPFS file {:?}", key(name, HEAD));
    for _ in 0..SNAPSHOT_TRIES {
        let Some(head) = snapshot(dir, HEAD, &what).await? else { return Ok(None) };
        if let Some(bytes) = snapshot_bytes(&head, 0, HEADER_LEN as u64, &what).await? {
            return Ok(header::current(&bytes.to_vec()));
        }
    }
    Err(kept_changing(name))
}

async fn open_head(
    dir: &FileSystemDirectoryHandle,
    document: &str,
    create: bool,
) -> Result<SyncFile, OpfsError> {
    SyncFile::open(dir, key(document, HEAD), HEAD, create).await.map_err(|e| match e {
        OpfsError::Failed(message) if message.contains("NotFoundError") => {
            OpfsError::NotFound(document.into())
        }
        other => other,
    })
}

/// A data file id that is not `current`'s and, with overwhelming likelihood, no other file's.
fn fresh_file_id(current: Option<Record>) -> u64 {
    loop {
        let high = (js_sys::Math::random() * 4294967296.0) as u64;
        let low = (js_sys::Math::random() * 4294967296.0) as u64;
        let id = (high << 32) | low;
        if current.is_none_or(|r| r.file_id != id) {
            return id;
        }
    }
}

/// Makes sure a file is prepared for the next save of `document` (see [`OpfsLayer`]).
async fn prepare_spare(
    dir: &FileSystemDirectoryHandle,
    document: &str,
    current: Record,
) -> Result<(), OpfsError> {
    if spare_count(document) > 0 {
        return Ok(());
    }
    let id = fresh_file_id(Some(current));
    let name = data_file_name(id);
    let file = SyncFile::open(dir, key(document, &name), &name, true).await?;
    add_spare(document, id, file);
    Ok(())
}

/// Deletes the data files of `document` that its record does not name and that no handle of this
/// worker holds or is opening. A file another worker holds is locked and left alone.
async fn clean(dir: &FileSystemDirectoryHandle, document: &str, current: Record) -> Result<(), OpfsError> {
    let names = entry_names(dir).await?;
    for name in names {
        let Some(id) = data_file_id(&name) else { continue };
        if id == current.file_id || files::in_use(&key(document, &name)) {
            continue;
        }
        if let Err(e) = JsFuture::from(dir.remove_entry(&name)).await {
            let locked =
                e.dyn_ref::<DomException>().is_some_and(|d| d.name() == "NoModificationAllowedError");
            if !locked && !OpfsError::is_not_found(&e) {
                return Err(OpfsError::from_js(e, &format!("deleting {name:?} of {document:?}")));
            }
        }
    }
    Ok(())
}

/// The names of a directory's entries.
async fn entry_names(dir: &FileSystemDirectoryHandle) -> Result<Vec<String>, OpfsError> {
    let iterator = dir.keys();
    let mut names = Vec::new();
    loop {
        let step = JsFuture::from(iterator.next().map_err(|e| OpfsError::from_js(e, "listing a directory"))?)
            .await
            .map_err(|e| OpfsError::from_js(e, "listing a directory"))?;
        if Reflect::get(&step, &"done".into()).is_ok_and(|d| d.is_truthy()) {
            return Ok(names);
        }
        if let Some(name) = Reflect::get(&step, &"value".into()).ok().and_then(|v| v.as_string()) {
            names.push(name);
        }
    }
}

/// Opens the current version of document `name` as a layer, deletes the files earlier saves left
/// behind, and prepares a file for its next save. Only in a dedicated worker.
///
/// ```no_run
/// # async fn demo() -> Result<(), omnibuf::vbuf::opfs::OpfsError> {
/// use omnibuf::vbuf::{opfs, ImportSource, PersistenceLayer};
///
/// opfs::import("a.bin", ImportSource::Bytes(&[1, 2, 3])).await?;
/// let layer = opfs::open_layer("a.bin").await?;
/// let mut dst = [0u8; 3];
/// layer.read_at(0, &mut dst)?; // synchronous, through a sync access handle
/// assert_eq!(dst, [1, 2, 3]);
/// # Ok(()) }
/// ```
pub async fn open_layer(name: &str) -> Result<Arc<OpfsLayer>, OpfsError> {
    let (dir, layer) = open_version(name).await?;
    clean(&dir, name, layer.record()).await?;
    prepare_spare(&dir, name, layer.record()).await?;
    Ok(layer)
}

/// The layer over the current version of `name`, with nothing cleaned or prepared.
async fn open_version(name: &str) -> Result<(FileSystemDirectoryHandle, Arc<OpfsLayer>), OpfsError> {
    let dir = document_dir(name, false).await?.ok_or_else(|| OpfsError::NotFound(name.into()))?;
    let head = open_head(&dir, name, false).await?;
    let record = read_record(&head)?.ok_or_else(|| OpfsError::NotFound(name.into()))?;
    let file_name = data_file_name(record.file_id);
    let data = SyncFile::open(&dir, key(name, &file_name), &file_name, false).await?;
    let size = data.size()?;
    if size < record.len {
        return Err(PersistenceError::Corrupt(format!(
            "the data file of {name:?} holds {size} bytes, its record says {}",
            record.len
        ))
        .into());
    }
    Ok((dir, Arc::new(OpfsLayer::new(name.to_string(), record, data, head))))
}

/// A [`VirtualBuffer`] over an OPFS document, bound to its name: reads, edits and undo are
/// synchronous ([`buffer`](Self::buffer)); [`save`](Self::save) is asynchronous because it prepares
/// files. Only in a dedicated worker.
///
/// ```no_run
/// # async fn demo() -> Result<(), omnibuf::vbuf::opfs::OpfsError> {
/// use omnibuf::vbuf::{opfs::{self, OpfsBuffer}, ImportSource};
///
/// opfs::import("todo.txt", ImportSource::Bytes(b"- docs\n")).await?;
/// let doc = OpfsBuffer::open("todo.txt", Default::default()).await?;
/// doc.buffer().insert(doc.buffer().len(), b"- tests\n")?; // synchronous
/// doc.save(false).await?;
/// assert!(!doc.buffer().is_modified());
/// # Ok(()) }
/// ```
#[derive(Debug)]
pub struct OpfsBuffer {
    buffer: VirtualBuffer,
    name: String,
}

impl OpfsBuffer {
    /// Opens the current version of document `name` (see [`open_layer`]).
    ///
    /// ```no_run
    /// # async fn demo() -> Result<(), omnibuf::vbuf::opfs::OpfsError> {
    /// use omnibuf::vbuf::{opfs::{self, OpfsBuffer}, ImportSource, VirtualBufferOptions};
    ///
    /// opfs::import("big.log", ImportSource::Bytes(&vec![b'x'; 1 << 20])).await?;
    /// let doc = OpfsBuffer::open("big.log", VirtualBufferOptions::default()).await?;
    /// assert_eq!(doc.buffer().len(), 1 << 20); // nothing read but the header
    /// # Ok(()) }
    /// ```
    pub async fn open(name: &str, options: VirtualBufferOptions) -> Result<OpfsBuffer, OpfsError> {
        in_dedicated_worker()?;
        let buffer = VirtualBuffer::with_layer(open_layer(name).await?, options)?;
        Ok(OpfsBuffer { buffer, name: name.to_string() })
    }

    /// The buffer: reads, edits, undo and redo are synchronous. Its own synchronous `save` works
    /// when a file is prepared for it (after an open or a [`save`](Self::save)); this one always does.
    ///
    /// ```no_run
    /// # async fn demo() -> Result<(), omnibuf::vbuf::opfs::OpfsError> {
    /// use omnibuf::vbuf::{opfs::{self, OpfsBuffer}, ImportSource};
    ///
    /// opfs::import("doc", ImportSource::Bytes(b"hello")).await?;
    /// let doc = OpfsBuffer::open("doc", Default::default()).await?;
    /// doc.buffer().insert(5, b"!")?;
    /// assert_eq!(doc.buffer().read(..)?, b"hello!"[..]); // synchronous reads, also of the file
    /// # Ok(()) }
    /// ```
    pub fn buffer(&self) -> &VirtualBuffer {
        &self.buffer
    }

    /// The document's name.
    ///
    /// ```no_run
    /// # async fn demo() -> Result<(), omnibuf::vbuf::opfs::OpfsError> {
    /// use omnibuf::vbuf::{opfs::{self, OpfsBuffer}, ImportSource};
    ///
    /// opfs::import("named.txt", ImportSource::Bytes(b"")).await?;
    /// assert_eq!(OpfsBuffer::open("named.txt", Default::default()).await?.name(), "named.txt");
    /// # Ok(()) }
    /// ```
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Saves atomically: prepares the file the save writes, runs the buffer's synchronous save, and
    /// deletes the files no version needs any more. Refuses, changing nothing, if the document was
    /// changed since this buffer opened or last saved it (by another buffer or an import), unless
    /// `force`.
    ///
    /// ```no_run
    /// # async fn demo() -> Result<(), omnibuf::vbuf::opfs::OpfsError> {
    /// use omnibuf::vbuf::{opfs::{self, OpfsBuffer}, ImportSource};
    ///
    /// opfs::import("doc", ImportSource::Bytes(b"v1")).await?;
    /// let doc = OpfsBuffer::open("doc", Default::default()).await?;
    /// doc.buffer().replace(1.., b"2")?;
    /// opfs::import("doc", ImportSource::Bytes(b"other")).await?; // changed meanwhile
    /// assert!(doc.save(false).await.is_err()); // refused, nothing changed...
    /// doc.save(true).await?; // ...unless forced
    /// # Ok(()) }
    /// ```
    pub async fn save(&self, force: bool) -> Result<(), OpfsError> {
        save(&self.buffer, &self.name, force).await
    }

    /// Saves the content as document `name` (replacing one of that name atomically) and returns the
    /// buffer bound to it, which shares this one's content, edits and undo history: later saves of
    /// the returned buffer go to `name`.
    ///
    /// ```no_run
    /// # async fn demo() -> Result<(), omnibuf::vbuf::opfs::OpfsError> {
    /// use omnibuf::vbuf::opfs::OpfsBuffer;
    /// let draft = OpfsBuffer::open("draft.txt", Default::default()).await?;
    /// draft.buffer().insert(0, b"final\n")?;
    /// let copy = draft.save_as("final.txt").await?;
    /// assert_eq!(copy.name(), "final.txt");
    /// # Ok(()) }
    /// ```
    pub async fn save_as(&self, name: &str) -> Result<OpfsBuffer, OpfsError> {
        save_as(&self.buffer, name).await?;
        Ok(OpfsBuffer { buffer: self.buffer.clone(), name: name.to_string() })
    }
}

/// A new version of a document being written, by an import or a save-as: the document's directory
/// and header (both made if need be) and a fresh, empty data file beside the current one, which stays
/// the document until [`commit`](Self::commit).
struct NewVersion {
    dir: FileSystemDirectoryHandle,
    head: SyncFile,
    data: SyncFile,
    /// The record in force when the version started, if the document exists.
    current: Option<Record>,
    file_id: u64,
}

impl NewVersion {
    async fn start(name: &str) -> Result<NewVersion, OpfsError> {
        let dir = document_dir(name, true).await?.expect("created");
        let head = open_head(&dir, name, true).await?;
        let current = read_record(&head)?;
        let file_id = fresh_file_id(current);
        let file_name = data_file_name(file_id);
        let data = SyncFile::open(&dir, key(name, &file_name), &file_name, true).await?;
        data.truncate(0)?;
        Ok(NewVersion { dir, head, data, current, file_id })
    }

    /// Flushes the `len` bytes written to the data file and makes them the document's content: the
    /// new record goes into the header (the commit point, see the module docs).
    fn commit(&self, len: u64) -> Result<Record, OpfsError> {
        self.data.flush_checked(len)?;
        let generation = self.current.map_or(0, |r| r.generation) + 1;
        let record = Record { generation, file_id: self.file_id, len };
        write_record(&self.head, &record)?;
        Ok(record)
    }
}

/// [`OpfsBuffer::save`] for a buffer opened over document `name` (by [`OpfsBuffer::open`], or made
/// its own by [`save_as`]).
pub(crate) async fn save(buffer: &VirtualBuffer, name: &str, force: bool) -> Result<(), OpfsError> {
    let dir = document_dir(name, false).await?.ok_or_else(|| OpfsError::NotFound(name.into()))?;
    let head = open_head(&dir, name, false).await?;
    let current = read_record(&head)?.ok_or_else(|| OpfsError::NotFound(name.into()))?;
    prepare_spare(&dir, name, current).await?;
    buffer.save_with(SaveOptions { force })?;
    let current = read_record(&head)?.ok_or_else(|| OpfsError::NotFound(name.into()))?;
    clean(&dir, name, current).await?;
    prepare_spare(&dir, name, current).await
}

/// Writes the content of `buffer` as document `name` (replacing one of that name atomically, as an
/// import does) and makes that version the base of the buffer's later saves.
pub(crate) async fn save_as(buffer: &VirtualBuffer, name: &str) -> Result<(), OpfsError> {
    let version = NewVersion::start(name).await?;
    let (snapshot, _) = buffer.save_start();
    let len = snapshot.len();
    let written = (|| {
        let mut scratch = Vec::new();
        let mut at = 0;
        while at < len {
            let n = (len - at).min(IO_BATCH as u64) as usize;
            scratch.resize(n, 0);
            snapshot.read_into(&buffer.inner.store, at, &mut scratch)?;
            version.data.write_at(at, &scratch)?;
            at += n as u64;
        }
        version.commit(len)
    })();
    let record = emptied_on_failure(&version.data, written)?;
    let NewVersion { dir, head, data, .. } = version;
    let layer = Arc::new(OpfsLayer::new(name.to_string(), record, data, head));
    buffer.adopt_saved(snapshot, layer);
    clean(&dir, name, record).await?;
    prepare_spare(&dir, name, record).await
}

/// Stores `source` as document `name`, replacing a document of that name atomically: until the
/// import commits, the old one (or none) is stored. A `Blob` is read a batch at a time, never whole.
///
/// ```no_run
/// # async fn demo(file: web_sys::File) -> Result<(), omnibuf::vbuf::opfs::OpfsError> {
/// use omnibuf::vbuf::{opfs, ImportSource};
///
/// opfs::import("upload.csv", ImportSource::Blob(&file)).await?; // read a batch at a time
/// opfs::import("upload.csv", ImportSource::Bytes(b"a,b\n")).await?; // replaces it atomically
/// assert_eq!(opfs::list().await?, [("upload.csv".to_string(), 4)]);
/// # Ok(()) }
/// ```
pub async fn import(name: &str, source: ImportSource<'_>) -> Result<(), OpfsError> {
    in_dedicated_worker()?;
    let version = NewVersion::start(name).await?;
    let written = match write_source(&version.data, source).await {
        Ok(len) => version.commit(len),
        Err(e) => Err(e),
    };
    let record = emptied_on_failure(&version.data, written)?;
    let NewVersion { dir, head, data, .. } = version;
    drop(data);
    // Cleaned while the header's handle still locks the document against other workers.
    let cleaned = clean(&dir, name, record).await;
    drop(head);
    cleaned
}

/// `result`, emptying `data` (the file of a new version that was not committed) where it is an
/// error: what the file took (all the quota, perhaps) is free again at once, and the next open or
/// write of the document removes the file itself.
fn emptied_on_failure<T>(data: &SyncFile, result: Result<T, OpfsError>) -> Result<T, OpfsError> {
    if result.is_err() {
        let _ = data.truncate(0);
    }
    result
}

/// Writes the bytes of `source` into `data` from its start; returns how many.
async fn write_source(data: &SyncFile, source: ImportSource<'_>) -> Result<u64, OpfsError> {
    Ok(match source {
        ImportSource::Bytes(bytes) => {
            data.write_at(0, bytes)?;
            bytes.len() as u64
        }
        ImportSource::Blob(blob) => {
            let size = blob.size();
            let mut at = 0.0;
            while at < size {
                let end = (at + IO_BATCH as f64).min(size);
                let unreadable = |e| OpfsError::SourceUnreadable(describe(&e));
                let part = blob.slice_with_f64_and_f64(at, end).map_err(unreadable)?;
                let bytes = JsFuture::from(part.array_buffer()).await.map_err(unreadable)?;
                data.write_js_at(at as u64, &Uint8Array::new(&bytes))?;
                at = end;
            }
            size as u64
        }
    })
}

/// Every readable document's name and length, by name. A document open in another worker is locked
/// and reported as an error.
///
/// ```no_run
/// # async fn demo() -> Result<(), omnibuf::vbuf::opfs::OpfsError> {
/// use omnibuf::vbuf::{opfs, ImportSource};
///
/// opfs::import("b.txt", ImportSource::Bytes(b"bb")).await?;
/// opfs::import("a.txt", ImportSource::Bytes(b"a")).await?;
/// let names: Vec<String> = opfs::list().await?.into_iter().map(|(name, _)| name).collect();
/// assert!(names.windows(2).all(|w| w[0] < w[1])); // by name
/// # Ok(()) }
/// ```
pub async fn list() -> Result<Vec<(String, u64)>, OpfsError> {
    let root = root().await?;
    let mut names = entry_names(&root).await?;
    names.sort();
    let mut out = Vec::new();
    for name in names {
        let Some(dir) = subdirectory(&root, &name, false).await? else { continue };
        // From a snapshot, not a sync access handle, whose lock a document open elsewhere holds.
        if let Some(record) = current_record(&dir, &name).await? {
            out.push((name, record.len));
        }
    }
    Ok(out)
}

/// Deletes document `name` and all its files. Fails while a buffer has it open: with
/// [`OpfsError::OpenHere`] in this worker, [`OpfsError::Locked`] in another; deleting a missing
/// document does nothing.
///
/// ```no_run
/// # async fn demo() -> Result<(), omnibuf::vbuf::opfs::OpfsError> {
/// use omnibuf::vbuf::{opfs, ImportSource};
///
/// opfs::import("scratch", ImportSource::Bytes(b"tmp")).await?;
/// opfs::delete("scratch").await?;
/// opfs::delete("scratch").await?; // a missing document: nothing happens
/// assert!(opfs::list().await?.iter().all(|(name, _)| name != "scratch"));
/// # Ok(()) }
/// ```
pub async fn delete(name: &str) -> Result<(), OpfsError> {
    check_name(name)?;
    if files::in_use(&key(name, HEAD)) {
        return Err(OpfsError::OpenHere(name.to_string()));
    }
    let root = root().await?;
    let options = FileSystemRemoveOptions::new();
    options.set_recursive(true);
    match JsFuture::from(root.remove_entry_with_options(name, &options)).await {
        Ok(_) => Ok(()),
        Err(e) if OpfsError::is_not_found(&e) => Ok(()),
        Err(e) => Err(OpfsError::from_js(e, &format!("document {name:?}"))),
    }
}

/// The current version of document `name` as a `Blob` (for a download), copied a batch at a time.
///
/// ```no_run
/// # async fn demo() -> Result<(), omnibuf::vbuf::opfs::OpfsError> {
/// use omnibuf::vbuf::{opfs, ImportSource};
///
/// opfs::import("report.txt", ImportSource::Bytes(b"totals")).await?;
/// let blob = opfs::export("report.txt").await?; // e.g. for a download link
/// assert_eq!(blob.size(), 6.0);
/// # Ok(()) }
/// ```
pub async fn export(name: &str) -> Result<web_sys::Blob, OpfsError> {
    // Read from snapshots, which take no lock: a document open in another worker exports too. A
    // save there meanwhile may delete the version being read (its cleanup): then the new one is.
    let dir = document_dir(name, false).await?.ok_or_else(|| OpfsError::NotFound(name.into()))?;
    let mut last = None;
    for _ in 0..SNAPSHOT_TRIES {
        let record = current_record(&dir, name).await?.ok_or_else(|| OpfsError::NotFound(name.into()))?;
        let file_name = data_file_name(record.file_id);
        let what = format!("OPFS file {:?}", key(name, &file_name));
        let data = snapshot(&dir, &file_name, &what).await?;
        let size = data.as_ref().map_or(0, |data| data.size() as u64);
        let Some(data) = data.filter(|_| size >= record.len) else {
            // Corrupt only if the record still says so when read again: else a save replaced it.
            if last == Some(record) {
                let detail =
                    format!("the data file of {name:?} holds {size} bytes, its record says {}", record.len);
                return Err(PersistenceError::Corrupt(detail).into());
            }
            last = Some(record);
            continue;
        };
        if let Some(parts) = copied(&data, record.len, &what).await? {
            return web_sys::Blob::new_with_u8_array_sequence(&parts)
                .map_err(|e| OpfsError::from_js(e, "making a Blob"));
        }
        last = Some(record);
    }
    Err(kept_changing(name))
}

/// The first `len` bytes of a snapshot, copied a batch at a time (a snapshot stops being readable
/// once its file changes, and the Blob handed out must not); `None` if it stopped meanwhile.
async fn copied(data: &Blob, len: u64, what: &str) -> Result<Option<Array>, OpfsError> {
    let parts = Array::new();
    let mut at = 0;
    while at < len {
        let end = (at + IO_BATCH as u64).min(len);
        let Some(bytes) = snapshot_bytes(data, at, end, what).await? else { return Ok(None) };
        parts.push(&bytes);
        at = end;
    }
    Ok(Some(parts))
}

/// The names of the files of document `name`'s directory, for tests of cleanup (the `testing`
/// feature).
///
/// ```no_run
/// # async fn demo() -> Result<(), omnibuf::vbuf::opfs::OpfsError> {
/// use omnibuf::vbuf::{opfs, ImportSource};
///
/// opfs::import("a.txt", ImportSource::Bytes(b"abc")).await?;
/// let files = opfs::document_files("a.txt").await?;
/// assert!(files.contains(&"head".to_string())); // the header, beside one data file per version
/// # Ok(()) }
/// ```
#[cfg(feature = "testing")]
pub async fn document_files(name: &str) -> Result<Vec<String>, OpfsError> {
    let dir = document_dir(name, false).await?.ok_or_else(|| OpfsError::NotFound(name.into()))?;
    let mut names = entry_names(&dir).await?;
    names.sort();
    Ok(names)
}

/// A file `name` in a scratch directory beside the documents, for tests of [`SyncFile`] (the
/// `testing` feature).
///
/// ```no_run
/// # async fn demo() -> Result<(), omnibuf::vbuf::opfs::OpfsError> {
/// use omnibuf::vbuf::opfs;
///
/// let file = opfs::scratch_file("probe").await?;
/// let bytes = file.size().unwrap(); // 0 unless an earlier run left it longer
/// # Ok(()) }
/// ```
#[cfg(feature = "testing")]
pub async fn scratch_file(name: &str) -> Result<SyncFile, OpfsError> {
    check_name(name)?;
    let dir = subdirectory(&root().await?, ".scratch", true).await?.expect("created");
    SyncFile::open(&dir, key(".scratch", name), name, true).await
}
