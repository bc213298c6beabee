//! The file persistence layer: a file on disk read through a memory map or through positional reads,
//! saved by writing a new file and renaming it over the old one.

#[cfg(target_os = "linux")]
mod acl;
mod atomic_save;
mod identity;
mod positional;
mod temp_file;
mod write_behind;

#[cfg(test)]
mod tests;

pub use atomic_save::is_save_temp_file;
pub(crate) use atomic_save::save_recipe_as;

use std::fmt;
use std::fs::File;
use std::path::{Path, PathBuf};

use super::{PersistenceError, PersistenceLayer, SaveOptions, SaveRecipe};
use crate::{BufferKind, ZeroCopyBuffer};
use identity::FileIdentity;

/// How a [`FilePersistence`] reads its file.
///
/// [`Positional`](Self::Positional), the default, cannot be broken by another program. Mapping is
/// faster, but only sound while nobody else changes the file, so it takes an `unsafe` call to choose
/// it: [`FileBackend::mapped`].
///
/// ```
/// use omnibuf::vbuf::FileBackend;
/// assert_eq!(FileBackend::default(), FileBackend::Positional);
/// // SAFETY: this program promises that no other program changes the files it opens this way.
/// let mapped = unsafe { FileBackend::mapped() };
/// assert!(matches!(mapped, FileBackend::Mapped(_)));
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub enum FileBackend {
    /// Positional reads (`pread` on Unix, `ReadFile` at an offset on Windows) into the caller's memory,
    /// through the virtual buffer's block cache. Whatever another program does to the file, a read
    /// gives the bytes it found or an error: a file that shrank underneath gives
    /// [`PersistenceError::ShortRead`], never a crash.
    #[default]
    Positional,
    /// The whole file is memory-mapped once, read-only, at open; reads copy from the mapping and
    /// [`read_buffer`](PersistenceLayer::read_buffer) returns zero-copy views of it. The kernel pages
    /// the file in on first touch, so opening reads nothing. Made only by the `unsafe`
    /// [`FileBackend::mapped`], whose contract the `UnguardedMapping` it carries stands for.
    Mapped(UnguardedMapping),
}

/// The mark of a [`FileBackend::Mapped`]: the caller of [`FileBackend::mapped`] took on its safety
/// contract. It has no other value than that; only that `unsafe` function makes one.
///
/// ```
/// use omnibuf::vbuf::FileBackend;
///
/// // SAFETY: the backend is only looked at here, never used to open a file.
/// let backend = unsafe { FileBackend::mapped() };
/// assert!(matches!(backend, FileBackend::Mapped(_)));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct UnguardedMapping(());

impl FileBackend {
    /// The memory-mapped backend: the fastest reads, and views of the file instead of copies.
    ///
    /// # Safety
    ///
    /// A mapping is a `&[u8]` over the file's pages that the kernel keeps in step with the file, so
    /// it is only sound while no one changes the file. For as long as a layer or a virtual buffer
    /// that read a file with this backend (including the file a save with it wrote) or a buffer it
    /// handed out lives, the caller guarantees that no other program or thread:
    ///
    /// - truncates the file (a log rotated with `copytruncate`, `truncate -s 0`, an editor that
    ///   saves in place): touching a page past the new end kills the process with `SIGBUS`;
    /// - writes into it in place: bytes behind a `&[u8]` change, which safe Rust assumes never
    ///   happens.
    ///
    /// omnibuf itself never writes into a file it opened (its save writes a new file and renames
    /// it over the path), and another program replacing the file the same way is harmless: the
    /// mapping keeps the old file. Use [`FileBackend::Positional`] for files others may change.
    /// On Windows a mapped file cannot be replaced, so saving over it is expected to fail there.
    ///
    /// ```
    /// use omnibuf::vbuf::{FileBackend, FilePersistence, PersistenceLayer};
    /// # let dir = tempfile::tempdir()?;
    /// let path = dir.path().join("private.txt");
    /// std::fs::write(&path, b"hello")?;
    /// // SAFETY: the file lives in a directory only this program knows of.
    /// let file = FilePersistence::open(&path, unsafe { FileBackend::mapped() })?;
    /// assert!(file.is_mapped());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub const unsafe fn mapped() -> FileBackend {
        FileBackend::Mapped(UnguardedMapping(()))
    }
}

