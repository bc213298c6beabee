//! The file layer's atomic save against real process failures and limits: a save killed at random
//! moments, two processes saving one file at once, a save that runs into the file-size limit, a save
//! into a directory it may not write (or may write but not read), and the permissions a save may not
//! keep.
//!
//! Each test re-executes this test binary as a child (`std::env::current_exe()`), with an environment
//! variable naming the child's role; the child runs the same test function, which sees the variable
//! and plays its part. Unix only (signals, `ulimit`, file modes).
#![cfg(unix)]

use std::fs;
use std::io::{ErrorKind, Read};
use std::os::unix::fs::PermissionsExt;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use omnibuf::vbuf::{
    is_save_temp_file, FileBackend, FilePersistence, PersistenceError, PersistenceLayer, SaveOptions,
    SavePiece, VbufError, VirtualBuffer, VirtualBufferOptions,
};
use omnibuf::{BufferKind, ZeroCopyBuffer};

/// Set in a child process: the name of the test whose child role it plays.
const ROLE: &str = "OMNIBUF_SAVE_CRASH_ROLE";
/// Set in a child process: the file it works on.
const FILE: &str = "OMNIBUF_SAVE_CRASH_FILE";
/// Set in a child process: the backend it opens the file with (`mapped` or `positional`).
const BACKEND: &str = "OMNIBUF_SAVE_CRASH_BACKEND";

/// The role this process plays for `test`: `true` in the child that the test spawned.
fn is_child_of(test: &str) -> bool {
    std::env::var(ROLE).is_ok_and(|role| role == test)
}

/// A command that runs only `test` of this binary, in the child role.
fn child_command(test: &str) -> Command {
    let exe = std::env::current_exe().expect("the test binary's path");
    let mut command = Command::new(exe);
    command.args([test, "--exact", "--nocapture", "--test-threads=1"]).env(ROLE, test);
    command
}

