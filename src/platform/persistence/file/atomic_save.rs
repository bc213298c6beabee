//! Atomic save: the recipe goes to a new file next to the target, which is synced and renamed over it.

use std::fs::{File, Metadata};
use std::io::{BufWriter, ErrorKind, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use super::temp_file::{remove_stale_temp_files, CommitTurn, TempFile, TEMP_SUFFIX};
use super::write_behind::WriteBehind;
use super::{not_a_regular_file, with_context, FileBackend, FilePersistence};
use crate::platform::native::{file_size_limit, within_file_size_limit};
use crate::platform::persistence::{check_copy, PersistenceError, PersistenceLayer, SavePiece, SaveRecipe};

/// Inserted bytes are gathered up to this size before they are written, so a recipe of many small
/// edits does not cost one system call each.
pub(super) const INSERT_BUFFER: usize = 256 << 10;

/// Writes `recipe`, whose [`SavePiece::Copy`] runs are read from `source`, to the file at `path`,
/// atomically, and returns a [`FilePersistence`] over the new file. This is the save behind
/// [`FilePersistence`]'s `save`, and a "save as" for a recipe over any layer.
///
/// The steps, and what a new file does not take over from the one it replaces, are those
/// [`FilePersistence`]'s docs list. Runs are copied by `source`
/// ([`PersistenceLayer::copy_range_to_file`]); a source rewritten in place is refused
/// ([`PersistenceLayer::check_intact`]), checked before the first run is copied and again before the
/// rename (a recipe that copies nothing needs none of its bytes). This function does not check the
/// target for external changes (the target may be another file); `FilePersistence`'s `save` does.
///
/// # Errors
///
/// Any failure before the rename (the directory is not writable, the disk is full, a recipe item is
/// `Err`, `source` cannot read a run) returns the error, removes the temporary file and leaves the
/// target untouched. If only the final directory sync fails, the new content is already in place
/// but might not survive a power loss; the error says so. A process killed mid-save leaves the target
/// whole and may leave its temporary file behind: on Unix the next save, or the next open with
/// [`FilePersistence::open`], of the same target removes every such file whose lock no live process
/// holds (elsewhere they stay).
pub(crate) fn save_recipe_as(
    source: &dyn PersistenceLayer,
    recipe: &mut SaveRecipe<'_>,
    path: impl AsRef<Path>,
    backend: FileBackend,
) -> Result<FilePersistence, PersistenceError> {
    write_atomically(source, recipe, path.as_ref(), backend, &|| Ok(()))
}

/// Whether `path` names a temporary file of a save, as one left behind by a process killed mid-save.
/// Such a file is never the only copy of anything: it can be deleted once no save is writing it (a
/// live save on Unix holds an exclusive `flock` on it).
///
/// ```
/// use omnibuf::vbuf::is_save_temp_file;
/// assert!(is_save_temp_file(".notes.txt.4242-17f3a-0.omnibuf-save".as_ref()));
/// assert!(!is_save_temp_file("notes.txt".as_ref()));
/// ```
pub fn is_save_temp_file(path: &Path) -> bool {
    path.file_name()
        .and_then(|name| name.to_str())
        .is_some_and(|name| name.starts_with('.') && name.ends_with(TEMP_SUFFIX))
}

/// [`save_recipe_as`] with a last check, run after the new file is synced and just before it is
/// renamed over the target; its error aborts the save like any other.
pub(super) fn write_atomically(
    source: &dyn PersistenceLayer,
    recipe: &mut SaveRecipe<'_>,
    path: &Path,
    backend: FileBackend,
    before_commit: &dyn Fn() -> Result<(), PersistenceError>,
) -> Result<FilePersistence, PersistenceError> {
    // An empty path, and one that names a directory (which a rename would refuse only after the new
    // file was written, maybe in another directory): refused before a temporary file is written
    // somewhere. A directory is `EISDIR` to Node's `fs` too.
    if path.as_os_str().is_empty() {
        let message = "cannot save to \"\": the path names no file";
        return Err(std::io::Error::new(ErrorKind::InvalidInput, message).into());
    }
    if let Some(why) = names_a_directory(path) {
        // Said of the path, not of the file system: nothing need be there.
        let message = format!("the path {why}, so it names a directory, not a regular file");
        let error = std::io::Error::new(ErrorKind::IsADirectory, message);
        return Err(with_context(error, format_args!("saving to {}", path.display())));
    }
    let target = resolve_symlink(path)?;
    let original = regular_file_metadata(&target)?.map(|meta| Original::read(meta, &target)).transpose()?;
    let dir = match target.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent,
        _ => Path::new("."),
    };

    remove_stale_temp_files(&target);
    let mut temp = TempFile::create(dir, &target, original.is_some())?;
    let on_temp = |e, doing: &str| with_context(e, format_args!("{doing} {}", temp.path.display()));
    let copied = write_recipe(source, recipe, &mut temp.file, &temp.path)?;
    if let Some(original) = &original {
        copy_permissions(&temp.file, original).map_err(|e| on_temp(e, "setting the permissions of"))?;
    }
    sync(&temp.file).map_err(|e| on_temp(e, "syncing"))?;
    if copied {
        // Rewritten in place during the copy: what was copied may be a mix.
        source.check_intact()?;
    }
    let file =
        handle_for_reading(&temp.file, &temp.path).map_err(|e| on_temp(e, "opening again for reading"))?;
    // From the last check to the rename, saves of this target take turns (see `CommitTurn`).
    let turn = CommitTurn::take(&target);
    before_commit()?;
    // Built before the rename, so that only the directory sync can fail once the target is replaced.
    let saved = FilePersistence::from_file(file, path.to_path_buf(), backend)?;
    if let Err(e) = temp.rename_over(&target) {
        // The layer first: Windows does not remove a file that a mapping still shows, and the
        // temporary file would stay until the next save of the target.
        drop(saved);
        drop(temp);
        return Err(e);
    }
    drop(turn);
    sync_dir(dir).map_err(|e| {
        with_context(
            e,
            format_args!(
                "{} was replaced, but syncing its directory failed, so the new content might not \
                 survive a power loss",
                target.display()
            ),
        )
    })?;
    Ok(saved)
}

