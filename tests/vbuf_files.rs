//! The virtual buffer over real files and faulty layers: open, save, save-as and reopen against a model;
//! short reads and errors from the persistence layer; a file truncated or changed underneath.
// The test aids (omnibuf::testing) come with the `testing` feature, which the suites turn on.
#![cfg(feature = "testing")]

use std::io::ErrorKind;
use std::sync::Arc;

use omnibuf::testing::{Call, FaultPlan, FaultyPersistence, ReadCall, Trigger};
use omnibuf::vbuf::{
    FileBackend, MemoryPersistence, PersistenceError, PersistenceLayer, SaveOptions, SaveRecipe, VbufError,
    VirtualBuffer, VirtualBufferOptions,
};
use omnibuf::{BufferKind, ZeroCopyBuffer};
use proptest::prelude::*;

fn text(len: usize) -> Vec<u8> {
    (0..len).map(|i| b"the quick brown fox\n"[i % 20]).collect()
}

const BACKENDS: [FileBackend; 2] = [
    // SAFETY: every file a test opens lies in its own temporary directory, and no test truncates or
    // rewrites in place a file it opened with this backend.
    unsafe { FileBackend::mapped() },
    FileBackend::Positional,
];

#[test]
fn opening_reads_nothing_even_for_a_huge_sparse_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("huge");
    let f = std::fs::File::create(&path).unwrap();
    f.set_len(10 << 30).unwrap(); // 10 GiB, sparse
    for backend in BACKENDS {
        let buf = VirtualBuffer::open_with(&path, backend, VirtualBufferOptions::default()).unwrap();
        assert_eq!(buf.len(), 10 << 30);
        buf.insert(5 << 30, b"middle").unwrap();
        assert_eq!(buf.read((5 << 30) - 1..(5 << 30) + 7).unwrap(), b"\0middle\0"[..]);
        let stats = buf.stats();
        assert!(
            stats.cached_bytes <= 128 << 10,
            "a read loads the blocks it touches, not the file: {stats:?}"
        );
    }
}

/// `cache_budget` bounds the blocks a file's reads keep, apart from the block read last: a budget
/// smaller than a block (0 too) keeps that one block, and reads across the whole file no more.
#[test]
fn the_cache_keeps_its_budget_and_the_block_read_last() {
    const BLOCK: usize = 4096;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("file");
    std::fs::write(&path, text(20 * BLOCK)).unwrap();
    for budget in [0, 100, BLOCK, 3 * BLOCK + 1] {
        let options = VirtualBufferOptions { block_size: BLOCK, cache_budget: budget, ..Default::default() };
        let buf = VirtualBuffer::open_with(&path, FileBackend::Positional, options).unwrap();
        assert_eq!(buf.read(5..15).unwrap(), text(20)[5..15]);
        assert_eq!(buf.stats().cached_bytes, BLOCK, "budget {budget}: the block read is kept");
        for start in (0..20 * BLOCK as u64).step_by(BLOCK / 2) {
            buf.read(start..start + 10).unwrap();
            let cached = buf.stats().cached_bytes;
            assert!(cached <= budget + BLOCK, "budget {budget}: {cached} bytes cached");
        }
    }
}

#[test]
fn save_as_then_save_writes_the_new_file_and_leaves_the_old_one() {
    let dir = tempfile::tempdir().unwrap();
    let (a, b) = (dir.path().join("a"), dir.path().join("b"));
    std::fs::write(&a, text(1000)).unwrap();
    let buf = VirtualBuffer::open(&a).unwrap();
    buf.insert(0, b">>").unwrap();
    buf.save_as(&b, FileBackend::Positional).unwrap();
    buf.delete(0..1).unwrap();
    buf.save().unwrap();
    assert_eq!(std::fs::read(&a).unwrap(), text(1000));
    let mut expected = b">".to_vec();
    expected.extend(text(1000));
    assert_eq!(std::fs::read(&b).unwrap(), expected);
    assert!(buf.undo() && buf.undo(), "undo works across saves");
    assert_eq!(buf.read(..).unwrap(), text(1000)[..]);
}

