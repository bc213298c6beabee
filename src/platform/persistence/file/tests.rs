use std::fs::{self, File, OpenOptions};
use std::io::{ErrorKind, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use super::*;
use crate::platform::persistence::{
    Call, FaultyPersistence, MemoryPersistence, ReadCall, SavePiece, Trigger,
};

// SAFETY: every file these tests map lies in a temporary directory of its own, and no test writes
// into or truncates a file while a mapping of it lives (saves rename a new file over it).
const MAPPED: FileBackend = unsafe { FileBackend::mapped() };
const BACKENDS: [FileBackend; 2] = [MAPPED, FileBackend::Positional];

/// A byte pattern that differs at every offset within a period of 251 (a prime, so it never lines up
/// with power-of-two chunk sizes).
fn pattern(len: usize) -> Vec<u8> {
    (0..len).map(|i| (i % 251) as u8).collect()
}

fn fixture(content: &[u8]) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("data.bin");
    fs::write(&path, content).unwrap();
    (dir, path)
}

/// The names in `dir`, sorted: a failed save must leave exactly what was there.
fn names_in(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> =
        fs::read_dir(dir).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect();
    names.sort();
    names
}

fn insert(bytes: &[u8]) -> Result<SavePiece, PersistenceError> {
    Ok(SavePiece::Insert(ZeroCopyBuffer::copy_from_slice(bytes, BufferKind::raw())))
}

/// A recipe of `pieces` that calls `meddle()` before it gives each piece (and before it ends): how a
/// test changes the target while a save writes (the tests that do are Unix's).
#[cfg(unix)]
fn meddling_recipe(
    pieces: Vec<Result<SavePiece, PersistenceError>>,
    mut meddle: impl FnMut(),
) -> impl Iterator<Item = Result<SavePiece, PersistenceError>> {
    let mut pieces = pieces.into_iter();
    std::iter::from_fn(move || {
        meddle();
        pieces.next()
    })
}

fn copy(offset: u64, len: u64) -> Result<SavePiece, PersistenceError> {
    Ok(SavePiece::Copy { offset, len })
}

fn set_mtime(path: &Path, time: SystemTime) {
    OpenOptions::new().write(true).open(path).unwrap().set_modified(time).unwrap();
}

fn changed_detail(result: Result<(), PersistenceError>) -> String {
    match result {
        Err(PersistenceError::ExternallyChanged { detail, .. }) => detail,
        other => panic!("expected ExternallyChanged, got {other:?}"),
    }
}

#[test]
fn both_backends_read_exact_ranges_and_reject_out_of_range() {
    let content = pattern(10_000);
    let (_dir, path) = fixture(&content);
    for backend in BACKENDS {
        let file = FilePersistence::open(&path, backend).unwrap();
        assert_eq!(file.backend(), backend);
        assert_eq!(file.is_mapped(), matches!(backend, FileBackend::Mapped(_)));
        assert_eq!(file.len().unwrap(), 10_000);
        for (offset, len) in [(0, 1), (0, 10_000), (4095, 2), (9_999, 1), (10_000, 0), (1234, 5678)] {
            let mut dst = vec![0u8; len];
            file.read_at(offset as u64, &mut dst).unwrap();
            assert_eq!(dst, content[offset..offset + len], "{backend:?} read_at({offset}, {len})");
            let buf = file.read_buffer(offset as u64, len).unwrap();
            assert_eq!(&buf[..], &content[offset..offset + len], "{backend:?} read_buffer({offset}, {len})");
        }
        for (offset, len) in [(9_999, 2), (10_000, 1), (10_001, 0), (u64::MAX, 1), (u64::MAX - 1, 2)] {
            let mut dst = vec![0u8; len];
            let expected = PersistenceError::OutOfRange { offset, len: len as u64, total: 10_000 };
            let err = file.read_at(offset, &mut dst).unwrap_err();
            assert_eq!(err.to_string(), expected.to_string(), "{backend:?}");
            assert!(matches!(file.read_buffer(offset, len), Err(PersistenceError::OutOfRange { .. })));
        }
    }
}

#[test]
fn mapped_reads_are_views_of_one_mapping() {
    let (_dir, path) = fixture(&pattern(8192));
    let file = FilePersistence::open(&path, MAPPED).unwrap();
    let a = file.read_buffer(100, 50).unwrap();
    let b = file.read_buffer(100, 50).unwrap();
    let c = file.read_buffer(130, 10).unwrap();
    assert_eq!(a.as_ptr(), b.as_ptr());
    assert_eq!(c.as_ptr(), a.as_ptr().wrapping_add(30));
    // The views keep the mapping alive after the layer is gone.
    drop(file);
    assert_eq!(&c[..], &pattern(8192)[130..140]);
}

#[test]
fn empty_files_open_and_read_nothing() {
    let (_dir, path) = fixture(b"");
    for backend in BACKENDS {
        let file = FilePersistence::open(&path, backend).unwrap();
        assert!(file.is_empty().unwrap());
        file.read_at(0, &mut []).unwrap();
        assert!(file.read_buffer(0, 0).unwrap().is_empty());
        assert!(matches!(file.read_at(0, &mut [0]), Err(PersistenceError::OutOfRange { .. })));
        file.check_unchanged().unwrap();
    }
}

