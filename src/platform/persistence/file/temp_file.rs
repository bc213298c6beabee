//! The temporary file a save writes before renaming it over its target, and the clean-up of those
//! that killed saves left behind.
//!
//! A save names its temporary file `.<target name>.<pid>-<clock>-<counter>.omnibuf-save` in the
//! target's directory. A process killed mid-save (`SIGKILL`, a power loss) runs no destructor, so
//! its file stays. The next open or save of the same target deletes such files, but only those no
//! live save is writing. How it tells: a save holds an exclusive advisory lock (`flock`) on its
//! temporary file from creation to rename; the kernel drops the lock when the process dies, however
//! it dies. A file whose lock can be taken is stale. This is why a lock and not the name: the pid in
//! the name says nothing once pids are reused (a container restarts with the same pids), and a
//! process start time beside it is not portable and still races with a save that has just begun.
//!
//! Details that keep the lock test sound:
//! - `flock` locks belong to the open file description, not the process (unlike `fcntl` record
//!   locks, which any `close` in the process drops), so a cleaner in the same process that opens the
//!   file anew conflicts with its own saves too. Where `flock` is emulated with record locks (NFS),
//!   that no longer holds, so this process's own temporary files are also listed in memory and never
//!   touched.
//! - A save creates its file and then locks it; a cleaner could take the lock in between. So after
//!   locking, the save checks that its path still names its file and starts over with a new name if
//!   a cleaner removed it; and a cleaner removes a file only while it holds its lock and the path
//!   still names the file it locked.
//!
//! Other systems than Unix: the file is not locked and nothing is cleaned up (a leftover file is
//! still recognised by [`is_save_temp_file`](super::is_save_temp_file)).

use std::collections::HashSet;
use std::fs::{File, OpenOptions};
use std::io::ErrorKind;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, MutexGuard, PoisonError};

use super::with_context;
use crate::platform::persistence::PersistenceError;

/// Ends the name of every temporary file a save creates (which also starts with a dot).
pub(super) const TEMP_SUFFIX: &str = ".omnibuf-save";

/// How much of the target's name a temporary file's name repeats, in bytes: enough to recognise it,
/// short enough to stay under the usual 255-byte name limit.
const TEMP_NAME_PREFIX_MAX: usize = 100;

/// Temporary files this process is writing now, which its own clean-up must leave alone whatever
/// the file system's locks say.
static OURS: Mutex<Option<HashSet<PathBuf>>> = Mutex::new(None);

fn ours() -> std::sync::MutexGuard<'static, Option<HashSet<PathBuf>>> {
    // Nothing panics while holding it: a poisoned set is still whole.
    OURS.lock().unwrap_or_else(|e| e.into_inner())
}

/// The start every temporary file name for `target` has: `.` and at most
/// [`TEMP_NAME_PREFIX_MAX`] bytes of the target's name (cut at a character boundary), then `.`.
fn name_prefix(target: &Path) -> String {
    let name = target.file_name().map(|n| n.to_string_lossy()).unwrap_or_default();
    let mut len = name.len().min(TEMP_NAME_PREFIX_MAX);
    while !name.is_char_boundary(len) {
        len -= 1;
    }
    format!(".{}.", &name[..len])
}

/// Whether `name` is the name of a temporary file of a save of `target`: the prefix, then
/// `<digits>-<hex digits>-<digits>` and the suffix, nothing else.
fn is_temp_name_for(name: &str, prefix: &str) -> bool {
    let Some(middle) = name.strip_prefix(prefix).and_then(|rest| rest.strip_suffix(TEMP_SUFFIX)) else {
        return false;
    };
    let parts: Vec<&str> = middle.split('-').collect();
    let all = |s: &str, radix: u32| !s.is_empty() && s.chars().all(|c| c.is_digit(radix));
    matches!(parts[..], [pid, clock, counter] if all(pid, 10) && all(clock, 16) && all(counter, 10))
}