/// A [`PersistenceLayer`] over a file on disk.
///
/// Opening costs the same for a 10 MiB and a 10 GiB file: it opens the file, reads its metadata and,
/// for [`FileBackend::Mapped`], maps it; no content is read. The length is the file's length at open:
/// the layer reads the content as it was opened, and a file changed since then is reported by
/// [`check_unchanged`](PersistenceLayer::check_unchanged) (size, modification time, and inode and
/// device, or on Windows file index and volume).
///
/// [`save`](PersistenceLayer::save) is atomic and returns a new layer of the same backend over the new
/// file; this layer keeps its descriptor and mapping of the old file, so it still reads the old
/// content. The steps of a save: remove the temporary files that killed saves of the target left;
/// create a temporary file with `create_new` in the target's directory (named
/// `.<name>.<pid>-<unique>.omnibuf-save`, see [`is_save_temp_file`](crate::vbuf::is_save_temp_file))
/// and, on Unix, hold an exclusive `flock` on it until the end (when it replaces a file, it is
/// readable by its owner only until the permissions are copied); write the pieces, copying runs with
/// [`PersistenceLayer::copy_range_to_file`] (`copy_file_range` on Linux); on Unix give it the
/// permissions and, where allowed, the owner and group of the file it replaces (without the
/// set-user-id bit when the owner could not be kept, nor the set-group-id and group bits when the
/// group could not), and on Linux its access ACL; sync it to disk; check the target once more and
/// rename it over the target, saves of one target taking turns for those two steps (in this
/// process; on Unix also with other processes, by an exclusive `flock` on the file replaced), so
/// that of two layers saving one file at once the second finds it changed and refuses; on
/// Unix sync the directory so the rename itself is durable (unless the directory may not be read).
/// At every moment the path names either the whole old or the whole new file. A symbolic link at
/// the path is followed: the file it points to is replaced and the link stays (a link to nothing
/// is an error that names it: the save does not make the file it points to). What a new file does
/// not take over: other hard links of the old one keep its content, and extended attributes other
/// than the access ACL are not copied. Replacing a file takes the right to write its directory, not
/// the file: a read-only file (mode `0444`, or another user's in a directory this user may write)
/// is replaced like any other, as editors that save this way do; check its permissions first to
/// refuse that.
///
/// ```
/// use omnibuf::vbuf::{FileBackend, FilePersistence, PersistenceLayer};
/// use omnibuf::vbuf::{SaveOptions, SavePiece};
/// use omnibuf::{BufferKind, ZeroCopyBuffer};
///
/// let dir = tempfile::tempdir()?;
/// let path = dir.path().join("notes.txt");
/// std::fs::write(&path, b"hello world")?;
///
/// // SAFETY: nothing else knows of this temporary directory, so no other program changes the file.
/// let file = FilePersistence::open(&path, unsafe { FileBackend::mapped() })?;
/// assert_eq!(file.read_buffer(6, 5)?, b"world"[..]); // a view of the mapping
///
/// let recipe = vec![
///     Ok(SavePiece::Copy { offset: 0, len: 5 }),
///     Ok(SavePiece::Insert(ZeroCopyBuffer::from_static(b", brave new", BufferKind::raw()))),
///     Ok(SavePiece::Copy { offset: 5, len: 6 }),
/// ];
/// let saved = file.save(&mut recipe.into_iter(), SaveOptions::default())?;
/// assert_eq!(std::fs::read(&path)?, b"hello, brave new world");
/// assert_eq!(saved.read_buffer(0, 5)?, b"hello"[..]);
/// assert_eq!(file.read_buffer(0, 11)?, b"hello world"[..]); // the old layer reads the old file
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct FilePersistence {
    /// The path the caller gave, made absolute against the working directory of that time (symbolic
    /// links left as they are): external changes are looked for there, and save replaces it, however
    /// the process changes its working directory meanwhile.
    path: PathBuf,
    file: File,
    identity: FileIdentity,
    reader: Reader,
}