/// Opening reads no content, so a 10 GiB file (sparse: it costs no disk) opens as a small one does.
#[cfg(target_pointer_width = "64")]
#[test]
fn a_huge_file_opens_without_reading_it() {
    const HUGE: u64 = 10 << 30;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("huge.bin");
    let mut file = File::create(&path).unwrap();
    file.set_len(HUGE).unwrap();
    file.seek(SeekFrom::Start(HUGE - 4)).unwrap();
    file.write_all(b"tail").unwrap();
    drop(file);
    for backend in BACKENDS {
        let file = FilePersistence::open(&path, backend).unwrap();
        assert_eq!(file.len().unwrap(), HUGE);
        assert_eq!(file.read_buffer(HUGE - 6, 6).unwrap(), b"\0\0tail"[..]);
    }
}

#[test]
fn missing_files_and_directories_are_clear_errors() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("missing");
    match FilePersistence::open(&missing, MAPPED) {
        Err(PersistenceError::Io(e)) => {
            assert_eq!(e.kind(), ErrorKind::NotFound);
            assert!(e.to_string().contains("missing"), "{e}");
        }
        other => panic!("expected NotFound, got {other:?}"),
    }
    for backend in BACKENDS {
        match FilePersistence::open(dir.path(), backend) {
            Err(PersistenceError::Io(e)) => {
                assert_eq!(e.kind(), ErrorKind::IsADirectory);
                assert!(e.to_string().contains("a directory, not a regular file"), "{e}");
            }
            other => panic!("expected an error for a directory, got {other:?}"),
        }
    }
}

/// A read that the system fails says what was read, where, and keeps the system's error (and so its
/// number) as the source.
#[test]
fn a_failed_read_names_the_file_and_the_offset() {
    let (_dir, path) = fixture(b"content");
    let layer = FilePersistence::open(&path, FileBackend::Positional).unwrap();
    let system = std::io::Error::from_raw_os_error(5);
    let PersistenceError::Io(e) = layer.reading(3, PersistenceError::Io(system)) else { unreachable!() };
    let message = e.to_string();
    assert!(message.starts_with(&format!("reading {} at 3: ", path.display())), "{message}");
    let source = std::error::Error::source(&e).and_then(|s| s.downcast_ref::<std::io::Error>());
    assert_eq!(source.and_then(std::io::Error::raw_os_error), Some(5));
    // A short read keeps its own words.
    let short = PersistenceError::ShortRead { offset: 3, wanted: 4, got: 1 };
    assert!(matches!(layer.reading(3, short), PersistenceError::ShortRead { .. }));
}

/// A FIFO is refused at once, not waited on for a writer (an open for reading would be); one named
/// like a stale temporary file of the document is left alone and holds up neither open nor save;
/// one put in the target's place during a save holds up neither it nor the saves after it.
#[cfg(unix)]
#[test]
fn a_fifo_never_makes_an_open_or_a_save_wait_and_one_named_like_a_temporary_file_stays() {
    use std::sync::mpsc;

    /// `body` in a thread: its result within 10 s, or a failure (the thread waits on in the open).
    fn within_seconds<R: Send + 'static>(body: impl FnOnce() -> R + Send + 'static) -> R {
        let (done, result) = mpsc::channel();
        std::thread::spawn(move || done.send(body()).unwrap());
        result.recv_timeout(Duration::from_secs(10)).expect("waited on a FIFO")
    }
    fn make_fifo(path: &Path) {
        let name = std::ffi::CString::new(path.as_os_str().as_encoded_bytes()).unwrap();
        // SAFETY: `name` is a NUL-terminated path that lives across the call.
        assert_eq!(unsafe { libc::mkfifo(name.as_ptr(), 0o600) }, 0, "{}", std::io::Error::last_os_error());
    }

    let (dir, path) = fixture(b"content");
    let fifo = dir.path().join("pipe");
    make_fifo(&fifo);
    for backend in BACKENDS {
        let fifo = fifo.clone();
        match within_seconds(move || FilePersistence::open(&fifo, backend)) {
            Err(PersistenceError::Io(e)) => assert!(e.to_string().contains("not a regular file"), "{e}"),
            other => panic!("expected an error for a FIFO, got {other:?}"),
        }
    }
    let stale_name = dir.path().join(".data.bin.4242-17f3a-0.omnibuf-save");
    make_fifo(&stale_name);
    let opened = within_seconds(move || {
        let layer = FilePersistence::open(&path, FileBackend::Positional).unwrap();
        let saved = layer.save(&mut vec![insert(b"new")].into_iter(), SaveOptions::default()).map(drop);
        (layer.len().unwrap(), saved, fs::read(&path).unwrap())
    });
    assert_eq!(opened.0, 7);
    opened.1.unwrap();
    assert_eq!(opened.2, b"new");
    assert!(stale_name.exists(), "not a file of ours: left alone");

    // A FIFO put in the target's place while a save writes (the recipe's first piece does it, after
    // the save's first checks): without waiting for a writer (a save's end opens its target to lock
    // it), the save refuses it as changed, or, forced, replaces it.
    let is_fifo = |path: &Path| {
        fs::symlink_metadata(path).is_ok_and(|m| std::os::unix::fs::FileTypeExt::is_fifo(&m.file_type()))
    };
    for force in [false, true] {
        let (_dir, path) = fixture(b"content");
        let layer = FilePersistence::open(&path, FileBackend::Positional).unwrap();
        let target = path.clone();
        let mut recipe = meddling_recipe(vec![insert(b"new")], move || {
            if !is_fifo(&target) {
                fs::remove_file(&target).unwrap();
                make_fifo(&target);
            }
        });
        let saved = within_seconds(move || layer.save(&mut recipe, SaveOptions { force }).map(drop));
        if force {
            saved.unwrap();
            assert_eq!(fs::read(&path).unwrap(), b"new");
        } else {
            assert!(matches!(saved, Err(PersistenceError::ExternallyChanged { .. })), "{saved:?}");
            assert!(is_fifo(&path), "left as it was");
        }
    }
}