/// A temporary file that is removed when dropped, unless it was renamed over its target. While it
/// lives, it is locked (Unix) and listed as this process's own.
pub(super) struct TempFile {
    pub(super) path: PathBuf,
    pub(super) file: File,
    renamed: bool,
}

impl TempFile {
    /// Creates a new, empty, locked file in `dir` whose name says which target it is for and cannot
    /// be one that exists: `create_new` refuses existing names, and the next candidate is tried.
    /// `private`: readable and writable by its owner only (Unix), for a save that gives it the
    /// replaced file's permissions once written, so that nobody reads the content meanwhile whom
    /// those permissions keep out.
    pub(super) fn create(dir: &Path, target: &Path, private: bool) -> Result<Self, PersistenceError> {
        static NEXT: AtomicU64 = AtomicU64::new(0);
        const ATTEMPTS: usize = 64;

        let prefix = name_prefix(target);
        // The clock keeps a restarted process that got a crashed one's pid off its leftover names.
        let clock = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.subsec_nanos());
        let mut last_error = None;
        for _ in 0..ATTEMPTS {
            let unique = NEXT.fetch_add(1, Ordering::Relaxed);
            let path = dir.join(format!("{prefix}{}-{clock:x}-{unique}{TEMP_SUFFIX}", std::process::id()));
            ours().get_or_insert_with(HashSet::new).insert(path.clone());
            let mut options = OpenOptions::new();
            options.read(true).write(true).create_new(true);
            #[cfg(unix)]
            if private {
                std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
            }
            #[cfg(not(unix))]
            let _ = private;
            let created = options.open(&path);
            // From here on, dropping `temp` removes the file and its listing.
            let temp = match created {
                Ok(file) => TempFile { path, file, renamed: false },
                Err(e) => {
                    ours().get_or_insert_with(HashSet::new).remove(&path);
                    match e.kind() {
                        ErrorKind::AlreadyExists => last_error = Some(e),
                        _ => return Err(Self::create_error(e, dir, target)),
                    }
                    continue;
                }
            };
            match lock::hold(&temp.file, &temp.path) {
                Ok(true) => return Ok(temp),
                // A cleaner removed the file between its creation and the lock: try another name.
                Ok(false) => {
                    last_error = Some(ErrorKind::NotFound.into());
                    drop(temp);
                }
                Err(e) => return Err(Self::create_error(e, dir, target)),
            }
        }
        let e = last_error.unwrap_or_else(|| ErrorKind::AlreadyExists.into());
        Err(Self::create_error(e, dir, target))
    }

    fn create_error(e: std::io::Error, dir: &Path, target: &Path) -> PersistenceError {
        with_context(
            e,
            format_args!("creating a temporary file in {} to save {}", dir.display(), target.display()),
        )
    }

    /// Renames the file over `target`, which from then on names the new content.
    pub(super) fn rename_over(&mut self, target: &Path) -> Result<(), PersistenceError> {
        std::fs::rename(&self.path, target).map_err(|e| {
            with_context(e, format_args!("renaming {} over {}", self.path.display(), target.display()))
        })?;
        self.renamed = true;
        lock::release(&self.file);
        Ok(())
    }
}

impl Drop for TempFile {
    fn drop(&mut self) {
        // Windows too removes a file that is still open here: `std` opens files shareable for
        // deletion, and the name goes when the handle closes, right after this.
        if !self.renamed {
            // Best effort: the error being returned matters more than a leftover file, which the
            // next save or open of the target removes.
            let _ = std::fs::remove_file(&self.path);
        }
        if let Some(set) = ours().as_mut() {
            set.remove(&self.path);
        }
        // The lock goes with the descriptor, closed after this.
    }
}