#[test]
fn a_save_lets_go_of_the_versions_nothing_reads() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("log");
    let original = text(1 << 20);
    for backend in BACKENDS {
        std::fs::write(&path, &original).unwrap();
        let buf = VirtualBuffer::open_with(&path, backend, VirtualBufferOptions::default()).unwrap();
        let mut model = original.clone();
        // Appends only: undoing them needs no earlier version, so each save lets go of the last.
        for i in 0..5 {
            let line = format!("line {i}\n");
            buf.insert(buf.len(), line.as_bytes()).unwrap();
            model.extend_from_slice(line.as_bytes());
            buf.save().unwrap();
            assert_eq!(buf.stats().versions_held, 1, "{backend:?}, save {i}");
        }
        #[cfg(target_os = "linux")]
        assert_eq!(replaced_files_held_open(dir.path()), 0, "{backend:?}");
        // The undo of a deletion reads the version it deleted from: that one stays.
        buf.delete(0..100).unwrap();
        buf.save().unwrap();
        assert_eq!(buf.stats().versions_held, 2, "{backend:?}");
        #[cfg(target_os = "linux")]
        assert_eq!(replaced_files_held_open(dir.path()), 1, "{backend:?}");
        while buf.undo() {}
        assert_eq!(buf.read(..).unwrap(), original[..], "{backend:?}: undone back to the opened file");
        while buf.redo() {}
        assert_eq!(buf.read(..).unwrap(), model[100..], "{backend:?}");
        drop(buf);
        #[cfg(target_os = "linux")]
        assert_eq!(replaced_files_held_open(dir.path()), 0, "{backend:?}");
    }
}

/// How many files of `dir` that were replaced (renamed over) this process still holds open.
#[cfg(target_os = "linux")]
fn replaced_files_held_open(dir: &std::path::Path) -> usize {
    std::fs::read_dir("/proc/self/fd")
        .unwrap()
        .filter_map(|fd| std::fs::read_link(fd.ok()?.path()).ok())
        .filter(|target| target.starts_with(dir) && target.to_string_lossy().ends_with(" (deleted)"))
        .count()
}

/// A script saved by a buffer that stays open runs: the buffer reads the saved file through a handle
/// that cannot write it (one that could would make the system refuse to run it, `ETXTBSY`).
#[cfg(unix)]
#[test]
fn a_saved_script_runs_while_its_buffer_stays_open() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let (script, copy) = (dir.path().join("script.sh"), dir.path().join("copy.sh"));
    std::fs::write(&script, "#!/bin/sh\nexit 3\n").unwrap();
    std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).unwrap();
    let run = |path: &std::path::Path| std::process::Command::new(path).status().map(|status| status.code());
    for backend in BACKENDS {
        let buf = VirtualBuffer::open_with(&script, backend, VirtualBufferOptions::default()).unwrap();
        buf.replace(15..16, b"7").unwrap();
        buf.save().unwrap();
        assert_eq!(run(&script).unwrap(), Some(7), "{backend:?}: after save()");
        buf.save_as(&copy, backend).unwrap();
        std::fs::set_permissions(&copy, std::fs::Permissions::from_mode(0o755)).unwrap();
        assert_eq!(run(&copy).unwrap(), Some(7), "{backend:?}: after save_as()");
        buf.replace(15..16, b"3").unwrap();
        buf.save_as(&script, backend).unwrap();
    }
}

#[test]
fn a_file_changed_underneath_is_reported_and_save_refuses_unless_forced() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("f");
    std::fs::write(&path, text(100)).unwrap();
    let buf =
        VirtualBuffer::open_with(&path, FileBackend::Positional, VirtualBufferOptions::default()).unwrap();
    buf.insert(0, b"mine ").unwrap();
    // Another editor saves the usual way: a new file renamed over the old one. Our open file still
    // reads the old content.
    let theirs = dir.path().join("theirs");
    std::fs::write(&theirs, b"someone else's much longer content").unwrap();
    std::fs::rename(&theirs, &path).unwrap();
    assert!(matches!(
        buf.check_for_external_changes(),
        Err(VbufError::Persistence(PersistenceError::ExternallyChanged { .. }))
    ));
    let refused = buf.save().unwrap_err();
    assert!(refused.to_string().contains("changed on disk"), "{refused}");
    assert_eq!(std::fs::read(&path).unwrap(), b"someone else's much longer content");
    assert!(buf.is_modified(), "the edits are intact");
    buf.save_with(SaveOptions { force: true }).unwrap();
    let mut expected = b"mine ".to_vec();
    expected.extend(text(100));
    assert_eq!(std::fs::read(&path).unwrap(), expected);
    buf.check_for_external_changes().unwrap();
}