#[test]
fn a_file_truncated_underneath_the_positional_backend_gives_short_reads() {
    let (_dir, path) = fixture(&pattern(8192));
    let file = FilePersistence::open(&path, FileBackend::Positional).unwrap();
    OpenOptions::new().write(true).open(&path).unwrap().set_len(100).unwrap();

    assert_eq!(file.len().unwrap(), 8192, "the length is the length at open");
    let mut dst = vec![0u8; 200];
    match file.read_at(0, &mut dst) {
        Err(PersistenceError::ShortRead { offset: 0, wanted: 200, got: 100 }) => {}
        other => panic!("expected a short read, got {other:?}"),
    }
    assert_eq!(dst[..100], pattern(100)[..]);
    assert!(matches!(
        file.read_buffer(4096, 10),
        Err(PersistenceError::ShortRead { offset: 4096, wanted: 10, got: 0 })
    ));
    let mut out = tempfile::tempfile().unwrap();
    assert!(matches!(file.copy_range_to_file(0, 8192, &mut out), Err(PersistenceError::ShortRead { .. })));
    // A run shifted within its page: the same.
    assert!(matches!(file.copy_range_to_file(1, 8191, &mut out), Err(PersistenceError::ShortRead { .. })));
    assert!(changed_detail(file.check_unchanged()).contains("size 8192 is now 100"));
}

#[test]
fn check_unchanged_reports_size_mtime_replacement_and_deletion() {
    let (_dir, path) = fixture(b"0123456789");
    let opened_at = fs::metadata(&path).unwrap().modified().unwrap();
    for backend in BACKENDS {
        let reopen = |path: &Path| FilePersistence::open(path, backend).unwrap();
        let file = reopen(&path);
        file.check_unchanged().unwrap();

        // Size: another program appends.
        OpenOptions::new().append(true).open(&path).unwrap().write_all(b"!").unwrap();
        assert!(changed_detail(file.check_unchanged()).contains("size 10 is now 11"), "{backend:?}");
        fs::write(&path, b"0123456789").unwrap();
        set_mtime(&path, opened_at);

        // Modification time alone: same size, same inode, a different time.
        let file = reopen(&path);
        set_mtime(&path, opened_at + Duration::from_secs(3));
        assert!(changed_detail(file.check_unchanged()).contains("modification time"), "{backend:?}");
        set_mtime(&path, opened_at);
        file.check_unchanged().unwrap();

        // Where it lives (inode, file index): the file moved away and an identical one, with the
        // same time, put in its place. (Windows cannot move a mapped file.)
        if cfg!(unix) || backend == FileBackend::Positional {
            let away = path.with_file_name("away");
            fs::rename(&path, &away).unwrap();
            fs::write(&path, b"0123456789").unwrap();
            set_mtime(&path, opened_at);
            assert!(changed_detail(file.check_unchanged()).contains("replaced"), "{backend:?}");
            fs::remove_file(&away).unwrap();
        }

        // Deletion.
        let file = reopen(&path);
        fs::remove_file(&path).unwrap();
        assert!(changed_detail(file.check_unchanged()).contains("deleted"), "{backend:?}");
        fs::write(&path, b"0123456789").unwrap();
    }
}

#[test]
fn save_writes_the_recipe_and_the_old_layer_still_reads_the_old_content() {
    let old = pattern(300_000);
    for backend in BACKENDS {
        let (dir, path) = fixture(&old);
        let file = FilePersistence::open(&path, backend).unwrap();
        let mut recipe = vec![
            insert(b"head"),
            copy(10, 100_000),
            insert(b""),
            copy(0, 0),
            insert(b"mid"),
            copy(200_000, 100_000),
        ]
        .into_iter();
        let saved = file.save(&mut recipe, SaveOptions::default()).unwrap();

        let mut expected = b"head".to_vec();
        expected.extend_from_slice(&old[10..100_010]);
        expected.extend_from_slice(b"mid");
        expected.extend_from_slice(&old[200_000..]);
        assert_eq!(fs::read(&path).unwrap(), expected);
        assert_eq!(saved.len().unwrap(), expected.len() as u64);
        assert_eq!(saved.read_buffer(0, expected.len()).unwrap(), expected[..]);
        assert_eq!(saved.is_mapped(), matches!(backend, FileBackend::Mapped(_)));
        assert_eq!(saved.path(), Some(path.as_path()));
        saved.check_unchanged().unwrap();

        assert_eq!(file.read_buffer(0, old.len()).unwrap(), old[..], "{backend:?}");
        assert!(file.check_unchanged().is_err(), "the path now names another file");
        assert_eq!(names_in(dir.path()), ["data.bin"], "no temporary file is left");
    }
}

