//! `VirtualBuffer` for Node: edit files larger than memory.
//!
//! Edits (`insert`, `delete`, `replace`, `undo`, `redo`) are synchronous: they only record pieces.
//! Everything that may touch the disk (open, read, find, line queries, save) runs on the libuv thread
//! pool and returns a Promise, so a slow disk or a long scan never blocks the event loop. That work
//! runs on a clone of the handle, so it sees the content as it is when the work runs: an edit made
//! before a Promise settles may or may not be in its result.
//!
//! The reads and queries (and `open`) take the JS layer's ticket as their last argument: when their
//! `AbortSignal` aborts before a pool thread has started them, they leave the queue and never run
//! (`platform::work::cancel`). Saves never take one: an abort only keeps them from being called.

use std::ops::Bound;

use napi::bindgen_prelude::{JavaScriptClassExt, ObjectFinalize, Unknown};
use napi::{sys, Env, ValueType};
use napi_derive::napi;
use omnibuf::binding::{self, message};
use omnibuf::vbuf::{FileBackend, SaveOptions};
use omnibuf::vbuf::{VbufError, VirtualBuffer, VirtualBufferOptions};

use crate::args;
use crate::buffer::JsZeroCopyStorage;
use crate::error::{ApiError, ApiResult, OrThrow};
use crate::platform::values::{self, Raw};
use crate::platform::views::ExternalMemory;
use crate::platform::work;

/// Reads up to this size go through the core's `read` (then are copied: see [`read`]). Larger reads
/// copy into memory allocated fallibly, so that a read too large for memory is a `RangeError` rather
/// than an abort of the process.
const LARGE_READ: u64 = 64 << 20;

/// An options argument: `undefined` or an object (`TypeError` otherwise, as the JS layer and the wasm
/// build word it).
fn options_object(env: &Env, options: Option<&Unknown<'_>>) -> ApiResult<Option<sys::napi_value>> {
    let Some(options) = options.map(values::raw) else { return Ok(None) };
    match values::type_of(env, options) {
        ValueType::Undefined => Ok(None),
        ValueType::Object => Ok(Some(options)),
        _ => Err(message::options_not_object(args::value(env, options)).into()),
    }
}

/// `open()`'s options: `{ backend?, blockSize?, cacheBudget?, spillThreshold?, undoLimit? }`, and
/// `store?`, checked only.
fn open_options(env: &Env, options: Option<&Unknown<'_>>) -> ApiResult<(FileBackend, VirtualBufferOptions)> {
    let mut tuning = VirtualBufferOptions::default();
    let Some(options) = options_object(env, options)? else {
        return Ok((FileBackend::Positional, tuning));
    };
    let backend = match args::choice_option(env, options, "backend", &binding::FILE_BACKENDS)? {
        // SAFETY: "mapped" is the JS caller's explicit choice, and the API documents its hazard
        // (index.d.ts: a file truncated underneath kills the process), as `mapped`'s contract asks of
        // whoever chooses it; "positional" is the default.
        Some("mapped") => unsafe { FileBackend::mapped() },
        _ => FileBackend::Positional,
    };
    // Where the browser build keeps documents: checked as it checks it (a call one build refuses, the
    // other refuses too), and meaningless here.
    args::choice_option(env, options, "store", &binding::STORES)?;
    if let Some(value) = args::number_option(env, options, "blockSize")? {
        tuning.block_size = binding::block_size(value, "blockSize")?;
    }
    for (key, field) in [
        ("cacheBudget", &mut tuning.cache_budget),
        ("spillThreshold", &mut tuning.spill_threshold),
        ("undoLimit", &mut tuning.undo_limit),
    ] {
        if let Some(value) = args::size_option(env, options, key)? {
            *field = value;
        }
    }
    Ok((backend, tuning))
}

/// A Promise of `job`'s result, computed on the thread pool and turned into a JS value by `settle`;
/// a rejected Promise when the arguments were bad (`job` is an error). `ticket`: the JS layer's, for
/// work it may cancel before it starts (reads, not saves: see `js/waits.mjs`).
fn promise<T: Send + 'static>(
    env: &Env,
    ticket: Option<&Unknown<'_>>,
    job: ApiResult<impl FnOnce() -> ApiResult<T> + Send + 'static>,
    settle: impl FnOnce(&Env, T) -> ApiResult<Raw> + Send + 'static,
) -> napi::Result<Raw> {
    match job {
        Ok(job) => work::queue(env, args::work_ticket(env, ticket), job, settle),
        Err(e) => work::rejected(env, e),
    }
}