#[test]
fn a_file_overwritten_in_place_cannot_be_saved_even_forced_nor_elsewhere() {
    // Shorter, and longer: the bytes our pieces point at are gone either way, so no save can write
    // our content. Each must fail without touching any file, not write a mix of theirs and ours.
    for theirs in [&b"short"[..], &text(300)[..]] {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("f");
        std::fs::write(&path, text(100)).unwrap();
        let buf = VirtualBuffer::open_with(&path, FileBackend::Positional, VirtualBufferOptions::default())
            .unwrap();
        buf.insert(0, b"mine ").unwrap();
        std::fs::write(&path, theirs).unwrap(); // the same inode, rewritten
                                                // Unforced, the error is the one `force` cannot get past either, and does not suggest it.
        for force in [false, true] {
            let err = buf.save_with(SaveOptions { force }).unwrap_err();
            assert!(
                matches!(err, VbufError::Persistence(PersistenceError::RewrittenInPlace { .. })),
                "{err}"
            );
            assert!(!err.to_string().contains("save with force"), "{err}");
        }
        let elsewhere = dir.path().join("copy");
        assert!(buf.save_as(&elsewhere, FileBackend::Positional).is_err());
        assert_eq!(std::fs::read(&path).unwrap(), theirs);
        assert!(!elsewhere.exists());
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1, "no temp file left");
        assert!(buf.is_modified());
    }
}

#[test]
fn a_file_rewritten_in_place_is_saved_over_when_forced_if_the_save_copies_nothing_from_it() {
    // All of the content retyped: the save needs none of the old bytes, so it is an ordinary change
    // underneath, refused unless forced.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("f");
    std::fs::write(&path, text(100)).unwrap();
    let buf =
        VirtualBuffer::open_with(&path, FileBackend::Positional, VirtualBufferOptions::default()).unwrap();
    buf.replace(0..buf.len(), b"all mine").unwrap();
    std::fs::write(&path, b"theirs, in place").unwrap();
    let err = buf.save().unwrap_err();
    assert!(matches!(err, VbufError::Persistence(PersistenceError::ExternallyChanged { .. })), "{err}");
    assert_eq!(std::fs::read(&path).unwrap(), b"theirs, in place");
    buf.save_with(SaveOptions { force: true }).unwrap();
    assert_eq!(std::fs::read(&path).unwrap(), b"all mine");
}

#[test]
fn a_file_replaced_underneath_can_be_saved_over_when_forced() {
    // Replaced by rename: the buffer still reads the old file, so a forced save writes its content.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("f");
    std::fs::write(&path, text(100)).unwrap();
    let buf =
        VirtualBuffer::open_with(&path, FileBackend::Positional, VirtualBufferOptions::default()).unwrap();
    buf.insert(0, b"mine ").unwrap();
    std::fs::write(dir.path().join("new"), b"theirs").unwrap();
    std::fs::rename(dir.path().join("new"), &path).unwrap();
    assert!(buf.save().is_err());
    buf.save_with(SaveOptions { force: true }).unwrap();
    let mut expected = b"mine ".to_vec();
    expected.extend(text(100));
    assert_eq!(std::fs::read(&path).unwrap(), expected);
}

#[test]
fn a_file_truncated_underneath_gives_read_errors_not_a_crash() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("log");
    std::fs::write(&path, text(1 << 20)).unwrap();
    let buf =
        VirtualBuffer::open_with(&path, FileBackend::Positional, VirtualBufferOptions::default()).unwrap();
    assert_eq!(buf.read(0..5).unwrap(), b"the q"[..]);
    std::fs::OpenOptions::new().write(true).open(&path).unwrap().set_len(100).unwrap();
    let err = buf.read(500_000..500_010).unwrap_err();
    assert!(matches!(err, VbufError::Persistence(PersistenceError::ShortRead { .. })), "{err}");
    let mut it = buf.iter_at(999_990).unwrap();
    assert_eq!(it.next(), None);
    assert!(it.take_error().is_some(), "the iterator tells an error from the end");
    assert!(buf.line_count().is_err());
    assert_eq!(buf.read(0..5).unwrap(), b"the q"[..], "what was loaded still reads");
}