/// Windows: the saved layer keeps no handle that may write, which would refuse every program that
/// opens the file sharing it for reading only (.NET's `File.OpenRead`, many editors) for as long as
/// the layer lives.
#[cfg(windows)]
#[test]
fn a_saved_layer_lets_others_open_the_file_sharing_it_for_reading_only() {
    use std::os::windows::fs::OpenOptionsExt;
    use windows_sys::Win32::Storage::FileSystem::FILE_SHARE_READ;
    let dir = tempfile::tempdir().unwrap();
    let source = MemoryPersistence::new(b"hello world".to_vec());
    for backend in BACKENDS {
        let path = dir.path().join("saved.txt");
        let saved =
            save_recipe_as(&source, &mut vec![copy(0, 5), insert(b"!")].into_iter(), &path, backend).unwrap();
        let opened = OpenOptions::new().read(true).share_mode(FILE_SHARE_READ).open(&path);
        opened.unwrap_or_else(|e| panic!("{backend:?}: a program sharing reads only is refused: {e}"));
        assert_eq!(saved.read_buffer(0, 6).unwrap(), b"hello!"[..]);
        saved.check_unchanged().unwrap();
        drop(saved);
        fs::remove_file(&path).unwrap();
    }
}

#[test]
fn an_empty_recipe_saves_an_empty_file() {
    let (_dir, path) = fixture(b"something");
    for backend in BACKENDS {
        let file = FilePersistence::open(&path, backend).unwrap();
        let saved = file.save(&mut std::iter::empty(), SaveOptions::default()).unwrap();
        assert!(saved.is_empty().unwrap());
        assert_eq!(fs::read(&path).unwrap(), b"");
        fs::write(&path, b"something").unwrap();
    }
}

#[test]
fn a_recipe_copying_past_the_end_is_refused_and_changes_nothing_even_an_empty_copy() {
    for backend in BACKENDS {
        for (offset, len) in [(1000, 0), (11, 0), (5, 6), (0, u64::MAX), (u64::MAX, 1)] {
            let (dir, path) = fixture(b"0123456789");
            let file = FilePersistence::open(&path, backend).unwrap();
            let saved =
                file.save(&mut vec![insert(b"x"), copy(offset, len)].into_iter(), SaveOptions::default());
            assert!(
                matches!(saved, Err(PersistenceError::OutOfRange { .. })),
                "{backend:?} copy({offset}, {len})"
            );
            assert_eq!(fs::read(&path).unwrap(), b"0123456789");
            assert_eq!(names_in(dir.path()), ["data.bin"]);
        }
    }
}

#[cfg(unix)]
#[test]
fn save_keeps_the_files_permissions() {
    use std::os::unix::fs::PermissionsExt;
    for mode in [0o640, 0o600, 0o755, 0o444] {
        let (_dir, path) = fixture(b"abc");
        fs::set_permissions(&path, fs::Permissions::from_mode(mode)).unwrap();
        let file = FilePersistence::open(&path, FileBackend::Positional).unwrap();
        file.save(&mut vec![copy(0, 3), insert(b"d")].into_iter(), SaveOptions::default()).unwrap();
        assert_eq!(fs::metadata(&path).unwrap().permissions().mode() & 0o7777, mode);
        assert_eq!(fs::read(&path).unwrap(), b"abcd");
    }
}

#[cfg(unix)]
#[test]
fn while_a_save_writes_only_its_owner_can_read_the_new_content() {
    use std::os::unix::fs::PermissionsExt;
    let (dir, path) = fixture(b"secret");
    fs::set_permissions(&path, fs::Permissions::from_mode(0o600)).unwrap();
    let file = FilePersistence::open(&path, FileBackend::Positional).unwrap();
    // The recipe looks at the temporary file as the save writes it.
    let temp_modes = std::cell::RefCell::new(Vec::new());
    let mut recipe = [copy(0, 6), insert(b" and more")].into_iter().inspect(|_| {
        for entry in fs::read_dir(dir.path()).unwrap() {
            let entry = entry.unwrap();
            if is_save_temp_file(&entry.path()) {
                temp_modes.borrow_mut().push(entry.metadata().unwrap().permissions().mode() & 0o777);
            }
        }
    });
    file.save(&mut recipe, SaveOptions::default()).unwrap();
    assert_eq!(*temp_modes.borrow(), [0o600, 0o600]);
    assert_eq!(fs::metadata(&path).unwrap().permissions().mode() & 0o777, 0o600);
    assert_eq!(fs::read(&path).unwrap(), b"secret and more");
}

/// A POSIX access ACL (Linux's `system.posix_acl_access` format): read and write for the owner and
/// for user 65534, nothing for the owning group and others; the mask, read and write, is what the
/// mode's group bits show.
#[cfg(target_os = "linux")]
fn acl_with_a_named_user() -> Vec<u8> {
    const UNDEFINED: u32 = u32::MAX;
    let entries: [(u16, u16, u32); 5] = [
        (0x01, 6, UNDEFINED),
        (0x02, 6, 65534),
        (0x04, 0, UNDEFINED),
        (0x10, 6, UNDEFINED),
        (0x20, 0, UNDEFINED),
    ];
    let mut acl = 2u32.to_le_bytes().to_vec();
    for (tag, perm, id) in entries {
        acl.extend(tag.to_le_bytes());
        acl.extend(perm.to_le_bytes());
        acl.extend(id.to_le_bytes());
    }
    acl
}