/// Settles with a number, `null`, or `undefined` (for `()`).
fn plain<V: napi::bindgen_prelude::ToNapiValue>(env: &Env, value: V) -> ApiResult<Raw> {
    values::to_js(env, value).map_err(ApiError::error)
}

/// Offsets and line numbers travel as `u64`; JS numbers hold them exactly up to 2^53.
fn number(n: u64) -> f64 {
    n as f64
}

/// A byte buffer that edits files larger than memory: opening reads nothing, edits are recorded as
/// pieces, reads load only what they touch, and `save()` writes the result atomically.
#[napi(js_name = "VirtualBuffer", custom_finalize)]
pub struct JsVirtualBuffer {
    /// `None` once freed.
    inner: Option<VirtualBuffer>,
    /// How files are read: the one it was opened with, used again for the file `saveAs()` writes.
    backend: FileBackend,
    /// What the buffer holds in native memory, reported to V8 so that one the program drops is
    /// collected in time: `holds`, and the inserted bytes not yet spilled to the side file.
    memory: ExternalMemory,
    /// The native memory its content holds or may come to hold: a copy of the bytes it was made
    /// from, or the block cache that reads of its file fill (up to `cacheBudget`, and the file's
    /// size; a mapped file is the kernel's page cache, not ours). Reported as a whole from the start,
    /// since the cache fills on the thread pool, out of reach of V8's accounting.
    holds: usize,
}

impl ObjectFinalize for JsVirtualBuffer {
    fn finalize(mut self, env: Env) -> napi::Result<()> {
        self.memory.clear(&env);
        Ok(())
    }
}

impl JsVirtualBuffer {
    fn new(env: &Env, buffer: VirtualBuffer, backend: FileBackend, holds: usize) -> Self {
        let mut this =
            JsVirtualBuffer { inner: Some(buffer), backend, memory: ExternalMemory::default(), holds };
        this.report_memory(env);
        this
    }

    /// Reports what the buffer holds now (see [`memory`](Self::memory)); after the edits that store
    /// inserted bytes.
    fn report_memory(&mut self, env: &Env) {
        let unsaved = self.inner.as_ref().map_or(0, |b| b.stats().unsaved_in_memory_bytes);
        self.memory.set(env, self.holds.saturating_add(unsaved));
    }

    fn live(&self) -> ApiResult<&VirtualBuffer> {
        self.inner.as_ref().ok_or_else(|| ApiError::used_up("VirtualBuffer", "freed"))
    }

    /// The live buffer and checked `start` and `end` arguments (`end` left out: unbounded, the end of
    /// the content as it is when the range is used). As in every member, a freed buffer's error
    /// comes before the arguments', as in the wasm build.
    fn range(
        &self,
        env: &Env,
        start: &Unknown<'_>,
        end: Option<&Unknown<'_>>,
    ) -> ApiResult<(&VirtualBuffer, u64, Bound<u64>)> {
        let buffer = self.live()?;
        let start = args::index(env, start, "start")? as u64;
        let end = match end {
            Some(end) => Bound::Excluded(args::index(env, end, "end")? as u64),
            None => Bound::Unbounded,
        };
        Ok((buffer, start, end))
    }
}

/// Refuses content that JS numbers cannot count exactly: the buffer's length once `removed` bytes
/// go and `added` come (a file past 8 PiB opened, or an edit that would grow it past that).
fn within_js_numbers(buffer: &VirtualBuffer, removed: u64, added: usize) -> ApiResult<()> {
    let len = buffer.len().saturating_sub(removed).saturating_add(added as u64);
    if len > binding::MAX_SAFE_INTEGER {
        return Err(message::longer_than_js_counts(len, binding::MAX_SAFE_INTEGER).into());
    }
    Ok(())
}

/// `e`, an error of a call on the file `what` names, for JS: with `what` said first unless the core's
/// message names the file already. A file layer's I/O errors say what was being done to which file
/// ("opening notes.txt: No such file or directory", `PersistenceError::Io`), and an error for a file
/// changed underneath names it too: a second "cannot open notes.txt" would only repeat it.
fn file_error(e: VbufError, what: impl std::fmt::Display) -> ApiError {
    use omnibuf::vbuf::PersistenceError::{ExternallyChanged, Io, RewrittenInPlace};
    let names_the_file =
        matches!(e, VbufError::Persistence(Io(_) | ExternallyChanged { .. } | RewrittenInPlace { .. }));
    let error = ApiError::from(e);
    if names_the_file {
        error
    } else {
        error.context(what)
    }
}