#[test]
fn faults_from_the_layer_fail_the_call_and_lose_nothing() {
    let plan = FaultPlan::new();
    let layer = FaultyPersistence::with_plan(Box::new(MemoryPersistence::new(text(4096))), plan.clone());
    let buf = VirtualBuffer::with_layer(Arc::new(layer), VirtualBufferOptions::tiny()).unwrap();
    buf.insert(10, b"EDIT").unwrap();
    plan.short_read(ReadCall::ReadBuffer, Trigger::Always);
    assert!(buf.read(0..100).is_err());
    assert!(buf.find(b"zzz", ..).is_err());
    plan.clear();
    let mut expected = text(4096);
    expected.splice(10..10, b"EDIT".iter().copied());
    assert_eq!(buf.read(..).unwrap(), expected[..]);

    plan.io_error(Call::Save, Trigger::Always, ErrorKind::StorageFull);
    assert!(buf.save().is_err());
    assert!(buf.is_modified());
    plan.clear();
    buf.save().unwrap();
    assert!(!buf.is_modified());
    assert_eq!(buf.read(..).unwrap(), expected[..]);
}

/// A walk whose read fails (a file truncated underneath, here a short read every time) gives the error
/// once, as its last item, both ways: a loop that skips errors (`flatten()`) ends.
#[test]
fn a_walk_ends_at_its_first_failed_read() {
    let plan = FaultPlan::new();
    let layer = FaultyPersistence::with_plan(Box::new(MemoryPersistence::new(text(100_000))), plan.clone());
    let buf = VirtualBuffer::with_layer(Arc::new(layer), VirtualBufferOptions::tiny()).unwrap();
    let mut lines = buf.lines(0).unwrap();
    let first_lines: Vec<_> = lines.by_ref().take(3).collect::<Result<_, _>>().unwrap();
    assert_eq!(first_lines.len(), 3);
    plan.short_read(ReadCall::ReadBuffer, Trigger::Always);
    plan.short_read(ReadCall::ReadAt, Trigger::Always);

    // (Each walk taken at most 1000 steps, so that one that never ends fails rather than hangs.)
    let items: Vec<_> = buf.chunks(1000..).unwrap().take(1000).collect();
    assert_eq!(items.len(), 1, "the error, then the end: {} items", items.len());
    assert!(items[0].is_err());
    let items: Vec<_> = buf.chunks(1000..).unwrap().rev().take(1000).collect();
    assert_eq!(items.len(), 1, "backwards too: {} items", items.len());
    assert!(items[0].is_err());

    // Lines: the walk made before the fault ends at its first failed step, and so does a new one.
    let rest: Vec<_> = lines.by_ref().take(1000).collect();
    assert_eq!(rest.len(), 1, "the error, then the end: {} items", rest.len());
    assert!(rest[0].is_err());
    assert!(lines.next().is_none() && lines.prev().is_none(), "ended both ways");
    assert!(buf.lines(0).map_or(true, |lines| lines.take(1000).count() < 1000), "a new walk ends too");

    plan.clear();
    assert_eq!(
        buf.chunks(..).unwrap().map(|c| c.unwrap().len()).sum::<usize>(),
        100_000,
        "a new walk reads again"
    );
}

/// A save whose file is written and renamed into place has succeeded, whatever the new layer answers
/// after: the buffer takes it as its base, and its next save is not refused as a change underneath.
#[test]
fn a_save_done_is_adopted_even_if_the_new_file_then_fails_a_call() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("doc");
    std::fs::write(&path, b"old").unwrap();
    let plan = FaultPlan::new();
    let file = omnibuf::vbuf::FilePersistence::open(&path, FileBackend::Positional).unwrap();
    let layer = FaultyPersistence::with_plan(Box::new(file), plan.clone());
    let buf = VirtualBuffer::with_layer(Arc::new(layer), VirtualBufferOptions::default()).unwrap();
    buf.insert(3, b" new").unwrap();
    plan.io_error(Call::Len, Trigger::Always, ErrorKind::Other);
    buf.save().unwrap();
    assert!(!buf.is_modified());
    plan.clear();
    buf.insert(0, b">").unwrap();
    buf.save().unwrap();
    assert_eq!(std::fs::read(&path).unwrap(), b">old new");
}