/// Deletes the temporary files that killed saves of `target` left in its directory: those of its
/// name whose lock no process holds. Best effort: a file that cannot be opened, locked or removed
/// (another user's, one being written) stays; an unreadable directory is no error.
///
/// Returns how many files it removed.
pub(super) fn remove_stale_temp_files(target: &Path) -> usize {
    let dir = match target.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent,
        _ => Path::new("."),
    };
    let prefix = name_prefix(target);
    let Ok(entries) = std::fs::read_dir(dir) else { return 0 };
    let mut removed = 0;
    for entry in entries.flatten() {
        let name = entry.file_name();
        if !name.to_str().is_some_and(|name| is_temp_name_for(name, &prefix)) {
            continue;
        }
        let path = entry.path();
        if ours().as_ref().is_some_and(|set| set.contains(&path)) {
            continue;
        }
        if lock::remove_if_unlocked(&path) {
            removed += 1;
        }
    }
    removed
}

/// Held from a save's last check to its rename, so that saves of one file take turns there: the
/// second then checks the file the first put in place, and refuses it as changed, rather than both
/// succeeding and the first one's content being lost. Within this process a lock (taken by every
/// save: the turn lasts a `stat` and a rename); on Unix also an exclusive `flock` on the file being
/// replaced, for saves in other processes (best effort: see [`lock::lock_for_commit`]).
pub(super) struct CommitTurn {
    _in_process: MutexGuard<'static, ()>,
    _target: Option<File>,
}

impl CommitTurn {
    /// Waits for this process's turn, then for other processes' saves of `target`.
    pub(super) fn take(target: &Path) -> CommitTurn {
        static COMMITS: Mutex<()> = Mutex::new(());
        let in_process = COMMITS.lock().unwrap_or_else(PoisonError::into_inner);
        CommitTurn { _in_process: in_process, _target: lock::lock_for_commit(target) }
    }
}

#[cfg(unix)]
mod lock {
    use std::fs::File;
    use std::os::fd::AsRawFd;
    use std::os::unix::fs::MetadataExt;
    use std::path::Path;