#[cfg(target_os = "linux")]
fn set_xattr(path: &Path, name: &std::ffi::CStr, value: &[u8]) -> std::io::Result<()> {
    use std::os::unix::ffi::OsStrExt;
    let path = std::ffi::CString::new(path.as_os_str().as_bytes()).unwrap();
    // SAFETY: NUL-terminated strings and a readable buffer of the length passed.
    let set = unsafe { libc::setxattr(path.as_ptr(), name.as_ptr(), value.as_ptr().cast(), value.len(), 0) };
    if set == 0 {
        Ok(())
    } else {
        Err(std::io::Error::last_os_error())
    }
}

#[cfg(target_os = "linux")]
fn access_acl(path: &Path) -> Option<Vec<u8>> {
    use std::os::unix::ffi::OsStrExt;
    let path = std::ffi::CString::new(path.as_os_str().as_bytes()).unwrap();
    let mut value = vec![0u8; 1024];
    // SAFETY: NUL-terminated strings and a writable buffer of the length passed.
    let n = unsafe {
        libc::getxattr(
            path.as_ptr(),
            c"system.posix_acl_access".as_ptr(),
            value.as_mut_ptr().cast(),
            value.len(),
        )
    };
    let n = usize::try_from(n).ok()?;
    value.truncate(n);
    Some(value)
}

#[cfg(target_os = "linux")]
#[test]
fn a_save_keeps_the_files_access_acl() {
    use std::os::unix::fs::PermissionsExt;
    let (_dir, path) = fixture(b"shared");
    let acl = acl_with_a_named_user();
    if let Err(e) = set_xattr(&path, c"system.posix_acl_access", &acl) {
        eprintln!("no ACLs on this file system ({e}): skipped");
        return;
    }
    assert_eq!(
        fs::metadata(&path).unwrap().permissions().mode() & 0o777,
        0o660,
        "the mask shows as group bits"
    );
    let file = FilePersistence::open(&path, FileBackend::Positional).unwrap();
    file.save(&mut vec![copy(0, 6), insert(b"!")].into_iter(), SaveOptions::default()).unwrap();
    assert_eq!(access_acl(&path), Some(acl), "the owning group still has no access");
    assert_eq!(fs::metadata(&path).unwrap().permissions().mode() & 0o777, 0o660);
}

#[cfg(unix)]
#[test]
fn a_saved_file_is_not_left_locked() {
    use std::os::fd::AsRawFd;
    for backend in BACKENDS {
        let (_dir, path) = fixture(b"abc");
        let file = FilePersistence::open(&path, backend).unwrap();
        let saved =
            file.save(&mut vec![copy(0, 3), insert(b"d")].into_iter(), SaveOptions::default()).unwrap();
        // Another program locking the file while the saved layer lives.
        let other = File::open(&path).unwrap();
        // SAFETY: `other` is open for the call.
        let locked = unsafe { libc::flock(other.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) };
        assert_eq!(locked, 0, "{backend:?}: {}", std::io::Error::last_os_error());
        drop(saved);
    }
}

#[cfg(target_os = "linux")]
#[test]
fn a_file_without_an_acl_takes_none_from_its_directorys_default() {
    use std::os::unix::fs::PermissionsExt;
    let (dir, path) = fixture(b"private");
    fs::set_permissions(&path, fs::Permissions::from_mode(0o640)).unwrap();
    // The directory's default ACL, given to new files in it, names user 65534.
    if let Err(e) = set_xattr(dir.path(), c"system.posix_acl_default", &acl_with_a_named_user()) {
        eprintln!("no ACLs on this file system ({e}): skipped");
        return;
    }
    let file = FilePersistence::open(&path, FileBackend::Positional).unwrap();
    file.save(&mut vec![copy(0, 7), insert(b"!")].into_iter(), SaveOptions::default()).unwrap();
    assert_eq!(access_acl(&path), None, "nobody named gains access");
    assert_eq!(fs::metadata(&path).unwrap().permissions().mode() & 0o777, 0o640);
}

#[test]
fn save_refuses_a_file_changed_on_disk_unless_forced() {
    for backend in BACKENDS {
        let (dir, path) = fixture(b"original");
        let file = FilePersistence::open(&path, backend).unwrap();
        fs::write(dir.path().join("theirs"), b"original + theirs").unwrap();
        fs::rename(dir.path().join("theirs"), &path).unwrap();

        let recipe = || vec![copy(0, 8), insert(b" + mine")].into_iter();
        match file.save(&mut recipe(), SaveOptions::default()) {
            Err(PersistenceError::ExternallyChanged { what, detail }) => {
                assert!(what.ends_with("data.bin") && detail.contains("replaced"), "{what}: {detail}");
            }
            other => panic!("expected ExternallyChanged, got {other:?}"),
        }
        assert_eq!(fs::read(&path).unwrap(), b"original + theirs");
        assert_eq!(names_in(dir.path()), ["data.bin"]);

        file.save(&mut recipe(), SaveOptions { force: true }).unwrap();
        assert_eq!(fs::read(&path).unwrap(), b"original + mine");
    }
}

/// The target deleted while a save writes (the recipe's first piece deletes it): the save refuses
/// it as changed, or, forced, writes it anew, as for a target deleted before the save; what the
/// new file keeps of the old one (its permissions, its ACL) was read when the save started.
#[cfg(unix)]
#[test]
fn a_target_deleted_while_a_save_writes_is_refused_as_changed_or_forced_written_anew() {
    for force in [false, true] {
        let (dir, path) = fixture(b"original");
        let file = FilePersistence::open(&path, FileBackend::Positional).unwrap();
        let target = path.clone();
        let mut recipe = meddling_recipe(vec![insert(b"mine")], move || {
            let _ = fs::remove_file(&target);
        });
        let saved = file.save(&mut recipe, SaveOptions { force }).map(drop);
        if force {
            saved.unwrap();
            assert_eq!(fs::read(&path).unwrap(), b"mine");
        } else {
            assert!(changed_detail(saved).contains("deleted or moved away"));
            assert!(!path.exists());
        }
        assert_eq!(
            names_in(dir.path()),
            if force { vec!["data.bin"] } else { vec![] },
            "no temporary file left"
        );
    }
}