/// A child's output, for failure messages.
fn describe(output: &std::process::Output) -> String {
    format!(
        "{}\nstdout:\n{}\nstderr:\n{}",
        output.status,
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

fn backend_from_env() -> FileBackend {
    match std::env::var(BACKEND).as_deref() {
        Ok("positional") => FileBackend::Positional,
        // SAFETY: the file is the test's own, and only this child writes it, by atomic saves (a new
        // file renamed over the path), which never change a file that is open.
        _ => unsafe { FileBackend::mapped() },
    }
}

fn names_in(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> =
        fs::read_dir(dir).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect();
    names.sort();
    names
}

/// xorshift64: random enough for kill delays and test data, and reproducible from its seed.
struct XorShift(u64);

impl XorShift {
    fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.0 = x;
        x
    }
}

// ── the content versions the killed child saves ──────────────────────────────────────────────────────

/// Version `v` of the file: an 8-byte header holding `v`, the first `SPLIT` bytes of a fixed random
/// body, a slot whose bytes and length depend on `v`, and the rest of the body. Going from one version
/// to the next copies the two body runs (several MiB) and inserts a new header and slot, so a torn
/// save shows up as a header that disagrees with the slot, a wrong length or a shifted body.
struct Versions {
    body: Vec<u8>,
}

const HEADER: usize = 8;
const BODY: usize = 3 << 20;
const SPLIT: usize = 1 << 20;

impl Versions {
    fn new() -> Self {
        let mut rng = XorShift(0x5eed_5eed_5eed);
        Self { body: (0..BODY / 8).flat_map(|_| rng.next().to_le_bytes()).collect() }
    }

    fn slot(version: u64) -> Vec<u8> {
        let len = (64 << 10) + (version % 3) as usize * (16 << 10);
        (0..len).map(|i| (version as u8).wrapping_mul(31).wrapping_add(i as u8)).collect()
    }

    fn content(&self, version: u64) -> Vec<u8> {
        let mut out = version.to_le_bytes().to_vec();
        out.extend_from_slice(&self.body[..SPLIT]);
        out.extend_from_slice(&Self::slot(version));
        out.extend_from_slice(&self.body[SPLIT..]);
        out
    }

    /// The recipe from version `version` (the layer's content) to the next one.
    fn next_recipe(version: u64) -> Vec<Result<SavePiece, PersistenceError>> {
        let insert =
            |bytes: Vec<u8>| Ok(SavePiece::Insert(ZeroCopyBuffer::from_bytes(bytes, BufferKind::raw())));
        let rest_at = (HEADER + SPLIT + Self::slot(version).len()) as u64;
        vec![
            insert((version + 1).to_le_bytes().to_vec()),
            Ok(SavePiece::Copy { offset: HEADER as u64, len: SPLIT as u64 }),
            insert(Self::slot(version + 1)),
            Ok(SavePiece::Copy { offset: rest_at, len: (BODY - SPLIT) as u64 }),
        ]
    }

    /// Checks that `bytes` is one whole version, at least `at_least`, and returns it.
    fn identify(&self, bytes: &[u8], at_least: u64) -> Result<u64, String> {
        let header = bytes.get(..HEADER).ok_or_else(|| format!("only {} bytes", bytes.len()))?;
        let version = u64::from_le_bytes(header.try_into().unwrap());
        if version < at_least {
            return Err(format!("version {version} went back from {at_least}"));
        }
        let expected = self.content(version);
        if bytes != expected {
            let first_difference = bytes.iter().zip(&expected).position(|(a, b)| a != b);
            return Err(format!(
                "not version {version}: {} bytes, expected {}; first difference at {first_difference:?}",
                bytes.len(),
                expected.len()
            ));
        }
        Ok(version)
    }
}

/// The child: saves the next version over the file, again and again, until it is killed.
fn save_forever(path: &Path) -> ! {
    let mut layer: Box<dyn PersistenceLayer> =
        Box::new(FilePersistence::open(path, backend_from_env()).expect("open"));
    loop {
        let mut header = [0u8; HEADER];
        layer.read_at(0, &mut header).expect("read the version");
        let version = u64::from_le_bytes(header);
        let mut recipe = Versions::next_recipe(version).into_iter();
        layer = layer.save(&mut recipe, SaveOptions::default()).expect("save");
    }
}

#[test]
fn a_save_killed_at_any_moment_leaves_the_whole_old_or_the_whole_new_file() {
    const TEST: &str = "a_save_killed_at_any_moment_leaves_the_whole_old_or_the_whole_new_file";
    if is_child_of(TEST) {
        save_forever(Path::new(&std::env::var_os(FILE).expect("the file to save")));
    }

    let rounds: u32 = std::env::var("OMNIBUF_SAVE_CRASH_ROUNDS").map_or(40, |r| r.parse().expect("a number"));
    let seed = std::env::var("OMNIBUF_SAVE_CRASH_SEED").map_or_else(
        |_| std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_nanos() as u64 | 1,
        |s| s.parse().expect("a number"),
    );
    eprintln!("{rounds} rounds, seed {seed} (set OMNIBUF_SAVE_CRASH_SEED to repeat)");
    let mut rng = XorShift(seed);

    let versions = Versions::new();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("document.bin");
    fs::write(&path, versions.content(0)).unwrap();

    let (mut version, mut killed_mid_save) = (0, 0);
    // Temporary files killed saves left, and the version the file had when they were seen.
    let mut left_behind: Vec<(String, u64)> = Vec::new();
    for round in 0..rounds {
        let backend = if round % 2 == 0 { "mapped" } else { "positional" };
        let mut child = child_command(TEST)
            .env(FILE, &path)
            .env(BACKEND, backend)
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn the saving child");
        // Up to 80 ms: start-up takes a few, each save a few more, so kills land everywhere.
        std::thread::sleep(Duration::from_micros(rng.next() % 80_000));
        if let Some(status) = child.try_wait().unwrap() {
            let mut stderr = String::new();
            child.stderr.take().unwrap().read_to_string(&mut stderr).unwrap();
            panic!("round {round}: the saving child stopped by itself ({status}):\n{stderr}");
        }
        child.kill().unwrap(); // SIGKILL: no destructor, no clean-up runs
        child.wait().unwrap();

        let bytes = fs::read(&path).unwrap();
        let before = version;
        version = versions
            .identify(&bytes, version)
            .unwrap_or_else(|e| panic!("round {round} ({backend}, seed {seed}): the file is torn: {e}"));
        let names = names_in(dir.path());
        // A child that completed a save opened the file and saved it first, and each of these
        // removes what earlier killed saves left.
        if version > before {
            for (name, seen_at) in &left_behind {
                assert!(
                    !names.contains(name),
                    "round {round} (seed {seed}): {name}, left at version {seen_at}, is still there at \
                     version {version}"
                );
            }
        }
        // A kill between creating the temporary file and renaming it leaves the file behind.
        for name in names {
            if name != "document.bin" {
                assert!(is_save_temp_file(Path::new(&name)), "unexpected file {name}");
                if !left_behind.iter().any(|(seen, _)| *seen == name) {
                    killed_mid_save += 1;
                    left_behind.push((name, version));
                }
            }
        }
    }
    eprintln!("{rounds} rounds: reached version {version}; {killed_mid_save} kills landed inside a save");
    assert!(version > 0, "no save ever completed, so nothing was tested");
    assert!(killed_mid_save > 0, "no kill landed inside a save");
    // Opening the file once more removes every leftover: no process holds any of them now.
    drop(FilePersistence::open(&path, FileBackend::Positional).unwrap());
    assert_eq!(names_in(dir.path()), ["document.bin"], "leftovers after a final open");
}

// ── clean-up of what killed saves left, and only that ──────────────────────────────────────────────────

/// Takes an exclusive `flock` on `file`, as a live save holds one on its temporary file.
fn lock_exclusively(file: &fs::File) {
    use std::os::fd::AsRawFd;
    // SAFETY: `file` is open for the duration of the call, which only reads its arguments.
    let result = unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) };
    assert_eq!(result, 0, "flock: {}", std::io::Error::last_os_error());
}