#[napi]
impl JsVirtualBuffer {
    /// Opens the file at `path` (a string) without reading it; resolves to the buffer. `options`:
    /// `{ backend?: "positional" | "mapped", blockSize?, cacheBudget?, spillThreshold?, undoLimit? }`.
    /// The default backend reads with positional reads, so a file truncated by another program gives
    /// an error, never a crash; `"mapped"` memory-maps it (zero-copy reads, but a truncation underneath
    /// kills the process with SIGBUS). `ticket`: see [`promise`].
    #[napi(catch_unwind)]
    pub fn open(
        env: &Env,
        path: Unknown<'_>,
        options: Option<Unknown<'_>>,
        ticket: Option<Unknown<'_>>,
    ) -> napi::Result<Raw> {
        let job = (|| {
            let path = args::path(env, &path, "path")?;
            let (backend, tuning) = open_options(env, options.as_ref())?;
            Ok(move || {
                let buffer = VirtualBuffer::open_with(&path, backend, tuning)
                    .map_err(|e| file_error(e, format_args!("cannot open {path}")))?;
                within_js_numbers(&buffer, 0, 0).map_err(|e| e.context(format_args!("cannot open {path}")))?;
                Ok((buffer, backend, tuning.cache_budget))
            })
        })();
        promise(env, ticket.as_ref(), job, |env, (buffer, backend, cache_budget)| {
            let holds = match backend {
                FileBackend::Positional => {
                    usize::try_from(buffer.len()).unwrap_or(usize::MAX).min(cache_budget)
                }
                FileBackend::Mapped(_) => 0,
            };
            let instance = JsVirtualBuffer::new(env, buffer, backend, holds)
                .into_instance(env)
                .map_err(ApiError::error)?;
            Ok(Raw(instance.value))
        })
    }

    /// A buffer over a copy of `bytes` (a `Uint8Array`, `ArrayBuffer`, typed array, or a string as
    /// UTF-8), kept in memory; `saveAs()` writes it to a file.
    #[napi(js_name = "fromBytes", catch_unwind)]
    pub fn from_bytes(env: &Env, bytes: Unknown<'_>) -> napi::Result<JsVirtualBuffer> {
        let (bytes, _) = args::bytes(env, &bytes, "bytes").or_throw(env)?;
        let holds = bytes.len();
        Ok(JsVirtualBuffer::new(env, VirtualBuffer::from_bytes(bytes), FileBackend::Positional, holds))
    }

    /// Length in bytes.
    #[napi(getter, catch_unwind)]
    pub fn length(&self, env: &Env) -> napi::Result<f64> {
        Ok(number(self.live().or_throw(env)?.len()))
    }

    /// Whether the content is not the one opened or last saved (`VirtualBuffer::is_modified`).
    #[napi(getter, js_name = "isModified", catch_unwind)]
    pub fn is_modified(&self, env: &Env) -> napi::Result<bool> {
        Ok(self.live().or_throw(env)?.is_modified())
    }

    /// Inserts a copy of `bytes` at `offset` (at most the length; `RangeError` beyond).
    #[napi(catch_unwind)]
    pub fn insert(&mut self, env: &Env, offset: Unknown<'_>, bytes: Unknown<'_>) -> napi::Result<()> {
        let buffer = self.live().or_throw(env)?;
        let offset = args::index(env, &offset, "offset").or_throw(env)? as u64;
        let (bytes, _) = args::bytes(env, &bytes, "bytes").or_throw(env)?;
        within_js_numbers(buffer, 0, bytes.len()).or_throw(env)?;
        buffer.insert(offset, &bytes).map_err(ApiError::from).or_throw(env)?;
        self.report_memory(env);
        Ok(())
    }

    /// Deletes bytes `start .. end`.
    #[napi(catch_unwind)]
    pub fn delete(&self, env: &Env, start: Unknown<'_>, end: Unknown<'_>) -> napi::Result<()> {
        let (buffer, start, end) = self.range(env, &start, Some(&end)).or_throw(env)?;
        buffer.delete((Bound::Included(start), end)).map_err(ApiError::from).or_throw(env)
    }