#[test]
fn no_save_copies_from_a_file_changed_in_place_forced_or_not() {
    // Even an append: from its metadata a file appended to and one rewritten longer look the same.
    for backend in BACKENDS {
        let (dir, path) = fixture(b"original");
        let file = FilePersistence::open(&path, backend).unwrap();
        OpenOptions::new().append(true).open(&path).unwrap().write_all(b" + theirs").unwrap();
        let recipe = || vec![copy(0, 8), insert(b" + mine")].into_iter();
        assert!(matches!(
            file.save(&mut recipe(), SaveOptions::default()),
            Err(PersistenceError::ExternallyChanged { .. })
        ));
        match file.save(&mut recipe(), SaveOptions { force: true }) {
            Err(PersistenceError::RewrittenInPlace { detail, .. }) => {
                assert!(detail.contains("size"), "{detail}")
            }
            other => panic!("expected RewrittenInPlace, got {other:?}"),
        }
        let elsewhere = dir.path().join("copy");
        let saved_elsewhere = save_recipe_as(&file, &mut recipe(), &elsewhere, backend);
        assert!(matches!(saved_elsewhere, Err(PersistenceError::RewrittenInPlace { .. })));
        assert_eq!(fs::read(&path).unwrap(), b"original + theirs");
        assert_eq!(names_in(dir.path()), ["data.bin"]);
        // A recipe that copies nothing needs none of its bytes: forced, it saves.
        file.save(&mut vec![insert(b"all mine")].into_iter(), SaveOptions { force: true }).unwrap();
        assert_eq!(fs::read(&path).unwrap(), b"all mine");
    }
}

#[test]
fn a_failed_save_leaves_the_original_and_no_temporary_file() {
    let old = pattern(100_000);
    let (dir, path) = fixture(&old);
    let file = FilePersistence::open(&path, FileBackend::Positional).unwrap();
    let assert_untouched = |what: &str| {
        assert_eq!(fs::read(&path).unwrap(), old, "{what}");
        assert_eq!(names_in(dir.path()), ["data.bin"], "{what}");
        file.check_unchanged().unwrap();
    };

    // A recipe item that is an error, after pieces were written.
    let failing = PersistenceError::Unsupported("the editor gave up");
    let mut recipe = vec![copy(0, 50_000), insert(b"x"), Err(failing)].into_iter();
    let err = file.save(&mut recipe, SaveOptions::default()).unwrap_err();
    assert!(matches!(err, PersistenceError::Unsupported("the editor gave up")), "{err:?}");
    assert_untouched("recipe error");

    // A copy out of range.
    let mut recipe = vec![insert(b"x"), copy(99_999, 2)].into_iter();
    let err = file.save(&mut recipe, SaveOptions::default()).unwrap_err();
    assert!(
        matches!(err, PersistenceError::OutOfRange { offset: 99_999, len: 2, total: 100_000 }),
        "{err:?}"
    );
    assert_untouched("copy out of range");

    // The source fails half-way through a copy, through `save_recipe_as` over a wrapped layer.
    let faulty = FaultyPersistence::new(FilePersistence::open(&path, MAPPED).unwrap());
    faulty.plan().short_read(ReadCall::CopyRangeToFile, Trigger::Nth(2));
    let mut recipe = vec![copy(0, 10), copy(10, 90_000)].into_iter();
    let err = save_recipe_as(&faulty, &mut recipe, &path, MAPPED).unwrap_err();
    assert!(
        matches!(err, PersistenceError::ShortRead { offset: 10, wanted: 90_000, got: 45_000 }),
        "{err:?}"
    );
    assert_eq!(faulty.plan().calls(Call::CopyRangeToFile), 2);
    assert_untouched("short read while copying");

    // A save into a directory.
    let err = save_recipe_as(&file, &mut vec![insert(b"x")].into_iter(), dir.path(), MAPPED).unwrap_err();
    assert!(err.to_string().contains("not a regular file"), "{err}");
    assert_untouched("target is a directory");
}

#[test]
fn save_recipe_as_writes_a_new_file_from_any_layer() {
    let dir = tempfile::tempdir().unwrap();
    let source = MemoryPersistence::new(b"from memory".to_vec());
    let path = dir.path().join("new.txt");
    let mut recipe = vec![copy(5, 6), insert(b" to disk")].into_iter();
    let saved = save_recipe_as(&source, &mut recipe, &path, MAPPED).unwrap();
    assert_eq!(fs::read(&path).unwrap(), b"memory to disk");
    assert_eq!(saved.read_buffer(0, 14).unwrap(), b"memory to disk"[..]);
    assert!(saved.is_mapped());
    assert_eq!(saved.file_path(), path);

    // From one file into another: the copies come from the first file.
    let first = FilePersistence::open(&path, FileBackend::Positional).unwrap();
    let second = dir.path().join("second.txt");
    save_recipe_as(&first, &mut vec![copy(7, 7), copy(0, 6)].into_iter(), &second, FileBackend::Positional)
        .unwrap();
    assert_eq!(fs::read(&second).unwrap(), b"to diskmemory");
    assert_eq!(names_in(dir.path()), ["new.txt", "second.txt"]);
}