#[test]
fn open_and_save_remove_stale_temporary_files_of_the_document_and_nothing_else() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("document.bin");
    fs::write(&path, b"content").unwrap();
    let at = |name: &str| dir.path().join(name);
    let stale = [".document.bin.4242-17f3a-0.omnibuf-save", ".document.bin.1-0-99.omnibuf-save"];
    // Not ours: another document's temporary file, names that only look alike, another program's.
    let others = [
        ".other.bin.4242-17f3a-0.omnibuf-save",
        ".document.bin.4242-17f3a-0.omnibuf-save.bak",
        ".document.bin.draft.omnibuf-save",
        "document.bin~",
    ];
    // A live save (here: this test holding the lock, as a save in another process would).
    let live = ".document.bin.777-abc-3.omnibuf-save";
    for name in stale.iter().chain(&others).chain([&live]) {
        fs::write(at(name), b"partial").unwrap();
    }
    let live_file = fs::File::open(at(live)).unwrap();
    lock_exclusively(&live_file);

    let file = FilePersistence::open(&path, FileBackend::Positional).unwrap();
    let mut expected: Vec<String> =
        others.iter().chain([&live, &"document.bin"]).map(|name| name.to_string()).collect();
    expected.sort();
    assert_eq!(names_in(dir.path()), expected, "open removed the stale files, and only those");

    // Once its writer is gone (the lock is released with its descriptor), a save removes it too.
    fs::write(at(stale[0]), b"left again").unwrap();
    drop(live_file);
    let mut recipe = vec![Ok(SavePiece::Copy { offset: 0, len: 7 })].into_iter();
    drop(file.save(&mut recipe, SaveOptions::default()).unwrap());
    expected.retain(|name| name != live);
    assert_eq!(names_in(dir.path()), expected, "the save removed the stale files, and only those");
    assert_eq!(fs::read(&path).unwrap(), b"content");
}

#[test]
fn a_save_leaves_the_temporary_file_of_a_concurrent_save_alone() {
    // Saves from several threads of one process to one target, with opens in between: each save's
    // clean-up sees the others' temporary files and must leave them, or a rename would fail.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("document.bin");
    fs::write(&path, vec![b'x'; 1 << 20]).unwrap();
    std::thread::scope(|scope| {
        for t in 0..4u8 {
            let path = &path;
            scope.spawn(move || {
                for _ in 0..20 {
                    let file = FilePersistence::open(path, FileBackend::Positional).unwrap();
                    let len = file.len().unwrap();
                    let insert = ZeroCopyBuffer::from_bytes(vec![t; 1 << 20], BufferKind::raw());
                    let mut recipe = vec![Ok(SavePiece::Insert(insert))].into_iter();
                    // Forced: the others replace the file all the time.
                    let options = SaveOptions { force: true };
                    file.save(&mut recipe, options).unwrap_or_else(|e| panic!("save of {len} bytes: {e}"));
                }
            });
        }
    });
    assert_eq!(names_in(dir.path()), ["document.bin"]);
}

// ── two processes saving one file ────────────────────────────────────────────────────────────────

