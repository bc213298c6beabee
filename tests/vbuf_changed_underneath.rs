//! A virtual buffer whose file another program changes underneath: rewritten in place, truncated,
//! extended, between any two calls. Anything read from the file can change, so every call must give
//! an answer or an error, never a panic (the line index, built from the bytes, is the most exposed).

use std::fs::{File, OpenOptions};
use std::io::{Seek, SeekFrom, Write};
use std::path::Path;

use omnibuf::vbuf::{FileBackend, PersistenceError};
use omnibuf::vbuf::{VbufError, VirtualBuffer, VirtualBufferOptions};

/// Lines of 20 bytes: "the quick brown fox\n".
fn text(len: usize) -> Vec<u8> {
    (0..len).map(|i| b"the quick brown fox\n"[i % 20]).collect()
}

/// Writes `bytes` over the start of the file without replacing it (same inode, like `dd conv=notrunc`).
fn overwrite_in_place(path: &Path, at: u64, bytes: &[u8]) {
    let mut f = OpenOptions::new().write(true).open(path).unwrap();
    f.seek(SeekFrom::Start(at)).unwrap();
    f.write_all(bytes).unwrap();
}

#[test]
fn a_line_query_after_the_file_lost_its_line_feeds_is_an_error_not_a_panic() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("doc");
    std::fs::write(&path, text(40_000)).unwrap(); // 2,000 lines
    let buf =
        VirtualBuffer::open_with(&path, FileBackend::Positional, VirtualBufferOptions::default()).unwrap();
    assert_eq!(buf.line_count().unwrap(), 2001);
    // Another program rewrites the file in place: same length, no line feeds.
    overwrite_in_place(&path, 0, &vec![b'x'; 40_000]);
    match buf.line_to_offset(1500) {
        Ok(offset) => assert!(offset <= 40_000, "a stale answer stays in range: {offset}"),
        Err(VbufError::Persistence(PersistenceError::ExternallyChanged { .. })) => {}
        Err(other) => panic!("expected an external-change error or a stale answer, got {other:?}"),
    }
    buf.offset_to_line(30_000).ok();
    if let Ok(lines) = buf.lines(1000) {
        lines.take(5).for_each(drop);
    }
}

/// xorshift64: reproducible from its seed.
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

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
}

/// Bytes of random content whose line-feed density is itself random (none, few, many).
fn random_bytes(rng: &mut XorShift, len: usize) -> Vec<u8> {
    let lf_every = [0, 3, 40, 1000][rng.below(4) as usize];
    (0..len)
        .map(|_| {
            if lf_every != 0 && rng.below(lf_every) == 0 {
                b'\n'
            } else {
                [b'a', b'\r', b'z', b' '][rng.below(4) as usize]
            }
        })
        .collect()
}

/// Changes the file as another program might. Truncation only where `may_shrink`: a mapped file
/// that shrinks kills the process with `SIGBUS`, which is the documented hazard of mapping.
fn change_underneath(rng: &mut XorShift, path: &Path, may_shrink: bool) {
    let len = std::fs::metadata(path).unwrap().len();
    match rng.below(if may_shrink { 4 } else { 2 }) {
        0 => {
            let at = rng.below(len + 1);
            let n = rng.below(len - at + 1).min(200_000) as usize;
            overwrite_in_place(path, at, &random_bytes(rng, n));
        }
        1 => {
            let mut f = OpenOptions::new().append(true).open(path).unwrap();
            let n = rng.below(100_000) as usize;
            f.write_all(&random_bytes(rng, n)).unwrap();
        }
        2 => File::options().write(true).open(path).unwrap().set_len(rng.below(len + 1)).unwrap(),
        _ => {
            // Truncated, then written again from the start with other content of the same length.
            let bytes = random_bytes(rng, len as usize);
            File::options().write(true).open(path).unwrap().set_len(0).unwrap();
            overwrite_in_place(path, 0, &bytes);
        }
    }
}