#[test]
fn a_save_spanning_many_write_behind_windows_writes_every_byte_in_order() {
    // Copies are cut at window boundaries of the new file; runs that start and end off them, long
    // inserts that fill the buffer, and a copy longer than two windows must all come out whole.
    const WINDOW: usize = write_behind::WriteBehind::WINDOW as usize;
    let content = pattern(3 * WINDOW + 12_345);
    let (dir, path) = fixture(&content);
    let long_insert = vec![b'i'; atomic_save::INSERT_BUFFER + 17];
    let pieces = [(0, WINDOW - 3), (WINDOW, 2 * WINDOW + 1), (5, 1), (content.len() - 12_345, 12_345)];
    for backend in BACKENDS {
        let source = FilePersistence::open(&path, backend).unwrap();
        let mut expected = Vec::new();
        let mut recipe = Vec::new();
        for (i, &(offset, len)) in pieces.iter().enumerate() {
            recipe.push(copy(offset as u64, len as u64));
            expected.extend_from_slice(&content[offset..offset + len]);
            let inserted: &[u8] = if i == 1 { &long_insert } else { b"<edit>" };
            recipe.push(insert(inserted));
            expected.extend_from_slice(inserted);
        }
        let out = dir.path().join("saved.bin");
        save_recipe_as(&source, &mut recipe.into_iter(), &out, backend).unwrap();
        assert!(fs::read(&out).unwrap() == expected, "{backend:?}: wrong bytes");
    }
}

#[cfg(unix)]
#[test]
fn save_through_a_symbolic_link_replaces_the_file_it_points_to() {
    let (dir, path) = fixture(b"target");
    let link = dir.path().join("link");
    std::os::unix::fs::symlink(&path, &link).unwrap();
    let file = FilePersistence::open(&link, FileBackend::Positional).unwrap();
    let saved =
        file.save(&mut vec![insert(b"new "), copy(0, 6)].into_iter(), SaveOptions::default()).unwrap();
    assert!(fs::symlink_metadata(&link).unwrap().file_type().is_symlink());
    assert_eq!(fs::read(&path).unwrap(), b"new target");
    saved.check_unchanged().unwrap();
}

#[cfg(unix)]
#[test]
fn a_save_onto_a_symbolic_link_to_nothing_fails_naming_it_and_makes_nothing() {
    let (dir, path) = fixture(b"source");
    let source = FilePersistence::open(&path, FileBackend::Positional).unwrap();
    let link = dir.path().join("link");
    std::os::unix::fs::symlink(dir.path().join("missing"), &link).unwrap();
    let saved = save_recipe_as(&source, &mut vec![copy(0, 6)].into_iter(), &link, FileBackend::Positional);
    let Err(PersistenceError::Io(e)) = saved.map(drop) else { panic!("saved onto a link to nothing") };
    assert!(e.to_string().contains(&link.display().to_string()), "{e}");
    assert_eq!(names_in(dir.path()), ["data.bin", "link"]);
}

#[test]
fn copy_range_to_file_appends_exact_ranges_from_every_layer() {
    let content = pattern(3 << 20);
    let (_dir, path) = fixture(&content);
    let layers: Vec<Box<dyn PersistenceLayer>> = vec![
        Box::new(FilePersistence::open(&path, MAPPED).unwrap()),
        Box::new(FilePersistence::open(&path, FileBackend::Positional).unwrap()),
        Box::new(MemoryPersistence::new(content.clone())),
    ];
    for layer in layers {
        let mut out = tempfile::tempfile().unwrap();
        out.write_all(b">").unwrap();
        layer.copy_range_to_file(7, (2 << 20) + 3, &mut out).unwrap();
        layer.copy_range_to_file(0, 0, &mut out).unwrap();
        layer.copy_range_to_file((3 << 20) - 1, 1, &mut out).unwrap();
        // At the same offset within a page as the output, where file systems with reflinks can
        // share blocks; the runs above are shifted within their pages.
        let aligned = 4096 + out.stream_position().unwrap() % 4096;
        layer.copy_range_to_file(aligned, 8192, &mut out).unwrap();
        let err = layer.copy_range_to_file(3 << 20, 1, &mut out).unwrap_err();
        assert!(matches!(err, PersistenceError::OutOfRange { .. }), "{layer:?}: {err:?}");

        out.seek(SeekFrom::Start(0)).unwrap();
        let mut written = Vec::new();
        std::io::Read::read_to_end(&mut out, &mut written).unwrap();
        let mut expected = b">".to_vec();
        expected.extend_from_slice(&content[7..7 + (2 << 20) + 3]);
        expected.push(content[(3 << 20) - 1]);
        let aligned = 4096 + expected.len() % 4096;
        expected.extend_from_slice(&content[aligned..aligned + 8192]);
        assert!(written == expected, "{layer:?}: wrong bytes");
    }
}

