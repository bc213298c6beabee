//! Files in OPFS behind sync access handles, reachable from `Send + Sync` code.
//!
//! A `FileSystemSyncAccessHandle` is a JS object (`!Send`), but a persistence layer must be
//! `Send + Sync`. So the handles live in a table local to the thread (the worker) that opened them,
//! and a [`SyncFile`] holds only the table's key and the id of its thread: plain data, `Send + Sync`
//! without any `unsafe`. A call from another thread finds no handle and fails with an error that says
//! so; it never touches a JS value of another thread.
//!
//! A sync access handle takes an exclusive lock on its file, so one file has at most one handle per
//! worker: [`SyncFile`]s of the same file share it (the table counts them) and the last one's drop
//! closes it. The lock also guards against other workers: they cannot open, write or delete a file a
//! handle here holds.

use std::cell::RefCell;
use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicU64, Ordering};

use js_sys::Reflect;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;
use web_sys::{
    FileSystemDirectoryHandle, FileSystemFileHandle, FileSystemGetFileOptions, FileSystemReadWriteOptions,
    FileSystemSyncAccessHandle,
};

use super::error::OpfsError;
use crate::platform::persistence::PersistenceError;
use crate::platform::wasm::describe;

/// The largest byte offset a sync access handle is given: JS passes offsets as doubles, which hold
/// every integer up to 2^53 exactly (9 PiB, far past any browser's quota) and round above it.
pub const MAX_OFFSET: u64 = (1 << 53) - 1;

/// `offset` as the double JS takes, exactly; an error past [`MAX_OFFSET`] instead of a rounded offset.
///
/// ```
/// use omnibuf::vbuf::opfs::js_offset;
/// let past_4_gib = (5u64 << 30) + 3;
/// assert_eq!(js_offset(past_4_gib).unwrap() as u64, past_4_gib);
/// assert!(js_offset(1 << 53).is_err());
/// ```
pub fn js_offset(offset: u64) -> Result<f64, PersistenceError> {
    if offset > MAX_OFFSET {
        return Err(PersistenceError::Io(std::io::Error::other(format!(
            "offset {offset} is past the largest offset a browser file takes ({MAX_OFFSET})"
        ))));
    }
    // Exact: integers up to 2^53 are representable.
    Ok(offset as f64)
}

/// A byte count JS returned as a double (never negative, never past 2^53) as a `u64`.
fn js_count(count: f64) -> u64 {
    count as u64
}

static NEXT_THREAD: AtomicU64 = AtomicU64::new(1);

thread_local! {
    /// This thread's id, for [`SyncFile`]'s check that it is used where its handle lives.
    static THREAD: u64 = NEXT_THREAD.fetch_add(1, Ordering::Relaxed);
    /// The open handles of this thread, by key (`document/file`), with the count of their users.
    static OPEN: RefCell<HashMap<String, (FileSystemSyncAccessHandle, usize)>> = RefCell::new(HashMap::new());
    /// Keys whose handle is being opened (an await in between): cleanup leaves those files alone too.
    static OPENING: RefCell<HashSet<String>> = RefCell::new(HashSet::new());
}

fn this_thread() -> u64 {
    THREAD.with(|t| *t)
}

/// How many [`SyncFile`]s of this thread share the handle of `key`.
pub(crate) fn users(key: &str) -> usize {
    OPEN.with(|o| o.borrow().get(key).map_or(0, |entry| entry.1))
}

/// Resolves in a later task of the event loop (not a microtask, which would not let the other
/// task's I/O finish).
async fn next_task() {
    let promise = js_sys::Promise::new(&mut |resolve, _| {
        let set_timeout = Reflect::get(&js_sys::global(), &"setTimeout".into())
            .ok()
            .and_then(|f| f.dyn_into::<js_sys::Function>().ok());
        match set_timeout {
            Some(set_timeout) => drop(set_timeout.call2(&JsValue::UNDEFINED, &resolve, &0.into())),
            None => drop(resolve.call0(&JsValue::UNDEFINED)),
        }
    });
    let _ = JsFuture::from(promise).await;
}

/// Whether this thread has the file of `key` open, or is opening it.
pub(crate) fn in_use(key: &str) -> bool {
    OPEN.with(|o| o.borrow().contains_key(key)) || OPENING.with(|o| o.borrow().contains(key))
}