fn edits() -> impl Strategy<Value = Vec<(u16, u16, Vec<u8>)>> {
    proptest::collection::vec(
        (any::<u16>(), 0u16..300, proptest::collection::vec(b'a'..=b'e', 0..200)),
        1..30,
    )
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(24))]

    #[test]
    fn edits_saved_and_reopened_match_the_model(edits in edits(), positional in any::<bool>(), tiny in any::<bool>()) {
        let backend = BACKENDS[usize::from(positional)];
        let options = if tiny {
            VirtualBufferOptions { block_size: 64, cache_budget: 256, spill_threshold: 128, ..VirtualBufferOptions::tiny() }
        } else {
            VirtualBufferOptions::default()
        };
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("doc");
        let mut model = text(3000);
        std::fs::write(&path, &model).unwrap();
        let buf = VirtualBuffer::open_with(&path, backend, options).unwrap();
        for (i, (at, len, bytes)) in edits.into_iter().enumerate() {
            let at = at as usize % (model.len() + 1);
            let end = (at + len as usize).min(model.len());
            buf.replace(at as u64..end as u64, &bytes).unwrap();
            model.splice(at..end, bytes);
            if i % 7 == 3 {
                buf.save().unwrap();
                prop_assert_eq!(std::fs::read(&path).unwrap(), model.clone());
            }
        }
        buf.save().unwrap();
        prop_assert_eq!(std::fs::read(&path).unwrap(), model.clone());
        let reopened = VirtualBuffer::open_with(&path, backend, options).unwrap();
        prop_assert_eq!(&reopened.read(..).unwrap()[..], &model[..]);
        let lfs = model.iter().filter(|&&b| b == b'\n').count() as u64;
        prop_assert_eq!(reopened.line_count().unwrap(), lfs + 1);
        prop_assert_eq!(buf.line_count().unwrap(), lfs + 1);
    }
}

/// A mapped layer whose `read_buffer` gives more bytes than asked for: a bug of code outside the
/// crate, which must give errors, not wrong answers.
#[derive(Debug)]
struct LongReads(MemoryPersistence);

impl PersistenceLayer for LongReads {
    fn len(&self) -> Result<u64, PersistenceError> {
        self.0.len()
    }

    fn read_at(&self, offset: u64, dst: &mut [u8]) -> Result<(), PersistenceError> {
        self.0.read_at(offset, dst)
    }

    fn read_buffer(&self, offset: u64, len: usize) -> Result<ZeroCopyBuffer, PersistenceError> {
        let mut bytes = vec![0; len];
        self.0.read_at(offset, &mut bytes)?;
        bytes.extend_from_slice(b"\n\n\n");
        Ok(ZeroCopyBuffer::from_bytes(bytes, BufferKind::raw()))
    }

    fn is_mapped(&self) -> bool {
        true
    }

    fn save(
        &self,
        _: &mut SaveRecipe<'_>,
        _: SaveOptions,
    ) -> Result<Box<dyn PersistenceLayer>, PersistenceError> {
        Err(PersistenceError::Unsupported("saving"))
    }
}

#[test]
fn a_layer_that_reads_more_than_asked_gives_errors_not_wrong_answers() {
    let layer = LongReads(MemoryPersistence::new(b"a\nb\nc".to_vec()));
    let buf = VirtualBuffer::with_layer(Arc::new(layer), VirtualBufferOptions::default()).unwrap();
    for err in [buf.line_count().unwrap_err(), buf.read(0..1).unwrap_err()] {
        assert!(matches!(err, VbufError::Persistence(PersistenceError::ShortRead { .. })), "{err}");
    }
}

/// A layer of `len` zero bytes that keeps none of them: larger than any memory, as a sparse file can be.
#[derive(Debug)]
struct Zeros(u64);

impl PersistenceLayer for Zeros {
    fn len(&self) -> Result<u64, PersistenceError> {
        Ok(self.0)
    }

    fn read_at(&self, offset: u64, dst: &mut [u8]) -> Result<(), PersistenceError> {
        let (len, total) = (dst.len() as u64, self.0);
        if offset.checked_add(len).is_none_or(|end| end > total) {
            return Err(PersistenceError::OutOfRange { offset, len, total });
        }
        dst.fill(0);
        Ok(())
    }