    /// Replaces bytes `start .. end` by a copy of `bytes`, as one undoable edit.
    #[napi(catch_unwind)]
    pub fn replace(
        &mut self,
        env: &Env,
        start: Unknown<'_>,
        end: Unknown<'_>,
        bytes: Unknown<'_>,
    ) -> napi::Result<()> {
        let (buffer, start, end) = self.range(env, &start, Some(&end)).or_throw(env)?;
        let (bytes, _) = args::bytes(env, &bytes, "bytes").or_throw(env)?;
        let removed = match end {
            Bound::Excluded(end) => end.saturating_sub(start),
            _ => buffer.len().saturating_sub(start),
        };
        within_js_numbers(buffer, removed, bytes.len()).or_throw(env)?;
        buffer.replace((Bound::Included(start), end), &bytes).map_err(ApiError::from).or_throw(env)?;
        self.report_memory(env);
        Ok(())
    }

    /// Undoes the last edit; `false` when there is nothing to undo.
    #[napi(catch_unwind)]
    pub fn undo(&self, env: &Env) -> napi::Result<bool> {
        Ok(self.live().or_throw(env)?.undo())
    }

    /// Redoes the last undone edit; `false` when there is nothing to redo.
    #[napi(catch_unwind)]
    pub fn redo(&self, env: &Env) -> napi::Result<bool> {
        Ok(self.live().or_throw(env)?.redo())
    }

    /// Resolves to a `ZeroCopyBuffer` of bytes `start .. end` (`end` left out: the length when the
    /// work runs, which sees the content as it is then).
    #[napi(catch_unwind)]
    pub fn read(
        &self,
        env: &Env,
        start: Unknown<'_>,
        end: Option<Unknown<'_>>,
        ticket: Option<Unknown<'_>>,
    ) -> napi::Result<Raw> {
        let job = self.range(env, &start, end.as_ref()).map(|(buffer, start, end)| {
            let buffer = buffer.clone();
            move || read(&buffer, start, end)
        });
        promise(env, ticket.as_ref(), job, |env, bytes| {
            let instance = JsZeroCopyStorage::new(env, bytes).into_instance(env).map_err(ApiError::error)?;
            Ok(Raw(instance.value))
        })
    }

    /// Resolves to the offset of the first occurrence of `pattern` (bytes or a string as UTF-8) that
    /// lies inside `start .. end` (default: the whole buffer), or `null`.
    #[napi(catch_unwind)]
    pub fn find(
        &self,
        env: &Env,
        pattern: Unknown<'_>,
        start: Option<Unknown<'_>>,
        end: Option<Unknown<'_>>,
        ticket: Option<Unknown<'_>>,
    ) -> napi::Result<Raw> {
        let job = (|| {
            let buffer = self.live()?;
            let (pattern, _) = args::bytes(env, &pattern, "pattern")?;
            let start = args::index_or(env, start.as_ref(), 0, "start")? as u64;
            let end = match &end {
                Some(end) => Bound::Excluded(args::index(env, end, "end")? as u64),
                None => Bound::Unbounded,
            };
            let buffer = buffer.clone();
            Ok(move || Ok(buffer.find(&pattern, (Bound::Included(start), end))?))
        })();
        promise(env, ticket.as_ref(), job, |env, found| plain(env, found.map(number)))
    }

    /// Resolves to the number of lines (line feeds plus one). The first line query scans the content
    /// once; later ones are quick.
    #[napi(js_name = "lineCount", catch_unwind)]
    pub fn line_count(&self, env: &Env, ticket: Option<Unknown<'_>>) -> napi::Result<Raw> {
        let job = self.live().map(|b| {
            let buffer = b.clone();
            move || Ok(buffer.line_count()?)
        });
        promise(env, ticket.as_ref(), job, |env, n| plain(env, number(n)))
    }

    /// Resolves to the offset where line `line` (0-based) starts; rejects with a `RangeError` past the
    /// last line.
    #[napi(js_name = "lineToOffset", catch_unwind)]
    pub fn line_to_offset(
        &self,
        env: &Env,
        line: Unknown<'_>,
        ticket: Option<Unknown<'_>>,
    ) -> napi::Result<Raw> {
        let job = self.live().and_then(|buffer| {
            let line = args::index(env, &line, "line")?;
            let buffer = buffer.clone();
            Ok(move || Ok(buffer.line_to_offset(line as u64)?))
        });
        promise(env, ticket.as_ref(), job, |env, n| plain(env, number(n)))
    }