    /// Takes an exclusive `flock` on `file`, waiting for none. `Ok(false)` when it is held elsewhere.
    fn try_lock(file: &File) -> std::io::Result<bool> {
        loop {
            // SAFETY: `file` is open for the duration of the call, which only reads its arguments.
            let result = unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) };
            if result == 0 {
                return Ok(true);
            }
            let error = std::io::Error::last_os_error();
            match error.raw_os_error() {
                Some(libc::EINTR) => continue,
                Some(code) if code == libc::EWOULDBLOCK => return Ok(false),
                _ => return Err(error),
            }
        }
    }

    /// Whether `path` still names the file open as `file`.
    fn names(path: &Path, file: &File) -> std::io::Result<bool> {
        let (now, ours) = match (std::fs::symlink_metadata(path), file.metadata()) {
            (Ok(now), Ok(ours)) => (now, ours),
            (Err(e), _) if e.kind() == std::io::ErrorKind::NotFound => return Ok(false),
            (Err(e), _) | (_, Err(e)) => return Err(e),
        };
        Ok((now.dev(), now.ino()) == (ours.dev(), ours.ino()))
    }

    /// Locks the new temporary file `file` at `path` for the save's lifetime. `Ok(false)` when a
    /// cleaner removed it before the lock was taken.
    pub(super) fn hold(file: &File, path: &Path) -> std::io::Result<bool> {
        match try_lock(file) {
            // Cannot be held by anyone else but a cleaner about to remove it: take another name.
            Ok(false) => Ok(false),
            // File systems without locks: nothing can be told apart, so nothing is ever removed
            // (a cleaner needs the lock), and the save goes on unlocked. (ENOTSUP is EOPNOTSUPP on
            // Linux, not on macOS, whose NFS mounts without locks give it.)
            Err(e)
                if [libc::ENOLCK, libc::EOPNOTSUPP, libc::ENOTSUP].map(Some).contains(&e.raw_os_error()) =>
            {
                Ok(true)
            }
            Err(e) => Err(e),
            Ok(true) => names(path, file),
        }
    }

    /// Lets go of the lock `hold` took: once renamed over its target, the file is no temporary file
    /// any more, and the lock would stay with the saved file for as long as a descriptor of it lives
    /// (a `flock` belongs to the open file description, which a duplicate of the handle shares: the
    /// saved layer's, where it could not open the file again for reading),
    /// blocking other programs that lock the file. Best effort: a lock left is only that.
    pub(super) fn release(file: &File) {
        // SAFETY: `file` is open for the duration of the call, which only reads its arguments.
        unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_UN) };
    }

    /// Removes the file at `path` if no one holds its lock: opens it, takes the lock, checks that
    /// the path still names that file, and removes it while holding the lock. Only a regular file:
    /// anything else named so (a FIFO, a directory) is none of ours.
    pub(super) fn remove_if_unlocked(path: &Path) -> bool {
        let Ok(file) = super::super::open_for_reading(path) else { return false };
        if !file.metadata().is_ok_and(|m| m.is_file()) {
            return false;
        }
        if !matches!(try_lock(&file), Ok(true)) || !matches!(names(path, &file), Ok(true)) {
            return false;
        }
        std::fs::remove_file(path).is_ok()
    }

    /// An exclusive `flock` on the file at `target`, for the end of a save that replaces it (see
    /// [`super::CommitTurn`]), held until the returned file is dropped. Waits up to a second for a
    /// lock held elsewhere; `None` where the file cannot be opened or locked (no read permission, a
    /// file system without locks, a lock held longer) or is no regular file: the save then goes on
    /// without it (and finds the target changed). Opened without waiting: a FIFO put in the target's
    /// place would otherwise hold the save, and every save of the process waiting for its turn, until
    /// some program opened it for writing.
    pub(super) fn lock_for_commit(target: &Path) -> Option<File> {
        let file = super::super::open_for_reading(target).ok()?;
        if !file.metadata().is_ok_and(|m| m.is_file()) {
            return None;
        }
        for _ in 0..1000 {
            match try_lock(&file) {
                Ok(true) => return Some(file),
                Ok(false) => std::thread::sleep(std::time::Duration::from_millis(1)),
                Err(_) => return None,
            }
        }
        None
    }
}

#[cfg(not(unix))]
mod lock {
    use std::fs::File;
    use std::path::Path;

    pub(super) fn hold(_file: &File, _path: &Path) -> std::io::Result<bool> {
        Ok(true)
    }

    pub(super) fn release(_file: &File) {}

    /// No cross-process turn here (see [`super::CommitTurn`]): saves in this process still take turns.
    pub(super) fn lock_for_commit(_target: &Path) -> Option<File> {
        None
    }

    /// Without a lock to tell a live save from a dead one, nothing is removed.
    pub(super) fn remove_if_unlocked(_path: &Path) -> bool {
        false
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_names_of_this_targets_temporary_files_match() {
        let prefix = name_prefix(Path::new("dir/notes.txt"));
        assert_eq!(prefix, ".notes.txt.");
        assert!(is_temp_name_for(".notes.txt.4242-17f3a-0.omnibuf-save", &prefix));
        for other in [
            ".notes.txt.omnibuf-save",
            ".notes.txt.4242-17f3a.omnibuf-save",
            ".notes.txt.4242-xyz-0.omnibuf-save",
            ".notes.txt.4242-17f3a-0-1.omnibuf-save",
            ".notes.txt.bak.4242-17f3a-0.omnibuf-save",
            ".other.txt.4242-17f3a-0.omnibuf-save",
            "notes.txt",
        ] {
            assert!(!is_temp_name_for(other, &prefix), "{other}");
        }
        let long = "é".repeat(80); // 160 bytes: the prefix stops at a character boundary
        let prefix = name_prefix(Path::new(&long));
        assert_eq!(prefix.len(), 1 + 100 + 1);
    }
}