/// A failed call of a sync access handle as an I/O error; the browser's refusal to store more
/// (`QuotaExceededError`) is `StorageFull`, which the bindings report as the IndexedDB store's full
/// quota is.
fn io_error(what: &str, error: JsValue) -> PersistenceError {
    let quota = error.dyn_ref::<web_sys::DomException>().is_some_and(|e| e.name() == "QuotaExceededError");
    let kind = if quota { std::io::ErrorKind::StorageFull } else { std::io::ErrorKind::Other };
    PersistenceError::Io(std::io::Error::new(kind, format!("{what}: {}", describe(&error))))
}

/// A file in OPFS, open through a sync access handle of the worker that opened it (see the module docs).
///
/// ```no_run
/// use omnibuf::vbuf::{opfs::SyncFile, PersistenceError};
///
/// // The store's own files are `SyncFile`s; what they offer, in the worker that opened them:
/// fn append(file: &SyncFile, bytes: &[u8]) -> Result<u64, PersistenceError> {
///     let end = file.size()?;
///     file.write_at(end, bytes)?;
///     file.flush()?; // durable before it returns
///     Ok(end + bytes.len() as u64)
/// }
/// # let _ = append;
/// ```
#[derive(Debug)]
pub struct SyncFile {
    key: String,
    thread: u64,
}

impl SyncFile {
    /// Opens file `name` of `dir` (creating it when `create`), sharing the handle this worker may
    /// already have. `key` names the file uniquely in this worker (`document/file`).
    pub(crate) async fn open(
        dir: &FileSystemDirectoryHandle,
        key: String,
        name: &str,
        create: bool,
    ) -> Result<SyncFile, OpfsError> {
        loop {
            if let Some(file) = SyncFile::share(&key) {
                return Ok(file);
            }
            if !OPENING.with(|o| o.borrow().contains(&key)) {
                break;
            }
            // Another task of this worker is opening the file: a second handle would find it
            // locked, so wait for that one and share it (or, if it failed, try again).
            next_task().await;
        }
        OPENING.with(|o| o.borrow_mut().insert(key.clone()));
        let opened = open_handle(dir, name, create, &key).await;
        OPENING.with(|o| o.borrow_mut().remove(&key));
        let handle = opened?;
        OPEN.with(|o| o.borrow_mut().insert(key.clone(), (handle, 1)));
        Ok(SyncFile { key, thread: this_thread() })
    }

    /// Another user of a handle this worker has open, if it has one for `key`.
    pub(crate) fn share(key: &str) -> Option<SyncFile> {
        OPEN.with(|o| {
            let mut open = o.borrow_mut();
            let entry = open.get_mut(key)?;
            entry.1 += 1;
            Some(SyncFile { key: key.to_string(), thread: this_thread() })
        })
    }

    /// The key of the file (`document/file`).
    pub(crate) fn key(&self) -> &str {
        &self.key
    }

    fn with<R>(
        &self,
        f: impl FnOnce(&FileSystemSyncAccessHandle) -> Result<R, PersistenceError>,
    ) -> Result<R, PersistenceError> {
        if self.thread != this_thread() {
            return Err(PersistenceError::Io(std::io::Error::other(format!(
                "the OPFS file {} is open in another worker or thread; use it there",
                self.key
            ))));
        }
        OPEN.with(|o| {
            let open = o.borrow();
            let (handle, _) = open.get(&self.key).expect("a SyncFile's handle stays open while it lives");
            f(handle)
        })
    }

    /// The file's size in bytes.
    ///
    /// ```no_run
    /// # fn demo(file: &omnibuf::vbuf::opfs::SyncFile) -> Result<(), omnibuf::vbuf::PersistenceError> {
    /// file.truncate(0)?;
    /// file.write_at(0, b"12345")?;
    /// assert_eq!(file.size()?, 5);
    /// # Ok(()) }
    /// ```
    pub fn size(&self) -> Result<u64, PersistenceError> {
        self.with(|h| h.get_size().map(js_count).map_err(|e| io_error("reading the size", e)))
    }