    /// Resolves to the line (0-based) that holds `offset` (at most the length).
    #[napi(js_name = "offsetToLine", catch_unwind)]
    pub fn offset_to_line(
        &self,
        env: &Env,
        offset: Unknown<'_>,
        ticket: Option<Unknown<'_>>,
    ) -> napi::Result<Raw> {
        let job = self.live().and_then(|buffer| {
            let offset = args::index(env, &offset, "offset")?;
            let buffer = buffer.clone();
            Ok(move || Ok(buffer.offset_to_line(offset as u64)?))
        });
        promise(env, ticket.as_ref(), job, |env, n| plain(env, number(n)))
    }

    /// Saves to the file it came from, atomically; rejects with an `Error` if the file changed on disk
    /// since it was opened or last saved, unless `options.force` is `true`. A buffer from
    /// `fromBytes()` has no file: it keeps the content in memory (use `saveAs()`).
    #[napi(catch_unwind)]
    pub fn save(&self, env: &Env, options: Option<Unknown<'_>>) -> napi::Result<Raw> {
        let job = (|| {
            let buffer = self.live()?;
            let force = match options_object(env, options.as_ref())? {
                Some(options) => args::flag_option(env, options, "force")?.unwrap_or(false),
                None => false,
            };
            let buffer = buffer.clone();
            Ok(move || Ok(buffer.save_with(SaveOptions { force })?))
        })();
        promise(env, None, job, |env, ()| plain(env, ()))
    }

    /// Saves to a new file at `path`, atomically; later saves go to that file.
    #[napi(js_name = "saveAs", catch_unwind)]
    pub fn save_as(&self, env: &Env, path: Unknown<'_>) -> napi::Result<Raw> {
        let job = (|| {
            let buffer = self.live()?;
            let path = args::path(env, &path, "path")?;
            let buffer = buffer.clone();
            let backend = self.backend;
            Ok(move || {
                buffer
                    .save_as(&path, backend)
                    .map_err(|e| file_error(e, format_args!("cannot save to {path}")))
            })
        })();
        promise(env, None, job, |env, ()| plain(env, ()))
    }

    /// Releases this handle now; later calls throw. Work already started finishes.
    #[napi(catch_unwind)]
    pub fn free(&mut self, env: &Env) {
        self.inner = None;
        self.memory.clear(env);
    }
}

/// Bytes `start .. end` (unbounded: to the end as it is now), on the thread pool, in memory of their
/// own.
///
/// The core's `read` may return a view of the file's mapping (read-only memory: a write through a JS
/// view of it would kill the process with SIGSEGV) or of the buffer's block cache (bytes other reads
/// and `save()`, on the thread pool, see). V8 has no read-only `ArrayBuffer`, and the result's
/// `view()` is writable, so the result is always a copy only it holds: one copy, here on the thread
/// pool, and what JS writes to its views reaches nothing else.
fn read(buffer: &VirtualBuffer, start: u64, end: Bound<u64>) -> ApiResult<omnibuf::ZeroCopyBuffer> {
    let wanted = match end {
        Bound::Excluded(end) => end,
        _ => buffer.len(),
    };
    if wanted.saturating_sub(start) <= LARGE_READ {
        // One snapshot resolves the range: an edit the JS thread makes meanwhile is in it or not.
        let shared = buffer.read((Bound::Included(start), end))?;
        return Ok(omnibuf::ZeroCopyBuffer::copy_from_slice(&shared, shared.kind()));
    }
    // The length is read first, to size the copy: an end left out that an edit shortens before the
    // copy is made is the length again, a few times.
    let mut tries = 0;
    loop {
        tries += 1;
        let len = buffer.len();
        let stop = if let Bound::Excluded(end) = end { end } else { len };
        if start > stop || stop > len {
            return Err(VbufError::OutOfRange { start, end: stop, len }.into());
        }
        let too_large = || VbufError::AllocationFailed { bytes: stop - start, what: "a read" };
        let size = usize::try_from(stop - start).map_err(|_| too_large())?;
        let mut bytes = Vec::new();
        bytes.try_reserve_exact(size).map_err(|_| too_large())?;
        bytes.resize(size, 0);
        match buffer.read_into(start, &mut bytes) {
            Err(VbufError::OutOfRange { .. }) if end == Bound::Unbounded && tries < 4 => {}
            read => {
                read?;
                return Ok(omnibuf::ZeroCopyBuffer::from_bytes(bytes, omnibuf::BufferKind::raw()));
            }
        }
    }
}