/// Where reads come from.
enum Reader {
    /// The whole file's mapping as one buffer (empty for an empty file, which is not mapped).
    Mapped(ZeroCopyBuffer),
    Positional,
}

/// Opens `path` for reading without waiting: opening a FIFO for reading would wait for a writer to
/// come, forever if none does, before the caller could see it is no regular file and refuse it. The
/// flag stays on the descriptor and changes nothing for a regular file, whose reads never wait.
///
/// Windows refuses to open a directory as a file with "Access denied", which would send its user
/// looking at permissions: the error then says what the path is instead.
fn open_for_reading(path: &Path) -> std::io::Result<File> {
    let mut options = std::fs::OpenOptions::new();
    options.read(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::custom_flags(&mut options, libc::O_NONBLOCK);
    options.open(path).map_err(|e| {
        if cfg!(windows) && e.kind() == std::io::ErrorKind::PermissionDenied && path.is_dir() {
            not_a_regular_file(true)
        } else {
            e
        }
    })
}

/// The error for a path that names no regular file: a directory is `IsADirectory` (`EISDIR` to Node's
/// `fs` too), anything else (a FIFO, a device, a socket) `InvalidInput`, which the system has no
/// error for.
pub(super) fn not_a_regular_file(is_dir: bool) -> std::io::Error {
    if is_dir {
        std::io::Error::new(std::io::ErrorKind::IsADirectory, "a directory, not a regular file")
    } else {
        std::io::Error::new(std::io::ErrorKind::InvalidInput, "not a regular file")
    }
}

/// Whether the file's content is made up as it is read, so that its size says nothing of it: a file
/// of the kernel's own file systems (`/proc`, `/sys` and the like, whose files report 0 or 4096
/// bytes whatever they hold), or, on any system, a file whose size reads 0 and that still has a
/// first byte to read (some such files even refuse a read of one byte). An empty regular file reads
/// none.
fn made_up_as_read(file: &File, meta: &std::fs::Metadata) -> bool {
    on_a_kernel_file_system(file) || (meta.len() == 0 && has_a_first_byte(file))
}

fn has_a_first_byte(file: &File) -> bool {
    let mut byte = [0u8];
    #[cfg(unix)]
    let read = std::os::unix::fs::FileExt::read_at(file, &mut byte, 0);
    #[cfg(windows)]
    let read = std::os::windows::fs::FileExt::seek_read(file, &mut byte, 0);
    !matches!(read, Ok(0))
}

/// Linux: whether the file lives on a file system whose files the kernel writes as they are read.
#[cfg(any(target_os = "linux", target_os = "android"))]
fn on_a_kernel_file_system(file: &File) -> bool {
    use std::os::fd::AsRawFd;
    // The magic numbers of `statfs(2)`, written out: their type in `libc` differs between targets.
    const MADE_UP_AS_READ: [u32; 8] = [
        0x9fa0,      // proc
        0x6265_6572, // sysfs
        0x6462_6720, // debugfs
        0x7472_6163, // tracefs
        0x7363_6673, // securityfs
        0x6265_6570, // configfs
        0x0027_e0eb, // cgroup
        0x6367_7270, // cgroup2
    ];
    // SAFETY: `statfs` is a C structure of integers, for which all zeros is a valid value.
    let mut fs: libc::statfs = unsafe { std::mem::zeroed() };
    // SAFETY: `fstatfs` writes a `statfs` through a pointer to one; the descriptor is open for as
    // long as `file` is borrowed.
    if unsafe { libc::fstatfs(file.as_raw_fd(), &mut fs) } != 0 {
        return false;
    }
    // `f_type`'s type differs between targets; every magic number fits in 32 bits.
    #[allow(clippy::unnecessary_cast)]
    let kind = fs.f_type as u32;
    MADE_UP_AS_READ.contains(&kind)
}

#[cfg(not(any(target_os = "linux", target_os = "android")))]
fn on_a_kernel_file_system(_file: &File) -> bool {
    false
}

impl FilePersistence {
    /// Opens the regular file at `path` for reading with the given backend.
    ///
    /// On Unix, also removes the temporary files that saves of this file killed mid-way left next to
    /// it, those no live save holds locked (see the type's docs); that costs one listing of the
    /// directory.
    ///
    /// Fails with [`PersistenceError::Io`] (its message names the path) when the file cannot be
    /// opened or mapped, or is not a regular file, or its size says nothing of its content (a
    /// `/proc` or `/sys` file, made up as it is read).
    ///
    /// ```
    /// use omnibuf::vbuf::{FileBackend, FilePersistence, PersistenceError, PersistenceLayer};
    /// # let dir = tempfile::tempdir()?;
    /// let path = dir.path().join("data.bin");
    /// std::fs::write(&path, [1, 2, 3])?;
    /// let file = FilePersistence::open(&path, FileBackend::Positional)?;
    /// assert_eq!(file.len()?, 3);
    /// let missing = FilePersistence::open(dir.path().join("nope"), FileBackend::Positional);
    /// assert!(matches!(missing, Err(PersistenceError::Io(_))));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn open(path: impl AsRef<Path>, backend: FileBackend) -> Result<Self, PersistenceError> {
        let path = path.as_ref();
        let file = open_for_reading(path)
            .map_err(|e| with_context(e, format_args!("opening {}", path.display())))?;
        let layer = Self::from_file(file, path.to_path_buf(), backend)?;
        if let Ok(target) = atomic_save::resolve_symlink(path) {
            temp_file::remove_stale_temp_files(&target);
        }
        Ok(layer)
    }

    /// Builds the layer over an open file that `path` names (relative: in the working directory now).
    fn from_file(file: File, path: PathBuf, backend: FileBackend) -> Result<Self, PersistenceError> {
        // Only an empty path or a working directory gone fail here, and then `path` is as good.
        let path = std::path::absolute(&path).unwrap_or(path);
        let meta = file
            .metadata()
            .map_err(|e| with_context(e, format_args!("reading metadata of {}", path.display())))?;
        if !meta.is_file() {
            return Err(with_context(
                not_a_regular_file(meta.is_dir()),
                format_args!("opening {}", path.display()),
            ));
        }
        if made_up_as_read(&file, &meta) {
            let e = std::io::Error::new(
                std::io::ErrorKind::InvalidInput,
                "its content is made up as it is read (as under /proc or /sys), so its size says \
                 nothing of it and it cannot be read by position",
            );
            return Err(with_context(e, format_args!("opening {}", path.display())));
        }
        let identity = FileIdentity::of(&file, &meta)
            .map_err(|e| with_context(e, format_args!("reading metadata of {}", path.display())))?;
        let reader = match backend {
            FileBackend::Mapped(_) => Reader::Mapped(
                map_whole_file(&file, identity.len())
                    .map_err(|e| with_context(e, format_args!("mapping {}", path.display())))?,
            ),
            FileBackend::Positional => Reader::Positional,
        };
        Ok(Self { path, file, identity, reader })
    }

    /// The path this layer was opened with.
    ///
    /// ```
    /// # use omnibuf::vbuf::{FileBackend, FilePersistence};
    /// # let dir = tempfile::tempdir()?;
    /// let path = dir.path().join("empty");
    /// std::fs::write(&path, b"")?;
    /// let file = FilePersistence::open(&path, FileBackend::Positional)?;
    /// assert_eq!(file.file_path(), path);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn file_path(&self) -> &Path {
        &self.path
    }

    /// The backend this layer reads with.
    ///
    /// ```
    /// # use omnibuf::vbuf::{FileBackend, FilePersistence};
    /// # let dir = tempfile::tempdir()?;
    /// # let path = dir.path().join("empty");
    /// # std::fs::write(&path, b"")?;
    /// let file = FilePersistence::open(&path, FileBackend::Positional)?;
    /// assert_eq!(file.backend(), FileBackend::Positional);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn backend(&self) -> FileBackend {
        match self.reader {
            Reader::Mapped(_) => FileBackend::Mapped(UnguardedMapping(())),
            Reader::Positional => FileBackend::Positional,
        }
    }

    /// A system's error reading at `offset`, said of this file; a read that came back short is left
    /// as it is (its message says at which offset, and that the file may have been truncated).
    fn reading(&self, offset: u64, error: PersistenceError) -> PersistenceError {
        match error {
            PersistenceError::Io(e) => {
                with_context(e, format_args!("reading {} at {offset}", self.path.display()))
            }
            other => other,
        }
    }

    /// Checks that `offset..offset + len` lies within the content and returns its end.
    fn check_range(&self, offset: u64, len: u64) -> Result<u64, PersistenceError> {
        let total = self.identity.len();
        offset.checked_add(len).filter(|&end| end <= total).ok_or(PersistenceError::OutOfRange {
            offset,
            len,
            total,
        })
    }
}