    fn save(
        &self,
        _: &mut SaveRecipe<'_>,
        _: SaveOptions,
    ) -> Result<Box<dyn PersistenceLayer>, PersistenceError> {
        Err(PersistenceError::Unsupported("saving"))
    }
}

#[test]
fn a_read_or_a_line_index_larger_than_memory_is_an_error_not_an_abort() {
    let len = 1 << 60;
    // One-byte blocks: the line index holds a count per block, 2^63 bytes of them.
    let options = VirtualBufferOptions { block_size: 1, ..VirtualBufferOptions::default() };
    let buf = VirtualBuffer::with_layer(Arc::new(Zeros(len)), options).unwrap();
    for (err, what) in [
        (buf.read(..).unwrap_err(), "a read"),
        (buf.read(7..len / 2).unwrap_err(), "a read"),
        (buf.line_count().unwrap_err(), "a line index"),
        (buf.offset_to_line(len - 1).unwrap_err(), "a line index"),
    ] {
        assert!(matches!(err, VbufError::AllocationFailed { what: w, .. } if w == what), "{err}");
    }
    // Nothing was changed, and a read that fits still works.
    assert_eq!(buf.len(), len);
    assert_eq!(buf.read(len - 3..).unwrap(), [0, 0, 0][..]);
}

#[cfg(target_os = "linux")]
#[test]
fn a_file_whose_size_says_nothing_is_refused_not_opened_empty() {
    // A `/proc` file's size reads 0, whatever it holds, and some refuse a read of one byte; a
    // `/sys` file's reads 4096, and it holds less.
    let sys = "/sys/devices/system/cpu/online";
    assert!(std::path::Path::new(sys).exists(), "{sys} is there on every Linux with /sys mounted");
    for path in ["/proc/self/status", "/proc/self/pagemap", sys] {
        let err = VirtualBuffer::open(path).unwrap_err();
        assert!(err.to_string().contains("made up as it is read"), "{path}: {err}");
    }
    // An empty file is empty.
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("empty"), b"").unwrap();
    assert_eq!(VirtualBuffer::open(dir.path().join("empty")).unwrap().len(), 0);
}

#[test]
fn undo_across_a_save_never_saves_bytes_of_an_older_file_rewritten_in_place() {
    // The undone pieces point into the first file again, which another program then rewrites in
    // place: a save that would read them refuses instead of writing bytes the buffer never held.
    let dir = tempfile::tempdir().unwrap();
    let (a, b) = (dir.path().join("a"), dir.path().join("b"));
    std::fs::write(&a, text(1000)).unwrap();
    let buf = VirtualBuffer::open_with(&a, FileBackend::Positional, VirtualBufferOptions::default()).unwrap();
    buf.delete(0..500).unwrap();
    buf.save_as(&b, FileBackend::Positional).unwrap();
    assert!(buf.undo());
    std::fs::write(&a, vec![b'z'; 1500]).unwrap(); // the same inode, rewritten
    let err = buf.save().unwrap_err();
    assert!(matches!(err, VbufError::Persistence(PersistenceError::RewrittenInPlace { .. })), "{err}");
    assert_eq!(std::fs::read(&b).unwrap(), text(1000)[500..]);
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 2, "no temp file left");
}

#[test]
fn an_edit_past_u64_max_is_refused_and_changes_nothing() {
    // Only a layer of one's own can report a length near u64::MAX.
    let buf = VirtualBuffer::with_layer(Arc::new(Zeros(u64::MAX)), VirtualBufferOptions::default()).unwrap();
    for at in [0, 1 << 40, u64::MAX] {
        match buf.insert(at, b"x") {
            Err(VbufError::TooLong { len: u64::MAX, adding: 1 }) => {}
            other => panic!("insert at {at}: {other:?}"),
        }
    }
    assert!(
        matches!(buf.replace(5..6, b"ab"), Err(VbufError::TooLong { len, adding: 2 }) if len == u64::MAX - 1)
    );
    assert_eq!(buf.len(), u64::MAX);
    assert!(!buf.is_modified());
    assert!(!buf.undo());
    assert_eq!(buf.read(u64::MAX - 3..u64::MAX).unwrap(), [0; 3][..]);
    // An edit that keeps within the limit still works.
    buf.replace(5..7, b"ab").unwrap();
    assert_eq!(buf.len(), u64::MAX);
    assert_eq!(buf.read(4..8).unwrap(), b"\0ab\0"[..]);
    buf.delete(0..1).unwrap();
    buf.insert(0, b"!").unwrap();
    assert_eq!(buf.read(0..2).unwrap(), b"!\0"[..]);
}