    /// Reads into `dst` from `offset` until it is full or the file ends; returns the bytes read.
    ///
    /// ```no_run
    /// # fn demo(file: &omnibuf::vbuf::opfs::SyncFile) -> Result<(), omnibuf::vbuf::PersistenceError> {
    /// file.truncate(0)?;
    /// file.write_at(0, b"abcdef")?;
    /// let mut dst = [0u8; 4];
    /// assert_eq!(file.read_at(4, &mut dst)?, 2); // the file ends after 2
    /// assert_eq!(&dst[..2], b"ef");
    /// # Ok(()) }
    /// ```
    pub fn read_at(&self, offset: u64, dst: &mut [u8]) -> Result<usize, PersistenceError> {
        self.with(|h| {
            let options = FileSystemReadWriteOptions::new();
            let mut done = 0;
            while done < dst.len() {
                options.set_at(js_offset(offset + done as u64)?);
                let n = h
                    .read_with_u8_array_and_options(&mut dst[done..], &options)
                    .map_err(|e| io_error("reading", e))?;
                if n <= 0.0 {
                    break;
                }
                // More than there was room for is a failure reported as a count: Chromium's handle
                // of a file whose site data was cleared underneath reads -4 as 2^32 - 4 bytes, the
                // buffer left as it was. Taken for bytes, it would show zeros as the content.
                let room = dst.len() - done;
                if js_count(n) > room as u64 {
                    return Err(PersistenceError::Io(std::io::Error::other(format!(
                        "reading {room} bytes at offset {}: the browser reported {n} bytes read \
                         (was the site's data cleared?)",
                        offset + done as u64
                    ))));
                }
                done += js_count(n) as usize;
            }
            Ok(done)
        })
    }

    /// Writes all of `src` at `offset` (a write past the end extends the file, with zeros in between).
    ///
    /// ```no_run
    /// # fn demo(file: &omnibuf::vbuf::opfs::SyncFile) -> Result<(), omnibuf::vbuf::PersistenceError> {
    /// file.truncate(0)?;
    /// file.write_at(3, b"xy")?; // past the end: zeros in between
    /// let mut dst = [9u8; 5];
    /// file.read_at(0, &mut dst)?;
    /// assert_eq!(dst, [0, 0, 0, b'x', b'y']);
    /// # Ok(()) }
    /// ```
    pub fn write_at(&self, offset: u64, src: &[u8]) -> Result<(), PersistenceError> {
        self.with(|h| {
            let options = FileSystemReadWriteOptions::new();
            let mut done = 0;
            while done < src.len() {
                options.set_at(js_offset(offset + done as u64)?);
                let n = h
                    .write_with_u8_array_and_options(&src[done..], &options)
                    .map_err(|e| io_error("writing", e))?;
                // More than was given is a failure reported as a count (Chromium's in-memory OPFS of
                // off-the-record windows, past 2 GiB), as is nothing at all.
                if n <= 0.0 || js_count(n) > (src.len() - done) as u64 {
                    return Err(PersistenceError::Io(std::io::Error::other(format!(
                        "writing {} bytes at offset {}: the file took none",
                        src.len() - done,
                        offset + done as u64
                    ))));
                }
                done += js_count(n) as usize;
            }
            Ok(())
        })
    }

    /// Writes all of the JS array `src` at `offset`, straight from JS memory (no copy into wasm memory).
    ///
    /// ```no_run
    /// # fn demo(file: &omnibuf::vbuf::opfs::SyncFile) -> Result<(), omnibuf::vbuf::PersistenceError> {
    /// let from_js = js_sys::Uint8Array::from(&b"chunk"[..]); // e.g. a part of a Blob
    /// file.truncate(0)?;
    /// file.write_js_at(0, &from_js)?;
    /// assert_eq!(file.size()?, 5);
    /// # Ok(()) }
    /// ```
    pub fn write_js_at(&self, offset: u64, src: &js_sys::Uint8Array) -> Result<(), PersistenceError> {
        self.with(|h| {
            let options = FileSystemReadWriteOptions::new();
            let len = src.length();
            let mut done = 0u32;
            while done < len {
                options.set_at(js_offset(offset + u64::from(done))?);
                let part = if done == 0 { src.clone() } else { src.subarray(done, len) };
                let n = h
                    .write_with_js_u8_array_and_options(&part, &options)
                    .map_err(|e| io_error("writing", e))?;
                if n <= 0.0 || js_count(n) > u64::from(len - done) {
                    return Err(PersistenceError::Io(std::io::Error::other(format!(
                        "writing {} bytes at offset {}: the file took none",
                        len - done,
                        offset + u64::from(done)
                    ))));
                }
                done += js_count(n) as u32;
            }
            Ok(())
        })
    }