const RACE_ROUNDS: usize = 150;

/// Waits until `path` exists: the other process's signal.
fn wait_for(path: &Path) {
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    while !path.exists() {
        assert!(std::time::Instant::now() < deadline, "{} never appeared", path.display());
        std::hint::spin_loop();
    }
}

/// Opens `path` as a VirtualBuffer and inserts `prefix` at its start: one side's edit.
fn edited(path: &Path, prefix: &[u8]) -> VirtualBuffer {
    let buffer =
        VirtualBuffer::open_with(path, FileBackend::Positional, VirtualBufferOptions::default()).unwrap();
    buffer.insert(0, prefix).unwrap();
    buffer
}

/// A save's outcome as the child reports it.
fn outcome(result: &Result<(), VbufError>) -> String {
    match result {
        Ok(()) => "saved".into(),
        Err(VbufError::Persistence(PersistenceError::ExternallyChanged { .. })) => "changed".into(),
        Err(other) => format!("failed: {other}"),
    }
}

/// Two programs with one file open, edited apart and saved at the same moment, round after round: at
/// most one save may succeed each round, the file then holds that one's content, and the other is
/// refused as changed. Saves in one process take turns by a lock; across processes by the `flock` on
/// the file being replaced (`CommitTurn`), which this checks.
#[test]
fn of_two_processes_saving_one_file_at_once_at_most_one_succeeds() {
    const TEST: &str = "of_two_processes_saving_one_file_at_once_at_most_one_succeeds";
    if is_child_of(TEST) {
        let dir = PathBuf::from(std::env::var_os(FILE).expect("the directory"));
        for round in 0..RACE_ROUNDS {
            let buffer = edited(&dir.join(format!("doc{round}")), b"child: ");
            fs::write(dir.join(format!("ready{round}")), b"").unwrap();
            wait_for(&dir.join(format!("go{round}")));
            let result = buffer.save();
            fs::write(dir.join(format!("outcome{round}")), outcome(&result)).unwrap();
        }
        return;
    }

    let dir = tempfile::tempdir().unwrap();
    for round in 0..RACE_ROUNDS {
        fs::write(dir.path().join(format!("doc{round}")), b"original\n").unwrap();
    }
    let child = child_command(TEST)
        .env(FILE, dir.path())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn the saving child");
    for round in 0..RACE_ROUNDS {
        let path = dir.path().join(format!("doc{round}"));
        let buffer = edited(&path, b"parent: ");
        wait_for(&dir.path().join(format!("ready{round}")));
        fs::write(dir.path().join(format!("go{round}")), b"").unwrap();
        let ours = outcome(&buffer.save());
        let outcome_path = dir.path().join(format!("outcome{round}"));
        wait_for(&outcome_path);
        // Written by the child after its save: read again should it be caught half-written.
        let theirs = loop {
            let text = fs::read_to_string(&outcome_path).unwrap();
            if !text.is_empty() {
                break text;
            }
        };
        let on_disk = String::from_utf8_lossy(&fs::read(&path).unwrap()).into_owned();
        match (ours.as_str(), theirs.as_str()) {
            ("saved", "changed") => assert_eq!(on_disk, "parent: original\n", "round {round}"),
            ("changed", "saved") => assert_eq!(on_disk, "child: original\n", "round {round}"),
            _ => panic!("round {round}: parent {ours}, child {theirs}; the file holds {on_disk:?}"),
        }
    }
    let output = child.wait_with_output().unwrap();
    assert!(output.status.success(), "the child: {}", describe(&output));
}

// ── a save that runs into the file-size limit ────────────────────────────────────────────────────────