#[test]
fn a_bound_one_past_u64_max_is_out_of_range() {
    use std::ops::Bound;
    let buf = VirtualBuffer::with_layer(Arc::new(Zeros(u64::MAX)), VirtualBufferOptions::default()).unwrap();
    let out_of_range = |r: Result<(), VbufError>| matches!(r, Err(VbufError::OutOfRange { .. }));
    assert!(out_of_range(buf.read(..=u64::MAX).map(drop)));
    assert!(out_of_range(buf.read((Bound::Excluded(u64::MAX), Bound::Unbounded)).map(drop)));
    assert!(out_of_range(buf.delete(u64::MAX - 1..=u64::MAX)));
    assert!(out_of_range(buf.read_into(u64::MAX - 1, &mut [0; 5])));
    assert_eq!(
        buf.read(5..=u64::MAX).unwrap_err().to_string(),
        "range 5.. reaches past offset 18446744073709551615, the last a buffer can have"
    );
    assert_eq!(buf.read(u64::MAX - 1..=u64::MAX - 1).unwrap(), [0][..]);
    assert_eq!(buf.len(), u64::MAX);
}

/// Edits to make once, from inside a layer's save.
type Edits = Arc<std::sync::Mutex<Option<Box<dyn FnOnce() + Send>>>>;

/// A memory layer whose save first makes `during`: edits made while a save runs.
struct EditsDuringSave {
    layer: MemoryPersistence,
    during: Edits,
}

impl std::fmt::Debug for EditsDuringSave {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EditsDuringSave").field("layer", &self.layer).finish_non_exhaustive()
    }
}

impl PersistenceLayer for EditsDuringSave {
    fn len(&self) -> Result<u64, PersistenceError> {
        self.layer.len()
    }

    fn read_at(&self, offset: u64, dst: &mut [u8]) -> Result<(), PersistenceError> {
        self.layer.read_at(offset, dst)
    }

    fn save(
        &self,
        recipe: &mut SaveRecipe<'_>,
        options: SaveOptions,
    ) -> Result<Box<dyn PersistenceLayer>, PersistenceError> {
        if let Some(edits) = self.during.lock().unwrap().take() {
            edits();
        }
        self.layer.save(recipe, options)
    }
}

#[test]
fn the_content_a_save_wrote_is_unmodified_whenever_undo_comes_back_to_it() {
    let during: Edits = Arc::default();
    let layer = EditsDuringSave { layer: MemoryPersistence::new(b"abc".to_vec()), during: during.clone() };
    let buf = VirtualBuffer::with_layer(Arc::new(layer), VirtualBufferOptions::default()).unwrap();
    buf.insert(0, b"1").unwrap();

    // An edit made and undone while the save runs: the content is the one saved.
    let other = buf.clone();
    *during.lock().unwrap() = Some(Box::new(move || {
        other.insert(0, b"x").unwrap();
        assert!(other.undo());
    }));
    buf.save().unwrap();
    assert_eq!(buf.read(..).unwrap(), b"1abc"[..]);
    assert!(!buf.is_modified(), "an edit undone during the save");

    // An edit made while a save runs and kept (a second buffer: the first one's layer is now the
    // saved one, without the hook) leaves the buffer modified until it is undone.
    let saving =
        Arc::new(EditsDuringSave { layer: MemoryPersistence::new(b"1abc".to_vec()), during: during.clone() });
    let buf = VirtualBuffer::with_layer(saving, VirtualBufferOptions::default()).unwrap();
    buf.insert(0, b"2").unwrap();
    let other = buf.clone();
    *during.lock().unwrap() = Some(Box::new(move || other.insert(0, b"3").unwrap()));
    buf.save().unwrap();
    assert_eq!(buf.read(..).unwrap(), b"321abc"[..]);
    assert!(buf.is_modified(), "the edit made during the save");
    assert!(buf.undo());
    assert!(!buf.is_modified(), "back at the saved content");
    assert!(buf.undo());
    assert!(buf.is_modified(), "the content before the save");
    assert!(buf.redo());
    assert!(!buf.is_modified());
}