    /// Sets the file's size: cuts it, or extends it with zeros (sparse where the disk allows).
    ///
    /// ```no_run
    /// # fn demo(file: &omnibuf::vbuf::opfs::SyncFile) -> Result<(), omnibuf::vbuf::PersistenceError> {
    /// file.truncate(1 << 20)?; // extends with zeros
    /// assert_eq!(file.size()?, 1 << 20);
    /// file.truncate(10)?;
    /// assert_eq!(file.size()?, 10);
    /// # Ok(()) }
    /// ```
    pub fn truncate(&self, len: u64) -> Result<(), PersistenceError> {
        self.with(|h| h.truncate_with_f64(js_offset(len)?).map_err(|e| io_error("truncating", e)))
    }

    /// Makes what was written durable before returning.
    ///
    /// ```no_run
    /// # fn demo(file: &omnibuf::vbuf::opfs::SyncFile) -> Result<(), omnibuf::vbuf::PersistenceError> {
    /// file.write_at(0, b"committed")?;
    /// file.flush()?; // durable once this returns
    /// # Ok(()) }
    /// ```
    pub fn flush(&self) -> Result<(), PersistenceError> {
        self.with(|h| h.flush().map_err(|e| io_error("flushing", e)))
    }

    /// Flushes, then checks that the file holds `len` bytes: a version is committed only after this,
    /// because a browser may drop a write or a resize without an error (Chromium's in-memory OPFS of
    /// off-the-record windows, past 2 GiB).
    pub(crate) fn flush_checked(&self, len: u64) -> Result<(), PersistenceError> {
        self.flush()?;
        let size = self.size()?;
        if size != len {
            return Err(PersistenceError::Io(std::io::Error::other(format!(
                "the browser kept {size} of the {len} bytes written to {} (an off-the-record window keeps \
                 OPFS in memory, where files stop at 2 GiB)",
                self.key
            ))));
        }
        Ok(())
    }
}

impl Clone for SyncFile {
    fn clone(&self) -> SyncFile {
        if self.thread == this_thread() {
            OPEN.with(|o| o.borrow_mut().get_mut(&self.key).map(|entry| entry.1 += 1));
        }
        SyncFile { key: self.key.clone(), thread: self.thread }
    }
}

impl Drop for SyncFile {
    fn drop(&mut self) {
        // Dropped on another thread: the handle cannot be reached from here and stays open until its
        // worker ends (which releases the lock).
        if self.thread != this_thread() {
            return;
        }
        OPEN.with(|o| {
            let mut open = o.borrow_mut();
            if let Some(entry) = open.get_mut(&self.key) {
                entry.1 -= 1;
                if entry.1 == 0 {
                    let (handle, _) = open.remove(&self.key).expect("present");
                    handle.close();
                }
            }
        });
    }
}

/// A new sync access handle on file `name` of `dir`.
async fn open_handle(
    dir: &FileSystemDirectoryHandle,
    name: &str,
    create: bool,
    key: &str,
) -> Result<FileSystemSyncAccessHandle, OpfsError> {
    let what = format!("OPFS file {key:?}");
    let options = FileSystemGetFileOptions::new();
    options.set_create(create);
    let file: FileSystemFileHandle = JsFuture::from(dir.get_file_handle_with_options(name, &options))
        .await
        .map_err(|e| OpfsError::from_js(e, &what))?
        .unchecked_into();
    let supported =
        Reflect::get(&file, &"createSyncAccessHandle".into()).map(|f| f.is_function()).unwrap_or(false);
    if !supported {
        return Err(OpfsError::NotInWorker);
    }
    let handle =
        JsFuture::from(file.create_sync_access_handle()).await.map_err(|e| OpfsError::from_js(e, &what))?;
    Ok(handle.unchecked_into())
}