#[cfg(target_os = "linux")]
#[test]
fn a_save_passes_over_a_hole_whole_however_long_it_is() {
    use std::os::unix::fs::{FileExt, MetadataExt};
    const SIZE: u64 = 1 << 40;
    let (dir, path) = fixture(b"");
    let file = OpenOptions::new().write(true).open(&path).unwrap();
    if file.set_len(SIZE).is_err() {
        eprintln!("this file system takes no file of a TiB: skipped");
        return;
    }
    file.write_all_at(b"head", 0).unwrap();
    file.write_all_at(b"tail", SIZE - 4).unwrap();
    let allocated = |path: &Path| fs::metadata(path).unwrap().blocks() * 512;
    if allocated(&path) > 1 << 20 {
        eprintln!("this file system does not keep holes: skipped");
        return;
    }
    let source = FaultyPersistence::new(FilePersistence::open(&path, FileBackend::Positional).unwrap());
    let target = dir.path().join("saved.bin");
    let mut recipe = [insert(b">"), copy(0, SIZE)].into_iter();
    save_recipe_as(&source, &mut recipe, &target, FileBackend::Positional).unwrap();

    let saved = File::open(&target).unwrap();
    assert_eq!(saved.metadata().unwrap().len(), SIZE + 1);
    let mut ends = [0u8; 5];
    saved.read_exact_at(&mut ends, 0).unwrap();
    assert_eq!(&ends, b">head");
    saved.read_exact_at(&mut ends, SIZE - 4).unwrap();
    assert_eq!(&ends, b"\0tail", "the hole read as zeros, the tail after it");
    assert!(allocated(&target) <= 1 << 20, "{} bytes allocated", allocated(&target));
    // The data at each end, not the hole's 131,072 write-behind windows.
    let copies = source.plan().calls(Call::CopyRangeToFile);
    assert!(copies <= 4, "{copies} copies for two runs of data");
}

#[test]
fn save_recipe_as_writes_a_recipe_from_any_layer_to_a_new_file() {
    let source = MemoryPersistence::new(b"0123456789".to_vec());
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("digits");
    let mut recipe = [copy(5, 5), insert(b"!")].into_iter();
    let saved = save_recipe_as(&source, &mut recipe, &path, FileBackend::Positional).unwrap();
    assert_eq!(fs::read(&path).unwrap(), b"56789!");
    assert_eq!(saved.read_buffer(0, 6).unwrap(), b"56789!"[..]);
    assert_eq!(saved.file_path(), path);
}

#[test]
fn save_recipe_as_refuses_a_path_that_names_no_file_or_a_directory_before_writing_anything() {
    let source = MemoryPersistence::new(b"content".to_vec());
    let dir = tempfile::tempdir().unwrap();
    let ending = |end: &str| {
        let mut path = dir.path().join("new").into_os_string();
        path.push(end);
        PathBuf::from(path)
    };
    let separator = std::path::MAIN_SEPARATOR_STR;
    let directories = [
        PathBuf::from("/"),
        PathBuf::from(".."),
        PathBuf::from("."),
        dir.path().join(".."),
        ending(separator),
        ending(&format!("{separator}.")),
        ending(&format!("{separator}..")),
    ];
    let cases = [(PathBuf::new(), ErrorKind::InvalidInput, "names no file")].into_iter().chain(
        directories
            .into_iter()
            .map(|path| (path, ErrorKind::IsADirectory, "so it names a directory, not a regular file")),
    );
    for (path, kind, words) in cases {
        let mut recipe = [copy(0, 7)].into_iter();
        match save_recipe_as(&source, &mut recipe, &path, FileBackend::Positional) {
            Err(PersistenceError::Io(e)) => {
                assert_eq!(e.kind(), kind, "{path:?}");
                assert!(e.to_string().contains(words), "{e}");
            }
            other => panic!("save to {path:?}: {:?}", other.map(|_| ())),
        }
    }
    assert!(names_in(dir.path()).is_empty());
}

#[cfg(target_os = "linux")]
#[test]
fn a_save_of_a_sparse_file_keeps_its_holes() {
    use std::os::unix::fs::{FileExt, MetadataExt};
    const SIZE: u64 = 64 << 20;
    // 64 MiB, of which 4 KiB at the start and 4 KiB in the middle are data.
    let sparse = || {
        let (dir, path) = fixture(b"");
        let f = OpenOptions::new().write(true).open(&path).unwrap();
        f.set_len(SIZE).unwrap();
        f.write_all_at(&pattern(4096), 0).unwrap();
        f.write_all_at(&pattern(4096), SIZE / 2).unwrap();
        (dir, path)
    };
    let allocated = |path: &Path| fs::metadata(path).unwrap().blocks() * 512;
    let (_dir, path) = sparse();
    if allocated(&path) > 1 << 20 {
        eprintln!("this file system does not keep holes: skipped");
        return;
    }
    let original = fs::read(&path).unwrap();
    // Copied whole; shifted by an insert; ending inside a hole.
    let cases = [
        (vec![copy(0, SIZE)], &b""[..], SIZE),
        (vec![insert(b"x"), copy(0, SIZE)], b"x", SIZE),
        (vec![copy(0, SIZE - 1)], b"", SIZE - 1),
    ];
    for (recipe, inserted, copied) in cases {
        let (_dir, path) = sparse();
        let file = FilePersistence::open(&path, FileBackend::Positional).unwrap();
        file.save(&mut recipe.into_iter(), SaveOptions::default()).unwrap();
        let mut expected = inserted.to_vec();
        expected.extend_from_slice(&original[..copied as usize]);
        assert!(fs::read(&path).unwrap() == expected, "the content, holes read as zeros");
        assert!(allocated(&path) <= 1 << 20, "{} bytes allocated", allocated(&path));
    }
}