/// One random call on the buffer; its result is ignored: only a panic fails the test.
fn random_call(rng: &mut XorShift, buf: &VirtualBuffer) {
    let len = buf.len();
    let at = rng.below(len + 1);
    let end = (at + rng.below(100_000)).min(len);
    match rng.below(12) {
        0 => _ = buf.line_count(),
        1 => _ = buf.line_to_offset(rng.below(buf.line_count().unwrap_or(1) + 2)),
        2 => _ = buf.offset_to_line(at),
        3 => drop(buf.read(at..end)),
        4 => _ = buf.find(b"\nz", at..),
        5 => _ = buf.rfind(b"a\n", ..end),
        6 => {
            if let Ok(lines) = buf.lines(rng.below(50)) {
                lines.take(50).for_each(drop);
            }
        }
        7 => {
            if let Ok(mut lines) = buf.lines(rng.below(3000)) {
                for _ in 0..50 {
                    lines.prev();
                }
            }
        }
        8 => {
            if let Ok(mut it) = buf.iter_at(at) {
                for _ in 0..1000 {
                    it.next();
                }
                for _ in 0..2000 {
                    it.prev();
                }
                it.take_error();
            }
        }
        9 => {
            if let Ok(chunks) = buf.chunks(at..end) {
                chunks.rev().take(20).for_each(drop);
            }
        }
        10 => drop(buf.replace(at..end.min(at + 10), b"edit\n")),
        _ => {
            if rng.below(2) == 0 {
                buf.undo();
            } else {
                drop(buf.check_for_external_changes());
            }
        }
    }
}

/// Random calls, with the file changed underneath between them, for one backend.
fn calls_between_changes(backend: FileBackend, may_shrink: bool, seed: u64) {
    let mut rng = XorShift(seed);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("doc");
    for round in 0..12 {
        let len = 50_000 + rng.below(300_000) as usize;
        std::fs::write(&path, random_bytes(&mut rng, len)).unwrap();
        let options = if round % 2 == 0 {
            VirtualBufferOptions::default()
        } else {
            VirtualBufferOptions {
                block_size: 4096,
                cache_budget: 16 << 10,
                ..VirtualBufferOptions::default()
            }
        };
        let buf = VirtualBuffer::open_with(&path, backend, options).unwrap();
        for _ in 0..60 {
            if rng.below(4) == 0 {
                change_underneath(&mut rng, &path, may_shrink);
            }
            random_call(&mut rng, &buf);
        }
    }
}

fn seed() -> u64 {
    let seed = std::env::var("OMNIBUF_UNDERNEATH_SEED").map_or_else(
        |_| std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_nanos() as u64 | 1,
        |s| s.parse().expect("a number"),
    );
    eprintln!("seed {seed} (set OMNIBUF_UNDERNEATH_SEED to repeat)");
    seed
}

#[test]
fn positional_calls_between_rewrites_truncations_and_extensions_never_panic() {
    calls_between_changes(FileBackend::Positional, true, seed());
}

/// The mapped backend's contract forbids what this test does (another writer changing the bytes);
/// the test breaks it on purpose, short of truncation, to check that a caller who got it wrong gets
/// errors from line queries rather than a panic.
#[test]
fn mapped_calls_between_in_place_rewrites_and_extensions_never_panic() {
    // SAFETY: not kept, on purpose, for in-place writes (see above); what makes that tolerable in a
    // test: nothing truncates the file (no SIGBUS), and the mapped bytes are only copied out or
    // scanned as plain `u8`, which every bit pattern is, so a changed byte is a wrong value at worst.
    let mapped = unsafe { FileBackend::mapped() };
    calls_between_changes(mapped, false, seed());
}

// ── the same without files: a layer whose content changes between any two reads ─────────────────────

/// An in-memory layer that another party rewrites while a buffer reads it: the length stays, the
/// bytes change. With `views`, it hands out views as a mapped layer does (`is_mapped`), else copies.
#[derive(Debug)]
struct ChangingLayer {
    bytes: std::sync::Mutex<Vec<u8>>,
    views: bool,
}