#[test]
fn a_save_that_outgrows_the_file_size_limit_leaves_the_original() {
    const TEST: &str = "a_save_that_outgrows_the_file_size_limit_leaves_the_original";
    let original: Vec<u8> = (0..512 << 10).map(|i| (i % 253) as u8).collect();
    if is_child_of(TEST) {
        let path = PathBuf::from(std::env::var_os(FILE).expect("the file to save"));
        let file = FilePersistence::open(&path, backend_from_env()).unwrap();
        // Copies: 8 x 512 KiB through copy_file_range. Inserts: 4 MiB through write.
        let copies: Vec<_> = (0..8).map(|_| Ok(SavePiece::Copy { offset: 0, len: 512 << 10 })).collect();
        let insert =
            vec![Ok(SavePiece::Insert(ZeroCopyBuffer::from_bytes(vec![7u8; 4 << 20], BufferKind::raw())))];
        for recipe in [copies, insert] {
            match file.save(&mut recipe.into_iter(), SaveOptions::default()) {
                Err(PersistenceError::Io(e)) => {
                    assert_eq!(e.kind(), ErrorKind::FileTooLarge, "{e}");
                    assert!(e.to_string().contains(".omnibuf-save"), "the message names the file: {e}");
                }
                other => panic!("expected a file-too-large error, got {other:?}"),
            }
            assert_eq!(fs::read(&path).unwrap(), original);
            assert_eq!(names_in(path.parent().unwrap()), ["document.bin"]);
        }
        return;
    }

    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("document.bin");
    fs::write(&path, &original).unwrap();
    for backend in ["mapped", "positional"] {
        // The shell sets a limit of 1 or 2 MiB (`ulimit -f` counts 512- or 1024-byte blocks
        // depending on the shell), then becomes the test binary. SIGXFSZ stays at its default, which
        // ends the process: the save must refuse to write past the limit, not run into it.
        let child = child_command(TEST);
        let output = Command::new("/bin/sh")
            .args(["-c", r#"ulimit -f 2048 && exec "$0" "$@""#])
            .arg(child.get_program())
            .args(child.get_args())
            .envs(child.get_envs().filter_map(|(k, v)| Some((k, v?))))
            .env(FILE, &path)
            .env(BACKEND, backend)
            .output()
            .expect("spawn the child under a file-size limit");
        assert!(output.status.success(), "{backend} child failed: {}", describe(&output));
        assert!(String::from_utf8_lossy(&output.stdout).contains("1 passed"), "{}", describe(&output));
    }
    assert_eq!(fs::read(&path).unwrap(), original);
    assert_eq!(names_in(dir.path()), ["document.bin"]);
}

// ── a save into a directory this process may not write ───────────────────────────────────────────────

/// Saves into a directory made read-only; checks the error, the original and the directory.
fn save_into_read_only_directory() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("document.bin");
    fs::write(&path, b"original").unwrap();
    // SAFETY: the file is this test's own; nothing writes into it in place or truncates it.
    let file = FilePersistence::open(&path, unsafe { FileBackend::mapped() }).unwrap();

    fs::set_permissions(dir.path(), fs::Permissions::from_mode(0o555)).unwrap();
    let mut recipe = vec![Ok(SavePiece::Copy { offset: 0, len: 8 })].into_iter();
    let result = file.save(&mut recipe, SaveOptions::default());
    fs::set_permissions(dir.path(), fs::Permissions::from_mode(0o755)).unwrap();

    match result {
        Err(PersistenceError::Io(e)) => {
            assert_eq!(e.kind(), ErrorKind::PermissionDenied, "{e}");
            let message = e.to_string();
            assert!(message.contains("creating a temporary file in"), "{message}");
            assert!(
                message.contains(&*dir.path().to_string_lossy()),
                "the message names the directory: {message}"
            );
        }
        other => panic!("expected a permission error, got {other:?}"),
    }
    assert_eq!(fs::read(&path).unwrap(), b"original");
    assert_eq!(names_in(dir.path()), ["document.bin"]);
    file.check_unchanged().unwrap();
}

/// Whether this process is held to file modes (root is not, unless it dropped its capabilities).
fn modes_are_enforced() -> bool {
    let dir = tempfile::tempdir().unwrap();
    fs::set_permissions(dir.path(), fs::Permissions::from_mode(0o555)).unwrap();
    let refused = fs::write(dir.path().join("probe"), b"").is_err();
    fs::set_permissions(dir.path(), fs::Permissions::from_mode(0o755)).unwrap();
    refused
}

#[test]
fn a_save_into_a_read_only_directory_fails_and_leaves_everything_as_it_was() {
    const TEST: &str = "a_save_into_a_read_only_directory_fails_and_leaves_everything_as_it_was";
    if is_child_of(TEST) || modes_are_enforced() {
        save_into_read_only_directory();
        return;
    }
    // Privileged (root): file modes do not bind this process, so the check runs in a child that
    // is held to them.
    let output =
        held_to_file_modes(child_command(TEST)).output().expect("spawn the test binary held to file modes");
    assert!(output.status.success(), "the child held to file modes failed: {}", describe(&output));
    assert!(String::from_utf8_lossy(&output.stdout).contains("1 passed"), "{}", describe(&output));
}

/// `command`, made to run without the capabilities that let root ignore file modes.
///
/// The child stays root and keeps this process's view of the file system: it drops
/// `CAP_DAC_OVERRIDE`, `CAP_DAC_READ_SEARCH` and `CAP_FOWNER` from its bounding set before it execs,
/// so the new program never gains them. Changing to another user instead would need that user to
/// reach the test binary, which fails when the checkout lies under a folder only root may enter
/// (a `mktemp -d` folder, root's home).
#[cfg(target_os = "linux")]
fn held_to_file_modes(command: Command) -> Command {
    const CAP_DAC_OVERRIDE: libc::c_ulong = 1;
    const CAP_DAC_READ_SEARCH: libc::c_ulong = 2;
    const CAP_FOWNER: libc::c_ulong = 3;
    without_capabilities(command, &[CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH, CAP_FOWNER])
}

/// `command`, made to run without `capabilities`: they are dropped from its bounding set before it
/// execs, so the new program never gains them.
#[cfg(target_os = "linux")]
fn without_capabilities(mut command: Command, capabilities: &'static [libc::c_ulong]) -> Command {
    // SAFETY: the closure runs in the forked child before exec and makes only `prctl` calls, which
    // are async-signal-safe system calls that touch no memory of the parent.
    unsafe {
        command.pre_exec(move || {
            for &capability in capabilities {
                if libc::prctl(libc::PR_CAPBSET_DROP, capability, 0, 0, 0) != 0 {
                    return Err(std::io::Error::last_os_error());
                }
            }
            Ok(())
        })
    };
    command
}

/// `command`, run as the unprivileged user `nobody` (65534): without Linux's capability bounding
/// set, another user is the way to be held to file modes. That user must be able to reach this
/// test binary.
#[cfg(not(target_os = "linux"))]
fn held_to_file_modes(mut command: Command) -> Command {
    command.uid(65534).gid(65534);
    command
}

// ── the permissions a save gives the new file ────────────────────────────────────────────────────────

/// Saves the file the environment names, over itself (the children of the tests below).
fn save_the_named_file() {
    let path = PathBuf::from(std::env::var_os(FILE).expect("the file to save"));
    let file = FilePersistence::open(&path, FileBackend::Positional).unwrap();
    let len = file.len().unwrap();
    file.save(&mut vec![Ok(SavePiece::Copy { offset: 0, len })].into_iter(), SaveOptions::default()).unwrap();
}

#[cfg(target_os = "linux")]
#[test]
fn a_save_that_cannot_keep_the_owner_or_group_gives_the_new_ones_no_rights_of_the_old() {
    use std::os::unix::fs::MetadataExt;
    const TEST: &str = "a_save_that_cannot_keep_the_owner_or_group_gives_the_new_ones_no_rights_of_the_old";
    const CAP_CHOWN: libc::c_ulong = 0;
    if is_child_of(TEST) {
        save_the_named_file();
        return;
    }
    // SAFETY: plain system calls without arguments.
    let (uid, gid) = unsafe { (libc::geteuid(), libc::getegid()) };
    if uid != 0 {
        eprintln!("only root can give the test file another owner: skipped");
        return;
    }
    // (owner, group, mode) before, and the mode after a save that may not change owners: the owner
    // is never kept, the group only where it is the saver's own.
    for (owner, group, before, after) in [(1234, 4242, 0o6754, 0o0704), (1234, gid, 0o6754, 0o2754)] {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("program");
        fs::write(&path, b"binary").unwrap();
        std::os::unix::fs::chown(&path, Some(owner), Some(group)).unwrap();
        fs::set_permissions(&path, fs::Permissions::from_mode(before)).unwrap();
        let output =
            without_capabilities(child_command(TEST), &[CAP_CHOWN]).env(FILE, &path).output().unwrap();
        assert!(output.status.success(), "the child failed: {}", describe(&output));
        assert!(String::from_utf8_lossy(&output.stdout).contains("1 passed"), "{}", describe(&output));
        let meta = fs::metadata(&path).unwrap();
        assert_eq!((meta.uid(), meta.gid()), (uid, gid));
        assert_eq!(meta.mode() & 0o7777, after, "{before:o} owned by {owner}:{group}, saved by {uid}:{gid}");
        assert_eq!(fs::read(&path).unwrap(), b"binary");
    }

    // With an access ACL that keeps user 1000 out (others may read): the ACL stays, so user 1000
    // stays out, and its owning group's entry, the old group's rights, grants the new group nothing.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("notes");
    fs::write(&path, b"binary").unwrap();
    std::os::unix::fs::chown(&path, Some(1234), Some(4242)).unwrap();
    // (tag, permissions, id): the owner rw, user 1000 nothing, the group r, the mask r, others r.
    let entries =
        [(0x01, 6, u32::MAX), (0x02, 0, 1000), (0x04, 4, u32::MAX), (0x10, 4, u32::MAX), (0x20, 4, u32::MAX)];
    if set_access_acl(&path, &entries).is_err() {
        eprintln!("no ACLs on this file system: the ACL case skipped");
        return;
    }
    let output = without_capabilities(child_command(TEST), &[CAP_CHOWN]).env(FILE, &path).output().unwrap();
    assert!(output.status.success(), "the child failed: {}", describe(&output));
    let mut kept = entries;
    kept[2].1 = 0;
    assert_eq!(access_acl_entries(&path), Some(kept.to_vec()));
    assert_eq!(fs::metadata(&path).unwrap().gid(), gid);
}

/// Sets the access ACL of `path` from `(tag, permissions, id)` entries (Linux's binary form).
#[cfg(target_os = "linux")]
fn set_access_acl(path: &Path, entries: &[(u16, u16, u32)]) -> std::io::Result<()> {
    use std::os::unix::ffi::OsStrExt;
    let mut acl = 2u32.to_le_bytes().to_vec();
    for &(tag, perm, id) in entries {
        acl.extend(tag.to_le_bytes());
        acl.extend(perm.to_le_bytes());
        acl.extend(id.to_le_bytes());
    }
    let path = std::ffi::CString::new(path.as_os_str().as_bytes()).unwrap();
    // SAFETY: NUL-terminated strings and a readable buffer of the length passed.
    let set = unsafe {
        libc::setxattr(path.as_ptr(), c"system.posix_acl_access".as_ptr(), acl.as_ptr().cast(), acl.len(), 0)
    };
    if set == 0 {
        Ok(())
    } else {
        Err(std::io::Error::last_os_error())
    }
}

/// The entries of the access ACL of `path`, `None` if it has none.
#[cfg(target_os = "linux")]
fn access_acl_entries(path: &Path) -> Option<Vec<(u16, u16, u32)>> {
    use std::os::unix::ffi::OsStrExt;
    let path = std::ffi::CString::new(path.as_os_str().as_bytes()).unwrap();
    let mut acl = vec![0u8; 1024];
    // SAFETY: NUL-terminated strings and a writable buffer of the length passed.
    let n = unsafe {
        libc::getxattr(path.as_ptr(), c"system.posix_acl_access".as_ptr(), acl.as_mut_ptr().cast(), acl.len())
    };
    acl.truncate(usize::try_from(n).ok()?);
    let entry = |e: &[u8]| {
        (
            u16::from_le_bytes([e[0], e[1]]),
            u16::from_le_bytes([e[2], e[3]]),
            u32::from_le_bytes([e[4], e[5], e[6], e[7]]),
        )
    };
    Some(acl[4..].chunks_exact(8).map(entry).collect())
}

#[test]
fn a_save_into_a_directory_it_may_write_but_not_read_succeeds() {
    const TEST: &str = "a_save_into_a_directory_it_may_write_but_not_read_succeeds";
    if is_child_of(TEST) {
        save_the_named_file();
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let drop_box = dir.path().join("drop box");
    fs::create_dir(&drop_box).unwrap();
    let path = drop_box.join("letter");
    fs::write(&path, b"for the owner").unwrap();
    fs::set_permissions(&drop_box, fs::Permissions::from_mode(0o333)).unwrap();
    let child = child_command(TEST);
    let mut child = if modes_are_enforced() { child } else { held_to_file_modes(child) };
    let output = child.env(FILE, &path).output().unwrap();
    fs::set_permissions(&drop_box, fs::Permissions::from_mode(0o755)).unwrap();
    assert!(output.status.success(), "the child failed: {}", describe(&output));
    assert!(String::from_utf8_lossy(&output.stdout).contains("1 passed"), "{}", describe(&output));
    assert_eq!(fs::read(&path).unwrap(), b"for the owner");
    assert_eq!(names_in(&drop_box), ["letter"]);
}