/// Maps the first `len` bytes of `file` read-only, as one zero-copy buffer.
fn map_whole_file(file: &File, len: u64) -> std::io::Result<ZeroCopyBuffer> {
    if len == 0 {
        // Nothing to map; some platforms refuse zero-length mappings.
        return Ok(ZeroCopyBuffer::default());
    }
    let len = usize::try_from(len).map_err(|_| {
        std::io::Error::new(std::io::ErrorKind::OutOfMemory, "file is larger than the address space")
    })?;
    // SAFETY: a memory map is only sound while nobody modifies or truncates the file underneath it.
    // omnibuf never writes into a file it opened (save writes a new file and renames it over the
    // path), so the risk is other programs; this runs only for `FileBackend::Mapped`, which only the
    // `unsafe fn FileBackend::mapped` makes, whose caller guarantees that nobody else changes the file.
    let map = unsafe { memmap2::MmapOptions::new().len(len).map(file)? };
    Ok(ZeroCopyBuffer::from_owner(map, BufferKind::raw()))
}

/// Prefixes an I/O error's message with what was being done, keeping its kind.
pub(super) fn with_context(error: std::io::Error, doing: fmt::Arguments<'_>) -> PersistenceError {
    PersistenceError::Io(crate::platform::os_error::with_context(error, doing))
}