/// Why `path` names a directory whatever is there, if it does: it ends in a separator, `.` or `..`,
/// or is a root or a drive. `Path` reads `d/.` and `d/` as `d`, so the raw bytes decide.
fn names_a_directory(path: &Path) -> Option<&'static str> {
    let last = path.as_os_str().as_encoded_bytes().rsplit(|&b| std::path::is_separator(b as char)).next();
    match last {
        Some(b"") => Some("ends in a separator"),
        Some(b".") => Some("ends in `.`"),
        Some(b"..") => Some("ends in `..`"),
        _ if path.file_name().is_none() => Some("is a root or a drive"),
        _ => None,
    }
}

/// The handle the saved layer reads the new file through: a second one of the temporary file `file`
/// (at `path`), that can only read. The saved layer may live long, and while a handle that may write
/// is open, Unix refuses to run the file (`ETXTBSY`: a script saved and then run) and Windows refuses
/// programs that open it sharing it for reading only (as many do); a layer opened from a path does
/// not keep them out either.
fn handle_for_reading(file: &File, path: &Path) -> std::io::Result<File> {
    #[cfg(windows)]
    {
        let _ = path; // reopened from the handle itself
        use std::os::windows::io::{AsRawHandle, FromRawHandle};
        use windows_sys::Win32::Foundation::{GENERIC_READ, INVALID_HANDLE_VALUE};
        use windows_sys::Win32::Storage::FileSystem::{
            ReOpenFile, FILE_SHARE_DELETE, FILE_SHARE_READ, FILE_SHARE_WRITE,
        };
        // The sharing `std` opens files with, so that the layer lets others do what they could.
        let share = FILE_SHARE_READ | FILE_SHARE_WRITE | FILE_SHARE_DELETE;
        // SAFETY: `file`'s handle is open for the duration of the call, which only reads it.
        let handle = unsafe { ReOpenFile(file.as_raw_handle(), GENERIC_READ, share, 0) };
        if handle == INVALID_HANDLE_VALUE {
            return Err(std::io::Error::last_os_error());
        }
        // SAFETY: `handle` is a new, open file handle that nothing else owns.
        Ok(unsafe { File::from_raw_handle(handle) })
    }
    #[cfg(not(windows))]
    {
        // Unix reopens by path only, and the directory is not this save's: what the path names must
        // be the file written, and a FIFO or a link put there must neither make the open wait nor
        // be followed. Where it is another file, or cannot be read (a file whose mode the save
        // copied lets its owner write only), the layer keeps a duplicate of the handle that writes,
        // as the file is still saved.
        use super::identity::FileIdentity;
        use std::os::unix::fs::OpenOptionsExt;
        let identity = |file: &File| FileIdentity::of(file, &file.metadata()?);
        let reopened = std::fs::OpenOptions::new()
            .read(true)
            .custom_flags(libc::O_NONBLOCK | libc::O_NOFOLLOW)
            .open(path);
        match reopened {
            Ok(reader) if identity(&reader).ok() == Some(identity(file)?) => Ok(reader),
            _ => file.try_clone(),
        }
    }
}