impl omnibuf::vbuf::PersistenceLayer for ChangingLayer {
    fn len(&self) -> Result<u64, PersistenceError> {
        Ok(self.bytes.lock().unwrap().len() as u64)
    }

    fn read_at(&self, offset: u64, dst: &mut [u8]) -> Result<(), PersistenceError> {
        let bytes = self.bytes.lock().unwrap();
        let total = bytes.len() as u64;
        let end = offset.checked_add(dst.len() as u64).filter(|&end| end <= total);
        let end = end.ok_or(PersistenceError::OutOfRange { offset, len: dst.len() as u64, total })?;
        dst.copy_from_slice(&bytes[offset as usize..end as usize]);
        Ok(())
    }

    fn is_mapped(&self) -> bool {
        self.views
    }

    fn save(
        &self,
        _recipe: &mut omnibuf::vbuf::SaveRecipe<'_>,
        _options: omnibuf::vbuf::SaveOptions,
    ) -> Result<Box<dyn omnibuf::vbuf::PersistenceLayer>, PersistenceError> {
        Err(PersistenceError::Unsupported("a test layer"))
    }
}

#[test]
fn calls_over_a_layer_whose_bytes_change_between_reads_never_panic() {
    let mut rng = XorShift(seed());
    for round in 0..16 {
        let len = 20_000 + rng.below(80_000) as usize;
        let layer = std::sync::Arc::new(ChangingLayer {
            bytes: std::sync::Mutex::new(random_bytes(&mut rng, len)),
            views: round % 2 == 0,
        });
        let options =
            VirtualBufferOptions { block_size: 1 << (8 + round % 5), ..VirtualBufferOptions::tiny() };
        let options = VirtualBufferOptions { cache_budget: 4 << 10, spill_threshold: 1 << 20, ..options };
        let buf = VirtualBuffer::with_layer(layer.clone(), options).unwrap();
        for _ in 0..80 {
            if rng.below(3) == 0 {
                let fresh = random_bytes(&mut rng, len);
                *layer.bytes.lock().unwrap() = fresh;
            }
            random_call(&mut rng, &buf);
        }
    }
}

/// Two buffers of one file, edited apart and saved at the same time (two threads, as two programs or
/// two handles would): at most one save may succeed, and the file then holds exactly that buffer's
/// content. Both succeeding would lose the first one's edits without a word.
#[test]
fn of_two_buffers_saving_one_file_at_once_at_most_one_succeeds() {
    let dir = tempfile::tempdir().unwrap();
    for round in 0..60 {
        let path = dir.path().join(format!("doc{round}"));
        std::fs::write(&path, b"original\n").unwrap();
        let open = || {
            VirtualBuffer::open_with(&path, FileBackend::Positional, VirtualBufferOptions::default()).unwrap()
        };
        let (first, second) = (open(), open());
        first.insert(0, b"first: ").unwrap();
        second.insert(0, b"second: ").unwrap();
        let barrier = std::sync::Barrier::new(2);
        let (a, b) = std::thread::scope(|s| {
            let a = s.spawn(|| {
                barrier.wait();
                first.save()
            });
            let b = s.spawn(|| {
                barrier.wait();
                second.save()
            });
            (a.join().unwrap(), b.join().unwrap())
        });
        let on_disk = std::fs::read(&path).unwrap();
        match (&a, &b) {
            (Ok(()), Ok(())) => panic!("round {round}: both saves succeeded; the file holds {on_disk:?}"),
            (Ok(()), Err(_)) => assert_eq!(on_disk, b"first: original\n"),
            (Err(_), Ok(())) => assert_eq!(on_disk, b"second: original\n"),
            (Err(_), Err(_)) => panic!("round {round}: both refused: {a:?} {b:?}"),
        }
        for refused in [&a, &b].into_iter().filter_map(|r| r.as_ref().err()) {
            assert!(
                matches!(refused, VbufError::Persistence(PersistenceError::ExternallyChanged { .. })),
                "{refused:?}"
            );
        }
    }
}