impl fmt::Debug for FilePersistence {
    /// Shows path, backend and length; never the content.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FilePersistence")
            .field("path", &self.path)
            .field("backend", &self.backend())
            .field("len", &self.identity.len())
            .finish_non_exhaustive()
    }
}

impl PersistenceLayer for FilePersistence {
    /// The file's length when it was opened.
    fn len(&self) -> Result<u64, PersistenceError> {
        Ok(self.identity.len())
    }

    fn read_at(&self, offset: u64, dst: &mut [u8]) -> Result<(), PersistenceError> {
        let end = self.check_range(offset, dst.len() as u64)?;
        match &self.reader {
            // Within the mapping, which is addressable: the casts cannot truncate.
            Reader::Mapped(map) => dst.copy_from_slice(&map[offset as usize..end as usize]),
            Reader::Positional => {
                positional::read_exact_at(&self.file, offset, dst).map_err(|e| self.reading(offset, e))?
            }
        }
        Ok(())
    }

    fn read_buffer(&self, offset: u64, len: usize) -> Result<ZeroCopyBuffer, PersistenceError> {
        let end = self.check_range(offset, len as u64)?;
        match &self.reader {
            Reader::Mapped(map) => Ok(map.slice(offset as usize..end as usize)),
            Reader::Positional => {
                let mut bytes = vec![0u8; len];
                positional::read_exact_at(&self.file, offset, &mut bytes)
                    .map_err(|e| self.reading(offset, e))?;
                Ok(ZeroCopyBuffer::from_bytes(bytes, BufferKind::raw()))
            }
        }
    }

    fn is_mapped(&self) -> bool {
        matches!(self.reader, Reader::Mapped(_))
    }