/// The file a save at `path` replaces: `path` itself, or the file a symbolic link there points to.
pub(super) fn resolve_symlink(path: &Path) -> Result<PathBuf, PersistenceError> {
    match std::fs::symlink_metadata(path) {
        Ok(meta) if meta.file_type().is_symlink() => std::fs::canonicalize(path)
            .map_err(|e| with_context(e, format_args!("resolving the symbolic link {}", path.display()))),
        _ => Ok(path.to_path_buf()),
    }
}

/// The metadata of the file a save replaces, `None` if there is none yet; an error for a directory or
/// another non-file, found before anything is written.
fn regular_file_metadata(target: &Path) -> Result<Option<Metadata>, PersistenceError> {
    match std::fs::metadata(target) {
        Ok(meta) if meta.is_file() => Ok(Some(meta)),
        Ok(meta) => Err(with_context(
            not_a_regular_file(meta.is_dir()),
            format_args!("saving to {}", target.display()),
        )),
        Err(e) if e.kind() == ErrorKind::NotFound => Ok(None),
        Err(e) => Err(with_context(e, format_args!("reading metadata of {}", target.display()))),
    }
}

/// The file a save replaces, as the save found it when it started. What the new file keeps of it is
/// read then: one deleted or replaced while the save writes is the concern of the save's end (which
/// refuses it as changed, or, forced, replaces it), not a failure to read it.
struct Original {
    // Windows keeps nothing of it (see `copy_permissions`).
    #[cfg_attr(not(unix), allow(dead_code))]
    meta: Metadata,
    /// Its POSIX access ACL, `None` where it has none.
    #[cfg(target_os = "linux")]
    acl: Option<Vec<u8>>,
}

impl Original {
    fn read(meta: Metadata, target: &Path) -> Result<Original, PersistenceError> {
        #[cfg(not(target_os = "linux"))]
        let _ = target; // only Linux keeps more than the metadata
        Ok(Original {
            #[cfg(target_os = "linux")]
            acl: super::acl::access_acl(target).map_err(|e| {
                with_context(e, format_args!("reading the access ACL of {}", target.display()))
            })?,
            meta,
        })
    }
}

/// Writes the pieces in order. `Copy` runs go through `source`, straight into the file behind the
/// inserted bytes buffered so far, a write-behind window at a time so that the write-back of what
/// is written can start while the rest is copied. A source rewritten in place would give a mix of
/// its new bytes and the recipe's: it is checked before the first copy. Returns whether anything was
/// copied from it.
fn write_recipe(
    source: &dyn PersistenceLayer,
    recipe: &mut SaveRecipe<'_>,
    file: &mut File,
    temp_path: &Path,
) -> Result<bool, PersistenceError> {
    let mut copied = false;
    let write_error = |e| with_context(e, format_args!("writing {}", temp_path.display()));
    let mut out = BufWriter::with_capacity(INSERT_BUFFER, file);
    let mut write_behind = WriteBehind::new();
    // Bytes of the recipe written so far, into the file or into `out`'s buffer.
    let mut written = 0u64;
    let limit = file_size_limit();
    for piece in recipe {
        let piece = piece?;
        // Past the file-size limit a write would raise SIGXFSZ: refused before it is made.
        within_file_size_limit(written.saturating_add(piece.len()), limit).map_err(write_error)?;
        match piece {
            SavePiece::Insert(bytes) => {
                out.write_all(&bytes).map_err(write_error)?;
                written += bytes.len() as u64;
                // What `out` holds is not in the file yet.
                write_behind.written_up_to(out.get_ref(), written - out.buffer().len() as u64);
            }
            SavePiece::Copy { offset, len } => {
                if !std::mem::replace(&mut copied, true) {
                    source.check_intact()?;
                }
                // Checked here, an empty one too: it never reaches `copy_range_to_file`.
                check_copy(source, offset, len)?;
                out.flush().map_err(write_error)?;
                let mut done = 0;
                while done < len {
                    let at = offset + done;
                    // A hole of a sparse source stays a hole, passed over whole: asked about a
                    // window at a time, a hole of a TiB would take 131,072 asks.
                    let hole = source.next_data(at, offset + len)?.saturating_sub(at).min(len - done);
                    if hole > 0 {
                        // The new file is written from its start: its position is `written`.
                        out.get_mut().seek(SeekFrom::Start(written + hole)).map_err(write_error)?;
                        done += hole;
                        written += hole;
                        continue;
                    }
                    let step = (len - done).min(WriteBehind::WINDOW - written % WriteBehind::WINDOW);
                    source.copy_range_to_file(at, step, out.get_mut()).map_err(|e| match e {
                        PersistenceError::Io(e) => with_context(
                            e,
                            format_args!("copying {step} bytes at {at} into {}", temp_path.display()),
                        ),
                        other => other,
                    })?;
                    done += step;
                    written += step;
                    write_behind.written_up_to(out.get_ref(), written);
                }
            }
        }
    }
    out.flush().map_err(write_error)?;
    // A copy that ends in a hole of its source left the file shorter than what was written.
    out.get_ref().set_len(written).map_err(write_error)?;
    Ok(copied)
}

/// Gives the new file the permissions of the one it replaces, `original`, and its owner
/// and group as far as this process may: only root can give a file away, an owner can still choose
/// one of its own groups. What the new owner or group would gain is left out: the set-user-id bit
/// when the owner could not be kept; the set-group-id bit and the group's bits when the group could
/// not (the file's group is then the saver's, which the old group's rights were not for). On Linux
/// the POSIX access ACL is copied (its owning group's entry emptied where the group was not kept),
/// so that a mode whose group bits are an ACL's mask does not open the file to its owning group, and
/// named entries keep out whom they kept out; one the new file inherited from its directory goes.
/// Where the ACL cannot be copied the save fails.
#[cfg(unix)]
fn copy_permissions(file: &File, original: &Original) -> std::io::Result<()> {
    use std::os::unix::fs::{fchown, MetadataExt, PermissionsExt};

    let meta = &original.meta;
    let ours = file.metadata()?;
    let (mut uid, mut gid) = (ours.uid(), ours.gid());
    if (uid, gid) != (meta.uid(), meta.gid()) {
        // Owner and group first: changing them may clear set-id bits that the mode then restores.
        let outcome = match fchown(file, Some(meta.uid()), Some(meta.gid())) {
            Err(e) if e.kind() == ErrorKind::PermissionDenied => fchown(file, None, Some(meta.gid())),
            other => other,
        };
        match outcome {
            // Not permitted: the file belongs to whoever saved it, like any file they create.
            Err(e) if e.kind() == ErrorKind::PermissionDenied => {}
            other => other?,
        }
        let now = file.metadata()?;
        (uid, gid) = (now.uid(), now.gid());
    }
    let mut mode = meta.mode() & 0o7777;
    if uid != meta.uid() {
        mode &= !0o4000;
    }
    let group_kept = gid == meta.gid();
    if !group_kept {
        mode &= !0o2070;
    }
    file.set_permissions(std::fs::Permissions::from_mode(mode))?;
    #[cfg(target_os = "linux")]
    super::acl::copy_access_acl(original.acl.as_deref(), file, group_kept)?;
    Ok(())
}

/// Windows: a new file takes its access rights from its directory, as the original did. The
/// read-only attribute is not copied: Windows refuses to replace a read-only file anyway.
#[cfg(not(unix))]
fn copy_permissions(_file: &File, _original: &Original) -> std::io::Result<()> {
    Ok(())
}

/// Makes a rename in `dir` durable. A directory this process may write to but not read (mode
/// `0333`, a drop box) cannot be opened to sync: there the rename is as durable as the file system
/// makes it on its own, and that is no failure of the save.
#[cfg(unix)]
fn sync_dir(dir: &Path) -> std::io::Result<()> {
    // Without waiting, as every open of a path another program may have changed (see
    // `open_for_reading`).
    let dir = match super::open_for_reading(dir) {
        Err(e) if e.kind() == ErrorKind::PermissionDenied => return Ok(()),
        opened => opened?,
    };
    match sync(&dir) {
        // Some file systems cannot sync a directory; on them there is nothing more to do.
        Err(e) if e.kind() == ErrorKind::InvalidInput => Ok(()),
        result => result,
    }
}

/// Makes `file`'s content (or a directory's entries) durable: `sync_all`, which on macOS is
/// `F_FULLFSYNC`, down to the disk's own cache. File systems that do not take that request (SMB,
/// WebDAV, some FUSE ones) refuse it, and would fail every save: there a plain `fsync`, all they offer.
fn sync(file: &File) -> std::io::Result<()> {
    let result = file.sync_all();
    #[cfg(target_vendor = "apple")]
    if let Err(e) = &result {
        if matches!(e.raw_os_error(), Some(libc::ENOTSUP | libc::EINVAL | libc::ENOTTY)) {
            use std::os::fd::AsRawFd;
            // SAFETY: `file` is open for the duration of the call, which only reads its argument.
            return match unsafe { libc::fsync(file.as_raw_fd()) } {
                0 => Ok(()),
                _ => Err(std::io::Error::last_os_error()),
            };
        }
    }
    result
}

/// Windows: NTFS journals the rename itself, and `std` cannot open a directory to sync it.
#[cfg(not(unix))]
fn sync_dir(_dir: &Path) -> std::io::Result<()> {
    Ok(())
}