    /// Compares the size, modification time and place (inode and device; on Windows, file index and
    /// volume) of the file now at the path with those recorded at open.
    fn check_unchanged(&self) -> Result<(), PersistenceError> {
        let changed = |detail: String| PersistenceError::ExternallyChanged {
            what: self.path.display().to_string(),
            detail,
        };
        match FileIdentity::at(&self.path) {
            Ok(now) => match self.identity.difference(&now) {
                None => Ok(()),
                Some(detail) => Err(changed(detail)),
            },
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                Err(changed("the file was deleted or moved away".to_owned()))
            }
            Err(e) => Err(with_context(e, format_args!("checking {}", self.path.display()))),
        }
    }

    /// Compares the open file's own size and modification time (not the path's) with those it had
    /// when opened.
    fn check_intact(&self) -> Result<(), PersistenceError> {
        let now = (self.file.metadata())
            .and_then(|meta| FileIdentity::of(&self.file, &meta))
            .map_err(|e| with_context(e, format_args!("checking {}", self.path.display())))?;
        match self.identity.difference(&now) {
            None => Ok(()),
            Some(detail) => {
                Err(PersistenceError::RewrittenInPlace { what: self.path.display().to_string(), detail })
            }
        }
    }

    /// Saves atomically over this layer's path (see the type's docs). Unless forced, refuses when
    /// the file changed since it was opened, checked before writing and again just before the rename.
    /// Forced or not, refuses to copy runs from this file once it was rewritten in place
    /// (`check_intact`).
    fn save(
        &self,
        recipe: &mut SaveRecipe<'_>,
        options: SaveOptions,
    ) -> Result<Box<dyn PersistenceLayer>, PersistenceError> {
        let still_unchanged = || if options.force { Ok(()) } else { self.check_unchanged() };
        still_unchanged()?;
        let saved =
            atomic_save::write_atomically(self, recipe, &self.path, self.backend(), &still_unchanged)?;
        Ok(Box::new(saved))
    }

    fn path(&self) -> Option<&Path> {
        Some(&self.path)
    }

    /// Lets the kernel copy from this file where it can (`copy_file_range` on Linux, which may share
    /// the blocks on file systems that support it, and leaves the holes of a sparse file holes);
    /// reads and writes otherwise.
    ///
    /// The kernel copies every run, also those shifted within their page by an insert or delete
    /// before them. Writing shifted runs from the mapping instead costs a page fault per mapped page,
    /// and measured slower once the page cache the copy fills was equally warm for both (the figures
    /// are in docs/performance.md, under Save).
    fn copy_range_to_file(&self, offset: u64, len: u64, dst: &mut File) -> Result<(), PersistenceError> {
        self.check_range(offset, len)?;
        #[cfg(target_os = "linux")]
        {
            use std::io::{Seek, SeekFrom};
            let copy = |from: u64, to: u64, dst: &mut File| {
                let copied = positional::copy_file_range_all(&self.file, from, to - from, dst)?;
                super::copy_range_by_reading(self, from + copied, to - from - copied, dst)
            };
            let end = offset + len;
            // Past the file's end there are no holes: a file truncated underneath must read short.
            if !self.file.metadata().is_ok_and(|meta| meta.len() >= end) {
                return copy(offset, end, dst);
            }
            // Holes of a sparse file stay holes: `dst` moves past them unwritten (the save sets the
            // new file's length at the end), and only the data between them is copied.
            let mut at = offset;
            while at < end {
                let (data, hole) = positional::next_data(&self.file, at)?.unwrap_or((end, end));
                let (data, hole) = (data.min(end), hole.min(end));
                dst.seek(SeekFrom::Current((data - at) as i64))?;
                copy(data, hole, dst)?;
                at = hole;
            }
            Ok(())
        }
        #[cfg(not(target_os = "linux"))]
        super::copy_range_by_reading(self, offset, len, dst)
    }

    /// Asks the file system where the next data lies (`SEEK_DATA`, Linux); elsewhere, or in a file
    /// shorter than `end` (truncated underneath: it must read short), every byte counts as data.
    fn next_data(&self, offset: u64, end: u64) -> Result<u64, PersistenceError> {
        #[cfg(target_os = "linux")]
        if offset < end && self.file.metadata().is_ok_and(|meta| meta.len() >= end) {
            let data = positional::next_data(&self.file, offset).map_err(|e| self.reading(offset, e))?;
            return Ok(data.map_or(end, |(data, _)| data.max(offset).min(end)));
        }
        let _ = end;
        Ok(offset)
    }
}
